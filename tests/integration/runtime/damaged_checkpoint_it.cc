// A checkpoint the job must restore but cannot use (issue 17 item 4): sluice never deletes it,
// never restarts into it again, and stops with a message naming the checkpoint, what is wrong
// and the ways out; --from-checkpoint is one of them. No broker: the exactly-once case uses a
// participant that remembers what it committed, as the Kafka sink's control topic does.
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include "checkpoint/atomic_file.h"
#include "kafka_test_env.h"
#include "test_jobs.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

class CountingSink final : public SinkFunction<int64_t> {
 public:
  void Invoke(const int64_t&, const SinkContext&) override {}
};

// Commits whatever the coordinator asks and recovers the last one, across jobs.
class RememberingParticipant final : public CheckpointParticipant {
 public:
  std::string Name() const override { return "the remembering participant"; }
  Result<std::optional<CheckpointCompletion>> Recover(const JobInstanceInfo&) override {
    std::lock_guard lock(mutex_);
    return committed_;
  }
  Status CompleteCheckpoint(const CheckpointCompletion& completion) override {
    std::lock_guard lock(mutex_);
    committed_ = completion;
    return Status::Ok();
  }
  void AbortCheckpoint(CheckpointId) override {}
  std::optional<CheckpointCompletion> committed() {
    std::lock_guard lock(mutex_);
    return committed_;
  }

 private:
  std::mutex mutex_;
  std::optional<CheckpointCompletion> committed_;
};

class ParticipantSink final : public Sink<int64_t> {
 public:
  explicit ParticipantSink(std::shared_ptr<RememberingParticipant> participant)
      : participant_(std::move(participant)) {}
  std::unique_ptr<SinkWriter<int64_t>> CreateWriter(const TaskInfo&) const override {
    return std::make_unique<Writer>();
  }
  std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const override {
    return participant_;
  }

 private:
  class Writer final : public SinkWriter<int64_t> {
   public:
    void Write(const int64_t&, const SinkContext&) override {}
  };
  std::shared_ptr<RememberingParticipant> participant_;
};

struct JobRun {
  std::string checkpoints;
  RestoreSettings restore;
  std::shared_ptr<RememberingParticipant> participant;  // null: no participant
};

// A bounded sequence whose only checkpoint is the final one (the interval is long), so each
// run that finishes leaves exactly one more checkpoint.
JobExecutionResult RunJob(const JobRun& run) {
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::minutes(10));
  env->GetCheckpointConfig().SetCheckpointStorage(run.checkpoints);
  env->GetCheckpointConfig().SetNumRetainedCheckpoints(5);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, std::chrono::milliseconds(1)));
  env->SetRestoreSettings(run.restore);
  auto numbers = env->GenerateSequence(1, 100).Uid("sequence");
  if (run.participant != nullptr) {
    numbers.SinkTo(std::make_shared<const ParticipantSink>(run.participant)).Uid("sink");
  } else {
    numbers.AddSink(CountingSink()).Uid("sink");
  }
  return env->Execute("damaged-checkpoint");
}

fs::path CheckpointDir(const std::string& checkpoints, int64_t id) {
  return fs::path(checkpoints) / "damaged-checkpoint" / "instance-0" /
         ("chk-" + std::to_string(id));
}

class DamagedCheckpointIT : public ::testing::Test {
 protected:
  void SetUp() override {
    run_.checkpoints = (fs::temp_directory_path() / UniqueName("damaged")).string();
    // Two runs: chk-1 and chk-2, both complete.
    for (int i = 0; i < 2; ++i) {
      JobExecutionResult result = RunJob(run_);
      ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
    }
    ASSERT_TRUE(fs::exists(CheckpointDir(run_.checkpoints, 2) / "_metadata"));
    ASSERT_TRUE(fs::exists(CheckpointDir(run_.checkpoints, 1) / "_metadata"));
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(run_.checkpoints, ignored);
  }
  JobRun run_;
};

TEST_F(DamagedCheckpointIT, ACorruptNewestMetadataStopsTheJobNamingItAndTheWaysOut) {
  const fs::path chk2 = CheckpointDir(run_.checkpoints, 2);
  ASSERT_TRUE(internal::WriteFileAtomically(chk2 / "_metadata", "{ not json").ok());

  JobExecutionResult result = RunJob(run_);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.restarts, 0) << "restarted into the same damaged checkpoint";
  EXPECT_THAT(result.failure,
              StatusIs(StatusCode::kCorruption,
                       HasSubstr("checkpoint 2 (" + chk2.string() +
                                 ") cannot be restored: " + (chk2 / "_metadata").string())));
  EXPECT_THAT(result.failure.message(),
              HasSubstr("--from-checkpoint=" + CheckpointDir(run_.checkpoints, 1).string()));
  EXPECT_THAT(result.failure.message(), HasSubstr("--fresh"));
  EXPECT_THAT(result.failure.message(), Not(HasSubstr("--from-savepoint ")));
  EXPECT_TRUE(fs::exists(chk2 / "_metadata")) << "sluice deleted the damaged checkpoint";

  // The way out it named works, and the damaged directory is still left alone.
  JobRun older = run_;
  older.restore.checkpoint_path = CheckpointDir(run_.checkpoints, 1).string();
  JobExecutionResult resumed = RunJob(older);
  ASSERT_EQ(resumed.status, JobStatus::kFinished) << resumed.failure.ToString();
  EXPECT_EQ(resumed.restored_checkpoint, 1);
  EXPECT_TRUE(fs::exists(chk2 / "_metadata"));
  // Its id is not reused: the run's own checkpoint went above it.
  EXPECT_TRUE(fs::exists(CheckpointDir(run_.checkpoints, 3) / "_metadata"));
}

TEST_F(DamagedCheckpointIT, AMissingStateFileStopsTheJobNamingTheFile) {
  const fs::path chk2 = CheckpointDir(run_.checkpoints, 2);
  fs::path state_file;
  for (const auto& entry : fs::directory_iterator(chk2)) {
    if (entry.path().filename() != "_metadata" && entry.file_size() > 0) state_file = entry.path();
  }
  ASSERT_FALSE(state_file.empty());
  fs::remove(state_file);

  JobExecutionResult result = RunJob(run_);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.restarts, 0);
  EXPECT_THAT(result.failure,
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("checkpoint 2 (" + chk2.string() + ") cannot be restored: ")));
  EXPECT_THAT(result.failure.message(), HasSubstr(state_file.string()));
  EXPECT_THAT(result.failure.message(), HasSubstr("No such file or directory"));
  EXPECT_TRUE(fs::exists(chk2 / "_metadata"));
}

TEST_F(DamagedCheckpointIT, AMissingFromCheckpointPathNamesThatFlag) {
  JobRun missing = run_;
  missing.restore.checkpoint_path = (fs::path(run_.checkpoints) / "no-such-chk").string();
  JobExecutionResult result = RunJob(missing);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.restarts, 0);
  EXPECT_THAT(result.failure,
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("--from-checkpoint=" + *missing.restore.checkpoint_path)));
  EXPECT_THAT(result.failure.message(), Not(HasSubstr("--from-savepoint")));
}

// The case: the committed checkpoint's _metadata is gone. It is not "incomplete" (it
// was committed), so nothing of it is deleted, and the job stops instead of restarting.
TEST(DamagedCommittedCheckpointIT, ACommittedCheckpointWithoutMetadataIsKeptAndStopsTheJob) {
  JobRun run;
  run.checkpoints = (fs::temp_directory_path() / UniqueName("damaged-committed")).string();
  run.participant = std::make_shared<RememberingParticipant>();
  JobExecutionResult first = RunJob(run);
  ASSERT_EQ(first.status, JobStatus::kFinished) << first.failure.ToString();
  std::optional<CheckpointCompletion> committed = run.participant->committed();
  ASSERT_TRUE(committed.has_value());
  const fs::path dir = committed->storage_path;
  fs::remove(dir / "_metadata");
  const size_t files = static_cast<size_t>(std::distance(fs::directory_iterator(dir), {}));
  ASSERT_GT(files, 0u);

  JobExecutionResult second = RunJob(run);
  ASSERT_EQ(second.status, JobStatus::kFailed);
  EXPECT_EQ(second.restarts, 0);
  EXPECT_THAT(second.failure,
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("checkpoint " + std::to_string(committed->id.value()) + " (" +
                                 dir.string() + ") cannot be restored: " +
                                 (dir / "_metadata").string() + " does not exist")));
  EXPECT_THAT(second.failure.message(),
              HasSubstr("It is the last checkpoint the remembering participant committed"));
  EXPECT_THAT(second.failure.message(), HasSubstr("--fresh"));
  EXPECT_THAT(second.failure.message(), Not(HasSubstr("check --from-savepoint")));
  EXPECT_EQ(static_cast<size_t>(std::distance(fs::directory_iterator(dir), {})), files)
      << "sluice deleted files of the committed checkpoint";
  std::error_code ignored;
  fs::remove_all(run.checkpoints, ignored);
}

}  // namespace
}  // namespace sluice::testing
