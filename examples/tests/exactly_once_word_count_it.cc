// The exactly-once word count example, run for real as a process against the broker: known
// lines in, exact running counts out (read_committed), SIGTERM stops it with a savepoint and
// exit status 0, and a second start resumes where the first stopped.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "crash/child_process.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;

// Per word, the counts in the order they were read, and the partitions they were on.
struct CountsByWord {
  std::map<std::string, std::vector<int64_t>> values;
  std::map<std::string, std::set<int32_t>> partitions;
  size_t records = 0;
};

CountsByWord ReadCounts(const std::string& topic, int partitions) {
  CountsByWord counts;
  for (const Record& record :
       ReadToEnd(topic, partitions, {{"isolation.level", "read_committed"}})) {
    ++counts.records;
    std::string word = record.key.value_or("<null key>");
    counts.values[word].push_back(std::stoll(record.value.value_or("-1")));
    counts.partitions[word].insert(record.partition);
  }
  return counts;
}

// Reads the committed output until it holds `records` records (or more), or the deadline passes.
CountsByWord WaitForCounts(const std::string& topic, int partitions, size_t records,
                           ChildProcess& job) {
  auto deadline = std::chrono::steady_clock::now() + Scaled(milliseconds(90000));
  CountsByWord counts = ReadCounts(topic, partitions);
  while (counts.records < records && std::chrono::steady_clock::now() < deadline && !job.Poll()) {
    std::this_thread::sleep_for(
        milliseconds(200));  // polling the topic; output appears with each commit
    counts = ReadCounts(topic, partitions);
  }
  return counts;
}

std::vector<int64_t> OneTo(int64_t n) {
  std::vector<int64_t> values;
  for (int64_t i = 1; i <= n; ++i) values.push_back(i);
  return values;
}

void ExpectExactCounts(const CountsByWord& counts, const std::map<std::string, int64_t>& expected) {
  std::map<std::string, std::vector<int64_t>> want;
  for (const auto& [word, n] : expected) want[word] = OneTo(n);
  EXPECT_EQ(counts.values, want);
  for (const auto& [word, partitions] : counts.partitions) {
    EXPECT_EQ(partitions.size(), 1U)
        << "the counts of '" << word << "' are spread over several partitions";
  }
}

TEST(ExactlyOnceWordCountIT, CountsEveryWordExactlyOnceStopsOnSigtermAndResumesWhereItStopped) {
  ScopedTopic input("word-count-in", 2);
  ScopedTopic output("word-count-out", 2);
  const std::string prefix = UniqueName("word-count-it");
  const auto dir = std::filesystem::temp_directory_path() / prefix;
  std::filesystem::create_directories(dir);
  const std::vector<std::string> args = {SLUICE_WORD_COUNT_PATH,
                                         "--input-topic",
                                         input.name(),
                                         "--output-topic",
                                         output.name(),
                                         "--group-id",
                                         prefix,
                                         "--transactional-id-prefix",
                                         prefix,
                                         "--bootstrap-servers",
                                         BootstrapServers(),
                                         "--parallelism",
                                         "2",
                                         "--checkpoint-interval",
                                         "500ms",
                                         "--checkpoint-dir",
                                         (dir / "checkpoints").string(),
                                         "--savepoint-dir",
                                         (dir / "savepoints").string()};

  // Words separated by runs of spaces, tabs and a trailing newline all count alike.
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(producer.get(), input.name(), 0,
                 {{"", "the quick brown fox"}, {"", "the lazy dog"}});
  ProduceAndWait(producer.get(), input.name(), 1, {{"", "  the\tdog   barks \n"}, {"", "fox"}});
  std::map<std::string, int64_t> expected = {{"the", 3},  {"quick", 1}, {"brown", 1}, {"fox", 2},
                                             {"lazy", 1}, {"dog", 2},   {"barks", 1}};

  {
    ChildProcess job;
    job.Start(args, (dir / "run-1.log").string());
    CountsByWord counts = WaitForCounts(output.name(), 2, 11, job);
    job.Signal(SIGTERM);
    std::optional<int> status = job.Wait(Scaled(milliseconds(60000)));
    const std::string log = job.Output();
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "SIGTERM should stop the job with a savepoint and exit 0; it "
        << ChildProcess::Describe(status) << "; its output:\n"
        << LastLines(log, 40);
    EXPECT_NE(log.find("no checkpoint to restore: reading '" + input.name() +
                       "' from the earliest offsets"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("stopped with a savepoint in " + (dir / "savepoints").string()),
              std::string::npos)
        << log;
    ExpectExactCounts(counts, expected);
    ExpectExactCounts(ReadCounts(output.name(), 2), expected);  // nothing more after the stop
  }

  // Started again, it restores what it had read (2 lines of each partition) and its counts.
  ProduceAndWait(producer.get(), input.name(), 1, {{"", "the end"}});
  expected["the"] = 4;
  expected["end"] = 1;
  {
    ChildProcess job;
    job.Start(args, (dir / "run-2.log").string());
    CountsByWord counts = WaitForCounts(output.name(), 2, 13, job);
    job.Signal(SIGTERM);
    std::optional<int> status = job.Wait(Scaled(milliseconds(60000)));
    const std::string log = job.Output();
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "the second run " << ChildProcess::Describe(status) << "; its output:\n"
        << LastLines(log, 40);
    EXPECT_NE(log.find(" (offsets p0=2 p1=2)"), std::string::npos)
        << "the restart should say it resumes after the 2 lines of each partition; its output:\n"
        << log;
    EXPECT_NE(log.find("restored checkpoint "), std::string::npos) << log;
    ExpectExactCounts(counts, expected);
  }

  DeleteTopic(prefix + ".sluice-control");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::testing
