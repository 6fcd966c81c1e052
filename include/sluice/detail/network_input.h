// The input of a non-source task: batches from every upstream subtask, merged with barrier
// alignment (BarrierAligner) and watermark merging (WatermarkValve).
#pragma once

#include <memory>
#include <vector>

#include <sluice/detail/barrier_aligner.h>
#include <sluice/detail/channel.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/task_input.h>
#include <sluice/detail/watermark_valve.h>

namespace sluice::detail {

template <typename T>
class NetworkInput final : public TaskInput {
 public:
  /// Elements handled per ProcessSome() call before the task looks at its mailbox again.
  static constexpr int kElementsPerRound = 4096;

  NetworkInput(std::vector<std::shared_ptr<Channel<T>>> channels, Input<T>* head,
               StreamOperator* head_operator, TaskHooks* hooks)
      : channels_(std::move(channels)),
        cursors_(channels_.size()),
        ended_(channels_.size(), false),
        head_(head),
        head_operator_(head_operator),
        hooks_(hooks),
        valve_(static_cast<int>(channels_.size())),
        aligner_(static_cast<int>(channels_.size())) {
    for (auto& channel : channels_) channel->SetConsumerNotifier(&hooks_->notifier());
  }

  bool IsSource() const override { return false; }

  Status ProcessSome() override {
    int processed = 0;
    bool progressed = true;
    while (processed < kElementsPerRound && progressed) {
      progressed = false;
      for (size_t c = 0; c < channels_.size() && processed < kElementsPerRound; ++c) {
        if (ended_[c] || aligner_.IsBlocked(static_cast<int>(c))) continue;
        Cursor& cursor = cursors_[c];
        if (cursor.position >= cursor.batch.size()) {
          cursor.batch.clear();
          cursor.position = 0;
          if (!channels_[c]->TryPop(cursor.batch)) continue;
        }
        progressed = true;
        while (cursor.position < cursor.batch.size() && processed < kElementsPerRound) {
          ++processed;
          if (!Handle(static_cast<int>(c), cursor.batch[cursor.position++])) break;
        }
      }
    }
    if (ended_count_ == channels_.size()) return Status::kEndOfInput;
    return processed > 0 ? Status::kMoreAvailable : Status::kNothingAvailable;
  }

 private:
  struct Cursor {
    Batch<T> batch;
    size_t position = 0;
  };

  // Returns false when the channel must not be read further for now (blocked or ended).
  bool Handle(int channel, StreamElement<T>& element) {
    switch (element.index()) {
      case 0:
        head_->ProcessElement(std::move(std::get<0>(element)));
        return true;
      case 1:
        Forward(valve_.OnWatermark(channel, std::get<1>(element).timestamp));
        return true;
      case 2:
        Forward(valve_.OnStatus(channel, std::get<2>(element).idle));
        return true;
      case 3: {
        const CheckpointBarrier& barrier = std::get<3>(element);
        BarrierAligner::Result result = aligner_.OnBarrier(channel, barrier.checkpoint_id);
        if (aligner_.pending() == barrier.checkpoint_id) pending_barrier_ = barrier;
        if (result.aborted) hooks_->AbortCheckpointOnBarrier(*result.aborted);
        if (result.completed) hooks_->PerformCheckpoint(barrier);
        return !aligner_.IsBlocked(channel);
      }
      default: {
        ended_[static_cast<size_t>(channel)] = true;
        ++ended_count_;
        Forward(valve_.OnEndOfInput(channel));
        BarrierAligner::Result result = aligner_.OnEndOfInput(channel);
        if (result.completed) hooks_->PerformCheckpoint(pending_barrier_);
        return false;
      }
    }
  }

  void Forward(const WatermarkValve::Output& out) {
    if (out.watermark) head_operator_->ProcessWatermark(Watermark{*out.watermark});
    if (out.idle) head_operator_->ProcessWatermarkStatus(WatermarkStatus{*out.idle});
  }

  std::vector<std::shared_ptr<Channel<T>>> channels_;
  std::vector<Cursor> cursors_;
  std::vector<bool> ended_;
  size_t ended_count_ = 0;
  Input<T>* head_;
  StreamOperator* head_operator_;
  TaskHooks* hooks_;
  WatermarkValve valve_;
  BarrierAligner aligner_;
  CheckpointBarrier pending_barrier_{};
};

}  // namespace sluice::detail
