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
bool ReadUntil(int fd, const std::string& marker, std::string& output, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[4096];
  while (output.find(marker) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
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

  Child first = Spawn({SLUICE_COUNTING_JOB_PATH, checkpoint_dir, "--total=20000", "--keys=10", "--hold-at-pause"});
  std::string output;
  bool paused = ReadUntil(first.stdout_fd, "paused after checkpoint", output, Scaled(std::chrono::seconds(60)));
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

}  // namespace
}  // namespace sluice::testing
