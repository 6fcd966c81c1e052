// Mutex, MutexLock, MutexUnlock and CondVar: std::mutex and std::condition_variable with the
// annotations of core/thread_annotations.h, so that Clang checks every SLUICE_GUARDED_BY and
// SLUICE_REQUIRES written against them. Under GCC they are the standard types and nothing else.
//
//   MutexLock lock(mutex_);             // holds mutex_ until the end of the scope
//   while (!ready_) cv_.Wait(mutex_);   // waits in a loop: the analysis cannot see into a
//                                       // predicate lambda, so there is none
//   {
//     MutexUnlock unlocked(mutex_);     // calls out without the lock; holds it again after
//     participant_->CompleteCheckpoint(completion);
//   }
//
// Thread safety: Mutex and CondVar are, like their std counterparts; MutexLock and MutexUnlock
// belong to the thread that made them. Not recursive.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "core/thread_annotations.h"

namespace sluice::internal {

class SLUICE_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() SLUICE_ACQUIRE() { mutex_.lock(); }
  void Unlock() SLUICE_RELEASE() { mutex_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mutex_;
};

/// Holds `mutex` from construction to destruction (std::lock_guard). Unlock() and Lock() let
/// the scope let go of it for a while; the destructor releases it only if held.
class SLUICE_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) SLUICE_ACQUIRE(mutex) : mutex_(mutex) { mutex_.Lock(); }
  ~MutexLock() SLUICE_RELEASE() {
    if (locked_) mutex_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() SLUICE_RELEASE() {
    mutex_.Unlock();
    locked_ = false;
  }
  void Lock() SLUICE_ACQUIRE() {
    mutex_.Lock();
    locked_ = true;
  }

 private:
  Mutex& mutex_;
  bool locked_ = true;
};

/// The reverse of MutexLock: releases a mutex the caller holds for the scope and takes it back
/// at the end, also when an exception leaves the scope. For helpers that are called with the
/// lock held (SLUICE_REQUIRES) and must call out without it.
class SLUICE_SCOPED_CAPABILITY MutexUnlock {
 public:
  explicit MutexUnlock(Mutex& mutex) SLUICE_RELEASE(mutex) : mutex_(mutex) { mutex_.Unlock(); }
  // Annotated as the end of the scope (RELEASE of the scoped capability), which for a scope
  // made by releasing means taking the mutex back: that is how Clang models a scoped unlock.
  ~MutexUnlock() SLUICE_RELEASE() { mutex_.Lock(); }
  MutexUnlock(const MutexUnlock&) = delete;
  MutexUnlock& operator=(const MutexUnlock&) = delete;

 private:
  Mutex& mutex_;
};

/// std::condition_variable for a Mutex. Every wait may wake spuriously: wait in a loop that
/// checks the condition (with the mutex held, so the analysis sees the guarded reads).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void Wait(Mutex& mutex) SLUICE_REQUIRES(mutex) {
    Adopted held(mutex);
    cv_.wait(held.lock);
  }
  /// False when `deadline` passed.
  template <typename Clock, typename Duration>
  bool WaitUntil(Mutex& mutex, const std::chrono::time_point<Clock, Duration>& deadline)
      SLUICE_REQUIRES(mutex) {
    Adopted held(mutex);
    return cv_.wait_until(held.lock, deadline) == std::cv_status::no_timeout;
  }
  /// False when `timeout` passed.
  template <typename Rep, typename Period>
  bool WaitFor(Mutex& mutex, const std::chrono::duration<Rep, Period>& timeout)
      SLUICE_REQUIRES(mutex) {
    Adopted held(mutex);
    return cv_.wait_for(held.lock, timeout) == std::cv_status::no_timeout;
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  // Lends the caller's locked std::mutex to the wait and hands it back locked, also when the
  // wait throws: the caller's MutexLock still owns it.
  struct Adopted {
    explicit Adopted(Mutex& mutex) : lock(mutex.mutex_, std::adopt_lock) {}
    ~Adopted() { lock.release(); }
    Adopted(const Adopted&) = delete;
    Adopted& operator=(const Adopted&) = delete;
    std::unique_lock<std::mutex> lock;
  };

  std::condition_variable cv_;
};

}  // namespace sluice::internal
