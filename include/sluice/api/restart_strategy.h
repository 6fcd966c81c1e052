// What happens after a task fails (Flink's restart strategies). A strategy is asked only about
// failures a restart can fix: one whose StatusCode IsRestartable refuses (unauthenticated,
// permission denied, fenced, invalid argument, ...) stops the job whatever the strategy.
#pragma once

#include <chrono>
#include <cstdint>
#include <variant>

namespace sluice {

class RestartStrategy {
 public:
  using Millis = std::chrono::milliseconds;

  /// Never restart: the first failure fails the job.
  static RestartStrategy NoRestart() { return RestartStrategy(Kind::kNone); }
  /// Up to `attempts` restarts, waiting `delay` before each.
  static RestartStrategy FixedDelay(int32_t attempts, Millis delay) {
    RestartStrategy s(Kind::kFixedDelay);
    s.attempts_ = attempts;
    s.initial_ = delay;
    return s;
  }
  /// Restarts forever, waiting initial, initial*multiplier, ... up to max between attempts.
  /// (Flink resets the backoff after a long healthy run; sluice does the same after
  /// `reset_after` without failure, default one hour.)
  static RestartStrategy ExponentialDelay(Millis initial, Millis max, double multiplier,
                                          Millis reset_after = std::chrono::hours(1)) {
    RestartStrategy s(Kind::kExponentialDelay);
    s.initial_ = initial;
    s.max_ = max;
    s.multiplier_ = multiplier;
    s.reset_after_ = reset_after;
    return s;
  }

  enum class Kind { kNone, kFixedDelay, kExponentialDelay };
  Kind kind() const { return kind_; }
  int32_t attempts() const { return attempts_; }
  Millis initial_delay() const { return initial_; }
  Millis max_delay() const { return max_; }
  double multiplier() const { return multiplier_; }
  Millis reset_after() const { return reset_after_; }

 private:
  explicit RestartStrategy(Kind kind) : kind_(kind) {}
  Kind kind_;
  int32_t attempts_ = 0;
  Millis initial_{0};
  Millis max_{0};
  double multiplier_ = 2.0;
  Millis reset_after_{0};
};

}  // namespace sluice
