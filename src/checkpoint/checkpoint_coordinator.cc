#include "checkpoint/checkpoint_coordinator.h"

#include <algorithm>

#include <sluice/api/time.h>

#include "core/log.h"

namespace sluice::internal {

CheckpointCoordinator::CheckpointCoordinator(Options options, CheckpointStorage* storage,
                                             std::shared_ptr<CheckpointParticipant> participant,
                                             std::vector<Task*> tasks, int64_t first_checkpoint_id,
                                             FailJob fail_job)
    : options_(std::move(options)),
      storage_(storage),
      participant_(std::move(participant)),
      tasks_(std::move(tasks)),
      fail_job_(std::move(fail_job)),
      next_id_(first_checkpoint_id) {
  last_trigger_ = last_completion_ = std::chrono::steady_clock::now();
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
  for (SavepointRequest* request : savepoint_queue_) {
    request->outcome = Status::Cancelled("the job stopped before the savepoint could be taken");
  }
  savepoint_queue_.clear();
  cv_.NotifyAll();
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
  for (Task* task : tasks_) task->ReleaseAfterFinalCheckpoint();
}

Result<std::string> CheckpointCoordinator::TriggerSavepoint(
    const std::filesystem::path& directory) {
  SavepointRequest request{directory, std::nullopt};
  MutexLock lock(mutex_);
  if (stopping_) return Status::FailedPrecondition("the job is not running");
  savepoint_queue_.push_back(&request);
  cv_.NotifyAll();
  while (!request.outcome.has_value()) cv_.Wait(mutex_);
  return *request.outcome;
}

void CheckpointCoordinator::Loop() {
  MutexLock lock(mutex_);
  while (!stopping_) {
    auto now = std::chrono::steady_clock::now();
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
        cv_.WaitUntil(mutex_, pending_->deadline);
      }
      continue;
    }
    if (!savepoint_queue_.empty()) {
      SavepointRequest* request = savepoint_queue_.front();
      savepoint_queue_.erase(savepoint_queue_.begin());
      Status status = Trigger(request);
      if (!status.ok()) {
        request->outcome = status;
        cv_.NotifyAll();
      }
      continue;
    }
    if (options_.interval.count() <= 0 || final_checkpoint_triggered_) {
      cv_.Wait(mutex_);
      continue;
    }
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
    auto due = std::max(last_trigger_ + options_.interval, last_completion_ + options_.min_pause);
    if (now < due) {
      cv_.WaitUntil(mutex_, due);
      continue;
    }
    Status status = Trigger(nullptr);
    if (!status.ok()) {
      SLUICE_LOG_WARN("could not start checkpoint {}: {}", next_id_, status.ToString());
      ++failed_;
      last_trigger_ = now;
      if (++consecutive_failures_ > options_.tolerable_failures && !failed_job_) {
        failed_job_ = true;
        MutexUnlock unlocked(mutex_);
        fail_job_(status.WithContext("checkpointing failed"));
      }
    }
  }
}

Status CheckpointCoordinator::Trigger(SavepointRequest* savepoint, bool final) {
  Pending pending;
  pending.id = next_id_++;
  pending.savepoint = savepoint != nullptr;
  pending.final = final;
  pending.trigger_time_ms = CurrentTimeMillis();
  pending.deadline = std::chrono::steady_clock::now() + options_.timeout;
  Result<SnapshotLocation> location =
      savepoint != nullptr ? storage_->BeginSavepoint(savepoint->directory, pending.id)
                           : storage_->BeginCheckpoint(pending.id);
  if (!location.ok()) return location.status();
  pending.location = std::move(*location);
  pending_ = std::move(pending);
  pending_savepoint_ = savepoint;
  last_trigger_ = std::chrono::steady_clock::now();
  detail::CheckpointBarrier barrier{pending_->id, pending_->trigger_time_ms, pending_->savepoint};
  pending_->barrier = barrier;
  for (Task* task : tasks_) {
    // Running sources inject the barrier; finished tasks snapshot directly. A task that
    // finishes later without having seen the barrier learns of it from TaskFinished.
    if (task->is_source() || finished_tasks_.count(task->config().index) != 0)
      task->TriggerCheckpoint(barrier);
  }
  return Status::Ok();
}

void CheckpointCoordinator::Complete() {
  Pending pending = std::move(*pending_);
  // The pending checkpoint stays visible to LocationFor until it is decided.
  CheckpointMetadata metadata;
  metadata.checkpoint_id = pending.id;
  metadata.job_name = options_.job_name;
  metadata.instance = options_.instance;
  metadata.trigger_time_ms = pending.trigger_time_ms;
  metadata.is_savepoint = pending.savepoint;
  std::map<std::string, OperatorStateMeta> operators;
  for (auto& [task, snapshots] : pending.acks) {
    for (OperatorSubtaskSnapshot& s : snapshots) {
      OperatorStateMeta& op = operators[s.uid];
      op.uid = s.uid;
      op.name = s.name;
      op.parallelism = s.parallelism;
      op.max_parallelism = s.max_parallelism;
      op.subtasks.push_back(std::move(s.meta));
    }
  }
  for (auto& [uid, op] : operators) {
    std::sort(
        op.subtasks.begin(), op.subtasks.end(),
        [](const SubtaskStateMeta& a, const SubtaskStateMeta& b) { return a.subtask < b.subtask; });
    metadata.operators.push_back(std::move(op));
  }
  metadata.completion_time_ms = CurrentTimeMillis();
  SavepointRequest* savepoint = pending_savepoint_;

  // Writing and committing happen without the lock: tasks keep acknowledging nothing else
  // meanwhile (one checkpoint at a time), but LocationFor and TaskFinished must not block.
  Status status;
  {
    MutexUnlock unlocked(mutex_);
    status = storage_->Complete(*pending.location, metadata);
    if (status.ok() && participant_ != nullptr) {
      CheckpointCompletion completion{CheckpointId(pending.id), pending.trigger_time_ms,
                                      pending.location->directory().string()};
      status = participant_->CompleteCheckpoint(completion);
      if (status.ok()) status = storage_->MarkCommitted(*pending.location);
    }
  }
  pending_.reset();
  pending_savepoint_ = nullptr;
  if (!status.ok()) {
    ++failed_;
    if (savepoint != nullptr) savepoint->outcome = status;
    cv_.NotifyAll();
    if (participant_ != nullptr) participant_->AbortCheckpoint(CheckpointId(pending.id));
    if (pending.final) {
      FinalCheckpointFailed(
          status.WithContext("completing the final checkpoint " + std::to_string(pending.id)));
      return;
    }
    // The barrier reached every sink: with a participant, carrying on would split an epoch
    // across two transactions (DESIGN.md section 5), so the job fails over.
    if (!failed_job_ &&
        (participant_ != nullptr || ++consecutive_failures_ > options_.tolerable_failures)) {
      failed_job_ = true;
      MutexUnlock unlocked(mutex_);
      fail_job_(status.WithContext("completing checkpoint " + std::to_string(pending.id)));
    }
    return;
  }
  ++completed_;
  consecutive_failures_ = 0;
  latest_completed_ = pending.id;
  last_completion_ = std::chrono::steady_clock::now();
  if (savepoint != nullptr) savepoint->outcome = pending.location->directory().string();
  cv_.NotifyAll();
  for (Task* task : tasks_) task->NotifyCheckpointComplete(pending.id);
  if (pending.final) ReleaseFinishedTasks();
  if (!pending.savepoint) {
    MutexUnlock unlocked(mutex_);
    Status pruned = storage_->Prune(options_.retained);
    if (!pruned.ok()) SLUICE_LOG_WARN("pruning old checkpoints: {}", pruned.ToString());
  }
  SLUICE_LOG_DEBUG("checkpoint {} complete", pending.id);
}

void CheckpointCoordinator::Abort(const Status& reason, bool may_fail_job) {
  Pending pending = std::move(*pending_);
  pending_.reset();
  SavepointRequest* savepoint = pending_savepoint_;
  pending_savepoint_ = nullptr;
  ++failed_;
  if (savepoint != nullptr)
    savepoint->outcome = reason.WithContext("savepoint " + std::to_string(pending.id));
  cv_.NotifyAll();
  SLUICE_LOG_WARN("checkpoint {} aborted: {}", pending.id, reason.ToString());
  for (Task* task : tasks_) task->NotifyCheckpointAborted(pending.id);
  if (participant_ != nullptr) participant_->AbortCheckpoint(CheckpointId(pending.id));
  if (pending.final && !stopping_) {
    FinalCheckpointFailed(reason.WithContext("the final checkpoint " + std::to_string(pending.id)));
    return;
  }
  if (stopping_ || failed_job_ || !may_fail_job) return;
  // With an exactly-once participant the barrier may already have switched a sink to the
  // next epoch: fail over instead of carrying on (DESIGN.md section 5).
  if (participant_ != nullptr || ++consecutive_failures_ > options_.tolerable_failures) {
    failed_job_ = true;
    MutexUnlock unlocked(mutex_);
    fail_job_(reason.WithContext(participant_ != nullptr
                                     ? "checkpoint " + std::to_string(pending.id) +
                                           " failed in an exactly-once job"
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
    if (!failed_job_) {
      failed_job_ = true;
      MutexUnlock unlocked(mutex_);
      fail_job_(reason);
    }
    return;
  }
  SLUICE_LOG_WARN("{}; the job finishes without it", reason.ToString());
  ReleaseFinishedTasks();
}

}  // namespace sluice::internal
