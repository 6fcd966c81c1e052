// The out-of-line parts of windows (include/sluice/api/windowing/).
#include <sluice/api/windowing/assigners.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

namespace sluice::detail {

void MergeTimeWindows(std::vector<TimeWindow> windows,
                      const std::function<void(std::vector<TimeWindow>, TimeWindow)>& merge) {
  // As Flink's TimeWindow.mergeWindows: by start; each group is a set, so a window given twice
  // counts once (and a group of one window merges nothing). Flink's sort is stable by start;
  // ordering ties by end instead gives the same groups and covers, and std::sort avoids
  // std::stable_sort's temporary buffer, deprecated in libstdc++ 12 (an error under clang).
  std::sort(windows.begin(), windows.end());
  std::vector<std::pair<TimeWindow, std::set<TimeWindow>>> merged;
  for (const TimeWindow& candidate : windows) {
    if (!merged.empty() && merged.back().first.Intersects(candidate)) {
      merged.back().first = merged.back().first.Cover(candidate);
      merged.back().second.insert(candidate);
    } else {
      merged.push_back({candidate, {candidate}});
    }
  }
  for (auto& [cover, group] : merged) {
    if (group.size() > 1) merge(std::vector<TimeWindow>(group.begin(), group.end()), cover);
  }
}

}  // namespace sluice::detail
