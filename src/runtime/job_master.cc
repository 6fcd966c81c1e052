#include "runtime/job_master.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <random>
#include <set>

#include <sluice/api/duration.h>

#include "checkpoint/unusable_checkpoint.h"
#include "core/clock.h"
#include "core/log.h"
#include "runtime/restart_backoff.h"
#include "state/changelog_fold.h"
#include "state/key_group_assignment.h"
#include "state/subtask_state_file.h"

namespace sluice::internal {
namespace {

// SIGTERM stops with a savepoint, SIGINT cancels (DESIGN.md section 4). The handler only
// records the first signal; the job master's wait loops act on it. A second SIGTERM or SIGINT
// ends the process at once: whoever sends it has given up waiting for the clean stop (a stop
// blocked in a broker call, say), and only the handler itself still runs then.
std::atomic<int> g_pending_signal{0};
std::atomic<int> g_signals_received{0};

extern "C" void RecordSignal(int signal) {
  if (g_signals_received.fetch_add(1) > 0) {
    // Only async-signal-safe calls here: write(2) and _exit(2).
    static constexpr char kMessage[] =
        "sluice: second signal: exiting at once, without a savepoint and without stopping the "
        "job cleanly; started again, it resumes from its last completed checkpoint\n";
    [[maybe_unused]] ssize_t written = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    ::_exit(128 + signal);
  }
  g_pending_signal.store(signal);
}

class SignalScope {
 public:
  explicit SignalScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    g_pending_signal.store(0);
    g_signals_received.store(0);
    previous_term_ = std::signal(SIGTERM, RecordSignal);
    previous_int_ = std::signal(SIGINT, RecordSignal);
  }
  ~SignalScope() {
    if (!enabled_) return;
    std::signal(SIGTERM, previous_term_);
    std::signal(SIGINT, previous_int_);
  }

 private:
  bool enabled_;
  void (*previous_term_)(int) = SIG_DFL;
  void (*previous_int_)(int) = SIG_DFL;
};

// A checkpoint or savepoint chosen for restore that lacks a file lacks it in every attempt:
// that kNotFound is a state someone has to fix (kFailedPrecondition, not restartable), not a
// topic that may yet appear.
Status RestoreReadFailure(Status status) {
  if (status.code() != StatusCode::kNotFound) return status;
  return Status::FailedPrecondition(status.message());
}

}  // namespace

namespace {

uint64_t NewRunId() {
  std::random_device device;
  uint64_t id = 0;
  while (id == 0) id = (static_cast<uint64_t>(device()) << 32) ^ device();
  return id;
}

}  // namespace

JobMaster::JobMaster(JobSpec spec) : spec_(std::move(spec)), run_id_(NewRunId()) {}

JobMaster::~JobMaster() { StopAttempt(); }

JobStatus JobMaster::status() const {
  MutexLock lock(mutex_);
  return status_;
}

void JobMaster::SetStatus(JobStatus status) {
  MutexLock lock(mutex_);
  status_ = status;
}

void JobMaster::Cancel() {
  {
    MutexLock lock(mutex_);
    cancel_requested_ = true;
  }
  cv_.NotifyAll();
}

std::filesystem::path JobMaster::SavepointDirectory(const std::string& requested) const {
  return requested.empty() ? std::filesystem::path(spec_.checkpoint_config.GetSavepointDirectory())
                           : std::filesystem::path(requested);
}

Result<std::string> JobMaster::TriggerSavepoint(const std::string& directory) {
  std::shared_ptr<CheckpointCoordinator> coordinator;
  {
    MutexLock lock(mutex_);
    if (status_ != JobStatus::kRunning || coordinator_ == nullptr) {
      return Status::FailedPrecondition("the job is not running (status " +
                                        std::string(JobStatusName(status_)) + ")");
    }
    coordinator = coordinator_;
  }
  return coordinator->TriggerSavepoint(SavepointDirectory(directory));
}

Result<std::string> JobMaster::StopWithSavepoint(const std::string& directory) {
  MutexLock lock(mutex_);
  if (status_ != JobStatus::kRunning) {
    return Status::FailedPrecondition("the job is not running (status " +
                                      std::string(JobStatusName(status_)) + ")");
  }
  stop_requested_ = true;
  stop_savepoint_directory_ = directory;
  stop_outcome_.reset();  // not the outcome of an earlier stop that failed
  cv_.NotifyAll();
  while (!stop_outcome_.has_value()) cv_.Wait(mutex_);
  return *stop_outcome_;
}

void JobMaster::TakeSignal() {
  const int signal = g_pending_signal.exchange(0);
  if (signal == SIGINT) cancel_requested_ = true;
  if (signal == SIGTERM) {
    stop_requested_ = true;
    stop_by_signal_ = true;
    stop_savepoint_directory_.clear();
  }
}

Status JobMaster::StopFailed(const Status& reason) const {
  return Status(reason.code(),
                "SIGTERM: stop-with-savepoint failed: " + reason.message() +
                    ". The job was cancelled without a savepoint; started again (without --fresh), "
                    "it resumes from its last completed checkpoint");
}

void JobMaster::OnTaskFinished(int32_t) {
  {
    MutexLock lock(mutex_);
    --running_tasks_;
  }
  cv_.NotifyAll();
}

void JobMaster::OnTaskCanceled(int32_t) {
  {
    MutexLock lock(mutex_);
    --running_tasks_;
  }
  cv_.NotifyAll();
}

void JobMaster::OnTaskFailed(int32_t, Status cause) {
  {
    MutexLock lock(mutex_);
    --running_tasks_;
    if (!failure_) failure_ = std::move(cause);
  }
  cv_.NotifyAll();
}

void JobMaster::FailAttempt(Status cause) {
  {
    MutexLock lock(mutex_);
    if (!failure_) failure_ = std::move(cause);
  }
  cv_.NotifyAll();
}

Result<std::shared_ptr<CheckpointParticipant>> JobMaster::StateParticipant(
    const SinkValidationContext& job) const {
  if (!job.checkpointing_enabled) {
    return Status::InvalidArgument(
        "--state.changelog=kafka (EnableChangelogStateBackend) commits the state with every "
        "checkpoint, but checkpointing is off: pass --checkpoint-interval (or call "
        "EnableCheckpointing), or run with --state.changelog=off");
  }
  // The sinks first: their cluster is where the job's output goes. Then the sources.
  for (Transformation::Kind kind : {Transformation::Kind::kSink, Transformation::Kind::kSource}) {
    for (const auto& [t, node] : spec_.graph.nodes) {
      const StateParticipantProvider* provider = t->state_participant_provider();
      if (t->kind() != kind || provider == nullptr) continue;
      Result<std::shared_ptr<CheckpointParticipant>> participant =
          provider->CreateStateParticipant(job);
      if (!participant.ok()) {
        return participant.status().WithContext(
            "--state.changelog=kafka: the state changelog's "
            "transactions on the cluster of '" +
            t->name() + "'");
      }
      if (*participant != nullptr) return participant;
    }
  }
  return Status::InvalidArgument(
      "--state.changelog=kafka (EnableChangelogStateBackend): this job has no Kafka source or "
      "sink, so it has no Kafka cluster to keep its state in. Read or write Kafka, or run with "
      "--state.changelog=off (its state then lives in the checkpoint directory only)");
}

Status JobMaster::Prepare() {
  SinkValidationContext sink_context;
  sink_context.checkpointing_enabled = spec_.checkpoint_config.IsCheckpointingEnabled();
  sink_context.checkpoint_interval_ms = spec_.checkpoint_config.GetCheckpointInterval().count();
  sink_context.checkpoint_timeout_ms = spec_.checkpoint_config.GetCheckpointTimeout().count();
  sink_context.job_name = spec_.job_name;
  for (const auto& [t, node] : spec_.graph.nodes) {
    if (t->kind() != Transformation::Kind::kSink) continue;
    Status status = t->ValidateSink(sink_context);
    if (!status.ok()) return status.WithContext("sink '" + t->name() + "'");
    std::shared_ptr<CheckpointParticipant> participant = t->GetCheckpointParticipant();
    if (participant == nullptr || participant == participant_) continue;
    if (participant_ != nullptr) {
      return Status::InvalidArgument("two sinks need to complete checkpoints (" +
                                     participant_->Name() + " and " + participant->Name() +
                                     "); one job can commit atomically to one system only");
    }
    participant_ = std::move(participant);
  }
  if (spec_.state_changelog.value_or(false) && participant_ == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(participant_, StateParticipant(sink_context));
  }
  if (spec_.state_changelog.value_or(true) && participant_ != nullptr)
    changelog_ = participant_->changelog();
  if (spec_.state_changelog.value_or(false) && changelog_ == nullptr) {
    return Status::InvalidArgument(
        "--state.changelog=kafka (EnableChangelogStateBackend): this job's checkpoints are "
        "committed by " +
        participant_->Name() +
        ", which cannot carry the state changelog. Run with --state.changelog=off (its state "
        "then lives in the checkpoint directory only)");
  }
  bool need_storage = spec_.checkpoint_config.IsCheckpointingEnabled() ||
                      ExplicitRestore().has_value() || participant_ != nullptr;
  if (need_storage) {
    SLUICE_ASSIGN_OR_RETURN(CheckpointStorage storage,
                            CheckpointStorage::Open(spec_.checkpoint_config.GetCheckpointStorage(),
                                                    spec_.job_name, spec_.instance));
    storage_ = std::make_unique<CheckpointStorage>(std::move(storage));
    // Before anything in the directory is read or removed: another live process may own it.
    SLUICE_RETURN_IF_ERROR(storage_->LockExclusively());
    // With a participant, a chk-N without _metadata may be its committed checkpoint, damaged:
    // ChooseRestore discards incomplete ones once Recover has said which one that is.
    if (participant_ == nullptr) SLUICE_RETURN_IF_ERROR(storage_->DiscardIncomplete());
    highest_checkpoint_id_ = storage_->HighestCheckpointId();
  }
  return Status::Ok();
}

std::optional<std::pair<std::string, std::string_view>> JobMaster::ExplicitRestore() const {
  if (spec_.restore.savepoint_path)
    return std::make_pair(*spec_.restore.savepoint_path, "--from-savepoint");
  if (spec_.restore.checkpoint_path)
    return std::make_pair(*spec_.restore.checkpoint_path, "--from-checkpoint");
  return std::nullopt;
}

Result<JobMaster::RestorePlan> JobMaster::LoadSnapshot(const std::filesystem::path& path) {
  SLUICE_ASSIGN_OR_RETURN(CheckpointMetadata metadata, CheckpointStorage::ReadMetadataAt(path));
  RestorePlan plan;
  std::error_code ec;
  plan.directory = std::filesystem::is_directory(path, ec) ? path : path.parent_path();
  // Every file is read (and checked) now, not while the tasks are built: what cannot be
  // restored is found before anything starts, and said once, for the whole checkpoint.
  SLUICE_ASSIGN_OR_RETURN(plan.files, CheckpointStorage::ReadStateFiles(plan.directory, metadata));
  plan.metadata = std::move(metadata);
  return plan;
}

Status JobMaster::CannotRestore(int64_t id, const std::filesystem::path& directory,
                                const Status& problem, bool committed) {
  UnusableCheckpoint unusable;
  unusable.id = id;
  unusable.directory = directory;
  unusable.problem = problem;
  if (committed) unusable.committed_by = participant_->Name();
  // An older checkpoint to offer: for an exactly-once job only a committed one matches the
  // output in Kafka (an uncommitted one's epoch was aborted).
  if (Result<std::vector<CheckpointDirInfo>> infos =
          CheckpointStorage::Inspect(directory.parent_path(), /*verify_state_files=*/false);
      infos.ok()) {
    for (const CheckpointDirInfo& info : *infos) {
      if (info.id >= id || info.state != CheckpointDirInfo::State::kUsable) continue;
      if (committed && info.metadata->status != CheckpointMetadata::Status::kCommitted) continue;
      unusable.older = info.directory;
    }
  }
  StateChangelog* offered = participant_ != nullptr ? participant_->changelog() : nullptr;
  unusable.changelog_holds_it =
      changelog_ == nullptr && offered != nullptr && offered->Covered().has_value();
  unusable.changelog_possible = offered != nullptr;
  return UnusableCheckpointError(unusable);
}

Result<std::optional<JobMaster::RestorePlan>> JobMaster::ChooseRestore(int32_t attempt) {
  std::optional<CheckpointCompletion> committed;
  if (participant_ != nullptr) {
    JobInstanceInfo info{spec_.job_name, spec_.instance, attempt,
                         storage_->instance_dir().string()};
    Result<std::optional<CheckpointCompletion>> recovered = participant_->Recover(info);
    if (!recovered.ok()) return recovered.status().WithContext(participant_->Name() + " recovery");
    committed = *recovered;
    // Now that the committed checkpoint is known, the incomplete ones can go (Prepare left
    // them): never the committed one, which lacks _metadata only if it was damaged.
    SLUICE_RETURN_IF_ERROR(storage_->DiscardIncomplete(
        committed ? std::optional<int64_t>(committed->id.value()) : std::nullopt));
  }
  // Until this run completes a checkpoint of its own, a restart starts where the first attempt
  // did (Flink restores the savepoint again): the newest checkpoint in storage may belong to
  // an earlier run that --fresh, --from-savepoint or --from-checkpoint asked to ignore.
  const bool as_first_attempt = attempt == 0 || completed_checkpoints_ == 0;
  if (as_first_attempt) {
    if (std::optional<std::pair<std::string, std::string_view>> given = ExplicitRestore()) {
      Result<RestorePlan> plan = LoadSnapshot(given->first);
      // The path is the user's: name the flag that gave it. A missing file stays missing.
      if (!plan.ok()) {
        return RestoreReadFailure(plan.status())
            .WithContext(std::string(given->second) + "=" + given->first);
      }
      return std::optional<RestorePlan>(std::move(plan).value());
    }
  }
  if (as_first_attempt && spec_.restore.fresh) return std::optional<RestorePlan>();
  if (storage_ == nullptr) return std::optional<RestorePlan>();
  if (participant_ != nullptr) {
    // Only what the participant committed counts; newer checkpoints were never committed.
    if (!committed) {
      SLUICE_RETURN_IF_ERROR(storage_->DiscardNewerThan(0));
      return std::optional<RestorePlan>();
    }
    SLUICE_RETURN_IF_ERROR(storage_->DiscardNewerThan(committed->id.value()));
    const std::optional<std::vector<ChangelogOperator>> covered =
        changelog_ != nullptr ? changelog_->Covered() : std::nullopt;
    const std::filesystem::path directory = committed->storage_path;
    std::error_code missing;
    if (covered && !std::filesystem::exists(directory, missing) && !missing) {
      SLUICE_LOG_INFO(
          "job '{}': checkpoint {} is not in the local checkpoint directory ({} does not "
          "exist); restoring it from the state changelog in Kafka",
          spec_.job_name, committed->id.value(), committed->storage_path);
      SLUICE_ASSIGN_OR_RETURN(RestorePlan plan, LoadFromChangelog(*committed, *covered));
      return std::optional<RestorePlan>(std::move(plan));
    }
    // With the changelog the local directory is a cache of what Kafka holds: use it only when
    // it is the committed checkpoint and every file of it reads back intact; otherwise rebuild
    // from the changelog. Without it, the local files are all there is.
    Result<RestorePlan> local = LoadSnapshot(directory);
    Status usable = local.status();
    if (usable.ok() && local->metadata.checkpoint_id != committed->id.value()) {
      usable = Status::Corruption(directory.string() + " holds checkpoint " +
                                  std::to_string(local->metadata.checkpoint_id));
    }
    if (usable.ok()) {
      local->committed = true;
      SLUICE_LOG_INFO("job '{}' restores checkpoint {} from the local checkpoint directory",
                      spec_.job_name, committed->id.value());
      return std::optional<RestorePlan>(std::move(local).value());
    }
    if (!covered)
      return CannotRestore(committed->id.value(), directory, usable, /*committed=*/true);
    SLUICE_LOG_WARN(
        "job '{}': the local copy of checkpoint {} ({}) cannot be used: {}; restoring it from "
        "the state changelog in Kafka",
        spec_.job_name, committed->id.value(), committed->storage_path, usable.ToString());
    SLUICE_ASSIGN_OR_RETURN(RestorePlan plan, LoadFromChangelog(*committed, *covered));
    return std::optional<RestorePlan>(std::move(plan));
  }
  // The newest complete checkpoint (Prepare discarded incomplete ones). One whose _metadata
  // or files cannot be used stops the job: falling back to older state than the user expects
  // would be worse.
  SLUICE_ASSIGN_OR_RETURN(std::vector<CheckpointDirInfo> infos,
                          CheckpointStorage::Inspect(storage_->instance_dir(), false));
  for (auto it = infos.rbegin(); it != infos.rend(); ++it) {
    if (it->state == CheckpointDirInfo::State::kIncomplete) continue;
    if (it->state != CheckpointDirInfo::State::kUsable)
      return CannotRestore(it->id, it->directory, it->problem, /*committed=*/false);
    Result<RestorePlan> plan = LoadSnapshot(it->directory);
    if (!plan.ok()) return CannotRestore(it->id, it->directory, plan.status(), false);
    return std::optional<RestorePlan>(std::move(plan).value());
  }
  return std::optional<RestorePlan>();
}

Result<JobMaster::RestorePlan> JobMaster::LoadFromChangelog(
    const CheckpointCompletion& committed, const std::vector<ChangelogOperator>& covered) {
  RestorePlan plan;
  plan.directory = committed.storage_path;
  plan.committed = true;
  plan.metadata.checkpoint_id = committed.id.value();
  plan.metadata.job_name = spec_.job_name;
  plan.metadata.instance = spec_.instance;
  plan.metadata.trigger_time_ms = committed.trigger_time_ms;
  std::set<std::string> uids;
  for (const auto& [t, node] : spec_.graph.nodes) uids.insert(node.uid);
  std::map<std::string, ChangelogState>& states = plan.changelog.emplace();
  const auto started = std::chrono::steady_clock::now();
  int64_t records = 0;
  for (const ChangelogOperator& op : covered) {
    OperatorStateMeta& meta = plan.metadata.operators.emplace_back();
    meta.uid = op.uid;
    meta.name = op.name;
    meta.parallelism = op.parallelism;
    meta.max_parallelism = op.max_parallelism;
    // State of an operator the job no longer has is not read: CheckRestoreMatchesJob refuses
    // it or, with --allow-non-restored-state, drops it.
    if (uids.count(op.uid) == 0) continue;
    std::vector<int32_t> partitions(static_cast<size_t>(op.partitions()));
    for (int32_t p = 0; p < op.partitions(); ++p) partitions[static_cast<size_t>(p)] = p;
    const std::string what = "restoring operator '" + op.name + "' (uid " + op.uid +
                             ") of checkpoint " + std::to_string(committed.id.value()) + " from " +
                             changelog_->TopicFor(op.uid);
    // Key group g is partition g; operator state sits in partition 0 beside key group 0, and
    // each fold skips the other's records.
    std::vector<std::unique_ptr<KeyGroupChangelogFold>> key_groups;
    if (op.keyed) {
      for (int32_t kg = 0; kg < op.max_parallelism; ++kg)
        key_groups.push_back(std::make_unique<KeyGroupChangelogFold>(kg));
    }
    OperatorStateChangelogFold operator_state;
    std::optional<std::string> bad_record;
    Status read = changelog_->Read(op.uid, partitions, [&](const ChangelogRecord& record) {
      if (bad_record) return;
      ++records;
      try {
        if (record.partition == 0) operator_state.Add(record.key, record.value);
        if (op.keyed) {
          key_groups[static_cast<size_t>(record.partition)]->AddCopy(record.key, record.value);
        }
      } catch (const SerializationError& e) {
        bad_record = "partition " + std::to_string(record.partition) + ": " + e.what();
      }
    });
    // A missing topic stays missing: not a failure a restart fixes (RestoreReadFailure).
    if (!read.ok()) return RestoreReadFailure(read.WithContext(what));
    try {
      if (bad_record) throw SerializationError(*bad_record);
      ChangelogState& state = states[op.uid];
      if (std::optional<OperatorStateRestoreSections> sections = operator_state.Finish())
        state.operator_sections = std::move(sections->sections);
      for (const auto& fold : key_groups) {
        KeyGroupRestoreBytes bytes = fold->Finish();
        if (fold->live_entries() == 0 && bytes.extras.empty()) continue;
        state.key_groups.emplace(fold->key_group(),
                                 std::make_pair(std::move(bytes.keyed), std::move(bytes.extras)));
      }
    } catch (const SerializationError& e) {
      // Bytes in the committed changelog that do not decode decode no better after a restart.
      return Status::Corruption(what + ": " + e.what());
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  SLUICE_LOG_INFO(
      "job '{}' restores checkpoint {} from the state changelog in Kafka: {} records in {:.2f} s",
      spec_.job_name, committed.id.value(), records, seconds);
  return plan;
}

Status JobMaster::PrepareChangelog(const RestorePlan* plan) {
  changelog_in_full_.clear();
  if (changelog_ == nullptr) return Status::Ok();
  const bool continues = plan != nullptr && plan->committed;
  std::vector<ChangelogOperator> operators;
  for (const auto& [t, node] : spec_.graph.nodes) {
    ChangelogOperator& op = operators.emplace_back();
    op.uid = node.uid;
    op.name = t->name();
    op.keyed = t->keyed();
    op.parallelism = node.parallelism;
    op.max_parallelism = spec_.graph.max_parallelism;
  }
  // Operators whose log starts afresh (their state restored from files the changelog does not
  // hold: a savepoint, a checkpoint written with the changelog off; or a damaged log) write all
  // of their state at the next checkpoint.
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> afresh,
                          changelog_->Prepare(operators, continues));
  changelog_in_full_.insert(afresh.begin(), afresh.end());
  return Status::Ok();
}

Status JobMaster::CheckRestoreMatchesJob(const RestorePlan& plan) const {
  std::set<std::string> uids;
  for (const auto& [t, node] : spec_.graph.nodes) uids.insert(node.uid);
  for (const OperatorStateMeta& op : plan.metadata.operators) {
    if (uids.count(op.uid) == 0 && !spec_.restore.allow_non_restored_state) {
      return Status::FailedPrecondition(
          "checkpoint " + plan.directory.string() + " holds state of operator uid '" + op.uid +
          "' (" + op.name +
          "), which this job does not have; give the operator its old uid, or pass "
          "--allow-non-restored-state to drop that state");
    }
    if (op.max_parallelism != spec_.graph.max_parallelism && uids.count(op.uid) != 0) {
      return Status::FailedPrecondition(
          "operator '" + op.uid + "' was checkpointed with max parallelism " +
          std::to_string(op.max_parallelism) + ", but the job now has " +
          std::to_string(spec_.graph.max_parallelism) +
          "; keyed state cannot move between different numbers of key groups "
          "(SetMaxParallelism)");
    }
  }
  return Status::Ok();
}

Result<std::optional<OperatorRestore>> JobMaster::RestoreFor(
    RestorePlan& plan, const std::string& uid, int32_t subtask,
    std::optional<std::pair<int32_t, int32_t>> key_groups) {
  const OperatorStateMeta* op = nullptr;
  for (const OperatorStateMeta& candidate : plan.metadata.operators) {
    if (candidate.uid == uid) op = &candidate;
  }
  if (op == nullptr) return std::optional<OperatorRestore>();
  (void)subtask;
  OperatorRestore restore;
  if (plan.changelog) {
    auto it = plan.changelog->find(uid);
    if (it == plan.changelog->end()) return std::optional<OperatorRestore>();
    const ChangelogState& state = it->second;
    for (const std::string& section : state.operator_sections)
      restore.operator_sections.push_back(section);
    if (key_groups) {
      for (auto kg = state.key_groups.lower_bound(key_groups->first);
           kg != state.key_groups.end() && kg->first <= key_groups->second; ++kg) {
        restore.key_groups.push_back({kg->first, kg->second.first, kg->second.second});
      }
    }
    return std::optional<OperatorRestore>(std::move(restore));
  }
  for (const SubtaskStateMeta& meta : op->subtasks) {
    if (meta.file.empty()) continue;
    auto it = plan.files.find(meta.file);
    if (it == plan.files.end()) {
      Result<std::string> bytes = CheckpointStorage::ReadStateFile(plan.directory, meta);
      if (!bytes.ok()) return RestoreReadFailure(bytes.status());
      it = plan.files.emplace(meta.file, std::move(*bytes)).first;
    }
    std::string_view bytes = it->second;
    SLUICE_ASSIGN_OR_RETURN(SubtaskStateHeader header, DecodeSubtaskHeader(bytes, meta.file));
    restore.operator_sections.push_back(header.operator_section);
    if (!key_groups || !meta.key_groups) continue;
    int32_t first = std::max(key_groups->first, meta.key_groups->start);
    int32_t last = std::min(key_groups->second, meta.key_groups->end);
    for (int32_t kg = first; kg <= last; ++kg) {
      size_t index = static_cast<size_t>(kg - meta.key_groups->start);
      if (index >= meta.key_group_offsets.size()) {
        return Status::Corruption("checkpoint metadata of " + meta.file +
                                  " lacks the offset of key group " + std::to_string(kg));
      }
      SLUICE_ASSIGN_OR_RETURN(
          KeyGroupRecord record,
          DecodeKeyGroupAt(bytes, header, meta.key_group_offsets[index], kg, meta.file));
      std::string_view extras = record.extras;
      if (record.upgraded_extras) {
        extras = restore.upgraded.emplace_back(std::move(*record.upgraded_extras));
      }
      restore.key_groups.push_back({kg, record.keyed, extras});
    }
  }
  return std::optional<OperatorRestore>(std::move(restore));
}

Status JobMaster::BuildTasks(int32_t attempt, RestorePlan* plan) {
  const JobGraph& graph = spec_.graph;
  // channels[edge][producer subtask][consumer subtask]
  std::map<int32_t, std::vector<std::vector<std::shared_ptr<detail::ChannelBase>>>> channels;
  for (const JobEdge& edge : graph.edges) {
    if (edge.chained) continue;
    int32_t up = graph.node(edge.producer).parallelism;
    int32_t down = graph.node(edge.consumer).parallelism;
    auto& matrix = channels[edge.id];
    matrix.assign(static_cast<size_t>(up),
                  std::vector<std::shared_ptr<detail::ChannelBase>>(static_cast<size_t>(down)));
    for (int32_t a = 0; a < up; ++a) {
      for (int32_t b = 0; b < down; ++b) {
        if (edge.kind == PartitionerKind::kForward && a != b) continue;
        auto channel = edge.records()->CreateChannel(4);
        matrix[static_cast<size_t>(a)][static_cast<size_t>(b)] = channel;
        channels_.push_back(channel);
      }
    }
  }

  int32_t index = 0;
  for (const JobVertex& vertex : graph.vertices) {
    for (int32_t s = 0; s < vertex.parallelism; ++s) {
      Task::Config config;
      config.index = index++;
      config.name = vertex.name + " (" + std::to_string(s + 1) + "/" +
                    std::to_string(vertex.parallelism) + ")";
      config.info.job_name = spec_.job_name;
      config.info.subtask_index = s;
      config.info.parallelism = vertex.parallelism;
      config.info.max_parallelism = graph.max_parallelism;
      config.info.attempt_number = attempt;
      config.info.run_id = run_id_;
      config.info.checkpointing_enabled = spec_.checkpoint_config.IsCheckpointingEnabled();
      config.auto_watermark_interval_ms = spec_.auto_watermark_interval_ms;
      config.state_backend = spec_.state_backend;
      config.changelog = changelog_;
      auto task =
          std::make_unique<Task>(std::move(config), &spec_.parameters, &metrics_, nullptr, this);

      std::map<const Transformation*, detail::StreamOperator*> ops;
      for (const Transformation* t : vertex.nodes) {
        const JobNode& node = graph.node(t);
        std::optional<std::pair<int32_t, int32_t>> key_groups;
        if (t->keyed()) {
          KeyGroupRange range =
              ComputeKeyGroupRangeForOperatorIndex(graph.max_parallelism, node.parallelism, s);
          key_groups = std::make_pair(range.start, range.end);
        }
        Result<OperatorSlot*> added = task->AddOperator(
            node.uid, t->name(), t->id(), t->CreateOperator(), node.parallelism, key_groups);
        if (!added.ok()) return added.status();
        OperatorSlot& slot = **added;
        slot.changelog_in_full = changelog_in_full_.count(node.uid) != 0;
        if (plan != nullptr) {
          Result<std::optional<OperatorRestore>> restore =
              RestoreFor(*plan, node.uid, s, key_groups);
          if (!restore.ok()) return restore.status();
          slot.restore = std::move(*restore);
        }
        ops[t] = slot.op.get();
      }
      for (const Transformation* t : vertex.nodes) {
        const JobNode& node = graph.node(t);
        std::vector<detail::StreamOperator*> chained;
        std::vector<detail::RecordWriterBase*> writers;
        std::vector<Transformation::SideOutputConsumers> side_outputs;
        for (int32_t e : node.out_edges) {
          const JobEdge& edge = graph.edges[static_cast<size_t>(e)];
          std::vector<detail::StreamOperator*>* edge_chained = &chained;
          std::vector<detail::RecordWriterBase*>* edge_writers = &writers;
          if (edge.side_output != nullptr) {
            auto side = std::find_if(side_outputs.begin(), side_outputs.end(), [&](const auto& c) {
              return c.side_output == edge.side_output;
            });
            if (side == side_outputs.end()) {
              side = side_outputs.insert(side_outputs.end(), {edge.side_output, {}, {}});
            }
            edge_chained = &side->chained;
            edge_writers = &side->writers;
          }
          if (edge.chained) {
            edge_chained->push_back(ops.at(edge.consumer));
            continue;
          }
          std::vector<std::shared_ptr<detail::ChannelBase>> row;
          for (const auto& channel : channels.at(edge.id)[static_cast<size_t>(s)]) {
            if (channel != nullptr) row.push_back(channel);
          }
          auto writer = edge.records()->CreateRecordWriter(edge.partitioner, edge.kind, row, s);
          edge_writers->push_back(writer.get());
          task->AddWriter(std::move(writer));
        }
        t->ConnectOutputs(ops.at(t), chained, writers, side_outputs, task->keep_alive());
      }
      const Transformation* head = vertex.nodes.front();
      detail::StreamOperator* head_op = ops.at(head);
      if (vertex.is_source) {
        auto* input = dynamic_cast<detail::TaskInput*>(head_op);
        if (input == nullptr)
          return Status::Internal("source operator '" + head->name() + "' is not a task input");
        task->SetInput(input);
      } else {
        // Per logical input (two for a two-input head), the channels of every edge feeding it.
        Transformation::InputChannels inputs(head->kind() == Transformation::Kind::kTwoInput ? 2
                                                                                             : 1);
        for (int32_t e : graph.node(head).in_edges) {
          const JobEdge& edge = graph.edges[static_cast<size_t>(e)];
          const auto& matrix = channels.at(e);
          for (const auto& row : matrix) {
            if (row[static_cast<size_t>(s)] != nullptr)
              inputs.at(static_cast<size_t>(edge.input)).push_back(row[static_cast<size_t>(s)]);
          }
        }
        auto input = head->CreateNetworkInput(head_op, inputs, task.get());
        detail::TaskInput* raw = input.get();
        task->SetInput(raw, std::move(input));
      }
      tasks_.push_back(std::move(task));
    }
  }
  return Status::Ok();
}

void JobMaster::StopAttempt() {
  std::shared_ptr<CheckpointCoordinator> coordinator;
  {
    MutexLock lock(mutex_);
    coordinator = coordinator_;
  }
  if (coordinator != nullptr) {
    coordinator->Stop();
    completed_checkpoints_ += coordinator->completed_checkpoints();
    failed_checkpoints_ += coordinator->failed_checkpoints();
    highest_checkpoint_id_ =
        std::max(highest_checkpoint_id_, coordinator->next_checkpoint_id() - 1);
  }
  for (auto& task : tasks_) task->Cancel();
  for (auto& channel : channels_) channel->Cancel();
  for (auto& task : tasks_) task->Join();
  {
    MutexLock lock(mutex_);
    coordinator_.reset();
  }
  tasks_.clear();
  channels_.clear();
}

JobMaster::AttemptEnd JobMaster::RunAttempt(int32_t attempt, Status& cause) {
  Result<std::optional<RestorePlan>> plan = ChooseRestore(attempt);
  if (!plan.ok()) {
    cause = plan.status();
    return AttemptEnd::kFailed;
  }
  restored_checkpoint_.reset();
  if (plan->has_value()) {
    Status matches = CheckRestoreMatchesJob(**plan);
    if (!matches.ok()) {
      cause = matches;
      return AttemptEnd::kFailed;
    }
    restored_checkpoint_ = (*plan)->metadata.checkpoint_id;
    highest_checkpoint_id_ = std::max(highest_checkpoint_id_, (*plan)->metadata.checkpoint_id);
    if (!(*plan)->changelog) {  // LoadFromChangelog said where it came from
      SLUICE_LOG_INFO("job '{}' restores checkpoint {} from {}", spec_.job_name,
                      (*plan)->metadata.checkpoint_id, (*plan)->directory.string());
    }
  }
  if (Status prepared = PrepareChangelog(plan->has_value() ? &**plan : nullptr); !prepared.ok()) {
    cause = prepared.WithContext("state changelog");
    return AttemptEnd::kFailed;
  }
  {
    MutexLock lock(mutex_);
    failure_.reset();
  }
  Status built = BuildTasks(attempt, plan->has_value() ? &**plan : nullptr);
  if (!built.ok()) {
    tasks_.clear();
    channels_.clear();
    cause = built;
    return AttemptEnd::kFailed;
  }
  std::vector<CheckpointableTask*> task_pointers;
  task_pointers.reserve(tasks_.size());
  for (auto& task : tasks_) task_pointers.push_back(task.get());
  std::shared_ptr<CheckpointCoordinator> coordinator;
  if (storage_ != nullptr) {
    CheckpointCoordinator::Options options;
    const CheckpointConfig& config = spec_.checkpoint_config;
    options.interval = config.IsCheckpointingEnabled() ? config.GetCheckpointInterval()
                                                       : std::chrono::milliseconds(0);
    options.timeout = config.GetCheckpointTimeout();
    options.min_pause = config.GetMinPauseBetweenCheckpoints();
    options.tolerable_failures = config.GetTolerableCheckpointFailureNumber();
    options.retained = std::max(1, config.GetNumRetainedCheckpoints());
    options.job_name = spec_.job_name;
    options.instance = spec_.instance;
    if (changelog_ != nullptr) {
      for (const auto& [t, node] : spec_.graph.nodes) {
        options.properties[std::string(kChangelogTopicProperty) + node.uid] =
            changelog_->TopicFor(node.uid);
      }
    }
    options.max_parallelism = spec_.graph.max_parallelism;
    coordinator = std::make_shared<CheckpointCoordinator>(
        options, storage_.get(), participant_, task_pointers, highest_checkpoint_id_ + 1,
        [this](Status status) { FailAttempt(std::move(status)); });
  }
  for (auto& task : tasks_) task->SetCheckpointAcknowledger(coordinator.get());
  {
    MutexLock lock(mutex_);
    coordinator_ = coordinator;
    running_tasks_ = static_cast<int32_t>(tasks_.size());
    status_ = JobStatus::kRunning;
  }
  for (auto& task : tasks_) task->Start();
  if (coordinator != nullptr) coordinator->Start();

  AttemptEnd end = AttemptEnd::kFinished;
  MutexLock lock(mutex_);
  while (true) {
    TakeSignal();
    if (failure_) {
      cause = *failure_;
      end = AttemptEnd::kFailed;
      break;
    }
    if (cancel_requested_) {
      end = AttemptEnd::kCanceled;
      break;
    }
    if (stop_requested_) {
      stop_requested_ = false;
      const bool by_signal = std::exchange(stop_by_signal_, false);
      // Read under the lock: another StopWithSavepoint may write it while the savepoint runs.
      const std::filesystem::path directory = SavepointDirectory(stop_savepoint_directory_);
      if (coordinator == nullptr) {
        stop_outcome_ = Status::FailedPrecondition(
            "stop-with-savepoint needs checkpoint storage; enable checkpointing");
        cv_.NotifyAll();
        if (by_signal) {
          // Nothing to save: a job without checkpoints starts over anyway.
          SLUICE_LOG_INFO(
              "SIGTERM: job '{}' has no checkpoint storage (checkpointing is off), so there is "
              "no savepoint to take: the job is cancelled",
              spec_.job_name);
          end = AttemptEnd::kCanceled;
          break;
        }
        SLUICE_LOG_WARN("stop-with-savepoint failed, the job keeps running: {}",
                        stop_outcome_->status().ToString());
        continue;
      }
      SLUICE_LOG_INFO("job '{}' stopping with a savepoint ({}), waiting up to {} for it",
                      spec_.job_name, by_signal ? "SIGTERM" : "StopWithSavepoint",
                      FormatDuration(spec_.checkpoint_config.GetSavepointTimeout()));
      Result<std::string> savepoint = AwaitStopSavepoint(*coordinator, directory);
      stop_outcome_ = savepoint;
      cv_.NotifyAll();
      if (savepoint.ok()) {
        SLUICE_LOG_INFO("job '{}' stopped with savepoint {}", spec_.job_name, *savepoint);
        end = AttemptEnd::kStoppedWithSavepoint;
        break;
      }
      if (by_signal) {
        // The process is asked to end: it does, without the savepoint, and says so.
        cause = StopFailed(savepoint.status());
        end = AttemptEnd::kStopFailed;
        break;
      }
      SLUICE_LOG_WARN("stop-with-savepoint failed, the job keeps running: {}",
                      savepoint.status().ToString());
      continue;
    }
    if (running_tasks_ == 0) {
      end = AttemptEnd::kFinished;
      break;
    }
    cv_.WaitFor(mutex_, std::chrono::milliseconds(100));  // also polls for signals
  }
  lock.Unlock();
  StopAttempt();
  return end;
}

Result<std::string> JobMaster::AwaitStopSavepoint(CheckpointCoordinator& coordinator,
                                                  const std::filesystem::path& directory) {
  std::future<Result<std::string>> savepoint;
  {
    // RequestSavepoint takes the coordinator's lock; never nest it in ours.
    MutexUnlock unlocked(mutex_);
    savepoint = coordinator.RequestSavepoint(directory);
  }
  const std::chrono::milliseconds timeout = spec_.checkpoint_config.GetSavepointTimeout();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    TakeSignal();  // a second signal never returns here: its handler ends the process
    if (savepoint.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
      return savepoint.get();
    // A failed task never acknowledges the savepoint: waiting on would only run into the
    // timeout. The attempt's failure is still handled by the caller's loop.
    if (failure_) {
      return Status(failure_->code(),
                    "the job failed while its savepoint was being taken: " + failure_->ToString());
    }
    if (cancel_requested_)
      return Status::Cancelled("the job was cancelled while its savepoint was being taken");
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      // An abandoned savepoint is aborted with the attempt (StopAttempt), or, if the job keeps
      // running, by the checkpoint timeout.
      return Status::TimedOut("the savepoint was not complete within " + FormatDuration(timeout) +
                              " (--savepoint-timeout, CheckpointConfig::SetSavepointTimeout)");
    }
    // The future cannot notify cv_: poll it, as the loop polls for signals.
    cv_.WaitUntil(mutex_, std::min(deadline, now + std::chrono::milliseconds(100)));
  }
}

JobExecutionResult JobMaster::Run() {
  SignalScope signals(spec_.handle_signals);
  auto start = std::chrono::steady_clock::now();
  JobExecutionResult result;
  result.job_name = spec_.job_name;
  Status prepared = Prepare();
  if (!prepared.ok()) {
    result.status = JobStatus::kFailed;
    result.failure = prepared;
    SetStatus(JobStatus::kFailed);
    if (storage_ != nullptr) storage_->Unlock();
    return result;
  }
  int32_t restarts = 0;
  RestartBackoff backoff(spec_.restart_strategy);
  for (int32_t attempt = 0;; ++attempt) {
    Status cause;
    AttemptEnd end = RunAttempt(attempt, cause);
    if (restored_checkpoint_) result.restored_checkpoint = restored_checkpoint_;
    if (end == AttemptEnd::kFinished) {
      result.status = JobStatus::kFinished;
      break;
    }
    if (end == AttemptEnd::kStoppedWithSavepoint) {
      result.status = JobStatus::kFinished;
      MutexLock lock(mutex_);
      result.savepoint_path = stop_outcome_->value();
      break;
    }
    if (end == AttemptEnd::kCanceled) {
      result.status = JobStatus::kCanceled;
      break;
    }
    if (end == AttemptEnd::kStopFailed) {
      result.status = JobStatus::kFailed;
      result.failure = cause;
      break;
    }
    SLUICE_LOG_WARN("job '{}' attempt {} failed: {}", spec_.job_name, attempt, cause.ToString());
    // The code alone decides whether a restart can help (IsRestartable, status.h): a fenced,
    // unauthenticated or misconfigured job stops at its first failure, whatever the strategy.
    const bool restartable = IsRestartable(cause);
    std::optional<std::chrono::milliseconds> delay =
        restartable ? backoff.OnFailure(Clock::System().Now()) : std::nullopt;
    if (!delay || !restartable) {
      if (!restartable) {
        SLUICE_LOG_ERROR("job '{}' is not restarted: no restart can fix a failure with code {}",
                         spec_.job_name, StatusCodeName(cause.code()));
      }
      result.status = JobStatus::kFailed;
      result.failure =
          restarts > 0 && restartable
              ? cause.WithContext("the job failed after " + std::to_string(restarts) + " restarts")
              : cause;
      break;
    }
    SetStatus(JobStatus::kRestarting);
    bool canceled = false;
    bool stopped = false;
    {
      MutexLock lock(mutex_);
      const auto restart_at = std::chrono::steady_clock::now() + *delay;
      while (true) {
        TakeSignal();
        canceled = cancel_requested_;
        // Only SIGTERM gets here: StopWithSavepoint refuses a job that is not running.
        stopped = std::exchange(stop_requested_, false);
        stop_by_signal_ = false;
        const auto waited = std::chrono::steady_clock::now();
        if (canceled || stopped || waited >= restart_at) break;
        cv_.WaitUntil(mutex_, std::min(restart_at, waited + std::chrono::milliseconds(100)));
      }
    }
    if (canceled) {
      result.status = JobStatus::kCanceled;
      break;
    }
    if (stopped) {
      // No task runs, so nothing can take a savepoint: stop now rather than restart first.
      result.status = JobStatus::kFailed;
      result.failure =
          StopFailed(Status(cause.code(),
                            "the job is restarting after a failure, so no savepoint can be "
                            "taken; the failure: " +
                                cause.ToString()));
      break;
    }
    ++restarts;
    SLUICE_LOG_INFO("job '{}' restarting (restart {}, after waiting {})", spec_.job_name, restarts,
                    FormatDuration(*delay));
  }
  {
    MutexLock lock(mutex_);
    status_ = result.status;
    if (!stop_outcome_) stop_outcome_ = Status::FailedPrecondition("the job ended");
  }
  cv_.NotifyAll();
  if (participant_ != nullptr) participant_->Close();
  // The job has ended: another process may take the directory now, even while a JobClient
  // keeps this JobMaster alive.
  if (storage_ != nullptr) storage_->Unlock();
  result.restarts = restarts;
  result.completed_checkpoints = completed_checkpoints_;
  result.failed_checkpoints = failed_checkpoints_;
  result.runtime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  result.counters = metrics_.Snapshot();
  return result;
}

}  // namespace sluice::internal
