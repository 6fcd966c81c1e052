// MergingWindowSet, as Flink's MergingWindowSetTest: which window a new one ends up in, which
// state window keeps the contents, and what the merge function is told.
#include <sluice/detail/merging_window_set.h>

#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <utility>
#include <vector>

namespace sluice::detail {
namespace {

using Windows = std::vector<TimeWindow>;

struct Merge {
  TimeWindow result;
  Windows merged;
  TimeWindow state_window;
  Windows merged_state_windows;
};

class MergingWindowSetTest : public ::testing::Test {
 protected:
  MergingWindowSet<TimeWindow> Make(const std::vector<std::pair<TimeWindow, TimeWindow>>& state) {
    auto sessions = EventTimeSessionWindows::WithGap(std::chrono::milliseconds(3));
    return MergingWindowSet<TimeWindow>(
        state,
        [sessions](const Windows& windows, const std::function<void(Windows, TimeWindow)>& merge) {
          sessions.MergeWindows(windows, merge);
        });
  }
  TimeWindow Add(MergingWindowSet<TimeWindow>& set, TimeWindow window) {
    merges_.clear();
    return set.AddWindow(window, [&](const TimeWindow& result, const Windows& merged,
                                     const TimeWindow& state_window, const Windows& states) {
      merges_.push_back({result, merged, state_window, states});
    });
  }
  std::vector<Merge> merges_;
};

TEST_F(MergingWindowSetTest, IncrementalMergingKeepsTheFirstStateWindow) {
  auto set = Make({});
  EXPECT_EQ(Add(set, {0, 4}), TimeWindow(0, 4));
  EXPECT_TRUE(merges_.empty());
  EXPECT_EQ(set.GetStateWindow({0, 4}), TimeWindow(0, 4));

  // Growing an existing window: merged into it, its state window stays.
  EXPECT_EQ(Add(set, {0, 5}), TimeWindow(0, 5));
  ASSERT_EQ(merges_.size(), 1u);
  EXPECT_EQ(merges_[0].result, TimeWindow(0, 5));
  EXPECT_EQ(merges_[0].merged, (Windows{{0, 4}}));
  EXPECT_EQ(merges_[0].state_window, TimeWindow(0, 4));
  EXPECT_TRUE(merges_[0].merged_state_windows.empty());
  EXPECT_EQ(set.GetStateWindow({0, 5}), TimeWindow(0, 4));
  EXPECT_EQ(set.GetStateWindow({0, 4}), std::nullopt);

  // A window inside an existing one: absorbed, no merge to tell.
  EXPECT_EQ(Add(set, {1, 4}), TimeWindow(0, 5));
  EXPECT_TRUE(merges_.empty());

  // A separate window: its own state window.
  EXPECT_EQ(Add(set, {10, 13}), TimeWindow(10, 13));
  EXPECT_TRUE(merges_.empty());
  EXPECT_EQ(set.GetStateWindow({10, 13}), TimeWindow(10, 13));

  // A window bridging both: the two in-flight windows merge, the first one's state window
  // keeps the contents and the other's state merges into it.
  EXPECT_EQ(Add(set, {5, 10}), TimeWindow(0, 13));
  ASSERT_EQ(merges_.size(), 1u);
  EXPECT_EQ(merges_[0].result, TimeWindow(0, 13));
  EXPECT_EQ(merges_[0].merged, (Windows{{0, 5}, {10, 13}}));
  EXPECT_EQ(merges_[0].state_window, TimeWindow(0, 4));
  EXPECT_EQ(merges_[0].merged_state_windows, (Windows{{10, 13}}));
  EXPECT_EQ(set.ToList(), (std::vector<std::pair<TimeWindow, TimeWindow>>{{{0, 13}, {0, 4}}}));
}

TEST_F(MergingWindowSetTest, PersistedMappingIsRestoredAndChangesAreNoticed) {
  auto set = Make({{{0, 13}, {0, 4}}, {{20, 23}, {20, 23}}});
  EXPECT_FALSE(set.changed());
  EXPECT_EQ(set.GetStateWindow({0, 13}), TimeWindow(0, 4));
  EXPECT_EQ(Add(set, {1, 2}), TimeWindow(0, 13));
  EXPECT_FALSE(set.changed()) << "an absorbed window changes nothing";
  set.RetireWindow({20, 23});
  EXPECT_TRUE(set.changed());
  EXPECT_THROW(set.RetireWindow({20, 23}), std::logic_error);
}

TEST_F(MergingWindowSetTest, ANewWindowEqualToAnInFlightOneKeepsItsStateWindow) {
  // [0,13) holds its contents in [0,4); adding [0,13) itself must not re-point it at an empty
  // state window (Flink's unconditional put would).
  auto set = Make({{{0, 13}, {0, 4}}});
  EXPECT_EQ(Add(set, {0, 13}), TimeWindow(0, 13));
  EXPECT_EQ(set.GetStateWindow({0, 13}), TimeWindow(0, 4));
}

}  // namespace
}  // namespace sluice::detail
