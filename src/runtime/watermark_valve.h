// Merges the watermarks and watermark statuses of a task's input channels into the task's
// own: the minimum over the active channels, ignoring idle ones and ended ones (Flink's
// StatusWatermarkValve). Pure logic, no threads: the task thread calls it element by element.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace sluice::internal {

class WatermarkValve {
 public:
  /// What the task must forward downstream after an input event, if anything.
  struct Output {
    std::optional<int64_t> watermark;
    std::optional<bool> idle;  // a change of the task's own status
  };

  explicit WatermarkValve(int num_channels);

  Output OnWatermark(int channel, int64_t timestamp);
  Output OnStatus(int channel, bool idle);
  /// An ended channel no longer holds the watermark back.
  Output OnEndOfInput(int channel);

  int64_t last_output() const { return last_output_; }
  bool idle() const { return idle_; }

 private:
  struct ChannelState {
    int64_t watermark;
    bool idle = false;
    bool ended = false;
    // A channel that became active again with a watermark behind the output does not count
    // until it catches up, so the output never goes backwards.
    bool aligned = true;
  };

  Output Recompute();
  bool AllInactive() const;

  std::vector<ChannelState> channels_;
  int64_t last_output_;
  bool idle_ = false;
};

}  // namespace sluice::internal
