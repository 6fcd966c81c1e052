// WindowedStream<T, K, W>: a keyed stream grouped into windows (Flink's WindowedStream), from
// KeyedStream::Window(assigner) or KeyedStream::CountWindow(n[, slide]); and the same on a
// non-keyed stream from DataStream::WindowAll(assigner) (Flink's AllWindowedStream: one
// parallel instance sees every element).
//
//   stream.KeyBy([](const Click& c) { return c.user; })
//       .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::seconds(10)))
//       .AllowedLateness(std::chrono::seconds(5))
//       .SideOutputLateData(late_tag)
//       .Aggregate(CountClicks(), ReportWindow());
//
// Settings (Trigger, Evictor, AllowedLateness, SideOutputLateData) apply to the window function
// called after them: Reduce, Aggregate, Process, or Sum/Min/Max/MinBy/MaxBy. Each returns the
// DataStream of window results, stamped with their window's MaxTimestamp(); GetSideOutput on it
// reads the late data. docs/windows.md is the guide.
//
// Aggregations by field (Sum, Min, Max, MinBy, MaxBy), as on KeyedStream: with no argument on a
// stream of numbers; with a pointer to a data member (`Sum(&Trade::volume)`); with an index for
// std::pair and std::tuple (`Sum<1>()`); MinBy/MaxBy also with any callable returning the value
// to compare (`MaxBy([](const Trade& t) { return t.price; })`). Sum, Min and Max keep the other
// fields of the window's first element; MinBy and MaxBy return the whole element with the
// smallest / largest value, the first one on ties (Flink's `first = true`; pass false for the
// last).
//
// Thread safety and ownership: as DataStream (build on one thread before Execute; the stream
// is a handle into its environment). Errors: settings that cannot work together throw
// std::invalid_argument at once, with Flink's messages (a merging assigner with a trigger that
// cannot merge, a negative allowed lateness).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <sluice/api/output_tag.h>
#include <sluice/api/windowing/assigners.h>
#include <sluice/api/windowing/evictors.h>
#include <sluice/api/windowing/keyed_state_store.h>
#include <sluice/api/windowing/triggers.h>
#include <sluice/api/windowing/window_functions.h>
#include <sluice/api/windowing/windows.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/transformation.h>
#include <sluice/detail/window_contents.h>
#include <sluice/detail/window_operator.h>

namespace sluice {

// Defined in data_stream.h, which includes this header (the entry points KeyedStream::Window,
// KeyedStream::CountWindow and DataStream::WindowAll are defined there).
template <typename T>
class DataStream;

/// The key of WindowAll's single group (Flink's NullByteKeySelector: the byte 0).
using AllWindowKey = std::int8_t;

template <typename T, typename K, typename W>
class WindowedStream {
 public:
  using KeySelector = std::function<K(const T&)>;

  /// Runtime side: KeyedStream::Window and DataStream::WindowAll make these.
  template <typename A>
  WindowedStream(detail::GraphBuilder* graph, detail::Transformation* input,
                 KeySelector key_selector, A assigner, bool all)
      : graph_(graph),
        input_(input),
        key_selector_(std::move(key_selector)),
        event_time_(assigner.IsEventTime()),
        merging_(detail::MergingAssigner<A>),
        all_(all) {
    static_assert(std::is_same_v<typename A::window_type, W>);
    SetTrigger(assigner.GetDefaultTrigger());
    assigner_ = [assigner = std::move(assigner)]() {
      return std::unique_ptr<detail::WindowAssignerBase<T, W>>(
          std::make_unique<detail::WindowAssignerAdapter<T, A>>(assigner));
    };
  }

  // ---- settings ----

  /// Replaces the assigner's default trigger. std::invalid_argument if the assigner merges
  /// windows (sessions) and the trigger cannot merge.
  template <typename Tr>
  WindowedStream& Trigger(Tr trigger) {
    if (merging_ && !trigger.CanMerge()) {
      throw std::invalid_argument(
          "A merging window assigner cannot be used with a trigger that does not support "
          "merging.");
    }
    SetTrigger(std::move(trigger));
    return *this;
  }
  /// Evicts elements before and/or after the window function runs (CountEvictor, TimeEvictor,
  /// or your Evictor<T, W>). The window then keeps all its elements until it fires.
  template <typename E>
  WindowedStream& Evictor(E evictor) {
    evictor_ = [evictor = std::move(evictor)]() {
      return std::unique_ptr<detail::EvictorBase<T, W>>(
          std::make_unique<detail::EvictorAdapter<T, W, E>>(evictor));
    };
    return *this;
  }
  /// How long after its end (in event time) a window still accepts late elements: each fires
  /// the window again with the updated result (for the default trigger), and the window's state
  /// is dropped only when the watermark passes end + lateness. Default 0. Ignored by
  /// processing-time windows. std::invalid_argument if negative.
  WindowedStream& AllowedLateness(std::chrono::milliseconds lateness) {
    if (lateness.count() < 0)
      throw std::invalid_argument("The allowed lateness cannot be negative.");
    allowed_lateness_ = lateness.count();
    return *this;
  }
  /// Elements too late for every window they belong to (even with the allowed lateness) go to
  /// this side output of the result stream instead of being dropped (they are counted in the
  /// metric numLateRecordsDropped otherwise).
  WindowedStream& SideOutputLateData(const OutputTag<T>& tag) {
    late_data_tag_ = tag;
    return *this;
  }

  // ---- window functions ----

  /// Folds each window's elements with `reduce` ((const T&, const T&) -> T) as they arrive;
  /// the result is the reduced value.
  template <typename F>
  DataStream<T> Reduce(F reduce) {
    return ReduceWith<T>(std::move(reduce), PassThrough<T>());
  }
  /// Reduce, then `function` (a ProcessWindowFunction<T, Out, K, W>, or a
  /// ProcessAllWindowFunction<T, Out, W> after WindowAll) gets the reduced value and the window.
  template <typename F, typename P>
  auto Reduce(F reduce, P function) {
    using Out = typename P::output_type;
    return ReduceWith<Out>(std::move(reduce), UserFunction<T, Out>(std::move(function)));
  }

  /// Aggregates each window incrementally with `aggregate` (an AggregateFunction<T, Acc, R>);
  /// the result is GetResult(accumulator).
  template <typename A>
  auto Aggregate(A aggregate) {
    using R = typename A::output_type;
    return AggregateWith<A, R>(std::move(aggregate), PassThrough<R>());
  }
  /// Aggregate, then `function` (a ProcessWindowFunction<R, Out, K, W>, or a
  /// ProcessAllWindowFunction<R, Out, W>) gets GetResult(accumulator) and the window.
  template <typename A, typename P>
  auto Aggregate(A aggregate, P function) {
    using R = typename A::output_type;
    using Out = typename P::output_type;
    return AggregateWith<A, Out>(std::move(aggregate), UserFunction<R, Out>(std::move(function)));
  }

  /// `function` (a ProcessWindowFunction<T, Out, K, W>, or a ProcessAllWindowFunction<T, Out, W>)
  /// gets all of a window's elements when it fires; they are kept in state until then.
  template <typename P>
  auto Process(P function) {
    using Out = typename P::output_type;
    static_assert(HasTypeSerializer<T>,
                  "a window keeps its elements in keyed state: T needs a sluice::TypeSerializer");
    auto make_function = UserFunction<T, Out>(std::move(function));
    if (evictor_) {
      auto evictor = evictor_;
      return Build<Out>("Window(Process)", [evictor, make_function]() {
        return Contents<Out>(std::make_unique<detail::EvictingWindowContents<K, T, W, Out, T>>(
            evictor(), [](std::vector<T> values) { return values; }, make_function()));
      });
    }
    return Build<Out>("Window(Process)", [make_function]() {
      return Contents<Out>(
          std::make_unique<detail::ListWindowContents<K, T, W, Out>>(make_function()));
    });
  }

  // ---- aggregations by field (see the top of this file) ----

  DataStream<T> Sum()
    requires std::is_arithmetic_v<T>
  {
    return SumOf(Whole()).Name("Window(Sum)");
  }
  template <typename Field>
    requires std::is_member_object_pointer_v<Field>
  DataStream<T> Sum(Field field) {
    return SumOf(Member(field)).Name("Window(Sum)");
  }
  template <size_t I>
  DataStream<T> Sum() {
    return SumOf(Element<I>()).Name("Window(Sum)");
  }

  DataStream<T> Min()
    requires std::is_arithmetic_v<T>
  {
    return MinOf(Whole()).Name("Window(Min)");
  }
  template <typename Field>
    requires std::is_member_object_pointer_v<Field>
  DataStream<T> Min(Field field) {
    return MinOf(Member(field)).Name("Window(Min)");
  }
  template <size_t I>
  DataStream<T> Min() {
    return MinOf(Element<I>()).Name("Window(Min)");
  }

  DataStream<T> Max()
    requires std::is_arithmetic_v<T>
  {
    return MaxOf(Whole()).Name("Window(Max)");
  }
  template <typename Field>
    requires std::is_member_object_pointer_v<Field>
  DataStream<T> Max(Field field) {
    return MaxOf(Member(field)).Name("Window(Max)");
  }
  template <size_t I>
  DataStream<T> Max() {
    return MaxOf(Element<I>()).Name("Window(Max)");
  }

  DataStream<T> MinBy(bool first = true)
    requires std::is_arithmetic_v<T>
  {
    return ByOf(Whole(), first, /*min=*/true).Name("Window(MinBy)");
  }
  /// `field`: a pointer to a data member, or a callable (const T&) -> value.
  template <typename Field>
  DataStream<T> MinBy(Field field, bool first = true) {
    return ByOf(Reader(field), first, /*min=*/true).Name("Window(MinBy)");
  }
  template <size_t I>
  DataStream<T> MinBy(bool first = true) {
    return ByOf(Element<I>(), first, /*min=*/true).Name("Window(MinBy)");
  }

  DataStream<T> MaxBy(bool first = true)
    requires std::is_arithmetic_v<T>
  {
    return ByOf(Whole(), first, /*min=*/false).Name("Window(MaxBy)");
  }
  template <typename Field>
  DataStream<T> MaxBy(Field field, bool first = true) {
    return ByOf(Reader(field), first, /*min=*/false).Name("Window(MaxBy)");
  }
  template <size_t I>
  DataStream<T> MaxBy(bool first = true) {
    return ByOf(Element<I>(), first, /*min=*/false).Name("Window(MaxBy)");
  }

 private:
  template <typename Out>
  using ContentsPtr = std::unique_ptr<detail::WindowContents<K, T, W, Out>>;
  template <typename Out>
  static ContentsPtr<Out> Contents(ContentsPtr<Out> contents) {
    return contents;
  }

  template <typename Tr>
  void SetTrigger(Tr trigger) {
    trigger_ = [trigger = std::move(trigger)]() {
      return std::unique_ptr<detail::TriggerBase<T, W>>(
          std::make_unique<detail::TriggerAdapter<T, W, Tr>>(trigger));
    };
  }

  // Makes the function a firing window runs, once per parallel instance.
  template <typename I, typename Out>
  using FunctionFactory =
      std::function<std::unique_ptr<detail::InternalWindowFunction<K, I, Out, W>>()>;

  template <typename I>
  static FunctionFactory<I, I> PassThrough() {
    return []() -> std::unique_ptr<detail::InternalWindowFunction<K, I, I, W>> {
      return std::make_unique<detail::PassThroughWindowFunction<K, I, W>>();
    };
  }

  // The user's window function, copied per instance; a ProcessAllWindowFunction (after
  // WindowAll) is called without the key.
  template <typename I, typename Out, typename P>
  static FunctionFactory<I, Out> UserFunction(P function) {
    return [function = std::move(
                function)]() -> std::unique_ptr<detail::InternalWindowFunction<K, I, Out, W>> {
      if constexpr (std::is_base_of_v<ProcessAllWindowFunction<I, Out, W>, P>) {
        return std::make_unique<detail::UserWindowFunction<K, I, Out, W, P, true>>(function);
      } else {
        static_assert(std::is_base_of_v<ProcessWindowFunction<I, Out, K, W>, P>,
                      "the window function must derive from ProcessWindowFunction<In, Out, K, W> "
                      "(or ProcessAllWindowFunction<In, Out, W> after WindowAll) with the "
                      "stream's key and window types");
        return std::make_unique<detail::UserWindowFunction<K, I, Out, W, P>>(function);
      }
    };
  }

  template <typename Out, typename F>
  DataStream<Out> ReduceWith(F reduce, FunctionFactory<T, Out> make_function) {
    static_assert(HasTypeSerializer<T>,
                  "Reduce keeps T in keyed state: T needs a sluice::TypeSerializer<T>");
    std::function<T(const T&, const T&)> fn = std::move(reduce);
    if (evictor_) {
      auto evictor = evictor_;
      return Build<Out>("Window(Reduce)", [evictor, fn, make_function]() {
        auto fold = [fn](std::vector<T> values) {
          std::vector<T> out;
          if (values.empty()) return out;
          T accumulated = std::move(values.front());
          for (size_t i = 1; i < values.size(); ++i) accumulated = fn(accumulated, values[i]);
          out.push_back(std::move(accumulated));
          return out;
        };
        return Contents<Out>(std::make_unique<detail::EvictingWindowContents<K, T, W, Out, T>>(
            evictor(), fold, make_function()));
      });
    }
    return Build<Out>("Window(Reduce)", [fn, make_function]() {
      return Contents<Out>(
          std::make_unique<detail::ReducingWindowContents<K, T, W, Out>>(fn, make_function()));
    });
  }

  template <typename A, typename Out, typename I = typename A::output_type>
  DataStream<Out> AggregateWith(A aggregate, FunctionFactory<I, Out> make_function) {
    using Acc = typename A::accumulator_type;
    static_assert(std::is_base_of_v<AggregateFunction<T, Acc, I>, A>,
                  "Aggregate needs an AggregateFunction<T, Acc, R> of the stream's type T");
    static_assert(HasTypeSerializer<Acc>,
                  "Aggregate keeps the accumulator in keyed state: it needs a "
                  "sluice::TypeSerializer");
    if (evictor_) {
      static_assert(HasTypeSerializer<T>,
                    "with an evictor a window keeps its elements: T needs a "
                    "sluice::TypeSerializer");
      auto evictor = evictor_;
      return Build<Out>("Window(Aggregate)", [evictor, aggregate, make_function]() {
        auto fold = [aggregate](std::vector<T> values) mutable {
          Acc accumulator = aggregate.CreateAccumulator();
          for (const T& value : values) accumulator = aggregate.Add(value, std::move(accumulator));
          return std::vector<I>{aggregate.GetResult(accumulator)};
        };
        return Contents<Out>(std::make_unique<detail::EvictingWindowContents<K, T, W, Out, I>>(
            evictor(), fold, make_function()));
      });
    }
    return Build<Out>("Window(Aggregate)", [aggregate, make_function]() {
      return Contents<Out>(std::make_unique<detail::AggregatingWindowContents<K, T, W, Out, A>>(
          aggregate, make_function()));
    });
  }

  template <typename Out, typename MakeContents>
  DataStream<Out> Build(std::string name, MakeContents make_contents) {
    auto key_selector = key_selector_;
    auto assigner = assigner_;
    auto trigger = trigger_;
    const int64_t lateness = allowed_lateness_;
    auto late_tag = late_data_tag_;
    auto factory = [=]() -> std::unique_ptr<detail::StreamOperator> {
      detail::WindowOperatorParts<K, T, W, Out> parts{key_selector,    assigner(), trigger(),
                                                      make_contents(), lateness,   late_tag};
      return std::make_unique<detail::WindowOperator<K, T, W, Out>>(std::move(parts));
    };
    auto node = std::make_unique<detail::OneInputTransformation<T, Out>>(
        graph_->NextId(), std::move(name), factory, input_);
    node->set_keyed();
    if (all_) {
      // WindowAll: one instance sees every element, as Flink's AllWindowedStream.
      node->set_parallelism(1);
      node->set_non_parallel();
    }
    return DataStream<Out>(graph_, graph_->Add(std::move(node)));
  }

  // ---- field access for the aggregations ----
  static auto Whole() {
    return [](auto& value) -> decltype(auto) { return (value); };
  }
  template <typename Field>
  static auto Member(Field field) {
    return [field](auto& value) -> decltype(auto) { return (value.*field); };
  }
  template <size_t I>
  static auto Element() {
    return [](auto& value) -> decltype(auto) { return std::get<I>(value); };
  }
  template <typename Field>
  static auto Reader(Field field) {
    if constexpr (std::is_member_object_pointer_v<Field>) {
      return Member(field);
    } else {
      return [field](const auto& value) { return field(value); };
    }
  }

  template <typename Access>
  DataStream<T> SumOf(Access access) {
    return Reduce([access](const T& a, const T& b) {
      T out = a;
      using Value = std::remove_cvref_t<decltype(access(out))>;
      access(out) = static_cast<Value>(access(a) + access(b));
      return out;
    });
  }
  template <typename Access>
  DataStream<T> MinOf(Access access) {
    return Reduce([access](const T& a, const T& b) {
      T out = a;
      if (access(b) < access(a)) access(out) = access(b);
      return out;
    });
  }
  template <typename Access>
  DataStream<T> MaxOf(Access access) {
    return Reduce([access](const T& a, const T& b) {
      T out = a;
      if (access(a) < access(b)) access(out) = access(b);
      return out;
    });
  }
  template <typename Access>
  DataStream<T> ByOf(Access access, bool first, bool min) {
    return Reduce([access, first, min](const T& a, const T& b) {
      const auto& va = access(a);
      const auto& vb = access(b);
      if (va == vb) return first ? a : b;
      return (min ? vb < va : va < vb) ? b : a;
    });
  }

  detail::GraphBuilder* graph_;
  detail::Transformation* input_;
  KeySelector key_selector_;
  std::function<std::unique_ptr<detail::WindowAssignerBase<T, W>>()> assigner_;
  std::function<std::unique_ptr<detail::TriggerBase<T, W>>()> trigger_;
  std::function<std::unique_ptr<detail::EvictorBase<T, W>>()> evictor_;
  bool event_time_;
  bool merging_;
  bool all_;
  int64_t allowed_lateness_ = 0;
  std::optional<OutputTag<T>> late_data_tag_;
};

/// DataStream::WindowAll's result (Flink's AllWindowedStream): a WindowedStream with one group.
template <typename T, typename W>
using AllWindowedStream = WindowedStream<T, AllWindowKey, W>;

}  // namespace sluice
