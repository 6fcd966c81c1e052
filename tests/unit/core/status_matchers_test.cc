// The test matchers of <sluice/testing/status_matchers.h>: what they accept, and that a
// failing check prints the status and its message.
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include <sluice/status.h>

namespace sluice {
namespace {

using ::sluice::testing::IsOk;
using ::sluice::testing::IsOkAndHolds;
using ::sluice::testing::StatusIs;
using ::testing::DescribeMatcher;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The explanation a matcher gives for `value`, as GoogleTest prints it after "Actual: ...".
template <typename T, typename M>
std::string Explain(const M& matcher, const T& value) {
  ::testing::StringMatchResultListener listener;
  ::testing::Matcher<const T&>(matcher).MatchAndExplain(value, &listener);
  return listener.str();
}

Result<int> Answer() { return 42; }
Result<int> Missing() { return Status::NotFound("no checkpoint in /tmp/x"); }

TEST(IsOkTest, MatchesOkStatusesAndResultsWithAValue) {
  EXPECT_THAT(Status::Ok(), IsOk());
  EXPECT_THAT(Answer(), IsOk());
  EXPECT_THAT(Status::InvalidArgument("bad"), Not(IsOk()));
  EXPECT_THAT(Missing(), Not(IsOk()));
}

TEST(IsOkTest, DescribesItself) {
  EXPECT_EQ(DescribeMatcher<Status>(IsOk()), "is OK");
  EXPECT_EQ(DescribeMatcher<Status>(IsOk(), /*negation=*/true), "is not OK");
}

TEST(IsOkTest, ExplainsAMismatchWithTheWholeStatus) {
  EXPECT_EQ(Explain<Status>(IsOk(), Status::Unavailable("broker 127.0.0.1:1 is down")),
            "which is Unavailable: broker 127.0.0.1:1 is down");
  EXPECT_EQ(Explain<Result<int>>(IsOk(), Missing()), "which is NotFound: no checkpoint in /tmp/x");
}

TEST(IsOkTest, AFailedAssertionPrintsTheMessage) {
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Status::InvalidArgument("--parallelism must be > 0"), IsOk()),
                          "InvalidArgument: --parallelism must be > 0");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Missing(), IsOk()), "no checkpoint in /tmp/x");
  EXPECT_FATAL_FAILURE(ASSERT_THAT(Status::Corruption("bad crc in state file"), IsOk()),
                       "Corruption: bad crc in state file");
}

TEST(StatusIsTest, MatchesTheCode) {
  EXPECT_THAT(Status::NotFound("x"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(Status::Ok(), StatusIs(StatusCode::kOk));
  EXPECT_THAT(Answer(), StatusIs(StatusCode::kOk));
  EXPECT_THAT(Status::NotFound("x"), Not(StatusIs(StatusCode::kInvalidArgument)));
  EXPECT_THAT(Answer(), Not(StatusIs(StatusCode::kNotFound)));
}

TEST(StatusIsTest, AStringIsASubstringOfTheMessage) {
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound, "checkpoint"));
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound, ""));
  EXPECT_THAT(Missing(), Not(StatusIs(StatusCode::kNotFound, "savepoint")));
  EXPECT_THAT(Missing(), Not(StatusIs(StatusCode::kIoError, "checkpoint")));
  std::string substring = "/tmp/x";
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound, substring));
}

TEST(StatusIsTest, TakesAMatcherForTheMessage) {
  EXPECT_THAT(Missing(), StatusIs(StatusCode::kNotFound, StartsWith("no checkpoint")));
  EXPECT_THAT(Missing(), Not(StatusIs(StatusCode::kNotFound, StartsWith("checkpoint"))));
}

TEST(StatusIsTest, DescribesItself) {
  EXPECT_EQ(DescribeMatcher<Status>(StatusIs(StatusCode::kFenced, "epoch")),
            "has code Fenced and a message that has substring \"epoch\"");
}

TEST(StatusIsTest, ExplainsAWrongCodeWithTheWholeStatus) {
  EXPECT_EQ(Explain<Status>(StatusIs(StatusCode::kFenced), Status::TimedOut("no ack in 30s")),
            "whose code is TimedOut (TimedOut: no ack in 30s)");
  EXPECT_EQ(Explain<Result<int>>(StatusIs(StatusCode::kNotFound), Answer()), "whose code is OK");
}

TEST(StatusIsTest, ExplainsAWrongMessage) {
  EXPECT_EQ(Explain<Result<int>>(StatusIs(StatusCode::kNotFound, "savepoint"), Missing()),
            "whose message \"no checkpoint in /tmp/x\" does not match");
}

TEST(StatusIsTest, AFailedAssertionPrintsTheMessage) {
  EXPECT_NONFATAL_FAILURE(
      EXPECT_THAT(Status::TimedOut("no ack in 30s"), StatusIs(StatusCode::kFenced)),
      "TimedOut: no ack in 30s");
}

TEST(IsOkAndHoldsTest, MatchesTheValue) {
  EXPECT_THAT(Answer(), IsOkAndHolds(42));
  EXPECT_THAT(Answer(), IsOkAndHolds(::testing::Gt(40)));
  EXPECT_THAT(Answer(), Not(IsOkAndHolds(41)));
  EXPECT_THAT(Missing(), Not(IsOkAndHolds(42)));
  EXPECT_THAT(Result<std::string>("topic-a"), IsOkAndHolds(HasSubstr("topic")));
}

TEST(IsOkAndHoldsTest, DescribesAndExplains) {
  EXPECT_EQ(DescribeMatcher<Result<int>>(IsOkAndHolds(42)),
            "is OK and holds a value that is equal to 42");
  EXPECT_EQ(Explain<Result<int>>(IsOkAndHolds(41), Answer()), "which holds 42");
  EXPECT_EQ(Explain<Result<int>>(IsOkAndHolds(42), Missing()),
            "which is NotFound: no checkpoint in /tmp/x");
  EXPECT_NONFATAL_FAILURE(EXPECT_THAT(Missing(), IsOkAndHolds(42)), "no checkpoint in /tmp/x");
}

TEST(StatusPrintingTest, PrintsStatusesAndResults) {
  EXPECT_EQ(::testing::PrintToString(Status::Ok()), "OK");
  EXPECT_EQ(::testing::PrintToString(Status::Aborted("checkpoint 3 expired")),
            "Aborted: checkpoint 3 expired");
  EXPECT_EQ(::testing::PrintToString(Answer()), "value 42");
  EXPECT_EQ(::testing::PrintToString(Missing()), "NotFound: no checkpoint in /tmp/x");
}

}  // namespace
}  // namespace sluice
