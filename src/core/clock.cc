#include "core/clock.h"

namespace sluice::internal {
namespace {

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }

  int64_t WallTimeMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
                 std::optional<TimePoint> deadline) override {
    if (deadline) {
      cv.wait_until(lock, *deadline);
    } else {
      cv.wait(lock);
    }
  }
};

}  // namespace

Clock& Clock::System() {
  // Never destroyed: threads still running at exit may use it.
  static SystemClock* clock = new SystemClock();
  return *clock;
}

}  // namespace sluice::internal
