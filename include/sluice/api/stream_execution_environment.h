// StreamExecutionEnvironment: where a job is built, configured and executed (Flink's).
//
//   int main(int argc, char** argv) {
//     auto env = sluice::StreamExecutionEnvironment::FromArgs(argc, argv);  // --parallelism, ...
//     env->EnableCheckpointing(std::chrono::seconds(5));
//     env->AddSource(SimpleStringGenerator()).Print();
//     return env->Execute("kafka - test001").ok() ? 0 : 1;
//   }
//
// Thread safety: configure and build on one thread. Execute()/ExecuteAsync() may be called
// once. The JobClient of ExecuteAsync() is thread-safe.
// Ownership: the environment owns the job's graph (privately: only the DataStream calls add
// to it); the DataStream handles it returns point into it and must not outlive it. Execute()
// hands the graph to the job.
// Errors: configuration mistakes (unknown flags, bad values, wrong graphs, a state type with no
// serializer at restore, ...) make Execute() return a failed result whose status names the
// flag, setting or operator; FromArgs() prints usage and exits on --help and on flag errors,
// like any command-line program.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/api/data_stream.h>
#include <sluice/api/job.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/api/restart_strategy.h>
#include <sluice/api/source.h>
#include <sluice/api/source_function.h>
#include <sluice/api/watermark_strategy.h>
#include <sluice/checkpoint/checkpoint_config.h>
#include <sluice/detail/collection_source.h>
#include <sluice/detail/graph_builder.h>
#include <sluice/detail/source_operators.h>

namespace sluice {

namespace internal {
class JobMaster;
}

/// How a job starts: from scratch, from its own latest checkpoint, from a savepoint, or from a
/// checkpoint chosen by path. At most one of fresh, savepoint_path and checkpoint_path.
struct RestoreSettings {
  /// Ignore existing checkpoints of this job (--fresh).
  bool fresh = false;
  /// Restore this savepoint (or checkpoint) directory, or its _metadata (--from-savepoint).
  std::optional<std::string> savepoint_path;
  /// Restore this checkpoint: a chk-N directory (an older one of this job's, say, when the
  /// newest cannot be used) or its _metadata (--from-checkpoint). Restored as a savepoint is:
  /// the job then writes its own checkpoints as usual.
  std::optional<std::string> checkpoint_path;
  /// Skip state of operators (uids) that no longer exist instead of failing
  /// (--allow-non-restored-state).
  bool allow_non_restored_state = false;
};

/// The shortest checkpoint interval EnableCheckpointing accepts.
inline constexpr std::chrono::milliseconds kMinimalCheckpointInterval{10};

class StreamExecutionEnvironment final {
 public:
  /// An environment with defaults: parallelism = number of cores, no checkpointing,
  /// restart strategy NoRestart (RestartStrategy::ExponentialDelay() once checkpointing is on,
  /// as Flink 2).
  static std::unique_ptr<StreamExecutionEnvironment> Create();
  /// Create() configured from the standard flags (--parallelism, --checkpoint-interval,
  /// --checkpoint-timeout, --checkpoint-dir, --savepoint-timeout, --fresh, --from-savepoint,
  /// --from-checkpoint,
  /// --allow-non-restored-state, --restart-attempts, --log-level, --state.backend,
  /// --state.changelog); every other --key=value becomes a job parameter (GetParameters()).
  /// Flags win over the job's own settings of the same thing. --help prints the flags and exits 0;
  /// a bad flag prints the error and exits 2. Job parameters the job never reads are reported by
  /// Execute() as unknown flags.
  static std::unique_ptr<StreamExecutionEnvironment> FromArgs(int argc, char** argv);

  ~StreamExecutionEnvironment();

  // ---- configuration ----
  StreamExecutionEnvironment& SetParallelism(int32_t parallelism);
  int32_t GetParallelism() const { return parallelism_; }
  /// The number of key groups (default 128); the upper bound of any rescaling.
  StreamExecutionEnvironment& SetMaxParallelism(int32_t max_parallelism);
  int32_t GetMaxParallelism() const { return graph_.max_parallelism(); }
  /// Checkpoints every `interval` (a --checkpoint-interval flag wins). Shorter than
  /// kMinimalCheckpointInterval (10 ms, Flink's minimum): std::invalid_argument.
  StreamExecutionEnvironment& EnableCheckpointing(std::chrono::milliseconds interval);
  /// The same with the interval in milliseconds, as Flink jobs write it: EnableCheckpointing(5000).
  StreamExecutionEnvironment& EnableCheckpointing(int64_t interval_ms) {
    return EnableCheckpointing(std::chrono::milliseconds(interval_ms));
  }
  CheckpointConfig& GetCheckpointConfig() { return checkpoint_config_; }
  StreamExecutionEnvironment& SetRestartStrategy(RestartStrategy strategy);
  /// How often sources and AssignTimestampsAndWatermarks emit periodic watermarks (200 ms).
  StreamExecutionEnvironment& SetAutoWatermarkInterval(std::chrono::milliseconds interval);
  /// Where keyed state lives (Flink's setStateBackend / state.backend.type): the name of a
  /// registered keyed state backend, "heap" by default (hash tables in memory, Flink's
  /// hashmap). An unknown name makes Execute() fail with InvalidArgument naming the known ones.
  /// A --state.backend flag wins over this call, so a job's backend can be changed without
  /// rebuilding it.
  StreamExecutionEnvironment& SetStateBackend(std::string name);
  const std::string& GetStateBackend() const { return state_backend_; }
  /// Whether state is also kept in Kafka changelog topics, written inside each checkpoint's
  /// transaction, so that a process on another host with an empty checkpoint directory
  /// restores it (Flink's enableChangelogStateBackend; include/sluice/checkpoint/
  /// state_changelog.h). Not called: on exactly when checkpoints are transactional (an
  /// EXACTLY_ONCE Kafka sink). Enabling it for a job without one makes Execute() fail with
  /// InvalidArgument. A --state.changelog=kafka|off flag wins over this call.
  StreamExecutionEnvironment& EnableChangelogStateBackend(bool enabled);
  /// nullopt: the default above.
  std::optional<bool> IsChangelogStateBackendEnabled() const { return state_changelog_; }
  /// Every operator gets a task of its own (debugging; chaining is on by default).
  StreamExecutionEnvironment& DisableOperatorChaining();
  StreamExecutionEnvironment& SetRestoreSettings(RestoreSettings settings);
  const RestoreSettings& GetRestoreSettings() const { return restore_; }
  /// The job's parameters: every --key=value flag that is not a standard one.
  const ParameterTool& GetParameters() const { return parameters_; }
  /// Stop with a savepoint on SIGTERM and cancel on SIGINT while Execute() runs (default on).
  StreamExecutionEnvironment& SetHandleSignals(bool handle) {
    handle_signals_ = handle;
    return *this;
  }

  // ---- sources ----
  /// A SourceFunction (a copyable class derived from SourceFunction<T>, one copy per instance).
  /// Sources derived from RichParallelSourceFunction run with the default parallelism; others
  /// with parallelism 1, as in Flink.
  template <typename F>
    requires std::is_base_of_v<SourceFunction<typename F::output_type>, F>
  DataStream<typename F::output_type> AddSource(F function, std::string name = "Custom Source") {
    using T = typename F::output_type;
    std::shared_ptr<const StateParticipantProvider> provider;
    if constexpr (std::is_base_of_v<StateParticipantProvider, F>)
      provider = std::make_shared<const F>(function);  // a definition copy, never run
    DataStream<T> stream = AddSource<T>(
        [function = std::move(function)]() -> std::unique_ptr<SourceFunction<T>> {
          return std::make_unique<F>(function);
        },
        std::move(name), std::is_base_of_v<RichParallelSourceFunction<T>, F>);
    if (provider != nullptr) {
      static_cast<detail::SourceTransformation<T>*>(stream.node())
          ->set_state_participant_provider(std::move(provider));
    }
    return stream;
  }
  /// A SourceFunction made by `factory` for each parallel instance and each restart.
  template <typename T>
  DataStream<T> AddSource(std::function<std::unique_ptr<SourceFunction<T>>()> factory,
                          std::string name, bool parallel = false) {
    auto operator_factory = [factory =
                                 std::move(factory)]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::LegacySourceOperator<T>>(
          factory, WatermarkStrategy<T>::NoWatermarks());
    };
    auto node = std::make_unique<detail::SourceTransformation<T>>(
        graph_.NextId(), std::move(name), operator_factory, /*bounded=*/false);
    if (!parallel) node->set_non_parallel();
    return DataStream<T>(&graph_, graph_.Add(std::move(node)));
  }
  /// A Source (e.g. KafkaSource) with a watermark strategy; T is taken from the strategy.
  template <typename T>
  DataStream<T> FromSource(std::shared_ptr<const Source<std::type_identity_t<T>>> source,
                           WatermarkStrategy<T> watermarks, std::string name) {
    bool bounded = source->IsBounded();
    std::shared_ptr<const StateParticipantProvider> provider =
        std::dynamic_pointer_cast<const StateParticipantProvider>(source);
    auto factory = [source = std::move(source),
                    watermarks =
                        std::move(watermarks)]() -> std::unique_ptr<detail::StreamOperator> {
      return std::make_unique<detail::ReaderSourceOperator<T>>(source, watermarks);
    };
    auto node = std::make_unique<detail::SourceTransformation<T>>(graph_.NextId(), std::move(name),
                                                                  std::move(factory), bounded);
    node->set_state_participant_provider(std::move(provider));
    return DataStream<T>(&graph_, graph_.Add(std::move(node)));
  }
  /// A bounded stream of the given elements (parallelism 1).
  template <typename T>
  DataStream<T> FromCollection(std::vector<T> elements);
  template <typename T, typename... Ts>
  DataStream<T> FromElements(T first, Ts... rest) {
    std::vector<T> elements{std::move(first), static_cast<T>(std::move(rest))...};
    return FromCollection<T>(std::move(elements));
  }
  /// The numbers from..to (inclusive), split among the parallel instances; bounded and
  /// checkpointed, so a restored job neither repeats nor skips a number.
  DataStream<int64_t> GenerateSequence(int64_t from, int64_t to);

  // ---- execution ----
  /// Runs the job and blocks until it finishes, is cancelled, or fails for good.
  JobExecutionResult Execute(const std::string& job_name = "sluice job");
  /// Starts the job and returns at once.
  std::unique_ptr<JobClient> ExecuteAsync(const std::string& job_name = "sluice job");

 private:
  StreamExecutionEnvironment();
  Result<std::unique_ptr<internal::JobMaster>> PrepareJob(const std::string& job_name,
                                                          bool handle_signals);

  int32_t parallelism_;
  CheckpointConfig checkpoint_config_;
  std::optional<RestartStrategy> restart_strategy_;
  std::chrono::milliseconds auto_watermark_interval_{200};
  bool chaining_ = true;
  bool handle_signals_ = true;
  bool executed_ = false;
  bool checkpoint_interval_from_flags_ = false;
  // Timeouts given as standard flags: applied over the CheckpointConfig when the job starts,
  // so that they win over the job's own GetCheckpointConfig() calls, as --checkpoint-interval.
  std::optional<std::chrono::milliseconds> checkpoint_timeout_from_flags_;
  std::optional<std::chrono::milliseconds> savepoint_timeout_from_flags_;
  bool restart_from_flags_ = false;
  std::string state_backend_{detail::kDefaultStateBackend};
  bool state_backend_from_flags_ = false;
  std::optional<bool> state_changelog_;
  bool state_changelog_from_flags_ = false;
  bool check_parameters_ = false;
  RestoreSettings restore_;
  ParameterTool parameters_;
  // The job's transformations (and the max parallelism KeyBy reads), extended by the
  // DataStream handles this environment creates. Private, so that only DataStream calls add
  // to the graph.
  detail::GraphBuilder graph_;
};

template <typename T>
DataStream<T> StreamExecutionEnvironment::FromCollection(std::vector<T> elements) {
  static_assert(HasTypeSerializer<int64_t>);
  auto source = std::make_shared<const detail::CollectionSource<T>>(std::move(elements));
  DataStream<T> stream =
      FromSource<T>(source, WatermarkStrategy<T>::NoWatermarks(), "Collection Source");
  stream.node()->set_non_parallel();
  return stream;
}

}  // namespace sluice
