// The typed half of a Kafka reader, shared by KafkaSource and KafkaConsumerSource: runs the
// schema on the record the core hands over, applies the deserialization failure policy, the
// timestamp assigner and end-of-stream, feeds event timestamps to the core's per-partition
// watermarks, and emits to a ReaderOutput. Implementation detail of the public headers.
//
// Threads: the reader's polling thread only.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/metrics.h>
#include <sluice/api/runtime_context.h>
#include <sluice/api/source.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/connectors/kafka/deserialization_schema.h>
#include <sluice/connectors/kafka/detail/kafka_source_core.h>

namespace sluice::kafka::detail {

template <typename T>
class KafkaRecordEmitter final : public RecordHandler, private Collector<T> {
 public:
  using EndOfStream = std::function<bool(const T&)>;

  KafkaRecordEmitter(KafkaReaderCore& core,
                     std::unique_ptr<KafkaRecordDeserializationSchema<T>> schema,
                     DeserializationFailurePolicy policy)
      : core_(core),
        schema_(std::move(schema)),
        policy_(std::move(policy)),
        // A value-only schema never looks at headers; a dead letter carries them along.
        needs_headers_(dynamic_cast<const ValueOnlyDeserializationSchema<T>*>(schema_.get()) ==
                           nullptr ||
                       policy_.kind() == DeserializationFailurePolicy::Kind::kDeadLetter) {}

  void Open(RuntimeContext& context) {
    MetricGroup& metrics = context.GetMetricGroup().AddGroup("KafkaSourceReader");
    failures_ = &metrics.GetCounter("deserializationFailures");
    if (policy_.kind() == DeserializationFailurePolicy::Kind::kDeadLetter) {
      dead_letters_ = &metrics.GetCounter("deadLetterRecords");
    }
    schema_->Open(context);
  }

  /// The strategy's timestamp assigner; per-partition generators when it makes watermarks.
  void SetWatermarkStrategy(const WatermarkStrategy<T>& strategy) {
    assigner_ = strategy.timestamp_assigner();
    if (!strategy.GeneratesWatermarks()) return;
    std::optional<int64_t> idle;
    if (strategy.idle_timeout()) idle = strategy.idle_timeout()->count();
    core_.EnableWatermarks([strategy] { return strategy.CreateGenerator(); }, idle);
    watermarks_ = true;
  }
  void SetEndOfStream(EndOfStream end_of_stream) { end_of_stream_fn_ = std::move(end_of_stream); }
  void SetOutput(ReaderOutput<T>* output) { output_ = output; }
  bool end_of_stream() const { return end_of_stream_; }

  // ---- RecordHandler ----
  void OnRecord(const ConsumerRecord& record) override {
    // Deserialise into a reused buffer first, so that an exception from a downstream
    // (chained) operator is never taken for a deserialisation failure.
    pending_.clear();
    try {
      schema_->Deserialize(record, *this);
    } catch (const StatusException& e) {
      OnFailure(record, e.status().message().c_str(), e.status().code());
      return;
    } catch (const std::exception& e) {
      OnFailure(record, e.what());
      return;
    } catch (...) {
      OnFailure(record, "a non-standard exception");
      return;
    }
    int64_t record_timestamp = record.timestamp >= 0 ? record.timestamp : kNoTimestamp;
    for (T& value : pending_) {
      if (end_of_stream_fn_ && end_of_stream_fn_(value)) {
        end_of_stream_ = true;
        break;
      }
      int64_t timestamp = assigner_ ? assigner_(value, record_timestamp) : record_timestamp;
      if (watermarks_) core_.OnEventTimestamp(timestamp);
      output_->Collect(std::move(value), timestamp);
    }
    pending_.clear();
  }
  void EmitWatermark(int64_t timestamp) override { output_->EmitWatermark(timestamp); }
  void MarkIdle() override { output_->MarkIdle(); }
  void MarkActive() override { output_->MarkActive(); }
  bool StopRequested() const override { return end_of_stream_; }
  bool NeedsHeaders() const override { return needs_headers_; }

 private:
  void Collect(T value) override { pending_.push_back(std::move(value)); }

  void OnFailure(const ConsumerRecord& record, const char* reason,
                 StatusCode code = StatusCode::kAborted) {
    pending_.clear();
    switch (policy_.kind()) {
      case DeserializationFailurePolicy::Kind::kFail:
        ThrowDeserializationError(record, reason, code);
      case DeserializationFailurePolicy::Kind::kSkip:
        failures_->Inc();
        return;
      case DeserializationFailurePolicy::Kind::kDeadLetter:
        core_.SendToDeadLetter(record, reason);
        failures_->Inc();
        dead_letters_->Inc();
        return;
    }
  }

  KafkaReaderCore& core_;
  std::unique_ptr<KafkaRecordDeserializationSchema<T>> schema_;
  DeserializationFailurePolicy policy_;
  typename WatermarkStrategy<T>::TimestampAssigner assigner_;
  EndOfStream end_of_stream_fn_;
  bool needs_headers_;
  ReaderOutput<T>* output_ = nullptr;
  Counter* failures_ = nullptr;
  Counter* dead_letters_ = nullptr;
  std::vector<T> pending_;
  bool watermarks_ = false;
  bool end_of_stream_ = false;
};

}  // namespace sluice::kafka::detail
