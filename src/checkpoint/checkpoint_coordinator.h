// The checkpoint coordinator (DESIGN.md sections 3 and 5): triggers checkpoint N at the
// sources, collects every task's acknowledgement, writes _metadata, lets the checkpoint
// participant (the exactly-once Kafka sink) make N final, then notifies all tasks and prunes.
// One checkpoint at a time, strictly in order; the next barrier is injected only after the
// previous checkpoint committed.
//
// Finished tasks keep taking part (Flink's checkpoints after tasks finished, FLIP-147): a
// task that reached the end of its input snapshots its final state when triggered, without a
// barrier. Once every task has finished, one final checkpoint is triggered at once; when it
// completes the tasks are released and close, so a bounded job's last epoch is committed.
//
// Threads: a coordinator thread triggers and completes checkpoints (all participant calls
// happen there). Acknowledge/Decline/LocationFor/TaskFinished come from task threads and
// TriggerSavepoint from any thread; all are thread-safe. mutex_ guards the checkpoint state
// (SLUICE_GUARDED_BY below); storage writes and participant calls of a completing checkpoint
// run without it, so that tasks never wait on them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/status.h>

#include "checkpoint/checkpoint_storage.h"
#include "core/mutex.h"
#include "runtime/task.h"

namespace sluice::internal {

class CheckpointCoordinator final : public CheckpointAcknowledger {
 public:
  struct Options {
    std::chrono::milliseconds interval{0};  // 0: savepoints only
    std::chrono::milliseconds timeout{std::chrono::minutes(10)};
    std::chrono::milliseconds min_pause{0};
    int32_t tolerable_failures = 0;
    int32_t retained = 1;
    std::string job_name;
    int32_t instance = 0;
    int32_t max_parallelism = 128;
  };
  /// Called (once, from the coordinator thread) when the job must fail over.
  using FailJob = std::function<void(Status cause)>;

  CheckpointCoordinator(Options options, CheckpointStorage* storage,
                        std::shared_ptr<CheckpointParticipant> participant,
                        std::vector<Task*> tasks, int64_t first_checkpoint_id, FailJob fail_job);
  ~CheckpointCoordinator() override;

  void Start();
  /// Stops triggering, aborts a pending checkpoint and joins the thread.
  void Stop() SLUICE_EXCLUDES(mutex_);

  /// Takes a savepoint into `directory` and waits until it is complete; returns its path.
  Result<std::string> TriggerSavepoint(const std::filesystem::path& directory)
      SLUICE_EXCLUDES(mutex_);

  int64_t completed_checkpoints() const SLUICE_EXCLUDES(mutex_);
  int64_t failed_checkpoints() const SLUICE_EXCLUDES(mutex_);
  std::optional<int64_t> latest_completed() const SLUICE_EXCLUDES(mutex_);
  /// The id the next checkpoint would get. Ids are never reused, even for checkpoints that
  /// failed: a later attempt continues after the highest id ever triggered.
  int64_t next_checkpoint_id() const SLUICE_EXCLUDES(mutex_);

  // ---- CheckpointAcknowledger ----
  std::optional<SnapshotLocation> LocationFor(int64_t id) SLUICE_EXCLUDES(mutex_) override;
  void Acknowledge(int32_t task, int64_t id, std::vector<OperatorSubtaskSnapshot> snapshots)
      SLUICE_EXCLUDES(mutex_) override;
  void Decline(int32_t task, int64_t id, Status reason) SLUICE_EXCLUDES(mutex_) override;
  std::optional<detail::CheckpointBarrier> TaskFinished(int32_t task)
      SLUICE_EXCLUDES(mutex_) override;
  bool TakesFinalCheckpoint() const override { return options_.interval.count() > 0; }

 private:
  struct Pending {
    int64_t id = 0;
    bool savepoint = false;
    std::optional<SnapshotLocation> location;
    int64_t trigger_time_ms = 0;
    std::chrono::steady_clock::time_point deadline;
    std::map<int32_t, std::vector<OperatorSubtaskSnapshot>> acks;
    std::optional<Status> declined;
    /// Triggered after every task had finished: its completion releases the tasks.
    bool final = false;
    detail::CheckpointBarrier barrier;
  };
  struct SavepointRequest {
    std::filesystem::path directory;
    std::optional<Result<std::string>> outcome;
  };

  void Loop() SLUICE_EXCLUDES(mutex_);
  bool AllTasksFinished() const SLUICE_REQUIRES(mutex_) {
    return finished_tasks_.size() == tasks_.size();
  }
  /// Starts checkpoint (or savepoint) next_id_.
  Status Trigger(SavepointRequest* savepoint, bool final = false) SLUICE_REQUIRES(mutex_);
  /// Lets tasks waiting after their end of input close (through their mailboxes).
  void ReleaseFinishedTasks();
  /// The helpers below release mutex_ while they call fail_job_, the storage or the
  /// participant, and hold it again when they return.
  void FinalCheckpointFailed(const Status& reason) SLUICE_REQUIRES(mutex_);
  /// Finishes the pending checkpoint once every task acknowledged.
  void Complete() SLUICE_REQUIRES(mutex_);
  void Abort(const Status& reason, bool may_fail_job = true) SLUICE_REQUIRES(mutex_);

  const Options options_;
  CheckpointStorage* storage_;
  std::shared_ptr<CheckpointParticipant> participant_;
  std::vector<Task*> tasks_;
  FailJob fail_job_;

  mutable Mutex mutex_;
  CondVar cv_;
  bool stopping_ SLUICE_GUARDED_BY(mutex_) = false;
  bool failed_job_ SLUICE_GUARDED_BY(mutex_) = false;
  int64_t next_id_ SLUICE_GUARDED_BY(mutex_);
  std::optional<Pending> pending_ SLUICE_GUARDED_BY(mutex_);
  /// The request of the pending savepoint; its outcome is written under mutex_ too.
  SavepointRequest* pending_savepoint_ SLUICE_GUARDED_BY(mutex_) = nullptr;
  std::vector<SavepointRequest*> savepoint_queue_ SLUICE_GUARDED_BY(mutex_);
  std::set<int32_t> finished_tasks_ SLUICE_GUARDED_BY(mutex_);
  bool final_checkpoint_triggered_ SLUICE_GUARDED_BY(mutex_) = false;
  int64_t completed_ SLUICE_GUARDED_BY(mutex_) = 0;
  int64_t failed_ SLUICE_GUARDED_BY(mutex_) = 0;
  int32_t consecutive_failures_ SLUICE_GUARDED_BY(mutex_) = 0;
  std::optional<int64_t> latest_completed_ SLUICE_GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point last_trigger_ SLUICE_GUARDED_BY(mutex_);
  std::chrono::steady_clock::time_point last_completion_ SLUICE_GUARDED_BY(mutex_);
  std::thread thread_;  // Start and Stop: the job master's thread
};

}  // namespace sluice::internal
