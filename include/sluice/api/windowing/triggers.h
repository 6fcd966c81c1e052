// Triggers: when a window's function runs (fires) and when its contents are dropped (purged),
// with Flink's names and exact behaviour: EventTimeTrigger, ProcessingTimeTrigger, CountTrigger,
// ContinuousEventTimeTrigger, PurgingTrigger, NeverTrigger (GlobalWindows' default).
//
//   stream.KeyBy(key).Window(TumblingEventTimeWindows::Of(10s))
//       .Trigger(PurgingTrigger::Of(CountTrigger::Of(100)))  // fire and purge every 100
//
// A trigger is any copyable class with the methods of Trigger<T, W> below (the built-in ones
// take any element and window type through member templates); derive from Trigger<T, W> to
// write your own. Each parallel instance of the window operator gets its own copy. A trigger
// keeps what it must remember in the TriggerContext's partitioned state (per key and window,
// checkpointed with the window), never in members.
//
// Thread safety: a trigger is called only on the task thread of its operator instance.
// Errors: anything a trigger throws fails the task (see functions.h).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <sluice/api/windowing/keyed_state_store.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>

namespace sluice {

/// What a trigger decides for a window (Flink's TriggerResult).
enum class TriggerResult { kContinue, kFire, kPurge, kFireAndPurge };

inline bool IsFire(TriggerResult result) {
  return result == TriggerResult::kFire || result == TriggerResult::kFireAndPurge;
}
inline bool IsPurge(TriggerResult result) {
  return result == TriggerResult::kPurge || result == TriggerResult::kFireAndPurge;
}

/// What a trigger may do: read the clocks, register timers for the current key and window
/// (a timer fires OnEventTime / OnProcessingTime of this window; registering one time twice
/// fires once), and keep state per key and window.
class TriggerContext {
 public:
  virtual ~TriggerContext() = default;
  virtual int64_t GetCurrentProcessingTime() const = 0;
  virtual int64_t GetCurrentWatermark() const = 0;
  virtual void RegisterProcessingTimeTimer(int64_t time) = 0;
  virtual void RegisterEventTimeTimer(int64_t time) = 0;
  virtual void DeleteProcessingTimeTimer(int64_t time) = 0;
  virtual void DeleteEventTimeTimer(int64_t time) = 0;

  /// State of the current key and window.
  template <typename T>
  ValueState<T>& GetPartitionedState(const ValueStateDescriptor<T>& descriptor) {
    return PartitionedState().GetState(descriptor);
  }
  template <typename T>
  ListState<T>& GetPartitionedState(const ListStateDescriptor<T>& descriptor) {
    return PartitionedState().GetListState(descriptor);
  }
  template <typename UK, typename UV>
  MapState<UK, UV>& GetPartitionedState(const MapStateDescriptor<UK, UV>& descriptor) {
    return PartitionedState().GetMapState(descriptor);
  }
  template <typename T>
  ReducingState<T>& GetPartitionedState(const ReducingStateDescriptor<T>& descriptor) {
    return PartitionedState().GetReducingState(descriptor);
  }

 protected:
  // Runtime side: state scoped to the current key and window.
  virtual KeyedStateStore& PartitionedState() = 0;
};

/// The context of Trigger::OnMerge (merging windows: sessions): the current window is the
/// result of the merge.
class OnMergeContext : public TriggerContext {
 public:
  /// Folds the state `descriptor` of every merged window into the merge result's and clears
  /// theirs (Flink's mergePartitionedState), for the state kinds that can merge.
  template <typename T>
  void MergePartitionedState(const ReducingStateDescriptor<T>& descriptor) {
    ReducingState<T>& state = PartitionedState().GetReducingState(descriptor);
    std::vector<T> values;
    ForEachMergedWindow([&] {
      if (std::optional<T> value = state.Get()) values.push_back(std::move(*value));
      state.Clear();
    });
    for (T& value : values) state.Add(std::move(value));
  }
  template <typename T>
  void MergePartitionedState(const ListStateDescriptor<T>& descriptor) {
    ListState<T>& state = PartitionedState().GetListState(descriptor);
    std::vector<T> values;
    ForEachMergedWindow([&] {
      std::vector<T> items = state.Get();
      values.insert(values.end(), std::make_move_iterator(items.begin()),
                    std::make_move_iterator(items.end()));
      state.Clear();
    });
    state.AddAll(std::move(values));
  }

 private:
  // Runtime side: runs `visit` with each merged window as the current one (state accesses refer
  // to it), then makes the merge result current again.
  virtual void ForEachMergedWindow(const std::function<void()>& visit) = 0;
};

/// The interface of a trigger, for writing your own (the built-in ones have the same methods
/// as templates). T: the element type; W: the window type.
template <typename T, typename W>
class Trigger {
 public:
  virtual ~Trigger() = default;
  /// Called for every element added to `window`.
  virtual TriggerResult OnElement(const T& element, int64_t timestamp, const W& window,
                                  TriggerContext& ctx) = 0;
  /// A processing-time timer of this window fired.
  virtual TriggerResult OnProcessingTime(int64_t time, const W& window, TriggerContext& ctx) = 0;
  /// An event-time timer of this window fired.
  virtual TriggerResult OnEventTime(int64_t time, const W& window, TriggerContext& ctx) = 0;
  /// Whether OnMerge is implemented; a merging assigner (sessions) needs it.
  virtual bool CanMerge() const { return false; }
  /// Windows were merged into `window`: merge their state, register timers for it.
  virtual void OnMerge(const W& /*window*/, OnMergeContext& /*ctx*/) {
    throw std::logic_error("this trigger does not support merging windows");
  }
  /// The window is dropped: delete its timers and state.
  virtual void Clear(const W& window, TriggerContext& ctx) = 0;
};

/// Fires once the watermark passes the window's end (the default of the event-time
/// assigners); an element arriving after that (within the allowed lateness) fires at once.
class EventTimeTrigger {
 public:
  static EventTimeTrigger Create() { return EventTimeTrigger(); }

  template <typename T, typename W>
  TriggerResult OnElement(const T&, int64_t, const W& window, TriggerContext& ctx) {
    if (window.MaxTimestamp() <= ctx.GetCurrentWatermark()) {
      // The watermark is past the window already: a late element, fire right away.
      return TriggerResult::kFire;
    }
    ctx.RegisterEventTimeTimer(window.MaxTimestamp());
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnEventTime(int64_t time, const W& window, TriggerContext&) {
    return time == window.MaxTimestamp() ? TriggerResult::kFire : TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnProcessingTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const { return true; }
  template <typename W>
  void OnMerge(const W& window, OnMergeContext& ctx) {
    // Only when the merged window is not late already: its timer would fire at once and the
    // window would be emitted a second time when cleaned up.
    if (window.MaxTimestamp() > ctx.GetCurrentWatermark()) {
      ctx.RegisterEventTimeTimer(window.MaxTimestamp());
    }
  }
  template <typename W>
  void Clear(const W& window, TriggerContext& ctx) {
    ctx.DeleteEventTimeTimer(window.MaxTimestamp());
  }
};

/// Fires when processing time reaches the window's end (the default of the processing-time
/// assigners).
class ProcessingTimeTrigger {
 public:
  static ProcessingTimeTrigger Create() { return ProcessingTimeTrigger(); }

  template <typename T, typename W>
  TriggerResult OnElement(const T&, int64_t, const W& window, TriggerContext& ctx) {
    ctx.RegisterProcessingTimeTimer(window.MaxTimestamp());
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnEventTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnProcessingTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kFire;
  }
  bool CanMerge() const { return true; }
  template <typename W>
  void OnMerge(const W& window, OnMergeContext& ctx) {
    if (window.MaxTimestamp() > ctx.GetCurrentProcessingTime()) {
      ctx.RegisterProcessingTimeTimer(window.MaxTimestamp());
    }
  }
  template <typename W>
  void Clear(const W& window, TriggerContext& ctx) {
    ctx.DeleteProcessingTimeTimer(window.MaxTimestamp());
  }
};

/// Fires every `max_count` elements of a window (without purging: wrap it in PurgingTrigger to
/// start counting the contents afresh). The count is partitioned state "count".
class CountTrigger {
 public:
  /// std::invalid_argument unless max_count > 0.
  static CountTrigger Of(int64_t max_count) {
    if (max_count <= 0) throw std::invalid_argument("CountTrigger::Of: the count must be > 0");
    return CountTrigger(max_count);
  }

  template <typename T, typename W>
  TriggerResult OnElement(const T&, int64_t, const W&, TriggerContext& ctx) {
    ReducingState<int64_t>& count = ctx.GetPartitionedState(Descriptor());
    count.Add(1);
    if (count.Get().value_or(0) >= max_count_) {
      count.Clear();
      return TriggerResult::kFire;
    }
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnEventTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnProcessingTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const { return true; }
  template <typename W>
  void OnMerge(const W&, OnMergeContext& ctx) {
    ctx.MergePartitionedState(Descriptor());
  }
  template <typename W>
  void Clear(const W&, TriggerContext& ctx) {
    ctx.GetPartitionedState(Descriptor()).Clear();
  }
  int64_t max_count() const { return max_count_; }

 private:
  explicit CountTrigger(int64_t max_count) : max_count_(max_count) {}
  static ReducingStateDescriptor<int64_t> Descriptor() {
    return ReducingStateDescriptor<int64_t>(
        "count", [](const int64_t& a, const int64_t& b) { return a + b; });
  }
  int64_t max_count_;
};

/// Fires every `interval` of event time within a window (aligned to multiples of the interval)
/// and when the watermark passes its end. The next firing time is partitioned state
/// "fire-time".
class ContinuousEventTimeTrigger {
 public:
  /// std::invalid_argument unless interval > 0.
  static ContinuousEventTimeTrigger Of(std::chrono::milliseconds interval) {
    if (interval.count() <= 0) {
      throw std::invalid_argument("ContinuousEventTimeTrigger::Of: the interval must be > 0");
    }
    return ContinuousEventTimeTrigger(interval.count());
  }

  template <typename T, typename W>
  TriggerResult OnElement(const T&, int64_t timestamp, const W& window, TriggerContext& ctx) {
    if (window.MaxTimestamp() <= ctx.GetCurrentWatermark()) {
      // The watermark is past the window already: fire right away.
      return TriggerResult::kFire;
    }
    ctx.RegisterEventTimeTimer(window.MaxTimestamp());
    ReducingState<int64_t>& fire_time = ctx.GetPartitionedState(Descriptor());
    if (!fire_time.Get()) {
      // Java's %, as Flink: truncated, so negative timestamps round towards zero.
      RegisterNextFireTimestamp(timestamp - (timestamp % interval_), window, ctx, fire_time);
    }
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnEventTime(int64_t time, const W& window, TriggerContext& ctx) {
    if (time == window.MaxTimestamp()) return TriggerResult::kFire;
    ReducingState<int64_t>& fire_time = ctx.GetPartitionedState(Descriptor());
    std::optional<int64_t> next = fire_time.Get();
    if (next && *next == time) {
      fire_time.Clear();
      RegisterNextFireTimestamp(time, window, ctx, fire_time);
      return TriggerResult::kFire;
    }
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnProcessingTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const { return true; }
  template <typename W>
  void OnMerge(const W&, OnMergeContext& ctx) {
    ctx.MergePartitionedState(Descriptor());
    if (std::optional<int64_t> next = ctx.GetPartitionedState(Descriptor()).Get()) {
      ctx.RegisterEventTimeTimer(*next);
    }
  }
  template <typename W>
  void Clear(const W&, TriggerContext& ctx) {
    ReducingState<int64_t>& fire_time = ctx.GetPartitionedState(Descriptor());
    if (std::optional<int64_t> next = fire_time.Get()) {
      ctx.DeleteEventTimeTimer(*next);
      fire_time.Clear();
    }
  }
  int64_t interval() const { return interval_; }

 private:
  explicit ContinuousEventTimeTrigger(int64_t interval) : interval_(interval) {}
  static ReducingStateDescriptor<int64_t> Descriptor() {
    return ReducingStateDescriptor<int64_t>(
        "fire-time", [](const int64_t& a, const int64_t& b) { return std::min(a, b); });
  }
  template <typename W>
  void RegisterNextFireTimestamp(int64_t time, const W& window, TriggerContext& ctx,
                                 ReducingState<int64_t>& fire_time) {
    const int64_t next = std::min(time + interval_, window.MaxTimestamp());
    fire_time.Add(next);
    ctx.RegisterEventTimeTimer(next);
  }
  int64_t interval_;
};

/// Never fires: the default of GlobalWindows, whose one window only a trigger set with
/// WindowedStream::Trigger (CountTrigger, ...) fires.
class NeverTrigger {
 public:
  template <typename T, typename W>
  TriggerResult OnElement(const T&, int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnEventTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  template <typename W>
  TriggerResult OnProcessingTime(int64_t, const W&, TriggerContext&) {
    return TriggerResult::kContinue;
  }
  bool CanMerge() const { return true; }
  template <typename W>
  void OnMerge(const W&, OnMergeContext&) {}
  template <typename W>
  void Clear(const W&, TriggerContext&) {}
};

/// The trigger `Nested`, with every firing turned into fire-and-purge (PurgingTrigger::Of).
template <typename Nested>
class PurgingTriggerOf {
 public:
  explicit PurgingTriggerOf(Nested nested) : nested_(std::move(nested)) {}

  template <typename T, typename W>
  TriggerResult OnElement(const T& element, int64_t timestamp, const W& window,
                          TriggerContext& ctx) {
    return Purging(nested_.OnElement(element, timestamp, window, ctx));
  }
  template <typename W>
  TriggerResult OnEventTime(int64_t time, const W& window, TriggerContext& ctx) {
    return Purging(nested_.OnEventTime(time, window, ctx));
  }
  template <typename W>
  TriggerResult OnProcessingTime(int64_t time, const W& window, TriggerContext& ctx) {
    return Purging(nested_.OnProcessingTime(time, window, ctx));
  }
  bool CanMerge() const { return nested_.CanMerge(); }
  template <typename W>
  void OnMerge(const W& window, OnMergeContext& ctx) {
    nested_.OnMerge(window, ctx);
  }
  template <typename W>
  void Clear(const W& window, TriggerContext& ctx) {
    nested_.Clear(window, ctx);
  }
  const Nested& nested() const { return nested_; }

 private:
  static TriggerResult Purging(TriggerResult result) {
    return IsFire(result) ? TriggerResult::kFireAndPurge : result;
  }
  Nested nested_;
};

/// PurgingTrigger::Of(CountTrigger::Of(100)): Flink's spelling of PurgingTriggerOf.
struct PurgingTrigger {
  template <typename Nested>
  static PurgingTriggerOf<Nested> Of(Nested nested) {
    return PurgingTriggerOf<Nested>(std::move(nested));
  }
};

}  // namespace sluice
