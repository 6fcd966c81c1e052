#include "checkpoint/checkpoint_coordinator.h"

#include <algorithm>

#include "core/log.h"

namespace sluice::internal {

CheckpointCoordinator::CheckpointCoordinator(Options options, CheckpointStorage* storage,
                                             std::shared_ptr<CheckpointParticipant> participant,
                                             std::vector<CheckpointableTask*> tasks,
                                             int64_t first_checkpoint_id, FailJob fail_job,
                                             Clock& clock)
    : options_(std::move(options)),
      storage_(storage),
      participant_(std::move(participant)),
      tasks_(std::move(tasks)),
      fail_job_(std::move(fail_job)),
      clock_(&clock),
      next_id_(first_checkpoint_id) {
  MutexLock lock(mutex_);  // no other thread yet; for the analysis
  last_trigger_ = last_completion_ = clock_->Now();
}

CheckpointCoordinator::~CheckpointCoordinator() { Stop(); }

void CheckpointCoordinator::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void CheckpointCoordinator::Stop() {
  {
    MutexLock lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
  MutexLock lock(mutex_);
  if (pending_) Abort(Status::Cancelled("the job is stopping"));
  for (SavepointRequest& request : savepoint_queue_) {
    request.outcome.set_value(
        Status::Cancelled("the job stopped before the savepoint could be taken"));
  }
  savepoint_queue_.clear();
}

int64_t CheckpointCoordinator::completed_checkpoints() const {
  MutexLock lock(mutex_);
  return completed_;
}

int64_t CheckpointCoordinator::failed_checkpoints() const {
  MutexLock lock(mutex_);
  return failed_;
}

std::optional<int64_t> CheckpointCoordinator::latest_completed() const {
  MutexLock lock(mutex_);
  return latest_completed_;
}

int64_t CheckpointCoordinator::next_checkpoint_id() const {
  MutexLock lock(mutex_);
  return next_id_;
}

void CheckpointCoordinator::ReleaseFinishedTasks() {
  for (CheckpointableTask* task : tasks_) task->ReleaseAfterFinalCheckpoint();
}

Result<std::string> CheckpointCoordinator::TriggerSavepoint(
    const std::filesystem::path& directory) {
  return RequestSavepoint(directory).get();
}

std::future<Result<std::string>> CheckpointCoordinator::RequestSavepoint(
    const std::filesystem::path& directory) {
  std::future<Result<std::string>> outcome;
  {
    MutexLock lock(mutex_);
    if (stopping_) {
      SavepointOutcome refused;
      refused.set_value(Status::FailedPrecondition("the job is not running"));
      return refused.get_future();
    }
    SavepointRequest& request = savepoint_queue_.emplace_back();
    request.directory = directory;
    outcome = request.outcome.get_future();
  }
  cv_.NotifyAll();
  return outcome;
}

void CheckpointCoordinator::Loop() {
  MutexLock lock(mutex_);
  while (!stopping_) {
    std::optional<Clock::TimePoint> wake = PollLocked();
    if (stopping_) break;
    clock_->WaitUntil(cv_, mutex_, wake);
  }
}

std::optional<Clock::TimePoint> CheckpointCoordinator::Poll() {
  MutexLock lock(mutex_);
  return PollLocked();
}

std::optional<Clock::TimePoint> CheckpointCoordinator::PollLocked() {
  // One decision per round; every round re-reads the state, which changes while Complete,
  // Abort and FailJobOnce release the lock.
  while (!stopping_) {
    const Clock::TimePoint now = clock_->Now();
    if (pending_) {
      if (pending_->declined) {
        Abort(*pending_->declined);
      } else if (pending_->acks.size() == tasks_.size()) {
        Complete();
      } else if (now >= pending_->deadline) {
        Abort(Status::TimedOut("checkpoint " + std::to_string(pending_->id) +
                               " was not complete within " +
                               std::to_string(options_.timeout.count()) +
                               " ms (CheckpointConfig::SetCheckpointTimeout)"));
      } else {
        return pending_->deadline;
      }
      continue;
    }
    if (!savepoint_queue_.empty()) {
      SavepointRequest request = std::move(savepoint_queue_.front());
      savepoint_queue_.pop_front();
      Status status = Trigger(&request.directory);
      if (status.ok()) {
        pending_savepoint_ = std::move(request.outcome);
      } else {
        request.outcome.set_value(status);
      }
      continue;
    }
    if (options_.interval.count() <= 0 || final_checkpoint_triggered_) return std::nullopt;
    if (AllTasksFinished()) {
      // Right away, not at the next interval: the job is done apart from this.
      final_checkpoint_triggered_ = true;
      Status status = Trigger(nullptr, /*final=*/true);
      if (!status.ok()) {
        ++failed_;
        FinalCheckpointFailed(status);
      }
      continue;
    }
    const Clock::TimePoint due =
        std::max(last_trigger_ + options_.interval, last_completion_ + options_.min_pause);
    if (now < due) return due;
    Status status = Trigger(nullptr);
    if (!status.ok()) {
      SLUICE_LOG_WARN("could not start checkpoint {}: {}", next_id_, status.ToString());
      ++failed_;
      last_trigger_ = now;
      if (++consecutive_failures_ > options_.tolerable_failures) {
        FailJobOnce(status.WithContext("checkpointing failed"));
      }
    }
  }
  return std::nullopt;
}

Status CheckpointCoordinator::Trigger(const std::filesystem::path* savepoint_directory,
                                      bool final) {
  Pending pending;
  pending.id = next_id_++;
  pending.savepoint = savepoint_directory != nullptr;
  pending.final = final;
  pending.trigger_time_ms = clock_->WallTimeMillis();
  pending.deadline = clock_->Now() + options_.timeout;
  Result<SnapshotLocation> location =
      savepoint_directory != nullptr ? storage_->BeginSavepoint(*savepoint_directory, pending.id)
                                     : storage_->BeginCheckpoint(pending.id);
  if (!location.ok()) return location.status();
  pending.location = std::move(*location);
  pending.barrier = {pending.id, pending.trigger_time_ms, pending.savepoint};
  pending_ = std::move(pending);
  last_trigger_ = clock_->Now();
  for (CheckpointableTask* task : tasks_) {
    // Running sources inject the barrier; finished tasks snapshot directly. A task that
    // finishes later without having seen the barrier learns of it from TaskFinished.
    if (task->is_source() || finished_tasks_.count(task->index()) != 0)
      task->TriggerCheckpoint(pending_->barrier);
  }
  return Status::Ok();
}

void CheckpointCoordinator::Complete() {
  // pending_ stays in place until the checkpoint is decided, so that LocationFor and
  // TaskFinished keep answering for it; what is needed without the lock is copied out.
  const int64_t id = pending_->id;
  const bool final = pending_->final;
  const bool is_savepoint = pending_->savepoint;
  const SnapshotLocation location = *pending_->location;
  CheckpointMetadata metadata;
  metadata.checkpoint_id = id;
  metadata.job_name = options_.job_name;
  metadata.instance = options_.instance;
  metadata.trigger_time_ms = pending_->trigger_time_ms;
  metadata.is_savepoint = is_savepoint;
  metadata.properties = options_.properties;
  std::map<std::string, OperatorStateMeta> operators;
  for (const auto& [task, snapshots] : pending_->acks) {
    for (const OperatorSubtaskSnapshot& s : snapshots) {
      OperatorStateMeta& op = operators[s.uid];
      op.uid = s.uid;
      op.name = s.name;
      op.parallelism = s.parallelism;
      op.max_parallelism = s.max_parallelism;
      op.subtasks.push_back(s.meta);
    }
  }
  for (auto& [uid, op] : operators) {
    std::sort(
        op.subtasks.begin(), op.subtasks.end(),
        [](const SubtaskStateMeta& a, const SubtaskStateMeta& b) { return a.subtask < b.subtask; });
    metadata.operators.push_back(std::move(op));
  }
  metadata.completion_time_ms = clock_->WallTimeMillis();
  std::optional<SavepointOutcome> savepoint = std::move(pending_savepoint_);
  pending_savepoint_.reset();

  // Writing and committing happen without the lock: tasks keep acknowledging nothing else
  // meanwhile (one checkpoint at a time), but LocationFor and TaskFinished must not block.
  Status status;
  {
    MutexUnlock unlocked(mutex_);
    status = storage_->Complete(location, metadata);
    if (status.ok() && participant_ != nullptr) {
      CheckpointCompletion completion{CheckpointId(id), metadata.trigger_time_ms,
                                      location.directory().string()};
      status = participant_->CompleteCheckpoint(completion);
      if (status.ok()) status = storage_->MarkCommitted(location);
    }
  }
  pending_.reset();
  if (!status.ok()) {
    ++failed_;
    if (savepoint) savepoint->set_value(status);
    if (participant_ != nullptr) participant_->AbortCheckpoint(CheckpointId(id));
    if (final) {
      FinalCheckpointFailed(
          status.WithContext("completing the final checkpoint " + std::to_string(id)));
      return;
    }
    // The barrier reached every sink: with a participant, carrying on would split an epoch
    // across two transactions (DESIGN.md section 5), so the job fails over.
    if (!failed_job_ &&
        (participant_ != nullptr || ++consecutive_failures_ > options_.tolerable_failures)) {
      FailJobOnce(status.WithContext("completing checkpoint " + std::to_string(id)));
    }
    return;
  }
  ++completed_;
  consecutive_failures_ = 0;
  latest_completed_ = id;
  last_completion_ = clock_->Now();
  if (savepoint) savepoint->set_value(location.directory().string());
  for (CheckpointableTask* task : tasks_) task->NotifyCheckpointComplete(id);
  if (final) ReleaseFinishedTasks();
  if (!is_savepoint) {
    MutexUnlock unlocked(mutex_);
    Status pruned = storage_->Prune(options_.retained);
    if (!pruned.ok()) SLUICE_LOG_WARN("pruning old checkpoints: {}", pruned.ToString());
  }
  SLUICE_LOG_DEBUG("checkpoint {} complete", id);
}

// `reason` by value on purpose: a caller passes *pending_->declined, which the move below empties.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void CheckpointCoordinator::Abort(Status reason) {
  Pending pending = std::move(*pending_);
  pending_.reset();
  std::optional<SavepointOutcome> savepoint = std::move(pending_savepoint_);
  pending_savepoint_.reset();
  ++failed_;
  if (savepoint)
    savepoint->set_value(reason.WithContext("savepoint " + std::to_string(pending.id)));
  SLUICE_LOG_WARN("checkpoint {} aborted: {}", pending.id, reason.ToString());
  for (CheckpointableTask* task : tasks_) task->NotifyCheckpointAborted(pending.id);
  if (participant_ != nullptr) participant_->AbortCheckpoint(CheckpointId(pending.id));
  if (pending.final && !stopping_) {
    FinalCheckpointFailed(reason.WithContext("the final checkpoint " + std::to_string(pending.id)));
    return;
  }
  if (stopping_ || failed_job_) return;
  // With an exactly-once participant the barrier may already have switched a sink to the
  // next epoch: fail over instead of carrying on (DESIGN.md section 5).
  if (participant_ != nullptr || ++consecutive_failures_ > options_.tolerable_failures) {
    FailJobOnce(reason.WithContext(
        participant_ != nullptr
            ? "checkpoint " + std::to_string(pending.id) + " failed in an exactly-once job"
            : "too many consecutive failed checkpoints (CheckpointConfig::"
              "SetTolerableCheckpointFailureNumber)"));
  }
}

std::optional<SnapshotLocation> CheckpointCoordinator::LocationFor(int64_t id) {
  MutexLock lock(mutex_);
  if (!pending_ || pending_->id != id) return std::nullopt;
  return pending_->location;
}

void CheckpointCoordinator::Acknowledge(int32_t task, int64_t id,
                                        std::vector<OperatorSubtaskSnapshot> snapshots) {
  {
    MutexLock lock(mutex_);
    if (!pending_ || pending_->id != id) return;  // late ack of an aborted checkpoint
    pending_->acks[task] = std::move(snapshots);
  }
  cv_.NotifyAll();
}

void CheckpointCoordinator::Decline(int32_t task, int64_t id, Status reason) {
  {
    MutexLock lock(mutex_);
    if (!pending_ || pending_->id != id || pending_->declined) return;
    pending_->declined = reason.WithContext("task " + std::to_string(task) +
                                            " declined checkpoint " + std::to_string(id));
  }
  cv_.NotifyAll();
}

std::optional<detail::CheckpointBarrier> CheckpointCoordinator::TaskFinished(int32_t task) {
  std::optional<detail::CheckpointBarrier> missed;
  {
    MutexLock lock(mutex_);
    finished_tasks_.insert(task);
    if (pending_ && pending_->acks.count(task) == 0 && !pending_->declined)
      missed = pending_->barrier;
  }
  cv_.NotifyAll();
  return missed;
}

void CheckpointCoordinator::FinalCheckpointFailed(const Status& reason) {
  // With an exactly-once participant the last epoch is not committed: fail over, and the
  // restarted job reads that epoch's input again from the last committed checkpoint.
  // Otherwise everything was already flushed at the end of input: the tasks may close.
  if (participant_ != nullptr) {
    FailJobOnce(reason);
    return;
  }
  SLUICE_LOG_WARN("{}; the job finishes without it", reason.ToString());
  ReleaseFinishedTasks();
}

void CheckpointCoordinator::FailJobOnce(const Status& cause) {
  if (failed_job_) return;
  failed_job_ = true;
  // Unlocked: the handler is the job master's code; it takes its own locks and may call back.
  MutexUnlock unlocked(mutex_);
  fail_job_(cause);
}

}  // namespace sluice::internal
