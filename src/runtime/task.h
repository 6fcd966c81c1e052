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
#include <sluice/detail/operator.h>
#include <sluice/detail/record_writer.h>
#include <sluice/detail/task_input.h>

#include "checkpoint/checkpoint_storage.h"
#include "runtime/mailbox.h"

namespace sluice::internal {

/// One operator instance's contribution to a checkpoint.
struct OperatorSubtaskSnapshot {
  std::string uid;
  std::string name;
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  SubtaskStateMeta meta;
};

/// What tasks report to the checkpoint coordinator (thread-safe).
class CheckpointAcknowledger {
 public:
  virtual ~CheckpointAcknowledger() = default;
  /// Where checkpoint `id` is written; nullopt when it was aborted meanwhile.
  virtual std::optional<SnapshotLocation> LocationFor(int64_t id) = 0;
  virtual void Acknowledge(int32_t task, int64_t id,
                           std::vector<OperatorSubtaskSnapshot> snapshots) = 0;
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
};

/// One operator of the chain, with everything the runtime made for it.
struct OperatorSlot {
  std::string uid;
  std::string name;
  int32_t node_id = 0;
  std::unique_ptr<detail::StreamOperator> op;
  std::unique_ptr<detail::OperatorStateStore> operator_state;
  std::unique_ptr<detail::KeyedStateStore> keyed_state;  // null unless keyed
  std::optional<std::pair<int32_t, int32_t>> key_groups;
  std::unique_ptr<RuntimeContext> runtime_context;
  std::unique_ptr<detail::OperatorContext> context;
  std::optional<OperatorRestore> restore;
};

class Task final : public detail::TaskHooks, private detail::ProcessingTimeService {
 public:
  struct Config {
    int32_t index = 0;  // among all tasks of the job
    std::string name;   // "Source -> Map (1/2)"
    TaskInfo info;      // of the head operator
    int64_t auto_watermark_interval_ms = 200;
    std::chrono::milliseconds buffer_timeout{10};
  };

  Task(Config config, const ParameterTool* job_parameters, MetricGroup* job_metrics,
       CheckpointAcknowledger* checkpoints, TaskListener* listener);
  ~Task() override;

  // ---- building, before Start() ----
  /// Appends the next operator of the chain (head first) and creates its stores.
  OperatorSlot& AddOperator(std::string uid, std::string name, int32_t node_id,
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
  const std::vector<OperatorSlot>& slots() const { return slots_; }
  bool is_source() const { return input_ != nullptr && input_->IsSource(); }
  const Config& config() const { return config_; }

  // ---- running ----
  void Start();
  /// Asks the task to stop as soon as possible (any thread). Channels are cancelled by the
  /// job master, which unblocks a task stuck on backpressure.
  void Cancel();
  void Join();

  /// Sources: inject checkpoint barrier `barrier` between two records (any thread).
  void TriggerCheckpoint(const detail::CheckpointBarrier& barrier);
  void NotifyCheckpointComplete(int64_t id);
  void NotifyCheckpointAborted(int64_t id);
  /// The job's final checkpoint completed (or was given up): a task waiting after the end of
  /// its input may close now (any thread).
  void ReleaseAfterFinalCheckpoint();

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

  std::vector<OperatorSlot> slots_;
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
