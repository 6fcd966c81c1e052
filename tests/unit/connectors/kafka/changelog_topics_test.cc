#include "connectors/kafka/changelog_topics.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::kafka::internal
