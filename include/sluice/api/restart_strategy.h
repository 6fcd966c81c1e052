// What happens after a task fails (Flink's restart strategies). Default: NoRestart without
// checkpointing; with it, ExponentialDelay() (Flink 2's default: 1 s, growing by 1.5 up to
// 1 min, with jitter, reset after an hour without failure). A strategy is asked only about
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
  /// Restarts forever (Flink's exponential-delay strategy): the backoff starts at `initial`,
  /// grows by `multiplier` at every failure up to `max`, and starts over at `initial` after a
  /// quiet period of `reset_after` (plus the current backoff) without failure. Each delay is
  /// the backoff plus a random `jitter` share of it either way (0.1: +-10%), at most `max`,
  /// so jobs that fail together do not restart together.
  static RestartStrategy ExponentialDelay(Millis initial, Millis max, double multiplier,
                                          Millis reset_after = std::chrono::hours(1),
                                          double jitter = 0.1) {
    RestartStrategy s(Kind::kExponentialDelay);
    s.initial_ = initial;
    s.max_ = max;
    s.multiplier_ = multiplier;
    s.reset_after_ = reset_after;
    s.jitter_ = jitter;
    return s;
  }
  /// Flink 2's default with checkpointing, and sluice's: ExponentialDelay(1 s, 1 min, 1.5,
  /// 1 h, 0.1).
  static RestartStrategy ExponentialDelay() {
    return ExponentialDelay(std::chrono::seconds(1), std::chrono::minutes(1), 1.5,
                            std::chrono::hours(1), 0.1);
  }

  enum class Kind { kNone, kFixedDelay, kExponentialDelay };
  Kind kind() const { return kind_; }
  int32_t attempts() const { return attempts_; }
  Millis initial_delay() const { return initial_; }
  Millis max_delay() const { return max_; }
  double multiplier() const { return multiplier_; }
  Millis reset_after() const { return reset_after_; }
  double jitter() const { return jitter_; }

 private:
  explicit RestartStrategy(Kind kind) : kind_(kind) {}
  Kind kind_;
  int32_t attempts_ = 0;
  Millis initial_{0};
  Millis max_{0};
  double multiplier_ = 2.0;
  Millis reset_after_{0};
  double jitter_ = 0.0;
};

}  // namespace sluice
