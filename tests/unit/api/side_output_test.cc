// Side outputs (OutputTag, ctx.Output, GetSideOutput) and DataStream::Process with a
// ProcessFunction, end to end in real jobs and through the operator harness: what goes where,
// with which timestamp, across chained and network edges, and the errors a wrong job gets.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;
using std::chrono::milliseconds;

const OutputTag<std::string> kOdd("odd");

// Even numbers to the main output; odd ones, as text, to the "odd" side output.
class SplitOdd final : public ProcessFunction<int64_t, int64_t> {
 public:
  void ProcessElement(int64_t n, Context& ctx, Collector<int64_t>& out) override {
    if (n % 2 == 0) {
      out.Collect(n);
    } else {
      ctx.Output(kOdd, "odd " + std::to_string(n));
    }
  }
};

// "value@timestamp" of every element (what a downstream operator sees).
template <typename T>
class WithTimestamp final : public ProcessFunction<T, std::string> {
 public:
  void ProcessElement(T value, typename ProcessFunction<T, std::string>::Context& ctx,
                      Collector<std::string>& out) override {
    std::string text;
    if constexpr (std::is_same_v<T, std::string>) {
      text = value;
    } else {
      text = std::to_string(value);
    }
    out.Collect(text + "@" + std::to_string(ctx.Timestamp()));
  }
};

TEST(SideOutputTest, AProcessFunctionSplitsAStreamAndTheSideOutputKeepsTimestamps) {
  Collected<std::string> main;
  Collected<std::string> odd;
  auto env = TestEnv(1);
  auto split = env->FromCollection<int64_t>({1, 2, 3, 4, 5})
                   .AssignTimestampsAndWatermarks(
                       WatermarkStrategy<int64_t>::ForMonotonousTimestamps().WithTimestampAssigner(
                           [](const int64_t& n, int64_t) { return n * 100; }))
                   .Process(SplitOdd());
  split.Process(WithTimestamp<int64_t>()).AddSink(CollectSink<std::string>(&main));
  split.GetSideOutput(kOdd)
      .Process(WithTimestamp<std::string>())
      .AddSink(CollectSink<std::string>(&odd));

  JobExecutionResult result = env->Execute("split");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(main.Values(), (Strings{"2@200", "4@400"}));
  EXPECT_EQ(odd.Values(), (Strings{"odd 1@100", "odd 3@300", "odd 5@500"}));
}

TEST(SideOutputTest, ASideOutputCrossesANetworkEdgeAndMayBeReadTwice) {
  Collected<std::string> first;
  Collected<std::string> second;
  Collected<int64_t> main;
  auto env = TestEnv(2);
  auto split = env->GenerateSequence(1, 100).Process(SplitOdd());
  split.AddSink(CollectSink<int64_t>(&main));
  // Parallelism 1 after 2: a network edge of the side output's type.
  split.GetSideOutput(kOdd).AddSink(CollectSink<std::string>(&first)).SetParallelism(1);
  split.GetSideOutput(kOdd).Rebalance().AddSink(CollectSink<std::string>(&second));

  JobExecutionResult result = env->Execute("side-network");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  Strings expected;
  std::vector<int64_t> evens;
  for (int64_t n = 1; n <= 100; ++n) {
    if (n % 2 == 0) {
      evens.push_back(n);
    } else {
      expected.push_back("odd " + std::to_string(n));
    }
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(first.Sorted(), expected);
  EXPECT_EQ(second.Sorted(), expected);
  EXPECT_EQ(main.Sorted(), evens);
}

const OutputTag<std::string> kTimerFired("fired");

// Counts per key in state; on the second element of a key reports to the side output and
// registers an event-time timer whose firing goes to the side output too.
class KeyedSide final : public KeyedProcessFunction<std::string, std::string, std::string> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement(std::string word, Context& ctx, Collector<std::string>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    if (count == 2) {
      ctx.Output(kTimerFired, "second " + word);
      ctx.TimerService().RegisterEventTimeTimer(ctx.Timestamp() + 5);
    }
    out.Collect(word);
  }
  void OnTimer(int64_t time, OnTimerContext& ctx, Collector<std::string>&) override {
    ctx.Output(kTimerFired, "timer " + ctx.GetCurrentKey() + "@" + std::to_string(time));
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
};

TEST(SideOutputTest, AKeyedProcessFunctionEmitsToASideOutputFromElementsAndTimers) {
  auto harness = testing::KeyedProcessHarness<std::string, std::string, std::string>(
      KeyedSide(), [](const std::string& s) { return s; });
  const auto& side = harness.SideOutput(kTimerFired);
  harness.Open();
  harness.ProcessElement("a", 10);
  harness.ProcessElement("a", 12);
  harness.ProcessElement("b", 13);
  harness.ProcessWatermark(20);

  ASSERT_EQ(side.size(), 2u);
  EXPECT_EQ(side[0].value, "second a");
  EXPECT_EQ(side[0].timestamp, 12);  // the element's
  EXPECT_EQ(side[1].value, "timer a@17");
  EXPECT_EQ(side[1].timestamp, 17);  // the timer's
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a", "a", "b"}));
}

TEST(SideOutputTest, SideOutputConsumersReceiveTheOperatorsWatermarks) {
  // A keyed event-time timer behind a side output fires while the job runs only if the side
  // output forwards the watermarks of the operator that feeds it.
  Gate gate;
  Collected<std::string> fired;
  auto env = TestEnv(1);
  env->SetAutoWatermarkInterval(milliseconds(5));
  std::vector<std::pair<std::string, int64_t>> words = {{"a", 1000}, {"a", 1001}, {"z", 2000}};
  auto keyed =
      env->AddSource(HoldingSource<std::string>(words, &gate))
          .AssignTimestampsAndWatermarks(WatermarkStrategy<std::string>::ForMonotonousTimestamps())
          .KeyBy([](const std::string& s) { return s; })
          .Process(KeyedSide());
  keyed.GetSideOutput(kTimerFired)
      .Filter([](const std::string& s) { return s.rfind("timer", 0) == 0; })
      .AddSink(CollectSink<std::string>(&fired));

  std::unique_ptr<JobClient> client = env->ExecuteAsync("side-watermarks");
  // The watermark after "z" is 1999, past the timer at 1006.
  bool while_running = fired.WaitForSize(1, Scaled(milliseconds(30000)));
  gate.Open();
  JobExecutionResult result = client->WaitForResult();

  ASSERT_TRUE(while_running) << "the timer fired only at the end of input";
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(fired.Values(), (Strings{"timer a@1006"}));
}

TEST(SideOutputTest, TheSideOutputOfAnOperatorThatEmitsNoneIsEmpty) {
  Collected<std::string> odd;
  Collected<int64_t> main;
  auto env = TestEnv(1);
  auto mapped = env->GenerateSequence(1, 10).Map([](int64_t n) { return n; });
  mapped.AddSink(CollectSink<int64_t>(&main));
  mapped.GetSideOutput(kOdd).AddSink(CollectSink<std::string>(&odd));

  JobExecutionResult result = env->Execute("no-side");

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(main.size(), 10u);
  EXPECT_EQ(odd.size(), 0u);
}

TEST(SideOutputTest, GetSideOutputOfAKeyByIsAnErrorNamingTheTag) {
  Collected<std::string> odd;
  auto env = TestEnv(1);
  env->GenerateSequence(1, 10)
      .KeyBy([](int64_t n) { return n; })
      .GetSideOutput(kOdd)
      .AddSink(CollectSink<std::string>(&odd));

  JobExecutionResult result = env->Execute("side-of-keyby");

  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.failure.code(), StatusCode::kInvalidArgument) << result.failure.ToString();
  EXPECT_NE(result.failure.message().find("GetSideOutput(\"odd\")"), std::string::npos)
      << result.failure.ToString();
}

TEST(SideOutputTest, OneTagIdReadAsAnotherTypeFailsTheJob) {
  const OutputTag<int64_t> odd_as_number("odd");
  Collected<int64_t> wrong;
  auto env = TestEnv(1);
  env->SetRestartStrategy(RestartStrategy::NoRestart());
  env->GenerateSequence(1, 10)
      .Process(SplitOdd())
      .GetSideOutput(odd_as_number)
      .AddSink(CollectSink<int64_t>(&wrong));

  JobExecutionResult result = env->Execute("side-type");

  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_NE(result.failure.message().find("side output 'odd'"), std::string::npos)
      << result.failure.ToString();
}

class RegistersATimer final : public ProcessFunction<int64_t, int64_t> {
 public:
  void ProcessElement(int64_t n, Context& ctx, Collector<int64_t>& out) override {
    EXPECT_EQ(ctx.TimerService().CurrentWatermark(), kMinWatermark);
    ctx.TimerService().RegisterEventTimeTimer(n);
    out.Collect(n);
  }
};

TEST(SideOutputTest, OneTagIdReadWithTwoTypesIsAnError) {
  const OutputTag<int64_t> odd_as_number("odd");
  Collected<int64_t> numbers;
  Collected<std::string> texts;
  auto env = TestEnv(1);
  auto split = env->GenerateSequence(1, 10).Process(SplitOdd());
  split.GetSideOutput(kOdd).AddSink(CollectSink<std::string>(&texts));
  split.GetSideOutput(odd_as_number).AddSink(CollectSink<int64_t>(&numbers));

  JobExecutionResult result = env->Execute("side-two-types");

  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.failure.code(), StatusCode::kInvalidArgument) << result.failure.ToString();
  EXPECT_NE(result.failure.message().find("two element types"), std::string::npos)
      << result.failure.ToString();
}

TEST(SideOutputTest, TimersInAProcessFunctionOnANonKeyedStreamAreRefused) {
  auto harness = testing::ProcessHarness<int64_t, int64_t>(RegistersATimer());
  harness.Open();
  try {
    harness.ProcessElement(1, 1);
    ADD_FAILURE() << "a timer was registered on a non-keyed stream";
  } catch (const std::logic_error& error) {
    EXPECT_NE(std::string(error.what()).find("only supported on keyed streams"), std::string::npos)
        << error.what();
  }
}

TEST(SideOutputTest, AnOutputTagNeedsAnId) {
  EXPECT_THROW(OutputTag<int>(""), std::invalid_argument);
  EXPECT_EQ(OutputTag<int>("x"), OutputTag<int>("x"));
}

}  // namespace
}  // namespace sluice::apitest
