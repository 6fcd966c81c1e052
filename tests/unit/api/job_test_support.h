// Helpers for the DataStream API behaviour tests: they run real in-process jobs and collect
// what the sinks saw.
//
// Threads: sinks run on task threads; Collected<T> is the only object they share with the
// test thread, and it is mutex-protected. A Collected<T> must outlive the job that writes to
// it (Execute() blocks; after ExecuteAsync(), call WaitForResult() before it goes away).
#pragma once

#include <sluice/sluice.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sluice::apitest {

/// `base`, multiplied by SLUICE_TEST_TIMEOUT_SCALE (>= 1) for slow builds such as sanitizers.
inline std::chrono::milliseconds Scaled(std::chrono::milliseconds base) {
  const char* text = std::getenv("SLUICE_TEST_TIMEOUT_SCALE");
  double scale = text != nullptr ? std::strtod(text, nullptr) : 1.0;
  if (scale < 1) scale = 1;
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) * scale));
}

/// Every record a sink saw, in arrival order.
template <typename T>
class Collected {
 public:
  void Add(T value) {
    {
      std::lock_guard lock(mutex_);
      values_.push_back(std::move(value));
    }
    changed_.notify_all();
  }
  std::vector<T> Values() const {
    std::lock_guard lock(mutex_);
    return values_;
  }
  /// The values sorted: for outputs of parallel instances, whose interleaving is not defined.
  std::vector<T> Sorted() const {
    std::vector<T> values = Values();
    std::sort(values.begin(), values.end());
    return values;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return values_.size();
  }
  /// Waits (bounded) until at least `n` values arrived.
  bool WaitForSize(size_t n, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return values_.size() >= n; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<T> values_;
};

/// Appends every record to a Collected<T> (each parallel instance holds the same pointer).
template <typename T>
class CollectSink final : public SinkFunction<T> {
 public:
  explicit CollectSink(Collected<T>* out) : out_(out) {}
  void Invoke(const T& value, const SinkContext&) override { out_->Add(value); }

 private:
  Collected<T>* out_;
};

/// Tags each record with the index of the parallel instance that mapped it.
template <typename T>
class TagWithSubtask final : public RichMapFunction<T, std::pair<int32_t, T>> {
 public:
  std::pair<int32_t, T> Map(T value) override {
    return {this->GetRuntimeContext().GetIndexOfThisSubtask(), std::move(value)};
  }
};

/// Records per subtask index, from the output of TagWithSubtask.
template <typename T>
std::map<int32_t, std::vector<T>> BySubtask(const std::vector<std::pair<int32_t, T>>& tagged) {
  std::map<int32_t, std::vector<T>> out;
  for (const auto& [subtask, value] : tagged) out[subtask].push_back(value);
  return out;
}

/// Opened by the test to let a HoldingSource end.
class Gate {
 public:
  void Open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  /// Waits until the gate opens, `stop` becomes true (poked through Poke()), or `timeout`.
  bool Wait(const std::atomic<bool>& stop, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return open_ || stop.load(); });
  }
  void Poke() {
    std::lock_guard lock(mutex_);
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

/// Emits `elements` (with their event timestamps when given) and then stays running until the
/// gate opens or the job is cancelled, so the job does not reach its end of input while the
/// test waits for something (timers, idleness) that must happen in a running job. The wait is
/// bounded (`hold`), so a test whose condition never comes fails instead of hanging.
template <typename T>
class HoldingSource final : public SourceFunction<T> {
 public:
  HoldingSource(std::vector<std::pair<T, int64_t>> elements, Gate* gate,
                std::chrono::milliseconds hold = Scaled(std::chrono::seconds(30)))
      : elements_(std::move(elements)), gate_(gate), hold_(hold) {}
  HoldingSource(const HoldingSource& other)
      : SourceFunction<T>(), elements_(other.elements_), gate_(other.gate_), hold_(other.hold_) {}

  void Run(SourceContext<T>& ctx) override {
    for (auto& [value, timestamp] : elements_) {
      if (cancelled_) return;
      if (timestamp == kNoTimestamp) {
        ctx.Collect(value);
      } else {
        ctx.CollectWithTimestamp(value, timestamp);
      }
    }
    gate_->Wait(cancelled_, hold_);
  }
  void Cancel() override {
    cancelled_ = true;
    gate_->Poke();
  }

 private:
  std::vector<std::pair<T, int64_t>> elements_;
  Gate* gate_;
  std::chrono::milliseconds hold_;
  std::atomic<bool> cancelled_{false};
};

/// Emits 0, 1, 2, ... until cancelled (an unbounded source).
class EndlessCounter final : public SourceFunction<int64_t> {
 public:
  EndlessCounter() = default;
  EndlessCounter(const EndlessCounter&) : SourceFunction<int64_t>() {}
  void Run(SourceContext<int64_t>& ctx) override {
    for (int64_t n = 0; !cancelled_; ++n) {
      std::lock_guard lock(ctx.GetCheckpointLock());
      ctx.Collect(n);
    }
  }
  void Cancel() override { cancelled_ = true; }

 private:
  std::atomic<bool> cancelled_{false};
};

/// A fresh environment for a test: no signal handling, the given default parallelism.
inline std::unique_ptr<StreamExecutionEnvironment> TestEnv(int32_t parallelism) {
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(parallelism).SetHandleSignals(false);
  return env;
}

}  // namespace sluice::apitest
