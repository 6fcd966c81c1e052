// exactly_once_word_count: a running word count from Kafka to Kafka, exactly once.
//
//   Kafka topic --input-topic (lines of text)
//     -> split each line on whitespace
//     -> KeyBy(word) -> running count in ValueState<int64_t>
//     -> Kafka topic --output-topic, EXACTLY_ONCE: key = the word, value = its count so far
//
// so a word that occurs n times in the input has exactly the values 1, 2, ..., n in the
// output, in this order, on one partition (the key picks it), however often the job is killed
// and started again. Readers must use isolation.level=read_committed (librdkafka's default).
//
// usage: exactly_once_word_count [--input-topic words] [--output-topic word-counts]
//            [--group-id word-count] [--transactional-id-prefix word-count]
//            [--bootstrap-servers 127.0.0.1:19092] [--property KEY=VALUE ...] [--bounded]
//            [--savepoint-dir savepoints] [--delivery-guarantee exactly-once]
//            [standard flags: --checkpoint-interval 1s, --checkpoint-dir checkpoints/,
//             --parallelism N, --fresh, --from-savepoint PATH, --log-level, ...]
//
// Started again with the same --checkpoint-dir, the job resumes by itself from its last
// committed checkpoint (the Kafka transaction commit is the checkpoint's completion: see
// docs/kafka-sink.md), and says so on stdout before it reads anything:
//
//   restored checkpoint 7 (offsets p0=1200 p1=1187 p2=1203 p3=1190)
//
// or, on a first start, "no checkpoint to restore: reading 'words' from the earliest offsets".
// A first start reads the input from its earliest offsets, so the counts cover the whole topic;
// the group id only receives the offsets of completed checkpoints, for monitoring (lag).
//
// Stopping: SIGTERM stops with a savepoint and exits 0 (everything counted so far is
// committed); SIGINT cancels; SIGKILL loses nothing that was committed, and the next start
// repeats the rest. --bounded reads up to the end offsets seen at start, commits the output in
// a final checkpoint and exits 0.
//
// --delivery-guarantee at-least-once (or none) is there for comparison only: killed and
// restarted like this, the job repeats counts (at-least-once) or loses some (none), which is
// what tests/crash shows when it is given --job-arg=--delivery-guarantee=at-least-once.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "example_flags.h"

namespace {

using WordCount = std::pair<std::string, int64_t>;

// One input record: its text and where it was in the input topic.
struct Line {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string text;
};

// Keeps the record's position next to its text, so that SplitWords can say where a restored
// job resumes. Tombstones carry no words and are skipped.
class LineDeserializer final : public sluice::kafka::KafkaRecordDeserializationSchema<Line> {
 public:
  void Deserialize(const sluice::kafka::ConsumerRecord& record,
                   sluice::Collector<Line>& out) override {
    if (!record.value) return;
    out.Collect(Line{record.partition, record.offset, std::string(*record.value)});
  }
};

// Splits a line into words on whitespace (spaces, tabs, newlines).
//
// It also remembers, per input partition, the offset after the last line it split, and the id
// of the checkpoint that saved this. The job does not need this to be correct (the Kafka source
// checkpoints and restores its own offsets); it is kept only to tell the user, on a restart,
// which checkpoint was restored and where reading resumes. The splitter is chained to the
// source, so at a checkpoint it has seen exactly the lines the source read before the barrier,
// and its positions are the source's checkpointed offsets.
class SplitWords final : public sluice::RichFlatMapFunction<Line, std::string>,
                         public sluice::CheckpointedFunction {
 public:
  explicit SplitWords(std::string input_topic) : input_topic_(std::move(input_topic)) {}

  void Open() override {
    sluice::RuntimeContext& context = GetRuntimeContext();
    // Union state: after a restore every instance sees what every instance saved, whatever
    // partitions it reads now.
    checkpoint_ids_ =
        &context.GetUnionListState(sluice::ListStateDescriptor<int64_t>("restored-checkpoint-id"));
    positions_ = &context.GetUnionListState(
        sluice::ListStateDescriptor<std::pair<int32_t, int64_t>>("next-offset-per-partition"));
    if (!context.IsRestored()) {
      if (context.GetIndexOfThisSubtask() == 0) {
        std::printf("no checkpoint to restore: reading '%s' from the earliest offsets\n",
                    input_topic_.c_str());
        std::fflush(stdout);
      }
      return;
    }
    int64_t restored_id = 0;
    for (int64_t id : checkpoint_ids_->Get()) restored_id = std::max(restored_id, id);
    // Every instance saved every position it knew, so a partition may appear more than once:
    // offsets only grow, the largest is the latest.
    for (const auto& [partition, next_offset] : positions_->Get()) {
      int64_t& known = next_offsets_[partition];
      known = std::max(known, next_offset);
    }
    if (context.GetIndexOfThisSubtask() == 0) {
      std::string offsets;
      for (const auto& [partition, next_offset] : next_offsets_) {
        offsets += (offsets.empty() ? "" : " ") + ("p" + std::to_string(partition)) + "=" +
                   std::to_string(next_offset);
      }
      std::printf("restored checkpoint %lld (offsets %s)\n", static_cast<long long>(restored_id),
                  offsets.empty() ? "none yet" : offsets.c_str());
      std::fflush(stdout);
    }
  }

  void FlatMap(Line line, sluice::Collector<std::string>& out) override {
    next_offsets_[line.partition] = line.offset + 1;
    std::string_view text = line.text;
    constexpr std::string_view kWhitespace = " \t\r\n\f\v";
    size_t begin = text.find_first_not_of(kWhitespace);
    while (begin != std::string_view::npos) {
      size_t end = text.find_first_of(kWhitespace, begin);
      out.Collect(
          std::string(text.substr(begin, end == std::string_view::npos ? end : end - begin)));
      if (end == std::string_view::npos) break;
      begin = text.find_first_not_of(kWhitespace, end);
    }
  }

  void SnapshotState(sluice::CheckpointId id) override {
    checkpoint_ids_->Update({id.value()});
    positions_->Update(
        std::vector<std::pair<int32_t, int64_t>>(next_offsets_.begin(), next_offsets_.end()));
  }

 private:
  std::string input_topic_;
  sluice::ListState<int64_t>* checkpoint_ids_ = nullptr;
  sluice::ListState<std::pair<int32_t, int64_t>>* positions_ = nullptr;
  std::map<int32_t, int64_t> next_offsets_;
};

// The running count per word, kept in keyed state so that it survives failures.
class CountWords final : public sluice::KeyedProcessFunction<std::string, std::string, WordCount> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(sluice::ValueStateDescriptor<int64_t>("count"));
  }

  void ProcessElement(std::string word, Context&, sluice::Collector<WordCount>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect({std::move(word), count});
  }

 private:
  sluice::ValueState<int64_t>* count_ = nullptr;
};

// The output record's key: the word.
class WordSchema final : public sluice::kafka::SerializationSchema<WordCount> {
 public:
  bool Serialize(const WordCount& element, std::string& out) override {
    out.append(element.first);
    return true;
  }
};

// The output record's value: the count in decimal.
class CountSchema final : public sluice::kafka::SerializationSchema<WordCount> {
 public:
  bool Serialize(const WordCount& element, std::string& out) override {
    out.append(std::to_string(element.second));
    return true;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "A running word count from Kafka to Kafka, exactly once across crashes and restarts"};
  std::string input_topic = "words";
  std::string output_topic = "word-counts";
  std::string group_id = "word-count";
  std::string transactional_id_prefix = "word-count";
  std::string bootstrap_servers = sluice_examples::DefaultBootstrapServers();
  std::vector<std::string> property_pairs;
  bool bounded = false;
  std::string savepoint_dir = "savepoints";
  std::string guarantee_name = "exactly-once";
  app.add_option("--input-topic", input_topic, "the topic of text lines to count (it must exist)")
      ->capture_default_str();
  app.add_option("--output-topic", output_topic,
                 "the topic the running counts go to (it must exist)")
      ->capture_default_str();
  app.add_option("--group-id", group_id,
                 "the consumer group that completed checkpoints commit offsets to")
      ->capture_default_str();
  app.add_option(
         "--transactional-id-prefix", transactional_id_prefix,
         "prefix of the sink's transactional ids and control topic; one running job per prefix")
      ->capture_default_str();
  app.add_option("--bootstrap-servers", bootstrap_servers,
                 "Kafka bootstrap servers (or SLUICE_BOOTSTRAP_SERVERS)")
      ->capture_default_str();
  app.add_flag("--bounded", bounded, "stop at the end offsets seen at start (commit, then exit 0)");
  app.add_option("--savepoint-dir", savepoint_dir, "where SIGTERM's savepoint goes")
      ->capture_default_str();
  app.add_option("--delivery-guarantee", guarantee_name,
                 "exactly-once; at-least-once or none only to compare what a crash does to them")
      ->check(CLI::IsMember({"exactly-once", "at-least-once", "none"}))
      ->capture_default_str();
  sluice_examples::AddPropertyFlag(app, property_pairs);
  auto env = sluice_examples::ParseExampleArgs(app, argc, argv);

  // --checkpoint-interval, when given, wins over this default. Each checkpoint commits one
  // Kafka transaction, so this is also how long output waits before readers see it.
  env->EnableCheckpointing(std::chrono::seconds(1));
  env->GetCheckpointConfig().SetSavepointDirectory(savepoint_dir);

  const sluice::kafka::Properties properties = sluice_examples::WithProperties({}, property_pairs);
  const sluice::kafka::DeliveryGuarantee guarantee =
      guarantee_name == "exactly-once"    ? sluice::kafka::DeliveryGuarantee::kExactlyOnce
      : guarantee_name == "at-least-once" ? sluice::kafka::DeliveryGuarantee::kAtLeastOnce
                                          : sluice::kafka::DeliveryGuarantee::kNone;

  auto source_builder = sluice::kafka::KafkaSource<Line>::Builder();
  source_builder.SetBootstrapServers(bootstrap_servers)
      .SetTopics(input_topic)
      .SetGroupId(group_id)
      .SetStartingOffsets(sluice::kafka::OffsetsInitializer::Earliest())
      .SetDeserializer(LineDeserializer())
      .SetProperties(properties);
  if (bounded) source_builder.SetBounded(sluice::kafka::OffsetsInitializer::Latest());
  auto source = source_builder.Build();
  if (!source.ok()) sluice_examples::ExitWithUsageError(argv[0], source.status().message());

  auto sink =
      sluice::kafka::KafkaSink<WordCount>::Builder()
          .SetBootstrapServers(bootstrap_servers)
          .SetRecordSerializer(sluice::kafka::KafkaRecordSerializationSchema<WordCount>::Builder()
                                   .SetTopic(output_topic)
                                   .SetKeySerializationSchema(WordSchema())
                                   .SetValueSerializationSchema(CountSchema())
                                   // One word, one partition: its counts stay in order.
                                   .SetPartitioner(sluice::kafka::KeyHashPartitioner<WordCount>())
                                   .Build())
          .SetDeliveryGuarantee(guarantee)
          .SetTransactionalIdPrefix(transactional_id_prefix)
          .SetProperties(properties)
          .Build();
  if (!sink.ok()) sluice_examples::ExitWithUsageError(argv[0], sink.status().message());

  env->FromSource<Line>(*source, sluice::WatermarkStrategy<Line>::NoWatermarks(),
                        "Kafka: " + input_topic)
      .Uid("kafka-source")
      .FlatMap(SplitWords(input_topic))
      .Name("split words")
      .Uid("split-words")
      .KeyBy([](const std::string& word) { return word; })
      .Process(CountWords())
      .Name("count words")
      .Uid("count-words")
      .SinkTo(*sink)
      .Name("Kafka: " + output_topic)
      .Uid("kafka-sink");

  sluice::JobExecutionResult result = env->Execute("exactly-once word count");
  if (result.savepoint_path)
    std::printf("stopped with a savepoint in %s\n", result.savepoint_path->c_str());
  return sluice_examples::ExitCode(argv[0], result);
}
