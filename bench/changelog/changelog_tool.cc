// changelog_tool: the topic chores and measurements of bench/changelog/run, against the local
// broker ($SLUICE_BOOTSTRAP_SERVERS, default 127.0.0.1:19092).
//
//   changelog_tool prepare --topic T --records N --keys K --partitions P
//       Creates T and fills it with N one-word lines, word i % K for record i (words "w" and
//       7 digits, 8 bytes), round robin over the partitions: K distinct keys, each N/K times
//       (the first N % K once more). Reuses T when it already holds exactly N records.
//   changelog_tool create-output --topic T --partitions P
//       Creates T (deleting an older one of that name) with message.timestamp.type =
//       LogAppendTime, so that each record carries the time the broker appended it.
//   changelog_tool count --topic T --records N --keys K
//       Reads T with isolation.level=read_committed to its end and checks the word count's
//       output against the input of `prepare`: per word, exactly the values 1..n, n its
//       occurrences. Prints JSON: records, distinct words, wrong (words whose output is not
//       exactly 1..n), and the broker append times of the first, last, 10 % and 90 % record.
//   changelog_tool changelog --prefix P
//       For every topic named P.<uid>.changelog: partitions, records and bytes (key + value,
//       as a read_committed reader gets them; tombstones counted apart), the sum of the end
//       offsets (which also counts the transactions' commit markers, one per partition and
//       transaction), and the bytes of its log segments (*.log files) in the broker's log
//       directory when that is on this machine (the broker's log.dirs, asked with
//       DescribeConfigs), else null. Prints JSON: {"topics": [...], "total": {...}}.
//   changelog_tool delete --topic T | --prefix P
//       Deletes T, or every topic whose name starts with "P." (a run's output, changelog and
//       control topics) and the consumer group P (the run's source commits its offsets there),
//       and waits until the broker no longer lists the topics.
//   changelog_tool ping
//       Asks the broker for its metadata (10 s at most): exit code 0 when it answers.
//
// Every command prints one JSON object on stdout; progress and errors go to stderr; exit code 1
// on any error.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

constexpr std::string_view kChangelogSuffix = ".changelog";

struct Args {
  std::map<std::string, std::string> values;
  bool Has(const std::string& key) const { return values.count(key) != 0; }
  std::string Get(const std::string& key) const {
    auto it = values.find(key);
    if (it == values.end()) throw std::runtime_error("--" + key + " is required");
    return it->second;
  }
  int64_t GetLong(const std::string& key) const { return std::stoll(Get(key)); }
};

std::string Bootstrap() {
  const char* bootstrap = std::getenv("SLUICE_BOOTSTRAP_SERVERS");
  return bootstrap != nullptr && *bootstrap != '\0' ? bootstrap : "127.0.0.1:19092";
}

std::string Word(int64_t key) {
  char word[24];
  std::snprintf(word, sizeof word, "w%07" PRId64, key);
  return word;
}

// How often `prepare` writes key k.
int64_t Occurrences(int64_t key, int64_t records, int64_t keys) {
  return records / keys + (key < records % keys ? 1 : 0);
}

std::atomic<bool> g_delivery_failed{false};
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !g_delivery_failed.exchange(true)) {
    std::fprintf(stderr, "changelog_tool: delivery failed: %s\n", rd_kafka_err2str(message->err));
  }
}

rd_kafka_t* NewClient(rd_kafka_type_t type, const std::map<std::string, std::string>& properties) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(key + ": " + error);
    }
  };
  set("bootstrap.servers", Bootstrap());
  for (const auto& [key, value] : properties) set(key, value);
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof error);
  if (client == nullptr) throw std::runtime_error(error);
  return client;
}

// Every topic the broker lists, with its partition count.
std::map<std::string, int> ListTopics(rd_kafka_t* client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 1, nullptr, &metadata, 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("metadata: ") + rd_kafka_err2str(err));
  std::map<std::string, int> topics;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (metadata->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
      topics[metadata->topics[i].topic] = metadata->topics[i].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  return topics;
}

// -1 when the topic does not exist.
int PartitionCount(rd_kafka_t* client, const std::string& topic) {
  rd_kafka_topic_t* handle = rd_kafka_topic_new(client, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, handle, &metadata, 10000);
  rd_kafka_topic_destroy(handle);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("metadata of " + topic + ": " + rd_kafka_err2str(err));
  int partitions = -1;
  if (metadata->topic_cnt == 1 && metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    partitions = metadata->topics[0].partition_cnt;
  }
  rd_kafka_metadata_destroy(metadata);
  return partitions;
}

// Sum over the partitions of end - start offset (commit markers included).
int64_t OffsetSpan(rd_kafka_t* client, const std::string& topic, int partitions) {
  int64_t total = 0;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err =
        rd_kafka_query_watermark_offsets(client, topic.c_str(), p, &low, &high, 10000);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      throw std::runtime_error(topic + ": " + rd_kafka_err2str(err));
    total += high - low;
  }
  return total;
}

// Runs one admin request and waits for its result event; throws on a request or topic error
// unless it is `tolerated`.
void AdminRequest(rd_kafka_t* client, const std::string& what, rd_kafka_resp_err_t tolerated,
                  const std::function<void(rd_kafka_queue_t*)>& send) {
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
  send(queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 60000);
  rd_kafka_queue_destroy(queue);
  if (event == nullptr) throw std::runtime_error(what + ": no answer from the broker within 60 s");
  std::string failure;
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR)
    failure = rd_kafka_event_error_string(event);
  const rd_kafka_topic_result_t** results = nullptr;
  size_t count = 0;
  if (const auto* created = rd_kafka_event_CreateTopics_result(event))
    results = rd_kafka_CreateTopics_result_topics(created, &count);
  if (const auto* deleted = rd_kafka_event_DeleteTopics_result(event))
    results = rd_kafka_DeleteTopics_result_topics(deleted, &count);
  for (size_t i = 0; i < count; ++i) {
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != tolerated) failure = rd_kafka_err2str(err);
  }
  rd_kafka_event_destroy(event);
  if (!failure.empty()) throw std::runtime_error(what + ": " + failure);
}

void DeleteTopics(rd_kafka_t* client, const std::vector<std::string>& topics) {
  if (topics.empty()) return;
  AdminRequest(client, "delete topics", RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
               [&](rd_kafka_queue_t* queue) {
                 std::vector<rd_kafka_DeleteTopic_t*> requests;
                 requests.reserve(topics.size());
                 for (const std::string& topic : topics)
                   requests.push_back(rd_kafka_DeleteTopic_new(topic.c_str()));
                 rd_kafka_DeleteTopics(client, requests.data(), requests.size(), nullptr, queue);
                 rd_kafka_DeleteTopic_destroy_array(requests.data(), requests.size());
               });
  // Deletion is asynchronous on the broker: wait until the metadata no longer shows them, so
  // that a create of the same name right after does not fail.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (const std::string& topic : topics) {
    while (PartitionCount(client, topic) >= 0) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("topic " + topic + " still exists 60 s after its deletion");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void CreateTopic(rd_kafka_t* client, const std::string& topic, int partitions,
                 const std::map<std::string, std::string>& config) {
  AdminRequest(client, "create topic " + topic, RD_KAFKA_RESP_ERR_NO_ERROR,
               [&](rd_kafka_queue_t* queue) {
                 char error[512];
                 rd_kafka_NewTopic_t* request =
                     rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, error, sizeof error);
                 if (request == nullptr) throw std::runtime_error(error);
                 for (const auto& [key, value] : config)
                   rd_kafka_NewTopic_set_config(request, key.c_str(), value.c_str());
                 rd_kafka_CreateTopics(client, &request, 1, nullptr, queue);
                 rd_kafka_NewTopic_destroy(request);
               });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PartitionCount(client, topic) != partitions) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("topic " + topic + " not visible 60 s after its creation");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Reads every partition of `topic` from its start to its end (read_committed), calling
// `record` for each data record (the message is valid during the call only).
void ReadAll(const std::string& topic, int partitions,
             const std::function<void(const rd_kafka_message_t&)>& record) {
  rd_kafka_t* consumer = NewClient(RD_KAFKA_CONSUMER, {{"group.id", "changelog-tool-reader"},
                                                       {"enable.auto.commit", "false"},
                                                       {"isolation.level", "read_committed"},
                                                       {"enable.partition.eof", "true"}});
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("assign: ") + rd_kafka_err2str(err));
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
  std::vector<rd_kafka_message_t*> batch(1024);
  int ended = 0;
  // A read_committed reader reaches partition EOF at the last stable offset; a job that left
  // a transaction open would stall that, so give up after a generous idle deadline.
  auto last_progress = std::chrono::steady_clock::now();
  while (ended < partitions) {
    ssize_t n = rd_kafka_consume_batch_queue(queue, 200, batch.data(), batch.size());
    if (n > 0) last_progress = std::chrono::steady_clock::now();
    if (std::chrono::steady_clock::now() - last_progress > std::chrono::seconds(60)) {
      throw std::runtime_error("reading " + topic +
                               " made no progress for 60 s (an open transaction?)");
    }
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++ended;
      } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::string error = "reading " + topic + ": ";
        error += rd_kafka_err2str(m->err);
        rd_kafka_message_destroy(m);
        throw std::runtime_error(error);
      } else {
        record(*m);
      }
      rd_kafka_message_destroy(m);
    }
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
}

// The broker's log.dirs (DescribeConfigs of the first broker), or nullopt.
std::optional<std::vector<std::filesystem::path>> BrokerLogDirs(rd_kafka_t* client) {
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(client, 0, nullptr, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    return std::nullopt;
  if (metadata->broker_cnt < 1) {
    rd_kafka_metadata_destroy(metadata);
    return std::nullopt;
  }
  const std::string broker = std::to_string(metadata->brokers[0].id);
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, broker.c_str());
  rd_kafka_DescribeConfigs(client, &resource, 1, nullptr, queue);
  rd_kafka_ConfigResource_destroy(resource);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  rd_kafka_queue_destroy(queue);
  if (event == nullptr) return std::nullopt;
  std::optional<std::vector<std::filesystem::path>> dirs;
  const auto* result = rd_kafka_event_DescribeConfigs_result(event);
  size_t resources = 0;
  const rd_kafka_ConfigResource_t** described =
      result != nullptr ? rd_kafka_DescribeConfigs_result_resources(result, &resources) : nullptr;
  for (size_t r = 0; r < resources; ++r) {
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs =
        rd_kafka_ConfigResource_configs(described[r], &entries);
    for (size_t e = 0; e < entries; ++e) {
      const char* name = rd_kafka_ConfigEntry_name(configs[e]);
      const char* value = rd_kafka_ConfigEntry_value(configs[e]);
      // log.dirs wins over log.dir when set.
      if (value == nullptr || (std::strcmp(name, "log.dirs") != 0 &&
                               (std::strcmp(name, "log.dir") != 0 || dirs.has_value())))
        continue;
      dirs.emplace();
      std::string_view list = value;
      while (!list.empty()) {
        size_t comma = list.find(',');
        dirs->emplace_back(std::string(list.substr(0, comma)));
        list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      }
    }
  }
  rd_kafka_event_destroy(event);
  return dirs;
}

// Bytes of the *.log segment files of `topic` under `dirs`, or -1 when none of its partition
// directories is there (the broker is on another machine).
int64_t SegmentBytes(const std::vector<std::filesystem::path>& dirs, const std::string& topic,
                     int partitions) {
  int64_t bytes = 0;
  bool found = false;
  for (const std::filesystem::path& dir : dirs) {
    for (int p = 0; p < partitions; ++p) {
      std::filesystem::path partition_dir = dir / (topic + "-" + std::to_string(p));
      std::error_code error;
      for (const auto& entry : std::filesystem::directory_iterator(partition_dir, error)) {
        found = true;
        if (entry.path().extension() == ".log") bytes += static_cast<int64_t>(entry.file_size());
      }
    }
  }
  return found ? bytes : -1;
}

int Prepare(const Args& args) {
  const std::string topic = args.Get("topic");
  const int64_t records = args.GetLong("records");
  const int64_t keys = args.GetLong("keys");
  const int partitions = static_cast<int>(args.GetLong("partitions"));
  if (keys < 1 || keys > 10'000'000) throw std::runtime_error("--keys must be in 1..10000000");
  // Fast filling: large batches; the broker's own defaults otherwise.
  rd_kafka_t* producer = NewClient(RD_KAFKA_PRODUCER, {{"linger.ms", "20"},
                                                       {"batch.size", "1000000"},
                                                       {"enable.idempotence", "true"},
                                                       {"compression.type", "none"}});
  const int existing = PartitionCount(producer, topic);
  if (existing == partitions && OffsetSpan(producer, topic, partitions) == records) {
    std::fprintf(stderr, "changelog_tool: reusing %s (%" PRId64 " records)\n", topic.c_str(),
                 records);
    rd_kafka_destroy(producer);
    std::printf("{\"topic\":\"%s\",\"records\":%" PRId64 ",\"reused\":true}\n", topic.c_str(),
                records);
    return 0;
  }
  if (existing >= 0) DeleteTopics(producer, {topic});
  std::fprintf(stderr,
               "changelog_tool: filling %s with %" PRId64 " words of %" PRId64
               " distinct in %d partitions\n",
               topic.c_str(), records, keys, partitions);
  CreateTopic(producer, topic, partitions, {});
  for (int64_t i = 0; i < records; ++i) {
    std::string word = Word(i % keys);
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()),
                            RD_KAFKA_V_PARTITION(static_cast<int32_t>(i % partitions)),
                            RD_KAFKA_V_VALUE(word.data(), word.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
      rd_kafka_poll(producer, 10);
    }
    if (g_delivery_failed) throw std::runtime_error("filling " + topic + " failed");
  }
  if (rd_kafka_flush(producer, 300000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("flush timed out");
  if (g_delivery_failed) throw std::runtime_error("filling " + topic + " failed");
  const int64_t now = OffsetSpan(producer, topic, partitions);
  rd_kafka_destroy(producer);
  if (now != records)
    throw std::runtime_error(topic + " holds " + std::to_string(now) + " records after filling");
  std::printf("{\"topic\":\"%s\",\"records\":%" PRId64 ",\"reused\":false}\n", topic.c_str(),
              records);
  return 0;
}

int CreateOutput(const Args& args) {
  const std::string topic = args.Get("topic");
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {});
  if (PartitionCount(client, topic) >= 0) DeleteTopics(client, {topic});
  CreateTopic(client, topic, static_cast<int>(args.GetLong("partitions")),
              {{"message.timestamp.type", "LogAppendTime"}});
  rd_kafka_destroy(client);
  std::printf("{\"topic\":\"%s\"}\n", topic.c_str());
  return 0;
}

int Count(const Args& args) {
  const std::string topic = args.Get("topic");
  const int64_t expected = args.GetLong("records");
  const int64_t keys = args.GetLong("keys");
  rd_kafka_t* probe = NewClient(RD_KAFKA_PRODUCER, {});
  const int partitions = PartitionCount(probe, topic);
  rd_kafka_destroy(probe);
  if (partitions < 0) throw std::runtime_error("topic " + topic + " does not exist");
  // Per word: how many values arrived, and whether each was the one after the previous (a
  // word's counts are on one partition, in order).
  struct Seen {
    int64_t values = 0;
    bool in_order = true;
  };
  std::unordered_map<std::string, Seen> words;
  words.reserve(static_cast<size_t>(keys));
  int64_t records = 0;
  std::vector<int64_t> append_ms;
  append_ms.reserve(static_cast<size_t>(expected));
  ReadAll(topic, partitions, [&](const rd_kafka_message_t& m) {
    ++records;
    append_ms.push_back(rd_kafka_message_timestamp(&m, nullptr));
    std::string word(static_cast<const char*>(m.key), m.key_len);
    const int64_t value =
        std::strtoll(std::string(static_cast<const char*>(m.payload), m.len).c_str(), nullptr, 10);
    Seen& seen = words[word];
    ++seen.values;
    if (value != seen.values) seen.in_order = false;
  });
  int64_t wrong = 0, known = 0;
  for (int64_t k = 0; k < keys; ++k) {
    auto it = words.find(Word(k));
    if (it != words.end()) ++known;
    if (it == words.end() || !it->second.in_order ||
        it->second.values != Occurrences(k, expected, keys))
      ++wrong;
  }
  // Words in the output that the input never had.
  const int64_t unknown = static_cast<int64_t>(words.size()) - known;
  std::sort(append_ms.begin(), append_ms.end());
  auto at = [&](double q) {
    return append_ms.empty()
               ? int64_t{0}
               : append_ms[static_cast<size_t>(q * static_cast<double>(append_ms.size() - 1))];
  };
  std::printf("{\"records\":%" PRId64 ",\"distinct\":%zu,\"wrong\":%" PRId64 ",\"unknown\":%" PRId64
              ",\"first_append_ms\":%" PRId64 ",\"last_append_ms\":%" PRId64
              ",\"p10_append_ms\":%" PRId64 ",\"p90_append_ms\":%" PRId64 "}\n",
              records, words.size(), wrong, unknown, at(0), at(1), at(0.1), at(0.9));
  return 0;
}

int Changelog(const Args& args) {
  const std::string prefix = args.Get("prefix") + ".";
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {});
  const std::optional<std::vector<std::filesystem::path>> log_dirs = BrokerLogDirs(client);
  std::string topics_json;
  int64_t total_records = 0, total_tombstones = 0, total_key_bytes = 0, total_value_bytes = 0;
  int64_t total_offsets = 0, total_segment_bytes = 0;
  bool segments_known = log_dirs.has_value();
  for (const auto& [topic, partitions] : ListTopics(client)) {
    if (topic.rfind(prefix, 0) != 0 || topic.size() < prefix.size() + kChangelogSuffix.size() ||
        topic.compare(topic.size() - kChangelogSuffix.size(), kChangelogSuffix.size(),
                      kChangelogSuffix) != 0)
      continue;
    int64_t records = 0, tombstones = 0, key_bytes = 0, value_bytes = 0;
    ReadAll(topic, partitions, [&](const rd_kafka_message_t& m) {
      ++records;
      key_bytes += static_cast<int64_t>(m.key_len);
      if (m.payload == nullptr) {
        ++tombstones;
      } else {
        value_bytes += static_cast<int64_t>(m.len);
      }
    });
    const int64_t offsets = OffsetSpan(client, topic, partitions);
    const int64_t segment_bytes = log_dirs ? SegmentBytes(*log_dirs, topic, partitions) : -1;
    if (segment_bytes < 0) segments_known = false;
    total_records += records;
    total_tombstones += tombstones;
    total_key_bytes += key_bytes;
    total_value_bytes += value_bytes;
    total_offsets += offsets;
    total_segment_bytes += std::max<int64_t>(segment_bytes, 0);
    char line[1024];
    std::snprintf(line, sizeof line,
                  "{\"topic\":\"%s\",\"partitions\":%d,\"records\":%" PRId64
                  ",\"tombstones\":%" PRId64 ",\"key_bytes\":%" PRId64 ",\"value_bytes\":%" PRId64
                  ",\"offsets\":%" PRId64 ",\"segment_bytes\":%s}",
                  topic.c_str(), partitions, records, tombstones, key_bytes, value_bytes, offsets,
                  segment_bytes < 0 ? "null" : std::to_string(segment_bytes).c_str());
    topics_json += (topics_json.empty() ? "" : ",") + std::string(line);
  }
  rd_kafka_destroy(client);
  std::printf("{\"topics\":[%s],\"total\":{\"records\":%" PRId64 ",\"tombstones\":%" PRId64
              ",\"key_bytes\":%" PRId64 ",\"value_bytes\":%" PRId64 ",\"offsets\":%" PRId64
              ",\"segment_bytes\":%s}}\n",
              topics_json.c_str(), total_records, total_tombstones, total_key_bytes,
              total_value_bytes, total_offsets,
              segments_known ? std::to_string(total_segment_bytes).c_str() : "null");
  return 0;
}

int Delete(const Args& args) {
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {});
  std::vector<std::string> doomed;
  if (args.Has("topic")) doomed.push_back(args.Get("topic"));
  if (args.Has("prefix")) {
    const std::string prefix = args.Get("prefix") + ".";
    if (prefix.size() < 2) throw std::runtime_error("--prefix must not be empty");
    for (const auto& [topic, partitions] : ListTopics(client)) {
      if (topic.rfind(prefix, 0) == 0) doomed.push_back(topic);
    }
  }
  if (doomed.empty() && !args.Has("topic") && !args.Has("prefix"))
    throw std::runtime_error("--topic or --prefix is required");
  DeleteTopics(client, doomed);
  if (args.Has("prefix")) {
    // The group is gone already when the run never committed offsets: not an error.
    rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
    rd_kafka_DeleteGroup_t* group = rd_kafka_DeleteGroup_new(args.Get("prefix").c_str());
    rd_kafka_DeleteGroups(client, &group, 1, nullptr, queue);
    rd_kafka_DeleteGroup_destroy(group);
    if (rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000)) rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
  }
  rd_kafka_destroy(client);
  std::string names;
  for (const std::string& topic : doomed) names += (names.empty() ? "\"" : ",\"") + topic + "\"";
  std::printf("{\"deleted\":[%s]}\n", names.c_str());
  return 0;
}

int Ping() {
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {});
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, nullptr, &metadata, 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(client);
    throw std::runtime_error("no answer from " + Bootstrap() + ": " + rd_kafka_err2str(err));
  }
  std::printf("{\"brokers\":%d}\n", metadata->broker_cnt);
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_destroy(client);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: changelog_tool prepare|create-output|count|changelog|delete|ping --flag value "
        "... (see the source)\n");
    return 2;
  }
  Args args;
  for (int i = 2; i < argc; i += 2) {
    std::string flag = argv[i];
    if (flag.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "changelog_tool: expected --flag value, got %s\n", argv[i]);
      return 2;
    }
    args.values[flag.substr(2)] = argv[i + 1];
  }
  const std::string command = argv[1];
  try {
    if (command == "prepare") return Prepare(args);
    if (command == "create-output") return CreateOutput(args);
    if (command == "count") return Count(args);
    if (command == "changelog") return Changelog(args);
    if (command == "delete") return Delete(args);
    if (command == "ping") return Ping();
    std::fprintf(stderr, "changelog_tool: unknown command %s\n", command.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "changelog_tool %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
