// The checkpoint-participant hook: how an operator takes part in completing a checkpoint.
//
// The Kafka sink with EXACTLY_ONCE uses it so that a Kafka transaction commit is the moment a
// checkpoint becomes complete (DESIGN.md section 5). A sink definition hands the runtime one
// participant per job (Sink::GetCheckpointParticipant); the checkpoint coordinator calls it:
//
//   job start/restart: Recover()            -> which checkpoint is the last committed one
//   checkpoint N:      all tasks acknowledged, every state file and _metadata durable,
//                      CompleteCheckpoint(N) -> OK: N is committed; error: N failed
//                      (then, and only then, NotifyCheckpointComplete(N) reaches operators)
//   failed/aborted N:  AbortCheckpoint(N)
//
// Calls are strictly in checkpoint order, one at a time, from the coordinator thread; the
// next barrier is injected only after CompleteCheckpoint of the previous one returned.
// A job has at most one participant (two could not commit atomically).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <sluice/api/strong_id.h>
#include <sluice/checkpoint/state_changelog.h>
#include <sluice/status.h>

namespace sluice {

struct JobInstanceInfo {
  std::string job_name;
  int32_t instance = 0;
  int32_t attempt_number = 0;
  std::string checkpoint_directory;  // where this job's checkpoints live
};

struct CheckpointCompletion {
  CheckpointId id;
  int64_t trigger_time_ms = 0;
  std::string storage_path;  // the directory holding the checkpoint's files and _metadata
};

class CheckpointParticipant {
 public:
  virtual ~CheckpointParticipant() = default;
  virtual std::string Name() const = 0;
  /// Before any task of an attempt starts: fence earlier instances, abort what they left
  /// open, and return the last checkpoint this participant committed, with where its state
  /// lives (nullopt: none). Newer checkpoints in storage were never committed and are
  /// discarded.
  virtual Result<std::optional<CheckpointCompletion>> Recover(const JobInstanceInfo& job) = 0;
  /// Makes checkpoint `completion.id` final. An error fails the checkpoint and, because its
  /// barrier reached the sinks, fails the job over to the last committed checkpoint.
  virtual Status CompleteCheckpoint(const CheckpointCompletion& completion) = 0;
  virtual void AbortCheckpoint(CheckpointId /*id*/) {}
  /// The job has stopped (finished, cancelled or failed for good).
  virtual void Close() {}
  /// Where this participant keeps the job's state durably, committed with each checkpoint
  /// (state_changelog.h); null if it does not (the default). Owned by the participant.
  virtual StateChangelog* changelog() { return nullptr; }
};

}  // namespace sluice
