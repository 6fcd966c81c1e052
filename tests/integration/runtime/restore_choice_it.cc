// Which state a restart restores: until the run completes a checkpoint of its own, the same
// as its first attempt (--fresh: nothing; --from-savepoint: that savepoint), never the newest
// checkpoint an earlier run left in the checkpoint directory.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "kafka_test_env.h"
#include "test_jobs.h"

namespace sluice::testing {
namespace {

std::mutex g_mutex;
std::multiset<int64_t> g_seen;

class RecordingSink final : public SinkFunction<int64_t> {
 public:
  void Invoke(const int64_t& value, const SinkContext&) override {
    std::lock_guard lock(g_mutex);
    g_seen.insert(value);
  }
};

JobExecutionResult RunSequence(const std::string& checkpoints, bool fresh, int64_t fail_at) {
  {
    std::lock_guard lock(g_mutex);
    g_seen.clear();
  }
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::minutes(10));  // only the final checkpoint completes
  env->GetCheckpointConfig().SetCheckpointStorage(checkpoints);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(2, std::chrono::milliseconds(10)));
  RestoreSettings restore;
  restore.fresh = fresh;
  env->SetRestoreSettings(restore);
  env->GenerateSequence(1, 100)
      .Uid("sequence")
      .Map(FailOnce(fail_at))
      .Uid("fail-once")
      .AddSink(RecordingSink());
  return env->Execute("restore-choice");
}

TEST(RestoreChoiceIT, AFreshRunThatFailsBeforeItsFirstCheckpointStartsFreshAgain) {
  const std::string checkpoints =
      (std::filesystem::temp_directory_path() / UniqueName("restore-choice")).string();
  // An earlier run leaves its final checkpoint (the whole sequence emitted) in the directory.
  JobExecutionResult first = RunSequence(checkpoints, /*fresh=*/false, /*fail_at=*/-1);
  ASSERT_EQ(first.status, JobStatus::kFinished) << first.failure.ToString();
  ASSERT_EQ(first.completed_checkpoints, 1);

  // --fresh, and a failure at 50 before any checkpoint of this run.
  JobExecutionResult second = RunSequence(checkpoints, /*fresh=*/true, /*fail_at=*/50);
  ASSERT_EQ(second.status, JobStatus::kFinished) << second.failure.ToString();
  EXPECT_EQ(second.restarts, 1);
  EXPECT_FALSE(second.restored_checkpoint.has_value())
      << "the restart must not restore the earlier run's checkpoint";
  std::lock_guard lock(g_mutex);
  for (int64_t v = 1; v <= 100; ++v)
    EXPECT_GE(g_seen.count(v), 1u) << "value " << v << " never reached the sink";
  std::error_code ignored;
  std::filesystem::remove_all(checkpoints, ignored);
}

}  // namespace
}  // namespace sluice::testing
