// The functions a window runs when it fires (Flink's AggregateFunction, ProcessWindowFunction,
// ProcessAllWindowFunction); Reduce takes a plain callable (T, T) -> T.
//
// Thread safety: one function object per parallel instance of the window operator, called only
// on its task thread (see functions.h). Errors: anything thrown fails the task.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/output_tag.h>
#include <sluice/api/windowing/keyed_state_store.h>
#include <sluice/detail/output.h>
#include <sluice/state/aggregate_function.h>

namespace sluice {

/// What a ProcessWindowFunction sees of its window (Flink's ProcessWindowFunction.Context).
template <typename W>
class ProcessWindowContext {
 public:
  virtual ~ProcessWindowContext() = default;
  /// The window being evaluated: Start(), End(), MaxTimestamp() for a TimeWindow.
  virtual const W& Window() const = 0;
  virtual int64_t CurrentProcessingTime() const = 0;
  virtual int64_t CurrentWatermark() const = 0;
  /// State of the current key and this window; clear it in ProcessWindowFunction::Clear.
  virtual KeyedStateStore& WindowState() = 0;
  /// State of the current key, across windows (as RuntimeContext::GetState).
  virtual KeyedStateStore& GlobalState() = 0;
  /// Emits `value` to the side output `tag`, stamped with the window's MaxTimestamp().
  template <typename X>
  void Output(const OutputTag<X>& tag, X value) {
    GetSideOutputs().Collect(tag, std::move(value), Window().MaxTimestamp());
  }

 private:
  // Runtime side: the operator's side outputs.
  virtual const detail::SideOutputs& GetSideOutputs() const = 0;
};

/// Evaluates a window with all its elements (or, after Reduce or Aggregate, its one
/// pre-aggregated value) and the window's context (Flink's ProcessWindowFunction).
/// Results are stamped with the window's MaxTimestamp().
template <typename In, typename Out, typename K, typename W>
class ProcessWindowFunction : public RichFunction {
 public:
  using input_type = In;
  using output_type = Out;
  using key_type = K;
  using window_type = W;
  using Context = ProcessWindowContext<W>;

  /// `elements`: the window's contents in arrival order (one element after Reduce/Aggregate).
  virtual void Process(const K& key, Context& ctx, const std::vector<In>& elements,
                       Collector<Out>& out) = 0;
  /// The window is dropped (after its allowed lateness): clear its WindowState here.
  virtual void Clear(Context& /*ctx*/) {}
};

/// ProcessWindowFunction of WindowAll: the same without a key (Flink's
/// ProcessAllWindowFunction).
template <typename In, typename Out, typename W>
class ProcessAllWindowFunction : public RichFunction {
 public:
  using input_type = In;
  using output_type = Out;
  using window_type = W;
  using Context = ProcessWindowContext<W>;

  virtual void Process(Context& ctx, const std::vector<In>& elements, Collector<Out>& out) = 0;
  virtual void Clear(Context& /*ctx*/) {}
};

}  // namespace sluice
