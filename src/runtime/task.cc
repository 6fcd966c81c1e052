#include "runtime/task.h"

#include <algorithm>
#include <cctype>

#include "core/assert.h"
#include "core/log.h"
#include "state/changelog_record.h"
#include "state/subtask_state_file.h"

namespace sluice::internal {

// For the methods only the task thread may call (debug builds).
#define SLUICE_ASSERT_TASK_THREAD(method)   \
  SLUICE_ASSERT(mailbox_.IsMailboxThread(), \
                method " off the task thread (other threads go through the task's mailbox)")

using detail::CheckpointBarrier;
using detail::TaskInput;

class TaskOperatorContext final : public detail::OperatorContext {
 public:
  TaskOperatorContext(Task* task, OperatorSlot* slot) : task_(task), slot_(slot) {}
  RuntimeContext& GetRuntimeContext() override { return *slot_->runtime_context; }
  detail::ProcessingTimeService& GetProcessingTimeService() override { return *task_; }
  detail::KeyedStateBackend* GetKeyedStateBackend() override { return slot_->keyed_state.get(); }
  detail::OperatorStateStore& GetOperatorStateStore() override { return *slot_->operator_state; }
  const TaskInfo& GetTaskInfo() const override { return slot_->runtime_context->GetTaskInfo(); }
  int64_t GetAutoWatermarkInterval() const override {
    return task_->config_.auto_watermark_interval_ms;
  }
  void SignalAvailable() override { task_->notifier_.Notify(); }

 private:
  Task* task_;
  OperatorSlot* slot_;
};

namespace {

std::string FileSafe(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.')
               ? c
               : '_';
  }
  return out;
}

}  // namespace

Task::Task(Config config, const ParameterTool* job_parameters, MetricGroup* job_metrics,
           CheckpointAcknowledger* checkpoints, TaskListener* listener)
    : config_(std::move(config)),
      job_parameters_(job_parameters),
      job_metrics_(job_metrics),
      checkpoints_(checkpoints),
      listener_(listener) {}

Task::~Task() {
  Cancel();
  Join();
}

Result<OperatorSlot*> Task::AddOperator(std::string uid, std::string name, int32_t node_id,
                                        std::unique_ptr<detail::StreamOperator> op,
                                        int32_t parallelism,
                                        std::optional<std::pair<int32_t, int32_t>> key_groups) {
  std::unique_ptr<detail::KeyedStateBackend> keyed_state;
  if (key_groups) {
    detail::KeyedStateBackendParameters parameters;
    parameters.operator_name = name;
    parameters.operator_uid = uid;
    parameters.key_group_start = key_groups->first;
    parameters.key_group_end = key_groups->second;
    parameters.max_parallelism = config_.info.max_parallelism;
    parameters.track_changes = config_.changelog != nullptr;
    Result<std::unique_ptr<detail::KeyedStateBackend>> backend =
        detail::CreateKeyedStateBackend(config_.state_backend, parameters);
    if (!backend.ok()) {
      return backend.status().WithContext("keyed state backend of operator '" + name + "'");
    }
    keyed_state = std::move(*backend);
  }
  OperatorSlot& slot = slots_.emplace_back();
  slot.uid = std::move(uid);
  slot.name = std::move(name);
  slot.node_id = node_id;
  slot.op = std::move(op);
  slot.key_groups = key_groups;
  slot.operator_state = std::make_unique<detail::OperatorStateStore>(slot.name);
  slot.keyed_state = std::move(keyed_state);
  TaskInfo info = config_.info;
  info.operator_name = slot.name;
  info.operator_uid = slot.uid;
  info.parallelism = parallelism;
  MetricGroup& metrics =
      job_metrics_->AddGroup(slot.uid).AddGroup(std::to_string(info.subtask_index));
  slot.runtime_context =
      std::make_unique<RuntimeContext>(std::move(info), &metrics, job_parameters_,
                                       slot.keyed_state.get(), slot.operator_state.get());
  slot.context = std::make_unique<TaskOperatorContext>(this, &slot);
  return &slot;
}

void Task::AddWriter(std::unique_ptr<detail::RecordWriterBase> writer) {
  writers_.push_back(std::move(writer));
}

void Task::SetInput(TaskInput* input, std::unique_ptr<TaskInput> owned) {
  input_ = input;
  owned_input_ = std::move(owned);
}

void Task::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Task::Cancel() {
  if (cancelled_.exchange(true)) return;
  if (input_ != nullptr) input_->Cancel();
  notifier_.Notify();
}

void Task::Join() {
  if (thread_.joinable()) thread_.join();
}

void Task::TriggerCheckpoint(const CheckpointBarrier& barrier) {
  mailbox_.Put([this, barrier] {
    // A finished task (any task, not only a source) has its final state: no barrier needed.
    if (input_finished_) {
      Snapshot(barrier, /*forward_barrier=*/false);
    } else {
      input_->TriggerCheckpoint(barrier, *this);
    }
  });
}

void Task::ReleaseAfterFinalCheckpoint() {
  mailbox_.Put([this] { released_ = true; });
}

void Task::NotifyCheckpointComplete(int64_t id) {
  mailbox_.Put([this, id] {
    for (OperatorSlot& slot : slots_) slot.op->NotifyCheckpointComplete(CheckpointId(id));
  });
}

void Task::NotifyCheckpointAborted(int64_t id) {
  mailbox_.Put([this, id] {
    for (OperatorSlot& slot : slots_) slot.op->NotifyCheckpointAborted(CheckpointId(id));
  });
}

template <typename F>
void Task::Locked(F&& action) {
  if (std::recursive_mutex* lock = input_->checkpoint_lock()) {
    std::lock_guard guard(*lock);
    action();
  } else {
    action();
  }
}

void Task::Run() {
  mailbox_.BindToCurrentThread();
  try {
    SetupAndRestore();
    RunLoop();
    if (cancelled_) {
      input_->Shutdown();
      CloseOperators();
      listener_->OnTaskCanceled(config_.index);
      return;
    }
    CloseOperators();
    listener_->OnTaskFinished(config_.index);
  } catch (const detail::TaskCancelled&) {
    input_->Cancel();
    input_->Shutdown();
    CloseOperators();
    listener_->OnTaskCanceled(config_.index);
  } catch (const StatusException& e) {
    input_->Cancel();
    input_->Shutdown();
    CloseOperators();
    if (cancelled_) {
      listener_->OnTaskCanceled(config_.index);
    } else {
      listener_->OnTaskFailed(config_.index,
                              e.status().WithContext("task " + config_.name + " failed"));
    }
  } catch (const SerializationError& e) {
    // Checkpointed state that does not decode decodes no better after a restart: Corruption,
    // which the job master does not restart.
    input_->Cancel();
    input_->Shutdown();
    CloseOperators();
    if (cancelled_) {
      listener_->OnTaskCanceled(config_.index);
    } else {
      listener_->OnTaskFailed(config_.index,
                              Status::Corruption("task " + config_.name + " failed: " + e.what()));
    }
  } catch (const std::exception& e) {
    input_->Cancel();
    input_->Shutdown();
    CloseOperators();
    if (cancelled_) {
      listener_->OnTaskCanceled(config_.index);
    } else {
      listener_->OnTaskFailed(config_.index,
                              Status::Aborted("task " + config_.name + " failed: " + e.what()));
    }
  } catch (...) {
    input_->Cancel();
    input_->Shutdown();
    CloseOperators();
    listener_->OnTaskFailed(
        config_.index,
        Status::Aborted("task " + config_.name + " failed with a non-standard exception"));
  }
}

void Task::SetupAndRestore() {
  for (OperatorSlot& slot : slots_) {
    slot.op->Setup(*slot.context);
    if (!slot.restore) continue;
    const OperatorRestore& restore = *slot.restore;
    slot.operator_state->Restore(restore.operator_sections, config_.info.subtask_index,
                                 slot.runtime_context->GetNumberOfParallelSubtasks());
    if (slot.keyed_state == nullptr) continue;
    for (const OperatorRestore::KeyGroup& kg : restore.key_groups) {
      detail::RestoreKeyGroup(*slot.op, slot.keyed_state.get(), slot.name, kg.key_group, kg.keyed,
                              kg.extras);
    }
  }
  for (OperatorSlot& slot : slots_) {
    // Restored from files the changelog does not hold: every key is news to it.
    if (slot.changelog_in_full && slot.keyed_state != nullptr) slot.keyed_state->MarkAllChanged();
    if (slot.key_groups) {
      const int64_t key_groups = int64_t{slot.key_groups->second} - slot.key_groups->first + 1;
      slot.changelog_extras.assign(static_cast<size_t>(key_groups), std::nullopt);
    }
  }
  // Downstream operators open first, so the chain is ready before the head emits.
  for (auto it = slots_.rbegin(); it != slots_.rend(); ++it) it->op->Open();
  // The restored bytes were views into checkpoint files the job master may now release.
  for (OperatorSlot& slot : slots_) slot.restore.reset();
  last_flush_ = std::chrono::steady_clock::now();
  input_->Start();
}

void Task::RunLoop() {
  while (!cancelled_) {
    if (mailbox_.HasMail()) Locked([this] { mailbox_.RunAll(); });
    RunDueTimers();
    if (cancelled_) break;
    TaskInput::Status status = input_->ProcessSome();
    if (status == TaskInput::Status::kEndOfInput) {
      Locked([this] { FinishInput(); });
      WaitForFinalCheckpoint();
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (status == TaskInput::Status::kNothingAvailable ||
        now - last_flush_ >= config_.buffer_timeout) {
      Locked([this] { FlushWriters(); });
    }
    if (status == TaskInput::Status::kNothingAvailable && !mailbox_.HasMail()) {
      // Wait for input, mail or the next timer. The bounded wait also covers sources that
      // cannot signal availability.
      auto deadline = now + std::chrono::milliseconds(100);
      std::optional<std::chrono::steady_clock::time_point> next;
      // A legacy source's thread fills the output batches under its lock.
      Locked([&] { next = NextDeadline(); });
      if (next) deadline = std::min(deadline, *next);
      notifier_.WaitUntil(deadline);
    }
  }
}

void Task::FinishInput() {
  SLUICE_ASSERT_TASK_THREAD("Task::FinishInput");
  input_->EmitFinalWatermark();
  for (OperatorSlot& slot : slots_) slot.op->EndInput();
  for (auto& writer : writers_) writer->BroadcastEndOfInput();
  last_flush_ = std::chrono::steady_clock::now();
  input_finished_ = true;
  if (checkpoints_ == nullptr) return;
  if (std::optional<CheckpointBarrier> pending = checkpoints_->TaskFinished(config_.index)) {
    Snapshot(*pending, /*forward_barrier=*/false);
  }
}

void Task::WaitForFinalCheckpoint() {
  // Flink's final checkpoint (FLIP-147): a finished task stays until a checkpoint taken after
  // every task finished has completed, so the output of the last epoch is committed instead
  // of aborted. Without periodic checkpoints there is nothing to wait for.
  if (checkpoints_ == nullptr || !checkpoints_->TakesFinalCheckpoint()) return;
  while (!cancelled_ && !released_) {
    if (mailbox_.HasMail()) {
      Locked([this] { mailbox_.RunAll(); });
      continue;
    }
    notifier_.WaitUntil(std::chrono::steady_clock::now() + std::chrono::milliseconds(100));
  }
}

void Task::CloseOperators() noexcept {
  for (OperatorSlot& slot : slots_) {
    try {
      slot.op->Close();
    } catch (const std::exception& e) {
      SLUICE_LOG_WARN("closing operator '{}' of task {} threw: {}", slot.name, config_.name,
                      e.what());
    } catch (...) {
      SLUICE_LOG_WARN("closing operator '{}' of task {} threw", slot.name, config_.name);
    }
  }
}

void Task::FlushWriters() {
  SLUICE_ASSERT_TASK_THREAD("Task::FlushWriters");
  for (auto& writer : writers_) writer->Flush();
  last_flush_ = std::chrono::steady_clock::now();
}

std::optional<std::chrono::steady_clock::time_point> Task::NextDeadline() const {
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (!timers_.empty()) {
    int64_t wait_ms = std::max<int64_t>(0, timers_.top().time - CurrentProcessingTime());
    deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  }
  bool buffered = std::any_of(writers_.begin(), writers_.end(),
                              [](const auto& w) { return w->HasBufferedElements(); });
  if (buffered) {
    auto flush_at = last_flush_ + config_.buffer_timeout;
    deadline = deadline ? std::min(*deadline, flush_at) : flush_at;
  }
  return deadline;
}

void Task::RunDueTimers() {
  SLUICE_ASSERT_TASK_THREAD("Task::RunDueTimers");
  if (timers_.empty()) return;
  int64_t now = CurrentProcessingTime();
  if (timers_.top().time > now) return;
  Locked([&] {
    while (!timers_.empty() && timers_.top().time <= now) {
      Timer timer = timers_.top();
      timers_.pop();
      timer.callback(timer.time);
    }
  });
}

int64_t Task::CurrentProcessingTime() const { return CurrentTimeMillis(); }

void Task::RegisterTimer(int64_t time, std::function<void(int64_t)> callback) {
  timers_.push(Timer{time, timer_sequence_++, std::move(callback)});
  // Registration happens on the task thread (or a legacy source's thread under the lock);
  // waking the task makes a waiting loop see the earlier deadline.
  notifier_.Notify();
}

void Task::PerformCheckpoint(const CheckpointBarrier& barrier) {
  SLUICE_ASSERT_TASK_THREAD("Task::PerformCheckpoint");
  Snapshot(barrier, /*forward_barrier=*/true);
}

void Task::Snapshot(const CheckpointBarrier& barrier, bool forward_barrier) {
  SLUICE_ASSERT_TASK_THREAD("Task::Snapshot");
  const int64_t id = barrier.checkpoint_id;
  // A task that finishes while a trigger for the same checkpoint waits in its mailbox is
  // asked twice; one snapshot per checkpoint.
  if (id <= last_snapshot_id_) return;
  last_snapshot_id_ = id;
  // Operators bring their state up to date (sinks flush here), then the barrier goes
  // downstream, then the state is written. Everything after the barrier belongs to id + 1.
  for (OperatorSlot& slot : slots_) slot.op->SnapshotState(CheckpointId(id));
  if (forward_barrier) {
    for (auto& writer : writers_) writer->BroadcastBarrier(barrier);
  }
  last_flush_ = std::chrono::steady_clock::now();

  std::optional<SnapshotLocation> location =
      checkpoints_ != nullptr ? checkpoints_->LocationFor(id) : std::optional<SnapshotLocation>();
  if (!location) return;  // aborted meanwhile; nothing to write
  std::vector<OperatorSubtaskSnapshot> snapshots;
  for (OperatorSlot& slot : slots_) {
    Result<SubtaskStateMeta> meta = WriteStateFile(slot, *location, id);
    if (!meta.ok()) {
      checkpoints_->Decline(config_.index, id, meta.status());
      return;
    }
    OperatorSubtaskSnapshot snapshot;
    snapshot.uid = slot.uid;
    snapshot.name = slot.name;
    snapshot.parallelism = slot.runtime_context->GetNumberOfParallelSubtasks();
    snapshot.max_parallelism = slot.runtime_context->GetMaxNumberOfParallelSubtasks();
    snapshot.meta = std::move(*meta);
    snapshots.push_back(std::move(snapshot));
  }
  checkpoints_->Acknowledge(config_.index, id, std::move(snapshots));
}

Status Task::AppendChanges(OperatorSlot& slot, StateChangelogWriter& writer, int32_t key_group,
                           std::string_view extras) {
  if (slot.keyed_state != nullptr) {
    Status status;
    slot.keyed_state->VisitChanges(key_group, [&](const detail::KeyedStateChange& change) {
      if (!status.ok()) return;
      changelog_key_.Clear();
      changelog_value_.Clear();
      const bool has_value = EncodeKeyedChange(change, changelog_key_, changelog_value_);
      status = writer.Append(
          key_group, changelog_key_.data(),
          has_value ? std::optional<std::string_view>(changelog_value_.data()) : std::nullopt);
    });
    SLUICE_RETURN_IF_ERROR(status);
  }
  // Extras (a keyed process operator's timers) are written whole per key group, and only when
  // they differ from what this attempt last wrote: comparing a hash costs one pass over bytes
  // the state file needed anyway.
  std::optional<uint64_t>& last =
      slot.changelog_extras[static_cast<size_t>(key_group - slot.key_groups->first)];
  const uint64_t hash = std::hash<std::string_view>{}(extras);
  if (last && *last == hash) return Status::Ok();
  changelog_key_.Clear();
  EncodeKeyGroupExtrasKey(key_group, changelog_key_);
  std::optional<std::string_view> value;
  if (!extras.empty()) {
    changelog_value_.Clear();
    EncodeKeyGroupExtrasValue(extras, changelog_value_);
    value = changelog_value_.data();
  }
  SLUICE_RETURN_IF_ERROR(writer.Append(key_group, changelog_key_.data(), value));
  last = hash;
  return Status::Ok();
}

Result<SubtaskStateMeta> Task::WriteStateFile(OperatorSlot& slot, const SnapshotLocation& location,
                                              int64_t id) {
  const int32_t subtask = config_.info.subtask_index;
  std::unique_ptr<StateChangelogWriter> changelog;
  if (config_.changelog != nullptr) {
    SLUICE_ASSIGN_OR_RETURN(changelog, config_.changelog->OpenWriter(id, slot.uid, subtask));
  }
  std::string file = std::to_string(slot.node_id) + "-" + FileSafe(slot.uid) + "-" +
                     std::to_string(config_.info.subtask_index) + ".state";
  Result<SubtaskStateFileWriter> writer =
      location.CreateSubtaskStateFile(config_.info.subtask_index, file);
  if (!writer.ok()) return writer.status();
  // Streams the file one key group at a time: the keyed state of a subtask is never one string.
  struct FileStream final : StateOutputStream {
    explicit FileStream(SubtaskStateFileWriter& file) : file_(file) {}
    Status Write(std::string_view bytes) override { return file_.Append(bytes); }
    SubtaskStateFileWriter& file_;
  } stream(*writer);
  DataOutput operator_section;
  slot.operator_state->Snapshot(operator_section);
  Status appended;
  Result<std::vector<uint64_t>> offsets = WriteSubtaskState(
      stream, slot.uid, operator_section.data(), slot.key_groups,
      [&](int32_t kg, DataOutput& keyed, DataOutput& extras) {
        detail::SnapshotKeyGroup(*slot.op, slot.keyed_state.get(), kg, keyed, extras);
        if (changelog != nullptr && appended.ok())
          appended = AppendChanges(slot, *changelog, kg, extras.data());
      });
  if (!offsets.ok()) return offsets.status();
  if (changelog != nullptr) {
    SLUICE_RETURN_IF_ERROR(appended);
    const uint64_t hash = std::hash<std::string_view>{}(operator_section.data());
    if (!slot.changelog_operator_state || *slot.changelog_operator_state != hash) {
      changelog_key_.Clear();
      changelog_value_.Clear();
      EncodeOperatorStateKey(subtask, changelog_key_);
      EncodeOperatorStateValue(slot.runtime_context->GetNumberOfParallelSubtasks(),
                               operator_section.data(), changelog_value_);
      // Partition 0: a non-keyed operator's only one, beside key group 0 for a keyed one.
      SLUICE_RETURN_IF_ERROR(changelog->Append(0, changelog_key_.data(), changelog_value_.data()));
      slot.changelog_operator_state = hash;
    }
    if (slot.keyed_state != nullptr) slot.keyed_state->ClearChanges();
    SLUICE_RETURN_IF_ERROR(changelog->Close());
  }
  Result<SubtaskStateMeta> meta = writer->Commit();
  if (!meta.ok()) return meta.status();
  if (slot.key_groups) {
    meta->key_groups = KeyGroupRangeMeta{slot.key_groups->first, slot.key_groups->second};
    meta->key_group_offsets = std::move(*offsets);
  }
  return meta;
}

void Task::AbortCheckpointOnBarrier(int64_t id) {
  SLUICE_ASSERT_TASK_THREAD("Task::AbortCheckpointOnBarrier");
  for (OperatorSlot& slot : slots_) slot.op->NotifyCheckpointAborted(CheckpointId(id));
  if (checkpoints_ != nullptr)
    checkpoints_->Decline(config_.index, id,
                          Status::Aborted("alignment overtaken by a newer barrier"));
}

}  // namespace sluice::internal
