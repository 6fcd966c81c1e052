// Aligned checkpoint barriers for a task with several input channels (DESIGN.md section 3):
// a channel that delivered barrier N is blocked until every channel has, then the task
// snapshots and forwards N. Pure logic, no threads: the task thread feeds it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sluice::internal {

class BarrierAligner {
 public:
  struct Result {
    /// A checkpoint whose alignment was given up because a newer barrier overtook it.
    std::optional<int64_t> aborted;
    /// Every input has delivered this checkpoint's barrier: snapshot now, then forward it.
    std::optional<int64_t> completed;
  };

  explicit BarrierAligner(int num_channels);

  Result OnBarrier(int channel, int64_t checkpoint_id);
  Result OnEndOfInput(int channel);

  /// True while the channel must not be read (it delivered the pending barrier).
  bool IsBlocked(int channel) const { return blocked_[static_cast<size_t>(channel)]; }
  std::optional<int64_t> pending() const { return pending_; }

 private:
  Result CompleteIfAligned();
  void UnblockAll();

  std::vector<bool> blocked_;
  std::vector<bool> ended_;
  std::optional<int64_t> pending_;
  int64_t last_completed_ = -1;
};

}  // namespace sluice::internal
