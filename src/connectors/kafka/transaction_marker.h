// The commit marker an EXACTLY_ONCE checkpoint writes into the job's control topic, inside
// the checkpoint's transaction: the record that says "checkpoint N of this job instance is
// committed, its state is at <storage path>". Versioned JSON (format_version 1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <sluice/status.h>

namespace sluice::kafka::internal {

struct CommitMarker {
  static constexpr int32_t kFormatVersion = 1;
  std::string job;
  int32_t instance = 0;
  int64_t checkpoint = 0;
  std::string storage_path;
  int64_t trigger_time_ms = 0;
  int64_t commit_time_ms = 0;
};

/// The record key: one per job instance, so compaction keeps each instance's latest marker.
std::string MarkerKey(std::string_view job, int32_t instance);
std::string EncodeMarker(const CommitMarker& marker);
/// Corruption for bytes that are not a marker, or a marker of a newer format version.
Result<CommitMarker> DecodeMarker(std::string_view bytes);

}  // namespace sluice::kafka::internal
