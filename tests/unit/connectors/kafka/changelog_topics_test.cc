#include "connectors/kafka/changelog_topics.h"

#include <gtest/gtest.h>

namespace sluice::kafka::internal {
namespace {

TEST(ChangelogTopicsTest, NamesDeriveFromPrefixAndOperatorUid) {
  EXPECT_EQ(ChangelogTopicName("wordcount", "counts"), "wordcount.counts.changelog");
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
