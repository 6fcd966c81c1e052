// Helpers shared by the Kafka source integration tests: numbered test values, a sink that
// records what it saw, a builder for a string KafkaSource on a topic, adding partitions to a
// topic, and reading the metrics of a running job (the sink tests use these too).
#pragma once

#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "kafka_test_env.h"

namespace sluice::testing {

/// (key "k", value "<tag>-p<partition>-<index>") for index in [from, to).
inline std::vector<std::pair<std::string, std::string>> Values(const std::string& tag,
                                                               int32_t partition, int from,
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

inline std::shared_ptr<const kafka::KafkaSource<std::string>> Built(
    const kafka::KafkaSourceBuilder<std::string>& builder) {
  auto source = builder.Build();
  if (!source.ok()) throw std::runtime_error(source.status().ToString());
  return *source;
}

/// Raises the partition count of `topic` to `total` (rd_kafka_CreatePartitions) and waits until
/// the metadata shows every partition with a leader. Throws std::runtime_error on failure.
inline void GrowPartitions(const std::string& topic, int total) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  char error[512];
  rd_kafka_NewPartitions_t* request =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), error, sizeof error);
  if (request == nullptr) throw std::runtime_error(std::string("NewPartitions: ") + error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
  rd_kafka_CreatePartitions(admin.get(), &request, 1, nullptr, queue);
  rd_kafka_NewPartitions_destroy(request);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(Scaled(std::chrono::seconds(30)).count()));
  std::string failure;
  if (event == nullptr) {
    failure = "no answer";
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(event);
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
        rd_kafka_event_CreatePartitions_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_topic_result_error_string(results[i]);
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty())
    throw std::runtime_error("CreatePartitions of " + topic + " failed: " + failure);
  auto deadline = std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_topic_t* handle = rd_kafka_topic_new(admin.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(admin.get(), 0, handle, &metadata, 5000);
    rd_kafka_topic_destroy(handle);
    bool ready = err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
                 metadata->topics[0].partition_cnt == total;
    for (int i = 0; ready && i < total; ++i) ready = metadata->topics[0].partitions[i].leader >= 0;
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    if (ready) return;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(50));  // polling metadata, not a sync stand-in
  }
  throw std::runtime_error("topic " + topic + " never showed " + std::to_string(total) +
                           " partitions");
}

/// Cancels a job that a failed assertion would leave running (dropping a JobClient waits for
/// the job's end, which an unbounded job never reaches by itself).
struct CancelAtExit {
  JobClient* client = nullptr;
  ~CancelAtExit() {
    if (client != nullptr) client->Cancel();
  }
};

using MetricMap = std::map<std::string, int64_t>;

/// The sum of every metric whose dotted name ends with `suffix` (e.g. over all subtasks).
inline int64_t MetricSum(const MetricMap& metrics, std::string_view suffix) {
  int64_t sum = 0;
  for (const auto& [name, value] : metrics) {
    if (name.ends_with(suffix)) sum += value;
  }
  return sum;
}

/// The value of the one metric whose name ends with `suffix`; nullopt when there is none.
/// Throws when several match (the suffix is ambiguous).
inline std::optional<int64_t> MetricValue(const MetricMap& metrics, std::string_view suffix) {
  std::optional<int64_t> found;
  for (const auto& [name, value] : metrics) {
    if (!name.ends_with(suffix)) continue;
    if (found) throw std::runtime_error("several metrics end with " + std::string(suffix));
    found = value;
  }
  return found;
}

/// Every metric as "name=value" lines, for failure messages.
inline std::string Describe(const MetricMap& metrics) {
  std::string out;
  for (const auto& [name, value] : metrics) out += "  " + name + "=" + std::to_string(value) + "\n";
  return out;
}

/// Polls the metrics of a running job until `condition` holds or Scaled(timeout) passes;
/// `last` receives the last snapshot read (for the failure message). Metrics are read, not
/// pushed, so this polls; the poll interval is not a synchronisation.
inline bool WaitForMetrics(const JobClient& client,
                           const std::function<bool(const MetricMap&)>& condition,
                           std::chrono::milliseconds timeout, MetricMap* last = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (true) {
    MetricMap metrics = client.GetMetrics();
    bool met = condition(metrics);
    if (last != nullptr) *last = std::move(metrics);
    if (met) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace sluice::testing
