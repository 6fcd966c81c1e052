// The watermark of two inputs, as Flink's CombinedWatermarkStatus: the minimum over the inputs
// that are not idle, never going back, idle when both are.
#include <sluice/detail/combined_watermark.h>

#include <gtest/gtest.h>

namespace sluice::detail {
namespace {

TEST(CombinedWatermark, IsTheMinimumOfBothInputsOnceBothHaveOne) {
  CombinedWatermark combined(2);
  EXPECT_EQ(combined.watermark(), kMinWatermark);
  EXPECT_FALSE(combined.UpdateWatermark(0, 10));  // input 1 still at its minimum
  EXPECT_EQ(combined.watermark(), kMinWatermark);
  EXPECT_TRUE(combined.UpdateWatermark(1, 5));
  EXPECT_EQ(combined.watermark(), 5);
  EXPECT_TRUE(combined.UpdateWatermark(1, 20));
  EXPECT_EQ(combined.watermark(), 10);
  EXPECT_FALSE(combined.UpdateWatermark(1, 30));  // input 0 holds it at 10
  EXPECT_TRUE(combined.UpdateWatermark(0, 40));
  EXPECT_EQ(combined.watermark(), 30);
  EXPECT_FALSE(combined.idle());
}

TEST(CombinedWatermark, AnInputsWatermarkNeverGoesBack) {
  CombinedWatermark combined(2);
  combined.UpdateWatermark(0, 10);
  combined.UpdateWatermark(1, 10);
  EXPECT_FALSE(combined.UpdateWatermark(0, 3));
  EXPECT_EQ(combined.input_watermark(0), 10);
  EXPECT_EQ(combined.watermark(), 10);
}

TEST(CombinedWatermark, AnIdleInputDoesNotHoldTheOtherBack) {
  CombinedWatermark combined(2);
  combined.UpdateWatermark(0, 100);
  EXPECT_EQ(combined.watermark(), kMinWatermark);
  EXPECT_TRUE(combined.UpdateStatus(1, /*idle=*/true));
  EXPECT_EQ(combined.watermark(), 100);
  EXPECT_FALSE(combined.idle());
  EXPECT_TRUE(combined.UpdateWatermark(0, 150));
  EXPECT_EQ(combined.watermark(), 150);
}

TEST(CombinedWatermark, AnInputActiveAgainBehindHoldsTheWatermarkWhereItIs) {
  CombinedWatermark combined(2);
  combined.UpdateWatermark(1, 5);
  combined.UpdateStatus(1, true);
  combined.UpdateWatermark(0, 100);
  EXPECT_EQ(combined.watermark(), 100);
  EXPECT_FALSE(combined.UpdateStatus(1, false));  // back at 5: no going back to it...
  EXPECT_EQ(combined.watermark(), 100);
  EXPECT_FALSE(combined.UpdateWatermark(0, 200));  // ...and no advance until it catches up
  EXPECT_EQ(combined.watermark(), 100);
  EXPECT_TRUE(combined.UpdateWatermark(1, 150));
  EXPECT_EQ(combined.watermark(), 150);
}

TEST(CombinedWatermark, BothIdleIsIdleAndKeepsTheWatermark) {
  CombinedWatermark combined(2);
  combined.UpdateWatermark(0, 100);
  combined.UpdateWatermark(1, 50);
  EXPECT_FALSE(combined.UpdateStatus(0, true));
  EXPECT_FALSE(combined.idle());
  EXPECT_FALSE(combined.UpdateStatus(1, true));
  EXPECT_TRUE(combined.idle());
  // Flink does not release the idle inputs' watermarks across inputs.
  EXPECT_EQ(combined.watermark(), 50);
  // A watermark makes its input active again.
  EXPECT_TRUE(combined.UpdateWatermark(1, 70));
  EXPECT_FALSE(combined.idle());
  EXPECT_EQ(combined.watermark(), 70);
}

}  // namespace
}  // namespace sluice::detail
