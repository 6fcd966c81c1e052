// The task's thread contract: mail and checkpoints run on the task thread, and in debug builds
// a task-thread-only method called from elsewhere aborts.
#include "runtime/task.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace sluice::internal {
namespace {

using namespace std::chrono_literals;

class NullListener final : public TaskListener {
 public:
  void OnTaskFinished(int32_t) override {}
  void OnTaskFailed(int32_t, Status) override {}
  void OnTaskCanceled(int32_t) override {}
};

// A source that never emits and records on which thread it was asked for a checkpoint.
class IdleSource final : public detail::TaskInput {
 public:
  Status ProcessSome() override { return Status::kNothingAvailable; }
  bool IsSource() const override { return true; }
  void TriggerCheckpoint(const detail::CheckpointBarrier& barrier,
                         detail::TaskHooks& hooks) override {
    hooks.PerformCheckpoint(barrier);  // aborts here in debug builds if off the task thread
    {
      std::lock_guard lock(mutex_);
      triggered_on_ = std::this_thread::get_id();
    }
    cv_.notify_all();
  }
  std::optional<std::thread::id> WaitForTrigger() {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, 30s, [&] { return triggered_on_.has_value(); });
    return triggered_on_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::optional<std::thread::id> triggered_on_;
};

TEST(TaskTest, CheckpointTriggeredFromAnotherThreadRunsOnTheTaskThread) {
  MetricGroup metrics;
  NullListener listener;
  IdleSource source;
  Task task(Task::Config{}, nullptr, &metrics, nullptr, &listener);
  task.SetInput(&source);
  task.Start();
  task.TriggerCheckpoint(detail::CheckpointBarrier{1, 0});
  std::optional<std::thread::id> triggered_on = source.WaitForTrigger();
  task.Cancel();
  task.Join();
  ASSERT_TRUE(triggered_on.has_value()) << "the checkpoint mail never ran";
  EXPECT_NE(*triggered_on, std::this_thread::get_id());
}

#ifndef NDEBUG
TEST(TaskDeathTest, CheckpointOffTheTaskThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MetricGroup metrics;
  NullListener listener;
  Task task(Task::Config{}, nullptr, &metrics, nullptr, &listener);
  EXPECT_DEATH(task.PerformCheckpoint(detail::CheckpointBarrier{1, 0}),
               "Task::PerformCheckpoint off the task thread");
  EXPECT_DEATH(task.AbortCheckpointOnBarrier(1),
               "Task::AbortCheckpointOnBarrier off the task thread");
}
#else
TEST(TaskDeathTest, CheckpointOffTheTaskThreadAborts) {
  GTEST_SKIP() << "the thread check is compiled into debug builds only (scripts/test runs "
                  "them in the ASan+UBSan pass)";
}
#endif

}  // namespace
}  // namespace sluice::internal
