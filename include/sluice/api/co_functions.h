// Functions of two inputs, as in Flink: what ConnectedStreams' Map, FlatMap and Process call
// (sluice/api/connected_streams.h). Each has one method per input; the two inputs may have
// different types, and the function sees the elements of both in the order they arrive (which,
// across the two inputs, nothing defines: keep what one input needs from the other in state).
//
//   class Enrich : public sluice::KeyedCoProcessFunction<std::string, Order, Price, Quote> {
//     void ProcessElement1(Order order, Context& ctx, sluice::Collector<Quote>& out) override;
//     void ProcessElement2(Price price, Context& ctx, sluice::Collector<Quote>& out) override;
//   };
//   orders.Connect(prices).KeyBy(&OrderSymbol, &PriceSymbol).Process(Enrich());
//
// Thread safety: as every function (functions.h): each parallel instance has its own copy, and
// every method of it is called on that instance's task thread, one call at a time, also across
// the two inputs.
// Errors: anything a method throws fails the task (functions.h); registering a timer in a
// CoProcessFunction throws std::logic_error (timers need keyed connected streams, as in Flink).
#pragma once

#include <cstdint>
#include <utility>

#include <sluice/api/functions.h>
#include <sluice/api/output_tag.h>
#include <sluice/detail/output.h>

namespace sluice {

/// Maps the elements of two inputs to one output type (Flink's CoMapFunction and
/// RichCoMapFunction: Open, Close and GetRuntimeContext are there too). On keyed connected
/// streams it may use keyed state of the element's key.
template <typename In1, typename In2, typename Out>
class CoMapFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual Out Map1(In1 value) = 0;
  virtual Out Map2(In2 value) = 0;
};

/// Flink's name for a CoMapFunction with Open/Close: the same class here.
template <typename In1, typename In2, typename Out>
using RichCoMapFunction = CoMapFunction<In1, In2, Out>;

/// Zero or more outputs per element of either input (Flink's CoFlatMapFunction and
/// RichCoFlatMapFunction).
template <typename In1, typename In2, typename Out>
class CoFlatMapFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual void FlatMap1(In1 value, Collector<Out>& out) = 0;
  virtual void FlatMap2(In2 value, Collector<Out>& out) = 0;
};

/// Flink's name for a CoFlatMapFunction with Open/Close: the same class here.
template <typename In1, typename In2, typename Out>
using RichCoFlatMapFunction = CoFlatMapFunction<In1, In2, Out>;

/// Processes the elements of two inputs with their timestamps, the clocks and side outputs
/// (Flink's CoProcessFunction, on connected streams that are not keyed). Timers need keyed
/// connected streams (KeyedCoProcessFunction): registering one here throws std::logic_error.
template <typename In1, typename In2, typename Out>
class CoProcessFunction : public RichFunction {
 public:
  using output_type = Out;
  class Context {
   public:
    virtual ~Context() = default;
    /// The event timestamp of the element, or kNoTimestamp.
    virtual int64_t Timestamp() const = 0;
    /// The current processing time and the operator's watermark (the minimum of both inputs',
    /// an idle input left out); registering or deleting timers throws std::logic_error.
    virtual sluice::TimerService& TimerService() = 0;
    /// Emits `value` to the side output `tag`, stamped with the element's timestamp.
    template <typename X>
    void Output(const OutputTag<X>& tag, X value) {
      GetSideOutputs().Collect(tag, std::move(value), Timestamp());
    }

   private:
    // Runtime side: the operator's side outputs.
    virtual const detail::SideOutputs& GetSideOutputs() const = 0;
  };

  virtual void ProcessElement1(In1 value, Context& ctx, Collector<Out>& out) = 0;
  virtual void ProcessElement2(In2 value, Context& ctx, Collector<Out>& out) = 0;
};

/// Processes the elements of two keyed inputs with keyed state and timers (Flink's
/// KeyedCoProcessFunction): both inputs are keyed to the same key type, elements of one key from
/// either input reach the same parallel instance, and state and timers are those of the
/// element's key. Event-time timers fire when the operator's watermark (the minimum of both
/// inputs', an idle input left out) passes them.
template <typename K, typename In1, typename In2, typename Out>
class KeyedCoProcessFunction : public RichFunction {
 public:
  using output_type = Out;
  using key_type = K;
  class Context {
   public:
    virtual ~Context() = default;
    /// The event timestamp of the element, or kNoTimestamp (in OnTimer: the timer's time).
    virtual int64_t Timestamp() const = 0;
    virtual const K& GetCurrentKey() const = 0;
    virtual sluice::TimerService& TimerService() = 0;
    /// Emits `value` to the side output `tag`, stamped with Timestamp().
    template <typename X>
    void Output(const OutputTag<X>& tag, X value) {
      GetSideOutputs().Collect(tag, std::move(value), Timestamp());
    }

   private:
    // Runtime side: the operator's side outputs.
    virtual const detail::SideOutputs& GetSideOutputs() const = 0;
  };
  class OnTimerContext : public Context {
   public:
    virtual TimeDomain GetTimeDomain() const = 0;
  };

  virtual void ProcessElement1(In1 value, Context& ctx, Collector<Out>& out) = 0;
  virtual void ProcessElement2(In2 value, Context& ctx, Collector<Out>& out) = 0;
  virtual void OnTimer(int64_t /*timestamp*/, OnTimerContext& /*ctx*/, Collector<Out>& /*out*/) {}
};

}  // namespace sluice
