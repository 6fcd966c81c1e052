// The window operator through the operator harness, built by the DataStream calls and pinned to
// Flink's WindowOperator semantics: firing and purging, allowed lateness and late data,
// triggers, sessions, evictors, processing time, window state, and snapshot/restore of open
// windows.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using Event = std::pair<std::string, int64_t>;  // key, value
using Strings = std::vector<std::string>;
using Stamped = std::vector<std::pair<Event, int64_t>>;  // record, timestamp

std::string Key(const Event& e) { return e.first; }

template <typename T>
std::vector<std::pair<T, int64_t>> Records(const std::vector<detail::StreamRecord<T>>& records) {
  std::vector<std::pair<T, int64_t>> out;
  for (const auto& r : records) out.emplace_back(r.value, r.timestamp);
  return out;
}
template <typename T>
std::vector<std::pair<T, int64_t>> Sorted(std::vector<std::pair<T, int64_t>> records) {
  std::sort(records.begin(), records.end());
  return records;
}

// "key [start,end) sum=n count=c" for every firing ("key global sum=..." in a GlobalWindow).
template <typename W>
class DescribeIn final : public ProcessWindowFunction<Event, std::string, std::string, W> {
 public:
  void Process(const std::string& key, ProcessWindowContext<W>& ctx,
               const std::vector<Event>& elements, Collector<std::string>& out) override {
    int64_t sum = 0;
    for (const auto& e : elements) sum += e.second;
    std::string window = "global";
    if constexpr (std::is_same_v<W, TimeWindow>) {
      window = "[" + std::to_string(ctx.Window().Start()) + "," +
               std::to_string(ctx.Window().End()) + ")";
    }
    out.Collect(key + " " + window + " sum=" + std::to_string(sum) +
                " count=" + std::to_string(elements.size()));
  }
};
using Describe = DescribeIn<TimeWindow>;

class CountAll final : public AggregateFunction<Event, int64_t, int64_t> {
 public:
  int64_t CreateAccumulator() override { return 0; }
  int64_t Add(const Event&, int64_t count) override { return count + 1; }
  int64_t GetResult(const int64_t& count) override { return count; }
  int64_t Merge(int64_t a, int64_t b) override { return a + b; }
};

class WindowOperatorTest : public ::testing::Test {
 protected:
  KeyedStream<std::string, Event> Keyed() { return env_->FromCollection<Event>({}).KeyBy(Key); }
  std::unique_ptr<StreamExecutionEnvironment> env_ = StreamExecutionEnvironment::Create();
};

TEST_F(WindowOperatorTest, ATumblingEventTimeWindowFiresOnceTheWatermarkPassesItsEnd) {
  auto stream = Keyed().Window(TumblingEventTimeWindows::Of(milliseconds(10))).Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 2}, 9);
  harness.ProcessElement({"b", 5}, 5);
  harness.ProcessElement({"a", 4}, 10);
  harness.ProcessWatermark(8);
  EXPECT_TRUE(harness.output().empty());
  harness.ProcessWatermark(9);
  // Results carry their window's MaxTimestamp.
  EXPECT_EQ(Sorted(Records(harness.output())), (Stamped{{{"a", 3}, 9}, {{"b", 5}, 9}}));
  harness.TakeOutputValues();
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 4}, 19}}));
  EXPECT_EQ(harness.watermarks().back(), kMaxWatermark);
}

TEST_F(WindowOperatorTest, SlidingWindowsGetEveryElementOfTheirRange) {
  auto stream = Keyed()
                    .Window(SlidingEventTimeWindows::Of(milliseconds(10), milliseconds(5)))
                    .Process(Describe());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 3);
  harness.ProcessElement({"a", 10}, 7);
  harness.ProcessElement({"a", 100}, 12);
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(harness.TakeOutputValues(),
            (Strings{"a [-5,5) sum=1 count=1", "a [0,10) sum=11 count=2",
                     "a [5,15) sum=110 count=2", "a [10,20) sum=100 count=1"}));
}

TEST_F(WindowOperatorTest, ALateElementWithinTheAllowedLatenessFiresAnUpdatedResult) {
  const OutputTag<Event> late("late");
  auto stream = Keyed()
                    .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
                    .AllowedLateness(milliseconds(5))
                    .SideOutputLateData(late)
                    .Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  const auto& late_records = harness.SideOutput(late);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 2}, 2);
  harness.ProcessWatermark(9);
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 3}, 9}}));
  harness.TakeOutputValues();

  // Late, but within 5 ms: the window fires again with everything it holds.
  harness.ProcessElement({"a", 10}, 3);
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 13}, 9}}));
  harness.TakeOutputValues();
  harness.ProcessWatermark(13);
  harness.ProcessElement({"a", 100}, 4);  // 4 + 5 > 13: still allowed
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 113}, 9}}));
  harness.TakeOutputValues();

  // At 9 + 5 the window is dropped; later elements go to the late side output.
  harness.ProcessWatermark(14);
  harness.ProcessElement({"a", 1000}, 5);
  harness.ProcessElement({"b", 7}, 9);
  EXPECT_TRUE(harness.output().empty());
  EXPECT_EQ(Records(late_records), (Stamped{{{"a", 1000}, 5}, {{"b", 7}, 9}}));
  // An element of a later window is not late.
  harness.ProcessElement({"a", 5}, 10);
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 5}, 19}}));
  EXPECT_EQ(late_records.size(), 2u);
}

TEST_F(WindowOperatorTest, NothingIsLateBeforeTheFirstWatermarkWhateverTheLateness) {
  auto stream = Keyed()
                    .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
                    .AllowedLateness(milliseconds(5))
                    .Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  const int64_t far_past = std::numeric_limits<int64_t>::min() / 2;  // no overflow in lateness
  harness.ProcessElement({"a", 1}, far_past);
  harness.ProcessWatermark(kMaxWatermark);
  ASSERT_EQ(harness.output().size(), 1u);
  EXPECT_EQ(harness.output()[0].value, (Event{"a", 1}));
}

TEST_F(WindowOperatorTest, LateElementsWithoutASideOutputAreDroppedAndCounted) {
  auto stream = Keyed().Window(TumblingEventTimeWindows::Of(milliseconds(10))).Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessWatermark(9);
  harness.TakeOutputValues();
  harness.ProcessElement({"a", 2}, 9);
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_TRUE(harness.output().empty()) << "the dropped window was fired again";
  EXPECT_EQ(harness.metrics().GetCounter("numLateRecordsDropped").GetCount(), 1);
}

TEST_F(WindowOperatorTest, ACountTriggerWithoutPurgeFiresTheAccumulatedContents) {
  auto stream =
      Keyed().Window(GlobalWindows::Create()).Trigger(CountTrigger::Of(2)).Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  for (int64_t v = 1; v <= 5; ++v) harness.ProcessElement({"a", v}, v);
  // Fires at the 2nd and 4th element; the contents are kept: 1+2, then 1+2+3+4.
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<Event>{{"a", 3}, {"a", 10}}));
}

TEST_F(WindowOperatorTest, APurgingCountTriggerStartsEachFiringAfresh) {
  auto stream = Keyed()
                    .Window(GlobalWindows::Create())
                    .Trigger(PurgingTrigger::Of(CountTrigger::Of(2)))
                    .Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  for (int64_t v = 1; v <= 5; ++v) harness.ProcessElement({"a", v}, v);
  harness.ProcessWatermark(kMaxWatermark);  // a GlobalWindow never ends: the 5 stays
  EXPECT_EQ(Records(harness.output()),
            (Stamped{{{"a", 3}, kMaxWatermark}, {{"a", 7}, kMaxWatermark}}));
}

TEST_F(WindowOperatorTest, CountWindowIsAPurgingCountTriggerPerKey) {
  auto stream = Keyed().CountWindow(3).Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  for (int64_t v = 1; v <= 7; ++v) harness.ProcessElement({v % 2 == 0 ? "even" : "odd", v});
  // odd: 1 3 5 | 7 ; even: 2 4 6
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<Event>{{"odd", 9}, {"even", 12}}));
}

TEST_F(WindowOperatorTest, ASlidingCountWindowEvictsAllButTheLastElements) {
  auto stream = Keyed().CountWindow(3, 2).Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  for (int64_t v = 1; v <= 6; ++v) harness.ProcessElement({"a", v});
  // Every 2nd element, the sum of the last 3: [1,2], [2,3,4], [4,5,6].
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<Event>{{"a", 3}, {"a", 9}, {"a", 15}}));
}

TEST_F(WindowOperatorTest, ACountTriggerOnAnEventTimeWindowDoesNotFireAtTheEndButCleansUp) {
  auto stream = Keyed()
                    .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
                    .Trigger(CountTrigger::Of(2))
                    .Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 2}, 2);
  harness.ProcessElement({"a", 4}, 3);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<Event>{{"a", 3}}));
  harness.ProcessWatermark(9);
  EXPECT_TRUE(harness.output().empty()) << "CountTrigger fired at the window's end";
  // The window was cleaned up at its end: a new window of the same range starts empty.
  harness.ProcessElement({"a", 8}, 20);
  harness.ProcessElement({"a", 16}, 21);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<Event>{{"a", 24}}));
}

TEST_F(WindowOperatorTest, AContinuousEventTimeTriggerFiresEveryIntervalAndAtTheEnd) {
  auto stream = Keyed()
                    .Window(TumblingEventTimeWindows::Of(milliseconds(100)))
                    .Trigger(ContinuousEventTimeTrigger::Of(milliseconds(10)))
                    .Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 2}, 15);
  harness.ProcessWatermark(9);
  EXPECT_TRUE(harness.output().empty());
  harness.ProcessWatermark(10);  // the first firing: 1 - 1 % 10 + 10
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 3}, 99}}));
  harness.TakeOutputValues();
  harness.ProcessWatermark(25);
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<Event>{{"a", 3}}));
  harness.ProcessElement({"a", 4}, 26);
  harness.ProcessWatermark(99);  // 30, 40, ..., 90 and the end, 99
  EXPECT_EQ(harness.TakeOutputValues(), std::vector<Event>(8, Event{"a", 7}));
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_TRUE(harness.output().empty());
}

TEST_F(WindowOperatorTest, SessionsMergeAcrossOutOfOrderElements) {
  auto stream =
      Keyed().Window(EventTimeSessionWindows::WithGap(milliseconds(10))).Process(Describe());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  // Three separate sessions, then elements that bridge them out of order.
  harness.ProcessElement({"a", 1}, 0);   // [0,10)
  harness.ProcessElement({"a", 2}, 30);  // [30,40)
  harness.ProcessElement({"a", 4}, 15);  // [15,25)
  harness.ProcessElement({"b", 1}, 3);   // b: [3,13)
  harness.ProcessElement({"a", 8}, 8);   // [8,18) joins [0,10) and [15,25): [0,25)
  harness.ProcessWatermark(23);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"b [3,13) sum=1 count=1"}));
  harness.ProcessElement({"a", 16}, 22);  // [22,32) joins [0,25) and [30,40): [0,40)
  harness.ProcessWatermark(24);
  EXPECT_TRUE(harness.output().empty()) << "[0,25) fired although it merged into [0,40)";
  harness.ProcessWatermark(38);
  EXPECT_TRUE(harness.output().empty()) << "a merged session fired at a merged-away end";
  harness.ProcessWatermark(39);
  EXPECT_EQ(Records(harness.output()),
            (std::vector<std::pair<std::string, int64_t>>{{"a [0,40) sum=31 count=5", 39}}));
}

TEST_F(WindowOperatorTest, SessionsWithAggregateMergeTheirAccumulators) {
  class Average final : public AggregateFunction<Event, std::pair<int64_t, int64_t>, double> {
   public:
    std::pair<int64_t, int64_t> CreateAccumulator() override { return {0, 0}; }
    std::pair<int64_t, int64_t> Add(const Event& e, std::pair<int64_t, int64_t> acc) override {
      return {acc.first + e.second, acc.second + 1};
    }
    double GetResult(const std::pair<int64_t, int64_t>& acc) override {
      return static_cast<double>(acc.first) / static_cast<double>(acc.second);
    }
    std::pair<int64_t, int64_t> Merge(std::pair<int64_t, int64_t> a,
                                      std::pair<int64_t, int64_t> b) override {
      return {a.first + b.first, a.second + b.second};
    }
  };
  auto stream =
      Keyed().Window(EventTimeSessionWindows::WithGap(milliseconds(5))).Aggregate(Average());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 0);
  harness.ProcessElement({"a", 2}, 20);
  harness.ProcessElement({"a", 6}, 10);  // alone: [10,15)
  harness.ProcessElement({"a", 3}, 5);   // [5,10) touches [0,5) and [10,15): [0,15)
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(Records(harness.output()),
            (std::vector<std::pair<double, int64_t>>{{10.0 / 3, 14}, {2.0, 24}}));
}

TEST_F(WindowOperatorTest, DynamicGapSessionsTakeTheGapFromEachElement) {
  auto stream = Keyed()
                    .Window(EventTimeSessionWindows::WithDynamicGap<Event>(
                        [](const Event& e) { return milliseconds(e.second); }))
                    .Process(Describe());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 10}, 0);  // [0,10)
  harness.ProcessElement({"a", 2}, 12);  // [12,14): separate
  harness.ProcessElement({"a", 3}, 9);   // [9,12): touches both
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a [0,14) sum=15 count=3"}));
}

TEST_F(WindowOperatorTest, ATimeEvictorKeepsOnlyTheLastStretchOfEventTime) {
  auto stream = Keyed()
                    .Window(TumblingEventTimeWindows::Of(milliseconds(100)))
                    .Evictor(TimeEvictor::Of(milliseconds(10)))
                    .Process(Describe());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 2}, 50);
  harness.ProcessElement({"a", 4}, 55);
  harness.ProcessElement({"a", 8}, 60);
  harness.ProcessWatermark(kMaxWatermark);
  // Cut-off 60 - 10: 50 and earlier are evicted.
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a [0,100) sum=12 count=2"}));
}

TEST_F(WindowOperatorTest, ACountEvictorAfterTheFunctionKeepsTheLastElementForNextTime) {
  auto stream = Keyed()
                    .Window(GlobalWindows::Create())
                    .Evictor(CountEvictor::Of(1, /*do_evict_after=*/true))
                    .Trigger(CountTrigger::Of(2))
                    .Aggregate(CountAll());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  for (int64_t v = 1; v <= 4; ++v) harness.ProcessElement({"a", v});
  // [1,2] -> 2 elements, keeps [2]; [2,3,4] -> 3 elements.
  EXPECT_EQ(harness.TakeOutputValues(), (std::vector<int64_t>{2, 3}));
}

TEST_F(WindowOperatorTest, ProcessingTimeWindowsFireWhenTheClockPassesTheirEnd) {
  auto stream =
      Keyed().Window(TumblingProcessingTimeWindows::Of(milliseconds(10))).Sum(&Event::second);
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.SetProcessingTime(3);
  harness.ProcessElement({"a", 1}, 1000);  // the timestamp does not matter
  harness.SetProcessingTime(8);
  harness.ProcessElement({"a", 2});
  harness.ProcessWatermark(kMaxWatermark);  // nor does the watermark
  EXPECT_TRUE(harness.output().empty());
  harness.SetProcessingTime(9);
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 3}, 9}}));
  harness.TakeOutputValues();
  harness.SetProcessingTime(15);
  harness.ProcessElement({"a", 4});
  harness.SetProcessingTime(30);
  EXPECT_EQ(Records(harness.output()), (Stamped{{{"a", 4}, 19}}));
}

// Counts its firings per window (WindowState) and per key (GlobalState); clears the window's
// count when the window is dropped.
class CountFirings final
    : public ProcessWindowFunction<Event, std::string, std::string, TimeWindow> {
 public:
  void Process(const std::string& key, Context& ctx, const std::vector<Event>& elements,
               Collector<std::string>& out) override {
    ValueState<int64_t>& in_window = ctx.WindowState().GetState(Firings());
    ValueState<int64_t>& in_key = ctx.GlobalState().GetState(Firings());
    in_window.Update(in_window.Value().value_or(0) + 1);
    in_key.Update(in_key.Value().value_or(0) + 1);
    out.Collect(key + "@" + std::to_string(ctx.Window().Start()) + " n=" +
                std::to_string(elements.size()) + " window=" + std::to_string(*in_window.Value()) +
                " key=" + std::to_string(*in_key.Value()) +
                " wm=" + std::to_string(ctx.CurrentWatermark()));
  }
  void Clear(Context& ctx) override { ctx.WindowState().GetState(Firings()).Clear(); }

 private:
  static ValueStateDescriptor<int64_t> Firings() {
    return ValueStateDescriptor<int64_t>("firings");
  }
};

TEST_F(WindowOperatorTest, PerWindowStateIsSeparateFromPerKeyStateAndClearedWithTheWindow) {
  auto stream = Keyed()
                    .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
                    .AllowedLateness(milliseconds(10))
                    .Process(CountFirings());
  auto harness = HarnessOf<Event>(stream);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 1}, 11);
  harness.ProcessWatermark(9);
  harness.ProcessElement({"a", 1}, 2);  // late firing of [0,10)
  harness.ProcessWatermark(19);
  EXPECT_EQ(harness.TakeOutputValues(),
            (Strings{"a@0 n=1 window=1 key=1 wm=9", "a@0 n=2 window=2 key=2 wm=9",
                     "a@10 n=1 window=1 key=3 wm=19"}));
  // [0,10) is dropped at 19 and its Clear ran: the window state holds no count for it.
  ValueStateDescriptor<int64_t> firings("firings");
  DataOutput key;
  SerializeValue(std::string("a"), key);
  SerializeValue(TimeWindow(0, 10), key);
  auto* backend = harness.keyed_state_backend();
  backend->SetCurrentKey(key.data(),
                         detail::KeyGroupForKeyHash(KeyHashCode(std::string("a")), 128));
  EXPECT_EQ(backend->GetValueState(firings).Value(), std::nullopt);
  EXPECT_EQ((harness.ValueStateOf<std::string, int64_t>("a", "firings")), 3);
}

TEST_F(WindowOperatorTest, ProcessWindowFunctionsEmitSideOutputsStampedWithTheWindowEnd) {
  static const OutputTag<std::string> kBig("big");
  class FlagBig final : public ProcessWindowFunction<Event, int64_t, std::string, TimeWindow> {
   public:
    void Process(const std::string& key, Context& ctx, const std::vector<Event>& elements,
                 Collector<int64_t>& out) override {
      if (elements.size() > 1) ctx.Output(kBig, key);
      out.Collect(static_cast<int64_t>(elements.size()));
    }
  };
  auto stream = Keyed().Window(TumblingEventTimeWindows::Of(milliseconds(10))).Process(FlagBig());
  auto harness = HarnessOf<Event>(stream);
  const auto& big = harness.SideOutput(kBig);
  harness.Open();
  harness.ProcessElement({"a", 1}, 1);
  harness.ProcessElement({"a", 1}, 2);
  harness.ProcessElement({"b", 1}, 3);
  harness.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(Records(big), (std::vector<std::pair<std::string, int64_t>>{{"a", 9}}));
}

// Open windows of every kind survive a snapshot: contents, trigger state, merging sessions and
// timers. After restore the windows fire exactly as the uninterrupted operator's did.
template <typename MakeStream>
void ExpectRestoredWindowsFireAsUninterrupted(MakeStream make_stream,
                                              const std::vector<std::pair<Event, int64_t>>& before,
                                              const std::vector<std::pair<Event, int64_t>>& after) {
  auto env = StreamExecutionEnvironment::Create();
  DataStream<std::string> stream = make_stream(env->FromCollection<Event>({}).KeyBy(Key));
  auto uninterrupted = HarnessOf<Event>(stream);
  auto first = HarnessOf<Event>(stream);
  uninterrupted.Open();
  first.Open();
  for (const auto& [event, ts] : before) {
    uninterrupted.ProcessElement(event, ts);
    first.ProcessElement(event, ts);
  }
  const OperatorSnapshot snapshot = first.Snapshot(1);
  auto restored = HarnessOf<Event>(stream, &snapshot);
  restored.Open();
  for (const auto& [event, ts] : after) {
    uninterrupted.ProcessElement(event, ts);
    restored.ProcessElement(event, ts);
  }
  uninterrupted.ProcessWatermark(kMaxWatermark);
  restored.ProcessWatermark(kMaxWatermark);
  // What the uninterrupted operator emitted after the snapshot point.
  auto all = Records(uninterrupted.output());
  ASSERT_GE(all.size(), first.output().size());
  std::vector<std::pair<std::string, int64_t>> tail(
      all.begin() + static_cast<std::ptrdiff_t>(first.output().size()), all.end());
  EXPECT_FALSE(tail.empty());
  EXPECT_EQ(Sorted(Records(restored.output())), Sorted(tail));
}

TEST_F(WindowOperatorTest, OpenTumblingWindowsSurviveASnapshot) {
  ExpectRestoredWindowsFireAsUninterrupted(
      [](KeyedStream<std::string, Event> keyed) {
        return keyed.Window(TumblingEventTimeWindows::Of(milliseconds(10))).Process(Describe());
      },
      {{{"a", 1}, 1}, {{"b", 2}, 2}, {{"a", 4}, 15}}, {{{"a", 8}, 3}, {{"b", 16}, 18}});
}

TEST_F(WindowOperatorTest, OpenSessionsAndTheirMergeBookkeepingSurviveASnapshot) {
  ExpectRestoredWindowsFireAsUninterrupted(
      [](KeyedStream<std::string, Event> keyed) {
        return keyed.Window(EventTimeSessionWindows::WithGap(milliseconds(10))).Process(Describe());
      },
      {{{"a", 1}, 0}, {{"a", 2}, 30}, {{"a", 4}, 8}}, {{{"a", 8}, 22}, {{"a", 16}, 50}});
}

TEST_F(WindowOperatorTest, TriggerStateSurvivesASnapshot) {
  ExpectRestoredWindowsFireAsUninterrupted(
      [](KeyedStream<std::string, Event> keyed) {
        return keyed.Window(GlobalWindows::Create())
            .Trigger(PurgingTrigger::Of(CountTrigger::Of(3)))
            .Process(DescribeIn<GlobalWindow>());
      },
      {{{"a", 1}, 0}, {{"a", 2}, 1}},
      {{{"a", 4}, 2}, {{"a", 8}, 3}, {{"a", 16}, 4}, {{"a", 32}, 5}});
}

TEST_F(WindowOperatorTest, NothingIsLeftInStateOrTimersOnceEveryWindowIsCleanedUp) {
  auto stream = Keyed()
                    .Window(EventTimeSessionWindows::WithGap(milliseconds(10)))
                    .AllowedLateness(milliseconds(5))
                    .Trigger(ContinuousEventTimeTrigger::Of(milliseconds(3)))
                    .Process(Describe());
  auto harness = HarnessOf<Event>(stream);
  auto empty = HarnessOf<Event>(stream);
  harness.Open();
  empty.Open();
  harness.ProcessElement({"a", 1}, 0);
  harness.ProcessElement({"b", 1}, 4);
  harness.ProcessElement({"a", 1}, 12);
  harness.ProcessElement({"a", 1}, 6);
  harness.ProcessWatermark(kMaxWatermark);
  ASSERT_FALSE(harness.output().empty());
  // Contents, merge bookkeeping, trigger state and timers: all gone, as if nothing happened.
  const OperatorSnapshot after = harness.Snapshot(1);
  const OperatorSnapshot nothing = empty.Snapshot(1);
  for (const auto& [kg, parts] : after.key_groups) {
    EXPECT_EQ(parts.second, "") << "timers left in key group " << kg;
    EXPECT_EQ(parts.first, nothing.key_groups.at(kg).first) << "state left in key group " << kg;
  }
}

}  // namespace
}  // namespace sluice::testing
