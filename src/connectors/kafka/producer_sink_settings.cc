// KafkaProducerSink (Flink's legacy FlinkKafkaProducer shape) -> the settings a KafkaSink runs
// on, decided when the job starts (Sink::Validate), because the legacy rules depend on the job:
// without checkpointing every semantic behaves as NONE, and the default transactional id prefix
// comes from the job's name.
#include <cctype>
#include <string>

#include <sluice/connectors/kafka/detail/kafka_sink_core.h>

#include "core/log.h"

namespace sluice::kafka::detail {
namespace {

// Kafka's rule for topic names (org.apache.kafka.common.internals.Topic).
constexpr size_t kMaxTopicLength = 249;
constexpr std::string_view kControlTopicSuffix = ".sluice-control";

bool IsTopicChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

Status CheckTopic(const std::string& topic) {
  if (topic.empty()) {
    return Status::InvalidArgument(
        "KafkaProducerSink: the topic is empty: pass the topic name as the constructor's first "
        "argument");
  }
  bool legal = topic.size() <= kMaxTopicLength && topic != "." && topic != "..";
  for (char c : topic) legal = legal && IsTopicChar(c);
  if (!legal) {
    return Status::InvalidArgument(
        "KafkaProducerSink: '" + topic +
        "' is not a valid Kafka topic name: use letters, digits, '.', '_' and '-' "
        "(at most 249 characters)");
  }
  return Status::Ok();
}

}  // namespace

// "sluice-<job name>": one prefix for every legacy EXACTLY_ONCE sink of a job (they share one
// transactional pair, as DESIGN.md section 5 wants), and for the state's own transactions
// (AcquireStateParticipant); different for different jobs, and stable across restarts because
// a job's name is already its identity in checkpoint storage. The control topic
// "<prefix>.sluice-control" must be a legal topic name, so other characters become '_'.
std::string StatePrefixForJob(const std::string& job_name) {
  std::string prefix = "sluice-";
  for (char c : job_name.empty() ? std::string("job") : job_name)
    prefix += IsTopicChar(c) ? c : '_';
  const size_t max = kMaxTopicLength - kControlTopicSuffix.size();
  if (prefix.size() > max) prefix.resize(max);
  return prefix;
}

Result<KafkaSinkSettings> LegacyProducerSettings(const LegacyProducerConfig& config,
                                                 const SinkValidationContext& job) {
  if (Status topic = CheckTopic(config.topic); !topic.ok()) return topic;
  const std::string context = "KafkaProducerSink to topic " + config.topic;

  KafkaSinkSettings settings;
  settings.properties = config.properties;
  settings.has_serializer = true;
  settings.log_failures_only = config.log_failures_only;
  auto servers = settings.properties.find("bootstrap.servers");
  if (servers == settings.properties.end() ||
      servers->second.find_first_not_of(" \t,") == std::string::npos) {
    return Status::InvalidArgument(
        context +
        ": no bootstrap.servers in the properties: add {\"bootstrap.servers\", "
        "\"host:port,...\"}");
  }

  std::optional<std::string> prefix = config.transactional_id_prefix;
  if (auto it = settings.properties.find(kLegacyTransactionalIdPrefixProperty);
      it != settings.properties.end()) {
    if (!prefix) prefix = it->second;
    settings.properties.erase(it);  // the sink's own key, not librdkafka's
  }

  settings.guarantee = config.semantic;
  if (config.semantic != DeliveryGuarantee::kNone && !job.checkpointing_enabled) {
    SLUICE_LOG_WARN(
        "{}: checkpointing is off, so Semantic {} behaves as NONE (records are flushed only when "
        "the job ends; a "
        "failure can lose them), as in Flink's FlinkKafkaProducer; enable checkpointing "
        "(EnableCheckpointing or "
        "--checkpoint-interval) to get {}",
        context, DeliveryGuaranteeName(config.semantic), DeliveryGuaranteeName(config.semantic));
    settings.guarantee = DeliveryGuarantee::kNone;
  }
  if (settings.guarantee == DeliveryGuarantee::kExactlyOnce) {
    settings.transactional_id_prefix = prefix.value_or(StatePrefixForJob(job.job_name));
  }

  Result<KafkaSinkSettings> normalized = NormalizeSinkSettings(std::move(settings));
  if (!normalized.ok()) return normalized.status().WithContext(context);
  if (Status status = ValidateSinkForJob(*normalized, job); !status.ok())
    return status.WithContext(context);
  if (normalized->log_failures_only) {
    SLUICE_LOG_WARN(
        "{}: SetLogFailuresOnly(true): a record whose delivery fails is only logged and counted "
        "(KafkaSink.numRecordsSendErrors) and the job goes on, so data can be lost",
        context);
  }
  return normalized;
}

}  // namespace sluice::kafka::detail
