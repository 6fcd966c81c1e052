// The operators behind ConnectedStreams: Map (CoMapFunction), FlatMap (CoFlatMapFunction),
// Process (CoProcessFunction; KeyedCoProcessFunction on keyed connected streams), and the
// wrapper that sets the current key for Map and FlatMap on keyed connected streams (Flink's
// CoStreamMap, CoStreamFlatMap, CoProcessOperator, KeyedCoProcessOperator). Implementation
// detail of the DataStream API; not a stable interface.
//
// Threads: every method runs on the task thread of the operator instance.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <utility>

#include <sluice/api/co_functions.h>
#include <sluice/api/functions.h>
#include <sluice/detail/keyed_timer_service.h>
#include <sluice/detail/operators.h>
#include <sluice/detail/output.h>
#include <sluice/detail/two_input_operator.h>

namespace sluice::detail {

/// Two-input operators whose function's lifecycle is all they add to TwoInputOperator.
template <typename In1, typename In2, typename Out, typename F>
class TwoInputFunctionOperator : public TwoInputOperator<In1, In2, Out> {
 public:
  explicit TwoInputFunctionOperator(F function) : function_(std::move(function)) {}
  void Open() override { function_.Open(this->context()); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { function_.NotifyComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyAborted(id); }

 protected:
  FunctionHolder<F> function_;
};

/// ConnectedStreams::Map.
template <typename In1, typename In2, typename Out, typename F>
class CoMapOperator final : public TwoInputFunctionOperator<In1, In2, Out, F> {
 public:
  using TwoInputFunctionOperator<In1, In2, Out, F>::TwoInputFunctionOperator;
  void ProcessElement1(StreamRecord<In1>&& record) override {
    this->output_->Collect(
        StreamRecord<Out>{this->function_.get().Map1(std::move(record.value)), record.timestamp});
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    this->output_->Collect(
        StreamRecord<Out>{this->function_.get().Map2(std::move(record.value)), record.timestamp});
  }
};

/// ConnectedStreams::FlatMap.
template <typename In1, typename In2, typename Out, typename F>
class CoFlatMapOperator final : public TwoInputFunctionOperator<In1, In2, Out, F> {
 public:
  explicit CoFlatMapOperator(F function)
      : TwoInputFunctionOperator<In1, In2, Out, F>(std::move(function)),
        collector_(&this->output_) {}
  void ProcessElement1(StreamRecord<In1>&& record) override {
    collector_.SetTimestamp(record.timestamp);
    this->function_.get().FlatMap1(std::move(record.value), collector_);
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    collector_.SetTimestamp(record.timestamp);
    this->function_.get().FlatMap2(std::move(record.value), collector_);
  }

 private:
  TimestampedCollector<Out> collector_;
};

/// The TimerService of a function on a non-keyed stream: the clocks, and no timers (Flink:
/// "Setting timers is only supported on a keyed streams.").
class TimerlessTimerService final : public TimerService {
 public:
  void Setup(ProcessingTimeService* time) { time_ = time; }
  void set_watermark(int64_t watermark) { watermark_ = watermark; }
  int64_t CurrentProcessingTime() const override { return time_->CurrentProcessingTime(); }
  int64_t CurrentWatermark() const override { return watermark_; }
  void RegisterProcessingTimeTimer(int64_t) override { ThrowNoTimers(); }
  void DeleteProcessingTimeTimer(int64_t) override { ThrowNoTimers(); }
  void RegisterEventTimeTimer(int64_t) override { ThrowNoTimers(); }
  void DeleteEventTimeTimer(int64_t) override { ThrowNoTimers(); }

 private:
  [[noreturn]] static void ThrowNoTimers() {
    throw std::logic_error(
        "timers are only supported on keyed streams: key both inputs (Connect(...).KeyBy(...)) "
        "and use a KeyedCoProcessFunction, or a KeyedBroadcastProcessFunction on a keyed stream");
  }

  ProcessingTimeService* time_ = nullptr;
  int64_t watermark_ = kMinWatermark;
};

/// ConnectedStreams::Process with a CoProcessFunction: timestamps, clocks, side outputs; no
/// timers and no keyed state.
template <typename In1, typename In2, typename Out, typename F>
class CoProcessOperator final : public TwoInputFunctionOperator<In1, In2, Out, F>,
                                public HasSideOutputs,
                                private CoProcessFunction<In1, In2, Out>::Context {
 public:
  explicit CoProcessOperator(F function)
      : TwoInputFunctionOperator<In1, In2, Out, F>(std::move(function)),
        collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    TwoInputFunctionOperator<In1, In2, Out, F>::Setup(context);
    timer_service_.Setup(&context.GetProcessingTimeService());
  }
  void ProcessElement1(StreamRecord<In1>&& record) override {
    Stamp(record.timestamp);
    this->function_.get().ProcessElement1(std::move(record.value), *this, collector_);
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    Stamp(record.timestamp);
    this->function_.get().ProcessElement2(std::move(record.value), *this, collector_);
  }
  void ProcessWatermark(Watermark watermark) override {
    timer_service_.set_watermark(watermark.timestamp);
    this->output_->EmitWatermark(watermark);
  }

 private:
  void Stamp(int64_t timestamp) {
    timestamp_ = timestamp;
    collector_.SetTimestamp(timestamp);
  }
  // ---- Context ----
  int64_t Timestamp() const override { return timestamp_; }
  sluice::TimerService& TimerService() override { return timer_service_; }
  const SideOutputs& GetSideOutputs() const override { return side_outputs_; }

  TimestampedCollector<Out> collector_;
  TimerlessTimerService timer_service_;
  int64_t timestamp_ = kNoTimestamp;
};

/// Process on keyed connected streams: a KeyedCoProcessFunction with keyed state, timers and
/// side outputs; the key of an element of input 1 (2) is key_selector1 (2) of it.
template <typename K, typename In1, typename In2, typename Out, typename F>
class KeyedCoProcessOperator final
    : public TwoInputFunctionOperator<In1, In2, Out, F>,
      public HasSideOutputs,
      private KeyedCoProcessFunction<K, In1, In2, Out>::OnTimerContext {
 public:
  KeyedCoProcessOperator(F function, std::function<K(const In1&)> key_selector1,
                         std::function<K(const In2&)> key_selector2)
      : TwoInputFunctionOperator<In1, In2, Out, F>(std::move(function)),
        key_selector1_(std::move(key_selector1)),
        key_selector2_(std::move(key_selector2)),
        collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    TwoInputFunctionOperator<In1, In2, Out, F>::Setup(context);
    keys_.Setup(context);
    timers_.Setup(&keys_, &context.GetProcessingTimeService(),
                  [this](const K& key, int64_t time, TimeDomain domain) {
                    current_key_ = key;
                    timestamp_ = time;
                    domain_ = domain;
                    collector_.SetTimestamp(domain == TimeDomain::kEventTime ? time : kNoTimestamp);
                    this->function_.get().OnTimer(time, *this, collector_);
                  });
  }

  void ProcessElement1(StreamRecord<In1>&& record) override {
    SetKeyAndTimestamp(key_selector1_(record.value), record.timestamp);
    this->function_.get().ProcessElement1(std::move(record.value), *this, collector_);
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    SetKeyAndTimestamp(key_selector2_(record.value), record.timestamp);
    this->function_.get().ProcessElement2(std::move(record.value), *this, collector_);
  }
  void ProcessWatermark(Watermark watermark) override {
    timers_.AdvanceWatermark(watermark.timestamp);
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
  void SetKeyAndTimestamp(K key, int64_t timestamp) {
    current_key_ = std::move(key);
    keys_.SetCurrentKey(current_key_);
    timestamp_ = timestamp;
    collector_.SetTimestamp(timestamp);
  }

  // ---- OnTimerContext ----
  int64_t Timestamp() const override { return timestamp_; }
  const K& GetCurrentKey() const override { return current_key_; }
  sluice::TimerService& TimerService() override { return timers_; }
  TimeDomain GetTimeDomain() const override { return domain_; }
  const SideOutputs& GetSideOutputs() const override { return side_outputs_; }

  std::function<K(const In1&)> key_selector1_;
  std::function<K(const In2&)> key_selector2_;
  KeyContext<K> keys_;
  KeyedTimerService<K> timers_;
  TimestampedCollector<Out> collector_;
  K current_key_{};
  int64_t timestamp_ = kNoTimestamp;
  TimeDomain domain_ = TimeDomain::kProcessingTime;
};

/// Map and FlatMap on keyed connected streams: sets the element's key before the inner
/// operator sees it, so its function may use keyed state (as Flink's keyed CoStreamMap).
template <typename K, typename In1, typename In2>
class KeySettingTwoInputOperator final : public TwoInputStreamOperator, public TwoInput<In1, In2> {
 public:
  KeySettingTwoInputOperator(std::unique_ptr<StreamOperator> inner,
                             std::function<K(const In1&)> key_selector1,
                             std::function<K(const In2&)> key_selector2)
      : inner_(std::move(inner)),
        input_(dynamic_cast<TwoInput<In1, In2>*>(inner_.get())),
        key_selector1_(std::move(key_selector1)),
        key_selector2_(std::move(key_selector2)) {}
  StreamOperator* OutputOperator() override { return inner_.get(); }
  void Setup(OperatorContext& context) override {
    StreamOperator::Setup(context);
    inner_->Setup(context);
    keys_.Setup(context);
  }
  void Open() override { inner_->Open(); }
  void ProcessElement1(StreamRecord<In1>&& record) override {
    keys_.SetCurrentKey(key_selector1_(record.value));
    input_->ProcessElement1(std::move(record));
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    keys_.SetCurrentKey(key_selector2_(record.value));
    input_->ProcessElement2(std::move(record));
  }
  // This wrapper combines the inputs' watermarks; the inner operator gets the combined ones.
  void ProcessWatermark(Watermark w) override { inner_->ProcessWatermark(w); }
  void ProcessWatermarkStatus(WatermarkStatus s) override { inner_->ProcessWatermarkStatus(s); }
  void EndInput() override { inner_->EndInput(); }
  void SnapshotState(CheckpointId id) override { inner_->SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { inner_->NotifyCheckpointComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { inner_->NotifyCheckpointAborted(id); }
  void Close() override { inner_->Close(); }
  void SnapshotKeyGroupExtras(int32_t key_group, DataOutput& out) override {
    inner_->SnapshotKeyGroupExtras(key_group, out);
  }
  void RestoreKeyGroupExtras(int32_t key_group, DataInput& in) override {
    inner_->RestoreKeyGroupExtras(key_group, in);
  }

 private:
  std::unique_ptr<StreamOperator> inner_;
  TwoInput<In1, In2>* input_;
  std::function<K(const In1&)> key_selector1_;
  std::function<K(const In2&)> key_selector2_;
  KeyContext<K> keys_;
};

}  // namespace sluice::detail
