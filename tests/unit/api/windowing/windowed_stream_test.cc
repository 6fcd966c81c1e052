// Windows in real jobs: the end of a bounded input fires every pending event-time window,
// WindowAll runs in one instance, late data reaches its side output, aggregations by field keep
// Flink's semantics, and wrong combinations are refused.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using std::chrono::milliseconds;
using Event = std::pair<std::string, int64_t>;
using Strings = std::vector<std::string>;

// Emits records with timestamps and watermarks in a fixed order (a non-parallel source), so
// what is late in a job does not depend on timing.
class ScriptedSource final : public SourceFunction<Event> {
 public:
  struct Watermark {
    int64_t timestamp;
  };
  using Step = std::variant<std::pair<Event, int64_t>, Watermark>;
  explicit ScriptedSource(std::vector<Step> steps) : steps_(std::move(steps)) {}
  ScriptedSource(const ScriptedSource& other) : SourceFunction<Event>(), steps_(other.steps_) {}
  void Run(SourceContext<Event>& ctx) override {
    for (const Step& step : steps_) {
      std::lock_guard lock(ctx.GetCheckpointLock());
      if (const auto* record = std::get_if<std::pair<Event, int64_t>>(&step)) {
        ctx.CollectWithTimestamp(record->first, record->second);
      } else {
        ctx.EmitWatermark(std::get<Watermark>(step).timestamp);
      }
    }
  }
  void Cancel() override {}

 private:
  std::vector<Step> steps_;
};

std::string Key(const Event& e) { return e.first; }

class WindowText final
    : public ProcessWindowFunction<int64_t, std::string, std::string, TimeWindow> {
 public:
  void Process(const std::string& key, Context& ctx, const std::vector<int64_t>& counts,
               Collector<std::string>& out) override {
    out.Collect(key + "@" + std::to_string(ctx.Window().Start()) + "=" +
                std::to_string(counts.at(0)));
  }
};

class CountEvents final : public AggregateFunction<Event, int64_t, int64_t> {
 public:
  int64_t CreateAccumulator() override { return 0; }
  int64_t Add(const Event&, int64_t count) override { return count + 1; }
  int64_t GetResult(const int64_t& count) override { return count; }
  int64_t Merge(int64_t a, int64_t b) override { return a + b; }
};

TEST(WindowedStreamTest, TheEndOfABoundedInputFiresEveryPendingEventTimeWindow) {
  Collected<std::string> out;
  auto env = TestEnv(2);
  std::vector<Event> events;
  for (int64_t i = 0; i < 300; ++i) events.push_back({"k" + std::to_string(i % 3), i * 1000});
  env->FromCollection<Event>(events)
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Event>::ForMonotonousTimestamps().WithTimestampAssigner(
              [](const Event& e, int64_t) { return e.second; }))
      .KeyBy(Key)
      .Window(TumblingEventTimeWindows::Of(std::chrono::minutes(1)))
      .Aggregate(CountEvents(), WindowText())
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("bounded-windows");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  Strings expected;
  for (int64_t minute = 0; minute < 5; ++minute) {
    for (int k = 0; k < 3; ++k) {
      expected.push_back("k" + std::to_string(k) + "@" + std::to_string(minute * 60000) + "=20");
    }
  }
  std::sort(expected.begin(), expected.end());
  // Including the last minute, which only the end of input (the max watermark) closes.
  EXPECT_EQ(out.Sorted(), expected);
}

TEST(WindowedStreamTest, LateRecordsInAJobGoToTheLateSideOutput) {
  const OutputTag<Event> late("late");
  Collected<Event> sums;
  Collected<Event> late_records;
  auto env = TestEnv(2);
  using W = ScriptedSource::Watermark;
  auto windowed = env->AddSource(ScriptedSource({
                                     std::pair{Event{"a", 1}, int64_t{1}},
                                     std::pair{Event{"b", 2}, int64_t{2}}, W{9},  // closes [0,10)
                                     std::pair{Event{"a", 4}, int64_t{3}},        // within lateness
                                     W{12},  // [0,10) dropped (9 + 3)
                                     std::pair{Event{"a", 8}, int64_t{5}},    // late
                                     std::pair{Event{"a", 16}, int64_t{11}},  // on time
                                 }))
                      .KeyBy(Key)
                      .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
                      .AllowedLateness(milliseconds(3))
                      .SideOutputLateData(late)
                      .Sum(&Event::second);
  windowed.AddSink(CollectSink<Event>(&sums));
  windowed.GetSideOutput(late).AddSink(CollectSink<Event>(&late_records));

  JobExecutionResult result = env->Execute("late-data");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // The late firing updates a's first window: 1, then 1 + 4.
  EXPECT_EQ(sums.Sorted(), (std::vector<Event>{{"a", 1}, {"a", 5}, {"a", 16}, {"b", 2}}));
  EXPECT_EQ(late_records.Values(), (std::vector<Event>{{"a", 8}}));
}

class SumAll final : public ProcessAllWindowFunction<Event, std::string, TimeWindow> {
 public:
  void Process(Context& ctx, const std::vector<Event>& elements,
               Collector<std::string>& out) override {
    int64_t sum = 0;
    for (const auto& e : elements) sum += e.second;
    out.Collect(std::to_string(ctx.Window().Start()) + ": " + std::to_string(elements.size()) +
                " elements, sum " + std::to_string(sum) + ", instances " +
                std::to_string(GetRuntimeContext().GetNumberOfParallelSubtasks()));
  }
};

TEST(WindowedStreamTest, WindowAllSeesEveryElementInOneInstance) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  std::vector<Event> events;
  for (int64_t i = 0; i < 20; ++i) events.push_back({"k" + std::to_string(i), i});
  env->FromCollection<Event>(events)
      .Rebalance()
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Event>::ForMonotonousTimestamps().WithTimestampAssigner(
              [](const Event& e, int64_t) { return e.second; }))
      .WindowAll(TumblingEventTimeWindows::Of(milliseconds(10)))
      .Process(SumAll())
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("window-all");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Sorted(), (Strings{"0: 10 elements, sum 45, instances 1",
                                   "10: 10 elements, sum 145, instances 1"}));
}

TEST(WindowedStreamTest, WindowAllCannotRunInParallel) {
  Collected<Event> out;
  auto env = TestEnv(2);
  env->FromCollection<Event>({{"a", 1}})
      .WindowAll(GlobalWindows::Create())
      .Trigger(CountTrigger::Of(1))
      .Sum(&Event::second)
      .SetParallelism(2)
      .AddSink(CollectSink<Event>(&out));

  JobExecutionResult result = env->Execute("window-all-parallel");

  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.failure.code(), StatusCode::kInvalidArgument) << result.failure.ToString();
}

TEST(WindowedStreamTest, ACountWindowJobCountsPerKey) {
  Collected<Event> out;
  auto env = TestEnv(2);
  std::vector<Event> events;
  for (int64_t i = 0; i < 100; ++i) events.push_back({"k" + std::to_string(i % 4), 1});
  env->FromCollection<Event>(events)
      .KeyBy(Key)
      .CountWindow(10)
      .Sum(&Event::second)
      .AddSink(CollectSink<Event>(&out));

  JobExecutionResult result = env->Execute("count-window");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // 25 per key: two full windows each; the last 5 never fire (a GlobalWindow never ends).
  std::vector<Event> expected;
  for (int k = 0; k < 4; ++k) expected.insert(expected.end(), 2, {"k" + std::to_string(k), 10});
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(out.Sorted(), expected);
}

// ---- aggregations by field (harness: one window, a fixed order) ----

using Trade = std::tuple<std::string, int64_t, int64_t>;  // symbol, price, volume

template <typename MakeStream>
std::vector<Trade> FireOneWindow(MakeStream make, const std::vector<Trade>& trades) {
  auto env = StreamExecutionEnvironment::Create();
  auto keyed = env->FromCollection<Trade>({}).KeyBy([](const Trade& t) { return std::get<0>(t); });
  auto harness = testing::HarnessOf<Trade>(make(keyed.Window(GlobalWindows::Create())));
  harness.Open();
  for (const Trade& t : trades) harness.ProcessElement(t);
  return harness.TakeOutputValues();
}

const std::vector<Trade> kTrades = {{"x", 5, 100}, {"x", 3, 7}, {"x", 9, 1}, {"x", 3, 50}};

TEST(WindowedStreamTest, SumMinMaxReplaceOneFieldOfTheFirstElement) {
  auto fire_after_4 = [](auto windowed) { return windowed.Trigger(CountTrigger::Of(4)); };
  EXPECT_EQ(FireOneWindow([&](auto w) { return fire_after_4(w).template Sum<2>(); }, kTrades),
            (std::vector<Trade>{{"x", 5, 158}}));
  EXPECT_EQ(FireOneWindow([&](auto w) { return fire_after_4(w).template Min<1>(); }, kTrades),
            (std::vector<Trade>{{"x", 3, 100}}));
  EXPECT_EQ(FireOneWindow([&](auto w) { return fire_after_4(w).template Max<1>(); }, kTrades),
            (std::vector<Trade>{{"x", 9, 100}}));
}

TEST(WindowedStreamTest, MinByAndMaxByReturnTheWholeElementFirstOnTies) {
  auto fire_after_4 = [](auto windowed) { return windowed.Trigger(CountTrigger::Of(4)); };
  EXPECT_EQ(FireOneWindow([&](auto w) { return fire_after_4(w).template MinBy<1>(); }, kTrades),
            (std::vector<Trade>{{"x", 3, 7}}));
  EXPECT_EQ(
      FireOneWindow([&](auto w) { return fire_after_4(w).template MinBy<1>(false); }, kTrades),
      (std::vector<Trade>{{"x", 3, 50}}));
  EXPECT_EQ(FireOneWindow(
                [&](auto w) {
                  return fire_after_4(w).MaxBy([](const Trade& t) { return std::get<2>(t); });
                },
                kTrades),
            (std::vector<Trade>{{"x", 5, 100}}));
}

TEST(WindowedStreamTest, NumbersAggregateWithoutAField) {
  auto env = StreamExecutionEnvironment::Create();
  auto windowed =
      env->FromCollection<int64_t>({}).KeyBy([](int64_t n) { return n % 2; }).CountWindow(3);
  auto sum = testing::HarnessOf<int64_t>(windowed.Sum());
  auto max_by = testing::HarnessOf<int64_t>(windowed.MaxBy());
  sum.Open();
  max_by.Open();
  for (int64_t n : {2, 8, 4}) {
    sum.ProcessElement(n);
    max_by.ProcessElement(n);
  }
  EXPECT_EQ(sum.TakeOutputValues(), (std::vector<int64_t>{14}));
  EXPECT_EQ(max_by.TakeOutputValues(), (std::vector<int64_t>{8}));
}

// ---- settings that cannot work ----

class NonMergingTrigger final : public Trigger<Event, TimeWindow> {
 public:
  TriggerResult OnElement(const Event&, int64_t, const TimeWindow&, TriggerContext&) override {
    return TriggerResult::kFire;
  }
  TriggerResult OnProcessingTime(int64_t, const TimeWindow&, TriggerContext&) override {
    return TriggerResult::kContinue;
  }
  TriggerResult OnEventTime(int64_t, const TimeWindow&, TriggerContext&) override {
    return TriggerResult::kContinue;
  }
  void Clear(const TimeWindow&, TriggerContext&) override {}
};

TEST(WindowedStreamTest, SessionsNeedATriggerThatCanMerge) {
  auto env = StreamExecutionEnvironment::Create();
  auto windowed = env->FromCollection<Event>({}).KeyBy(Key).Window(
      EventTimeSessionWindows::WithGap(milliseconds(10)));
  try {
    windowed.Trigger(NonMergingTrigger());
    ADD_FAILURE() << "a trigger that cannot merge was accepted for sessions";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()),
              "A merging window assigner cannot be used with a trigger that does not support "
              "merging.");
  }
  // A custom trigger is fine where nothing merges.
  auto tumbling = env->FromCollection<Event>({}).KeyBy(Key).Window(
      TumblingEventTimeWindows::Of(milliseconds(10)));
  EXPECT_NO_THROW(tumbling.Trigger(NonMergingTrigger()));
}

TEST(WindowedStreamTest, NegativeAllowedLatenessIsRefused) {
  auto env = StreamExecutionEnvironment::Create();
  auto windowed = env->FromCollection<Event>({}).KeyBy(Key).Window(
      TumblingEventTimeWindows::Of(milliseconds(10)));
  EXPECT_THROW(windowed.AllowedLateness(milliseconds(-1)), std::invalid_argument);
}

TEST(WindowedStreamTest, AnEventTimeWindowOverRecordsWithoutTimestampsStopsTheJob) {
  Collected<Event> out;
  auto env = TestEnv(1);
  env->FromCollection<Event>({{"a", 1}})
      .KeyBy(Key)
      .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
      .Sum(&Event::second)
      .AddSink(CollectSink<Event>(&out));

  JobExecutionResult result = env->Execute("no-timestamps");

  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.failure.code(), StatusCode::kInvalidArgument) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 0) << "a restart cannot give records timestamps";
}

}  // namespace
}  // namespace sluice::apitest
