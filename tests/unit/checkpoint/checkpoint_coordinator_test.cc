// The checkpoint coordinator against fake tasks, a fake participant and a fake clock. Most tests
// leave the coordinator thread unstarted and step it with Poll() at chosen clock times, so every
// decision (trigger, complete, abort, fail the job) happens on the test thread in a known order.
// The last tests start the thread to check that its waits go through the clock.
#include "checkpoint/checkpoint_coordinator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <sluice/testing/status_matchers.h>

#include "unit/checkpoint/checkpoint_test_util.h"
#include "unit/core/fake_clock.h"

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::internal {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::FakeClock;
using testing::TempDir;

constexpr char kJob[] = "coordinator test";
// Threaded tests wait for the coordinator thread with this bound; it only limits how long a
// broken build hangs.
constexpr milliseconds kThreadTimeout(60'000);

using Events = std::vector<std::string>;

// Records what the coordinator asks of it, in order ("trigger 1", "complete 1", "abort 2",
// "release"). Thread-safe: the threaded tests read while the coordinator thread writes.
class FakeTask final : public CheckpointableTask {
 public:
  FakeTask(int32_t index, bool source) : index_(index), source_(source) {}

  int32_t index() const override { return index_; }
  bool is_source() const override { return source_; }

  void TriggerCheckpoint(const detail::CheckpointBarrier& barrier) override {
    Record("trigger " + std::to_string(barrier.checkpoint_id), barrier);
  }
  void NotifyCheckpointComplete(int64_t id) override { Record("complete " + std::to_string(id)); }
  void NotifyCheckpointAborted(int64_t id) override { Record("abort " + std::to_string(id)); }
  void ReleaseAfterFinalCheckpoint() override { Record("release"); }

  Events events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<detail::CheckpointBarrier> barriers() const {
    std::lock_guard lock(mutex_);
    return barriers_;
  }
  /// For the threaded tests: waits until `event` was recorded.
  bool WaitForEvent(const std::string& event) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kThreadTimeout, [&] {
      return std::find(events_.begin(), events_.end(), event) != events_.end();
    });
  }

 private:
  void Record(std::string event, std::optional<detail::CheckpointBarrier> barrier = {}) {
    {
      std::lock_guard lock(mutex_);
      events_.push_back(std::move(event));
      if (barrier) barriers_.push_back(*barrier);
    }
    cv_.notify_all();
  }

  const int32_t index_;
  const bool source_;
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  Events events_;
  std::vector<detail::CheckpointBarrier> barriers_;
};

// Records commits and aborts; CompleteCheckpoint returns what `on_complete` says (OK by
// default). Called only from the thread running Poll().
class FakeParticipant final : public CheckpointParticipant {
 public:
  std::string Name() const override { return "fake participant"; }
  Result<std::optional<CheckpointCompletion>> Recover(const JobInstanceInfo&) override {
    return std::optional<CheckpointCompletion>();
  }
  Status CompleteCheckpoint(const CheckpointCompletion& completion) override {
    committed.push_back(completion.id.value());
    return on_complete ? on_complete(completion) : Status::Ok();
  }
  void AbortCheckpoint(CheckpointId id) override { aborted.push_back(id.value()); }

  std::function<Status(const CheckpointCompletion&)> on_complete;
  std::vector<int64_t> committed;
  std::vector<int64_t> aborted;
};

class CheckpointCoordinatorTest : public ::testing::Test {
 protected:
  CheckpointCoordinatorTest() {
    Result<CheckpointStorage> opened =
        CheckpointStorage::Open(dir_.path() / "checkpoints", kJob, 0);
    EXPECT_THAT(opened, IsOk());
    storage_.emplace(std::move(opened).value());
    options_.interval = milliseconds(1000);
    options_.timeout = milliseconds(500);
    options_.job_name = kJob;
  }

  CheckpointCoordinator& Make(std::shared_ptr<CheckpointParticipant> participant = nullptr,
                              int64_t first_checkpoint_id = 1) {
    coordinator_ = std::make_unique<CheckpointCoordinator>(
        options_, &*storage_, std::move(participant),
        std::vector<CheckpointableTask*>{&source_, &sink_}, first_checkpoint_id,
        [this](Status cause) { job_failures_.push_back(std::move(cause)); }, clock_);
    return *coordinator_;
  }

  // What Task::Snapshot does: writes the task's state file into the checkpoint's location and
  // acknowledges it as subtask `task.index()` of one operator spanning both tasks.
  void Ack(const FakeTask& task, int64_t id) {
    std::optional<SnapshotLocation> location = coordinator_->LocationFor(id);
    ASSERT_TRUE(location.has_value()) << "checkpoint " << id << " is not pending";
    const std::string bytes =
        "state of task " + std::to_string(task.index()) + " at " + std::to_string(id);
    Result<SubtaskStateMeta> meta = location->WriteSubtaskState(
        task.index(), "op-" + std::to_string(task.index()) + ".state", bytes);
    ASSERT_THAT(meta, IsOk());
    OperatorSubtaskSnapshot snapshot;
    snapshot.uid = "op";
    snapshot.name = "Op";
    snapshot.parallelism = 2;
    snapshot.max_parallelism = 128;
    snapshot.meta = std::move(meta).value();
    coordinator_->Acknowledge(task.index(), id, {snapshot});
  }
  void AckAll(int64_t id) {
    Ack(source_, id);
    Ack(sink_, id);
  }

  // Moves the clock forward and polls.
  void AdvanceAndPoll(milliseconds by) {
    clock_.Advance(by);
    coordinator_->Poll();
  }

  // Triggers checkpoint `id` at the next interval and completes it.
  void RunCheckpoint(int64_t id) {
    AdvanceAndPoll(options_.interval);
    ASSERT_EQ(source_.barriers().back().checkpoint_id, id);
    AckAll(id);
    coordinator_->Poll();
    ASSERT_EQ(coordinator_->latest_completed(), id);
  }

  TempDir dir_;
  std::optional<CheckpointStorage> storage_;
  FakeClock clock_;
  CheckpointCoordinator::Options options_;
  FakeTask source_{0, /*source=*/true};
  FakeTask sink_{1, /*source=*/false};
  std::vector<Status> job_failures_;
  std::unique_ptr<CheckpointCoordinator> coordinator_;
};

TEST_F(CheckpointCoordinatorTest, TriggersTheSourcesOnceTheIntervalHasPassed) {
  CheckpointCoordinator& coordinator = Make();
  const Clock::TimePoint start = clock_.Now();
  EXPECT_EQ(coordinator.Poll(), start + options_.interval);
  AdvanceAndPoll(milliseconds(999));
  EXPECT_TRUE(source_.events().empty());

  AdvanceAndPoll(milliseconds(1));
  EXPECT_EQ(source_.events(), Events{"trigger 1"});
  // The barrier reaches the other tasks through the channels, not from the coordinator.
  EXPECT_TRUE(sink_.events().empty());
  ASSERT_EQ(source_.barriers().size(), 1u);
  EXPECT_EQ(source_.barriers()[0].timestamp, clock_.WallTimeMillis());
  EXPECT_FALSE(source_.barriers()[0].is_savepoint);
  EXPECT_TRUE(coordinator.LocationFor(1).has_value());
  // Now it waits for the checkpoint's timeout.
  EXPECT_EQ(coordinator.Poll(), clock_.Now() + options_.timeout);
}

TEST_F(CheckpointCoordinatorTest, CompletesOnceEveryTaskAcknowledgedAndWritesMetadata) {
  options_.timeout = milliseconds(10'000);
  CheckpointCoordinator& coordinator = Make();
  AdvanceAndPoll(options_.interval);
  const int64_t trigger_time = clock_.WallTimeMillis();
  clock_.Advance(milliseconds(40));
  Ack(sink_, 1);  // out of order: the metadata lists subtasks by index anyway
  coordinator.Poll();
  EXPECT_EQ(coordinator.completed_checkpoints(), 0);
  EXPECT_EQ(source_.events(), Events{"trigger 1"});

  Ack(source_, 1);
  coordinator.Poll();
  EXPECT_EQ(coordinator.completed_checkpoints(), 1);
  EXPECT_EQ(coordinator.latest_completed(), 1);
  EXPECT_EQ(source_.events(), (Events{"trigger 1", "complete 1"}));
  EXPECT_EQ(sink_.events(), Events{"complete 1"});
  EXPECT_FALSE(coordinator.LocationFor(1).has_value());

  Result<CheckpointMetadata> metadata = storage_->ReadCheckpointMetadata(1);
  ASSERT_THAT(metadata, IsOk());
  EXPECT_EQ(metadata->job_name, kJob);
  EXPECT_FALSE(metadata->is_savepoint);
  EXPECT_EQ(metadata->trigger_time_ms, trigger_time);
  EXPECT_EQ(metadata->completion_time_ms, trigger_time + 40);
  EXPECT_EQ(metadata->status, CheckpointMetadata::Status::kCompleted);
  ASSERT_EQ(metadata->operators.size(), 1u);
  const OperatorStateMeta& op = metadata->operators[0];
  EXPECT_EQ(op.uid, "op");
  EXPECT_EQ(op.parallelism, 2);
  ASSERT_EQ(op.subtasks.size(), 2u);
  EXPECT_EQ(op.subtasks[0].subtask, 0);
  EXPECT_EQ(op.subtasks[1].subtask, 1);
  Result<std::string> state =
      CheckpointStorage::ReadStateFile(storage_->CheckpointDir(1), op.subtasks[1]);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(*state, "state of task 1 at 1");
}

TEST_F(CheckpointCoordinatorTest, TriggersNothingWhileACheckpointIsPending) {
  options_.timeout = milliseconds(10'000);
  CheckpointCoordinator& coordinator = Make();
  AdvanceAndPoll(options_.interval);
  AdvanceAndPoll(3 * options_.interval);
  EXPECT_EQ(source_.events(), Events{"trigger 1"});
  EXPECT_EQ(coordinator.next_checkpoint_id(), 2);

  // Overdue: the next one starts as soon as the pending one completed, and only then.
  AckAll(1);
  coordinator.Poll();
  EXPECT_EQ(source_.events(), (Events{"trigger 1", "complete 1", "trigger 2"}));
}

TEST_F(CheckpointCoordinatorTest, TimeoutAbortsThePendingCheckpoint) {
  options_.tolerable_failures = 1;
  CheckpointCoordinator& coordinator = Make();
  AdvanceAndPoll(options_.interval);
  AdvanceAndPoll(options_.timeout - milliseconds(1));
  EXPECT_TRUE(coordinator.LocationFor(1).has_value());
  EXPECT_EQ(coordinator.failed_checkpoints(), 0);

  AdvanceAndPoll(milliseconds(1));
  EXPECT_FALSE(coordinator.LocationFor(1).has_value());
  EXPECT_EQ(coordinator.failed_checkpoints(), 1);
  EXPECT_EQ(source_.events(), (Events{"trigger 1", "abort 1"}));
  EXPECT_EQ(sink_.events(), Events{"abort 1"});
  EXPECT_TRUE(job_failures_.empty()) << "one failure is tolerable";
  EXPECT_TRUE(storage_->ListCompleted().empty());

  // A late acknowledgement of the aborted checkpoint is ignored.
  coordinator.Acknowledge(source_.index(), 1, {});
  coordinator.Acknowledge(sink_.index(), 1, {});
  coordinator.Poll();
  EXPECT_EQ(coordinator.completed_checkpoints(), 0);
}

TEST_F(CheckpointCoordinatorTest, FailsTheJobAfterMoreConsecutiveFailuresThanTolerable) {
  options_.tolerable_failures = 1;
  Make();
  // 1 times out (1 consecutive), 2 completes (0), 3 times out (1), 4 times out (2 > 1).
  AdvanceAndPoll(options_.interval);
  AdvanceAndPoll(options_.timeout);
  RunCheckpoint(2);
  AdvanceAndPoll(options_.interval);
  AdvanceAndPoll(options_.timeout);
  EXPECT_TRUE(job_failures_.empty());
  AdvanceAndPoll(options_.interval - options_.timeout);
  EXPECT_EQ(source_.barriers().back().checkpoint_id, 4);
  AdvanceAndPoll(options_.timeout);

  ASSERT_EQ(job_failures_.size(), 1u);
  EXPECT_THAT(job_failures_[0], StatusIs(StatusCode::kTimedOut));
  EXPECT_THAT(job_failures_[0].message(), HasSubstr("SetTolerableCheckpointFailureNumber"))
      << job_failures_[0].ToString();
  EXPECT_THAT(job_failures_[0].message(), HasSubstr("SetCheckpointTimeout"))
      << job_failures_[0].ToString();
}

TEST_F(CheckpointCoordinatorTest, WithAParticipantOneFailedCheckpointFailsTheJob) {
  options_.tolerable_failures = 5;
  auto participant = std::make_shared<FakeParticipant>();
  Make(participant);
  AdvanceAndPoll(options_.interval);
  AdvanceAndPoll(options_.timeout);

  ASSERT_EQ(job_failures_.size(), 1u);
  EXPECT_THAT(job_failures_[0].message(), HasSubstr("exactly-once")) << job_failures_[0].ToString();
  EXPECT_EQ(participant->aborted, std::vector<int64_t>{1});
  EXPECT_TRUE(participant->committed.empty());
}

TEST_F(CheckpointCoordinatorTest, DeclineAbortsWithoutWaitingForTheTimeout) {
  CheckpointCoordinator& coordinator = Make();
  AdvanceAndPoll(options_.interval);
  Ack(source_, 1);
  coordinator.Decline(sink_.index(), 1, Status::IoError("disk full"));
  coordinator.Poll();

  EXPECT_EQ(coordinator.failed_checkpoints(), 1);
  EXPECT_EQ(sink_.events(), Events{"abort 1"});
  EXPECT_FALSE(coordinator.LocationFor(1).has_value());
  ASSERT_EQ(job_failures_.size(), 1u);  // tolerable_failures is 0
  EXPECT_THAT(job_failures_[0], StatusIs(StatusCode::kIoError));
  EXPECT_THAT(job_failures_[0].message(), HasSubstr("task 1 declined checkpoint 1"))
      << job_failures_[0].ToString();
  EXPECT_THAT(job_failures_[0].message(), HasSubstr("disk full"));
}

TEST_F(CheckpointCoordinatorTest, WaitsTheMinimumPauseAfterACompletion) {
  options_.min_pause = milliseconds(800);
  CheckpointCoordinator& coordinator = Make();
  const Clock::TimePoint start = clock_.Now();
  AdvanceAndPoll(options_.interval);  // t = 1000: trigger 1
  clock_.Advance(milliseconds(400));  // t = 1400: complete 1
  AckAll(1);
  // Due at max(last trigger + interval, completion + min pause) = max(2000, 2200).
  EXPECT_EQ(coordinator.Poll(), start + milliseconds(2200));
  AdvanceAndPoll(milliseconds(799));
  EXPECT_EQ(source_.barriers().size(), 1u);
  AdvanceAndPoll(milliseconds(1));
  EXPECT_EQ(source_.barriers().size(), 2u);
  EXPECT_EQ(source_.barriers().back().checkpoint_id, 2);
}

TEST_F(CheckpointCoordinatorTest, NeverReusesAnIdAfterAFailedStart) {
  options_.tolerable_failures = 5;
  // Checkpoint 7 is already complete (say, written by an earlier run): starting it fails.
  {
    Result<SnapshotLocation> location = storage_->BeginCheckpoint(7);
    ASSERT_THAT(location, IsOk());
    CheckpointMetadata metadata;
    metadata.checkpoint_id = 7;
    metadata.job_name = kJob;
    ASSERT_THAT(storage_->Complete(*location, metadata), IsOk());
  }
  CheckpointCoordinator& coordinator = Make(nullptr, /*first_checkpoint_id=*/7);
  AdvanceAndPoll(options_.interval);
  EXPECT_TRUE(source_.events().empty());
  EXPECT_EQ(coordinator.failed_checkpoints(), 1);
  EXPECT_EQ(coordinator.next_checkpoint_id(), 8);
  EXPECT_TRUE(job_failures_.empty());

  // A failed start waits for the next interval too; then 8, and after a timeout 9.
  AdvanceAndPoll(options_.interval - milliseconds(1));
  EXPECT_TRUE(source_.events().empty());
  AdvanceAndPoll(milliseconds(1));
  AdvanceAndPoll(options_.timeout);
  AdvanceAndPoll(options_.interval);
  std::vector<int64_t> ids;
  for (const detail::CheckpointBarrier& barrier : source_.barriers())
    ids.push_back(barrier.checkpoint_id);
  EXPECT_EQ(ids, (std::vector<int64_t>{8, 9}));
}

TEST_F(CheckpointCoordinatorTest, FinalCheckpointOnceAllTasksFinishedReleasesThem) {
  CheckpointCoordinator& coordinator = Make();
  EXPECT_TRUE(coordinator.TakesFinalCheckpoint());
  EXPECT_FALSE(coordinator.TaskFinished(source_.index()).has_value());
  coordinator.Poll();
  EXPECT_TRUE(source_.events().empty()) << "one task still runs: no final checkpoint yet";

  EXPECT_FALSE(coordinator.TaskFinished(sink_.index()).has_value());
  coordinator.Poll();  // at once, not at the interval
  // Finished tasks are triggered directly, the sink included: no barrier can reach them.
  EXPECT_EQ(source_.events(), Events{"trigger 1"});
  EXPECT_EQ(sink_.events(), Events{"trigger 1"});
  AckAll(1);
  coordinator.Poll();
  EXPECT_EQ(source_.events(), (Events{"trigger 1", "complete 1", "release"}));
  EXPECT_EQ(sink_.events(), (Events{"trigger 1", "complete 1", "release"}));

  // Nothing follows the final checkpoint.
  EXPECT_EQ(coordinator.Poll(), std::nullopt);
  AdvanceAndPoll(10 * options_.interval);
  EXPECT_EQ(source_.barriers().size(), 1u);
}

TEST_F(CheckpointCoordinatorTest, ATaskFinishingDuringACheckpointGetsItsBarrier) {
  CheckpointCoordinator& coordinator = Make();
  AdvanceAndPoll(options_.interval);
  Ack(source_, 1);
  EXPECT_FALSE(coordinator.TaskFinished(source_.index()).has_value()) << "already acknowledged";
  std::optional<detail::CheckpointBarrier> missed = coordinator.TaskFinished(sink_.index());
  ASSERT_TRUE(missed.has_value());
  EXPECT_EQ(missed->checkpoint_id, 1);
  EXPECT_EQ(missed->timestamp, source_.barriers()[0].timestamp);
}

TEST_F(CheckpointCoordinatorTest, AFailedFinalCheckpointWithoutParticipantStillReleases) {
  CheckpointCoordinator& coordinator = Make();
  (void)coordinator.TaskFinished(source_.index());
  (void)coordinator.TaskFinished(sink_.index());
  coordinator.Poll();
  AdvanceAndPoll(options_.timeout);
  EXPECT_EQ(sink_.events(), (Events{"trigger 1", "abort 1", "release"}));
  EXPECT_TRUE(job_failures_.empty()) << job_failures_[0].ToString();
}

TEST_F(CheckpointCoordinatorTest, AFailedFinalCheckpointWithParticipantFailsTheJob) {
  auto participant = std::make_shared<FakeParticipant>();
  CheckpointCoordinator& coordinator = Make(participant);
  (void)coordinator.TaskFinished(source_.index());
  (void)coordinator.TaskFinished(sink_.index());
  coordinator.Poll();
  coordinator.Decline(source_.index(), 1, Status::IoError("disk full"));
  coordinator.Poll();

  // The last epoch is not committed: the tasks stay, and the restart replays it.
  EXPECT_EQ(sink_.events(), (Events{"trigger 1", "abort 1"}));
  ASSERT_EQ(job_failures_.size(), 1u);
  EXPECT_THAT(job_failures_[0].message(), HasSubstr("final checkpoint 1"))
      << job_failures_[0].ToString();
}

TEST_F(CheckpointCoordinatorTest, PrunesToTheRetainedNumberOfCheckpoints) {
  options_.retained = 2;
  Make();
  RunCheckpoint(1);
  RunCheckpoint(2);
  EXPECT_EQ(storage_->ListCompleted(), (std::vector<int64_t>{1, 2}));
  RunCheckpoint(3);
  EXPECT_EQ(storage_->ListCompleted(), (std::vector<int64_t>{2, 3}));
  EXPECT_FALSE(fs::exists(storage_->CheckpointDir(1)));
}

TEST_F(CheckpointCoordinatorTest, SavepointCompletesAtOnceAndIsNeverPruned) {
  CheckpointCoordinator& coordinator = Make();
  RunCheckpoint(1);
  std::future<Result<std::string>> outcome = coordinator.RequestSavepoint(dir_.path() / "sp");
  coordinator.Poll();  // not waiting for the interval
  ASSERT_EQ(source_.barriers().size(), 2u);
  EXPECT_EQ(source_.barriers()[1].checkpoint_id, 2);
  EXPECT_TRUE(source_.barriers()[1].is_savepoint);
  EXPECT_EQ(outcome.wait_for(milliseconds(0)), std::future_status::timeout);

  AckAll(2);
  coordinator.Poll();
  ASSERT_EQ(outcome.wait_for(milliseconds(0)), std::future_status::ready);
  Result<std::string> path = outcome.get();
  ASSERT_THAT(path, IsOk());
  EXPECT_EQ(fs::path(*path).parent_path(), dir_.path() / "sp");
  Result<CheckpointMetadata> metadata = CheckpointStorage::ReadMetadataAt(*path);
  ASSERT_THAT(metadata, IsOk());
  EXPECT_TRUE(metadata->is_savepoint);
  EXPECT_EQ(metadata->checkpoint_id, 2);
  EXPECT_EQ(source_.events().back(), "complete 2");

  RunCheckpoint(3);
  RunCheckpoint(4);
  EXPECT_EQ(storage_->ListCompleted(), std::vector<int64_t>{4});
  EXPECT_THAT(CheckpointStorage::ReadMetadataAt(*path), IsOk()) << "the savepoint was pruned";
}

TEST_F(CheckpointCoordinatorTest, StopCancelsPendingAndQueuedSavepoints) {
  CheckpointCoordinator& coordinator = Make();
  std::future<Result<std::string>> first = coordinator.RequestSavepoint(dir_.path() / "sp");
  coordinator.Poll();
  std::future<Result<std::string>> second = coordinator.RequestSavepoint(dir_.path() / "sp");
  coordinator.Stop();

  Result<std::string> first_outcome = first.get();
  EXPECT_THAT(first_outcome, StatusIs(StatusCode::kCancelled));
  EXPECT_THAT(second.get(), StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(source_.events(), (Events{"trigger 1", "abort 1"}));
  EXPECT_THAT(coordinator.RequestSavepoint(dir_.path() / "sp").get(),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_TRUE(job_failures_.empty()) << "stopping is not a failure";
}

TEST_F(CheckpointCoordinatorTest, ParticipantCommitsInOrderBeforeTasksHearOfIt) {
  auto participant = std::make_shared<FakeParticipant>();
  participant->on_complete = [&](const CheckpointCompletion& completion) {
    const int64_t id = completion.id.value();
    // _metadata is durable before the commit; operators hear of the checkpoint only after.
    EXPECT_TRUE(fs::exists(fs::path(completion.storage_path) / "_metadata"));
    EXPECT_EQ(fs::path(completion.storage_path), storage_->CheckpointDir(id));
    const Events events = sink_.events();
    EXPECT_EQ(std::find(events.begin(), events.end(), "complete " + std::to_string(id)),
              events.end());
    return Status::Ok();
  };
  Make(participant);
  RunCheckpoint(1);
  RunCheckpoint(2);
  EXPECT_EQ(participant->committed, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(sink_.events(), (Events{"complete 1", "complete 2"}));
  Result<CheckpointMetadata> metadata = storage_->ReadCheckpointMetadata(2);
  ASSERT_THAT(metadata, IsOk());
  EXPECT_EQ(metadata->status, CheckpointMetadata::Status::kCommitted);
  EXPECT_TRUE(job_failures_.empty());
}

TEST_F(CheckpointCoordinatorTest, AFailedCommitFailsTheJobAndNotifiesNoTask) {
  options_.tolerable_failures = 5;
  auto participant = std::make_shared<FakeParticipant>();
  participant->on_complete = [](const CheckpointCompletion&) {
    return Status::Fenced("another instance took over");
  };
  CheckpointCoordinator& coordinator = Make(participant);
  AdvanceAndPoll(options_.interval);
  AckAll(1);
  coordinator.Poll();

  EXPECT_EQ(participant->committed, std::vector<int64_t>{1});
  EXPECT_EQ(participant->aborted, std::vector<int64_t>{1});
  EXPECT_EQ(coordinator.completed_checkpoints(), 0);
  EXPECT_EQ(coordinator.latest_completed(), std::nullopt);
  EXPECT_TRUE(sink_.events().empty());
  ASSERT_EQ(job_failures_.size(), 1u);
  EXPECT_THAT(job_failures_[0], StatusIs(StatusCode::kFenced));
  Result<CheckpointMetadata> metadata = storage_->ReadCheckpointMetadata(1);
  ASSERT_THAT(metadata, IsOk());
  EXPECT_EQ(metadata->status, CheckpointMetadata::Status::kCompleted) << "never committed";
}

// ---- with the coordinator thread ----

TEST_F(CheckpointCoordinatorTest, ThreadWaitsOnTheClockForTheInterval) {
  // An hour: only the fake clock can make it pass within the test.
  options_.interval = std::chrono::hours(1);
  options_.timeout = std::chrono::hours(10);
  CheckpointCoordinator& coordinator = Make();
  coordinator.Start();
  // Advancing only once the thread waits: a thread that waited on the real clock instead
  // would never see the interval pass.
  ASSERT_TRUE(clock_.AwaitWaiter(kThreadTimeout));
  EXPECT_TRUE(source_.events().empty());
  clock_.Advance(options_.interval);
  ASSERT_TRUE(source_.WaitForEvent("trigger 1"));
  AckAll(1);
  ASSERT_TRUE(sink_.WaitForEvent("complete 1"));
  coordinator.Stop();
  EXPECT_EQ(coordinator.completed_checkpoints(), 1);
  EXPECT_EQ(source_.events(), (Events{"trigger 1", "complete 1"}));
}

TEST_F(CheckpointCoordinatorTest, TriggerSavepointWaitsForTheThreadToComplete) {
  options_.interval = milliseconds(0);  // savepoints only
  CheckpointCoordinator& coordinator = Make();
  EXPECT_FALSE(coordinator.TakesFinalCheckpoint());
  coordinator.Start();
  std::future<Result<std::string>> outcome = std::async(
      std::launch::async, [&] { return coordinator.TriggerSavepoint(dir_.path() / "sp"); });
  ASSERT_TRUE(source_.WaitForEvent("trigger 1"));
  AckAll(1);
  ASSERT_EQ(outcome.wait_for(kThreadTimeout), std::future_status::ready);
  Result<std::string> path = outcome.get();
  ASSERT_THAT(path, IsOk());
  EXPECT_THAT(CheckpointStorage::ReadMetadataAt(*path), IsOk());
  coordinator.Stop();
}

}  // namespace
}  // namespace sluice::internal
