// KafkaSource: read Kafka topics into a DataStream (Flink's KafkaSource, builder shape).
//
//   auto source = sluice::kafka::KafkaSource<std::string>::Builder()
//                     .SetBootstrapServers("127.0.0.1:19092")
//                     .SetTopics("input-topic")
//                     .SetGroupId("my-group")
//                     .SetStartingOffsets(sluice::kafka::OffsetsInitializer::Earliest())
//                     .SetValueOnlyDeserializer(sluice::kafka::SimpleStringSchema())
//                     .Build();
//   if (!source.ok()) { /* source.status() names the setting and the fix */ }
//   env->FromSource(*source, sluice::WatermarkStrategy<std::string>::NoWatermarks(),
//                                "Kafka Source");
//
// Behaviour (Flink's, see docs/kafka-source.md):
// - Each parallel reader owns one librdkafka consumer and assigns itself its partitions (no
//   group rebalancing): partition p of topic t goes to the subtask Flink's formula picks
//   (src/connectors/kafka/partition_assigner.h), so sluice and Flink split topics alike.
// - Start offsets come from the OffsetsInitializer, resolved when a partition is first
//   assigned. After a restore from a checkpoint or savepoint, the checkpointed offsets win;
//   subscribed partitions missing from the state start at the earliest offset; partitions no
//   longer subscribed are dropped. Restoring works at any parallelism.
// - Bounded (SetBounded): stopping offsets are exclusive, resolved once per run of the job
//   (TaskInfo::run_id) and kept across its failovers; a new run (process start) resolves its
//   own. A partition ends when its position
//   reaches its stopping offset (transaction markers count), the reader when all its
//   partitions have (at once when it has none). An unbounded reader without partitions
//   marks itself idle, so it does not hold back watermarks.
// - With a group id, offsets are committed to the group after every completed checkpoint
//   (asynchronously; metrics KafkaSourceReader.commitsSucceeded / commitsFailed). Commits are
//   for monitoring and for starting new jobs with OffsetsInitializer::Committed(); recovery
//   always uses the checkpoint.
// - Record timestamps are the Kafka record timestamps (what a WatermarkStrategy's timestamp
//   assigner sees as the record timestamp). The strategy given to FromSource runs inside the
//   reader with one generator per partition, merged by the minimum over active partitions; a
//   partition without records for the idle timeout stops holding the watermark back.
// - Partition discovery (unbounded only): partitions added to subscribed topics, and topics
//   newly matching the pattern, are read from their earliest offset by the subtask Flink's
//   formula picks.
// - A record the schema cannot deserialize follows SetDeserializationFailurePolicy (Fail,
//   Skip or DeadLetter; see deserialization_schema.h).
//
// Properties: every librdkafka client property passes through SetProperty unchanged
// (security.protocol, sasl.*, ssl.*, isolation.level, ...), checked by Build(). The source's
// own keys, not passed to librdkafka:
//   commit.offsets.on.checkpoint     true|false; default true when a group id is set
//   partition.discovery.interval.ms  partition discovery interval; default 300000 (unbounded), <= 0
//   off,
//                                    always off when bounded
//   sluice.partition.idle.timeout.ms a partition without records this long is idle (default 60000;
//                                    <= 0 never; WatermarkStrategy::WithIdleness wins)
//   client.id.prefix                 same as SetClientIdPrefix
//   sluice.broker.timeout.ms         how long a reader waits for the broker at start (metadata,
//                                    committed offsets, offset lookups) before failing the
//                                    job; default 60000
// Overrides (Flink's): enable.auto.commit defaults to false (set it to true to let Kafka
// commit periodically as well); auto.offset.reset follows the starting OffsetsInitializer's
// reset strategy (it applies to offsets out of range); client.id is "<prefix>-<subtask>".
// isolation.level stays librdkafka's default, read_committed.
//
// Thread safety: the builder is used on one thread; a built KafkaSource is immutable and
// shared by all readers. Errors: Build() returns InvalidArgument naming the setting and the
// fix. At run time, an unreachable broker, a missing topic or partition, failed
// authentication and a record the schema cannot deserialise fail the job with a message that
// names bootstrap.servers, the topic, or topic/partition/offset. The failure's StatusCode
// decides whether the job restarts (IsRestartable): refused credentials (kUnauthenticated:
// check sasl.username / sasl.password), a missing ACL (kPermissionDenied) or an offset out of
// range with reset strategy NONE stop it at once; broker trouble and missing topics restart.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <sluice/api/functions.h>
#include <sluice/api/source.h>
#include <sluice/api/state_participant_provider.h>
#include <sluice/api/time.h>
#include <sluice/connectors/kafka/deserialization_schema.h>
#include <sluice/connectors/kafka/detail/kafka_record_emitter.h>
#include <sluice/connectors/kafka/detail/kafka_sink_core.h>
#include <sluice/connectors/kafka/detail/kafka_source_core.h>
#include <sluice/connectors/kafka/offsets_initializer.h>
#include <sluice/connectors/kafka/topic_partition.h>
#include <sluice/detail/watermarking_reader.h>
#include <sluice/status.h>

namespace sluice::kafka {

template <typename T>
class KafkaSourceBuilder;

template <typename T>
class KafkaSource final : public Source<T>, public StateParticipantProvider {
 public:
  using SchemaFactory = std::function<std::unique_ptr<KafkaRecordDeserializationSchema<T>>()>;

  static KafkaSourceBuilder<T> Builder() { return KafkaSourceBuilder<T>(); }

  KafkaSource(std::shared_ptr<const detail::KafkaSourceSettings> settings, SchemaFactory schema)
      : settings_(std::move(settings)), schema_(std::move(schema)) {}

  bool IsBounded() const override { return settings_->bounded; }
  std::unique_ptr<SourceReader<T>> CreateReader(const TaskInfo& task) const override {
    return std::make_unique<Reader>(detail::CreateKafkaReaderCore(settings_, task), schema_(),
                                    settings_->failure_policy);
  }

  /// With `--state.changelog=kafka` and no Kafka sink: transactions of their own on this
  /// source's cluster, named after the job (detail::StatePrefixForJob).
  Result<std::shared_ptr<CheckpointParticipant>> CreateStateParticipant(
      const SinkValidationContext& job) const override {
    return detail::AcquireStateParticipant(settings_->properties, std::nullopt, job);
  }

  /// The normalised settings (for tests and diagnostics).
  const detail::KafkaSourceSettings& settings() const { return *settings_; }

 private:
  // A reader: the core (consumer, partitions, offsets, watermarks) and the typed emitter.
  class Reader final : public SourceReader<T>, public sluice::detail::WatermarkingSourceReader<T> {
   public:
    Reader(std::unique_ptr<detail::KafkaReaderCore> core,
           std::unique_ptr<KafkaRecordDeserializationSchema<T>> schema,
           DeserializationFailurePolicy policy)
        : core_(std::move(core)), emitter_(*core_, std::move(schema), std::move(policy)) {}

    void SetWatermarkStrategy(const WatermarkStrategy<T>& strategy) override {
      emitter_.SetWatermarkStrategy(strategy);
    }
    void EmitPeriodicWatermark(ReaderOutput<T>& output) override {
      emitter_.SetOutput(&output);
      core_->EmitPeriodicWatermark(emitter_);
    }
    void Open(SourceReaderContext& context) override {
      emitter_.Open(context.GetRuntimeContext());
      core_->Open(context);
    }
    InputStatus PollNext(ReaderOutput<T>& output) override {
      emitter_.SetOutput(&output);
      return core_->PollNext(emitter_);
    }
    void SnapshotState(CheckpointId id) override { core_->SnapshotState(id); }
    void NotifyCheckpointComplete(CheckpointId id) override { core_->NotifyCheckpointComplete(id); }
    void NotifyCheckpointAborted(CheckpointId id) override { core_->NotifyCheckpointAborted(id); }
    void Close() override { core_->Close(); }

   private:
    std::unique_ptr<detail::KafkaReaderCore> core_;
    detail::KafkaRecordEmitter<T> emitter_;
  };

  std::shared_ptr<const detail::KafkaSourceSettings> settings_;
  SchemaFactory schema_;
};

/// Flink's KafkaSourceBuilder. Every setter returns the builder; Build() checks everything.
template <typename T>
class KafkaSourceBuilder {
 public:
  /// Comma-separated host:port list (bootstrap.servers). Required.
  KafkaSourceBuilder& SetBootstrapServers(std::string servers) {
    settings_.properties["bootstrap.servers"] = std::move(servers);
    return *this;
  }
  /// Read these topics (all their partitions). One of SetTopics, SetTopicPattern and
  /// SetPartitions is required.
  KafkaSourceBuilder& SetTopics(std::vector<std::string> topics) {
    settings_.topics = std::move(topics);
    ++settings_.subscriptions_set;
    return *this;
  }
  template <typename... More>
    requires(std::convertible_to<More, std::string> && ...)
  KafkaSourceBuilder& SetTopics(std::string first, More&&... more) {
    return SetTopics(
        std::vector<std::string>{std::move(first), std::string(std::forward<More>(more))...});
  }
  /// Read every topic whose whole name matches this ECMAScript regular expression (topics
  /// whose names start with "__", Kafka's internal ones, never match). It may match nothing
  /// when the job starts.
  KafkaSourceBuilder& SetTopicPattern(std::string regex) {
    settings_.topic_pattern = std::move(regex);
    ++settings_.subscriptions_set;
    return *this;
  }
  /// Read exactly these partitions.
  KafkaSourceBuilder& SetPartitions(std::set<TopicPartition> partitions) {
    settings_.partitions = std::move(partitions);
    ++settings_.subscriptions_set;
    return *this;
  }
  /// The consumer group (group.id): needed for OffsetsInitializer::Committed() and for
  /// committing offsets on checkpoints.
  KafkaSourceBuilder& SetGroupId(std::string group_id) {
    settings_.properties["group.id"] = std::move(group_id);
    return *this;
  }
  /// Where reading starts (default OffsetsInitializer::Earliest()).
  KafkaSourceBuilder& SetStartingOffsets(OffsetsInitializer initializer) {
    settings_.starting_offsets = std::move(initializer);
    return *this;
  }
  /// A bounded source: each partition ends at its stopping offset (exclusive), and the job
  /// finishes when every source has.
  KafkaSourceBuilder& SetBounded(OffsetsInitializer stopping) {
    settings_.stopping_offsets = std::move(stopping);
    settings_.bounded = true;
    return *this;
  }
  /// An unbounded source whose partitions still stop at the stopping offsets (the job keeps
  /// running, as in Flink).
  KafkaSourceBuilder& SetUnbounded(OffsetsInitializer stopping) {
    settings_.stopping_offsets = std::move(stopping);
    settings_.bounded = false;
    return *this;
  }
  /// A value-only schema (copied for every reader), e.g. SimpleStringSchema().
  template <typename S>
    requires std::derived_from<S, DeserializationSchema<T>> && std::copy_constructible<S>
  KafkaSourceBuilder& SetValueOnlyDeserializer(S schema) {
    schema_ = [schema =
                   std::move(schema)]() -> std::unique_ptr<KafkaRecordDeserializationSchema<T>> {
      return std::make_unique<detail::ValueOnlyDeserializationSchema<T>>(
          std::make_unique<S>(schema));
    };
    settings_.has_deserializer = true;
    return *this;
  }
  /// A whole-record schema (copied for every reader).
  template <typename S>
    requires std::derived_from<S, KafkaRecordDeserializationSchema<T>> && std::copy_constructible<S>
  KafkaSourceBuilder& SetDeserializer(S schema) {
    schema_ = [schema =
                   std::move(schema)]() -> std::unique_ptr<KafkaRecordDeserializationSchema<T>> {
      return std::make_unique<S>(schema);
    };
    settings_.has_deserializer = true;
    return *this;
  }
  /// What to do with a record the schema cannot deserialize (default Fail()); see
  /// DeserializationFailurePolicy.
  KafkaSourceBuilder& SetDeserializationFailurePolicy(DeserializationFailurePolicy policy) {
    settings_.failure_policy = std::move(policy);
    return *this;
  }
  /// Any librdkafka client property, or one of the source's own keys (see the top of this
  /// file). A later call for the same key wins.
  KafkaSourceBuilder& SetProperty(std::string key, std::string value) {
    settings_.properties[std::move(key)] = std::move(value);
    return *this;
  }
  KafkaSourceBuilder& SetProperties(const std::map<std::string, std::string>& properties) {
    for (const auto& [key, value] : properties) settings_.properties[key] = value;
    return *this;
  }
  /// client.id becomes "<prefix>-<subtask index>" (default prefix: the group id, else
  /// "sluice-kafka-source").
  KafkaSourceBuilder& SetClientIdPrefix(std::string prefix) {
    settings_.client_id_prefix = std::move(prefix);
    return *this;
  }

  /// The source, or InvalidArgument naming the setting and the fix.
  Result<std::shared_ptr<const KafkaSource<T>>> Build() const {
    Result<detail::KafkaSourceSettings> normalized = detail::NormalizeSettings(settings_);
    if (!normalized.ok()) return normalized.status();
    return std::make_shared<const KafkaSource<T>>(
        std::make_shared<const detail::KafkaSourceSettings>(std::move(normalized).value()),
        schema_);
  }

 private:
  detail::KafkaSourceSettings settings_;
  typename KafkaSource<T>::SchemaFactory schema_;
};

}  // namespace sluice::kafka
