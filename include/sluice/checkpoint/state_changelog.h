// StateChangelog: where a checkpoint participant keeps the job's state durably, committed
// together with the checkpoint (DESIGN.md section 7). The EXACTLY_ONCE Kafka sink's participant
// offers one: compacted changelog topics written inside the checkpoint's transaction, so the
// commit that makes checkpoint N complete also makes N's state durable in Kafka, and a process
// on another host with an empty checkpoint directory restores N from Kafka alone.
//
// The runtime drives it; user code never calls it:
//
//   each attempt, after CheckpointParticipant::Recover():
//     Covered()                 -> which operators the recovered checkpoint's changelog holds
//     Read(...)                 -> their records, to rebuild state when the local checkpoint
//                                  directory cannot be used (missing, stale or corrupt)
//     Prepare(operators, ...)   -> topics created or validated; for operators the changelog
//                                  does not cover yet, the runtime writes their full state at
//                                  the next checkpoint
//   checkpoint N, on each task thread, after the operator's snapshot:
//     OpenWriter(N, operator, subtask) -> Append what changed since N-1, then Close
//   CheckpointParticipant::CompleteCheckpoint(N) commits the appends with N's outputs.
//
// What a record's key and value bytes mean is the runtime's business (src/state/
// changelog_record.h); a changelog stores bytes per (operator, partition) and keeps, per key,
// the last value (a null value deletes the key).
//
// Thread safety: Covered, Read and Prepare come from the job master before tasks start;
// OpenWriter from any task thread (one writer per thread at a time); a writer is used by the
// thread that opened it. Errors: a restore that would start from partial state (a topic
// missing, cut by retention, recreated shorter or with another partition count) is a
// non-restartable Status naming the topic and the fix, never an empty state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/status.h>

namespace sluice {

/// An operator whose state goes to the changelog, as the job runs it now (Prepare) or as the
/// recovered checkpoint recorded it (Covered).
struct ChangelogOperator {
  std::string uid;
  /// For messages.
  std::string name;
  /// Keyed operators get one partition per key group (max_parallelism); others one.
  bool keyed = false;
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;

  /// The partition count of the operator's changelog.
  int32_t partitions() const { return keyed ? max_parallelism : 1; }
};

/// One record as Read returns it: views valid during the callback only.
struct ChangelogRecord {
  int32_t partition = 0;
  std::string_view key;
  /// nullopt: the key was deleted (a tombstone).
  std::optional<std::string_view> value;
};

/// Appends one subtask's changes of one checkpoint. Not thread-safe.
class StateChangelogWriter {
 public:
  virtual ~StateChangelogWriter() = default;
  /// Hands the record to the checkpoint's transaction (copies the bytes). `partition` is
  /// within the operator's partitions(). An error fails the checkpoint.
  virtual Status Append(int32_t partition, std::string_view key,
                        std::optional<std::string_view> value) = 0;
  /// Every Append of this writer is handed over; the records count once the checkpoint
  /// commits.
  virtual Status Close() = 0;
};

class StateChangelog {
 public:
  virtual ~StateChangelog() = default;

  /// The topic holding `uid`'s changelog (for messages and `sluice checkpoints`).
  virtual std::string TopicFor(std::string_view uid) const = 0;

  /// The operators whose state the recovered checkpoint committed to the changelog, or nullopt
  /// when that checkpoint has none (no checkpoint, or it was written with the changelog off):
  /// then the changelog cannot restore it and only the local files can.
  virtual std::optional<std::vector<ChangelogOperator>> Covered() const = 0;

  /// Calls `record` for every record the recovered checkpoint committed to `uid`'s changelog
  /// in `partitions`, in offset order per partition (read_committed, up to the offsets the
  /// checkpoint's commit recorded). Errors: see the top of this file.
  virtual Status Read(std::string_view uid, const std::vector<int32_t>& partitions,
                      const std::function<void(const ChangelogRecord&)>& record) = 0;

  /// Creates the changelog topics of `operators` that are missing and validates the others
  /// (partition count, compaction). With `continue_recovered` (the job restores the recovered
  /// checkpoint), the operators in Covered() whose logs are intact continue them; every other
  /// operator starts an empty log (records already in its topic are not its state). Returns
  /// the uids that start one: their first checkpoint must append their whole state. A log
  /// found damaged (cut at its start, shorter than the checkpoint says) while the job restores
  /// from local files is restarted that way, with a warning: the files hold the state.
  virtual Result<std::vector<std::string>> Prepare(const std::vector<ChangelogOperator>& operators,
                                                   bool continue_recovered) = 0;

  /// A writer for `subtask` of `uid` (prepared) into checkpoint `checkpoint`'s transaction.
  virtual Result<std::unique_ptr<StateChangelogWriter>> OpenWriter(int64_t checkpoint,
                                                                   std::string_view uid,
                                                                   int32_t subtask) = 0;
};

}  // namespace sluice
