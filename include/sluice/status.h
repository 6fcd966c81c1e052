// Status and Result<T>: expected failures as values at sluice's API edge.
//
// Thread safety: both are plain values; distinct objects may be used from distinct threads,
// one object from several threads only for reading.
// Errors: a Status says what went wrong (code), in words a user can act on (message: names
// the setting, topic or file and the fix). The code alone decides whether restarting a
// failed job can help (IsRestartable). Exceptions are for failures of user code and of
// sluice's own invariants; a Status that has to cross a task thread travels inside a
// StatusException, so the job master still sees its code.
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

/// What went wrong. Each code also says whether restarting the job from its last checkpoint
/// can help: IsRestartable below holds that decision, and the job master asks nothing else.
/// The question for a code is "does a restart change anything?" A restart re-reads the same
/// configuration, the same credentials, the same checkpoint and the same input, but meets a
/// broker or a disk that may have recovered (Abseil's status.h draws the same line between
/// kUnavailable / kAborted and kFailedPrecondition).
enum class StatusCode : std::uint8_t {
  kOk = 0,
  /// A bad setting or call: the same configuration fails again. Not restartable.
  kInvalidArgument,
  /// A topic, partition or key that does not exist (yet). Restartable, as in Flink: a topic
  /// may be created, and fresh topic metadata can lag behind its creation. A checkpoint or
  /// savepoint file that is missing at restore is kFailedPrecondition instead.
  kNotFound,
  /// Something to be created exists already (a checkpoint directory). Restartable: the next
  /// attempt takes new checkpoint ids.
  kAlreadyExists,
  /// The call is valid, but the state of the system must be fixed first by someone (a
  /// checkpoint of an incompatible job, an offset out of range with no reset strategy).
  /// Not restartable.
  kFailedPrecondition,
  /// A broker or storage is unreachable for now. Restartable.
  kUnavailable,
  /// A bounded wait expired. Restartable.
  kTimedOut,
  /// An operation was cancelled, typically because the job is stopping. Restartable.
  kCancelled,
  /// A checkpoint, transaction or task was aborted; also every failure of user code that
  /// threw an exception other than StatusException. Restartable (Flink's default).
  kAborted,
  /// Another live instance owns this identity (a transactional id). Not restartable: the
  /// restart would fence that instance in turn.
  kFenced,
  /// The broker refused the credentials (SASL). Not restartable.
  kUnauthenticated,
  /// The credentials are fine but lack a permission (a topic, group or transactional-id
  /// ACL). Not restartable.
  kPermissionDenied,
  /// Bytes on disk or on the wire do not parse (a damaged checkpoint, a control-topic
  /// record). Not restartable: the next attempt reads the same bytes.
  kCorruption,
  /// A file operation failed (disk full, EIO). Restartable: space may be freed.
  kIoError,
  /// A sluice bug. Restartable: the state that triggered it may not recur.
  kInternal,
};

/// The name of a code, e.g. "InvalidArgument".
std::string_view StatusCodeName(StatusCode code) noexcept;

/// Whether restarting a job that failed with `code` can help (see StatusCode). False for kOk.
bool IsRestartable(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  /// An OK status.
  Status() noexcept = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() noexcept { return {}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status TimedOut(std::string m) { return {StatusCode::kTimedOut, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Fenced(std::string m) { return {StatusCode::kFenced, std::move(m)}; }
  static Status Unauthenticated(std::string m) {
    return {StatusCode::kUnauthenticated, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
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
  std::string message_;
};

/// Whether restarting a job that failed with `status` can help: IsRestartable(status.code()).
inline bool IsRestartable(const Status& status) noexcept { return IsRestartable(status.code()); }

/// Thrown where a task has a Status to fail with: by sluice's connectors on task threads, and by
/// a user's function, reader or writer that wants its failure to carry a code. The task hands
/// the Status to the job master unchanged (with the task's name as context), which restarts
/// the job only if IsRestartable. Any other exception fails the task as kAborted.
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

// ---- Early returns (Abseil's RETURN_IF_ERROR / ASSIGN_OR_RETURN) ----
//
// Both may be used in any function that returns Status or Result<U>.

/// Evaluates `expr` (a Status) once and returns it from the enclosing function unless it is OK.
#define SLUICE_RETURN_IF_ERROR(expr)                                           \
  do {                                                                         \
    ::sluice::Status sluice_status_macro_status_ = (expr);                     \
    if (!sluice_status_macro_status_.ok()) return sluice_status_macro_status_; \
  } while (false)

/// Evaluates `expr` (a Result<T>) once; returns its Status from the enclosing function on an
/// error, otherwise moves the value into `lhs`, which may declare a variable
/// (`SLUICE_ASSIGN_OR_RETURN(auto bytes, ReadFile(path));`) or name an existing one. It
/// expands to more than one statement, so it cannot be the body of an unbraced if. A type with
/// a comma in `lhs` needs an alias or `auto`.
#define SLUICE_ASSIGN_OR_RETURN(lhs, expr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL_(SLUICE_STATUS_CONCAT_(sluice_result_, __LINE__), lhs, expr)

#define SLUICE_STATUS_CONCAT_INNER_(a, b) a##b
#define SLUICE_STATUS_CONCAT_(a, b) SLUICE_STATUS_CONCAT_INNER_(a, b)
// `result` names a new variable and `lhs` is a declaration or an lvalue: neither can be
// parenthesised, which bugprone-macro-parentheses asks for.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define SLUICE_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                  \
  if (!result.ok()) return result.status();              \
  lhs = std::move(result).value()
// NOLINTEND(bugprone-macro-parentheses)
