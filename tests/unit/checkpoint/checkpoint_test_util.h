// Helpers shared by the checkpoint storage tests. Not thread-safe; one per test.
#pragma once

#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace sluice::internal::testing {

// A fresh directory from mkdtemp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sluice-chk-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `body` in a child process whose private mount namespace has a small tmpfs mounted at
// `dir` (read-only with `read_only`), and returns what `body` returned. The way to meet
// "Read-only file system" and "No space left on device" even as root, who ignores permissions.
// nullopt when this machine allows no such namespace or mount (root or unprivileged user
// namespaces are needed): the test skips then. `body` may remount `dir` read-only itself
// (RemountReadOnly) after writing to it.
inline std::optional<std::string> InChildWithTmpfs(const std::filesystem::path& dir, bool read_only,
                                                   const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return std::nullopt;
  const pid_t child = fork();
  if (child < 0) return std::nullopt;
  if (child == 0) {
    close(fds[0]);
    const int flags = geteuid() == 0 ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS;
    if (unshare(flags) != 0 || mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        mount("tmpfs", dir.c_str(), "tmpfs", read_only ? MS_RDONLY : 0, "size=64k") != 0) {
      _exit(77);
    }
    const std::string report = body();
    (void)!write(fds[1], report.data(), report.size());
    _exit(0);
  }
  close(fds[1]);
  std::string report;
  char buffer[1024];
  for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
    report.append(buffer, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) == 77) {
    return std::nullopt;
  }
  return report;
}

// In an InChildWithTmpfs body: makes the tmpfs at `dir` read-only. False when refused.
inline bool RemountReadOnly(const std::filesystem::path& dir) {
  return mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
}

}  // namespace sluice::internal::testing
