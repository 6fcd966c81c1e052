#include "runtime/watermark_valve.h"

#include <gtest/gtest.h>

#include <sluice/api/time.h>

namespace sluice::internal {
namespace {

TEST(WatermarkValveTest, EmitsTheMinimumOverChannelsOnlyWhenItAdvances) {
  WatermarkValve valve(3);
  EXPECT_FALSE(valve.OnWatermark(0, 10).watermark);  // channels 1 and 2 are still at min
  EXPECT_FALSE(valve.OnWatermark(1, 20).watermark);
  EXPECT_EQ(valve.OnWatermark(2, 5).watermark, 5);
  EXPECT_EQ(valve.OnWatermark(2, 30).watermark, 10);
  EXPECT_FALSE(valve.OnWatermark(1, 25).watermark);  // min is still channel 0's 10
  EXPECT_EQ(valve.OnWatermark(0, 40).watermark, 25);
}

TEST(WatermarkValveTest, IgnoresRegressingWatermarksOfAChannel) {
  WatermarkValve valve(1);
  EXPECT_EQ(valve.OnWatermark(0, 10).watermark, 10);
  EXPECT_FALSE(valve.OnWatermark(0, 7).watermark);
  EXPECT_EQ(valve.last_output(), 10);
}

TEST(WatermarkValveTest, IdleChannelsDoNotHoldTheWatermarkBack) {
  WatermarkValve valve(2);
  EXPECT_FALSE(valve.OnWatermark(0, 100).watermark);
  WatermarkValve::Output out = valve.OnStatus(1, /*idle=*/true);
  EXPECT_EQ(out.watermark, 100);
  EXPECT_FALSE(out.idle);  // one channel is still active, so the task is active
  EXPECT_EQ(valve.OnWatermark(0, 150).watermark, 150);
}

TEST(WatermarkValveTest, AllChannelsIdleMakesTheTaskIdleAndActiveAgainOnResume) {
  WatermarkValve valve(2);
  valve.OnWatermark(0, 50);
  EXPECT_EQ(valve.OnWatermark(1, 70).watermark, 50);
  WatermarkValve::Output one_idle = valve.OnStatus(1, true);
  EXPECT_FALSE(one_idle.idle);
  EXPECT_FALSE(one_idle.watermark);  // channel 0 (50) still holds the minimum
  WatermarkValve::Output all_idle = valve.OnStatus(0, true);
  EXPECT_EQ(all_idle.idle, true);
  EXPECT_EQ(all_idle.watermark, 70);  // the highest watermark reached is released
  WatermarkValve::Output resumed = valve.OnStatus(0, false);
  EXPECT_EQ(resumed.idle, false);
  // Channel 0 is behind the output (50 < 70) and does not count until it catches up.
  EXPECT_FALSE(resumed.watermark);
  EXPECT_FALSE(valve.OnWatermark(0, 60).watermark);
  EXPECT_EQ(valve.OnWatermark(0, 80).watermark, 80);
}

TEST(WatermarkValveTest, EndedChannelsAreIgnored) {
  WatermarkValve valve(2);
  valve.OnWatermark(0, 10);
  EXPECT_EQ(valve.OnEndOfInput(1).watermark, 10);
  EXPECT_EQ(valve.OnWatermark(0, kMaxWatermark).watermark, kMaxWatermark);
}

}  // namespace
}  // namespace sluice::internal
