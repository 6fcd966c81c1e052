// One checkpoint directory, one live process (issue 17 item 1): a second job process started
// on the directory another one is writing refuses to start, naming the holder's pid, before it
// reads or removes anything there; once the first has ended, the directory is free again.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "job_process.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

using ::testing::HasSubstr;

TEST(DirectoryLockIT, ASecondProcessOnTheSameCheckpointDirectoryRefusesToStartNamingTheHolder) {
  const auto dir = std::filesystem::temp_directory_path() / UniqueName("dir-lock");
  const std::string checkpoint_dir = "--checkpoint-dir=" + dir.string();
  JobProcess first({checkpoint_dir, "--hold-at-pause"});
  ASSERT_TRUE(first.WaitFor("paused after checkpoint", Scaled(std::chrono::seconds(60))))
      << first.output();
  const auto instance_dir = dir / "counting-job" / "instance-0";

  JobProcess second({checkpoint_dir});
  std::optional<int> status = second.WaitForExit(Scaled(std::chrono::seconds(60)));
  ASSERT_TRUE(status.has_value()) << second.output();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << second.output();
  EXPECT_THAT(second.output(), HasSubstr("FailedPrecondition: checkpoint directory " +
                                         instance_dir.string() + " is in use by another process"));
  EXPECT_THAT(second.output(), HasSubstr("pid " + std::to_string(first.pid())));

  // The first one never noticed: it goes on, and stops cleanly when asked.
  first.Signal(SIGINT);
  std::optional<int> first_status = first.WaitForExit(Scaled(std::chrono::seconds(60)));
  ASSERT_TRUE(first_status.has_value()) << first.output();
  EXPECT_THAT(first.output(), HasSubstr("status CANCELED"));

  JobProcess third({checkpoint_dir});
  std::optional<int> third_status = third.WaitForExit(Scaled(std::chrono::seconds(120)));
  ASSERT_TRUE(third_status.has_value()) << third.output();
  EXPECT_TRUE(WIFEXITED(*third_status) && WEXITSTATUS(*third_status) == 0) << third.output();
  EXPECT_THAT(third.output(), HasSubstr("restored checkpoint"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sluice::testing
