// Jobs and helpers shared by the runtime integration tests and the counting_job binary: a
// source that pauses at a midpoint until a checkpoint covers it, a keyed count, a failure
// injector, a sink that remembers the latest count per key, and running a job with a bound.
#pragma once

#include <sluice/sluice.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace sluice::testing {

using Count = std::pair<int64_t, int64_t>;

// Emits 0..total-1 in order; its position is checkpointed. At `pause_at` it waits until a
// checkpoint completed after reaching it, so the test knows a checkpoint covers the first part.
class PausingSequence final : public RichSourceFunction<int64_t>,
                              public CheckpointedFunction,
                              public CheckpointListener {
 public:
  PausingSequence(int64_t total, int64_t pause_at, bool stop_at_pause = false)
      : total_(total), pause_at_(pause_at), stop_at_pause_(stop_at_pause) {}
  PausingSequence(const PausingSequence& other)
      : RichSourceFunction<int64_t>(),
        total_(other.total_),
        pause_at_(other.pause_at_),
        stop_at_pause_(other.stop_at_pause_) {}

  void Open() override {
    state_ = &GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("next"));
    for (int64_t n : state_->Get()) next_ = n;
  }
  void Run(SourceContext<int64_t>& ctx) override {
    while (running_ && next_ < total_) {
      if (next_ == pause_at_ && !passed_pause_) {
        std::unique_lock lock(mutex_);
        checkpointed_ = false;
        cv_.wait(lock, [&] { return checkpointed_ || !running_; });
        passed_pause_ = true;
        // Hold here until cancelled: the test takes a savepoint or kills the job now.
        if (stop_at_pause_) {
          std::printf("paused after checkpoint\n");
          std::fflush(stdout);
          cv_.wait(lock, [&] { return !running_.load(); });
        }
        continue;
      }
      std::lock_guard lock(ctx.GetCheckpointLock());
      ctx.Collect(next_);
      ++next_;
    }
  }
  void Cancel() override {
    running_ = false;
    cv_.notify_all();
  }
  void SnapshotState(CheckpointId) override { state_->Update({next_}); }
  void NotifyCheckpointComplete(CheckpointId) override {
    std::lock_guard lock(mutex_);
    if (next_ == pause_at_) checkpointed_ = true;
    cv_.notify_all();
  }

 private:
  int64_t total_;
  int64_t pause_at_;
  bool stop_at_pause_;
  int64_t next_ = 0;
  bool passed_pause_ = false;
  ListState<int64_t>* state_ = nullptr;
  std::atomic<bool> running_{true};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool checkpointed_ = false;
};

/// A one-shot event another thread waits for (bounded).
class Event {
 public:
  void Set() {
    {
      std::lock_guard lock(mutex_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

// Emits 0..total-1 like PausingSequence, but once a checkpoint covers `hold_at` it keeps its
// checkpoint lock until cancelled: the task can inject no barrier, so no checkpoint or
// savepoint completes, while the job is running and healthy (a stuck job, as far as the
// coordinator can tell). Prints "holding the checkpoint lock" and sets `holding` (if given)
// when it starts to hold.
class LockHoldingSequence final : public RichSourceFunction<int64_t>,
                                  public CheckpointedFunction,
                                  public CheckpointListener {
 public:
  LockHoldingSequence(int64_t total, int64_t hold_at, std::shared_ptr<Event> holding = nullptr)
      : total_(total), hold_at_(hold_at), holding_(std::move(holding)) {}
  LockHoldingSequence(const LockHoldingSequence& other)
      : RichSourceFunction<int64_t>(),
        total_(other.total_),
        hold_at_(other.hold_at_),
        holding_(other.holding_) {}

  void Open() override {
    state_ = &GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("next"));
    for (int64_t n : state_->Get()) next_ = n;
  }
  void Run(SourceContext<int64_t>& ctx) override {
    while (running_ && next_ < total_) {
      if (next_ == hold_at_) {
        {
          std::unique_lock lock(mutex_);
          cv_.wait(lock, [&] { return checkpointed_ || !running_; });
        }
        std::lock_guard held(ctx.GetCheckpointLock());
        std::printf("holding the checkpoint lock\n");
        std::fflush(stdout);
        if (holding_ != nullptr) holding_->Set();
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !running_.load(); });
        return;
      }
      std::lock_guard lock(ctx.GetCheckpointLock());
      ctx.Collect(next_);
      ++next_;
    }
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    running_ = false;
    cv_.notify_all();
  }
  void SnapshotState(CheckpointId) override { state_->Update({next_}); }
  void NotifyCheckpointComplete(CheckpointId) override {
    std::lock_guard lock(mutex_);
    if (next_ == hold_at_) checkpointed_ = true;
    cv_.notify_all();
  }

 private:
  int64_t total_;
  int64_t hold_at_;
  std::shared_ptr<Event> holding_;
  int64_t next_ = 0;
  ListState<int64_t>* state_ = nullptr;
  std::atomic<bool> running_{true};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool checkpointed_ = false;
};

// Emits 0..total-1 from its checkpointed position and throws on reaching `fail_at`, in every
// attempt: a source that keeps failing, so the job restarts without end. Prints
// "source failing at <n>" before each throw.
class FailingSequence final : public RichSourceFunction<int64_t>, public CheckpointedFunction {
 public:
  FailingSequence(int64_t total, int64_t fail_at) : total_(total), fail_at_(fail_at) {}
  FailingSequence(const FailingSequence& other)
      : RichSourceFunction<int64_t>(), total_(other.total_), fail_at_(other.fail_at_) {}

  void Open() override {
    state_ = &GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("next"));
    for (int64_t n : state_->Get()) next_ = n;
  }
  void Run(SourceContext<int64_t>& ctx) override {
    while (running_ && next_ < total_) {
      if (next_ == fail_at_) {
        std::printf("source failing at %lld\n", static_cast<long long>(next_));
        std::fflush(stdout);
        throw std::runtime_error("injected source failure at " + std::to_string(next_));
      }
      std::lock_guard lock(ctx.GetCheckpointLock());
      ctx.Collect(next_);
      ++next_;
    }
  }
  void Cancel() override { running_ = false; }
  void SnapshotState(CheckpointId) override { state_->Update({next_}); }

 private:
  int64_t total_;
  int64_t fail_at_;
  int64_t next_ = 0;
  ListState<int64_t>* state_ = nullptr;
  std::atomic<bool> running_{true};
};

// Counts records per key in keyed state.
class CountPerKey final : public KeyedProcessFunction<int64_t, int64_t, Count> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement(int64_t, Context& ctx, Collector<Count>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect({ctx.GetCurrentKey(), count});
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
};

// Throws once, in the first attempt, when it sees `fail_at`.
class FailOnce final : public RichMapFunction<int64_t, int64_t> {
 public:
  explicit FailOnce(int64_t fail_at) : fail_at_(fail_at) {}
  int64_t Map(int64_t value) override {
    if (value == fail_at_ && GetRuntimeContext().GetAttemptNumber() == 0) {
      throw std::runtime_error("injected failure at " + std::to_string(value));
    }
    return value;
  }

 private:
  int64_t fail_at_;
};

/// Latest count per key, written by LatestPerKeySink from any task thread.
struct LatestCounts {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int64_t, int64_t> latest;
  int64_t records = 0;

  void Reset() {
    std::lock_guard lock(mutex);
    latest.clear();
    records = 0;
  }
  std::map<int64_t, int64_t> Snapshot() {
    std::lock_guard lock(mutex);
    return latest;
  }
  /// Waits (bounded) until `predicate(latest, records)` holds.
  template <typename P>
  bool WaitFor(P predicate, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return predicate(latest, records); });
  }
};

class LatestPerKeySink final : public SinkFunction<std::pair<int64_t, int64_t>> {
 public:
  explicit LatestPerKeySink(LatestCounts* out) : out_(out) {}
  void Invoke(const std::pair<int64_t, int64_t>& value, const SinkContext&) override {
    {
      std::lock_guard lock(out_->mutex);
      // Counts only grow; a replay after a restore may repeat older ones.
      int64_t& slot = out_->latest[value.first];
      if (value.second > slot) slot = value.second;
      ++out_->records;
    }
    out_->changed.notify_all();
  }

 private:
  LatestCounts* out_;
};

/// Keeps the latest count per key and prints them all when the input ends:
/// "final <key> <count>" lines.
class FinalCountsSink final : public SinkFunction<Count> {
 public:
  void Invoke(const Count& value, const SinkContext&) override {
    int64_t& slot = latest_[value.first];
    if (value.second > slot) slot = value.second;
  }
  void Finish() override {
    for (auto [key, count] : latest_)
      std::printf("final %lld %lld\n", static_cast<long long>(key), static_cast<long long>(count));
    std::fflush(stdout);
  }

 private:
  std::map<int64_t, int64_t> latest_;
};

/// Runs the job and returns its result. A job still running after `timeout` (one restarting
/// without end, say) is cancelled, so that a wrong restart decision fails the test instead of
/// hanging it: its result is then kCanceled.
inline JobExecutionResult ExecuteWithin(StreamExecutionEnvironment& env, const std::string& name,
                                        std::chrono::milliseconds timeout) {
  std::unique_ptr<JobClient> client = env.ExecuteAsync(name);
  std::future<JobExecutionResult> result =
      std::async(std::launch::async, [&client] { return client->WaitForResult(); });
  if (result.wait_for(timeout) != std::future_status::ready) client->Cancel();
  return result.get();
}

}  // namespace sluice::testing
