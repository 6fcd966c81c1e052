#include "cli/list_checkpoints.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "checkpoint/checkpoint_storage.h"
#include "checkpoint/unusable_checkpoint.h"

namespace sluice::cli {
namespace {

using internal::CheckpointDirInfo;
using internal::CheckpointMetadata;
using internal::CheckpointStorage;

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

bool Committed(const CheckpointDirInfo& info) {
  return info.metadata && info.metadata->status == CheckpointMetadata::Status::kCommitted;
}

// The checkpoint a restarted job would restore, as far as the directory tells: the newest one
// that is not incomplete, skipping, for an exactly-once job (one with a committed checkpoint),
// complete ones that were never committed. nullptr: none.
const CheckpointDirInfo* RestoreTarget(const std::vector<CheckpointDirInfo>& infos,
                                       bool exactly_once) {
  for (auto it = infos.rbegin(); it != infos.rend(); ++it) {
    if (it->state == CheckpointDirInfo::State::kIncomplete) continue;
    if (exactly_once && it->metadata && !Committed(*it)) continue;
    return &*it;
  }
  return nullptr;
}

// Lists one instance directory; returns false when its restore target is unusable.
bool ListInstance(const std::filesystem::path& instance_dir, const std::string& job_label,
                  const std::vector<CheckpointDirInfo>& infos) {
  bool exactly_once = false;
  for (const CheckpointDirInfo& info : infos) exactly_once |= Committed(info);
  const CheckpointDirInfo* target = RestoreTarget(infos, exactly_once);
  std::printf("%s (%s): %zu checkpoint(s)\n", job_label.c_str(), instance_dir.string().c_str(),
              infos.size());
  bool incomplete_after_target = false;
  for (const CheckpointDirInfo& info : infos) {
    const char* mark = &info == target ? "*" : " ";
    const std::string state(internal::CheckpointDirStateName(info));
    if (info.state == CheckpointDirInfo::State::kUsable) {
      std::printf("  %s chk-%-6lld %-10s %s  %zu operator(s), %llu bytes\n", mark,
                  static_cast<long long>(info.id), state.c_str(),
                  FormatTime(info.metadata->completion_time_ms).c_str(),
                  info.metadata->operators.size(),
                  static_cast<unsigned long long>(StateBytes(*info.metadata)));
      continue;
    }
    if (info.state == CheckpointDirInfo::State::kIncomplete && target != nullptr &&
        info.id > target->id) {
      incomplete_after_target = true;
    }
    const std::string why = info.state == CheckpointDirInfo::State::kIncomplete
                                ? "no _metadata: being written, or abandoned (a job removes it "
                                  "when it starts)"
                                : internal::DescribeCheckpointProblem(info.directory, info.problem);
    std::printf("  %s chk-%-6lld %-10s %s\n", mark, static_cast<long long>(info.id), state.c_str(),
                why.c_str());
  }
  if (target != nullptr && target->state == CheckpointDirInfo::State::kUsable) {
    std::printf("  * = what the job restores when started again (without --fresh)\n");
  } else if (target != nullptr) {
    std::printf(
        "  * = what the job would restore when started again (without --fresh): it cannot be "
        "used, and the job stops at start (the message below says how to go on)\n");
  }
  if (exactly_once && incomplete_after_target) {
    std::printf(
        "  (an exactly-once job restores the checkpoint its Kafka control topic names as "
        "committed: if that is an INCOMPLETE one, its _metadata was lost and the job stops at "
        "start)\n");
  }
  // The state changelog (DESIGN.md section 7) of the newest checkpoint that had one: where the
  // state lives when this directory is lost.
  for (auto it = infos.rbegin(); it != infos.rend(); ++it) {
    if (!it->metadata) continue;
    bool any = false;
    for (const auto& [key, topic] : it->metadata->properties) {
      if (!key.starts_with(internal::kChangelogTopicProperty)) continue;
      if (!any) std::printf("  state changelog topics in Kafka (operator uid -> topic):\n");
      any = true;
      std::printf("    %s -> %s\n", key.substr(internal::kChangelogTopicProperty.size()).c_str(),
                  topic.c_str());
    }
    if (any) break;
  }
  if (target == nullptr || target->state == CheckpointDirInfo::State::kUsable) return true;
  internal::UnusableCheckpoint unusable;
  unusable.id = target->id;
  unusable.directory = target->directory;
  unusable.problem = target->problem;
  if (exactly_once) unusable.committed_by = "the job's EXACTLY_ONCE Kafka sink";
  for (const CheckpointDirInfo& info : infos) {
    if (info.id < target->id && info.state == CheckpointDirInfo::State::kUsable &&
        (!exactly_once || Committed(info))) {
      unusable.older = info.directory;
    }
  }
  std::fprintf(stderr, "sluice: %s: %s\n", job_label.c_str(),
               internal::UnusableCheckpointError(unusable).message().c_str());
  return false;
}

}  // namespace

int ListCheckpoints(const ListCheckpointsOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(options.dir, ec)) {
    std::fprintf(stderr, "sluice: checkpoint directory %s does not exist (--dir)\n",
                 options.dir.c_str());
    return 1;
  }
  bool ok = true;
  bool any = false;
  // <dir>/<job id>/instance-<i>/: job ids are derived from names, so the job name is read back
  // from a checkpoint's metadata; a job whose every _metadata is unreadable is listed by its
  // directory name.
  std::vector<fs::path> job_dirs;
  for (fs::directory_iterator it(options.dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) job_dirs.push_back(it->path());
  }
  if (ec) {
    std::fprintf(stderr, "sluice: cannot list %s: %s\n", options.dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::sort(job_dirs.begin(), job_dirs.end());
  for (const fs::path& job_dir : job_dirs) {
    std::vector<fs::path> instance_dirs;
    for (fs::directory_iterator it(job_dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      std::error_code type_ec;
      const std::string name = it->path().filename().string();
      if (it->is_directory(type_ec) && name.starts_with("instance-"))
        instance_dirs.push_back(it->path());
    }
    std::sort(instance_dirs.begin(), instance_dirs.end());
    for (const fs::path& instance_dir : instance_dirs) {
      const int32_t instance = std::atoi(instance_dir.filename().string().c_str() + 9);
      if (options.instance >= 0 && instance != options.instance) continue;
      sluice::Result<std::vector<CheckpointDirInfo>> infos =
          CheckpointStorage::Inspect(instance_dir, /*verify_state_files=*/!options.quick);
      if (!infos.ok()) {
        std::fprintf(stderr, "sluice: %s\n", infos.status().ToString().c_str());
        ok = false;
        continue;
      }
      std::optional<std::string> job_name;
      for (const CheckpointDirInfo& info : *infos) {
        if (info.metadata) job_name = info.metadata->job_name;
      }
      const std::string job_id = job_dir.filename().string();
      if (!options.job.empty() &&
          (job_name ? *job_name != options.job : internal::JobIdFromName(options.job) != job_id)) {
        continue;
      }
      if (infos->empty() && !job_name) continue;  // no checkpoint was ever begun
      any = true;
      const std::string label =
          (job_name ? "job '" + *job_name + "'"
                    : "job id " + job_id + " (no readable _metadata, so no job name)") +
          " instance " + std::to_string(instance);
      ok = ListInstance(instance_dir, label, *infos) && ok;
    }
  }
  if (!any) {
    std::printf("no checkpoints%s in %s\n",
                options.job.empty() ? "" : (" of job '" + options.job + "'").c_str(),
                options.dir.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace sluice::cli
