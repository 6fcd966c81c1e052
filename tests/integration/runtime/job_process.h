// A counting_job process for the runtime's process tests (stop_it.cc, directory_lock_it.cc).
// Header-only; one thread owns a JobProcess.
#pragma once

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace sluice::testing {

// A counting_job process whose stdout and stderr (the log) come through one pipe, read by
// the test; killed and reaped if the test ends first.
class JobProcess {
 public:
  explicit JobProcess(std::vector<std::string> args) {
    args.insert(args.begin(), SLUICE_COUNTING_JOB_PATH);
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) throw std::runtime_error("posix_spawn failed");
    fd_ = fds[0];
  }
  ~JobProcess() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    close(fd_);
  }

  void Signal(int signal) { kill(pid_, signal); }
  pid_t pid() const { return pid_; }

  // Reads until `marker` has appeared `times` times in the output (true), or the output ends
  // or the timeout passes (false).
  bool WaitFor(const std::string& marker, std::chrono::milliseconds timeout, int times = 1) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Count(marker) < times) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !ReadSome(left)) return false;
    }
    return true;
  }

  // Reads to the end of the output and reaps the process; its wait status, or nullopt if it
  // did not end within `timeout` (the test fails then; the destructor kills it).
  std::optional<int> WaitForExit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      if (!ReadSome(left)) break;
    }
    int status = 0;
    if (waitpid(pid_, &status, 0) != pid_) return std::nullopt;
    reaped_ = true;
    return status;
  }

  const std::string& output() const { return output_; }

 private:
  int Count(const std::string& marker) const {
    int count = 0;
    for (size_t at = output_.find(marker); at != std::string::npos;
         at = output_.find(marker, at + marker.size())) {
      ++count;
    }
    return count;
  }
  // False at the end of the output or when nothing came within `timeout`.
  bool ReadSome(std::chrono::milliseconds timeout) {
    pollfd pfd{fd_, POLLIN, 0};
    if (poll(&pfd, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char buffer[4096];
    ssize_t n = read(fd_, buffer, sizeof buffer);
    if (n <= 0) return false;
    output_.append(buffer, static_cast<size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  bool reaped_ = false;
  std::string output_;
};

}  // namespace sluice::testing
