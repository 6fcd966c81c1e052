// KafkaSource against the real broker of scripts/kafka: start positions, bounded reads,
// checkpointed offsets across failures and rescaling, commits to the group, and failures that
// must end the job within bounded time. Every test uses its own topics.
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "integration/runtime/test_jobs.h"
#include "kafka_it_support.h"
#include "kafka_test_env.h"

using ::sluice::testing::StatusIs;

using ::sluice::testing::IsOk;
using ::testing::HasSubstr;

namespace sluice::testing {
namespace {

Seen g_seen;

using kafka::KafkaSource;
using kafka::OffsetResetStrategy;
using kafka::OffsetsInitializer;
using kafka::SimpleStringSchema;
using kafka::TopicPartition;
using std::chrono::milliseconds;
using std::chrono::seconds;

void Produce(const std::string& topic, int partitions, int per_partition,
             const std::string& tag = "v", int from = 0) {
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  for (int32_t p = 0; p < partitions; ++p)
    ProduceAndWait(producer.get(), topic, p, Values(tag, p, from, from + per_partition));
}

// Per partition, the indices in arrival order.
std::map<int32_t, std::vector<int>> ByPartition(const std::vector<std::string>& values,
                                                const std::string& tag = "v") {
  std::map<int32_t, std::vector<int>> out;
  for (const std::string& v : values) {
    if (v.rfind(tag + "-p", 0) != 0) continue;
    size_t dash = v.find('-', tag.size() + 2);
    out[std::stoi(v.substr(tag.size() + 2, dash - tag.size() - 2))].push_back(
        std::stoi(v.substr(dash + 1)));
  }
  return out;
}

std::vector<int> Range(int from, int to) {
  std::vector<int> r;
  for (int i = from; i < to; ++i) r.push_back(i);
  return r;
}

JobExecutionResult RunBounded(std::shared_ptr<const KafkaSource<std::string>> source,
                              int32_t parallelism) {
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(parallelism).SetHandleSignals(false);
  env->FromSource<std::string>(source, WatermarkStrategy<std::string>::NoWatermarks(),
                               "Kafka Source")
      .AddSink(SeenSink(&g_seen));
  return env->Execute("kafka-bounded");
}

void CommitOffsets(const std::string& group, const std::map<TopicPartition, int64_t>& offsets) {
  KafkaPtr consumer =
      NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}, {"enable.auto.commit", "false"}});
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [tp, offset] : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
  }
  ASSERT_EQ(rd_kafka_commit(consumer.get(), list.get(), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_consumer_close(consumer.get());
}

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// ---- start positions and bounded reads ----

void ReadsEveryRecordOnceInOrder(int32_t parallelism) {
  ScopedTopic topic("src-earliest", 3);
  Produce(topic.name(), 3, 100);
  auto source = Built(Builder(topic.name()).SetBounded(OffsetsInitializer::Latest()));
  JobExecutionResult result = RunBounded(source, parallelism);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto parts = ByPartition(g_seen.Snapshot());
  ASSERT_EQ(parts.size(), 3u);
  for (int32_t p = 0; p < 3; ++p) EXPECT_EQ(parts[p], Range(0, 100)) << "partition " << p;
}

TEST(KafkaSourceIT, BoundedReadFromEarliestAtParallelism1ReadsEveryRecordOnceInPartitionOrder) {
  ReadsEveryRecordOnceInOrder(1);
}

TEST(KafkaSourceIT, BoundedReadFromEarliestAtParallelism2ReadsEveryRecordOnceInPartitionOrder) {
  ReadsEveryRecordOnceInOrder(2);
}

TEST(KafkaSourceIT, BoundedReaderWithoutPartitionsEndsAtOnce) {
  ScopedTopic topic("src-few", 1);
  Produce(topic.name(), 1, 10);
  JobExecutionResult result =
      RunBounded(Built(Builder(topic.name()).SetBounded(OffsetsInitializer::Latest())), 3);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(ByPartition(g_seen.Snapshot())[0], Range(0, 10));
}

TEST(KafkaSourceIT, LatestReadsOnlyRecordsProducedAfterTheReaderStarted) {
  ScopedTopic topic("src-latest", 2);
  Produce(topic.name(), 2, 20, "before");
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->FromSource<std::string>(
         Built(Builder(topic.name()).SetStartingOffsets(OffsetsInitializer::Latest())),
         WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .AddSink(SeenSink(&g_seen));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-latest");
  // The reader has started once a probe record produced now comes through.
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  bool started = false;
  for (int i = 0; i < 600 && !started; ++i) {
    ProduceAndWait(producer.get(), topic.name(), 0, {{"k", "probe-" + std::to_string(i)}});
    started = g_seen.WaitForAtLeast(1, milliseconds(100));
  }
  ASSERT_TRUE(started) << "the source never delivered a record produced after it started";
  for (int32_t p = 0; p < 2; ++p)
    ProduceAndWait(producer.get(), topic.name(), p, Values("after", p, 0, 30));
  size_t probes = 0;
  ASSERT_TRUE(g_seen.WaitForAtLeast(60 + 1, seconds(60)));
  client->Cancel();
  client->WaitForResult();
  std::vector<std::string> seen = g_seen.Snapshot();
  for (const std::string& v : seen) {
    EXPECT_EQ(v.find("before"), std::string::npos) << v;
    if (v.rfind("probe-", 0) == 0) ++probes;
  }
  auto after = ByPartition(seen, "after");
  EXPECT_EQ(after[0], Range(0, 30));
  EXPECT_EQ(after[1], Range(0, 30));
  EXPECT_GE(probes, 1u);
}

TEST(KafkaSourceIT, CommittedStartsAtTheGroupOffsetAndFallsBackToTheResetStrategy) {
  ScopedTopic topic("src-committed", 3);
  Produce(topic.name(), 3, 20);
  const std::string group = UniqueName("src-group");
  CommitOffsets(group, {{{topic.name(), 0}, 5}, {{topic.name(), 1}, 15}});
  auto source =
      Built(Builder(topic.name())
                .SetGroupId(group)
                .SetStartingOffsets(OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest))
                .SetBounded(OffsetsInitializer::Latest()));
  JobExecutionResult result = RunBounded(source, 2);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto parts = ByPartition(g_seen.Snapshot());
  EXPECT_EQ(parts[0], Range(5, 20));
  EXPECT_EQ(parts[1], Range(15, 20));
  EXPECT_EQ(parts[2], Range(0, 20)) << "no committed offset: the reset strategy (earliest)";
}

TEST(KafkaSourceIT, CommittedWithoutResetStrategyFailsNamingThePartitionWithoutOffset) {
  ScopedTopic topic("src-committed-none", 2);
  Produce(topic.name(), 2, 5);
  const std::string group = UniqueName("src-group");
  CommitOffsets(group, {{{topic.name(), 0}, 2}});
  auto source = Built(Builder(topic.name())
                          .SetGroupId(group)
                          .SetStartingOffsets(OffsetsInitializer::Committed())
                          .SetBounded(OffsetsInitializer::Latest()));
  JobExecutionResult result = RunBounded(source, 1);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure.message(), HasSubstr(topic.name() + "-1"))
      << result.failure.ToString();
  EXPECT_THAT(result.failure.message(), HasSubstr("no committed offset"))
      << result.failure.ToString();
}

TEST(KafkaSourceIT, SpecificOffsetsWithAMissingPartitionFallBackToCommittedThenReset) {
  ScopedTopic topic("src-specific", 3);
  Produce(topic.name(), 3, 20);
  const std::string group = UniqueName("src-group");
  CommitOffsets(group, {{{topic.name(), 1}, 12}});
  auto source = Built(
      Builder(topic.name())
          .SetGroupId(group)
          .SetStartingOffsets(OffsetsInitializer::Offsets(
              {{{topic.name(), 0}, 7}, {{"not-subscribed", 0}, 3}}, OffsetResetStrategy::kLatest))
          .SetBounded(OffsetsInitializer::Latest()));
  JobExecutionResult result = RunBounded(source, 1);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto parts = ByPartition(g_seen.Snapshot());
  EXPECT_EQ(parts[0], Range(7, 20)) << "from the map";
  EXPECT_EQ(parts[1], Range(12, 20)) << "missing from the map: the committed offset";
  EXPECT_TRUE(parts[2].empty()) << "neither: the reset strategy (latest)";
}

TEST(KafkaSourceIT, TimestampStartsAtTheFirstRecordAtOrAfterItAndAtTheEndWhenNoneIsLater) {
  ScopedTopic topic("src-timestamp", 2);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  const int64_t base = 1'700'000'000'000;
  for (int i = 0; i < 10; ++i) {
    ProduceAndWait(producer.get(), topic.name(), 0, Values("v", 0, i, i + 1), base + 1000 * i);
    ProduceAndWait(producer.get(), topic.name(), 1, Values("v", 1, i, i + 1),
                   base + 100 * i);  // all before base+1000
  }
  auto source = Built(Builder(topic.name())
                          .SetStartingOffsets(OffsetsInitializer::Timestamp(base + 4500))
                          .SetBounded(OffsetsInitializer::Latest()));
  JobExecutionResult result = RunBounded(source, 1);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto parts = ByPartition(g_seen.Snapshot());
  EXPECT_EQ(parts[0], Range(5, 10));
  EXPECT_TRUE(parts[1].empty()) << "no record at or after the timestamp: start at the end";
}

TEST(KafkaSourceIT, BoundedReadFinishesOnATopicEndingWithAnAbortedTransaction) {
  ScopedTopic topic("src-aborted", 1);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", UniqueName("src-txn")}});
  ThrowIfError(rd_kafka_init_transactions(producer.get(), 30000), "init_transactions");
  for (bool commit : {true, false}) {
    ThrowIfError(rd_kafka_begin_transaction(producer.get()), "begin");
    ProduceAndWait(producer.get(), topic.name(), 0, Values(commit ? "v" : "aborted", 0, 0, 10));
    if (commit) {
      ThrowIfError(rd_kafka_commit_transaction(producer.get(), 30000), "commit");
    } else {
      ThrowIfError(rd_kafka_abort_transaction(producer.get(), 30000), "abort");
    }
  }
  JobExecutionResult result =
      RunBounded(Built(Builder(topic.name()).SetBounded(OffsetsInitializer::Latest())), 1);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<std::string> seen = g_seen.Snapshot();
  EXPECT_EQ(ByPartition(seen)[0], Range(0, 10));
  EXPECT_EQ(seen.size(), 10u) << "aborted records are never read";
}

// ---- bounded runs: which end offsets (issue 17 item 5) ----

JobExecutionResult RunBoundedWithCheckpoints(const std::string& topic,
                                             const std::filesystem::path& checkpoints) {
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::minutes(10));  // only the final checkpoint completes
  env->GetCheckpointConfig().SetCheckpointStorage(checkpoints.string());
  env->FromSource<std::string>(Built(Builder(topic).SetBounded(OffsetsInitializer::Latest())),
                               WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Uid("kafka")
      .AddSink(SeenSink(&g_seen))
      .Uid("seen");
  return env->Execute("bounded-rerun");
}

// A new process start of a bounded job reads on from its last checkpoint up to the end
// offsets seen at its own start, not the first run's (which its checkpoint also holds).
TEST(KafkaSourceIT, ASecondRunOfABoundedJobStopsAtTheEndOffsetsSeenAtItsOwnStart) {
  ScopedTopic topic("src-bounded-rerun", 2);
  const std::filesystem::path checkpoints = TempDir("src-bounded-rerun-chk");
  Produce(topic.name(), 2, 20);
  JobExecutionResult first = RunBoundedWithCheckpoints(topic.name(), checkpoints);
  ASSERT_EQ(first.status, JobStatus::kFinished) << first.failure.ToString();
  ASSERT_EQ(ByPartition(g_seen.Snapshot()),
            (std::map<int32_t, std::vector<int>>{{0, Range(0, 20)}, {1, Range(0, 20)}}));

  Produce(topic.name(), 2, 30, "v", 20);
  JobExecutionResult second = RunBoundedWithCheckpoints(topic.name(), checkpoints);
  ASSERT_EQ(second.status, JobStatus::kFinished) << second.failure.ToString();
  EXPECT_TRUE(second.restored_checkpoint.has_value());
  EXPECT_EQ(ByPartition(g_seen.Snapshot()),
            (std::map<int32_t, std::vector<int>>{{0, Range(20, 50)}, {1, Range(20, 50)}}));
  std::filesystem::remove_all(checkpoints);
}

Event g_reached;
Event g_produced_more;

// In the first attempt: at the first record, waits until the test produced more records, then
// fails the job.
class FailAfterMoreRecords final : public RichMapFunction<std::string, std::string> {
 public:
  std::string Map(std::string value) override {
    if (GetRuntimeContext().GetAttemptNumber() == 0) {
      g_reached.Set();
      if (!g_produced_more.WaitFor(Scaled(seconds(60))))
        throw std::runtime_error("the test never produced more records");
      throw std::runtime_error("injected failure after more records arrived");
    }
    return value;
  }
};

// A failover inside one run stops where the run's start said, as Flink keeps the stopping
// offsets in its splits: even with no checkpoint to restore, records that arrived after the
// start are not read.
TEST(KafkaSourceIT, AFailoverOfABoundedJobKeepsTheStoppingOffsetsOfItsStart) {
  ScopedTopic topic("src-bounded-failover", 2);
  Produce(topic.name(), 2, 20);
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(std::chrono::minutes(10));
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("src-bounded-failover-chk").string());
  env->SetRestartStrategy(RestartStrategy::FixedDelay(1, milliseconds(1)));
  env->FromSource<std::string>(
         Built(Builder(topic.name()).SetBounded(OffsetsInitializer::Latest())),
         WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Uid("kafka")
      .Map(FailAfterMoreRecords())
      .Uid("fail")
      .AddSink(SeenSink(&g_seen))
      .Uid("seen");
  std::unique_ptr<JobClient> client = env->ExecuteAsync("bounded-failover");
  ASSERT_TRUE(g_reached.WaitFor(Scaled(seconds(60))));
  Produce(topic.name(), 2, 30, "v", 20);
  g_produced_more.Set();
  JobExecutionResult result = client->WaitForResult();
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  EXPECT_FALSE(result.restored_checkpoint.has_value());
  EXPECT_EQ(ByPartition(g_seen.Snapshot()),
            (std::map<int32_t, std::vector<int>>{{0, Range(0, 20)}, {1, Range(0, 20)}}));
}

TEST(KafkaSourceIT, StoppingOffsetsAreExclusive) {
  ScopedTopic topic("src-stop", 2);
  Produce(topic.name(), 2, 20);
  auto source = Built(Builder(topic.name())
                          .SetStartingOffsets(OffsetsInitializer::Offsets({{{topic.name(), 0}, 3}}))
                          .SetBounded(OffsetsInitializer::Offsets(
                              {{{topic.name(), 0}, 8}, {{topic.name(), 1}, 0}})));
  JobExecutionResult result = RunBounded(source, 1);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  auto parts = ByPartition(g_seen.Snapshot());
  EXPECT_EQ(parts[0], Range(3, 8));
  EXPECT_TRUE(parts[1].empty());
}

// ---- checkpointed offsets ----

// Key of a record: its partition.
int64_t PartitionOf(const std::string& v) { return std::stoi(v.substr(3, v.find('-', 3) - 3)); }

std::atomic<bool> g_checkpoint_done{false};

// In attempt 0, throws at the first record it sees after a checkpoint completed.
class FailAfterCheckpoint final : public RichMapFunction<std::string, int64_t>,
                                  public CheckpointListener {
 public:
  int64_t Map(std::string value) override {
    if (GetRuntimeContext().GetAttemptNumber() == 0 && g_checkpoint_done.load() && armed_) {
      throw std::runtime_error("injected failure at " + value);
    }
    return PartitionOf(value);
  }
  void NotifyCheckpointComplete(CheckpointId) override {
    armed_ = true;
    g_checkpoint_done = true;
  }

 private:
  bool armed_ = false;
};

LatestCounts g_counts;

TEST(KafkaSourceIT, RestoresCheckpointedOffsetsAfterAFailureWithExactlyOnceCounts) {
  ScopedTopic topic("src-recovery", 3);
  g_counts.Reset();
  g_checkpoint_done = false;
  Produce(topic.name(), 3, 100, "v", 0);
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(50));
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("kafka-recovery").string());
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(10)));
  env->FromSource<std::string>(Built(Builder(topic.name())),
                               WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Uid("kafka")
      .Map(FailAfterCheckpoint())
      .Uid("fail")
      .KeyBy([](int64_t p) { return p; })
      .Process(CountPerKey())
      .Uid("count")
      .AddSink(LatestPerKeySink(&g_counts));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-recovery");
  auto all_at = [](int64_t n) {
    return [n](const std::map<int64_t, int64_t>& latest, int64_t) {
      return latest.size() == 3 &&
             std::all_of(latest.begin(), latest.end(), [n](auto& kv) { return kv.second >= n; });
    };
  };
  ASSERT_TRUE(g_counts.WaitFor(all_at(100), Scaled(seconds(60))));
  // A checkpoint has completed once the map has heard of it; the next records fail attempt 0.
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(60));
  while (!g_checkpoint_done && std::chrono::steady_clock::now() < deadline) {
    g_counts.WaitFor([](const auto&, int64_t) { return g_checkpoint_done.load(); },
                     milliseconds(50));
  }
  ASSERT_TRUE(g_checkpoint_done);
  Produce(topic.name(), 3, 100, "v", 100);
  ASSERT_TRUE(g_counts.WaitFor(all_at(200), Scaled(seconds(60))));
  client->Cancel();
  JobExecutionResult result = client->WaitForResult();
  EXPECT_EQ(result.restarts, 1) << result.failure.ToString();
  EXPECT_TRUE(result.restored_checkpoint.has_value());
  EXPECT_EQ(g_counts.Snapshot(), (std::map<int64_t, int64_t>{{0, 200}, {1, 200}, {2, 200}}));
}

TEST(KafkaSourceIT, SavepointAtParallelism2RestoresAt4ReadingEveryRecordOnce) {
  ScopedTopic topic("src-rescale", 6);
  g_counts.Reset();
  Produce(topic.name(), 6, 50, "v", 0);
  auto build = [&](StreamExecutionEnvironment& env, int32_t parallelism, bool bounded) {
    env.SetParallelism(parallelism).SetHandleSignals(false);
    env.EnableCheckpointing(milliseconds(50));
    env.GetCheckpointConfig().SetCheckpointStorage(TempDir("kafka-rescale-chk").string());
    auto builder = Builder(topic.name());
    if (bounded) builder.SetBounded(OffsetsInitializer::Latest());
    env.FromSource<std::string>(Built(builder), WatermarkStrategy<std::string>::NoWatermarks(),
                                "Kafka Source")
        .Uid("kafka")
        .Map([](std::string v) { return PartitionOf(v); })
        .KeyBy([](int64_t p) { return p; })
        .Process(CountPerKey())
        .Uid("count")
        .AddSink(LatestPerKeySink(&g_counts))
        .SetParallelism(1);
  };
  auto first = StreamExecutionEnvironment::Create();
  build(*first, 2, false);
  std::unique_ptr<JobClient> client = first->ExecuteAsync("kafka-rescale");
  ASSERT_TRUE(g_counts.WaitFor([](const auto&, int64_t records) { return records >= 300; },
                               Scaled(seconds(60))));
  Result<std::string> savepoint = client->StopWithSavepoint(TempDir("kafka-savepoints").string());
  ASSERT_THAT(savepoint, IsOk());
  ASSERT_EQ(client->WaitForResult().status, JobStatus::kFinished);

  Produce(topic.name(), 6, 50, "v", 50);
  auto second = StreamExecutionEnvironment::Create();
  build(*second, 4, true);
  RestoreSettings restore;
  restore.savepoint_path = *savepoint;
  second->SetRestoreSettings(restore);
  JobExecutionResult result = second->Execute("kafka-rescale");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::map<int64_t, int64_t> expected;
  for (int64_t p = 0; p < 6; ++p) expected[p] = 100;
  EXPECT_EQ(g_counts.Snapshot(), expected);
}

TEST(KafkaSourceIT, CommitsCheckpointedOffsetsToTheGroup) {
  ScopedTopic topic("src-commit", 3);
  Produce(topic.name(), 3, 50);
  const std::string group = UniqueName("src-commit-group");
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(50));
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("kafka-commit").string());
  env->FromSource<std::string>(Built(Builder(topic.name()).SetGroupId(group)),
                               WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Uid("kafka")
      .AddSink(SeenSink(&g_seen));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-commit");
  ASSERT_TRUE(g_seen.WaitForAtLeast(150, seconds(60)));
  std::map<int32_t, int64_t> committed;
  const std::map<int32_t, int64_t> expected{{0, 50}, {1, 50}, {2, 50}};
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(60));
  while (committed != expected && std::chrono::steady_clock::now() < deadline) {
    committed = CommittedOffsets(group, topic.name(), 3);
  }
  client->Cancel();
  JobExecutionResult result = client->WaitForResult();
  EXPECT_EQ(committed, expected);
  int64_t succeeded = 0;
  for (const auto& [name, value] : result.counters) {
    if (name.find("KafkaSourceReader.commitsSucceeded") != std::string::npos) succeeded += value;
  }
  EXPECT_GE(succeeded, 1);
}

// ---- failures ----

TEST(KafkaSourceIT, UnreachableBrokerFailsTheJobInBoundedTimeNamingBootstrapServers) {
  auto source = KafkaSource<std::string>::Builder()
                    .SetBootstrapServers("127.0.0.1:1")
                    .SetTopics("anything")
                    .SetProperty("sluice.broker.timeout.ms", "3000")
                    .SetValueOnlyDeserializer(SimpleStringSchema())
                    .Build();
  ASSERT_THAT(source, IsOk());
  auto start = std::chrono::steady_clock::now();
  JobExecutionResult result = RunBounded(*source, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, Scaled(seconds(30)));
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure.message(), HasSubstr("bootstrap.servers=127.0.0.1:1"))
      << result.failure.ToString();
}

TEST(KafkaSourceIT, MissingTopicFailsTheJobNamingTheTopic) {
  const std::string missing = UniqueName("src-missing");
  auto start = std::chrono::steady_clock::now();
  JobExecutionResult result = RunBounded(Built(Builder(missing)), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, Scaled(seconds(30)));
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure.message(), HasSubstr("topic '" + missing + "' does not exist"))
      << result.failure.ToString();
}

TEST(KafkaSourceIT, PatternMatchingNothingIsNotAnError) {
  JobExecutionResult result = RunBounded(Built(KafkaSource<std::string>::Builder()
                                                   .SetBootstrapServers(BootstrapServers())
                                                   .SetTopicPattern(UniqueName("nothing") + ".*")
                                                   .SetBounded(OffsetsInitializer::Latest())
                                                   .SetValueOnlyDeserializer(SimpleStringSchema())),
                                         1);
  EXPECT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
}

struct FailingSchema final : kafka::DeserializationSchema<std::string> {
  void Deserialize(std::string_view message, Collector<std::string>& out) override {
    if (message.ends_with("-7")) throw std::runtime_error("bad record");
    out.Collect(std::string(message));
  }
};

TEST(KafkaSourceIT, ARecordThatFailsToDeserializeFailsTheJobNamingTopicPartitionAndOffset) {
  ScopedTopic topic("src-bad", 1);
  Produce(topic.name(), 1, 10);
  auto source = Built(KafkaSource<std::string>::Builder()
                          .SetBootstrapServers(BootstrapServers())
                          .SetTopics(topic.name())
                          .SetBounded(OffsetsInitializer::Latest())
                          .SetValueOnlyDeserializer(FailingSchema()));
  JobExecutionResult result = RunBounded(source, 1);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure.message(),
              HasSubstr("topic '" + topic.name() + "' partition 0 offset 7: bad record"))
      << result.failure.ToString();
}

kafka::KafkaSourceBuilder<std::string> SaslBuilder(const std::string& topic,
                                                   const std::string& password) {
  return KafkaSource<std::string>::Builder()
      .SetBootstrapServers(SaslBootstrapServers())
      .SetTopics(topic)
      .SetProperties({{"security.protocol", "SASL_PLAINTEXT"},
                      {"sasl.mechanism", "PLAIN"},
                      {"sasl.username", "alice"},
                      {"sasl.password", password}})
      .SetBounded(OffsetsInitializer::Latest())
      .SetValueOnlyDeserializer(SimpleStringSchema());
}

TEST(KafkaSourceIT, SaslPlainWithTheRightPasswordReads) {
  ScopedTopic topic("src-sasl", 1);
  Produce(topic.name(), 1, 5);
  JobExecutionResult result = RunBounded(Built(SaslBuilder(topic.name(), "alice-secret")), 1);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(ByPartition(g_seen.Snapshot())[0], Range(0, 5));
}

// With checkpointing on, the default restart strategy restarts without end: only the failure's
// code (kUnauthenticated) can stop the job, and it must do so at the first failure.
TEST(KafkaSourceIT, SaslPlainWithAWrongPasswordStopsTheJobAsUnauthenticatedWithoutARestart) {
  ScopedTopic topic("src-sasl-bad", 1);
  const std::filesystem::path checkpoints = TempDir("src-sasl-bad-chk");
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(100));
  env->GetCheckpointConfig().SetCheckpointStorage(checkpoints.string());
  env->FromSource<std::string>(Built(SaslBuilder(topic.name(), "wrong")),
                               WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .AddSink(SeenSink(&g_seen));

  auto start = std::chrono::steady_clock::now();
  JobExecutionResult result = ExecuteWithin(*env, "kafka-sasl-bad", Scaled(seconds(60)));
  auto took = std::chrono::steady_clock::now() - start;

  ASSERT_EQ(result.status, JobStatus::kFailed) << result.failure.ToString();
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_EQ(result.restarts, 0) << result.failure.ToString();
  EXPECT_LT(took, Scaled(seconds(30))) << "the refused login ends the wait, not a timeout";
  const std::string& message = result.failure.message();
  EXPECT_NE(message.find("Invalid username or password"), std::string::npos)
      << "the broker's reason: " << message;
  EXPECT_NE(message.find("sasl.username and sasl.password"), std::string::npos)
      << "the fix: " << message;
  EXPECT_NE(message.find(SaslBootstrapServers()), std::string::npos) << message;
  std::error_code ignored;
  std::filesystem::remove_all(checkpoints, ignored);
}

}  // namespace
}  // namespace sluice::testing
