// RuntimeContext: what a Rich function knows about where it runs, and its access to state
// and metrics (Flink's RuntimeContext).
//
// Thread safety: use only on the task thread that calls the function (Open, the processing
// callbacks, Close). Ownership: the runtime owns the context; the reference passed to Open()
// stays valid until Close() returns.
// Errors: keyed state requested outside a keyed stream throws std::logic_error naming the
// state and the operator; two states of different types under one name throw
// std::logic_error too. Both are bugs in the job.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include <sluice/api/metrics.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/state/detail/keyed_state_backend.h>
#include <sluice/state/detail/operator_state_store.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>

namespace sluice {

/// Where one parallel instance of an operator runs.
struct TaskInfo {
  std::string job_name;
  std::string operator_name;
  std::string operator_uid;
  int32_t subtask_index = 0;
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  /// 0 for the first run; incremented by every restart of the job.
  int32_t attempt_number = 0;
  /// Identifies one run of the job (one Execute or ExecuteAsync, in practice one process
  /// start): the same in every attempt of the run, different in the next run, also when that
  /// one restores this run's checkpoints. What a source decided for "this run" (a bounded
  /// source's end offsets, resolved at start) it keeps across failovers by this id. Random,
  /// never 0 inside a job (0: made outside one, e.g. by a test harness).
  uint64_t run_id = 0;
  /// Whether the job takes periodic checkpoints (sources commit offsets differently).
  bool checkpointing_enabled = false;
};

class RuntimeContext {
 public:
  /// Made by the runtime; `keyed_backend` is null outside keyed streams.
  RuntimeContext(TaskInfo info, MetricGroup* metrics, const ParameterTool* job_parameters,
                 detail::KeyedStateBackend* keyed_backend,
                 detail::OperatorStateStore* operator_store)
      : info_(std::move(info)),
        metrics_(metrics),
        job_parameters_(job_parameters),
        keyed_backend_(keyed_backend),
        operator_store_(operator_store) {}

  int32_t GetIndexOfThisSubtask() const { return info_.subtask_index; }
  int32_t GetNumberOfParallelSubtasks() const { return info_.parallelism; }
  int32_t GetMaxNumberOfParallelSubtasks() const { return info_.max_parallelism; }
  int32_t GetAttemptNumber() const { return info_.attempt_number; }
  const std::string& GetJobName() const { return info_.job_name; }
  const std::string& GetTaskName() const { return info_.operator_name; }
  const TaskInfo& GetTaskInfo() const { return info_; }
  bool IsCheckpointingEnabled() const { return info_.checkpointing_enabled; }
  MetricGroup& GetMetricGroup() { return *metrics_; }
  /// The job's --key=value parameters (StreamExecutionEnvironment::FromArgs).
  const ParameterTool& GetJobParameters() const { return *job_parameters_; }

  // ---- keyed state: scoped to the current key; only inside KeyedStream functions ----
  template <typename T>
  ValueState<T>& GetState(const ValueStateDescriptor<T>& descriptor) {
    return Keyed(descriptor.name()).GetValueState(descriptor);
  }
  template <typename T>
  ListState<T>& GetListState(const ListStateDescriptor<T>& descriptor) {
    return Keyed(descriptor.name()).GetListState(descriptor);
  }
  template <typename UK, typename UV>
  MapState<UK, UV>& GetMapState(const MapStateDescriptor<UK, UV>& descriptor) {
    return Keyed(descriptor.name()).GetMapState(descriptor);
  }
  template <typename T>
  ReducingState<T>& GetReducingState(const ReducingStateDescriptor<T>& descriptor) {
    return Keyed(descriptor.name()).GetReducingState(descriptor);
  }
  template <typename In, typename Acc, typename Out>
  AggregatingState<In, Out>& GetAggregatingState(
      const AggregatingStateDescriptor<In, Acc, Out>& descriptor) {
    return Keyed(descriptor.name()).GetAggregatingState(descriptor);
  }

  // ---- operator state: one list per parallel instance ----
  /// On restore at another parallelism the items of all instances are split evenly.
  template <typename T>
  ListState<T>& GetOperatorListState(const ListStateDescriptor<T>& descriptor) {
    return operator_store_->GetListState(descriptor);
  }
  /// On restore every instance gets the items of all instances (Flink's union list state).
  template <typename T>
  ListState<T>& GetUnionListState(const ListStateDescriptor<T>& descriptor) {
    return operator_store_->GetUnionListState(descriptor);
  }
  /// True when this instance was started from a checkpoint or savepoint.
  bool IsRestored() const { return operator_store_->IsRestored(); }

 private:
  detail::KeyedStateBackend& Keyed(const std::string& state_name) const {
    if (keyed_backend_ == nullptr) {
      throw std::logic_error(
          "keyed state '" + state_name + "' requested in operator '" + info_.operator_name +
          "', which is not on a keyed stream; use KeyBy(...) before this operator, or "
          "operator state (GetOperatorListState)");
    }
    return *keyed_backend_;
  }

  TaskInfo info_;
  MetricGroup* metrics_;
  const ParameterTool* job_parameters_;
  detail::KeyedStateBackend* keyed_backend_;
  detail::OperatorStateStore* operator_store_;
};

}  // namespace sluice
