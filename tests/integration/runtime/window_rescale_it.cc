// Windows through checkpoints and rescaling, end to end in one process: a savepoint taken while
// every key has an open event-time window (contents in keyed state, timers pending) restores at
// another parallelism (2 -> 4, 4 -> 2), and every window then fires once with the count of all
// its records, those before the savepoint included.
#include <sluice/sluice.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include <sluice/testing/status_matchers.h>

#include "kafka_test_env.h"
#include "test_jobs.h"

using ::sluice::testing::IsOk;

namespace sluice::testing {
namespace {

constexpr int64_t kTotal = 40'000;
constexpr int64_t kPauseAt = 25'000;  // inside the window [20000, 30000)
constexpr int64_t kWindow = 10'000;   // event time = the record's number, in ms
constexpr int64_t kKeys = 97;

using Record = std::pair<int64_t, int64_t>;                 // key, number (= timestamp)
using WindowCount = std::tuple<int64_t, int64_t, int64_t>;  // key, window start, count

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// Every window result the sinks saw, in any order, from any task thread.
struct WindowResults {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<WindowCount> results;

  void Reset() {
    std::lock_guard lock(mutex);
    results.clear();
  }
  std::vector<WindowCount> Snapshot() {
    std::lock_guard lock(mutex);
    return results;
  }
  bool WaitForWindowsBefore(int64_t start, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] {
      std::set<std::pair<int64_t, int64_t>> seen;
      for (const auto& [key, window, count] : results) {
        if (window < start) seen.emplace(key, window);
      }
      return static_cast<int64_t>(seen.size()) == kKeys * (start / kWindow);
    });
  }
};

WindowResults g_results;

class CollectWindows final : public SinkFunction<WindowCount> {
 public:
  void Invoke(const WindowCount& value, const SinkContext&) override {
    {
      std::lock_guard lock(g_results.mutex);
      g_results.results.push_back(value);
    }
    g_results.changed.notify_all();
  }
};

class CountRecords final : public AggregateFunction<Record, int64_t, int64_t> {
 public:
  int64_t CreateAccumulator() override { return 0; }
  int64_t Add(const Record&, int64_t count) override { return count + 1; }
  int64_t GetResult(const int64_t& count) override { return count; }
  int64_t Merge(int64_t a, int64_t b) override { return a + b; }
};

class WithWindow final : public ProcessWindowFunction<int64_t, WindowCount, int64_t, TimeWindow> {
 public:
  void Process(const int64_t& key, Context& ctx, const std::vector<int64_t>& counts,
               Collector<WindowCount>& out) override {
    out.Collect({key, ctx.Window().Start(), counts.at(0)});
  }
};

void BuildJob(StreamExecutionEnvironment& env, int32_t parallelism, bool stop_at_pause) {
  env.SetParallelism(parallelism).SetHandleSignals(false);
  env.GetCheckpointConfig().SetCheckpointStorage(TempDir("window-chk").string());
  env.EnableCheckpointing(std::chrono::milliseconds(30));
  env.SetAutoWatermarkInterval(std::chrono::milliseconds(5));
  env.AddSource(PausingSequence(kTotal, kPauseAt, stop_at_pause))
      .Uid("source")
      .Map([](int64_t n) { return Record{n % kKeys, n}; })
      .Uid("to-record")
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Record>::ForMonotonousTimestamps().WithTimestampAssigner(
              [](const Record& r, int64_t) { return r.second; }))
      .Uid("timestamps")
      .KeyBy([](const Record& r) { return r.first; })
      .Window(TumblingEventTimeWindows::Of(std::chrono::milliseconds(kWindow)))
      .Aggregate(CountRecords(), WithWindow())
      .Uid("window-count")
      .AddSink(CollectWindows())
      .Uid("sink")
      .SetParallelism(1);
}

void RescaleOpenWindows(int32_t from, int32_t to) {
  g_results.Reset();
  auto first = StreamExecutionEnvironment::Create();
  BuildJob(*first, from, /*stop_at_pause=*/true);
  std::unique_ptr<JobClient> client = first->ExecuteAsync("window-rescale");
  // The windows before [20000, 30000) have fired, so the savepoint comes after them; that one
  // holds records up to the pause, and cannot fire before the input resumes.
  ASSERT_TRUE(g_results.WaitForWindowsBefore(2 * kWindow, Scaled(std::chrono::seconds(60))));
  Result<std::string> savepoint = client->StopWithSavepoint(TempDir("window-savepoints").string());
  ASSERT_THAT(savepoint, IsOk());
  JobExecutionResult stopped = client->WaitForResult();
  EXPECT_EQ(stopped.status, JobStatus::kFinished) << stopped.failure.ToString();
  for (const auto& [key, window, count] : g_results.Snapshot()) {
    EXPECT_LT(window, 2 * kWindow)
        << "window " << window << " of key " << key << " fired before its input was complete";
  }

  auto second = StreamExecutionEnvironment::Create();
  BuildJob(*second, to, /*stop_at_pause=*/false);
  RestoreSettings restore;
  restore.savepoint_path = *savepoint;
  second->SetRestoreSettings(restore);
  JobExecutionResult result = second->Execute("window-rescale");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  ASSERT_TRUE(result.restored_checkpoint.has_value());

  std::map<std::pair<int64_t, int64_t>, int64_t> expected;
  for (int64_t n = 0; n < kTotal; ++n) ++expected[{n % kKeys, n / kWindow * kWindow}];
  std::map<std::pair<int64_t, int64_t>, std::vector<int64_t>> fired;
  for (const auto& [key, window, count] : g_results.Snapshot())
    fired[{key, window}].push_back(count);
  int64_t wrong = 0;
  for (const auto& [window, count] : expected) {
    const auto it = fired.find(window);
    if (it == fired.end() || it->second != std::vector<int64_t>{count}) {
      if (++wrong <= 5) {
        ADD_FAILURE() << "key " << window.first << " window " << window.second << ": expected "
                      << count << " once, fired "
                      << ::testing::PrintToString(it == fired.end() ? std::vector<int64_t>{}
                                                                    : it->second);
      }
    }
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(fired.size(), expected.size());
}

TEST(WindowRescaleIT, OpenWindowsOfASavepointAtParallelism2FireCompleteAt4) {
  RescaleOpenWindows(2, 4);
}

TEST(WindowRescaleIT, OpenWindowsOfASavepointAtParallelism4FireCompleteAt2) {
  RescaleOpenWindows(4, 2);
}

}  // namespace
}  // namespace sluice::testing
