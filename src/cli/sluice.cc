// The `sluice` admin command.
//
//   sluice checkpoints --dir DIR [--job NAME] [--instance I]
//       lists the checkpoints of every job (or one) in a checkpoint directory: id, status
//       (COMPLETED, or COMMITTED once an exactly-once Kafka transaction made it final), time,
//       operators, size; marks the one a restarted job would restore.
//
//   sluice txn abort --bootstrap-servers B --prefix P [--instances N] [--property k=v ...]
//                    [--timeout-ms T] [--dry-run]
//       aborts the open Kafka transactions of an EXACTLY_ONCE job that is gone (txn_abort.h).
//
// Exit codes: 0 success, 1 an error (message on stderr), 2 bad usage.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/checkpoint_storage.h"
#include "cli/txn_abort.h"

namespace {

using sluice::internal::CheckpointMetadata;
using sluice::internal::CheckpointStorage;

std::string FormatTime(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &tm);
  return std::string(buffer) + "Z";
}

uint64_t StateBytes(const CheckpointMetadata& metadata) {
  uint64_t total = 0;
  for (const auto& op : metadata.operators) {
    for (const auto& subtask : op.subtasks) total += subtask.size;
  }
  return total;
}

// Lists the checkpoints of one job instance directory; returns false on error.
bool ListInstance(const std::filesystem::path& dir, const std::string& job_name, int32_t instance) {
  sluice::Result<CheckpointStorage> storage = CheckpointStorage::Open(dir, job_name, instance);
  if (!storage.ok()) {
    std::fprintf(stderr, "sluice: %s\n", storage.status().ToString().c_str());
    return false;
  }
  std::vector<int64_t> ids = storage->ListCompleted();
  std::printf("job '%s' instance %d (%s): %zu checkpoint(s)\n", job_name.c_str(), instance,
              storage->instance_dir().string().c_str(), ids.size());
  // A restarted job restores the newest committed checkpoint if it has an exactly-once sink,
  // else the newest completed one.
  std::optional<int64_t> newest_committed;
  std::vector<CheckpointMetadata> all;
  for (int64_t id : ids) {
    sluice::Result<CheckpointMetadata> metadata = storage->ReadCheckpointMetadata(id);
    if (!metadata.ok()) {
      std::fprintf(stderr, "sluice: checkpoint %lld: %s\n", static_cast<long long>(id),
                   metadata.status().ToString().c_str());
      continue;
    }
    if (metadata->status == CheckpointMetadata::Status::kCommitted) newest_committed = id;
    all.push_back(std::move(*metadata));
  }
  std::optional<int64_t> restore = newest_committed;
  if (!restore && !all.empty()) restore = all.back().checkpoint_id;
  for (const CheckpointMetadata& metadata : all) {
    bool committed = metadata.status == CheckpointMetadata::Status::kCommitted;
    std::printf("  %s chk-%-6lld %-9s %s  %zu operator(s), %llu bytes\n",
                restore == metadata.checkpoint_id ? "*" : " ",
                static_cast<long long>(metadata.checkpoint_id),
                committed ? "COMMITTED" : "COMPLETED",
                FormatTime(metadata.completion_time_ms).c_str(), metadata.operators.size(),
                static_cast<unsigned long long>(StateBytes(metadata)));
  }
  if (restore) std::printf("  * = what the job restores when started again (without --fresh)\n");
  // The state changelog (DESIGN.md section 7) of the newest checkpoint that had one: where the
  // state lives when this directory is lost.
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    bool any = false;
    for (const auto& [key, topic] : it->properties) {
      if (!key.starts_with(sluice::internal::kChangelogTopicProperty)) continue;
      if (!any) std::printf("  state changelog topics in Kafka (operator uid -> topic):\n");
      any = true;
      std::printf("    %s -> %s\n",
                  key.substr(sluice::internal::kChangelogTopicProperty.size()).c_str(),
                  topic.c_str());
    }
    if (any) break;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice: administer sluice jobs"};
  app.require_subcommand(1);

  CLI::App* checkpoints =
      app.add_subcommand("checkpoints", "List the checkpoints in a checkpoint directory");
  std::string dir;
  std::string job;
  int32_t instance = -1;
  checkpoints->add_option("--dir", dir, "the job's --checkpoint-dir")->required();
  checkpoints->add_option("--job", job, "only this job (its name as given to Execute)");
  checkpoints->add_option("--instance", instance, "only this instance (default: all)");

  CLI::App* txn =
      app.add_subcommand("txn", "Administer the Kafka transactions of EXACTLY_ONCE sinks");
  txn->require_subcommand(1);
  sluice::cli::TxnAbortOptions txn_abort_options;
  CLI::App* txn_abort = sluice::cli::AddTxnAbortCommand(*txn, txn_abort_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints help (exit 0) or the message; every other parse failure is bad usage.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*txn_abort) return sluice::cli::RunTxnAbort(txn_abort_options);

  if (*checkpoints) {
    if (!std::filesystem::is_directory(dir)) {
      std::fprintf(stderr, "sluice: checkpoint directory %s does not exist (--dir)\n", dir.c_str());
      return 1;
    }
    bool ok = true;
    bool any = false;
    // <dir>/<job id>/instance-<i>/: job ids are derived from names, so read the job name back
    // from a checkpoint's metadata when no --job is given.
    for (const auto& job_dir : std::filesystem::directory_iterator(dir)) {
      if (!job_dir.is_directory()) continue;
      for (const auto& instance_dir : std::filesystem::directory_iterator(job_dir.path())) {
        std::string name = instance_dir.path().filename().string();
        if (!instance_dir.is_directory() || name.rfind("instance-", 0) != 0) continue;
        int32_t i = std::atoi(name.c_str() + 9);
        if (instance >= 0 && i != instance) continue;
        std::string job_name;
        for (const auto& chk : std::filesystem::directory_iterator(instance_dir.path())) {
          sluice::Result<CheckpointMetadata> metadata =
              CheckpointStorage::ReadMetadataAt(chk.path());
          if (metadata.ok()) {
            job_name = metadata->job_name;
            break;
          }
        }
        if (job_name.empty() || (!job.empty() && job_name != job)) continue;
        any = true;
        ok = ListInstance(dir, job_name, i) && ok;
      }
    }
    if (!any) {
      std::printf("no checkpoints%s in %s\n", job.empty() ? "" : (" of job '" + job + "'").c_str(),
                  dir.c_str());
    }
    return ok ? 0 : 1;
  }
  return 2;
}
