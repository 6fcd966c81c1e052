// KafkaProducerSink: Flink's legacy FlinkKafkaProducer shape, used with AddSink.
//
//   sluice::kafka::Properties props{{"bootstrap.servers", "127.0.0.1:19092"}};
//   sluice::kafka::KafkaProducerSink<std::string> producer("flink001",
//   sluice::kafka::SimpleStringSchema(),
//                                                          props);   // AT_LEAST_ONCE,
//                                                          FixedPartitioner
//   producer.SetWriteTimestampToKafka(true);
//   stream.AddSink(producer);
//
// It is a Sink<T> that builds a KafkaSink<T> (kafka_sink.h) when the job starts, so writers,
// delivery guarantees, metrics and the exactly-once protocol are KafkaSink's; only the legacy
// defaults and rules below differ. docs/kafka-sink.md has the comparison with the builder shape.
//
// Constructors (Flink's argument order, then the partitioner):
//   KafkaProducerSink<T>(topic, schema, properties[, semantic][, partitioner])
//   - schema: a SerializationSchema<T> for the value (copied per writer), or, for std::string,
//     SimpleStringSchema() as a Flink user writes it. Records have no key.
//   - properties: any librdkafka producer property, passed through unchanged
//     (security.protocol, sasl.kerberos.service.name, ssl.*, ...); bootstrap.servers is
//     required. Also the KafkaSink keys sluice.control.topic,
//     sluice.control.topic.replication.factor, sluice.broker.timeout.ms, and
//     sluice.transactional.id.prefix (below).
//   - semantic: Semantic::kNone, kAtLeastOnce (the default, as in Flink's legacy producer) or
//     kExactlyOnce. Semantic is another name for DeliveryGuarantee, so
//     `sluice::kafka::Semantic::kExactlyOnce` and
//     `sluice::kafka::KafkaProducerSink<std::string>::Semantic::kExactlyOnce` both work.
//   - partitioner: default FixedPartitioner<T>() (Flink's legacy default: the topic's partitions
//     sorted by id, writer i writes to partitions[i % count]); any KafkaPartitioner<T>
//     (copied per writer); or kKafkaDefaultPartitioning for Kafka's own partitioner
//     (librdkafka's murmur2_random: Flink's `Optional.empty()`).
//
// Legacy rules:
// - Without checkpointing every semantic behaves as kNone (records flushed when the job ends),
//   and the sink says so once in the log when the job starts, as Flink does.
// - kAtLeastOnce (with checkpointing): an idempotent producer per writer that waits for every
//   delivery report at each checkpoint barrier.
// - kExactlyOnce (with checkpointing): KafkaSink's transactional checkpoints (DESIGN.md
//   section 5). The transactional id prefix is, in this order: SetTransactionalIdPrefix(...),
//   the property "sluice.transactional.id.prefix", or "sluice-<job name>" (characters outside
//   [A-Za-z0-9._-] become '_'). The default is stable across restarts and shared by every
//   legacy EXACTLY_ONCE sink of the job (they commit together); two jobs with one name on one
//   cluster fence each other, as two instances of one job should. Mixing it with a builder
//   KafkaSink in one job needs one prefix for both. Readers use isolation.level=read_committed.
// - SetWriteTimestampToKafka(bool), default false: the record timestamp is left to librdkafka
//   (the send time); true writes the element's event timestamp when it has one (>= 0).
// - SetLogFailuresOnly(bool), default false: a record whose delivery fails after librdkafka's
//   retries fails the job, naming topic, partition and reason. true: such failures (and
//   records librdkafka refuses, e.g. too large) are only logged (at most a line a second) and
//   counted in the metric KafkaSink.numRecordsSendErrors, and the sink warns once at start
//   that data can be lost. Not allowed with EXACTLY_ONCE (a transaction with a failed record
//   cannot commit). A fatal producer error fails the job in every case.
//
// Thread safety: configure on one thread, then hand it to AddSink, which copies it; the copy is
// shared by all writers. Sink::Validate (the runtime calls it once, when Execute() starts the
// job) resolves the settings under a mutex; CreateWriter and GetCheckpointParticipant may be
// called from any thread afterwards.
// Ownership: AddSink keeps its own copy; schema and partitioner are copied per writer.
// Errors: nothing is checked before the job starts. Validate returns InvalidArgument naming the
// setting and the fix (empty or invalid topic, missing bootstrap.servers, a property librdkafka
// does not know or refuses, EXACTLY_ONCE with SetLogFailuresOnly(true), a transaction timeout
// shorter than checkpoint interval + timeout), and Execute() returns it as the job's failure.
// At run time, as KafkaSink: a failed delivery, a missing topic or an unreachable broker fails
// the job with the topic, partition and reason.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <sluice/api/sink.h>
#include <sluice/api/state_participant_provider.h>
#include <sluice/connectors/kafka/delivery_guarantee.h>
#include <sluice/connectors/kafka/detail/kafka_sink_core.h>
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/partitioner.h>
#include <sluice/connectors/kafka/properties.h>
#include <sluice/connectors/kafka/serialization_schema.h>
#include <sluice/status.h>

namespace sluice::kafka {

/// Flink's FlinkKafkaProducer.Semantic; the same values as the builder's DeliveryGuarantee.
using Semantic = DeliveryGuarantee;

/// The partitioner argument that means "no partitioner of ours": Kafka's own (librdkafka's
/// murmur2_random, Kafka's key hash; records without a key are spread randomly).
struct KafkaDefaultPartitioning {
  explicit constexpr KafkaDefaultPartitioning() = default;
};
inline constexpr KafkaDefaultPartitioning kKafkaDefaultPartitioning{};

namespace detail {

template <typename S, typename T>
concept LegacyValueSchema =
    (std::derived_from<S, SerializationSchema<T>> && std::copy_constructible<S>) ||
    (std::same_as<S, SimpleStringSchema> && std::same_as<T, std::string>);

template <typename P, typename T>
concept LegacyPartitionerChoice =
    (std::derived_from<P, KafkaPartitioner<T>> && std::copy_constructible<P>) ||
    std::same_as<P, KafkaDefaultPartitioning>;

}  // namespace detail

template <typename T>
class KafkaProducerSink final : public Sink<T>, public StateParticipantProvider {
 public:
  using Semantic = kafka::Semantic;

  /// Semantic::kAtLeastOnce unless given, FixedPartitioner<T>.
  template <typename S>
    requires detail::LegacyValueSchema<S, T>
  KafkaProducerSink(std::string topic, S schema, Properties properties,
                    Semantic semantic = Semantic::kAtLeastOnce)
      : KafkaProducerSink(std::move(topic), std::move(schema), std::move(properties), semantic,
                          FixedPartitioner<T>()) {}

  /// Semantic::kAtLeastOnce with `partitioner` (or kKafkaDefaultPartitioning).
  template <typename S, typename P>
    requires detail::LegacyValueSchema<S, T> && detail::LegacyPartitionerChoice<P, T>
  KafkaProducerSink(std::string topic, S schema, Properties properties, P partitioner)
      : KafkaProducerSink(std::move(topic), std::move(schema), std::move(properties),
                          Semantic::kAtLeastOnce, std::move(partitioner)) {}

  template <typename S, typename P>
    requires detail::LegacyValueSchema<S, T> && detail::LegacyPartitionerChoice<P, T>
  KafkaProducerSink(std::string topic, S schema, Properties properties, Semantic semantic,
                    P partitioner) {
    config_.legacy.topic = std::move(topic);
    config_.legacy.properties = std::move(properties);
    config_.legacy.semantic = semantic;
    config_.value = detail::MakeSerializationFactory<T>(std::move(schema));
    if constexpr (!std::same_as<P, KafkaDefaultPartitioning>) {
      config_.partitioner = [partitioner = std::move(partitioner)] {
        return std::unique_ptr<KafkaPartitioner<T>>(std::make_unique<P>(partitioner));
      };
    }
  }

  // Copies carry the configuration, not what an earlier Validate resolved.
  KafkaProducerSink(const KafkaProducerSink& other) : Sink<T>(), config_(other.config_) {}
  KafkaProducerSink& operator=(const KafkaProducerSink& other) {
    if (this != &other) {
      config_ = other.config_;
      std::lock_guard lock(mutex_);
      resolved_.reset();
    }
    return *this;
  }

  /// false (default): librdkafka stamps the send time; true: the element's event timestamp
  /// when it has one.
  KafkaProducerSink& SetWriteTimestampToKafka(bool write) {
    config_.write_timestamp = write;
    return *this;
  }
  /// false (default): a failed delivery fails the job; true: it is logged and counted only.
  KafkaProducerSink& SetLogFailuresOnly(bool log_only) {
    config_.legacy.log_failures_only = log_only;
    return *this;
  }
  /// The stem of the EXACTLY_ONCE transactional ids ("<prefix>-<instance>-a" / "-b"); wins over
  /// the property sluice.transactional.id.prefix and the default "sluice-<job name>".
  KafkaProducerSink& SetTransactionalIdPrefix(std::string prefix) {
    config_.legacy.transactional_id_prefix = std::move(prefix);
    return *this;
  }

  // ---- Sink<T> (runtime use) ----
  /// Resolves the settings for `job` (see the top of this file) and builds the KafkaSink the
  /// writers use.
  Status Validate(const SinkValidationContext& job) const override {
    Result<detail::KafkaSinkSettings> settings =
        detail::LegacyProducerSettings(config_.legacy, job);
    std::lock_guard lock(mutex_);
    resolved_.reset();
    if (!settings.ok()) return settings.status();
    auto shared = std::make_shared<const detail::KafkaSinkSettings>(std::move(settings).value());
    std::shared_ptr<CheckpointParticipant> participant;
    if (shared->guarantee == DeliveryGuarantee::kExactlyOnce)
      participant = detail::AcquireTransactionParticipant(shared);
    resolved_ = std::make_shared<const KafkaSink<T>>(std::move(shared), RecordSchemaFactory(),
                                                     std::move(participant));
    return Status::Ok();
  }
  std::unique_ptr<SinkWriter<T>> CreateWriter(const TaskInfo& task) const override {
    return Resolved()->CreateWriter(task);
  }
  std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const override {
    std::lock_guard lock(mutex_);
    return resolved_ != nullptr ? resolved_->GetCheckpointParticipant() : nullptr;
  }
  /// Its cluster, and its transactional id prefix (SetTransactionalIdPrefix or the property)
  /// when one is given.
  Result<std::shared_ptr<CheckpointParticipant>> CreateStateParticipant(
      const SinkValidationContext& job) const override {
    std::optional<std::string> prefix = config_.legacy.transactional_id_prefix;
    if (auto it = config_.legacy.properties.find(detail::kLegacyTransactionalIdPrefixProperty);
        !prefix && it != config_.legacy.properties.end())
      prefix = it->second;
    return detail::AcquireStateParticipant(config_.legacy.properties, prefix, job);
  }

  /// The KafkaSink the last successful Validate built, or null (for tests and diagnostics).
  std::shared_ptr<const KafkaSink<T>> ResolvedSink() const {
    std::lock_guard lock(mutex_);
    return resolved_;
  }

 private:
  struct Config {
    detail::LegacyProducerConfig legacy;
    detail::SerializationFactory<T> value;
    detail::PartitionerFactory<T> partitioner;  // null: Kafka's own
    bool write_timestamp = false;
  };

  // The legacy producer is the builder's composition with a fixed topic, no key and the
  // legacy timestamp rule.
  typename KafkaSink<T>::SchemaFactory RecordSchemaFactory() const {
    using Composed = ComposedRecordSerializationSchema<T>;
    auto parts = std::make_shared<typename Composed::Parts>();
    parts->topic = config_.legacy.topic;
    parts->topic_setters = 1;
    parts->value = config_.value;
    parts->partitioner = config_.partitioner;
    if (config_.write_timestamp) {
      parts->timestamp = [](const T&, int64_t timestamp) {
        return timestamp >= 0 ? timestamp : int64_t{-1};
      };
    } else {
      parts->timestamp = [](const T&, int64_t) { return int64_t{-1}; };
    }
    std::shared_ptr<const typename Composed::Parts> frozen = std::move(parts);
    return [frozen]() -> std::unique_ptr<KafkaRecordSerializationSchema<T>> {
      return std::make_unique<Composed>(frozen);
    };
  }

  std::shared_ptr<const KafkaSink<T>> Resolved() const {
    std::lock_guard lock(mutex_);
    if (resolved_ == nullptr) {
      throw std::logic_error(
          "KafkaProducerSink to topic " + config_.legacy.topic +
          ": used before Sink::Validate; add it to a job with stream.AddSink(sink)");
    }
    return resolved_;
  }

  Config config_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const KafkaSink<T>> resolved_;
};

}  // namespace sluice::kafka
