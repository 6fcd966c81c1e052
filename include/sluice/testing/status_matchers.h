// GoogleMock matchers for Status and Result<T> (as Abseil's absl/status/status_matchers.h), so
// that a failed check prints the status, message included, instead of "false":
//
//   ASSERT_THAT(storage.Prune(1), sluice::testing::IsOk());
//   ASSERT_THAT(ParseConfig(text), IsOkAndHolds(Field(&Config::threads, 4)));
//   EXPECT_THAT(env->Execute().failure, StatusIs(StatusCode::kInvalidArgument, "--parallelism"));
//
// Every matcher accepts a Status or any Result<T>; a Result holding a value has an OK status.
// On a mismatch, GoogleTest prints the value ("InvalidArgument: <message>", or a Result's
// value) and the matcher adds which part did not match.
//
// Needs GoogleTest and GoogleMock (link GTest::gmock); sluice itself does not. Include it from
// tests only.
//
// Printing: this header also teaches GoogleTest to print Status and Result<T> (PrintTo, found
// by argument-dependent lookup). A test binary should include it in every file that prints a
// Status through GoogleTest, or in none: GoogleTest requires one way of printing a type per
// program.
#pragma once

#include <concepts>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sluice/status.h>

namespace sluice {

/// "OK" or "<Code>: <message>", for GoogleTest's failure messages.
inline void PrintTo(const Status& status, std::ostream* os) { *os << status.ToString(); }

/// "value <printed value>" or the status.
template <typename T>
void PrintTo(const Result<T>& result, std::ostream* os) {
  if (result.ok()) {
    *os << "value " << ::testing::PrintToString(result.value());
  } else {
    *os << result.status().ToString();
  }
}

namespace testing {
namespace status_internal {

inline const Status& GetStatus(const Status& status) { return status; }
template <typename T>
Status GetStatus(const Result<T>& result) {
  return result.status();
}

template <typename T>
concept StatusLike = requires(const T& value) {
  { status_internal::GetStatus(value) } -> std::convertible_to<Status>;
};

class IsOkMatcher {
 public:
  template <StatusLike T>
  bool MatchAndExplain(const T& actual, ::testing::MatchResultListener* listener) const {
    const Status status = GetStatus(actual);
    if (status.ok()) return true;
    *listener << "which is " << status.ToString();
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "is OK"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "is not OK"; }
};

class StatusIsMatcher {
 public:
  StatusIsMatcher(StatusCode code, ::testing::Matcher<const std::string&> message)
      : code_(code), message_(std::move(message)) {}

  template <StatusLike T>
  bool MatchAndExplain(const T& actual, ::testing::MatchResultListener* listener) const {
    const Status status = GetStatus(actual);
    if (status.code() != code_) {
      *listener << "whose code is " << StatusCodeName(status.code());
      if (!status.ok()) *listener << " (" << status.ToString() << ")";
      return false;
    }
    ::testing::StringMatchResultListener message_listener;
    if (!message_.MatchAndExplain(status.message(), &message_listener)) {
      *listener << "whose message \"" << status.message() << "\" does not match";
      if (!message_listener.str().empty()) *listener << ", " << message_listener.str();
      return false;
    }
    return true;
  }
  void DescribeTo(std::ostream* os) const {
    *os << "has code " << StatusCodeName(code_) << " and a message that ";
    message_.DescribeTo(os);
  }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "does not have code " << StatusCodeName(code_) << " or has a message that ";
    message_.DescribeNegationTo(os);
  }

 private:
  StatusCode code_;
  ::testing::Matcher<const std::string&> message_;
};

// Polymorphic until applied: the Result's value type is known only then.
template <typename ValueMatcher>
class IsOkAndHoldsMatcher {
 public:
  explicit IsOkAndHoldsMatcher(ValueMatcher matcher) : matcher_(std::move(matcher)) {}

  template <typename ResultType>
  operator ::testing::Matcher<ResultType>() const {  // NOLINT: implicit, as gmock's own
    return ::testing::Matcher<ResultType>(new Impl<const ResultType&>(matcher_));
  }

 private:
  template <typename ResultRef>
  class Impl final : public ::testing::MatcherInterface<ResultRef> {
    using Value = std::remove_cvref_t<decltype(std::declval<ResultRef>().value())>;

   public:
    explicit Impl(const ValueMatcher& matcher)
        : matcher_(::testing::SafeMatcherCast<const Value&>(matcher)) {}

    bool MatchAndExplain(ResultRef actual,
                         ::testing::MatchResultListener* listener) const override {
      if (!actual.ok()) {
        *listener << "which is " << actual.status().ToString();
        return false;
      }
      ::testing::StringMatchResultListener value_listener;
      const bool matches = matcher_.MatchAndExplain(actual.value(), &value_listener);
      *listener << "which holds " << ::testing::PrintToString(actual.value());
      if (!value_listener.str().empty()) *listener << ", " << value_listener.str();
      return matches;
    }
    void DescribeTo(std::ostream* os) const override {
      *os << "is OK and holds a value that ";
      matcher_.DescribeTo(os);
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "is not OK, or holds a value that ";
      matcher_.DescribeNegationTo(os);
    }

   private:
    ::testing::Matcher<const Value&> matcher_;
  };

  ValueMatcher matcher_;
};

}  // namespace status_internal

/// Matches an OK Status, and a Result<T> that holds a value.
inline ::testing::PolymorphicMatcher<status_internal::IsOkMatcher> IsOk() {
  return ::testing::MakePolymorphicMatcher(status_internal::IsOkMatcher());
}

/// Matches a Status or Result<T> whose code is `code` (any message).
inline ::testing::PolymorphicMatcher<status_internal::StatusIsMatcher> StatusIs(StatusCode code) {
  return ::testing::MakePolymorphicMatcher(
      status_internal::StatusIsMatcher(code, ::testing::A<const std::string&>()));
}

/// Matches a Status or Result<T> whose code is `code` and whose message contains `substring`.
inline ::testing::PolymorphicMatcher<status_internal::StatusIsMatcher> StatusIs(
    StatusCode code, std::string_view substring) {
  return ::testing::MakePolymorphicMatcher(
      status_internal::StatusIsMatcher(code, ::testing::HasSubstr(std::string(substring))));
}

/// Matches a Status or Result<T> whose code is `code` and whose message matches
/// `message_matcher` (a matcher of std::string, e.g. ::testing::StartsWith("topic")).
template <typename MessageMatcher>
  requires(!std::is_convertible_v<MessageMatcher, std::string_view>)::testing::PolymorphicMatcher<
      status_internal::StatusIsMatcher>
StatusIs(StatusCode code, MessageMatcher message_matcher) {
  return ::testing::MakePolymorphicMatcher(status_internal::StatusIsMatcher(
      code, ::testing::MatcherCast<const std::string&>(std::move(message_matcher))));
}

/// Matches a Result<T> that holds a value matching `value_matcher` (a matcher, or a value to
/// compare with ==).
template <typename ValueMatcher>
status_internal::IsOkAndHoldsMatcher<ValueMatcher> IsOkAndHolds(ValueMatcher value_matcher) {
  return status_internal::IsOkAndHoldsMatcher<ValueMatcher>(std::move(value_matcher));
}

}  // namespace testing
}  // namespace sluice
