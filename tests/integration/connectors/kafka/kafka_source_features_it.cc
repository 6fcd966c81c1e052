// KafkaSource / KafkaConsumerSource against the real broker: partition discovery, per-partition
// watermarks and idleness, deserialization failure policies, the legacy shape, the JSON
// schema and the lag metric. Every test uses its own topics.
#include <sluice/connectors/kafka/json_deserialization_schema.h>
#include <sluice/connectors/kafka/kafka_consumer_source.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "kafka_it_support.h"
#include "kafka_test_env.h"

using ::sluice::testing::IsOk;

namespace sluice::testing {
namespace {

Seen g_seen;

using kafka::KafkaSource;
using kafka::OffsetsInitializer;
using kafka::SimpleStringSchema;
using std::chrono::milliseconds;
using std::chrono::seconds;

void Produce(const std::string& topic, int32_t first_partition, int32_t partitions,
             int per_partition, const std::string& tag = "v") {
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  for (int32_t p = first_partition; p < first_partition + partitions; ++p) {
    ProduceAndWait(producer.get(), topic, p, Values(tag, p, 0, per_partition));
  }
}

void WaitForPartitionCount(const std::string& topic, int partitions) {
  KafkaPtr client = NewClient(RD_KAFKA_PRODUCER, {});
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(30));
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(client.get(), topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(client.get(), 0, t, &md, 5000);
    rd_kafka_topic_destroy(t);
    bool ready = err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
                 md->topics[0].partition_cnt == partitions;
    for (int i = 0; ready && i < partitions; ++i) ready = md->topics[0].partitions[i].leader >= 0;
    if (md != nullptr) rd_kafka_metadata_destroy(md);
    if (ready) return;
    std::this_thread::sleep_for(milliseconds(50));  // polling metadata, not a sync stand-in
  }
  throw std::runtime_error("topic " + topic + " never showed " + std::to_string(partitions) +
                           " partitions");
}

void AddPartitions(const std::string& topic, int total) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  char error[512];
  rd_kafka_NewPartitions_t* np =
      rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), error, sizeof error);
  ASSERT_NE(np, nullptr) << error;
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
  rd_kafka_CreatePartitions(admin.get(), &np, 1, nullptr, queue);
  rd_kafka_NewPartitions_destroy(np);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(Scaled(seconds(30)).count()));
  ASSERT_NE(event, nullptr);
  EXPECT_EQ(rd_kafka_event_error(event), RD_KAFKA_RESP_ERR_NO_ERROR)
      << rd_kafka_event_error_string(event);
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(event), &count);
  for (size_t i = 0; i < count; ++i) {
    EXPECT_EQ(rd_kafka_topic_result_error(results[i]), RD_KAFKA_RESP_ERR_NO_ERROR)
        << rd_kafka_topic_result_error_string(results[i]);
  }
  rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  WaitForPartitionCount(topic, total);
}

std::map<std::string, int> CountEach(const std::vector<std::string>& values) {
  std::map<std::string, int> out;
  for (const std::string& v : values) ++out[v];
  return out;
}

int64_t Counter(const JobExecutionResult& result, const std::string& suffix) {
  int64_t sum = 0;
  for (const auto& [name, value] : result.counters) {
    if (name.ends_with(suffix)) sum += value;
  }
  return sum;
}

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName(name);
  std::filesystem::create_directories(dir);
  return dir;
}

// ---- partition discovery ----

void ReadsAddedPartitionsExactlyOnce(bool legacy) {
  ScopedTopic topic(legacy ? "disc-legacy" : "disc", 2);
  Produce(topic.name(), 0, 2, 10, "v");
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  if (legacy) {
    kafka::KafkaConsumerSource<std::string> consumer(
        topic.name(), SimpleStringSchema(),
        {{"bootstrap.servers", BootstrapServers()},
         {"flink.partition-discovery.interval-millis", "200"}});
    consumer.SetStartFromEarliest();
    env->AddSource(consumer).AddSink(SeenSink(&g_seen));
  } else {
    auto source = KafkaSource<std::string>::Builder()
                      .SetBootstrapServers(BootstrapServers())
                      .SetTopics(topic.name())
                      .SetProperty("partition.discovery.interval.ms", "200")
                      .SetValueOnlyDeserializer(SimpleStringSchema())
                      .Build();
    ASSERT_THAT(source, IsOk());
    env->FromSource(*source, WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
        .AddSink(SeenSink(&g_seen));
  }
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-discovery");
  ASSERT_TRUE(g_seen.WaitForAtLeast(20, seconds(60)));
  AddPartitions(topic.name(), 5);
  // Records in the new partitions before the reader finds them: read from their start.
  Produce(topic.name(), 2, 3, 10, "v");
  ASSERT_TRUE(g_seen.WaitForAtLeast(50, seconds(60))) << g_seen.Snapshot().size();
  Produce(topic.name(), 0, 5, 10, "w");
  ASSERT_TRUE(g_seen.WaitForAtLeast(100, seconds(60))) << g_seen.Snapshot().size();
  client->Cancel();
  client->WaitForResult();
  std::map<std::string, int> counts = CountEach(g_seen.Snapshot());
  EXPECT_EQ(counts.size(), 100u);
  for (int32_t p = 0; p < 5; ++p) {
    for (const auto& [k, v] : Values("v", p, 0, 10)) EXPECT_EQ(counts[v], 1) << v;
    for (const auto& [k, v] : Values("w", p, 0, 10)) EXPECT_EQ(counts[v], 1) << v;
  }
}

TEST(KafkaSourceFeaturesIT, PartitionsAddedWhileRunningAreReadFromTheirStartExactlyOnce) {
  ReadsAddedPartitionsExactlyOnce(false);
}

TEST(KafkaSourceFeaturesIT, LegacyConsumerDiscoversAddedPartitionsWithTheLegacyKey) {
  ReadsAddedPartitionsExactlyOnce(true);
}

TEST(KafkaSourceFeaturesIT, ANewTopicMatchingThePatternIsReadFromItsStart) {
  const std::string prefix = UniqueName("disc-pattern");
  ScopedTopic first(prefix + "-a", 1);
  Produce(first.name(), 0, 1, 5, "a");
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  auto source = KafkaSource<std::string>::Builder()
                    .SetBootstrapServers(BootstrapServers())
                    .SetTopicPattern(prefix + "-.*")
                    .SetProperty("partition.discovery.interval.ms", "200")
                    .SetValueOnlyDeserializer(SimpleStringSchema())
                    .Build();
  ASSERT_THAT(source, IsOk());
  env->FromSource(*source, WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .AddSink(SeenSink(&g_seen));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-discovery-pattern");
  ASSERT_TRUE(g_seen.WaitForAtLeast(5, seconds(60)));
  ScopedTopic second(prefix + "-b", 3);
  Produce(second.name(), 0, 3, 5, "b");
  ASSERT_TRUE(g_seen.WaitForAtLeast(20, seconds(60))) << g_seen.Snapshot().size();
  client->Cancel();
  client->WaitForResult();
  std::map<std::string, int> counts = CountEach(g_seen.Snapshot());
  EXPECT_EQ(counts.size(), 20u);
  for (const auto& [v, n] : counts) EXPECT_EQ(n, 1) << v;
}

// ---- per-partition watermarks ----

// Fires an event-time timer per registered time and records the watermark it fired at.
struct Fired {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<int64_t, int64_t> at;  // timer -> watermark when it fired
  void Reset() {
    std::lock_guard lock(mutex);
    at.clear();
  }
  bool WaitFor(int64_t timer, milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, Scaled(timeout), [&] { return at.contains(timer); });
  }
  int64_t Get(int64_t timer) {
    std::lock_guard lock(mutex);
    return at.at(timer);
  }
};
Fired g_fired;

class TimerAt final : public KeyedProcessFunction<int64_t, std::string, std::string> {
 public:
  explicit TimerAt(std::vector<int64_t> times) : times_(std::move(times)) {}
  void ProcessElement(std::string, Context& ctx, Collector<std::string>&) override {
    for (int64_t t : times_) ctx.TimerService().RegisterEventTimeTimer(t);
  }
  void OnTimer(int64_t timestamp, OnTimerContext& ctx, Collector<std::string>&) override {
    {
      std::lock_guard lock(g_fired.mutex);
      g_fired.at[timestamp] = ctx.TimerService().CurrentWatermark();
    }
    g_fired.changed.notify_all();
  }

 private:
  std::vector<int64_t> times_;
};

TEST(KafkaSourceFeaturesIT, WatermarksAreTheMinimumOverPartitionsAndIdlePartitionsStopHoldingBack) {
  ScopedTopic topic("wm", 2);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(producer.get(), topic.name(), 0, Values("v", 0, 0, 1), 10'000);
  ProduceAndWait(producer.get(), topic.name(), 1, Values("v", 1, 0, 1), 1'000);
  g_fired.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  auto source = KafkaSource<std::string>::Builder()
                    .SetBootstrapServers(BootstrapServers())
                    .SetTopics(topic.name())
                    .SetProperty("sluice.partition.idle.timeout.ms", "1000")
                    .SetValueOnlyDeserializer(SimpleStringSchema())
                    .Build();
  ASSERT_THAT(source, IsOk());
  env->FromSource(*source, WatermarkStrategy<std::string>::ForMonotonousTimestamps(),
                  "Kafka Source")
      .KeyBy([](const std::string&) { return int64_t{0}; })
      .Process(TimerAt({2'000, 15'000}))
      .Print();
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-watermarks");
  ProduceAndWait(producer.get(), topic.name(), 1, Values("v", 1, 1, 2), 3'000);
  ASSERT_TRUE(g_fired.WaitFor(2'000, seconds(60)));
  // One generator for the whole reader would have fired it at 9'999.
  EXPECT_EQ(g_fired.Get(2'000), 2'999);
  // Partition 1 goes quiet; partition 0 keeps bringing data and alone moves the watermark
  // once partition 1 is idle.
  bool fired = false;
  for (int i = 0; i < 600 && !fired; ++i) {
    ProduceAndWait(producer.get(), topic.name(), 0, Values("v", 0, i + 1, i + 2), 20'000);
    fired = g_fired.WaitFor(15'000, milliseconds(100));
  }
  client->Cancel();
  client->WaitForResult();
  ASSERT_TRUE(fired) << "the idle partition held the watermark back";
  EXPECT_EQ(g_fired.Get(15'000), 19'999);
}

TEST(KafkaSourceFeaturesIT, AReaderWithoutPartitionsDoesNotHoldBackWatermarks) {
  ScopedTopic topic("wm-idle-reader", 1);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(producer.get(), topic.name(), 0, Values("v", 0, 0, 2), 5'000);
  g_fired.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(3).SetHandleSignals(false);
  auto source = KafkaSource<std::string>::Builder()
                    .SetBootstrapServers(BootstrapServers())
                    .SetTopics(topic.name())
                    .SetValueOnlyDeserializer(SimpleStringSchema())
                    .Build();
  ASSERT_THAT(source, IsOk());
  env->FromSource(*source, WatermarkStrategy<std::string>::ForMonotonousTimestamps(),
                  "Kafka Source")
      .KeyBy([](const std::string&) { return int64_t{0}; })
      .Process(TimerAt({2'000}))
      .SetParallelism(1)
      .Print();
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-idle-reader");
  bool fired = g_fired.WaitFor(2'000, seconds(60));
  client->Cancel();
  client->WaitForResult();
  ASSERT_TRUE(fired);
  EXPECT_EQ(g_fired.Get(2'000), 4'999);
}

TEST(KafkaSourceFeaturesIT, LegacyConsumerAssignsPerPartitionWatermarks) {
  ScopedTopic topic("wm-legacy", 2);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(producer.get(), topic.name(), 0, Values("v", 0, 0, 1), 10'000);
  ProduceAndWait(producer.get(), topic.name(), 1, Values("v", 1, 0, 1), 3'000);
  g_fired.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  kafka::KafkaConsumerSource<std::string> consumer(topic.name(), SimpleStringSchema(),
                                                   {{"bootstrap.servers", BootstrapServers()}});
  consumer.SetStartFromEarliest().AssignTimestampsAndWatermarks(
      WatermarkStrategy<std::string>::ForMonotonousTimestamps());
  env->AddSource(consumer)
      .KeyBy([](const std::string&) { return int64_t{0}; })
      .Process(TimerAt({2'000}))
      .Print();
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-legacy-watermarks");
  bool fired = g_fired.WaitFor(2'000, seconds(60));
  client->Cancel();
  client->WaitForResult();
  ASSERT_TRUE(fired);
  EXPECT_EQ(g_fired.Get(2'000), 2'999);
}

// ---- deserialization failure policies ----

struct FailOnSeven final : kafka::DeserializationSchema<std::string> {
  void Deserialize(std::string_view message, Collector<std::string>& out) override {
    if (message.ends_with("-7")) throw std::runtime_error("bad record");
    out.Collect(std::string(message));
  }
};

JobExecutionResult RunBounded(const kafka::KafkaSourceBuilder<std::string>& builder) {
  auto source = builder.Build();
  if (!source.ok()) throw std::runtime_error(source.status().ToString());
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->FromSource(*source, WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .AddSink(SeenSink(&g_seen));
  return env->Execute("kafka-bounded");
}

TEST(KafkaSourceFeaturesIT, SkipPolicyDropsAndCountsRecordsThatFailToDeserialize) {
  ScopedTopic topic("deser-skip", 2);
  Produce(topic.name(), 0, 2, 10);
  JobExecutionResult result =
      RunBounded(KafkaSource<std::string>::Builder()
                     .SetBootstrapServers(BootstrapServers())
                     .SetTopics(topic.name())
                     .SetBounded(OffsetsInitializer::Latest())
                     .SetDeserializationFailurePolicy(kafka::DeserializationFailurePolicy::Skip())
                     .SetValueOnlyDeserializer(FailOnSeven()));
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(g_seen.Snapshot().size(), 18u);
  EXPECT_EQ(Counter(result, "KafkaSourceReader.deserializationFailures"), 2);
}

TEST(KafkaSourceFeaturesIT, DeadLetterPolicyForwardsTheRawRecordWithHeadersSayingWhy) {
  ScopedTopic topic("deser-dlq", 1);
  ScopedTopic dlq("deser-dlq-target", 1);
  Produce(topic.name(), 0, 1, 10);
  JobExecutionResult result =
      RunBounded(KafkaSource<std::string>::Builder()
                     .SetBootstrapServers(BootstrapServers())
                     .SetTopics(topic.name())
                     .SetBounded(OffsetsInitializer::Latest())
                     .SetDeserializationFailurePolicy(
                         kafka::DeserializationFailurePolicy::DeadLetter(dlq.name()))
                     .SetValueOnlyDeserializer(FailOnSeven()));
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(g_seen.Snapshot().size(), 9u);
  EXPECT_EQ(Counter(result, "KafkaSourceReader.deserializationFailures"), 1);
  EXPECT_EQ(Counter(result, "KafkaSourceReader.deadLetterRecords"), 1);
  std::vector<Record> letters = ReadToEnd(dlq.name(), 1);
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].key, "k");
  EXPECT_EQ(letters[0].value, "v-p0-7");
  std::map<std::string, std::string> headers(letters[0].headers.begin(), letters[0].headers.end());
  EXPECT_EQ(headers["sluice.dlq.error"], "bad record");
  EXPECT_EQ(headers["sluice.dlq.topic"], topic.name());
  EXPECT_EQ(headers["sluice.dlq.partition"], "0");
  EXPECT_EQ(headers["sluice.dlq.offset"], "7");
}

// ---- the legacy shape ----

struct EndAtFive final : kafka::DeserializationSchema<std::string> {
  void Deserialize(std::string_view message, Collector<std::string>& out) override {
    out.Collect(std::string(message));
  }
  bool IsEndOfStream(const std::string& element) const override { return element.ends_with("-5"); }
};

TEST(KafkaSourceFeaturesIT, LegacyIsEndOfStreamStopsTheSubtask) {
  ScopedTopic topic("legacy-eos", 1);
  Produce(topic.name(), 0, 1, 10);
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  kafka::KafkaConsumerSource<std::string> consumer(topic.name(), EndAtFive(),
                                                   {{"bootstrap.servers", BootstrapServers()}});
  consumer.SetStartFromEarliest();
  env->AddSource(consumer).AddSink(SeenSink(&g_seen));
  JobExecutionResult result = env->Execute("kafka-legacy-eos");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(g_seen.Snapshot(),
            (std::vector<std::string>{"v-p0-0", "v-p0-1", "v-p0-2", "v-p0-3", "v-p0-4"}));
}

TEST(KafkaSourceFeaturesIT,
     LegacySpecificOffsetsFallBackToGroupOffsetsAndAutoCommitWithoutCheckpoints) {
  ScopedTopic topic("legacy-specific", 3);
  Produce(topic.name(), 0, 3, 10);
  const std::string group = UniqueName("legacy-group");
  {
    KafkaPtr consumer =
        NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}, {"enable.auto.commit", "false"}});
    PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.name().c_str(), 1)->offset = 6;
    ASSERT_EQ(rd_kafka_commit(consumer.get(), list.get(), 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_consumer_close(consumer.get());
  }
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  kafka::KafkaConsumerSource<std::string> consumer(std::vector<std::string>{topic.name()},
                                                   SimpleStringSchema(),
                                                   {{"bootstrap.servers", BootstrapServers()},
                                                    {"group.id", group},
                                                    {"auto.offset.reset", "earliest"},
                                                    {"auto.commit.interval.ms", "100"}});
  consumer.SetStartFromSpecificOffsets({{{topic.name(), 0}, 3}, {{"not-subscribed", 0}, 1}});
  env->AddSource(consumer).AddSink(SeenSink(&g_seen));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-legacy-specific");
  // 7 from the map, 4 from the committed offset, 10 from auto.offset.reset=earliest.
  ASSERT_TRUE(g_seen.WaitForAtLeast(21, seconds(60)));
  // Without checkpointing Kafka's periodic auto-commit commits what was read.
  std::map<int32_t, int64_t> committed;
  const std::map<int32_t, int64_t> expected{{0, 10}, {1, 10}, {2, 10}};
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(60));
  while (committed != expected && std::chrono::steady_clock::now() < deadline) {
    committed = CommittedOffsets(group, topic.name(), 3);
  }
  client->Cancel();
  client->WaitForResult();
  std::vector<std::string> seen = g_seen.Snapshot();
  EXPECT_EQ(seen.size(), 21u);
  std::map<std::string, int> counts = CountEach(seen);
  EXPECT_EQ(counts.count("v-p0-2"), 0u);
  EXPECT_EQ(counts.count("v-p0-3"), 1u);
  EXPECT_EQ(counts.count("v-p1-5"), 0u);
  EXPECT_EQ(counts.count("v-p1-6"), 1u);
  EXPECT_EQ(counts.count("v-p2-0"), 1u);
  EXPECT_EQ(committed, expected);
}

TEST(KafkaSourceFeaturesIT, LegacyStartFromTimestampRejectsNegativeAndFutureTimes) {
  kafka::KafkaConsumerSource<std::string> consumer("t", SimpleStringSchema(),
                                                   {{"bootstrap.servers", BootstrapServers()}});
  EXPECT_THROW(consumer.SetStartFromTimestamp(-1), std::invalid_argument);
  EXPECT_THROW(consumer.SetStartFromTimestamp(CurrentTimeMillis() + 3'600'000),
               std::invalid_argument);
  EXPECT_NO_THROW(consumer.SetStartFromTimestamp(0));
}

TEST(KafkaSourceFeaturesIT, LegacyCommitsOnCheckpointsWithAPattern) {
  const std::string prefix = UniqueName("legacy-commit");
  ScopedTopic topic(prefix + "-x", 3);
  Produce(topic.name(), 0, 3, 50);
  const std::string group = UniqueName("legacy-commit-group");
  g_seen.Reset();
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(2).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(50));
  env->GetCheckpointConfig().SetCheckpointStorage(TempDir("legacy-commit").string());
  kafka::KafkaConsumerSource<std::string> consumer(kafka::TopicPattern{prefix + "-.*"},
                                                   SimpleStringSchema(),
                                                   {{"bootstrap.servers", BootstrapServers()},
                                                    {"group.id", group},
                                                    {"auto.offset.reset", "earliest"}});
  env->AddSource(consumer).Uid("kafka").AddSink(SeenSink(&g_seen));
  std::unique_ptr<JobClient> client = env->ExecuteAsync("kafka-legacy-commit");
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
  EXPECT_GE(Counter(result, "KafkaSourceReader.commitsSucceeded"), 1);
  EXPECT_EQ(g_seen.Snapshot().size(), 150u);
}

// ---- JSON and metrics ----

std::mutex g_json_mutex;
std::vector<nlohmann::json> g_json;

class JsonSink final : public SinkFunction<nlohmann::json> {
 public:
  void Invoke(const nlohmann::json& value, const SinkContext&) override {
    std::lock_guard lock(g_json_mutex);
    g_json.push_back(value);
  }
};

TEST(KafkaSourceFeaturesIT, JsonSchemaParsesValuesAndBadJsonFollowsThePolicy) {
  ScopedTopic topic("json", 1);
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(producer.get(), topic.name(), 0,
                 {{"k", R"({"id": 1, "name": "a"})"}, {"k", "{not json"}, {"k", R"([2, 3])"}});
  {
    std::lock_guard lock(g_json_mutex);
    g_json.clear();
  }
  auto source = KafkaSource<nlohmann::json>::Builder()
                    .SetBootstrapServers(BootstrapServers())
                    .SetTopics(topic.name())
                    .SetBounded(OffsetsInitializer::Latest())
                    .SetDeserializationFailurePolicy(kafka::DeserializationFailurePolicy::Skip())
                    .SetValueOnlyDeserializer(kafka::JsonDeserializationSchema())
                    .Build();
  ASSERT_THAT(source, IsOk());
  auto env = StreamExecutionEnvironment::Create();
  env->SetParallelism(1).SetHandleSignals(false);
  env->FromSource(*source, WatermarkStrategy<nlohmann::json>::NoWatermarks(), "Kafka Source")
      .AddSink(JsonSink());
  JobExecutionResult result = env->Execute("kafka-json");
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::lock_guard lock(g_json_mutex);
  ASSERT_EQ(g_json.size(), 2u);
  EXPECT_EQ(g_json[0]["id"], 1);
  EXPECT_EQ(g_json[0]["name"], "a");
  EXPECT_EQ(g_json[1], nlohmann::json::parse("[2,3]"));
  EXPECT_EQ(Counter(result, "KafkaSourceReader.deserializationFailures"), 1);
}

TEST(KafkaSourceFeaturesIT, MetricsShowBytesOffsetsAndLag) {
  ScopedTopic topic("metrics", 2);
  Produce(topic.name(), 0, 2, 20);
  JobExecutionResult result = RunBounded(KafkaSource<std::string>::Builder()
                                             .SetBootstrapServers(BootstrapServers())
                                             .SetTopics(topic.name())
                                             .SetBounded(OffsetsInitializer::Latest())
                                             .SetValueOnlyDeserializer(SimpleStringSchema()));
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(Counter(result, "KafkaSourceReader.numRecordsIn"), 40);
  // key "k" (1 byte) + "v-p<p>-<i>" (6 or 7 bytes)
  EXPECT_EQ(Counter(result, "KafkaSourceReader.numBytesIn"), 2 * (10 * 7 + 10 * 8));
  bool has_lag = false;
  int offsets = 0;
  for (const auto& [name, value] : result.counters) {
    if (name.ends_with("KafkaSourceReader.pendingRecords")) {
      has_lag = true;
      EXPECT_EQ(value, 0) << name;
    }
    if (name.ends_with(".currentOffset")) {
      ++offsets;
      EXPECT_EQ(value, 20) << name;
    }
  }
  EXPECT_TRUE(has_lag);
  EXPECT_EQ(offsets, 2);
}

}  // namespace
}  // namespace sluice::testing
