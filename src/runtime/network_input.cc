// The untyped half of a task's network input (NetworkInputBase in
// include/sluice/detail/network_input.h): everything but records.
#include <sluice/detail/network_input.h>

#include <vector>

#include <sluice/detail/two_input_operator.h>

#include "core/assert.h"
#include "runtime/barrier_aligner.h"
#include "runtime/watermark_valve.h"

namespace sluice::detail {

struct NetworkInputBase::Merging {
  Merging(const std::vector<size_t>& channels_per_input, int num_channels, StreamOperator* head,
          TaskHooks* task_hooks)
      : aligner(num_channels),
        ended(static_cast<size_t>(num_channels), false),
        head_operator(head),
        two_input(channels_per_input.size() == 2 ? dynamic_cast<TwoInputStreamOperator*>(head)
                                                 : nullptr),
        hooks(task_hooks) {
    SLUICE_ASSERT(channels_per_input.size() == 1 || two_input != nullptr,
                  "a task input with two logical inputs needs a two-input head operator");
    for (size_t input = 0; input < channels_per_input.size(); ++input) {
      valves.emplace_back(static_cast<int>(channels_per_input[input]));
      for (size_t c = 0; c < channels_per_input[input]; ++c) {
        input_of_channel.push_back(input);
        local_channel.push_back(static_cast<int>(c));
      }
    }
  }

  void Forward(size_t input, const internal::WatermarkValve::Output& out) const {
    if (two_input == nullptr) {
      if (out.watermark) head_operator->ProcessWatermark(Watermark{*out.watermark});
      if (out.idle) head_operator->ProcessWatermarkStatus(WatermarkStatus{*out.idle});
      return;
    }
    // An input that becomes active says so before its watermark, and one that becomes idle
    // after its last one, so the combination never counts a watermark of an idle input.
    if (out.idle && !*out.idle)
      two_input->ProcessInputWatermarkStatus(input, WatermarkStatus{false});
    if (out.watermark) two_input->ProcessInputWatermark(input, Watermark{*out.watermark});
    if (out.idle && *out.idle) two_input->ProcessInputWatermarkStatus(input, WatermarkStatus{true});
  }

  // One valve per logical input, over that input's channels.
  std::vector<internal::WatermarkValve> valves;
  std::vector<size_t> input_of_channel;
  std::vector<int> local_channel;  // the channel's index within its logical input
  // Over every channel of every input: a checkpoint cuts both inputs at one barrier.
  internal::BarrierAligner aligner;
  std::vector<bool> ended;
  StreamOperator* head_operator;
  TwoInputStreamOperator* two_input;  // null unless the head has two inputs
  TaskHooks* hooks;
  // The barrier being aligned, forwarded when the last channel delivers it or ends.
  CheckpointBarrier pending_barrier{};
};

namespace {

size_t Total(const std::vector<size_t>& channels_per_input) {
  size_t total = 0;
  for (size_t n : channels_per_input) total += n;
  return total;
}

}  // namespace

NetworkInputBase::NetworkInputBase(size_t num_channels, StreamOperator* head_operator,
                                   TaskHooks* hooks)
    : NetworkInputBase(std::vector<size_t>{num_channels}, head_operator, hooks) {}

NetworkInputBase::NetworkInputBase(const std::vector<size_t>& channels_per_input,
                                   StreamOperator* head_operator, TaskHooks* hooks)
    : merging_(std::make_unique<Merging>(
          channels_per_input, static_cast<int>(Total(channels_per_input)), head_operator, hooks)),
      readable_(Total(channels_per_input), 1) {}

NetworkInputBase::~NetworkInputBase() = default;

void NetworkInputBase::OnWatermark(size_t channel, const Watermark& watermark) {
  const size_t input = merging_->input_of_channel[channel];
  merging_->Forward(input, merging_->valves[input].OnWatermark(merging_->local_channel[channel],
                                                               watermark.timestamp));
}

void NetworkInputBase::OnWatermarkStatus(size_t channel, const WatermarkStatus& status) {
  const size_t input = merging_->input_of_channel[channel];
  merging_->Forward(
      input, merging_->valves[input].OnStatus(merging_->local_channel[channel], status.idle));
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
  const size_t input = merging_->input_of_channel[channel];
  merging_->Forward(input, merging_->valves[input].OnEndOfInput(merging_->local_channel[channel]));
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
