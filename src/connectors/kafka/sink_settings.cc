// Validation of a KafkaSinkBuilder's settings (KafkaSinkBuilder::Build) and of the sink
// against the job (Sink::Validate). Pure apart from asking librdkafka whether it knows each
// producer property (no client is created).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>
#include <string>
#include <string_view>

#include <sluice/connectors/kafka/detail/kafka_sink_core.h>

#include "connectors/kafka/client_properties.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "connectors/kafka/transactional_offsets.h"

namespace sluice::kafka::detail {
namespace {

constexpr std::string_view kControlTopic = "sluice.control.topic";
constexpr std::string_view kControlTopicReplication = "sluice.control.topic.replication.factor";
constexpr std::string_view kChangelogReplication = "sluice.changelog.replication.factor";
constexpr std::string_view kBrokerTimeout = "sluice.broker.timeout.ms";
constexpr std::string_view kChangelogTopicConfig = "sluice.changelog.topic.";

Status Invalid(std::string message) {
  return Status::InvalidArgument("KafkaSink: " + std::move(message));
}

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

}  // namespace

Result<KafkaSinkSettings> NormalizeSinkSettings(KafkaSinkSettings settings) {
  if (!settings.serializer_status.ok()) return settings.serializer_status.WithContext("KafkaSink");
  std::map<std::string, std::string> client = settings.properties;
  auto servers = client.find("bootstrap.servers");
  if (servers == client.end() || Trim(servers->second).empty()) {
    return Invalid("no bootstrap servers: call SetBootstrapServers(\"host:port,...\")");
  }
  settings.bootstrap_servers = servers->second;
  settings.cluster_key = internal::ClusterKey(servers->second);  // same cluster, any broker order

  if (auto it = client.find(std::string(kBrokerTimeout)); it != client.end()) {
    std::optional<int64_t> ms = ParseInt(it->second);
    if (!ms || *ms <= 0) {
      return Invalid(std::string(kBrokerTimeout) + "=" + it->second +
                     ": expected a positive number of milliseconds");
    }
    settings.broker_timeout_ms = *ms;
    client.erase(it);
  }
  std::string control_topic;
  if (auto it = client.find(std::string(kControlTopic)); it != client.end()) {
    control_topic = it->second;
    client.erase(it);
    if (Trim(control_topic).empty())
      return Invalid(std::string(kControlTopic) + " is empty; give a topic name or leave it unset");
  }
  // Kept in settings.properties (the participant reads them there), never given to librdkafka.
  for (std::string_view key : {kControlTopicReplication, kChangelogReplication}) {
    auto it = client.find(std::string(key));
    if (it == client.end()) continue;
    std::optional<int64_t> factor = ParseInt(it->second);
    if (!factor || (*factor < 1 && *factor != -1)) {
      return Invalid(std::string(key) + "=" + it->second +
                     ": expected -1 (the broker's default) or a positive number");
    }
    client.erase(it);
  }

  // sluice.changelog.topic.<config>: a topic config for the changelog topics sluice creates.
  for (auto it = client.begin(); it != client.end();) {
    if (!it->first.starts_with(kChangelogTopicConfig)) {
      ++it;
      continue;
    }
    const std::string config = it->first.substr(kChangelogTopicConfig.size());
    if (config.empty() || config == "cleanup.policy") {
      return Invalid(it->first +
                     ": expected sluice.changelog.topic.<topic config> (e.g. segment.bytes, "
                     "min.insync.replicas); cleanup.policy is always compact");
    }
    it = client.erase(it);
  }

  const bool exactly_once = settings.guarantee == DeliveryGuarantee::kExactlyOnce;
  if (exactly_once) {
    if (!settings.transactional_id_prefix || Trim(*settings.transactional_id_prefix).empty()) {
      return Invalid(
          "DeliveryGuarantee::kExactlyOnce needs a transactional id prefix: call "
          "SetTransactionalIdPrefix(\"...\") "
          "with a name unique to this job (two live jobs with one prefix fence each other)");
    }
    if (client.count("transactional.id") != 0) {
      return Invalid(
          "transactional.id is set by the sink (\"<prefix>-<instance>-a\" and \"-b\"); remove the "
          "property and use "
          "SetTransactionalIdPrefix");
    }
    if (settings.log_failures_only) {
      return Invalid(
          "SetLogFailuresOnly(true) cannot be combined with EXACTLY_ONCE: a transaction holding a "
          "failed record can "
          "never commit; use AT_LEAST_ONCE or NONE, or leave SetLogFailuresOnly(false)");
    }
    if (client.count("enable.idempotence") != 0 && client["enable.idempotence"] == "false") {
      return Invalid(
          "enable.idempotence=false contradicts DeliveryGuarantee::kExactlyOnce; remove the "
          "property");
    }
    settings.control_topic = control_topic.empty()
                                 ? *settings.transactional_id_prefix + ".sluice-control"
                                 : control_topic;
    std::string timeout = client.count("transaction.timeout.ms") != 0
                              ? client["transaction.timeout.ms"]
                              : std::to_string(kDefaultTransactionTimeoutMs);
    std::optional<int64_t> ms = ParseInt(timeout);
    if (!ms || *ms <= 0)
      return Invalid("transaction.timeout.ms=" + timeout +
                     ": expected a positive number of milliseconds");
    settings.transaction_timeout_ms = *ms;
    client["transaction.timeout.ms"] = timeout;
  } else {
    if (client.count("transactional.id") != 0) {
      return Invalid(
          "transactional.id is only used with DeliveryGuarantee::kExactlyOnce (set through "
          "SetTransactionalIdPrefix); remove the property");
    }
    if (settings.transactional_id_prefix) {
      // Flink accepts a prefix with other guarantees and ignores it; so do we.
    }
  }
  if (settings.guarantee == DeliveryGuarantee::kAtLeastOnce &&
      client.count("enable.idempotence") == 0) {
    client["enable.idempotence"] = "true";
  }
  if (client.count("partitioner") == 0) client["partitioner"] = "murmur2_random";

  // Let librdkafka judge every property, so a typo fails here and not inside a running job.
  internal::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [key, value] : client) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      std::string message = "property " + key;
      message.append("=").append(internal::ShownValue(key, value)).append(": ").append(error);
      return Invalid(std::move(message));
    }
  }
  settings.producer_properties = std::move(client);
  return settings;
}

Status ValidateSinkForJob(const KafkaSinkSettings& settings, const SinkValidationContext& job) {
  if (settings.guarantee != DeliveryGuarantee::kExactlyOnce) return Status::Ok();
  if (!job.checkpointing_enabled) {
    return Invalid(
        "DeliveryGuarantee::kExactlyOnce commits a Kafka transaction per checkpoint, but "
        "checkpointing is off: "
        "call env->EnableCheckpointing(interval) (or pass --checkpoint-interval), or use "
        "kAtLeastOnce / kNone");
  }
  const int64_t needed = job.checkpoint_interval_ms + job.checkpoint_timeout_ms;
  if (settings.transaction_timeout_ms <= needed) {
    return Invalid(
        "transaction.timeout.ms is " + std::to_string(settings.transaction_timeout_ms) +
        " ms, but a transaction stays open for up to the checkpoint interval (" +
        std::to_string(job.checkpoint_interval_ms) + " ms) plus the checkpoint timeout (" +
        std::to_string(job.checkpoint_timeout_ms) +
        " ms), and the broker would abort it first; raise "
        "transaction.timeout.ms above " +
        std::to_string(needed) +
        " ms with SetProperty (at most the broker's transaction.max.timeout.ms, 900000 by "
        "default), or "
        "lower the checkpoint timeout (--checkpoint-timeout, "
        "CheckpointConfig::SetCheckpointTimeout) "
        "or interval (--checkpoint-interval)");
  }
  return Status::Ok();
}

}  // namespace sluice::kafka::detail
