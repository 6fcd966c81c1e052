// The error a job stops with when the checkpoint it must restore cannot be used (a missing
// directory, a missing or corrupt _metadata, a state file missing or failing its checksum):
// which checkpoint, what is wrong, and the ways out. sluice never deletes such a checkpoint and
// never restarts into it again: the same bytes fail the same way (kFailedPrecondition, or
// kCorruption for bytes that do not decode; neither is restartable).
//
// Thread safety: a pure function.
#pragma once

#include <sluice/status.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace sluice::internal {

struct UnusableCheckpoint {
  std::int64_t id = 0;
  std::filesystem::path directory;
  /// What is wrong, naming the file (ReadMetadataAt, ReadStateFiles, ...).
  Status problem;
  /// Set when a checkpoint participant committed it (its Name(), e.g. "the EXACTLY_ONCE Kafka
  /// sink (...)"): the one checkpoint that matches the output already committed downstream.
  std::optional<std::string> committed_by;
  /// The newest older checkpoint that can be restored instead (for an exactly-once job: a
  /// committed one), if the directory holds one.
  std::optional<std::filesystem::path> older;
  /// The checkpoint's state is also in the state changelog in Kafka, which this run does not
  /// read (--state.changelog=off).
  bool changelog_holds_it = false;
  /// The job could keep its state in Kafka (it has an EXACTLY_ONCE Kafka sink) but this
  /// checkpoint was written without the changelog.
  bool changelog_possible = false;
};

/// "checkpoint N (DIR) cannot be restored: WHAT. ... Ways out: ..." as a Status whose code no
/// restart retries.
Status UnusableCheckpointError(const UnusableCheckpoint& checkpoint);

/// What is wrong with a checkpoint directory that a read of it failed on: "the directory DIR
/// does not exist", "DIR/_metadata does not exist", or `failure`'s own message.
std::string DescribeCheckpointProblem(const std::filesystem::path& directory,
                                      const Status& failure);

}  // namespace sluice::internal
