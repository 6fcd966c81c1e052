#include <sluice/connectors/kafka/kafka_source.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::IsOk;
using ::testing::Not;

namespace sluice::kafka {
namespace {

KafkaSourceBuilder<std::string> Valid() {
  return KafkaSource<std::string>::Builder()
      .SetBootstrapServers("127.0.0.1:19092")
      .SetTopics("t")
      .SetValueOnlyDeserializer(SimpleStringSchema());
}

std::string Error(const KafkaSourceBuilder<std::string>& builder) {
  auto source = builder.Build();
  EXPECT_THAT(source, Not(IsOk()));
  return source.ok() ? "" : source.status().message();
}

TEST(KafkaSourceSettingsTest, ValidBuilderHasFlinksDefaults) {
  auto source = Valid().Build();
  ASSERT_THAT(source, IsOk());
  const auto& s = (*source)->settings();
  EXPECT_FALSE((*source)->IsBounded());
  EXPECT_FALSE(s.commit_offsets_on_checkpoint) << "no group id";
  EXPECT_EQ(s.partition_discovery_interval_ms, 300000);
  EXPECT_EQ(s.client_properties.at("enable.auto.commit"), "false");
  EXPECT_EQ(s.client_properties.at("auto.offset.reset"), "earliest");
  EXPECT_EQ(s.starting_offsets.kind(), OffsetsInitializer::Kind::kEarliest);
}

// librdkafka compares queued.min.messages with the shared consumer queue (all partitions), so
// its default stalls fetching; the byte limit is what bounds memory. A user's value wins.
TEST(KafkaSourceSettingsTest, QueuedMinMessagesIsRaisedUnlessTheUserSetsIt) {
  auto source = Valid().Build();
  ASSERT_THAT(source, IsOk());
  EXPECT_EQ((*source)->settings().client_properties.at("queued.min.messages"), "10000000");
  EXPECT_FALSE((*source)->settings().client_properties.contains("queued.max.messages.kbytes"));
  auto own = Valid().SetProperty("queued.min.messages", "5000").Build();
  ASSERT_THAT(own, IsOk());
  EXPECT_EQ((*own)->settings().client_properties.at("queued.min.messages"), "5000");
}

TEST(KafkaSourceSettingsTest, GroupIdTurnsCommitOnCheckpointOn) {
  auto source = Valid().SetGroupId("g").Build();
  ASSERT_THAT(source, IsOk());
  EXPECT_TRUE((*source)->settings().commit_offsets_on_checkpoint);
  auto off = Valid().SetGroupId("g").SetProperty("commit.offsets.on.checkpoint", "false").Build();
  ASSERT_THAT(off, IsOk());
  EXPECT_FALSE((*off)->settings().commit_offsets_on_checkpoint);
  EXPECT_FALSE((*off)->settings().client_properties.contains("commit.offsets.on.checkpoint"));
}

TEST(KafkaSourceSettingsTest, BoundedTurnsDiscoveryOffAndPartitionEofOn) {
  auto source = Valid()
                    .SetBounded(OffsetsInitializer::Latest())
                    .SetProperty("partition.discovery.interval.ms", "1000")
                    .Build();
  ASSERT_THAT(source, IsOk());
  EXPECT_TRUE((*source)->IsBounded());
  EXPECT_EQ((*source)->settings().partition_discovery_interval_ms, -1);
  EXPECT_EQ((*source)->settings().client_properties.at("enable.partition.eof"), "true");
}

TEST(KafkaSourceSettingsTest, ErrorsNameTheSettingAndTheFix) {
  EXPECT_NE(Error(KafkaSource<std::string>::Builder().SetTopics("t").SetValueOnlyDeserializer(
                      SimpleStringSchema()))
                .find("SetBootstrapServers"),
            std::string::npos);
  EXPECT_NE(
      Error(KafkaSource<std::string>::Builder().SetBootstrapServers("b").SetValueOnlyDeserializer(
                SimpleStringSchema()))
          .find("SetTopics(...), SetTopicPattern(...) or SetPartitions(...)"),
      std::string::npos);
  EXPECT_NE(Error(Valid().SetTopicPattern("x.*")).find("exclude each other"), std::string::npos);
  EXPECT_NE(Error(KafkaSource<std::string>::Builder().SetBootstrapServers("b").SetTopics("t"))
                .find("no deserializer"),
            std::string::npos);
  EXPECT_NE(Error(Valid().SetProperty("commit.offsets.on.checkpoint", "true")).find("SetGroupId"),
            std::string::npos);
  EXPECT_NE(Error(Valid().SetStartingOffsets(OffsetsInitializer::Committed())).find("SetGroupId"),
            std::string::npos);
  EXPECT_NE(Error(Valid().SetStartingOffsets(OffsetsInitializer::Timestamp(-5))).find(">= 0"),
            std::string::npos);
  EXPECT_NE(Error(Valid().SetProperty("no.such.property", "1")).find("'no.such.property'"),
            std::string::npos);
  EXPECT_NE(
      Error(Valid().SetProperty("sluice.broker.timeout.ms", "0")).find("sluice.broker.timeout.ms"),
      std::string::npos);
  EXPECT_NE(Error(KafkaSource<std::string>::Builder()
                      .SetBootstrapServers("b")
                      .SetTopicPattern("(")
                      .SetValueOnlyDeserializer(SimpleStringSchema()))
                .find("not a valid regular expression"),
            std::string::npos);
}

TEST(KafkaSourceSettingsTest, ResetStrategyOfTheStartingOffsetsBecomesAutoOffsetReset) {
  auto source = Valid().SetGroupId("g").SetStartingOffsets(OffsetsInitializer::Committed()).Build();
  ASSERT_THAT(source, IsOk());
  EXPECT_EQ((*source)->settings().client_properties.at("auto.offset.reset"), "error");
}

}  // namespace
}  // namespace sluice::kafka
