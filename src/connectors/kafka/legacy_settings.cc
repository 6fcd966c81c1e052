// KafkaConsumerSource (the legacy shape) -> the settings the shared reader core runs on.
// Flink's legacy rules: group offsets by default, auto.offset.reset for partitions without a
// committed offset and for offsets out of range, commits on checkpoints when checkpointing is
// on, Kafka's periodic auto-commit when it is off.
#include <string>

#include <sluice/connectors/kafka/kafka_consumer_source.h>

namespace sluice::kafka::detail {
namespace {

OffsetResetStrategy ParseReset(const std::map<std::string, std::string>& props) {
  auto it = props.find("auto.offset.reset");
  if (it == props.end()) return OffsetResetStrategy::kLatest;  // Kafka's default
  const std::string& v = it->second;
  if (v == "earliest" || v == "smallest" || v == "beginning") return OffsetResetStrategy::kEarliest;
  if (v == "latest" || v == "largest" || v == "end") return OffsetResetStrategy::kLatest;
  if (v == "none" || v == "error") return OffsetResetStrategy::kNone;
  throw StatusException(Status::InvalidArgument("KafkaConsumerSource: auto.offset.reset='" + v +
                                                "': use earliest, latest or none"));
}

}  // namespace

KafkaSourceSettings LegacySettings(KafkaSourceSettings raw, bool group_offsets,
                                   bool commit_on_checkpoints, bool commit_explicit,
                                   bool checkpointing_enabled) {
  std::map<std::string, std::string>& props = raw.properties;
  auto group = props.find("group.id");
  bool has_group = group != props.end() && !group->second.empty();
  OffsetResetStrategy reset = ParseReset(props);
  if (group_offsets) {
    if (has_group) {
      raw.starting_offsets = OffsetsInitializer::Committed(reset);
    } else if (reset == OffsetResetStrategy::kNone) {
      throw StatusException(Status::InvalidArgument(
          "KafkaConsumerSource: SetStartFromGroupOffsets() without group.id and with "
          "auto.offset.reset=none has no "
          "start position: set group.id, or auto.offset.reset=earliest|latest, or another "
          "SetStartFrom...()"));
    } else {
      // No group: nothing is committed, so every partition follows auto.offset.reset.
      raw.starting_offsets = reset == OffsetResetStrategy::kEarliest
                                 ? OffsetsInitializer::Earliest()
                                 : OffsetsInitializer::Latest();
    }
  } else if (raw.starting_offsets.kind() == OffsetsInitializer::Kind::kSpecific) {
    raw.starting_offsets = OffsetsInitializer::Offsets(raw.starting_offsets.offsets(), reset);
  }
  if (commit_explicit && commit_on_checkpoints && checkpointing_enabled && !has_group) {
    throw StatusException(Status::InvalidArgument(
        "KafkaConsumerSource: SetCommitOffsetsOnCheckpoints(true) commits to a consumer group, but "
        "the properties "
        "have no group.id: set group.id or call SetCommitOffsetsOnCheckpoints(false)"));
  }
  props["commit.offsets.on.checkpoint"] =
      checkpointing_enabled && commit_on_checkpoints && has_group ? "true" : "false";
  if (checkpointing_enabled) {
    // Checkpoints hold the offsets; Kafka's own commits would only race with them (Flink
    // turns auto-commit off too).
    props["enable.auto.commit"] = "false";
  } else if (has_group) {
    props.emplace("enable.auto.commit",
                  "true");  // Kafka's default, what Flink's legacy consumer relies on
  }
  Result<KafkaSourceSettings> normalized = NormalizeSettings(std::move(raw));
  if (!normalized.ok()) {
    std::string message = normalized.status().message();
    if (message.starts_with("KafkaSource: "))
      message = "KafkaConsumerSource: " + message.substr(13);
    throw StatusException(Status(normalized.status().code(), std::move(message)));
  }
  KafkaSourceSettings settings = std::move(normalized).value();
  // Out-of-range offsets follow the user's auto.offset.reset, whatever the start mode.
  settings.client_properties["auto.offset.reset"] = AutoOffsetResetValue(reset);
  return settings;
}

}  // namespace sluice::kafka::detail
