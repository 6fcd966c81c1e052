// hello_kafka: the smallest round trip through the local broker, with librdkafka's C API.
// Creates a topic (if missing), produces a few records, reads exactly those back, and says
// what it did. scripts/demo runs it until the full demo job exists.
//
// usage: hello_kafka [--bootstrap-servers HOST:PORT] [--topic NAME] [--count N]
#include <librdkafka/rdkafka.h>

#include <sluice/connectors/kafka/rdkafka_version.h>
#include <sluice/sluice.h>

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

KafkaPtr NewClient(rd_kafka_type_t type, const std::string& bootstrap,
                   const std::string& group = "") {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string(key) + ": " + error);
    }
  };
  set("bootstrap.servers", bootstrap);
  if (!group.empty()) set("group.id", group);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) throw std::runtime_error(error);
  return KafkaPtr(rk);
}

void EnsureTopic(rd_kafka_t* rk, const std::string& topic) {
  char error[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(topic.c_str(), 1, 1, error, sizeof error);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &new_topic, 1, nullptr, queue);
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 15000);
  rd_kafka_queue_destroy(queue);
  if (event == nullptr) {
    throw std::runtime_error(
        "no answer from the broker within 15s; is it running? (scripts/kafka start)");
  }
  std::string failure;
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(event);
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    if (count == 1 && rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_topic_result_error(results[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      failure = rd_kafka_topic_result_error_string(results[0]);
    }
  }
  rd_kafka_event_destroy(event);
  if (!failure.empty()) throw std::runtime_error("creating topic " + topic + ": " + failure);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Round trip a few records through Kafka with librdkafka"};
  const char* env_bootstrap = std::getenv("SLUICE_BOOTSTRAP_SERVERS");
  std::string bootstrap = env_bootstrap != nullptr ? env_bootstrap : "127.0.0.1:19092";
  std::string topic = "sluice-hello";
  int count = 5;
  app.add_option("--bootstrap-servers", bootstrap, "Kafka bootstrap servers")
      ->capture_default_str();
  app.add_option("--topic", topic, "topic to create (if missing), write and read")
      ->capture_default_str();
  app.add_option("--count", count, "records to write")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::printf("sluice %s with librdkafka %s\n", sluice::VersionString(),
              sluice::RdKafkaVersionString());
  try {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, bootstrap);
    EnsureTopic(producer.get(), topic);
    // Note where this run's records start, so exactly they are read back. A topic created a
    // moment ago may have no leader yet (the broker does not know the partition until the
    // controller's metadata reaches it), and a loaded broker may answer late: ask again for a
    // while.
    int64_t low = 0, start = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto leader_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    do {
      err = rd_kafka_query_watermark_offsets(producer.get(), topic.c_str(), 0, &low, &start, 10000);
      const bool not_yet = err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
                           err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                           err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
                           err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
      if (!not_yet) break;
      rd_kafka_poll(producer.get(), 100);  // serves the producer's events while we wait
    } while (std::chrono::steady_clock::now() < leader_deadline);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error(std::string("watermarks of ") + topic + ": " +
                               rd_kafka_err2str(err));
    }
    for (int i = 0; i < count; ++i) {
      std::string value = "hello from sluice #" + std::to_string(i);
      err = rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                              RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_VALUE(value.data(), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(err));
    }
    if (rd_kafka_flush(producer.get(), 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("records not acknowledged within 30s");
    }
    std::printf("wrote %d records to %s (partition 0, offsets %lld..%lld) at %s\n", count,
                topic.c_str(), static_cast<long long>(start),
                static_cast<long long>(start + count - 1), bootstrap.c_str());

    KafkaPtr consumer = NewClient(RD_KAFKA_CONSUMER, bootstrap, "sluice-hello");
    rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), 0)->offset = start;
    err = rd_kafka_assign(consumer.get(), assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) throw std::runtime_error(rd_kafka_err2str(err));
    int read = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (read < count && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 200);
      if (m == nullptr) continue;
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::printf("  read offset %lld: %.*s\n", static_cast<long long>(m->offset),
                    static_cast<int>(m->len), static_cast<const char*>(m->payload));
        ++read;
      }
      rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(consumer.get());
    if (read != count)
      throw std::runtime_error("read back " + std::to_string(read) + " of " +
                               std::to_string(count));
    std::printf("read back all %d records\n", read);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hello_kafka: error: %s\n", e.what());
    return 1;
  }
}
