// The checkpoint-participant hook (DESIGN.md section 5), with a participant that records what
// the coordinator asks of it: commits happen after every task's snapshot and before any
// completion notification, strictly in order; a failed commit fails the job over to the last
// committed checkpoint, and newer uncommitted ones are never restored.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "kafka_test_env.h"
#include "test_jobs.h"

namespace sluice::testing {
namespace {

struct EventLog {
  std::mutex mutex;
  std::vector<std::pair<std::string, int64_t>> events;
  void Add(std::string what, int64_t id) {
    std::lock_guard lock(mutex);
    events.emplace_back(std::move(what), id);
  }
  std::vector<std::pair<std::string, int64_t>> Get() {
    std::lock_guard lock(mutex);
    return events;
  }
  // Index of the first event equal to (what, id), or -1.
  int64_t IndexOf(const std::string& what, int64_t id) {
    std::lock_guard lock(mutex);
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].first == what && events[i].second == id) return static_cast<int64_t>(i);
    }
    return -1;
  }
};

class RecordingParticipant final : public CheckpointParticipant {
 public:
  RecordingParticipant(EventLog* log, int64_t fail_commit_of)
      : log_(log), fail_commit_of_(fail_commit_of) {}
  std::string Name() const override { return "recording participant"; }
  Result<std::optional<CheckpointCompletion>> Recover(const JobInstanceInfo& job) override {
    log_->Add("recover", job.attempt_number);
    std::lock_guard lock(mutex_);
    return last_committed_;
  }
  Status CompleteCheckpoint(const CheckpointCompletion& completion) override {
    if (completion.id.value() == fail_commit_of_ && !failed_once_) {
      failed_once_ = true;
      log_->Add("commit-failed", completion.id.value());
      return Status::Unavailable("injected commit failure");
    }
    log_->Add("commit", completion.id.value());
    std::lock_guard lock(mutex_);
    last_committed_ = completion;
    return Status::Ok();
  }
  void AbortCheckpoint(CheckpointId id) override { log_->Add("abort", id.value()); }

 private:
  EventLog* log_;
  int64_t fail_commit_of_;
  bool failed_once_ = false;
  std::mutex mutex_;
  std::optional<CheckpointCompletion> last_committed_;
};

class RecordingSink final : public Sink<int64_t> {
 public:
  RecordingSink(EventLog* log, std::shared_ptr<RecordingParticipant> participant)
      : log_(log), participant_(std::move(participant)) {}
  std::unique_ptr<SinkWriter<int64_t>> CreateWriter(const TaskInfo&) const override {
    return std::make_unique<Writer>(log_);
  }
  std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const override {
    return participant_;
  }

 private:
  class Writer final : public SinkWriter<int64_t>, public CheckpointListener {
   public:
    explicit Writer(EventLog* log) : log_(log) {}
    void Write(const int64_t&, const SinkContext&) override {}
    void SnapshotState(CheckpointId id) override { log_->Add("snapshot", id.value()); }
    void NotifyCheckpointComplete(CheckpointId id) override { log_->Add("notify", id.value()); }

   private:
    EventLog* log_;
  };
  EventLog* log_;
  std::shared_ptr<RecordingParticipant> participant_;
};

// Emits bursts of records, one burst per completed checkpoint, until `bursts` bursts are out.
class BurstSource final : public RichSourceFunction<int64_t>,
                          public CheckpointedFunction,
                          public CheckpointListener {
 public:
  explicit BurstSource(int64_t bursts) : bursts_(bursts) {}
  BurstSource(const BurstSource& other) : RichSourceFunction<int64_t>(), bursts_(other.bursts_) {}
  void Open() override {
    state_ = &GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("burst"));
    for (int64_t b : state_->Get()) burst_ = b;
  }
  void Run(SourceContext<int64_t>& ctx) override {
    while (running_ && burst_ < bursts_) {
      {
        std::lock_guard lock(ctx.GetCheckpointLock());
        for (int i = 0; i < 100; ++i) ctx.Collect(burst_ * 100 + i);
        ++burst_;
      }
      std::unique_lock lock(mutex_);
      int64_t seen = completed_;
      cv_.wait(lock, [&] { return completed_ > seen || !running_; });
    }
  }
  void Cancel() override {
    running_ = false;
    cv_.notify_all();
  }
  void SnapshotState(CheckpointId) override { state_->Update({burst_}); }
  void NotifyCheckpointComplete(CheckpointId) override {
    std::lock_guard lock(mutex_);
    ++completed_;
    cv_.notify_all();
  }

 private:
  int64_t bursts_;
  int64_t burst_ = 0;
  ListState<int64_t>* state_ = nullptr;
  std::atomic<bool> running_{true};
  std::mutex mutex_;
  std::condition_variable cv_;
  int64_t completed_ = 0;
};

JobExecutionResult RunWithParticipant(EventLog& log, int64_t fail_commit_of) {
  auto participant = std::make_shared<RecordingParticipant>(&log, fail_commit_of);
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::milliseconds(20));
  env->GetCheckpointConfig().SetCheckpointStorage(
      (std::filesystem::temp_directory_path() / UniqueName("participant")).string());
  env->SetRestartStrategy(RestartStrategy::FixedDelay(2, std::chrono::milliseconds(1)));
  env->AddSource(BurstSource(6))
      .Uid("bursts")
      .Rebalance()
      .SinkTo(std::make_shared<const RecordingSink>(&log, participant))
      .Uid("sink");
  return env->Execute("participant");
}

TEST(CheckpointParticipantIT, CommitsFollowEverySnapshotAndPrecedeEveryNotification) {
  EventLog log;
  JobExecutionResult result = RunWithParticipant(log, /*fail_commit_of=*/-1);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(log.IndexOf("recover", 0), 0) << "recovery comes before anything else";
  int64_t last_commit = 0;
  for (const auto& [what, id] : log.Get()) {
    if (what != "commit") continue;
    EXPECT_GT(id, last_commit) << "commits are strictly in checkpoint order";
    last_commit = id;
    int64_t commit = log.IndexOf("commit", id);
    // Both sink instances snapshotted before the commit...
    int snapshots_before = 0;
    auto events = log.Get();
    for (int64_t i = 0; i < commit; ++i)
      snapshots_before +=
          events[static_cast<size_t>(i)] == std::make_pair(std::string("snapshot"), id);
    EXPECT_EQ(snapshots_before, 2) << "checkpoint " << id;
    // ...and no instance heard of completion before it.
    int64_t notify = log.IndexOf("notify", id);
    if (notify >= 0) {
      EXPECT_GT(notify, commit) << "checkpoint " << id;
    }
  }
  EXPECT_GE(last_commit, 5) << "six bursts need five completed checkpoints between them";
}

TEST(CheckpointParticipantIT, AFailedCommitFailsOverToTheLastCommittedCheckpoint) {
  EventLog log;
  JobExecutionResult result = RunWithParticipant(log, /*fail_commit_of=*/3);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  EXPECT_GE(log.IndexOf("commit-failed", 3), 0);
  EXPECT_EQ(log.IndexOf("notify", 3), -1)
      << "a checkpoint whose commit failed is never reported complete";
  EXPECT_EQ(log.IndexOf("commit", 3), -1) << "checkpoint ids are never reused after a failure";
  EXPECT_GE(log.IndexOf("recover", 1), 0)
      << "the new attempt asks the participant what was committed";
  // The new attempt restored checkpoint 2, the last committed one; 3 was discarded.
  int64_t restored_after = log.IndexOf("recover", 1);
  EXPECT_GT(restored_after, log.IndexOf("commit-failed", 3));
  ASSERT_TRUE(result.restored_checkpoint.has_value());
  EXPECT_EQ(*result.restored_checkpoint, 2);
}

}  // namespace
}  // namespace sluice::testing
