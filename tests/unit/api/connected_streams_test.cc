// ConnectedStreams: Connect with CoMapFunction, CoFlatMapFunction and CoProcessFunction, keyed
// connect with KeyedCoProcessFunction (keyed state, timers), and how the watermarks of the two
// inputs combine (the minimum; an idle input left out), through the two-input operator harness
// and in real jobs.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;
using Keyed = std::pair<std::string, int64_t>;  // key, value
using std::chrono::milliseconds;
using testing::TwoInputHarnessOf;

std::string Wm(int64_t watermark) {
  if (watermark == kMaxWatermark) return "max";
  if (watermark == kMinWatermark) return "min";
  return std::to_string(watermark);
}

// ---- CoMap, CoFlatMap, CoProcess ----

class Describe final : public CoMapFunction<int64_t, std::string, std::string> {
 public:
  std::string Map1(int64_t n) override { return "number " + std::to_string(n); }
  std::string Map2(std::string s) override { return "text " + s; }
};

TEST(ConnectedStreamsTest, CoMapCallsMap1AndMap2AndKeepsTimestamps) {
  auto env = TestEnv(1);
  auto numbers = env->FromElements<int64_t>(1);
  auto texts = env->FromElements<std::string>("a");
  auto mapped = numbers.Connect(texts).Map(Describe());
  auto harness = TwoInputHarnessOf<int64_t, std::string>(mapped);
  harness.Open();
  harness.ProcessElement1(7, 100);
  harness.ProcessElement2("x", 200);
  harness.ProcessElement1(8);
  ASSERT_EQ(harness.output().size(), 3u);
  EXPECT_EQ(harness.output()[0].value, "number 7");
  EXPECT_EQ(harness.output()[0].timestamp, 100);
  EXPECT_EQ(harness.output()[1].value, "text x");
  EXPECT_EQ(harness.output()[1].timestamp, 200);
  EXPECT_EQ(harness.output()[2].timestamp, kNoTimestamp);
}

class SplitWords final : public CoFlatMapFunction<std::string, int64_t, std::string> {
 public:
  void FlatMap1(std::string line, Collector<std::string>& out) override {
    size_t start = 0;
    while (start < line.size()) {
      size_t end = line.find(' ', start);
      if (end == std::string::npos) end = line.size();
      out.Collect(line.substr(start, end - start));
      start = end + 1;
    }
  }
  void FlatMap2(int64_t repeat, Collector<std::string>& out) override {
    for (int64_t i = 0; i < repeat; ++i) out.Collect("#");
  }
};

TEST(ConnectedStreamsTest, CoFlatMapEmitsAnyNumberPerElementOfEitherInput) {
  auto env = TestEnv(1);
  auto flat = env->FromElements<std::string>("")
                  .Connect(env->FromElements<int64_t>(0))
                  .FlatMap(SplitWords());
  auto harness = TwoInputHarnessOf<std::string, int64_t>(flat);
  harness.Open();
  harness.ProcessElement1("to be or", 5);
  harness.ProcessElement2(0);
  harness.ProcessElement2(2, 9);
  EXPECT_EQ(harness.output().back().timestamp, 9);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"to", "be", "or", "#", "#"}));
}

const OutputTag<std::string> kRejected("rejected");

// Texts from input 1 pass when they are not empty; input 2's numbers become texts; empty texts
// and negative numbers go to the side output. Reports its clocks.
class Validate final : public CoProcessFunction<std::string, int64_t, std::string> {
 public:
  void ProcessElement1(std::string text, Context& ctx, Collector<std::string>& out) override {
    if (text.empty()) {
      ctx.Output(kRejected, "empty text@" + std::to_string(ctx.Timestamp()));
      return;
    }
    out.Collect(text + "@" + std::to_string(ctx.Timestamp()) + " wm " +
                Wm(ctx.TimerService().CurrentWatermark()));
  }
  void ProcessElement2(int64_t n, Context& ctx, Collector<std::string>& out) override {
    if (n < 0) {
      ctx.Output(kRejected, "negative " + std::to_string(n));
      return;
    }
    if (n == 99) ctx.TimerService().RegisterEventTimeTimer(10);  // not on a non-keyed stream
    out.Collect(std::to_string(n) + "@" + std::to_string(ctx.Timestamp()));
  }
};

TEST(ConnectedStreamsTest, CoProcessSeesTimestampsTheCombinedWatermarkAndHasSideOutputs) {
  auto env = TestEnv(1);
  auto validated =
      env->FromElements<std::string>("").Connect(env->FromElements<int64_t>(0)).Process(Validate());
  auto harness = TwoInputHarnessOf<std::string, int64_t>(validated);
  const auto& rejected = harness.SideOutput(kRejected);
  harness.Open();
  harness.ProcessWatermark1(50);
  harness.ProcessElement1("a", 60);  // input 2 has no watermark yet: the operator's is min
  harness.ProcessWatermark2(40);
  harness.ProcessElement1("b", 70);
  harness.ProcessElement1("", 71);
  harness.ProcessElement2(3, 80);
  harness.ProcessElement2(-1, 81);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a@60 wm min", "b@70 wm 40", "3@80"}));
  ASSERT_EQ(rejected.size(), 2u);
  EXPECT_EQ(rejected[0].value, "empty text@71");
  EXPECT_EQ(rejected[0].timestamp, 71);
  EXPECT_EQ(rejected[1].value, "negative -1");
  EXPECT_EQ(rejected[1].timestamp, 81);
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{40}));

  try {
    harness.ProcessElement2(99, 90);
    ADD_FAILURE() << "a timer on non-keyed connected streams was accepted";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("KeyedCoProcessFunction"), std::string::npos)
        << error.what();
  }
}

// ---- how the two inputs' watermarks combine ----

TEST(ConnectedStreamsTest, TheOperatorsWatermarkIsTheMinimumOfBothInputsAndNeverGoesBack) {
  auto env = TestEnv(1);
  auto mapped =
      env->FromElements<int64_t>(1).Connect(env->FromElements<std::string>("a")).Map(Describe());
  auto harness = TwoInputHarnessOf<int64_t, std::string>(mapped);
  harness.Open();
  harness.ProcessWatermark1(100);
  EXPECT_TRUE(harness.watermarks().empty());  // input 2 has none yet
  harness.ProcessWatermark2(30);
  harness.ProcessWatermark2(60);
  harness.ProcessWatermark2(150);
  harness.ProcessWatermark1(120);
  harness.ProcessWatermark1(200);
  harness.ProcessWatermark1(90);  // behind: an input's watermark does not go back
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{30, 60, 100, 120, 150}));
  harness.ProcessWatermark2(kMaxWatermark);
  harness.ProcessWatermark1(kMaxWatermark);
  EXPECT_EQ(harness.watermarks(),
            (std::vector<int64_t>{30, 60, 100, 120, 150, 200, kMaxWatermark}));
  EXPECT_TRUE(harness.watermark_statuses().empty());
}

TEST(ConnectedStreamsTest, AnIdleInputIsLeftOutAndBothIdleMakeTheOperatorIdle) {
  auto env = TestEnv(1);
  auto mapped =
      env->FromElements<int64_t>(1).Connect(env->FromElements<std::string>("a")).Map(Describe());
  auto harness = TwoInputHarnessOf<int64_t, std::string>(mapped);
  harness.Open();
  harness.ProcessWatermark1(100);
  harness.ProcessWatermarkStatus2(/*idle=*/true);  // input 2 no longer holds input 1 back
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100}));
  harness.ProcessWatermark1(150);
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100, 150}));
  EXPECT_TRUE(harness.watermark_statuses().empty());  // one input active: not idle

  harness.ProcessWatermarkStatus1(true);
  EXPECT_EQ(harness.watermark_statuses(), (std::vector<bool>{true}));
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100, 150}));

  // Input 2 comes back with a watermark behind: active again, and it holds the watermark until
  // it catches up (input 1 is still idle).
  harness.ProcessWatermarkStatus2(false);
  EXPECT_EQ(harness.watermark_statuses(), (std::vector<bool>{true, false}));
  harness.ProcessWatermark2(120);
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100, 150}));
  harness.ProcessWatermark2(170);
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100, 150, 170}));
  // A watermark on the idle input 1 makes it active again; at 160 it holds the operator at 170.
  harness.ProcessWatermark1(160);
  harness.ProcessWatermark2(300);
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100, 150, 170}));
  harness.ProcessWatermark1(250);
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{100, 150, 170, 250}));
  EXPECT_EQ(harness.watermark_statuses(), (std::vector<bool>{true, false}));
}

// ---- keyed connect ----

// Per key: the sum of input 1's values and the count of input 2's; an event-time timer at the
// first element's timestamp + 100 reports both, a processing-time timer too. Input 2's value
// -1 deletes the event-time timer.
class SumAndCount final : public KeyedCoProcessFunction<std::string, Keyed, Keyed, std::string> {
 public:
  void Open() override {
    sum_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("sum"));
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
    timer_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("timer"));
  }
  void ProcessElement1(Keyed e, Context& ctx, Collector<std::string>&) override {
    sum_->Update(sum_->Value().value_or(0) + e.second);
    Arm(ctx);
  }
  void ProcessElement2(Keyed e, Context& ctx, Collector<std::string>&) override {
    if (e.second == -1) {
      if (auto t = timer_->Value()) ctx.TimerService().DeleteEventTimeTimer(*t);
      return;
    }
    if (e.second == -2) {
      ctx.TimerService().RegisterProcessingTimeTimer(ctx.TimerService().CurrentProcessingTime() +
                                                     10);
      return;
    }
    count_->Update(count_->Value().value_or(0) + 1);
    Arm(ctx);
  }
  void OnTimer(int64_t time, OnTimerContext& ctx, Collector<std::string>& out) override {
    std::string text =
        ctx.GetCurrentKey() +
        (ctx.GetTimeDomain() == TimeDomain::kEventTime ? " event " : " processing ") +
        std::to_string(time) + ": sum " + std::to_string(sum_->Value().value_or(0)) + " count " +
        std::to_string(count_->Value().value_or(0));
    ctx.Output(kRejected, "timer of " + ctx.GetCurrentKey());
    out.Collect(text);
  }

 private:
  void Arm(Context& ctx) {
    if (timer_->Value()) return;
    int64_t at = ctx.Timestamp() + 100;
    timer_->Update(at);
    ctx.TimerService().RegisterEventTimeTimer(at);
  }

  ValueState<int64_t>* sum_ = nullptr;
  ValueState<int64_t>* count_ = nullptr;
  ValueState<int64_t>* timer_ = nullptr;
};

auto KeyedSumAndCount(StreamExecutionEnvironment& env) {
  auto first = env.FromElements<Keyed>(Keyed{"a", 1});
  auto second = env.FromElements<Keyed>(Keyed{"a", 1});
  return first.Connect(second)
      .KeyBy([](const Keyed& e) { return e.first; }, [](const Keyed& e) { return e.first; })
      .Process(SumAndCount());
}

TEST(ConnectedStreamsTest, KeyedCoProcessSharesKeyedStateAcrossBothInputsPerKey) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Keyed, Keyed>(KeyedSumAndCount(*env));
  harness.Open();
  harness.ProcessElement1({"a", 5}, 10);
  harness.ProcessElement2({"a", 0}, 20);
  harness.ProcessElement1({"b", 7}, 15);
  harness.ProcessElement1({"a", 6}, 30);
  harness.ProcessElement2({"b", 0}, 40);
  harness.ProcessElement2({"b", 0}, 41);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("a", "sum")), 11);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("a", "count")), 1);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("b", "sum")), 7);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("b", "count")), 2);
}

TEST(ConnectedStreamsTest, KeyedCoProcessEventTimersFireWhenBothInputsPassThem) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Keyed, Keyed>(KeyedSumAndCount(*env));
  const auto& side = harness.SideOutput(kRejected);
  harness.Open();
  harness.ProcessElement1({"a", 5}, 10);  // timer at 110
  harness.ProcessElement2({"b", 0}, 50);  // timer at 150
  harness.ProcessElement2({"a", 0}, 60);
  harness.ProcessWatermark1(200);
  EXPECT_TRUE(harness.output().empty()) << "fired before input 2's watermark passed the timer";
  harness.ProcessWatermark2(120);
  ASSERT_EQ(harness.output().size(), 1u);
  EXPECT_EQ(harness.output()[0].value, "a event 110: sum 5 count 1");
  EXPECT_EQ(harness.output()[0].timestamp, 110);
  ASSERT_EQ(side.size(), 1u);
  EXPECT_EQ(side[0].value, "timer of a");
  EXPECT_EQ(side[0].timestamp, 110);
  harness.ProcessWatermarkStatus2(/*idle=*/true);  // input 1's 200 alone counts now
  ASSERT_EQ(harness.output().size(), 2u);
  EXPECT_EQ(harness.output()[1].value, "b event 150: sum 0 count 1");
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{120, 200}));
}

TEST(ConnectedStreamsTest, KeyedCoProcessTimersCanBeDeletedAndProcessingTimeFires) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Keyed, Keyed>(KeyedSumAndCount(*env));
  harness.Open();
  harness.ProcessElement1({"a", 5}, 10);  // event timer at 110
  harness.ProcessElement2({"a", -1});     // deleted
  harness.SetProcessingTime(1000);
  harness.ProcessElement2({"a", -2});  // processing timer at 1010
  harness.ProcessWatermark1(500);
  harness.ProcessWatermark2(500);
  EXPECT_TRUE(harness.output().empty());
  harness.SetProcessingTime(1009);
  EXPECT_TRUE(harness.output().empty());
  harness.SetProcessingTime(1010);
  ASSERT_EQ(harness.output().size(), 1u);
  EXPECT_EQ(harness.output()[0].value, "a processing 1010: sum 5 count 0");
  EXPECT_EQ(harness.output()[0].timestamp, kNoTimestamp);
}

TEST(ConnectedStreamsTest, KeyedCoProcessStateAndTimersSurviveASnapshot) {
  auto env = TestEnv(1);
  testing::OperatorSnapshot snapshot;
  {
    auto harness = TwoInputHarnessOf<Keyed, Keyed>(KeyedSumAndCount(*env));
    harness.Open();
    harness.ProcessElement1({"a", 5}, 10);  // timer at 110
    harness.ProcessElement2({"b", 0}, 20);  // timer at 120
    harness.ProcessElement2({"a", 0}, 30);
    snapshot = harness.Snapshot(1);
  }
  auto restored = TwoInputHarnessOf<Keyed, Keyed>(KeyedSumAndCount(*env), &snapshot);
  restored.Open();
  restored.ProcessElement1({"a", 2}, 40);  // the restored timer state keeps it from re-arming
  restored.ProcessWatermark1(kMaxWatermark);
  restored.ProcessWatermark2(kMaxWatermark);
  EXPECT_EQ(restored.TakeOutputValues(),
            (Strings{"a event 110: sum 7 count 1", "b event 120: sum 0 count 1"}));
}

// Keyed Map: counts per key over both inputs in keyed state.
class CountPerKey final : public CoMapFunction<Keyed, Keyed, std::string> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
  }
  std::string Map1(Keyed e) override { return Count("1", e.first); }
  std::string Map2(Keyed e) override { return Count("2", e.first); }

 private:
  std::string Count(const std::string& input, const std::string& key) {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    return input + ":" + key + "=" + std::to_string(count);
  }
  ValueState<int64_t>* count_ = nullptr;
};

TEST(ConnectedStreamsTest, MapOnKeyedConnectedStreamsHasKeyedStateOfTheElementsKey) {
  auto env = TestEnv(1);
  auto counted =
      env->FromElements<Keyed>(Keyed{"a", 1})
          .Connect(env->FromElements<Keyed>(Keyed{"a", 1}))
          .KeyBy([](const Keyed& e) { return e.first; }, [](const Keyed& e) { return e.first; })
          .Map(CountPerKey());
  auto harness = TwoInputHarnessOf<Keyed, Keyed>(counted);
  harness.Open();
  harness.ProcessElement1({"a", 0});
  harness.ProcessElement2({"b", 0});
  harness.ProcessElement2({"a", 0});
  harness.ProcessElement1({"b", 0});
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"1:a=1", "2:b=1", "2:a=2", "1:b=2"}));
}

// ---- in real jobs ----

TEST(ConnectedStreamsTest, AConnectedJobSeesEveryElementOfBothInputsAcrossTheNetwork) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  auto numbers = env->GenerateSequence(1, 100).SetParallelism(2);
  auto texts = env->FromCollection<std::string>({"x", "y", "z"});
  numbers.Connect(texts).Map(Describe()).SetParallelism(3).AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("connect");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  Strings expected;
  for (int64_t n = 1; n <= 100; ++n) expected.push_back("number " + std::to_string(n));
  for (const char* t : {"x", "y", "z"}) expected.push_back(std::string("text ") + t);
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(out.Sorted(), expected);
}

// Counts the elements of both inputs per key; reports once, at the end of input (the final
// watermark fires the timer).
class CountBoth final : public KeyedCoProcessFunction<int64_t, int64_t, int64_t, std::string> {
 public:
  void Open() override {
    first_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("first"));
    second_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("second"));
  }
  void ProcessElement1(int64_t, Context& ctx, Collector<std::string>&) override {
    first_->Update(first_->Value().value_or(0) + 1);
    ctx.TimerService().RegisterEventTimeTimer(1'000'000);
  }
  void ProcessElement2(int64_t, Context& ctx, Collector<std::string>&) override {
    second_->Update(second_->Value().value_or(0) + 1);
    ctx.TimerService().RegisterEventTimeTimer(1'000'000);
  }
  void OnTimer(int64_t, OnTimerContext& ctx, Collector<std::string>& out) override {
    out.Collect(std::to_string(ctx.GetCurrentKey()) + ": " +
                std::to_string(first_->Value().value_or(0)) + "/" +
                std::to_string(second_->Value().value_or(0)) + " on subtask " +
                std::to_string(GetRuntimeContext().GetIndexOfThisSubtask()));
  }

 private:
  ValueState<int64_t>* first_ = nullptr;
  ValueState<int64_t>* second_ = nullptr;
};

TEST(ConnectedStreamsTest, KeyedConnectBringsBothInputsOfAKeyToOneInstance) {
  Collected<std::string> out;
  auto env = TestEnv(4);
  env->SetMaxParallelism(16);
  auto first = env->GenerateSequence(0, 999).SetParallelism(2);
  auto second = env->GenerateSequence(0, 499).SetParallelism(3);
  first.KeyBy([](int64_t n) { return n % 10; })
      .Connect(second.KeyBy([](int64_t n) { return n % 10; }))
      .Process(CountBoth())
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("keyed-connect");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<std::string> lines = out.Sorted();
  ASSERT_EQ(lines.size(), 10u);
  for (int64_t key = 0; key < 10; ++key) {
    // Each key once, with all 100 + 50 of its elements counted by one instance.
    EXPECT_EQ(
        lines[static_cast<size_t>(key)].substr(0, lines[static_cast<size_t>(key)].find(" on")),
        std::to_string(key) + ": 100/50");
  }
}

// Reports the operator's watermark when its event-time timer fires.
class FireAt500 final : public KeyedCoProcessFunction<int64_t, int64_t, int64_t, std::string> {
 public:
  void ProcessElement1(int64_t, Context& ctx, Collector<std::string>&) override {
    ctx.TimerService().RegisterEventTimeTimer(500);
  }
  void ProcessElement2(int64_t, Context&, Collector<std::string>&) override {}
  void OnTimer(int64_t time, OnTimerContext& ctx, Collector<std::string>& out) override {
    out.Collect("fired " + std::to_string(time) + " at watermark " +
                Wm(ctx.TimerService().CurrentWatermark()));
  }
};

TEST(ConnectedStreamsTest, AnIdleInputDoesNotHoldBackTheOtherInARunningJob) {
  Gate gate;
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->SetAutoWatermarkInterval(std::chrono::milliseconds(5));
  // Input 1 reaches event time 1000 and stays running; input 2 never has an element and goes
  // idle. The timer at 500 must fire while both still run, at input 1's watermark.
  auto first =
      env->AddSource(HoldingSource<int64_t>({{1, 10}, {2, 1000}}, &gate))
          .AssignTimestampsAndWatermarks(WatermarkStrategy<int64_t>::ForMonotonousTimestamps());
  auto second = env->AddSource(HoldingSource<int64_t>({}, &gate))
                    .AssignTimestampsAndWatermarks(
                        WatermarkStrategy<int64_t>::ForMonotonousTimestamps().WithIdleness(
                            std::chrono::milliseconds(20)));
  first.KeyBy([](int64_t) { return int64_t{0}; })
      .Connect(second.KeyBy([](int64_t) { return int64_t{0}; }))
      .Process(FireAt500())
      .AddSink(CollectSink<std::string>(&out));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("idle-input");
  const bool fired = out.WaitForSize(1, Scaled(milliseconds(30000)));
  gate.Open();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(fired) << "the idle input held the timer back";
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Monotonous timestamps: the watermark is the highest timestamp - 1.
  EXPECT_EQ(out.Values(), (Strings{"fired 500 at watermark 999"}));
}

TEST(ConnectedStreamsTest, SideOutputsOfACoProcessFunctionCanBeRead) {
  Collected<std::string> main;
  Collected<std::string> rejected;
  auto env = TestEnv(2);
  auto validated = env->FromCollection<std::string>({"a", "", "b"})
                       .Connect(env->FromCollection<int64_t>({1, -5}))
                       .Process(Validate());
  validated.AddSink(CollectSink<std::string>(&main));
  validated.GetSideOutput(kRejected).AddSink(CollectSink<std::string>(&rejected));

  JobExecutionResult result = env->Execute("co-process-side-output");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(main.size(), 3u);
  EXPECT_EQ(rejected.Sorted(),
            (Strings{"empty text@" + std::to_string(kNoTimestamp), "negative -5"}));
}

}  // namespace
}  // namespace sluice::apitest
