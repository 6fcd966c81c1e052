// Validation of a KafkaSourceBuilder's settings (KafkaSourceBuilder::Build). Pure apart from
// asking librdkafka whether it knows each client property (no client is created).
#include <librdkafka/rdkafka.h>

#include <charconv>
#include <regex>
#include <string>
#include <string_view>

#include <sluice/connectors/kafka/detail/kafka_source_core.h>

#include "connectors/kafka/rdkafka_handles.h"
#include "connectors/kafka/run_stopping_offsets.h"
#include "connectors/kafka/topic_pattern.h"

namespace sluice::kafka::detail {
namespace {

constexpr std::string_view kCommitOnCheckpoint = "commit.offsets.on.checkpoint";
constexpr std::string_view kDiscoveryInterval = "partition.discovery.interval.ms";
constexpr std::string_view kClientIdPrefix = "client.id.prefix";
constexpr std::string_view kBrokerTimeout = "sluice.broker.timeout.ms";
constexpr std::string_view kPartitionIdleTimeout = "sluice.partition.idle.timeout.ms";
constexpr std::string_view kLegacyDiscoveryInterval = "flink.partition-discovery.interval-millis";
constexpr int64_t kDefaultDiscoveryIntervalMs = int64_t{5} * 60 * 1000;  // Flink's builder default
// Far above what queued.max.messages.kbytes (64 MB by default) lets in: the byte limit governs.
constexpr int64_t kDefaultQueuedMinMessages = 10'000'000;

Status Invalid(std::string message) {
  return Status::InvalidArgument("KafkaSource: " + std::move(message));
}

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Status CheckInitializer(const OffsetsInitializer& init, const char* setter, bool has_group) {
  if (init.kind() == OffsetsInitializer::Kind::kTimestamp && init.timestamp_ms() < 0) {
    return Invalid(std::string(setter) + "(OffsetsInitializer::Timestamp(" +
                   std::to_string(init.timestamp_ms()) +
                   ")): the timestamp must be >= 0 (milliseconds since the epoch)");
  }
  if (init.kind() == OffsetsInitializer::Kind::kSpecific) {
    for (const auto& [tp, offset] : init.offsets()) {
      if (offset < 0 || tp.partition < 0) {
        return Invalid(std::string(setter) + "(OffsetsInitializer::Offsets(...)): partition " +
                       ToString(tp) + " has offset " + std::to_string(offset) +
                       "; offsets and partitions must be >= 0");
      }
    }
  }
  if (init.NeedsCommittedOffsets() && !has_group) {
    return Invalid(
        std::string(setter) + "(" + init.ToString() +
        ") reads the group's committed offsets but no group id is set: call SetGroupId(...) "
        "(or SetProperty(\"group.id\", ...))");
  }
  return Status::Ok();
}

}  // namespace

const char* AutoOffsetResetValue(OffsetResetStrategy reset) {
  switch (reset) {
    case OffsetResetStrategy::kEarliest:
      return "earliest";
    case OffsetResetStrategy::kLatest:
      return "latest";
    case OffsetResetStrategy::kNone:
      return "error";
  }
  return "error";
}

Result<KafkaSourceSettings> NormalizeSettings(KafkaSourceSettings s) {
  std::map<std::string, std::string>& props = s.properties;

  auto servers = props.find("bootstrap.servers");
  if (servers == props.end() || servers->second.empty()) {
    return Invalid("no bootstrap servers: call SetBootstrapServers(\"host:port,...\")");
  }
  if (s.subscriptions_set == 0) {
    return Invalid(
        "no topics to read: call SetTopics(...), SetTopicPattern(...) or SetPartitions(...)");
  }
  if (s.subscriptions_set > 1) {
    return Invalid(
        "SetTopics, SetTopicPattern and SetPartitions exclude each other (or one was called "
        "twice); "
        "call exactly one of them once");
  }
  if (s.topic_pattern) {
    try {
      (void)internal::CompileTopicPattern(*s.topic_pattern);
    } catch (const std::regex_error& e) {
      return Invalid("SetTopicPattern(\"" + *s.topic_pattern +
                     "\"): not a valid regular expression: " + e.what());
    }
  } else if (s.topics.empty() && s.partitions.empty()) {
    return Invalid("SetTopics(...) or SetPartitions(...) was given nothing to read");
  }
  for (const TopicPartition& tp : s.partitions) {
    if (tp.topic.empty() || tp.partition < 0) {
      return Invalid("SetPartitions: '" + ToString(tp) +
                     "' is not a partition (empty topic or negative number)");
    }
  }
  for (const std::string& topic : s.topics) {
    if (topic.empty()) return Invalid("SetTopics: a topic name is empty");
  }
  if (!s.has_deserializer) {
    return Invalid(
        "no deserializer: call SetValueOnlyDeserializer(SimpleStringSchema()) or "
        "SetDeserializer(...)");
  }

  auto group = props.find("group.id");
  if (group != props.end() && !group->second.empty()) s.group_id = group->second;
  bool has_group = s.group_id.has_value();

  if (Status st = CheckInitializer(s.starting_offsets, "SetStartingOffsets", has_group); !st.ok())
    return st;
  if (s.stopping_offsets) {
    const char* setter = s.bounded ? "SetBounded" : "SetUnbounded";
    if (Status st = CheckInitializer(*s.stopping_offsets, setter, has_group); !st.ok()) return st;
  }

  // ---- the source's own keys ----
  s.commit_offsets_on_checkpoint = has_group;
  if (auto it = props.find(std::string(kCommitOnCheckpoint)); it != props.end()) {
    if (it->second != "true" && it->second != "false") {
      return Invalid(std::string(kCommitOnCheckpoint) + "='" + it->second + "': use true or false");
    }
    s.commit_offsets_on_checkpoint = it->second == "true";
    if (s.commit_offsets_on_checkpoint && !has_group) {
      return Invalid(std::string(kCommitOnCheckpoint) +
                     "=true commits offsets to a consumer group, but no group id is set: call "
                     "SetGroupId(...) or "
                     "set " +
                     std::string(kCommitOnCheckpoint) + "=false");
    }
  }
  // The builder discovers every 5 minutes unless told otherwise; the legacy shape only when
  // its own key is set (Flink's two defaults).
  const std::string_view discovery_key = s.legacy ? kLegacyDiscoveryInterval : kDiscoveryInterval;
  s.partition_discovery_interval_ms = s.bounded || s.legacy ? -1 : kDefaultDiscoveryIntervalMs;
  if (auto it = props.find(std::string(discovery_key)); it != props.end()) {
    std::optional<int64_t> value = ParseInt(it->second);
    if (!value)
      return Invalid(std::string(discovery_key) + "='" + it->second +
                     "': not a number of milliseconds");
    // A bounded source never discovers partitions (Flink's rule): its set is fixed at start.
    if (!s.bounded) s.partition_discovery_interval_ms = *value;
  }
  if (auto it = props.find(std::string(kBrokerTimeout)); it != props.end()) {
    std::optional<int64_t> value = ParseInt(it->second);
    if (!value || *value <= 0) {
      return Invalid(std::string(kBrokerTimeout) + "='" + it->second +
                     "': must be a positive number of milliseconds");
    }
    s.broker_timeout_ms = *value;
  }
  if (auto it = props.find(std::string(kPartitionIdleTimeout)); it != props.end()) {
    std::optional<int64_t> value = ParseInt(it->second);
    if (!value) {
      return Invalid(
          std::string(kPartitionIdleTimeout) + "='" + it->second +
          "': not a number of milliseconds (<= 0: partitions never become idle by time)");
    }
    s.partition_idle_timeout_ms = *value;
  }
  if (s.failure_policy.kind() == DeserializationFailurePolicy::Kind::kDeadLetter &&
      s.failure_policy.topic().empty()) {
    return Invalid(
        "DeserializationFailurePolicy::DeadLetter(\"\"): the dead-letter topic name is empty");
  }
  if (auto it = props.find(std::string(kClientIdPrefix));
      it != props.end() && !s.client_id_prefix) {
    s.client_id_prefix = it->second;
  }

  // ---- what the consumer gets ----
  std::map<std::string, std::string>& client = s.client_properties;
  client = props;
  for (std::string_view own : {kCommitOnCheckpoint, kDiscoveryInterval, kClientIdPrefix,
                               kBrokerTimeout, kPartitionIdleTimeout, kLegacyDiscoveryInterval}) {
    client.erase(std::string(own));
  }
  // As Flink's builder: Kafka's periodic commit is off unless asked for; checkpoints commit.
  client.emplace("enable.auto.commit", "false");
  if (client["enable.auto.commit"] == "true" && !has_group) {
    return Invalid(
        "enable.auto.commit=true commits offsets to a consumer group, but no group id is set: call "
        "SetGroupId(...)");
  }
  // Offsets out of range (and nothing else: start offsets are resolved by the source) follow
  // the starting initializer's reset strategy.
  client["auto.offset.reset"] = AutoOffsetResetValue(s.starting_offsets.reset_strategy());
  if (s.bounded) client["enable.partition.eof"] = "true";
  // librdkafka checks queued.min.messages per partition against the length of the partition's
  // fetch queue, but with assign() every partition's queue is forwarded to the one consumer
  // queue, so the check sees the sum over all partitions: with 8 partitions the default
  // (100000) is hit by a single round of fetches and every partition then stops fetching for
  // about a second. That alone made the source 4-9x slower than a plain loop reading the same
  // queue (bench/README.md). Memory stays bounded by queued.max.messages.kbytes, which is
  // checked against the same shared queue.
  client.emplace("queued.min.messages", std::to_string(kDefaultQueuedMinMessages));

  internal::ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  for (const auto& [key, value] : client) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      return Invalid("client property '" + key + "' refused by librdkafka: " + error);
    }
  }
  if (s.stopping_offsets) s.run_stopping_offsets = std::make_shared<RunStoppingOffsets>();
  return s;
}

}  // namespace sluice::kafka::detail
