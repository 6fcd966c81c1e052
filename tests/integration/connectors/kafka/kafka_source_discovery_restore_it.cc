// A partition discovered while the job runs and checkpointed before its first record (its
// offset is stored as "earliest", RD_KAFKA_OFFSET_BEGINNING = -2, see offset_state.h) must be
// read from its start exactly once after a restore: in a new job process resuming from the
// checkpoint directory, and after a failure restarted in the same process. The job starts at
// Latest, so a restore that fell back to the start mode would skip the partition's records.
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
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

using kafka::OffsetsInitializer;
using std::chrono::milliseconds;
using std::chrono::seconds;

Seen g_seen;

// The highest checkpoint any subtask heard completed, and a value that fails attempt 0.
struct Checkpoints {
  std::mutex mutex;
  std::condition_variable changed;
  int64_t completed = 0;
  std::string fail_on;  // empty: never fail

  void Reset(std::string fail_value) {
    std::lock_guard lock(mutex);
    completed = 0;
    fail_on = std::move(fail_value);
  }
  void Completed(int64_t id) {
    {
      std::lock_guard lock(mutex);
      completed = std::max(completed, id);
    }
    changed.notify_all();
  }
  int64_t Highest() {
    std::lock_guard lock(mutex);
    return completed;
  }
  bool WaitForAtLeast(int64_t id, milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, Scaled(timeout), [&] { return completed >= id; });
  }
  bool FailsOn(const std::string& value) {
    std::lock_guard lock(mutex);
    return !fail_on.empty() && value == fail_on;
  }
};
Checkpoints g_checkpoints;

class WatchCheckpoints final : public RichMapFunction<std::string, std::string>,
                               public CheckpointListener {
 public:
  std::string Map(std::string value) override {
    if (GetRuntimeContext().GetAttemptNumber() == 0 && g_checkpoints.FailsOn(value)) {
      throw std::runtime_error("injected failure at " + value);
    }
    return value;
  }
  void NotifyCheckpointComplete(CheckpointId id) override { g_checkpoints.Completed(id.value()); }
};

struct JobSetup {
  std::string topic;
  std::string name = UniqueName("src-disc-restore-job");
  std::filesystem::path checkpoints =
      std::filesystem::temp_directory_path() / UniqueName("src-disc-restore-chk");
  ~JobSetup() {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoints, ignored);
  }

  std::unique_ptr<JobClient> Start() const {
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(2).SetHandleSignals(false);
    env->EnableCheckpointing(milliseconds(50));
    env->GetCheckpointConfig().SetCheckpointStorage(checkpoints.string());
    env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(10)));
    env->FromSource<std::string>(Built(Builder(topic)
                                           .SetStartingOffsets(OffsetsInitializer::Latest())
                                           .SetProperty("partition.discovery.interval.ms", "200")),
                                 WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
        .Uid("kafka")
        .Map(WatchCheckpoints())
        .Uid("watch")
        .AddSink(SeenSink(&g_seen))
        .Uid("seen");
    return env->ExecuteAsync(name);
  }
};

std::string OffsetOf(const std::string& topic, int32_t partition) {
  return "KafkaSourceReader.topic." + topic + ".partition." + std::to_string(partition) +
         ".currentOffset";
}

std::map<std::string, int> CountEach(const std::vector<std::string>& values) {
  std::map<std::string, int> counts;
  for (const std::string& v : values) ++counts[v];
  return counts;
}

void ReadsADiscoveredPartitionFromItsStartAfterRestore(bool restart_in_process) {
  ScopedTopic topic(restart_in_process ? "src-disc-restore-failover" : "src-disc-restore", 1);
  JobSetup job;
  job.topic = topic.name();
  const std::vector<std::pair<std::string, std::string>> b_records = Values("b", 1, 0, 10);
  g_seen.Reset();
  g_checkpoints.Reset(restart_in_process ? b_records.front().second : "");
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});

  std::unique_ptr<JobClient> first = job.Start();
  CancelAtExit cancel_first{first.get()};
  MetricMap metrics;
  // Partition 0 is assigned (at Latest, the empty topic's end) before anything is produced.
  ASSERT_TRUE(WaitForMetrics(
      *first, [&](const MetricMap& m) { return MetricValue(m, OffsetOf(topic.name(), 0)) == 0; },
      seconds(60), &metrics))
      << Describe(metrics);
  ProduceAndWait(producer.get(), topic.name(), 0, Values("a", 0, 0, 5));
  ASSERT_TRUE(g_seen.WaitForAtLeast(5, seconds(60)));

  // Discovered, nothing read yet: the reader holds it at "earliest".
  GrowPartitions(topic.name(), 2);
  ASSERT_TRUE(WaitForMetrics(
      *first, [&](const MetricMap& m) { return MetricValue(m, OffsetOf(topic.name(), 1)) == -2; },
      seconds(60), &metrics))
      << "partition 1 was not discovered:\n"
      << Describe(metrics);
  // A checkpoint triggered after that (the one in flight now may predate it) holds partition 1
  // with the sentinel: partition 1 has no records yet.
  const int64_t with_partition_1 = g_checkpoints.Highest() + 2;
  ASSERT_TRUE(g_checkpoints.WaitForAtLeast(with_partition_1, seconds(60)));
  // A new producer: the first one's metadata does not know partition 1 yet.
  producer = NewClient(RD_KAFKA_PRODUCER, {});

  std::unique_ptr<JobClient> second;
  JobClient* running = first.get();
  if (restart_in_process) {
    // Attempt 0 fails on the partition's first record; attempt 1 restores the last checkpoint,
    // which still holds partition 1 at "earliest".
    ProduceAndWait(producer.get(), topic.name(), 1, b_records);
  } else {
    first->Cancel();
    ASSERT_EQ(first->WaitForResult().status, JobStatus::kCanceled);
    // Written while no job runs; the new process resumes from the checkpoint by itself.
    ProduceAndWait(producer.get(), topic.name(), 1, b_records);
    ProduceAndWait(producer.get(), topic.name(), 0, Values("a", 0, 5, 10));
    second = job.Start();
    running = second.get();
  }
  CancelAtExit cancel_second{second.get()};
  const size_t expected_records = restart_in_process ? 15 : 20;
  ASSERT_TRUE(g_seen.WaitForAtLeast(expected_records, seconds(60))) << g_seen.Snapshot().size();
  // Both partitions read to their ends: nothing more can arrive.
  const int64_t end0 = restart_in_process ? 5 : 10;
  ASSERT_TRUE(WaitForMetrics(
      *running,
      [&](const MetricMap& m) {
        return MetricValue(m, OffsetOf(topic.name(), 0)) == end0 &&
               MetricValue(m, OffsetOf(topic.name(), 1)) == 10;
      },
      seconds(60), &metrics))
      << Describe(metrics);
  running->Cancel();
  JobExecutionResult result = running->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  EXPECT_EQ(result.restarts, restart_in_process ? 1 : 0) << result.failure.ToString();
  ASSERT_TRUE(result.restored_checkpoint.has_value());
  EXPECT_GE(*result.restored_checkpoint, with_partition_1);

  std::map<std::string, int> counts = CountEach(g_seen.Snapshot());
  EXPECT_EQ(counts.size(), expected_records);
  for (const auto& [key, value] : b_records) EXPECT_EQ(counts[value], 1) << value;
  for (const auto& [key, value] : Values("a", 0, 0, static_cast<int>(end0)))
    EXPECT_EQ(counts[value], 1) << value;
}

TEST(KafkaSourceDiscoveryRestoreIT,
     ANewProcessReadsADiscoveredPartitionCheckpointedBeforeItsFirstRecordFromItsStart) {
  ReadsADiscoveredPartitionFromItsStartAfterRestore(/*restart_in_process=*/false);
}

TEST(KafkaSourceDiscoveryRestoreIT,
     AFailoverReadsADiscoveredPartitionCheckpointedBeforeItsFirstRecordFromItsStart) {
  ReadsADiscoveredPartitionFromItsStartAfterRestore(/*restart_in_process=*/true);
}

}  // namespace
}  // namespace sluice::testing
