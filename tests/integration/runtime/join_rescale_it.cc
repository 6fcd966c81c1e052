// Joins through savepoints and rescaling, end to end in one process: a job with an interval join
// (buffers of both sides and their cleanup timers in keyed state), a window join and a window
// co-group (tagged-union window contents) is stopped with a savepoint while every key has
// buffered elements and an open window, and restored at another parallelism (2 -> 4, 4 -> 2).
// Every joined pair and every co-group result is then exactly what an uninterrupted run gives,
// each exactly once: pairs whose first element came before the savepoint and whose second after
// it are found only in the restored state.
#include <sluice/sluice.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <sluice/testing/status_matchers.h>

#include "kafka_test_env.h"
#include "test_jobs.h"

namespace sluice::testing {
namespace {

constexpr int64_t kTotal = 40'000;    // numbers 0..kTotal-1, event time = the number
constexpr int64_t kPauseAt = 25'000;  // the savepoint is taken here
constexpr int64_t kKeys = 97;         // key = number % kKeys
constexpr int64_t kWindow = 10'000;   // [20000, 30000) is open at the savepoint
constexpr int64_t kBound = kKeys;     // interval: (l - kBound, l + kBound]; window join: |r - l|

using Event = std::pair<int64_t, int64_t>;  // key, number (= timestamp)
using Pair = std::pair<int64_t, int64_t>;   // left number, right number
// key, window index, left elements, right elements
using Groups = std::tuple<int64_t, int64_t, int64_t, int64_t>;

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// What the sinks saw, from any task thread.
struct Results {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Pair> interval;
  std::vector<Pair> window;
  std::vector<Groups> groups;

  void Reset() {
    std::lock_guard lock(mutex);
    interval.clear();
    window.clear();
    groups.clear();
  }
  template <typename F>
  void Add(F add) {
    {
      std::lock_guard lock(mutex);
      add();
    }
    changed.notify_all();
  }
};

Results g_results;

template <typename T, std::vector<T> Results::* kField>
class Collect final : public SinkFunction<T> {
 public:
  void Invoke(const T& value, const SinkContext&) override {
    g_results.Add([&] { (g_results.*kField).push_back(value); });
  }
};

class IntervalPairs final : public ProcessJoinFunction<Event, Event, Pair> {
 public:
  void ProcessElement(const Event& left, const Event& right, Context& ctx,
                      Collector<Pair>& out) override {
    if (ctx.Timestamp() != std::max(left.second, right.second)) {
      throw std::logic_error("the pair's timestamp is not the larger of the two");
    }
    out.Collect({left.second, right.second});
  }
};

// Pairs of one key and window at most kBound apart (the cross product is computed in full).
class NearPairs final : public FlatJoinFunction<Event, Event, Pair> {
 public:
  void Join(const Event& left, const Event& right, Collector<Pair>& out) override {
    if (std::abs(left.second - right.second) <= kBound) out.Collect({left.second, right.second});
  }
};

class CountSides final : public CoGroupFunction<Event, Event, Groups> {
 public:
  void CoGroup(const std::vector<Event>& left, const std::vector<Event>& right,
               Collector<Groups>& out) override {
    const Event& any = left.empty() ? right.front() : left.front();
    out.Collect({any.first, any.second / kWindow, static_cast<int64_t>(left.size()),
                 static_cast<int64_t>(right.size())});
  }
};

void BuildJob(StreamExecutionEnvironment& env, int32_t parallelism, bool stop_at_pause) {
  env.SetParallelism(parallelism).SetHandleSignals(false);
  env.SetMaxParallelism(32);
  env.GetCheckpointConfig().SetCheckpointStorage(TempDir("join-chk").string());
  env.EnableCheckpointing(std::chrono::milliseconds(30));
  env.SetAutoWatermarkInterval(std::chrono::milliseconds(5));

  auto by_number = WatermarkStrategy<Event>::ForMonotonousTimestamps().WithTimestampAssigner(
      [](const Event& e, int64_t) { return e.second; });
  auto numbers = env.AddSource(PausingSequence(kTotal, kPauseAt, stop_at_pause)).Uid("numbers");
  // Left: every number; right: the even ones. Same keys, same event time.
  auto left = numbers.Map([](int64_t n) { return Event{n % kKeys, n}; })
                  .Uid("left-events")
                  .AssignTimestampsAndWatermarks(by_number)
                  .Uid("left-timestamps");
  // Filtered after the timestamps: an instance that happens to get only odd numbers still
  // sends watermarks (one without elements would hold every window back).
  auto right = numbers.Map([](int64_t n) { return Event{n % kKeys, n}; })
                   .Uid("right-events")
                   .AssignTimestampsAndWatermarks(by_number)
                   .Uid("right-timestamps")
                   .Filter([](const Event& e) { return e.second % 2 == 0; })
                   .Uid("even");
  auto key = [](const Event& e) { return e.first; };

  left.KeyBy(key)
      .IntervalJoin(right.KeyBy(key))
      .Between(std::chrono::milliseconds(-kBound), std::chrono::milliseconds(kBound))
      .LowerBoundExclusive()
      .Process(IntervalPairs())
      .Uid("interval-join")
      .AddSink(Collect<Pair, &Results::interval>())
      .Uid("interval-sink")
      .SetParallelism(1);
  left.Join(right)
      .Where(key)
      .EqualTo(key)
      .Window(TumblingEventTimeWindows::Of(std::chrono::milliseconds(kWindow)))
      .Apply(NearPairs())
      .Uid("window-join")
      .AddSink(Collect<Pair, &Results::window>())
      .Uid("window-sink")
      .SetParallelism(1);
  left.CoGroup(right)
      .Where(key)
      .EqualTo(key)
      .Window(TumblingEventTimeWindows::Of(std::chrono::milliseconds(kWindow)))
      .Apply(CountSides())
      .Uid("cogroup")
      .AddSink(Collect<Groups, &Results::groups>())
      .Uid("cogroup-sink")
      .SetParallelism(1);
}

bool IsRight(int64_t n) { return n % 2 == 0; }

std::vector<Pair> ExpectedIntervalPairs() {
  std::vector<Pair> pairs;
  for (int64_t l = 0; l < kTotal; ++l) {
    // Same key means a multiple of kKeys apart; the bounds are (-kBound, kBound].
    for (int64_t r = l; r <= l + kBound && r < kTotal; r += kKeys) {
      if (IsRight(r)) pairs.emplace_back(l, r);
    }
  }
  return pairs;
}

std::vector<Pair> ExpectedWindowPairs(int64_t before_window = kTotal) {
  std::vector<Pair> pairs;
  for (int64_t l = 0; l < kTotal && l / kWindow < before_window; ++l) {
    for (int64_t r = std::max<int64_t>(0, l - kBound); r <= l + kBound && r < kTotal; r += 1) {
      if ((r - l) % kKeys == 0 && IsRight(r) && r / kWindow == l / kWindow) {
        pairs.emplace_back(l, r);
      }
    }
  }
  return pairs;
}

std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> ExpectedGroups() {
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, int64_t>> groups;
  for (int64_t n = 0; n < kTotal; ++n) {
    auto& counts = groups[{n % kKeys, n / kWindow}];
    ++counts.first;
    if (IsRight(n)) ++counts.second;
  }
  return groups;
}

template <typename T>
std::vector<T> Sorted(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  return values;
}

// Each expected value exactly once (a few differences shown, not thousands).
template <typename T>
void ExpectExactlyOnce(const char* what, std::vector<T> actual, std::vector<T> expected) {
  actual = Sorted(std::move(actual));
  expected = Sorted(std::move(expected));
  if (actual == expected) return;
  std::vector<T> missing;
  std::set_difference(expected.begin(), expected.end(), actual.begin(), actual.end(),
                      std::back_inserter(missing));
  std::vector<T> extra;
  std::set_difference(actual.begin(), actual.end(), expected.begin(), expected.end(),
                      std::back_inserter(extra));
  missing.resize(std::min<size_t>(missing.size(), 5));
  extra.resize(std::min<size_t>(extra.size(), 5));
  ADD_FAILURE() << what << ": " << actual.size() << " results, expected " << expected.size()
                << "; missing e.g. " << ::testing::PrintToString(missing)
                << ", extra or repeated e.g. " << ::testing::PrintToString(extra);
}

void RescaleJoins(int32_t from, int32_t to) {
  g_results.Reset();
  auto first = StreamExecutionEnvironment::Create();
  BuildJob(*first, from, /*stop_at_pause=*/true);
  std::unique_ptr<JobClient> client = first->ExecuteAsync("join-rescale");
  // The savepoint comes once the windows before [20000, 30000) have fired in both window
  // operators (so none of them fires again after the barrier); that one holds elements up to
  // the pause and cannot fire before the input resumes.
  const size_t window_pairs_before = ExpectedWindowPairs(2).size();
  bool fired = false;
  {
    std::unique_lock lock(g_results.mutex);
    fired = g_results.changed.wait_for(lock, Scaled(std::chrono::seconds(60)), [&] {
      return g_results.groups.size() == static_cast<size_t>(2 * kKeys) &&
             g_results.window.size() == window_pairs_before;
    });
    EXPECT_TRUE(fired) << g_results.groups.size() << " co-groups, " << g_results.window.size()
                       << " window pairs of " << window_pairs_before << ", "
                       << g_results.interval.size() << " interval pairs";
  }
  if (!fired) {
    for (const auto& [name, value] : client->GetMetrics()) {
      if (name.find("Late") != std::string::npos || name.find("Watermark") != std::string::npos)
        ADD_FAILURE() << name << " = " << value;
    }
    client->Cancel();
    client->WaitForResult();
    return;
  }
  Result<std::string> savepoint = client->StopWithSavepoint(TempDir("join-savepoints").string());
  ASSERT_THAT(savepoint, IsOk());
  JobExecutionResult stopped = client->WaitForResult();
  EXPECT_EQ(stopped.status, JobStatus::kFinished) << stopped.failure.ToString();
  {
    std::lock_guard lock(g_results.mutex);
    for (const auto& [key, window, lefts, rights] : g_results.groups) {
      EXPECT_LT(window, 2) << "window " << window << " of key " << key << " fired early";
    }
    // Pairs are emitted as their second element arrives: none after the pause yet.
    for (const auto& [l, r] : g_results.interval) ASSERT_LT(std::max(l, r), kPauseAt);
  }

  auto second = StreamExecutionEnvironment::Create();
  BuildJob(*second, to, /*stop_at_pause=*/false);
  RestoreSettings restore;
  restore.savepoint_path = *savepoint;
  second->SetRestoreSettings(restore);
  JobExecutionResult result = second->Execute("join-rescale");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  ASSERT_TRUE(result.restored_checkpoint.has_value());

  std::lock_guard lock(g_results.mutex);
  ExpectExactlyOnce("interval join", g_results.interval, ExpectedIntervalPairs());
  ExpectExactlyOnce("window join", g_results.window, ExpectedWindowPairs());
  std::vector<Groups> expected_groups;
  for (const auto& [key_window, counts] : ExpectedGroups()) {
    expected_groups.emplace_back(key_window.first, key_window.second, counts.first, counts.second);
  }
  ExpectExactlyOnce("co-group", g_results.groups, expected_groups);
  // The pairs that span the savepoint exist: the restored state was used.
  EXPECT_TRUE(std::any_of(g_results.interval.begin(), g_results.interval.end(), [](const Pair& p) {
    return std::min(p.first, p.second) < kPauseAt && std::max(p.first, p.second) >= kPauseAt;
  }));
}

TEST(JoinRescaleIT, JoinStateOfASavepointAt2RestoresAt4) { RescaleJoins(2, 4); }

TEST(JoinRescaleIT, JoinStateOfASavepointAt4RestoresAt2) { RescaleJoins(4, 2); }

}  // namespace
}  // namespace sluice::testing
