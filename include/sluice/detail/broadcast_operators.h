// The operators behind Connect(broadcast_stream).Process(...): input 1 is the stream's own
// elements, input 2 the broadcast elements (every instance gets all of them). Flink's
// CoBroadcastWithNonKeyedOperator and CoBroadcastWithKeyedOperator. Implementation detail of
// the DataStream API; not a stable interface.
//
// The broadcast states are operator state (OperatorStateStore, mode broadcast): registered
// from the BroadcastStream's descriptors when the operator opens, after restore, so each is in
// every checkpoint even before its first use.
//
// Threads: every method runs on the task thread of the operator instance.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include <sluice/api/broadcast_functions.h>
#include <sluice/detail/broadcast_states.h>
#include <sluice/detail/co_operators.h>
#include <sluice/detail/keyed_timer_service.h>
#include <sluice/detail/operators.h>
#include <sluice/detail/output.h>
#include <sluice/detail/two_input_operator.h>

namespace sluice::detail {

/// What both broadcast operators share: the broadcast states, the element's timestamp, the
/// clocks and side outputs.
template <typename In1, typename In2, typename Out, typename F>
class BroadcastOperatorBase : public TwoInputFunctionOperator<In1, In2, Out, F>,
                              public HasSideOutputs {
 public:
  BroadcastOperatorBase(F function, std::shared_ptr<const BroadcastStateDescriptors> descriptors)
      : TwoInputFunctionOperator<In1, In2, Out, F>(std::move(function)),
        descriptors_(std::move(descriptors)),
        collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    TwoInputFunctionOperator<In1, In2, Out, F>::Setup(context);
    time_ = &context.GetProcessingTimeService();
    states_ = BroadcastStates(descriptors_, &context.GetOperatorStateStore());
  }
  void Open() override {
    descriptors_->RegisterAll(this->context().GetOperatorStateStore());
    TwoInputFunctionOperator<In1, In2, Out, F>::Open();
  }

 protected:
  void Stamp(int64_t timestamp) {
    timestamp_ = timestamp;
    collector_.SetTimestamp(timestamp);
  }

  std::shared_ptr<const BroadcastStateDescriptors> descriptors_;
  BroadcastStates states_;
  TimestampedCollector<Out> collector_;
  ProcessingTimeService* time_ = nullptr;
  int64_t timestamp_ = kNoTimestamp;
};

/// DataStream::Connect(broadcast).Process(BroadcastProcessFunction).
template <typename In1, typename In2, typename Out, typename F>
class BroadcastProcessOperator final
    : public BroadcastOperatorBase<In1, In2, Out, F>,
      private BroadcastProcessFunction<In1, In2, Out>::ReadOnlyContext,
      private BroadcastProcessFunction<In1, In2, Out>::Context {
  using Function = BroadcastProcessFunction<In1, In2, Out>;

 public:
  using BroadcastOperatorBase<In1, In2, Out, F>::BroadcastOperatorBase;

  void ProcessElement1(StreamRecord<In1>&& record) override {
    this->Stamp(record.timestamp);
    this->function_.get().ProcessElement(std::move(record.value),
                                         static_cast<typename Function::ReadOnlyContext&>(*this),
                                         this->collector_);
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    this->Stamp(record.timestamp);
    this->function_.get().ProcessBroadcastElement(
        std::move(record.value), static_cast<typename Function::Context&>(*this), this->collector_);
  }
  void ProcessWatermark(Watermark watermark) override {
    watermark_ = watermark.timestamp;
    this->output_->EmitWatermark(watermark);
  }

 private:
  // ---- both contexts ----
  int64_t Timestamp() const override { return this->timestamp_; }
  int64_t CurrentProcessingTime() const override { return this->time_->CurrentProcessingTime(); }
  int64_t CurrentWatermark() const override { return watermark_; }
  const BroadcastStates& States() const override { return this->states_; }
  const SideOutputs& GetSideOutputs() const override { return this->side_outputs_; }

  int64_t watermark_ = kMinWatermark;
};

/// KeyedStream::Connect(broadcast).Process(KeyedBroadcastProcessFunction): keyed state and
/// timers of input 1's key (key_selector), broadcast state, ApplyToKeyedState on the broadcast
/// side.
template <typename K, typename In1, typename In2, typename Out, typename F>
class KeyedBroadcastProcessOperator final
    : public BroadcastOperatorBase<In1, In2, Out, F>,
      private KeyedBroadcastProcessFunction<K, In1, In2, Out>::OnTimerContext,
      private KeyedBroadcastProcessFunction<K, In1, In2, Out>::Context {
  using Function = KeyedBroadcastProcessFunction<K, In1, In2, Out>;

 public:
  KeyedBroadcastProcessOperator(F function,
                                std::shared_ptr<const BroadcastStateDescriptors> descriptors,
                                std::function<K(const In1&)> key_selector)
      : BroadcastOperatorBase<In1, In2, Out, F>(std::move(function), std::move(descriptors)),
        key_selector_(std::move(key_selector)) {}

  void Setup(OperatorContext& context) override {
    BroadcastOperatorBase<In1, In2, Out, F>::Setup(context);
    keys_.Setup(context);
    timers_.Setup(
        &keys_, &context.GetProcessingTimeService(),
        [this](const K& key, int64_t time, TimeDomain domain) {
          current_key_ = key;
          domain_ = domain;
          this->timestamp_ = time;
          this->collector_.SetTimestamp(domain == TimeDomain::kEventTime ? time : kNoTimestamp);
          this->function_.get().OnTimer(
              time, static_cast<typename Function::OnTimerContext&>(*this), this->collector_);
        });
  }

  void ProcessElement1(StreamRecord<In1>&& record) override {
    current_key_ = key_selector_(record.value);
    keys_.SetCurrentKey(current_key_);
    this->Stamp(record.timestamp);
    this->function_.get().ProcessElement(std::move(record.value),
                                         static_cast<typename Function::ReadOnlyContext&>(*this),
                                         this->collector_);
  }
  void ProcessElement2(StreamRecord<In2>&& record) override {
    this->Stamp(record.timestamp);
    this->function_.get().ProcessBroadcastElement(
        std::move(record.value), static_cast<typename Function::Context&>(*this), this->collector_);
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
  // ---- every context ----
  int64_t Timestamp() const override { return this->timestamp_; }
  int64_t CurrentProcessingTime() const override { return this->time_->CurrentProcessingTime(); }
  int64_t CurrentWatermark() const override { return timers_.CurrentWatermark(); }
  const BroadcastStates& States() const override { return this->states_; }
  const SideOutputs& GetSideOutputs() const override { return this->side_outputs_; }
  // ---- ReadOnlyContext / OnTimerContext ----
  sluice::TimerService& TimerService() override { return timers_; }
  const K& GetCurrentKey() const override { return current_key_; }
  TimeDomain GetTimeDomain() const override { return domain_; }
  // ---- Context ----
  detail::KeyedStateBackend& KeyedStateBackend() override { return keys_.backend(); }

  std::function<K(const In1&)> key_selector_;
  KeyContext<K> keys_;
  KeyedTimerService<K> timers_;
  K current_key_{};
  TimeDomain domain_ = TimeDomain::kProcessingTime;
};

}  // namespace sluice::detail
