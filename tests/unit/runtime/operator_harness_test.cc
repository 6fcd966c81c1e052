// The operator test harness itself, on a keyed process function with state and timers: what
// a user gets to test their functions without a job.
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {
namespace {

using WordCount = std::pair<std::string, int64_t>;

// Counts words per key; 100 ms of processing time after a word's first sighting, emits
// ("<word>!", count) once.
class CountWithReminder final : public KeyedProcessFunction<std::string, std::string, WordCount> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement(std::string word, Context& ctx, Collector<WordCount>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    if (count == 1)
      ctx.TimerService().RegisterProcessingTimeTimer(ctx.TimerService().CurrentProcessingTime() +
                                                     100);
    out.Collect({word, count});
  }
  void OnTimer(int64_t, OnTimerContext& ctx, Collector<WordCount>& out) override {
    out.Collect({ctx.GetCurrentKey() + "!", count_->Value().value_or(0)});
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
};

std::function<std::string(const std::string&)> Identity() {
  return [](const std::string& s) { return s; };
}

TEST(OperatorHarnessTest, FeedsRecordsAndReadsOutputAndKeyedState) {
  auto harness =
      KeyedProcessHarness<std::string, std::string, WordCount>(CountWithReminder(), Identity());
  harness.Open();
  harness.ProcessElement("a", 5);
  harness.ProcessElement("b", 6);
  harness.ProcessElement("a", 7);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<WordCount>{{"a", 1}, {"b", 1}, {"a", 2}}));
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("a", "count")), 2);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("b", "count")), 1);
  EXPECT_FALSE((harness.ValueStateOf<std::string, int64_t>("c", "count")).has_value());
}

TEST(OperatorHarnessTest, ProcessingTimeTimersFireWhenTimeAdvances) {
  auto harness =
      KeyedProcessHarness<std::string, std::string, WordCount>(CountWithReminder(), Identity());
  harness.Open();
  harness.SetProcessingTime(1000);
  harness.ProcessElement("a");
  harness.SetProcessingTime(1050);
  harness.ProcessElement("b");
  harness.ProcessElement("a");
  harness.TakeOutputValues();
  harness.SetProcessingTime(1099);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
  harness.SetProcessingTime(1100);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<WordCount>{{"a!", 2}}));
  harness.SetProcessingTime(1200);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<WordCount>{{"b!", 1}}));
}

TEST(OperatorHarnessTest, ASnapshotRestoresStateAndPendingTimersIntoANewInstance) {
  OperatorSnapshot snapshot;
  {
    auto harness =
        KeyedProcessHarness<std::string, std::string, WordCount>(CountWithReminder(), Identity());
    harness.Open();
    harness.SetProcessingTime(0);
    harness.ProcessElement("a");
    harness.ProcessElement("a");
    snapshot = harness.Snapshot(1);
    harness.ProcessElement("a");  // after the barrier: not in the snapshot
  }
  auto restored = KeyedProcessHarness<std::string, std::string, WordCount>(CountWithReminder(),
                                                                           Identity(), &snapshot);
  restored.Open();
  EXPECT_EQ((restored.ValueStateOf<std::string, int64_t>("a", "count")), 2);
  restored.ProcessElement("a");
  EXPECT_EQ(restored.TakeOutputValues(), (std::vector<WordCount>{{"a", 3}}));
  // The timer registered before the snapshot survived it.
  restored.SetProcessingTime(100);
  EXPECT_EQ(restored.TakeOutputValues(), (std::vector<WordCount>{{"a!", 3}}));
}

TEST(OperatorHarnessTest, EventTimeTimersFireWhenTheWatermarkPasses) {
  class EventTimer final : public KeyedProcessFunction<std::string, std::string, std::string> {
   public:
    void ProcessElement(std::string word, Context& ctx, Collector<std::string>& out) override {
      ctx.TimerService().RegisterEventTimeTimer(ctx.Timestamp() + 10);
      out.Collect(word);
    }
    void OnTimer(int64_t timestamp, OnTimerContext& ctx, Collector<std::string>& out) override {
      out.Collect(ctx.GetCurrentKey() + "@" + std::to_string(timestamp));
    }
  };
  auto harness =
      KeyedProcessHarness<std::string, std::string, std::string>(EventTimer(), Identity());
  harness.Open();
  harness.ProcessElement("x", 100);
  harness.ProcessElement("y", 105);
  harness.TakeOutputValues();
  harness.ProcessWatermark(109);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
  harness.ProcessWatermark(110);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<std::string>{"x@110"}));
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<std::string>{"y@115"}));
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{109, 110, kMaxWatermark}));
}

TEST(OperatorHarnessTest, MapHarnessRunsARichMapFunction) {
  class Doubler final : public RichMapFunction<int, int> {
   public:
    int Map(int value) override { return value * 2; }
  };
  auto harness = MapHarness<int, int>(Doubler());
  harness.Open();
  harness.ProcessElement(21, 3);
  ASSERT_EQ(harness.output().size(), 1u);
  EXPECT_EQ(harness.output()[0].value, 42);
  EXPECT_EQ(harness.output()[0].timestamp, 3);
}

}  // namespace
}  // namespace sluice::testing
