// LoadProperties: client properties from a file, as Flink users keep them.
#include <sluice/connectors/kafka/properties.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sluice::kafka {
namespace {

std::string WriteFile(const std::string& text) {
  static int counter = 0;
  std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("props-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + ".properties");
  std::ofstream(path) << text;
  return path.string();
}

TEST(LoadPropertiesTest, ReadsKeyValueLinesAsJavaPropertiesDoes) {
  std::string path = WriteFile(
      "# comment\n! also a comment\n\nsecurity.protocol=SASL_SSL\n  sasl.mechanism : PLAIN\n"
      "sasl.username=alice\nsasl.username=bob\nsasl.password=a=b\n"
      "sasl.oauthbearer.config=one \\\n  two\n");
  Result<Properties> loaded = LoadProperties(path);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(*loaded, (Properties{{"security.protocol", "SASL_SSL"},
                                 {"sasl.mechanism", "PLAIN"},
                                 {"sasl.username", "bob"},
                                 {"sasl.password", "a=b"},
                                 {"sasl.oauthbearer.config", "one two"}}));
  std::filesystem::remove(path);
}

TEST(LoadPropertiesTest, ErrorsNameTheFileAndLineButNeverTheSecret) {
  EXPECT_THAT(LoadProperties("/nonexistent/client.properties"),
              StatusIs(StatusCode::kNotFound,
                       HasSubstr("cannot open the properties file /nonexistent/client.properties: "
                                 "No such file or directory")));
  std::string path = WriteFile("sasl.username=alice\nhunter2-the-password\n");
  Result<Properties> loaded = LoadProperties(path);
  EXPECT_THAT(loaded, StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 2")));
  EXPECT_THAT(loaded.status().message(), Not(HasSubstr("hunter2")));
  std::filesystem::remove(path);
}

// std::ifstream "opens" a directory, which then reads as an empty file: no properties, no error.
TEST(LoadPropertiesTest, ADirectoryIsAnIoErrorNamingThePathTheOperationAndTheReason) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("props-dir-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  EXPECT_THAT(LoadProperties(dir.string()),
              StatusIs(StatusCode::kIoError, HasSubstr("cannot read the properties file " +
                                                       dir.string() + ": Is a directory")));
  std::filesystem::remove(dir);
}

}  // namespace
}  // namespace sluice::kafka
