// A wake-up signal for one task thread: channels (new data, space freed), the mailbox and
// sources signal it; the task waits on it when it has nothing to do.
//
// Thread safety: Notify() from any thread; Wait*() from the owning task thread only.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace sluice::detail {

class Notifier {
 public:
  void Notify() {
    {
      std::lock_guard lock(mutex_);
      signaled_ = true;
    }
    cv_.notify_one();
  }

  /// Waits until notified (consuming the signal) or until `deadline`. Returns true if notified.
  bool WaitUntil(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    bool notified = cv_.wait_until(lock, deadline, [&] { return signaled_; });
    signaled_ = false;
    return notified;
  }

  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return signaled_; });
    signaled_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool signaled_ = false;
};

}  // namespace sluice::detail
