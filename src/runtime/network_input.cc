// The untyped half of a task's network input (NetworkInputBase in
// include/sluice/detail/network_input.h): everything but records.
#include <sluice/detail/network_input.h>

#include <vector>

#include "runtime/barrier_aligner.h"
#include "runtime/watermark_valve.h"

namespace sluice::detail {

struct NetworkInputBase::Merging {
  Merging(int num_channels, StreamOperator* head, TaskHooks* task_hooks)
      : valve(num_channels),
        aligner(num_channels),
        ended(static_cast<size_t>(num_channels), false),
        head_operator(head),
        hooks(task_hooks) {}

  void Forward(const internal::WatermarkValve::Output& out) const {
    if (out.watermark) head_operator->ProcessWatermark(Watermark{*out.watermark});
    if (out.idle) head_operator->ProcessWatermarkStatus(WatermarkStatus{*out.idle});
  }

  internal::WatermarkValve valve;
  internal::BarrierAligner aligner;
  std::vector<bool> ended;
  StreamOperator* head_operator;
  TaskHooks* hooks;
  // The barrier being aligned, forwarded when the last channel delivers it or ends.
  CheckpointBarrier pending_barrier{};
};

NetworkInputBase::NetworkInputBase(size_t num_channels, StreamOperator* head_operator,
                                   TaskHooks* hooks)
    : merging_(std::make_unique<Merging>(static_cast<int>(num_channels), head_operator, hooks)),
      readable_(num_channels, 1) {}

NetworkInputBase::~NetworkInputBase() = default;

void NetworkInputBase::OnWatermark(size_t channel, const Watermark& watermark) {
  merging_->Forward(merging_->valve.OnWatermark(static_cast<int>(channel), watermark.timestamp));
}

void NetworkInputBase::OnWatermarkStatus(size_t channel, const WatermarkStatus& status) {
  merging_->Forward(merging_->valve.OnStatus(static_cast<int>(channel), status.idle));
}

void NetworkInputBase::OnBarrier(size_t channel, const CheckpointBarrier& barrier) {
  internal::BarrierAligner& aligner = merging_->aligner;
  internal::BarrierAligner::Result result =
      aligner.OnBarrier(static_cast<int>(channel), barrier.checkpoint_id);
  if (aligner.pending() == barrier.checkpoint_id) merging_->pending_barrier = barrier;
  UpdateReadable();
  if (result.aborted) merging_->hooks->AbortCheckpointOnBarrier(*result.aborted);
  if (result.completed) merging_->hooks->PerformCheckpoint(barrier);
}

void NetworkInputBase::OnEndOfInput(size_t channel) {
  merging_->ended[channel] = true;
  ++ended_count_;
  merging_->Forward(merging_->valve.OnEndOfInput(static_cast<int>(channel)));
  internal::BarrierAligner::Result result =
      merging_->aligner.OnEndOfInput(static_cast<int>(channel));
  UpdateReadable();
  if (result.completed) merging_->hooks->PerformCheckpoint(merging_->pending_barrier);
}

void NetworkInputBase::UpdateReadable() {
  // The aligner blocks a channel when it delivers the pending barrier and unblocks every
  // channel at once when the alignment completes or is given up: recompute them all.
  for (size_t c = 0; c < readable_.size(); ++c) {
    bool blocked = merging_->aligner.IsBlocked(static_cast<int>(c));
    readable_[c] = (merging_->ended[c] || blocked) ? 0 : 1;
  }
}

}  // namespace sluice::detail
