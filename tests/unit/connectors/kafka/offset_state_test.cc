#include "connectors/kafka/offset_state.h"

#include <gtest/gtest.h>

#include "connectors/kafka/partition_assigner.h"

namespace sluice::kafka::internal {
namespace {

std::string Bytes(const PartitionOffset& item) {
  DataOutput out;
  SerializeValue(item, out);
  return out.Release();
}

TEST(OffsetStateTest, ItemRoundTripsWithAndWithoutStoppingOffset) {
  for (const PartitionOffset& item :
       {PartitionOffset{"orders", 3, 12345, std::nullopt}, PartitionOffset{"t", 0, 0, 99}}) {
    std::string bytes = Bytes(item);
    DataInput in(bytes);
    EXPECT_EQ(DeserializeValue<PartitionOffset>(in), item);
  }
}

TEST(OffsetStateTest, ItemBytesArePinned) {
  // version 1, "ab", partition 2 (zigzag 4), offset 300 (zigzag 600 = 0xd8 0x04), no stop.
  EXPECT_EQ(Bytes(PartitionOffset{"ab", 2, 300, std::nullopt}), std::string("\x01\x02"
                                                                            "ab"
                                                                            "\x04\xd8\x04\x00",
                                                                            8));
  EXPECT_EQ(TypeNameOf<PartitionOffset>(), "sluice.kafka.PartitionOffset");
}

std::vector<TopicPartition> Partitions(const std::string& topic, int n) {
  std::vector<TopicPartition> out;
  for (int p = 0; p < n; ++p) out.push_back({topic, p});
  return out;
}

TEST(OffsetStateTest, FreshStartOwnsWhatTheFormulaGivesAndEveryPartitionHasOneOwner) {
  auto subscribed = Partitions("events", 7);
  std::map<TopicPartition, int> owners;
  for (int32_t s = 0; s < 3; ++s) {
    ReaderAssignment plan = PlanAssignment(subscribed, std::nullopt, s, 3);
    EXPECT_TRUE(plan.restored.empty());
    EXPECT_FALSE(plan.fresh_start_at_earliest);
    for (const auto& tp : plan.fresh) {
      EXPECT_EQ(::sluice::internal::AssignPartitionToSubtask(tp.topic, tp.partition, 3), s);
      ++owners[tp];
    }
  }
  EXPECT_EQ(owners.size(), 7u);
  for (const auto& [tp, n] : owners) EXPECT_EQ(n, 1);
}

TEST(OffsetStateTest, RestoreKeepsStatePartitionsStartsNewOnesAtEarliestAndDropsUnsubscribed) {
  std::vector<PartitionOffset> state{
      {"a", 0, 10, std::nullopt}, {"a", 1, 11, std::nullopt}, {"gone", 0, 5, 9}};
  auto subscribed = Partitions("a", 3);  // a-2 is new since the checkpoint
  ReaderAssignment plan = PlanAssignment(subscribed, state, 0, 1);
  ASSERT_EQ(plan.restored.size(), 2u);
  EXPECT_EQ(plan.restored.at({"a", 0}).next_offset, 10);
  EXPECT_EQ(plan.restored.at({"a", 1}).next_offset, 11);
  EXPECT_EQ(plan.fresh, (std::vector<TopicPartition>{{"a", 2}}));
  EXPECT_TRUE(plan.fresh_start_at_earliest);
  EXPECT_EQ(plan.dropped, (std::vector<TopicPartition>{{"gone", 0}}));
}

TEST(OffsetStateTest, RestoreAtAnotherParallelismSplitsTheUnionByTheFormula) {
  auto subscribed = Partitions("rescale", 6);
  std::vector<PartitionOffset> state;
  for (const auto& tp : subscribed)
    state.push_back({tp.topic, tp.partition, 100 + tp.partition, std::nullopt});
  size_t total = 0;
  for (int32_t s = 0; s < 4; ++s) {
    ReaderAssignment plan = PlanAssignment(subscribed, state, s, 4);
    EXPECT_TRUE(plan.fresh.empty());
    for (const auto& [tp, item] : plan.restored) {
      EXPECT_EQ(::sluice::internal::AssignPartitionToSubtask(tp.topic, tp.partition, 4), s);
      EXPECT_EQ(item.next_offset, 100 + tp.partition);
    }
    total += plan.restored.size();
  }
  EXPECT_EQ(total, 6u);
}

}  // namespace
}  // namespace sluice::kafka::internal
