// The functions of joins, with Flink's names and call shapes:
//   - JoinFunction and FlatJoinFunction: one pair of elements of a window join
//     (`a.Join(b).Where(...).EqualTo(...).Window(...).Apply(f)`, sluice/api/joined_streams.h);
//   - CoGroupFunction: all elements of one key and window from both inputs
//     (`a.CoGroup(b)...Apply(f)`, sluice/api/co_grouped_streams.h);
//   - ProcessJoinFunction: one pair of an interval join, with both timestamps and side outputs
//     (`a.KeyBy(...).IntervalJoin(b.KeyBy(...)).Between(...).Process(f)`,
//     sluice/api/interval_join.h).
//
//   class Enrich : public sluice::JoinFunction<Order, Price, Quote> {
//     Quote Join(const Order& order, const Price& price) override { return {...}; }
//   };
//
// Each is a RichFunction (Open, Close, GetRuntimeContext), as Flink's RichJoinFunction,
// RichFlatJoinFunction and RichCoGroupFunction, which are the same classes here. A function may
// also implement CheckpointedFunction or CheckpointListener.
//
// Thread safety: as every function (functions.h): each parallel instance has its own copy, called
// only on that instance's task thread, one call at a time.
// Errors: anything a method throws fails the task (functions.h).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/output_tag.h>
#include <sluice/detail/output.h>

namespace sluice {

/// Joins one element of the first input with one of the second (Flink's JoinFunction): called
/// for every pair of one key in one window. Its result is stamped with the window's
/// MaxTimestamp().
template <typename In1, typename In2, typename Out>
class JoinFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual Out Join(const In1& first, const In2& second) = 0;
};

/// JoinFunction that emits any number of results per pair (Flink's FlatJoinFunction).
template <typename In1, typename In2, typename Out>
class FlatJoinFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual void Join(const In1& first, const In2& second, Collector<Out>& out) = 0;
};

/// Flink's names for the same classes with Open/Close.
template <typename In1, typename In2, typename Out>
using RichJoinFunction = JoinFunction<In1, In2, Out>;
template <typename In1, typename In2, typename Out>
using RichFlatJoinFunction = FlatJoinFunction<In1, In2, Out>;

/// Gets all elements of one key and window from both inputs (Flink's CoGroupFunction): called
/// once per key and window that has elements, also when one side has none (an outer join is a
/// CoGroup). Elements are in arrival order per input. Results are stamped with the window's
/// MaxTimestamp().
template <typename In1, typename In2, typename Out>
class CoGroupFunction : public RichFunction {
 public:
  using output_type = Out;
  virtual void CoGroup(const std::vector<In1>& first, const std::vector<In2>& second,
                       Collector<Out>& out) = 0;
};

template <typename In1, typename In2, typename Out>
using RichCoGroupFunction = CoGroupFunction<In1, In2, Out>;

/// Processes one joined pair of an interval join (Flink's ProcessJoinFunction): `left` from the
/// stream IntervalJoin was called on, `right` from its argument, whose timestamps lie within the
/// join's bounds. Results are stamped with ctx.Timestamp(), the larger of the two timestamps.
template <typename In1, typename In2, typename Out>
class ProcessJoinFunction : public RichFunction {
 public:
  using output_type = Out;
  class Context {
   public:
    virtual ~Context() = default;
    /// The timestamp of the left element of the pair.
    virtual int64_t LeftTimestamp() const = 0;
    /// The timestamp of the right element of the pair.
    virtual int64_t RightTimestamp() const = 0;
    /// The timestamp of the joined pair: the larger of LeftTimestamp() and RightTimestamp().
    virtual int64_t Timestamp() const = 0;
    /// Emits `value` to the side output `tag`, stamped with Timestamp().
    template <typename X>
    void Output(const OutputTag<X>& tag, X value) {
      GetSideOutputs().Collect(tag, std::move(value), Timestamp());
    }

   private:
    // Runtime side: the operator's side outputs.
    virtual const detail::SideOutputs& GetSideOutputs() const = 0;
  };

  virtual void ProcessElement(const In1& left, const In2& right, Context& ctx,
                              Collector<Out>& out) = 0;
};

}  // namespace sluice
