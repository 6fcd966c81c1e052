// KeyedProcessFunction behaviour, end to end: processing-time and event-time timers, their
// keys, deleting them, and what happens to pending timers when a bounded input ends.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;
using std::chrono::milliseconds;

std::string Wm(int64_t watermark) {
  if (watermark == kMaxWatermark) return "max";
  if (watermark == kMinWatermark) return "min";
  return std::to_string(watermark);
}

// ---- processing time ----

// Registers a processing-time timer `delay` ms after each element; reports its key and
// whether it fired at or after the registered time.
class ProcessingTimeTimer final
    : public KeyedProcessFunction<std::string, std::string, std::string> {
 public:
  explicit ProcessingTimeTimer(int64_t delay) : delay_(delay) {}
  void Open() override {
    registered_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("registered"));
  }
  void ProcessElement(std::string, Context& ctx, Collector<std::string>&) override {
    int64_t time = ctx.TimerService().CurrentProcessingTime() + delay_;
    registered_->Update(time);
    ctx.TimerService().RegisterProcessingTimeTimer(time);
  }
  void OnTimer(int64_t timestamp, OnTimerContext& ctx, Collector<std::string>& out) override {
    bool on_time = registered_->Value() == timestamp &&
                   ctx.TimerService().CurrentProcessingTime() >= timestamp;
    out.Collect(ctx.GetCurrentKey() +
                (ctx.GetTimeDomain() == TimeDomain::kProcessingTime ? " processing" : " event") +
                (on_time ? " on time" : " wrong time"));
  }

 private:
  int64_t delay_;
  ValueState<int64_t>* registered_ = nullptr;
};

std::vector<std::pair<std::string, int64_t>> Untimed(const Strings& values) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const auto& v : values) out.emplace_back(v, kNoTimestamp);
  return out;
}

TEST(KeyedProcessTest, ProcessingTimeTimersFireForTheirKeyInARunningJob) {
  Gate gate;
  Collected<std::string> out;
  auto env = TestEnv(2);
  env->AddSource(HoldingSource<std::string>(Untimed({"a", "b", "c"}), &gate))
      .KeyBy([](const std::string& s) { return s; })
      .Process(ProcessingTimeTimer(20))
      .AddSink(CollectSink<std::string>(&out));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("processing-timers");
  bool fired = out.WaitForSize(3, Scaled(milliseconds(30000)));
  gate.Open();  // the source may end now
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(fired) << "only " << out.size() << " of 3 timers fired";
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: the keys are spread over two instances whose timers fire independently.
  EXPECT_EQ(out.Sorted(),
            (Strings{"a processing on time", "b processing on time", "c processing on time"}));
}

// The runtime ends a bounded job as soon as its input ends; a processing-time timer that is
// not due yet never fires. This documents that behaviour (Flink's streaming mode also drops
// pending processing-time timers when a bounded job finishes): the job finishes at once, it
// does not wait for the timers.
TEST(KeyedProcessTest, PendingProcessingTimeTimersDoNotFireWhenABoundedInputEnds) {
  const milliseconds delay = Scaled(milliseconds(5000));
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromElements<std::string>("a", "b")
      .KeyBy([](const std::string& s) { return s; })
      .Process(ProcessingTimeTimer(delay.count()))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("processing-timers-at-end");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), Strings{});
  EXPECT_LT(result.runtime, delay) << "the job waited for its processing-time timers";
}

// Commands: (key, command, time). "reg" registers a timer (processing time: `time` ms from
// now; event time: at `time`) and remembers it; "del" deletes the remembered one.
using Command = std::tuple<std::string, std::string, int64_t>;

class TimerCommands final : public KeyedProcessFunction<std::string, Command, std::string> {
 public:
  explicit TimerCommands(TimeDomain domain) : domain_(domain) {}
  void Open() override {
    timer_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("timer"));
  }
  void ProcessElement(Command command, Context& ctx, Collector<std::string>&) override {
    auto& [key, what, time] = command;
    TimerService& timers = ctx.TimerService();
    if (what == "reg") {
      int64_t at =
          domain_ == TimeDomain::kProcessingTime ? timers.CurrentProcessingTime() + time : time;
      timer_->Update(at);
      if (domain_ == TimeDomain::kProcessingTime) {
        timers.RegisterProcessingTimeTimer(at);
      } else {
        timers.RegisterEventTimeTimer(at);
      }
    } else if (what == "del") {
      int64_t at = timer_->Value().value();
      if (domain_ == TimeDomain::kProcessingTime) {
        timers.DeleteProcessingTimeTimer(at);
      } else {
        timers.DeleteEventTimeTimer(at);
      }
    }
  }
  void OnTimer(int64_t timestamp, OnTimerContext& ctx, Collector<std::string>& out) override {
    std::string fired = ctx.GetCurrentKey();
    if (domain_ == TimeDomain::kEventTime) {
      fired += "@" + std::to_string(timestamp) + " ts=" + std::to_string(ctx.Timestamp()) +
               " wm=" + Wm(ctx.TimerService().CurrentWatermark());
    }
    out.Collect(fired);
  }

 private:
  TimeDomain domain_;
  ValueState<int64_t>* timer_ = nullptr;
};

TEST(KeyedProcessTest, DeletedProcessingTimeTimerDoesNotFire) {
  Gate gate;
  Collected<std::string> out;
  auto env = TestEnv(1);
  // b's timer is deleted; c's is due after b's would have been, so once c fired, b would
  // have fired first had it not been deleted.
  std::vector<std::pair<Command, int64_t>> commands = {{{"a", "reg", 10}, kNoTimestamp},
                                                       {{"b", "reg", 10}, kNoTimestamp},
                                                       {{"b", "del", 0}, kNoTimestamp},
                                                       {{"c", "reg", 60}, kNoTimestamp}};
  env->AddSource(HoldingSource<Command>(commands, &gate))
      .KeyBy([](const Command& c) { return std::get<0>(c); })
      .Process(TimerCommands(TimeDomain::kProcessingTime))
      .AddSink(CollectSink<std::string>(&out));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("delete-processing-timer");
  bool fired = out.WaitForSize(2, Scaled(milliseconds(30000)));
  gate.Open();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(fired) << "only " << out.size() << " of 2 timers fired";
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(out.Values(), (Strings{"a", "c"}));
}

// ---- event time ----

WatermarkStrategy<Command> CommandTimestamps() {
  // The event time of a command is carried by the source record.
  return WatermarkStrategy<Command>::ForMonotonousTimestamps().WithTimestampAssigner(
      [](const Command&, int64_t record_timestamp) { return record_timestamp; });
}

TEST(KeyedProcessTest, EventTimeTimersFireWhenTheWatermarkPassesThem) {
  Gate gate;
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->SetAutoWatermarkInterval(milliseconds(5));
  std::vector<std::pair<Command, int64_t>> commands = {
      {{"a", "reg", 1010}, 1000}, {{"b", "reg", 1015}, 1005}, {{"a", "reg", 2010}, 2000}};
  env->AddSource(HoldingSource<Command>(commands, &gate))
      .AssignTimestampsAndWatermarks(CommandTimestamps())
      .KeyBy([](const Command& c) { return std::get<0>(c); })
      .Process(TimerCommands(TimeDomain::kEventTime))
      .AddSink(CollectSink<std::string>(&out));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("event-timers");
  // The watermark after the last record is 2000 - 1 = 1999: it passes 1010 and 1015, not 2010.
  bool fired = out.WaitForSize(2, Scaled(milliseconds(30000)));
  Strings while_running = out.Values();
  gate.Open();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(fired) << "only " << out.size() << " of 2 timers fired while the job ran";
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(while_running, (Strings{"a@1010 ts=1010 wm=1999", "b@1015 ts=1015 wm=1999"}));
  // The end of input is the max watermark, which fires the rest.
  EXPECT_EQ(out.Values(),
            (Strings{"a@1010 ts=1010 wm=1999", "b@1015 ts=1015 wm=1999", "a@2010 ts=2010 wm=max"}));
}

TEST(KeyedProcessTest, TheMaxWatermarkAtTheEndOfInputFiresEveryPendingEventTimeTimer) {
  Collected<std::string> out;
  auto env = TestEnv(2);
  // Timers far ahead of any record: only the end of input can fire them.
  env->FromCollection<Command>(
         {{"a", "reg", 1'000'000}, {"b", "reg", 2'000'000}, {"c", "reg", 3'000'000}})
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Command>::ForMonotonousTimestamps().WithTimestampAssigner(
              [](const Command&, int64_t) { return int64_t{100}; }))
      .KeyBy([](const Command& c) { return std::get<0>(c); })
      .Process(TimerCommands(TimeDomain::kEventTime))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("event-timers-at-end");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: the keys are spread over two instances.
  EXPECT_EQ(out.Sorted(), (Strings{"a@1000000 ts=1000000 wm=max", "b@2000000 ts=2000000 wm=max",
                                   "c@3000000 ts=3000000 wm=max"}));
}

TEST(KeyedProcessTest, DeletedEventTimeTimerDoesNotFire) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromCollection<Command>(
         {{"a", "reg", 500}, {"b", "reg", 600}, {"b", "del", 0}, {"c", "reg", 700}})
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Command>::ForMonotonousTimestamps().WithTimestampAssigner(
              [](const Command&, int64_t) { return int64_t{100}; }))
      .KeyBy([](const Command& c) { return std::get<0>(c); })
      .Process(TimerCommands(TimeDomain::kEventTime))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("delete-event-timer");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Parallelism 1: the timers fire in time order.
  EXPECT_EQ(out.Values(), (Strings{"a@500 ts=500 wm=max", "c@700 ts=700 wm=max"}));
}

TEST(KeyedProcessTest, RegisteringTheSameEventTimeTwiceFiresOnce) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  env->FromCollection<Command>({{"a", "reg", 500}, {"a", "reg", 500}, {"b", "reg", 500}})
      .AssignTimestampsAndWatermarks(
          WatermarkStrategy<Command>::ForMonotonousTimestamps().WithTimestampAssigner(
              [](const Command&, int64_t) { return int64_t{100}; }))
      .KeyBy([](const Command& c) { return std::get<0>(c); })
      .Process(TimerCommands(TimeDomain::kEventTime))
      .AddSink(CollectSink<std::string>(&out));

  JobExecutionResult result = env->Execute("timer-twice");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  // Sorted: timers of one time fire in an order the API does not define.
  EXPECT_EQ(out.Sorted(), (Strings{"a@500 ts=500 wm=max", "b@500 ts=500 wm=max"}));
}

}  // namespace
}  // namespace sluice::apitest
