// Checkpoints after tasks finish (docs/runtime.md): a finished task keeps taking part in
// checkpoints with its final state, and a job whose tasks all finished takes one final
// checkpoint before it ends.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// Emits one value, then runs until `wanted` checkpoints have completed after it started, so
// it only ends if checkpoints go on while the other (bounded) branch of the job has finished.
class UntilCheckpoints final : public RichSourceFunction<int64_t>, public CheckpointListener {
 public:
  explicit UntilCheckpoints(int wanted) : wanted_(wanted) {}
  UntilCheckpoints(const UntilCheckpoints& other)
      : RichSourceFunction<int64_t>(), wanted_(other.wanted_) {}
  void Run(SourceContext<int64_t>& ctx) override {
    {
      std::lock_guard lock(ctx.GetCheckpointLock());
      ctx.Collect(-1);
    }
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return completed_ >= wanted_ || cancelled_; });
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    cv_.notify_all();
  }
  void NotifyCheckpointComplete(CheckpointId) override {
    std::lock_guard lock(mutex_);
    ++completed_;
    cv_.notify_all();
  }

 private:
  int wanted_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int completed_ = 0;
  bool cancelled_ = false;
};

std::atomic<int64_t> g_sum{0};
std::atomic<int64_t> g_records{0};

class SumSink final : public SinkFunction<int64_t> {
 public:
  void Invoke(const int64_t& value, const SinkContext&) override {
    g_sum += value;
    ++g_records;
  }
};

class DiscardSink final : public SinkFunction<int64_t> {
 public:
  void Invoke(const int64_t&, const SinkContext&) override {}
};

TEST(FinalCheckpointIT, CheckpointsGoOnAfterABoundedBranchFinished) {
  g_sum = 0;
  g_records = 0;
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::milliseconds(20));
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("final-chk").string());
  DataStream<int64_t> bounded = env->FromElements<int64_t>(1, 2, 3).Uid("bounded");
  DataStream<int64_t> unbounded = env->AddSource(UntilCheckpoints(5)).Uid("until-checkpoints");
  bounded.Union(unbounded).AddSink(SumSink());
  JobExecutionResult result = env->Execute("final-checkpoint-branches");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(g_records.load(), 4);
  EXPECT_EQ(g_sum.load(), 5);
  // Five seen by the source while running, plus the final one taken after it finished.
  EXPECT_GE(result.completed_checkpoints, 6);
  EXPECT_EQ(result.failed_checkpoints, 0);
}

TEST(FinalCheckpointIT, ABoundedJobEndsWithOneFinalCheckpointAndNoneWithoutCheckpointing) {
  for (bool checkpointing : {true, false}) {
    SCOPED_TRACE(checkpointing ? "checkpointing" : "no checkpointing");
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(2).SetHandleSignals(false);
    if (checkpointing) {
      env->EnableCheckpointing(std::chrono::minutes(10));  // never due while the job runs
      env->GetCheckpointConfig().SetCheckpointStorage(TempDir("final-one").string());
    }
    env->GenerateSequence(1, 1000)
        .Uid("sequence")
        .Rebalance()
        .Map([](int64_t v) { return v * 2; })
        .AddSink(DiscardSink());
    JobExecutionResult result = env->Execute("final-checkpoint-bounded");
    ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
    EXPECT_EQ(result.completed_checkpoints, checkpointing ? 1 : 0);
  }
}

}  // namespace
}  // namespace sluice::testing
