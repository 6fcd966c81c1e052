// Task: one thread running the chain of operators of one parallel instance of a JobVertex.
//
// Threads: the task thread runs Run(): it opens the chain, drives its input (channels or a
// source), runs mailbox actions and timers, takes checkpoints and closes the chain. Other
// threads talk to it only through Mailbox::Put (TriggerCheckpoint, NotifyCheckpoint*) and
// Cancel(); both are thread-safe. A legacy SourceFunction emits from its own thread while
// holding the checkpoint lock, which the task thread takes for everything else. Run() binds
// the mailbox to the task thread; in debug builds the task-thread-only methods (the
// TaskHooks, snapshots, timers, flushes and the mailbox's own) abort when called elsewhere.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include <sluice/api/metrics.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/api/runtime_context.h>
#include <sluice/checkpoint/state_changelog.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/record_writer.h>
#include <sluice/detail/task_input.h>

#include "checkpoint/checkpoint_acknowledger.h"
#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/checkpointable_task.h"
#include "runtime/mailbox.h"

namespace sluice::internal {

/// What tasks report to the job master (thread-safe).
class TaskListener {
 public:
  virtual ~TaskListener() = default;
  virtual void OnTaskFinished(int32_t task) = 0;
  virtual void OnTaskFailed(int32_t task, Status cause) = 0;
  virtual void OnTaskCanceled(int32_t task) = 0;
};

/// State restored into one operator instance before it opens.
struct OperatorRestore {
  /// Operator-state sections of every old instance, in old subtask order.
  std::vector<std::string_view> operator_sections;
  struct KeyGroup {
    int32_t key_group;
    std::string_view keyed;
    std::string_view extras;
  };
  std::vector<KeyGroup> key_groups;
  /// Bytes the views above point into when they are not the checkpoint files' own (extras
  /// upgraded from an older file format). A deque: its strings never move.
  std::deque<std::string> upgraded;
};

/// One operator of the chain, with everything the runtime made for it.
struct OperatorSlot {
  std::string uid;
  std::string name;
  int32_t node_id = 0;
  std::unique_ptr<detail::StreamOperator> op;
  std::unique_ptr<detail::OperatorStateStore> operator_state;
  std::unique_ptr<detail::KeyedStateBackend> keyed_state;  // null unless keyed
  std::optional<std::pair<int32_t, int32_t>> key_groups;
  std::unique_ptr<RuntimeContext> runtime_context;
  std::unique_ptr<detail::OperatorContext> context;
  std::optional<OperatorRestore> restore;
  /// The changelog does not hold this operator's state yet: the first checkpoint writes all of
  /// it (set by the job master before Start()).
  bool changelog_in_full = false;
  /// What this subtask last wrote to the changelog beyond keyed state (hashes; nullopt: not
  /// yet in this attempt, so the first checkpoint writes them whatever they are).
  std::optional<uint64_t> changelog_operator_state;
  std::vector<std::optional<uint64_t>> changelog_extras;  // per key group of the range
};

class Task final : public detail::TaskHooks,
                   public CheckpointableTask,
                   private detail::ProcessingTimeService {
 public:
  struct Config {
    int32_t index = 0;  // among all tasks of the job
    std::string name;   // "Source -> Map (1/2)"
    TaskInfo info;      // of the head operator
    int64_t auto_watermark_interval_ms = 200;
    std::chrono::milliseconds buffer_timeout{10};
    /// The registered name of the keyed state backend of keyed operators.
    std::string state_backend{detail::kDefaultStateBackend};
    /// Where state changes go at every checkpoint besides the state file (the checkpoint
    /// participant's changelog); null: nowhere. Keyed backends then track changes.
    StateChangelog* changelog = nullptr;
  };

  Task(Config config, const ParameterTool* job_parameters, MetricGroup* job_metrics,
       CheckpointAcknowledger* checkpoints, TaskListener* listener);
  ~Task() override;

  // ---- building, before Start() ----
  /// Appends the next operator of the chain (head first) and creates its state: operator
  /// state, and for a keyed operator (key_groups set) the keyed state backend named in the
  /// config. Errors: those of CreateKeyedStateBackend (an unknown name, a backend that cannot
  /// start).
  Result<OperatorSlot*> AddOperator(std::string uid, std::string name, int32_t node_id,
                                    std::unique_ptr<detail::StreamOperator> op, int32_t parallelism,
                                    std::optional<std::pair<int32_t, int32_t>> key_groups);
  void AddWriter(std::unique_ptr<detail::RecordWriterBase> writer);
  /// The task's input; for a source, the head operator itself.
  void SetInput(detail::TaskInput* input, std::unique_ptr<detail::TaskInput> owned = nullptr);
  std::vector<std::shared_ptr<void>>& keep_alive() { return keep_alive_; }
  /// Null when the job has no checkpoint storage (checkpointing off).
  void SetCheckpointAcknowledger(CheckpointAcknowledger* checkpoints) {
    checkpoints_ = checkpoints;
  }
  const std::deque<OperatorSlot>& slots() const { return slots_; }
  const Config& config() const { return config_; }

  // ---- running ----
  void Start();
  /// Asks the task to stop as soon as possible (any thread). Channels are cancelled by the
  /// job master, which unblocks a task stuck on backpressure.
  void Cancel();
  void Join();

  // ---- CheckpointableTask (any thread; the requests run on the task thread as mails) ----
  int32_t index() const override { return config_.index; }
  bool is_source() const override { return input_ != nullptr && input_->IsSource(); }
  void TriggerCheckpoint(const detail::CheckpointBarrier& barrier) override;
  void NotifyCheckpointComplete(int64_t id) override;
  void NotifyCheckpointAborted(int64_t id) override;
  void ReleaseAfterFinalCheckpoint() override;

  // ---- detail::TaskHooks (task thread only; checked in debug builds) ----
  void PerformCheckpoint(const detail::CheckpointBarrier& barrier) override;
  void AbortCheckpointOnBarrier(int64_t id) override;
  detail::Notifier& notifier() override { return notifier_; }

 private:
  friend class TaskOperatorContext;

  void Run();
  void RunLoop();
  void SetupAndRestore();
  void FinishInput();
  /// After the end of input: answers checkpoints with the final state until released.
  void WaitForFinalCheckpoint();
  /// Snapshots every operator for `barrier` and acknowledges; forwards the barrier unless the
  /// task already sent end-of-input downstream.
  void Snapshot(const detail::CheckpointBarrier& barrier, bool forward_barrier);
  /// Writes the state file of one operator instance into `location`.
  /// Appends what changed in `slot` since the last checkpoint to the changelog, into
  /// checkpoint `id`'s transaction; `extras` is the key group's extras as just snapshotted.
  Status AppendChanges(OperatorSlot& slot, StateChangelogWriter& writer, int32_t key_group,
                       std::string_view extras);
  // Scratch for changelog records, reused across checkpoints (task thread only).
  DataOutput changelog_key_;
  DataOutput changelog_value_;
  /// Writes the slot's state file for checkpoint `id` and, with a changelog, appends what
  /// changed since the last checkpoint into `id`'s transaction.
  Result<SubtaskStateMeta> WriteStateFile(OperatorSlot& slot, const SnapshotLocation& location,
                                          int64_t id);
  void CloseOperators() noexcept;
  void RunDueTimers();
  void FlushWriters();
  std::optional<std::chrono::steady_clock::time_point> NextDeadline() const;
  /// Runs `action` holding the legacy source's checkpoint lock, if there is one.
  template <typename F>
  void Locked(F&& action);

  // ---- ProcessingTimeService ----
  int64_t CurrentProcessingTime() const override;
  void RegisterTimer(int64_t time, std::function<void(int64_t)> callback) override;

  Config config_;
  const ParameterTool* job_parameters_;
  MetricGroup* job_metrics_;
  CheckpointAcknowledger* checkpoints_;
  TaskListener* listener_;

  // A deque: each slot's context and runtime context point at the slot, and emplace_back on a
  // deque never moves existing elements, so a chain may have any number of operators.
  std::deque<OperatorSlot> slots_;
  std::vector<std::unique_ptr<detail::RecordWriterBase>> writers_;
  std::vector<std::shared_ptr<void>> keep_alive_;
  detail::TaskInput* input_ = nullptr;
  std::unique_ptr<detail::TaskInput> owned_input_;

  detail::Notifier notifier_;
  Mailbox mailbox_{&notifier_};
  std::atomic<bool> cancelled_{false};
  bool input_finished_ = false;    // task thread
  bool released_ = false;          // task thread (set by a mail)
  int64_t last_snapshot_id_ = -1;  // task thread
  std::thread thread_;

  struct Timer {
    int64_t time;
    uint64_t sequence;
    std::function<void(int64_t)> callback;
    bool operator>(const Timer& other) const {
      return time != other.time ? time > other.time : sequence > other.sequence;
    }
  };
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  uint64_t timer_sequence_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace sluice::internal
