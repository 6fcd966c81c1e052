// write_into_kafka: the C++ twin of the seed's Scala WriteIntoKafkaProducer. A
// SimpleStringGenerator source emits "add element : 0", "add element : 1", ... every 3 seconds,
// and Flink's legacy producer (here KafkaProducerSink, FlinkKafkaProducer010's twin) writes them
// with SimpleStringSchema into topic flink001, at parallelism 1.
//
// usage: write_into_kafka [--interval 3s] [--count N] [--topic flink001]
//                         [--bootstrap-servers 127.0.0.1:19092] [--property KEY=VALUE ...]
//                         [standard flags: --checkpoint-interval 1s, --log-level debug, ...]
//
// The seed talks to a Kerberos-secured cluster. Its properties are given with --property, and
// pass through to librdkafka unchanged:
//   write_into_kafka --bootstrap-servers broker:21007 --property security.protocol=SASL_PLAINTEXT
//                    --property sasl.kerberos.service.name=kafka
//                    --property sasl.kerberos.principal=me@EXAMPLE.COM
//                    --property sasl.kerberos.keytab=/etc/security/me.keytab
// (librdkafka, unlike the Java client, also needs the principal and keytab, or
// sasl.kerberos.min.time.before.relogin=0 when a ticket cache is kept fresh outside the job;
// docs/operations.md has the details.)
// By default it writes to the local PLAINTEXT broker of scripts/kafka.
//
// Like the seed it runs without checkpointing, so the producer's default Semantic
// AT_LEAST_ONCE behaves as NONE (the sink says so in the log); --checkpoint-interval 1s makes
// it AT_LEAST_ONCE. SIGINT stops it; with --count N it stops by itself after N records.
#include <sluice/connectors/kafka/kafka_producer_sink.h>
#include <sluice/sluice.h>

#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "example_flags.h"

namespace {

// The seed's SimpleStringGenerator: "add element : i" every `interval`, until cancelled (or,
// here, after `count` elements).
class SimpleStringGenerator final : public sluice::SourceFunction<std::string> {
 public:
  SimpleStringGenerator(std::chrono::milliseconds interval, std::optional<int64_t> count)
      : interval_(interval), count_(count) {}
  SimpleStringGenerator(const SimpleStringGenerator& other)
      : interval_(other.interval_), count_(other.count_) {}

  void Run(sluice::SourceContext<std::string>& ctx) override {
    for (int64_t i = 0; running_ && (!count_ || i < *count_); ++i) {
      ctx.Collect("add element : " + std::to_string(i));
      if (count_ && i + 1 == *count_) break;  // the last one: no need to wait
      // Thread.sleep(3000) in the seed; a wait that Cancel() cuts short.
      std::unique_lock lock(mutex_);
      cancelled_.wait_for(lock, interval_, [this] { return !running_; });
    }
  }
  void Cancel() override {
    {
      std::lock_guard lock(mutex_);
      running_ = false;
    }
    cancelled_.notify_all();
  }

 private:
  std::chrono::milliseconds interval_;
  std::optional<int64_t> count_;
  // Set under mutex_ so that the wait cannot miss it; atomic so Run's loop may read it freely.
  std::atomic<bool> running_{true};
  std::mutex mutex_;
  std::condition_variable cancelled_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Writes \"add element : i\" every --interval into a Kafka topic (the seed's "
      "WriteIntoKafkaProducer)"};
  std::string interval_text = "3s";
  int64_t count = 0;
  std::string topic = "flink001";
  std::string bootstrap_servers = sluice_examples::DefaultBootstrapServers();
  std::vector<std::string> property_pairs;
  app.add_option("--interval", interval_text, "time between two elements, e.g. 3s or 200ms")
      ->check(sluice_examples::CheckDuration)
      ->capture_default_str();
  app.add_option("--count", count, "stop after this many elements (default: run until SIGINT)")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  app.add_option("--topic", topic, "the topic to write (it must exist)")->capture_default_str();
  app.add_option("--bootstrap-servers", bootstrap_servers,
                 "Kafka bootstrap servers (or SLUICE_BOOTSTRAP_SERVERS)")
      ->capture_default_str();
  sluice_examples::AddPropertyFlag(app, property_pairs);
  auto env = sluice_examples::ParseExampleArgs(app, argc, argv);
  std::chrono::milliseconds interval = *sluice::ParseDuration(interval_text);  // checked by CLI11
  std::optional<int64_t> stop_after = count > 0 ? std::optional<int64_t>(count) : std::nullopt;

  env->SetParallelism(1);

  sluice::kafka::Properties properties =
      sluice_examples::WithProperties({{"bootstrap.servers", bootstrap_servers}}, property_pairs);

  auto stream =
      env->AddSource(SimpleStringGenerator(interval, stop_after), "SimpleStringGenerator");

  sluice::kafka::KafkaProducerSink<std::string> my_producer(
      topic, sluice::kafka::SimpleStringSchema(), properties);
  stream.AddSink(my_producer).Name("Kafka: " + topic).Uid("kafka-producer");

  // The seed calls execute() without a name; a name of its own keeps this job's checkpoints
  // (with --checkpoint-interval) apart from other jobs' in the same directory.
  sluice::JobExecutionResult result = env->Execute("write into kafka");
  int64_t written = 0;
  const std::string sent = ".KafkaSink.numRecordsSend";
  for (const auto& [metric, value] : result.counters) {
    if (metric.size() > sent.size() &&
        metric.compare(metric.size() - sent.size(), sent.size(), sent) == 0) {
      written += value;
    }
  }
  if (result.ok())
    std::printf("wrote %lld records to %s\n", static_cast<long long>(written), topic.c_str());
  return sluice_examples::ExitCode(argv[0], result);
}
