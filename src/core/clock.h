// Clock: the time schedulers read and wait for, behind an interface so that tests drive time by
// hand (tests/unit/core/fake_clock.h) instead of sleeping (STYLE.md, "Tests").
//
// Two times: Now() is monotonic, for deadlines, intervals and pauses; WallTimeMillis() is the
// wall clock, for timestamps that leave the process (a checkpoint's trigger and completion time
// in _metadata, a barrier's timestamp) and may jump.
//
// Thread safety: every method may be called from any thread. Clock::System() lives as long as
// the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/mutex.h"

namespace sluice::internal {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  virtual ~Clock() = default;

  /// Monotonic time.
  virtual TimePoint Now() const = 0;

  /// Milliseconds since the Unix epoch.
  virtual int64_t WallTimeMillis() const = 0;

  /// Blocks on `cv` with `mutex` (held by the caller, and again on return) until `cv` is
  /// notified or Now() reaches `deadline` (nullopt: until notified). May return early for no
  /// reason: callers re-check what they wait for, as with any condition variable. Returns at
  /// once if the deadline has passed.
  virtual void WaitUntil(CondVar& cv, Mutex& mutex, std::optional<TimePoint> deadline)
      SLUICE_REQUIRES(mutex) = 0;

  /// std::chrono::steady_clock and std::chrono::system_clock; what production code uses.
  static Clock& System();
};

}  // namespace sluice::internal
