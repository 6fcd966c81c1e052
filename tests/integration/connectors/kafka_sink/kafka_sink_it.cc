// KafkaSink against the real broker of scripts/kafka: each delivery guarantee read back with
// read_committed, recovery after failures injected at every phase of the exactly-once commit,
// Kafka's key hash, delivery failures, and every clear error. Every test uses its own topics
// and its own transactional id prefix.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/kafka/transaction_test_hooks.h"
#include "integration/runtime/test_jobs.h"
#include "kafka_sink_it_support.h"
#include "kafka_test_env.h"

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::testing {
namespace {

using kafka::DeliveryGuarantee;
using kafka::KafkaRecordSerializationSchema;
using kafka::KafkaSink;
using kafka::SimpleStringSchema;
using kafka::internal::TransactionPhase;
using sink_it::BurstSource;
using std::chrono::milliseconds;
using std::chrono::seconds;

class FixedPartitionerAt5 final : public kafka::KafkaPartitioner<std::string> {
 public:
  int32_t Partition(const std::string&, std::optional<std::string_view>,
                    std::optional<std::string_view>, const std::string&,
                    const std::vector<int32_t>&) override {
    return 5;
  }
};

// Drops odd numbers by returning false.
class DropOddSerializer final : public kafka::KafkaRecordSerializationSchema<std::string> {
 public:
  explicit DropOddSerializer(std::string topic) : topic_(std::move(topic)) {}
  bool Serialize(const std::string& element, kafka::KafkaSinkContext&, int64_t,
                 kafka::ProducerRecord& record) override {
    if (std::stoi(element) % 2 == 1) return false;
    record.topic = topic_;
    record.value = element;
    record.has_value = true;
    return true;
  }

 private:
  std::string topic_;
};

struct Job {
  std::string prefix = UniqueName("sink-txn");
  std::string name = UniqueName("sink-job");
  std::string checkpoints =
      (std::filesystem::temp_directory_path() / UniqueName("sink-chk")).string();
  ~Job() {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoints, ignored);
  }
};

// Deletes the control topic a test's exactly-once sink created.
struct ControlTopic {
  std::string name;
  ~ControlTopic() {
    try {
      DeleteTopic(name);
    } catch (...) {
    }
  }
};

std::shared_ptr<const KafkaSink<std::string>> MakeSink(
    const std::string& topic, DeliveryGuarantee guarantee, const std::string& prefix,
    std::map<std::string, std::string> properties = {}) {
  auto builder = KafkaSink<std::string>::Builder();
  builder.SetBootstrapServers(BootstrapServers())
      .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                               .SetTopic(topic)
                               .SetValueSerializationSchema(SimpleStringSchema())
                               .Build())
      .SetDeliveryGuarantee(guarantee)
      .SetProperties(properties);
  if (guarantee == DeliveryGuarantee::kExactlyOnce) builder.SetTransactionalIdPrefix(prefix);
  auto sink = builder.Build();
  if (!sink.ok()) throw std::runtime_error(sink.status().ToString());
  return *sink;
}

std::unique_ptr<StreamExecutionEnvironment> NewEnv(const Job& job, int parallelism = 2) {
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(parallelism).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(30));
  env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints);
  env->GetCheckpointConfig().SetCheckpointTimeout(seconds(60));
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(10)));
  return env;
}

// Value -> how many times it was read.
std::map<int64_t, int> CountValues(const std::string& topic, int partitions) {
  std::map<int64_t, int> counts;
  for (const Record& r : ReadToEnd(topic, partitions, {{"isolation.level", "read_committed"}})) {
    if (r.value) ++counts[std::stoll(*r.value)];
  }
  return counts;
}

void ExpectExactlyOnce(const std::map<int64_t, int>& counts, int64_t total) {
  EXPECT_EQ(static_cast<int64_t>(counts.size()), total) << "distinct values read back";
  int64_t missing = 0, duplicated = 0;
  for (int64_t v = 0; v < total; ++v) {
    auto it = counts.find(v);
    if (it == counts.end()) {
      ++missing;
    } else if (it->second > 1) {
      ++duplicated;
    }
  }
  EXPECT_EQ(missing, 0) << "lost values";
  EXPECT_EQ(duplicated, 0) << "duplicated values";
}

JobExecutionResult RunBursts(const Job& job,
                             const std::shared_ptr<const KafkaSink<std::string>>& sink,
                             int64_t bursts, int64_t per_burst, int64_t fail_at = -1,
                             int64_t empty_every = 0) {
  auto env = NewEnv(job);
  env->AddSource(BurstSource(bursts, per_burst, empty_every))
      .Uid("bursts")
      .SetParallelism(1)
      .Rebalance()
      .Map(FailOnce(fail_at))
      .Uid("fail-once")
      .Map([](int64_t v) { return std::to_string(v); })
      .SinkTo(sink)
      .Uid("kafka-sink");
  return env->Execute(job.name);
}

TEST(KafkaSinkIT, WritesWithEachGuaranteeAndReadsBackWithReadCommitted) {
  for (DeliveryGuarantee guarantee : {DeliveryGuarantee::kNone, DeliveryGuarantee::kAtLeastOnce,
                                      DeliveryGuarantee::kExactlyOnce}) {
    SCOPED_TRACE(std::string(kafka::DeliveryGuaranteeName(guarantee)));
    Job job;
    ScopedTopic out("sink-out", 3);
    ControlTopic control{job.prefix + ".sluice-control"};
    JobExecutionResult result = RunBursts(job, MakeSink(out.name(), guarantee, job.prefix), 5, 100);
    ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
    ExpectExactlyOnce(CountValues(out.name(), 3), 500);
  }
}

TEST(KafkaSinkIT, AtLeastOnceRecoveryLosesNothing) {
  Job job;
  ScopedTopic out("sink-alo", 2);
  JobExecutionResult result =
      RunBursts(job, MakeSink(out.name(), DeliveryGuarantee::kAtLeastOnce, job.prefix), 10, 100,
                /*fail_at=*/333);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  std::map<int64_t, int> counts = CountValues(out.name(), 2);
  for (int64_t v = 0; v < 1000; ++v) EXPECT_GE(counts[v], 1) << "value " << v << " lost";
}

TEST(KafkaSinkIT, ExactlyOnceFailureAfter333Of1000NeitherLosesNorDuplicates) {
  Job job;
  ScopedTopic out("sink-eo", 3);
  ControlTopic control{job.prefix + ".sluice-control"};
  JobExecutionResult result =
      RunBursts(job, MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix), 10, 100,
                /*fail_at=*/333);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  ASSERT_TRUE(result.restored_checkpoint.has_value());
  ExpectExactlyOnce(CountValues(out.name(), 3), 1000);
}

// Fails the first commit of a checkpoint >= 3 at `phase`, once.
class FailPhaseOnce {
 public:
  explicit FailPhaseOnce(TransactionPhase phase) {
    kafka::internal::SetTransactionHookForTesting([this, phase](TransactionPhase p,
                                                                int64_t checkpoint) {
      if (p != phase || checkpoint < 3 || fired_.exchange(true)) return Status::Ok();
      failed_checkpoint_ = checkpoint;
      return Status::Unavailable("injected failure at checkpoint " + std::to_string(checkpoint));
    });
  }
  ~FailPhaseOnce() { kafka::internal::SetTransactionHookForTesting(nullptr); }
  bool fired() const { return fired_; }
  int64_t failed_checkpoint() const { return failed_checkpoint_; }

 private:
  std::atomic<bool> fired_{false};
  std::atomic<int64_t> failed_checkpoint_{-1};
};

class ExactlyOncePhaseIT : public ::testing::TestWithParam<TransactionPhase> {};

TEST_P(ExactlyOncePhaseIT, RecoveryNeitherLosesNorDuplicates) {
  Job job;
  ScopedTopic out("sink-phase", 3);
  ControlTopic control{job.prefix + ".sluice-control"};
  FailPhaseOnce injection(GetParam());
  JobExecutionResult result =
      RunBursts(job, MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix), 8, 50);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_TRUE(injection.fired());
  EXPECT_EQ(result.restarts, 1);
  ASSERT_TRUE(result.restored_checkpoint.has_value());
  if (GetParam() == TransactionPhase::kAfterCommit) {
    EXPECT_EQ(*result.restored_checkpoint, injection.failed_checkpoint())
        << "a committed checkpoint is restored although its completion was never reported";
  } else {
    EXPECT_LT(*result.restored_checkpoint, injection.failed_checkpoint())
        << "an uncommitted checkpoint is discarded";
  }
  ExpectExactlyOnce(CountValues(out.name(), 3), 400);
}

INSTANTIATE_TEST_SUITE_P(EveryCommitPhase, ExactlyOncePhaseIT,
                         ::testing::Values(TransactionPhase::kBeforeMarker,
                                           TransactionPhase::kBeforeCommit,
                                           TransactionPhase::kAfterCommit),
                         [](const auto& param_info) {
                           switch (param_info.param) {
                             case TransactionPhase::kBeforeMarker:
                               return std::string("AfterStateBeforeCommit");
                             case TransactionPhase::kBeforeCommit:
                               return std::string("DuringCommit");
                             case TransactionPhase::kAfterCommit:
                               return std::string("AfterCommitBeforeNotify");
                           }
                           return std::string("?");
                         });

TEST(KafkaSinkIT, ExactlyOnceFailureBeforeABarrierNeitherLosesNorDuplicates) {
  // Value 250 is the middle of burst 5 (of 50 each): the failure hits an epoch whose barrier
  // has not come yet.
  Job job;
  ScopedTopic out("sink-prebarrier", 2);
  ControlTopic control{job.prefix + ".sluice-control"};
  JobExecutionResult result =
      RunBursts(job, MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix), 8, 50,
                /*fail_at=*/275);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  ExpectExactlyOnce(CountValues(out.name(), 2), 400);
}

TEST(KafkaSinkIT, EmptyEpochsCommitCleanly) {
  Job job;
  ScopedTopic out("sink-empty", 1);
  ControlTopic control{job.prefix + ".sluice-control"};
  // Every second burst is empty: half the epochs carry only their commit marker.
  JobExecutionResult result =
      RunBursts(job, MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix), 8, 10, -1,
                /*empty_every=*/2);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 0);
  std::map<int64_t, int> counts = CountValues(out.name(), 1);
  EXPECT_EQ(counts.size(), 40u);
  for (const auto& [value, n] : counts) {
    EXPECT_EQ((value / 10) % 2, 0) << "value " << value << " comes from a non-empty burst";
    EXPECT_EQ(n, 1);
  }
  // Every checkpoint committed a transaction with its marker, the empty ones too.
  EXPECT_GE(static_cast<int64_t>(
                ReadToEnd(control.name, 1, {{"isolation.level", "read_committed"}}).size()),
            1);
}

// The runtime's final checkpoint (docs/runtime.md, "Checkpoints after tasks finish"): a bounded
// job whose checkpoint interval is far longer than the job takes no periodic checkpoint, so
// only the checkpoint taken after every task finished can commit its exactly-once output.
TEST(KafkaSinkIT, TheFinalCheckpointCommitsTheOutputOfABoundedExactlyOnceJob) {
  Job job;
  ScopedTopic out("sink-final", 3);
  ControlTopic control{job.prefix + ".sluice-control"};
  auto env = NewEnv(job);
  env->EnableCheckpointing(seconds(60));
  std::vector<int64_t> values(1000);
  for (int64_t i = 0; i < 1000; ++i) values[static_cast<size_t>(i)] = i;
  env->FromCollection(values)
      .Rebalance()
      .Map([](int64_t v) { return std::to_string(v); })
      .SinkTo(MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix))
      .Uid("kafka-sink");
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.completed_checkpoints, 1) << "exactly one checkpoint: the final one";
  ExpectExactlyOnce(CountValues(out.name(), 3), 1000);
}

TEST(KafkaSinkIT, TwoExactlyOnceSinksInOneJobShareOneTransactionPair) {
  Job job;
  ScopedTopic a("sink-two-a", 2), b("sink-two-b", 2);
  ControlTopic control{job.prefix + ".sluice-control"};
  auto sink_a = MakeSink(a.name(), DeliveryGuarantee::kExactlyOnce, job.prefix);
  auto sink_b = MakeSink(b.name(), DeliveryGuarantee::kExactlyOnce, job.prefix);
  ASSERT_EQ(sink_a->GetCheckpointParticipant(), sink_b->GetCheckpointParticipant());
  auto env = NewEnv(job);
  auto strings = env->AddSource(BurstSource(6, 50))
                     .Uid("bursts")
                     .SetParallelism(1)
                     .Rebalance()
                     .Map(FailOnce(170))
                     .Uid("fail-once")
                     .Map([](int64_t v) { return std::to_string(v); })
                     .Uid("to-string");
  strings.SinkTo(sink_a).Uid("sink-a");
  strings.SinkTo(sink_b).Uid("sink-b");
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(result.restarts, 1);
  ExpectExactlyOnce(CountValues(a.name(), 2), 300);
  ExpectExactlyOnce(CountValues(b.name(), 2), 300);
}

TEST(KafkaSinkIT, KeysLandWhereTheJavaProducerPutsThem) {
  // Partitions of 8 from Kafka's own Utils.murmur2 (see tests/unit/.../partitioner_test.cc).
  const std::map<std::string, int32_t> java = {{"key-0", 1},  {"key-1", 0},       {"key-2", 6},
                                               {"key-17", 4}, {"word", 3},        {"flink", 0},
                                               {"stream", 1}, {"exactly-once", 7}};
  for (bool explicit_partitioner : {false, true}) {
    SCOPED_TRACE(explicit_partitioner ? "KeyHashPartitioner"
                                      : "default (librdkafka murmur2_random)");
    Job job;
    ScopedTopic out("sink-keys", 8);
    auto serializer = KafkaRecordSerializationSchema<std::string>::Builder();
    serializer.SetTopic(out.name())
        .SetKeySerializationSchema(SimpleStringSchema())
        .SetValueSerializationSchema(SimpleStringSchema());
    if (explicit_partitioner) serializer.SetPartitioner(kafka::KeyHashPartitioner<std::string>());
    auto sink = KafkaSink<std::string>::Builder()
                    .SetBootstrapServers(BootstrapServers())
                    .SetRecordSerializer(serializer.Build())
                    .Build();
    ASSERT_THAT(sink, IsOk());
    std::vector<std::string> keys;
    for (const auto& [key, partition] : java) keys.push_back(key);
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(2).SetHandleSignals(false);
    env->FromCollection(keys).SinkTo(*sink);
    JobExecutionResult result = env->Execute(job.name);
    ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
    std::vector<Record> records = ReadToEnd(out.name(), 8);
    ASSERT_EQ(records.size(), java.size());
    for (const Record& r : records) EXPECT_EQ(r.partition, java.at(*r.key)) << "key " << *r.key;
  }
}

TEST(KafkaSinkIT, AFailedDeliveryFailsTheJobWithTopicPartitionAndReason) {
  Job job;
  ScopedTopic out("sink-baddelivery", 1);
  auto sink = KafkaSink<std::string>::Builder()
                  .SetBootstrapServers(BootstrapServers())
                  .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                                           .SetTopic(out.name())
                                           .SetValueSerializationSchema(SimpleStringSchema())
                                           .SetPartitioner(FixedPartitionerAt5())
                                           .Build())
                  .SetProperty("message.timeout.ms", "3000")
                  .Build();
  ASSERT_THAT(sink, IsOk());
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->FromElements(std::string("a"), std::string("b")).SinkTo(*sink);
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  const std::string& message = result.failure.message();
  EXPECT_NE(message.find(out.name()), std::string::npos) << message;
  EXPECT_NE(message.find("partition 5"), std::string::npos) << message;
}

TEST(KafkaSinkIT, ADeliveryRefusedByTheBrokerFailsTheJobWithTopicPartitionAndReason) {
  // librdkafka accepts the 2 MB record (its message.max.bytes is raised) and the broker
  // (message.max.bytes about 1 MB by default) refuses it: the failure arrives as a delivery
  // report and surfaces at the next flush on the task thread.
  Job job;
  ScopedTopic out("sink-toolarge", 1);
  auto sink = MakeSink(out.name(), DeliveryGuarantee::kAtLeastOnce, job.prefix,
                       {{"message.max.bytes", "4000000"}});
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->FromElements(std::string(2'000'000, 'x')).SinkTo(sink);
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  const std::string& message = result.failure.message();
  EXPECT_NE(message.find("delivery of a record to topic " + out.name() + " partition 0 failed"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("MSG_SIZE_TOO_LARGE"), std::string::npos) << message;
}

TEST(KafkaSinkIT, ARecordSerializerReturningNothingDropsAndCountsTheRecord) {
  Job job;
  ScopedTopic out("sink-drop", 1);
  auto sink = KafkaSink<std::string>::Builder()
                  .SetBootstrapServers(BootstrapServers())
                  .SetRecordSerializer(DropOddSerializer(out.name()))
                  .Build();
  ASSERT_THAT(sink, IsOk());
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->FromCollection(std::vector<std::string>{"0", "1", "2", "3", "4"}).SinkTo(*sink).Uid("sink");
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(ReadToEnd(out.name(), 1).size(), 3u);
  int64_t dropped = 0;
  for (const auto& [name, value] : result.counters) {
    if (name.find("numRecordsDropped") != std::string::npos) dropped += value;
  }
  EXPECT_EQ(dropped, 2);
}

TEST(KafkaSinkIT, ExactlyOnceWithoutCheckpointingIsRefusedAtStart) {
  Job job;
  auto env = StreamExecutionEnvironment::Create();
  env->SetHandleSignals(false);
  env->FromElements(std::string("a"))
      .SinkTo(MakeSink("unused", DeliveryGuarantee::kExactlyOnce, job.prefix));
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.failure.message(), HasSubstr("EnableCheckpointing"));
}

TEST(KafkaSinkIT, ABrokerRefusingTheTransactionTimeoutNamesBothSettings) {
  Job job;
  ControlTopic control{job.prefix + ".sluice-control"};
  auto env = NewEnv(job);
  env->FromElements(std::string("a"))
      .SinkTo(MakeSink("unused", DeliveryGuarantee::kExactlyOnce, job.prefix,
                       {{"transaction.timeout.ms", "3600000"}}));
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(result.restarts, 0) << "a configuration error does not restart";
  EXPECT_THAT(result.failure.message(), HasSubstr("transaction.timeout.ms"));
  EXPECT_THAT(result.failure.message(), HasSubstr("transaction.max.timeout.ms"));
}

TEST(KafkaSinkIT, ExactlyOnceSinksToTwoClustersAreRefused) {
  Job job;
  auto env = NewEnv(job);
  auto strings = env->FromElements(std::string("a"));
  strings.SinkTo(MakeSink("t1", DeliveryGuarantee::kExactlyOnce, job.prefix));
  // Never contacted: the job is refused before any connection.
  auto other = KafkaSink<std::string>::Builder()
                   .SetBootstrapServers("127.0.0.1:1")
                   .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                                            .SetTopic("t2")
                                            .SetValueSerializationSchema(SimpleStringSchema())
                                            .Build())
                   .SetDeliveryGuarantee(DeliveryGuarantee::kExactlyOnce)
                   .SetTransactionalIdPrefix(job.prefix)
                   .Build();
  ASSERT_THAT(other, IsOk());
  strings.SinkTo(*other);
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.failure.message(), HasSubstr("127.0.0.1:1"));
  EXPECT_THAT(result.failure.message(), HasSubstr(BootstrapServers()));
}

// With checkpointing on, the default restart strategy restarts without end: only the failure's
// code (kFenced) can stop the job, and it must do so at the first failure (a restart would fence
// the other instance in turn).
TEST(KafkaSinkIT, AnotherLiveInstanceWithTheSamePrefixStopsTheJobAsFencedWithoutARestart) {
  Job job;
  ScopedTopic out("sink-fenced", 1);
  ControlTopic control{job.prefix + ".sluice-control"};
  // Signals once two checkpoints have committed; then another "instance" takes the ids.
  std::promise<void> committed_twice;
  std::atomic<int> commits{0};
  kafka::internal::SetTransactionHookForTesting([&](TransactionPhase phase, int64_t) {
    if (phase == TransactionPhase::kAfterCommit && ++commits == 2) committed_twice.set_value();
    return Status::Ok();
  });
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(30));
  env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints);
  env->GetCheckpointConfig().SetCheckpointTimeout(seconds(60));
  env->AddSource(BurstSource(1'000'000, 10))
      .Uid("bursts")
      .SetParallelism(1)
      .Rebalance()
      .Map([](int64_t v) { return std::to_string(v); })
      .SinkTo(MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix))
      .Uid("kafka-sink");
  auto done = std::async(std::launch::async,
                         [&] { return ExecuteWithin(*env, job.name, Scaled(seconds(120))); });
  ASSERT_EQ(committed_twice.get_future().wait_for(Scaled(seconds(60))), std::future_status::ready);
  std::vector<KafkaPtr> usurpers;
  for (const char* suffix : {"-0-a", "-0-b"}) {
    usurpers.push_back(NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", job.prefix + suffix}}));
    ThrowIfError(rd_kafka_init_transactions(usurpers.back().get(), 30'000), "init_transactions");
  }
  JobExecutionResult result = done.get();
  kafka::internal::SetTransactionHookForTesting(nullptr);
  ASSERT_EQ(result.status, JobStatus::kFailed) << result.failure.ToString();
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kFenced));
  EXPECT_EQ(result.restarts, 0) << "fencing stops the job at its first failure";
  EXPECT_THAT(result.failure.message(), HasSubstr(job.prefix));
  EXPECT_THAT(result.failure.message(), HasSubstr("SetTransactionalIdPrefix")) << "names the fix: ";
}

Event g_first_records_out;
Event g_fail_now;

// Emits a few records, then waits until the test says so and fails (a restartable failure
// that has nothing to do with the sink), in the first attempt only.
class FailOnRequestSource final : public RichSourceFunction<int64_t> {
 public:
  FailOnRequestSource() = default;
  FailOnRequestSource(const FailOnRequestSource&) : RichSourceFunction<int64_t>() {}
  void Run(SourceContext<int64_t>& ctx) override {
    if (GetRuntimeContext().GetAttemptNumber() == 0) {
      {
        std::lock_guard lock(ctx.GetCheckpointLock());
        for (int64_t i = 0; i < 10; ++i) ctx.Collect(i);
      }
      g_first_records_out.Set();
      if (g_fail_now.WaitFor(Scaled(seconds(120))))
        throw std::runtime_error("injected failure after another instance took over");
    }
    while (running_) {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !running_; });
    }
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    running_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool running_ = true;
};

// The zombie: this instance is paused (here: idle in a long epoch) while another
// instance with the same transactional ids takes over, then fails for an unrelated reason
// before it ever commits again. Its restart must not run init_transactions, which would fence
// the newer instance: it finds its own producers fenced and stops as kFenced, and the newer
// instance keeps committing.
TEST(KafkaSinkIT, AFencedInstanceThatFailsForAnotherReasonStopsInsteadOfFencingTheNewerOne) {
  Job job;
  ScopedTopic out("sink-zombie", 1);
  ControlTopic control{job.prefix + ".sluice-control"};
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  // No checkpoint during the test: the epoch stays open (and transaction.timeout.ms, 15 min,
  // still exceeds interval + timeout).
  env->EnableCheckpointing(std::chrono::minutes(5));
  env->GetCheckpointConfig().SetCheckpointTimeout(std::chrono::minutes(1));
  env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints);
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(1)));
  env->AddSource(FailOnRequestSource())
      .Uid("source")
      .Map([](int64_t v) { return std::to_string(v); })
      .SinkTo(MakeSink(out.name(), DeliveryGuarantee::kExactlyOnce, job.prefix))
      .Uid("kafka-sink");
  auto done = std::async(std::launch::async,
                         [&] { return ExecuteWithin(*env, job.name, Scaled(seconds(120))); });
  ASSERT_TRUE(g_first_records_out.WaitFor(Scaled(seconds(60))));
  // Delivered (visible uncommitted): this instance has no request in flight that the broker
  // could refuse once the ids are taken, so nothing tells it it is fenced, as after a pause.
  const auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(60));
  while (sink_it::CountStrings(out.name(), 1, "read_uncommitted").size() < 10) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the records never arrived";
  }
  // The newer instance: the same transactional ids, from another process and directory.
  std::vector<KafkaPtr> newer;
  for (const char* suffix : {"-0-a", "-0-b"}) {
    newer.push_back(NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", job.prefix + suffix}}));
    ThrowIfError(rd_kafka_init_transactions(newer.back().get(), 30'000), "init_transactions");
  }
  g_fail_now.Set();
  JobExecutionResult result = done.get();
  ASSERT_EQ(result.status, JobStatus::kFailed) << result.failure.ToString();
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kFenced, HasSubstr(job.prefix)));
  EXPECT_EQ(result.restarts, 1) << "the failure was not the fencing; its restart found it";
  // The newer instance was not fenced: it still commits.
  for (KafkaPtr& producer : newer) {
    ThrowIfError(rd_kafka_begin_transaction(producer.get()), "begin_transaction");
    ASSERT_EQ(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(out.name().c_str()),
                                RD_KAFKA_V_VALUE(const_cast<char*>("newer"), 5), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ThrowIfError(rd_kafka_commit_transaction(producer.get(), 30'000), "commit_transaction");
  }
}

// A wrong SASL password fails the job as kUnauthenticated as soon as librdkafka reports the
// refused login (not after sluice.broker.timeout.ms), at the first failure although the
// default restart strategy of a checkpointed job restarts without end: for an EXACTLY_ONCE sink
// in recovery (init_transactions), for an AT_LEAST_ONCE one at its first metadata request.
TEST(KafkaSinkIT, SaslWithAWrongPasswordStopsTheJobAsUnauthenticatedWithoutARestart) {
  for (DeliveryGuarantee guarantee :
       {DeliveryGuarantee::kAtLeastOnce, DeliveryGuarantee::kExactlyOnce}) {
    SCOPED_TRACE(std::string(kafka::DeliveryGuaranteeName(guarantee)));
    Job job;
    ScopedTopic out("sink-sasl-bad", 1);
    ControlTopic control{job.prefix + ".sluice-control"};
    auto builder = KafkaSink<std::string>::Builder();
    builder.SetBootstrapServers(SaslBootstrapServers())
        .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                                 .SetTopic(out.name())
                                 .SetValueSerializationSchema(SimpleStringSchema())
                                 .Build())
        .SetDeliveryGuarantee(guarantee)
        .SetProperties({{"security.protocol", "SASL_PLAINTEXT"},
                        {"sasl.mechanism", "PLAIN"},
                        {"sasl.username", "alice"},
                        {"sasl.password", "not-the-password"}});
    if (guarantee == DeliveryGuarantee::kExactlyOnce) builder.SetTransactionalIdPrefix(job.prefix);
    auto sink = builder.Build();
    ASSERT_THAT(sink, IsOk());
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(1).SetHandleSignals(false);
    env->EnableCheckpointing(milliseconds(100));
    env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints);
    env->FromElements<std::string>("a", "b").SinkTo(*sink).Uid("kafka-sink");

    auto start = std::chrono::steady_clock::now();
    JobExecutionResult result = ExecuteWithin(*env, job.name, Scaled(seconds(60)));
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
  }
}

}  // namespace
}  // namespace sluice::testing
