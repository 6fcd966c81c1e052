// KeyedStream::IntervalJoin pinned to Flink's IntervalJoinOperator: which pairs join for
// inclusive, exclusive and negative bounds (the same from either side's arrival order), the
// timestamps a ProcessJoinFunction sees, cleanup of the buffers by event-time timers at Flink's
// cleanup times, late elements (below the combined watermark) dropped or sent to side outputs,
// the refusals (no timestamp, lower > upper, processing time), the versioned buffer format, state
// surviving a snapshot, and the join in a real parallel job.
#include <sluice/sluice.h>
#include <sluice/testing/operator_harness.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
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
using testing::TwoInputHarnessOf;
using testing::TwoInputOperatorHarness;

std::string Key(const Item& item) { return item.first; }

// "left-right" for every joined pair.
class Pairs final : public ProcessJoinFunction<Item, Item, std::string> {
 public:
  void ProcessElement(const Item& left, const Item& right, Context&,
                      Collector<std::string>& out) override {
    out.Collect(left.second + "-" + right.second);
  }
};

// The context's timestamps: "left@l right@r ts@t".
class Stamps final : public ProcessJoinFunction<Item, Item, std::string> {
 public:
  void ProcessElement(const Item& left, const Item& right, Context& ctx,
                      Collector<std::string>& out) override {
    out.Collect(left.second + "@" + std::to_string(ctx.LeftTimestamp()) + " " + right.second + "@" +
                std::to_string(ctx.RightTimestamp()) + " ts@" + std::to_string(ctx.Timestamp()));
  }
};

struct Bounds {
  int64_t lower;
  int64_t upper;
  bool lower_exclusive = false;
  bool upper_exclusive = false;
};

template <typename F = Pairs>
DataStream<std::string> Joined(StreamExecutionEnvironment& env, Bounds bounds, F function = F(),
                               const OutputTag<Item>* left_late = nullptr,
                               const OutputTag<Item>* right_late = nullptr) {
  auto left = env.FromElements<Item>(Item{"k", "x"}).KeyBy(&Key);
  auto right = env.FromElements<Item>(Item{"k", "y"}).KeyBy(&Key);
  auto joined =
      left.IntervalJoin(right).Between(milliseconds(bounds.lower), milliseconds(bounds.upper));
  if (bounds.lower_exclusive) joined.LowerBoundExclusive();
  if (bounds.upper_exclusive) joined.UpperBoundExclusive();
  if (left_late != nullptr) joined.SideOutputLeftLateData(*left_late);
  if (right_late != nullptr) joined.SideOutputRightLateData(*right_late);
  return joined.Process(function);
}

using Harness = TwoInputOperatorHarness<Item, Item, std::string>;

// The right timestamps that join a left element at 10 (pairs "L-r<ts>"), whether the left element
// comes first (each right element joins it as it arrives) or last (it joins the buffered ones).
std::vector<int64_t> RightsJoinedWithLeftAt10(Bounds bounds, bool left_first) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, bounds));
  harness.Open();
  if (left_first) harness.ProcessElement1({"k", "L"}, 10);
  for (int64_t t = 0; t <= 20; ++t) harness.ProcessElement2({"k", "r" + std::to_string(t)}, t);
  if (!left_first) harness.ProcessElement1({"k", "L"}, 10);
  std::vector<int64_t> joined;
  for (const auto& record : harness.output()) {
    joined.push_back(std::stoll(record.value.substr(record.value.find("-r") + 2)));
  }
  std::sort(joined.begin(), joined.end());
  return joined;
}

TEST(IntervalJoinTest, InclusiveBoundsJoinBothEndsOfTheInterval) {
  for (bool left_first : {true, false}) {
    EXPECT_EQ(RightsJoinedWithLeftAt10({-2, 3}, left_first),
              (std::vector<int64_t>{8, 9, 10, 11, 12, 13}))
        << "left first: " << left_first;
  }
}

TEST(IntervalJoinTest, ExclusiveBoundsLeaveOutTheirEnd) {
  for (bool left_first : {true, false}) {
    EXPECT_EQ(RightsJoinedWithLeftAt10({-2, 3, true, false}, left_first),
              (std::vector<int64_t>{9, 10, 11, 12, 13}));
    EXPECT_EQ(RightsJoinedWithLeftAt10({-2, 3, false, true}, left_first),
              (std::vector<int64_t>{8, 9, 10, 11, 12}));
    EXPECT_EQ(RightsJoinedWithLeftAt10({-2, 3, true, true}, left_first),
              (std::vector<int64_t>{9, 10, 11, 12}));
  }
}

TEST(IntervalJoinTest, NegativeAndPositiveOnlyBoundsShiftTheInterval) {
  for (bool left_first : {true, false}) {
    // Right elements before the left one only.
    EXPECT_EQ(RightsJoinedWithLeftAt10({-5, -2}, left_first), (std::vector<int64_t>{5, 6, 7, 8}));
    EXPECT_EQ(RightsJoinedWithLeftAt10({-5, -2, true, true}, left_first),
              (std::vector<int64_t>{6, 7}));
    // After it only.
    EXPECT_EQ(RightsJoinedWithLeftAt10({1, 3}, left_first), (std::vector<int64_t>{11, 12, 13}));
    // lower == upper: exactly one offset; both exclusive leaves nothing (Flink allows it).
    EXPECT_EQ(RightsJoinedWithLeftAt10({0, 0}, left_first), (std::vector<int64_t>{10}));
    EXPECT_EQ(RightsJoinedWithLeftAt10({0, 0, true, false}, left_first), (std::vector<int64_t>{}));
  }
}

TEST(IntervalJoinTest, OnlyElementsOfOneKeyJoinAndEveryPairOnce) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {-1, 1}));
  harness.Open();
  harness.ProcessElement1({"a", "a1"}, 10);
  harness.ProcessElement1({"b", "b1"}, 10);
  harness.ProcessElement1({"a", "a2"}, 10);  // same timestamp: one bucket, arrival order
  harness.ProcessElement2({"a", "ax"}, 11);
  harness.ProcessElement2({"c", "cx"}, 10);
  harness.ProcessElement2({"b", "bx"}, 9);
  harness.ProcessElement1({"a", "a3"}, 12);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"a1-ax", "a2-ax", "b1-bx", "a3-ax"}));
}

TEST(IntervalJoinTest, TheContextHasBothTimestampsAndResultsCarryTheLarger) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {-5, 5}, Stamps()));
  harness.Open();
  harness.ProcessElement1({"k", "L"}, 10);
  harness.ProcessElement2({"k", "early"}, 7);
  harness.ProcessElement2({"k", "late"}, 14);
  ASSERT_EQ(harness.output().size(), 2u);
  EXPECT_EQ(harness.output()[0].value, "L@10 early@7 ts@10");
  EXPECT_EQ(harness.output()[0].timestamp, 10);
  EXPECT_EQ(harness.output()[1].value, "L@10 late@14 ts@14");
  EXPECT_EQ(harness.output()[1].timestamp, 14);
}

const OutputTag<std::string> kAudit("audit");

class Audited final : public ProcessJoinFunction<Item, Item, std::string> {
 public:
  void ProcessElement(const Item& left, const Item& right, Context& ctx,
                      Collector<std::string>& out) override {
    out.Collect(left.second + "-" + right.second);
    ctx.Output(kAudit, "audit " + left.second + "-" + right.second);
  }
};

TEST(IntervalJoinTest, SideOutputsOfTheFunctionAreStampedWithTheResultTimestamp) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {0, 10}, Audited()));
  const auto& audit = harness.SideOutput(kAudit);
  harness.Open();
  harness.ProcessElement1({"k", "L"}, 3);
  harness.ProcessElement2({"k", "R"}, 8);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].value, "audit L-R");
  EXPECT_EQ(audit[0].timestamp, 8);
}

// The buffered timestamps of `key` on each side, read from the operator's keyed state.
template <typename T>
std::vector<int64_t> Buffered(Harness& harness, const std::string& key, const char* name) {
  DataOutput bytes;
  SerializeValue(key, bytes);
  auto* backend = harness.keyed_state_backend();
  backend->SetCurrentKey(bytes.data(),
                         detail::KeyGroupForKeyHash(KeyHash<std::string>::HashCode(key), 128));
  std::vector<int64_t> timestamps;
  for (const auto& [t, bucket] :
       backend->GetMapState(MapStateDescriptor<int64_t, detail::IntervalJoinBuffer<T>>(name))
           .Entries()) {
    timestamps.push_back(t);
  }
  return timestamps;
}
std::vector<int64_t> Left(Harness& harness) {
  return Buffered<Item>(harness, "k", detail::kIntervalJoinLeftBuffer);
}
std::vector<int64_t> Right(Harness& harness) {
  return Buffered<Item>(harness, "k", detail::kIntervalJoinRightBuffer);
}

TEST(IntervalJoinTest, CleanupTimersDropEachBucketWhenNothingNotLateCanJoinIt) {
  auto env = TestEnv(1);
  // Flink's cleanup times: left t + upper (t when upper <= 0), right t - lower (t when
  // lower >= 0). Here left 10 -> 13, right 10 -> 12.
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {-2, 3}));
  harness.Open();
  harness.ProcessElement1({"k", "L"}, 10);
  harness.ProcessElement2({"k", "R"}, 10);
  EXPECT_EQ(harness.pending_timers(), 0u);  // event-time timers only, no wake-ups
  EXPECT_EQ(Left(harness), (std::vector<int64_t>{10}));
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{10}));

  // The operator's watermark is the minimum of both inputs: one input alone cleans nothing.
  harness.ProcessWatermark1(100);
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{10}));
  harness.ProcessWatermark2(11);
  EXPECT_EQ(Left(harness), (std::vector<int64_t>{10}));
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{10}));
  // Still joins what is not late: a left element at 11 finds the right one at 10.
  harness.ProcessElement1({"k", "L11"}, 11);
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"L-R", "L11-R"}));

  harness.ProcessWatermark2(12);
  EXPECT_EQ(Left(harness), (std::vector<int64_t>{10, 11}));
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{}));
  harness.ProcessWatermark2(13);
  EXPECT_EQ(Left(harness), (std::vector<int64_t>{11}));
  harness.ProcessWatermark2(14);
  EXPECT_EQ(Left(harness), (std::vector<int64_t>{}));
  EXPECT_EQ(harness.watermarks(), (std::vector<int64_t>{11, 12, 13, 14}));
}

TEST(IntervalJoinTest, CleanupTimesOfNegativeAndPositiveOnlyBounds) {
  auto env = TestEnv(1);
  // upper <= 0: left cleaned at t; lower >= 0 is not the case, so right at t - lower = t + 5.
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {-5, -2}));
  harness.Open();
  harness.ProcessElement1({"k", "L"}, 10);
  harness.ProcessElement2({"k", "R"}, 10);
  harness.ProcessWatermark1(10);
  harness.ProcessWatermark2(10);
  EXPECT_EQ(Left(harness), (std::vector<int64_t>{}));
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{10}));
  harness.ProcessWatermark1(15);
  harness.ProcessWatermark2(15);
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{}));

  // lower >= 0: right cleaned at t; left at t + upper.
  auto positive = TwoInputHarnessOf<Item, Item>(Joined(*env, {1, 3}));
  positive.Open();
  positive.ProcessElement1({"k", "L"}, 10);
  positive.ProcessElement2({"k", "R"}, 10);
  positive.ProcessWatermark1(10);
  positive.ProcessWatermark2(10);
  EXPECT_EQ(Left(positive), (std::vector<int64_t>{10}));
  EXPECT_EQ(Right(positive), (std::vector<int64_t>{}));
  positive.ProcessWatermark1(13);
  positive.ProcessWatermark2(13);
  EXPECT_EQ(Left(positive), (std::vector<int64_t>{}));
}

TEST(IntervalJoinTest, ElementsBelowTheWatermarkAreLateAndJoinNothing) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {-10, 10}));
  harness.Open();
  harness.ProcessElement1({"k", "L"}, 30);
  harness.ProcessWatermark1(20);
  harness.ProcessWatermark2(20);
  harness.ProcessElement2({"k", "R19"}, 19);  // late: below the watermark, though within bounds
  harness.ProcessElement2({"k", "R20"}, 20);  // at the watermark: not late (Flink: t < wm)
  EXPECT_EQ(harness.TakeOutputValues(), (Strings{"L-R20"}));
  EXPECT_EQ(Right(harness), (std::vector<int64_t>{20}));  // the late one was not buffered
  harness.ProcessElement1({"k", "L19"}, 19);              // late on the left too
  EXPECT_TRUE(harness.TakeOutputValues().empty());
}

TEST(IntervalJoinTest, LateElementsGoToTheirSidesLateDataOutputsWithTheirTimestamps) {
  auto env = TestEnv(1);
  const OutputTag<Item> left_late("left-late");
  const OutputTag<Item> right_late("right-late");
  auto harness =
      TwoInputHarnessOf<Item, Item>(Joined(*env, {-10, 10}, Pairs(), &left_late, &right_late));
  const auto& lefts = harness.SideOutput(left_late);
  const auto& rights = harness.SideOutput(right_late);
  harness.Open();
  harness.ProcessWatermark1(20);
  harness.ProcessWatermark2(20);
  harness.ProcessElement1({"k", "L5"}, 5);
  harness.ProcessElement2({"k", "R7"}, 7);
  harness.ProcessElement2({"k", "R25"}, 25);
  ASSERT_EQ(lefts.size(), 1u);
  EXPECT_EQ(lefts[0].value.second, "L5");
  EXPECT_EQ(lefts[0].timestamp, 5);
  ASSERT_EQ(rights.size(), 1u);
  EXPECT_EQ(rights[0].value.second, "R7");
  EXPECT_EQ(rights[0].timestamp, 7);
}

TEST(IntervalJoinTest, AnElementWithoutATimestampFailsTheJobWithoutRestarts) {
  auto env = TestEnv(1);
  auto harness = TwoInputHarnessOf<Item, Item>(Joined(*env, {-1, 1}));
  harness.Open();
  try {
    harness.ProcessElement1({"k", "L"});
    FAIL() << "no exception";
  } catch (const StatusException& e) {
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("AssignTimestampsAndWatermarks"), std::string::npos);
  }
  EXPECT_THROW(harness.ProcessElement2({"k", "R"}), StatusException);
}

TEST(IntervalJoinTest, BetweenRefusesLowerAboveUpperAndProcessingTime) {
  auto env = TestEnv(1);
  auto left = env->FromElements<Item>(Item{"k", "x"}).KeyBy(&Key);
  auto right = env->FromElements<Item>(Item{"k", "y"}).KeyBy(&Key);
  try {
    left.IntervalJoin(right).Between(milliseconds(2), milliseconds(1));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lower <= upper"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(left.IntervalJoin(right).Between(milliseconds(1), milliseconds(1)));
  EXPECT_THROW(
      left.IntervalJoin(right).InProcessingTime().Between(milliseconds(0), milliseconds(1)),
      std::invalid_argument);
  EXPECT_NO_THROW(left.IntervalJoin(right).InProcessingTime().InEventTime().Between(
      milliseconds(0), milliseconds(1)));
  EXPECT_THROW(left.IntervalJoin(right).Between(milliseconds::min(), milliseconds(0)),
               std::invalid_argument);
}

// Both keyed streams must have one key type (a compile-time check, as for Connect).
template <typename L, typename R>
concept CanIntervalJoin = requires(L left, R right) { left.IntervalJoin(right); };
static_assert(CanIntervalJoin<KeyedStream<std::string, Item>, KeyedStream<std::string, int64_t>>);
static_assert(!CanIntervalJoin<KeyedStream<std::string, Item>, KeyedStream<int64_t, Item>>);

TEST(IntervalJoinTest, BuffersAndCleanupTimersSurviveASnapshot) {
  auto env = TestEnv(1);
  auto joined = Joined(*env, {-2, 3});
  testing::OperatorSnapshot snapshot;
  {
    auto harness = TwoInputHarnessOf<Item, Item>(joined);
    harness.Open();
    harness.ProcessElement1({"k", "L"}, 10);
    harness.ProcessElement2({"k", "R"}, 10);
    harness.ProcessElement1({"other", "O"}, 50);
    EXPECT_EQ(harness.TakeOutputValues(), (Strings{"L-R"}));
    snapshot = harness.Snapshot(1);
  }
  auto restored = TwoInputHarnessOf<Item, Item>(joined, &snapshot);
  restored.Open();
  EXPECT_EQ(Left(restored), (std::vector<int64_t>{10}));
  EXPECT_EQ(Right(restored), (std::vector<int64_t>{10}));
  restored.ProcessElement2({"k", "R13"}, 13);  // joins the restored left element
  restored.ProcessElement1({"k", "L8"}, 8);    // joins the restored right element
  EXPECT_EQ(restored.TakeOutputValues(), (Strings{"L-R13", "L8-R"}));
  // The restored timers (left 10 at 13, right 10 at 12) clean up exactly as the original ones
  // would have, next to the new ones (left 8 at 11, right 13 at 15).
  restored.ProcessWatermark1(12);
  restored.ProcessWatermark2(12);
  EXPECT_EQ(Left(restored), (std::vector<int64_t>{10}));
  EXPECT_EQ(Right(restored), (std::vector<int64_t>{13}));
  restored.ProcessWatermark1(13);
  restored.ProcessWatermark2(13);
  EXPECT_EQ(Left(restored), (std::vector<int64_t>{}));
  EXPECT_EQ(Right(restored), (std::vector<int64_t>{13}));
  restored.ProcessWatermark1(15);
  restored.ProcessWatermark2(15);
  EXPECT_EQ(Right(restored), (std::vector<int64_t>{}));
  EXPECT_EQ(Buffered<Item>(restored, "other", detail::kIntervalJoinLeftBuffer),
            (std::vector<int64_t>{50}));
}

TEST(IntervalJoinTest, TheBufferFormatIsVersionOneAndRoundTrips) {
  const detail::IntervalJoinBuffer<std::string> buffer{{"a", "bc"}};
  DataOutput out;
  SerializeValue(buffer, out);
  // version 1, count 2, "a", "bc"
  EXPECT_EQ(out.data(), std::string("\x01\x02\x01"
                                    "a"
                                    "\x02"
                                    "bc",
                                    7));
  DataInput in(out.data());
  EXPECT_EQ(DeserializeValue<detail::IntervalJoinBuffer<std::string>>(in), buffer);
  EXPECT_EQ(TypeNameOf<detail::IntervalJoinBuffer<std::string>>(), "interval_join_buffer<string>");

  const std::string newer("\x02\x00", 2);
  DataInput newer_in(newer);
  EXPECT_THROW(DeserializeValue<detail::IntervalJoinBuffer<std::string>>(newer_in),
               SerializationError);
}

// ---- in a real job ----

using Event = std::tuple<int64_t, std::string, int64_t>;  // key, name, timestamp

class Describe final : public ProcessJoinFunction<Event, Event, std::string> {
 public:
  void ProcessElement(const Event& left, const Event& right, Context& ctx,
                      Collector<std::string>& out) override {
    out.Collect(std::get<1>(left) + "+" + std::get<1>(right) + "@" +
                std::to_string(ctx.Timestamp()));
  }
};

TEST(IntervalJoinTest, AParallelJobJoinsExactlyThePairsWithinTheBounds) {
  Collected<std::string> out;
  auto env = TestEnv(3);
  std::vector<Event> lefts;
  std::vector<Event> rights;
  for (int64_t i = 0; i < 60; ++i) {
    lefts.emplace_back(i % 7, "l" + std::to_string(i), i * 10);
    rights.emplace_back(i % 5, "r" + std::to_string(i), i * 10 + 3);
  }
  auto by_time = WatermarkStrategy<Event>::ForMonotonousTimestamps().WithTimestampAssigner(
      [](const Event& e, int64_t) { return std::get<2>(e); });
  auto key = [](const Event& e) { return std::get<0>(e); };
  auto left = env->FromCollection<Event>(lefts).AssignTimestampsAndWatermarks(by_time).KeyBy(key);
  auto right = env->FromCollection<Event>(rights).AssignTimestampsAndWatermarks(by_time).KeyBy(key);
  left.IntervalJoin(right)
      .Between(milliseconds(-20), milliseconds(30))
      .LowerBoundExclusive()
      .Process(Describe())
      .AddSink(CollectSink<std::string>(&out));
  ASSERT_EQ(env->Execute("interval-join").status, JobStatus::kFinished);

  Strings expected;
  for (const Event& l : lefts) {
    for (const Event& r : rights) {
      const int64_t delta = std::get<2>(r) - std::get<2>(l);
      if (std::get<0>(l) == std::get<0>(r) && delta > -20 && delta <= 30) {
        expected.push_back(std::get<1>(l) + "+" + std::get<1>(r) + "@" +
                           std::to_string(std::max(std::get<2>(l), std::get<2>(r))));
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_FALSE(expected.empty());
  EXPECT_EQ(out.Sorted(), expected);
}

}  // namespace
}  // namespace sluice::apitest
