// How a record picks its downstream subtask on a network edge.
//
// Threads: a partitioner instance belongs to one producer subtask (cloned per subtask).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include <sluice/api/key_hash.h>
#include <sluice/detail/key_groups.h>
#include <sluice/detail/stream_element.h>

namespace sluice::detail {

enum class PartitionerKind { kForward, kRebalance, kShuffle, kBroadcast, kCustom, kKeyGroup };

std::string PartitionerName(PartitionerKind kind);

/// The untyped view the graph builder needs.
class PartitionerBase {
 public:
  virtual ~PartitionerBase() = default;
  virtual PartitionerKind kind() const = 0;
};

template <typename T>
class Partitioner : public PartitionerBase {
 public:
  static constexpr int kAllChannels = -1;
  virtual std::unique_ptr<Partitioner<T>> Clone() const = 0;
  virtual void Setup(int num_channels, int /*producer_subtask*/) { num_channels_ = num_channels; }
  /// The channel for a record, or kAllChannels.
  virtual int SelectChannel(const StreamRecord<T>& record) = 0;

 protected:
  int num_channels_ = 1;
};

template <typename T>
class ForwardPartitioner final : public Partitioner<T> {
 public:
  PartitionerKind kind() const override { return PartitionerKind::kForward; }
  std::unique_ptr<Partitioner<T>> Clone() const override {
    return std::make_unique<ForwardPartitioner>(*this);
  }
  int SelectChannel(const StreamRecord<T>&) override { return 0; }
};

template <typename T>
class RebalancePartitioner final : public Partitioner<T> {
 public:
  PartitionerKind kind() const override { return PartitionerKind::kRebalance; }
  std::unique_ptr<Partitioner<T>> Clone() const override {
    return std::make_unique<RebalancePartitioner>(*this);
  }
  void Setup(int num_channels, int producer_subtask) override {
    Partitioner<T>::Setup(num_channels, producer_subtask);
    // Start at a different channel per producer so that small outputs spread too (Flink
    // starts at a random one).
    next_ = producer_subtask % num_channels;
  }
  int SelectChannel(const StreamRecord<T>&) override {
    int channel = next_;
    if (++next_ == this->num_channels_) next_ = 0;
    return channel;
  }

 private:
  int next_ = 0;
};

template <typename T>
class ShufflePartitioner final : public Partitioner<T> {
 public:
  PartitionerKind kind() const override { return PartitionerKind::kShuffle; }
  std::unique_ptr<Partitioner<T>> Clone() const override {
    return std::make_unique<ShufflePartitioner>(*this);
  }
  void Setup(int num_channels, int producer_subtask) override {
    Partitioner<T>::Setup(num_channels, producer_subtask);
    random_.seed(std::random_device{}());
  }
  int SelectChannel(const StreamRecord<T>&) override {
    return static_cast<int>(random_() % static_cast<uint32_t>(this->num_channels_));
  }

 private:
  std::minstd_rand random_;
};

template <typename T>
class BroadcastPartitioner final : public Partitioner<T> {
 public:
  PartitionerKind kind() const override { return PartitionerKind::kBroadcast; }
  std::unique_ptr<Partitioner<T>> Clone() const override {
    return std::make_unique<BroadcastPartitioner>(*this);
  }
  int SelectChannel(const StreamRecord<T>&) override { return Partitioner<T>::kAllChannels; }
};

/// PartitionCustom: the user's function picks the channel from the key.
template <typename T, typename K>
class CustomPartitioner final : public Partitioner<T> {
 public:
  using KeySelector = std::function<K(const T&)>;
  using Function = std::function<int(const K& key, int num_partitions)>;
  CustomPartitioner(Function function, KeySelector key_selector)
      : function_(std::move(function)), key_selector_(std::move(key_selector)) {}
  PartitionerKind kind() const override { return PartitionerKind::kCustom; }
  std::unique_ptr<Partitioner<T>> Clone() const override {
    return std::make_unique<CustomPartitioner>(*this);
  }
  int SelectChannel(const StreamRecord<T>& record) override {
    int channel = function_(key_selector_(record.value), this->num_channels_);
    if (channel < 0 || channel >= this->num_channels_) {
      throw std::out_of_range("PartitionCustom function returned partition " +
                              std::to_string(channel) + " for " +
                              std::to_string(this->num_channels_) + " partitions");
    }
    return channel;
  }

 private:
  Function function_;
  KeySelector key_selector_;
};

/// KeyBy: key -> Java-compatible hash -> key group -> subtask, exactly as Flink.
template <typename T, typename K>
class KeyGroupPartitioner final : public Partitioner<T> {
 public:
  using KeySelector = std::function<K(const T&)>;
  KeyGroupPartitioner(KeySelector key_selector, int32_t max_parallelism)
      : key_selector_(std::move(key_selector)), max_parallelism_(max_parallelism) {}
  PartitionerKind kind() const override { return PartitionerKind::kKeyGroup; }
  std::unique_ptr<Partitioner<T>> Clone() const override {
    return std::make_unique<KeyGroupPartitioner>(*this);
  }
  int SelectChannel(const StreamRecord<T>& record) override {
    int32_t key_group =
        KeyGroupForKeyHash(KeyHash<K>::HashCode(key_selector_(record.value)), max_parallelism_);
    return OperatorIndexForKeyGroup(max_parallelism_, this->num_channels_, key_group);
  }

 private:
  KeySelector key_selector_;
  int32_t max_parallelism_;
};

}  // namespace sluice::detail
