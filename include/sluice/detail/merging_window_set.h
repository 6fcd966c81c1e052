// The in-flight windows of one key of a merging assigner (sessions) and the window whose state
// holds each one's contents (Flink's MergingWindowSet, with its exact semantics). When windows
// merge, their contents are merged into the state window of one of them rather than moved to a
// state window named after the merge result, so merging never rewrites the surviving state.
//
// The mapping is kept in the key's keyed state (the window operator persists ToList() in a
// ValueState, so it is checkpointed, rescaled and changelogged with the rest).
//
// Thread safety: none; one instance serves one key on the window operator's task thread.
// Errors: RetireWindow of a window that is not in flight throws std::logic_error (a bug).
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sluice::detail {

template <typename W>
class MergingWindowSet {
 public:
  /// The assigner's MergeWindows: calls `merge(to_merge, result)` for every group of windows
  /// that merge into `result`.
  using MergeWindows = std::function<void(const std::vector<W>& windows,
                                          const std::function<void(std::vector<W>, W)>& merge)>;
  /// Told about one merge: the windows `merged` (without the window being added) become
  /// `merge_result`, whose contents live in `state_window_result`; the contents of
  /// `merged_state_windows` must be merged into it.
  using MergeFunction =
      std::function<void(const W& merge_result, const std::vector<W>& merged,
                         const W& state_window_result, const std::vector<W>& merged_state_windows)>;

  MergingWindowSet(const std::vector<std::pair<W, W>>& persisted, MergeWindows merge_windows)
      : merge_windows_(std::move(merge_windows)) {
    for (const auto& [window, state_window] : persisted) mapping_.emplace(window, state_window);
    initial_ = mapping_;
  }

  /// The window whose state holds `window`'s contents; nullopt when `window` is not in flight.
  std::optional<W> GetStateWindow(const W& window) const {
    const auto it = mapping_.find(window);
    if (it == mapping_.end()) return std::nullopt;
    return it->second;
  }

  /// Drops `window` from the set (it was purged, or is late).
  void RetireWindow(const W& window) {
    if (mapping_.erase(window) == 0) {
      std::ostringstream message;
      message << "window " << window << " is not in the in-flight window set";
      throw std::logic_error(message.str());
    }
  }

  /// Adds `new_window`, merging it with the windows in flight as the assigner says, and returns
  /// the window it ended up in (itself or a merge result). `merge` is called for every merge, after
  /// the mapping is updated.
  W AddWindow(const W& new_window, const MergeFunction& merge) {
    std::vector<W> windows;
    windows.reserve(mapping_.size() + 1);
    for (const auto& entry : mapping_) windows.push_back(entry.first);
    windows.push_back(new_window);

    std::vector<std::pair<W, std::vector<W>>> merge_results;
    merge_windows_(windows, [&](std::vector<W> to_merge, W result) {
      merge_results.emplace_back(std::move(result), std::move(to_merge));
    });

    W result_window = new_window;
    bool merged_new_window = false;
    for (auto& [merge_result, merged_windows] : merge_results) {
      // If the new window is one of the merged, the merge result is where it went.
      const auto new_it = std::find(merged_windows.begin(), merged_windows.end(), new_window);
      if (new_it != merged_windows.end()) {
        merged_windows.erase(new_it);
        merged_new_window = true;
        result_window = merge_result;
      }
      // The merge result keeps the state window of one of the merged windows (Flink takes any;
      // here the first, in the assigner's order), and the others' state merges into it.
      const W merged_state_window = mapping_.at(merged_windows.front());
      std::vector<W> merged_state_windows;
      for (const W& merged : merged_windows) {
        const auto it = mapping_.find(merged);
        if (it == mapping_.end()) continue;
        merged_state_windows.push_back(it->second);
        mapping_.erase(it);
      }
      mapping_.insert_or_assign(merge_result, merged_state_window);
      std::erase(merged_state_windows, merged_state_window);
      // One pre-existing window absorbing the new one without growing: nothing to merge.
      const bool absorbed = merged_windows.size() == 1 && merged_windows.front() == merge_result;
      if (!absorbed) merge(merge_result, merged_windows, merged_state_window, merged_state_windows);
    }
    // A new window that merged with nothing is its own state window. Flink puts it
    // unconditionally, which would re-point an in-flight window equal to the new one at an
    // empty state window and lose its contents; an existing mapping is kept instead.
    if (merge_results.empty() || (result_window == new_window && !merged_new_window)) {
      mapping_.try_emplace(result_window, result_window);
    }
    return result_window;
  }

  /// Whether the mapping differs from the one it was created from (then persist ToList()).
  bool changed() const { return mapping_ != initial_; }
  std::vector<std::pair<W, W>> ToList() const {
    return std::vector<std::pair<W, W>>(mapping_.begin(), mapping_.end());
  }
  bool empty() const { return mapping_.empty(); }

 private:
  MergeWindows merge_windows_;
  std::map<W, W> mapping_;
  std::map<W, W> initial_;
};

}  // namespace sluice::detail
