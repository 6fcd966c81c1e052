// Connected and broadcast streams through checkpoints and rescaling, end to end in one process:
// a job with keyed connect state (a KeyedCoProcessFunction's sums and its event-time timers) and
// broadcast state (a KeyedBroadcastProcessFunction's rules) is stopped with a savepoint midway
// and restored at another parallelism (2 -> 4, 4 -> 2), and every key's result is then exactly
// what an uninterrupted run gives. The rules source has finished before the savepoint, so after
// the restore the rules exist only in the restored broadcast state: a copy lost on any new
// instance leaves that instance's keys waiting for rules. A run that fails once after a
// checkpoint and restores it gives the same results (barriers aligned across both inputs).
#include <sluice/sluice.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <sluice/testing/status_matchers.h>

#include "kafka_test_env.h"
#include "test_jobs.h"

using ::sluice::testing::IsOk;

namespace sluice::testing {
namespace {

constexpr int64_t kTotal = 40'000;    // numbers 0..kTotal-1, event time = the number
constexpr int64_t kPauseAt = 25'000;  // the savepoint is taken here
constexpr int64_t kOthers = 5'000;    // the second keyed input: 0..kOthers-1
constexpr int64_t kKeys = 97;
constexpr int64_t kClasses = 7;          // a key's rule is that of its class, key % kClasses
constexpr int64_t kEnd = 1'000'000'000;  // every timer is here: fired by the end of input only

using Event = std::pair<int64_t, int64_t>;  // key, value
using Rule = std::pair<int64_t, int64_t>;   // class, factor
// key, sum of input 1, count of input 1, sum of input 2, count of input 2
using Sums = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>;
// key, weighted sum, values still waiting for a rule, elements seen
using Weighted = std::tuple<int64_t, int64_t, int64_t, int64_t>;

int64_t FactorOf(int64_t cls) { return cls + 2; }

const MapStateDescriptor<int64_t, int64_t> kRules("rules");

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// What the two sinks saw, from any task thread.
struct Results {
  std::mutex mutex;
  std::vector<Sums> sums;
  std::vector<Weighted> weighted;

  void Reset() {
    std::lock_guard lock(mutex);
    sums.clear();
    weighted.clear();
  }
};

Results g_results;
// Progress of the first run, for when to take the savepoint: the highest number mapped, and the
// rules the broadcast instances have applied.
struct Progress {
  std::mutex mutex;
  std::condition_variable changed;
  int64_t highest_number = -1;
  int64_t rules_applied = 0;

  void Reset() {
    std::lock_guard lock(mutex);
    highest_number = -1;
    rules_applied = 0;
  }
  template <typename F>
  void Update(F update) {
    {
      std::lock_guard lock(mutex);
      update();
    }
    changed.notify_all();
  }
};

Progress g_progress;

class NoteNumber final : public RichMapFunction<int64_t, int64_t> {
 public:
  int64_t Map(int64_t n) override {
    // Only the last number before the pause matters (the numbers come in order).
    if (n == kPauseAt - 1) g_progress.Update([&] { g_progress.highest_number = n; });
    return n;
  }
};

class CollectSums final : public SinkFunction<Sums> {
 public:
  void Invoke(const Sums& value, const SinkContext&) override {
    std::lock_guard lock(g_results.mutex);
    g_results.sums.push_back(value);
  }
};

class CollectWeighted final : public SinkFunction<Weighted> {
 public:
  void Invoke(const Weighted& value, const SinkContext&) override {
    std::lock_guard lock(g_results.mutex);
    g_results.weighted.push_back(value);
  }
};

// Keyed connect: per key the sum and count of both inputs, reported by one event-time timer
// registered with the key's first element (so after a restore only the restored timer reports).
class SumBoth final : public KeyedCoProcessFunction<int64_t, Event, Event, Sums> {
 public:
  void Open() override {
    auto& ctx = GetRuntimeContext();
    sum1_ = &ctx.GetState(ValueStateDescriptor<int64_t>("sum1"));
    count1_ = &ctx.GetState(ValueStateDescriptor<int64_t>("count1"));
    sum2_ = &ctx.GetState(ValueStateDescriptor<int64_t>("sum2"));
    count2_ = &ctx.GetState(ValueStateDescriptor<int64_t>("count2"));
  }
  void ProcessElement1(Event e, Context& ctx, Collector<Sums>&) override {
    ArmOnce(ctx);
    sum1_->Update(sum1_->Value().value_or(0) + e.second);
    count1_->Update(count1_->Value().value_or(0) + 1);
  }
  void ProcessElement2(Event e, Context& ctx, Collector<Sums>&) override {
    ArmOnce(ctx);
    sum2_->Update(sum2_->Value().value_or(0) + e.second);
    count2_->Update(count2_->Value().value_or(0) + 1);
  }
  void OnTimer(int64_t, OnTimerContext& ctx, Collector<Sums>& out) override {
    out.Collect({ctx.GetCurrentKey(), sum1_->Value().value_or(0), count1_->Value().value_or(0),
                 sum2_->Value().value_or(0), count2_->Value().value_or(0)});
  }

 private:
  void ArmOnce(Context& ctx) {
    if (count1_->Value() || count2_->Value()) return;
    ctx.TimerService().RegisterEventTimeTimer(kEnd);
  }
  ValueState<int64_t>* sum1_ = nullptr;
  ValueState<int64_t>* count1_ = nullptr;
  ValueState<int64_t>* sum2_ = nullptr;
  ValueState<int64_t>* count2_ = nullptr;
};

// Keyed broadcast: each value weighted by its key's class factor from the broadcast rules;
// values that come before their rule wait in keyed state until it arrives (ApplyToKeyedState).
class WeighByRules final : public KeyedBroadcastProcessFunction<int64_t, Event, Rule, Weighted> {
 public:
  void Open() override {
    auto& ctx = GetRuntimeContext();
    weighted_ = &ctx.GetState(ValueStateDescriptor<int64_t>("weighted"));
    seen_ = &ctx.GetState(ValueStateDescriptor<int64_t>("seen"));
    waiting_ = &ctx.GetListState(kWaiting);
  }
  void ProcessElement(Event e, ReadOnlyContext& ctx, Collector<Weighted>&) override {
    if (!seen_->Value()) ctx.TimerService().RegisterEventTimeTimer(kEnd);
    seen_->Update(seen_->Value().value_or(0) + 1);
    if (auto factor = ctx.GetBroadcastState(kRules).Get(e.first % kClasses)) {
      weighted_->Update(weighted_->Value().value_or(0) + e.second * *factor);
    } else {
      waiting_->Add(e.second);
    }
  }
  void ProcessBroadcastElement(Rule r, Context& ctx, Collector<Weighted>&) override {
    ctx.GetBroadcastState(kRules).Put(r.first, r.second);
    g_progress.Update([] { ++g_progress.rules_applied; });
    ctx.ApplyToKeyedState(kWaiting, [&](const int64_t& key, ListState<int64_t>& waiting) {
      if (key % kClasses != r.first) return;
      int64_t sum = 0;
      for (int64_t value : waiting.Get()) sum += value;
      waiting.Clear();
      weighted_->Update(weighted_->Value().value_or(0) + sum * r.second);
    });
  }
  void OnTimer(int64_t, OnTimerContext& ctx, Collector<Weighted>& out) override {
    out.Collect({ctx.GetCurrentKey(), weighted_->Value().value_or(0),
                 static_cast<int64_t>(waiting_->Get().size()), seen_->Value().value_or(0)});
  }

 private:
  static inline const ListStateDescriptor<int64_t> kWaiting{"waiting"};
  ValueState<int64_t>* weighted_ = nullptr;
  ValueState<int64_t>* seen_ = nullptr;
  ListState<int64_t>* waiting_ = nullptr;
};

WatermarkStrategy<Event> ByValue() {
  return WatermarkStrategy<Event>::ForMonotonousTimestamps().WithTimestampAssigner(
      [](const Event& e, int64_t) { return e.second; });
}

void BuildJob(StreamExecutionEnvironment& env, int32_t parallelism, bool stop_at_pause,
              int64_t fail_at = -1) {
  env.SetParallelism(parallelism).SetHandleSignals(false);
  env.SetMaxParallelism(32);
  env.GetCheckpointConfig().SetCheckpointStorage(TempDir("connect-chk").string());
  env.EnableCheckpointing(std::chrono::milliseconds(30));
  env.SetAutoWatermarkInterval(std::chrono::milliseconds(5));
  env.SetRestartStrategy(RestartStrategy::FixedDelay(1, std::chrono::milliseconds(10)));

  auto numbers = env.AddSource(PausingSequence(kTotal, kPauseAt, stop_at_pause))
                     .Uid("numbers")
                     .Map(FailOnce(fail_at))
                     .Uid("fail-once")
                     .Map(NoteNumber())
                     .Uid("note-number")
                     .Map([](int64_t n) { return Event{n % kKeys, n}; })
                     .Uid("numbers-events")
                     .AssignTimestampsAndWatermarks(ByValue())
                     .Uid("numbers-timestamps");
  auto others = env.GenerateSequence(0, kOthers - 1)
                    .SetParallelism(1)
                    .Uid("others")
                    .Map([](int64_t m) { return Event{m % kKeys, m}; })
                    .SetParallelism(1)
                    .Uid("others-events")
                    .AssignTimestampsAndWatermarks(ByValue())
                    .SetParallelism(1)
                    .Uid("others-timestamps");
  auto rules = env.GenerateSequence(0, kClasses - 1)
                   .SetParallelism(1)
                   .Uid("rules")
                   .Map([](int64_t cls) { return Rule{cls, FactorOf(cls)}; })
                   .SetParallelism(1)
                   .Uid("rule-records");

  auto by_key = [](const Event& e) { return e.first; };
  numbers.KeyBy(by_key)
      .Connect(others.KeyBy(by_key))
      .Process(SumBoth())
      .Uid("keyed-connect")
      .AddSink(CollectSums())
      .Uid("sums-sink")
      .SetParallelism(1);
  numbers.KeyBy(by_key)
      .Connect(rules.Broadcast(kRules))
      .Process(WeighByRules())
      .Uid("keyed-broadcast")
      .AddSink(CollectWeighted())
      .Uid("weighted-sink")
      .SetParallelism(1);
}

// Checks every key's result against an uninterrupted run's, each exactly once.
void ExpectResultsOfAnUninterruptedRun() {
  std::map<int64_t, Sums> expected_sums;
  std::map<int64_t, Weighted> expected_weighted;
  for (int64_t key = 0; key < kKeys; ++key) {
    expected_sums[key] = {key, 0, 0, 0, 0};
    expected_weighted[key] = {key, 0, 0, 0};
  }
  for (int64_t n = 0; n < kTotal; ++n) {
    Sums& s = expected_sums[n % kKeys];
    std::get<1>(s) += n;
    ++std::get<2>(s);
    Weighted& w = expected_weighted[n % kKeys];
    std::get<1>(w) += n * FactorOf(n % kKeys % kClasses);
    ++std::get<3>(w);
  }
  for (int64_t m = 0; m < kOthers; ++m) {
    Sums& s = expected_sums[m % kKeys];
    std::get<3>(s) += m;
    ++std::get<4>(s);
  }

  std::lock_guard lock(g_results.mutex);
  std::map<int64_t, std::vector<Sums>> sums;
  for (const Sums& s : g_results.sums) sums[std::get<0>(s)].push_back(s);
  std::map<int64_t, std::vector<Weighted>> weighted;
  for (const Weighted& w : g_results.weighted) weighted[std::get<0>(w)].push_back(w);
  int64_t wrong = 0;
  for (int64_t key = 0; key < kKeys; ++key) {
    if (sums[key] != std::vector<Sums>{expected_sums[key]} && ++wrong <= 5) {
      ADD_FAILURE() << "keyed connect, key " << key << ": expected "
                    << ::testing::PrintToString(expected_sums[key]) << " once, got "
                    << ::testing::PrintToString(sums[key]);
    }
    if (weighted[key] != std::vector<Weighted>{expected_weighted[key]} && ++wrong <= 5) {
      ADD_FAILURE() << "keyed broadcast, key " << key << ": expected "
                    << ::testing::PrintToString(expected_weighted[key])
                    << " once (weighted sum, waiting, seen), got "
                    << ::testing::PrintToString(weighted[key]);
    }
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(g_results.sums.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(g_results.weighted.size(), static_cast<size_t>(kKeys));
}

void RescaleConnectedState(int32_t from, int32_t to) {
  g_results.Reset();
  auto first = StreamExecutionEnvironment::Create();
  BuildJob(*first, from, /*stop_at_pause=*/true);
  g_progress.Reset();
  std::unique_ptr<JobClient> client = first->ExecuteAsync("connect-rescale");
  // The savepoint comes when the source holds at the pause (every number before it is through)
  // and every broadcast instance has applied every rule: after the restore the rules are in the
  // restored broadcast state only.
  {
    std::unique_lock lock(g_progress.mutex);
    ASSERT_TRUE(g_progress.changed.wait_for(lock, Scaled(std::chrono::seconds(60)),
                                            [&] {
                                              return g_progress.highest_number == kPauseAt - 1 &&
                                                     g_progress.rules_applied == kClasses * from;
                                            }))
        << "highest number " << g_progress.highest_number << ", rules applied "
        << g_progress.rules_applied;
  }
  Result<std::string> savepoint = client->StopWithSavepoint(TempDir("connect-savepoints").string());
  ASSERT_THAT(savepoint, IsOk());
  JobExecutionResult stopped = client->WaitForResult();
  EXPECT_EQ(stopped.status, JobStatus::kFinished) << stopped.failure.ToString();
  {
    std::lock_guard lock(g_results.mutex);
    // Stopping with a savepoint does not end event time: no timer may have fired.
    EXPECT_TRUE(g_results.sums.empty()) << g_results.sums.size() << " results before the end";
    EXPECT_TRUE(g_results.weighted.empty()) << g_results.weighted.size() << " results";
  }

  auto second = StreamExecutionEnvironment::Create();
  BuildJob(*second, to, /*stop_at_pause=*/false);
  RestoreSettings restore;
  restore.savepoint_path = *savepoint;
  second->SetRestoreSettings(restore);
  JobExecutionResult result = second->Execute("connect-rescale");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  ASSERT_TRUE(result.restored_checkpoint.has_value());
  ExpectResultsOfAnUninterruptedRun();
}

TEST(ConnectRescaleIT, KeyedConnectAndBroadcastStateOfASavepointAt2RestoreAt4) {
  RescaleConnectedState(2, 4);
}

TEST(ConnectRescaleIT, KeyedConnectAndBroadcastStateOfASavepointAt4RestoreAt2) {
  RescaleConnectedState(4, 2);
}

TEST(ConnectRescaleIT, AFailureAfterACheckpointRestoresBothInputsAtOneBarrier) {
  g_results.Reset();
  auto env = StreamExecutionEnvironment::Create();
  // The source waits at kPauseAt until a checkpoint covers it; the failure comes after.
  BuildJob(*env, 3, /*stop_at_pause=*/false, /*fail_at=*/kPauseAt + 5'000);
  JobExecutionResult result =
      ExecuteWithin(*env, "connect-failover", Scaled(std::chrono::seconds(120)));
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_GE(result.restarts, 1);
  ExpectResultsOfAnUninterruptedRun();
}

}  // namespace
}  // namespace sluice::testing
