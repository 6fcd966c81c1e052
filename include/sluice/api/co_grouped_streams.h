// CoGroupedStreams<T1, T2>: the elements of two streams grouped by key and window (Flink's
// CoGroupedStreams), from DataStream::CoGroup. Window joins (joined_streams.h) are built on it.
//
//   orders.CoGroup(payments)
//       .Where([](const Order& o) { return o.id; })
//       .EqualTo([](const Payment& p) { return p.order_id; })
//       .Window(sluice::TumblingEventTimeWindows::Of(std::chrono::minutes(1)))
//       .Apply(MatchOrders());      // a CoGroupFunction<Order, Payment, Report>
//
// As in Flink, this is a window over the union of both inputs: each input is mapped to a
// TaggedUnion<T1, T2> (its element on one side), the union is keyed by Where's key for the
// first input and EqualTo's for the second, windowed by the assigner, and when a window fires the
// CoGroupFunction gets that key's elements of each input, split back by side. It is called once
// per key and window that has elements, also when one side has none. Trigger, Evictor and
// AllowedLateness are those of WindowedStream, applied to that window (a trigger or evictor sees
// TaggedUnion<T1, T2> elements); late elements follow the window operator's rules (dropped and
// counted in numLateRecordsDropped). Results are stamped with the window's MaxTimestamp().
// docs/joins.md is the guide.
//
// State: the window's contents are a ListState of TaggedUnion<T1, T2> (versioned, see below), so
// both inputs need a sluice::TypeSerializer; they are checkpointed per key group and restored at
// another parallelism like every window.
//
// Thread safety and ownership: as DataStream (build on one thread before Execute; the streams are
// handles into their environment). Errors: Where and EqualTo with different key types, and a
// function of the wrong kind, do not compile; settings that cannot work together throw
// std::invalid_argument with WindowedStream's messages.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/join_functions.h>
#include <sluice/api/windowed_stream.h>
#include <sluice/api/windowing/window_functions.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/transformation.h>
#include <sluice/state/type_serializer.h>

namespace sluice {

// Defined in data_stream.h, which includes this header (DataStream::CoGroup is defined there).
template <typename T>
class DataStream;
template <typename K, typename T>
class KeyedStream;

/// An element of either input of a CoGroup or window Join, tagged with its side (Flink's
/// CoGroupedStreams.TaggedUnion): what the union of both inputs carries into the window. A
/// trigger or evictor of such a window sees these.
template <typename T1, typename T2>
class TaggedUnion {
 public:
  static TaggedUnion One(T1 value) {
    return TaggedUnion(std::variant<T1, T2>(std::in_place_index<0>, std::move(value)));
  }
  static TaggedUnion Two(T2 value) {
    return TaggedUnion(std::variant<T1, T2>(std::in_place_index<1>, std::move(value)));
  }
  bool IsOne() const { return value_.index() == 0; }
  bool IsTwo() const { return value_.index() == 1; }
  /// The element of the first input; std::bad_variant_access unless IsOne().
  const T1& GetOne() const { return std::get<0>(value_); }
  /// The element of the second input; std::bad_variant_access unless IsTwo().
  const T2& GetTwo() const { return std::get<1>(value_); }
  T1& GetOne() { return std::get<0>(value_); }
  T2& GetTwo() { return std::get<1>(value_); }

  friend bool operator==(const TaggedUnion& a, const TaggedUnion& b) {
    return a.value_ == b.value_;
  }

 private:
  explicit TaggedUnion(std::variant<T1, T2> value) : value_(std::move(value)) {}
  std::variant<T1, T2> value_;
};

/// Format version 1: u8 side (0: first input, 1: second input), then the element written by
/// SerializeValue of its type. Any other side byte is rejected.
template <typename T1, typename T2>
  requires HasTypeSerializer<T1> && HasTypeSerializer<T2>
struct TypeSerializer<TaggedUnion<T1, T2>> {
  static constexpr std::uint32_t kVersion = 1;
  static void Serialize(const TaggedUnion<T1, T2>& value, DataOutput& out) {
    if (value.IsOne()) {
      out.WriteU8(0);
      SerializeValue(value.GetOne(), out);
    } else {
      out.WriteU8(1);
      SerializeValue(value.GetTwo(), out);
    }
  }
  static TaggedUnion<T1, T2> Deserialize(DataInput& in, std::uint32_t) {
    const std::size_t offset = in.position();
    const std::uint8_t side = in.ReadU8();
    if (side == 0) return TaggedUnion<T1, T2>::One(DeserializeValue<T1>(in));
    if (side == 1) return TaggedUnion<T1, T2>::Two(DeserializeValue<T2>(in));
    ThrowSerializationError(TypeName(), offset,
                            "side byte " + std::to_string(side) + " is neither 0 nor 1");
  }
  static std::string TypeName() { return "tagged_union<" + detail::JoinTypeNames<T1, T2>() + ">"; }
};

namespace detail {

/// True when `F`, called with a const T&, returns exactly the key type K: the two key selectors of
/// a join (Where / EqualTo, or the two KeyBy of an interval join) must agree on the key type, as
/// Flink requires of their TypeInformation.
template <typename K, typename F, typename T>
concept SameKeyType = std::is_same_v<K, std::decay_t<std::invoke_result_t<F&, const T&>>>;

/// A user function nested in one of ours (a CoGroupFunction in the window function, a
/// JoinFunction in a CoGroupFunction): gets the lifecycle calls its holder gets.
template <typename F>
class NestedFunction {
 public:
  explicit NestedFunction(F function) : function_(std::move(function)) {}
  F& get() { return function_; }
  void Open(RuntimeContext& context) {
    if constexpr (std::is_base_of_v<RichFunction, F>) {
      function_.SetRuntimeContext(&context);
      function_.Open();
    }
  }
  void Close() {
    if constexpr (std::is_base_of_v<RichFunction, F>) function_.Close();
  }
  void SnapshotState(CheckpointId id) {
    if constexpr (std::is_base_of_v<CheckpointedFunction, F>) function_.SnapshotState(id);
  }
  void NotifyCheckpointComplete(CheckpointId id) {
    if constexpr (std::is_base_of_v<CheckpointListener, F>) function_.NotifyCheckpointComplete(id);
  }
  void NotifyCheckpointAborted(CheckpointId id) {
    if constexpr (std::is_base_of_v<CheckpointListener, F>) function_.NotifyCheckpointAborted(id);
  }

 private:
  F function_;
};

/// The window function of a CoGroup (Flink's CoGroupWindowFunction): splits the window's tagged
/// elements by side, each side in arrival order, and calls the CoGroupFunction `F` once.
template <typename T1, typename T2, typename Out, typename K, typename W, typename F>
class CoGroupWindowFunction final : public ProcessWindowFunction<TaggedUnion<T1, T2>, Out, K, W>,
                                    public CheckpointedFunction,
                                    public CheckpointListener {
 public:
  explicit CoGroupWindowFunction(F function) : function_(std::move(function)) {}
  void Open() override { function_.Open(this->GetRuntimeContext()); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override {
    function_.NotifyCheckpointComplete(id);
  }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyCheckpointAborted(id); }

  void Process(const K&, typename ProcessWindowFunction<TaggedUnion<T1, T2>, Out, K, W>::Context&,
               const std::vector<TaggedUnion<T1, T2>>& elements, Collector<Out>& out) override {
    std::vector<T1> first;
    std::vector<T2> second;
    for (const TaggedUnion<T1, T2>& element : elements) {
      if (element.IsOne()) {
        first.push_back(element.GetOne());
      } else {
        second.push_back(element.GetTwo());
      }
    }
    function_.get().CoGroup(first, second, out);
  }

 private:
  NestedFunction<F> function_;
};

/// What CoGroupedStreams and JoinedStreams share once the window is chosen: the inputs, the key
/// selectors, the assigner and the window's settings, turned into the tagged union, keyed window
/// and window function by Apply (as Flink's CoGroupedStreams.WithWindow.apply).
template <typename T1, typename T2, typename K, typename W>
class CoGroupWindowSpec {
 public:
  using Union = TaggedUnion<T1, T2>;
  using Windowed = WindowedStream<Union, K, W>;

  template <typename A>
  CoGroupWindowSpec(GraphBuilder* graph, Transformation* input1, Transformation* input2,
                    std::function<K(const T1&)> key1, std::function<K(const T2&)> key2, A assigner)
      : graph_(graph),
        input1_(input1),
        input2_(input2),
        key1_(std::move(key1)),
        key2_(std::move(key2)),
        merging_(MergingAssigner<A>) {
    static_assert(std::is_same_v<typename A::window_type, W>);
    window_ = [assigner = std::move(assigner)](KeyedStream<K, Union>& keyed) {
      return keyed.Window(assigner);
    };
  }

  template <typename Tr>
  void Trigger(Tr trigger) {
    // Refused here already (WindowedStream checks again), so the error comes from the call
    // that caused it.
    if (merging_ && !trigger.CanMerge()) {
      throw std::invalid_argument(
          "A merging window assigner cannot be used with a trigger that does not support "
          "merging.");
    }
    settings_.push_back(
        [trigger = std::move(trigger)](Windowed& windowed) { windowed.Trigger(trigger); });
  }
  template <typename E>
  void Evictor(E evictor) {
    settings_.push_back(
        [evictor = std::move(evictor)](Windowed& windowed) { windowed.Evictor(evictor); });
  }
  void AllowedLateness(std::chrono::milliseconds lateness) {
    if (lateness.count() < 0)
      throw std::invalid_argument("The allowed lateness cannot be negative.");
    settings_.push_back([lateness](Windowed& windowed) { windowed.AllowedLateness(lateness); });
  }

  /// `function` is a CoGroupFunction<T1, T2, Out> (or an adapter of a join function).
  template <typename Out, typename F>
  DataStream<Out> Apply(F function, std::string name) {
    static_assert(HasTypeSerializer<T1> && HasTypeSerializer<T2>,
                  "a CoGroup or Join keeps the elements of both inputs in window state: both "
                  "element types need a sluice::TypeSerializer");
    DataStream<Union> tagged1 =
        DataStream<T1>(graph_, input1_).Map([](T1 value) { return Union::One(std::move(value)); });
    DataStream<Union> tagged2 =
        DataStream<T2>(graph_, input2_).Map([](T2 value) { return Union::Two(std::move(value)); });
    // As Flink: the taggers run at their input's parallelism, so they chain to it.
    tagged1.Name("Input1Tagger");
    tagged2.Name("Input2Tagger");
    if (input1_->parallelism() > 0) tagged1.SetParallelism(input1_->parallelism());
    if (input2_->parallelism() > 0) tagged2.SetParallelism(input2_->parallelism());
    auto key1 = key1_;
    auto key2 = key2_;
    KeyedStream<K, Union> keyed =
        tagged1.Union(tagged2).KeyBy([key1, key2](const Union& element) -> K {
          return element.IsOne() ? key1(element.GetOne()) : key2(element.GetTwo());
        });
    Windowed windowed = window_(keyed);
    for (const auto& setting : settings_) setting(windowed);
    DataStream<Out> result =
        windowed.Process(CoGroupWindowFunction<T1, T2, Out, K, W, F>(std::move(function)));
    result.Name(std::move(name));
    // The taggers are named by the window operator's uid (Uid on the result).
    tagged1.node()->set_uid_owner(result.node(), "-input1-tagger");
    tagged2.node()->set_uid_owner(result.node(), "-input2-tagger");
    return result;
  }

 private:
  GraphBuilder* graph_;
  Transformation* input1_;
  Transformation* input2_;
  std::function<K(const T1&)> key1_;
  std::function<K(const T2&)> key2_;
  bool merging_;
  std::function<Windowed(KeyedStream<K, Union>&)> window_;
  std::vector<std::function<void(Windowed&)>> settings_;
};

/// A plain callable (const std::vector<T1>&, const std::vector<T2>&, Collector<Out>&) as a
/// CoGroupFunction.
template <typename T1, typename T2, typename Out, typename F>
class CallableCoGroupFunction final : public CoGroupFunction<T1, T2, Out> {
 public:
  explicit CallableCoGroupFunction(F function) : function_(std::move(function)) {}
  void CoGroup(const std::vector<T1>& first, const std::vector<T2>& second,
               Collector<Out>& out) override {
    function_(first, second, out);
  }

 private:
  F function_;
};

}  // namespace detail

template <typename T1, typename T2, typename K, typename W>
class CoGroupedStreamsWithWindow;
template <typename T1, typename T2, typename K>
class CoGroupedStreamsEqualTo;
template <typename T1, typename T2, typename K>
class CoGroupedStreamsWhere;

/// DataStream::CoGroup's result: choose the first input's key with Where.
template <typename T1, typename T2>
class CoGroupedStreams {
 public:
  /// Runtime side: DataStream::CoGroup makes these.
  CoGroupedStreams(detail::GraphBuilder* graph, detail::Transformation* input1,
                   detail::Transformation* input2)
      : graph_(graph), input1_(input1), input2_(input2) {}

  /// The key of the first input: a callable const T1& -> K (K with a sluice::TypeSerializer and
  /// a sluice::KeyHash, as for KeyBy).
  template <typename F>
  auto Where(F key_selector) {
    using K = std::decay_t<std::invoke_result_t<F&, const T1&>>;
    return CoGroupedStreamsWhere<T1, T2, K>(graph_, input1_, input2_,
                                            std::function<K(const T1&)>(std::move(key_selector)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
};

/// CoGroup(...).Where(...) (Flink's CoGroupedStreams.Where): choose the second input's key.
template <typename T1, typename T2, typename K>
class CoGroupedStreamsWhere {
 public:
  CoGroupedStreamsWhere(detail::GraphBuilder* graph, detail::Transformation* input1,
                        detail::Transformation* input2, std::function<K(const T1&)> key1)
      : graph_(graph), input1_(input1), input2_(input2), key1_(std::move(key1)) {}

  /// The key of the second input: a callable const T2& -> K, the same key type as Where's (a
  /// selector of another key type does not compile: the constraint SameKeyType fails).
  template <typename F>
    requires detail::SameKeyType<K, F, T2>
  CoGroupedStreamsEqualTo<T1, T2, K> EqualTo(F key_selector) {
    return CoGroupedStreamsEqualTo<T1, T2, K>(graph_, input1_, input2_, key1_,
                                              std::function<K(const T2&)>(std::move(key_selector)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
  std::function<K(const T1&)> key1_;
};

/// CoGroup(...).Where(...).EqualTo(...) (Flink's CoGroupedStreams.Where.EqualTo): choose the
/// window.
template <typename T1, typename T2, typename K>
class CoGroupedStreamsEqualTo {
 public:
  CoGroupedStreamsEqualTo(detail::GraphBuilder* graph, detail::Transformation* input1,
                          detail::Transformation* input2, std::function<K(const T1&)> key1,
                          std::function<K(const T2&)> key2)
      : graph_(graph),
        input1_(input1),
        input2_(input2),
        key1_(std::move(key1)),
        key2_(std::move(key2)) {}

  /// Windows of `assigner` (any of sluice/api/windowing/assigners.h: tumbling, sliding and
  /// session windows in event or processing time, GlobalWindows with a trigger).
  template <typename A>
  auto Window(A assigner) {
    using W = typename A::window_type;
    return CoGroupedStreamsWithWindow<T1, T2, K, W>(detail::CoGroupWindowSpec<T1, T2, K, W>(
        graph_, input1_, input2_, key1_, key2_, std::move(assigner)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
  std::function<K(const T1&)> key1_;
  std::function<K(const T2&)> key2_;
};

/// A CoGroup with its window (Flink's CoGroupedStreams.WithWindow): settings, then Apply.
template <typename T1, typename T2, typename K, typename W>
class CoGroupedStreamsWithWindow {
 public:
  explicit CoGroupedStreamsWithWindow(detail::CoGroupWindowSpec<T1, T2, K, W> spec)
      : spec_(std::move(spec)) {}

  /// Replaces the assigner's default trigger (a trigger of TaggedUnion<T1, T2> elements; the
  /// built-in ones take any element). std::invalid_argument for a merging assigner with a
  /// trigger that cannot merge.
  template <typename Tr>
  CoGroupedStreamsWithWindow& Trigger(Tr trigger) {
    spec_.Trigger(std::move(trigger));
    return *this;
  }
  /// Evicts elements (TaggedUnion<T1, T2>) before and/or after the function runs.
  template <typename E>
  CoGroupedStreamsWithWindow& Evictor(E evictor) {
    spec_.Evictor(std::move(evictor));
    return *this;
  }
  /// As WindowedStream::AllowedLateness. std::invalid_argument if negative.
  CoGroupedStreamsWithWindow& AllowedLateness(std::chrono::milliseconds lateness) {
    spec_.AllowedLateness(lateness);
    return *this;
  }

  /// `function` is a CoGroupFunction<T1, T2, Out> (copied per parallel instance).
  template <typename F>
    requires std::is_base_of_v<CoGroupFunction<T1, T2, typename F::output_type>, F>
  auto Apply(F function) {
    using Out = typename F::output_type;
    return spec_.template Apply<Out>(std::move(function), "Window(CoGroup)");
  }
  /// `function` is a callable (const std::vector<T1>&, const std::vector<T2>&, Collector<Out>&).
  template <typename Out, typename F>
    requires std::is_invocable_v<F&, const std::vector<T1>&, const std::vector<T2>&,
                                 Collector<Out>&>
  DataStream<Out> Apply(F function) {
    return spec_.template Apply<Out>(
        detail::CallableCoGroupFunction<T1, T2, Out, F>(std::move(function)), "Window(CoGroup)");
  }

 private:
  detail::CoGroupWindowSpec<T1, T2, K, W> spec_;
};

}  // namespace sluice
