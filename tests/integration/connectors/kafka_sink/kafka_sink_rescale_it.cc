// An EXACTLY_ONCE job (KafkaSource with a group -> rebalance -> KafkaSink) restarted at another
// parallelism: from a savepoint (2 -> 4, 4 -> 2), from its last committed checkpoint after it
// was cancelled mid-epoch (4 -> 2, 2 -> 4), and scaled in before its first checkpoint while a
// dead instance's transaction is still open. The read_committed output must hold every input
// record exactly once, and the group's offsets (committed in the checkpoints' transactions)
// must end at the input's ends. Sink parallelism is in no transactional id (DESIGN.md section
// 5), so none of this needs probing for old ids.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/kafka/kafka_it_support.h"
#include "kafka_sink_it_support.h"
#include "kafka_test_env.h"

using ::sluice::testing::IsOk;

namespace sluice::testing {
namespace {

using kafka::DeliveryGuarantee;
using kafka::OffsetResetStrategy;
using kafka::OffsetsInitializer;
using sink_it::CountStrings;
using sink_it::SinkJob;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kInputPartitions = 4;

// One job definition, started as often as a test needs (same name, checkpoint directory,
// group and transactional id prefix every time).
struct RescaleJob {
  ScopedTopic in{"sink-rescale-in", kInputPartitions};
  ScopedTopic out{"sink-rescale-out", 3};
  SinkJob job;
  std::string group = UniqueName("sink-rescale-group");
  int batches = 0;

  // Produces one more batch of `per_partition` records to every input partition.
  void ProduceBatch(int per_partition) {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    for (int32_t p = 0; p < kInputPartitions; ++p) {
      ProduceAndWait(producer.get(), in.name(), p,
                     Values("b" + std::to_string(batches), p, 0, per_partition));
    }
    ++batches;
  }

  std::unique_ptr<JobClient> Start(int32_t parallelism,
                                   const std::optional<std::string>& savepoint = std::nullopt,
                                   milliseconds checkpoint_interval = milliseconds(100)) const {
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(parallelism).SetHandleSignals(false);
    env->EnableCheckpointing(checkpoint_interval);
    env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints.string());
    env->GetCheckpointConfig().SetCheckpointTimeout(seconds(60));
    env->SetRestartStrategy(RestartStrategy::NoRestart());
    if (savepoint) {
      RestoreSettings restore;
      restore.savepoint_path = *savepoint;
      env->SetRestoreSettings(restore);
    }
    env->FromSource<std::string>(
           Built(Builder(in.name()).SetGroupId(group).SetStartingOffsets(
               OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest))),
           WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
        .Uid("kafka-source")
        .Rebalance()
        .Map([](std::string v) { return v; })
        .Uid("pass")
        .SinkTo(sink_it::StringSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix))
        .Uid("kafka-sink");
    return env->ExecuteAsync(job.name);
  }

  // Every value produced so far.
  std::vector<std::string> Expected(int per_partition) const {
    std::vector<std::string> values;
    for (int b = 0; b < batches; ++b) {
      for (int32_t p = 0; p < kInputPartitions; ++p) {
        for (const auto& [key, value] : Values("b" + std::to_string(b), p, 0, per_partition))
          values.push_back(value);
      }
    }
    return values;
  }

  // Polls the read_committed output until it holds `count` distinct values.
  bool WaitForCommittedOutput(size_t count, milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
    while (std::chrono::steady_clock::now() < deadline) {
      if (CountStrings(out.name(), 3).size() >= count) return true;
    }
    return false;
  }

  std::map<int32_t, int64_t> GroupOffsets() const {
    return CommittedOffsets(group, in.name(), kInputPartitions);
  }
};

void ExpectEveryValueOnce(const std::map<std::string, int>& counts,
                          const std::vector<std::string>& expected) {
  EXPECT_EQ(counts.size(), expected.size()) << "distinct values in the committed output";
  int missing = 0, duplicated = 0;
  for (const std::string& value : expected) {
    auto it = counts.find(value);
    if (it == counts.end()) {
      ++missing;
    } else if (it->second > 1) {
      ++duplicated;
    }
  }
  EXPECT_EQ(missing, 0) << "lost values";
  EXPECT_EQ(duplicated, 0) << "duplicated values";
}

// The first run commits a few checkpoints, more input arrives while it runs, and it ends by
// `how`; the second run at `to` reads the rest and more produced in between.
enum class FirstRunEnds { kStopWithSavepoint, kCancelAfterCommits };

void RestartsAtAnotherParallelismWritingEveryRecordOnce(int32_t from, int32_t to,
                                                        FirstRunEnds how) {
  constexpr int kPerPartition = 200;
  RescaleJob setup;
  setup.ProduceBatch(kPerPartition);

  std::unique_ptr<JobClient> first = setup.Start(from);
  CancelAtExit cancel_first{first.get()};
  MetricMap metrics;
  ASSERT_TRUE(WaitForMetrics(
      *first,
      [](const MetricMap& m) {
        return MetricValue(m, "kafka-sink.0.KafkaSink.transactionsCommitted").value_or(0) >= 2 &&
               MetricSum(m, "KafkaSink.numRecordsSend") >= kInputPartitions * kPerPartition;
      },
      seconds(60), &metrics))
      << Describe(metrics);
  // More input while it runs: the first run ends somewhere in the middle of it.
  setup.ProduceBatch(kPerPartition);
  std::optional<std::string> savepoint;
  if (how == FirstRunEnds::kStopWithSavepoint) {
    Result<std::string> path =
        first->StopWithSavepoint((setup.job.checkpoints / "savepoints").string());
    ASSERT_THAT(path, IsOk());
    savepoint = *path;
    JobExecutionResult result = first->WaitForResult();
    ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  } else {
    // Whatever the open epochs hold is aborted; the next run resumes from the last commit.
    first->Cancel();
    JobExecutionResult result = first->WaitForResult();
    ASSERT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
    ASSERT_GE(result.completed_checkpoints, 2);
  }
  setup.ProduceBatch(kPerPartition);

  std::unique_ptr<JobClient> second = setup.Start(to, savepoint);
  CancelAtExit cancel_second{second.get()};
  const std::vector<std::string> expected = setup.Expected(kPerPartition);
  EXPECT_TRUE(setup.WaitForCommittedOutput(expected.size(), seconds(90)));
  second->Cancel();
  JobExecutionResult result = second->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  EXPECT_TRUE(result.restored_checkpoint.has_value()) << "the second run restored nothing";

  ExpectEveryValueOnce(CountStrings(setup.out.name(), 3), expected);
  // Everything committed means the last transaction carried the group's offsets at the ends.
  std::map<int32_t, int64_t> ends;
  for (int32_t p = 0; p < kInputPartitions; ++p)
    ends[p] = static_cast<int64_t>(setup.batches) * kPerPartition;
  EXPECT_EQ(setup.GroupOffsets(), ends);
}

TEST(KafkaSinkRescaleIT, SavepointAt2RestoredAt4WritesEveryRecordOnce) {
  RestartsAtAnotherParallelismWritingEveryRecordOnce(2, 4, FirstRunEnds::kStopWithSavepoint);
}

TEST(KafkaSinkRescaleIT, SavepointAt4RestoredAt2WritesEveryRecordOnce) {
  RestartsAtAnotherParallelismWritingEveryRecordOnce(4, 2, FirstRunEnds::kStopWithSavepoint);
}

TEST(KafkaSinkRescaleIT, CancelledAt4ResumedFromItsLastCommitAt2WritesEveryRecordOnce) {
  RestartsAtAnotherParallelismWritingEveryRecordOnce(4, 2, FirstRunEnds::kCancelAfterCommits);
}

TEST(KafkaSinkRescaleIT, CancelledAt2ResumedFromItsLastCommitAt4WritesEveryRecordOnce) {
  RestartsAtAnotherParallelismWritingEveryRecordOnce(2, 4, FirstRunEnds::kCancelAfterCommits);
}

// Flink's "scale in before the first checkpoint": a run at parallelism 4 writes into its open
// transactions and ends before any checkpoint; a dead instance of it still holds a transaction
// open on the job's id (as a crashed process would). The run at parallelism 2 starts from
// scratch, fences and aborts that transaction, and commits every record once.
TEST(KafkaSinkRescaleIT, ScaledInBeforeTheFirstCheckpointWritesEveryRecordOnce) {
  constexpr int kPerPartition = 100;
  RescaleJob setup;
  setup.ProduceBatch(kPerPartition);
  const size_t total = static_cast<size_t>(kInputPartitions) * kPerPartition;

  std::unique_ptr<JobClient> first = setup.Start(4, std::nullopt, seconds(60));
  CancelAtExit cancel_first{first.get()};
  // Written into the broker, uncommitted.
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(60));
  size_t uncommitted = 0;
  while (uncommitted < total && std::chrono::steady_clock::now() < deadline) {
    uncommitted = CountStrings(setup.out.name(), 3, "read_uncommitted").size();
  }
  ASSERT_EQ(uncommitted, total);
  EXPECT_TRUE(CountStrings(setup.out.name(), 3).empty()) << "committed before any checkpoint";
  first->Cancel();
  JobExecutionResult first_result = first->WaitForResult();
  ASSERT_EQ(first_result.status, JobStatus::kCanceled) << first_result.failure.ToString();
  ASSERT_EQ(first_result.completed_checkpoints, 0);

  // The dead instance: a transaction left open on the job's first transactional id.
  KafkaPtr zombie = NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", setup.job.prefix + "-0-a"},
                                                  {"transaction.timeout.ms", "600000"}});
  ThrowIfError(rd_kafka_init_transactions(zombie.get(), 30'000), "init_transactions");
  ThrowIfError(rd_kafka_begin_transaction(zombie.get()), "begin_transaction");
  ProduceAndWait(zombie.get(), setup.out.name(), 0, {{"", "zombie-0"}, {"", "zombie-1"}});

  std::unique_ptr<JobClient> second = setup.Start(2);
  CancelAtExit cancel_second{second.get()};
  // A transaction left open would hold read_committed readers at its first record.
  EXPECT_TRUE(setup.WaitForCommittedOutput(total, seconds(90)));
  second->Cancel();
  JobExecutionResult result = second->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  EXPECT_FALSE(result.restored_checkpoint.has_value()) << "nothing was committed to restore";

  std::map<std::string, int> committed = CountStrings(setup.out.name(), 3);
  EXPECT_EQ(committed.count("zombie-0"), 0u) << "the dead instance's transaction was committed";
  ExpectEveryValueOnce(committed, setup.Expected(kPerPartition));
  // The first run's records are in the log, aborted: each value is there twice uncommitted.
  std::map<std::string, int> everything = CountStrings(setup.out.name(), 3, "read_uncommitted");
  for (const std::string& value : setup.Expected(kPerPartition))
    EXPECT_EQ(everything[value], 2) << value;
}

}  // namespace
}  // namespace sluice::testing
