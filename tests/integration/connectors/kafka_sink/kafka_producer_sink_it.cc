// KafkaProducerSink (Flink's legacy FlinkKafkaProducer shape) against the real broker of
// scripts/kafka: every semantic read back with read_committed, the legacy fallback to NONE
// without checkpointing, SetWriteTimestampToKafka, the fixed partitioner, and
// SetLogFailuresOnly both ways. Every test uses its own topics and job name (which the default
// transactional id prefix comes from).
#include <sluice/connectors/kafka/kafka_producer_sink.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kafka_test_env.h"

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::testing {
namespace {

using kafka::KafkaProducerSink;
using kafka::Semantic;
using kafka::SimpleStringSchema;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Emits `bursts` bursts of `per_burst` numbers as strings; after each burst it waits until a
// checkpoint taken after it has completed, so each epoch holds one burst (the job's final
// checkpoint commits whatever comes after the last one). Without checkpointing it does not
// wait.
class CheckpointedBursts final : public RichSourceFunction<std::string>,
                                 public CheckpointedFunction,
                                 public CheckpointListener {
 public:
  CheckpointedBursts(int64_t bursts, int64_t per_burst) : bursts_(bursts), per_burst_(per_burst) {}
  CheckpointedBursts(const CheckpointedBursts& other)
      : RichSourceFunction<std::string>(), bursts_(other.bursts_), per_burst_(other.per_burst_) {}

  void Open() override {
    state_ = &GetRuntimeContext().GetOperatorListState(ListStateDescriptor<int64_t>("burst"));
    for (int64_t b : state_->Get()) burst_ = b;
    checkpointing_ = GetRuntimeContext().IsCheckpointingEnabled();
  }
  void Run(SourceContext<std::string>& ctx) override {
    while (running_ && burst_ < bursts_) {
      int64_t emitted;
      {
        std::lock_guard lock(ctx.GetCheckpointLock());
        for (int64_t i = 0; i < per_burst_; ++i)
          ctx.Collect(std::to_string(burst_ * per_burst_ + i));
        emitted = ++burst_;
      }
      if (!checkpointing_) continue;
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return covered_ >= emitted || !running_; });
    }
  }
  void Cancel() override {
    running_ = false;
    cv_.notify_all();
  }
  void SnapshotState(CheckpointId id) override {
    state_->Update({burst_});
    std::lock_guard lock(mutex_);
    taken_[id.value()] = burst_;
  }
  void NotifyCheckpointComplete(CheckpointId id) override {
    std::lock_guard lock(mutex_);
    if (auto it = taken_.find(id.value()); it != taken_.end())
      covered_ = std::max(covered_, it->second);
    cv_.notify_all();
  }

 private:
  int64_t bursts_, per_burst_;
  int64_t burst_ = 0;
  bool checkpointing_ = false;
  ListState<int64_t>* state_ = nullptr;
  std::atomic<bool> running_{true};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<int64_t, int64_t> taken_;
  int64_t covered_ = 0;
};

// "<subtask>:<value>": which parallel instance handled the value (chained with the sink, so it
// is also the sink's subtask).
class TagWithSubtask final : public RichMapFunction<std::string, std::string> {
 public:
  std::string Map(std::string value) override {
    return std::to_string(GetRuntimeContext().GetIndexOfThisSubtask()) + ":" + value;
  }
};

struct Job {
  std::string name = UniqueName("legacy-sink-job");
  std::string checkpoints =
      (std::filesystem::temp_directory_path() / UniqueName("legacy-sink-chk")).string();
  ~Job() {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoints, ignored);
  }
  // The control topic of an EXACTLY_ONCE legacy sink with the default prefix.
  std::string control_topic() const { return "sluice-" + name + ".sluice-control"; }
};

struct DeleteTopicAtEnd {
  std::string name;
  ~DeleteTopicAtEnd() {
    try {
      DeleteTopic(name);
    } catch (...) {
    }
  }
};

kafka::Properties Props(kafka::Properties extra = {}) {
  extra["bootstrap.servers"] = BootstrapServers();
  return extra;
}

std::unique_ptr<StreamExecutionEnvironment> NewEnv(const Job& job, int parallelism,
                                                   bool checkpointing) {
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(parallelism).SetHandleSignals(false);
  if (checkpointing) env->EnableCheckpointing(milliseconds(30));
  env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints);
  env->GetCheckpointConfig().SetCheckpointTimeout(seconds(60));
  // A failure is the result some tests expect; restarting would only repeat it.
  env->SetRestartStrategy(RestartStrategy::NoRestart());
  return env;
}

std::vector<Record> ReadCommitted(const std::string& topic, int partitions) {
  return ReadToEnd(topic, partitions, {{"isolation.level", "read_committed"}});
}

// Value -> how many times it was read.
std::map<int64_t, int> CountValues(const std::vector<Record>& records) {
  std::map<int64_t, int> counts;
  for (const Record& r : records) {
    if (r.value) ++counts[std::stoll(*r.value)];
  }
  return counts;
}

int64_t SumOfMetric(const JobExecutionResult& result, const std::string& metric) {
  int64_t sum = 0;
  for (const auto& [name, value] : result.counters) {
    if (name.size() >= metric.size() &&
        name.compare(name.size() - metric.size(), metric.size(), metric) == 0) {
      sum += value;
    }
  }
  return sum;
}

template <typename Fn>
int CountInStderr(const std::string& needle, Fn fn) {
  ::testing::internal::CaptureStderr();
  fn();
  std::string err = ::testing::internal::GetCapturedStderr();
  int count = 0;
  for (size_t at = err.find(needle); at != std::string::npos; at = err.find(needle, at + 1))
    ++count;
  return count;
}

TEST(KafkaProducerSinkIT, WritesWithEachSemanticAndReadsBackWithReadCommitted) {
  for (Semantic semantic : {Semantic::kNone, Semantic::kAtLeastOnce, Semantic::kExactlyOnce}) {
    SCOPED_TRACE(std::string(kafka::DeliveryGuaranteeName(semantic)));
    Job job;
    ScopedTopic out("legacy-out", 3);
    DeleteTopicAtEnd control{job.control_topic()};
    auto env = NewEnv(job, 2, /*checkpointing=*/true);
    env->AddSource(CheckpointedBursts(4, 50))
        .Uid("bursts")
        .Rebalance()
        .AddSink(
            KafkaProducerSink<std::string>(out.name(), SimpleStringSchema(), Props(), semantic))
        .Uid("kafka-producer");
    JobExecutionResult result = env->Execute(job.name);
    ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
    std::map<int64_t, int> counts = CountValues(ReadCommitted(out.name(), 3));
    ASSERT_EQ(counts.size(), 200u);
    for (const auto& [value, n] : counts) EXPECT_EQ(n, 1) << "value " << value;
    if (semantic == Semantic::kExactlyOnce) {
      // The transactions were the default prefix's: its control topic holds the commits.
      EXPECT_GE(ReadCommitted(job.control_topic(), 1).size(), 1u)
          << "no commit marker in " << job.control_topic();
      EXPECT_GE(SumOfMetric(result, "transactionsCommitted"), 1);
    }
  }
}

TEST(KafkaProducerSinkIT, ExactlyOnceWithoutCheckpointingBehavesAsNoneAndSaysSoOnce) {
  Job job;
  ScopedTopic out("legacy-nocp", 1);
  auto env = NewEnv(job, 2, /*checkpointing=*/false);
  env->FromCollection(std::vector<std::string>{"0", "1", "2", "3", "4"})
      .AddSink(KafkaProducerSink<std::string>(out.name(), SimpleStringSchema(), Props(),
                                              Semantic::kExactlyOnce));
  JobExecutionResult result;
  int lines = CountInStderr("checkpointing is off, so Semantic EXACTLY_ONCE behaves as NONE",
                            [&] { result = env->Execute(job.name); });
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(lines, 1) << "said once per job, not per writer";
  // Plain records, no transactions: visible to both isolation levels, and no control topic.
  EXPECT_EQ(CountValues(ReadToEnd(out.name(), 1, {{"isolation.level", "read_uncommitted"}})).size(),
            5u);
  EXPECT_EQ(CountValues(ReadCommitted(out.name(), 1)).size(), 5u);
  EXPECT_EQ(SumOfMetric(result, "transactionsCommitted"), 0);
}

TEST(KafkaProducerSinkIT, WriteTimestampToKafkaDecidesTheRecordTimestamp) {
  // Event timestamps an hour in the past: far from any send time of this test.
  const int64_t base = CurrentTimeMillis() - 3'600'000;
  for (bool write : {false, true}) {
    SCOPED_TRACE(write ? "SetWriteTimestampToKafka(true)" : "default (false)");
    Job job;
    ScopedTopic out("legacy-ts", 1);
    const int64_t started = CurrentTimeMillis();
    KafkaProducerSink<std::string> sink(out.name(), SimpleStringSchema(), Props());
    if (write) sink.SetWriteTimestampToKafka(true);
    auto env = NewEnv(job, 1, /*checkpointing=*/false);
    env->FromCollection(std::vector<std::string>{"0", "1", "2"})
        .AssignTimestampsAndWatermarks(
            WatermarkStrategy<std::string>::ForMonotonousTimestamps().WithTimestampAssigner(
                [base](const std::string& value, int64_t) {
                  return base + std::stoll(value) * 1000;
                }))
        .AddSink(sink);
    JobExecutionResult result = env->Execute(job.name);
    ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
    std::vector<Record> records = ReadToEnd(out.name(), 1);
    ASSERT_EQ(records.size(), 3u);
    for (const Record& r : records) {
      if (write) {
        EXPECT_EQ(r.timestamp, base + std::stoll(*r.value) * 1000) << "value " << *r.value;
      } else {
        EXPECT_GE(r.timestamp, started) << "value " << *r.value << " carries the send time";
      }
    }
  }
}

TEST(KafkaProducerSinkIT, FixedPartitionerPutsSubtaskIOnPartitionIModuloCount) {
  // Three writers, two partitions: writers 0 and 2 share partition 0 (Flink's FixedPartitioner).
  Job job;
  ScopedTopic out("legacy-fixed", 2);
  std::vector<std::string> values;
  for (int i = 0; i < 300; ++i) values.push_back(std::to_string(i));
  auto env = NewEnv(job, 3, /*checkpointing=*/false);
  env->FromCollection(values)
      .SetParallelism(1)
      .Rebalance()
      .Map(TagWithSubtask())
      .AddSink(KafkaProducerSink<std::string>(out.name(), SimpleStringSchema(), Props()));
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<Record> records = ReadToEnd(out.name(), 2);
  ASSERT_EQ(records.size(), 300u);
  std::map<int, int> per_subtask;
  for (const Record& r : records) {
    int subtask = std::stoi(r.value->substr(0, r.value->find(':')));
    ++per_subtask[subtask];
    EXPECT_EQ(r.partition, subtask % 2) << "record " << *r.value;
  }
  EXPECT_EQ(per_subtask.size(), 3u) << "every writer wrote (rebalance)";
}

// The two ways a record can fail: librdkafka refuses it at once (larger than the producer's
// message.max.bytes, 1 MB by default), or the broker refuses it (the producer's limit is raised,
// the topic's max.message.bytes is not) and the failure comes back as a delivery report.
enum class FailureKind { kRefusedByLibrdkafka, kRefusedByTheBroker };

class LogFailuresOnlyIT : public ::testing::TestWithParam<FailureKind> {
 protected:
  kafka::Properties FailureProps() const {
    return GetParam() == FailureKind::kRefusedByTheBroker
               ? Props({{"message.max.bytes", "4000000"}})
               : Props();
  }
  // "0", "1", a 2 MB record, "2", "3", another 2 MB record, "4".
  static std::vector<std::string> Input() {
    std::string big(2'000'000, 'x');
    return {"0", "1", big, "2", "3", big, "4"};
  }
};

TEST_P(LogFailuresOnlyIT, TrueLogsAndCountsFailuresAndTheJobGoesOn) {
  Job job;
  ScopedTopic out("legacy-logonly", 1);
  KafkaProducerSink<std::string> sink(out.name(), SimpleStringSchema(), FailureProps());
  sink.SetLogFailuresOnly(true);
  auto env = NewEnv(job, 1, /*checkpointing=*/true);  // AT_LEAST_ONCE: an idempotent producer
  env->FromCollection(Input()).AddSink(sink).Uid("kafka-producer");
  JobExecutionResult result;
  int warnings = CountInStderr("data can be lost", [&] { result = env->Execute(job.name); });
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(warnings, 1) << "the sink warns once at start";
  EXPECT_EQ(SumOfMetric(result, "KafkaSink.numRecordsSendErrors"), 2);
  std::map<int64_t, int> counts = CountValues(ReadToEnd(out.name(), 1));
  EXPECT_EQ(counts, (std::map<int64_t, int>{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}}));
}

TEST_P(LogFailuresOnlyIT, FalseFailsTheJobNamingTopicPartitionAndReason) {
  Job job;
  ScopedTopic out("legacy-failing", 1);
  auto env = NewEnv(job, 1, /*checkpointing=*/true);
  env->FromCollection(Input()).AddSink(
      KafkaProducerSink<std::string>(out.name(), SimpleStringSchema(), FailureProps()));
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  const std::string& message = result.failure.message();
  EXPECT_NE(message.find("topic " + out.name() + " partition 0"), std::string::npos) << message;
  EXPECT_NE(message.find("MSG_SIZE_TOO_LARGE"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(BothWaysToFail, LogFailuresOnlyIT,
                         ::testing::Values(FailureKind::kRefusedByLibrdkafka,
                                           FailureKind::kRefusedByTheBroker),
                         [](const auto& param_info) {
                           return param_info.param == FailureKind::kRefusedByLibrdkafka
                                      ? std::string("RefusedByLibrdkafka")
                                      : std::string("RefusedByTheBroker");
                         });

TEST(KafkaProducerSinkIT, ABadPropertyStopsTheJobAtStartNamingIt) {
  Job job;
  auto env = NewEnv(job, 1, /*checkpointing=*/false);
  env->FromElements(std::string("a"))
      .AddSink(KafkaProducerSink<std::string>("never-written", SimpleStringSchema(),
                                              Props({{"linger.mss", "5"}})));
  JobExecutionResult result = env->Execute(job.name);
  ASSERT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(result.failure.message(), HasSubstr("linger.mss"));
  EXPECT_THAT(result.failure.message(), HasSubstr("never-written"));
}

}  // namespace
}  // namespace sluice::testing
