// Status and Result<T>: expected failures as values at sluice's API edge.
//
// Thread safety: both are plain values; distinct objects may be used from distinct threads,
// one object from several threads only for reading.
// Errors: a Status says what went wrong (code), in words a user can act on (message: names
// the setting, topic or file and the fix), and whether trying again can help (retriable).
// Exceptions are for failures of user code and of sluice's own invariants, not for these.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode : std::uint8_t {
  kOk = 0,
  kInvalidArgument,  // bad configuration or call: fix the input
  kNotFound,         // topic, file, checkpoint or key that does not exist
  kAlreadyExists,
  kFailedPrecondition,  // the call is valid but not in this state
  kUnavailable,         // broker or storage unreachable; retriable
  kTimedOut,            // a bounded wait expired; usually retriable
  kCancelled,
  kAborted,          // a checkpoint or transaction was aborted
  kFenced,           // another live instance owns this identity; never retriable
  kUnauthenticated,  // wrong credentials; never retriable
  kCorruption,       // bytes on disk or on the wire do not parse
  kIoError,
  kInternal,  // a sluice bug
};

/// The name of a code, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  /// An OK status.
  Status() noexcept = default;
  Status(StatusCode code, std::string message, bool retriable = false)
      : code_(code), retriable_(retriable), message_(std::move(message)) {}

  static Status Ok() noexcept { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Unavailable(std::string m) {
    return {StatusCode::kUnavailable, std::move(m), true};
  }
  static Status TimedOut(std::string m) { return {StatusCode::kTimedOut, std::move(m), true}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Fenced(std::string m) { return {StatusCode::kFenced, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  /// True when the same operation may succeed if tried again later (e.g. a broker restarting).
  bool retriable() const noexcept { return retriable_; }
  const std::string& message() const noexcept { return message_; }

  /// "OK", or "<CodeName>: <message>".
  std::string ToString() const;

  /// The same status with "context: " before its message; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) noexcept {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  bool retriable_ = false;
  std::string message_;
};

/// Thrown by a function, reader or writer that wants its task's failure to carry a Status:
/// the job master then decides on the code (a kFenced or kInvalidArgument failure is not
/// restarted, since restarting cannot help). Any other exception fails the task as kAborted.
class StatusException : public std::runtime_error {
 public:
  explicit StatusException(Status status)
      : std::runtime_error(status.ToString()), status_(std::move(status)) {}
  const Status& status() const noexcept { return status_; }

 private:
  Status status_;
};

/// A value of type T, or the Status saying why there is none. Never holds an OK status.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "Result<Status> is meaningless");

 public:
  Result(T value)
      : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : state_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    if (std::get<1>(state_).ok()) {
      state_.template emplace<1>(StatusCode::kInternal, "Result constructed from an OK status");
    }
  }

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// The error; Status::Ok() when a value is held.
  Status status() const { return ok() ? Status::Ok() : std::get<1>(state_); }

  /// The value. Calling these on an error is a bug and throws std::bad_variant_access.
  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T ValueOr(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Status> state_;
};

}  // namespace sluice
