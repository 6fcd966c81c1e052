// What a completed checkpoint or savepoint contains, and its on-disk form: the `_metadata` file.
//
// `_metadata` is pretty-printed JSON whose first key is "format_version". A build reads exactly
// the versions it knows (today only kCheckpointMetadataVersion) and refuses newer ones rather
// than restoring state it half understands. Within one version, readers ignore keys they do not
// know, so a field may be added without a version bump only if old readers can safely skip it.
// Every field listed below is required; "key_groups" may be null.
//
// Thread safety: plain values and pure functions; callable from any thread.
#pragma once

#include <sluice/status.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::internal {

/// The `_metadata` format this build writes, and the newest it reads.
inline constexpr std::uint32_t kCheckpointMetadataVersion = 1;

/// The file name whose presence marks a checkpoint or savepoint directory as complete.
inline constexpr std::string_view kMetadataFileName = "_metadata";

/// A range of key groups, both ends inclusive (as Flink's KeyGroupRange).
struct KeyGroupRangeMeta {
  std::int32_t start = 0;
  std::int32_t end = -1;

  friend bool operator==(const KeyGroupRangeMeta&, const KeyGroupRangeMeta&) = default;
};

/// The state of one operator subtask: one file in the snapshot directory.
struct SubtaskStateMeta {
  std::int32_t subtask = 0;
  /// Relative to the checkpoint/savepoint directory (a plain file name); "" if no state.
  std::string file;
  /// Bytes in `file`.
  std::uint64_t size = 0;
  /// CRC-32C (Castagnoli, see crc32c.h) of the whole file.
  std::uint32_t crc32c = 0;
  /// The key groups this subtask owned; nullopt for non-keyed state.
  std::optional<KeyGroupRangeMeta> key_groups;
  /// Byte offset in `file` where each key group of `key_groups` starts, in key-group order, so a
  /// restore at another parallelism reads only the groups it now owns. Empty if not keyed.
  std::vector<std::uint64_t> key_group_offsets;

  friend bool operator==(const SubtaskStateMeta&, const SubtaskStateMeta&) = default;
};

/// The state of one operator (matched on restore by uid) across its parallel subtasks.
struct OperatorStateMeta {
  std::string uid;
  std::string name;
  std::int32_t parallelism = 0;
  std::int32_t max_parallelism = 0;
  std::vector<SubtaskStateMeta> subtasks;

  friend bool operator==(const OperatorStateMeta&, const OperatorStateMeta&) = default;
};

struct CheckpointMetadata {
  enum class Status : std::uint8_t {
    kCompleted,  // all state durable in storage
    kCommitted,  // and the job's exactly-once Kafka transaction for it committed (DESIGN 5)
  };

  std::uint32_t format_version = kCheckpointMetadataVersion;
  std::int64_t checkpoint_id = 0;
  std::string job_name;
  std::int32_t instance = 0;
  std::int64_t trigger_time_ms = 0;     // wall clock, milliseconds since the Unix epoch
  std::int64_t completion_time_ms = 0;  // likewise
  bool is_savepoint = false;
  Status status = Status::kCompleted;
  /// Free-form, for display (e.g. a summary of Kafka offsets); never needed to restore.
  std::map<std::string, std::string> properties;
  std::vector<OperatorStateMeta> operators;

  friend bool operator==(const CheckpointMetadata&, const CheckpointMetadata&) = default;
};

/// The `_metadata` property naming the state changelog topic of an operator:
/// kChangelogTopicProperty + uid -> topic (`sluice checkpoints` lists them).
inline constexpr std::string_view kChangelogTopicProperty = "state.changelog.topic.";

/// "COMPLETED" or "COMMITTED", as written in `_metadata`.
std::string_view MetadataStatusName(CheckpointMetadata::Status status);

/// Pretty JSON, "format_version" first. Writes `metadata.format_version` as given (tests use this
/// to produce files of other versions); callers normally leave it at kCheckpointMetadataVersion.
std::string EncodeMetadata(const CheckpointMetadata& metadata);

/// Parses `_metadata` bytes.
/// - format_version newer than this build reads: FailedPrecondition naming both versions.
/// - format_version 0 or otherwise unknown: Corruption naming both versions.
/// - not JSON, a missing or mistyped field, an integer out of range, a state file path that is
///   absolute or leaves the directory, key-group offsets not matching their range: Corruption
///   naming the field, e.g. "operators[1].subtasks[0].crc32c".
Result<CheckpointMetadata> DecodeMetadata(std::string_view bytes);

/// True if `file` is usable as a state file reference: relative, a plain name inside the
/// snapshot directory (no '/', not "." or ".."), no NUL. "" (no state) is also accepted.
bool IsSafeStateFileName(std::string_view file);

}  // namespace sluice::internal
