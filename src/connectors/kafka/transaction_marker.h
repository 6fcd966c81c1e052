// The commit marker an EXACTLY_ONCE checkpoint writes into the job's control topic, inside
// the checkpoint's transaction: the record that says "checkpoint N of this job instance is
// committed, its state is at <storage path>" and, with the state changelog on, "and in these
// ranges of these changelog topics". Versioned JSON: format_version 1 without a changelog
// section (what sluice wrote before the changelog, and still writes with it off), 2 with one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/checkpoint/state_changelog.h>
#include <sluice/status.h>

namespace sluice::kafka::internal {

/// What one checkpoint committed to the state changelog: per operator, its topic and, per
/// partition written since the log began, the offsets [base, end) that hold the state. base
/// is where this log began (the topic's end when the job started it afresh: older records are
/// not this job's state); end is the offset after the last record the checkpoint committed.
struct ChangelogSection {
  struct Operator {
    ChangelogOperator op;
    std::string topic;
    /// partition -> {base, end}; partitions never written are absent (nothing to read).
    std::map<int32_t, std::pair<int64_t, int64_t>> ranges;
  };
  std::vector<Operator> operators;
};

struct CommitMarker {
  static constexpr int32_t kFormatVersion = 2;
  std::string job;
  int32_t instance = 0;
  int64_t checkpoint = 0;
  std::string storage_path;
  int64_t trigger_time_ms = 0;
  int64_t commit_time_ms = 0;
  /// Written (as format_version 2) only with the state changelog on.
  std::optional<ChangelogSection> changelog;
};

/// The record key: one per job instance, so compaction keeps each instance's latest marker.
std::string MarkerKey(std::string_view job, int32_t instance);
std::string EncodeMarker(const CommitMarker& marker);
/// Corruption for bytes that are not a marker, or a marker of a newer format version.
Result<CommitMarker> DecodeMarker(std::string_view bytes);

}  // namespace sluice::kafka::internal
