// JoinedStreams<T1, T2>: the window join of two streams (Flink's JoinedStreams), from
// DataStream::Join.
//
//   orders.Join(prices)
//       .Where([](const Order& o) { return o.symbol; })
//       .EqualTo([](const Price& p) { return p.symbol; })
//       .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::seconds(10)))
//       .Apply(Enrich());          // a JoinFunction<Order, Price, Quote>
//
// An inner join per window: for every key and window, the function is called for every pair
// (first-input element, second-input element) of that key in that window, first input in the
// outer loop, each input in arrival order. A key with elements on one side only in a window
// gives nothing (use CoGroup for outer joins). As in Flink, it is a CoGroup underneath
// (co_grouped_streams.h): the same tagged union, keyed window, settings (Trigger, Evictor,
// AllowedLateness), late-element rules, state and checkpoints. Results are stamped with the
// window's MaxTimestamp(). docs/joins.md is the guide.
//
// Apply takes a JoinFunction<T1, T2, Out> (one result per pair), a FlatJoinFunction<T1, T2, Out>
// (any number), a callable (const T1&, const T2&) -> Out, or, with Out given explicitly, a
// callable (const T1&, const T2&, Collector<Out>&).
//
// Thread safety and ownership: as DataStream. Errors: Where and EqualTo with different key types,
// and a function of the wrong kind, do not compile; settings that cannot work together throw
// std::invalid_argument.
#pragma once

#include <chrono>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include <sluice/api/co_grouped_streams.h>
#include <sluice/api/functions.h>
#include <sluice/api/join_functions.h>

namespace sluice {

template <typename T>
class DataStream;

namespace detail {

/// A join function as the CoGroupFunction of a window join (Flink's JoinCoGroupFunction and
/// FlatJoinCoGroupFunction): the cross product of both sides, first input in the outer loop.
template <typename T1, typename T2, typename Out, typename F>
class JoinCoGroupFunction final : public CoGroupFunction<T1, T2, Out>,
                                  public CheckpointedFunction,
                                  public CheckpointListener {
 public:
  explicit JoinCoGroupFunction(F function) : function_(std::move(function)) {}
  void Open() override { function_.Open(this->GetRuntimeContext()); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override {
    function_.NotifyCheckpointComplete(id);
  }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyCheckpointAborted(id); }

  void CoGroup(const std::vector<T1>& first, const std::vector<T2>& second,
               Collector<Out>& out) override {
    F& f = function_.get();
    for (const T1& a : first) {
      for (const T2& b : second) {
        if constexpr (std::is_base_of_v<JoinFunction<T1, T2, Out>, F>) {
          out.Collect(f.Join(a, b));
        } else if constexpr (std::is_base_of_v<FlatJoinFunction<T1, T2, Out>, F>) {
          f.Join(a, b, out);
        } else if constexpr (std::is_invocable_v<F&, const T1&, const T2&, Collector<Out>&>) {
          f(a, b, out);
        } else {
          out.Collect(f(a, b));
        }
      }
    }
  }

 private:
  NestedFunction<F> function_;
};

}  // namespace detail

template <typename T1, typename T2, typename K, typename W>
class JoinedStreamsWithWindow;
template <typename T1, typename T2, typename K>
class JoinedStreamsEqualTo;
template <typename T1, typename T2, typename K>
class JoinedStreamsWhere;

/// DataStream::Join's result: choose the first input's key with Where.
template <typename T1, typename T2>
class JoinedStreams {
 public:
  /// Runtime side: DataStream::Join makes these.
  JoinedStreams(detail::GraphBuilder* graph, detail::Transformation* input1,
                detail::Transformation* input2)
      : graph_(graph), input1_(input1), input2_(input2) {}

  /// The key of the first input: a callable const T1& -> K (as for KeyBy).
  template <typename F>
  auto Where(F key_selector) {
    using K = std::decay_t<std::invoke_result_t<F&, const T1&>>;
    return JoinedStreamsWhere<T1, T2, K>(graph_, input1_, input2_,
                                         std::function<K(const T1&)>(std::move(key_selector)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
};

/// Join(...).Where(...) (Flink's JoinedStreams.Where): choose the second input's key.
template <typename T1, typename T2, typename K>
class JoinedStreamsWhere {
 public:
  JoinedStreamsWhere(detail::GraphBuilder* graph, detail::Transformation* input1,
                     detail::Transformation* input2, std::function<K(const T1&)> key1)
      : graph_(graph), input1_(input1), input2_(input2), key1_(std::move(key1)) {}

  /// The key of the second input: a callable const T2& -> K, the same key type as Where's (a
  /// selector of another key type does not compile: the constraint SameKeyType fails).
  template <typename F>
    requires detail::SameKeyType<K, F, T2>
  JoinedStreamsEqualTo<T1, T2, K> EqualTo(F key_selector) {
    return JoinedStreamsEqualTo<T1, T2, K>(graph_, input1_, input2_, key1_,
                                           std::function<K(const T2&)>(std::move(key_selector)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
  std::function<K(const T1&)> key1_;
};

/// Join(...).Where(...).EqualTo(...) (Flink's JoinedStreams.Where.EqualTo): choose the window.
template <typename T1, typename T2, typename K>
class JoinedStreamsEqualTo {
 public:
  JoinedStreamsEqualTo(detail::GraphBuilder* graph, detail::Transformation* input1,
                       detail::Transformation* input2, std::function<K(const T1&)> key1,
                       std::function<K(const T2&)> key2)
      : graph_(graph),
        input1_(input1),
        input2_(input2),
        key1_(std::move(key1)),
        key2_(std::move(key2)) {}

  /// Windows of `assigner` (sluice/api/windowing/assigners.h), in event or processing time.
  template <typename A>
  auto Window(A assigner) {
    using W = typename A::window_type;
    return JoinedStreamsWithWindow<T1, T2, K, W>(detail::CoGroupWindowSpec<T1, T2, K, W>(
        graph_, input1_, input2_, key1_, key2_, std::move(assigner)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
  std::function<K(const T1&)> key1_;
  std::function<K(const T2&)> key2_;
};

/// A window join with its window (Flink's JoinedStreams.WithWindow): settings, then Apply.
template <typename T1, typename T2, typename K, typename W>
class JoinedStreamsWithWindow {
 public:
  explicit JoinedStreamsWithWindow(detail::CoGroupWindowSpec<T1, T2, K, W> spec)
      : spec_(std::move(spec)) {}

  /// As CoGroupedStreamsWithWindow::Trigger.
  template <typename Tr>
  JoinedStreamsWithWindow& Trigger(Tr trigger) {
    spec_.Trigger(std::move(trigger));
    return *this;
  }
  template <typename E>
  JoinedStreamsWithWindow& Evictor(E evictor) {
    spec_.Evictor(std::move(evictor));
    return *this;
  }
  JoinedStreamsWithWindow& AllowedLateness(std::chrono::milliseconds lateness) {
    spec_.AllowedLateness(lateness);
    return *this;
  }

  /// `function` is a JoinFunction<T1, T2, Out> or a FlatJoinFunction<T1, T2, Out>.
  template <typename F>
    requires std::is_base_of_v<JoinFunction<T1, T2, typename F::output_type>, F> ||
             std::is_base_of_v<FlatJoinFunction<T1, T2, typename F::output_type>, F>
  auto Apply(F function) {
    using Out = typename F::output_type;
    return Build<Out>(std::move(function));
  }
  /// `function` is a callable (const T1&, const T2&) -> Out.
  template <typename F>
    requires(!std::is_base_of_v<RichFunction, F>) && std::is_invocable_v<F&, const T1&, const T2&>
  auto Apply(F function) {
    using Out = std::decay_t<std::invoke_result_t<F&, const T1&, const T2&>>;
    static_assert(!std::is_void_v<Out>,
                  "Join::Apply: a callable (first, second) must return the joined value; for any "
                  "number of results take a Collector<Out>& and call Apply<Out>(...)");
    return Build<Out>(std::move(function));
  }
  /// `function` is a callable (const T1&, const T2&, Collector<Out>&) (Flink's FlatJoinFunction).
  template <typename Out, typename F>
    requires std::is_invocable_v<F&, const T1&, const T2&, Collector<Out>&>
  DataStream<Out> Apply(F function) {
    return Build<Out>(std::move(function));
  }

 private:
  template <typename Out, typename F>
  DataStream<Out> Build(F function) {
    return spec_.template Apply<Out>(
        detail::JoinCoGroupFunction<T1, T2, Out, F>(std::move(function)), "Window(Join)");
  }

  detail::CoGroupWindowSpec<T1, T2, K, W> spec_;
};

}  // namespace sluice
