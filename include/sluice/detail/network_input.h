// The input of a non-source task: batches from every upstream subtask, merged with barrier
// alignment and watermark merging. The typed half (NetworkInput<T>, or TwoInputNetworkInput for
// a two-input head: two_input_network_input.h) reads the channels and hands records to the head
// operator; the untyped half (NetworkInputBase, out of line in src/runtime/network_input.cc)
// handles every control element.
//
// A task whose head has two inputs (ConnectedStreams) has two logical inputs, each with its own
// channels. Barriers are aligned over the channels of both, so a checkpoint sees both inputs cut
// at the same barrier; watermarks are merged per logical input (one valve each) and handed to
// the head's ProcessInputWatermark, which combines the two (two_input_operator.h).
//
// Threads: the task thread, except Cancel() (any thread, TaskInput's contract).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <sluice/detail/channel.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/stream_element.h>
#include <sluice/detail/task_input.h>

namespace sluice::detail {

/// Watermarks, watermark status, checkpoint barriers and end of input across the channels of
/// a task, whatever their record type. Forwards the merged watermark to the head operator and
/// completed or aborted alignments to the task's hooks. Channels are numbered across the logical
/// inputs: those of input 0 first, then those of input 1.
class NetworkInputBase : public TaskInput {
 public:
  bool IsSource() const final { return false; }

 protected:
  /// One logical input of `num_channels` channels.
  NetworkInputBase(size_t num_channels, StreamOperator* head_operator, TaskHooks* hooks);
  /// Logical input i has channels_per_input[i] channels; with two inputs `head_operator` is a
  /// TwoInputStreamOperator.
  NetworkInputBase(const std::vector<size_t>& channels_per_input, StreamOperator* head_operator,
                   TaskHooks* hooks);
  ~NetworkInputBase() override;

  /// False while `channel` must not be read: it ended, or it delivered the barrier being
  /// aligned. Inline: checked before every batch.
  bool Readable(size_t channel) const { return readable_[channel] != 0; }
  bool AllEnded() const { return ended_count_ == readable_.size(); }

  void OnWatermark(size_t channel, const Watermark& watermark);
  void OnWatermarkStatus(size_t channel, const WatermarkStatus& status);
  void OnBarrier(size_t channel, const CheckpointBarrier& barrier);
  void OnEndOfInput(size_t channel);

 private:
  struct Merging;  // the watermark valve and barrier aligner (src/runtime, src/checkpoint)

  void UpdateReadable();

  std::unique_ptr<Merging> merging_;
  std::vector<char> readable_;  // char, not bool: read per batch, by plain load
  size_t ended_count_ = 0;
};

template <typename T>
class NetworkInput final : public NetworkInputBase {
 public:
  /// Elements handled per ProcessSome() call before the task looks at its mailbox again.
  static constexpr int kElementsPerRound = 4096;

  NetworkInput(std::vector<std::shared_ptr<Channel<T>>> channels, Input<T>* head,
               StreamOperator* head_operator, TaskHooks* hooks)
      : NetworkInputBase(channels.size(), head_operator, hooks),
        channels_(std::move(channels)),
        cursors_(channels_.size()),
        head_(head) {
    for (auto& channel : channels_) channel->SetConsumerNotifier(&hooks->notifier());
  }

  Status ProcessSome() override {
    int processed = 0;
    bool progressed = true;
    while (processed < kElementsPerRound && progressed) {
      progressed = false;
      for (size_t c = 0; c < channels_.size() && processed < kElementsPerRound; ++c) {
        if (!Readable(c)) continue;
        Cursor& cursor = cursors_[c];
        if (cursor.position >= cursor.batch.size()) {
          cursor.batch.clear();
          cursor.position = 0;
          if (!channels_[c]->TryPop(cursor.batch)) continue;
        }
        progressed = true;
        while (cursor.position < cursor.batch.size() && processed < kElementsPerRound) {
          ++processed;
          if (!Handle(c, cursor.batch[cursor.position++])) break;
        }
      }
    }
    if (AllEnded()) return Status::kEndOfInput;
    return processed > 0 ? Status::kMoreAvailable : Status::kNothingAvailable;
  }

 private:
  struct Cursor {
    Batch<T> batch;
    size_t position = 0;
  };

  // Returns false when the channel must not be read further for now (blocked or ended).
  bool Handle(size_t channel, StreamElement<T>& element) {
    switch (element.index()) {
      case 0:
        head_->ProcessElement(std::move(std::get<0>(element)));
        return true;
      case 1:
        OnWatermark(channel, std::get<1>(element));
        return true;
      case 2:
        OnWatermarkStatus(channel, std::get<2>(element));
        return true;
      case 3:
        OnBarrier(channel, std::get<3>(element));
        return Readable(channel);
      default:
        OnEndOfInput(channel);
        return false;
    }
  }

  std::vector<std::shared_ptr<Channel<T>>> channels_;
  std::vector<Cursor> cursors_;
  Input<T>* head_;
};

}  // namespace sluice::detail
