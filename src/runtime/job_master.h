// JobMaster: runs one job (DESIGN.md section 4). Picks what to restore (a savepoint, the last
// committed or completed checkpoint, or nothing), builds one Task per parallel instance of
// every vertex with its channels, starts the checkpoint coordinator, and waits. When a task
// fails it cancels and joins every task, asks the restart strategy, and starts a new attempt
// from the latest completed checkpoint, redistributing keyed state by key group.
//
// Threads: Run() blocks the calling thread (Execute) or a thread of ExecuteAsync; only that
// thread builds, starts and stops attempts. Cancel, TriggerSavepoint, StopWithSavepoint and
// status() are thread-safe. Task threads report through TaskListener. mutex_ guards what
// those threads share with Run() (SLUICE_GUARDED_BY below); the rest is Run()'s alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sluice/api/job.h>
#include <sluice/api/metrics.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/api/restart_strategy.h>
#include <sluice/api/stream_execution_environment.h>
#include <sluice/checkpoint/checkpoint_config.h>
#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/checkpoint/state_changelog.h>

#include "checkpoint/checkpoint_coordinator.h"
#include "checkpoint/checkpoint_storage.h"
#include "core/mutex.h"
#include "graph/job_graph.h"
#include "runtime/task.h"

namespace sluice::internal {

struct JobSpec {
  std::string job_name;
  int32_t instance = 0;
  JobGraph graph;
  CheckpointConfig checkpoint_config;
  RestartStrategy restart_strategy = RestartStrategy::NoRestart();
  RestoreSettings restore;
  int64_t auto_watermark_interval_ms = 200;
  /// The registered name of the keyed state backend (detail::CreateKeyedStateBackend).
  std::string state_backend{detail::kDefaultStateBackend};
  /// Keep state in the checkpoint participant's changelog too; nullopt: when the job has a
  /// participant that offers one (StreamExecutionEnvironment::EnableChangelogStateBackend).
  std::optional<bool> state_changelog;
  /// The job owns what its graph points into, so a JobClient may outlive the environment.
  std::shared_ptr<const std::vector<std::unique_ptr<Transformation>>> transformations;
  ParameterTool parameters;
  bool handle_signals = false;
};

class JobMaster final : public TaskListener {
 public:
  explicit JobMaster(JobSpec spec);
  ~JobMaster() override;

  JobExecutionResult Run() SLUICE_EXCLUDES(mutex_);

  void Cancel() SLUICE_EXCLUDES(mutex_);
  Result<std::string> TriggerSavepoint(const std::string& directory) SLUICE_EXCLUDES(mutex_);
  Result<std::string> StopWithSavepoint(const std::string& directory) SLUICE_EXCLUDES(mutex_);
  JobStatus status() const SLUICE_EXCLUDES(mutex_);
  /// Every metric of the job now (MetricGroup::Snapshot is thread-safe).
  std::map<std::string, int64_t> MetricsSnapshot() const { return metrics_.Snapshot(); }

  // ---- TaskListener ----
  void OnTaskFinished(int32_t task) SLUICE_EXCLUDES(mutex_) override;
  void OnTaskFailed(int32_t task, Status cause) SLUICE_EXCLUDES(mutex_) override;
  void OnTaskCanceled(int32_t task) SLUICE_EXCLUDES(mutex_) override;

 private:
  /// The checkpoint an attempt starts from.
  /// One operator's state as the changelog committed it (the same bytes a state file holds).
  struct ChangelogState {
    /// Operator-state sections of every subtask that wrote it, in subtask order.
    std::vector<std::string> operator_sections;
    /// key group -> {keyed section, extras}; key groups without state are absent.
    std::map<int32_t, std::pair<std::string, std::string>> key_groups;
  };
  struct RestorePlan {
    std::filesystem::path directory;
    CheckpointMetadata metadata;
    std::map<std::string, std::string> files;  // file name -> bytes, loaded once per attempt
    /// Set when the state comes from the state changelog instead of `files` (by uid).
    std::optional<std::map<std::string, ChangelogState>> changelog;
    /// The participant's last committed checkpoint (not a savepoint or an uncommitted one):
    /// the changelog continues from it.
    bool committed = false;
  };
  /// kStopFailed: SIGTERM's savepoint could not be taken; the job ends without one.
  enum class AttemptEnd { kFinished, kFailed, kCanceled, kStoppedWithSavepoint, kStopFailed };

  Status Prepare();
  /// `--state.changelog=kafka` without an EXACTLY_ONCE sink: the participant a Kafka sink or
  /// source of the job makes for the state alone (StateParticipantProvider).
  Result<std::shared_ptr<CheckpointParticipant>> StateParticipant(
      const SinkValidationContext& job) const;
  Result<std::optional<RestorePlan>> ChooseRestore(int32_t attempt);
  /// The snapshot path the user asked to restore, with the flag that says so.
  std::optional<std::pair<std::string, std::string_view>> ExplicitRestore() const;
  /// A snapshot directory (or its _metadata) with every state file read and checked.
  static Result<RestorePlan> LoadSnapshot(const std::filesystem::path& path);
  /// The error naming checkpoint `id`, what is wrong with it and the ways out
  /// (unusable_checkpoint.h); `committed`: it is the participant's committed one.
  Status CannotRestore(int64_t id, const std::filesystem::path& directory, const Status& problem,
                       bool committed);
  /// The checkpoint `committed` rebuilt from the state changelog alone.
  Result<RestorePlan> LoadFromChangelog(const CheckpointCompletion& committed,
                                        const std::vector<ChangelogOperator>& covered);
  /// Creates or validates the changelog topics for this attempt and decides which operators
  /// write their whole state at the next checkpoint (changelog_in_full_).
  Status PrepareChangelog(const RestorePlan* plan);
  Status CheckRestoreMatchesJob(const RestorePlan& plan) const;
  Status BuildTasks(int32_t attempt, RestorePlan* plan);
  Result<std::optional<OperatorRestore>> RestoreFor(
      RestorePlan& plan, const std::string& uid, int32_t subtask,
      std::optional<std::pair<int32_t, int32_t>> key_groups);
  AttemptEnd RunAttempt(int32_t attempt, Status& cause) SLUICE_EXCLUDES(mutex_);
  void StopAttempt() SLUICE_EXCLUDES(mutex_);
  void FailAttempt(Status cause) SLUICE_EXCLUDES(mutex_);
  /// Turns a signal the handler recorded into a cancel (SIGINT) or stop (SIGTERM) request.
  void TakeSignal() SLUICE_REQUIRES(mutex_);
  /// Takes the stop's savepoint and waits for it, bounded by the savepoint timeout; gives up
  /// early when the attempt fails or is cancelled meanwhile (the savepoint cannot complete).
  Result<std::string> AwaitStopSavepoint(CheckpointCoordinator& coordinator,
                                         const std::filesystem::path& directory)
      SLUICE_REQUIRES(mutex_);
  /// What Execute() reports when SIGTERM's stop could not take its savepoint for `reason`.
  Status StopFailed(const Status& reason) const;
  void SetStatus(JobStatus status) SLUICE_EXCLUDES(mutex_);
  std::filesystem::path SavepointDirectory(const std::string& requested) const;

  JobSpec spec_;
  /// TaskInfo::run_id of every task of this run.
  const uint64_t run_id_;
  MetricGroup metrics_;
  std::unique_ptr<CheckpointStorage> storage_;
  std::shared_ptr<CheckpointParticipant> participant_;
  /// The participant's changelog when the job keeps state there (JobSpec::state_changelog).
  StateChangelog* changelog_ = nullptr;

  // Per attempt, Run()'s thread only.
  std::vector<std::unique_ptr<Task>> tasks_;
  std::vector<std::shared_ptr<detail::ChannelBase>> channels_;
  std::optional<int64_t> restored_checkpoint_;
  /// Operator uids whose changelog does not hold their state yet (see PrepareChangelog).
  std::set<std::string> changelog_in_full_;
  int64_t completed_checkpoints_ = 0;
  int64_t failed_checkpoints_ = 0;
  int64_t highest_checkpoint_id_ = 0;

  mutable Mutex mutex_;
  CondVar cv_;
  /// The attempt's coordinator. Shared: TriggerSavepoint keeps it alive while it waits for the
  /// savepoint, outside mutex_, even if the attempt ends meanwhile.
  std::shared_ptr<CheckpointCoordinator> coordinator_ SLUICE_GUARDED_BY(mutex_);
  JobStatus status_ SLUICE_GUARDED_BY(mutex_) = JobStatus::kCreated;
  int32_t running_tasks_ SLUICE_GUARDED_BY(mutex_) = 0;
  std::optional<Status> failure_ SLUICE_GUARDED_BY(mutex_);
  bool cancel_requested_ SLUICE_GUARDED_BY(mutex_) = false;
  bool stop_requested_ SLUICE_GUARDED_BY(mutex_) = false;
  /// The pending stop came from SIGTERM: if its savepoint fails, the job ends anyway.
  bool stop_by_signal_ SLUICE_GUARDED_BY(mutex_) = false;
  std::string stop_savepoint_directory_ SLUICE_GUARDED_BY(mutex_);
  std::optional<Result<std::string>> stop_outcome_ SLUICE_GUARDED_BY(mutex_);
};

}  // namespace sluice::internal
