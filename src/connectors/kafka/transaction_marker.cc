#include "connectors/kafka/transaction_marker.h"

#include <nlohmann/json.hpp>

namespace sluice::kafka::internal {

std::string MarkerKey(std::string_view job, int32_t instance) {
  return std::string(job) + "/instance-" + std::to_string(instance);
}

std::string EncodeMarker(const CommitMarker& marker) {
  nlohmann::json json = {{"format_version", CommitMarker::kFormatVersion},
                         {"job", marker.job},
                         {"instance", marker.instance},
                         {"checkpoint", marker.checkpoint},
                         {"storage_path", marker.storage_path},
                         {"trigger_time_ms", marker.trigger_time_ms},
                         {"commit_time_ms", marker.commit_time_ms}};
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
    return marker;
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("commit marker: ") + e.what());
  }
}

}  // namespace sluice::kafka::internal
