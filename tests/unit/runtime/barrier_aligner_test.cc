#include "runtime/barrier_aligner.h"

#include <gtest/gtest.h>

namespace sluice::internal {
namespace {

TEST(BarrierAlignerTest, SingleChannelCompletesAtOnce) {
  BarrierAligner aligner(1);
  BarrierAligner::Result result = aligner.OnBarrier(0, 1);
  EXPECT_EQ(result.completed, 1);
  EXPECT_FALSE(aligner.IsBlocked(0));
}

TEST(BarrierAlignerTest, BlocksEachChannelUntilAllDeliveredTheBarrier) {
  BarrierAligner aligner(3);
  EXPECT_FALSE(aligner.OnBarrier(1, 7).completed);
  EXPECT_TRUE(aligner.IsBlocked(1));
  EXPECT_FALSE(aligner.IsBlocked(0));
  EXPECT_FALSE(aligner.OnBarrier(0, 7).completed);
  EXPECT_TRUE(aligner.IsBlocked(0));
  EXPECT_EQ(aligner.pending(), 7);
  BarrierAligner::Result last = aligner.OnBarrier(2, 7);
  EXPECT_EQ(last.completed, 7);
  for (int c = 0; c < 3; ++c) EXPECT_FALSE(aligner.IsBlocked(c)) << c;
  EXPECT_FALSE(aligner.pending());
}

TEST(BarrierAlignerTest, ANewerBarrierAbortsThePendingAlignment) {
  BarrierAligner aligner(2);
  aligner.OnBarrier(0, 3);
  BarrierAligner::Result result = aligner.OnBarrier(1, 4);
  EXPECT_EQ(result.aborted, 3);
  EXPECT_FALSE(result.completed);
  EXPECT_TRUE(aligner.IsBlocked(1));
  EXPECT_FALSE(aligner.IsBlocked(0));
  // The late barrier 3 of channel 0 is ignored; 4 completes.
  EXPECT_FALSE(aligner.OnBarrier(0, 3).completed);
  EXPECT_EQ(aligner.OnBarrier(0, 4).completed, 4);
}

TEST(BarrierAlignerTest, EndedChannelsCountAsAligned) {
  BarrierAligner aligner(3);
  aligner.OnBarrier(0, 1);
  EXPECT_FALSE(aligner.OnEndOfInput(1).completed);
  EXPECT_EQ(aligner.OnEndOfInput(2).completed, 1);
  // After an end of input, a single remaining channel aligns alone.
  EXPECT_EQ(aligner.OnBarrier(0, 2).completed, 2);
}

TEST(BarrierAlignerTest, StaleBarriersOfCompletedCheckpointsAreIgnored) {
  BarrierAligner aligner(2);
  aligner.OnBarrier(0, 5);
  aligner.OnBarrier(1, 5);
  BarrierAligner::Result stale = aligner.OnBarrier(0, 5);
  EXPECT_FALSE(stale.completed);
  EXPECT_FALSE(aligner.IsBlocked(0));
}

}  // namespace
}  // namespace sluice::internal
