// Window joins and co-groups (DataStream::Join / CoGroup ... Window ... Apply) pinned to Flink's
// JoinedStreams and CoGroupedStreams: a CoGroup over the union of tagged inputs, keyed and
// windowed. Through the window operator's harness (fed TaggedUnion elements, as the taggers
// would): pairs of one key in one window join, across windows or keys nothing does, sliding
// windows join a pair once per window, a CoGroup is called once per key and window also with one
// side empty, late elements follow the window operator's rules, processing-time windows and
// triggers work, functions of every kind are accepted and opened; wrong settings are refused;
// the tagged union's format is versioned; and in real parallel jobs the results are exact.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using std::chrono::milliseconds;
using Strings = std::vector<std::string>;
using Item = std::pair<std::string, std::string>;  // key, name
using Union = TaggedUnion<Item, Item>;
using testing::HarnessOf;

std::string Key(const Item& item) { return item.first; }

Union A(std::string key, std::string name) { return Union::One({std::move(key), std::move(name)}); }
Union B(std::string key, std::string name) { return Union::Two({std::move(key), std::move(name)}); }

class NamePairs final : public JoinFunction<Item, Item, std::string> {
 public:
  std::string Join(const Item& a, const Item& b) override { return a.second + "-" + b.second; }
};

// "key:[a names]|[b names]" once per call.
class ListBoth final : public CoGroupFunction<Item, Item, std::string> {
 public:
  void CoGroup(const std::vector<Item>& first, const std::vector<Item>& second,
               Collector<std::string>& out) override {
    const std::string key = !first.empty() ? first.front().first : second.front().first;
    out.Collect(key + ":" + Names(first) + "|" + Names(second));
  }

 private:
  static std::string Names(const std::vector<Item>& items) {
    std::string names = "[";
    for (const Item& item : items) names += (names.size() > 1 ? "," : "") + item.second;
    return names + "]";
  }
};

template <typename A>
auto JoinOf(StreamExecutionEnvironment& env, A assigner) {
  auto first = env.FromElements<Item>(Item{"k", "x"});
  auto second = env.FromElements<Item>(Item{"k", "y"});
  return first.Join(second).Where(&Key).EqualTo(&Key).Window(std::move(assigner));
}
template <typename A>
auto CoGroupOf(StreamExecutionEnvironment& env, A assigner) {
  auto first = env.FromElements<Item>(Item{"k", "x"});
  auto second = env.FromElements<Item>(Item{"k", "y"});
  return first.CoGroup(second).Where(&Key).EqualTo(&Key).Window(std::move(assigner));
}

TEST(WindowJoinTest, EveryPairOfOneKeyInOneWindowJoinsFirstInputOuter) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a1"), 1);
  harness.ProcessElement(B("k", "b1"), 3);
  harness.ProcessElement(A("j", "c1"), 4);  // another key
  harness.ProcessElement(A("k", "a2"), 5);
  harness.ProcessElement(B("k", "b2"), 8);
  harness.ProcessElement(B("k", "b3"), 12);  // the next window
  harness.ProcessWatermark(9);
  ASSERT_EQ(harness.output().size(), 4u);
  for (const auto& record : harness.output()) EXPECT_EQ(record.timestamp, 9);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a1-b1", "a1-b2", "a2-b1", "a2-b2"}));
  // [10, 20) has a second-input element only: an inner join gives nothing.
  harness.ProcessWatermark(19);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
}

TEST(WindowJoinTest, ElementsInDifferentWindowsOrOfDifferentKeysDoNotJoin) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a"), 9);
  harness.ProcessElement(B("k", "b"), 10);
  harness.ProcessElement(A("j", "c"), 15);
  harness.ProcessElement(B("i", "d"), 15);
  harness.ProcessWatermark(100);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
}

TEST(WindowJoinTest, SlidingWindowsJoinAPairOncePerWindowTheyShare) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, SlidingEventTimeWindows::Of(milliseconds(10), milliseconds(5)))
                    .Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a"), 7);   // [0, 10) and [5, 15)
  harness.ProcessElement(B("k", "b"), 12);  // [5, 15) and [10, 20)
  harness.ProcessElement(B("k", "c"), 8);   // [0, 10) and [5, 15)
  harness.ProcessWatermark(30);
  ASSERT_EQ(harness.output().size(), 3u);
  EXPECT_EQ(harness.output()[0].value, "a-c");
  EXPECT_EQ(harness.output()[0].timestamp, 9);
  EXPECT_EQ(harness.output()[1].value, "a-b");
  EXPECT_EQ(harness.output()[1].timestamp, 14);
  EXPECT_EQ(harness.output()[2].value, "a-c");
  EXPECT_EQ(harness.output()[2].timestamp, 14);
}

TEST(WindowJoinTest, CoGroupIsCalledOncePerKeyAndWindowAlsoWithOneSideEmpty) {
  auto env = TestEnv(1);
  auto grouped = CoGroupOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(ListBoth());
  auto harness = HarnessOf<Union>(grouped);
  harness.Open();
  harness.ProcessElement(A("k", "a1"), 1);
  harness.ProcessElement(B("j", "b1"), 2);
  harness.ProcessElement(A("k", "a2"), 3);
  harness.ProcessElement(B("i", "b2"), 4);
  harness.ProcessElement(A("i", "a3"), 5);
  harness.ProcessElement(B("i", "b3"), 6);
  harness.ProcessWatermark(9);
  Strings results = harness.TakeOutputValues();
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, (Strings{"i:[a3]|[b2,b3]", "j:[]|[b1]", "k:[a1,a2]|[]"}));
}

TEST(WindowJoinTest, LateElementsAreDroppedAndCountedWithoutAllowedLateness) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a"), 1);
  harness.ProcessElement(B("k", "b"), 2);
  harness.ProcessWatermark(10);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a-b"}));
  harness.ProcessElement(B("k", "late"), 5);
  harness.ProcessWatermark(20);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
  EXPECT_EQ(harness.metrics().GetCounter("numLateRecordsDropped").GetCount(), 1);
}

TEST(WindowJoinTest, WithAllowedLatenessALateElementFiresTheWindowAgainWithAllPairs) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10)))
                    .AllowedLateness(milliseconds(5))
                    .Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a"), 1);
  harness.ProcessElement(B("k", "b"), 2);
  harness.ProcessWatermark(10);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a-b"}));
  harness.ProcessElement(B("k", "c"), 5);  // late, within the lateness: fires again
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a-b", "a-c"}));
  harness.ProcessWatermark(14);
  harness.ProcessElement(A("k", "d"), 6);  // window end 9 + lateness 5 = 14 <= watermark: late
  EXPECT_TRUE(harness.TakeOutputValues().empty());
  EXPECT_EQ(harness.metrics().GetCounter("numLateRecordsDropped").GetCount(), 1);
}

TEST(WindowJoinTest, ProcessingTimeWindowsJoinWhatArrivedDuringTheWindow) {
  auto env = TestEnv(1);
  auto joined =
      JoinOf(*env, TumblingProcessingTimeWindows::Of(milliseconds(10))).Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.SetProcessingTime(2);
  harness.ProcessElement(A("k", "a"));  // no timestamps needed in processing time
  harness.ProcessElement(B("k", "b"));
  harness.SetProcessingTime(11);
  harness.ProcessElement(B("k", "c"));  // the next window
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a-b"}));
  harness.SetProcessingTime(20);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
}

TEST(WindowJoinTest, EventTimeWindowsRefuseElementsWithoutTimestamps) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  EXPECT_THROW(harness.ProcessElement(A("k", "a")), StatusException);
}

TEST(WindowJoinTest, ATriggerAndAnEvictorApplyToTheJoinWindow) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, GlobalWindows::Create())
                    .Trigger(PurgingTrigger::Of(CountTrigger::Of(3)))
                    .Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a1"), 1);
  harness.ProcessElement(B("k", "b1"), 2);
  EXPECT_TRUE(harness.TakeOutputValues().empty());
  harness.ProcessElement(B("k", "b2"), 3);  // the third element of the key fires and purges
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a1-b1", "a1-b2"}));
  harness.ProcessElement(A("k", "a2"), 4);
  harness.ProcessElement(A("k", "a3"), 5);
  harness.ProcessElement(B("k", "b3"), 6);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a2-b3", "a3-b3"}));

  // CountEvictor keeps the last 2 elements before the function runs.
  auto evicting = JoinOf(*env, GlobalWindows::Create())
                      .Trigger(CountTrigger::Of(3))
                      .Evictor(CountEvictor::Of(2))
                      .Apply(NamePairs());
  auto second = HarnessOf<Union>(evicting);
  second.Open();
  second.ProcessElement(A("k", "a1"), 1);
  second.ProcessElement(A("k", "a2"), 2);
  second.ProcessElement(B("k", "b1"), 3);
  EXPECT_EQ(second.TakeOutputValues(), (Strings{"a2-b1"}));
}

TEST(WindowJoinTest, SessionWindowsJoinWhatMergedIntoOneSession) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, EventTimeSessionWindows::WithGap(milliseconds(10))).Apply(NamePairs());
  auto harness = HarnessOf<Union>(joined);
  harness.Open();
  harness.ProcessElement(A("k", "a"), 0);    // [0, 10): a session of its own
  harness.ProcessElement(B("k", "b"), 25);   // [25, 35)
  harness.ProcessElement(A("k", "c"), 16);   // [16, 26) overlaps it: one session [16, 35)
  harness.ProcessElement(B("k", "d"), 100);  // [100, 110)
  harness.ProcessWatermark(200);
  ASSERT_EQ(harness.output().size(), 1u);
  EXPECT_EQ(harness.output()[0].value, "c-b");
  EXPECT_EQ(harness.output()[0].timestamp, 34);
}

class FlatPairs final : public FlatJoinFunction<Item, Item, std::string> {
 public:
  void Join(const Item& a, const Item& b, Collector<std::string>& out) override {
    if (a.second == "skip") return;
    out.Collect(a.second + "-" + b.second);
    out.Collect(b.second + "-" + a.second);
  }
};

TEST(WindowJoinTest, ApplyTakesFlatJoinFunctionsAndCallables) {
  auto env = TestEnv(1);
  auto assigner = TumblingEventTimeWindows::Of(milliseconds(10));
  auto feed = [](auto& harness) {
    harness.Open();
    harness.ProcessElement(A("k", "a"), 1);
    harness.ProcessElement(A("k", "skip"), 1);
    harness.ProcessElement(B("k", "b"), 2);
    harness.ProcessWatermark(9);
    return harness.TakeOutputValues();
  };
  auto flat = HarnessOf<Union>(JoinOf(*env, assigner).Apply(FlatPairs()));
  EXPECT_EQ(feed(flat), (Strings{"a-b", "b-a"}));
  auto lambda = HarnessOf<Union>(JoinOf(*env, assigner).Apply([](const Item& a, const Item& b) {
    return std::make_pair(a.second, b.second);
  }));
  EXPECT_EQ(feed(lambda),
            (std::vector<std::pair<std::string, std::string>>{{"a", "b"}, {"skip", "b"}}));
  auto flat_lambda =
      HarnessOf<Union>(JoinOf(*env, assigner)
                           .Apply<int64_t>([](const Item& a, const Item&, Collector<int64_t>& out) {
                             out.Collect(static_cast<int64_t>(a.second.size()));
                           }));
  EXPECT_EQ(feed(flat_lambda), (std::vector<int64_t>{1, 4}));
  auto cogroup_lambda = HarnessOf<Union>(
      CoGroupOf(*env, assigner)
          .Apply<std::string>([](const std::vector<Item>& a, const std::vector<Item>& b,
                                 Collector<std::string>& out) {
            out.Collect(std::to_string(a.size()) + "x" + std::to_string(b.size()));
          }));
  EXPECT_EQ(feed(cogroup_lambda), (Strings{"2x1"}));
}

// A rich function nested in the window function still gets Open (with its runtime context) and
// Close.
class Opened final : public JoinFunction<Item, Item, std::string> {
 public:
  void Open() override { metric_ = &GetRuntimeContext().GetMetricGroup().GetCounter("joined"); }
  std::string Join(const Item& a, const Item& b) override {
    metric_->Inc();
    return a.second + b.second;
  }

 private:
  Counter* metric_ = nullptr;
};

TEST(WindowJoinTest, TheJoinFunctionIsOpenedWithItsRuntimeContext) {
  auto env = TestEnv(1);
  auto harness = HarnessOf<Union>(
      JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(Opened()));
  harness.Open();
  harness.ProcessElement(A("k", "a"), 1);
  harness.ProcessElement(B("k", "b"), 2);
  harness.ProcessElement(B("k", "c"), 3);
  harness.ProcessWatermark(9);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"ab", "ac"}));
  EXPECT_EQ(harness.metrics().GetCounter("joined").GetCount(), 2);
}

TEST(WindowJoinTest, WindowContentsSurviveASnapshot) {
  auto env = TestEnv(1);
  auto joined = JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10))).Apply(NamePairs());
  testing::OperatorSnapshot snapshot;
  {
    auto harness = HarnessOf<Union>(joined);
    harness.Open();
    harness.ProcessElement(A("k", "a"), 1);
    harness.ProcessElement(B("k", "b"), 2);
    snapshot = harness.Snapshot(1);
  }
  auto restored = HarnessOf<Union>(joined, &snapshot);
  restored.Open();
  restored.ProcessElement(B("k", "c"), 3);
  restored.ProcessWatermark(9);  // the restored cleanup timer fires the window
  EXPECT_EQ(restored.TakeOutputValues(), (Strings{"a-b", "a-c"}));
}

// A user trigger of a join window sees TaggedUnion elements; this one cannot merge.
class NonMergingTrigger final : public Trigger<Union, TimeWindow> {
 public:
  TriggerResult OnElement(const Union&, int64_t, const TimeWindow&, TriggerContext&) override {
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

TEST(WindowJoinTest, SettingsThatCannotWorkAreRefusedAtOnce) {
  auto env = TestEnv(1);
  EXPECT_THROW(
      JoinOf(*env, EventTimeSessionWindows::WithGap(milliseconds(10))).Trigger(NonMergingTrigger()),
      std::invalid_argument);
  EXPECT_NO_THROW(JoinOf(*env, EventTimeSessionWindows::WithGap(milliseconds(10)))
                      .Trigger(CountTrigger::Of(2)));
  EXPECT_THROW(JoinOf(*env, TumblingEventTimeWindows::Of(milliseconds(10)))
                   .AllowedLateness(milliseconds(-1)),
               std::invalid_argument);
  EXPECT_THROW(CoGroupOf(*env, TumblingEventTimeWindows::Of(milliseconds(10)))
                   .AllowedLateness(milliseconds(-1)),
               std::invalid_argument);
}

// Where and EqualTo must select one key type (a compile-time check).
template <typename W, typename F>
concept CanEqualTo = requires(W where, F key) { where.EqualTo(key); };
using JoinWhere = JoinedStreamsWhere<Item, int64_t, std::string>;
using CoGroupWhere = CoGroupedStreamsWhere<Item, int64_t, std::string>;
using StringKey = std::string (*)(const int64_t&);
using IntKey = int64_t (*)(const int64_t&);
static_assert(CanEqualTo<JoinWhere, StringKey>);
static_assert(!CanEqualTo<JoinWhere, IntKey>);
static_assert(CanEqualTo<CoGroupWhere, StringKey>);
static_assert(!CanEqualTo<CoGroupWhere, IntKey>);

TEST(WindowJoinTest, TheTaggedUnionFormatIsVersionOneAndRoundTrips) {
  using U = TaggedUnion<int64_t, std::string>;
  DataOutput one;
  SerializeValue(U::One(5), one);
  EXPECT_EQ(one.data(), std::string("\x01\x00\x0a", 3));  // version 1, side 0, zigzag 5
  DataOutput two;
  SerializeValue(U::Two("ab"), two);
  EXPECT_EQ(two.data(), std::string("\x01\x01\x02"
                                    "ab",
                                    5));
  DataInput in1(one.data());
  EXPECT_EQ(DeserializeValue<U>(in1), U::One(5));
  DataInput in2(two.data());
  EXPECT_EQ(DeserializeValue<U>(in2), U::Two("ab"));
  EXPECT_EQ(TypeNameOf<U>(), "tagged_union<int64,string>");

  const std::string bad_side("\x01\x02\x0a", 3);
  DataInput bad(bad_side);
  EXPECT_THROW(DeserializeValue<U>(bad), SerializationError);
  const std::string newer("\x02\x00\x0a", 3);
  DataInput newer_in(newer);
  EXPECT_THROW(DeserializeValue<U>(newer_in), SerializationError);
}

// ---- in real jobs ----

using Event = std::tuple<int64_t, std::string, int64_t>;  // key, name, timestamp

WatermarkStrategy<Event> ByTime() {
  return WatermarkStrategy<Event>::ForMonotonousTimestamps().WithTimestampAssigner(
      [](const Event& e, int64_t) { return std::get<2>(e); });
}

TEST(WindowJoinTest, AParallelJobJoinsExactlyThePairsOfEachKeyAndWindow) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  std::vector<Event> lefts;
  std::vector<Event> rights;
  for (int64_t i = 0; i < 80; ++i) {
    lefts.emplace_back(i % 6, "l" + std::to_string(i), i * 7);
    rights.emplace_back(i % 4, "r" + std::to_string(i), i * 5);
  }
  auto key = [](const Event& e) { return std::get<0>(e); };
  auto left = env->FromCollection<Event>(lefts).AssignTimestampsAndWatermarks(ByTime());
  auto right = env->FromCollection<Event>(rights).AssignTimestampsAndWatermarks(ByTime());
  left.Join(right)
      .Where(key)
      .EqualTo(key)
      .Window(TumblingEventTimeWindows::Of(milliseconds(50)))
      .Apply([](const Event& l, const Event& r) { return std::get<1>(l) + "+" + std::get<1>(r); })
      .AddSink(CollectSink<std::string>(&out));
  ASSERT_EQ(env->Execute("window-join").status, JobStatus::kFinished);

  Strings expected;
  for (const Event& l : lefts) {
    for (const Event& r : rights) {
      if (std::get<0>(l) == std::get<0>(r) && std::get<2>(l) / 50 == std::get<2>(r) / 50) {
        expected.push_back(std::get<1>(l) + "+" + std::get<1>(r));
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(out.Sorted(), expected);
}

class CountBoth final : public CoGroupFunction<Event, Event, std::tuple<int64_t, size_t, size_t>> {
 public:
  void CoGroup(const std::vector<Event>& first, const std::vector<Event>& second,
               Collector<std::tuple<int64_t, size_t, size_t>>& out) override {
    const int64_t key = !first.empty() ? std::get<0>(first[0]) : std::get<0>(second[0]);
    out.Collect({key, first.size(), second.size()});
  }
};

TEST(WindowJoinTest, AParallelCoGroupSeesKeysOfOneSideOnlyToo) {
  Collected<std::tuple<int64_t, size_t, size_t>> out;
  auto env = TestEnv(2);
  // Keys 0..5 on the left, 3..8 on the right, all in one window.
  std::vector<Event> lefts;
  std::vector<Event> rights;
  for (int64_t k = 0; k < 6; ++k) {
    lefts.emplace_back(k, "l", k);
    lefts.emplace_back(k, "l", k + 1);
    rights.emplace_back(k + 3, "r", k);
  }
  auto key = [](const Event& e) { return std::get<0>(e); };
  env->FromCollection<Event>(lefts)
      .AssignTimestampsAndWatermarks(ByTime())
      .CoGroup(env->FromCollection<Event>(rights).AssignTimestampsAndWatermarks(ByTime()))
      .Where(key)
      .EqualTo(key)
      .Window(TumblingEventTimeWindows::Of(milliseconds(1000)))
      .Apply(CountBoth())
      .AddSink(CollectSink<std::tuple<int64_t, size_t, size_t>>(&out));
  ASSERT_EQ(env->Execute("window-cogroup").status, JobStatus::kFinished);
  using R = std::tuple<int64_t, size_t, size_t>;
  EXPECT_EQ(out.Sorted(),
            (std::vector<R>{R{0, 2, 0}, R{1, 2, 0}, R{2, 2, 0}, R{3, 2, 1}, R{4, 2, 1}, R{5, 2, 1},
                            R{6, 0, 1}, R{7, 0, 1}, R{8, 0, 1}}));
}

}  // namespace
}  // namespace sluice::apitest

namespace sluice::apitest {
namespace {

// The taggers the join adds take the join's uid plus "-input1-tagger" / "-input2-tagger" (so a
// job that names its operators gets no warning about operators it cannot name): a user operator
// with such a uid collides with them.
TEST(WindowJoinTest, TheInputTaggersTakeTheUidOfTheJoin) {
  Collected<std::string> out;
  auto env = TestEnv(1);
  auto first = env->FromElements<Item>(Item{"k", "a"});
  auto second = env->FromElements<Item>(Item{"k", "b"}).Map([](Item i) { return i; });
  second.Uid("matches-input2-tagger");
  first.Join(second)
      .Where(&Key)
      .EqualTo(&Key)
      .Window(TumblingEventTimeWindows::Of(milliseconds(10)))
      .Apply(NamePairs())
      .Uid("matches")
      .AddSink(CollectSink<std::string>(&out));
  JobExecutionResult result = env->Execute("tagger-uids");
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_NE(result.failure.message().find("uid 'matches-input2-tagger'"), std::string::npos)
      << result.failure.ToString();
  EXPECT_NE(result.failure.message().find("Input2Tagger"), std::string::npos)
      << result.failure.ToString();
}

}  // namespace
}  // namespace sluice::apitest
