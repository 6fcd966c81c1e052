// Kafka's key hash, bit for bit, and the sink's partitioners.
#include <sluice/connectors/kafka/partitioner.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::kafka {
namespace {

struct Vector {
  const char* key;  // UTF-8 bytes
  int32_t murmur2;
  int32_t partition_of_3;
  int32_t partition_of_8;
};

// Computed by the Java client itself, so a key lands where a Java producer puts it:
//   javac -cp "$HOME/.cache/sluice/kafka-4.1.2/libs/*" Vectors.java
//   java  -cp "$HOME/.cache/sluice/kafka-4.1.2/libs/*:." Vectors
// where Vectors.main prints, for each key k, Utils.murmur2(k.getBytes(UTF_8)) and
// Utils.toPositive(h) % 3 and % 8 (org.apache.kafka.common.utils.Utils, kafka-clients 4.1.2).
constexpr Vector kJavaVectors[] = {
    {"", 275646681, 0, 1},
    {"a", -1563381124, 1, 4},
    {"ab", 316155434, 2, 2},
    {"abc", 479470107, 0, 3},
    {"abcd", -1323649548, 2, 4},
    {"abcde", 461995741, 1, 5},
    {"hello", 2132663229, 0, 5},
    {"kafka", -798503068, 1, 4},
    {"sluice", 553169281, 1, 1},
    {"key-0", 29210041, 1, 1},
    {"key-1", 193331640, 0, 0},
    {"key-2", 852269702, 2, 6},
    {"key-17", 956945460, 0, 4},
    {"key-123", 1736530164, 0, 4},
    {"user_42", 475133338, 1, 2},
    {"The quick brown fox jumps over the lazy dog", 495243318, 0, 6},
    {"\xc3\xa9t\xc3\xa9", -2101193575, 1, 1},
    {"\xe6\x97\xa5\xe6\x9c\xac", -700811021, 0, 3},
    {"0", 971027396, 2, 4},
    {"1", -1993445489, 0, 7},
    {"12", 126087238, 1, 6},
    {"123", -267702483, 2, 5},
    {"1234", -1614185708, 0, 4},
    {"12345", -1188365604, 2, 4},
    {"123456", -918490292, 0, 4},
    {"1234567", -605210426, 0, 6},
    {"12345678", 338742798, 0, 6},
    {"word", 1166608147, 1, 3},
    {"words", -2124730178, 0, 6},
    {"stream", -1664541815, 0, 1},
    {"flink", 1202002136, 2, 0},
    {"exactly-once", 1326226911, 0, 7},
};

TEST(Murmur2Test, MatchesKafkaJavaClient) {
  for (const Vector& v : kJavaVectors) {
    EXPECT_EQ(Murmur2(v.key), v.murmur2) << "key '" << v.key << "'";
    EXPECT_EQ(KafkaKeyPartition(v.key, 3), v.partition_of_3) << "key '" << v.key << "'";
    EXPECT_EQ(KafkaKeyPartition(v.key, 8), v.partition_of_8) << "key '" << v.key << "'";
  }
}

TEST(Murmur2Test, HashesArbitraryBytesIncludingHighBitsAndZeros) {
  const char bytes[] = {static_cast<char>(0xff), static_cast<char>(0x80), 0x00, 0x7f,
                        static_cast<char>(0xfe)};
  EXPECT_EQ(Murmur2(std::string_view(bytes, sizeof(bytes))), 768357719);  // Java, same program
}

TEST(PartitionerTest, FixedPicksSortedPartitionBySubtaskModuloCount) {
  std::vector<int32_t> partitions = {0, 1, 2};
  for (int32_t subtask = 0; subtask < 7; ++subtask) {
    FixedPartitioner<int> fixed;
    fixed.Open(subtask, 7);
    EXPECT_EQ(fixed.Partition(1, std::nullopt, std::nullopt, "t", partitions), subtask % 3);
    EXPECT_EQ(fixed.Partition(2, std::nullopt, std::nullopt, "t", partitions), subtask % 3)
        << "sticks to one";
  }
}

TEST(PartitionerTest, KeyHashUsesKafkasKeyPartitionAndLeavesNullKeysToLibrdkafka) {
  KeyHashPartitioner<int> hash;
  std::vector<int32_t> partitions = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(hash.Partition(0, std::string_view("key-2"), std::nullopt, "t", partitions), 6);
  EXPECT_EQ(hash.Partition(0, std::string_view("flink"), std::nullopt, "t", partitions), 0);
  EXPECT_EQ(hash.Partition(0, std::nullopt, std::string_view("v"), "t", partitions), kAnyPartition);
}

TEST(PartitionerTest, RoundRobinCyclesPerTopic) {
  RoundRobinPartitioner<int> rr;
  std::vector<int32_t> partitions = {0, 1, 2};
  std::vector<int32_t> seen;
  for (int i = 0; i < 4; ++i)
    seen.push_back(rr.Partition(0, std::nullopt, std::nullopt, "a", partitions));
  EXPECT_EQ(seen, (std::vector<int32_t>{0, 1, 2, 0}));
  EXPECT_EQ(rr.Partition(0, std::nullopt, std::nullopt, "b", partitions), 0)
      << "each topic has its own cycle";
}

}  // namespace
}  // namespace sluice::kafka
