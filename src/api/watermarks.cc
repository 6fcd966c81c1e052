#include <sluice/api/watermark_strategy.h>

#include <algorithm>
#include <chrono>

namespace sluice {

int64_t CurrentTimeMillis() noexcept {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

class BoundedOutOfOrdernessGenerator final : public WatermarkGenerator {
 public:
  explicit BoundedOutOfOrdernessGenerator(std::chrono::milliseconds bound)
      : bound_(bound.count()) {}

  void OnEvent(int64_t event_timestamp, WatermarkOutput&) override {
    if (event_timestamp != kNoTimestamp) max_timestamp_ = std::max(max_timestamp_, event_timestamp);
  }

  void OnPeriodicEmit(WatermarkOutput& output) override {
    // Nothing seen yet: emitting kMinWatermark would say nothing, so stay silent.
    if (max_timestamp_ == kMinWatermark) return;
    output.EmitWatermark(max_timestamp_ - bound_ - 1);
  }

 private:
  int64_t bound_;
  int64_t max_timestamp_ = kMinWatermark;
};

class IdlenessGenerator final : public WatermarkGenerator {
 public:
  IdlenessGenerator(std::unique_ptr<WatermarkGenerator> inner, std::chrono::milliseconds timeout,
                    std::function<int64_t()> clock)
      : inner_(std::move(inner)),
        timeout_(timeout.count()),
        clock_(std::move(clock)),
        last_activity_(clock_()) {}

  void OnEvent(int64_t event_timestamp, WatermarkOutput& output) override {
    last_activity_ = clock_();
    if (idle_) {
      idle_ = false;
      output.MarkActive();
    }
    inner_->OnEvent(event_timestamp, output);
  }

  void OnPeriodicEmit(WatermarkOutput& output) override {
    if (idle_) return;
    if (clock_() - last_activity_ >= timeout_) {
      idle_ = true;
      output.MarkIdle();
      return;
    }
    inner_->OnPeriodicEmit(output);
  }

 private:
  std::unique_ptr<WatermarkGenerator> inner_;
  int64_t timeout_;
  std::function<int64_t()> clock_;
  int64_t last_activity_;
  bool idle_ = false;
};

}  // namespace

std::unique_ptr<WatermarkGenerator> MakeBoundedOutOfOrdernessGenerator(
    std::chrono::milliseconds bound) {
  return std::make_unique<BoundedOutOfOrdernessGenerator>(bound);
}

std::unique_ptr<WatermarkGenerator> MakeIdlenessGenerator(std::unique_ptr<WatermarkGenerator> inner,
                                                          std::chrono::milliseconds timeout,
                                                          std::function<int64_t()> clock) {
  return std::make_unique<IdlenessGenerator>(std::move(inner), timeout, std::move(clock));
}

}  // namespace sluice
