#include "connectors/kafka/partition_assigner.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::internal {
namespace {

using namespace std::literals;

struct TopicVector {
  std::string_view topic;
  int32_t subtask[5][12];  // [parallelism - 1][partition]
};

struct LargeAssignmentVector {
  std::string_view topic;
  int32_t partition;
  int32_t parallelism;
  int32_t subtask;
};

// Expected values: the output of tests/vectors/FlinkHashVectors.java (section kafka), computed
// by KafkaTopicPartitionAssigner from flink-connector-kafka 3.3.0-1.20. Do not edit by hand;
// regenerate (see tests/vectors/README.md).
// BEGIN GENERATED
// KafkaTopicPartitionAssigner.assign(new KafkaTopicPartition(topic, partition),
// parallelism): subtasks[parallelism - 1][partition].
const TopicVector kTopicAssignments[] = {
    {""sv,  // ""
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}}},
    {"a"sv,  // "a"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}}},
    {"words"sv,  // "words"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"orders"sv,  // "orders"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0}}},
    {"events"sv,  // "events"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}}},
    {"test-topic"sv,  // "test-topic"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"test_topic"sv,  // "test_topic"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
      {2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"topic-0"sv,  // "topic-0"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1},
      {2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}}},
    {"topic-1"sv,  // "topic-1"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
      {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
      {3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4}}},
    {"topic-2"sv,  // "topic-2"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0}}},
    {"topic-10"sv,  // "topic-10"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}}},
    {"TOPIC"sv,  // "TOPIC"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
      {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}}},
    {"my.topic.v1"sv,  // "my.topic.v1"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}}},
    {"__consumer_offsets"sv,  // "__consumer_offsets"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"__transaction_state"sv,  // "__transaction_state"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}}},
    {"flink-kafka-source-it-7f3c"sv,  // "flink-kafka-source-it-7f3c"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
      {4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0}}},
    {"payments.eu-west-1.raw"sv,  // "payments.eu-west-1.raw"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"clicks"sv,  // "clicks"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
      {2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}}},
    {"impressions"sv,  // "impressions"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"user-profiles-compacted"sv,  // "user-profiles-compacted"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"sv,  // "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4}}},
    {"topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-topic-"sv,  // "topic-topic-topic-topic-topic-topic-topi..."
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1},
      {2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}}},
    {"caf\xC3\xA9"sv,  // "caf\u00E9"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"\xD1\x82\xD0\xB5\xD0\xBC\xD0\xB0"sv,  // "\u0442\u0435\u043C\u0430"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0},
      {3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4}}},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv,  // "\u4E3B\u9898"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2}}},
    {"\xE3\x83\x88\xE3\x83\x94\xE3\x83\x83\xE3\x82\xAF"sv,  // "\u30C8\u30D4\u30C3\u30AF"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0}}},
    {"\xC3\xBC"
     "berwachung"sv,  // "\u00FCberwachung"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0}}},
    {"\xF0\x9F\x94\xA5-hot"sv,  // "\uD83D\uDD25-hot"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3},
      {0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1}}},
    {"\xCE\xB1\xCE\xB2\xCE\xB3"sv,  // "\u03B1\u03B2\u03B3"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1},
      {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2},
      {2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1},
      {3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4}}},
    {"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"sv,  // "\uD83D\uDE00\uD83D\uDE00\uD83D\uDE00"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3}}},
    {"Zahlungen-\xC3\x84\xC3\x96\xC3\x9C"sv,  // "Zahlungen-\u00C4\u00D6\u00DC"
     {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
      {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0},
      {1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0},
      {3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2},
      {4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0}}},
};

// Larger parallelism and partition numbers, including partitions so large that
// Java's int addition wraps: {topic, partition, parallelism, subtask}.
constexpr LargeAssignmentVector kLargeAssignments[] = {
    {"words"sv, 0, 7, 5},
    {"words"sv, 100, 7, 0},
    {"words"sv, 1000, 64, 31},
    {"words"sv, 123456, 1000, 447},
    {"words"sv, 5, 32768, 14972},
    {"words"sv, 2147483647, 7, -5},
    {"words"sv, 2147483644, 13, 9},
    {"words"sv, 2147483647, 1, 0},
    {"orders"sv, 0, 7, 3},
    {"orders"sv, 100, 7, 5},
    {"orders"sv, 1000, 64, 35},
    {"orders"sv, 123456, 1000, 915},
    {"orders"sv, 5, 32768, 31168},
    {"orders"sv, 2147483647, 7, 0},
    {"orders"sv, 2147483644, 13, -4},
    {"orders"sv, 2147483647, 1, 0},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 0, 7, 5},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 100, 7, 0},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 1000, 64, 11},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 123456, 1000, 387},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 5, 32768, 9704},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 2147483647, 7, -5},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 2147483644, 13, 8},
    {"\xE4\xB8\xBB\xE9\xA2\x98"sv, 2147483647, 1, 0},
    {"test-topic"sv, 0, 7, 5},
    {"test-topic"sv, 100, 7, 0},
    {"test-topic"sv, 1000, 64, 52},
    {"test-topic"sv, 123456, 1000, 652},
    {"test-topic"sv, 5, 32768, 5713},
    {"test-topic"sv, 2147483647, 7, -5},
    {"test-topic"sv, 2147483644, 13, -4},
    {"test-topic"sv, 2147483647, 1, 0},
};
// END GENERATED

TEST(AssignPartitionToSubtaskTest, MatchesFlinkKafkaTopicPartitionAssigner) {
  for (const auto& v : kTopicAssignments) {
    for (int32_t parallelism = 1; parallelism <= 5; ++parallelism) {
      for (int32_t partition = 0; partition < 12; ++partition) {
        EXPECT_EQ(AssignPartitionToSubtask(v.topic, partition, parallelism),
                  v.subtask[parallelism - 1][partition])
            << "topic of size " << v.topic.size() << " '" << v.topic.substr(0, 40) << "' partition "
            << partition << " parallelism " << parallelism;
      }
    }
  }
}

TEST(AssignPartitionToSubtaskTest, MatchesFlinkForLargeNumbersIncludingJavaIntWrapAround) {
  for (const auto& v : kLargeAssignments) {
    EXPECT_EQ(AssignPartitionToSubtask(v.topic, v.partition, v.parallelism), v.subtask)
        << v.topic << " partition " << v.partition << " parallelism " << v.parallelism;
  }
}

TEST(AssignPartitionToSubtaskTest, SpreadsATopicsPartitionsRoundRobinFromItsStart) {
  const std::vector<std::string> topics = {"words", "orders", "payments.eu-west-1.raw"};
  for (const std::string& topic : topics) {
    for (int32_t parallelism = 1; parallelism <= 16; ++parallelism) {
      const int32_t start = AssignPartitionToSubtask(topic, 0, parallelism);
      ASSERT_GE(start, 0);
      ASSERT_LT(start, parallelism);
      std::vector<int32_t> per_subtask(static_cast<std::size_t>(parallelism), 0);
      for (int32_t partition = 0; partition < 10 * parallelism; ++partition) {
        const int32_t subtask = AssignPartitionToSubtask(topic, partition, parallelism);
        ASSERT_EQ(subtask, (start + partition) % parallelism);
        ++per_subtask[static_cast<std::size_t>(subtask)];
      }
      for (int32_t count : per_subtask) EXPECT_EQ(count, 10) << topic << " " << parallelism;
    }
  }
}

}  // namespace
}  // namespace sluice::internal
