// e2e_tool: the topic chores and measurements of bench/e2e/run, against the local broker.
//
//   e2e_tool prepare --topic T --records N --size B --partitions P
//       Creates T and fills it with N records of B bytes, unless it already holds exactly N.
//       Record i's value is i as 12 decimal digits, then 'x' up to B bytes, round robin over
//       the partitions, so `count` can tell missing and duplicated records apart.
//   e2e_tool create-output --topic T --partitions P
//       Creates T (deleting an older one of that name) with message.timestamp.type =
//       LogAppendTime: each record then carries the time the broker appended it, which gives
//       the time to the first output record and the output's span without trusting the job.
//   e2e_tool delete --topic T
//   e2e_tool count --topic T --expected N --size B
//       Reads T with isolation.level=read_committed to its end and prints JSON: records,
//       distinct input ids, duplicates, missing, malformed (not the input value plus the
//       suffix), and the first and last broker append times (ms since the epoch).
//   e2e_tool latency --input T --output T --rate R --warmup-s W --seconds D --size B
//       Writes R records/s into T (value: event time in microseconds, '|', then 'x' up to B
//       bytes), reads the job's output with read_committed and reports now - event time for
//       the records written during the D seconds after a warm-up of W seconds, which starts
//       when the first output record arrives. Prints JSON with p50, p99, p99.9, max in ms.
//
// Every command prints one JSON object on stdout; progress and errors go to stderr; exit code 1
// on any error.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::string_view kSuffix = "|mapped";
constexpr int kIdDigits = 12;

struct Args {
  std::map<std::string, std::string> values;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = values.find(key);
    if (it != values.end()) return it->second;
    if (fallback.empty()) throw std::runtime_error("--" + key + " is required");
    return fallback;
  }
  int64_t GetLong(const std::string& key, const std::string& fallback = "") const {
    return std::stoll(Get(key, fallback));
  }
};

std::string Bootstrap() {
  const char* bootstrap = std::getenv("SLUICE_BOOTSTRAP_SERVERS");
  return bootstrap != nullptr ? bootstrap : "127.0.0.1:19092";
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rd_kafka_t* NewClient(rd_kafka_type_t type, const std::map<std::string, std::string>& properties) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      throw std::runtime_error(key + ": " + error);
    }
  };
  set("bootstrap.servers", Bootstrap());
  for (const auto& [key, value] : properties) set(key, value);
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof error);
  if (client == nullptr) throw std::runtime_error(error);
  return client;
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

int64_t TopicSize(rd_kafka_t* client, const std::string& topic, int partitions) {
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

void DeleteTopic(rd_kafka_t* client, const std::string& topic) {
  AdminRequest(client, "delete topic " + topic, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
               [&](rd_kafka_queue_t* queue) {
                 rd_kafka_DeleteTopic_t* request = rd_kafka_DeleteTopic_new(topic.c_str());
                 rd_kafka_DeleteTopics(client, &request, 1, nullptr, queue);
                 rd_kafka_DeleteTopic_destroy(request);
               });
  // Deletion is asynchronous on the broker: wait until the metadata no longer shows the topic,
  // so that a create of the same name right after does not fail.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (PartitionCount(client, topic) >= 0) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("topic " + topic + " still exists 60 s after its deletion");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
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

void Produce(rd_kafka_t* producer, const std::string& topic, int32_t partition,
             const std::string& value) {
  while (true) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
      throw std::runtime_error(std::string("produce: ") + rd_kafka_err2str(err));
    rd_kafka_poll(producer, 10);
  }
}

std::atomic<bool> g_delivery_failed{false};
void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !g_delivery_failed.exchange(true)) {
    std::fprintf(stderr, "e2e_tool: delivery failed: %s\n", rd_kafka_err2str(message->err));
  }
}

rd_kafka_t* NewProducer(const std::map<std::string, std::string>& properties) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", Bootstrap().c_str(), error, sizeof error);
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      throw std::runtime_error(key + ": " + error);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) throw std::runtime_error(error);
  return producer;
}

int Prepare(const Args& args) {
  const std::string topic = args.Get("topic");
  const int64_t records = args.GetLong("records");
  const int size = static_cast<int>(args.GetLong("size"));
  const int partitions = static_cast<int>(args.GetLong("partitions"));
  if (size < kIdDigits)
    throw std::runtime_error("--size must be at least 12 bytes (the record id)");
  // Fast filling: large batches; the broker's own defaults otherwise.
  rd_kafka_t* producer =
      NewProducer({{"linger.ms", "20"}, {"batch.size", "1000000"}, {"enable.idempotence", "true"}});
  int existing = PartitionCount(producer, topic);
  if (existing == partitions && TopicSize(producer, topic, partitions) == records) {
    std::fprintf(stderr, "e2e_tool: reusing %s (%" PRId64 " records)\n", topic.c_str(), records);
    rd_kafka_destroy(producer);
    std::printf("{\"topic\":\"%s\",\"records\":%" PRId64 ",\"reused\":true}\n", topic.c_str(),
                records);
    return 0;
  }
  if (existing >= 0) DeleteTopic(producer, topic);
  std::fprintf(stderr,
               "e2e_tool: filling %s with %" PRId64 " records of %d bytes in %d partitions\n",
               topic.c_str(), records, size, partitions);
  CreateTopic(producer, topic, partitions, {});
  std::string value(static_cast<size_t>(size), 'x');
  char id[32];
  for (int64_t i = 0; i < records; ++i) {
    std::snprintf(id, sizeof id, "%012" PRId64, i);
    std::memcpy(value.data(), id, kIdDigits);
    Produce(producer, topic, static_cast<int32_t>(i % partitions), value);
    if (g_delivery_failed) throw std::runtime_error("filling " + topic + " failed");
  }
  if (rd_kafka_flush(producer, 300000) != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error("flush timed out");
  if (g_delivery_failed) throw std::runtime_error("filling " + topic + " failed");
  int64_t size_now = TopicSize(producer, topic, partitions);
  rd_kafka_destroy(producer);
  if (size_now != records)
    throw std::runtime_error(topic + " holds " + std::to_string(size_now) +
                             " records after filling");
  std::printf("{\"topic\":\"%s\",\"records\":%" PRId64 ",\"reused\":false}\n", topic.c_str(),
              records);
  return 0;
}

int CreateOutput(const Args& args) {
  const std::string topic = args.Get("topic");
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {});
  if (PartitionCount(client, topic) >= 0) DeleteTopic(client, topic);
  CreateTopic(client, topic, static_cast<int>(args.GetLong("partitions")),
              {{"message.timestamp.type", "LogAppendTime"}});
  rd_kafka_destroy(client);
  std::printf("{\"topic\":\"%s\"}\n", topic.c_str());
  return 0;
}

int Delete(const Args& args) {
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {});
  DeleteTopic(client, args.Get("topic"));
  rd_kafka_destroy(client);
  std::printf("{}\n");
  return 0;
}

// A consumer of every partition of `topic` from its start, read_committed.
rd_kafka_t* OutputConsumer(const std::string& topic, int partitions, bool partition_eof) {
  rd_kafka_t* consumer =
      NewClient(RD_KAFKA_CONSUMER, {{"group.id", "e2e-tool-reader"},
                                    {"enable.auto.commit", "false"},
                                    {"isolation.level", "read_committed"},
                                    {"enable.partition.eof", partition_eof ? "true" : "false"}});
  rd_kafka_topic_partition_list_t* assignment = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(consumer, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("assign: ") + rd_kafka_err2str(err));
  return consumer;
}

int Count(const Args& args) {
  const std::string topic = args.Get("topic");
  const int64_t expected = args.GetLong("expected");
  const size_t value_size = static_cast<size_t>(args.GetLong("size")) + kSuffix.size();
  rd_kafka_t* probe = NewClient(RD_KAFKA_PRODUCER, {});
  const int partitions = PartitionCount(probe, topic);
  rd_kafka_destroy(probe);
  if (partitions < 0) throw std::runtime_error("topic " + topic + " does not exist");
  rd_kafka_t* consumer = OutputConsumer(topic, partitions, true);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
  std::vector<uint8_t> seen(static_cast<size_t>(expected), 0);
  int64_t records = 0, distinct = 0, duplicates = 0, malformed = 0;
  int64_t first_ms = INT64_MAX, last_ms = 0;
  std::vector<int64_t> append_ms;  // for the middle of the output, without start and end effects
  append_ms.reserve(static_cast<size_t>(expected));
  int ended = 0;
  std::vector<rd_kafka_message_t*> batch(1024);
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
        throw std::runtime_error(std::string("consume: ") + rd_kafka_err2str(m->err));
      } else {
        ++records;
        int64_t ts = rd_kafka_message_timestamp(m, nullptr);
        first_ms = std::min(first_ms, ts);
        last_ms = std::max(last_ms, ts);
        append_ms.push_back(ts);
        const char* value = static_cast<const char*>(m->payload);
        int64_t id = -1;
        if (m->len == value_size &&
            std::string_view(value + m->len - kSuffix.size(), kSuffix.size()) == kSuffix) {
          id = std::strtoll(std::string(value, kIdDigits).c_str(), nullptr, 10);
        }
        if (id < 0 || id >= expected) {
          ++malformed;
        } else if (seen[static_cast<size_t>(id)]++ == 0) {
          ++distinct;
        } else {
          ++duplicates;
        }
      }
      rd_kafka_message_destroy(m);
    }
  }
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (records == 0) first_ms = 0;
  // The append times of the records at 10 % and 90 % of the output: the rate between them is
  // the job's rate once running, unaffected by a stall at start that is then caught up in a
  // burst, or by a slow end.
  std::sort(append_ms.begin(), append_ms.end());
  auto at = [&](double q) {
    return append_ms.empty()
               ? 0
               : append_ms[static_cast<size_t>(q * static_cast<double>(append_ms.size() - 1))];
  };
  std::printf("{\"records\":%" PRId64 ",\"distinct\":%" PRId64 ",\"duplicates\":%" PRId64
              ",\"missing\":%" PRId64 ",\"malformed\":%" PRId64 ",\"first_append_ms\":%" PRId64
              ",\"last_append_ms\":%" PRId64 ",\"p10_append_ms\":%" PRId64
              ",\"p90_append_ms\":%" PRId64 "}\n",
              records, distinct, duplicates, expected - distinct, malformed, first_ms, last_ms,
              at(0.1), at(0.9));
  return 0;
}

double Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return -1;
  size_t index = static_cast<size_t>(std::lround(q * static_cast<double>(sorted.size() - 1)));
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]) / 1000.0;
}

int Latency(const Args& args) {
  const std::string input = args.Get("input");
  const std::string output = args.Get("output");
  const int64_t rate = args.GetLong("rate", "20000");
  const int64_t warmup_s = args.GetLong("warmup-s", "5");
  const int64_t measure_s = args.GetLong("seconds", "15");
  const size_t size = static_cast<size_t>(args.GetLong("size", "100"));
  const int64_t start_deadline_s = args.GetLong("start-deadline-s", "120");

  rd_kafka_t* probe = NewClient(RD_KAFKA_PRODUCER, {});
  const int in_partitions = PartitionCount(probe, input);
  const int out_partitions = PartitionCount(probe, output);
  rd_kafka_destroy(probe);
  if (in_partitions < 0 || out_partitions < 0)
    throw std::runtime_error("create " + input + " and " + output + " first");

  // The window is set once the first output record is seen: [window_start, window_end) in
  // event time (µs). Records outside it are read but not measured.
  std::atomic<int64_t> window_start{INT64_MAX};
  std::atomic<int64_t> window_end{INT64_MAX};
  std::atomic<bool> producing_done{false};
  std::atomic<int64_t> produced_in_window{0};
  std::atomic<bool> first_output_seen{false};

  // The offered load: `rate` records/s, paced in 1 ms steps against the clock (a slow step is
  // caught up in the next, so the average rate holds). linger.ms=1: the producer's own batching
  // delay counts into the measured latency, so keep it small.
  std::thread producer_thread([&] {
    rd_kafka_t* producer = NewProducer({{"linger.ms", "1"}, {"enable.idempotence", "true"}});
    std::string value(size, 'x');
    auto start = std::chrono::steady_clock::now();
    auto started_wall = std::chrono::steady_clock::now();
    int64_t sent = 0;
    while (true) {
      auto now = std::chrono::steady_clock::now();
      if (!first_output_seen && now - started_wall > std::chrono::seconds(start_deadline_s)) break;
      int64_t now_us = NowMicros();
      if (now_us >= window_end.load()) break;
      int64_t due = std::chrono::duration_cast<std::chrono::microseconds>(now - start).count() *
                    rate / 1'000'000;
      for (; sent < due; ++sent) {
        int64_t event_us = NowMicros();
        std::string head = std::to_string(event_us) + "|";
        std::memcpy(value.data(), head.data(), std::min(head.size(), value.size()));
        Produce(producer, input, RD_KAFKA_PARTITION_UA, value);
        if (event_us >= window_start.load() && event_us < window_end.load()) ++produced_in_window;
      }
      rd_kafka_poll(producer, 0);
      std::this_thread::sleep_until(now + std::chrono::milliseconds(1));
    }
    rd_kafka_flush(producer, 60000);
    rd_kafka_destroy(producer);
    producing_done = true;
  });

  rd_kafka_t* consumer = OutputConsumer(output, out_partitions, false);
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer);
  std::vector<rd_kafka_message_t*> batch(1024);
  std::vector<int64_t> latencies_us;
  latencies_us.reserve(static_cast<size_t>(rate * measure_s + 1000));
  auto started = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point done_at{};
  std::string failure;
  while (true) {
    // Take what has arrived without waiting, and wait only for a single record when nothing
    // has: a batch call with a timeout waits to fill the batch, and that wait would be counted
    // into the latency of the records that arrived first.
    ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch.data(), batch.size());
    if (n == 0) {
      batch[0] = rd_kafka_consume_queue(queue, 50);
      n = batch[0] != nullptr ? 1 : 0;
    }
    int64_t now_us = NowMicros();
    for (ssize_t i = 0; i < n; ++i) {
      rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        int64_t event_us = std::strtoll(static_cast<const char*>(m->payload), nullptr, 10);
        if (!first_output_seen) {
          first_output_seen = true;
          window_start = now_us + warmup_s * 1'000'000;
          window_end = window_start + measure_s * 1'000'000;
          std::fprintf(stderr,
                       "e2e_tool: first output record; measuring from %lld s on for %lld s\n",
                       static_cast<long long>(warmup_s), static_cast<long long>(measure_s));
        }
        if (event_us >= window_start && event_us < window_end)
          latencies_us.push_back(now_us - event_us);
      }
      rd_kafka_message_destroy(m);
    }
    auto now = std::chrono::steady_clock::now();
    if (!first_output_seen && now - started > std::chrono::seconds(start_deadline_s)) {
      failure = "no output record within " + std::to_string(start_deadline_s) + " s";
      break;
    }
    if (producing_done) {
      if (static_cast<int64_t>(latencies_us.size()) >= produced_in_window) break;
      if (done_at == std::chrono::steady_clock::time_point{}) done_at = now;
      // Records still missing 30 s after the last was written are reported as missing.
      if (now - done_at > std::chrono::seconds(30)) break;
    }
  }
  producer_thread.join();
  rd_kafka_queue_destroy(queue);
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  if (!failure.empty()) throw std::runtime_error(failure);
  std::sort(latencies_us.begin(), latencies_us.end());
  std::printf("{\"rate\":%" PRId64 ",\"measured\":%zu,\"produced\":%" PRId64
              ",\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f}\n",
              rate, latencies_us.size(), produced_in_window.load(), Percentile(latencies_us, 0.5),
              Percentile(latencies_us, 0.99), Percentile(latencies_us, 0.999),
              Percentile(latencies_us, 1.0));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: e2e_tool prepare|create-output|delete|count|latency --flag value ... (see "
                 "the source)\n");
    return 2;
  }
  Args args;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag.rfind("--", 0) != 0) {
      std::fprintf(stderr, "e2e_tool: expected --flag value, got %s\n", argv[i]);
      return 2;
    }
    args.values[flag.substr(2)] = argv[i + 1];
  }
  const std::string command = argv[1];
  try {
    if (command == "prepare") return Prepare(args);
    if (command == "create-output") return CreateOutput(args);
    if (command == "delete") return Delete(args);
    if (command == "count") return Count(args);
    if (command == "latency") return Latency(args);
    std::fprintf(stderr, "e2e_tool: unknown command %s\n", command.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "e2e_tool %s: %s\n", command.c_str(), e.what());
    return 1;
  }
}
