// ConnectedStreams<In1, In2>: two streams, possibly of different types, processed by one
// operator with one method per input (Flink's ConnectedStreams), from DataStream::Connect.
//
//   auto connected = orders.Connect(prices);
//   connected.Map(ToQuote());                              // a CoMapFunction<Order, Price, Quote>
//   connected.KeyBy([](const Order& o) { return o.symbol; },
//                   [](const Price& p) { return p.symbol; })
//       .Process(Enrich());                                 // a KeyedCoProcessFunction
//
// KeyBy(key1, key2) (or Connect between two KeyedStreams of one key type) gives
// KeyedConnectedStreams<K, In1, In2>: elements of one key from either input go to the same
// parallel instance, and Map, FlatMap and Process may use keyed state of that key; Process takes
// a KeyedCoProcessFunction there, which also has timers. In Flink both are one class; here the key
// type is part of the type, so that a function of the wrong kind does not compile.
//
// The operator's watermark is the minimum of both inputs' watermarks, an idle input left out, as
// in Flink; checkpoints align the barriers of both inputs. A two-input operator runs in a task of
// its own (it is never chained to its inputs).
//
// Thread safety and ownership: as DataStream (build on one thread before Execute; the streams
// are handles into their environment). Errors: a function of the wrong kind is a compile error
// naming the right one; graph errors are reported by Execute().
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <sluice/api/co_functions.h>
#include <sluice/detail/co_operators.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/transformation.h>
#include <sluice/state/type_serializer.h>

namespace sluice {

// Defined in data_stream.h, which includes this header (DataStream::Connect and
// KeyedStream::Connect are defined there).
template <typename T>
class DataStream;

template <typename K, typename In1, typename In2>
class KeyedConnectedStreams;

template <typename In1, typename In2>
class ConnectedStreams {
 public:
  /// Runtime side: DataStream::Connect makes these.
  ConnectedStreams(detail::GraphBuilder* graph, detail::Transformation* input1,
                   detail::Transformation* input2)
      : graph_(graph), input1_(input1), input2_(input2) {}

  /// `function` is a CoMapFunction<In1, In2, Out> (copied per parallel instance).
  template <typename F>
  auto Map(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<CoMapFunction<In1, In2, Out>, F>,
                  "ConnectedStreams::Map takes a sluice::CoMapFunction<In1, In2, Out>");
    return AddOperator<Out>("Co-Map", Make<detail::CoMapOperator<In1, In2, Out, F>>(function));
  }

  /// `function` is a CoFlatMapFunction<In1, In2, Out>.
  template <typename F>
  auto FlatMap(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<CoFlatMapFunction<In1, In2, Out>, F>,
                  "ConnectedStreams::FlatMap takes a sluice::CoFlatMapFunction<In1, In2, Out>");
    return AddOperator<Out>("Co-Flat Map",
                            Make<detail::CoFlatMapOperator<In1, In2, Out, F>>(function));
  }

  /// `function` is a CoProcessFunction<In1, In2, Out>: both elements with timestamps, the
  /// clocks and side outputs; timers and keyed state need KeyBy(key1, key2) first.
  template <typename F>
  auto Process(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<CoProcessFunction<In1, In2, Out>, F>,
                  "ConnectedStreams::Process takes a sluice::CoProcessFunction<In1, In2, Out>; a "
                  "KeyedCoProcessFunction needs keyed inputs: KeyBy(key1, key2) first");
    return AddOperator<Out>("Co-Process",
                            Make<detail::CoProcessOperator<In1, In2, Out, F>>(function));
  }

  /// Keys input 1 by `key1` and input 2 by `key2` (callables const In1& -> K and
  /// const In2& -> K, one key type K with a sluice::TypeSerializer and a sluice::KeyHash).
  template <typename F1, typename F2>
  auto KeyBy(F1 key1, F2 key2) {
    using K = std::decay_t<std::invoke_result_t<F1&, const In1&>>;
    using K2 = std::decay_t<std::invoke_result_t<F2&, const In2&>>;
    static_assert(std::is_same_v<K, K2>,
                  "ConnectedStreams::KeyBy: both key selectors must return the same key type");
    auto first = DataStream<In1>(graph_, input1_).KeyBy(std::move(key1));
    auto second = DataStream<In2>(graph_, input2_).KeyBy(std::move(key2));
    return KeyedConnectedStreams<K, In1, In2>(graph_, first.node(), second.node(),
                                              first.key_selector(), second.key_selector());
  }

  /// The first and second input as they are connected.
  DataStream<In1> GetFirstInput() const { return DataStream<In1>(graph_, input1_); }
  DataStream<In2> GetSecondInput() const { return DataStream<In2>(graph_, input2_); }

 protected:
  using Factory = std::function<std::unique_ptr<detail::StreamOperator>()>;

  /// A factory making one operator per parallel instance, each with its own copy of `function`.
  template <typename Op, typename F>
  static Factory Make(F function) {
    return [function]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<Op>(function);
    };
  }

  template <typename Out>
  DataStream<Out> AddOperator(std::string name, Factory factory, bool keyed = false) {
    auto node = std::make_unique<detail::TwoInputTransformation<In1, In2, Out>>(
        graph_->NextId(), std::move(name), std::move(factory), input1_, input2_);
    if (keyed) node->set_keyed();
    return DataStream<Out>(graph_, graph_->Add(std::move(node)));
  }

  detail::GraphBuilder* graph_;
  detail::Transformation* input1_;
  detail::Transformation* input2_;
};

/// Connected streams keyed by one key type (Flink's ConnectedStreams after keyBy): Map and
/// FlatMap may use keyed state of the element's key; Process takes a KeyedCoProcessFunction.
template <typename K, typename In1, typename In2>
class KeyedConnectedStreams : public ConnectedStreams<In1, In2> {
 public:
  using KeySelector1 = std::function<K(const In1&)>;
  using KeySelector2 = std::function<K(const In2&)>;

  /// Runtime side: ConnectedStreams::KeyBy and KeyedStream::Connect make these; the inputs are
  /// the KeyBy partitions of both streams.
  KeyedConnectedStreams(detail::GraphBuilder* graph, detail::Transformation* input1,
                        detail::Transformation* input2, KeySelector1 key1, KeySelector2 key2)
      : ConnectedStreams<In1, In2>(graph, input1, input2),
        key1_(std::move(key1)),
        key2_(std::move(key2)) {
    static_assert(HasTypeSerializer<K>, "KeyBy: the key type needs a sluice::TypeSerializer<K>");
  }

  /// As ConnectedStreams::Map, with keyed state of the element's key.
  template <typename F>
  auto Map(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<CoMapFunction<In1, In2, Out>, F>,
                  "ConnectedStreams::Map takes a sluice::CoMapFunction<In1, In2, Out>");
    return this->template AddOperator<Out>(
        "Co-Map", Keyed(this->template Make<detail::CoMapOperator<In1, In2, Out, F>>(function)),
        /*keyed=*/true);
  }

  /// As ConnectedStreams::FlatMap, with keyed state of the element's key.
  template <typename F>
  auto FlatMap(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<CoFlatMapFunction<In1, In2, Out>, F>,
                  "ConnectedStreams::FlatMap takes a sluice::CoFlatMapFunction<In1, In2, Out>");
    return this->template AddOperator<Out>(
        "Co-Flat Map",
        Keyed(this->template Make<detail::CoFlatMapOperator<In1, In2, Out, F>>(function)),
        /*keyed=*/true);
  }

  /// `function` is a KeyedCoProcessFunction<K, In1, In2, Out>: keyed state, timers and side
  /// outputs of the element's key.
  template <typename F>
  auto Process(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<KeyedCoProcessFunction<K, In1, In2, Out>, F>,
                  "Process on keyed connected streams takes a "
                  "sluice::KeyedCoProcessFunction<K, In1, In2, Out> (with the streams' key type)");
    auto factory = [function, key1 = key1_,
                    key2 = key2_]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::KeyedCoProcessOperator<K, In1, In2, Out, F>>(function, key1,
                                                                                   key2);
    };
    return this->template AddOperator<Out>("Co-Keyed-Process", factory, /*keyed=*/true);
  }

  const KeySelector1& key_selector1() const { return key1_; }
  const KeySelector2& key_selector2() const { return key2_; }

 private:
  // Wraps the operator so that it sets the current key before every element.
  typename ConnectedStreams<In1, In2>::Factory Keyed(
      typename ConnectedStreams<In1, In2>::Factory factory) const {
    return [factory = std::move(factory), key1 = key1_,
            key2 = key2_]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::KeySettingTwoInputOperator<K, In1, In2>>(factory(), key1,
                                                                               key2);
    };
  }

  KeySelector1 key1_;
  KeySelector2 key2_;
};

}  // namespace sluice
