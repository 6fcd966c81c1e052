#include <sluice/api/duration.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, AcceptsEveryUnitAndPlainMilliseconds) {
  EXPECT_EQ(*ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(*ParseDuration("5s"), milliseconds(5'000));
  EXPECT_EQ(*ParseDuration("1m"), milliseconds(60'000));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(*ParseDuration("300"), milliseconds(300));
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("0s"), milliseconds(0));
}

TEST(ParseDurationTest, AcceptsFractionsThatAreWholeMilliseconds) {
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(*ParseDuration("0.25m"), milliseconds(15'000));
  EXPECT_EQ(*ParseDuration("1.001s"), milliseconds(1'001));
  EXPECT_EQ(*ParseDuration("2.5000000000000s"), milliseconds(2'500));  // trailing zeros
  EXPECT_EQ(*ParseDuration("0.0000025h"), milliseconds(9));
  EXPECT_EQ(*ParseDuration("3.0"), milliseconds(3));
}

TEST(ParseDurationTest, RejectsFractionsOfAMillisecond) {
  for (const char* text : {"0.5ms", "1.0001s", "1.5", "0.0000001h"}) {
    Result<milliseconds> parsed = ParseDuration(text);
    ASSERT_THAT(parsed, Not(IsOk())) << text;
    EXPECT_THAT(parsed, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(parsed.status().message(), HasSubstr("not a whole number of milliseconds"));
  }
}

TEST(ParseDurationTest, RejectsTextOutsideTheGrammarAndQuotesIt) {
  for (const char* text : {"", "s", "abc", "-5s", "+5s", " 5s", "5s ", "5 s", "5S", "5sec", "1m30s",
                           ".5s", "5.s", "5d", "1e3", "5us"}) {
    Result<milliseconds> parsed = ParseDuration(text);
    ASSERT_THAT(parsed, Not(IsOk())) << "'" << text << "'";
    EXPECT_THAT(parsed, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(parsed.status().message(),
                StartsWith("'" + std::string(text) + "' is not a duration"));
    EXPECT_THAT(parsed.status().message(), HasSubstr("250ms, 5s, 1m, 2h or 1.5s"));
  }
}

TEST(ParseDurationTest, NamesAnUnknownUnit) {
  EXPECT_EQ(ParseDuration("5d").status().message(),
            "'5d' is not a duration (unknown unit 'd'): expected a number with unit ms, s, m "
            "or h, e.g. 250ms, 5s, 1m, 2h or 1.5s (a plain number is milliseconds)");
}

TEST(ParseDurationTest, RejectsValuesThatOverflow) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(*ParseDuration(std::to_string(max)), milliseconds(max));
  EXPECT_EQ(*ParseDuration(std::to_string(max) + "ms"), milliseconds(max));
  for (std::string text : {std::to_string(max) + "0", std::to_string(max) + "s",
                           std::string("99999999999999999999999h"), std::string("2562047788016h"),
                           std::to_string(max / 1000) + ".9s"}) {
    Result<milliseconds> parsed = ParseDuration(text);
    ASSERT_THAT(parsed, Not(IsOk())) << text;
    EXPECT_THAT(parsed.status().message(), HasSubstr("(too large)"));
  }
  // The largest whole number of hours that fits.
  EXPECT_EQ(*ParseDuration("2562047788015h"), milliseconds(2562047788015LL * 3'600'000));
}

TEST(FormatDurationTest, UsesTheLargestUnitThatDividesExactly) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0ms");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(milliseconds(1'000)), "1s");
  EXPECT_EQ(FormatDuration(milliseconds(1'500)), "1500ms");
  EXPECT_EQ(FormatDuration(milliseconds(90'000)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(120'000)), "2m");
  EXPECT_EQ(FormatDuration(milliseconds(3'600'000)), "1h");
  EXPECT_EQ(FormatDuration(milliseconds(5'400'000)), "90m");
  EXPECT_EQ(FormatDuration(milliseconds(-5'000)), "-5s");
}

TEST(FormatDurationTest, RoundTripsThroughParseDuration) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t ms :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{10}, std::int64_t{999}, std::int64_t{1'000},
        std::int64_t{1'001}, std::int64_t{59'000}, std::int64_t{60'000}, std::int64_t{61'000},
        std::int64_t{3'600'000}, std::int64_t{86'400'000},
        std::int64_t{2562047788015LL * 3'600'000}, max}) {
    const std::string text = FormatDuration(milliseconds(ms));
    Result<milliseconds> parsed = ParseDuration(text);
    ASSERT_THAT(parsed, IsOk()) << text;
    EXPECT_EQ(parsed->count(), ms) << text;
  }
  for (const char* text : {"250ms", "1s", "2m", "2h", "90s"}) {
    EXPECT_EQ(FormatDuration(*ParseDuration(text)), text);
  }
}

}  // namespace
}  // namespace sluice
