// The parts of a window operator chosen by the WindowedStream calls, behind small interfaces
// so one operator template serves every combination (implementation detail of the DataStream
// API; instantiated in user code):
//   - WindowAssignerBase / TriggerBase / EvictorBase: the user's assigner, trigger and evictor
//     (any class with the documented members) behind virtual calls;
//   - InternalWindowFunction: what runs when a window fires (pass the pre-aggregated value
//     through, a ProcessWindowFunction, a ProcessAllWindowFunction);
//   - WindowContents: how a window's contents are kept in keyed state (reduced, aggregated,
//     listed, or listed with timestamps for an evictor), added to, fired, cleared and merged.
//
// Window contents are keyed state whose key is the record key followed by the window (see
// window_operator.h); a WindowContents always works on the backend's current key, which the
// operator sets (WindowNamespaces) before each call.
//
// Threads: the task thread of the operator instance.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/windowing/assigners.h>
#include <sluice/api/windowing/evictors.h>
#include <sluice/api/windowing/triggers.h>
#include <sluice/api/windowing/window_functions.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/operators.h>
#include <sluice/state/detail/keyed_state_backend.h>

namespace sluice::detail {

// ---- assigner ----

template <typename T, typename W>
class WindowAssignerBase {
 public:
  using MergeCallback = std::function<void(std::vector<W>, W)>;
  virtual ~WindowAssignerBase() = default;
  virtual void AssignWindows(const T& element, int64_t timestamp, const WindowAssignerContext& ctx,
                             std::vector<W>& out) const = 0;
  virtual bool IsEventTime() const = 0;
  virtual bool IsMerging() const = 0;
  virtual void MergeWindows(const std::vector<W>& windows, const MergeCallback& merge) const = 0;
};

template <typename A>
concept MergingAssigner = requires(
    const A& assigner, const std::vector<typename A::window_type>& windows,
    std::function<void(std::vector<typename A::window_type>, typename A::window_type)> merge) {
  assigner.MergeWindows(windows, merge);
};

template <typename T, typename A>
class WindowAssignerAdapter final : public WindowAssignerBase<T, typename A::window_type> {
 public:
  using W = typename A::window_type;
  explicit WindowAssignerAdapter(A assigner) : assigner_(std::move(assigner)) {}
  void AssignWindows(const T& element, int64_t timestamp, const WindowAssignerContext& ctx,
                     std::vector<W>& out) const override {
    assigner_.AssignWindows(element, timestamp, ctx, out);
  }
  bool IsEventTime() const override { return assigner_.IsEventTime(); }
  bool IsMerging() const override { return MergingAssigner<A>; }
  void MergeWindows(const std::vector<W>& windows,
                    const typename WindowAssignerBase<T, W>::MergeCallback& merge) const override {
    if constexpr (MergingAssigner<A>) {
      assigner_.MergeWindows(windows, merge);
    }
  }

 private:
  A assigner_;
};

// ---- trigger ----

template <typename T, typename W>
class TriggerBase {
 public:
  virtual ~TriggerBase() = default;
  virtual TriggerResult OnElement(const T& element, int64_t timestamp, const W& window,
                                  TriggerContext& ctx) = 0;
  virtual TriggerResult OnEventTime(int64_t time, const W& window, TriggerContext& ctx) = 0;
  virtual TriggerResult OnProcessingTime(int64_t time, const W& window, TriggerContext& ctx) = 0;
  virtual bool CanMerge() const = 0;
  virtual void OnMerge(const W& window, OnMergeContext& ctx) = 0;
  virtual void Clear(const W& window, TriggerContext& ctx) = 0;
};

template <typename T, typename W, typename Tr>
class TriggerAdapter final : public TriggerBase<T, W> {
 public:
  explicit TriggerAdapter(Tr trigger) : trigger_(std::move(trigger)) {}
  TriggerResult OnElement(const T& element, int64_t timestamp, const W& window,
                          TriggerContext& ctx) override {
    return trigger_.OnElement(element, timestamp, window, ctx);
  }
  TriggerResult OnEventTime(int64_t time, const W& window, TriggerContext& ctx) override {
    return trigger_.OnEventTime(time, window, ctx);
  }
  TriggerResult OnProcessingTime(int64_t time, const W& window, TriggerContext& ctx) override {
    return trigger_.OnProcessingTime(time, window, ctx);
  }
  bool CanMerge() const override { return trigger_.CanMerge(); }
  void OnMerge(const W& window, OnMergeContext& ctx) override { trigger_.OnMerge(window, ctx); }
  void Clear(const W& window, TriggerContext& ctx) override { trigger_.Clear(window, ctx); }

 private:
  Tr trigger_;
};

// ---- evictor ----

template <typename T, typename W>
class EvictorBase {
 public:
  virtual ~EvictorBase() = default;
  virtual void EvictBefore(std::vector<TimestampedValue<T>>& elements, int size, const W& window,
                           const EvictorContext& ctx) = 0;
  virtual void EvictAfter(std::vector<TimestampedValue<T>>& elements, int size, const W& window,
                          const EvictorContext& ctx) = 0;
};

template <typename T, typename W, typename E>
class EvictorAdapter final : public EvictorBase<T, W> {
 public:
  explicit EvictorAdapter(E evictor) : evictor_(std::move(evictor)) {}
  void EvictBefore(std::vector<TimestampedValue<T>>& elements, int size, const W& window,
                   const EvictorContext& ctx) override {
    evictor_.EvictBefore(elements, size, window, ctx);
  }
  void EvictAfter(std::vector<TimestampedValue<T>>& elements, int size, const W& window,
                  const EvictorContext& ctx) override {
    evictor_.EvictAfter(elements, size, window, ctx);
  }

 private:
  E evictor_;
};

// ---- the function a firing window runs ----

/// `elements` may be moved from.
template <typename K, typename I, typename Out, typename W>
class InternalWindowFunction {
 public:
  virtual ~InternalWindowFunction() = default;
  virtual void Open(OperatorContext&) {}
  virtual void Close() {}
  virtual void SnapshotState(CheckpointId) {}
  virtual void NotifyComplete(CheckpointId) {}
  virtual void NotifyAborted(CheckpointId) {}
  virtual void Process(const K& key, ProcessWindowContext<W>& ctx, std::vector<I>& elements,
                       Collector<Out>& out) = 0;
  virtual void Clear(ProcessWindowContext<W>&) {}
};

/// Reduce / Aggregate without a ProcessWindowFunction: the pre-aggregated value is the result.
template <typename K, typename I, typename W>
class PassThroughWindowFunction final : public InternalWindowFunction<K, I, I, W> {
 public:
  void Process(const K&, ProcessWindowContext<W>&, std::vector<I>& elements,
               Collector<I>& out) override {
    for (I& element : elements) out.Collect(std::move(element));
  }
};

/// A ProcessWindowFunction<I, Out, K, W> (kAll: a ProcessAllWindowFunction<I, Out, W>).
template <typename K, typename I, typename Out, typename W, typename F, bool kAll = false>
class UserWindowFunction final : public InternalWindowFunction<K, I, Out, W> {
 public:
  explicit UserWindowFunction(F function) : function_(std::move(function)) {}
  void Open(OperatorContext& context) override { function_.Open(context); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyComplete(CheckpointId id) override { function_.NotifyComplete(id); }
  void NotifyAborted(CheckpointId id) override { function_.NotifyAborted(id); }
  void Process(const K& key, ProcessWindowContext<W>& ctx, std::vector<I>& elements,
               Collector<Out>& out) override {
    if constexpr (kAll) {
      function_.get().Process(ctx, elements, out);
    } else {
      function_.get().Process(key, ctx, elements, out);
    }
  }
  void Clear(ProcessWindowContext<W>& ctx) override { function_.get().Clear(ctx); }

 private:
  FunctionHolder<F> function_;
};

// ---- window contents ----

/// How the operator points the backend's current key at a window or back at the record key.
template <typename W>
class WindowNamespaces {
 public:
  virtual ~WindowNamespaces() = default;
  /// Current key: (record key, window).
  virtual void UseWindow(const W& window) = 0;
  /// Current key: the record key (for user functions: global state, RuntimeContext state).
  virtual void UseKey() = 0;
};

/// What a firing needs besides the contents.
template <typename K, typename W, typename Out>
struct FireContext {
  const K& key;
  const W& window;
  const W& state_window;
  ProcessWindowContext<W>& process;
  const EvictorContext& evictor;
  Collector<Out>& out;
  WindowNamespaces<W>& namespaces;
};

/// A window's contents in keyed state. Every method but Open/Close works on the backend's
/// current key, which the operator has set to (key, state window).
template <typename K, typename T, typename W, typename Out>
class WindowContents {
 public:
  virtual ~WindowContents() = default;
  virtual void Open(OperatorContext& context, KeyedStateBackend& backend) = 0;
  virtual void Close() = 0;
  virtual void SnapshotState(CheckpointId) = 0;
  virtual void NotifyComplete(CheckpointId) = 0;
  virtual void NotifyAborted(CheckpointId) = 0;
  virtual void Add(const T& value, int64_t timestamp) = 0;
  /// Runs the window function on the contents; false (nothing emitted) when there are none.
  virtual bool Fire(const FireContext<K, W, Out>& fire) = 0;
  virtual void Clear() = 0;
  /// The window function's Clear (current key: the record key).
  virtual void ClearFunction(ProcessWindowContext<W>& ctx) = 0;
  /// Merges the contents of `sources` into `target` and clears them (sessions).
  virtual void MergeNamespaces(const W& target, const std::vector<W>& sources,
                               WindowNamespaces<W>& namespaces) = 0;
};

/// The state names of window contents (Flink's "window-contents"); the underscore keeps them
/// apart from names user functions choose.
inline constexpr const char* kWindowContentsState = "_window-contents";

/// Reduce: one value per key and window, folded as elements arrive.
template <typename K, typename T, typename W, typename Out>
class ReducingWindowContents final : public WindowContents<K, T, W, Out> {
 public:
  using ReduceFunction = std::function<T(const T&, const T&)>;
  using Function = InternalWindowFunction<K, T, Out, W>;
  ReducingWindowContents(ReduceFunction reduce, std::unique_ptr<Function> function)
      : reduce_(std::move(reduce)), function_(std::move(function)) {}

  void Open(OperatorContext& context, KeyedStateBackend& backend) override {
    state_ = &backend.GetReducingState(ReducingStateDescriptor<T>(kWindowContentsState, reduce_));
    function_->Open(context);
  }
  void Close() override { function_->Close(); }
  void SnapshotState(CheckpointId id) override { function_->SnapshotState(id); }
  void NotifyComplete(CheckpointId id) override { function_->NotifyComplete(id); }
  void NotifyAborted(CheckpointId id) override { function_->NotifyAborted(id); }
  void Add(const T& value, int64_t) override { state_->Add(value); }
  bool Fire(const FireContext<K, W, Out>& fire) override {
    std::optional<T> value = state_->Get();
    if (!value) return false;
    std::vector<T> elements;
    elements.push_back(std::move(*value));
    fire.namespaces.UseKey();
    function_->Process(fire.key, fire.process, elements, fire.out);
    return true;
  }
  void Clear() override { state_->Clear(); }
  void ClearFunction(ProcessWindowContext<W>& ctx) override { function_->Clear(ctx); }
  void MergeNamespaces(const W& target, const std::vector<W>& sources,
                       WindowNamespaces<W>& namespaces) override {
    std::vector<T> values;
    for (const W& source : sources) {
      namespaces.UseWindow(source);
      if (std::optional<T> value = state_->Get()) values.push_back(std::move(*value));
      state_->Clear();
    }
    namespaces.UseWindow(target);
    for (T& value : values) state_->Add(std::move(value));
  }

 private:
  ReduceFunction reduce_;
  std::unique_ptr<Function> function_;
  ReducingState<T>* state_ = nullptr;
};

/// Aggregate: one accumulator per key and window.
template <typename K, typename T, typename W, typename Out, typename A>
class AggregatingWindowContents final : public WindowContents<K, T, W, Out> {
 public:
  using Acc = typename A::accumulator_type;
  using R = typename A::output_type;
  using Function = InternalWindowFunction<K, R, Out, W>;
  AggregatingWindowContents(A aggregate, std::unique_ptr<Function> function)
      : aggregate_(std::move(aggregate)), function_(std::move(function)) {}

  void Open(OperatorContext& context, KeyedStateBackend& backend) override {
    state_ = &backend.GetValueState(ValueStateDescriptor<Acc>(kWindowContentsState));
    function_->Open(context);
  }
  void Close() override { function_->Close(); }
  void SnapshotState(CheckpointId id) override { function_->SnapshotState(id); }
  void NotifyComplete(CheckpointId id) override { function_->NotifyComplete(id); }
  void NotifyAborted(CheckpointId id) override { function_->NotifyAborted(id); }
  void Add(const T& value, int64_t) override {
    std::optional<Acc> accumulator = state_->Value();
    state_->Update(aggregate_.Add(
        value, accumulator ? std::move(*accumulator) : aggregate_.CreateAccumulator()));
  }
  bool Fire(const FireContext<K, W, Out>& fire) override {
    std::optional<Acc> accumulator = state_->Value();
    if (!accumulator) return false;
    std::vector<R> elements;
    elements.push_back(aggregate_.GetResult(*accumulator));
    fire.namespaces.UseKey();
    function_->Process(fire.key, fire.process, elements, fire.out);
    return true;
  }
  void Clear() override { state_->Clear(); }
  void ClearFunction(ProcessWindowContext<W>& ctx) override { function_->Clear(ctx); }
  void MergeNamespaces(const W& target, const std::vector<W>& sources,
                       WindowNamespaces<W>& namespaces) override {
    // As Flink's heap merging state: target = Merge(target, Merge(sources...)).
    std::optional<Acc> merged;
    for (const W& source : sources) {
      namespaces.UseWindow(source);
      if (std::optional<Acc> value = state_->Value()) {
        merged =
            merged ? aggregate_.Merge(std::move(*merged), std::move(*value)) : std::move(value);
      }
      state_->Clear();
    }
    namespaces.UseWindow(target);
    if (!merged) return;
    std::optional<Acc> current = state_->Value();
    state_->Update(current ? aggregate_.Merge(std::move(*current), std::move(*merged))
                           : std::move(*merged));
  }

 private:
  A aggregate_;
  std::unique_ptr<Function> function_;
  ValueState<Acc>* state_ = nullptr;
};

/// Process: every element, in arrival order.
template <typename K, typename T, typename W, typename Out>
class ListWindowContents final : public WindowContents<K, T, W, Out> {
 public:
  using Function = InternalWindowFunction<K, T, Out, W>;
  explicit ListWindowContents(std::unique_ptr<Function> function)
      : function_(std::move(function)) {}

  void Open(OperatorContext& context, KeyedStateBackend& backend) override {
    state_ = &backend.GetListState(ListStateDescriptor<T>(kWindowContentsState));
    function_->Open(context);
  }
  void Close() override { function_->Close(); }
  void SnapshotState(CheckpointId id) override { function_->SnapshotState(id); }
  void NotifyComplete(CheckpointId id) override { function_->NotifyComplete(id); }
  void NotifyAborted(CheckpointId id) override { function_->NotifyAborted(id); }
  void Add(const T& value, int64_t) override { state_->Add(value); }
  bool Fire(const FireContext<K, W, Out>& fire) override {
    std::vector<T> elements = state_->Get();
    if (elements.empty()) return false;
    fire.namespaces.UseKey();
    function_->Process(fire.key, fire.process, elements, fire.out);
    return true;
  }
  void Clear() override { state_->Clear(); }
  void ClearFunction(ProcessWindowContext<W>& ctx) override { function_->Clear(ctx); }
  void MergeNamespaces(const W& target, const std::vector<W>& sources,
                       WindowNamespaces<W>& namespaces) override {
    std::vector<T> values;
    for (const W& source : sources) {
      namespaces.UseWindow(source);
      std::vector<T> items = state_->Get();
      values.insert(values.end(), std::make_move_iterator(items.begin()),
                    std::make_move_iterator(items.end()));
      state_->Clear();
    }
    namespaces.UseWindow(target);
    state_->AddAll(std::move(values));
  }

 private:
  std::unique_ptr<Function> function_;
  ListState<T>* state_ = nullptr;
};

/// With an evictor: every element with its timestamp; when the window fires, the evictor runs,
/// `fold` turns the remaining elements into the function's input (a reduce or an aggregate, or
/// the elements themselves), and the elements left after EvictAfter are written back (Flink's
/// EvictingWindowOperator).
template <typename K, typename T, typename W, typename Out, typename I>
class EvictingWindowContents final : public WindowContents<K, T, W, Out> {
 public:
  using Function = InternalWindowFunction<K, I, Out, W>;
  /// Returns the function's input for the elements left (may be empty: nothing is emitted).
  using Fold = std::function<std::vector<I>(std::vector<T>)>;
  EvictingWindowContents(std::unique_ptr<EvictorBase<T, W>> evictor, Fold fold,
                         std::unique_ptr<Function> function)
      : evictor_(std::move(evictor)), fold_(std::move(fold)), function_(std::move(function)) {}

  void Open(OperatorContext& context, KeyedStateBackend& backend) override {
    state_ =
        &backend.GetListState(ListStateDescriptor<std::pair<int64_t, T>>(kWindowContentsState));
    function_->Open(context);
  }
  void Close() override { function_->Close(); }
  void SnapshotState(CheckpointId id) override { function_->SnapshotState(id); }
  void NotifyComplete(CheckpointId id) override { function_->NotifyComplete(id); }
  void NotifyAborted(CheckpointId id) override { function_->NotifyAborted(id); }
  void Add(const T& value, int64_t timestamp) override { state_->Add({timestamp, value}); }
  bool Fire(const FireContext<K, W, Out>& fire) override {
    std::vector<std::pair<int64_t, T>> stored = state_->Get();
    if (stored.empty()) return false;
    std::vector<TimestampedValue<T>> elements;
    elements.reserve(stored.size());
    for (auto& [timestamp, value] : stored) elements.push_back({std::move(value), timestamp});
    evictor_->EvictBefore(elements, static_cast<int>(elements.size()), fire.window, fire.evictor);
    std::vector<T> values;
    values.reserve(elements.size());
    for (const auto& element : elements) values.push_back(element.value);
    std::vector<I> input = fold_(std::move(values));
    fire.namespaces.UseKey();
    if (!input.empty()) function_->Process(fire.key, fire.process, input, fire.out);
    evictor_->EvictAfter(elements, static_cast<int>(elements.size()), fire.window, fire.evictor);
    // Written back whole: a list state cannot remove single elements (Flink does the same).
    std::vector<std::pair<int64_t, T>> kept;
    kept.reserve(elements.size());
    for (auto& element : elements) kept.emplace_back(element.timestamp, std::move(element.value));
    fire.namespaces.UseWindow(fire.state_window);
    state_->Update(std::move(kept));
    return true;
  }
  void Clear() override { state_->Clear(); }
  void ClearFunction(ProcessWindowContext<W>& ctx) override { function_->Clear(ctx); }
  void MergeNamespaces(const W& target, const std::vector<W>& sources,
                       WindowNamespaces<W>& namespaces) override {
    std::vector<std::pair<int64_t, T>> values;
    for (const W& source : sources) {
      namespaces.UseWindow(source);
      std::vector<std::pair<int64_t, T>> items = state_->Get();
      values.insert(values.end(), std::make_move_iterator(items.begin()),
                    std::make_move_iterator(items.end()));
      state_->Clear();
    }
    namespaces.UseWindow(target);
    state_->AddAll(std::move(values));
  }

 private:
  std::unique_ptr<EvictorBase<T, W>> evictor_;
  Fold fold_;
  std::unique_ptr<Function> function_;
  ListState<std::pair<int64_t, T>>* state_ = nullptr;
};

}  // namespace sluice::detail
