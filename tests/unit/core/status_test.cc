#include <sluice/status.h>

#include <gtest/gtest.h>

#include <map>
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

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status unavailable = Status::Unavailable("broker 127.0.0.1:19092 is down");
  EXPECT_FALSE(unavailable.ok());
  EXPECT_EQ(unavailable.code(), StatusCode::kUnavailable);
  EXPECT_EQ(unavailable.ToString(), "Unavailable: broker 127.0.0.1:19092 is down");

  Status denied = Status::PermissionDenied("no READ on topic words");
  EXPECT_EQ(denied.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.ToString(), "PermissionDenied: no READ on topic words");
}

TEST(StatusTest, WithContextPrefixesTheMessageAndKeepsTheCode) {
  Status status = Status::TimedOut("no answer in 30s").WithContext("metadata for topic words");
  EXPECT_EQ(status.code(), StatusCode::kTimedOut);
  EXPECT_EQ(status.message(), "metadata for topic words: no answer in 30s");
  EXPECT_TRUE(Status::Ok().WithContext("anything").ok());
}

// The restart policy, code by code (the reasons are in status.h). A change here changes which
// failures stop a job at once: review it with docs/operations.md.
TEST(IsRestartableTest, OnlyFailuresARestartCanChangeAreRestartable) {
  const std::map<StatusCode, bool> expected = {
      {StatusCode::kOk, false},
      {StatusCode::kInvalidArgument, false},
      {StatusCode::kNotFound, true},
      {StatusCode::kAlreadyExists, true},
      {StatusCode::kFailedPrecondition, false},
      {StatusCode::kUnavailable, true},
      {StatusCode::kTimedOut, true},
      {StatusCode::kCancelled, true},
      {StatusCode::kAborted, true},
      {StatusCode::kFenced, false},
      {StatusCode::kUnauthenticated, false},
      {StatusCode::kPermissionDenied, false},
      {StatusCode::kCorruption, false},
      {StatusCode::kIoError, true},
      {StatusCode::kInternal, true},
  };
  ASSERT_EQ(expected.size(), static_cast<size_t>(StatusCode::kInternal) + 1)
      << "every code has a row";
  for (const auto& [code, restartable] : expected) {
    EXPECT_EQ(IsRestartable(code), restartable) << StatusCodeName(code);
    EXPECT_EQ(IsRestartable(Status(code, "why")), restartable) << StatusCodeName(code);
  }
}

TEST(IsRestartableTest, ContextDoesNotChangeTheDecision) {
  Status fenced = Status::Fenced("transactional id wc-0-a").WithContext("task sink (1/2) failed");
  EXPECT_FALSE(IsRestartable(fenced));
  EXPECT_TRUE(IsRestartable(Status::Aborted("bad record 7").WithContext("task map (1/1)")));
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

// ---- SLUICE_RETURN_IF_ERROR / SLUICE_ASSIGN_OR_RETURN ----

Status FailIf(bool fail, int* evaluations) {
  ++*evaluations;
  return fail ? Status::NotFound("topic words") : Status::Ok();
}

Result<std::string> ReadIf(bool fail, int* evaluations) {
  ++*evaluations;
  if (fail) return Status::Corruption("bad bytes");
  return std::string("bytes");
}

Status TwoSteps(bool fail_first, bool fail_second, int* evaluations, std::string* reached) {
  SLUICE_RETURN_IF_ERROR(FailIf(fail_first, evaluations));
  *reached = "after first";
  SLUICE_RETURN_IF_ERROR(FailIf(fail_second, evaluations).WithContext("second"));
  *reached = "after second";
  return Status::Ok();
}

TEST(StatusMacrosTest, ReturnIfErrorReturnsTheFirstErrorAndEvaluatesOnce) {
  int evaluations = 0;
  std::string reached;
  EXPECT_TRUE(TwoSteps(false, false, &evaluations, &reached).ok());
  EXPECT_EQ(evaluations, 2);
  EXPECT_EQ(reached, "after second");

  evaluations = 0;
  reached.clear();
  Status first = TwoSteps(true, false, &evaluations, &reached);
  EXPECT_EQ(first, Status::NotFound("topic words"));
  EXPECT_EQ(evaluations, 1);
  EXPECT_EQ(reached, "");

  Status second = TwoSteps(false, true, &evaluations, &reached);
  EXPECT_EQ(second.code(), StatusCode::kNotFound);
  EXPECT_EQ(second.message(), "second: topic words");
  EXPECT_EQ(reached, "after first");
}

Result<int> ReturnIfErrorInAResultFunction(bool fail) {
  int evaluations = 0;
  SLUICE_RETURN_IF_ERROR(FailIf(fail, &evaluations));
  return 7;
}

TEST(StatusMacrosTest, ReturnIfErrorWorksInAFunctionReturningResult) {
  EXPECT_EQ(*ReturnIfErrorInAResultFunction(false), 7);
  EXPECT_EQ(ReturnIfErrorInAResultFunction(true).status().code(), StatusCode::kNotFound);
}

Result<size_t> SizeOf(bool fail, int* evaluations) {
  SLUICE_ASSIGN_OR_RETURN(std::string bytes, ReadIf(fail, evaluations));
  std::string assigned = "old";
  SLUICE_ASSIGN_OR_RETURN(assigned, ReadIf(false, evaluations));  // an existing variable
  return bytes.size() + assigned.size();
}

TEST(StatusMacrosTest, AssignOrReturnDeclaresOrAssignsAndReturnsTheError) {
  int evaluations = 0;
  Result<size_t> size = SizeOf(false, &evaluations);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, 10u);
  EXPECT_EQ(evaluations, 2);

  evaluations = 0;
  Result<size_t> failed = SizeOf(true, &evaluations);
  EXPECT_EQ(failed.status(), Status::Corruption("bad bytes"));
  EXPECT_EQ(evaluations, 1);
}

Status MoveOnly(bool fail, std::unique_ptr<int>* out) {
  auto make = [fail]() -> Result<std::unique_ptr<int>> {
    if (fail) return Status::Unavailable("no broker");
    return std::make_unique<int>(5);
  };
  SLUICE_ASSIGN_OR_RETURN(*out, make());
  SLUICE_ASSIGN_OR_RETURN(auto second, make());  // two on one function: distinct temporaries
  **out += *second;
  return Status::Ok();
}

TEST(StatusMacrosTest, AssignOrReturnMovesMoveOnlyValues) {
  std::unique_ptr<int> value;
  ASSERT_TRUE(MoveOnly(false, &value).ok());
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(*value, 10);
  EXPECT_EQ(MoveOnly(true, &value).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace sluice
