// StreamExecutionEnvironment behaviour: what Execute() reports for wrong jobs and wrong flags,
// failures and restarts, cancellation, sink settings, and the counters of the result.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/testing/status_matchers.h>
#include <unistd.h>

#include "unit/api/job_test_support.h"

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;

namespace sluice::apitest {
namespace {

using Ints = std::vector<int64_t>;
using std::chrono::milliseconds;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// An environment from command-line flags, as a job's main() makes it.
std::unique_ptr<StreamExecutionEnvironment> EnvFromArgs(std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string program = "job";
  argv.push_back(program.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  auto env = StreamExecutionEnvironment::FromArgs(static_cast<int>(argv.size()), argv.data());
  env->SetHandleSignals(false);
  return env;
}

// ---- wrong jobs ----

TEST(EnvironmentTest, ExecuteTwiceFailsTheSecondTime) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromElements<int64_t>(1, 2).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult first = env->Execute("twice");
  JobExecutionResult second = env->Execute("twice");

  ASSERT_EQ(first.status, JobStatus::kFinished) << first.failure.ToString();
  EXPECT_EQ(second.status, JobStatus::kFailed);
  EXPECT_THAT(second.failure, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(Contains(second.failure.message(), "Execute() was already called"))
      << second.failure.ToString();
  EXPECT_EQ(out.Values(), (Ints{1, 2})) << "the second Execute() must not run the job again";
}

TEST(EnvironmentTest, ExecuteAsyncAfterExecuteFailsToo) {
  auto env = TestEnv(1);
  env->FromElements<int64_t>(1).Print();
  ::testing::internal::CaptureStdout();
  JobExecutionResult first = env->Execute("twice-async");
  (void)::testing::internal::GetCapturedStdout();

  JobExecutionResult second = env->ExecuteAsync("twice-async")->WaitForResult();

  ASSERT_EQ(first.status, JobStatus::kFinished) << first.failure.ToString();
  EXPECT_EQ(second.status, JobStatus::kFailed);
  EXPECT_TRUE(Contains(second.failure.message(), "Execute() was already called"))
      << second.failure.ToString();
}

TEST(EnvironmentTest, TwoOperatorsWithTheSameUidFailNamingTheUid) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->FromElements<int64_t>(1)
      .Map([](int64_t n) { return n; })
      .Uid("normalize")
      .Map([](int64_t n) { return n + 1; })
      .Uid("normalize")
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("duplicate-uid");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(Contains(result.failure.message(), "uid 'normalize'")) << result.failure.ToString();
  EXPECT_EQ(out.size(), 0u);
}

TEST(EnvironmentTest, AnUnknownStateBackendFailsExecuteNamingTheKnownOnes) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  EXPECT_EQ(env->GetStateBackend(), "heap");
  env->SetStateBackend("rocksdb");
  env->FromElements<int64_t>(1, 2)
      .KeyBy([](int64_t n) { return n; })
      .Sum()
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("unknown-backend");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(Contains(result.failure.message(), "'rocksdb'")) << result.failure.ToString();
  EXPECT_TRUE(Contains(result.failure.message(), "state backends are: heap"))
      << result.failure.ToString();
  EXPECT_EQ(out.size(), 0u);
}

TEST(EnvironmentTest, TheStateBackendFlagWinsOverTheJobsChoice) {
  Collected<int64_t> out;
  auto env = EnvFromArgs({"--state.backend=HEAP"});
  env->SetParallelism(2);
  env->SetStateBackend("not-a-backend");  // the flag, given at start, wins
  EXPECT_EQ(env->GetStateBackend(), "heap");
  env->FromElements<int64_t>(1, 2, 3, 4, 5, 6)
      .KeyBy([](int64_t n) { return n % 2; })
      .Sum()
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("backend-flag");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<int64_t> sums = out.Values();
  std::sort(sums.begin(), sums.end());
  EXPECT_EQ(sums, (std::vector<int64_t>{1, 2, 4, 6, 9, 12}));
}

TEST(EnvironmentTest, AnEmptyJobFails) {
  auto env = TestEnv(1);

  JobExecutionResult result = env->Execute("empty");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.job_name, "empty");
  EXPECT_TRUE(Contains(result.failure.message(), "no operators")) << result.failure.ToString();
}

// ---- sink settings ----

// Reports the parallelism of the sink instance and of the map before it.
class ParallelismSink final : public RichSinkFunction<int32_t> {
 public:
  explicit ParallelismSink(Collected<std::pair<int32_t, int32_t>>* out) : out_(out) {}
  void Invoke(const int32_t& map_parallelism, const SinkContext&) override {
    out_->Add({map_parallelism, GetRuntimeContext().GetNumberOfParallelSubtasks()});
  }

 private:
  Collected<std::pair<int32_t, int32_t>>* out_;
};

class MapParallelism final : public RichMapFunction<int64_t, int32_t> {
 public:
  int32_t Map(int64_t) override { return GetRuntimeContext().GetNumberOfParallelSubtasks(); }
};

TEST(EnvironmentTest, SettingsAfterAddSinkApplyToTheSinkAsInFlink) {
  Collected<std::pair<int32_t, int32_t>> out;
  auto env = TestEnv(3);
  env->GenerateSequence(1, 6)
      .Map(MapParallelism())
      .AddSink(ParallelismSink(&out))
      .SetParallelism(1)
      .Name("one sink");

  JobExecutionResult result = env->Execute("sink-settings");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (std::vector<std::pair<int32_t, int32_t>>(6, {3, 1})))
      << "(map parallelism, sink parallelism) per record";
}

// ---- flags ----

// Records what the job master validates it with, then refuses, so the job never starts.
class ContextRecordingSink final : public Sink<int64_t> {
 public:
  explicit ContextRecordingSink(SinkValidationContext* seen) : seen_(seen) {}
  std::unique_ptr<SinkWriter<int64_t>> CreateWriter(const TaskInfo&) const override {
    return nullptr;
  }
  Status Validate(const SinkValidationContext& job) const override {
    *seen_ = job;
    return Status::InvalidArgument("recorded");
  }

 private:
  SinkValidationContext* seen_;
};

// --checkpoint-timeout wins over the job's own SetCheckpointTimeout, as --checkpoint-interval
// does, so that an exactly-once sink's transaction.timeout.ms can be checked against it.
TEST(EnvironmentTest, CheckpointTimeoutFlagWinsOverTheJobsSetting) {
  SinkValidationContext seen;
  // The other new standard flags are taken as such too, not reported as unknown job flags.
  auto env = EnvFromArgs({"--checkpoint-timeout=20s", "--checkpoint-interval=1s",
                          "--savepoint-timeout=5s", "--from-checkpoint=/no/such/chk-1"});
  env->GetCheckpointConfig().SetCheckpointTimeout(std::chrono::minutes(5));
  env->FromElements<int64_t>(1).SinkTo(std::make_shared<const ContextRecordingSink>(&seen));
  JobExecutionResult result = env->Execute("timeouts");
  EXPECT_THAT(result.failure,
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("recorded")));
  EXPECT_EQ(seen.checkpoint_timeout_ms, 20'000);
  EXPECT_EQ(seen.checkpoint_interval_ms, 1'000);
}

// The seed writes env.enableCheckpointing(5000): milliseconds as an integer, as the chrono form.
TEST(EnvironmentTest, EnableCheckpointingTakesMillisecondsAsAnInteger) {
  auto env = StreamExecutionEnvironment::Create();
  env->EnableCheckpointing(5000);
  EXPECT_EQ(env->GetCheckpointConfig().GetCheckpointInterval(), std::chrono::milliseconds(5000));
  env->EnableCheckpointing(std::chrono::seconds(2));
  EXPECT_EQ(env->GetCheckpointConfig().GetCheckpointInterval(), std::chrono::milliseconds(2000));
  // Below Flink's minimum of 10 ms: refused, and the interval stays.
  EXPECT_THROW(env->EnableCheckpointing(9), std::invalid_argument);
  EXPECT_THROW(env->EnableCheckpointing(0), std::invalid_argument);
  EXPECT_THROW(env->EnableCheckpointing(std::chrono::milliseconds(-1)), std::invalid_argument);
  EXPECT_EQ(env->GetCheckpointConfig().GetCheckpointInterval(), std::chrono::milliseconds(2000));
  env->EnableCheckpointing(10);
  EXPECT_EQ(env->GetCheckpointConfig().GetCheckpointInterval(), std::chrono::milliseconds(10));
}

TEST(EnvironmentTest, FromArgsParallelismFlagSetsTheDefaultParallelism) {
  Collected<std::pair<int32_t, int64_t>> out;
  auto env = EnvFromArgs({"--parallelism=3"});
  EXPECT_EQ(env->GetParallelism(), 3);
  env->GenerateSequence(1, 30)
      .Map(TagWithSubtask<int64_t>())
      .AddSink(CollectSink<std::pair<int32_t, int64_t>>(&out));

  JobExecutionResult result = env->Execute("from-args");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(BySubtask(out.Values()).size(), 3u);
}

TEST(EnvironmentTest, AJobFlagTheJobNeverReadsFailsExecuteWithASuggestion) {
  Collected<int64_t> out;
  auto env = EnvFromArgs({"--paralelism=2"});
  env->FromElements<int64_t>(1).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("typo");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_TRUE(
      Contains(result.failure.message(), "unknown flag --paralelism (did you mean --parallelism?)"))
      << result.failure.ToString();
  EXPECT_EQ(out.size(), 0u) << "the job must not run with a mistyped flag";
}

TEST(EnvironmentTest, AJobFlagTheJobReadsIsNotReportedAndReachesFunctions) {
  class AddOffset final : public RichMapFunction<int64_t, int64_t> {
   public:
    void Open() override {
      offset_ = GetRuntimeContext().GetJobParameters().GetLong("offset", 0).value();
    }
    int64_t Map(int64_t n) override { return n + offset_; }

   private:
    int64_t offset_ = 0;
  };
  Collected<int64_t> out;
  auto env = EnvFromArgs({"--offset=100"});
  env->SetParallelism(1);
  ASSERT_EQ(env->GetParameters().Get("offset"), "100");  // the job reads it while building
  env->FromElements<int64_t>(1, 2).Map(AddOffset()).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("job-flag");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Ints{101, 102}));
}

// ---- failures and restarts ----

class AlwaysThrows final : public RichMapFunction<int64_t, int64_t> {
 public:
  explicit AlwaysThrows(std::atomic<int>* attempts_seen = nullptr)
      : attempts_seen_(attempts_seen) {}
  void Open() override {
    if (attempts_seen_ != nullptr)
      attempts_seen_->fetch_or(1 << GetRuntimeContext().GetAttemptNumber());
  }
  int64_t Map(int64_t n) override { throw std::runtime_error("bad record " + std::to_string(n)); }

 private:
  std::atomic<int>* attempts_seen_;
};

TEST(EnvironmentTest, WithNoRestartAThrowingMapFailsTheJobWithTheExceptionMessage) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::NoRestart());
  env->FromElements<int64_t>(7)
      .Map(AlwaysThrows())
      .Name("thrower")
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("no-restart");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.restarts, 0);
  EXPECT_TRUE(Contains(result.failure.message(), "bad record 7")) << result.failure.ToString();
  EXPECT_TRUE(Contains(result.failure.message(), "thrower"))
      << "names the task: " << result.failure.ToString();
}

TEST(EnvironmentTest, FixedDelayRestartsExactlyTheGivenNumberOfTimesThenFailsWithTheRootCause) {
  std::atomic<int> attempts_seen{0};
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(2, milliseconds(1)));
  env->FromElements<int64_t>(7)
      .Map(AlwaysThrows(&attempts_seen))
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("fixed-delay");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.restarts, 2);
  EXPECT_EQ(attempts_seen.load(), 0b111) << "attempts 0, 1 and 2 ran, with their attempt numbers";
  EXPECT_TRUE(Contains(result.failure.message(), "bad record 7")) << result.failure.ToString();
  EXPECT_TRUE(Contains(result.failure.message(), "after 2 restarts")) << result.failure.ToString();
}

TEST(EnvironmentTest, AFailureCarryingFencedIsNotRestarted) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(1)));
  env->FromElements<int64_t>(7)
      .Map([](int64_t n) -> int64_t {
        throw StatusException(Status::Fenced(
            "another instance owns the transactional ids of record " + std::to_string(n)));
      })
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("fenced");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.restarts, 0) << "restarting cannot help a fenced job";
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kFenced));
  EXPECT_TRUE(Contains(result.failure.message(), "another instance owns"))
      << result.failure.ToString();
}

// A checkpointed environment with the default restart strategy (FixedDelay(unlimited, 1 s)),
// its checkpoint directory removed at the end.
class CheckpointedEnv {
 public:
  CheckpointedEnv()
      : dir_(std::filesystem::temp_directory_path() /
             ("sluice-env-test-" + std::to_string(::getpid()) + "-" + std::to_string(++count_))) {
    env_ = TestEnv(1);
    env_->EnableCheckpointing(milliseconds(50));
    env_->GetCheckpointConfig().SetCheckpointStorage(dir_.string());
  }
  ~CheckpointedEnv() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  StreamExecutionEnvironment& operator*() { return *env_; }
  StreamExecutionEnvironment* operator->() { return env_.get(); }

  /// Runs the job; a job still running after the timeout (restarting forever) is cancelled,
  /// so a wrong restart decision fails the test instead of hanging it.
  JobExecutionResult RunBounded(const std::string& name) {
    std::unique_ptr<JobClient> client = env_->ExecuteAsync(name);
    auto result = std::async(std::launch::async, [&] { return client->WaitForResult(); });
    if (result.wait_for(Scaled(milliseconds(30'000))) != std::future_status::ready) {
      client->Cancel();
    }
    return result.get();
  }

 private:
  static inline std::atomic<int> count_{0};
  std::filesystem::path dir_;
  std::unique_ptr<StreamExecutionEnvironment> env_;
};

// Throws a StatusException with `code` in every attempt, recording which attempts ran.
class ThrowsStatus final : public RichMapFunction<int64_t, int64_t> {
 public:
  ThrowsStatus(StatusCode code, std::atomic<int>* attempts_seen)
      : code_(code), attempts_seen_(attempts_seen) {}
  void Open() override { attempts_seen_->fetch_or(1 << GetRuntimeContext().GetAttemptNumber()); }
  int64_t Map(int64_t n) override {
    throw StatusException(Status(code_, "cannot map " + std::to_string(n)));
  }

 private:
  StatusCode code_;
  std::atomic<int>* attempts_seen_;
};

TEST(EnvironmentTest, ANonRestartableCodeStopsTheJobAtItsFirstFailureUnderTheDefaultStrategy) {
  for (StatusCode code :
       {StatusCode::kUnauthenticated, StatusCode::kPermissionDenied, StatusCode::kFenced,
        StatusCode::kInvalidArgument, StatusCode::kFailedPrecondition, StatusCode::kCorruption}) {
    SCOPED_TRACE(std::string(StatusCodeName(code)));
    std::atomic<int> attempts_seen{0};
    Collected<int64_t> out;
    CheckpointedEnv env;
    env->FromElements<int64_t>(7)
        .Map(ThrowsStatus(code, &attempts_seen))
        .Name("thrower")
        .AddSink(CollectSink<int64_t>(&out));

    JobExecutionResult result = env.RunBounded("non-restartable");

    EXPECT_EQ(result.status, JobStatus::kFailed);
    EXPECT_EQ(result.failure.code(), code) << result.failure.ToString();
    EXPECT_EQ(result.restarts, 0);
    EXPECT_EQ(attempts_seen.load(), 0b1) << "only attempt 0 ran";
    EXPECT_TRUE(Contains(result.failure.message(), "cannot map 7")) << result.failure.ToString();
    EXPECT_TRUE(Contains(result.failure.message(), "thrower")) << result.failure.ToString();
  }
}

// Throws StatusException(kUnavailable) in attempt 0 only.
class UnavailableInFirstAttempt final : public RichMapFunction<int64_t, int64_t> {
 public:
  int64_t Map(int64_t n) override {
    if (GetRuntimeContext().GetAttemptNumber() == 0)
      throw StatusException(Status::Unavailable("broker restarting"));
    return n;
  }
};

TEST(EnvironmentTest, ARestartableCodeGoesThroughTheRestartStrategy) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(1)));
  env->FromElements<int64_t>(1, 2)
      .Map(UnavailableInFirstAttempt())
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("restartable");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  EXPECT_EQ(out.Values(), (Ints{1, 2}));
}

TEST(EnvironmentTest, ASerializationErrorStopsTheJobAsCorruptionWithoutARestart) {
  Collected<int64_t> out;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(1)));
  env->FromElements<int64_t>(7)
      .Map([](int64_t) -> int64_t {
        // What DataInput throws for truncated checkpointed bytes.
        DataInput in(std::string_view("\x01", 1));
        return in.ReadI64();
      })
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("corrupt-state");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kCorruption));
  EXPECT_EQ(result.restarts, 0) << "the same bytes decode no better after a restart";
  EXPECT_TRUE(Contains(result.failure.message(), "cannot read i64")) << result.failure.ToString();
}

TEST(EnvironmentTest, AMissingSavepointStopsTheJobInsteadOfRestartingIt) {
  Collected<int64_t> out;
  CheckpointedEnv env;
  RestoreSettings restore;
  restore.savepoint_path =
      (std::filesystem::temp_directory_path() / "sluice-env-test-no-such-savepoint").string();
  env->SetRestoreSettings(restore);
  env->FromElements<int64_t>(1).AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env.RunBounded("missing-savepoint");

  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(result.restarts, 0) << "the savepoint does not appear by restarting";
  EXPECT_TRUE(Contains(result.failure.message(), "--from-savepoint")) << result.failure.ToString();
}

// Throws in attempt 0 only.
class FailsInFirstAttempt final : public RichMapFunction<int64_t, std::string> {
 public:
  std::string Map(int64_t n) override {
    int32_t attempt = GetRuntimeContext().GetAttemptNumber();
    if (attempt == 0) throw std::runtime_error("first attempt fails");
    return std::to_string(n) + " in attempt " + std::to_string(attempt);
  }
};

TEST(EnvironmentTest, ARestartedJobRunsAgainWithTheNextAttemptNumber) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(1)));
  env->FromElements<int64_t>(1, 2)
      .Map(FailsInFirstAttempt())
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("restart-once");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  EXPECT_THAT(result.failure, IsOk());
  EXPECT_EQ(out.Values(), (std::vector<std::string>{"1 in attempt 1", "2 in attempt 1"}));
}

// ---- cancellation ----

TEST(EnvironmentTest, CancellingAnUnboundedJobEndsItAsCanceled) {
  Collected<int64_t> out;
  auto env = TestEnv(2);
  env->AddSource(EndlessCounter())
      .Filter([](const int64_t& n) { return n < 10; })  // the sink keeps only a few
      .AddSink(CollectSink<int64_t>(&out));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("endless");
  bool running = out.WaitForSize(10, Scaled(milliseconds(30000)));
  EXPECT_EQ(client->GetJobStatus(), JobStatus::kRunning);
  client->Cancel();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(running) << "the job never produced its first records";
  EXPECT_EQ(result.status, JobStatus::kCanceled);
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(client->GetJobStatus(), JobStatus::kCanceled);
  // Sorted: the two sink instances get records round robin.
  EXPECT_EQ(out.Sorted(), (Ints{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

// A JobClient controls a running job on its own (as Flink's): dropping the environment that
// built the job must not pull the graph from under it: the job owns its transformations and
// a copy of the parameters.
TEST(EnvironmentTest, AnAsyncJobOutlivesItsEnvironment) {
  Collected<int64_t> out;
  std::unique_ptr<JobClient> client;
  {
    auto env = TestEnv(1);
    env->AddSource(EndlessCounter())
        .Filter([](const int64_t& n) { return n < 10; })
        .AddSink(CollectSink<int64_t>(&out));
    client = env->ExecuteAsync("orphan");
  }
  bool running = out.WaitForSize(10, Scaled(milliseconds(30000)));
  client->Cancel();
  JobExecutionResult result = client->WaitForResult();

  EXPECT_TRUE(running);
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
}

// ---- counters ----

class CountingMap final : public RichMapFunction<int64_t, int64_t> {
 public:
  void Open() override { seen_ = &GetRuntimeContext().GetMetricGroup().GetCounter("seen"); }
  int64_t Map(int64_t n) override {
    seen_->Inc();
    return n;
  }

 private:
  Counter* seen_ = nullptr;
};

TEST(EnvironmentTest, ResultCountersIncludeUserCountersByUidSubtaskAndName) {
  Collected<int64_t> out;
  auto env = TestEnv(2);
  env->GenerateSequence(1, 1000)
      .Map(CountingMap())
      .Uid("counting-map")
      .AddSink(CollectSink<int64_t>(&out));

  JobExecutionResult result = env->Execute("counters");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::string keys;
  for (const auto& [key, value] : result.counters) keys += key + "=" + std::to_string(value) + " ";
  // "<operator uid>.<subtask index>.<counter name>"; the sequence gives each instance 500.
  ASSERT_EQ(result.counters.count("counting-map.0.seen"), 1u) << keys;
  ASSERT_EQ(result.counters.count("counting-map.1.seen"), 1u) << keys;
  EXPECT_EQ(result.counters.at("counting-map.0.seen"), 500) << keys;
  EXPECT_EQ(result.counters.at("counting-map.1.seen"), 500) << keys;
}

}  // namespace
}  // namespace sluice::apitest
