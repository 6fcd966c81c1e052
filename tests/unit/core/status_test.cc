#include <sluice/status.h>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

namespace sluice {
namespace {

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.ToString(), "OK");
}

TEST(StatusTest, ErrorCarriesCodeMessageAndRetryHint) {
  Status unavailable = Status::Unavailable("broker 127.0.0.1:19092 is down");
  EXPECT_FALSE(unavailable.ok());
  EXPECT_TRUE(unavailable.retriable());
  EXPECT_EQ(unavailable.ToString(), "Unavailable: broker 127.0.0.1:19092 is down");

  Status fenced = Status::Fenced("transactional id wc-0-a is used by another instance");
  EXPECT_FALSE(fenced.retriable());
  EXPECT_EQ(StatusCodeName(fenced.code()), "Fenced");
}

TEST(StatusTest, WithContextPrefixesTheMessageAndKeepsCodeAndHint) {
  Status status = Status::TimedOut("no answer in 30s").WithContext("metadata for topic words");
  EXPECT_EQ(status.code(), StatusCode::kTimedOut);
  EXPECT_TRUE(status.retriable());
  EXPECT_EQ(status.message(), "metadata for topic words: no answer in 30s");
  EXPECT_TRUE(Status::Ok().WithContext("anything").ok());
}

TEST(StatusTest, EveryCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    EXPECT_NE(StatusCodeName(static_cast<StatusCode>(c)), "Unknown") << c;
  }
}

TEST(ResultTest, HoldsAValue) {
  Result<int> result = 42;
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 42);
  EXPECT_TRUE(result.status().ok());
  EXPECT_EQ(result.ValueOr(7), 42);
}

TEST(ResultTest, HoldsAnError) {
  Result<std::string> result = Status::NotFound("topic words does not exist");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.ValueOr("fallback"), "fallback");
  EXPECT_THROW(result.value(), std::bad_variant_access);
}

TEST(ResultTest, AnOkStatusIsNotAValueAndBecomesAnInternalError) {
  Result<int> result = Status::Ok();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(5);
  std::unique_ptr<int> owned = std::move(result).value();
  ASSERT_NE(owned, nullptr);
  EXPECT_EQ(*owned, 5);
}

TEST(StatusExceptionTest, CarriesTheStatus) {
  try {
    throw StatusException(Status::Fenced("transactional id wc-0-a belongs to another instance"));
  } catch (const std::exception& e) {
    const auto* carried = dynamic_cast<const StatusException*>(&e);
    ASSERT_NE(carried, nullptr);
    EXPECT_EQ(carried->status().code(), StatusCode::kFenced);
    EXPECT_STREQ(e.what(), "Fenced: transactional id wc-0-a belongs to another instance");
  }
}

}  // namespace
}  // namespace sluice
