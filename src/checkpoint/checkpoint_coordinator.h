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
// It knows tasks only as CheckpointableTask (what it asks of them) and is their
// CheckpointAcknowledger (what they answer); time comes from an injected Clock.
//
// Threads: after Start(), a coordinator thread runs Poll() whenever it is notified or the next
// deadline passes (the wait goes through the Clock); it triggers and completes checkpoints, and
// makes the participant calls (Stop() makes the last abort, after joining it).
// Acknowledge/Decline/LocationFor/TaskFinished come from task threads and
// TriggerSavepoint/RequestSavepoint from any thread; all are thread-safe. Tests may instead leave
// the thread unstarted and call Poll() themselves, from one thread at a time.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/detail/stream_element.h>
#include <sluice/status.h>

#include "checkpoint/checkpoint_acknowledger.h"
#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/checkpointable_task.h"
#include "checkpoint/operator_subtask_snapshot.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "core/thread_annotations.h"

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
    /// Copied into every checkpoint's `_metadata` properties (for display, e.g. the state
    /// changelog topics: kChangelogTopicProperty).
    std::map<std::string, std::string> properties;
  };
  /// Called (once) when the job must fail over, from the thread running Poll() and without
  /// the coordinator's mutex held.
  using FailJob = std::function<void(Status cause)>;

  /// `storage`, every task and `clock` must outlive the coordinator. The first periodic
  /// checkpoint is due one interval after construction.
  CheckpointCoordinator(Options options, CheckpointStorage* storage,
                        std::shared_ptr<CheckpointParticipant> participant,
                        std::vector<CheckpointableTask*> tasks, int64_t first_checkpoint_id,
                        FailJob fail_job, Clock& clock = Clock::System());
  ~CheckpointCoordinator() override;

  /// Starts the coordinator thread.
  void Start() SLUICE_EXCLUDES(mutex_);
  /// Stops triggering, joins the thread (if started), aborts a pending checkpoint and fails
  /// savepoint requests not yet taken with Cancelled. Idempotent.
  void Stop() SLUICE_EXCLUDES(mutex_);

  /// Does whatever is due at clock.Now(): decides the pending checkpoint (every task
  /// acknowledged, one declined, or its timeout passed), starts a requested savepoint, the
  /// final checkpoint or the next periodic one. Returns when it next has something to do if
  /// nothing notifies it (nullopt: only when notified). The coordinator thread runs this in a
  /// loop; without Start(), tests call it to step the coordinator deterministically.
  std::optional<Clock::TimePoint> Poll() SLUICE_EXCLUDES(mutex_);

  /// Takes a savepoint into `directory` and waits until it is complete; returns its path.
  /// Needs the coordinator thread running (or another thread calling Poll()).
  Result<std::string> TriggerSavepoint(const std::filesystem::path& directory)
      SLUICE_EXCLUDES(mutex_);
  /// Queues a savepoint into `directory`, taken once no checkpoint is pending; the future
  /// holds its path or why it failed (FailedPrecondition once stopped, Cancelled by Stop()).
  std::future<Result<std::string>> RequestSavepoint(const std::filesystem::path& directory)
      SLUICE_EXCLUDES(mutex_);

  int64_t completed_checkpoints() const SLUICE_EXCLUDES(mutex_);
  int64_t failed_checkpoints() const SLUICE_EXCLUDES(mutex_);
  std::optional<int64_t> latest_completed() const SLUICE_EXCLUDES(mutex_);
  /// The id the next checkpoint would get. Ids are never reused, even for checkpoints that
  /// failed: a later attempt continues after the highest id ever triggered.
  int64_t next_checkpoint_id() const SLUICE_EXCLUDES(mutex_);

  // ---- CheckpointAcknowledger ----
  std::optional<SnapshotLocation> LocationFor(int64_t id) override SLUICE_EXCLUDES(mutex_);
  void Acknowledge(int32_t task, int64_t id,
                   std::vector<OperatorSubtaskSnapshot> snapshots) override SLUICE_EXCLUDES(mutex_);
  void Decline(int32_t task, int64_t id, Status reason) override SLUICE_EXCLUDES(mutex_);
  std::optional<detail::CheckpointBarrier> TaskFinished(int32_t task) override
      SLUICE_EXCLUDES(mutex_);
  bool TakesFinalCheckpoint() const override { return options_.interval.count() > 0; }

 private:
  using SavepointOutcome = std::promise<Result<std::string>>;
  struct Pending {
    int64_t id = 0;
    bool savepoint = false;
    std::optional<SnapshotLocation> location;
    int64_t trigger_time_ms = 0;  // wall clock
    Clock::TimePoint deadline;
    std::map<int32_t, std::vector<OperatorSubtaskSnapshot>> acks;
    std::optional<Status> declined;
    /// Triggered after every task had finished: its completion releases the tasks.
    bool final = false;
    detail::CheckpointBarrier barrier{};
  };
  struct SavepointRequest {
    std::filesystem::path directory;
    SavepointOutcome outcome;
  };

  void Loop() SLUICE_EXCLUDES(mutex_);
  // The rest of the private methods need mutex_ held by the caller. Complete, Abort,
  // FinalCheckpointFailed and FailJobOnce release it for a while (around storage and
  // participant calls and around fail_job_), so callers re-read guarded state after them.
  bool AllTasksFinished() const SLUICE_REQUIRES(mutex_) {
    return finished_tasks_.size() == tasks_.size();
  }
  std::optional<Clock::TimePoint> PollLocked() SLUICE_REQUIRES(mutex_);
  /// Starts checkpoint (or, with a directory, savepoint) next_id_.
  Status Trigger(const std::filesystem::path* savepoint_directory, bool final = false)
      SLUICE_REQUIRES(mutex_);
  /// Lets tasks waiting after their end of input close.
  void ReleaseFinishedTasks();
  void FinalCheckpointFailed(const Status& reason) SLUICE_REQUIRES(mutex_);
  /// Finishes the pending checkpoint once every task acknowledged.
  void Complete() SLUICE_REQUIRES(mutex_);
  /// Gives up the pending checkpoint. `reason` by value: callers pass pending_->declined,
  /// which this destroys.
  void Abort(Status reason) SLUICE_REQUIRES(mutex_);
  /// Calls fail_job_ unless the job already failed.
  void FailJobOnce(const Status& cause) SLUICE_REQUIRES(mutex_);

  // Immutable after construction.
  const Options options_;
  CheckpointStorage* const storage_;
  const std::shared_ptr<CheckpointParticipant> participant_;
  const std::vector<CheckpointableTask*> tasks_;
  const FailJob fail_job_;
  Clock* const clock_;

  // cv_ is notified whenever the state below changes in a way the coordinator thread waits
  // for.
  mutable Mutex mutex_;
  CondVar cv_;
  bool stopping_ SLUICE_GUARDED_BY(mutex_) = false;
  bool failed_job_ SLUICE_GUARDED_BY(mutex_) = false;
  int64_t next_id_ SLUICE_GUARDED_BY(mutex_);
  std::optional<Pending> pending_ SLUICE_GUARDED_BY(mutex_);
  // pending_ is this savepoint.
  std::optional<SavepointOutcome> pending_savepoint_ SLUICE_GUARDED_BY(mutex_);
  std::deque<SavepointRequest> savepoint_queue_ SLUICE_GUARDED_BY(mutex_);
  std::set<int32_t> finished_tasks_ SLUICE_GUARDED_BY(mutex_);
  bool final_checkpoint_triggered_ SLUICE_GUARDED_BY(mutex_) = false;
  int64_t completed_ SLUICE_GUARDED_BY(mutex_) = 0;
  int64_t failed_ SLUICE_GUARDED_BY(mutex_) = 0;
  int32_t consecutive_failures_ SLUICE_GUARDED_BY(mutex_) = 0;
  std::optional<int64_t> latest_completed_ SLUICE_GUARDED_BY(mutex_);
  Clock::TimePoint last_trigger_ SLUICE_GUARDED_BY(mutex_);
  Clock::TimePoint last_completion_ SLUICE_GUARDED_BY(mutex_);

  // Start() and Stop() only, from the thread that owns the coordinator.
  std::thread thread_;
};

}  // namespace sluice::internal
