// Durable state in Kafka (DESIGN.md section 7, docs/exactly-once.md "Durable state in Kafka"):
// an EXACTLY_ONCE running word count (KafkaSource -> KeyBy(word) -> count in ValueState ->
// KafkaSink "word:count") keeps its state in changelog topics committed with each checkpoint.
// Each test runs the job, ends it (cancel: its open epoch is aborted), does something to the
// checkpoint directory or the changelog, adds input, and runs it again. A word that occurs n
// times must then have exactly the outputs "word:1" .. "word:n" in the read_committed output,
// each once: a lost state would restart a count at 1 (a duplicate), a stale one would skip.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/kafka/kafka_it_support.h"
#include "kafka_sink_it_support.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using kafka::DeliveryGuarantee;
using kafka::OffsetResetStrategy;
using kafka::OffsetsInitializer;
using sink_it::CountStrings;
using sink_it::SinkJob;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

constexpr int kInputPartitions = 4;
constexpr int kOutputPartitions = 3;
constexpr int kWords = 300;  // spread over all 128 key groups

class CountWords final : public KeyedProcessFunction<std::string, std::string, std::string> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement(std::string word, Context&, Collector<std::string>& out) override {
    const int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect(word + ":" + std::to_string(count));
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
};

// The windowed variant: every kCountWindow occurrences of a word, "word:k" for its k-th window.
// Its state is window contents and CountTrigger state under (word, window) keys, and the
// per-word window number (GlobalState): all of it must come back from the changelog.
constexpr int64_t kCountWindow = 3;

class NumberWindows final
    : public ProcessWindowFunction<std::string, std::string, std::string, GlobalWindow> {
 public:
  void Process(const std::string& word, Context& ctx, const std::vector<std::string>& words,
               Collector<std::string>& out) override {
    ValueState<int64_t>& windows =
        ctx.GlobalState().GetState(ValueStateDescriptor<int64_t>("windows"));
    const int64_t k = windows.Value().value_or(0) + 1;
    windows.Update(k);
    if (static_cast<int64_t>(words.size()) != kCountWindow) out.Collect(word + ":short window");
    out.Collect(word + ":" + std::to_string(k));
  }
};

// The broadcast variant: the count is a KeyedBroadcastProcessFunction that counts only while
// the broadcast state says "on"; words before that wait in keyed state, counted when "on"
// arrives (ApplyToKeyedState). "on" is broadcast in the first run only, so a later run counts
// only if every instance got the broadcast state back (from the changelog, at any parallelism).
const MapStateDescriptor<std::string, std::string> kSwitch("switch");

class CountWhenOn final
    : public KeyedBroadcastProcessFunction<std::string, std::string, std::string, std::string> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
    waiting_ = &GetRuntimeContext().GetState(kWaiting);
  }
  void ProcessElement(std::string word, ReadOnlyContext& ctx,
                      Collector<std::string>& out) override {
    if (ctx.GetBroadcastState(kSwitch).Contains("on")) {
      Count(word, out);
    } else {
      waiting_->Update(waiting_->Value().value_or(0) + 1);
    }
  }
  void ProcessBroadcastElement(std::string value, Context& ctx,
                               Collector<std::string>& out) override {
    ctx.GetBroadcastState(kSwitch).Put(value, value);
    ctx.ApplyToKeyedState(kWaiting, [&](const std::string& word, ValueState<int64_t>& waiting) {
      for (int64_t i = waiting.Value().value_or(0); i > 0; --i) Count(word, out);
      waiting.Clear();
    });
  }

 private:
  void Count(const std::string& word, Collector<std::string>& out) {
    const int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect(word + ":" + std::to_string(count));
  }
  static inline const ValueStateDescriptor<int64_t> kWaiting{"waiting"};
  ValueState<int64_t>* count_ = nullptr;
  ValueState<int64_t>* waiting_ = nullptr;
};

// Emits its elements and ends; it keeps no state.
class EmitAndEnd final : public SourceFunction<std::string> {
 public:
  explicit EmitAndEnd(std::vector<std::string> elements) : elements_(std::move(elements)) {}
  void Run(SourceContext<std::string>& ctx) override {
    for (const std::string& element : elements_) {
      std::lock_guard lock(ctx.GetCheckpointLock());
      ctx.Collect(element);
    }
  }
  void Cancel() override {}

 private:
  std::vector<std::string> elements_;
};

struct WordCountJob {
  // Counts in windows of kCountWindow words (NumberWindows) instead of a running count.
  bool windowed = false;
  // Counts with CountWhenOn, connected to a broadcast stream that says "on" while switch_on.
  bool broadcast = false;
  bool switch_on = true;

  ScopedTopic in{"changelog-in", kInputPartitions};
  ScopedTopic out{"changelog-out", kOutputPartitions};
  SinkJob job;
  std::string group = UniqueName("changelog-group");
  std::map<std::string, int64_t> occurrences;
  int batches = 0;

  std::string count_changelog() const { return job.prefix + ".count-words.changelog"; }

  // The count's changelog as a user may have made it, with retention besides compaction
  // (sluice accepts compact,delete): what retention or kafka-delete-records can cut. Kafka
  // refuses DeleteRecords on a compact-only topic.
  void CreateCountChangelogWithRetention() const {
    CreateTopic(count_changelog(), 128, {{"cleanup.policy", "compact,delete"}});
  }

  // One more batch: `per_partition` words into every input partition.
  void ProduceBatch(int per_partition) {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    for (int32_t p = 0; p < kInputPartitions; ++p) {
      std::vector<std::pair<std::string, std::string>> records;
      for (int i = 0; i < per_partition; ++i) {
        const std::string word = "w" + std::to_string((batches * 7 + p * 13 + i * 31) % kWords);
        records.emplace_back(word, word);
        ++occurrences[word];
      }
      ProduceAndWait(producer.get(), in.name(), p, records);
    }
    ++batches;
  }

  // The outputs of a word seen n times.
  int64_t Expected(int64_t n) const { return windowed ? n / kCountWindow : n; }

  int64_t total() const {
    int64_t sum = 0;
    for (const auto& [word, n] : occurrences) sum += Expected(n);
    return sum;
  }

  // The output: an EXACTLY_ONCE sink unless a test asks for another guarantee with the
  // changelog turned on explicitly (`--state.changelog=kafka` for the others).
  DeliveryGuarantee guarantee = DeliveryGuarantee::kExactlyOnce;

  std::unique_ptr<JobClient> Start(int32_t parallelism) const {
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(parallelism).SetHandleSignals(false);
    env->EnableCheckpointing(milliseconds(100));
    env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints.string());
    env->GetCheckpointConfig().SetCheckpointTimeout(seconds(60));
    env->SetRestartStrategy(RestartStrategy::NoRestart());
    if (guarantee != DeliveryGuarantee::kExactlyOnce) env->EnableChangelogStateBackend(true);
    auto keyed = env->FromSource<std::string>(
                        Built(Builder(in.name()).SetGroupId(group).SetStartingOffsets(
                            OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest))),
                        WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
                     .Uid("kafka-source")
                     .KeyBy([](const std::string& word) { return word; });
    std::optional<DataStream<std::string>> counted;
    if (windowed) {
      counted = keyed.CountWindow(kCountWindow).Process(NumberWindows());
    } else if (broadcast) {
      auto on = env->AddSource(EmitAndEnd(switch_on ? std::vector<std::string>{"on"}
                                                    : std::vector<std::string>{}))
                    .Uid("switch");
      counted = keyed.Connect(on.Broadcast(kSwitch)).Process(CountWhenOn());
    } else {
      counted = keyed.Process(CountWords());
    }
    DataStream<std::string> counts = *counted;
    counts.Uid("count-words");
    if (windowed) {
      // A GlobalWindow's results carry its MaxTimestamp, the end of time (as in Flink), which a
      // broker with message.timestamp.after.max.ms refuses as a record timestamp: the records go
      // out with their send time instead.
      counts = counts.AssignTimestampsAndWatermarks(
          WatermarkStrategy<std::string>::NoWatermarks().WithTimestampAssigner(
              [](const std::string&, int64_t) { return kNoTimestamp; }));
      counts.Uid("send-time");
    }
    counts.SinkTo(sink_it::StringSink(out.name(), guarantee, job.prefix)).Uid("kafka-sink");
    return env->ExecuteAsync(job.name);
  }

  // Polls the read_committed output until it holds every count of the input so far.
  bool WaitForAllCounts(milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
    while (std::chrono::steady_clock::now() < deadline) {
      if (static_cast<int64_t>(CountStrings(out.name(), kOutputPartitions).size()) >= total())
        return true;
    }
    return false;
  }

  // Runs the job until its committed output holds every count so far and it committed a few
  // checkpoints, then cancels it (aborting its open epoch).
  void RunToTheEnd(int32_t parallelism) const {
    std::unique_ptr<JobClient> client = Start(parallelism);
    CancelAtExit cancel{client.get()};
    ASSERT_TRUE(WaitForAllCounts(seconds(90))) << "the job did not count its input";
    client->Cancel();
    JobExecutionResult result = client->WaitForResult();
    ASSERT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  }

  // Every word w seen n times has the outputs w:1 .. w:n, each once, and nothing else.
  void ExpectExactCounts() const {
    const std::map<std::string, int> output = CountStrings(out.name(), kOutputPartitions);
    int64_t missing = 0;
    int64_t duplicated = 0;
    std::string example;
    for (const auto& [word, n] : occurrences) {
      for (int64_t k = 1; k <= Expected(n); ++k) {
        auto it = output.find(word + ":" + std::to_string(k));
        if (it == output.end()) {
          ++missing;
          if (example.empty()) example = word + ":" + std::to_string(k) + " missing";
        } else if (it->second != 1) {
          ++duplicated;
          if (example.empty()) example = it->first + " written " + std::to_string(it->second) + "x";
        }
      }
    }
    EXPECT_EQ(missing, 0) << example;
    EXPECT_EQ(duplicated, 0) << example;
    EXPECT_EQ(static_cast<int64_t>(output.size()), total()) << "outputs beyond the counts";
  }

  // The newest checkpoint directory (chk-N) of the job, or an empty path.
  std::filesystem::path NewestCheckpoint() const {
    std::filesystem::path newest;
    int64_t newest_id = -1;
    if (!std::filesystem::exists(job.checkpoints)) return newest;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(job.checkpoints)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_directory() || !name.starts_with("chk-")) continue;
      const int64_t id = std::stoll(name.substr(4));
      if (id > newest_id) {
        newest_id = id;
        newest = entry.path();
      }
    }
    return newest;
  }
};

// Runs the job again and expects it to fail (it must not restart or write) with `expected`.
void ExpectRestoreFails(const WordCountJob& setup, const std::string& expected) {
  const size_t outputs_before = CountStrings(setup.out.name(), kOutputPartitions).size();
  std::unique_ptr<JobClient> client = setup.Start(2);
  CancelAtExit cancel{client.get()};
  // Bounded: a job that wrongly restored would run on forever.
  const auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(60));
  while (client->GetJobStatus() != JobStatus::kFailed &&
         client->GetJobStatus() != JobStatus::kFinished &&
         client->GetJobStatus() != JobStatus::kCanceled) {
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "the job is still running after 60 s: it restored something";
      client->Cancel();
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));  // polling the job's status
  }
  JobExecutionResult result = client->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_THAT(result.failure.message(), HasSubstr(expected));
  EXPECT_EQ(result.restarts, 0);
  EXPECT_EQ(CountStrings(setup.out.name(), kOutputPartitions).size(), outputs_before)
      << "a job that cannot restore its state wrote output";
}

// rd_kafka_DeleteRecords: everything below each partition's end goes, as retention would.
void DeleteAllRecords(const std::string& topic, int partitions) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_END;
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(list.get());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
  rd_kafka_DeleteRecords(admin.get(), &request, 1, nullptr, queue);
  rd_kafka_DeleteRecords_destroy(request);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(Scaled(milliseconds(30000)).count()));
  rd_kafka_queue_destroy(queue);
  if (event == nullptr) throw std::runtime_error("DeleteRecords: no answer");
  const rd_kafka_resp_err_t err = rd_kafka_event_error(event);
  std::string what = rd_kafka_event_error_string(event);
  const rd_kafka_topic_partition_list_t* result =
      rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event));
  bool partition_failed = false;
  for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && result != nullptr && i < result->cnt; ++i) {
    if (result->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      what = rd_kafka_err2str(result->elems[i].err);
      partition_failed = true;
    }
  }
  rd_kafka_event_destroy(event);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || partition_failed)
    throw std::runtime_error("DeleteRecords on " + topic + ": " + what);
}

void FlipOneByteOfAStateFile(const std::filesystem::path& checkpoint) {
  for (const auto& entry : std::filesystem::directory_iterator(checkpoint)) {
    if (entry.path().extension() != ".state" || entry.file_size() < 16) continue;
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(entry.file_size() / 2));
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(static_cast<std::streamoff>(entry.file_size() / 2));
    byte = static_cast<char>(byte ^ 0x01);
    file.write(&byte, 1);
    return;
  }
  FAIL() << "no state file in " << checkpoint;
}

void RestoresFromTheChangelogAlone(int32_t from, int32_t to, bool windowed = false,
                                   bool broadcast = false) {
  WordCountJob setup;
  setup.windowed = windowed;
  setup.broadcast = broadcast;
  setup.ProduceBatch(250);
  setup.RunToTheEnd(from);
  // A new host: same flags, same Kafka, no checkpoint directory.
  std::filesystem::remove_all(setup.job.checkpoints);
  setup.switch_on = false;  // the broadcast variant's "on" is in its broadcast state only now
  setup.ProduceBatch(250);
  std::unique_ptr<JobClient> client = setup.Start(to);
  CancelAtExit cancel{client.get()};
  EXPECT_TRUE(setup.WaitForAllCounts(seconds(90)));
  client->Cancel();
  JobExecutionResult result = client->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  EXPECT_TRUE(result.restored_checkpoint.has_value())
      << "with no checkpoint directory, only the changelog can have restored a checkpoint";
  setup.ExpectExactCounts();
}

TEST(StateChangelogIT, ALostCheckpointDirectoryIsRebuiltFromKafka) {
  RestoresFromTheChangelogAlone(2, 2);
}

TEST(StateChangelogIT, RescalesFrom2To4FromTheChangelogAlone) {
  RestoresFromTheChangelogAlone(2, 4);
}

TEST(StateChangelogIT, RescalesFrom4To2FromTheChangelogAlone) {
  RestoresFromTheChangelogAlone(4, 2);
}

TEST(StateChangelogIT, OpenWindowsRescaleFrom2To4FromTheChangelogAlone) {
  RestoresFromTheChangelogAlone(2, 4, /*windowed=*/true);
}

TEST(StateChangelogIT, BroadcastAndKeyedStateRescaleFrom2To4FromTheChangelogAlone) {
  RestoresFromTheChangelogAlone(2, 4, /*windowed=*/false, /*broadcast=*/true);
}

TEST(StateChangelogIT, BroadcastAndKeyedStateRescaleFrom4To2FromTheChangelogAlone) {
  RestoresFromTheChangelogAlone(4, 2, /*windowed=*/false, /*broadcast=*/true);
}

TEST(StateChangelogIT, EveryCheckpointNamesItsChangelogTopics) {
  // What `sluice checkpoints` lists: _metadata's properties name each operator's topic.
  WordCountJob setup;
  setup.ProduceBatch(50);
  setup.RunToTheEnd(2);
  const std::filesystem::path checkpoint = setup.NewestCheckpoint();
  ASSERT_FALSE(checkpoint.empty());
  std::ifstream file(checkpoint / "_metadata");
  const std::string metadata((std::istreambuf_iterator<char>(file)),
                             std::istreambuf_iterator<char>());
  for (const char* uid : {"kafka-source", "count-words", "kafka-sink"}) {
    EXPECT_THAT(metadata, HasSubstr("\"state.changelog.topic." + std::string(uid) + "\": \"" +
                                    setup.job.prefix + "." + uid + ".changelog\""));
    EXPECT_FALSE(TopicsWithPrefix(setup.job.prefix + "." + uid + ".changelog").empty()) << uid;
  }
}

TEST(StateChangelogIT, ACorruptLocalStateFileIsBypassedForTheChangelog) {
  WordCountJob setup;
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  const std::filesystem::path checkpoint = setup.NewestCheckpoint();
  ASSERT_FALSE(checkpoint.empty());
  FlipOneByteOfAStateFile(checkpoint);
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  setup.ExpectExactCounts();
}

TEST(StateChangelogIT, AnIntactLocalCheckpointIsUsedAndHealsACutChangelog) {
  WordCountJob setup;
  setup.CreateCountChangelogWithRetention();
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  // The changelog loses its records; the local files still hold checkpoint N. Had the job read
  // Kafka, it would fail (the next test); it restores from the files and writes its state to
  // the changelog in full again.
  DeleteAllRecords(setup.count_changelog(), 128);
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  setup.ExpectExactCounts();
  // Proof that the changelog was made whole: now without the files.
  std::filesystem::remove_all(setup.job.checkpoints);
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  setup.ExpectExactCounts();
}

TEST(StateChangelogIT, AChangelogCutByRetentionFailsARestoreFromKafkaNamingTheTopic) {
  WordCountJob setup;
  setup.CreateCountChangelogWithRetention();
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  DeleteAllRecords(setup.count_changelog(), 128);
  std::filesystem::remove_all(setup.job.checkpoints);
  setup.ProduceBatch(50);
  ExpectRestoreFails(setup, setup.count_changelog());
}

TEST(StateChangelogIT, ADeletedChangelogTopicFailsARestoreFromKafkaNamingIt) {
  WordCountJob setup;
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  DeleteTopic(setup.count_changelog());
  std::filesystem::remove_all(setup.job.checkpoints);
  setup.ProduceBatch(50);
  ExpectRestoreFails(setup, setup.count_changelog());
}

TEST(StateChangelogIT, AChangelogRecreatedWithAnotherPartitionCountFailsNamingIt) {
  WordCountJob setup;
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  DeleteTopic(setup.count_changelog());
  CreateTopic(setup.count_changelog(), 16, {{"cleanup.policy", "compact"}});
  setup.ProduceBatch(50);
  ExpectRestoreFails(setup, setup.count_changelog());
}

TEST(StateChangelogIT, OffKeepsStateInTheCheckpointDirectoryOnly) {
  WordCountJob setup;
  setup.ProduceBatch(100);
  std::unique_ptr<JobClient> client;
  {
    // Same job with the changelog off: no changelog topic appears.
    auto off = StreamExecutionEnvironment::Create();
    off->SetParallelism(2).SetHandleSignals(false);
    off->EnableCheckpointing(milliseconds(100));
    off->EnableChangelogStateBackend(false);
    off->GetCheckpointConfig().SetCheckpointStorage(setup.job.checkpoints.string());
    off->SetRestartStrategy(RestartStrategy::NoRestart());
    off->FromSource<std::string>(Built(Builder(setup.in.name())
                                           .SetGroupId(setup.group)
                                           .SetStartingOffsets(OffsetsInitializer::Earliest())),
                                 WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
        .Uid("kafka-source")
        .KeyBy([](const std::string& word) { return word; })
        .Process(CountWords())
        .Uid("count-words")
        .SinkTo(sink_it::StringSink(setup.out.name(), DeliveryGuarantee::kExactlyOnce,
                                    setup.job.prefix))
        .Uid("kafka-sink");
    client = off->ExecuteAsync(setup.job.name);
  }
  CancelAtExit cancel{client.get()};
  ASSERT_TRUE(setup.WaitForAllCounts(seconds(90)));
  client->Cancel();
  EXPECT_EQ(client->WaitForResult().status, JobStatus::kCanceled);
  EXPECT_TRUE(TopicsWithPrefix(setup.job.prefix + ".count-words").empty());
  setup.ExpectExactCounts();
}

// The transactions of a job without an EXACTLY_ONCE sink are named after the job.
struct StateTopicsCleanup {
  std::string job_name;
  ~StateTopicsCleanup() {
    DeleteTopicsWithPrefix(kafka::detail::StatePrefixForJob(job_name) + ".");
  }
};

// An AT_LEAST_ONCE job asked to keep its state in Kafka: its own transactions carry the
// changelog, the marker and the source offsets, so a new host restores the counts from Kafka.
// Its output may repeat what followed the last committed checkpoint (at least once), but a
// count never restarts: every word w seen n times has each of w:1 .. w:n, and nothing above n.
TEST(StateChangelogIT, AnAtLeastOnceJobAskedForKafkaRestoresFromItsOwnTransactions) {
  WordCountJob setup;
  setup.guarantee = DeliveryGuarantee::kAtLeastOnce;
  StateTopicsCleanup cleanup{setup.job.name};
  setup.ProduceBatch(250);
  setup.RunToTheEnd(2);
  const std::string changelog =
      kafka::detail::StatePrefixForJob(setup.job.name) + ".count-words.changelog";
  ASSERT_FALSE(TopicsWithPrefix(changelog).empty()) << "no changelog topic " << changelog;
  EXPECT_FALSE(
      TopicsWithPrefix(kafka::detail::StatePrefixForJob(setup.job.name) + ".sluice-control")
          .empty());
  std::filesystem::remove_all(setup.job.checkpoints);  // a new host
  setup.ProduceBatch(250);
  std::unique_ptr<JobClient> client = setup.Start(3);
  CancelAtExit cancel{client.get()};
  ASSERT_TRUE(setup.WaitForAllCounts(seconds(90)));
  client->Cancel();
  JobExecutionResult result = client->WaitForResult();
  EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
  EXPECT_TRUE(result.restored_checkpoint.has_value())
      << "with no checkpoint directory, only the changelog can have restored a checkpoint";
  const std::map<std::string, int> output = CountStrings(setup.out.name(), kOutputPartitions);
  std::map<std::string, int64_t> highest;
  for (const auto& [record, times] : output) {
    const size_t colon = record.rfind(':');
    int64_t& top = highest[record.substr(0, colon)];
    top = std::max<int64_t>(top, std::stoll(record.substr(colon + 1)));
  }
  int64_t missing = 0;
  for (const auto& [word, n] : setup.occurrences) {
    EXPECT_EQ(highest[word], n) << word
                                << ": a count above its occurrences restarted from a "
                                   "lost state, or one below lost records";
    for (int64_t k = 1; k <= n; ++k) missing += output.count(word + ":" + std::to_string(k)) == 0;
  }
  EXPECT_EQ(missing, 0);
}

// A job whose only Kafka client is its source keeps its state on the source's cluster.
TEST(StateChangelogIT, AJobWithoutAKafkaSinkKeepsItsStateOnItsSourcesCluster) {
  ScopedTopic in{"changelog-source-only-in", 2};
  const std::string name = UniqueName("changelog-source-only");
  StateTopicsCleanup cleanup{name};
  const std::filesystem::path checkpoints =
      std::filesystem::temp_directory_path() / UniqueName("changelog-source-only-chk");
  static std::mutex mutex;
  static std::map<std::string, int64_t> highest;  // word -> the highest count output
  static std::atomic<int64_t> completed{0};       // checkpoints completed (both runs)
  struct Highest final : SinkFunction<std::string>, CheckpointListener {
    void Invoke(const std::string& record, const SinkContext&) override {
      const size_t colon = record.rfind(':');
      std::lock_guard lock(mutex);
      int64_t& top = highest[record.substr(0, colon)];
      top = std::max<int64_t>(top, std::stoll(record.substr(colon + 1)));
    }
    void NotifyCheckpointComplete(CheckpointId) override { ++completed; }
  };
  std::map<std::string, int64_t> occurrences;
  auto produce = [&](int n) {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    for (int32_t p = 0; p < 2; ++p) {
      std::vector<std::pair<std::string, std::string>> records;
      for (int i = 0; i < n; ++i) {
        const std::string word = "w" + std::to_string((p * 5 + i) % 40);
        records.emplace_back(word, word);
        ++occurrences[word];
      }
      ProduceAndWait(producer.get(), in.name(), p, records);
    }
  };
  auto run_until_counted = [&] {
    auto env = StreamExecutionEnvironment::Create();
    env->SetParallelism(2).SetHandleSignals(false);
    env->EnableCheckpointing(milliseconds(100));
    env->EnableChangelogStateBackend(true);
    env->GetCheckpointConfig().SetCheckpointStorage(checkpoints.string());
    env->SetRestartStrategy(RestartStrategy::NoRestart());
    env->FromSource<std::string>(
           Built(Builder(in.name()).SetGroupId(name).SetStartingOffsets(
               OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest))),
           WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
        .Uid("kafka-source")
        .KeyBy([](const std::string& word) { return word; })
        .Process(CountWords())
        .Uid("count-words")
        .AddSink(Highest())
        .Uid("highest");
    std::unique_ptr<JobClient> client = env->ExecuteAsync(name);
    CancelAtExit cancel{client.get()};
    const auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(90));
    auto counted = [&] {
      std::lock_guard lock(mutex);
      for (const auto& [word, n] : occurrences) {
        if (highest[word] < n) return false;
      }
      return true;
    };
    while (!counted() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(20));  // polling the sink's view
    // A checkpoint begun after the last record committed the state that counted it.
    const int64_t before = completed.load();
    while (completed.load() < before + 2 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(20));  // polling the sink's notifications
    client->Cancel();
    JobExecutionResult result = client->WaitForResult();
    EXPECT_EQ(result.status, JobStatus::kCanceled) << result.failure.ToString();
    return result;
  };
  produce(100);
  run_until_counted();
  std::filesystem::remove_all(checkpoints);  // a new host
  produce(100);
  JobExecutionResult second = run_until_counted();
  EXPECT_TRUE(second.restored_checkpoint.has_value());
  std::lock_guard lock(mutex);
  for (const auto& [word, n] : occurrences)
    EXPECT_EQ(highest[word], n) << word << ": the second run did not continue the first's count";
  std::filesystem::remove_all(checkpoints);
}

TEST(StateChangelogIT, KafkaWithoutAKafkaClientIsRefusedAtStart) {
  auto env = StreamExecutionEnvironment::Create();
  env->SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(100));
  env->EnableChangelogStateBackend(true);
  env->FromElements<std::string>("a", "b").Print();
  JobExecutionResult result = env->Execute("changelog-without-kafka");
  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.failure.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.failure.message(), HasSubstr("--state.changelog=kafka"));
  EXPECT_THAT(result.failure.message(), HasSubstr("no Kafka source or sink"));
}

TEST(StateChangelogIT, KafkaWithoutCheckpointingIsRefusedAtStart) {
  ScopedTopic in{"changelog-refused-in", 1};
  auto env = StreamExecutionEnvironment::Create();
  env->SetHandleSignals(false);
  env->EnableChangelogStateBackend(true);
  env->FromSource<std::string>(Built(Builder(in.name())),
                               WatermarkStrategy<std::string>::NoWatermarks(), "Kafka Source")
      .Print();
  JobExecutionResult result = env->Execute("changelog-without-checkpoints");
  EXPECT_EQ(result.status, JobStatus::kFailed);
  EXPECT_EQ(result.failure.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result.failure.message(), HasSubstr("checkpointing is off"));
}

}  // namespace
}  // namespace sluice::testing
