// RestartBackoff: what the restart strategy (include/sluice/api/restart_strategy.h) says after
// each failure of a job: the delay before the next attempt, or no restart. Flink's
// RestartBackoffTimeStrategy implementations, fed the time of each failure:
//
// - NoRestart: never.
// - FixedDelay(attempts, delay): `delay` before each of at most `attempts` restarts.
// - ExponentialDelay(initial, max, multiplier, reset_after, jitter) (Flink's
//   ExponentialDelayRestartBackoffTimeStrategy): the backoff starts at `initial` and is
//   multiplied by `multiplier` at every failure up to `max`; a failure that comes at least
//   `reset_after` + the current backoff after the previous one (a quiet period) starts over at
//   `initial`. The delay is the backoff plus a random jitter in [-jitter * backoff,
//   +jitter * backoff], at most `max`. Restarts never run out.
//
// Pure logic: time comes from the caller (Clock::Now()), randomness from an injected source,
// so tests drive both by hand.
//
// Thread safety: none; the job master's thread owns it.
#pragma once

#include <sluice/api/restart_strategy.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "core/clock.h"

namespace sluice::internal {

class RestartBackoff {
 public:
  /// Returns a number in [0, 1).
  using Random = std::function<double()>;

  /// `random` defaults to a uniform generator seeded from the OS.
  explicit RestartBackoff(RestartStrategy strategy, Random random = {});

  /// A failure at `now`: the delay before the restart, or nullopt when the strategy allows no
  /// more restarts.
  std::optional<std::chrono::milliseconds> OnFailure(Clock::TimePoint now);

  /// The current backoff of ExponentialDelay before jitter (its initial delay before the first
  /// failure); for tests and logs.
  std::chrono::milliseconds current_backoff() const { return current_; }

 private:
  RestartStrategy strategy_;
  Random random_;
  int32_t restarts_ = 0;
  std::chrono::milliseconds current_;
  std::optional<Clock::TimePoint> last_failure_;
};

}  // namespace sluice::internal
