// The task's mailbox: the only way other threads (checkpoint coordinator, job master, timers)
// get work done on a task thread. Actions run on the task thread between two elements, so
// they never interleave with record processing (Flink's TaskMailbox).
//
// Thread safety: Put() from any thread; everything else from the mailbox (task) thread only.
// The task binds the mailbox to its thread when it starts (BindToCurrentThread); in debug
// builds every other method checks that it runs there and aborts if not (SLUICE_ASSERT), as
// Flink's TaskMailbox checks itself.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <thread>

#include <sluice/detail/notifier.h>

#include "core/assert.h"
#include "core/mutex.h"

namespace sluice::internal {

class Mailbox {
 public:
  using Action = std::function<void()>;

  explicit Mailbox(detail::Notifier* notifier) : notifier_(notifier) {}

  void Put(Action action) SLUICE_EXCLUDES(mutex_) {
    {
      MutexLock lock(mutex_);
      actions_.push_back(std::move(action));
      has_mail_.store(true, std::memory_order_release);
    }
    notifier_->Notify();
  }

  /// The calling thread becomes the mailbox thread, the only one that may run the mail.
  void BindToCurrentThread() { thread_.store(std::this_thread::get_id()); }
  /// True on the mailbox thread (false everywhere before BindToCurrentThread).
  bool IsMailboxThread() const { return thread_.load() == std::this_thread::get_id(); }

  /// Cheap enough to call between every two records.
  bool HasMail() const {
    SLUICE_ASSERT(IsMailboxThread(), "Mailbox::HasMail off the task thread (only Put may be)");
    return has_mail_.load(std::memory_order_acquire);
  }

  /// Runs every queued action (and those they queue) on the calling (task) thread.
  void RunAll() SLUICE_EXCLUDES(mutex_) {
    SLUICE_ASSERT(IsMailboxThread(), "Mailbox::RunAll off the task thread (only Put may be)");
    while (HasMail()) {
      std::deque<Action> batch;
      {
        MutexLock lock(mutex_);
        batch.swap(actions_);
        has_mail_.store(false, std::memory_order_release);
      }
      for (Action& action : batch) action();
    }
  }

 private:
  detail::Notifier* notifier_;
  Mutex mutex_;
  std::deque<Action> actions_ SLUICE_GUARDED_BY(mutex_);
  std::atomic<bool> has_mail_{false};
  std::atomic<std::thread::id> thread_{};  // the mailbox thread; set once, read by the checks
};

}  // namespace sluice::internal
