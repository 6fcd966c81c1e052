// CheckpointAcknowledger: what tasks report to the checkpoint coordinator, which implements it.
// The other direction, what the coordinator asks of a task, is CheckpointableTask.
//
// Thread safety: every method is called from task threads, concurrently; implementations are
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <sluice/detail/stream_element.h>
#include <sluice/status.h>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/operator_subtask_snapshot.h"

namespace sluice::internal {

class CheckpointAcknowledger {
 public:
  virtual ~CheckpointAcknowledger() = default;
  /// Where checkpoint `id` is written; nullopt when it was aborted meanwhile.
  virtual std::optional<SnapshotLocation> LocationFor(int64_t id) = 0;
  /// Task `task` (CheckpointableTask::index) wrote its state for checkpoint `id`.
  virtual void Acknowledge(int32_t task, int64_t id,
                           std::vector<OperatorSubtaskSnapshot> snapshots) = 0;
  /// Task `task` cannot take checkpoint `id`; the checkpoint is aborted.
  virtual void Decline(int32_t task, int64_t id, Status reason) = 0;
  /// The task has processed all its input and sent end-of-input downstream. Returns the
  /// pending checkpoint it has not acknowledged: its barrier can no longer reach the task,
  /// so the task snapshots its final state for it directly.
  virtual std::optional<detail::CheckpointBarrier> TaskFinished(int32_t task) = 0;
  /// True when finished tasks must wait for the job's final checkpoint before closing
  /// (periodic checkpointing is on): what they wrote after the last barrier is only safe
  /// (committed, for an exactly-once sink) once that checkpoint completes.
  virtual bool TakesFinalCheckpoint() const = 0;
};

}  // namespace sluice::internal
