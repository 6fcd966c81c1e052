// The Kafka source's checkpointed state, and how a reader finds its partitions in it.
//
// Every reader writes, at each checkpoint, one PartitionOffset per partition it owns into the
// union list state "kafka-source-offsets". On restore every reader receives the union of all
// readers' items and keeps the partitions Flink's formula gives it, so restoring works at any
// parallelism.
//
// Item format (TypeSerializer<PartitionOffset>, kVersion 1, written before every item):
//   string topic, int32 partition (zigzag varint), int64 next offset to read (zigzag varint),
//   optional<int64> stopping offset (bool, then the varint when present; only bounded or
//   stopping sources have one). Written for inspection and compatibility; a restore does not
//   use it: stopping offsets are the run's (run_stopping_offsets.h), so a new process start of
//   a bounded job stops at the end offsets seen at its own start.
// tests/unit/connectors/kafka/offset_state_test.cc pins the bytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sluice/connectors/kafka/topic_partition.h>
#include <sluice/state/type_serializer.h>

namespace sluice::kafka::internal {

inline constexpr const char* kOffsetStateName = "kafka-source-offsets";

struct PartitionOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = 0;
  std::optional<int64_t> stopping_offset;
  friend bool operator==(const PartitionOffset&, const PartitionOffset&) = default;
};

/// One reader's share of the subscribed partitions.
struct ReaderAssignment {
  /// Partitions restored from state, with their offsets (and stopping offsets if they had one).
  std::map<TopicPartition, PartitionOffset> restored;
  /// Owned partitions that need a start offset: from the starting OffsetsInitializer on a
  /// fresh start, Earliest after a restore (they appeared after the checkpoint).
  std::vector<TopicPartition> fresh;
  /// True when `fresh` partitions start at Earliest because the reader was restored.
  bool fresh_start_at_earliest = false;
  /// Restored partitions that are no longer subscribed (any reader's; for a log line).
  std::vector<TopicPartition> dropped;
};

/// Which of `subscribed` subtask `subtask` of `parallelism` owns, and where each starts:
/// `restored` is the union list state when the reader was restored, nullopt on a fresh start.
ReaderAssignment PlanAssignment(const std::vector<TopicPartition>& subscribed,
                                const std::optional<std::vector<PartitionOffset>>& restored,
                                int32_t subtask, int32_t parallelism);

}  // namespace sluice::kafka::internal

namespace sluice {

template <>
struct TypeSerializer<kafka::internal::PartitionOffset> {
  static constexpr std::uint32_t kVersion = 1;
  static std::string TypeName() { return "sluice.kafka.PartitionOffset"; }
  static void Serialize(const kafka::internal::PartitionOffset& value, DataOutput& out) {
    SerializeValue(value.topic, out);
    SerializeValue(value.partition, out);
    SerializeValue(value.next_offset, out);
    SerializeValue(value.stopping_offset, out);
  }
  static kafka::internal::PartitionOffset Deserialize(DataInput& in, std::uint32_t /*version*/) {
    kafka::internal::PartitionOffset value;
    value.topic = DeserializeValue<std::string>(in);
    value.partition = DeserializeValue<int32_t>(in);
    value.next_offset = DeserializeValue<int64_t>(in);
    value.stopping_offset = DeserializeValue<std::optional<int64_t>>(in);
    return value;
  }
};

}  // namespace sluice
