// DataStream<T> and KeyedStream<K, T>: the job as a chain of calls, as in Flink.
//
//   auto env = sluice::StreamExecutionEnvironment::Create();
//   env->GenerateSequence(1, 1000)
//       .Map([](int64_t n) { return n % 10; })
//       .KeyBy([](int64_t digit) { return digit; })
//       .Sum()
//       .Print();
//   env->Execute("digits");
//
// Functions are plain callables or classes derived from the Rich function templates in
// sluice/api/functions.h. Every parallel instance gets its own copy of a function (Flink
// deserialises one per instance), so functions must be copyable; state that must survive
// failures belongs in sluice state, not in members.
//
// Thread safety: build the job on one thread before Execute(); the objects are not used while
// the job runs. Ownership: streams are light handles into their environment, which owns the
// graph; they must not outlive it. Errors: wrong graphs (a forward edge between different
// parallelisms, duplicate uids, ...) are reported by Execute().
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include <sluice/api/broadcast_connected_stream.h>
#include <sluice/api/co_grouped_streams.h>
#include <sluice/api/connected_streams.h>
#include <sluice/api/functions.h>
#include <sluice/api/interval_join.h>
#include <sluice/api/joined_streams.h>
#include <sluice/api/key_hash.h>
#include <sluice/api/output_tag.h>
#include <sluice/api/sink.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/api/windowed_stream.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/key_setting_operator.h>
#include <sluice/detail/operators.h>
#include <sluice/detail/partitioner.h>
#include <sluice/detail/transformation.h>
#include <sluice/state/type_serializer.h>

namespace sluice {

template <typename K, typename T>
class KeyedStream;

/// The handle of a sink (Flink's DataStreamSink): its settings apply to the sink itself.
class DataStreamSink {
 public:
  explicit DataStreamSink(detail::Transformation* node) : node_(node) {}
  DataStreamSink& SetParallelism(int32_t parallelism) {
    node_->set_parallelism(parallelism);
    return *this;
  }
  DataStreamSink& Name(std::string name) {
    node_->set_name(std::move(name));
    return *this;
  }
  DataStreamSink& Uid(std::string uid) {
    node_->set_uid(std::move(uid));
    return *this;
  }
  detail::Transformation* node() const { return node_; }

 private:
  detail::Transformation* node_;
};

template <typename T>
class DataStream {
 public:
  using value_type = T;

  DataStream(detail::GraphBuilder* graph, detail::Transformation* node)
      : graph_(graph), node_(node) {}

  // ---- per-operator settings (apply to the operator that produced this stream) ----
  DataStream& SetParallelism(int32_t parallelism) {
    node_->set_parallelism(parallelism);
    return *this;
  }
  DataStream& Name(std::string name) {
    node_->set_name(std::move(name));
    return *this;
  }
  /// The operator's identity across restarts and savepoints: its state is matched by uid.
  DataStream& Uid(std::string uid) {
    node_->set_uid(std::move(uid));
    return *this;
  }

  // ---- transformations ----
  /// `f` is a callable T -> Out, or a class derived from RichMapFunction<T, Out>.
  template <typename F>
  auto Map(F f) {
    if constexpr (std::is_base_of_v<RichFunction, F>) {
      using Out = decltype(f.Map(std::declval<T>()));
      return AddOneInput<Out>("Map",
                              MakeOperator<detail::MapOperator<T, Out, F>, Out>(std::move(f)));
    } else {
      using Out = std::decay_t<std::invoke_result_t<F&, T>>;
      return AddOneInput<Out>("Map",
                              MakeOperator<detail::MapOperator<T, Out, F>, Out>(std::move(f)));
    }
  }

  /// `f` is a callable (T, Collector<Out>&), or a RichFlatMapFunction<T, Out> (then Out may be
  /// left out).
  template <typename Out, typename F>
  DataStream<Out> FlatMap(F f) {
    return AddOneInput<Out>("FlatMap",
                            MakeOperator<detail::FlatMapOperator<T, Out, F>, Out>(std::move(f)));
  }
  template <typename F>
    requires std::is_base_of_v<RichFunction, F>
  auto FlatMap(F f) {
    using Out = typename FlatMapOutput<F>::type;
    return FlatMap<Out, F>(std::move(f));
  }

  /// `f` is a ProcessFunction<T, Out> subclass (copied per instance): each element with its
  /// timestamp, the clocks and side outputs (ctx.Output); timers need a keyed stream.
  template <typename F>
    requires std::is_base_of_v<ProcessFunction<T, typename F::output_type>, F>
  auto Process(F function) {
    using Out = typename F::output_type;
    return AddOneInput<Out>(
        "Process", MakeOperator<detail::ProcessOperator<T, Out, F>, Out>(std::move(function)));
  }

  /// The records the operator that produced this stream emitted to `tag` (ctx.Output), with
  /// their timestamps, and its watermarks. Only an operator's own stream has side outputs: on
  /// the stream of KeyBy, Union or a partitioning, Execute() reports an error. An operator that
  /// never emits to `tag` gives an empty stream.
  template <typename S>
  DataStream<S> GetSideOutput(const OutputTag<S>& tag) {
    auto node =
        std::make_unique<detail::SideOutputTransformation<S>>(graph_->NextId(), tag.id(), node_);
    return DataStream<S>(graph_, graph_->Add(std::move(node)));
  }

  /// Keeps elements for which `f` (a callable const T& -> bool, or a RichFilterFunction<T>) is
  /// true.
  template <typename F>
  DataStream<T> Filter(F f) {
    return AddOneInput<T>("Filter", MakeOperator<detail::FilterOperator<T, F>, T>(std::move(f)));
  }

  /// Partitions by key: records with equal keys go to the same parallel instance and share
  /// keyed state. The key needs a sluice::TypeSerializer and a sluice::KeyHash.
  template <typename F>
  auto KeyBy(F key_selector) {
    using K = std::decay_t<std::invoke_result_t<F&, const T&>>;
    static_assert(HasTypeSerializer<K>, "KeyBy: the key type needs a sluice::TypeSerializer<K>");
    std::function<K(const T&)> selector = std::move(key_selector);
    auto* partition = AddVirtual(
        "KeyBy", detail::Transformation::Kind::kPartition,
        std::make_unique<detail::KeyGroupPartitioner<T, K>>(selector, graph_->max_parallelism()));
    return KeyedStream<K, T>(graph_, partition, std::move(selector));
  }

  /// Groups the whole stream into windows of `assigner` (sluice/api/windowing/assigners.h),
  /// evaluated by one parallel instance (Flink's windowAll: the window operator has
  /// parallelism 1). Returns an AllWindowedStream (sluice/api/windowed_stream.h).
  template <typename A>
  auto WindowAll(A assigner);

  DataStream<T> Rebalance() {
    return Partition("Rebalance", std::make_unique<detail::RebalancePartitioner<T>>());
  }
  DataStream<T> Shuffle() {
    return Partition("Shuffle", std::make_unique<detail::ShufflePartitioner<T>>());
  }
  DataStream<T> Broadcast() {
    return Partition("Broadcast", std::make_unique<detail::BroadcastPartitioner<T>>());
  }
  /// Broadcasts this stream with broadcast state: for Connect, whose operator keeps one map per
  /// descriptor (MapStateDescriptor<K, V>), the same copy on each of its parallel instances
  /// (sluice/api/broadcast_connected_stream.h). Two descriptors of one name throw
  /// std::invalid_argument.
  template <typename... Descriptors>
    requires(sizeof...(Descriptors) > 0)
  BroadcastStream<T> Broadcast(const Descriptors&... descriptors) {
    auto states = std::make_shared<detail::BroadcastStateDescriptors>();
    (states->Add(descriptors), ...);
    DataStream<T> broadcast = Broadcast();
    return BroadcastStream<T>(graph_, broadcast.node(), std::move(states));
  }

  /// This stream and `other` as the two inputs of one operator (ConnectedStreams:
  /// Map/FlatMap/Process with a function of two inputs, KeyBy(key1, key2)).
  template <typename T2>
  ConnectedStreams<T, T2> Connect(const DataStream<T2>& other) {
    return ConnectedStreams<T, T2>(graph_, node_, other.node());
  }
  /// This stream and a broadcast stream: Process(BroadcastProcessFunction).
  template <typename T2>
  BroadcastConnectedStream<T, T2> Connect(const BroadcastStream<T2>& broadcast) {
    return BroadcastConnectedStream<T, T2>(graph_, node_, broadcast);
  }
  /// The window join of this stream and `other` (Flink's join):
  /// `Join(other).Where(key1).EqualTo(key2).Window(assigner).Apply(f)` calls f for every pair of
  /// elements of one key in one window (sluice/api/joined_streams.h, docs/joins.md).
  template <typename T2>
  JoinedStreams<T, T2> Join(const DataStream<T2>& other) {
    return JoinedStreams<T, T2>(graph_, node_, other.node());
  }
  /// The window co-group of this stream and `other` (Flink's coGroup): as Join, but the
  /// CoGroupFunction gets all elements of one key and window from both sides at once, also when
  /// one side has none (sluice/api/co_grouped_streams.h).
  template <typename T2>
  CoGroupedStreams<T, T2> CoGroup(const DataStream<T2>& other) {
    return CoGroupedStreams<T, T2>(graph_, node_, other.node());
  }
  /// Each instance sends to the instance with the same index; needs equal parallelism.
  DataStream<T> Forward() {
    return Partition("Forward", std::make_unique<detail::ForwardPartitioner<T>>());
  }
  /// `partitioner(key, num_partitions)` picks the downstream instance for the key of each record.
  template <typename P, typename F>
  DataStream<T> PartitionCustom(P partitioner, F key_selector) {
    using K = std::decay_t<std::invoke_result_t<F&, const T&>>;
    return Partition("PartitionCustom",
                     std::make_unique<detail::CustomPartitioner<T, K>>(
                         std::function<int(const K&, int)>(std::move(partitioner)),
                         std::function<K(const T&)>(std::move(key_selector))));
  }

  /// This stream and the others, merged (records of all inputs, in no particular order).
  template <typename... Streams>
  DataStream<T> Union(const Streams&... others) {
    auto node = std::make_unique<detail::VirtualTransformation<T>>(
        graph_->NextId(), "Union", detail::Transformation::Kind::kUnion);
    node->AddInput(node_);
    (node->AddInput(others.node()), ...);
    return DataStream<T>(graph_, graph_->Add(std::move(node)));
  }

  /// Assigns event timestamps and generates watermarks here (replacing upstream ones).
  DataStream<T> AssignTimestampsAndWatermarks(WatermarkStrategy<T> strategy) {
    auto factory = [strategy]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::TimestampsAndWatermarksOperator<T>>(strategy);
    };
    return AddOneInput<T>("Timestamps/Watermarks", factory);
  }

  // ---- sinks ----
  /// `sink` is a SinkFunction<T> or RichSinkFunction<T> subclass, copied per instance.
  template <typename S>
    requires std::is_base_of_v<SinkFunction<T>, S>
  DataStreamSink AddSink(S sink) {
    auto factory = [sink = std::move(sink)]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::SinkFunctionOperator<T, S>>(sink);
    };
    return AddSinkNode("Sink", factory, nullptr);
  }
  /// `sink` is a Sink<T> value in Flink's legacy AddSink shape (e.g.
  /// kafka::KafkaProducerSink<T>): copied once, then as SinkTo.
  template <typename S>
    requires std::derived_from<S, Sink<T>> && std::copy_constructible<S>
  DataStreamSink AddSink(S sink) {
    return SinkTo(std::make_shared<const S>(std::move(sink)));
  }
  /// Writes through a Sink (e.g. KafkaSink); the definition is shared by all instances.
  DataStreamSink SinkTo(std::shared_ptr<const Sink<T>> sink, std::string name = "Sink") {
    auto factory = [sink]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::SinkWriterOperator<T>>(sink);
    };
    return AddSinkNode(std::move(name), factory, std::move(sink));
  }
  /// Prints every record to standard output ("<instance>> record" when parallel).
  DataStreamSink Print() { return PrintTo(false, "Print to Std. Out"); }
  DataStreamSink PrintToErr() { return PrintTo(true, "Print to Std. Err"); }

  detail::Transformation* node() const { return node_; }

 protected:
  using Factory = std::function<std::unique_ptr<detail::StreamOperator>()>;

  template <typename F>
  struct FlatMapOutput;
  template <typename F>
    requires requires { typename F::output_type; }
  struct FlatMapOutput<F> {
    using type = typename F::output_type;
  };

  /// A factory making one operator per parallel instance, each with its own copy of `f`.
  template <typename Op, typename Out, typename F>
  Factory MakeOperator(F f) {
    return [f]() -> std::unique_ptr<detail::StreamOperator> { return std::make_unique<Op>(f); };
  }

  template <typename Out>
  DataStream<Out> AddOneInput(std::string name, Factory factory) {
    auto node = std::make_unique<detail::OneInputTransformation<T, Out>>(
        graph_->NextId(), std::move(name), WrapFactory<Out>(std::move(factory)), node_);
    if (keyed_) node->set_keyed();
    return DataStream<Out>(graph_, graph_->Add(std::move(node)));
  }

  /// On a keyed stream, operators set the current key before every element.
  template <typename Out>
  Factory WrapFactory(Factory factory) {
    return key_wrapper_ ? key_wrapper_(std::move(factory)) : factory;
  }

  DataStreamSink AddSinkNode(std::string name, Factory factory,
                             std::shared_ptr<const Sink<T>> sink) {
    auto node = std::make_unique<detail::SinkTransformation<T>>(graph_->NextId(), std::move(name),
                                                                WrapFactory<T>(std::move(factory)),
                                                                node_, std::move(sink));
    if (keyed_) node->set_keyed();
    return DataStreamSink(graph_->Add(std::move(node)));
  }

  DataStreamSink PrintTo(bool to_stderr, std::string name) {
    static_assert(detail::Streamable<T>, "Print() needs operator<<(std::ostream&, const T&)");
    return AddSink(detail::PrintSinkFunction<T>(to_stderr)).Name(std::move(name));
  }

  DataStream<T> Partition(std::string name, std::unique_ptr<detail::Partitioner<T>> partitioner) {
    return DataStream<T>(graph_,
                         AddVirtual(std::move(name), detail::Transformation::Kind::kPartition,
                                    std::move(partitioner)));
  }
  detail::Transformation* AddVirtual(std::string name, detail::Transformation::Kind kind,
                                     std::unique_ptr<detail::Partitioner<T>> partitioner) {
    auto node = std::make_unique<detail::VirtualTransformation<T>>(
        graph_->NextId(), std::move(name), kind, std::move(partitioner));
    node->AddInput(node_);
    return graph_->Add(std::move(node));
  }

  detail::GraphBuilder* graph_;
  detail::Transformation* node_;
  bool keyed_ = false;
  // Set by KeyedStream: wraps an operator factory so the operator sets the current key.
  std::function<Factory(Factory)> key_wrapper_;
};

/// A stream partitioned by key (Flink's KeyedStream). Operators applied to it may use keyed
/// state and timers.
template <typename K, typename T>
class KeyedStream : public DataStream<T> {
 public:
  using KeySelector = std::function<K(const T&)>;

  KeyedStream(detail::GraphBuilder* graph, detail::Transformation* node, KeySelector key_selector)
      : DataStream<T>(graph, node), key_selector_(std::move(key_selector)) {
    this->keyed_ = true;
    KeySelector selector = key_selector_;
    this->key_wrapper_ =
        [selector](typename DataStream<T>::Factory factory) -> typename DataStream<T>::Factory {
      return [factory = std::move(factory), selector]() -> std::unique_ptr<detail::StreamOperator> {
        return std::make_unique<detail::KeySettingOperator<K, T>>(factory(), selector);
      };
    };
  }

  const KeySelector& key_selector() const { return key_selector_; }

  /// Two keyed streams of one key type: KeyedConnectedStreams (Process with a
  /// KeyedCoProcessFunction, keyed state in Map and FlatMap).
  template <typename K2, typename T2>
  KeyedConnectedStreams<K, T, T2> Connect(const KeyedStream<K2, T2>& other) {
    static_assert(std::is_same_v<K, K2>,
                  "Connect: two keyed streams with different key types; key both by one type");
    return KeyedConnectedStreams<K, T, T2>(this->graph_, this->node_, other.node(), key_selector_,
                                           other.key_selector());
  }
  /// A keyed stream and a non-keyed one: ConnectedStreams (the operator is not keyed).
  template <typename T2>
  ConnectedStreams<T, T2> Connect(const DataStream<T2>& other) {
    return DataStream<T>::Connect(other);
  }
  /// This keyed stream and a broadcast stream: Process(KeyedBroadcastProcessFunction).
  template <typename T2>
  KeyedBroadcastConnectedStream<K, T, T2> Connect(const BroadcastStream<T2>& broadcast) {
    return KeyedBroadcastConnectedStream<K, T, T2>(this->graph_, this->node_, key_selector_,
                                                   broadcast);
  }

  /// Joins this keyed stream with `other` (keyed by the same key type) on elements whose
  /// timestamps lie within Between(lower, upper) of each other (Flink's intervalJoin):
  /// `IntervalJoin(other).Between(lower, upper).Process(f)` (sluice/api/interval_join.h). Event
  /// time only.
  /// Both streams must be keyed by one key type: another does not compile (the constraint
  /// std::is_same_v<K, K2> fails).
  template <typename K2, typename T2>
    requires std::is_same_v<K, K2>
  sluice::IntervalJoin<T, T2, K> IntervalJoin(const KeyedStream<K2, T2>& other) {
    return sluice::IntervalJoin<T, T2, K>(this->graph_, this->node_, other.node(), key_selector_,
                                          other.key_selector());
  }

  /// A KeyedProcessFunction<K, T, Out> subclass, copied per instance.
  template <typename F>
  auto Process(F function) {
    using Out = typename ProcessOutput<F>::type;
    KeySelector selector = key_selector_;
    auto factory = [function = std::move(function),
                    selector]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::KeyedProcessOperator<K, T, Out, F>>(function, selector);
    };
    return AddKeyedNode<Out>("KeyedProcess", factory);
  }

  /// Groups each key's elements into windows of `assigner` (TumblingEventTimeWindows::Of(...),
  /// ...: sluice/api/windowing/assigners.h); returns a WindowedStream
  /// (sluice/api/windowed_stream.h) whose Reduce / Aggregate / Process / Sum ... give the
  /// results. docs/windows.md is the guide.
  template <typename A>
  auto Window(A assigner);
  /// Windows of `size` elements per key (Flink's countWindow: GlobalWindows, fired and purged
  /// by a CountTrigger).
  auto CountWindow(int64_t size);
  /// Sliding count windows: the last `size` elements of the key, every `slide` elements
  /// (GlobalWindows with a CountEvictor and a CountTrigger).
  auto CountWindow(int64_t size, int64_t slide);

  /// The running reduction per key, emitted after every element.
  template <typename F>
  DataStream<T> Reduce(F reduce) {
    static_assert(HasTypeSerializer<T>,
                  "Reduce keeps T in keyed state: T needs a sluice::TypeSerializer<T>");
    std::function<T(const T&, const T&)> fn = std::move(reduce);
    KeySelector selector = key_selector_;
    auto factory = [fn, selector]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::ReduceOperator<K, T>>(fn, selector);
    };
    return AddKeyedNode<T>("Keyed Reduce", factory);
  }

  /// Running sum / min / max of an arithmetic stream, or of one arithmetic field of a struct
  /// (the other fields are those of the first element of the key, as in Flink).
  DataStream<T> Sum()
    requires std::is_arithmetic_v<T>
  {
    return Reduce([](const T& a, const T& b) { return static_cast<T>(a + b); }).Name("Sum");
  }
  DataStream<T> Min()
    requires std::is_arithmetic_v<T>
  {
    return Reduce([](const T& a, const T& b) { return b < a ? b : a; }).Name("Min");
  }
  DataStream<T> Max()
    requires std::is_arithmetic_v<T>
  {
    return Reduce([](const T& a, const T& b) { return a < b ? b : a; }).Name("Max");
  }
  template <typename Field>
    requires std::is_member_object_pointer_v<Field>
  DataStream<T> Sum(Field field) {
    return Reduce([field](const T& a, const T& b) {
             T out = a;
             out.*field = a.*field + b.*field;
             return out;
           })
        .Name("Sum");
  }
  template <typename Field>
    requires std::is_member_object_pointer_v<Field>
  DataStream<T> Min(Field field) {
    return Reduce([field](const T& a, const T& b) {
             T out = a;
             if (b.*field < a.*field) out.*field = b.*field;
             return out;
           })
        .Name("Min");
  }
  template <typename Field>
    requires std::is_member_object_pointer_v<Field>
  DataStream<T> Max(Field field) {
    return Reduce([field](const T& a, const T& b) {
             T out = a;
             if (a.*field < b.*field) out.*field = b.*field;
             return out;
           })
        .Name("Max");
  }
  /// For std::pair / std::tuple elements: the field with index I.
  template <size_t I>
  DataStream<T> Sum() {
    return Reduce([](const T& a, const T& b) {
             T out = a;
             std::get<I>(out) = std::get<I>(a) + std::get<I>(b);
             return out;
           })
        .Name("Sum");
  }

 private:
  template <typename F>
  struct ProcessOutput;
  template <typename F>
    requires requires { typename F::output_type; }
  struct ProcessOutput<F> {
    using type = typename F::output_type;
  };

  template <typename Out>
  DataStream<Out> AddKeyedNode(std::string name, typename DataStream<T>::Factory factory) {
    auto node = std::make_unique<detail::OneInputTransformation<T, Out>>(
        this->graph_->NextId(), std::move(name), std::move(factory), this->node_);
    node->set_keyed();
    return DataStream<Out>(this->graph_, this->graph_->Add(std::move(node)));
  }

  KeySelector key_selector_;
};

// ---- the window entry points (WindowedStream itself is in windowed_stream.h) ----

template <typename K, typename T>
template <typename A>
auto KeyedStream<K, T>::Window(A assigner) {
  using W = typename A::window_type;
  return WindowedStream<T, K, W>(this->graph_, this->node_, key_selector_, std::move(assigner),
                                 /*all=*/false);
}

template <typename K, typename T>
auto KeyedStream<K, T>::CountWindow(int64_t size) {
  return Window(GlobalWindows::Create()).Trigger(PurgingTrigger::Of(CountTrigger::Of(size)));
}

template <typename K, typename T>
auto KeyedStream<K, T>::CountWindow(int64_t size, int64_t slide) {
  auto windowed = Window(GlobalWindows::Create());
  windowed.Evictor(CountEvictor::Of(size)).Trigger(CountTrigger::Of(slide));
  return windowed;
}

template <typename T>
template <typename A>
auto DataStream<T>::WindowAll(A assigner) {
  using W = typename A::window_type;
  auto keyed = KeyBy([](const T&) { return AllWindowKey{0}; });
  return WindowedStream<T, AllWindowKey, W>(graph_, keyed.node(), keyed.key_selector(),
                                            std::move(assigner), /*all=*/true);
}

}  // namespace sluice
