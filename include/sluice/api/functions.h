// User functions, as in Flink's DataStream API: plain callables (lambdas) for Map, FlatMap,
// Filter, KeyBy and Reduce, and Rich variants with Open/Close and a RuntimeContext.
//
// Thread safety: one function object serves one parallel instance of its operator (the
// runtime copies plain callables per instance and calls a Rich function's factory per
// instance); it is only ever called from that instance's task thread.
// Errors: anything a function throws fails the task; the job's restart strategy decides
// what happens next. Nothing thrown is swallowed. A function that knows a restart cannot help
// throws StatusException (<sluice/status.h>) with a code IsRestartable refuses, e.g.
// kInvalidArgument: the job then stops at once; any other exception counts as kAborted.
#pragma once

#include <cstdint>
#include <utility>

#include <sluice/api/output_tag.h>
#include <sluice/api/runtime_context.h>
#include <sluice/api/strong_id.h>
#include <sluice/detail/output.h>

namespace sluice {

/// Where a function sends its output records.
template <typename T>
class Collector {
 public:
  virtual ~Collector() = default;
  virtual void Collect(T value) = 0;
};

/// The base of every Rich function: lifecycle hooks and the runtime context.
class RichFunction {
 public:
  virtual ~RichFunction() = default;
  /// Called once per parallel instance before the first element (and after state restore).
  virtual void Open() {}
  /// Called once at the end, also after failures (best effort) and cancellation.
  virtual void Close() {}

  RuntimeContext& GetRuntimeContext() {
    if (context_ == nullptr)
      throw std::logic_error("GetRuntimeContext() called before the function was opened");
    return *context_;
  }
  /// Runtime use only.
  void SetRuntimeContext(RuntimeContext* context) { context_ = context; }

 private:
  RuntimeContext* context_ = nullptr;
};

/// A function that writes state into checkpoints (Flink's CheckpointedFunction). Get the
/// state objects in Open() from the RuntimeContext (they are already restored there), and
/// bring them up to date in SnapshotState().
class CheckpointedFunction {
 public:
  virtual ~CheckpointedFunction() = default;
  /// Called on the task thread when checkpoint `id` is taken, between two records.
  virtual void SnapshotState(CheckpointId id) = 0;
};

/// Told when checkpoints complete or are aborted. Implement it on a function, source reader
/// or sink writer. Completion notifications may be skipped (a newer one implies the older).
class CheckpointListener {
 public:
  virtual ~CheckpointListener() = default;
  virtual void NotifyCheckpointComplete(CheckpointId id) = 0;
  virtual void NotifyCheckpointAborted(CheckpointId /*id*/) {}
};

template <typename In, typename Out>
class RichMapFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual Out Map(In value) = 0;
};

template <typename In, typename Out>
class RichFlatMapFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual void FlatMap(In value, Collector<Out>& out) = 0;
};

template <typename T>
class RichFilterFunction : public RichFunction {
 public:
  virtual bool Filter(const T& value) = 0;
};

/// A service to read the clock and register timers from keyed functions.
class TimerService {
 public:
  virtual ~TimerService() = default;
  virtual int64_t CurrentProcessingTime() const = 0;
  virtual int64_t CurrentWatermark() const = 0;
  /// Registers a timer for the current key; registering the same time twice fires once.
  virtual void RegisterProcessingTimeTimer(int64_t time) = 0;
  virtual void DeleteProcessingTimeTimer(int64_t time) = 0;
  virtual void RegisterEventTimeTimer(int64_t time) = 0;
  virtual void DeleteEventTimeTimer(int64_t time) = 0;
};

enum class TimeDomain { kProcessingTime, kEventTime };

/// Processes each element of a stream (Flink's ProcessFunction, on DataStream::Process): like a
/// FlatMap that also sees the element's timestamp and the clocks, and may emit to side outputs.
/// Timers need a keyed stream (KeyedProcessFunction), as in Flink: registering one here throws
/// std::logic_error.
template <typename In, typename Out>
class ProcessFunction : public RichFunction {
 public:
  using output_type = Out;
  class Context {
   public:
    virtual ~Context() = default;
    /// The event timestamp of the element, or kNoTimestamp.
    virtual int64_t Timestamp() const = 0;
    /// The current processing time and watermark; registering or deleting timers throws
    /// std::logic_error ("timers are only supported on keyed streams").
    virtual sluice::TimerService& TimerService() = 0;
    /// Emits `value` to the side output `tag`, stamped with the element's timestamp.
    template <typename X>
    void Output(const OutputTag<X>& tag, X value) {
      GetSideOutputs().Collect(tag, std::move(value), Timestamp());
    }

   private:
    // Runtime side: the operator's side outputs.
    virtual const detail::SideOutputs& GetSideOutputs() const = 0;
  };

  virtual void ProcessElement(In value, Context& ctx, Collector<Out>& out) = 0;
};

/// Processes each element of a keyed stream with keyed state and timers (Flink's
/// KeyedProcessFunction).
template <typename K, typename In, typename Out>
class KeyedProcessFunction : public RichFunction {
 public:
  using output_type = Out;
  class Context {
   public:
    virtual ~Context() = default;
    /// The event timestamp of the element, or kNoTimestamp (in OnTimer: the timer's time).
    virtual int64_t Timestamp() const = 0;
    virtual const K& GetCurrentKey() const = 0;
    virtual sluice::TimerService& TimerService() = 0;
    /// Emits `value` to the side output `tag`, stamped with Timestamp() (as Flink).
    template <typename X>
    void Output(const OutputTag<X>& tag, X value) {
      GetSideOutputs().Collect(tag, std::move(value), Timestamp());
    }

   private:
    // Runtime side: the operator's side outputs.
    virtual const detail::SideOutputs& GetSideOutputs() const = 0;
  };
  class OnTimerContext : public Context {
   public:
    virtual TimeDomain GetTimeDomain() const = 0;
  };

  virtual void ProcessElement(In value, Context& ctx, Collector<Out>& out) = 0;
  virtual void OnTimer(int64_t /*timestamp*/, OnTimerContext& /*ctx*/, Collector<Out>& /*out*/) {}
};

}  // namespace sluice
