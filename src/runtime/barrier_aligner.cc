#include "runtime/barrier_aligner.h"

#include <algorithm>

namespace sluice::internal {

BarrierAligner::BarrierAligner(int num_channels)
    : blocked_(static_cast<size_t>(num_channels), false),
      ended_(static_cast<size_t>(num_channels), false) {}

void BarrierAligner::UnblockAll() { std::fill(blocked_.begin(), blocked_.end(), false); }

BarrierAligner::Result BarrierAligner::CompleteIfAligned() {
  for (size_t i = 0; i < blocked_.size(); ++i) {
    if (!blocked_[i] && !ended_[i]) return {};
  }
  Result result;
  result.completed = pending_;
  last_completed_ = *pending_;
  pending_.reset();
  UnblockAll();
  return result;
}

BarrierAligner::Result BarrierAligner::OnBarrier(int channel, int64_t checkpoint_id) {
  // A barrier of a checkpoint already completed or given up: nothing to align any more.
  if (checkpoint_id <= last_completed_ || (pending_ && checkpoint_id < *pending_)) return {};
  Result result;
  if (pending_ && checkpoint_id > *pending_) {
    // A newer checkpoint overtook the pending one: some input will never send the old barrier.
    result.aborted = pending_;
    last_completed_ = std::max(last_completed_, *pending_);
    UnblockAll();
    pending_.reset();
  }
  if (!pending_) pending_ = checkpoint_id;
  blocked_[static_cast<size_t>(channel)] = true;
  Result done = CompleteIfAligned();
  result.completed = done.completed;
  return result;
}

BarrierAligner::Result BarrierAligner::OnEndOfInput(int channel) {
  ended_[static_cast<size_t>(channel)] = true;
  blocked_[static_cast<size_t>(channel)] = false;
  if (!pending_) return {};
  return CompleteIfAligned();
}

}  // namespace sluice::internal
