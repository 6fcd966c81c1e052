// What a program calls while it builds its job: configuration, FromArgs, the built-in sources,
// and the key group functions the header templates call. Running the job (PrepareJob, Execute,
// ExecuteAsync) is the runtime's: src/runtime/execute.cc, so that api stays below graph and
// runtime.
#include <sluice/api/stream_execution_environment.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

#include "api/kerberos_login.h"
#include "api/standard_flags.h"
#include "core/log.h"
#include "state/key_group_assignment.h"

namespace sluice {

namespace detail {

int32_t KeyGroupForKeyHash(int32_t key_hash, int32_t max_parallelism) {
  return internal::AssignToKeyGroup(key_hash, max_parallelism);
}

int32_t OperatorIndexForKeyGroup(int32_t max_parallelism, int32_t parallelism, int32_t key_group) {
  return internal::ComputeOperatorIndexForKeyGroup(max_parallelism, parallelism, key_group);
}

std::string PartitionerName(PartitionerKind kind) {
  switch (kind) {
    case PartitionerKind::kForward:
      return "FORWARD";
    case PartitionerKind::kRebalance:
      return "REBALANCE";
    case PartitionerKind::kShuffle:
      return "SHUFFLE";
    case PartitionerKind::kBroadcast:
      return "BROADCAST";
    case PartitionerKind::kCustom:
      return "CUSTOM";
    case PartitionerKind::kKeyGroup:
      return "HASH";
  }
  return "UNKNOWN";
}

namespace {

class SequenceReader final : public SourceReader<int64_t> {
 public:
  SequenceReader(int64_t from, int64_t to, const TaskInfo& task)
      : from_(from), to_(to), task_(task) {}

  void Open(SourceReaderContext& ctx) override {
    state_ = &ctx.GetRuntimeContext().GetOperatorListState(
        ListStateDescriptor<std::pair<int64_t, int64_t>>("ranges"));
    if (ctx.GetRuntimeContext().IsRestored()) {
      for (auto range : state_->Get()) ranges_.push_back(range);
      return;
    }
    // Split [from, to] into `parallelism` contiguous shares, the first ones one larger.
    if (to_ < from_) return;
    uint64_t total = static_cast<uint64_t>(to_ - from_) + 1;
    uint64_t parallelism = static_cast<uint64_t>(task_.parallelism);
    uint64_t index = static_cast<uint64_t>(task_.subtask_index);
    uint64_t base = total / parallelism;
    uint64_t extra = total % parallelism;
    uint64_t begin = index * base + std::min(index, extra);
    uint64_t size = base + (index < extra ? 1 : 0);
    if (size > 0) {
      ranges_.emplace_back(from_ + static_cast<int64_t>(begin),
                           from_ + static_cast<int64_t>(begin + size - 1));
    }
  }

  InputStatus PollNext(ReaderOutput<int64_t>& output) override {
    for (int i = 0; i < 4096 && !ranges_.empty(); ++i) {
      auto& range = ranges_.front();
      output.Collect(range.first);
      if (range.first == range.second) {
        ranges_.erase(ranges_.begin());
      } else {
        ++range.first;
      }
    }
    return ranges_.empty() ? InputStatus::kEndOfInput : InputStatus::kMoreAvailable;
  }

  void SnapshotState(CheckpointId) override { state_->Update(ranges_); }

 private:
  int64_t from_;
  int64_t to_;
  TaskInfo task_;
  ListState<std::pair<int64_t, int64_t>>* state_ = nullptr;
  std::vector<std::pair<int64_t, int64_t>> ranges_;
};

/// GenerateSequence: each instance emits its share; the state is the list of ranges still to
/// emit, redistributed evenly when restored at another parallelism.
class SequenceSource final : public Source<int64_t> {
 public:
  SequenceSource(int64_t from, int64_t to) : from_(from), to_(to) {}
  bool IsBounded() const override { return true; }
  std::unique_ptr<SourceReader<int64_t>> CreateReader(const TaskInfo& task) const override {
    return std::make_unique<SequenceReader>(from_, to_, task);
  }

 private:
  int64_t from_;
  int64_t to_;
};

}  // namespace

}  // namespace detail

std::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kCreated:
      return "CREATED";
    case JobStatus::kRunning:
      return "RUNNING";
    case JobStatus::kRestarting:
      return "RESTARTING";
    case JobStatus::kFinished:
      return "FINISHED";
    case JobStatus::kCanceled:
      return "CANCELED";
    case JobStatus::kFailed:
      return "FAILED";
  }
  return "UNKNOWN";
}

StreamExecutionEnvironment::StreamExecutionEnvironment()
    : parallelism_(std::max(1, static_cast<int32_t>(std::thread::hardware_concurrency()))) {}

StreamExecutionEnvironment::~StreamExecutionEnvironment() = default;

std::unique_ptr<StreamExecutionEnvironment> StreamExecutionEnvironment::Create() {
  return std::unique_ptr<StreamExecutionEnvironment>(new StreamExecutionEnvironment());
}

std::unique_ptr<StreamExecutionEnvironment> StreamExecutionEnvironment::FromArgs(int argc,
                                                                                 char** argv) {
  std::string program = argc > 0 ? argv[0] : "job";
  Result<internal::StandardFlags> flags = internal::ParseStandardFlags(argc, argv);
  if (!flags.ok()) {
    std::fprintf(stderr, "%s: %s\nRun %s --help for the flags.\n", program.c_str(),
                 flags.status().message().c_str(), program.c_str());
    std::exit(2);
  }
  if (flags->help) {
    std::fputs(internal::StandardFlagsHelp(program).c_str(), stdout);
    std::exit(0);
  }
  auto env = Create();
  if (flags->parallelism) env->SetParallelism(*flags->parallelism);
  if (flags->checkpoint_interval) {
    env->checkpoint_config_.SetCheckpointInterval(*flags->checkpoint_interval);
    env->checkpoint_interval_from_flags_ = true;
  }
  if (flags->checkpoint_dir) env->checkpoint_config_.SetCheckpointStorage(*flags->checkpoint_dir);
  env->checkpoint_timeout_from_flags_ = flags->checkpoint_timeout;
  env->savepoint_timeout_from_flags_ = flags->savepoint_timeout;
  env->restore_.fresh = flags->fresh;
  env->restore_.savepoint_path = flags->from_savepoint;
  env->restore_.checkpoint_path = flags->from_checkpoint;
  env->restore_.allow_non_restored_state = flags->allow_non_restored_state;
  if (flags->restart_attempts) {
    env->restart_strategy_ =
        RestartStrategy::FixedDelay(*flags->restart_attempts, std::chrono::seconds(1));
    env->restart_from_flags_ = true;
  }
  if (flags->log_level) {
    Status status = internal::SetLogLevel(*flags->log_level);
    if (!status.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(), status.message().c_str());
      std::exit(2);
    }
  }
  if (flags->state_backend) {
    env->state_backend_ = *flags->state_backend;
    env->state_backend_from_flags_ = true;
  }
  if (flags->state_changelog) {
    env->state_changelog_ = flags->state_changelog;
    env->state_changelog_from_flags_ = true;
  }
  if (flags->kerberos_keytab) {
    // Process-wide, as Flink's security module installs its login once per process: every
    // Kafka client made from now on logs in with it (connectors/kafka/client_properties.cc).
    internal::InstallKerberosLogin(
        internal::KerberosLogin{*flags->kerberos_keytab, *flags->kerberos_principal});
  }
  env->parameters_ = flags->job_parameters;
  env->check_parameters_ = true;
  return env;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::SetParallelism(int32_t parallelism) {
  parallelism_ = parallelism;
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::SetMaxParallelism(int32_t max_parallelism) {
  graph_.set_max_parallelism(max_parallelism);
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::EnableCheckpointing(
    std::chrono::milliseconds interval) {
  if (interval < kMinimalCheckpointInterval) {
    throw std::invalid_argument("EnableCheckpointing: the interval must be at least " +
                                std::to_string(kMinimalCheckpointInterval.count()) +
                                " ms (as in Flink), not " + std::to_string(interval.count()) +
                                " ms");
  }
  // A --checkpoint-interval flag (including "off") wins over the job's own choice.
  if (!checkpoint_interval_from_flags_) checkpoint_config_.SetCheckpointInterval(interval);
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::SetRestartStrategy(
    RestartStrategy strategy) {
  if (!restart_from_flags_) restart_strategy_ = strategy;
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::SetAutoWatermarkInterval(
    std::chrono::milliseconds interval) {
  auto_watermark_interval_ = interval;
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::SetStateBackend(std::string name) {
  // The flag is the operator's choice, made without rebuilding the job: it wins.
  if (!state_backend_from_flags_) state_backend_ = std::move(name);
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::EnableChangelogStateBackend(bool enabled) {
  if (!state_changelog_from_flags_) state_changelog_ = enabled;
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::DisableOperatorChaining() {
  chaining_ = false;
  return *this;
}

StreamExecutionEnvironment& StreamExecutionEnvironment::SetRestoreSettings(
    RestoreSettings settings) {
  restore_ = std::move(settings);
  return *this;
}

DataStream<int64_t> StreamExecutionEnvironment::GenerateSequence(int64_t from, int64_t to) {
  auto source = std::make_shared<const detail::SequenceSource>(from, to);
  return FromSource<int64_t>(source, WatermarkStrategy<int64_t>::NoWatermarks(), "Sequence Source");
}

}  // namespace sluice
