// The producing end of a network edge for one subtask: batches elements per downstream
// channel and pushes full batches; barriers, end of input and explicit flushes push at once.
//
// Threads: the producer's task thread only (a legacy source's emitting thread holds the
// checkpoint lock while it writes, which serialises it with the task thread).
#pragma once

#include <memory>
#include <vector>

#include <sluice/detail/channel.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/partitioner.h>

namespace sluice::detail {

class RecordWriterBase {
 public:
  virtual ~RecordWriterBase() = default;
  virtual void BroadcastBarrier(const CheckpointBarrier& barrier) = 0;
  virtual void BroadcastEndOfInput() = 0;
  /// Pushes every non-empty batch.
  virtual void Flush() = 0;
  virtual bool HasBufferedElements() const = 0;
};

template <typename T>
class RecordWriter final : public Output<T>, public RecordWriterBase {
 public:
  static constexpr size_t kMaxBatch = 1024;

  RecordWriter(std::unique_ptr<Partitioner<T>> partitioner,
               std::vector<std::shared_ptr<Channel<T>>> channels, int producer_subtask)
      : partitioner_(std::move(partitioner)),
        channels_(std::move(channels)),
        batches_(channels_.size()) {
    partitioner_->Setup(static_cast<int>(channels_.size()), producer_subtask);
    for (auto& batch : batches_) batch.reserve(kMaxBatch);
  }

  void Collect(StreamRecord<T>&& record) override {
    int channel = partitioner_->SelectChannel(record);
    if (channel == Partitioner<T>::kAllChannels) {
      for (size_t c = 0; c + 1 < channels_.size(); ++c) Append(c, StreamRecord<T>(record));
      Append(channels_.size() - 1, std::move(record));
    } else {
      Append(static_cast<size_t>(channel), std::move(record));
    }
  }
  void EmitWatermark(Watermark watermark) override { AppendToAll(watermark); }
  void EmitWatermarkStatus(WatermarkStatus status) override { AppendToAll(status); }

  void BroadcastBarrier(const CheckpointBarrier& barrier) override {
    AppendToAll(barrier);
    Flush();
  }
  void BroadcastEndOfInput() override {
    AppendToAll(EndOfInput{});
    Flush();
  }
  void Flush() override {
    for (size_t c = 0; c < channels_.size(); ++c) {
      if (!batches_[c].empty()) Push(c);
    }
  }
  bool HasBufferedElements() const override {
    for (const auto& batch : batches_) {
      if (!batch.empty()) return true;
    }
    return false;
  }

 private:
  template <typename E>
  void Append(size_t channel, E&& element) {
    Batch<T>& batch = batches_[channel];
    batch.emplace_back(std::forward<E>(element));
    if (batch.size() >= kMaxBatch) Push(channel);
  }
  template <typename E>
  void AppendToAll(const E& element) {
    for (size_t c = 0; c < channels_.size(); ++c) Append(c, E(element));
  }
  void Push(size_t channel) {
    Batch<T> full;
    full.reserve(kMaxBatch);
    full.swap(batches_[channel]);
    channels_[channel]->Push(std::move(full));
  }

  std::unique_ptr<Partitioner<T>> partitioner_;
  std::vector<std::shared_ptr<Channel<T>>> channels_;
  std::vector<Batch<T>> batches_;
};

}  // namespace sluice::detail
