#include "connectors/kafka/partition_watermarks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace sluice::kafka::internal {
namespace {

struct RecordingOutput final : WatermarkOutput {
  std::vector<int64_t> watermarks;
  bool idle = false;
  void EmitWatermark(int64_t t) override { watermarks.push_back(t); }
  void MarkIdle() override { idle = true; }
  void MarkActive() override { idle = false; }
};

struct Fixture {
  int64_t now = 1000;
  PartitionWatermarks wm{
      [] { return MakeBoundedOutOfOrdernessGenerator(std::chrono::milliseconds(0)); }, 500,
      [this] { return now; }};
  RecordingOutput out;
};

TEST(PartitionWatermarksTest, MergesByTheMinimumOverPartitions) {
  Fixture f;
  size_t a = f.wm.AddPartition();
  size_t b = f.wm.AddPartition();
  f.wm.OnRecord(a);
  f.wm.OnEvent(a, 10'000);
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_TRUE(f.out.watermarks.empty()) << "partition b has no watermark yet";
  f.wm.OnRecord(b);
  f.wm.OnEvent(b, 3'000);
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_EQ(f.out.watermarks, std::vector<int64_t>{2'999});
  EXPECT_FALSE(f.out.idle);
}

TEST(PartitionWatermarksTest, AnIdlePartitionStopsHoldingBackAndComesBackWithItsNextRecord) {
  Fixture f;
  size_t a = f.wm.AddPartition();
  size_t b = f.wm.AddPartition();
  f.wm.OnRecord(a);
  f.wm.OnEvent(a, 10'000);
  f.wm.OnRecord(b);
  f.wm.OnEvent(b, 3'000);
  f.wm.OnPeriodicEmit(f.out);  // records are stamped with the time of the emission after them
  EXPECT_EQ(f.out.watermarks.back(), 2'999);
  f.now += 400;
  f.wm.OnRecord(a);
  f.wm.OnEvent(a, 20'000);
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_EQ(f.out.watermarks.back(), 2'999) << "b: 400 ms without a record, not idle yet";
  f.now += 200;  // b: 600 ms without a record; a: 200 ms
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_EQ(f.out.watermarks.back(), 19'999);
  f.wm.OnRecord(b);
  f.wm.OnEvent(b, 25'000);
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_EQ(f.out.watermarks.back(), 19'999) << "never backwards, and b is active again";
}

TEST(PartitionWatermarksTest, AllPartitionsIdleOrNoneMakesTheOutputIdle) {
  Fixture f;
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_TRUE(f.out.idle) << "no partitions";
  size_t a = f.wm.AddPartition();
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_FALSE(f.out.idle) << "a new partition is active until its idle timeout";
  f.now += 500;
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_TRUE(f.out.idle);
  f.wm.OnRecord(a);
  f.wm.OnEvent(a, 7);
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_FALSE(f.out.idle);
  EXPECT_EQ(f.out.watermarks.back(), 6);
}

TEST(PartitionWatermarksTest, AFinishedPartitionNoLongerHoldsBack) {
  Fixture f;
  size_t a = f.wm.AddPartition();
  size_t b = f.wm.AddPartition();
  f.wm.OnRecord(a);
  f.wm.OnEvent(a, 50);
  f.wm.FinishPartition(b);
  f.wm.OnPeriodicEmit(f.out);
  EXPECT_EQ(f.out.watermarks, std::vector<int64_t>{49});
}

}  // namespace
}  // namespace sluice::kafka::internal
