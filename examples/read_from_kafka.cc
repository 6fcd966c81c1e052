// read_from_kafka: the C++ twin of the seed's Scala ReadFromKafka. Flink's legacy consumer
// (here KafkaConsumerSource, FlinkKafkaConsumer010's twin) reads topic flink001 with group.id
// "test" and auto.offset.reset "earliest" at parallelism 1, with a checkpoint every 5 seconds,
// and prints each record's value on its own line. The job is called "kafka - test001".
//
// usage: read_from_kafka [--topic flink001] [--group-id test] [--start-from group]
//                        [--bounded] [--bootstrap-servers 127.0.0.1:19092]
//                        [--property KEY=VALUE ...]
//                        [standard flags: --checkpoint-interval 5s, --fresh, --log-level, ...]
//
//   --start-from group               the group's committed offsets, else auto.offset.reset
//                                    (earliest, as the seed sets it): Flink's default
//                earliest | latest
//                timestamp:MS        the first record with a timestamp >= MS (epoch millis)
//                offsets:TOPIC/PARTITION=OFFSET,...   the next record to read per partition;
//                                    a partition not listed starts at the group's offset
//                                    (then auto.offset.reset), as in Flink
//   --bounded                        stop at the end offsets seen at start, then exit 0
//
// The seed's Kerberos properties are given as for write_into_kafka:
//   --property security.protocol=SASL_PLAINTEXT --property sasl.kerberos.service.name=kafka
//   --property sasl.kerberos.principal=me@EXAMPLE.COM --property sasl.kerberos.keytab=me.keytab
// Like every sluice job it resumes from its own latest checkpoint when started again (the
// checkpoint's offsets win over --start-from); --fresh starts over.
#include <sluice/connectors/kafka/kafka_consumer_source.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "example_flags.h"

namespace {

using sluice::kafka::OffsetsInitializer;
using sluice::kafka::TopicPartition;

// --start-from, parsed.
struct StartFrom {
  enum class Kind { kGroup, kEarliest, kLatest, kTimestamp, kOffsets } kind = Kind::kGroup;
  int64_t timestamp_ms = 0;
  std::map<TopicPartition, int64_t> offsets;
};

std::optional<int64_t> ParseNumber(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Throws std::invalid_argument with what is wrong and the accepted forms.
StartFrom ParseStartFrom(const std::string& text) {
  const std::string forms =
      "use group, earliest, latest, timestamp:MS or offsets:TOPIC/PARTITION=OFFSET,... "
      "(e.g. offsets:flink001/0=42,flink001/1=7)";
  StartFrom start;
  if (text == "group") return start;
  if (text == "earliest" || text == "latest") {
    start.kind = text == "earliest" ? StartFrom::Kind::kEarliest : StartFrom::Kind::kLatest;
    return start;
  }
  if (text.rfind("timestamp:", 0) == 0) {
    std::optional<int64_t> ms = ParseNumber(std::string_view(text).substr(10));
    if (!ms || *ms > sluice::CurrentTimeMillis()) {
      throw std::invalid_argument(
          "--start-from " + text +
          ": the timestamp must be milliseconds since the epoch, not in the future");
    }
    start.kind = StartFrom::Kind::kTimestamp;
    start.timestamp_ms = *ms;
    return start;
  }
  if (text.rfind("offsets:", 0) == 0) {
    start.kind = StartFrom::Kind::kOffsets;
    std::stringstream entries(text.substr(8));
    std::string entry;
    while (std::getline(entries, entry, ',')) {
      size_t slash = entry.rfind('/');
      size_t eq = entry.find('=', slash == std::string::npos ? 0 : slash);
      std::optional<int64_t> partition, offset;
      if (slash != std::string::npos && slash > 0 && eq != std::string::npos) {
        partition = ParseNumber(std::string_view(entry).substr(slash + 1, eq - slash - 1));
        offset = ParseNumber(std::string_view(entry).substr(eq + 1));
      }
      if (!partition || !offset || *partition > INT32_MAX) {
        std::string what = "--start-from: '" + entry + "' is not TOPIC/PARTITION=OFFSET; ";
        throw std::invalid_argument(what + forms);
      }
      start.offsets[TopicPartition{entry.substr(0, slash), static_cast<int32_t>(*partition)}] =
          *offset;
    }
    if (start.offsets.empty())
      throw std::invalid_argument("--start-from offsets: lists no partition; " + forms);
    return start;
  }
  throw std::invalid_argument("--start-from " + text + ": " + forms);
}

// The seed's start mode on the legacy consumer.
void ApplyStart(const StartFrom& start, sluice::kafka::KafkaConsumerSource<std::string>& consumer) {
  switch (start.kind) {
    case StartFrom::Kind::kGroup:
      consumer.SetStartFromGroupOffsets();
      break;
    case StartFrom::Kind::kEarliest:
      consumer.SetStartFromEarliest();
      break;
    case StartFrom::Kind::kLatest:
      consumer.SetStartFromLatest();
      break;
    case StartFrom::Kind::kTimestamp:
      consumer.SetStartFromTimestamp(start.timestamp_ms);
      break;
    case StartFrom::Kind::kOffsets:
      consumer.SetStartFromSpecificOffsets(start.offsets);
      break;
  }
}

// The same start on the builder's KafkaSource (for --bounded). Partitions without a committed
// offset follow auto.offset.reset, as the legacy consumer's do.
OffsetsInitializer StartingOffsets(const StartFrom& start,
                                   const sluice::kafka::Properties& properties) {
  sluice::kafka::OffsetResetStrategy reset =
      sluice::kafka::OffsetResetStrategy::kLatest;  // Kafka's default
  if (auto it = properties.find("auto.offset.reset"); it != properties.end()) {
    if (it->second == "earliest" || it->second == "smallest")
      reset = sluice::kafka::OffsetResetStrategy::kEarliest;
    if (it->second == "none" || it->second == "error")
      reset = sluice::kafka::OffsetResetStrategy::kNone;
  }
  switch (start.kind) {
    case StartFrom::Kind::kGroup:
      return OffsetsInitializer::Committed(reset);
    case StartFrom::Kind::kEarliest:
      return OffsetsInitializer::Earliest();
    case StartFrom::Kind::kLatest:
      return OffsetsInitializer::Latest();
    case StartFrom::Kind::kTimestamp:
      return OffsetsInitializer::Timestamp(start.timestamp_ms);
    case StartFrom::Kind::kOffsets:
      return OffsetsInitializer::Offsets(start.offsets, reset);
  }
  return OffsetsInitializer::Earliest();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Prints every record value of a Kafka topic, one per line (the seed's ReadFromKafka)"};
  std::string topic = "flink001";
  std::string group_id = "test";
  std::string start_text = "group";
  bool bounded = false;
  std::string bootstrap_servers = sluice_examples::DefaultBootstrapServers();
  std::vector<std::string> property_pairs;
  app.add_option("--topic", topic, "the topic to read")->capture_default_str();
  app.add_option("--group-id", group_id, "the consumer group (group.id)")->capture_default_str();
  app.add_option("--start-from", start_text,
                 "group | earliest | latest | timestamp:MS | offsets:TOPIC/PARTITION=OFFSET,...")
      ->capture_default_str();
  app.add_flag("--bounded", bounded, "stop at the end offsets seen at start and exit 0");
  app.add_option("--bootstrap-servers", bootstrap_servers,
                 "Kafka bootstrap servers (or SLUICE_BOOTSTRAP_SERVERS)")
      ->capture_default_str();
  sluice_examples::AddPropertyFlag(app, property_pairs);
  auto env = sluice_examples::ParseExampleArgs(app, argc, argv);
  StartFrom start;
  try {
    start = ParseStartFrom(start_text);
  } catch (const std::invalid_argument& error) {
    sluice_examples::ExitWithUsageError(argv[0], error.what());
  }

  env->SetParallelism(1);
  // A bounded read is a one-shot listing from --start-from to the end: it takes no checkpoints
  // unless --checkpoint-interval asks for them, so it neither resumes an earlier run nor leaves
  // state for a later one.
  if (!bounded) env->EnableCheckpointing(std::chrono::seconds(5));

  sluice::kafka::Properties properties =
      sluice_examples::WithProperties({{"bootstrap.servers", bootstrap_servers},
                                       {"group.id", group_id},
                                       {"auto.offset.reset", "earliest"}},
                                      property_pairs);

  if (!bounded) {
    sluice::kafka::KafkaConsumerSource<std::string> consumer(
        topic, sluice::kafka::SimpleStringSchema(), properties);
    ApplyStart(start, consumer);
    auto stream = env->AddSource(consumer, "Kafka: " + topic).Uid("kafka-consumer");
    stream.Print();
  } else {
    // The legacy consumer has no stopping offsets (in Flink either: its only way to stop is the
    // schema's isEndOfStream, which cannot know where the topic ends). Flink's answer for a
    // bounded read is the builder KafkaSource with setBounded(OffsetsInitializer.latest()), so
    // --bounded uses that with the same properties and start position; the rest of the job is
    // the seed's.
    auto source = sluice::kafka::KafkaSource<std::string>::Builder()
                      .SetProperties(properties)
                      .SetTopics(topic)
                      .SetStartingOffsets(StartingOffsets(start, properties))
                      .SetBounded(OffsetsInitializer::Latest())
                      .SetValueOnlyDeserializer(sluice::kafka::SimpleStringSchema())
                      .Build();
    if (!source.ok()) sluice_examples::ExitWithUsageError(argv[0], source.status().message());
    auto stream =
        env->FromSource<std::string>(
               *source, sluice::WatermarkStrategy<std::string>::NoWatermarks(), "Kafka: " + topic)
            .Uid("kafka-source-bounded");
    stream.Print();
  }

  sluice::JobExecutionResult result = env->Execute("kafka - test001");
  return sluice_examples::ExitCode(argv[0], result);
}
