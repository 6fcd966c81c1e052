// Source operators: the pull-style reader driven by the task thread, and the legacy
// SourceFunction that runs on a thread of its own under the checkpoint lock.
#pragma once

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <sluice/api/source.h>
#include <sluice/api/source_function.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/task_input.h>
#include <sluice/detail/watermarking_reader.h>

namespace sluice::detail {

/// Emits watermarks and status changes from a generator, never going backwards.
template <typename T>
class GeneratorWatermarkOutput final : public WatermarkOutput {
 public:
  explicit GeneratorWatermarkOutput(Output<T>** output) : output_(output) {}
  void EmitWatermark(int64_t timestamp) override {
    if (timestamp <= last_) return;
    last_ = timestamp;
    if (idle_) MarkActive();
    (*output_)->EmitWatermark(Watermark{timestamp});
  }
  void MarkIdle() override {
    if (idle_) return;
    idle_ = true;
    (*output_)->EmitWatermarkStatus(WatermarkStatus{true});
  }
  void MarkActive() override {
    if (!idle_) return;
    idle_ = false;
    (*output_)->EmitWatermarkStatus(WatermarkStatus{false});
  }

 private:
  Output<T>** output_;
  int64_t last_ = kMinWatermark;
  bool idle_ = false;
};

/// Timestamps and watermarks of a source's records from a WatermarkStrategy, with the
/// periodic emission on processing-time timers.
template <typename T>
class SourceWatermarks {
 public:
  SourceWatermarks(WatermarkStrategy<T> strategy, Output<T>** output)
      : strategy_(std::move(strategy)), watermark_output_(output), output_(output) {}

  void Open(OperatorContext& context) {
    generator_ = strategy_.CreateGenerator();
    if (generator_ == nullptr) return;
    interval_ = context.GetAutoWatermarkInterval();
    if (interval_ > 0) Schedule(context);
  }

  void Collect(T&& value, int64_t record_timestamp) {
    int64_t timestamp = strategy_.timestamp_assigner()
                            ? strategy_.timestamp_assigner()(value, record_timestamp)
                            : record_timestamp;
    // The record first: a punctuated watermark it carries must not make it late (as Flink).
    (*output_)->Collect(StreamRecord<T>{std::move(value), timestamp});
    if (generator_ != nullptr) generator_->OnEvent(timestamp, watermark_output_);
  }

  WatermarkOutput& watermark_output() { return watermark_output_; }
  const WatermarkStrategy<T>& strategy() const { return strategy_; }

  /// For a reader that generates watermarks itself (WatermarkingSourceReader): records pass
  /// with the timestamp they have, and `periodic` runs every auto-watermark interval instead
  /// of this class's generator.
  void OpenDelegated(OperatorContext& context, std::function<void()> periodic) {
    delegated_ = true;
    periodic_ = std::move(periodic);
    if (!strategy_.GeneratesWatermarks()) return;
    interval_ = context.GetAutoWatermarkInterval();
    if (interval_ > 0) Schedule(context);
  }
  void CollectAssigned(T&& value, int64_t timestamp) {
    (*output_)->Collect(StreamRecord<T>{std::move(value), timestamp});
  }
  bool delegated() const { return delegated_; }

 private:
  void Schedule(OperatorContext& context) {
    ProcessingTimeService& time = context.GetProcessingTimeService();
    time.RegisterTimer(time.CurrentProcessingTime() + interval_, [this, &context](int64_t) {
      if (delegated_) {
        periodic_();
      } else {
        generator_->OnPeriodicEmit(watermark_output_);
      }
      Schedule(context);
    });
  }

  WatermarkStrategy<T> strategy_;
  GeneratorWatermarkOutput<T> watermark_output_;
  Output<T>** output_;
  std::unique_ptr<WatermarkGenerator> generator_;
  int64_t interval_ = 0;
  bool delegated_ = false;
  std::function<void()> periodic_;
};

/// FromSource(): a SourceReader polled by the task thread.
template <typename T>
class ReaderSourceOperator final : public SourceOperatorBase<T>,
                                   public TaskInput,
                                   private ReaderOutput<T>,
                                   private SourceReaderContext {
 public:
  ReaderSourceOperator(std::shared_ptr<const Source<T>> source, WatermarkStrategy<T> strategy)
      : source_(std::move(source)), watermarks_(std::move(strategy), &this->output_) {}

  // ---- StreamOperator ----
  void Open() override {
    reader_ = source_->CreateReader(this->context().GetTaskInfo());
    auto* watermarking = dynamic_cast<WatermarkingSourceReader<T>*>(reader_.get());
    if (watermarking != nullptr) watermarking->SetWatermarkStrategy(watermarks_.strategy());
    reader_->Open(*this);
    if (watermarking != nullptr) {
      watermarks_.OpenDelegated(
          this->context(), [this, watermarking] { watermarking->EmitPeriodicWatermark(*this); });
    } else {
      watermarks_.Open(this->context());
    }
  }
  void SnapshotState(CheckpointId id) override { reader_->SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { reader_->NotifyCheckpointComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { reader_->NotifyCheckpointAborted(id); }
  void Close() override {
    if (reader_ != nullptr) reader_->Close();
  }

  // ---- TaskInput ----
  bool IsSource() const override { return true; }
  Status ProcessSome() override {
    switch (reader_->PollNext(*this)) {
      case InputStatus::kMoreAvailable:
        return Status::kMoreAvailable;
      case InputStatus::kNothingAvailable:
        return Status::kNothingAvailable;
      case InputStatus::kEndOfInput:
        return Status::kEndOfInput;
    }
    return Status::kEndOfInput;
  }
  void EmitFinalWatermark() override { this->output_->EmitWatermark(Watermark{kMaxWatermark}); }

 private:
  // ---- ReaderOutput ----
  void Collect(T value, int64_t timestamp) override {
    if (watermarks_.delegated()) {
      watermarks_.CollectAssigned(std::move(value), timestamp);
    } else {
      watermarks_.Collect(std::move(value), timestamp);
    }
  }
  void EmitWatermark(int64_t timestamp) override {
    watermarks_.watermark_output().EmitWatermark(timestamp);
  }
  void MarkIdle() override { watermarks_.watermark_output().MarkIdle(); }
  void MarkActive() override { watermarks_.watermark_output().MarkActive(); }
  // ---- SourceReaderContext ----
  RuntimeContext& GetRuntimeContext() override { return this->context().GetRuntimeContext(); }
  void SignalAvailable() override { this->context().SignalAvailable(); }

  std::shared_ptr<const Source<T>> source_;
  SourceWatermarks<T> watermarks_;
  std::unique_ptr<SourceReader<T>> reader_;
};

/// AddSource(): a SourceFunction whose Run() loops on a thread of its own. Collect() holds the
/// checkpoint lock; the task thread takes it for checkpoints, timers and flushes, so the two
/// never interleave (Flink's legacy source thread).
template <typename T>
class LegacySourceOperator final : public SourceOperatorBase<T>,
                                   public TaskInput,
                                   private SourceContext<T> {
 public:
  using Factory = std::function<std::unique_ptr<SourceFunction<T>>()>;

  LegacySourceOperator(Factory factory, WatermarkStrategy<T> strategy)
      : factory_(std::move(factory)), watermarks_(std::move(strategy), &this->output_) {}

  ~LegacySourceOperator() override { Shutdown(); }

  void Open() override {
    {
      // Cancel() may come from the job master at any moment, also while the task opens.
      std::lock_guard lock(function_mutex_);
      function_ = factory_();
      if (cancelled_) function_->Cancel();  // cancelled before the function existed
    }
    if (auto* rich = dynamic_cast<RichFunction*>(function_.get())) {
      rich->SetRuntimeContext(&this->context().GetRuntimeContext());
      rich->Open();
    }
    watermarks_.Open(this->context());
  }
  void SnapshotState(CheckpointId id) override {
    if (auto* checkpointed = dynamic_cast<CheckpointedFunction*>(function_.get()))
      checkpointed->SnapshotState(id);
  }
  void NotifyCheckpointComplete(CheckpointId id) override {
    if (auto* listener = dynamic_cast<CheckpointListener*>(function_.get()))
      listener->NotifyCheckpointComplete(id);
  }
  void NotifyCheckpointAborted(CheckpointId id) override {
    if (auto* listener = dynamic_cast<CheckpointListener*>(function_.get()))
      listener->NotifyCheckpointAborted(id);
  }
  void Close() override {
    if (auto* rich = dynamic_cast<RichFunction*>(function_.get())) rich->Close();
  }

  // ---- TaskInput ----
  bool IsSource() const override { return true; }
  void Start() override {
    notifier_ = &this->context();
    thread_ = std::thread([this] {
      try {
        function_->Run(*this);
      } catch (...) {
        error_ = std::current_exception();
      }
      finished_.store(true, std::memory_order_release);
      notifier_->SignalAvailable();
    });
  }
  Status ProcessSome() override {
    if (!finished_.load(std::memory_order_acquire)) return Status::kNothingAvailable;
    Shutdown();
    if (error_) std::rethrow_exception(error_);
    return Status::kEndOfInput;
  }
  void EmitFinalWatermark() override {
    if (!cancelled_) this->output_->EmitWatermark(Watermark{kMaxWatermark});
  }
  void Cancel() override {
    std::lock_guard lock(function_mutex_);
    cancelled_ = true;
    if (function_ != nullptr) function_->Cancel();
  }
  void Shutdown() override {
    if (thread_.joinable()) thread_.join();
  }
  std::recursive_mutex* checkpoint_lock() override { return &lock_; }

 private:
  // ---- SourceContext, on the source thread ----
  void Collect(T value) override { CollectWithTimestamp(std::move(value), kNoTimestamp); }
  void CollectWithTimestamp(T value, int64_t timestamp) override {
    std::lock_guard guard(lock_);
    watermarks_.Collect(std::move(value), timestamp);
  }
  void EmitWatermark(int64_t timestamp) override {
    std::lock_guard guard(lock_);
    watermarks_.watermark_output().EmitWatermark(timestamp);
  }
  void MarkAsTemporarilyIdle() override {
    std::lock_guard guard(lock_);
    watermarks_.watermark_output().MarkIdle();
  }
  std::recursive_mutex& GetCheckpointLock() override { return lock_; }

  Factory factory_;
  SourceWatermarks<T> watermarks_;
  // Set once by Open on the task thread, which reads it without the mutex afterwards; Cancel
  // (any thread) reads it under function_mutex_, so it sees either no function yet (and Open
  // cancels the new one) or the function.
  std::unique_ptr<SourceFunction<T>> function_;
  std::mutex function_mutex_;
  std::recursive_mutex lock_;
  std::thread thread_;
  OperatorContext* notifier_ = nullptr;
  std::atomic<bool> finished_{false};
  std::atomic<bool> cancelled_{false};
  std::exception_ptr error_;
};

}  // namespace sluice::detail
