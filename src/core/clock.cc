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

  void WaitUntil(CondVar& cv, Mutex& mutex, std::optional<TimePoint> deadline) override
      SLUICE_REQUIRES(mutex) {
    if (deadline) {
      cv.WaitUntil(mutex, *deadline);
    } else {
      cv.Wait(mutex);
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
