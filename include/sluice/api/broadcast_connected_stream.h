// Broadcast state, as in Flink: DataStream::Broadcast(descriptors...) gives a BroadcastStream
// (every element goes to every parallel instance of the operator it is connected to, and the
// descriptors name the broadcast states that operator keeps); stream.Connect(broadcast_stream)
// gives a BroadcastConnectedStream, whose Process takes a BroadcastProcessFunction, or, when the
// stream is keyed (KeyBy(...).Connect(...)), a KeyedBroadcastConnectedStream whose Process takes a
// KeyedBroadcastProcessFunction (sluice/api/broadcast_functions.h).
//
//   const sluice::MapStateDescriptor<std::string, Rule> rules("rules");
//   auto rule_stream = rule_updates.Broadcast(rules);
//   events.KeyBy([](const Event& e) { return e.user; })
//       .Connect(rule_stream)
//       .Process(ApplyRules())
//       .Uid("apply-rules");
//
// In Flink both connected kinds are one class that checks at run time which function it gets;
// here the key type is part of the type, so that the wrong kind of function does not compile.
//
// Thread safety and ownership: as DataStream (build on one thread before Execute; the streams
// are handles into their environment). Errors: Broadcast(...) with two descriptors of one name
// throws std::invalid_argument; a function of the wrong kind is a compile error.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <sluice/api/broadcast_functions.h>
#include <sluice/detail/broadcast_operators.h>
#include <sluice/detail/broadcast_states.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/transformation.h>

namespace sluice {

// Defined in data_stream.h, which includes this header (DataStream::Broadcast and Connect are
// defined there).
template <typename T>
class DataStream;

/// A stream broadcast to every parallel instance of the operator it is connected to, with the
/// broadcast states that operator keeps (Flink's BroadcastStream). Only for Connect.
template <typename T>
class BroadcastStream {
 public:
  /// Runtime side: DataStream::Broadcast(descriptors...) makes these.
  BroadcastStream(detail::GraphBuilder* graph, detail::Transformation* node,
                  std::shared_ptr<const detail::BroadcastStateDescriptors> descriptors)
      : graph_(graph), node_(node), descriptors_(std::move(descriptors)) {}

  detail::GraphBuilder* graph() const { return graph_; }
  detail::Transformation* node() const { return node_; }
  const std::shared_ptr<const detail::BroadcastStateDescriptors>& descriptors() const {
    return descriptors_;
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* node_;
  std::shared_ptr<const detail::BroadcastStateDescriptors> descriptors_;
};

/// A non-keyed stream (In1) connected to a broadcast stream (In2) (Flink's
/// BroadcastConnectedStream).
template <typename In1, typename In2>
class BroadcastConnectedStream {
 public:
  /// Runtime side: DataStream::Connect(broadcast_stream) makes these.
  BroadcastConnectedStream(detail::GraphBuilder* graph, detail::Transformation* input,
                           const BroadcastStream<In2>& broadcast)
      : graph_(graph),
        input_(input),
        broadcast_(broadcast.node()),
        descriptors_(broadcast.descriptors()) {}

  /// `function` is a BroadcastProcessFunction<In1, In2, Out> (copied per parallel instance).
  template <typename F>
  auto Process(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<BroadcastProcessFunction<In1, In2, Out>, F>,
                  "Process on a non-keyed stream connected to a broadcast stream takes a "
                  "sluice::BroadcastProcessFunction<In1, In2, Out>; a "
                  "KeyedBroadcastProcessFunction needs KeyBy(...) before Connect");
    auto factory = [function,
                    descriptors = descriptors_]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::BroadcastProcessOperator<In1, In2, Out, F>>(function,
                                                                                  descriptors);
    };
    auto node = std::make_unique<detail::TwoInputTransformation<In1, In2, Out>>(
        graph_->NextId(), "Co-Process-Broadcast", factory, input_, broadcast_);
    return DataStream<Out>(graph_, graph_->Add(std::move(node)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input_;
  detail::Transformation* broadcast_;
  std::shared_ptr<const detail::BroadcastStateDescriptors> descriptors_;
};

/// A keyed stream (In1, key K) connected to a broadcast stream (In2).
template <typename K, typename In1, typename In2>
class KeyedBroadcastConnectedStream {
 public:
  /// Runtime side: KeyedStream::Connect(broadcast_stream) makes these; `input` is the KeyBy
  /// partition.
  KeyedBroadcastConnectedStream(detail::GraphBuilder* graph, detail::Transformation* input,
                                std::function<K(const In1&)> key_selector,
                                const BroadcastStream<In2>& broadcast)
      : graph_(graph),
        input_(input),
        key_selector_(std::move(key_selector)),
        broadcast_(broadcast.node()),
        descriptors_(broadcast.descriptors()) {}

  /// `function` is a KeyedBroadcastProcessFunction<K, In1, In2, Out> (copied per parallel
  /// instance).
  template <typename F>
  auto Process(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<KeyedBroadcastProcessFunction<K, In1, In2, Out>, F>,
                  "Process on a keyed stream connected to a broadcast stream takes a "
                  "sluice::KeyedBroadcastProcessFunction<K, In1, In2, Out> (with the stream's key "
                  "type)");
    auto factory = [function, descriptors = descriptors_,
                    key_selector = key_selector_]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::KeyedBroadcastProcessOperator<K, In1, In2, Out, F>>(
          function, descriptors, key_selector);
    };
    auto node = std::make_unique<detail::TwoInputTransformation<In1, In2, Out>>(
        graph_->NextId(), "Co-Process-Broadcast-Keyed", factory, input_, broadcast_);
    node->set_keyed();
    return DataStream<Out>(graph_, graph_->Add(std::move(node)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* input_;
  std::function<K(const In1&)> key_selector_;
  detail::Transformation* broadcast_;
  std::shared_ptr<const detail::BroadcastStateDescriptors> descriptors_;
};

}  // namespace sluice
