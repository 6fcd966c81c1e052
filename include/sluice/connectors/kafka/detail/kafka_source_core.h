// The non-template half of KafkaSource, compiled into libsluice: settings validation and the
// reader core that owns the librdkafka consumer. Implementation detail of kafka_source.h:
// not a stable interface, and no librdkafka type appears here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <sluice/api/runtime_context.h>
#include <sluice/api/source.h>
#include <sluice/api/strong_id.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/connectors/kafka/deserialization_schema.h>
#include <sluice/connectors/kafka/offsets_initializer.h>
#include <sluice/connectors/kafka/topic_partition.h>
#include <sluice/status.h>

namespace sluice::kafka::detail {

/// Everything a KafkaSourceBuilder collected, before (raw) and after (normalised) Build().
/// The stopping offsets each run of the job resolved (src/connectors/kafka/
/// run_stopping_offsets.h); opaque here.
class RunStoppingOffsets;

struct KafkaSourceSettings {
  // ---- as set on the builder ----
  std::vector<std::string> topics;
  std::optional<std::string> topic_pattern;
  std::set<TopicPartition> partitions;
  int subscriptions_set = 0;  // how many of SetTopics / SetTopicPattern / SetPartitions were called
  OffsetsInitializer starting_offsets = OffsetsInitializer::Earliest();
  std::optional<OffsetsInitializer> stopping_offsets;
  bool bounded = false;
  /// Client properties: SetProperty/SetProperties, bootstrap.servers and group.id from their
  /// setters, and the source's own keys (listed in kafka_source.h).
  std::map<std::string, std::string> properties;
  std::optional<std::string> client_id_prefix;
  bool has_deserializer = false;
  DeserializationFailurePolicy failure_policy = DeserializationFailurePolicy::Fail();
  /// Legacy shape (KafkaConsumerSource): the discovery key is
  /// flink.partition-discovery.interval-millis (off unless set) instead of
  /// partition.discovery.interval.ms, and a subscribed partition missing from specific start
  /// offsets is logged as a warning.
  bool legacy = false;

  // ---- filled in by NormalizeSettings ----
  std::optional<std::string> group_id;
  bool commit_offsets_on_checkpoint = false;
  /// <= 0: off.
  int64_t partition_discovery_interval_ms = -1;
  int64_t broker_timeout_ms = 60'000;
  /// A partition without records for this long is idle (sluice.partition.idle.timeout.ms;
  /// <= 0: never by time). A WatermarkStrategy's WithIdleness timeout wins.
  int64_t partition_idle_timeout_ms = 60'000;
  /// Exactly what the consumer gets: the user's client properties with the source's own
  /// keys removed and its overrides applied (client.id is added per reader).
  std::map<std::string, std::string> client_properties;
  /// Set when there are stopping offsets: shared by every reader of the built source, in every
  /// attempt, so a run resolves its end offsets once.
  std::shared_ptr<RunStoppingOffsets> run_stopping_offsets;
};

/// Checks a builder's settings and fills in the derived fields. Errors name the setting and
/// the fix (InvalidArgument).
Result<KafkaSourceSettings> NormalizeSettings(KafkaSourceSettings settings);
/// librdkafka's auto.offset.reset value for a reset strategy (kNone -> "error").
const char* AutoOffsetResetValue(OffsetResetStrategy reset);

/// What the reader core hands the typed reader.
class RecordHandler {
 public:
  virtual ~RecordHandler() = default;
  /// One record; the views in `record` are valid only during the call.
  virtual void OnRecord(const ConsumerRecord& record) = 0;
  virtual void EmitWatermark(int64_t timestamp) = 0;
  virtual void MarkIdle() = 0;
  virtual void MarkActive() = 0;
  /// True once the handler wants no more records (IsEndOfStream): the core stops at once,
  /// after counting the current record as read, and its PollNext returns kEndOfInput.
  virtual bool StopRequested() const { return false; }
  /// Whether ConsumerRecord::headers must be filled (false: left empty, which saves parsing
  /// them for value-only schemas).
  virtual bool NeedsHeaders() const { return true; }
};

/// One parallel reader's consumer, partitions, offsets and commits. Threads: the task thread
/// only; it calls SourceReaderContext::SignalAvailable from a librdkafka thread.
class KafkaReaderCore {
 public:
  virtual ~KafkaReaderCore() = default;
  /// Connects, finds this reader's partitions, restores or resolves their offsets and
  /// assigns them. Throws StatusException (naming bootstrap.servers, the topic or the
  /// partition) when that fails; the job then fails with that Status.
  virtual void Open(SourceReaderContext& context) = 0;
  virtual InputStatus PollNext(RecordHandler& handler) = 0;
  /// Before Open: one generator per partition from `factory`, merged by the minimum over
  /// active partitions; `idle_timeout_ms` (the strategy's WithIdleness) overrides the
  /// settings' partition idle timeout.
  virtual void EnableWatermarks(std::function<std::unique_ptr<WatermarkGenerator>()> factory,
                                std::optional<int64_t> idle_timeout_ms) = 0;
  /// Only inside RecordHandler::OnRecord: the event timestamp of a value emitted for the
  /// record being handled (feeds that partition's generator).
  virtual void OnEventTimestamp(int64_t timestamp) = 0;
  /// Every auto-watermark interval: the merged watermark or idle status, through `handler`.
  virtual void EmitPeriodicWatermark(RecordHandler& handler) = 0;
  /// Only inside RecordHandler::OnRecord: produce `record` (raw) to the dead-letter topic of
  /// the settings' failure policy, with headers naming `reason` and where it came from.
  virtual void SendToDeadLetter(const ConsumerRecord& record, const std::string& reason) = 0;
  virtual void SnapshotState(CheckpointId id) = 0;
  virtual void NotifyCheckpointComplete(CheckpointId id) = 0;
  virtual void NotifyCheckpointAborted(CheckpointId id) = 0;
  virtual void Close() = 0;
};

std::unique_ptr<KafkaReaderCore> CreateKafkaReaderCore(
    std::shared_ptr<const KafkaSourceSettings> settings, const TaskInfo& task);

/// Throws the error for a record the schema could not deserialise (a StatusException): names
/// topic, partition, offset and the schema's reason. `code` is the code of the StatusException
/// the schema threw, kAborted (restartable, as any failure of user code) for other exceptions.
[[noreturn]] void ThrowDeserializationError(const ConsumerRecord& record, const char* reason,
                                            StatusCode code = StatusCode::kAborted);

}  // namespace sluice::kafka::detail
