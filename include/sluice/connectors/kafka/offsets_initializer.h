// OffsetsInitializer: where a Kafka source starts reading each partition, and (bounded or
// stopping sources) where it stops. Flink's OffsetsInitializer, resolved per partition when the
// partition is first assigned to a reader:
//
//   Earliest()                 the first offset still in the log (the builder's default)
//   Latest()                   the end of the log when the partition is assigned (not later:
//                              records produced after assignment are read)
//   Committed()                the group's committed offset; a partition without one fails
//                              the job ("no committed offset and no reset strategy")
//   Committed(reset)           the committed offset, else the reset strategy
//   Offsets(map, reset)        the offset in the map (the next record to read); a partition
//                              missing from the map takes the group's committed offset (when
//                              the source has a group id), else the reset strategy
//   Timestamp(ms)              the first offset whose record timestamp is >= ms; a partition
//                              with no such record starts (or stops) at its end
//
// As a stopping initializer (KafkaSourceBuilder::SetBounded / SetUnbounded) the resolved offset
// is exclusive: the partition ends once its position reaches it.
//
// Thread safety: an immutable value.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <sluice/connectors/kafka/topic_partition.h>

namespace sluice::kafka {

/// What to do for a partition that has no committed (or specified) offset, or whose offset is
/// out of range (Kafka's auto.offset.reset).
enum class OffsetResetStrategy {
  kEarliest,
  kLatest,
  kNone,  // fail the job
};

class OffsetsInitializer {
 public:
  enum class Kind { kEarliest, kLatest, kCommitted, kSpecific, kTimestamp };

  static OffsetsInitializer Earliest() {
    return OffsetsInitializer(Kind::kEarliest, OffsetResetStrategy::kEarliest);
  }
  static OffsetsInitializer Latest() {
    return OffsetsInitializer(Kind::kLatest, OffsetResetStrategy::kLatest);
  }
  static OffsetsInitializer Committed() { return Committed(OffsetResetStrategy::kNone); }
  static OffsetsInitializer Committed(OffsetResetStrategy reset) {
    return OffsetsInitializer(Kind::kCommitted, reset);
  }
  static OffsetsInitializer Offsets(std::map<TopicPartition, int64_t> offsets,
                                    OffsetResetStrategy reset = OffsetResetStrategy::kEarliest) {
    OffsetsInitializer init(Kind::kSpecific, reset);
    init.offsets_ = std::move(offsets);
    return init;
  }
  /// `timestamp_ms` must be >= 0 (KafkaSourceBuilder::Build checks it).
  static OffsetsInitializer Timestamp(int64_t timestamp_ms) {
    OffsetsInitializer init(Kind::kTimestamp, OffsetResetStrategy::kLatest);
    init.timestamp_ms_ = timestamp_ms;
    return init;
  }

  Kind kind() const { return kind_; }
  OffsetResetStrategy reset_strategy() const { return reset_; }
  const std::map<TopicPartition, int64_t>& offsets() const { return offsets_; }
  int64_t timestamp_ms() const { return timestamp_ms_; }
  /// True when resolving needs the group's committed offsets.
  bool NeedsCommittedOffsets() const { return kind_ == Kind::kCommitted; }

  /// E.g. "Committed(reset=Earliest)", for messages and logs.
  std::string ToString() const;

 private:
  OffsetsInitializer(Kind kind, OffsetResetStrategy reset) : kind_(kind), reset_(reset) {}

  Kind kind_;
  OffsetResetStrategy reset_;
  std::map<TopicPartition, int64_t> offsets_;
  int64_t timestamp_ms_ = 0;
};

/// "Earliest", "Latest" or "None".
std::string ToString(OffsetResetStrategy reset);

}  // namespace sluice::kafka
