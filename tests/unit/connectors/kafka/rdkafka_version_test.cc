#include <sluice/connectors/kafka/rdkafka_version.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace sluice {
namespace {

TEST(RdKafkaVersionTest, ReportsTheLinkedLibrdkafka) {
  std::string version = RdKafkaVersionString();
  int major = 0, minor = 0, patch = 0;
  ASSERT_EQ(std::sscanf(version.c_str(), "%d.%d.%d", &major, &minor, &patch), 3) << version;
  // Debian bookworm ships 2.0.2; anything older lacks APIs the connectors use.
  EXPECT_GE(major * 10000 + minor * 100 + patch, 20002) << version;
}

}  // namespace
}  // namespace sluice
