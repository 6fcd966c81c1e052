// Print() and PrintToErr(): one line per record, prefixed "<instance>> " when parallel (as
// Flink's PrintSinkFunction).
#include <sluice/sluice.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "unit/api/job_test_support.h"

namespace sluice::apitest {
namespace {

using Strings = std::vector<std::string>;

Strings Lines(const std::string& text) {
  Strings lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// "<value> from <subtask>": the value and the instance that printed it (the map is chained
// to the print sink, so it runs in the same instance).
class SayWhere final : public RichMapFunction<int64_t, std::string> {
 public:
  std::string Map(int64_t value) override {
    return std::to_string(value) + " from " +
           std::to_string(GetRuntimeContext().GetIndexOfThisSubtask());
  }
};

TEST(PrintTest, PrintAtParallelism1WritesOneUnprefixedLinePerRecordToStdout) {
  auto env = TestEnv(1);
  env->FromElements<std::string>("hello", "print", "world").Print();

  ::testing::internal::CaptureStdout();
  JobExecutionResult result = env->Execute("print-1");
  std::string printed = ::testing::internal::GetCapturedStdout();

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(printed, "hello\nprint\nworld\n");
}

TEST(PrintTest, PrintWhenParallelPrefixesEachLineWithTheInstanceNumberFrom1) {
  auto env = TestEnv(3);
  env->GenerateSequence(1, 30).Map(SayWhere()).Print();

  ::testing::internal::CaptureStdout();
  JobExecutionResult result = env->Execute("print-3");
  std::string printed = ::testing::internal::GetCapturedStdout();

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  Strings lines = Lines(printed);
  ASSERT_EQ(lines.size(), 30u) << printed;
  for (const std::string& line : lines) {
    // "<subtask + 1>> <value> from <subtask>"
    size_t prefix_end = line.find("> ");
    ASSERT_NE(prefix_end, std::string::npos) << line;
    int printed_by = std::stoi(line.substr(0, prefix_end));
    int subtask = std::stoi(line.substr(line.rfind(' ') + 1));
    EXPECT_EQ(printed_by, subtask + 1) << line;
  }
  // Sorted by value: three instances print concurrently.
  Strings values;
  for (const std::string& line : lines)
    values.push_back(line.substr(line.find("> ") + 2, line.find(" from") - line.find("> ") - 2));
  std::sort(values.begin(), values.end(),
            [](const std::string& a, const std::string& b) { return std::stoi(a) < std::stoi(b); });
  Strings expected;
  for (int i = 1; i <= 30; ++i) expected.push_back(std::to_string(i));
  EXPECT_EQ(values, expected);
}

TEST(PrintTest, PrintToErrWritesToStderrInTheSameFormat) {
  auto env = TestEnv(2);
  env->FromElements<int64_t>(1, 2).Rebalance().Map(SayWhere()).PrintToErr();

  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  JobExecutionResult result = env->Execute("print-err");
  std::string to_stdout = ::testing::internal::GetCapturedStdout();
  std::string to_stderr = ::testing::internal::GetCapturedStderr();

  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(to_stdout, "");
  Strings lines = Lines(to_stderr);
  // Sorted: the two instances print concurrently. Rebalance from one producer sends the two
  // records to different instances.
  std::sort(lines.begin(), lines.end());
  ASSERT_EQ(lines.size(), 2u) << to_stderr;
  for (const std::string& line : lines) {
    int printed_by = std::stoi(line.substr(0, line.find("> ")));
    int subtask = std::stoi(line.substr(line.rfind(' ') + 1));
    EXPECT_EQ(printed_by, subtask + 1) << line;
  }
  EXPECT_EQ(lines[0].substr(0, 3), "1> ");
  EXPECT_EQ(lines[1].substr(0, 3), "2> ");
}

}  // namespace
}  // namespace sluice::apitest
