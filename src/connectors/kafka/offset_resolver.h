// Turning an OffsetsInitializer into a concrete offset per partition (Flink's rules, see
// include/sluice/connectors/kafka/offsets_initializer.h). The broker queries sit behind
// OffsetLookup so the decisions are unit-tested without a broker.
//
// Thread safety: stateless; the lookup is used on the caller's thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <sluice/connectors/kafka/offsets_initializer.h>
#include <sluice/connectors/kafka/topic_partition.h>
#include <sluice/status.h>

namespace sluice::kafka::internal {

using OffsetMap = std::map<TopicPartition, int64_t>;

/// The broker facts offset resolution needs, one batched query each.
class OffsetLookup {
 public:
  virtual ~OffsetLookup() = default;
  /// First offset still in the log (low watermark).
  virtual Result<OffsetMap> Earliest(const std::vector<TopicPartition>& partitions) = 0;
  /// End of the log: the high watermark, or the last stable offset under read_committed.
  virtual Result<OffsetMap> Latest(const std::vector<TopicPartition>& partitions) = 0;
  /// The group's committed offsets; partitions without one are absent from the map.
  virtual Result<OffsetMap> Committed(const std::vector<TopicPartition>& partitions) = 0;
  /// The first offset whose timestamp is >= timestamp_ms; partitions with no such record
  /// are absent from the map.
  virtual Result<OffsetMap> ForTimestamp(const std::vector<TopicPartition>& partitions,
                                         int64_t timestamp_ms) = 0;
};

/// One offset for every partition in `partitions`. `group_id` is set when the source has one
/// (Offsets() then tries committed offsets for partitions missing from its map). Errors:
/// InvalidArgument naming the partition when the reset strategy is None and no offset
/// exists; the lookup's errors unchanged.
Result<OffsetMap> ResolveOffsets(const OffsetsInitializer& initializer,
                                 const std::vector<TopicPartition>& partitions,
                                 const std::optional<std::string>& group_id, OffsetLookup& lookup);

}  // namespace sluice::kafka::internal
