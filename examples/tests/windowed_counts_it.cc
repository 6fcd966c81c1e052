// The windowed counts example, run as a process against the broker: records with chosen Kafka
// timestamps in, per-window counts out (read_committed) when the watermark passes each window's
// end, a late firing within the allowed lateness, and a record later than that on the late
// topic. Each step waits for the output that proves the watermark got where the next step needs
// it, so nothing depends on timing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crash/child_process.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using Lines = std::vector<std::string>;

// "key value" of every committed record of a one-partition topic, in order.
Lines ReadLines(const std::string& topic) {
  Lines lines;
  for (const Record& r : ReadToEnd(topic, 1, {{"isolation.level", "read_committed"}})) {
    lines.push_back(r.key.value_or("<null>") + " " + r.value.value_or("<null>") + " @" +
                    std::to_string(r.timestamp));
  }
  return lines;
}

// Waits (bounded) until `topic` holds `n` committed records, or the job exits.
Lines WaitForLines(const std::string& topic, size_t n, ChildProcess& job) {
  const auto deadline = std::chrono::steady_clock::now() + Scaled(milliseconds(90000));
  Lines lines = ReadLines(topic);
  while (lines.size() < n && std::chrono::steady_clock::now() < deadline && !job.Poll()) {
    std::this_thread::sleep_for(milliseconds(100));  // polling the topic: output comes per commit
    lines = ReadLines(topic);
  }
  return lines;
}

TEST(WindowedCountsIT, CountsPerWindowFiresLateUpdatesAndSendsLaterRecordsToTheLateTopic) {
  ScopedTopic input("windowed-in", 1);
  ScopedTopic output("windowed-out", 1);
  ScopedTopic late("windowed-late", 1);
  const std::string prefix = UniqueName("windowed-counts-it");
  const auto dir = std::filesystem::temp_directory_path() / prefix;
  std::filesystem::create_directories(dir);
  ChildProcess job;
  job.Start({SLUICE_WINDOWED_COUNTS_PATH,
             "--input-topic",
             input.name(),
             "--output-topic",
             output.name(),
             "--late-topic",
             late.name(),
             "--window",
             "10s",
             "--out-of-orderness",
             "0",
             "--allowed-lateness",
             "5s",
             "--group-id",
             prefix,
             "--transactional-id-prefix",
             prefix,
             "--bootstrap-servers",
             BootstrapServers(),
             "--parallelism",
             "1",
             "--checkpoint-interval",
             "200ms",
             "--checkpoint-dir",
             (dir / "checkpoints").string(),
             "--savepoint-dir",
             (dir / "savepoints").string()},
            (dir / "run.log").string());
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  auto produce = [&](const std::string& key, int64_t timestamp) {
    ProduceAndWait(producer.get(), input.name(), 0, {{key, key}}, timestamp);
  };

  // [0s, 10s) fires once a record at 12 s moves the watermark past its end.
  produce("a", 1000);
  produce("b", 2000);
  produce("a", 9000);
  produce("a", 12000);
  Lines counts = WaitForLines(output.name(), 2, job);
  ASSERT_EQ(counts.size(), 2u) << "the job did not count [0s, 10s); its log:\n"
                               << LastLines(job.Output(), 30);
  std::sort(counts.begin(), counts.end());
  EXPECT_EQ(counts, (Lines{"a 0 10000 2 @9999", "b 0 10000 1 @9999"}));

  // Late but within 5 s: the window fires again with the updated count.
  produce("a", 3000);
  counts = WaitForLines(output.name(), 3, job);
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts.back(), "a 0 10000 3 @9999");

  // A record at 21 s fires [10s, 20s), which proves the watermark passed 10 s + 5 s: [0s, 10s)
  // is gone, and a record for it is late.
  produce("z", 21000);
  counts = WaitForLines(output.name(), 4, job);
  ASSERT_EQ(counts.size(), 4u);
  EXPECT_EQ(counts.back(), "a 10000 20000 1 @19999");
  produce("a", 4000);
  Lines late_records = WaitForLines(late.name(), 1, job);
  EXPECT_EQ(late_records, (Lines{"a a @4000"}));

  job.Signal(SIGTERM);
  std::optional<int> status = job.Wait(Scaled(milliseconds(60000)));
  ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "SIGTERM should stop the job with a savepoint and exit 0; it "
      << ChildProcess::Describe(status) << "; its output:\n"
      << LastLines(job.Output(), 40);
  EXPECT_EQ(ReadLines(output.name()).size(), 4u) << "no window fired without its watermark";

  DeleteTopic(prefix + ".sluice-control");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::testing
