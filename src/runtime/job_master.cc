#include "runtime/job_master.h"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <set>

#include "core/log.h"
#include "state/changelog_fold.h"
#include "state/key_group_assignment.h"
#include "state/subtask_state_file.h"

namespace sluice::internal {
namespace {

// SIGTERM stops with a savepoint, SIGINT cancels (DESIGN.md section 4). The handlers only
// record the signal; the job master's wait loop acts on it.
std::atomic<int> g_pending_signal{0};

extern "C" void RecordSignal(int signal) { g_pending_signal.store(signal); }

class SignalScope {
 public:
  explicit SignalScope(bool enabled) : enabled_(enabled) {
    if (!enabled_) return;
    g_pending_signal.store(0);
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

JobMaster::JobMaster(JobSpec spec) : spec_(std::move(spec)) {}

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
  cv_.NotifyAll();
  while (!stop_outcome_.has_value()) cv_.Wait(mutex_);
  return *stop_outcome_;
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
  if (spec_.state_changelog.value_or(true) && participant_ != nullptr)
    changelog_ = participant_->changelog();
  if (spec_.state_changelog.value_or(false) && changelog_ == nullptr) {
    return Status::InvalidArgument(
        "--state.changelog=kafka (EnableChangelogStateBackend): this job has no EXACTLY_ONCE "
        "Kafka sink, whose transactions carry the state changelog. Give it one, or run with "
        "--state.changelog=off (its state then lives in the checkpoint directory only)");
  }
  bool need_storage = spec_.checkpoint_config.IsCheckpointingEnabled() ||
                      spec_.restore.savepoint_path.has_value() || participant_ != nullptr;
  if (need_storage) {
    SLUICE_ASSIGN_OR_RETURN(CheckpointStorage storage,
                            CheckpointStorage::Open(spec_.checkpoint_config.GetCheckpointStorage(),
                                                    spec_.job_name, spec_.instance));
    storage_ = std::make_unique<CheckpointStorage>(std::move(storage));
    SLUICE_RETURN_IF_ERROR(storage_->DiscardIncomplete());
    std::vector<int64_t> existing = storage_->ListCompleted();
    if (!existing.empty()) highest_checkpoint_id_ = existing.back();
  }
  return Status::Ok();
}

Result<std::optional<JobMaster::RestorePlan>> JobMaster::ChooseRestore(int32_t attempt) {
  std::optional<CheckpointCompletion> committed;
  if (participant_ != nullptr) {
    JobInstanceInfo info{spec_.job_name, spec_.instance, attempt,
                         storage_->instance_dir().string()};
    Result<std::optional<CheckpointCompletion>> recovered = participant_->Recover(info);
    if (!recovered.ok()) return recovered.status().WithContext(participant_->Name() + " recovery");
    committed = *recovered;
  }
  auto load = [](const std::filesystem::path& path) -> Result<std::optional<RestorePlan>> {
    Result<CheckpointMetadata> metadata = CheckpointStorage::ReadMetadataAt(path);
    if (!metadata.ok()) return RestoreReadFailure(metadata.status());
    RestorePlan plan;
    plan.directory = std::filesystem::is_directory(path) ? path : path.parent_path();
    plan.metadata = std::move(*metadata);
    return std::optional<RestorePlan>(std::move(plan));
  };
  // Until this run completes a checkpoint of its own, a restart starts where the first attempt
  // did (Flink restores the savepoint again): the newest checkpoint in storage may belong to
  // an earlier run that --fresh or --from-savepoint asked to ignore.
  const bool as_first_attempt = attempt == 0 || completed_checkpoints_ == 0;
  if (as_first_attempt && spec_.restore.savepoint_path) return load(*spec_.restore.savepoint_path);
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
    if (covered && !std::filesystem::exists(committed->storage_path)) {
      SLUICE_LOG_INFO(
          "job '{}': checkpoint {} is not in the local checkpoint directory ({} does not "
          "exist); restoring it from the state changelog in Kafka",
          spec_.job_name, committed->id.value(), committed->storage_path);
      SLUICE_ASSIGN_OR_RETURN(RestorePlan plan, LoadFromChangelog(*committed, *covered));
      return std::optional<RestorePlan>(std::move(plan));
    }
    Result<std::optional<RestorePlan>> local = load(committed->storage_path);
    if (!covered) {
      if (local.ok() && *local) (*local)->committed = true;
      return local;
    }
    // The local directory is a cache of what Kafka holds: use it only when it is the committed
    // checkpoint and every file of it reads back intact; otherwise rebuild from the changelog.
    Status usable = local.ok() ? Status::Ok() : local.status();
    if (usable.ok() && (*local)->metadata.checkpoint_id != committed->id.value()) {
      usable = Status::FailedPrecondition("it holds checkpoint " +
                                          std::to_string((*local)->metadata.checkpoint_id));
    }
    if (usable.ok()) {
      RestorePlan& plan = **local;
      for (const OperatorStateMeta& op : plan.metadata.operators) {
        for (const SubtaskStateMeta& meta : op.subtasks) {
          if (meta.file.empty() || plan.files.count(meta.file) != 0) continue;
          Result<std::string> bytes = CheckpointStorage::ReadStateFile(plan.directory, meta);
          if (!bytes.ok()) {
            usable = bytes.status();
            break;
          }
          plan.files.emplace(meta.file, std::move(*bytes));
        }
        if (!usable.ok()) break;
      }
    }
    if (usable.ok()) {
      (*local)->committed = true;
      SLUICE_LOG_INFO("job '{}' restores checkpoint {} from the local checkpoint directory",
                      spec_.job_name, committed->id.value());
      return local;
    }
    SLUICE_LOG_WARN(
        "job '{}': the local copy of checkpoint {} ({}) cannot be used: {}; restoring it from "
        "the state changelog in Kafka",
        spec_.job_name, committed->id.value(), committed->storage_path, usable.ToString());
    SLUICE_ASSIGN_OR_RETURN(RestorePlan plan, LoadFromChangelog(*committed, *covered));
    return std::optional<RestorePlan>(std::move(plan));
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<CheckpointMetadata> latest, storage_->LatestCompleted());
  if (!latest.has_value()) return std::optional<RestorePlan>();
  return load(storage_->CheckpointDir(latest->checkpoint_id));
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
        std::vector<std::shared_ptr<detail::ChannelBase>> inputs;
        for (int32_t e : graph.node(head).in_edges) {
          const auto& matrix = channels.at(e);
          for (const auto& row : matrix) {
            if (row[static_cast<size_t>(s)] != nullptr)
              inputs.push_back(row[static_cast<size_t>(s)]);
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
    int signal = g_pending_signal.exchange(0);
    if (signal == SIGINT) cancel_requested_ = true;
    if (signal == SIGTERM) stop_requested_ = true;
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
      // Read under the lock: another StopWithSavepoint may write it while the savepoint runs.
      const std::filesystem::path directory = SavepointDirectory(stop_savepoint_directory_);
      lock.Unlock();
      Result<std::string> savepoint =
          coordinator != nullptr
              ? coordinator->TriggerSavepoint(directory)
              : Result<std::string>(Status::FailedPrecondition(
                    "stop-with-savepoint needs checkpoint storage; enable checkpointing"));
      lock.Lock();
      stop_outcome_ = savepoint;
      cv_.NotifyAll();
      if (savepoint.ok()) {
        SLUICE_LOG_INFO("job '{}' stopped with savepoint {}", spec_.job_name, *savepoint);
        end = AttemptEnd::kStoppedWithSavepoint;
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

std::optional<std::chrono::milliseconds> JobMaster::NextRestartDelay(
    int32_t restarts, std::chrono::steady_clock::time_point last_failure) {
  const RestartStrategy& strategy = spec_.restart_strategy;
  switch (strategy.kind()) {
    case RestartStrategy::Kind::kNone:
      return std::nullopt;
    case RestartStrategy::Kind::kFixedDelay:
      if (restarts >= strategy.attempts()) return std::nullopt;
      return strategy.initial_delay();
    case RestartStrategy::Kind::kExponentialDelay: {
      (void)last_failure;
      double delay = static_cast<double>(strategy.initial_delay().count()) *
                     std::pow(strategy.multiplier(), static_cast<double>(restarts));
      delay = std::min(delay, static_cast<double>(strategy.max_delay().count()));
      return std::chrono::milliseconds(static_cast<int64_t>(delay));
    }
  }
  return std::nullopt;
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
    return result;
  }
  int32_t restarts = 0;
  int32_t backoff_step = 0;
  auto healthy_since = std::chrono::steady_clock::now();
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
    SLUICE_LOG_WARN("job '{}' attempt {} failed: {}", spec_.job_name, attempt, cause.ToString());
    // The code alone decides whether a restart can help (IsRestartable, status.h): a fenced,
    // unauthenticated or misconfigured job stops at its first failure, whatever the strategy.
    const bool restartable = IsRestartable(cause);
    // Exponential backoff starts over after a long healthy run, as in Flink.
    auto now = std::chrono::steady_clock::now();
    if (spec_.restart_strategy.kind() == RestartStrategy::Kind::kExponentialDelay &&
        now - healthy_since >= spec_.restart_strategy.reset_after()) {
      backoff_step = 0;
    }
    std::optional<std::chrono::milliseconds> delay = NextRestartDelay(
        spec_.restart_strategy.kind() == RestartStrategy::Kind::kExponentialDelay ? backoff_step
                                                                                  : restarts,
        now);
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
    {
      MutexLock lock(mutex_);
      const auto restart_at = std::chrono::steady_clock::now() + *delay;
      while (!cancel_requested_ && cv_.WaitUntil(mutex_, restart_at)) {
      }
      canceled = cancel_requested_;
    }
    if (canceled) {
      result.status = JobStatus::kCanceled;
      break;
    }
    ++restarts;
    ++backoff_step;
    healthy_since = std::chrono::steady_clock::now();
    SLUICE_LOG_INFO("job '{}' restarting (restart {})", spec_.job_name, restarts);
  }
  {
    MutexLock lock(mutex_);
    status_ = result.status;
    if (!stop_outcome_) stop_outcome_ = Status::FailedPrecondition("the job ended");
  }
  cv_.NotifyAll();
  if (participant_ != nullptr) participant_->Close();
  result.restarts = restarts;
  result.completed_checkpoints = completed_checkpoints_;
  result.failed_checkpoints = failed_checkpoints_;
  result.runtime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  result.counters = metrics_.Snapshot();
  return result;
}

}  // namespace sluice::internal
