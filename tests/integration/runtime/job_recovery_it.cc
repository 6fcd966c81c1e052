// The runtime's recovery promises, end to end in one process: a failure restores the last
// checkpoint and the final keyed counts are exact; a savepoint restores at another
// parallelism with every key's state intact.
#include <sluice/sluice.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <stdexcept>

#include <sluice/testing/status_matchers.h>

#include "kafka_test_env.h"
#include "test_jobs.h"

using ::sluice::testing::IsOk;
using ::testing::HasSubstr;

namespace sluice::testing {
namespace {

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

LatestCounts g_counts;

TEST(JobRecoveryIT, PerKeyCountsAreExactAfterAFailureRestoresTheLastCheckpoint) {
  g_counts.Reset();
  const int64_t total = 20000;
  constexpr int64_t keys = 10;
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::milliseconds(50));
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("recovery-chk").string());
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, std::chrono::milliseconds(10)));
  env->AddSource(PausingSequence(total, total / 2))
      .Uid("source")
      .Map(FailOnce(total * 3 / 4))
      .Uid("fail-once")
      .KeyBy([](int64_t n) { return n % keys; })
      .Process(CountPerKey())
      .Uid("count")
      .AddSink(LatestPerKeySink(&g_counts));

  JobExecutionResult result = env->Execute("recovery");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  ASSERT_TRUE(result.restored_checkpoint.has_value()) << "the restart must restore a checkpoint";
  EXPECT_GE(result.completed_checkpoints, 1);
  std::map<int64_t, int64_t> expected;
  for (int64_t k = 0; k < keys; ++k) expected[k] = total / keys;
  EXPECT_EQ(g_counts.Snapshot(), expected);
}

TEST(JobRecoveryIT, TheSameJobWithoutFailureGivesTheSameCounts) {
  g_counts.Reset();
  const int64_t total = 20000;
  constexpr int64_t keys = 10;
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->GenerateSequence(0, total - 1)
      .KeyBy([](int64_t n) { return n % keys; })
      .Process(CountPerKey())
      .AddSink(LatestPerKeySink(&g_counts));
  JobExecutionResult result = env->Execute("no-failure");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::map<int64_t, int64_t> expected;
  for (int64_t k = 0; k < keys; ++k) expected[k] = total / keys;
  EXPECT_EQ(g_counts.Snapshot(), expected);
}

// Phase 1 runs at `from` parallelism until its source pauses, takes a savepoint and stops;
// phase 2 restores it at `to` parallelism and finishes. Every key's count must be exact.
void RescaleThroughSavepoint(int32_t from, int32_t to) {
  g_counts.Reset();
  const int64_t total = 40000;
  constexpr int64_t keys = 97;
  auto savepoints = TempDir("savepoints");
  auto build = [&](StreamExecutionEnvironment& env, int32_t parallelism, bool stop_at_pause) {
    env.SetParallelism(parallelism).SetHandleSignals(false);
    env.GetCheckpointConfig().SetCheckpointStorage(TempDir("rescale-chk").string());
    env.EnableCheckpointing(std::chrono::milliseconds(30));
    env.AddSource(PausingSequence(total, total / 2, stop_at_pause))
        .Uid("source")
        .KeyBy([](int64_t n) { return n % keys; })
        .Process(CountPerKey())
        .Uid("count")
        .AddSink(LatestPerKeySink(&g_counts))
        .SetParallelism(1);
  };

  auto first = StreamExecutionEnvironment::Create();
  build(*first, from, /*stop_at_pause=*/true);
  std::unique_ptr<JobClient> client = first->ExecuteAsync("rescale");
  // The first half has reached the sink once every key has its share of it.
  ASSERT_TRUE(g_counts.WaitFor([&](const auto&, int64_t records) { return records >= total / 2; },
                               Scaled(std::chrono::seconds(60))));
  Result<std::string> savepoint = client->StopWithSavepoint(savepoints.string());
  ASSERT_THAT(savepoint, IsOk());
  JobExecutionResult stopped = client->WaitForResult();
  EXPECT_EQ(stopped.status, JobStatus::kFinished) << stopped.failure.ToString();
  EXPECT_EQ(stopped.savepoint_path, *savepoint);

  // A savepoint is self-contained: move it before restoring.
  auto moved = TempDir("moved") / "savepoint";
  std::filesystem::rename(*savepoint, moved);

  auto second = StreamExecutionEnvironment::Create();
  build(*second, to, /*stop_at_pause=*/false);
  RestoreSettings restore;
  restore.savepoint_path = moved.string();
  second->SetRestoreSettings(restore);
  JobExecutionResult result = second->Execute("rescale");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  ASSERT_TRUE(result.restored_checkpoint.has_value());
  std::map<int64_t, int64_t> expected;
  for (int64_t k = 0; k < keys; ++k) expected[k] = total / keys + (k < total % keys ? 1 : 0);
  EXPECT_EQ(g_counts.Snapshot(), expected);
}

TEST(JobRecoveryIT, SavepointAtParallelism2RestoresAt4WithEveryKeysState) {
  RescaleThroughSavepoint(2, 4);
}

TEST(JobRecoveryIT, SavepointAtParallelism4RestoresAt2WithEveryKeysState) {
  RescaleThroughSavepoint(4, 2);
}

// Runs the pausing counting job until its source holds, takes a savepoint with
// TriggerSavepoint (the job keeps running), then cancels it. Returns the savepoint path.
std::string SavepointOfRunningJob(const std::string& count_uid) {
  g_counts.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("trigger-chk").string());
  env->EnableCheckpointing(std::chrono::milliseconds(30));
  env->AddSource(PausingSequence(1000, 500, /*stop_at_pause=*/true))
      .Uid("source")
      .KeyBy([](int64_t n) { return n % 7; })
      .Process(CountPerKey())
      .Uid(count_uid)
      .AddSink(LatestPerKeySink(&g_counts));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("uids");
  EXPECT_TRUE(g_counts.WaitFor([](const auto&, int64_t records) { return records >= 500; },
                               Scaled(std::chrono::seconds(60))));
  Result<std::string> savepoint = client->TriggerSavepoint(TempDir("triggered").string());
  EXPECT_THAT(savepoint, IsOk());
  EXPECT_EQ(client->GetJobStatus(), JobStatus::kRunning)
      << "TriggerSavepoint keeps the job running";
  client->Cancel();
  EXPECT_EQ(client->WaitForResult().status, JobStatus::kCanceled);
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(*savepoint) / "_metadata"));
  return savepoint.ValueOr("");
}

JobExecutionResult RestoreWithCountUid(const std::string& savepoint, const std::string& count_uid,
                                       bool allow) {
  g_counts.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("uid-chk").string());
  env->EnableCheckpointing(std::chrono::milliseconds(30));
  RestoreSettings restore;
  restore.savepoint_path = savepoint;
  restore.allow_non_restored_state = allow;
  env->SetRestoreSettings(restore);
  env->AddSource(PausingSequence(1000, 500))
      .Uid("source")
      .KeyBy([](int64_t n) { return n % 7; })
      .Process(CountPerKey())
      .Uid(count_uid)
      .AddSink(LatestPerKeySink(&g_counts));
  return env->Execute("uids");
}

TEST(JobRecoveryIT, StateOfAUidTheJobNoLongerHasFailsTheRestoreUnlessAllowed) {
  std::string savepoint = SavepointOfRunningJob("count");
  ASSERT_FALSE(savepoint.empty());

  JobExecutionResult refused = RestoreWithCountUid(savepoint, "renamed-count", /*allow=*/false);
  EXPECT_EQ(refused.status, JobStatus::kFailed);
  EXPECT_THAT(refused.failure.message(), HasSubstr("uid 'count'")) << refused.failure.ToString();
  EXPECT_THAT(refused.failure.message(), HasSubstr("--allow-non-restored-state"));

  // Allowed: the source resumes at 500, the renamed count starts empty and sees 500 records.
  JobExecutionResult allowed = RestoreWithCountUid(savepoint, "renamed-count", /*allow=*/true);
  ASSERT_EQ(allowed.status, JobStatus::kFinished) << allowed.failure.ToString();
  int64_t total = 0;
  for (auto [key, count] : g_counts.Snapshot()) total += count;
  EXPECT_EQ(total, 500);

  // With the uid kept, the counts continue from the savepoint: all 1000 records.
  JobExecutionResult kept = RestoreWithCountUid(savepoint, "count", /*allow=*/false);
  ASSERT_EQ(kept.status, JobStatus::kFinished) << kept.failure.ToString();
  total = 0;
  for (auto [key, count] : g_counts.Snapshot()) total += count;
  EXPECT_EQ(total, 1000);
}

}  // namespace
}  // namespace sluice::testing
