// The task's mailbox: the only way other threads (checkpoint coordinator, job master, timers)
// get work done on a task thread. Actions run on the task thread between two elements, so
// they never interleave with record processing (Flink's TaskMailbox).
//
// Thread safety: Put() from any thread; everything else from the task thread only.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>

#include <sluice/detail/notifier.h>

namespace sluice::internal {

class Mailbox {
 public:
  using Action = std::function<void()>;

  explicit Mailbox(detail::Notifier* notifier) : notifier_(notifier) {}

  void Put(Action action) {
    {
      std::lock_guard lock(mutex_);
      actions_.push_back(std::move(action));
      has_mail_.store(true, std::memory_order_release);
    }
    notifier_->Notify();
  }

  /// Cheap enough to call between every two records.
  bool HasMail() const { return has_mail_.load(std::memory_order_acquire); }

  /// Runs every queued action (and those they queue) on the calling (task) thread.
  void RunAll() {
    while (HasMail()) {
      std::deque<Action> batch;
      {
        std::lock_guard lock(mutex_);
        batch.swap(actions_);
        has_mail_.store(false, std::memory_order_release);
      }
      for (Action& action : batch) action();
    }
  }

 private:
  detail::Notifier* notifier_;
  std::mutex mutex_;
  std::deque<Action> actions_;
  std::atomic<bool> has_mail_{false};
};

}  // namespace sluice::internal
