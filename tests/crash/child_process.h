// A job run as a child process, for tests that kill it (the crash test, the word count
// example's test). Header-only and without dependencies beyond POSIX, so any test binary can
// include it as "crash/child_process.h".
//
// The child's stdout and stderr go to a log file, not a pipe: a job that logs a lot must never
// block on a pipe nobody reads, which would stall it at a moment the test did not choose.
//
// Thread safety: none; one thread owns a ChildProcess. Lifecycle: the destructor kills a child
// that is still running (SIGKILL) and reaps it, so a failing test never leaves a job behind.
// Errors: Start() throws std::runtime_error naming the program when it cannot be spawned.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace sluice::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (running()) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }

  /// Spawns `args[0]` with `args`, stdout and stderr appended to `log_path`.
  void Start(std::vector<std::string> args, const std::string& log_path) {
    log_path_ = log_path;
    exit_status_.reset();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
    }
  }

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exit_status_; }

  /// Sends `signal` (SIGKILL, SIGTERM, ...) if the child is still running.
  void Signal(int signal) {
    if (running()) kill(pid_, signal);
  }

  /// Reaps the child if it has ended; returns its wait status then, nullopt while it runs.
  std::optional<int> Poll() {
    if (exit_status_ || pid_ <= 0) return exit_status_;
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) exit_status_ = status;
    return exit_status_;
  }

  /// Waits up to `timeout` for the child to end; returns its wait status, nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!Poll()) {
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(
          std::chrono::milliseconds(20));  // polling waitpid, not a sync stand-in
    }
    return exit_status_;
  }

  /// Everything the child wrote so far.
  std::string Output() const {
    std::ifstream in(log_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  /// "exited with status 3", "killed by signal 9 (Killed)", or "still running".
  static std::string Describe(std::optional<int> status) {
    if (!status) return "still running";
    if (WIFEXITED(*status)) return "exited with status " + std::to_string(WEXITSTATUS(*status));
    if (WIFSIGNALED(*status)) {
      return "killed by signal " + std::to_string(WTERMSIG(*status)) + " (" +
             strsignal(WTERMSIG(*status)) + ")";
    }
    return "ended with wait status " + std::to_string(*status);
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string log_path_;
};

/// The last `lines` lines of `text`, for failure messages.
inline std::string LastLines(const std::string& text, int lines) {
  size_t start = text.size();
  if (start > 0 && text[start - 1] == '\n') --start;  // the final newline ends the last line
  for (int i = 0; i < lines; ++i) {
    if (start == 0) return text;
    size_t newline = text.rfind('\n', start - 1);
    if (newline == std::string::npos) return text;
    start = newline;
  }
  return text.substr(start + 1);
}

}  // namespace sluice::testing
