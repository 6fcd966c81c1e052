// The typed side of a task's input, driven by the (untyped) task loop in src/runtime/task.cc:
// a network input (channels from upstream subtasks) or a source.
//
// Threads: everything on the task thread, except Cancel() (any thread).
#pragma once

#include <cstdint>
#include <mutex>

#include <sluice/detail/notifier.h>
#include <sluice/detail/stream_element.h>

namespace sluice::detail {

/// What a typed input calls back into its task.
class TaskHooks {
 public:
  virtual ~TaskHooks() = default;
  /// Every input has delivered `barrier` (or a source was asked for it): snapshot the chain
  /// and forward the barrier.
  virtual void PerformCheckpoint(const CheckpointBarrier& barrier) = 0;
  /// Alignment of checkpoint `id` was given up (a newer barrier overtook it).
  virtual void AbortCheckpointOnBarrier(int64_t id) = 0;
  virtual Notifier& notifier() = 0;
};

class TaskInput {
 public:
  enum class Status { kMoreAvailable, kNothingAvailable, kEndOfInput };
  virtual ~TaskInput() = default;
  /// Called once after the operators are open.
  virtual void Start() {}
  /// Processes a bounded amount of input.
  virtual Status ProcessSome() = 0;
  virtual bool IsSource() const = 0;
  /// Sources only: take checkpoint `barrier` now (called between two records).
  virtual void TriggerCheckpoint(const CheckpointBarrier& barrier, TaskHooks& hooks) {
    hooks.PerformCheckpoint(barrier);
  }
  /// Sources only: emit the final watermark (bounded sources reaching their end).
  virtual void EmitFinalWatermark() {}
  /// Stops a source from producing (any thread).
  virtual void Cancel() {}
  /// Joins threads of its own; called on the task thread before the operators close.
  virtual void Shutdown() {}
  /// A legacy SourceFunction emits from its own thread while holding this lock; the task
  /// holds it for everything else it does to the chain.
  virtual std::recursive_mutex* checkpoint_lock() { return nullptr; }
};

}  // namespace sluice::detail
