// IntervalJoin<T1, T2, K>: joins the elements of two keyed streams whose timestamps lie within
// an interval of each other (Flink's KeyedStream.IntervalJoin), from KeyedStream::IntervalJoin.
//
//   orders.KeyBy([](const Order& o) { return o.id; })
//       .IntervalJoin(shipments.KeyBy([](const Shipment& s) { return s.order_id; }))
//       .Between(std::chrono::minutes(0), std::chrono::hours(1))
//       .UpperBoundExclusive()
//       .Process(ShippedWithin());   // a ProcessJoinFunction<Order, Shipment, Report>
//
// A left element a (of the stream IntervalJoin was called on) and a right element b of the same
// key join when a.timestamp + lower <= b.timestamp <= a.timestamp + upper; LowerBoundExclusive()
// and UpperBoundExclusive() make either comparison strict. The bounds may be negative (b before
// a). Each joined pair reaches the ProcessJoinFunction once, as soon as its second element
// arrives; its results are stamped with the larger of the two timestamps.
//
// Event time only, as in Flink: both inputs need timestamps (an element without one fails the
// job with StatusException(kInvalidArgument)), and InProcessingTime() makes Between refuse. An
// element whose timestamp is below the operator's watermark (the minimum of both inputs') is
// late: it joins nothing and is dropped, or sent to SideOutputLeftLateData /
// SideOutputRightLateData. Elements stay in keyed state until the watermark passes the last time
// they could join (docs/joins.md, "State"); that state and its timers are checkpointed per key
// group and restored at another parallelism.
//
// Thread safety and ownership: as DataStream (build on one thread before Execute).
// Errors: two key types, or a function of the wrong kind, do not compile; Between with
// lower > upper, a bound at the int64 limits, or processing time throws std::invalid_argument.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <sluice/api/join_functions.h>
#include <sluice/api/output_tag.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/interval_join_operator.h>
#include <sluice/detail/transformation.h>
#include <sluice/state/type_serializer.h>

namespace sluice {

// Defined in data_stream.h, which includes this header (KeyedStream::IntervalJoin is there).
template <typename T>
class DataStream;

template <typename T1, typename T2, typename K>
class IntervalJoined;

/// KeyedStream::IntervalJoin's result (Flink's KeyedStream.IntervalJoin): choose the bounds.
template <typename T1, typename T2, typename K>
class IntervalJoin {
 public:
  /// Runtime side: KeyedStream::IntervalJoin makes these; the inputs are both KeyBy partitions.
  IntervalJoin(detail::GraphBuilder* graph, detail::Transformation* left,
               detail::Transformation* right, std::function<K(const T1&)> key1,
               std::function<K(const T2&)> key2)
      : graph_(graph), left_(left), right_(right), key1_(std::move(key1)), key2_(std::move(key2)) {}

  /// The default (Flink's inEventTime).
  IntervalJoin& InEventTime() {
    event_time_ = true;
    return *this;
  }
  /// Flink's inProcessingTime: accepted, but Between then refuses (interval joins are event
  /// time only), as in Flink.
  IntervalJoin& InProcessingTime() {
    event_time_ = false;
    return *this;
  }

  /// Joins right elements with timestamps in [left + lower, left + upper] (bounds inclusive until
  /// LowerBoundExclusive / UpperBoundExclusive). std::invalid_argument if lower > upper, if a
  /// bound is at the limits of int64 milliseconds, or after InProcessingTime().
  IntervalJoined<T1, T2, K> Between(std::chrono::milliseconds lower,
                                    std::chrono::milliseconds upper) {
    if (!event_time_) {
      throw std::invalid_argument("Time-bounded stream joins are only supported in event time");
    }
    if (lower > upper) {
      throw std::invalid_argument(
          "IntervalJoin: Between(lower, upper) needs lower <= upper (Flink: lowerBound <= "
          "upperBound must be fulfilled); got lower " +
          std::to_string(lower.count()) + " ms, upper " + std::to_string(upper.count()) + " ms");
    }
    constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    if (lower.count() == kMin || upper.count() == kMin || lower.count() == kMax ||
        upper.count() == kMax) {
      throw std::invalid_argument(
          "IntervalJoin: the bounds of Between must lie strictly inside the int64 range of "
          "milliseconds");
    }
    return IntervalJoined<T1, T2, K>(graph_, left_, right_, key1_, key2_, lower.count(),
                                     upper.count());
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* left_;
  detail::Transformation* right_;
  std::function<K(const T1&)> key1_;
  std::function<K(const T2&)> key2_;
  bool event_time_ = true;
};

/// An interval join with its bounds (Flink's KeyedStream.IntervalJoined): settings, then Process.
template <typename T1, typename T2, typename K>
class IntervalJoined {
 public:
  IntervalJoined(detail::GraphBuilder* graph, detail::Transformation* left,
                 detail::Transformation* right, std::function<K(const T1&)> key1,
                 std::function<K(const T2&)> key2, int64_t lower, int64_t upper)
      : graph_(graph),
        left_(left),
        right_(right),
        key1_(std::move(key1)),
        key2_(std::move(key2)),
        lower_(lower),
        upper_(upper) {}

  /// Excludes the lower bound: right.timestamp > left.timestamp + lower.
  IntervalJoined& LowerBoundExclusive() {
    lower_inclusive_ = false;
    return *this;
  }
  /// Excludes the upper bound: right.timestamp < left.timestamp + upper.
  IntervalJoined& UpperBoundExclusive() {
    upper_inclusive_ = false;
    return *this;
  }
  /// Late elements of the left input go to `tag` of the result stream instead of being dropped.
  IntervalJoined& SideOutputLeftLateData(const OutputTag<T1>& tag) {
    left_late_tag_ = tag;
    return *this;
  }
  /// Late elements of the right input go to `tag` of the result stream.
  IntervalJoined& SideOutputRightLateData(const OutputTag<T2>& tag) {
    right_late_tag_ = tag;
    return *this;
  }

  /// `function` is a ProcessJoinFunction<T1, T2, Out> (copied per parallel instance). Both
  /// element types need a sluice::TypeSerializer: they wait in keyed state.
  template <typename F>
  auto Process(F function) {
    using Out = typename F::output_type;
    static_assert(std::is_base_of_v<ProcessJoinFunction<T1, T2, Out>, F>,
                  "IntervalJoined::Process takes a sluice::ProcessJoinFunction<Left, Right, Out> "
                  "of the two streams' element types");
    static_assert(HasTypeSerializer<T1> && HasTypeSerializer<T2>,
                  "an interval join buffers the elements of both inputs in keyed state: both "
                  "element types need a sluice::TypeSerializer");
    detail::IntervalJoinParts<K, T1, T2, F> parts{
        std::move(function), key1_, key2_,
        // As Flink: moved by one where exclusive, so the operator compares inclusively.
        lower_inclusive_ ? lower_ : lower_ + 1, upper_inclusive_ ? upper_ : upper_ - 1,
        left_late_tag_, right_late_tag_};
    auto factory = [parts]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::IntervalJoinOperator<K, T1, T2, Out, F>>(parts);
    };
    auto node = std::make_unique<detail::TwoInputTransformation<T1, T2, Out>>(
        graph_->NextId(), "Interval Join", std::move(factory), left_, right_);
    node->set_keyed();
    return DataStream<Out>(graph_, graph_->Add(std::move(node)));
  }

 private:
  detail::GraphBuilder* graph_;
  detail::Transformation* left_;
  detail::Transformation* right_;
  std::function<K(const T1&)> key1_;
  std::function<K(const T2&)> key2_;
  int64_t lower_;
  int64_t upper_;
  bool lower_inclusive_ = true;
  bool upper_inclusive_ = true;
  std::optional<OutputTag<T1>> left_late_tag_;
  std::optional<OutputTag<T2>> right_late_tag_;
};

}  // namespace sluice
