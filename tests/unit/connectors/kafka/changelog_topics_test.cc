#include "connectors/kafka/changelog_topics.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace sluice::kafka::internal {
namespace {

TEST(ChangelogTopicsTest, NamesDeriveFromPrefixAndOperatorUid) {
  EXPECT_EQ(ChangelogTopicName("wordcount", "counts"), "wordcount.counts.changelog");
  // Uids are free text; topic names are not (found by a generated uid, "Map#4").
  EXPECT_EQ(ChangelogTopicName("job-1", "Map#4"), "job-1.Map_234.changelog");
  EXPECT_EQ(ChangelogTopicName("p", "a_b c/d"), "p.a_5fb_20c_2fd.changelog");
  EXPECT_NE(ChangelogTopicName("p", "a_5f"), ChangelogTopicName("p", "a_"));
  const std::string long_uid(400, 'u');
  const std::string name = ChangelogTopicName("p", long_uid);
  EXPECT_EQ(name.size(), 249u);
  EXPECT_TRUE(name.ends_with(".changelog"));
  EXPECT_NE(name, ChangelogTopicName("p", long_uid + "v"));
}

TEST(ChangelogTopicsTest, APolicyCompactsWhenOneOfItsItemsIsCompact) {
  EXPECT_TRUE(CleanupPolicyCompacts("compact"));
  EXPECT_TRUE(CleanupPolicyCompacts("compact,delete"));
  EXPECT_TRUE(CleanupPolicyCompacts("delete, compact"));
  EXPECT_FALSE(CleanupPolicyCompacts("delete"));
  EXPECT_FALSE(CleanupPolicyCompacts(""));
  EXPECT_FALSE(CleanupPolicyCompacts("compaction"));
  EXPECT_FALSE(CleanupPolicyCompacts("delete,"));
}

TEST(ChangelogTopicsTest, CreatedTopicsRollSegmentsTheCleanerCanCompact) {
  // Kafka's defaults (1 GiB, 7 days) keep a changelog in its never-compacted active segment.
  const std::map<std::string, std::string> defaults = ChangelogTopicConfigs({});
  EXPECT_EQ(defaults.at("segment.bytes"), "67108864");
  EXPECT_EQ(defaults.at("segment.ms"), "3600000");
  EXPECT_EQ(defaults.count("cleanup.policy"), 0u);  // EnsureChangelogTopics sets compact
  const std::map<std::string, std::string> mine =
      ChangelogTopicConfigs({{"sluice.changelog.topic.segment.ms", "60000"},
                             {"sluice.changelog.topic.min.insync.replicas", "2"},
                             {"bootstrap.servers", "x:1"}});
  EXPECT_EQ(mine.at("segment.ms"), "60000");
  EXPECT_EQ(mine.at("min.insync.replicas"), "2");
  EXPECT_EQ(mine.at("segment.bytes"), "67108864");
  EXPECT_EQ(mine.size(), 3u);
}

}  // namespace
}  // namespace sluice::kafka::internal
