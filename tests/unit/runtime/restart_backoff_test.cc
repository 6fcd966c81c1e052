#include "runtime/restart_backoff.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <vector>

#include "unit/core/fake_clock.h"

namespace sluice::internal {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::FakeClock;

// Jitter at its midpoint: the delay is the backoff itself.
RestartBackoff::Random NoJitter() {
  return [] { return 0.5; };
}

TEST(RestartBackoffTest, TheDefaultIsFlink2sExponentialDelay) {
  RestartStrategy strategy = RestartStrategy::ExponentialDelay();
  EXPECT_EQ(strategy.kind(), RestartStrategy::Kind::kExponentialDelay);
  EXPECT_EQ(strategy.initial_delay(), seconds(1));
  EXPECT_EQ(strategy.max_delay(), minutes(1));
  EXPECT_EQ(strategy.multiplier(), 1.5);
  EXPECT_EQ(strategy.reset_after(), hours(1));
  EXPECT_EQ(strategy.jitter(), 0.1);
}

TEST(RestartBackoffTest, ExponentialDelayGrowsBy1point5UpToOneMinute) {
  FakeClock clock;
  RestartBackoff backoff(RestartStrategy::ExponentialDelay(), NoJitter());
  std::vector<int64_t> delays;
  for (int i = 0; i < 14; ++i) {
    std::optional<milliseconds> delay = backoff.OnFailure(clock.Now());
    ASSERT_TRUE(delay.has_value());
    delays.push_back(delay->count());
    clock.Advance(*delay);  // the next attempt fails at once
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1000, 1500, 2250, 3375, 5062, 7593, 11389, 17083, 25624,
                                          38436, 57654, 60000, 60000, 60000}));
}

TEST(RestartBackoffTest, AQuietPeriodResetsTheBackoffToItsInitialValue) {
  FakeClock clock;
  RestartBackoff backoff(RestartStrategy::ExponentialDelay(), NoJitter());
  for (int i = 0; i < 4; ++i) clock.Advance(*backoff.OnFailure(clock.Now()));
  EXPECT_EQ(backoff.current_backoff(), milliseconds(3375));
  // Running for the reset threshold plus the backoff just waited, without a failure.
  clock.Advance(hours(1));
  EXPECT_EQ(backoff.OnFailure(clock.Now()), seconds(1));
  // Not quite quiet long enough: the streak goes on.
  clock.Advance(hours(1) - milliseconds(1));
  EXPECT_EQ(backoff.OnFailure(clock.Now()), milliseconds(1500));
}

TEST(RestartBackoffTest, JitterSpreadsTheDelayByTheFactorEitherWayAndNeverPastTheMaximum) {
  FakeClock clock;
  double draw = 0.0;
  RestartBackoff low(RestartStrategy::ExponentialDelay(), [&] { return draw; });
  EXPECT_EQ(low.OnFailure(clock.Now()), milliseconds(900));  // 1 s - 10%
  draw = 0.999999;
  RestartBackoff high(RestartStrategy::ExponentialDelay(), [&] { return draw; });
  EXPECT_EQ(high.OnFailure(clock.Now()), milliseconds(1100));  // 1 s + 10%
  // At the maximum, jitter may only lower the delay.
  RestartBackoff capped(
      RestartStrategy::ExponentialDelay(seconds(1), seconds(2), 4.0, hours(1), 0.5),
      [&] { return draw; });
  capped.OnFailure(clock.Now());
  EXPECT_EQ(capped.OnFailure(clock.Now()), seconds(2));
}

TEST(RestartBackoffTest, ExponentialDelayNeverRunsOut) {
  FakeClock clock;
  RestartBackoff backoff(RestartStrategy::ExponentialDelay(), NoJitter());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(backoff.OnFailure(clock.Now()).has_value());
}

TEST(RestartBackoffTest, FixedDelayRestartsItsAttemptsThenStops) {
  FakeClock clock;
  RestartBackoff backoff(RestartStrategy::FixedDelay(2, milliseconds(250)));
  EXPECT_EQ(backoff.OnFailure(clock.Now()), milliseconds(250));
  EXPECT_EQ(backoff.OnFailure(clock.Now()), milliseconds(250));
  EXPECT_EQ(backoff.OnFailure(clock.Now()), std::nullopt);
}

TEST(RestartBackoffTest, NoRestartNeverRestarts) {
  FakeClock clock;
  RestartBackoff backoff(RestartStrategy::NoRestart());
  EXPECT_EQ(backoff.OnFailure(clock.Now()), std::nullopt);
}

}  // namespace
}  // namespace sluice::internal
