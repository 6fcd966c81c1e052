#include "connectors/kafka/transactional_offsets.h"

#include <gtest/gtest.h>

namespace sluice::kafka::internal {
namespace {

TEST(ClusterKeyTest, TheSameBrokersInAnyOrderAndSpacingAreOneCluster) {
  EXPECT_EQ(ClusterKey("b:9092, a:9092,a:9092"), "a:9092,b:9092");
  EXPECT_EQ(ClusterKey(" a:9092 "), ClusterKey("a:9092"));
  EXPECT_NE(ClusterKey("a:9092"), ClusterKey("a:9093"));
}

TEST(TransactionalOffsetsTest, NothingIsKeptWithoutASubscribedParticipant) {
  TransactionalOffsets& offsets = TransactionalOffsets::Instance();
  EXPECT_FALSE(offsets.Publish("job-unsubscribed", "c", CheckpointId(1), "g", {{{"t", 0}, 5}}));
  EXPECT_TRUE(offsets.Take("job-unsubscribed", "c", CheckpointId(1)).empty());
}

TEST(TransactionalOffsetsTest, SubtasksAreMergedPerGroupAndOlderCheckpointsAreDropped) {
  TransactionalOffsets& offsets = TransactionalOffsets::Instance();
  offsets.Subscribe("job-merge", "c");
  EXPECT_TRUE(offsets.Publish("job-merge", "c", CheckpointId(1), "g", {{{"t", 0}, 10}}));
  EXPECT_TRUE(offsets.Publish("job-merge", "c", CheckpointId(2), "g", {{{"t", 0}, 20}}));
  EXPECT_TRUE(offsets.Publish("job-merge", "c", CheckpointId(2), "g", {{{"t", 1}, 21}}));
  EXPECT_TRUE(offsets.Publish("job-merge", "c", CheckpointId(2), "h", {{{"u", 0}, 7}}));
  EXPECT_FALSE(
      offsets.Publish("job-merge", "other-cluster", CheckpointId(2), "g", {{{"t", 0}, 1}}));

  TransactionalOffsets::GroupOffsets taken = offsets.Take("job-merge", "c", CheckpointId(2));
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken["g"], (std::map<TopicPartition, int64_t>{{{"t", 0}, 20}, {{"t", 1}, 21}}));
  EXPECT_EQ(taken["h"], (std::map<TopicPartition, int64_t>{{{"u", 0}, 7}}));
  EXPECT_TRUE(offsets.Take("job-merge", "c", CheckpointId(1)).empty())
      << "checkpoint 1 was subsumed by 2";
  EXPECT_TRUE(offsets.Take("job-merge", "c", CheckpointId(2)).empty()) << "taken once";

  offsets.Unsubscribe("job-merge", "c");
  EXPECT_FALSE(offsets.Publish("job-merge", "c", CheckpointId(3), "g", {{{"t", 0}, 30}}));
}

TEST(TransactionalOffsetsTest, SubscribingAgainForgetsWhatAnEarlierAttemptLeft) {
  TransactionalOffsets& offsets = TransactionalOffsets::Instance();
  offsets.Subscribe("job-restart", "c");
  EXPECT_TRUE(offsets.Publish("job-restart", "c", CheckpointId(4), "g", {{{"t", 0}, 40}}));
  offsets.Subscribe("job-restart", "c");
  EXPECT_TRUE(offsets.Take("job-restart", "c", CheckpointId(4)).empty());
  offsets.Unsubscribe("job-restart", "c");
}

}  // namespace
}  // namespace sluice::kafka::internal
