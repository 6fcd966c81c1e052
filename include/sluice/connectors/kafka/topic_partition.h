// TopicPartition: one partition of one Kafka topic (Kafka's and Flink's TopicPartition).
//
// Thread safety: a plain value.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace sluice::kafka {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;

  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
};

/// "topic-3", as Kafka's TopicPartition.toString() writes it.
inline std::string ToString(const TopicPartition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

}  // namespace sluice::kafka
