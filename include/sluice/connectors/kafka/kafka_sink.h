// KafkaSink: write a DataStream to Kafka (Flink's KafkaSink, builder shape).
//
//   auto sink = sluice::kafka::KafkaSink<std::string>::Builder()
//                   .SetBootstrapServers("127.0.0.1:19092")
//                   .SetRecordSerializer(sluice::kafka::KafkaRecordSerializationSchema<std::string>::Builder()
//                                            .SetTopic("output")
//                                            .SetValueSerializationSchema(sluice::kafka::SimpleStringSchema())
//                                            .Build())
//                   .SetDeliveryGuarantee(sluice::kafka::DeliveryGuarantee::kExactlyOnce)
//                   .SetTransactionalIdPrefix("wordcount")
//                   .Build();
//   if (!sink.ok()) { /* sink.status() names the setting and the fix */ }
//   stream.SinkTo(*sink).Uid("kafka-sink");
//
// Delivery guarantees (docs/kafka-sink.md has the details):
// - kNone (default): one idempotence-free producer per writer, flushed at the end of input.
// - kAtLeastOnce: one idempotent producer per writer; at every checkpoint barrier the writer
//   waits for every delivery report before its snapshot completes.
// - kExactlyOnce: DESIGN.md section 5. All EXACTLY_ONCE writers of a process that write to one
//   cluster with one transactional id prefix share a pair of transactional producers with ids
//   "<prefix>-<instance>-a" and "-b"; epochs alternate between them, and the commit of a
//   checkpoint's transaction (its records and a marker in the control topic) is the moment the
//   checkpoint completes. Needs checkpointing. Readers use isolation.level=read_committed.
// - In every mode a record whose delivery fails after librdkafka's retries fails the job with
//   its topic, partition and the reason, at the writer's next Write, Flush or Close.
//
// Properties: every librdkafka producer property passes through SetProperty unchanged (it is
// checked by Build()). The sink's own keys, not passed to librdkafka:
//   sluice.control.topic                 the EXACTLY_ONCE control topic; default
//                                        "<prefix>.sluice-control"; created (compacted, one
//                                        partition) when missing
//   sluice.control.topic.replication.factor   default -1: the broker's default
//   sluice.changelog.replication.factor       replication factor of the state changelog
//                                        topics sluice creates; default -1: the broker's
//                                        default
//   sluice.changelog.topic.<config>      a topic config of the state changelog topics sluice
//                                        creates (e.g. segment.bytes, min.insync.replicas);
//                                        cleanup.policy is always compact
//   sluice.broker.timeout.ms             bound on each blocking broker call (metadata,
//                                        init/commit/abort transaction, recovery); default 60000
// Defaults that differ from librdkafka's: transaction.timeout.ms = 900000 (15 min, the largest
// a default broker accepts; Flink's 1 hour is refused there); partitioner = murmur2_random
// (Kafka's Java default); enable.idempotence = true for kAtLeastOnce.
//
// Thread safety: the builder is used on one thread; a built KafkaSink is immutable and shared
// by all writers. Errors: Build() returns InvalidArgument naming the setting and the fix;
// Sink::Validate refuses EXACTLY_ONCE without checkpointing or with a transaction timeout
// shorter than checkpoint interval + checkpoint timeout. At run time a failure carries a
// StatusCode that decides whether the job restarts (IsRestartable): refused credentials
// (kUnauthenticated), a missing ACL (kPermissionDenied), a transactional id taken over by
// another producer (kFenced) and a record the broker refuses as too large stop the job at
// once; failed deliveries and broker trouble restart it.
#pragma once

#include <concepts>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <sluice/api/sink.h>
#include <sluice/api/state_participant_provider.h>
#include <sluice/api/time.h>
#include <sluice/connectors/kafka/delivery_guarantee.h>
#include <sluice/connectors/kafka/detail/kafka_sink_core.h>
#include <sluice/connectors/kafka/partitioner.h>
#include <sluice/connectors/kafka/serialization_schema.h>
#include <sluice/status.h>

namespace sluice::kafka {

template <typename T>
class KafkaSinkBuilder;

template <typename T>
class KafkaSink final : public Sink<T>, public StateParticipantProvider {
 public:
  using SchemaFactory = std::function<std::unique_ptr<KafkaRecordSerializationSchema<T>>()>;

  static KafkaSinkBuilder<T> Builder() { return KafkaSinkBuilder<T>(); }

  KafkaSink(std::shared_ptr<const detail::KafkaSinkSettings> settings, SchemaFactory schema,
            std::shared_ptr<CheckpointParticipant> participant)
      : settings_(std::move(settings)),
        schema_(std::move(schema)),
        participant_(std::move(participant)) {}

  std::unique_ptr<SinkWriter<T>> CreateWriter(const TaskInfo& task) const override {
    return std::make_unique<Writer>(detail::CreateKafkaWriterCore(settings_, participant_, task),
                                    schema_(), task);
  }
  Status Validate(const SinkValidationContext& job) const override {
    return detail::ValidateSinkForJob(*settings_, job);
  }
  std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const override {
    return participant_;
  }
  /// With AT_LEAST_ONCE or NONE and `--state.changelog=kafka`: transactions of their own on
  /// this sink's cluster, with this sink's transactional id prefix when it has one.
  Result<std::shared_ptr<CheckpointParticipant>> CreateStateParticipant(
      const SinkValidationContext& job) const override {
    return detail::AcquireStateParticipant(settings_->properties,
                                           settings_->transactional_id_prefix, job);
  }

  /// The normalised settings (for tests and diagnostics).
  const detail::KafkaSinkSettings& settings() const { return *settings_; }

 private:
  class Writer final : public SinkWriter<T>, private KafkaSinkContext {
   public:
    Writer(std::unique_ptr<detail::KafkaWriterCore> core,
           std::unique_ptr<KafkaRecordSerializationSchema<T>> schema, const TaskInfo& task)
        : core_(std::move(core)),
          schema_(std::move(schema)),
          subtask_(task.subtask_index),
          parallelism_(task.parallelism) {}

    void Open(RuntimeContext& context) override {
      core_->Open(context);
      schema_->Open(context, *this);
    }
    void Write(const T& value, const SinkContext& context) override {
      record_.Clear();
      int64_t timestamp = context.timestamp == kNoTimestamp ? -1 : context.timestamp;
      if (!schema_->Serialize(value, *this, timestamp, record_)) {
        core_->CountDropped();
        return;
      }
      core_->Send(record_);
    }
    void Flush(bool end_of_input) override { core_->Flush(end_of_input); }
    void SnapshotState(CheckpointId id) override { core_->SnapshotState(id); }
    void Close() override { core_->Close(); }

   private:
    int32_t GetParallelInstanceId() const override { return subtask_; }
    int32_t GetNumberOfParallelInstances() const override { return parallelism_; }
    const std::vector<int32_t>& GetPartitionsForTopic(const std::string& topic) override {
      return core_->PartitionsFor(topic);
    }

    std::unique_ptr<detail::KafkaWriterCore> core_;
    std::unique_ptr<KafkaRecordSerializationSchema<T>> schema_;
    int32_t subtask_;
    int32_t parallelism_;
    ProducerRecord record_;
  };

  std::shared_ptr<const detail::KafkaSinkSettings> settings_;
  SchemaFactory schema_;
  std::shared_ptr<CheckpointParticipant> participant_;
};

/// Flink's KafkaSinkBuilder. Every setter returns the builder; Build() checks everything.
template <typename T>
class KafkaSinkBuilder {
 public:
  /// Comma-separated host:port list (bootstrap.servers). Required.
  KafkaSinkBuilder& SetBootstrapServers(std::string servers) {
    settings_.properties["bootstrap.servers"] = std::move(servers);
    return *this;
  }
  /// How elements become records: KafkaRecordSerializationSchema<T>::Builder()...Build(), or
  /// your own KafkaRecordSerializationSchema<T> (copied per writer). Required.
  template <typename S>
    requires std::derived_from<S, KafkaRecordSerializationSchema<T>> && std::copy_constructible<S>
  KafkaSinkBuilder& SetRecordSerializer(S schema) {
    settings_.serializer_status = schema.Validate();
    schema_ = [schema = std::move(schema)]() -> std::unique_ptr<KafkaRecordSerializationSchema<T>> {
      return std::make_unique<S>(schema);
    };
    settings_.has_serializer = true;
    return *this;
  }
  /// kNone (default), kAtLeastOnce or kExactlyOnce.
  KafkaSinkBuilder& SetDeliveryGuarantee(DeliveryGuarantee guarantee) {
    settings_.guarantee = guarantee;
    return *this;
  }
  /// The stem of the transactional ids ("<prefix>-<instance>-a" / "-b"); required for
  /// kExactlyOnce. Two live jobs must never share one: the later one fences the earlier.
  KafkaSinkBuilder& SetTransactionalIdPrefix(std::string prefix) {
    settings_.transactional_id_prefix = std::move(prefix);
    return *this;
  }
  /// Any librdkafka producer property, or one of the sink's own keys (top of this file).
  KafkaSinkBuilder& SetProperty(std::string key, std::string value) {
    settings_.properties[std::move(key)] = std::move(value);
    return *this;
  }
  KafkaSinkBuilder& SetProperties(const std::map<std::string, std::string>& properties) {
    for (const auto& [key, value] : properties) settings_.properties[key] = value;
    return *this;
  }

  /// The sink, or InvalidArgument naming the setting and the fix.
  Result<std::shared_ptr<const KafkaSink<T>>> Build() const {
    if (!settings_.has_serializer) {
      return Status::InvalidArgument(
          "KafkaSink: no record serializer: call "
          "SetRecordSerializer(KafkaRecordSerializationSchema<T>::Builder()"
          ".SetTopic(...).SetValueSerializationSchema(...).Build())");
    }
    Result<detail::KafkaSinkSettings> normalized = detail::NormalizeSinkSettings(settings_);
    if (!normalized.ok()) return normalized.status();
    auto settings =
        std::make_shared<const detail::KafkaSinkSettings>(std::move(normalized).value());
    std::shared_ptr<CheckpointParticipant> participant;
    if (settings->guarantee == DeliveryGuarantee::kExactlyOnce)
      participant = detail::AcquireTransactionParticipant(settings);
    return std::make_shared<const KafkaSink<T>>(std::move(settings), schema_,
                                                std::move(participant));
  }

 private:
  detail::KafkaSinkSettings settings_;
  typename KafkaSink<T>::SchemaFactory schema_;
};

}  // namespace sluice::kafka
