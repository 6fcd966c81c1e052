// FakeClock: a Clock whose time moves only when a test calls Advance, for unit tests of code
// that schedules by time (the checkpoint coordinator). Waiters blocked in WaitUntil wake when
// Advance passes their deadline, so a thread driven by this clock needs no sleeps.
//
// Thread safety: every method may be called from any thread. The condition variable and mutex
// of a thread blocked in WaitUntil must outlive a concurrent Advance.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"

namespace sluice::internal::testing {

class FakeClock final : public Clock {
 public:
  /// Starts at a fixed steady time and at `wall_start_ms` on the wall clock.
  explicit FakeClock(int64_t wall_start_ms = 1'700'000'000'000) : wall_start_ms_(wall_start_ms) {}

  TimePoint Now() const override {
    std::lock_guard lock(mutex_);
    return start_ + elapsed_;
  }

  int64_t WallTimeMillis() const override {
    std::lock_guard lock(mutex_);
    return wall_start_ms_ + elapsed_.count();
  }

  /// Moves both times forward and wakes every waiter, whose deadline may now have passed.
  void Advance(std::chrono::milliseconds by) {
    std::vector<Waiter> waiters;
    {
      std::lock_guard lock(mutex_);
      elapsed_ += by;
      waiters = waiters_;
    }
    // Taking the waiter's mutex before notifying closes the window between its deadline check
    // (under that mutex) and its wait. Not under mutex_: WaitUntil takes mutex_ while holding
    // the waiter's mutex.
    for (const Waiter& waiter : waiters) {
      MutexLock waiter_lock(*waiter.mutex);
      waiter.cv->NotifyAll();
    }
  }

  /// Blocks until a thread is waiting in WaitUntil, so that a test advances time only once
  /// the thread under test is idle. False if none came within `timeout`.
  bool AwaitWaiter(std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return waiters_changed_.wait_for(lock, timeout, [&] { return !waiters_.empty(); });
  }

  void WaitUntil(CondVar& cv, Mutex& mutex, std::optional<TimePoint> deadline) override
      SLUICE_REQUIRES(mutex) {
    Waiter self{&cv, &mutex};
    {
      std::lock_guard clock_lock(mutex_);
      if (deadline && start_ + elapsed_ >= *deadline) return;
      waiters_.push_back(self);
    }
    waiters_changed_.notify_all();
    cv.Wait(mutex);
    std::lock_guard clock_lock(mutex_);
    waiters_.erase(std::find(waiters_.begin(), waiters_.end(), self));
  }

 private:
  struct Waiter {
    CondVar* cv;
    Mutex* mutex;
    bool operator==(const Waiter&) const = default;
  };

  mutable std::mutex mutex_;
  mutable std::condition_variable waiters_changed_;
  // A century after the steady clock's epoch: far in the real future, so code that waits on a
  // real clock with a deadline from this one blocks (and its test fails) instead of spinning.
  const TimePoint start_ = TimePoint() + std::chrono::hours(24 * 365 * 100);
  const int64_t wall_start_ms_;
  std::chrono::milliseconds elapsed_{0};
  std::vector<Waiter> waiters_;
};

}  // namespace sluice::internal::testing
