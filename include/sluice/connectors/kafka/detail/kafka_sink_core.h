// The non-template half of KafkaSink, compiled into libsluice: settings validation, the
// writer core that owns (or shares) the librdkafka producer, and the exactly-once transaction
// participant. Implementation detail of kafka_sink.h: not a stable interface, and no
// librdkafka type appears here.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sluice/api/runtime_context.h>
#include <sluice/api/sink.h>
#include <sluice/api/strong_id.h>
#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/connectors/kafka/delivery_guarantee.h>
#include <sluice/connectors/kafka/serialization_schema.h>
#include <sluice/status.h>

namespace sluice::kafka::detail {

/// Everything a KafkaSinkBuilder collected, before (raw) and after (normalised) Build().
struct KafkaSinkSettings {
  // ---- as set on the builder ----
  DeliveryGuarantee guarantee = DeliveryGuarantee::kNone;
  std::optional<std::string> transactional_id_prefix;
  /// Client properties and the sink's own keys (listed in kafka_sink.h).
  std::map<std::string, std::string> properties;
  bool has_serializer = false;
  Status serializer_status;
  /// The legacy SetLogFailuresOnly(true): a record whose delivery fails (or that librdkafka
  /// refuses) is logged and counted in numRecordsSendErrors, and the job goes on. A fatal
  /// producer error still fails the job. Refused with kExactlyOnce (a transaction with a
  /// failed record cannot commit).
  bool log_failures_only = false;
  /// The settings of a participant that carries only a job's state changelog (with the commit
  /// marker and the sources' offsets) for a job without an EXACTLY_ONCE sink
  /// (AcquireStateParticipant); no writer produces through it.
  bool state_only = false;

  // ---- filled in by NormalizeSinkSettings ----
  std::string bootstrap_servers;
  /// bootstrap.servers as a sorted, de-duplicated list: the identity of the cluster.
  std::string cluster_key;
  std::string control_topic;
  int64_t transaction_timeout_ms = 0;
  int64_t broker_timeout_ms = 60'000;
  /// Exactly what the producers get (transactional.id and client.id are added per producer).
  std::map<std::string, std::string> producer_properties;
};

/// The default transaction.timeout.ms: the broker's default transaction.max.timeout.ms.
inline constexpr int64_t kDefaultTransactionTimeoutMs = int64_t{15} * 60 * 1000;

/// Checks a builder's settings and fills in the derived fields (InvalidArgument naming the
/// setting and the fix).
Result<KafkaSinkSettings> NormalizeSinkSettings(KafkaSinkSettings settings);

/// Sink::Validate: the settings against the job's checkpointing.
Status ValidateSinkForJob(const KafkaSinkSettings& settings, const SinkValidationContext& job);

/// What a KafkaProducerSink (Flink's legacy FlinkKafkaProducer shape) was configured with.
struct LegacyProducerConfig {
  std::string topic;
  /// librdkafka properties plus sluice.transactional.id.prefix and the sink's own keys.
  std::map<std::string, std::string> properties;
  /// The Semantic asked for (Semantic is DeliveryGuarantee).
  DeliveryGuarantee semantic = DeliveryGuarantee::kAtLeastOnce;
  /// SetTransactionalIdPrefix; wins over the property.
  std::optional<std::string> transactional_id_prefix;
  bool log_failures_only = false;
};

/// The property that overrides the legacy sink's default transactional id prefix.
inline constexpr const char* kLegacyTransactionalIdPrefixProperty =
    "sluice.transactional.id.prefix";

/// KafkaProducerSink's Sink::Validate: the KafkaSink settings for this job. Without
/// checkpointing the semantic becomes kNone (logged once per call, as Flink does); EXACTLY_ONCE
/// gets its prefix from SetTransactionalIdPrefix, the property, or "sluice-<job name>".
/// Normalised and checked against the job like a built KafkaSink (InvalidArgument naming the
/// setting and the fix).
Result<KafkaSinkSettings> LegacyProducerSettings(const LegacyProducerConfig& config,
                                                 const SinkValidationContext& job);

/// The process-wide participant of (cluster, transactional id prefix): the same object for
/// every EXACTLY_ONCE sink of that pair while any of them is alive.
std::shared_ptr<CheckpointParticipant> AcquireTransactionParticipant(
    std::shared_ptr<const KafkaSinkSettings> settings);

/// The participant that carries the state changelog of a job without an EXACTLY_ONCE sink
/// (StateParticipantProvider), on the cluster `client_properties` reach: only the connection
/// properties among them are used (bootstrap.servers, security.protocol, sasl.*, ssl.*,
/// socket.*, broker.address.*, transaction.timeout.ms and the sluice.control.topic*,
/// sluice.changelog.replication.factor and sluice.broker.timeout.ms keys). Its transactional ids
/// start with `transactional_id_prefix`, or StatePrefixForJob(job.job_name) when unset. Shared
/// like AcquireTransactionParticipant. InvalidArgument naming the setting and the fix when the
/// properties cannot make a transactional producer for this job's checkpoints.
Result<std::shared_ptr<CheckpointParticipant>> AcquireStateParticipant(
    const std::map<std::string, std::string>& client_properties,
    const std::optional<std::string>& transactional_id_prefix, const SinkValidationContext& job);

/// "sluice-<job name>" with every byte that a topic name cannot hold replaced by '_', cut so
/// that "<prefix>.sluice-control" stays a legal topic name: the default transactional id prefix
/// of the legacy EXACTLY_ONCE producer and of the state's own transactions.
std::string StatePrefixForJob(const std::string& job_name);

/// One parallel writer's untyped half.
class KafkaWriterCore {
 public:
  virtual ~KafkaWriterCore() = default;
  virtual void Open(RuntimeContext& context) = 0;
  /// Hands the record to librdkafka (copying its bytes). Throws StatusException on a
  /// stored delivery failure or a refused record.
  virtual void Send(const ProducerRecord& record) = 0;
  virtual void CountDropped() = 0;
  virtual const std::vector<int32_t>& PartitionsFor(const std::string& topic) = 0;
  virtual void Flush(bool end_of_input) = 0;
  virtual void SnapshotState(CheckpointId id) = 0;
  virtual void Close() = 0;
};

std::unique_ptr<KafkaWriterCore> CreateKafkaWriterCore(
    std::shared_ptr<const KafkaSinkSettings> settings,
    std::shared_ptr<CheckpointParticipant> participant, const TaskInfo& task);

}  // namespace sluice::kafka::detail
