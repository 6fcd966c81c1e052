#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "core/mutex.h"
#include "unit/core/fake_clock.h"

namespace sluice::internal {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;

TEST(SystemClockTest, ReadsTheSteadyAndTheWallClock) {
  Clock& clock = Clock::System();
  const Clock::TimePoint before = std::chrono::steady_clock::now();
  EXPECT_GE(clock.Now(), before);
  const int64_t wall =
      std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  EXPECT_LE(std::abs(clock.WallTimeMillis() - wall), 60'000);
}

TEST(SystemClockTest, WaitUntilAPassedDeadlineReturns) {
  Mutex mutex;
  CondVar cv;
  MutexLock lock(mutex);
  // Returns (with the mutex held again) instead of waiting for a notification that never comes.
  Clock::System().WaitUntil(cv, mutex, Clock::System().Now() - milliseconds(1));
}

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock(/*wall_start_ms=*/5000);
  const Clock::TimePoint start = clock.Now();
  EXPECT_EQ(clock.WallTimeMillis(), 5000);
  EXPECT_EQ(clock.Now(), start);
  clock.Advance(milliseconds(250));
  EXPECT_EQ(clock.Now(), start + milliseconds(250));
  EXPECT_EQ(clock.WallTimeMillis(), 5250);
}

TEST(FakeClockTest, AdvanceWakesAWaiterWhoseDeadlinePassed) {
  FakeClock clock;
  const Clock::TimePoint deadline = clock.Now() + milliseconds(100);
  Mutex mutex;
  CondVar cv;
  std::future<void> waiter = std::async(std::launch::async, [&] {
    MutexLock lock(mutex);
    while (clock.Now() < deadline) clock.WaitUntil(cv, mutex, deadline);
  });
  ASSERT_TRUE(clock.AwaitWaiter(std::chrono::seconds(60)));
  clock.Advance(milliseconds(99));  // wakes it, but its deadline has not come: it waits again
  clock.Advance(milliseconds(1));
  // Bounded only so that a broken clock fails instead of hanging.
  EXPECT_EQ(waiter.wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

}  // namespace
}  // namespace sluice::internal
