#include "runtime/watermark_valve.h"

#include <algorithm>

#include <sluice/api/time.h>

namespace sluice::internal {

WatermarkValve::WatermarkValve(int num_channels)
    : channels_(static_cast<size_t>(num_channels), ChannelState{kMinWatermark}),
      last_output_(kMinWatermark) {}

bool WatermarkValve::AllInactive() const {
  return std::all_of(channels_.begin(), channels_.end(),
                     [](const ChannelState& c) { return c.idle || c.ended; });
}

WatermarkValve::Output WatermarkValve::Recompute() {
  Output out;
  bool any = false;
  int64_t min = kMaxWatermark;
  for (const ChannelState& c : channels_) {
    if (c.idle || c.ended || !c.aligned) continue;
    any = true;
    min = std::min(min, c.watermark);
  }
  if (any && min > last_output_) {
    last_output_ = min;
    out.watermark = min;
  }
  return out;
}

WatermarkValve::Output WatermarkValve::OnWatermark(int channel, int64_t timestamp) {
  ChannelState& c = channels_[static_cast<size_t>(channel)];
  if (c.ended || timestamp <= c.watermark) return {};
  c.watermark = timestamp;
  if (!c.aligned && c.watermark >= last_output_) c.aligned = true;
  if (c.idle) return {};  // counted when the channel becomes active again
  return Recompute();
}

WatermarkValve::Output WatermarkValve::OnStatus(int channel, bool idle) {
  ChannelState& c = channels_[static_cast<size_t>(channel)];
  if (c.ended || c.idle == idle) return {};
  c.idle = idle;
  Output out;
  if (idle) {
    if (AllInactive()) {
      // Everything went idle: release what the remaining channels had reached, then go idle.
      int64_t max = kMinWatermark;
      for (const ChannelState& ch : channels_) {
        if (!ch.ended) max = std::max(max, ch.watermark);
      }
      if (max > last_output_) {
        last_output_ = max;
        out.watermark = max;
      }
      if (!idle_) {
        idle_ = true;
        out.idle = true;
      }
    } else {
      out = Recompute();
    }
  } else {
    c.aligned = c.watermark >= last_output_;
    if (idle_) {
      idle_ = false;
      out.idle = false;
    }
    Output more = Recompute();
    out.watermark = more.watermark;
  }
  return out;
}

WatermarkValve::Output WatermarkValve::OnEndOfInput(int channel) {
  ChannelState& c = channels_[static_cast<size_t>(channel)];
  if (c.ended) return {};
  c.ended = true;
  return Recompute();
}

}  // namespace sluice::internal
