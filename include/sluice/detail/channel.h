// A bounded channel of element batches from one producer subtask to one consumer subtask.
// A full channel blocks the producer: that is backpressure.
//
// Thread safety: Push() from the producer's thread, TryPop() from the consumer's thread,
// Cancel() from any thread. Exactly one producer and one consumer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

#include <sluice/detail/notifier.h>
#include <sluice/detail/stream_element.h>

namespace sluice::detail {

/// Thrown inside a task whose channels were cancelled, to unwind it.
struct TaskCancelled {};

class ChannelBase {
 public:
  virtual ~ChannelBase() = default;
  /// Wakes a blocked producer and makes every later Push() throw TaskCancelled.
  virtual void Cancel() = 0;
};

template <typename T>
class Channel final : public ChannelBase {
 public:
  explicit Channel(size_t capacity_batches = 4) : capacity_(capacity_batches) {}

  /// Set before the consumer starts; notified on every push.
  void SetConsumerNotifier(Notifier* notifier) { consumer_ = notifier; }
  /// Set before the producer starts; notified whenever space frees up (optional).
  void SetProducerNotifier(Notifier* notifier) { producer_ = notifier; }

  /// Appends a batch, blocking while the channel is full. A blocked producer resumes only
  /// once the consumer has drained half the channel, so a fast producer and a slow consumer
  /// trade places every few batches instead of on every batch.
  void Push(Batch<T>&& batch) {
    {
      std::unique_lock lock(mutex_);
      if (!cancelled_ && queue_.size() >= capacity_) {
        producer_waiting_ = true;
        not_full_.wait(lock, [&] { return cancelled_ || queue_.size() <= capacity_ / 2; });
        producer_waiting_ = false;
      }
      if (cancelled_) throw TaskCancelled{};
      queue_.push_back(std::move(batch));
    }
    if (consumer_ != nullptr) consumer_->Notify();
  }

  /// Takes the oldest batch if there is one.
  bool TryPop(Batch<T>& out) {
    bool wake_producer;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return false;
      out = std::move(queue_.front());
      queue_.pop_front();
      wake_producer = producer_waiting_ && queue_.size() <= capacity_ / 2;
    }
    if (wake_producer) not_full_.notify_one();
    if (producer_ != nullptr) producer_->Notify();
    return true;
  }

  void Cancel() override {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    not_full_.notify_all();
  }

 private:
  const size_t capacity_;
  Notifier* consumer_ = nullptr;
  Notifier* producer_ = nullptr;
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::deque<Batch<T>> queue_;
  bool cancelled_ = false;
  bool producer_waiting_ = false;
};

}  // namespace sluice::detail
