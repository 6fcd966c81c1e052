// Helpers shared by the Kafka source integration tests: numbered test values, a sink that
// records what it saw, and a builder for a string KafkaSource on a topic.
#pragma once

#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kafka_test_env.h"

namespace sluice::testing {

/// (key "k", value "<tag>-p<partition>-<index>") for index in [from, to).
inline std::vector<std::pair<std::string, std::string>> Values(const std::string& tag, int32_t partition, int from,
                                                               int to) {
  std::vector<std::pair<std::string, std::string>> records;
  for (int i = from; i < to; ++i) {
    records.emplace_back("k", tag + "-p" + std::to_string(partition) + "-" + std::to_string(i));
  }
  return records;
}

/// What a SeenSink saw, from any task thread.
struct Seen {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> values;

  void Add(std::string value) {
    {
      std::lock_guard lock(mutex);
      values.push_back(std::move(value));
    }
    changed.notify_all();
  }
  void Reset() {
    std::lock_guard lock(mutex);
    values.clear();
  }
  std::vector<std::string> Snapshot() {
    std::lock_guard lock(mutex);
    return values;
  }
  bool WaitForAtLeast(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, Scaled(timeout), [&] { return values.size() >= n; });
  }
};

class SeenSink final : public SinkFunction<std::string> {
 public:
  explicit SeenSink(Seen* seen) : seen_(seen) {}
  void Invoke(const std::string& value, const SinkContext&) override { seen_->Add(value); }

 private:
  Seen* seen_;
};

inline kafka::KafkaSourceBuilder<std::string> Builder(const std::string& topic) {
  return kafka::KafkaSource<std::string>::Builder()
      .SetBootstrapServers(BootstrapServers())
      .SetTopics(topic)
      .SetValueOnlyDeserializer(kafka::SimpleStringSchema());
}

inline std::shared_ptr<const kafka::KafkaSource<std::string>> Built(const kafka::KafkaSourceBuilder<std::string>& builder) {
  auto source = builder.Build();
  if (!source.ok()) throw std::runtime_error(source.status().ToString());
  return *source;
}

}  // namespace sluice::testing
