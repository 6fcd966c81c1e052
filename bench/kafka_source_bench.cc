// kafka_source_bench: reads one topic to its end with a plain librdkafka consumer loop (C API,
// batch polling) and with a sluice job (KafkaSource -> discard sink) at parallelism 1 and 2,
// in the same process and run, and prints records/s and CPU microseconds per record.
//
//   kafka_source_bench [--records N] [--size B] [--partitions P] [--reps R] [--bootstrap-servers S]
//
// The topic (sluice-bench-source-<N>-<B>-<P>) is created and filled once and reused by later
// runs. Both readers do the same per-record work: they add up payload lengths, so what differs
// is the framework around the loop.
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>

#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

rd_kafka_t* NewClient(rd_kafka_type_t type, const std::string& bootstrap,
                      const std::vector<std::pair<std::string, std::string>>& extra = {}) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      throw std::runtime_error(key + ": " + error);
    }
  };
  set("bootstrap.servers", bootstrap);
  for (const auto& [key, value] : extra) set(key, value);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) throw std::runtime_error(error);
  return rk;
}

int64_t TopicSize(rd_kafka_t* rk, const std::string& topic, int partitions) {
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 10000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return -1;
    }
    total += high - low;
  }
  return total;
}

// Creates and fills the topic unless it already holds exactly `records` records.
void Prepare(const std::string& bootstrap, const std::string& topic, int partitions,
             int64_t records, int size) {
  rd_kafka_t* producer =
      NewClient(RD_KAFKA_PRODUCER, bootstrap,
                {{"linger.ms", "20"}, {"batch.size", "1000000"}, {"compression.type", "none"}});
  if (TopicSize(producer, topic, partitions) == records) {
    rd_kafka_destroy(producer);
    return;
  }
  std::fprintf(stderr, "preparing %s: %lld records of %d bytes in %d partitions\n", topic.c_str(),
               static_cast<long long>(records), size, partitions);
  char error[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer);
  rd_kafka_CreateTopics(producer, &new_topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_queue_destroy(queue);
  std::string payload(static_cast<size_t>(size), 'x');
  for (int64_t i = 0; i < records; ++i) {
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_PARTITION(static_cast<int32_t>(i % partitions)),
                            RD_KAFKA_V_VALUE(payload.data(), payload.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer, 10);
        continue;
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(err));
      break;
    }
  }
  if (rd_kafka_flush(producer, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("flush timed out");
  rd_kafka_destroy(producer);
}

// Extra client properties given with --property, applied to both readers (for experiments
// such as debug=fetch or fetch.* tuning).
std::vector<std::pair<std::string, std::string>> g_properties;

struct Measurement {
  double seconds;
  double cpu_seconds;
  int64_t records;
};

// The floor: one consumer, every partition assigned, batch polling until every partition is
// at its end.
Measurement PlainLoop(const std::string& bootstrap, const std::string& topic, int partitions) {
  auto start = std::chrono::steady_clock::now();
  double cpu = CpuSeconds();
  std::vector<std::pair<std::string, std::string>> properties = {{"group.id", "sluice-bench-plain"},
                                                                 {"enable.auto.commit", "false"},
                                                                 {"enable.partition.eof", "true"}};
  properties.insert(properties.end(), g_properties.begin(), g_properties.end());
  rd_kafka_t* consumer = NewClient(RD_KAFKA_CONSUMER, bootstrap, properties);

  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
  std::vector<rd_kafka_message_t*> batch(1024);
  int ended = 0;
  int64_t records = 0;
  int64_t bytes = 0;
  while (ended < partitions) {
    ssize_t n = rd_kafka_consume_batch_queue(queue, 100, batch.data(), batch.size());
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++ended;
      } else if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++records;
        bytes += static_cast<int64_t>(m->len);
      }
      rd_kafka_message_destroy(m);
    }
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (bytes < 0) std::abort();  // keeps the sum alive
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, CpuSeconds() - cpu, records};
}

// The same per-record work inside sluice: the payload's length.
class LengthSchema final : public sluice::kafka::DeserializationSchema<int64_t> {
 public:
  void Deserialize(std::string_view message, sluice::Collector<int64_t>& out) override {
    out.Collect(static_cast<int64_t>(message.size()));
  }
};

std::atomic<int64_t> g_records{0};

class CountingSink final : public sluice::SinkFunction<int64_t> {
 public:
  void Invoke(const int64_t& value, const sluice::SinkContext&) override {
    ++records_;
    bytes_ += value;
  }
  void Finish() override { g_records += records_; }

 private:
  int64_t records_ = 0;
  int64_t bytes_ = 0;
};

Measurement SluiceJob(const std::string& bootstrap, const std::string& topic, int parallelism) {
  g_records = 0;
  auto start = std::chrono::steady_clock::now();
  double cpu = CpuSeconds();
  auto source = sluice::kafka::KafkaSource<int64_t>::Builder()
                    .SetBootstrapServers(bootstrap)
                    .SetTopics(topic)
                    .SetStartingOffsets(sluice::kafka::OffsetsInitializer::Earliest())
                    .SetBounded(sluice::kafka::OffsetsInitializer::Latest())
                    .SetValueOnlyDeserializer(LengthSchema())
                    .SetProperties({g_properties.begin(), g_properties.end()})
                    .Build();
  if (!source.ok()) throw std::runtime_error(source.status().ToString());
  auto env = sluice::StreamExecutionEnvironment::Create();
  env->SetParallelism(parallelism).SetHandleSignals(false);
  env->FromSource(*source, sluice::WatermarkStrategy<int64_t>::NoWatermarks(), "Kafka Source")
      .AddSink(CountingSink());
  sluice::JobExecutionResult result = env->Execute("kafka-source-bench");
  if (!result.ok()) throw std::runtime_error(result.failure.ToString());
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {seconds, CpuSeconds() - cpu, g_records.load()};
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Kafka source throughput: plain librdkafka loop vs sluice"};
  const char* env_bootstrap = std::getenv("SLUICE_BOOTSTRAP_SERVERS");
  std::string bootstrap = env_bootstrap != nullptr ? env_bootstrap : "127.0.0.1:19092";
  int64_t records = 10'000'000;
  int size = 100;
  int partitions = 8;
  int reps = 3;
  app.add_option("--bootstrap-servers", bootstrap)->capture_default_str();
  app.add_option("--records", records)->capture_default_str();
  app.add_option("--size", size, "bytes per record")->capture_default_str();
  app.add_option("--partitions", partitions)->capture_default_str();
  app.add_option("--reps", reps, "repetitions (medians reported)")->capture_default_str();
  std::vector<std::string> properties;
  std::string only;
  app.add_option("--property", properties,
                 "key=value client property for both readers (repeatable)");
  app.add_option("--only", only, "run only this reader: plain, p1 or p2");
  CLI11_PARSE(app, argc, argv);
  for (const std::string& property : properties) {
    size_t eq = property.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::fprintf(stderr, "kafka_source_bench: --property %s: expected key=value\n",
                   property.c_str());
      return 2;
    }
    g_properties.emplace_back(property.substr(0, eq), property.substr(eq + 1));
  }

  const std::string topic = "sluice-bench-source-" + std::to_string(records) + "-" +
                            std::to_string(size) + "-" + std::to_string(partitions);
  try {
    Prepare(bootstrap, topic, partitions, records, size);
    struct Row {
      std::string name;
      std::vector<double> rate;
      std::vector<double> cpu_us;
    };
    std::vector<Row> rows = {
        {"plain librdkafka loop", {}, {}}, {"sluice p=1", {}, {}}, {"sluice p=2", {}, {}}};
    for (int rep = 0; rep < reps; ++rep) {
      for (size_t r = 0; r < rows.size(); ++r) {
        if (!only.empty() && only != (r == 0 ? "plain" : "p" + std::to_string(r))) continue;
        Measurement m = r == 0 ? PlainLoop(bootstrap, topic, partitions)
                               : SluiceJob(bootstrap, topic, static_cast<int>(r));
        if (m.records != records) {
          std::fprintf(stderr, "%s read %lld records, expected %lld\n", rows[r].name.c_str(),
                       static_cast<long long>(m.records), static_cast<long long>(records));
          return 1;
        }
        rows[r].rate.push_back(static_cast<double>(m.records) / m.seconds);
        rows[r].cpu_us.push_back(m.cpu_seconds * 1e6 / static_cast<double>(m.records));
        std::fprintf(stderr, "rep %d %-22s %8.2f M records/s %6.3f CPU us/record\n", rep,
                     rows[r].name.c_str(), rows[r].rate.back() / 1e6, rows[r].cpu_us.back());
      }
    }
    if (!only.empty()) return 0;  // a partial run has no table
    double plain_rate = Median(rows[0].rate);
    double plain_cpu = Median(rows[0].cpu_us);
    std::printf(
        "| reader | M records/s (median of %d) | CPU us/record | throughput vs plain | CPU vs "
        "plain |\n",
        reps);
    std::printf("|---|---|---|---|---|\n");
    for (const Row& row : rows) {
      std::printf("| %s | %.2f | %.3f | %.2f | %.2f |\n", row.name.c_str(), Median(row.rate) / 1e6,
                  Median(row.cpu_us), Median(row.rate) / plain_rate,
                  Median(row.cpu_us) / plain_cpu);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kafka_source_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
