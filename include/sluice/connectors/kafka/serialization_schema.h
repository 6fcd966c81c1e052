// Turning stream elements into Kafka records (the sink side of deserialization_schema.h).
//
//   SerializationSchema<T>             one element -> the bytes of a key or a value
//                                      (Flink's SerializationSchema); StringSerializationSchema
//                                      is built in, and the builder also takes the source's
//                                      SimpleStringSchema, as a Flink user would write it.
//   KafkaRecordSerializationSchema<T>  one element -> a whole ProducerRecord (topic, partition,
//                                      key, value, timestamp, headers), or nothing: returning
//                                      false drops the element; the sink counts it in the
//                                      metric KafkaSink.numRecordsDropped.
//   KafkaRecordSerializationSchema<T>::Builder()
//                                      the usual composition: a topic or a topic selector, key
//                                      and value schemas, a partitioner, headers, timestamps.
//
//   auto serializer = sluice::kafka::KafkaRecordSerializationSchema<std::string>::Builder()
//                         .SetTopic("output")
//                         .SetValueSerializationSchema(sluice::kafka::SimpleStringSchema())
//                         .Build();
//
// No per-record allocation: a writer reuses one ProducerRecord, whose strings keep their
// capacity; schemas write into it. Threads and copies: every parallel writer (and every
// restart) gets its own copy of a schema, made with the copy constructor and called on the
// writer's task thread only. Errors: anything a schema throws fails the job; Validate() lets a
// schema report a configuration mistake when the sink is built.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/api/runtime_context.h>
#include <sluice/connectors/kafka/deserialization_schema.h>
#include <sluice/connectors/kafka/partitioner.h>
#include <sluice/status.h>

namespace sluice::kafka {

/// One element -> the bytes of a key or a value.
template <typename T>
class SerializationSchema {
 public:
  using value_type = T;
  virtual ~SerializationSchema() = default;
  virtual void Open(RuntimeContext& /*context*/) {}
  /// Appends the bytes of `element` to `out` (empty on entry). Returning false means null:
  /// no key, or for a value a tombstone.
  virtual bool Serialize(const T& element, std::string& out) = 0;
};

/// The string's bytes (Flink's SimpleStringSchema, serialising side).
class StringSerializationSchema final : public SerializationSchema<std::string> {
 public:
  bool Serialize(const std::string& element, std::string& out) override {
    out.append(element);
    return true;
  }
};

struct ProducerHeader {
  std::string key;
  std::optional<std::string> value;  // nullopt: a null header value
};

/// A record about to be produced. Writers reuse one object: Clear() keeps string capacity.
struct ProducerRecord {
  std::string topic;
  /// kAnyPartition: librdkafka's partitioner (murmur2_random) decides.
  int32_t partition = kAnyPartition;
  /// Milliseconds since the epoch; < 0: librdkafka stamps the send time.
  int64_t timestamp = -1;
  std::string key;
  bool has_key = false;
  std::string value;
  bool has_value = false;  // false: a tombstone (null value)
  std::vector<ProducerHeader> headers;

  void Clear() {
    topic.clear();
    partition = kAnyPartition;
    timestamp = -1;
    key.clear();
    has_key = false;
    value.clear();
    has_value = false;
    headers.clear();
  }
};

/// What a record schema may ask about the writer it runs in (Flink's KafkaSinkContext).
class KafkaSinkContext {
 public:
  virtual ~KafkaSinkContext() = default;
  virtual int32_t GetParallelInstanceId() const = 0;
  virtual int32_t GetNumberOfParallelInstances() const = 0;
  /// The topic's partition ids, sorted; fetched from the broker on first use and cached by the
  /// writer. Throws StatusException (kNotFound) naming the topic when it does not exist.
  virtual const std::vector<int32_t>& GetPartitionsForTopic(const std::string& topic) = 0;
};

template <typename T>
class KafkaRecordSerializationSchemaBuilder;

template <typename T>
class KafkaRecordSerializationSchema {
 public:
  using value_type = T;
  virtual ~KafkaRecordSerializationSchema() = default;
  static KafkaRecordSerializationSchemaBuilder<T> Builder() { return {}; }

  virtual void Open(RuntimeContext& /*context*/, KafkaSinkContext& /*sink_context*/) {}
  /// Fills `record` (cleared before the call) for `element`, whose event timestamp is
  /// `timestamp` (-1: none). Returning false drops the element.
  virtual bool Serialize(const T& element, KafkaSinkContext& context, int64_t timestamp,
                         ProducerRecord& record) = 0;
  /// A configuration mistake, reported by KafkaSinkBuilder::Build().
  virtual Status Validate() const { return Status::Ok(); }
};

namespace detail {

template <typename T>
using SerializationFactory = std::function<std::unique_ptr<SerializationSchema<T>>()>;
template <typename T>
using PartitionerFactory = std::function<std::unique_ptr<KafkaPartitioner<T>>()>;

// SimpleStringSchema is the source's class; for a Flink user it is also the way to write
// strings, so the builder accepts it and serialises with StringSerializationSchema.
template <typename T, typename S>
SerializationFactory<T> MakeSerializationFactory(S schema) {
  if constexpr (std::same_as<S, SimpleStringSchema>) {
    static_assert(std::same_as<T, std::string>,
                  "SimpleStringSchema serialises std::string elements only");
    return [] {
      return std::unique_ptr<SerializationSchema<T>>(std::make_unique<StringSerializationSchema>());
    };
  } else {
    static_assert(std::derived_from<S, SerializationSchema<T>> && std::copy_constructible<S>,
                  "a key or value schema derives from SerializationSchema<T> and is copyable");
    return [schema = std::move(schema)] {
      return std::unique_ptr<SerializationSchema<T>>(std::make_unique<S>(schema));
    };
  }
}

}  // namespace detail

/// What KafkaRecordSerializationSchemaBuilder::Build() makes. Copyable; each copy creates its
/// own key/value schemas and partitioner in Open().
template <typename T>
class ComposedRecordSerializationSchema final : public KafkaRecordSerializationSchema<T> {
 public:
  struct Parts {
    std::optional<std::string> topic;
    std::function<std::string(const T&)> topic_selector;
    detail::SerializationFactory<T> key;
    detail::SerializationFactory<T> value;
    detail::PartitionerFactory<T> partitioner;
    std::function<void(const T&, std::vector<ProducerHeader>&)> headers;
    std::function<int64_t(const T&, int64_t)> timestamp;
    int topic_setters = 0;
  };
  explicit ComposedRecordSerializationSchema(std::shared_ptr<const Parts> parts)
      : parts_(std::move(parts)) {}
  ComposedRecordSerializationSchema(const ComposedRecordSerializationSchema& other)
      : parts_(other.parts_) {}

  void Open(RuntimeContext& context, KafkaSinkContext& sink_context) override {
    if (parts_->key) {
      key_ = parts_->key();
      key_->Open(context);
    }
    value_ = parts_->value();
    value_->Open(context);
    if (parts_->partitioner) {
      partitioner_ = parts_->partitioner();
      partitioner_->Open(sink_context.GetParallelInstanceId(),
                         sink_context.GetNumberOfParallelInstances());
    }
  }
  bool Serialize(const T& element, KafkaSinkContext& context, int64_t timestamp,
                 ProducerRecord& record) override {
    if (parts_->topic_selector) {
      record.topic = parts_->topic_selector(element);
    } else {
      record.topic.assign(*parts_->topic);
    }
    if (key_ != nullptr) record.has_key = key_->Serialize(element, record.key);
    record.has_value = value_->Serialize(element, record.value);
    if (partitioner_ != nullptr) {
      std::optional<std::string_view> key, value;
      if (record.has_key) key = record.key;
      if (record.has_value) value = record.value;
      record.partition = partitioner_->Partition(element, key, value, record.topic,
                                                 context.GetPartitionsForTopic(record.topic));
    }
    record.timestamp = parts_->timestamp ? parts_->timestamp(element, timestamp) : timestamp;
    if (parts_->headers) parts_->headers(element, record.headers);
    return true;
  }
  Status Validate() const override {
    const char* prefix = "KafkaRecordSerializationSchema: ";
    if (parts_->topic_setters == 0) {
      return Status::InvalidArgument(std::string(prefix) +
                                     "no topic: call SetTopic(name) or SetTopicSelector(fn)");
    }
    if (parts_->topic_setters > 1) {
      return Status::InvalidArgument(
          std::string(prefix) +
          "SetTopic and SetTopicSelector were both called; use exactly one of them");
    }
    if (parts_->topic && parts_->topic->empty()) {
      return Status::InvalidArgument(std::string(prefix) +
                                     "SetTopic(\"\"): the topic name is empty");
    }
    if (!parts_->value) {
      return Status::InvalidArgument(std::string(prefix) +
                                     "no value schema: call SetValueSerializationSchema(...), e.g. "
                                     "SimpleStringSchema() for strings");
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<const Parts> parts_;
  std::unique_ptr<SerializationSchema<T>> key_;
  std::unique_ptr<SerializationSchema<T>> value_;
  std::unique_ptr<KafkaPartitioner<T>> partitioner_;
};

/// Flink's KafkaRecordSerializationSchemaBuilder. Every setter returns the builder; mistakes
/// are reported by KafkaSinkBuilder::Build().
template <typename T>
class KafkaRecordSerializationSchemaBuilder {
 public:
  using Parts = typename ComposedRecordSerializationSchema<T>::Parts;

  /// Every record goes to this topic.
  KafkaRecordSerializationSchemaBuilder& SetTopic(std::string topic) {
    parts_.topic = std::move(topic);
    ++parts_.topic_setters;
    return *this;
  }
  /// The topic per element (called on the writer's thread for every element).
  KafkaRecordSerializationSchemaBuilder& SetTopicSelector(
      std::function<std::string(const T&)> selector) {
    parts_.topic_selector = std::move(selector);
    ++parts_.topic_setters;
    return *this;
  }
  /// The key's bytes (default: no key).
  template <typename S>
  KafkaRecordSerializationSchemaBuilder& SetKeySerializationSchema(S schema) {
    parts_.key = detail::MakeSerializationFactory<T>(std::move(schema));
    return *this;
  }
  /// The value's bytes. Required.
  template <typename S>
  KafkaRecordSerializationSchemaBuilder& SetValueSerializationSchema(S schema) {
    parts_.value = detail::MakeSerializationFactory<T>(std::move(schema));
    return *this;
  }
  /// FixedPartitioner<T>(), KeyHashPartitioner<T>(), RoundRobinPartitioner<T>() or your own
  /// (copied per writer). Default: none, librdkafka's murmur2_random (Kafka's key hash).
  template <typename P>
    requires std::derived_from<P, KafkaPartitioner<T>> && std::copy_constructible<P>
  KafkaRecordSerializationSchemaBuilder& SetPartitioner(P partitioner) {
    parts_.partitioner = [partitioner] {
      return std::unique_ptr<KafkaPartitioner<T>>(std::make_unique<P>(partitioner));
    };
    return *this;
  }
  /// Appends headers for an element.
  KafkaRecordSerializationSchemaBuilder& SetHeaderProvider(
      std::function<void(const T&, std::vector<ProducerHeader>&)> headers) {
    parts_.headers = std::move(headers);
    return *this;
  }
  /// The record timestamp from the element and its event timestamp (-1: none). Default: the
  /// event timestamp when there is one, else the send time.
  KafkaRecordSerializationSchemaBuilder& SetTimestampAssigner(
      std::function<int64_t(const T&, int64_t)> assigner) {
    parts_.timestamp = std::move(assigner);
    return *this;
  }
  ComposedRecordSerializationSchema<T> Build() const {
    return ComposedRecordSerializationSchema<T>(std::make_shared<const Parts>(parts_));
  }

 private:
  Parts parts_;
};

}  // namespace sluice::kafka
