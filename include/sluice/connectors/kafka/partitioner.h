// Which partition a sink record goes to (Flink's FlinkKafkaPartitioner and Kafka's own).
//
//   FixedPartitioner<T>      every parallel writer sticks to one partition: the topic's
//                            partitions sorted by id, partitions[subtask % count] (Flink's
//                            fixed partitioner, the legacy default).
//   KeyHashPartitioner<T>    Kafka's default for keyed records: murmur2 of the serialised key,
//                            so a key lands where a Java producer puts it. Records without a
//                            key go wherever librdkafka's partitioner puts them.
//   RoundRobinPartitioner<T> each writer cycles through the topic's partitions.
//   custom                   derive from KafkaPartitioner<T>.
//
// Without a partitioner the record serializer leaves the partition to librdkafka, which the
// sink configures with partitioner=murmur2_random: keyed records go where KeyHash puts them.
//
// Threads and copies: every parallel writer (and every restart) gets its own copy, made with
// the copy constructor and used on that writer's task thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::kafka {

/// "Let librdkafka choose" (RD_KAFKA_PARTITION_UA).
inline constexpr int32_t kAnyPartition = -1;

/// Kafka's murmur2 hash of `data` (org.apache.kafka.common.utils.Utils.murmur2), bit for bit.
int32_t Murmur2(std::string_view data) noexcept;

/// The partition index Kafka's default partitioner picks for a non-null key:
/// (murmur2(key) & 0x7fffffff) % num_partitions. `num_partitions` must be > 0.
int32_t KafkaKeyPartition(std::string_view key, int32_t num_partitions) noexcept;

template <typename T>
class KafkaPartitioner {
 public:
  virtual ~KafkaPartitioner() = default;
  /// Once per writer, before the first record.
  virtual void Open(int32_t /*subtask_index*/, int32_t /*parallelism*/) {}
  /// The partition for `record` of `topic`: one of `partitions` (the topic's ids, sorted,
  /// never empty), or kAnyPartition. `key` and `value` are the serialised bytes (nullopt:
  /// null). Anything thrown fails the job.
  virtual int32_t Partition(const T& record, std::optional<std::string_view> key,
                            std::optional<std::string_view> value, const std::string& topic,
                            const std::vector<int32_t>& partitions) = 0;
};

template <typename T>
class FixedPartitioner final : public KafkaPartitioner<T> {
 public:
  void Open(int32_t subtask_index, int32_t /*parallelism*/) override { subtask_ = subtask_index; }
  int32_t Partition(const T&, std::optional<std::string_view>, std::optional<std::string_view>,
                    const std::string&, const std::vector<int32_t>& partitions) override {
    return partitions[static_cast<size_t>(subtask_) % partitions.size()];
  }

 private:
  int32_t subtask_ = 0;
};

template <typename T>
class KeyHashPartitioner final : public KafkaPartitioner<T> {
 public:
  int32_t Partition(const T&, std::optional<std::string_view> key, std::optional<std::string_view>,
                    const std::string&, const std::vector<int32_t>& partitions) override {
    if (!key) return kAnyPartition;
    return partitions[static_cast<size_t>(
        KafkaKeyPartition(*key, static_cast<int32_t>(partitions.size())))];
  }
};

template <typename T>
class RoundRobinPartitioner final : public KafkaPartitioner<T> {
 public:
  int32_t Partition(const T&, std::optional<std::string_view>, std::optional<std::string_view>,
                    const std::string& topic, const std::vector<int32_t>& partitions) override {
    uint64_t& next = next_[topic];
    return partitions[next++ % partitions.size()];
  }

 private:
  std::map<std::string, uint64_t, std::less<>> next_;
};

}  // namespace sluice::kafka
