#include "connectors/kafka/transaction_marker.h"

#include <nlohmann/json.hpp>

namespace sluice::kafka::internal {

std::string MarkerKey(std::string_view job, int32_t instance) {
  return std::string(job) + "/instance-" + std::to_string(instance);
}

std::string EncodeMarker(const CommitMarker& marker) {
  // Version 1 when there is nothing of version 2 in it: readers of version 1 keep working.
  nlohmann::json json = {{"format_version", marker.changelog ? CommitMarker::kFormatVersion : 1},
                         {"job", marker.job},
                         {"instance", marker.instance},
                         {"checkpoint", marker.checkpoint},
                         {"storage_path", marker.storage_path},
                         {"trigger_time_ms", marker.trigger_time_ms},
                         {"commit_time_ms", marker.commit_time_ms}};
  if (marker.changelog) {
    nlohmann::json operators = nlohmann::json::array();
    for (const ChangelogSection::Operator& entry : marker.changelog->operators) {
      nlohmann::json ranges = nlohmann::json::array();
      for (const auto& [partition, range] : entry.ranges)
        ranges.push_back({partition, range.first, range.second});
      operators.push_back({{"uid", entry.op.uid},
                           {"name", entry.op.name},
                           {"keyed", entry.op.keyed},
                           {"parallelism", entry.op.parallelism},
                           {"max_parallelism", entry.op.max_parallelism},
                           {"topic", entry.topic},
                           {"ranges", std::move(ranges)}});
    }
    json["changelog"] = {{"operators", std::move(operators)}};
  }
  return json.dump();
}

Result<CommitMarker> DecodeMarker(std::string_view bytes) {
  nlohmann::json json = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object())
    return Status::Corruption("commit marker: not a JSON object");
  try {
    int32_t version = json.at("format_version").get<int32_t>();
    if (version > CommitMarker::kFormatVersion) {
      return Status::Corruption("commit marker format_version " + std::to_string(version) +
                                " is newer than this sluice understands (" +
                                std::to_string(CommitMarker::kFormatVersion) + "); upgrade sluice");
    }
    CommitMarker marker;
    marker.job = json.at("job").get<std::string>();
    marker.instance = json.at("instance").get<int32_t>();
    marker.checkpoint = json.at("checkpoint").get<int64_t>();
    marker.storage_path = json.at("storage_path").get<std::string>();
    marker.trigger_time_ms = json.value("trigger_time_ms", int64_t{0});
    marker.commit_time_ms = json.value("commit_time_ms", int64_t{0});
    if (version >= 2 && json.contains("changelog")) {
      ChangelogSection& section = marker.changelog.emplace();
      for (const nlohmann::json& entry : json.at("changelog").at("operators")) {
        ChangelogSection::Operator& op = section.operators.emplace_back();
        op.op.uid = entry.at("uid").get<std::string>();
        op.op.name = entry.value("name", op.op.uid);
        op.op.keyed = entry.at("keyed").get<bool>();
        op.op.parallelism = entry.at("parallelism").get<int32_t>();
        op.op.max_parallelism = entry.at("max_parallelism").get<int32_t>();
        op.topic = entry.at("topic").get<std::string>();
        for (const nlohmann::json& range : entry.at("ranges")) {
          const auto partition = range.at(0).get<int32_t>();
          const auto base = range.at(1).get<int64_t>();
          const auto end = range.at(2).get<int64_t>();
          if (partition < 0 || partition >= op.op.partitions() || base < 0 || end < base) {
            return Status::Corruption("commit marker: changelog range [" + std::to_string(base) +
                                      ", " + std::to_string(end) + ") of partition " +
                                      std::to_string(partition) + " of " + op.topic +
                                      " is impossible");
          }
          op.ranges[partition] = {base, end};
        }
      }
    }
    return marker;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("commit marker: ") + e.what());
  }
}

}  // namespace sluice::kafka::internal
