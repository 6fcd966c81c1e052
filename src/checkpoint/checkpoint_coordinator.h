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
// TriggerSavepoint from any thread; all are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/status.h>

#include "checkpoint/checkpoint_storage.h"
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
  void Stop();

  /// Takes a savepoint into `directory` and waits until it is complete; returns its path.
  Result<std::string> TriggerSavepoint(const std::filesystem::path& directory);

  int64_t completed_checkpoints() const;
  int64_t failed_checkpoints() const;
  std::optional<int64_t> latest_completed() const;
  /// The id the next checkpoint would get. Ids are never reused, even for checkpoints that
  /// failed: a later attempt continues after the highest id ever triggered.
  int64_t next_checkpoint_id() const;

  // ---- CheckpointAcknowledger ----
  std::optional<SnapshotLocation> LocationFor(int64_t id) override;
  void Acknowledge(int32_t task, int64_t id,
                   std::vector<OperatorSubtaskSnapshot> snapshots) override;
  void Decline(int32_t task, int64_t id, Status reason) override;
  std::optional<detail::CheckpointBarrier> TaskFinished(int32_t task) override;
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

  void Loop();
  bool AllTasksFinished() const { return finished_tasks_.size() == tasks_.size(); }
  /// Starts checkpoint (or savepoint) next_id_; the caller holds mutex_.
  Status Trigger(std::unique_lock<std::mutex>& lock, SavepointRequest* savepoint,
                 bool final = false);
  /// Lets tasks waiting after their end of input close; the caller holds mutex_.
  void ReleaseFinishedTasks();
  void FinalCheckpointFailed(std::unique_lock<std::mutex>& lock, const Status& reason);
  /// Finishes the pending checkpoint once every task acknowledged; the caller holds mutex_.
  void Complete(std::unique_lock<std::mutex>& lock);
  void Abort(std::unique_lock<std::mutex>& lock, const Status& reason, bool may_fail_job = true);

  const Options options_;
  CheckpointStorage* storage_;
  std::shared_ptr<CheckpointParticipant> participant_;
  std::vector<Task*> tasks_;
  FailJob fail_job_;

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool failed_job_ = false;
  int64_t next_id_;
  std::optional<Pending> pending_;
  SavepointRequest* pending_savepoint_ = nullptr;
  std::vector<SavepointRequest*> savepoint_queue_;
  std::set<int32_t> finished_tasks_;
  bool final_checkpoint_triggered_ = false;
  int64_t completed_ = 0;
  int64_t failed_ = 0;
  int32_t consecutive_failures_ = 0;
  std::optional<int64_t> latest_completed_;
  std::chrono::steady_clock::time_point last_trigger_;
  std::chrono::steady_clock::time_point last_completion_;
  std::thread thread_;
};

}  // namespace sluice::internal
