// The operators behind the DataStream calls: Map, FlatMap, Filter, Process, keyed Process and
// Reduce, timestamps/watermarks assignment, and sinks.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <sluice/api/functions.h>
#include <sluice/api/key_hash.h>
#include <sluice/api/sink.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/detail/key_groups.h>
#include <sluice/detail/operator.h>
#include <sluice/state/detail/keyed_timers.h>
#include <sluice/state/type_serializer.h>

namespace sluice::detail {

/// Opens and closes a function if it is a RichFunction, and forwards checkpoint hooks if it
/// implements CheckpointedFunction / CheckpointListener.
template <typename F>
class FunctionHolder {
 public:
  explicit FunctionHolder(F function) : function_(std::move(function)) {}
  F& get() { return function_; }
  void Open(OperatorContext& context) {
    if constexpr (std::is_base_of_v<RichFunction, F>) {
      function_.SetRuntimeContext(&context.GetRuntimeContext());
      function_.Open();
    }
  }
  void Close() {
    if constexpr (std::is_base_of_v<RichFunction, F>) function_.Close();
  }
  void SnapshotState(CheckpointId id) {
    if constexpr (std::is_base_of_v<CheckpointedFunction, F>) function_.SnapshotState(id);
  }
  void NotifyComplete(CheckpointId id) {
    if constexpr (std::is_base_of_v<CheckpointListener, F>) function_.NotifyCheckpointComplete(id);
  }
  void NotifyAborted(CheckpointId id) {
    if constexpr (std::is_base_of_v<CheckpointListener, F>) function_.NotifyCheckpointAborted(id);
  }

 private:
  F function_;
};

/// Operators whose only extra behaviour is calling one user function.
template <typename In, typename Out, typename F>
class FunctionOperator : public OneInputOperator<In, Out> {
 public:
  explicit FunctionOperator(F function) : function_(std::move(function)) {}
  void Open() override { function_.Open(this->context()); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { function_.NotifyComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyAborted(id); }

 protected:
  FunctionHolder<F> function_;
};

template <typename In, typename Out, typename F>
class MapOperator final : public FunctionOperator<In, Out, F> {
 public:
  using FunctionOperator<In, Out, F>::FunctionOperator;
  void ProcessElement(StreamRecord<In>&& record) override {
    F& f = this->function_.get();
    if constexpr (std::is_base_of_v<RichFunction, F>) {
      this->output_->Collect(StreamRecord<Out>{f.Map(std::move(record.value)), record.timestamp});
    } else {
      this->output_->Collect(StreamRecord<Out>{f(std::move(record.value)), record.timestamp});
    }
  }
};

/// A Collector that stamps the input's timestamp on every output record.
template <typename Out>
class TimestampedCollector final : public Collector<Out> {
 public:
  explicit TimestampedCollector(Output<Out>** output) : output_(output) {}
  void SetTimestamp(int64_t timestamp) { timestamp_ = timestamp; }
  void Collect(Out value) override {
    (*output_)->Collect(StreamRecord<Out>{std::move(value), timestamp_});
  }

 private:
  Output<Out>** output_;
  int64_t timestamp_ = kNoTimestamp;
};

template <typename In, typename Out, typename F>
class FlatMapOperator final : public FunctionOperator<In, Out, F> {
 public:
  explicit FlatMapOperator(F function)
      : FunctionOperator<In, Out, F>(std::move(function)), collector_(&this->output_) {}
  void ProcessElement(StreamRecord<In>&& record) override {
    collector_.SetTimestamp(record.timestamp);
    F& f = this->function_.get();
    if constexpr (std::is_base_of_v<RichFunction, F>) {
      f.FlatMap(std::move(record.value), collector_);
    } else {
      f(std::move(record.value), collector_);
    }
  }

 private:
  TimestampedCollector<Out> collector_;
};

template <typename T, typename F>
class FilterOperator final : public FunctionOperator<T, T, F> {
 public:
  using FunctionOperator<T, T, F>::FunctionOperator;
  void ProcessElement(StreamRecord<T>&& record) override {
    F& f = this->function_.get();
    bool keep;
    if constexpr (std::is_base_of_v<RichFunction, F>) {
      keep = f.Filter(record.value);
    } else {
      keep = f(record.value);
    }
    if (keep) this->output_->Collect(std::move(record));
  }
};

/// Sets the current key (its serialized bytes and key group) for keyed state and timers.
template <typename K>
class KeyContext {
 public:
  void Setup(OperatorContext& context) {
    backend_ = context.GetKeyedStateBackend();
    max_parallelism_ = context.GetTaskInfo().max_parallelism;
  }
  void SetCurrentKey(const K& key) {
    buffer_.Clear();
    SerializeValue(key, buffer_);
    int32_t key_group = KeyGroupForKeyHash(KeyHash<K>::HashCode(key), max_parallelism_);
    backend_->SetCurrentKey(buffer_.data(), key_group);
  }
  /// Restores a key from its bytes (timers store keys serialized).
  void SetCurrentKeyBytes(std::string_view bytes, int32_t key_group) {
    backend_->SetCurrentKey(bytes, key_group);
  }
  std::string_view current_key_bytes() const { return backend_->current_key(); }
  int32_t current_key_group() const { return backend_->current_key_group(); }
  KeyedStateBackend& backend() { return *backend_; }

 private:
  KeyedStateBackend* backend_ = nullptr;
  int32_t max_parallelism_ = 128;
  DataOutput buffer_;
};

/// DataStream::Process: a ProcessFunction, with the element's timestamp, the clocks and side
/// outputs; no timers and no keyed state (as Flink's ProcessOperator on a non-keyed stream).
template <typename In, typename Out, typename F>
class ProcessOperator final : public OneInputOperator<In, Out>,
                              public HasSideOutputs,
                              private ProcessFunction<In, Out>::Context,
                              private TimerService {
 public:
  explicit ProcessOperator(F function)
      : function_(std::move(function)), collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    OneInputOperator<In, Out>::Setup(context);
    time_ = &context.GetProcessingTimeService();
  }
  void Open() override { function_.Open(this->context()); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { function_.NotifyComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyAborted(id); }

  void ProcessElement(StreamRecord<In>&& record) override {
    timestamp_ = record.timestamp;
    collector_.SetTimestamp(record.timestamp);
    function_.get().ProcessElement(std::move(record.value), *this, collector_);
  }
  void ProcessWatermark(Watermark watermark) override {
    watermark_ = watermark.timestamp;
    this->output_->EmitWatermark(watermark);
  }

 private:
  // ---- Context ----
  int64_t Timestamp() const override { return timestamp_; }
  sluice::TimerService& TimerService() override { return *this; }
  const SideOutputs& GetSideOutputs() const override { return side_outputs_; }

  // ---- TimerService ----
  int64_t CurrentProcessingTime() const override { return time_->CurrentProcessingTime(); }
  int64_t CurrentWatermark() const override { return watermark_; }
  void RegisterProcessingTimeTimer(int64_t) override { ThrowNoTimers(); }
  void DeleteProcessingTimeTimer(int64_t) override { ThrowNoTimers(); }
  void RegisterEventTimeTimer(int64_t) override { ThrowNoTimers(); }
  void DeleteEventTimeTimer(int64_t) override { ThrowNoTimers(); }
  [[noreturn]] static void ThrowNoTimers() {
    throw std::logic_error(
        "timers are only supported on keyed streams: use KeyBy(...).Process with a "
        "KeyedProcessFunction");
  }

  FunctionHolder<F> function_;
  TimestampedCollector<Out> collector_;
  int64_t timestamp_ = kNoTimestamp;
  int64_t watermark_ = kMinWatermark;
  ProcessingTimeService* time_ = nullptr;
};

/// KeyedStream::Process: a KeyedProcessFunction with keyed state, timers and side outputs.
template <typename K, typename In, typename Out, typename F>
class KeyedProcessOperator final : public OneInputOperator<In, Out>,
                                   public HasSideOutputs,
                                   private KeyedProcessFunction<K, In, Out>::OnTimerContext,
                                   private TimerService {
 public:
  KeyedProcessOperator(F function, std::function<K(const In&)> key_selector)
      : function_(std::move(function)),
        key_selector_(std::move(key_selector)),
        collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    OneInputOperator<In, Out>::Setup(context);
    keys_.Setup(context);
    time_ = &context.GetProcessingTimeService();
  }
  void Open() override { function_.Open(this->context()); }
  void Close() override { function_.Close(); }
  void SnapshotState(CheckpointId id) override { function_.SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { function_.NotifyComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { function_.NotifyAborted(id); }

  void ProcessElement(StreamRecord<In>&& record) override {
    current_key_ = key_selector_(record.value);
    keys_.SetCurrentKey(current_key_);
    timestamp_ = record.timestamp;
    collector_.SetTimestamp(record.timestamp);
    function_.get().ProcessElement(std::move(record.value), *this, collector_);
  }

  void ProcessWatermark(Watermark watermark) override {
    watermark_ = watermark.timestamp;
    while (auto timer = timers_.event.PopDue(watermark.timestamp))
      Fire(*timer, TimeDomain::kEventTime);
    this->output_->EmitWatermark(watermark);
  }

  // The timers are the extras of each key group (versioned: keyed_timers.h).
  void SnapshotKeyGroupExtras(int32_t key_group, DataOutput& out) override {
    timers_.SnapshotKeyGroup(key_group, out);
  }
  void RestoreKeyGroupExtras(int32_t key_group, DataInput& in) override {
    timers_.RestoreKeyGroup(key_group, in);
    ScheduleProcessingWakeup();
  }

 private:
  // ---- Context ----
  int64_t Timestamp() const override { return timestamp_; }
  const K& GetCurrentKey() const override { return current_key_; }
  sluice::TimerService& TimerService() override { return *this; }
  TimeDomain GetTimeDomain() const override { return domain_; }
  const SideOutputs& GetSideOutputs() const override { return side_outputs_; }

  // ---- TimerService ----
  int64_t CurrentProcessingTime() const override { return time_->CurrentProcessingTime(); }
  int64_t CurrentWatermark() const override { return watermark_; }
  void RegisterProcessingTimeTimer(int64_t time) override {
    timers_.processing.Add(CurrentTimer(time));
    ScheduleProcessingWakeup();
  }
  void DeleteProcessingTimeTimer(int64_t time) override {
    timers_.processing.Remove(CurrentTimer(time));
  }
  void RegisterEventTimeTimer(int64_t time) override { timers_.event.Add(CurrentTimer(time)); }
  void DeleteEventTimeTimer(int64_t time) override { timers_.event.Remove(CurrentTimer(time)); }

  KeyedTimers::Timer CurrentTimer(int64_t time) {
    return KeyedTimers::Timer{time, keys_.current_key_group(),
                              std::string(keys_.current_key_bytes())};
  }

  // One task-level timer at the earliest processing-time timer; re-armed after each firing.
  void ScheduleProcessingWakeup() {
    if (timers_.processing.empty()) return;
    int64_t next = timers_.processing.next_time();
    if (wakeup_scheduled_ && scheduled_time_ <= next) return;
    wakeup_scheduled_ = true;
    scheduled_time_ = next;
    // An earlier wake-up replaces a later one; the later one still fires and finds nothing due.
    time_->RegisterTimer(next, [this](int64_t now) {
      if (now >= scheduled_time_) wakeup_scheduled_ = false;
      while (auto timer = timers_.processing.PopDue(now)) Fire(*timer, TimeDomain::kProcessingTime);
      ScheduleProcessingWakeup();
    });
  }

  void Fire(const KeyedTimers::Timer& timer, TimeDomain domain) {
    keys_.SetCurrentKeyBytes(timer.key, timer.key_group);
    DataInput in(timer.key);
    current_key_ = DeserializeValue<K>(in);
    timestamp_ = timer.time;
    domain_ = domain;
    collector_.SetTimestamp(domain == TimeDomain::kEventTime ? timer.time : kNoTimestamp);
    function_.get().OnTimer(timer.time, *this, collector_);
  }

  FunctionHolder<F> function_;
  std::function<K(const In&)> key_selector_;
  KeyContext<K> keys_;
  TimestampedCollector<Out> collector_;
  K current_key_{};
  int64_t timestamp_ = kNoTimestamp;
  int64_t watermark_ = kMinWatermark;
  TimeDomain domain_ = TimeDomain::kProcessingTime;
  KeyedTimerQueues timers_;
  ProcessingTimeService* time_ = nullptr;
  bool wakeup_scheduled_ = false;
  int64_t scheduled_time_ = 0;
};

/// KeyedStream::Reduce (and Sum/Min/Max): the running result per key in ValueState, emitted
/// after every element, as in Flink.
template <typename K, typename T>
class ReduceOperator final : public OneInputOperator<T, T> {
 public:
  using ReduceFunction = std::function<T(const T& accumulated, const T& value)>;
  ReduceOperator(ReduceFunction reduce, std::function<K(const T&)> key_selector)
      : reduce_(std::move(reduce)), key_selector_(std::move(key_selector)) {}

  void Setup(OperatorContext& context) override {
    OneInputOperator<T, T>::Setup(context);
    keys_.Setup(context);
  }
  void Open() override {
    state_ = &keys_.backend().GetValueState(ValueStateDescriptor<T>("_reduce"));
  }
  void ProcessElement(StreamRecord<T>&& record) override {
    keys_.SetCurrentKey(key_selector_(record.value));
    std::optional<T> current = state_->Value();
    T result = current ? reduce_(*current, record.value) : std::move(record.value);
    state_->Update(result);
    this->output_->Collect(StreamRecord<T>{std::move(result), record.timestamp});
  }

 private:
  ReduceFunction reduce_;
  std::function<K(const T&)> key_selector_;
  KeyContext<K> keys_;
  ValueState<T>* state_ = nullptr;
};

/// AssignTimestampsAndWatermarks: replaces upstream watermarks with the strategy's own.
template <typename T>
class TimestampsAndWatermarksOperator final : public OneInputOperator<T, T>,
                                              private WatermarkOutput {
 public:
  explicit TimestampsAndWatermarksOperator(WatermarkStrategy<T> strategy)
      : strategy_(std::move(strategy)) {}

  void Open() override {
    generator_ = strategy_.CreateGenerator();
    interval_ = this->context().GetAutoWatermarkInterval();
    if (generator_ != nullptr && interval_ > 0) Schedule();
  }
  void ProcessElement(StreamRecord<T>&& record) override {
    if (strategy_.timestamp_assigner())
      record.timestamp = strategy_.timestamp_assigner()(record.value, record.timestamp);
    // The record first: a punctuated watermark it carries must not make it late (as Flink).
    const int64_t timestamp = record.timestamp;
    this->output_->Collect(std::move(record));
    if (generator_ != nullptr) generator_->OnEvent(timestamp, *this);
  }
  void ProcessWatermark(Watermark watermark) override {
    // Upstream watermarks are replaced by this strategy's, except the end of input.
    if (watermark.timestamp == kMaxWatermark) EmitWatermark(kMaxWatermark);
  }

 private:
  void Schedule() {
    ProcessingTimeService& time = this->context().GetProcessingTimeService();
    time.RegisterTimer(time.CurrentProcessingTime() + interval_, [this](int64_t) {
      generator_->OnPeriodicEmit(*this);
      Schedule();
    });
  }
  void EmitWatermark(int64_t timestamp) override {
    if (timestamp <= last_) return;
    last_ = timestamp;
    MarkActive();
    this->output_->EmitWatermark(Watermark{timestamp});
  }
  void MarkIdle() override {
    if (idle_) return;
    idle_ = true;
    this->output_->EmitWatermarkStatus(WatermarkStatus{true});
  }
  void MarkActive() override {
    if (!idle_) return;
    idle_ = false;
    this->output_->EmitWatermarkStatus(WatermarkStatus{false});
  }

  WatermarkStrategy<T> strategy_;
  std::unique_ptr<WatermarkGenerator> generator_;
  int64_t interval_ = 0;
  int64_t last_ = kMinWatermark;
  bool idle_ = false;
};

/// AddSink: a SinkFunction per record.
template <typename T, typename F>
class SinkFunctionOperator final : public FunctionOperator<T, T, F> {
 public:
  using FunctionOperator<T, T, F>::FunctionOperator;
  void ProcessElement(StreamRecord<T>&& record) override {
    this->function_.get().Invoke(record.value, SinkContext{record.timestamp, watermark_});
  }
  void ProcessWatermark(Watermark watermark) override { watermark_ = watermark.timestamp; }
  void ProcessWatermarkStatus(WatermarkStatus) override {}
  void EndInput() override { this->function_.get().Finish(); }

 private:
  int64_t watermark_ = kMinWatermark;
};

/// SinkTo: a SinkWriter per parallel instance; flushed at every barrier and at the end.
template <typename T>
class SinkWriterOperator final : public OneInputOperator<T, T> {
 public:
  explicit SinkWriterOperator(std::shared_ptr<const Sink<T>> sink) : sink_(std::move(sink)) {}
  void Open() override {
    writer_ = sink_->CreateWriter(this->context().GetTaskInfo());
    writer_->Open(this->context().GetRuntimeContext());
  }
  void ProcessElement(StreamRecord<T>&& record) override {
    writer_->Write(record.value, SinkContext{record.timestamp, watermark_});
  }
  void ProcessWatermark(Watermark watermark) override { watermark_ = watermark.timestamp; }
  void ProcessWatermarkStatus(WatermarkStatus) override {}
  void SnapshotState(CheckpointId id) override {
    writer_->Flush(false);
    writer_->SnapshotState(id);
  }
  void NotifyCheckpointComplete(CheckpointId id) override {
    if (auto* listener = dynamic_cast<CheckpointListener*>(writer_.get()))
      listener->NotifyCheckpointComplete(id);
  }
  void NotifyCheckpointAborted(CheckpointId id) override {
    if (auto* listener = dynamic_cast<CheckpointListener*>(writer_.get()))
      listener->NotifyCheckpointAborted(id);
  }
  void EndInput() override { writer_->Flush(true); }
  void Close() override {
    if (writer_ != nullptr) writer_->Close();
  }

 private:
  std::shared_ptr<const Sink<T>> sink_;
  std::unique_ptr<SinkWriter<T>> writer_;
  int64_t watermark_ = kMinWatermark;
};

/// What Print() needs of a record type.
template <typename T>
concept Streamable = requires(std::ostream& os, const T& value) { os << value; };

/// Writes one whole line to standard output or standard error; lines written concurrently by
/// parallel Print() sinks never interleave. Out of line so that no header includes <iostream>.
void WritePrintedLine(bool to_stderr, std::string_view line);

/// Print / PrintToErr: one line per record, "<subtask+1>> value" when parallel (as Flink).
template <typename T>
class PrintSinkFunction final : public RichSinkFunction<T> {
 public:
  explicit PrintSinkFunction(bool to_stderr) : to_stderr_(to_stderr) {}
  void Open() override {
    const RuntimeContext& context = this->GetRuntimeContext();
    if (context.GetNumberOfParallelSubtasks() > 1)
      prefix_ = std::to_string(context.GetIndexOfThisSubtask() + 1) + "> ";
  }
  void Invoke(const T& value, const SinkContext&) override {
    std::ostringstream line;
    line << prefix_ << value << '\n';
    WritePrintedLine(to_stderr_, line.str());
  }

 private:
  bool to_stderr_;
  std::string prefix_;
};

}  // namespace sluice::detail
