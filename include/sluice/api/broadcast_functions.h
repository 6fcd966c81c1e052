// Functions of a stream connected to a broadcast stream (Flink's BroadcastProcessFunction and
// KeyedBroadcastProcessFunction): every parallel instance sees every element of the broadcast
// input, keeps what it needs of them in broadcast state (a map per descriptor given to
// DataStream::Broadcast(...), the same copy on every instance), and reads that state while it
// processes the elements of the other input, which it sees only its share of.
//
//   const sluice::MapStateDescriptor<std::string, Rule> rules("rules");
//   class ApplyRules : public sluice::KeyedBroadcastProcessFunction<std::string, Event, Rule,
//   Alert> {
//     void ProcessElement(Event e, ReadOnlyContext& ctx, sluice::Collector<Alert>& out) override {
//       if (auto rule = ctx.GetBroadcastState(rules).Get(e.kind)) ...
//     }
//     void ProcessBroadcastElement(Rule r, Context& ctx, sluice::Collector<Alert>& out) override {
//       ctx.GetBroadcastState(rules).Put(r.kind, r);
//     }
//   };
//   events.KeyBy(...).Connect(rule_stream.Broadcast(rules)).Process(ApplyRules());
//
// The element side gets the broadcast state read-only (ReadOnlyBroadcastState): only the
// broadcast side may change it, and it must do so the same way on every instance (from the
// broadcast element alone, never from the instance's keyed state or index), or the copies
// diverge; Flink asks the same. Broadcast state is checkpointed with the operator and restored
// at any parallelism (new instance i gets the copy of old instance i % old parallelism).
//
// Thread safety: as every function (functions.h): each parallel instance has its own copy, and
// every method is called on that instance's task thread, one call at a time.
// Errors: anything a method throws fails the task. GetBroadcastState with a descriptor that was
// not given to Broadcast(...) throws std::invalid_argument; with the name of one but other
// types, std::logic_error. Timers on a non-keyed stream do not exist (no TimerService here), as
// in Flink.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include <sluice/api/functions.h>
#include <sluice/api/output_tag.h>
#include <sluice/detail/broadcast_states.h>
#include <sluice/detail/output.h>
#include <sluice/state/data_io.h>
#include <sluice/state/detail/keyed_state_backend.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>

namespace sluice {

/// What both broadcast process functions share (Flink's BaseBroadcastProcessFunction).
class BaseBroadcastProcessFunction : public RichFunction {
 public:
  /// What every context of a broadcast process function offers.
  class BaseContext {
   public:
    virtual ~BaseContext() = default;
    /// The event timestamp of the element, or kNoTimestamp (in OnTimer: the timer's time).
    virtual int64_t Timestamp() const = 0;
    virtual int64_t CurrentProcessingTime() const = 0;
    /// The operator's watermark: the minimum of both inputs', an idle input left out.
    virtual int64_t CurrentWatermark() const = 0;
    /// Emits `value` to the side output `tag`, stamped with Timestamp().
    template <typename X>
    void Output(const OutputTag<X>& tag, X value) {
      GetSideOutputs().Collect(tag, std::move(value), Timestamp());
    }

   protected:
    // Runtime side: the operator's broadcast states and side outputs.
    virtual const detail::BroadcastStates& States() const = 0;
    virtual const detail::SideOutputs& GetSideOutputs() const = 0;
  };

  /// The element side's context: broadcast state read-only.
  class ReadOnlyContext : public BaseContext {
   public:
    template <typename K, typename V>
    const ReadOnlyBroadcastState<K, V>& GetBroadcastState(
        const MapStateDescriptor<K, V>& descriptor) {
      return States().Get(descriptor);
    }
  };

  /// The broadcast side's context: broadcast state writable.
  class Context : public BaseContext {
   public:
    template <typename K, typename V>
    BroadcastState<K, V>& GetBroadcastState(const MapStateDescriptor<K, V>& descriptor) {
      return States().Get(descriptor);
    }
  };
};

/// On a non-keyed stream connected to a broadcast stream (Flink's BroadcastProcessFunction):
/// ProcessElement for the elements of this stream, ProcessBroadcastElement for those of the
/// broadcast stream. No keyed state and no timers.
template <typename In1, typename In2, typename Out>
class BroadcastProcessFunction : public BaseBroadcastProcessFunction {
 public:
  using output_type = Out;
  virtual void ProcessElement(In1 value, ReadOnlyContext& ctx, Collector<Out>& out) = 0;
  virtual void ProcessBroadcastElement(In2 value, Context& ctx, Collector<Out>& out) = 0;
};

namespace detail {
// The keyed state a descriptor names (what ApplyToKeyedState hands its function).
template <typename T>
ValueState<T>& KeyedStateOf(KeyedStateBackend& backend, const ValueStateDescriptor<T>& d) {
  return backend.GetValueState(d);
}
template <typename T>
ListState<T>& KeyedStateOf(KeyedStateBackend& backend, const ListStateDescriptor<T>& d) {
  return backend.GetListState(d);
}
template <typename UK, typename UV>
MapState<UK, UV>& KeyedStateOf(KeyedStateBackend& backend, const MapStateDescriptor<UK, UV>& d) {
  return backend.GetMapState(d);
}
template <typename T>
ReducingState<T>& KeyedStateOf(KeyedStateBackend& backend, const ReducingStateDescriptor<T>& d) {
  return backend.GetReducingState(d);
}
template <typename In, typename Acc, typename Out>
AggregatingState<In, Out>& KeyedStateOf(KeyedStateBackend& backend,
                                        const AggregatingStateDescriptor<In, Acc, Out>& d) {
  return backend.GetAggregatingState(d);
}
}  // namespace detail

/// On a keyed stream connected to a broadcast stream (Flink's KeyedBroadcastProcessFunction):
/// ProcessElement with keyed state and timers of the element's key, ProcessBroadcastElement
/// with writable broadcast state and ApplyToKeyedState, OnTimer for the timers.
template <typename K, typename In1, typename In2, typename Out>
class KeyedBroadcastProcessFunction : public BaseBroadcastProcessFunction {
 public:
  using output_type = Out;
  using key_type = K;

  /// The element side's context: broadcast state read-only, the key, timers.
  class ReadOnlyContext : public BaseBroadcastProcessFunction::ReadOnlyContext {
   public:
    virtual sluice::TimerService& TimerService() = 0;
    virtual const K& GetCurrentKey() const = 0;
  };

  /// The broadcast side's context: broadcast state writable, and every key's keyed state.
  class Context : public BaseBroadcastProcessFunction::Context {
   public:
    /// Calls `function(key, state)` for every key of this instance that has a value in the
    /// keyed state `descriptor` names (a Value-, List-, Map-, Reducing- or
    /// AggregatingStateDescriptor), with
    /// that key current, so `state` and any other keyed state refer to it (Flink's
    /// applyToKeyedState). The keys are listed before the first call: the function may change
    /// or clear the state. Keys are visited by key group, in no order within one.
    template <typename D, typename F>
    void ApplyToKeyedState(const D& descriptor, F function) {
      detail::KeyedStateBackend& backend = KeyedStateBackend();
      auto& state = detail::KeyedStateOf(backend, descriptor);
      for (const auto& [key_group, key_bytes] : backend.GetKeys(descriptor.name())) {
        backend.SetCurrentKey(key_bytes, key_group);
        DataInput in(key_bytes);
        const K key = DeserializeValue<K>(in);
        function(key, state);
      }
    }

   protected:
    // Runtime side: the operator's keyed state backend.
    virtual detail::KeyedStateBackend& KeyedStateBackend() = 0;
  };

  class OnTimerContext : public ReadOnlyContext {
   public:
    virtual TimeDomain GetTimeDomain() const = 0;
  };

  virtual void ProcessElement(In1 value, ReadOnlyContext& ctx, Collector<Out>& out) = 0;
  virtual void ProcessBroadcastElement(In2 value, Context& ctx, Collector<Out>& out) = 0;
  virtual void OnTimer(int64_t /*timestamp*/, OnTimerContext& /*ctx*/, Collector<Out>& /*out*/) {}
};

}  // namespace sluice
