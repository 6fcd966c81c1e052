// crash_test: kills an exactly-once job with SIGKILL at random moments and proves that its
// committed output is still exact (issue #5; DESIGN.md sections 4 and 5).
//
// The job is examples/exactly_once_word_count, run as a separate process: Kafka -> split lines
// into words -> KeyBy(word) -> running count in ValueState -> Kafka EXACTLY_ONCE, a checkpoint
// every second. This driver
//
//   1. creates a fresh input topic and a fresh output topic (4 partitions each),
//   2. keeps filling the input with lines of words from a fixed vocabulary at a steady rate,
//   3. starts the job, kills it with SIGKILL at a random moment, starts it again with the same
//      checkpoint directory, --kills times; most kills come a random 0..--max-delay-ms after
//      the job's committed output grew (so each of those runs provably made progress), some
//      within --max-delay-ms of the start (a kill during recovery),
//   4. stops the producer, starts the job a last time, waits until every count is committed,
//      stops the job with SIGTERM (stop with savepoint, exit 0),
//   5. reads the output with its own read_committed consumer and checks that for every word w
//      occurring n times in the input, the output for key w is exactly 1, 2, ..., n: each
//      value once, in this order, all on one partition,
//
// and prints `crash-test: K kills, N records, 0 lost, 0 duplicated` (N input records) on
// success. On failure it prints the lost / duplicated / out-of-order counts with examples and
// exits 1; the seed printed first replays the same input and the same kill schedule with
// --seed (the moments still depend on how fast the machine runs the job).
//
// usage: crash_test --job PATH [--kills 5] [--seed S] [--rate 1000] [--min-lines 20000]
//                   [--parallelism 2] [--checkpoint-interval 1s] [--max-delay-ms 2500]
//                   [--keep] [--work-dir DIR]
// Bounded waits are multiplied by SLUICE_TEST_TIMEOUT_SCALE; the broker is
// SLUICE_BOOTSTRAP_SERVERS or 127.0.0.1:19092.
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crash/child_process.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kPartitions = 4;

// The fixed vocabulary. Words are drawn with a skew (a few are frequent, most are rare), so
// some counts run into the thousands and some stay small.
constexpr std::array<const char*, 64> kVocabulary = {
    "the",       "of",        "and",        "to",      "in",     "stream",  "kafka",   "state",
    "barrier",   "offset",    "epoch",      "commit",  "abort",  "fence",   "replay",  "record",
    "key",       "value",     "topic",      "broker",  "leader", "replica", "segment", "index",
    "window",    "timer",     "source",     "sink",    "task",   "thread",  "channel", "batch",
    "watermark", "savepoint", "checkpoint", "restore", "crash",  "signal",  "kill",    "resume",
    "exactly",   "once",      "least",      "most",    "order",  "count",   "word",    "line",
    "river",     "sluice",    "gate",       "flow",    "water",  "mill",    "canal",   "lock",
    "delta",     "basin",     "spring",     "brook",   "creek",  "rapids",  "weir",    "dam"};

void Say(const char* format, auto... args) {
  std::printf(format, args...);
  std::printf("\n");
  std::fflush(stdout);
}

struct Options {
  std::string job;
  int kills = 5;
  uint64_t seed = 0;
  int rate = 1000;
  int64_t min_lines = 20000;
  int parallelism = 2;
  std::string checkpoint_interval = "1s";
  int max_delay_ms = 2500;
  /// Every Nth restart (0: never) begins with the checkpoint directory deleted, as on a new
  /// host: the state must come back from the changelog in Kafka.
  int lose_checkpoints_every = 0;
  bool keep = false;
  std::string work_dir;
  std::vector<std::string> job_args;
};

// ---- the producer that keeps filling the input topic ----

struct DeliveryCounts {
  std::atomic<int64_t> delivered{0};
  std::atomic<int64_t> failed{0};
  std::mutex mutex;
  std::string first_error;
};
DeliveryCounts g_deliveries;  // librdkafka's delivery callback is a plain function pointer

void OnInputDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    g_deliveries.delivered.fetch_add(1);
    return;
  }
  if (g_deliveries.failed.fetch_add(1) == 0) {
    std::lock_guard lock(g_deliveries.mutex);
    g_deliveries.first_error = rd_kafka_err2str(message->err);
  }
}

void UseInputDeliveryCallback(rd_kafka_conf_t* conf) {
  rd_kafka_conf_set_dr_msg_cb(conf, &OnInputDelivery);
}

// Produces `rate` lines a second, spread evenly, on its own thread until RequestStop() and at least
// `min_lines` lines. Idempotent, so the input holds every line exactly once even when the
// producer retries.
class LineProducer {
 public:
  LineProducer(std::string topic, int rate, int64_t min_lines, uint64_t seed)
      : topic_(std::move(topic)), rate_(rate), min_lines_(min_lines), random_(seed) {
    producer_ = NewClient(RD_KAFKA_PRODUCER, {{"enable.idempotence", "true"}, {"linger.ms", "5"}},
                          &UseInputDeliveryCallback);
    thread_ = std::thread([this] { Run(); });
  }
  ~LineProducer() {
    RequestStop();
    if (thread_.joinable()) thread_.join();
  }

  void RequestStop() { stop_requested_ = true; }
  /// Waits for the last line and every delivery report; throws if any delivery failed.
  int64_t Finish() {
    RequestStop();
    if (thread_.joinable()) thread_.join();
    if (!error_.empty()) throw std::runtime_error(error_);
    rd_kafka_resp_err_t err =
        rd_kafka_flush(producer_.get(), static_cast<int>(Scaled(milliseconds(60000)).count()));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("the input producer could not flush within 60 s: " +
                               std::string(rd_kafka_err2str(err)));
    }
    if (g_deliveries.failed > 0 || g_deliveries.delivered != produced_) {
      std::lock_guard lock(g_deliveries.mutex);
      throw std::runtime_error(
          "the input producer lost lines: " + std::to_string(g_deliveries.failed.load()) +
          " deliveries failed (" + g_deliveries.first_error + "), " +
          std::to_string(g_deliveries.delivered.load()) + " of " + std::to_string(produced_) +
          " delivered");
    }
    return produced_;
  }
  int64_t produced() const { return produced_; }

 private:
  void Run() {
    auto start = Clock::now();
    std::uniform_int_distribution<int> words_per_line(1, 6);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::string line;
    while (!(stop_requested_ && produced_ >= min_lines_)) {
      double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      auto due = static_cast<int64_t>(elapsed * rate_);
      if (produced_ >= due) {
        std::this_thread::sleep_for(
            milliseconds(5));  // pacing the producer, not waiting for an event
        rd_kafka_poll(producer_.get(), 0);
        continue;
      }
      line.clear();
      int words = words_per_line(random_);
      for (int i = 0; i < words; ++i) {
        double u = uniform(random_);
        auto index = static_cast<size_t>(
            u * u * static_cast<double>(kVocabulary.size()));  // skewed to the front
        if (i > 0) line += ' ';
        line += kVocabulary[std::min(index, kVocabulary.size() - 1)];
      }
      auto partition = static_cast<int32_t>(produced_ % kPartitions);
      rd_kafka_resp_err_t err;
      while ((err = rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
                                      RD_KAFKA_V_PARTITION(partition),
                                      RD_KAFKA_V_VALUE(line.data(), line.size()),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
             RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer_.get(), 10);  // the local queue drains as the broker acknowledges
      }
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        error_ = "producing to " + topic_ + " failed: " + rd_kafka_err2str(err);
        return;
      }
      ++produced_;
      rd_kafka_poll(producer_.get(), 0);
    }
  }

  std::string topic_;
  int rate_;
  int64_t min_lines_;
  std::mt19937_64 random_;
  KafkaPtr producer_;
  std::atomic<bool> stop_requested_{false};
  std::atomic<int64_t> produced_{0};
  std::string error_;  // written by the thread, read after join
  std::thread thread_;
};

// ---- a read_committed consumer that counts the committed output while the job runs ----

class CommittedOutputCounter {
 public:
  explicit CommittedOutputCounter(const std::string& topic) {
    consumer_ = NewClient(RD_KAFKA_CONSUMER, {{"group.id", UniqueName("crash-progress")},
                                              {"enable.auto.commit", "false"},
                                              {"isolation.level", "read_committed"}});
    PartitionListPtr assignment(rd_kafka_topic_partition_list_new(kPartitions));
    for (int p = 0; p < kPartitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), assignment.get()); err) {
      throw std::runtime_error("assigning the output topic " + topic +
                               " failed: " + rd_kafka_err2str(err));
    }
    thread_ = std::thread([this] { Run(); });
  }
  ~CommittedOutputCounter() {
    stop_ = true;
    thread_.join();
    rd_kafka_consumer_close(consumer_.get());
  }
  int64_t count() const { return count_; }

 private:
  void Run() {
    while (!stop_) {
      MessagePtr message(rd_kafka_consumer_poll(consumer_.get(), 100));
      if (message && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) count_.fetch_add(1);
    }
  }

  KafkaPtr consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> count_{0};
  std::thread thread_;
};

// ---- what the job says about its restore ----

struct RestoreReport {
  bool printed = false;                // the job got as far as saying where it starts
  std::optional<int64_t> checkpoint;   // what the example printed (nullopt: a fresh start)
  std::string line;                    // the example's line, for the narrative
  std::optional<int64_t> runtime_log;  // what the runtime logged ("restores checkpoint N")
  bool from_changelog = false;         // ... "from the state changelog in Kafka"
};

RestoreReport ReadRestoreReport(const std::string& output) {
  static const std::regex kRestored(R"(^restored checkpoint (\d+) \(offsets [^)]*\))");
  static const std::regex kFresh(R"(^no checkpoint to restore: .*)");
  static const std::regex kRuntime(R"(restores checkpoint (\d+) from)");
  static const std::regex kChangelog(
      R"(restores checkpoint \d+ from the state changelog in Kafka)");
  RestoreReport report;
  std::istringstream lines(output);
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (!report.printed && std::regex_search(line, match, kRestored)) {
      report.printed = true;
      report.checkpoint = std::stoll(match[1]);
      report.line = match[0];
    } else if (!report.printed && std::regex_search(line, match, kFresh)) {
      report.printed = true;
      report.line = match[0];
    } else if (!report.runtime_log && std::regex_search(line, match, kRuntime)) {
      report.runtime_log = std::stoll(match[1]);
    }
    if (std::regex_search(line, kChangelog)) report.from_changelog = true;
  }
  return report;
}

// ---- the check ----

struct Verdict {
  int64_t lost = 0;
  int64_t duplicated = 0;
  int64_t out_of_order = 0;
  int64_t split_words = 0;  // words whose counts are on more than one partition
  std::vector<std::string> examples;

  bool ok() const { return lost == 0 && duplicated == 0 && out_of_order == 0 && split_words == 0; }
  void Example(std::string text) {
    if (examples.size() < 10) examples.push_back(std::move(text));
  }
};

// For every word w occurring n times in the input, the committed output for key w must be
// exactly 1..n, each once, in this order, all on one partition.
Verdict CheckOutput(const std::map<std::string, int64_t>& expected,
                    const std::vector<Record>& output) {
  struct Seen {
    std::map<int32_t, std::vector<int64_t>>
        by_partition;  // in offset order; one partition when correct
    size_t records = 0;
  };
  std::map<std::string, Seen> by_word;
  Verdict verdict;
  for (const Record& record : output) {  // ReadToEnd returns each partition in offset order
    if (!record.key || !record.value) {
      ++verdict.duplicated;
      verdict.Example("a record without key or value at partition " +
                      std::to_string(record.partition) + " offset " +
                      std::to_string(record.offset));
      continue;
    }
    Seen& seen = by_word[*record.key];
    ++seen.records;
    int64_t value = 0;
    try {
      size_t used = 0;
      value = std::stoll(*record.value, &used);
      if (used != record.value->size()) value = 0;
    } catch (const std::exception&) {
      value = 0;  // counted as a duplicate below: no input record explains it
    }
    seen.by_partition[record.partition].push_back(value);
  }
  for (const auto& [word, n] : expected) {
    auto found = by_word.find(word);
    if (found == by_word.end()) {
      verdict.lost += n;
      verdict.Example("'" + word + "': occurs " + std::to_string(n) +
                      " times in the input, no count in the output");
      continue;
    }
    const Seen& seen = found->second;
    if (seen.by_partition.size() > 1) {
      ++verdict.split_words;
      verdict.Example("'" + word + "': counts on " + std::to_string(seen.by_partition.size()) +
                      " partitions (the sink's key partitioner should keep a word on one)");
    }
    // One example per word and kind, so that the examples show several words.
    std::vector<int64_t> occurrences(static_cast<size_t>(n) + 1, 0);
    int64_t unexplained = 0;
    int64_t repeated = 0;
    int64_t backwards = 0;
    std::string first_unexplained;
    std::string first_repeated;
    std::string first_backwards;
    for (const auto& [partition, values] : seen.by_partition) {
      int64_t previous = 0;
      for (int64_t value : values) {
        if (value < 1 || value > n) {
          if (unexplained++ == 0) first_unexplained = std::to_string(value);
          continue;
        }
        if (++occurrences[static_cast<size_t>(value)] > 1) {
          if (repeated++ == 0) first_repeated = std::to_string(value);
        } else if (value < previous) {
          if (backwards++ == 0)
            first_backwards = std::to_string(value) + " after " + std::to_string(previous);
        }
        previous = std::max(previous, value);
      }
    }
    int64_t missing = 0;
    int64_t first_missing = 0;
    for (int64_t value = 1; value <= n; ++value) {
      if (occurrences[static_cast<size_t>(value)] == 0 && missing++ == 0) first_missing = value;
    }
    const std::string quoted = "'" + word + "' (" + std::to_string(n) + " times in the input): ";
    if (missing > 0) {
      verdict.lost += missing;
      verdict.Example(quoted + std::to_string(missing) + " of its counts 1.." + std::to_string(n) +
                      " missing, the first " + std::to_string(first_missing));
    }
    if (repeated > 0) {
      verdict.duplicated += repeated;
      verdict.Example(quoted + std::to_string(repeated) +
                      " counts committed more than once, the first " + first_repeated);
    }
    if (unexplained > 0) {
      verdict.duplicated += unexplained;
      verdict.Example(quoted + std::to_string(unexplained) + " counts outside 1.." +
                      std::to_string(n) + ", the first " + first_unexplained);
    }
    if (backwards > 0) {
      verdict.out_of_order += backwards;
      verdict.Example(quoted + std::to_string(backwards) + " counts out of order, the first " +
                      first_backwards);
    }
  }
  for (const auto& [word, seen] : by_word) {
    if (!expected.contains(word)) {
      verdict.duplicated += static_cast<int64_t>(seen.records);
      verdict.Example("'" + word + "': " + std::to_string(seen.records) +
                      " counts, but it is not in the input");
    }
  }
  return verdict;
}

std::map<std::string, int64_t> CountWords(const std::vector<Record>& input, int64_t& total_words) {
  std::map<std::string, int64_t> counts;
  total_words = 0;
  for (const Record& record : input) {
    std::istringstream words(record.value.value_or(""));
    std::string word;
    while (words >> word) {
      ++counts[word];
      ++total_words;
    }
  }
  return counts;
}

// ---- the run ----

class CrashTest {
 public:
  explicit CrashTest(Options options)
      : options_(std::move(options)), random_(options_.seed ^ 0x6b696c6cULL) {}

  int Run() {
    const std::string run_name = UniqueName("crash");
    input_topic_ = run_name + "-words";
    output_topic_ = run_name + "-counts";
    prefix_ = run_name;
    work_dir_ = options_.work_dir.empty() ? std::filesystem::temp_directory_path() / run_name
                                          : std::filesystem::path(options_.work_dir) / run_name;
    std::filesystem::create_directories(work_dir_);

    Say("crash-test: seed %" PRIu64 " (replay with --seed %" PRIu64 ")", options_.seed,
        options_.seed);
    CreateTopic(input_topic_, kPartitions);
    topics_.push_back(input_topic_);
    CreateTopic(output_topic_, kPartitions);
    topics_.push_back(output_topic_);
    topics_.push_back(prefix_ + ".sluice-control");  // created by the job's sink
    // The state changelogs the sink's transactions carry: one per operator uid of the example.
    for (const char* uid : {"kafka-source", "split-words", "count-words", "kafka-sink"})
      topics_.push_back(prefix_ + "." + uid + ".changelog");
    Say("crash-test: input %s and output %s (%d partitions each); job %s at parallelism %d, a "
        "checkpoint every %s, "
        "state in %s",
        input_topic_.c_str(), output_topic_.c_str(), kPartitions, options_.job.c_str(),
        options_.parallelism, options_.checkpoint_interval.c_str(), work_dir_.c_str());

    bool passed = false;
    try {
      passed = KillAndCheck();
    } catch (const std::exception& error) {
      Say("crash-test: FAILED: %s", error.what());
    }
    Cleanup(passed);
    return passed ? 0 : 1;
  }

 private:
  std::vector<std::string> JobArgs() const {
    std::vector<std::string> args = {options_.job,
                                     "--input-topic",
                                     input_topic_,
                                     "--output-topic",
                                     output_topic_,
                                     "--group-id",
                                     prefix_,
                                     "--transactional-id-prefix",
                                     prefix_,
                                     "--bootstrap-servers",
                                     BootstrapServers(),
                                     "--parallelism",
                                     std::to_string(options_.parallelism),
                                     "--checkpoint-interval",
                                     options_.checkpoint_interval,
                                     "--checkpoint-dir",
                                     (work_dir_ / "checkpoints").string(),
                                     "--savepoint-dir",
                                     (work_dir_ / "savepoints").string()};
    args.insert(args.end(), options_.job_args.begin(), options_.job_args.end());
    return args;
  }

  std::string LogPath(int run) const {
    return (work_dir_ / ("job-run-" + std::to_string(run) + ".log")).string();
  }

  // Fails (throws) if the job ended by itself: nothing in this test stops it but the driver.
  void ExpectRunning(ChildProcess& job, int run) {
    if (std::optional<int> status = job.Poll()) {
      throw std::runtime_error("run " + std::to_string(run) + " of the job " +
                               ChildProcess::Describe(status) + " by itself; its last lines:\n" +
                               LastLines(job.Output(), 30));
    }
  }

  // Checks what run `run` said about its restore against the earlier runs; returns the text
  // for the narrative. A violation is recorded and fails the test at the end, after the output
  // check has run too, so one run shows everything that went wrong.
  std::string CheckRestore(const ChildProcess& job, int run, bool output_committed_before,
                           bool lost_checkpoints) {
    RestoreReport report = ReadRestoreReport(job.Output());
    if (!report.printed) return "(killed before it said what it restored)";
    const std::string which = "run " + std::to_string(run);
    std::string said = report.line;
    if (lost_checkpoints && report.checkpoint) {
      if (!report.from_changelog) {
        problems_.push_back(which +
                            " started without its checkpoint directory and restored "
                            "checkpoint " +
                            std::to_string(*report.checkpoint) +
                            ", but the runtime did not say it came from the state changelog");
      } else {
        ++changelog_restores_;
        said +=
            " from the state changelog in Kafka (its checkpoint directory was deleted "
            "before it started)";
      }
    }
    if (report.checkpoint && report.runtime_log && *report.checkpoint != *report.runtime_log) {
      problems_.push_back(which + " printed '" + report.line +
                          "' but the runtime logged that it restores checkpoint " +
                          std::to_string(*report.runtime_log));
    }
    if (output_committed_before && !report.checkpoint) {
      problems_.push_back(
          which + " restored no checkpoint although output had been committed before it started " +
          "(with EXACTLY_ONCE that means a committed checkpoint): '" + report.line + "'");
    }
    if (report.checkpoint) {
      if (last_restored_ && *report.checkpoint < *last_restored_) {
        problems_.push_back(which + " restored checkpoint " + std::to_string(*report.checkpoint) +
                            ", older than checkpoint " + std::to_string(*last_restored_) +
                            " which an earlier run restored");
      }
      last_restored_ = report.checkpoint;
      ++restores_;
    }
    return said;
  }

  bool KillAndCheck() {
    LineProducer producer(input_topic_, options_.rate, options_.min_lines, options_.seed);
    CommittedOutputCounter committed(output_topic_);
    Say("crash-test: producing %d lines a second into %s", options_.rate, input_topic_.c_str());

    std::uniform_real_distribution<double> unit(0.0, 1.0);
    int runs_with_progress = 0;
    for (int kill_number = 1; kill_number <= options_.kills; ++kill_number) {
      const int run = kill_number;
      // Committed output means a committed checkpoint (its marker is in the same transaction),
      // so from then on every run must restore one.
      const int64_t committed_at_start = committed.count();
      const bool lost_checkpoints = LoseCheckpointsBefore(run);
      ChildProcess job;
      job.Start(JobArgs(), LogPath(run));
      const auto started = Clock::now();
      // About one kill in five (never the first) lands within the first moments of a run, where
      // it may hit recovery (fencing, the control-topic lookup, the restore itself); the others
      // wait until this run has committed output, then a random part of a few checkpoint
      // intervals, so that they hit every phase of an epoch and of its commit.
      const bool early = kill_number > 1 && unit(random_) < 0.2;
      const auto delay = milliseconds(static_cast<int64_t>(unit(random_) * options_.max_delay_ms));
      std::string when;
      if (early) {
        while (Clock::now() - started < delay) {
          ExpectRunning(job, run);
          std::this_thread::sleep_for(
              milliseconds(10));  // the kill moment is chosen at random, on purpose
        }
        when = "early kill";
      } else {
        const auto deadline = Clock::now() + Scaled(milliseconds(120000));
        while (committed.count() == committed_at_start) {
          ExpectRunning(job, run);
          if (Clock::now() > deadline) {
            throw std::runtime_error("run " + std::to_string(run) +
                                     " committed no output within 120 s; its last " + "lines:\n" +
                                     LastLines(job.Output(), 30));
          }
          std::this_thread::sleep_for(milliseconds(10));  // polling the consumer's count
        }
        const auto grew = Clock::now();
        while (Clock::now() - grew < delay) {
          ExpectRunning(job, run);
          std::this_thread::sleep_for(
              milliseconds(10));  // the kill moment is chosen at random, on purpose
        }
        when = "after its output grew, +" + std::to_string(delay.count()) + " ms";
      }
      ExpectRunning(job, run);
      job.Signal(SIGKILL);
      std::optional<int> status = job.Wait(Scaled(milliseconds(30000)));
      if (!status || !WIFSIGNALED(*status) || WTERMSIG(*status) != SIGKILL) {
        throw std::runtime_error("run " + std::to_string(run) +
                                 " did not die of SIGKILL: " + ChildProcess::Describe(status));
      }
      const int64_t committed_now = committed.count();
      const bool made_progress = committed_now > committed_at_start;
      if (made_progress) ++runs_with_progress;
      std::string restore = CheckRestore(job, run, committed_at_start > 0, lost_checkpoints);
      Say("run %d (pid %d): %s; killed with SIGKILL %.1f s after start (%s); %" PRId64
          " counts committed so far, "
          "%" PRId64 " lines in",
          run, static_cast<int>(job.pid()), restore.c_str(),
          std::chrono::duration<double>(Clock::now() - started).count(), when.c_str(),
          committed_now, producer.produced());
    }
    if (options_.kills > 0 && runs_with_progress == 0) {
      throw std::runtime_error("no killed run committed any output: the kills prove nothing");
    }

    // The last run: the producer stops (after at least --min-lines lines), the job catches up.
    const int run = options_.kills + 1;
    const int64_t committed_before_last_run = committed.count();
    const bool lost_checkpoints = LoseCheckpointsBefore(run);
    ChildProcess job;
    job.Start(JobArgs(), LogPath(run));
    const int64_t lines = producer.Finish();
    std::vector<Record> input = ReadToEnd(input_topic_, kPartitions, {}, milliseconds(120000));
    if (static_cast<int64_t>(input.size()) != lines) {
      throw std::runtime_error("the input topic holds " + std::to_string(input.size()) +
                               " lines, the producer " + "delivered " + std::to_string(lines));
    }
    int64_t total_words = 0;
    std::map<std::string, int64_t> expected = CountWords(input, total_words);
    Say("crash-test: producer stopped: %" PRId64 " lines, %" PRId64
        " words (%zu distinct); run %d (pid %d) "
        "counts the rest",
        lines, total_words, expected.size(), run, static_cast<int>(job.pid()));

    // Waits as long as the count keeps growing; a stall of 120 s ends the wait (lost records
    // would otherwise keep it waiting forever) and the check below says what is missing.
    int64_t last_count = -1;
    auto last_growth = Clock::now();
    while (committed.count() < total_words) {
      ExpectRunning(job, run);
      if (committed.count() != last_count) {
        last_count = committed.count();
        last_growth = Clock::now();
      } else if (Clock::now() - last_growth > Scaled(milliseconds(120000))) {
        Say("crash-test: the committed output stopped growing at %" PRId64 " of %" PRId64 " counts",
            last_count, total_words);
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));  // polling the consumer's count
    }
    std::string restore = CheckRestore(job, run, committed_before_last_run > 0, lost_checkpoints);
    job.Signal(SIGTERM);
    std::optional<int> status = job.Wait(Scaled(milliseconds(120000)));
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      job.Signal(SIGKILL);
      throw std::runtime_error(
          "run " + std::to_string(run) + " did not stop with exit status 0 on SIGTERM: " +
          ChildProcess::Describe(status) + "; its last lines:\n" + LastLines(job.Output(), 30));
    }
    Say("run %d (pid %d): %s; stopped with SIGTERM (savepoint), exit status 0", run,
        static_cast<int>(job.pid()), restore.c_str());
    if (restores_ == 0 && options_.kills > 0) {
      problems_.push_back(
          "no run restored a checkpoint: the job never resumed, so nothing was proven");
    }
    if (options_.lose_checkpoints_every > 0 && changelog_restores_ == 0 && options_.kills > 0) {
      problems_.push_back(
          "no run without its checkpoint directory restored from the changelog: nothing about "
          "durable state was proven");
    }

    // The independent check: a fresh read_committed consumer reads the whole output.
    std::vector<Record> output = ReadToEnd(
        output_topic_, kPartitions, {{"isolation.level", "read_committed"}}, milliseconds(120000));
    Verdict verdict = CheckOutput(expected, output);
    Say("crash-test: a read_committed consumer read %zu counts for %zu words (expected %" PRId64
        "); %d of %d "
        "runs restored a checkpoint, the last one checkpoint %" PRId64,
        output.size(), expected.size(), total_words, restores_, run, last_restored_.value_or(0));
    std::string line = "crash-test: " + std::to_string(options_.kills) + " kills, " +
                       std::to_string(lines) + " records, " + std::to_string(verdict.lost) +
                       " lost, " + std::to_string(verdict.duplicated) + " duplicated";
    if (verdict.out_of_order > 0)
      line += ", " + std::to_string(verdict.out_of_order) + " out of order";
    if (verdict.split_words > 0)
      line += ", " + std::to_string(verdict.split_words) + " words on several partitions";
    Say("%s", line.c_str());
    for (const std::string& example : verdict.examples) Say("  e.g. %s", example.c_str());
    for (const std::string& problem : problems_) Say("crash-test: FAILED: %s", problem.c_str());
    if (verdict.ok() && problems_.empty()) {
      Say("verified: %s%s; %" PRId64 " words in (%" PRId64
          " lines), counts exact, 0 lost, 0 duplicated",
          options_.kills > 0 ? "after the last kill, " : "", restore.c_str(), total_words, lines);
    }
    return verdict.ok() && problems_.empty();
  }

  // Deletes the checkpoint directory before run `run` when --lose-checkpoints-every says so.
  bool LoseCheckpointsBefore(int run) {
    const int every = options_.lose_checkpoints_every;
    if (every <= 0 || run == 1 || (run - 1) % every != 0) return false;
    std::filesystem::remove_all(work_dir_ / "checkpoints");
    return true;
  }

  void Cleanup(bool passed) {
    if (options_.keep) {
      Say("crash-test: kept (--keep): topics %s, %s, %s; job logs and checkpoints in %s",
          topics_[0].c_str(), topics_[1].c_str(), topics_[2].c_str(), work_dir_.c_str());
      return;
    }
    for (const std::string& topic : topics_) {
      try {
        DeleteTopic(topic);
      } catch (const std::exception& error) {
        Say("crash-test: could not delete topic %s: %s", topic.c_str(), error.what());
      }
    }
    if (passed) {
      std::filesystem::remove_all(work_dir_);
    } else {
      Say("crash-test: job logs and checkpoints kept in %s", work_dir_.c_str());
    }
  }

  Options options_;
  std::mt19937_64 random_;
  std::string input_topic_;
  std::string output_topic_;
  std::string prefix_;
  std::filesystem::path work_dir_;
  std::vector<std::string> topics_;
  std::optional<int64_t> last_restored_;
  int restores_ = 0;
  int changelog_restores_ = 0;  // runs without a checkpoint directory that used the changelog
  std::vector<std::string> problems_;  // found while the job ran; reported after the output check
};

}  // namespace
}  // namespace sluice::testing

int main(int argc, char** argv) {
  sluice::testing::Options options;
  CLI::App app{
      "Kills an exactly-once word count job with SIGKILL at random moments and checks its "
      "committed output"};
  app.add_option("--job", options.job, "the job binary (examples/exactly_once_word_count)")
      ->required();
  app.add_option("--kills", options.kills, "how many times to kill the job")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  app.add_option("--seed", options.seed,
                 "seed of the input and the kill schedule (default: random, printed)");
  app.add_option("--rate", options.rate, "input lines per second")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--min-lines", options.min_lines, "produce at least this many lines")
      ->check(CLI::Range(int64_t{1}, INT64_MAX))
      ->capture_default_str();
  app.add_option("--parallelism", options.parallelism, "the job's parallelism")
      ->check(CLI::Range(1, 128))
      ->capture_default_str();
  app.add_option("--checkpoint-interval", options.checkpoint_interval,
                 "the job's checkpoint interval")
      ->capture_default_str();
  app.add_option("--max-delay-ms", options.max_delay_ms,
                 "upper bound of the random part of a kill's delay")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--lose-checkpoints-every", options.lose_checkpoints_every,
                 "delete the checkpoint directory before every Nth restart (0: never); the "
                 "state must then come from the changelog in Kafka")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--keep", options.keep, "keep the topics, job logs and checkpoints");
  app.add_option("--work-dir", options.work_dir,
                 "where job logs and checkpoints go (default: the temp directory)");
  app.add_option("--job-arg", options.job_args,
                 "one more argument for the job, repeatable; e.g. "
                 "--job-arg=--delivery-guarantee=at-least-once "
                 "shows what the check reports for a job that is not exactly-once")
      ->allow_extra_args(false);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  }
  if (app.count("--seed") == 0)
    options.seed = std::random_device{}() * 0x100000000ULL + std::random_device{}();
  if (!std::filesystem::exists(options.job)) {
    std::fprintf(
        stderr,
        "crash_test: --job %s does not exist; build it first (cmake --build BUILD_DIR --target "
        "exactly_once_word_count)\n",
        options.job.c_str());
    return 2;
  }
  // A pipe reader that went away (| head) must not kill the driver before it cleans up.
  signal(SIGPIPE, SIG_IGN);
  return sluice::testing::CrashTest(std::move(options)).Run();
}
