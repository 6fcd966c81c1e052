// The KafkaSource metrics of a running job, read through JobClient::GetMetrics while it runs:
// records and bytes in, per-partition current and committed offsets, the lag
// (pendingRecords) rising while a backlog waits behind a slow downstream and falling to 0,
// commits, and deserialization failures. Every test uses its own topic and group.
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kafka_it_support.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using kafka::KafkaSource;
using kafka::OffsetsInitializer;
using std::chrono::milliseconds;
using std::chrono::seconds;

// A downstream that lets `allowed` records through and holds the next one (and with it the
// reader's task thread, as a slow operator chained to the source would) until the test allows
// more. Global because sinks are copied into the job.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  int64_t allowed = 0;
  std::vector<std::string> passed;

  void Reset(int64_t allow) {
    std::lock_guard lock(mutex);
    allowed = allow;
    passed.clear();
  }
  void Allow(int64_t total) {
    {
      std::lock_guard lock(mutex);
      allowed = total;
    }
    changed.notify_all();
  }
  void Pass(const std::string& value) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return static_cast<int64_t>(passed.size()) < allowed; });
    passed.push_back(value);
    changed.notify_all();
  }
  bool WaitForPassed(int64_t n, milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, Scaled(timeout),
                            [&] { return static_cast<int64_t>(passed.size()) >= n; });
  }
  int64_t Count() {
    std::lock_guard lock(mutex);
    return static_cast<int64_t>(passed.size());
  }
};
Gate g_gate;

// Opens the gate for good and cancels the job when a test ends early (a held record would keep
// the task from stopping).
struct StopAtExit {
  JobClient* client = nullptr;
  ~StopAtExit() {
    g_gate.Allow(INT64_MAX);
    if (client != nullptr) client->Cancel();
  }
};

class GateSink final : public SinkFunction<std::string> {
 public:
  void Invoke(const std::string& value, const SinkContext&) override { g_gate.Pass(value); }
};

// Fails on values starting with "bad" (skipped and counted by the Skip policy).
struct FailOnBad final : kafka::DeserializationSchema<std::string> {
  void Deserialize(std::string_view message, Collector<std::string>& out) override {
    if (message.starts_with("bad")) throw std::runtime_error("bad record");
    out.Collect(std::string(message));
  }
};

// Key "k" (1 byte) plus the value's bytes.
int64_t BytesOf(const std::vector<std::pair<std::string, std::string>>& records) {
  int64_t bytes = 0;
  for (const auto& [key, value] : records) bytes += static_cast<int64_t>(key.size() + value.size());
  return bytes;
}

std::filesystem::path TempDirFor(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(KafkaSourceMetricsIT, RecordsBytesOffsetsCommitsAndLagMoveWhileTheJobRuns) {
  ScopedTopic topic("src-metrics", 2);
  const std::string group = UniqueName("src-metrics-group");
  const std::string checkpoints = TempDirFor("src-metrics-chk").string();
  constexpr int kBacklog = 3000;
  constexpr int kBad = 5;
  constexpr int kMore = 500;

  // The backlog is there before the job starts: 3000 good records per partition, and 5 that
  // fail to deserialize at the end of partition 0.
  int64_t bytes = 0;
  {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    for (int32_t p = 0; p < 2; ++p) {
      auto records = Values("v", p, 0, kBacklog);
      bytes += BytesOf(records);
      ProduceAndWait(producer.get(), topic.name(), p, records);
    }
    auto bad = Values("bad", 0, 0, kBad);
    bytes += BytesOf(bad);
    ProduceAndWait(producer.get(), topic.name(), 0, bad);
  }
  const std::string partition0 = "KafkaSourceReader.topic." + topic.name() + ".partition.0.";
  const std::string partition1 = "KafkaSourceReader.topic." + topic.name() + ".partition.1.";

  g_gate.Reset(100);
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(50));
  env->GetCheckpointConfig().SetCheckpointStorage(checkpoints);
  env->FromSource<std::string>(
         Built(Builder(topic.name())
                   .SetGroupId(group)
                   .SetStartingOffsets(OffsetsInitializer::Earliest())
                   .SetDeserializationFailurePolicy(kafka::DeserializationFailurePolicy::Skip())
                   .SetValueOnlyDeserializer(FailOnBad())),
         WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Uid("kafka")
      .AddSink(GateSink())
      .Uid("gate");
  std::unique_ptr<JobClient> client = env->ExecuteAsync(UniqueName("src-metrics-job"));
  StopAtExit stop_at_exit{client.get()};

  // The downstream holds record 101: thousands wait behind it, and the lag says so.
  ASSERT_TRUE(g_gate.WaitForPassed(100, seconds(60)));
  MetricMap metrics;
  EXPECT_TRUE(WaitForMetrics(
      *client,
      [](const MetricMap& m) { return MetricSum(m, "KafkaSourceReader.pendingRecords") > 0; },
      seconds(30), &metrics))
      << "no lag while a backlog waits behind a slow downstream:\n"
      << Describe(metrics);
  EXPECT_LE(MetricSum(metrics, "KafkaSourceReader.pendingRecords"), 2 * kBacklog + kBad);
  EXPECT_EQ(g_gate.Count(), 100) << "the gate let more through than it allowed";

  // Everything read: counts complete, offsets at the ends, the group's offsets committed after
  // checkpoints, and no lag left.
  g_gate.Allow(INT64_MAX);
  ASSERT_TRUE(g_gate.WaitForPassed(2 * kBacklog, seconds(60))) << g_gate.Count();
  auto caught_up = [&](int64_t end0, int64_t end1, int64_t records, int64_t byte_count) {
    return [=](const MetricMap& m) {
      return MetricSum(m, "KafkaSourceReader.numRecordsIn") == records &&
             MetricSum(m, "KafkaSourceReader.numBytesIn") == byte_count &&
             MetricValue(m, partition0 + "currentOffset") == end0 &&
             MetricValue(m, partition1 + "currentOffset") == end1 &&
             MetricValue(m, partition0 + "committedOffset") == end0 &&
             MetricValue(m, partition1 + "committedOffset") == end1 &&
             MetricSum(m, "KafkaSourceReader.pendingRecords") == 0;
    };
  };
  EXPECT_TRUE(WaitForMetrics(*client,
                             caught_up(kBacklog + kBad, kBacklog, 2 * kBacklog + kBad, bytes),
                             seconds(60), &metrics))
      << Describe(metrics);
  EXPECT_GT(MetricSum(metrics, "KafkaSourceReader.commitsSucceeded"), 0);
  EXPECT_EQ(MetricSum(metrics, "KafkaSourceReader.commitsFailed"), 0);
  EXPECT_EQ(MetricSum(metrics, "KafkaSourceReader.deserializationFailures"), kBad);

  // More records behind a held downstream: the lag rises again, then falls back to 0.
  g_gate.Allow(2 * kBacklog + 10);
  {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    for (int32_t p = 0; p < 2; ++p) {
      auto records = Values("v", p, kBacklog, kBacklog + kMore);
      bytes += BytesOf(records);
      ProduceAndWait(producer.get(), topic.name(), p, records);
    }
  }
  ASSERT_TRUE(g_gate.WaitForPassed(2 * kBacklog + 10, seconds(60)));
  EXPECT_TRUE(WaitForMetrics(
      *client,
      [](const MetricMap& m) { return MetricSum(m, "KafkaSourceReader.pendingRecords") > 0; },
      seconds(30), &metrics))
      << "the lag did not rise with new records held downstream:\n"
      << Describe(metrics);
  g_gate.Allow(INT64_MAX);
  ASSERT_TRUE(g_gate.WaitForPassed(2 * (kBacklog + kMore), seconds(60))) << g_gate.Count();
  EXPECT_TRUE(WaitForMetrics(
      *client,
      caught_up(kBacklog + kBad + kMore, kBacklog + kMore, 2 * (kBacklog + kMore) + kBad, bytes),
      seconds(60), &metrics))
      << Describe(metrics);

  client->Cancel();
  JobExecutionResult result = client->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  // The final result carries the same metrics.
  EXPECT_EQ(MetricSum(result.counters, "KafkaSourceReader.numRecordsIn"),
            2 * (kBacklog + kMore) + kBad);
  EXPECT_EQ(MetricSum(result.counters, "KafkaSourceReader.deserializationFailures"), kBad);
  EXPECT_EQ(g_gate.Count(), 2 * (kBacklog + kMore)) << "a record was delivered twice";
  std::error_code ignored;
  std::filesystem::remove_all(checkpoints, ignored);
}

}  // namespace
}  // namespace sluice::testing
