#include <sluice/version.h>

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

TEST(VersionTest, MatchesTheMacros) {
  std::string expected = std::to_string(SLUICE_VERSION_MAJOR) + "." +
                         std::to_string(SLUICE_VERSION_MINOR) + "." +
                         std::to_string(SLUICE_VERSION_PATCH);
  EXPECT_EQ(VersionString(), expected);
}

}  // namespace
}  // namespace sluice
