// plain_pipeline: the end-to-end job without a framework, librdkafka's C API only: the floor
// any librdkafka-based system pays for read -> append a suffix -> write.
//
//   plain_pipeline --input T --output T --guarantee none|at_least_once|exactly_once
//                  [--parallelism 2] [--commit-interval-ms 1000] [--bounded true|false]
//                  [--bootstrap-servers S] [--run-id ID] [--debug librdkafka-debug-contexts]
//
// `parallelism` threads, each owning the partitions p with p % parallelism == its index, a
// consumer (manual assignment from the earliest offset, no group rebalancing, as sluice's and
// Flink's sources do) and a producer of its own. Client settings are librdkafka's defaults
// except queued.min.messages, raised as sluice's source raises it (see Worker::Run), and the
// producer's partitioner, murmur2_random as sluice's sink sets it. Every commit interval each
// thread:
//   none           commits the consumed offsets to the group (asynchronously), no flush
//                  (what a consumer with auto-commit does; a crash may lose or repeat records)
//   at_least_once  idempotent producer; flushes it (every delivery report in), then commits
//                  the offsets: sluice's and Flink's AT_LEAST_ONCE barrier, without the barrier
//   exactly_once   transactional producer (one transactional.id per thread); sends the offsets
//                  with send_offsets_to_transaction and commits the transaction, then begins
//                  the next one: Kafka's own consume-transform-produce pattern
// Bounded runs stop every partition at the end offset seen at start and finish with a last
// flush + commit. Unbounded runs (latency) go on until SIGINT or SIGTERM.
// A failed delivery or a failed transaction call ends the process with exit code 1.
// Prints one line "plain_pipeline: {json}" with the records read and written.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::string_view kSuffix = "|mapped";  // as sluice_pipeline.cc and the Flink job

std::atomic<bool> g_stop{false};
std::atomic<bool> g_delivery_failed{false};

void OnSignal(int) { g_stop = true; }

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !g_delivery_failed.exchange(true)) {
    std::fprintf(stderr, "plain_pipeline: delivery failed: %s\n", rd_kafka_err2str(message->err));
  }
}

struct Options {
  std::string bootstrap = "127.0.0.1:19092";
  std::string input;
  std::string output;
  std::string guarantee = "none";
  int parallelism = 2;
  int commit_interval_ms = 1000;
  bool bounded = true;
  std::string run_id = "e2e";
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "plain_pipeline: %s\n", what.c_str());
  std::exit(1);
}

void CheckError(rd_kafka_error_t* error, const char* call) {
  if (error == nullptr) return;
  std::string message = std::string(call) + ": " + rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  Fail(message);
}

std::string g_debug;  // librdkafka debug contexts for every client (--debug, diagnosis only)

rd_kafka_t* NewClient(rd_kafka_type_t type, std::map<std::string, std::string> properties) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (!g_debug.empty()) properties["debug"] = g_debug;
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      Fail(std::string(key).append("=").append(value).append(": ").append(error));
    }
  }
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* client = rd_kafka_new(type, conf, error, sizeof error);
  if (client == nullptr) Fail(error);
  return client;
}

struct WorkerResult {
  int64_t read = 0;
  int64_t written = 0;
  int64_t commits = 0;
};

class Worker {
 public:
  Worker(const Options& options, int index, int partitions) : options_(options), index_(index) {
    for (int p = index; p < partitions; p += options.parallelism) partitions_.push_back(p);
  }

  WorkerResult Run() {
    const std::string group = "plain-e2e-" + options_.run_id;
    consumer_ =
        NewClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", options_.bootstrap},
                                      {"group.id", group},
                                      {"enable.auto.commit", "false"},
                                      {"client.id", group + "-" + std::to_string(index_)},
                                      // As sluice's source sets it (src/connectors/kafka/
                                      // source_settings.cc): with assign() librdkafka 2.0.2
                                      // checks the default (100000) against the one shared
                                      // consumer queue and stops fetching for ~1 s per round.
                                      {"queued.min.messages", "10000000"}});
    std::map<std::string, std::string> producer_properties = {
        {"bootstrap.servers", options_.bootstrap}, {"partitioner", "murmur2_random"}};
    if (options_.guarantee == "at_least_once") producer_properties["enable.idempotence"] = "true";
    if (options_.guarantee == "exactly_once") {
      producer_properties["transactional.id"] = group + "-" + std::to_string(index_);
    }
    producer_ = NewClient(RD_KAFKA_PRODUCER, producer_properties);
    output_ = rd_kafka_topic_new(producer_, options_.output.c_str(), nullptr);
    // librdkafka 2.0.2 does not ask for a new topic's metadata when the first record for it is
    // produced; it waits for its 1-second topic scan, and the records queue up until then. One
    // metadata request here, before reading, is what a hand-written loop does about it.
    const rd_kafka_metadata_t* metadata = nullptr;
    if (rd_kafka_metadata(producer_, 0, output_, &metadata, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Fail("metadata of the output topic " + options_.output + " not available within 10 s");
    }
    rd_kafka_metadata_destroy(metadata);
    if (transactional()) {
      CheckError(rd_kafka_init_transactions(producer_, 60000), "init_transactions");
      CheckError(rd_kafka_begin_transaction(producer_), "begin_transaction");
    }

    rd_kafka_topic_partition_list_t* assignment =
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions_.size()));
    // Start and stop offsets are looked up here, as sluice's and Flink's sources do: assigning
    // RD_KAFKA_OFFSET_BEGINNING instead makes librdkafka 2.0.2 start fetching about 500 ms
    // later at random (its own offset query waits for a retry).
    for (int p : partitions_) {
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(consumer_, options_.input.c_str(),
                                                                 p, &low, &high, 10000);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        Fail("offsets of " + options_.input + ": " + rd_kafka_err2str(err));
      rd_kafka_topic_partition_list_add(assignment, options_.input.c_str(), p)->offset = low;
      if (options_.bounded) {
        stop_[p] = high;
        if (high <= low) ++ended_;
      }
      next_[p] = -1;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_, assignment);
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) Fail(std::string("assign: ") + rd_kafka_err2str(err));
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer_);

    std::vector<rd_kafka_message_t*> batch(1024);
    std::string value;
    auto next_commit =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.commit_interval_ms);
    while (!g_stop && !(options_.bounded && ended_ == static_cast<int>(partitions_.size()))) {
      // Take what is there without waiting; only when nothing is, wait for one record.
      // (consume_batch_queue with a timeout waits for a full batch, which would add up to the
      // timeout to every record's latency at a low rate.)
      ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch.data(), batch.size());
      if (n == 0) {
        batch[0] = rd_kafka_consume_queue(queue, 100);
        n = batch[0] != nullptr ? 1 : 0;
      }
      for (ssize_t i = 0; i < n; ++i) {
        rd_kafka_message_t* m = batch[static_cast<size_t>(i)];
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
          Process(m, value);
        else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          Fail(std::string("consume: ") + rd_kafka_err2str(m->err));
        rd_kafka_message_destroy(m);
      }
      rd_kafka_poll(producer_, 0);  // delivery reports
      if (g_delivery_failed) std::exit(1);
      if (std::chrono::steady_clock::now() >= next_commit) {
        Commit();
        next_commit = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(options_.commit_interval_ms);
      }
    }
    Commit();
    if (!transactional() && rd_kafka_flush(producer_, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      Fail("final flush timed out");
    if (transactional())
      CheckError(rd_kafka_abort_transaction(producer_, 60000),
                 "abort_transaction (empty, at close)");
    if (g_delivery_failed) std::exit(1);
    rd_kafka_queue_destroy(queue);
    rd_kafka_consumer_close(consumer_);
    rd_kafka_destroy(consumer_);
    rd_kafka_topic_destroy(output_);
    rd_kafka_destroy(producer_);
    return result_;
  }

 private:
  bool transactional() const { return options_.guarantee == "exactly_once"; }

  void Process(rd_kafka_message_t* m, std::string& value) {
    ++result_.read;
    next_[m->partition] = m->offset + 1;
    if (options_.bounded && m->offset + 1 >= stop_[m->partition]) ++ended_;
    value.assign(static_cast<const char*>(m->payload), m->len).append(kSuffix);
    while (rd_kafka_produce(output_, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value.data(),
                            value.size(), nullptr, 0, nullptr) != 0) {
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
        Fail(std::string("produce: ") + rd_kafka_err2str(err));
      rd_kafka_poll(producer_, 10);
    }
    ++result_.written;
  }

  rd_kafka_topic_partition_list_t* Offsets() const {
    rd_kafka_topic_partition_list_t* offsets =
        rd_kafka_topic_partition_list_new(static_cast<int>(next_.size()));
    for (const auto& [partition, next] : next_) {
      if (next >= 0)
        rd_kafka_topic_partition_list_add(offsets, options_.input.c_str(), partition)->offset =
            next;
    }
    return offsets;
  }

  void Commit() {
    rd_kafka_topic_partition_list_t* offsets = Offsets();
    if (transactional()) {
      if (offsets->cnt > 0) {
        rd_kafka_consumer_group_metadata_t* group = rd_kafka_consumer_group_metadata(consumer_);
        CheckError(rd_kafka_send_offsets_to_transaction(producer_, offsets, group, 60000),
                   "send_offsets_to_transaction");
        rd_kafka_consumer_group_metadata_destroy(group);
      }
      CheckError(rd_kafka_commit_transaction(producer_, 60000), "commit_transaction");
      CheckError(rd_kafka_begin_transaction(producer_), "begin_transaction");
    } else if (offsets->cnt > 0) {
      // AT_LEAST_ONCE: the records of everything consumed so far must be in Kafka before the
      // offsets say so.
      if (options_.guarantee == "at_least_once" &&
          rd_kafka_flush(producer_, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        Fail("flush before the offset commit timed out");
      }
      if (g_delivery_failed) std::exit(1);
      rd_kafka_commit(consumer_, offsets, /*async=*/1);
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    ++result_.commits;
  }

  const Options& options_;
  int index_;
  std::vector<int> partitions_;
  std::map<int32_t, int64_t> stop_;
  std::map<int32_t, int64_t> next_;
  int ended_ = 0;
  rd_kafka_t* consumer_ = nullptr;
  rd_kafka_t* producer_ = nullptr;
  rd_kafka_topic_t* output_ = nullptr;
  WorkerResult result_;
};

int PartitionCount(const Options& options) {
  rd_kafka_t* client = NewClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", options.bootstrap}});
  rd_kafka_topic_t* topic = rd_kafka_topic_new(client, options.input.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client, 0, topic, &metadata, 10000);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    Fail("metadata of " + options.input + ": " + rd_kafka_err2str(err));
  if (metadata->topic_cnt != 1 || metadata->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    Fail("input topic " + options.input + " not found: create it first (bench/e2e/run does)");
  }
  int partitions = metadata->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(metadata);
  rd_kafka_topic_destroy(topic);
  rd_kafka_destroy(client);
  return partitions;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (const char* bootstrap = std::getenv("SLUICE_BOOTSTRAP_SERVERS"))
    options.bootstrap = bootstrap;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--input")
      options.input = value;
    else if (flag == "--output")
      options.output = value;
    else if (flag == "--guarantee")
      options.guarantee = value;
    else if (flag == "--parallelism")
      options.parallelism = std::stoi(value);
    else if (flag == "--commit-interval-ms")
      options.commit_interval_ms = std::stoi(value);
    else if (flag == "--bounded")
      options.bounded = value == "true";
    else if (flag == "--bootstrap-servers")
      options.bootstrap = value;
    else if (flag == "--run-id")
      options.run_id = value;
    else if (flag == "--debug")
      g_debug = value;
    else
      Fail("unknown flag " + flag + " (see the top of bench/e2e/plain_pipeline.cc)");
  }
  if (options.input.empty() || options.output.empty())
    Fail("--input TOPIC and --output TOPIC are required");
  if (options.guarantee != "none" && options.guarantee != "at_least_once" &&
      options.guarantee != "exactly_once") {
    Fail("--guarantee " + options.guarantee + ": expected none, at_least_once or exactly_once");
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  int partitions = PartitionCount(options);
  std::vector<WorkerResult> results(static_cast<size_t>(options.parallelism));
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(options.parallelism));
  for (int i = 0; i < options.parallelism; ++i) {
    threads.emplace_back(
        [&, i] { results[static_cast<size_t>(i)] = Worker(options, i, partitions).Run(); });
  }
  for (std::thread& t : threads) t.join();
  WorkerResult total;
  for (const WorkerResult& r : results) {
    total.read += r.read;
    total.written += r.written;
    total.commits += r.commits;
  }
  std::printf(
      "plain_pipeline: {\"guarantee\":\"%s\",\"read\":%lld,\"written\":%lld,\"commits\":%lld}\n",
      options.guarantee.c_str(), static_cast<long long>(total.read),
      static_cast<long long>(total.written), static_cast<long long>(total.commits));
  return 0;
}
