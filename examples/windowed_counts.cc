// windowed_counts: a tumbling event-time count per key, from Kafka to Kafka, with late records
// sent to a topic of their own (docs/windows.md).
//
//   Kafka topic --input-topic (each record's value is a key, e.g. a user id; its event time is
//   the record's Kafka timestamp)
//     -> watermarks per partition, --out-of-orderness behind the largest timestamp seen
//     -> KeyBy(value) -> TumblingEventTimeWindows::Of(--window) -> count
//     -> Kafka topic --output-topic: key = the key, value = "<start> <end> <count>" (window
//        bounds in epoch milliseconds, end exclusive), EXACTLY_ONCE
//   records too late for their window (after --allowed-lateness)
//     -> Kafka topic --late-topic, unchanged (key = the key, value = the key, same timestamp)
//
// Within the allowed lateness a late record fires its window again: the output then has a
// second, larger count for that key and window (the last one is the result). A window is
// counted when the watermark passes its end, so with --out-of-orderness 2s the count of
// [0s, 10s) appears once a record at 12 s or later has been read from every partition (an
// idle partition does not hold the watermark back after --idleness).
//
// usage: windowed_counts [--input-topic clicks] [--output-topic click-counts]
//            [--late-topic late-clicks] [--window 10s] [--out-of-orderness 2s]
//            [--allowed-lateness 0] [--idleness 5s] [--group-id windowed-counts]
//            [--transactional-id-prefix windowed-counts] [--bootstrap-servers 127.0.0.1:19092]
//            [--savepoint-dir savepoints] [--property KEY=VALUE ...] [--bounded]
//            [standard flags: --checkpoint-interval 1s, --checkpoint-dir checkpoints/, ...]
//
// Open windows are keyed state: SIGTERM stops with a savepoint, and a restart (same
// --checkpoint-dir) resumes with every open window's count. --bounded reads up to the end
// offsets seen at start; the end of input fires every open window, then the job exits 0.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "example_flags.h"

namespace {

// A key's count in one window.
struct WindowCount {
  std::string key;
  int64_t start = 0;
  int64_t end = 0;
  int64_t count = 0;
};

// The record's value is the key; tombstones carry none and are skipped.
class KeyDeserializer final : public sluice::kafka::KafkaRecordDeserializationSchema<std::string> {
 public:
  void Deserialize(const sluice::kafka::ConsumerRecord& record,
                   sluice::Collector<std::string>& out) override {
    if (record.value) out.Collect(std::string(*record.value));
  }
};

class Count final : public sluice::AggregateFunction<std::string, int64_t, int64_t> {
 public:
  int64_t CreateAccumulator() override { return 0; }
  int64_t Add(const std::string&, int64_t count) override { return count + 1; }
  int64_t GetResult(const int64_t& count) override { return count; }
  int64_t Merge(int64_t a, int64_t b) override { return a + b; }
};

// Puts the key and the window next to the count.
class WithWindow final
    : public sluice::ProcessWindowFunction<int64_t, WindowCount, std::string, sluice::TimeWindow> {
 public:
  void Process(const std::string& key, Context& ctx, const std::vector<int64_t>& counts,
               sluice::Collector<WindowCount>& out) override {
    out.Collect({key, ctx.Window().Start(), ctx.Window().End(), counts.at(0)});
  }
};

class CountKeySchema final : public sluice::kafka::SerializationSchema<WindowCount> {
 public:
  bool Serialize(const WindowCount& element, std::string& out) override {
    out.append(element.key);
    return true;
  }
};

class CountValueSchema final : public sluice::kafka::SerializationSchema<WindowCount> {
 public:
  bool Serialize(const WindowCount& element, std::string& out) override {
    out.append(std::to_string(element.start) + " " + std::to_string(element.end) + " " +
               std::to_string(element.count));
    return true;
  }
};

// A duration flag that may be 0 ("0", "0ms", "2s").
std::string CheckDurationOrZero(const std::string& text) {
  sluice::Result<std::chrono::milliseconds> parsed = sluice::ParseDuration(text);
  return parsed.ok() ? "" : parsed.status().message();
}
std::chrono::milliseconds Duration(const std::string& text) {
  return *sluice::ParseDuration(text);  // checked by the flag
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A tumbling event-time count per key from Kafka to Kafka, late records to a topic"};
  std::string input_topic = "clicks";
  std::string output_topic = "click-counts";
  std::string late_topic = "late-clicks";
  std::string window = "10s";
  std::string out_of_orderness = "2s";
  std::string allowed_lateness = "0";
  std::string idleness = "5s";
  std::string group_id = "windowed-counts";
  std::string transactional_id_prefix = "windowed-counts";
  std::string bootstrap_servers = sluice_examples::DefaultBootstrapServers();
  std::vector<std::string> property_pairs;
  bool bounded = false;
  app.add_option("--input-topic", input_topic, "the topic of keys to count (it must exist)")
      ->capture_default_str();
  app.add_option("--output-topic", output_topic, "where the window counts go (it must exist)")
      ->capture_default_str();
  app.add_option("--late-topic", late_topic, "where late records go (it must exist)")
      ->capture_default_str();
  app.add_option("--window", window, "the size of the tumbling windows")
      ->check(sluice_examples::CheckDuration)
      ->capture_default_str();
  app.add_option("--out-of-orderness", out_of_orderness,
                 "how far behind the largest timestamp seen the watermark stays")
      ->check(CheckDurationOrZero)
      ->capture_default_str();
  app.add_option("--allowed-lateness", allowed_lateness,
                 "how long after its end a window still takes late records (each fires it again)")
      ->check(CheckDurationOrZero)
      ->capture_default_str();
  app.add_option("--idleness", idleness,
                 "after how long without records a partition stops holding the watermark back")
      ->check(sluice_examples::CheckDuration)
      ->capture_default_str();
  app.add_option("--group-id", group_id,
                 "the consumer group that completed checkpoints commit offsets to")
      ->capture_default_str();
  app.add_option("--transactional-id-prefix", transactional_id_prefix,
                 "prefix of the sinks' transactional ids; one running job per prefix")
      ->capture_default_str();
  app.add_option("--bootstrap-servers", bootstrap_servers,
                 "Kafka bootstrap servers (or SLUICE_BOOTSTRAP_SERVERS)")
      ->capture_default_str();
  std::string savepoint_dir = "savepoints";
  app.add_option("--savepoint-dir", savepoint_dir, "where SIGTERM's savepoint goes")
      ->capture_default_str();
  app.add_flag("--bounded", bounded,
               "stop at the end offsets seen at start (every open window fires, then exit 0)");
  sluice_examples::AddPropertyFlag(app, property_pairs);
  auto env = sluice_examples::ParseExampleArgs(app, argc, argv);
  // --checkpoint-interval, when given, wins: each checkpoint commits the output so far.
  env->EnableCheckpointing(std::chrono::seconds(1));
  env->GetCheckpointConfig().SetSavepointDirectory(savepoint_dir);

  const sluice::kafka::Properties properties = sluice_examples::WithProperties({}, property_pairs);
  auto source_builder = sluice::kafka::KafkaSource<std::string>::Builder();
  source_builder.SetBootstrapServers(bootstrap_servers)
      .SetTopics(input_topic)
      .SetGroupId(group_id)
      .SetStartingOffsets(sluice::kafka::OffsetsInitializer::Earliest())
      .SetDeserializer(KeyDeserializer())
      .SetProperties(properties);
  if (bounded) source_builder.SetBounded(sluice::kafka::OffsetsInitializer::Latest());
  auto source = source_builder.Build();
  if (!source.ok()) sluice_examples::ExitWithUsageError(argv[0], source.status().message());

  auto counts_sink =
      sluice::kafka::KafkaSink<WindowCount>::Builder()
          .SetBootstrapServers(bootstrap_servers)
          .SetRecordSerializer(sluice::kafka::KafkaRecordSerializationSchema<WindowCount>::Builder()
                                   .SetTopic(output_topic)
                                   .SetKeySerializationSchema(CountKeySchema())
                                   .SetValueSerializationSchema(CountValueSchema())
                                   .SetPartitioner(sluice::kafka::KeyHashPartitioner<WindowCount>())
                                   .Build())
          .SetDeliveryGuarantee(sluice::kafka::DeliveryGuarantee::kExactlyOnce)
          .SetTransactionalIdPrefix(transactional_id_prefix)
          .SetProperties(properties)
          .Build();
  if (!counts_sink.ok()) {
    sluice_examples::ExitWithUsageError(argv[0], counts_sink.status().message());
  }
  // Both sinks commit in the same transactions (one prefix, one cluster).
  auto late_sink =
      sluice::kafka::KafkaSink<std::string>::Builder()
          .SetBootstrapServers(bootstrap_servers)
          .SetRecordSerializer(sluice::kafka::KafkaRecordSerializationSchema<std::string>::Builder()
                                   .SetTopic(late_topic)
                                   .SetKeySerializationSchema(sluice::kafka::SimpleStringSchema())
                                   .SetValueSerializationSchema(sluice::kafka::SimpleStringSchema())
                                   .Build())
          .SetDeliveryGuarantee(sluice::kafka::DeliveryGuarantee::kExactlyOnce)
          .SetTransactionalIdPrefix(transactional_id_prefix)
          .SetProperties(properties)
          .Build();
  if (!late_sink.ok()) sluice_examples::ExitWithUsageError(argv[0], late_sink.status().message());

  const sluice::OutputTag<std::string> late("late");
  auto watermarks =
      sluice::WatermarkStrategy<std::string>::ForBoundedOutOfOrderness(Duration(out_of_orderness))
          .WithIdleness(Duration(idleness));
  auto counts = env->FromSource<std::string>(*source, watermarks, "Kafka: " + input_topic)
                    .Uid("kafka-source")
                    .KeyBy([](const std::string& key) { return key; })
                    .Window(sluice::TumblingEventTimeWindows::Of(Duration(window)))
                    .AllowedLateness(Duration(allowed_lateness))
                    .SideOutputLateData(late)
                    .Aggregate(Count(), WithWindow());
  counts.Name("count per window").Uid("window-counts");
  counts.SinkTo(*counts_sink).Name("Kafka: " + output_topic).Uid("counts-sink");
  counts.GetSideOutput(late).SinkTo(*late_sink).Name("Kafka: " + late_topic).Uid("late-sink");

  sluice::JobExecutionResult result = env->Execute("windowed counts");
  if (result.savepoint_path)
    std::printf("stopped with a savepoint in %s\n", result.savepoint_path->c_str());
  return sluice_examples::ExitCode(argv[0], result);
}
