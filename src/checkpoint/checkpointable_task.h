// CheckpointableTask: what the checkpoint coordinator needs of a task. The runtime's Task
// implements it; unit tests use fakes. It keeps src/checkpoint independent of src/runtime: the
// coordinator knows tasks only through this interface, and tasks answer through
// CheckpointAcknowledger.
//
// Threads: the coordinator calls these from its own thread, or from the thread that stops it,
// some while holding its mutex. Implementations must return quickly and must not call back
// into the coordinator from inside the call (Task posts each request to its mailbox and acts
// on its own thread).
#pragma once

#include <cstdint>

#include <sluice/detail/stream_element.h>

namespace sluice::internal {

class CheckpointableTask {
 public:
  virtual ~CheckpointableTask() = default;

  /// The task's position among all tasks of the job: what it passes as `task` to
  /// CheckpointAcknowledger. Constant.
  virtual int32_t index() const = 0;

  /// True for a task whose input is a source: the coordinator triggers a running source, and
  /// the barrier reaches every other running task in line with the records. Constant.
  virtual bool is_source() const = 0;

  /// Take checkpoint `barrier.checkpoint_id`: a running source injects `barrier` between two
  /// records; a task that already finished its input snapshots its final state. The task
  /// answers later, from its own thread, with Acknowledge or Decline.
  virtual void TriggerCheckpoint(const detail::CheckpointBarrier& barrier) = 0;

  /// Checkpoint `id` is complete (committed, with a participant): operators may act on it.
  virtual void NotifyCheckpointComplete(int64_t id) = 0;

  /// Checkpoint `id` was given up.
  virtual void NotifyCheckpointAborted(int64_t id) = 0;

  /// The job's final checkpoint completed (or was given up): a task waiting after the end of
  /// its input may close now.
  virtual void ReleaseAfterFinalCheckpoint() = 0;
};

}  // namespace sluice::internal
