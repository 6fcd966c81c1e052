// Turning Kafka record bytes into stream records.
//
//   DeserializationSchema<T>            sees the value only (Flink's DeserializationSchema);
//                                       SimpleStringSchema and BytesSchema are built in.
//   KafkaRecordDeserializationSchema<T> sees the whole record: topic, partition, offset,
//                                       timestamp and its type, key, value, headers.
//
// Both may emit zero or more records per Kafka record through the Collector; emitting none
// skips the record, and its offset still counts as read.
//
// Zero copy: the bytes handed to Deserialize are views into librdkafka's fetch buffer, valid
// only until Deserialize returns. Copy what you keep.
// Threads and copies: every parallel reader (and every restart) gets its own copy of the
// schema made with the copy constructor, and calls it from its task thread only, so a schema
// may keep scratch members without locking.
// Errors: what happens when Deserialize throws is the source's DeserializationFailurePolicy:
// Fail (the default: the job fails with a message naming topic, partition and offset), Skip
// (counted in KafkaSourceReader.deserializationFailures) or DeadLetter(topic) (the raw record
// goes to that topic with headers saying why, and is counted too). Nothing is dropped
// without a count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <sluice/api/functions.h>
#include <sluice/api/runtime_context.h>
#include <sluice/state/type_serializer.h>

namespace sluice::kafka {

/// Value-only deserialisation. Tombstones (records with a null value) never reach a
/// value-only schema: the source skips them and counts them in the metric
/// KafkaSourceReader.tombstonesSkipped. Use a KafkaRecordDeserializationSchema to see them.
template <typename T>
class DeserializationSchema {
 public:
  using value_type = T;
  virtual ~DeserializationSchema() = default;
  /// Called once per reader before the first record.
  virtual void Open(RuntimeContext& /*context*/) {}
  virtual void Deserialize(std::string_view message, Collector<T>& out) = 0;
  /// Legacy shape only (KafkaConsumerSource): true for an element that ends the stream. That
  /// element is not emitted, its record counts as read, and the subtask stops fetching.
  virtual bool IsEndOfStream(const T& /*next_element*/) const { return false; }
};

/// What the source does with a record its schema cannot deserialize (Deserialize threw).
///
///   Fail()            the job fails; the error names topic, partition and offset (default)
///   Skip()            the record is dropped and counted
///   (KafkaSourceReader.deserializationFailures) DeadLetter(topic) the raw record (key, value,
///   headers, timestamp) is produced to `topic`
///                     on the same cluster with extra headers: sluice.dlq.error (the
///                     exception's text), sluice.dlq.topic, sluice.dlq.partition and
///                     sluice.dlq.offset (decimal text); counted in deserializationFailures
///                     and deadLetterRecords. Every checkpoint waits until the dead letters
///                     sent before it are acknowledged, and a failed delivery fails the job,
///                     so a record is never lost between the two topics.
class DeserializationFailurePolicy {
 public:
  enum class Kind { kFail, kSkip, kDeadLetter };
  static DeserializationFailurePolicy Fail() {
    return DeserializationFailurePolicy(Kind::kFail, "");
  }
  static DeserializationFailurePolicy Skip() {
    return DeserializationFailurePolicy(Kind::kSkip, "");
  }
  static DeserializationFailurePolicy DeadLetter(std::string topic) {
    return DeserializationFailurePolicy(Kind::kDeadLetter, std::move(topic));
  }
  Kind kind() const { return kind_; }
  /// The dead-letter topic (kDeadLetter only).
  const std::string& topic() const { return topic_; }

 private:
  DeserializationFailurePolicy(Kind kind, std::string topic)
      : kind_(kind), topic_(std::move(topic)) {}
  Kind kind_;
  std::string topic_;
};

/// The value's bytes as a std::string (Flink's SimpleStringSchema; UTF-8 is not checked).
class SimpleStringSchema final : public DeserializationSchema<std::string> {
 public:
  void Deserialize(std::string_view message, Collector<std::string>& out) override {
    out.Collect(std::string(message));
  }
};

/// The value's raw bytes.
class BytesSchema final : public DeserializationSchema<Bytes> {
 public:
  void Deserialize(std::string_view message, Collector<Bytes>& out) override {
    const auto* begin = reinterpret_cast<const std::byte*>(message.data());
    out.Collect(Bytes(begin, begin + message.size()));
  }
};

/// How a record's timestamp was set (Kafka's TimestampType).
enum class TimestampType { kNoTimestampType, kCreateTime, kLogAppendTime };

struct KafkaHeader {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt for a null header value
};

/// One Kafka record as librdkafka delivered it. Every view points into librdkafka's buffers
/// and is valid only during the Deserialize call that receives the record.
struct ConsumerRecord {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  /// Milliseconds since the epoch; -1 when timestamp_type is kNoTimestampType.
  int64_t timestamp = -1;
  TimestampType timestamp_type = TimestampType::kNoTimestampType;
  std::optional<std::string_view> key;    // nullopt for a null key
  std::optional<std::string_view> value;  // nullopt for a tombstone
  std::span<const KafkaHeader> headers;   // in the order they were produced
};

/// Whole-record deserialisation (Flink's KafkaRecordDeserializationSchema).
template <typename T>
class KafkaRecordDeserializationSchema {
 public:
  using value_type = T;
  virtual ~KafkaRecordDeserializationSchema() = default;
  /// Called once per reader before the first record.
  virtual void Open(RuntimeContext& /*context*/) {}
  virtual void Deserialize(const ConsumerRecord& record, Collector<T>& out) = 0;
};

namespace detail {

/// Adapts a value-only schema; skips and counts tombstones.
template <typename T>
class ValueOnlyDeserializationSchema final : public KafkaRecordDeserializationSchema<T> {
 public:
  explicit ValueOnlyDeserializationSchema(std::unique_ptr<DeserializationSchema<T>> schema)
      : schema_(std::move(schema)) {}
  void Open(RuntimeContext& context) override {
    tombstones_ =
        &context.GetMetricGroup().AddGroup("KafkaSourceReader").GetCounter("tombstonesSkipped");
    schema_->Open(context);
  }
  void Deserialize(const ConsumerRecord& record, Collector<T>& out) override {
    if (!record.value) {
      if (tombstones_ != nullptr) tombstones_->Inc();
      return;
    }
    schema_->Deserialize(*record.value, out);
  }
  const DeserializationSchema<T>& inner() const { return *schema_; }

 private:
  std::unique_ptr<DeserializationSchema<T>> schema_;
  Counter* tombstones_ = nullptr;
};

}  // namespace detail
}  // namespace sluice::kafka
