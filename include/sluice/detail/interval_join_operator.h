// The operator behind KeyedStream::IntervalJoin(...).Between(...).Process(f) (Flink's
// IntervalJoinOperator, with its exact semantics). Implementation detail of the DataStream API;
// not a stable interface.
//
// Per key it buffers the elements of each side by timestamp. An element of the left input with
// timestamp t joins every buffered right element with a timestamp in [t + lower, t + upper]; an
// element of the right input with timestamp t joins every buffered left element with a timestamp
// in [t - upper, t - lower] (the bounds already moved by one where exclusive). Then it stays
// buffered until an event-time cleanup timer drops its timestamp's bucket: for the left side at
// t + upper (t when upper <= 0), for the right side at t - lower (t when lower >= 0), the time
// after which no element that is not late can join it. An element whose timestamp is below the
// operator's watermark is late: it goes to the side's late-data side output if one is set, and
// is otherwise dropped, without joining. An element without a timestamp fails the job.
//
// State (checkpointed per key group, so it moves with its keys on rescaling, and written to the
// state changelog like any keyed state):
//   - MapState kIntervalJoinLeftBuffer / kIntervalJoinRightBuffer of the record key: timestamp ->
//     IntervalJoinBuffer<T> (versioned, below), the side's elements of that timestamp in arrival
//     order (Flink's LEFT_BUFFER / RIGHT_BUFFER: Long -> List<BufferEntry<T>>);
//   - the cleanup timers: event-time keyed timers (keyed_timers.h, format version 1, the key
//     group's extras) whose key bytes are the record key's bytes followed by one namespace byte,
//     0 for the left buffer and 1 for the right (Flink's CLEANUP_LEFT / CLEANUP_RIGHT). Another
//     namespace byte is refused when the timer fires.
//
// Threads: every method runs on the task thread of the operator instance.
// Errors: user function exceptions propagate (the task fails). An element without a timestamp
// throws StatusException(kInvalidArgument) (no restart can help).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/api/join_functions.h>
#include <sluice/api/output_tag.h>
#include <sluice/api/time.h>
#include <sluice/detail/operators.h>
#include <sluice/detail/output.h>
#include <sluice/detail/two_input_operator.h>
#include <sluice/state/detail/keyed_timers.h>
#include <sluice/state/type_serializer.h>
#include <sluice/status.h>

namespace sluice::detail {

/// Buffered elements of one side and one timestamp, in arrival order.
template <typename T>
struct IntervalJoinBuffer {
  std::vector<T> elements;
  friend bool operator==(const IntervalJoinBuffer&, const IntervalJoinBuffer&) = default;
};

}  // namespace sluice::detail

namespace sluice {

/// Format version 1: the elements as a vector (varint count, then each element written by
/// SerializeValue of T). A later version may add per-element fields (Flink's BufferEntry also
/// carries a hasBeenJoined flag; this format leaves it out).
template <typename T>
  requires HasTypeSerializer<T>
struct TypeSerializer<detail::IntervalJoinBuffer<T>> {
  static constexpr std::uint32_t kVersion = 1;
  static void Serialize(const detail::IntervalJoinBuffer<T>& value, DataOutput& out) {
    SerializeValue(value.elements, out);
  }
  static detail::IntervalJoinBuffer<T> Deserialize(DataInput& in, std::uint32_t) {
    return detail::IntervalJoinBuffer<T>{DeserializeValue<std::vector<T>>(in)};
  }
  static std::string TypeName() { return "interval_join_buffer<" + TypeNameOf<T>() + ">"; }
};

}  // namespace sluice

namespace sluice::detail {

inline constexpr const char* kIntervalJoinLeftBuffer = "_interval-join-left-buffer";
inline constexpr const char* kIntervalJoinRightBuffer = "_interval-join-right-buffer";

/// The namespace byte after the record key in a cleanup timer's key.
inline constexpr char kIntervalJoinCleanupLeft = 0;
inline constexpr char kIntervalJoinCleanupRight = 1;

/// What one interval join is made of; copied into every parallel instance.
template <typename K, typename T1, typename T2, typename F>
struct IntervalJoinParts {
  F function;
  std::function<K(const T1&)> key1;
  std::function<K(const T2&)> key2;
  // Inclusive bounds (exclusive ones already moved by one, as Flink's constructor does).
  int64_t lower = 0;
  int64_t upper = 0;
  std::optional<OutputTag<T1>> left_late_tag;
  std::optional<OutputTag<T2>> right_late_tag;
};

/// a + b, clamped to the int64 range (timestamps near the ends of time must not wrap).
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return sum;
}

[[noreturn]] inline void ThrowIntervalJoinNoTimestamp() {
  throw StatusException(Status::InvalidArgument(
      "an element without a timestamp reached an interval join: interval joins work in event "
      "time only and need a timestamp on every element of both inputs; did you forget to call "
      "AssignTimestampsAndWatermarks(...) on an input, or a source that sets timestamps?"));
}

template <typename K, typename T1, typename T2, typename Out, typename F>
class IntervalJoinOperator final : public TwoInputOperator<T1, T2, Out>,
                                   public HasSideOutputs,
                                   private ProcessJoinFunction<T1, T2, Out>::Context {
 public:
  explicit IntervalJoinOperator(IntervalJoinParts<K, T1, T2, F> parts)
      : function_(std::move(parts.function)),
        key1_(std::move(parts.key1)),
        key2_(std::move(parts.key2)),
        lower_(parts.lower),
        upper_(parts.upper),
        left_late_tag_(std::move(parts.left_late_tag)),
        right_late_tag_(std::move(parts.right_late_tag)),
        collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    TwoInputOperator<T1, T2, Out>::Setup(context);
    if (context.GetKeyedStateBackend() == nullptr)
      throw std::logic_error("an interval join needs two keyed inputs");
    keys_.Setup(context);
  }
  void Open() override {
    left_ = &keys_.backend().GetMapState(
        MapStateDescriptor<int64_t, IntervalJoinBuffer<T1>>(kIntervalJoinLeftBuffer));
    right_ = &keys_.backend().GetMapState(
        MapStateDescriptor<int64_t, IntervalJoinBuffer<T2>>(kIntervalJoinRightBuffer));
    function_.Open(this->context());
  }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { function_.NotifyComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyAborted(id); }

  void ProcessElement1(StreamRecord<T1>&& record) override {
    keys_.SetCurrentKey(key1_(record.value));
    if (record.timestamp == kNoTimestamp) ThrowIntervalJoinNoTimestamp();
    if (IsLate(record.timestamp)) {
      Late(left_late_tag_, std::move(record));
      return;
    }
    const int64_t t = record.timestamp;
    AddToBuffer(*left_, record.value, t);
    // Buffered right elements in [t + lower, t + upper].
    const std::map<int64_t, IntervalJoinBuffer<T2>> candidates = right_->Entries();
    const int64_t last = SaturatingAdd(t, upper_);
    for (auto it = candidates.lower_bound(SaturatingAdd(t, lower_));
         it != candidates.end() && it->first <= last; ++it) {
      for (const T2& right : it->second.elements) Collect(record.value, right, t, it->first);
    }
    RegisterCleanup(upper_ > 0 ? SaturatingAdd(t, upper_) : t, kIntervalJoinCleanupLeft);
  }

  void ProcessElement2(StreamRecord<T2>&& record) override {
    keys_.SetCurrentKey(key2_(record.value));
    if (record.timestamp == kNoTimestamp) ThrowIntervalJoinNoTimestamp();
    if (IsLate(record.timestamp)) {
      Late(right_late_tag_, std::move(record));
      return;
    }
    const int64_t t = record.timestamp;
    AddToBuffer(*right_, record.value, t);
    // Buffered left elements in [t - upper, t - lower].
    const std::map<int64_t, IntervalJoinBuffer<T1>> candidates = left_->Entries();
    const int64_t last = SaturatingAdd(t, -lower_);
    for (auto it = candidates.lower_bound(SaturatingAdd(t, -upper_));
         it != candidates.end() && it->first <= last; ++it) {
      for (const T1& left : it->second.elements) Collect(left, record.value, it->first, t);
    }
    RegisterCleanup(-lower_ > 0 ? SaturatingAdd(t, -lower_) : t, kIntervalJoinCleanupRight);
  }

  void ProcessWatermark(Watermark watermark) override {
    watermark_ = watermark.timestamp;
    while (auto timer = timers_.event.PopDue(watermark.timestamp)) OnCleanupTimer(*timer);
    this->output_->EmitWatermark(watermark);
  }

  // The timers are the extras of each key group (versioned: keyed_timers.h).
  void SnapshotKeyGroupExtras(int32_t key_group, DataOutput& out) override {
    timers_.SnapshotKeyGroup(key_group, out);
  }
  void RestoreKeyGroupExtras(int32_t key_group, DataInput& in) override {
    timers_.RestoreKeyGroup(key_group, in);
  }

 private:
  // Flink: late is strictly below the current watermark (no timestamp is below kMinWatermark).
  bool IsLate(int64_t timestamp) const { return timestamp < watermark_; }

  template <typename T>
  void Late(const std::optional<OutputTag<T>>& tag, StreamRecord<T>&& record) {
    if (!tag) return;
    if (Output<T>* late = side_outputs_.Resolve(*tag)) late->Collect(std::move(record));
  }

  template <typename T>
  static void AddToBuffer(MapState<int64_t, IntervalJoinBuffer<T>>& buffer, const T& value,
                          int64_t timestamp) {
    IntervalJoinBuffer<T> bucket = buffer.Get(timestamp).value_or(IntervalJoinBuffer<T>{});
    bucket.elements.push_back(value);
    buffer.Put(timestamp, std::move(bucket));
  }

  void Collect(const T1& left, const T2& right, int64_t left_timestamp, int64_t right_timestamp) {
    left_timestamp_ = left_timestamp;
    right_timestamp_ = right_timestamp;
    result_timestamp_ = std::max(left_timestamp, right_timestamp);
    collector_.SetTimestamp(result_timestamp_);
    function_.get().ProcessElement(left, right, *this, collector_);
  }

  // Current key: the element's.
  void RegisterCleanup(int64_t time, char side) {
    std::string key(keys_.current_key_bytes());
    key.push_back(side);
    timers_.event.Add(KeyedTimers::Timer{time, keys_.current_key_group(), std::move(key)});
  }

  void OnCleanupTimer(const KeyedTimers::Timer& timer) {
    if (timer.key.empty()) ThrowBadTimer(timer);
    const std::string_view key(timer.key.data(), timer.key.size() - 1);
    const char side = timer.key.back();
    keys_.SetCurrentKeyBytes(key, timer.key_group);
    if (side == kIntervalJoinCleanupLeft) {
      left_->Remove(upper_ <= 0 ? timer.time : SaturatingAdd(timer.time, -upper_));
    } else if (side == kIntervalJoinCleanupRight) {
      right_->Remove(lower_ <= 0 ? SaturatingAdd(timer.time, lower_) : timer.time);
    } else {
      ThrowBadTimer(timer);
    }
  }
  [[noreturn]] static void ThrowBadTimer(const KeyedTimers::Timer& timer) {
    ThrowSerializationError("interval join cleanup timer", 0,
                            "unknown namespace in a timer key of " +
                                std::to_string(timer.key.size()) + " bytes at time " +
                                std::to_string(timer.time));
  }

  // ---- ProcessJoinFunction::Context ----
  int64_t LeftTimestamp() const override { return left_timestamp_; }
  int64_t RightTimestamp() const override { return right_timestamp_; }
  int64_t Timestamp() const override { return result_timestamp_; }
  const SideOutputs& GetSideOutputs() const override { return side_outputs_; }

  FunctionHolder<F> function_;
  std::function<K(const T1&)> key1_;
  std::function<K(const T2&)> key2_;
  const int64_t lower_;
  const int64_t upper_;
  std::optional<OutputTag<T1>> left_late_tag_;
  std::optional<OutputTag<T2>> right_late_tag_;
  KeyContext<K> keys_;
  TimestampedCollector<Out> collector_;
  MapState<int64_t, IntervalJoinBuffer<T1>>* left_ = nullptr;
  MapState<int64_t, IntervalJoinBuffer<T2>>* right_ = nullptr;
  KeyedTimerQueues timers_;
  int64_t watermark_ = kMinWatermark;
  int64_t left_timestamp_ = kNoTimestamp;
  int64_t right_timestamp_ = kNoTimestamp;
  int64_t result_timestamp_ = kNoTimestamp;
};

}  // namespace sluice::detail
