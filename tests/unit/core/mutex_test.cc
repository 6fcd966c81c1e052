// The annotated mutex wrapper behaves as the std types it wraps; the annotations themselves
// are checked by the Clang build (-Wthread-safety -Werror=thread-safety).
#include "core/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace sluice::internal {
namespace {

using namespace std::chrono_literals;

class Counter {
 public:
  void Increment() SLUICE_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    ++value_;
    cv_.NotifyAll();
  }
  /// Waits until the value reaches `target` or `timeout` passes; returns the value.
  int WaitFor(int target, std::chrono::milliseconds timeout) SLUICE_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (value_ < target && cv_.WaitUntil(mutex_, deadline)) {
    }
    return value_;
  }
  /// Lets `other` run with the mutex free, inside a scope that holds it before and after.
  template <typename F>
  int IncrementAround(F&& other) SLUICE_EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    ++value_;
    CallUnlocked(other);
    return ++value_;
  }

 private:
  template <typename F>
  void CallUnlocked(F& other) SLUICE_REQUIRES(mutex_) {
    MutexUnlock unlocked(mutex_);
    other();
  }

  Mutex mutex_;
  CondVar cv_;
  int value_ SLUICE_GUARDED_BY(mutex_) = 0;
};

TEST(MutexTest, WaitWakesWhenAnotherThreadChangesTheGuardedValue) {
  Counter counter;
  std::thread other([&] {
    for (int i = 0; i < 3; ++i) counter.Increment();
  });
  EXPECT_EQ(counter.WaitFor(3, 60s), 3);
  other.join();
}

TEST(MutexTest, WaitUntilReturnsAtTheDeadlineWhenNothingChanges) {
  Counter counter;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(counter.WaitFor(1, 20ms), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

TEST(MutexTest, MutexUnlockFreesTheMutexForTheScopeAndTakesItBack) {
  Counter counter;
  // Another thread's Increment would deadlock unless the mutex is really free inside the
  // scope; afterwards the holder's increment follows it.
  int after = counter.IncrementAround([&] {
    std::thread other([&] { counter.Increment(); });
    other.join();
  });
  EXPECT_EQ(after, 3);
}

}  // namespace
}  // namespace sluice::internal
