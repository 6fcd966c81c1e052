// Event time end to end: AssignTimestampsAndWatermarks with bounded out-of-orderness, what
// downstream operators see of the watermark (while running and at the end of input), and
// idle inputs that stop holding the watermark back.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;
using Event = std::pair<std::string, int64_t>;  // (key, event time)
using std::chrono::milliseconds;

std::string Wm(int64_t watermark) {
  if (watermark == kMaxWatermark) return "max";
  if (watermark == kMinWatermark) return "min";
  return std::to_string(watermark);
}

// Registers an event-time timer at each element's timestamp (or at `fixed_time` when given);
// reports "<key>@<time> wm=<watermark when it fired>". With `report_elements`, also reports
// each element with the watermark current when it arrived.
class TimerAtTimestamp final : public KeyedProcessFunction<std::string, Event, std::string> {
 public:
  explicit TimerAtTimestamp(std::optional<int64_t> fixed_time = std::nullopt,
                            bool report_elements = false)
      : fixed_time_(fixed_time), report_elements_(report_elements) {}
  void ProcessElement(Event event, Context& ctx, Collector<std::string>& out) override {
    if (report_elements_) {
      out.Collect("element " + event.first + " ts=" + Wm(ctx.Timestamp()) +
                  " wm=" + Wm(ctx.TimerService().CurrentWatermark()));
    }
    ctx.TimerService().RegisterEventTimeTimer(fixed_time_.value_or(ctx.Timestamp()));
  }
  void OnTimer(int64_t timestamp, OnTimerContext& ctx, Collector<std::string>& out) override {
    out.Collect(ctx.GetCurrentKey() + "@" + Wm(timestamp) +
                " wm=" + Wm(ctx.TimerService().CurrentWatermark()));
  }

 private:
  std::optional<int64_t> fixed_time_;
  bool report_elements_;
};

std::vector<std::pair<Event, int64_t>> Timed(const std::vector<Event>& events) {
  std::vector<std::pair<Event, int64_t>> out;
  for (const Event& e : events) out.emplace_back(e, e.second);
  return out;
}

WatermarkStrategy<Event> EventTime(WatermarkStrategy<Event> strategy) {
  return strategy.WithTimestampAssigner([](const Event& e, int64_t) { return e.second; });
}

TEST(WatermarksTest, BoundedOutOfOrdernessHoldsTheWatermarkBoundBehindTheHighestTimestamp) {
  Gate gate;
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->SetAutoWatermarkInterval(milliseconds(5));
  env->AddSource(
         HoldingSource<Event>(Timed({{"a", 1000}, {"b", 950}, {"c", 1200}, {"d", 1150}}), &gate))
      .AssignTimestampsAndWatermarks(
          EventTime(WatermarkStrategy<Event>::ForBoundedOutOfOrderness(milliseconds(100))))
      .KeyBy([](const Event& e) { return e.first; })
      .Process(TimerAtTimestamp())
      .AddSink(CollectSink<std::string>(&out));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("bounded-out-of-orderness");
  // Highest timestamp 1200, bound 100: watermark 1099, past 950 and 1000 but not 1150 or 1200.
  bool fired = out.WaitForSize(2, Scaled(milliseconds(30000)));
  Strings while_running = out.Values();
  gate.Open();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(fired) << "only " << out.size() << " of 2 timers fired while the job ran";
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(while_running, (Strings{"b@950 wm=1099", "a@1000 wm=1099"}));
  EXPECT_EQ(out.Values(),
            (Strings{"b@950 wm=1099", "a@1000 wm=1099", "d@1150 wm=max", "c@1200 wm=max"}));
}

TEST(WatermarksTest, DownstreamOperatorsSeeTheMaxWatermarkAtTheEndOfInput) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  env->GenerateSequence(1, 3000)
      .Map([](int64_t n) { return Event{"k" + std::to_string(n % 4), n}; })
      .AssignTimestampsAndWatermarks(EventTime(WatermarkStrategy<Event>::ForMonotonousTimestamps()))
      .KeyBy([](const Event& e) { return e.first; })
      .Process(TimerAtTimestamp(kMaxWatermark))
      .SetParallelism(2)
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("max-watermark");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: the four keys live on two instances.
  EXPECT_EQ(out.Sorted(),
            (Strings{"k0@max wm=max", "k1@max wm=max", "k2@max wm=max", "k3@max wm=max"}));
}

TEST(WatermarksTest, WithoutAWatermarkStrategyTheEndOfInputStillFiresEventTimeTimers) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromCollection<Event>({{"a", 0}, {"b", 0}})
      .KeyBy([](const Event& e) { return e.first; })
      .Process(TimerAtTimestamp(int64_t{5000}))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("no-watermarks");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: timers due at the same time fire in an order the API does not define.
  EXPECT_EQ(out.Sorted(), (Strings{"a@5000 wm=max", "b@5000 wm=max"}));
}

TEST(WatermarksTest, ElementsCarryTheAssignedTimestampAndTheFirstSeesNoWatermarkYet) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromCollection<Event>({{"a", 42}})
      .AssignTimestampsAndWatermarks(EventTime(WatermarkStrategy<Event>::ForMonotonousTimestamps()))
      .KeyBy([](const Event& e) { return e.first; })
      .Process(TimerAtTimestamp(std::nullopt, /*report_elements=*/true))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("element-timestamps");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Strings{"element a ts=42 wm=min", "a@42 wm=max"}));
}

// A punctuated generator of the job's own: a watermark at every timestamp that is a multiple
// of 100. The record carrying it goes downstream first (as in Flink), so it is not late.
class EveryHundred final : public WatermarkGenerator {
 public:
  void OnEvent(int64_t event_timestamp, WatermarkOutput& output) override {
    if (event_timestamp % 100 == 0) output.EmitWatermark(event_timestamp);
  }
  void OnPeriodicEmit(WatermarkOutput&) override {}
};

TEST(WatermarksTest, ForGeneratorUsesTheJobsGeneratorAndItsWatermarkFollowsItsRecord) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  int generators = 0;
  env->FromCollection<Event>({{"a", 150}, {"b", 200}, {"c", 250}, {"d", 300}})
      .AssignTimestampsAndWatermarks(
          EventTime(WatermarkStrategy<Event>::ForGenerator([&generators] {
            ++generators;
            return std::make_unique<EveryHundred>();
          })))
      .KeyBy([](const Event& e) { return e.first; })
      .Process(TimerAtTimestamp(std::nullopt, /*report_elements=*/true))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("for-generator");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(generators, 1);
  EXPECT_EQ(out.Values(), (Strings{"element a ts=150 wm=min", "element b ts=200 wm=min",
                                   "a@150 wm=200", "b@200 wm=200", "element c ts=250 wm=200",
                                   "element d ts=300 wm=200", "c@250 wm=300", "d@300 wm=300"}));
}

TEST(WatermarksTest, ForGeneratorRefusesAnEmptySupplierOrNoGenerator) {
  EXPECT_THROW(WatermarkStrategy<Event>::ForGenerator(nullptr), std::invalid_argument);
  const auto strategy = WatermarkStrategy<Event>::ForGenerator([] { return nullptr; });
  EXPECT_TRUE(strategy.GeneratesWatermarks());
  EXPECT_THROW(strategy.CreateGenerator(), std::invalid_argument);
}

// Two inputs merge into one keyed operator: one has records up to event time 2000, the other
// none at all; each source runs until its gate opens. The quiet input holds the merged
// watermark back unless it is idle or has ended.
// The environment owns the job graph the running job uses: it must outlive the job.
std::unique_ptr<JobClient> RunWithAQuietInput(StreamExecutionEnvironment& env,
                                              bool quiet_input_goes_idle, Gate& active_gate,
                                              Gate& quiet_gate, Collected<std::string>& out) {
  env.SetAutoWatermarkInterval(milliseconds(5));
  auto active = env.AddSource(HoldingSource<Event>(Timed({{"a", 1000}, {"b", 2000}}), &active_gate))
                    .AssignTimestampsAndWatermarks(
                        EventTime(WatermarkStrategy<Event>::ForMonotonousTimestamps()));
  WatermarkStrategy<Event> quiet_strategy =
      EventTime(WatermarkStrategy<Event>::ForMonotonousTimestamps());
  if (quiet_input_goes_idle) quiet_strategy = quiet_strategy.WithIdleness(milliseconds(50));
  auto quiet = env.AddSource(HoldingSource<Event>({}, &quiet_gate))
                   .AssignTimestampsAndWatermarks(quiet_strategy);
  active.Union(quiet)
      .KeyBy([](const Event& e) { return e.first; })
      .Process(TimerAtTimestamp(int64_t{1500}))
      .AddSink(CollectSink<std::string>(&out));
  return env.ExecuteAsync(quiet_input_goes_idle ? "idle-input" : "quiet-input");
}

TEST(WatermarksTest, AnIdleInputStopsHoldingBackTheWatermark) {
  Gate active_gate;
  Gate quiet_gate;
  Collected<std::string> out;
  auto env = TestEnv(1);
  std::unique_ptr<JobClient> client =
      RunWithAQuietInput(*env, /*quiet_input_goes_idle=*/true, active_gate, quiet_gate, out);

  // Watermark 1999 from the active input passes both timers at 1500 once the quiet one is
  // idle, while both sources still run.
  bool fired = out.WaitForSize(2, Scaled(milliseconds(30000)));
  Strings while_running = out.Values();
  quiet_gate.Open();
  active_gate.Open();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(fired) << "the timers did not fire while the job ran: " << out.size();
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::sort(while_running.begin(),
            while_running.end());  // timers due at one time: no defined order
  EXPECT_EQ(while_running, (Strings{"a@1500 wm=1999", "b@1500 wm=1999"}));
  EXPECT_EQ(out.size(), 2u);
}

// The control for the test above: without WithIdleness the quiet input holds the watermark
// back until it ends. (The first wait is a short bounded wait for something that must not
// happen.)
TEST(WatermarksTest, AQuietInputWithoutIdlenessHoldsBackTheWatermarkUntilItEnds) {
  Gate active_gate;
  Gate quiet_gate;
  Collected<std::string> out;
  auto env = TestEnv(1);
  std::unique_ptr<JobClient> client =
      RunWithAQuietInput(*env, /*quiet_input_goes_idle=*/false, active_gate, quiet_gate, out);

  bool fired_early = out.WaitForSize(1, milliseconds(300));
  quiet_gate.Open();  // its end is the max watermark on its channel: the active input's 1999 rules
  bool fired_after_quiet_ended = out.WaitForSize(2, Scaled(milliseconds(30000)));
  Strings after_quiet_ended = out.Values();
  active_gate.Open();
  JobExecutionResult result = client->WaitForResult();

  EXPECT_FALSE(fired_early);
  ASSERT_TRUE(fired_after_quiet_ended) << out.size();
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::sort(after_quiet_ended.begin(), after_quiet_ended.end());
  EXPECT_EQ(after_quiet_ended, (Strings{"a@1500 wm=1999", "b@1500 wm=1999"}));
}

}  // namespace
}  // namespace sluice::apitest
