#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

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
  std::mutex mutex;
  std::condition_variable cv;
  std::unique_lock lock(mutex);
  Clock::System().WaitUntil(cv, lock, Clock::System().Now() - milliseconds(1));
  EXPECT_TRUE(lock.owns_lock());
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
  std::mutex mutex;
  std::condition_variable cv;
  std::future<void> waiter = std::async(std::launch::async, [&] {
    std::unique_lock lock(mutex);
    while (clock.Now() < deadline) clock.WaitUntil(cv, lock, deadline);
  });
  ASSERT_TRUE(clock.AwaitWaiter(std::chrono::seconds(60)));
  clock.Advance(milliseconds(99));  // wakes it, but its deadline has not come: it waits again
  clock.Advance(milliseconds(1));
  // Bounded only so that a broken clock fails instead of hanging.
  EXPECT_EQ(waiter.wait_for(std::chrono::seconds(60)), std::future_status::ready);
}

}  // namespace
}  // namespace sluice::internal
