// Window assigners and windows, pinned to Flink's boundaries: offsets, negative timestamps,
// sliding windows in Flink's order, session merging, and the versioned bytes of windows.
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sluice {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using Windows = std::vector<TimeWindow>;

class FixedClock final : public WindowAssignerContext {
 public:
  explicit FixedClock(int64_t now) : now_(now) {}
  int64_t GetCurrentProcessingTime() const override { return now_; }

 private:
  int64_t now_;
};

template <typename A>
Windows Assign(const A& assigner, int64_t timestamp, int64_t now = 0) {
  Windows out;
  assigner.AssignWindows(0, timestamp, FixedClock(now), out);
  return out;
}

TEST(TumblingEventTimeWindowsTest, WindowsStartAtMultiplesOfTheSize) {
  auto windows = TumblingEventTimeWindows::Of(milliseconds(10));
  EXPECT_EQ(Assign(windows, 0), (Windows{{0, 10}}));
  EXPECT_EQ(Assign(windows, 9), (Windows{{0, 10}}));
  EXPECT_EQ(Assign(windows, 10), (Windows{{10, 20}}));
  EXPECT_EQ(Assign(windows, 12345), (Windows{{12340, 12350}}));
}

TEST(TumblingEventTimeWindowsTest, NegativeTimestampsFallInTheWindowBelowThem) {
  auto windows = TumblingEventTimeWindows::Of(milliseconds(10));
  EXPECT_EQ(Assign(windows, -1), (Windows{{-10, 0}}));
  EXPECT_EQ(Assign(windows, -10), (Windows{{-10, 0}}));
  // timestamp - (timestamp - offset + size) % size would give [-10, 0) here: wrong below -size.
  EXPECT_EQ(Assign(windows, -11), (Windows{{-20, -10}}));
  EXPECT_EQ(Assign(windows, -25), (Windows{{-30, -20}}));
}

TEST(TumblingEventTimeWindowsTest, AnOffsetShiftsTheBoundaries) {
  auto plus3 = TumblingEventTimeWindows::Of(milliseconds(10), milliseconds(3));
  EXPECT_EQ(Assign(plus3, 3), (Windows{{3, 13}}));
  EXPECT_EQ(Assign(plus3, 2), (Windows{{-7, 3}}));
  EXPECT_EQ(Assign(plus3, -8), (Windows{{-17, -7}}));
  auto minus3 = TumblingEventTimeWindows::Of(milliseconds(10), milliseconds(-3));
  EXPECT_EQ(Assign(minus3, 0), (Windows{{-3, 7}}));
  EXPECT_EQ(Assign(minus3, 7), (Windows{{7, 17}}));
  // Flink's documented example: hourly windows starting at quarter past.
  auto quarter_past = TumblingEventTimeWindows::Of(hours(1), minutes(15));
  const int64_t quarter = 15 * 60 * 1000;
  const int64_t hour = 60 * 60 * 1000;
  EXPECT_EQ(Assign(quarter_past, 0), (Windows{{quarter - hour, quarter}}));
  EXPECT_EQ(Assign(quarter_past, quarter), (Windows{{quarter, quarter + hour}}));
}

TEST(TumblingEventTimeWindowsTest, InvalidParametersAreRefusedWithFlinksMessage) {
  try {
    TumblingEventTimeWindows::Of(milliseconds(10), milliseconds(10));
    ADD_FAILURE() << "an offset as large as the size was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()),
              "TumblingEventTimeWindows parameters must satisfy abs(offset) < size");
  }
  EXPECT_THROW(TumblingEventTimeWindows::Of(milliseconds(0)), std::invalid_argument);
  EXPECT_THROW(TumblingEventTimeWindows::Of(milliseconds(10), milliseconds(-11)),
               std::invalid_argument);
}

TEST(TumblingEventTimeWindowsTest, AnElementWithoutTimestampIsAnInvalidArgument) {
  auto windows = TumblingEventTimeWindows::Of(milliseconds(10));
  try {
    Assign(windows, kNoTimestamp);
    ADD_FAILURE() << "an element without timestamp was assigned a window";
  } catch (const StatusException& error) {
    EXPECT_EQ(error.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(error.status().message().find("AssignTimestampsAndWatermarks"), std::string::npos);
  }
}

TEST(SlidingEventTimeWindowsTest, EveryWindowContainingTheTimestampLatestStartFirst) {
  auto windows = SlidingEventTimeWindows::Of(milliseconds(10), milliseconds(5));
  EXPECT_EQ(Assign(windows, 7), (Windows{{5, 15}, {0, 10}}));
  EXPECT_EQ(Assign(windows, 5), (Windows{{5, 15}, {0, 10}}));
  EXPECT_EQ(Assign(windows, 4), (Windows{{0, 10}, {-5, 5}}));
  EXPECT_EQ(Assign(windows, -1), (Windows{{-5, 5}, {-10, 0}}));
  EXPECT_EQ(Assign(windows, -11), (Windows{{-15, -5}, {-20, -10}}));
  auto thirds = SlidingEventTimeWindows::Of(milliseconds(10), milliseconds(3));
  EXPECT_EQ(Assign(thirds, 0), (Windows{{0, 10}, {-3, 7}, {-6, 4}, {-9, 1}}));
  auto offset = SlidingEventTimeWindows::Of(milliseconds(10), milliseconds(5), milliseconds(2));
  EXPECT_EQ(Assign(offset, 7), (Windows{{7, 17}, {2, 12}}));
  EXPECT_EQ(Assign(offset, 6), (Windows{{2, 12}, {-3, 7}}));
}

TEST(SlidingEventTimeWindowsTest, InvalidParametersAreRefusedWithFlinksMessage) {
  try {
    SlidingEventTimeWindows::Of(milliseconds(10), milliseconds(5), milliseconds(5));
    ADD_FAILURE() << "an offset as large as the slide was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()),
              "SlidingEventTimeWindows parameters must satisfy abs(offset) < slide and size > 0");
  }
  EXPECT_THROW(SlidingEventTimeWindows::Of(milliseconds(0), milliseconds(5)),
               std::invalid_argument);
}

TEST(EventTimeSessionWindowsTest, EachElementOpensASessionOfTheGap) {
  auto sessions = EventTimeSessionWindows::WithGap(milliseconds(10));
  EXPECT_EQ(Assign(sessions, 5), (Windows{{5, 15}}));
  EXPECT_EQ(Assign(sessions, -5), (Windows{{-5, 5}}));
  EXPECT_THROW(EventTimeSessionWindows::WithGap(milliseconds(0)), std::invalid_argument);
}

TEST(EventTimeSessionWindowsTest, OverlappingAndTouchingWindowsMergeAsFlinksTimeWindow) {
  auto sessions = EventTimeSessionWindows::WithGap(milliseconds(10));
  std::vector<std::pair<Windows, TimeWindow>> merges;
  sessions.MergeWindows({{20, 30}, {0, 10}, {30, 40}, {5, 15}, {50, 60}, {5, 15}},
                        [&](Windows to_merge, TimeWindow result) {
                          merges.emplace_back(std::move(to_merge), result);
                        });
  // Sorted by start; [20,30) and [30,40) touch, which Flink counts as intersecting; the
  // duplicate [5,15) counts once; [50,60) merges with nothing and is not reported.
  ASSERT_EQ(merges.size(), 2u);
  EXPECT_EQ(merges[0].first, (Windows{{0, 10}, {5, 15}}));
  EXPECT_EQ(merges[0].second, TimeWindow(0, 15));
  EXPECT_EQ(merges[1].first, (Windows{{20, 30}, {30, 40}}));
  EXPECT_EQ(merges[1].second, TimeWindow(20, 40));

  std::vector<std::pair<Windows, TimeWindow>> none;
  sessions.MergeWindows({{0, 10}, {0, 10}},
                        [&](Windows w, TimeWindow r) { none.emplace_back(std::move(w), r); });
  EXPECT_TRUE(none.empty()) << "a window given twice merged with itself";
}

TEST(EventTimeSessionWindowsTest, ADynamicGapComesFromTheElement) {
  auto sessions = EventTimeSessionWindows::WithDynamicGap<int64_t>(
      [](const int64_t& gap) { return milliseconds(gap); });
  Windows out;
  sessions.AssignWindows(int64_t{7}, 100, FixedClock(0), out);
  EXPECT_EQ(out, (Windows{{100, 107}}));
  out.clear();
  EXPECT_THROW(sessions.AssignWindows(int64_t{0}, 100, FixedClock(0), out), std::invalid_argument);
}

TEST(ProcessingTimeWindowsTest, WindowsFollowTheProcessingTimeNotTheTimestamp) {
  auto tumbling = TumblingProcessingTimeWindows::Of(milliseconds(10), milliseconds(1));
  EXPECT_EQ(Assign(tumbling, /*timestamp=*/1000, /*now=*/25), (Windows{{21, 31}}));
  EXPECT_EQ(Assign(tumbling, kNoTimestamp, /*now=*/-1), (Windows{{-9, 1}}));
  auto sliding = SlidingProcessingTimeWindows::Of(milliseconds(10), milliseconds(5));
  EXPECT_EQ(Assign(sliding, kNoTimestamp, 12), (Windows{{10, 20}, {5, 15}}));
  auto sessions = ProcessingTimeSessionWindows::WithGap(milliseconds(4));
  EXPECT_EQ(Assign(sessions, kNoTimestamp, 12), (Windows{{12, 16}}));
  EXPECT_FALSE(tumbling.IsEventTime());
  EXPECT_FALSE(sessions.IsEventTime());
}

TEST(GlobalWindowsTest, OneWindowThatNeverEnds) {
  std::vector<GlobalWindow> out;
  GlobalWindows::Create().AssignWindows(0, 5, FixedClock(0), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].MaxTimestamp(), std::numeric_limits<int64_t>::max());
}

TEST(TimeWindowTest, MaxTimestampIsTheLastMillisecondInside) {
  EXPECT_EQ(TimeWindow(0, 10).MaxTimestamp(), 9);
  EXPECT_TRUE(TimeWindow(0, 5).Intersects(TimeWindow(5, 10)));
  EXPECT_FALSE(TimeWindow(0, 5).Intersects(TimeWindow(6, 10)));
  EXPECT_EQ(TimeWindow(0, 5).Cover(TimeWindow(3, 12)), TimeWindow(0, 12));
}

// Windows are part of the keys of window state and of its timers: their bytes are pinned.
TEST(TimeWindowTest, SerializedBytesAreVersionOneAndRoundTrip) {
  DataOutput out;
  SerializeValue(TimeWindow(-1, 5), out);
  EXPECT_EQ(out.data(), std::string_view("\x01\x01\x0a", 3));  // version 1, zigzag -1, zigzag 5
  DataInput in(out.data());
  EXPECT_EQ(DeserializeValue<TimeWindow>(in), TimeWindow(-1, 5));
  EXPECT_TRUE(in.AtEnd());

  DataOutput global;
  SerializeValue(GlobalWindow::Get(), global);
  EXPECT_EQ(global.data(), std::string_view("\x01", 1));
  DataInput global_in(global.data());
  EXPECT_EQ(DeserializeValue<GlobalWindow>(global_in), GlobalWindow::Get());
}

TEST(TimeWindowTest, BytesOfAnUnknownVersionAreRefused) {
  const std::string newer("\x02\x00\x02", 3);
  DataInput in(newer);
  EXPECT_THROW(DeserializeValue<TimeWindow>(in), SerializationError);
}

}  // namespace
}  // namespace sluice
