// StreamExecutionEnvironment's Execute and ExecuteAsync: the job the environment recorded
// becomes a JobGraph (src/graph) and runs under a JobMaster. Declared in the public
// <sluice/api/stream_execution_environment.h>, defined here because running a job is the
// runtime's work and the api module sits below it (src/CMakeLists.txt).
#include <sluice/api/stream_execution_environment.h>
#include <sluice/state/detail/keyed_state_backend.h>

#include <future>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/standard_flags.h"
#include "core/log.h"
#include "graph/job_graph.h"
#include "runtime/job_master.h"
#include "state/key_group_assignment.h"

namespace sluice {

Result<std::unique_ptr<internal::JobMaster>> StreamExecutionEnvironment::PrepareJob(
    const std::string& job_name, bool handle_signals) {
  if (executed_)
    return Status::FailedPrecondition("Execute() was already called on this environment");
  executed_ = true;
  if (Status status = internal::ValidateMaxParallelism(graph_.max_parallelism()); !status.ok())
    return status;
  if (check_parameters_) {
    Status unknown = parameters_.CheckAllRequested(internal::kStandardFlagNames);
    if (!unknown.ok()) return unknown;
  }
  if (static_cast<int>(restore_.fresh) + static_cast<int>(restore_.savepoint_path.has_value()) +
          static_cast<int>(restore_.checkpoint_path.has_value()) >
      1) {
    return Status::InvalidArgument(
        "SetRestoreSettings: give at most one of fresh (--fresh), savepoint_path "
        "(--from-savepoint) and checkpoint_path (--from-checkpoint): each says where the job's "
        "state comes from");
  }
  if (Status backend = detail::CheckStateBackendName(state_backend_); !backend.ok()) {
    return backend.WithContext("SetStateBackend");
  }
  std::vector<std::string> warnings;
  internal::JobGraphOptions options;
  options.default_parallelism = parallelism_;
  options.max_parallelism = graph_.max_parallelism();
  options.chaining = chaining_;
  Result<internal::JobGraph> graph = internal::BuildJobGraph(graph_.nodes(), options, warnings);
  if (!graph.ok()) return graph.status();
  if (checkpoint_config_.IsCheckpointingEnabled()) {
    for (const std::string& warning : warnings) SLUICE_LOG_WARN("{}", warning);
  }
  internal::JobSpec spec;
  spec.job_name = job_name;
  spec.graph = std::move(*graph);
  spec.checkpoint_config = checkpoint_config_;
  if (checkpoint_timeout_from_flags_)
    spec.checkpoint_config.SetCheckpointTimeout(*checkpoint_timeout_from_flags_);
  if (savepoint_timeout_from_flags_)
    spec.checkpoint_config.SetSavepointTimeout(*savepoint_timeout_from_flags_);
  // Flink 2's default: no restarts without checkpointing, exponential delay with it.
  spec.restart_strategy = restart_strategy_.value_or(checkpoint_config_.IsCheckpointingEnabled()
                                                         ? RestartStrategy::ExponentialDelay()
                                                         : RestartStrategy::NoRestart());
  spec.restore = restore_;
  spec.auto_watermark_interval_ms = auto_watermark_interval_.count();
  spec.state_backend = state_backend_;
  spec.state_changelog = state_changelog_;
  // A copy shares the record of which flags were read (ParameterTool's contract).
  spec.parameters = parameters_;
  // The graph points into the transformations: hand them to the job, which may outlive this
  // environment (ExecuteAsync). Execute() runs once, so the environment no longer needs them.
  spec.transformations =
      std::make_shared<const std::vector<std::unique_ptr<detail::Transformation>>>(
          graph_.TakeNodes());
  spec.handle_signals = handle_signals;
  return std::make_unique<internal::JobMaster>(std::move(spec));
}

namespace {

JobExecutionResult FailedBeforeStart(const std::string& job_name, Status cause) {
  JobExecutionResult result;
  result.job_name = job_name;
  result.status = JobStatus::kFailed;
  result.failure = std::move(cause);
  return result;
}

}  // namespace

JobExecutionResult StreamExecutionEnvironment::Execute(const std::string& job_name) {
  Result<std::unique_ptr<internal::JobMaster>> master = PrepareJob(job_name, handle_signals_);
  if (!master.ok()) {
    SLUICE_LOG_ERROR("job '{}' cannot start: {}", job_name, master.status().ToString());
    return FailedBeforeStart(job_name, master.status());
  }
  JobExecutionResult result = (*master)->Run();
  if (result.status == JobStatus::kFailed) {
    SLUICE_LOG_ERROR("job '{}' failed: {}", job_name, result.failure.ToString());
  }
  return result;
}

namespace {

class AsyncJobClient final : public JobClient {
 public:
  explicit AsyncJobClient(std::unique_ptr<internal::JobMaster> master)
      : master_(std::move(master)) {
    result_ = std::async(std::launch::async, [this] { return master_->Run(); }).share();
  }
  ~AsyncJobClient() override { result_.wait(); }
  JobStatus GetJobStatus() const override { return master_->status(); }
  void Cancel() override { master_->Cancel(); }
  Result<std::string> TriggerSavepoint(const std::string& directory) override {
    return master_->TriggerSavepoint(directory);
  }
  Result<std::string> StopWithSavepoint(const std::string& directory) override {
    return master_->StopWithSavepoint(directory);
  }
  JobExecutionResult WaitForResult() override { return result_.get(); }
  std::map<std::string, int64_t> GetMetrics() const override { return master_->MetricsSnapshot(); }

 private:
  std::unique_ptr<internal::JobMaster> master_;
  std::shared_future<JobExecutionResult> result_;
};

class FailedJobClient final : public JobClient {
 public:
  explicit FailedJobClient(JobExecutionResult result) : result_(std::move(result)) {}
  JobStatus GetJobStatus() const override { return JobStatus::kFailed; }
  void Cancel() override {}
  Result<std::string> TriggerSavepoint(const std::string&) override { return result_.failure; }
  Result<std::string> StopWithSavepoint(const std::string&) override { return result_.failure; }
  JobExecutionResult WaitForResult() override { return result_; }
  std::map<std::string, int64_t> GetMetrics() const override { return result_.counters; }

 private:
  JobExecutionResult result_;
};

}  // namespace

std::unique_ptr<JobClient> StreamExecutionEnvironment::ExecuteAsync(const std::string& job_name) {
  // Signals belong to the process's blocking Execute(); an async job is controlled by its client.
  Result<std::unique_ptr<internal::JobMaster>> master = PrepareJob(job_name, false);
  if (!master.ok())
    return std::make_unique<FailedJobClient>(FailedBeforeStart(job_name, master.status()));
  return std::make_unique<AsyncJobClient>(std::move(*master));
}

}  // namespace sluice
