// A job process killed with SIGKILL and started again resumes from its last checkpoint by
// itself (DESIGN.md section 4), and its final counts are exact.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "kafka_test_env.h"

extern char** environ;

namespace sluice::testing {
namespace {

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;
};

Child Spawn(std::vector<std::string> args) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  Child child;
  int rc = posix_spawn(&child.pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) throw std::runtime_error("posix_spawn failed");
  child.stdout_fd = fds[0];
  return child;
}

// Reads the child's output until `marker` appears (true) or the deadline passes or it exits.
bool ReadUntil(int fd, const std::string& marker, std::string& output,
               std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (output.find(marker) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return output.find(marker) != std::string::npos;
    output.append(buffer, static_cast<size_t>(n));
  }
  return true;
}

TEST(KillResumeIT, AJobKilledWithSigkillResumesFromItsLastCheckpointWithExactCounts) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName("kill-resume");
  const std::string checkpoint_dir = "--checkpoint-dir=" + dir.string();

  Child first = Spawn(
      {SLUICE_COUNTING_JOB_PATH, checkpoint_dir, "--total=20000", "--keys=10", "--hold-at-pause"});
  std::string output;
  bool paused = ReadUntil(first.stdout_fd, "paused after checkpoint", output,
                          Scaled(std::chrono::seconds(60)));
  kill(first.pid, SIGKILL);
  int status = 0;
  waitpid(first.pid, &status, 0);
  close(first.stdout_fd);
  ASSERT_TRUE(paused) << "the job never reached its midpoint checkpoint; output:\n" << output;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  Child second = Spawn({SLUICE_COUNTING_JOB_PATH, checkpoint_dir, "--total=20000", "--keys=10"});
  std::string final_output;
  ReadUntil(second.stdout_fd, "restored ", final_output, Scaled(std::chrono::seconds(120)));
  ReadUntil(second.stdout_fd, "\n<eof>", final_output, std::chrono::seconds(5));  // drain to EOF
  close(second.stdout_fd);
  waitpid(second.pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << final_output;

  std::map<int64_t, int64_t> counts;
  std::istringstream lines(final_output);
  std::string word;
  bool restored = false;
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    fields >> word;
    if (word == "final") {
      int64_t key = 0, count = 0;
      fields >> key >> count;
      counts[key] = count;
    } else if (word == "restored") {
      fields >> word;
      restored = word == "checkpoint";
    }
  }
  EXPECT_TRUE(restored) << "the second run did not resume from a checkpoint:\n" << final_output;
  std::map<int64_t, int64_t> expected;
  for (int64_t k = 0; k < 10; ++k) expected[k] = 2000;
  EXPECT_EQ(counts, expected) << final_output;
  std::filesystem::remove_all(dir);
}

// Parses "final <key> <count>" lines and the "<word> <value>" lines the job prints.
struct JobOutput {
  std::map<int64_t, int64_t> counts;
  std::map<std::string, std::string> lines;
};

JobOutput Parse(const std::string& output) {
  JobOutput parsed;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string word;
    fields >> word;
    if (word == "final") {
      int64_t key = 0, count = 0;
      fields >> key >> count;
      parsed.counts[key] = count;
    } else {
      std::string rest;
      std::getline(fields >> std::ws, rest);
      parsed.lines[word] = rest;
    }
  }
  return parsed;
}

std::string RunToEnd(Child child, int& status) {
  std::string output;
  ReadUntil(child.stdout_fd, "\n<eof>", output, Scaled(std::chrono::seconds(120)));
  close(child.stdout_fd);
  waitpid(child.pid, &status, 0);
  return output;
}

TEST(KillResumeIT, SigtermStopsWithASavepointAndExits0AndTheSavepointRestores) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName("sigterm");
  const std::string checkpoint_dir = "--checkpoint-dir=" + (dir / "chk").string();
  const std::string savepoint_dir = "--savepoint-dir=" + (dir / "savepoints").string();

  Child first = Spawn({SLUICE_COUNTING_JOB_PATH, checkpoint_dir, savepoint_dir, "--hold-at-pause"});
  std::string output;
  ASSERT_TRUE(ReadUntil(first.stdout_fd, "paused after checkpoint", output,
                        Scaled(std::chrono::seconds(60))))
      << output;
  kill(first.pid, SIGTERM);
  int status = 0;
  output += RunToEnd(first, status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  JobOutput stopped = Parse(output);
  EXPECT_EQ(stopped.lines["status"], "FINISHED");
  ASSERT_EQ(stopped.lines.count("savepoint"), 1u) << output;
  const std::string savepoint = stopped.lines["savepoint"];
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(savepoint) / "_metadata"));

  // --fresh would ignore checkpoints; --from-savepoint picks the savepoint explicitly.
  Child second = Spawn({SLUICE_COUNTING_JOB_PATH, "--checkpoint-dir=" + (dir / "chk2").string(),
                        "--from-savepoint=" + savepoint});
  std::string final_output = RunToEnd(second, status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << final_output;
  JobOutput resumed = Parse(final_output);
  EXPECT_EQ(resumed.lines["restored"].rfind("checkpoint", 0), 0u) << final_output;
  std::map<int64_t, int64_t> expected;
  for (int64_t k = 0; k < 10; ++k) expected[k] = 2000;
  EXPECT_EQ(resumed.counts, expected) << final_output;
  std::filesystem::remove_all(dir);
}

TEST(KillResumeIT, SigintCancelsTheJob) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName("sigint");
  Child child =
      Spawn({SLUICE_COUNTING_JOB_PATH, "--checkpoint-dir=" + dir.string(), "--hold-at-pause"});
  std::string output;
  ASSERT_TRUE(ReadUntil(child.stdout_fd, "paused after checkpoint", output,
                        Scaled(std::chrono::seconds(60))))
      << output;
  kill(child.pid, SIGINT);
  int status = 0;
  output += RunToEnd(child, status);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(Parse(output).lines["status"], "CANCELED") << output;
  std::filesystem::remove_all(dir);
}

TEST(KillResumeIT, FreshIgnoresExistingCheckpoints) {
  auto dir = std::filesystem::temp_directory_path() / UniqueName("fresh");
  const std::string checkpoint_dir = "--checkpoint-dir=" + dir.string();
  int status = 0;
  std::string first =
      RunToEnd(Spawn({SLUICE_COUNTING_JOB_PATH, checkpoint_dir, "--total=2000"}), status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << first;
  // The finished job left its last checkpoint (taken at the pause) behind.
  std::string second = RunToEnd(
      Spawn({SLUICE_COUNTING_JOB_PATH, checkpoint_dir, "--total=2000", "--fresh"}), status);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << second;
  JobOutput parsed = Parse(second);
  EXPECT_EQ(parsed.lines["restored"], "nothing") << second;
  std::map<int64_t, int64_t> expected;
  for (int64_t k = 0; k < 10; ++k) expected[k] = 200;
  EXPECT_EQ(parsed.counts, expected);
  std::filesystem::remove_all(dir);
}

TEST(KillResumeIT, UnknownFlagsAreReportedWithASuggestion) {
  int status = 0;
  std::string output;
  Child child =
      Spawn({SLUICE_COUNTING_JOB_PATH, "--paralelism=2", "--checkpoint-dir=/tmp/unused-sluice"});
  output = RunToEnd(child, status);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_EQ(Parse(output).lines["status"], "FAILED");
}

}  // namespace
}  // namespace sluice::testing
