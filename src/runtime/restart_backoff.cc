#include "runtime/restart_backoff.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace sluice::internal {

using std::chrono::milliseconds;

RestartBackoff::RestartBackoff(RestartStrategy strategy, Random random)
    : strategy_(strategy), random_(std::move(random)), current_(strategy.initial_delay()) {
  if (!random_) {
    random_ = [engine = std::mt19937_64(std::random_device{}())]() mutable {
      return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
    };
  }
}

std::optional<milliseconds> RestartBackoff::OnFailure(Clock::TimePoint now) {
  switch (strategy_.kind()) {
    case RestartStrategy::Kind::kNone:
      return std::nullopt;
    case RestartStrategy::Kind::kFixedDelay:
      if (restarts_ >= strategy_.attempts()) return std::nullopt;
      ++restarts_;
      return strategy_.initial_delay();
    case RestartStrategy::Kind::kExponentialDelay: {
      const milliseconds initial = strategy_.initial_delay();
      const milliseconds max = std::max(strategy_.max_delay(), initial);
      // As Flink: quiet for the reset threshold plus the backoff just waited means the failures
      // are not a streak; the first failure starts at the initial backoff too.
      if (!last_failure_ || now - *last_failure_ >= strategy_.reset_after() + current_) {
        current_ = initial;
      } else if (current_ < max) {
        const double grown = static_cast<double>(current_.count()) * strategy_.multiplier();
        current_ =
            milliseconds(static_cast<int64_t>(std::min(grown, static_cast<double>(max.count()))));
        current_ = std::max(current_, initial);
      }
      last_failure_ = now;
      ++restarts_;
      const double spread = static_cast<double>(current_.count()) * strategy_.jitter();
      const double jitter = spread * (2.0 * random_() - 1.0);  // in [-spread, +spread)
      const double delay = std::clamp(static_cast<double>(current_.count()) + jitter, 0.0,
                                      static_cast<double>(max.count()));
      return milliseconds(std::llround(delay));
    }
  }
  return std::nullopt;
}

}  // namespace sluice::internal
