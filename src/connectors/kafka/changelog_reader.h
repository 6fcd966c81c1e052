// ChangelogReader: reads the committed records of some partitions of one changelog topic
// (DESIGN.md section 7), each from a base offset up to an end offset, both taken from the commit
// marker of the checkpoint being restored. The records come as views, in offset order per
// partition (partitions interleave).
//
// What "the committed records" means: the consumer reads with isolation.level=read_committed, so
// records of aborted transactions never show, and transaction control records (commit and abort
// markers) take offsets but are not records. A partition is therefore done when the consumer's
// position reaches `end` (a record at or past it, or the end of the partition at or past it),
// not after some count of records; this also finishes a partition whose last offsets before
// `end` are aborted records or a commit marker.
//
// Before reading, the reader checks that Kafka still holds what the checkpoint needs, so that a
// restore never starts silently from partial state:
//  - the topic exists (kNotFound otherwise) and has every partition asked for
//    (kFailedPrecondition: it was recreated with another partition count);
//  - each partition still starts at or before `base` (kFailedPrecondition otherwise: retention
//    or DeleteRecords cut records the state needs);
//  - each partition's committed data reaches `end` (kFailedPrecondition otherwise: the topic was
//    deleted and recreated, or truncated; kUnavailable when only an open transaction of another
//    producer holds the read_committed end back, which ends by itself).
//
// Bounds: every wait is bounded by the timeout given at Open (sluice.broker.timeout.ms): no
// answer to a request, or no progress while reading (no record, end of partition or error for
// that long), is kUnavailable naming bootstrap.servers and where each unfinished partition
// stands. A long restore is fine as long as records keep coming.
//
// The client: a consumer per Read (librdkafka keeps per-partition state across assignments of
// one consumer), made from the given properties with the settings of a fast bounded read
// (isolation.level=read_committed, auto.offset.reset=error, large fetches) set over them; all
// partitions of a Read are assigned at once and drained from one queue in batches.
// librdkafka's rd_kafka_assign needs a group.id: the reader sets a private one
// ("sluice-changelog-reader") and never joins the group nor commits offsets (group-level errors,
// e.g. a missing group ACL, are logged and ignored).
//
// Threads: one ChangelogReader is used by one thread at a time (the restoring task's);
// librdkafka's own threads only call the client's error callback. Distinct readers are
// independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/api/strong_id.h>
#include <sluice/status.h>

namespace sluice::kafka::internal {

class KafkaConsumer;

/// The offsets of one partition to read: [base, end). base == end reads nothing (and is not
/// checked against the topic).
struct ChangelogPartitionRange {
  int32_t partition = 0;
  int64_t base = 0;
  int64_t end = 0;
};

/// One committed record. The views point into librdkafka's buffers and are valid only during
/// the callback.
struct ChangelogRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string_view key;  // a compacted topic refuses records without a key
  /// nullopt for a tombstone (a record whose value is null); an empty value is not one.
  std::optional<std::string_view> value;
};

/// Called once per committed record in [base, end); a non-OK status stops the read and is
/// returned by Read unchanged.
using ChangelogRecordCallback = std::function<Status(const ChangelogRecord&)>;

class ChangelogReader {
 public:
  /// Creates the first consumer. `client_properties` are the cluster's client settings
  /// (bootstrap.servers and the security settings); producer-only properties are dropped.
  /// kInvalidArgument when librdkafka refuses a property.
  static Result<std::unique_ptr<ChangelogReader>> Open(
      std::map<std::string, std::string> client_properties, std::chrono::milliseconds timeout);

  ~ChangelogReader();
  ChangelogReader(const ChangelogReader&) = delete;
  ChangelogReader& operator=(const ChangelogReader&) = delete;

  /// Reads `ranges` (distinct partitions) of `topic`, calling `on_record` for each committed
  /// record with base <= offset < end. `checkpoint` only names the restored checkpoint in
  /// messages. May be called again (another topic, other ranges) after it returned.
  ///
  /// Errors: kNotFound (the topic is missing), kFailedPrecondition (a partition is missing, or
  /// the data between base and end is incomplete: see the file comment), kPermissionDenied (the
  /// principal may not describe or read the topic), kUnauthenticated (credentials refused),
  /// kUnavailable (no answer or no progress within the timeout), kInvalidArgument (ranges that
  /// are not distinct partitions with 0 <= base <= end: a caller bug), or the callback's status.
  Status Read(const std::string& topic, const std::vector<ChangelogPartitionRange>& ranges,
              CheckpointId checkpoint, const ChangelogRecordCallback& on_record);

 private:
  ChangelogReader(std::map<std::string, std::string> properties, std::chrono::milliseconds timeout);

  std::map<std::string, std::string> properties_;
  std::string bootstrap_servers_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<KafkaConsumer> consumer_;
};

}  // namespace sluice::kafka::internal
