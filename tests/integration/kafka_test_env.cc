#include "kafka_test_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

namespace sluice::testing {
namespace {

std::string Env(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : std::move(fallback);
}

// Delivery reports of ProduceAndWait land here through the message's opaque pointer.
struct DeliveryTally {
  int delivered = 0;
  int failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* tally = static_cast<DeliveryTally*>(message->_private);
  if (tally == nullptr) return;
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++tally->delivered;
  } else {
    if (tally->failed++ == 0) tally->first_error = rd_kafka_err2str(message->err);
  }
}

struct AdminResultDeleter {
  void operator()(rd_kafka_event_t* e) const noexcept { rd_kafka_event_destroy(e); }
};

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const noexcept { rd_kafka_queue_destroy(q); }
};

}  // namespace

std::string BootstrapServers() { return Env("SLUICE_BOOTSTRAP_SERVERS", "127.0.0.1:19092"); }

std::string SaslBootstrapServers() {
  std::string plain = BootstrapServers();
  std::string host = plain.substr(0, plain.rfind(':'));
  return Env("SLUICE_SASL_BOOTSTRAP_SERVERS", host + ":19094");
}

std::string GssapiBootstrapServers() {
  return Env("SLUICE_GSSAPI_BOOTSTRAP_SERVERS", "localhost:19095");
}
std::string ScramBootstrapServers() {
  return Env("SLUICE_SCRAM_BOOTSTRAP_SERVERS", "127.0.0.1:19096");
}
std::string SslBootstrapServers() { return Env("SLUICE_SSL_BOOTSTRAP_SERVERS", "127.0.0.1:19097"); }
std::string MtlsBootstrapServers() {
  return Env("SLUICE_MTLS_BOOTSTRAP_SERVERS", "127.0.0.1:19098");
}

std::string BrokerFile(std::string_view relative_path) {
  std::filesystem::path dir = Env("SLUICE_KAFKA_DIR", SLUICE_SOURCE_DIR "/.kafka-data");
  std::filesystem::path file = dir / relative_path;
  if (!std::filesystem::exists(file)) {
    throw std::runtime_error(file.string() +
                             " does not exist: start the broker with scripts/kafka start (and set "
                             "SLUICE_KAFKA_DIR when it keeps its files elsewhere)");
  }
  return file.string();
}

std::string KafkaJars() {
  std::filesystem::path libs;
  if (const char* set = std::getenv("SLUICE_KAFKA_LIBS"); set != nullptr && *set != '\0') {
    libs = set;
  } else {
    std::string version;
    std::ifstream pom(SLUICE_SOURCE_DIR "/tools/kafka/pom.xml");
    const std::string open = "<kafka.version>";
    for (std::string line; version.empty() && std::getline(pom, line);) {
      if (auto at = line.find(open); at != std::string::npos) {
        version =
            line.substr(at + open.size(), line.find('<', at + open.size()) - at - open.size());
      }
    }
    std::filesystem::path cache = Env(
        "SLUICE_CACHE_DIR", Env("XDG_CACHE_HOME", Env("HOME", "/root") + "/.cache") + "/sluice");
    libs = cache / ("kafka-" + version) / "libs";
  }
  if (!std::filesystem::is_directory(libs)) {
    throw std::runtime_error(libs.string() +
                             " does not exist: scripts/kafka start installs the broker's jars "
                             "there (or set SLUICE_KAFKA_LIBS from scripts/kafka env)");
  }
  return libs.string();
}

void TransactionalIdAcl(const std::string& action, const std::string& principal,
                        const std::string& prefix) {
  const std::string command = "java -cp '" + KafkaJars() +
                              "/*' '" SLUICE_SOURCE_DIR "/tools/kafka/TransactionalIdAcl.java' '" +
                              BootstrapServers() + "' " + action + " '" + principal + "' '" +
                              prefix + "'";
  if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string UniqueName(std::string_view prefix) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  return std::string(prefix) + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1)) + "-" + std::to_string(salt % 100000);
}

std::chrono::milliseconds Scaled(std::chrono::milliseconds base) {
  double scale = std::strtod(Env("SLUICE_TEST_TIMEOUT_SCALE", "1").c_str(), nullptr);
  if (scale < 1) scale = 1;
  return std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(base.count()) * scale));
}

KafkaPtr NewClient(rd_kafka_type_t type, const Properties& properties,
                   void (*configure)(rd_kafka_conf_t*)) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  Properties all = properties;
  all.emplace("bootstrap.servers", BootstrapServers());
  for (const auto& [key, value] : all) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error("librdkafka refused " + key + "=" + value + ": " + error);
    }
  }
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, &OnDelivery);
  if (configure != nullptr) configure(conf);
  rd_kafka_t* rk = rd_kafka_new(type, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("rd_kafka_new failed: ") + error);
  }
  return KafkaPtr(rk);
}

void ThrowIfError(rd_kafka_error_t* error, std::string_view what) {
  if (error == nullptr) return;
  ErrorPtr owned(error);
  throw std::runtime_error(std::string(what) + " failed: " + rd_kafka_error_name(error) + ": " +
                           rd_kafka_error_string(error));
}

namespace {

// Runs one admin request and returns its result event, or throws.
std::unique_ptr<rd_kafka_event_t, AdminResultDeleter> AwaitAdminResult(rd_kafka_queue_t* queue,
                                                                       std::string_view what) {
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(Scaled(std::chrono::seconds(30)).count()));
  if (event == nullptr) throw std::runtime_error(std::string(what) + ": no answer within 30s");
  std::unique_ptr<rd_kafka_event_t, AdminResultDeleter> owned(event);
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error(std::string(what) + ": " + rd_kafka_event_error_string(event));
  }
  return owned;
}

void WaitForLeaders(const std::string& name, int partitions) {
  KafkaPtr client = NewClient(RD_KAFKA_PRODUCER, {});
  auto deadline = std::chrono::steady_clock::now() + Scaled(std::chrono::seconds(30));
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_topic_t* topic = rd_kafka_topic_new(client.get(), name.c_str(), nullptr);
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(client.get(), 0, topic, &metadata, 5000);
    rd_kafka_topic_destroy(topic);
    bool ready = false;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
        metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        metadata->topics[0].partition_cnt == partitions) {
      ready = true;
      for (int i = 0; i < partitions; ++i) {
        if (metadata->topics[0].partitions[i].leader < 0) ready = false;
      }
    }
    if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
    if (ready) return;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(50));  // polling metadata, not a sync stand-in
  }
  throw std::runtime_error("topic " + name + " has no leader for every partition after 30s");
}

}  // namespace

void CreateTopic(const std::string& name, int partitions, const Properties& configs) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  char error[512];
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(name.c_str(), partitions, 1, error, sizeof error);
  if (topic == nullptr) throw std::runtime_error("NewTopic " + name + ": " + error);
  for (const auto& [key, value] : configs) {
    rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str());
  }
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_CreateTopics(admin.get(), &topic, 1, nullptr, queue.get());
  rd_kafka_NewTopic_destroy(topic);
  auto event = AwaitAdminResult(queue.get(), "CreateTopics " + name);
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.get()), &count);
  for (size_t i = 0; i < count; ++i) {
    if (rd_kafka_topic_result_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("CreateTopics " + name + ": " +
                               rd_kafka_topic_result_error_string(results[i]));
    }
  }
  WaitForLeaders(name, partitions);
}

void DeleteTopic(const std::string& name) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue(rd_kafka_queue_new(admin.get()));
  rd_kafka_DeleteTopics(admin.get(), &topic, 1, nullptr, queue.get());
  rd_kafka_DeleteTopic_destroy(topic);
  AwaitAdminResult(queue.get(), "DeleteTopics " + name);
}

std::vector<std::string> TopicsWithPrefix(const std::string& prefix) {
  KafkaPtr client = NewClient(RD_KAFKA_PRODUCER, {});
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(client.get(), /*all_topics=*/1, nullptr, &metadata,
                        static_cast<int>(Scaled(std::chrono::milliseconds(10000)).count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("metadata: ") + rd_kafka_err2str(err));
  std::vector<std::string> names;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    std::string_view name = metadata->topics[i].topic;
    if (name.starts_with(prefix)) names.emplace_back(name);
  }
  rd_kafka_metadata_destroy(metadata);
  return names;
}

void DeleteTopicsWithPrefix(const std::string& prefix) noexcept {
  try {
    for (const std::string& name : TopicsWithPrefix(prefix)) {
      try {
        DeleteTopic(name);
      } catch (...) {
        // Names are unique per test: a topic left behind costs disk, never a wrong result.
      }
    }
  } catch (...) {
  }
}

ScopedTopic::ScopedTopic(std::string_view prefix, int partitions, const Properties& configs)
    : name_(UniqueName(prefix)), partitions_(partitions) {
  CreateTopic(name_, partitions, configs);
}

ScopedTopic::~ScopedTopic() {
  try {
    DeleteTopic(name_);
  } catch (...) {
    // A topic left behind costs disk in .kafka-data, never a wrong result: names are unique.
  }
}

std::map<int32_t, int64_t> CommittedOffsets(const std::string& group, const std::string& topic,
                                            int partitions) {
  KafkaPtr consumer = NewClient(RD_KAFKA_CONSUMER, {{"group.id", group}});
  PartitionListPtr list(rd_kafka_topic_partition_list_new(partitions));
  for (int32_t p = 0; p < partitions; ++p)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
  std::map<int32_t, int64_t> offsets;
  if (rd_kafka_committed(consumer.get(), list.get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < list->cnt; ++i) offsets[list->elems[i].partition] = list->elems[i].offset;
  }
  rd_kafka_consumer_close(consumer.get());
  return offsets;
}

Record CopyRecord(const rd_kafka_message_t& message) {
  Record record;
  record.topic = rd_kafka_topic_name(message.rkt);
  record.partition = message.partition;
  record.offset = message.offset;
  rd_kafka_timestamp_type_t type;
  record.timestamp = rd_kafka_message_timestamp(&message, &type);
  if (message.key != nullptr)
    record.key.emplace(static_cast<const char*>(message.key), message.key_len);
  if (message.payload != nullptr) {
    record.value.emplace(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      record.headers.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
  }
  return record;
}

std::vector<Record> ReadToEnd(const std::string& topic, int partitions,
                              const Properties& properties, std::chrono::milliseconds timeout) {
  Properties all = properties;
  all.emplace("group.id", UniqueName("read-to-end"));
  all.emplace("enable.partition.eof", "true");
  all.emplace("enable.auto.commit", "false");
  KafkaPtr consumer = NewClient(RD_KAFKA_CONSUMER, all);
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  if (rd_kafka_assign(consumer.get(), assignment.get()) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("assign failed");
  std::vector<Record> records;
  std::set<int32_t> at_end;
  auto deadline = std::chrono::steady_clock::now() + Scaled(timeout);
  while (static_cast<int>(at_end.size()) < partitions) {
    if (std::chrono::steady_clock::now() > deadline) {
      rd_kafka_consumer_close(consumer.get());
      throw std::runtime_error("ReadToEnd(" + topic + "): only " + std::to_string(at_end.size()) +
                               " of " + std::to_string(partitions) +
                               " partitions reached their end");
    }
    MessagePtr message(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!message) continue;
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      at_end.insert(message->partition);
    } else if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::string error = rd_kafka_message_errstr(message.get());
      rd_kafka_consumer_close(consumer.get());
      throw std::runtime_error("ReadToEnd(" + topic + "): " + error);
    } else {
      at_end.erase(message->partition);
      records.push_back(CopyRecord(*message));
    }
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

void ProduceAndWait(rd_kafka_t* producer, const std::string& topic, int32_t partition,
                    const std::vector<std::pair<std::string, std::string>>& records,
                    int64_t timestamp_ms) {
  DeliveryTally tally;
  for (const auto& [key, value] : records) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
        RD_KAFKA_V_OPAQUE(&tally), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("produce to " + topic + ": " + rd_kafka_err2str(err));
    }
  }
  rd_kafka_resp_err_t err =
      rd_kafka_flush(producer, static_cast<int>(Scaled(std::chrono::seconds(30)).count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("flush to " + topic + ": " + rd_kafka_err2str(err));
  }
  if (tally.failed > 0 || tally.delivered != static_cast<int>(records.size())) {
    throw std::runtime_error("delivery to " + topic + ": " + std::to_string(tally.failed) +
                             " failed (" + tally.first_error + "), " +
                             std::to_string(tally.delivered) + " delivered of " +
                             std::to_string(records.size()));
  }
}

}  // namespace sluice::testing
