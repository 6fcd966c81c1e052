#include "connectors/kafka/offset_resolver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sluice::kafka::internal {
namespace {

// Partitions of "t": earliest 10, latest 100; committed only for partition 0 (40);
// timestamps: partition 0 has a record at/after any timestamp <= 5000 at offset 50.
class FakeLookup final : public OffsetLookup {
 public:
  Result<OffsetMap> Earliest(const std::vector<TopicPartition>& ps) override {
    return All(ps, 10, ++earliest_calls);
  }
  Result<OffsetMap> Latest(const std::vector<TopicPartition>& ps) override {
    return All(ps, 100, ++latest_calls);
  }
  Result<OffsetMap> Committed(const std::vector<TopicPartition>& ps) override {
    ++committed_calls;
    OffsetMap out;
    for (const auto& tp : ps)
      if (tp.partition == 0) out[tp] = 40;
    return out;
  }
  Result<OffsetMap> ForTimestamp(const std::vector<TopicPartition>& ps, int64_t ts) override {
    OffsetMap out;
    for (const auto& tp : ps)
      if (tp.partition == 0 && ts <= 5000) out[tp] = 50;
    return out;
  }
  int earliest_calls = 0, latest_calls = 0, committed_calls = 0;

 private:
  static OffsetMap All(const std::vector<TopicPartition>& ps, int64_t v, int) {
    OffsetMap out;
    for (const auto& tp : ps) out[tp] = v;
    return out;
  }
};

const std::vector<TopicPartition> kParts{{"t", 0}, {"t", 1}};
const std::optional<std::string> kGroup = "g";

OffsetMap Resolve(const OffsetsInitializer& init,
                  const std::optional<std::string>& group = kGroup) {
  FakeLookup lookup;
  Result<OffsetMap> r = ResolveOffsets(init, kParts, group, lookup);
  EXPECT_THAT(r, IsOk());
  return r.ValueOr(OffsetMap{});
}

TEST(OffsetResolverTest, EarliestAndLatestAreTheLogBounds) {
  EXPECT_EQ(Resolve(OffsetsInitializer::Earliest()), (OffsetMap{{{"t", 0}, 10}, {{"t", 1}, 10}}));
  EXPECT_EQ(Resolve(OffsetsInitializer::Latest()), (OffsetMap{{{"t", 0}, 100}, {{"t", 1}, 100}}));
}

TEST(OffsetResolverTest, CommittedFallsBackToTheResetStrategy) {
  EXPECT_EQ(Resolve(OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest)),
            (OffsetMap{{{"t", 0}, 40}, {{"t", 1}, 10}}));
  EXPECT_EQ(Resolve(OffsetsInitializer::Committed(OffsetResetStrategy::kLatest)),
            (OffsetMap{{{"t", 0}, 40}, {{"t", 1}, 100}}));
}

TEST(OffsetResolverTest, CommittedWithoutResetFailsNamingThePartition) {
  FakeLookup lookup;
  Result<OffsetMap> r = ResolveOffsets(OffsetsInitializer::Committed(), kParts, kGroup, lookup);
  ASSERT_THAT(r, Not(IsOk()));
  EXPECT_THAT(r.status().message(), HasSubstr("partition t-1 has no committed offset"));
}

TEST(OffsetResolverTest, SpecificOffsetsFallBackToCommittedThenReset) {
  auto init =
      OffsetsInitializer::Offsets({{{"t", 1}, 7}, {{"other", 0}, 3}}, OffsetResetStrategy::kLatest);
  EXPECT_EQ(Resolve(init), (OffsetMap{{{"t", 0}, 40}, {{"t", 1}, 7}}));
  auto missing_both = OffsetsInitializer::Offsets({}, OffsetResetStrategy::kLatest);
  EXPECT_EQ(Resolve(missing_both), (OffsetMap{{{"t", 0}, 40}, {{"t", 1}, 100}}));
}

TEST(OffsetResolverTest, SpecificOffsetsWithoutGroupGoStraightToTheResetStrategy) {
  FakeLookup lookup;
  auto r =
      ResolveOffsets(OffsetsInitializer::Offsets({{{"t", 1}, 7}}), kParts, std::nullopt, lookup);
  ASSERT_THAT(r, IsOk());
  EXPECT_EQ(*r, (OffsetMap{{{"t", 0}, 10}, {{"t", 1}, 7}}));
  EXPECT_EQ(lookup.committed_calls, 0);
}

TEST(OffsetResolverTest, TimestampWithNoLaterRecordStartsAtTheEnd) {
  EXPECT_EQ(Resolve(OffsetsInitializer::Timestamp(1000)),
            (OffsetMap{{{"t", 0}, 50}, {{"t", 1}, 100}}));
  EXPECT_EQ(Resolve(OffsetsInitializer::Timestamp(9000)),
            (OffsetMap{{{"t", 0}, 100}, {{"t", 1}, 100}}));
}

TEST(OffsetResolverTest, NoPartitionsNeedNoLookup) {
  FakeLookup lookup;
  auto r = ResolveOffsets(OffsetsInitializer::Committed(), {}, kGroup, lookup);
  ASSERT_THAT(r, IsOk());
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(lookup.committed_calls, 0);
}

}  // namespace
}  // namespace sluice::kafka::internal
