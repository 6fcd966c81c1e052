#include "checkpoint/unusable_checkpoint.h"

#include <system_error>

#include <fmt/format.h>

#include "checkpoint/checkpoint_metadata.h"

namespace sluice::internal {

std::string DescribeCheckpointProblem(const std::filesystem::path& directory,
                                      const Status& failure) {
  std::error_code ec;
  if (!std::filesystem::exists(directory, ec) && !ec) {
    return fmt::format("the directory {} does not exist", directory.string());
  }
  const std::filesystem::path metadata = directory / kMetadataFileName;
  if (std::filesystem::is_directory(directory, ec) && !std::filesystem::exists(metadata, ec) &&
      !ec) {
    return fmt::format("{} does not exist", metadata.string());
  }
  return failure.message();
}

Status UnusableCheckpointError(const UnusableCheckpoint& checkpoint) {
  std::string message = fmt::format(
      "checkpoint {} ({}) cannot be restored: {}. ", checkpoint.id, checkpoint.directory.string(),
      DescribeCheckpointProblem(checkpoint.directory, checkpoint.problem));
  message += checkpoint.committed_by
                 ? fmt::format("It is the last checkpoint {} committed. ", *checkpoint.committed_by)
                 : std::string("It is the newest checkpoint of the job. ");
  message +=
      "sluice leaves it as it is and does not restart the job (the same files would fail the "
      "same way). Ways out: put the directory back as it was (from a backup) and start the job "
      "again";
  if (checkpoint.changelog_holds_it) {
    message +=
        "; or restore its state from the state changelog in Kafka, which holds it: start "
        "without --state.changelog=off";
  }
  if (checkpoint.older) {
    message += fmt::format("; or start from the older checkpoint --from-checkpoint={}",
                           checkpoint.older->string());
  } else {
    message += fmt::format(
        "; or start from an older checkpoint or a savepoint, --from-checkpoint=PATH or "
        "--from-savepoint=PATH (none is left in {}: SetNumRetainedCheckpoints keeps more)",
        checkpoint.directory.parent_path().string());
  }
  message += "; or start with empty state: --fresh";
  if (checkpoint.committed_by) {
    message +=
        ". From an older checkpoint or from empty state, the output committed since is written "
        "again";
  }
  if (checkpoint.changelog_possible && !checkpoint.changelog_holds_it) {
    message +=
        ". With the state changelog on (--state.changelog=kafka, docs/exactly-once.md \"Durable "
        "state in Kafka\") a lost or damaged checkpoint is restored from Kafka by itself";
  }
  const StatusCode code = checkpoint.problem.code() == StatusCode::kCorruption
                              ? StatusCode::kCorruption
                              : StatusCode::kFailedPrecondition;
  return Status(code, std::move(message));
}

}  // namespace sluice::internal
