// The input of a task whose head operator has two inputs (ConnectedStreams; Flink's
// StreamTwoInputProcessor): the channels of input 1 (records of In1) and of input 2 (records of
// In2), read in turns. Records go to the head's ProcessElement1 / ProcessElement2; every control
// element goes to NetworkInputBase, which aligns barriers over the channels of both inputs and
// merges watermarks per input before the head combines them (network_input.h).
//
// Threads: the task thread, except Cancel() (any thread, TaskInput's contract).
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <sluice/detail/channel.h>
#include <sluice/detail/network_input.h>
#include <sluice/detail/stream_element.h>
#include <sluice/detail/two_input_operator.h>

namespace sluice::detail {

template <typename In1, typename In2>
class TwoInputNetworkInput final : public NetworkInputBase {
 public:
  /// Elements handled per ProcessSome() call before the task looks at its mailbox again.
  static constexpr int kElementsPerRound = 4096;

  TwoInputNetworkInput(std::vector<std::shared_ptr<Channel<In1>>> first,
                       std::vector<std::shared_ptr<Channel<In2>>> second, TwoInput<In1, In2>* head,
                       StreamOperator* head_operator, TaskHooks* hooks)
      : NetworkInputBase(std::vector<size_t>{first.size(), second.size()}, head_operator, hooks),
        first_(std::move(first), 0),
        second_(std::move(second), first_.channels.size()),
        head_(head) {
    for (auto& channel : first_.channels) channel->SetConsumerNotifier(&hooks->notifier());
    for (auto& channel : second_.channels) channel->SetConsumerNotifier(&hooks->notifier());
  }

  Status ProcessSome() override {
    int processed = 0;
    bool progressed = true;
    // Both inputs in every round, so a busy input cannot starve the other.
    while (processed < kElementsPerRound && progressed) {
      progressed = false;
      progressed |= Read(first_, processed, [this](StreamRecord<In1>&& record) {
        head_->ProcessElement1(std::move(record));
      });
      progressed |= Read(second_, processed, [this](StreamRecord<In2>&& record) {
        head_->ProcessElement2(std::move(record));
      });
    }
    if (AllEnded()) return Status::kEndOfInput;
    return processed > 0 ? Status::kMoreAvailable : Status::kNothingAvailable;
  }

 private:
  template <typename T>
  struct Cursor {
    Batch<T> batch;
    size_t position = 0;
  };

  template <typename T>
  struct Side {
    Side(std::vector<std::shared_ptr<Channel<T>>> c, size_t first)
        : channels(std::move(c)), cursors(channels.size()), first_channel(first) {}
    std::vector<std::shared_ptr<Channel<T>>> channels;
    std::vector<Cursor<T>> cursors;
    size_t first_channel;  // the number of its first channel across both inputs
  };

  // One pass over the channels of one input; true when any channel had elements.
  template <typename T, typename Deliver>
  bool Read(Side<T>& side, int& processed, const Deliver& deliver) {
    bool progressed = false;
    for (size_t c = 0; c < side.channels.size() && processed < kElementsPerRound; ++c) {
      const size_t channel = side.first_channel + c;
      if (!Readable(channel)) continue;
      Cursor<T>& cursor = side.cursors[c];
      if (cursor.position >= cursor.batch.size()) {
        cursor.batch.clear();
        cursor.position = 0;
        if (!side.channels[c]->TryPop(cursor.batch)) continue;
      }
      progressed = true;
      while (cursor.position < cursor.batch.size() && processed < kElementsPerRound) {
        ++processed;
        if (!Handle(channel, cursor.batch[cursor.position++], deliver)) break;
      }
    }
    return progressed;
  }

  // Returns false when the channel must not be read further for now (blocked or ended).
  template <typename T, typename Deliver>
  bool Handle(size_t channel, StreamElement<T>& element, const Deliver& deliver) {
    switch (element.index()) {
      case 0:
        deliver(std::move(std::get<0>(element)));
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

  Side<In1> first_;
  Side<In2> second_;
  TwoInput<In1, In2>* head_;
};

}  // namespace sluice::detail
