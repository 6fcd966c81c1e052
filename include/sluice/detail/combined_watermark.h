// The watermark of an operator with several inputs (Flink's IndexedCombinedWatermarkStatus):
// each input's own watermark and idleness, as the runtime merged them over that input's
// channels, combined into the operator's. Implementation detail of the two-input operators
// (two_input_operator.h); pure logic, no threads.
//
// Rules, as Flink's CombinedWatermarkStatus:
//   - the combined watermark is the minimum over the inputs that are not idle; it never goes
//     back (an input that becomes active again behind it holds it where it is until it catches
//     up);
//   - when every input is idle, the operator is idle, and the combined watermark stays where it
//     was (Flink does not release the idle inputs' watermarks across inputs: only the channels
//     of one input do that, in the runtime's valve);
//   - a watermark on an idle input makes it active again (Flink's PartialWatermark);
//   - before any input has a watermark, the combined one is kMinWatermark and not idle.
//
// Thread safety: none; the task thread of the operator instance that owns it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <sluice/api/time.h>

namespace sluice::detail {

class CombinedWatermark {
 public:
  explicit CombinedWatermark(std::size_t inputs) : inputs_(inputs) {}

  /// Input `index` reached `watermark` (and is active). True when the combined watermark
  /// advanced.
  bool UpdateWatermark(std::size_t index, int64_t watermark) {
    Input& input = inputs_.at(index);
    input.idle = false;
    input.watermark = std::max(input.watermark, watermark);
    return Recompute();
  }
  /// Input `index` became idle (true) or active (false). True when the combined watermark
  /// advanced (an idle input no longer holds it back).
  bool UpdateStatus(std::size_t index, bool idle) {
    inputs_.at(index).idle = idle;
    return Recompute();
  }

  int64_t watermark() const { return combined_; }
  /// Every input is idle.
  bool idle() const { return idle_; }
  /// Input `index`'s own watermark (kMinWatermark before its first).
  int64_t input_watermark(std::size_t index) const { return inputs_.at(index).watermark; }

 private:
  struct Input {
    int64_t watermark = kMinWatermark;
    bool idle = false;
  };

  bool Recompute() {
    bool all_idle = true;
    int64_t minimum = kMaxWatermark;
    for (const Input& input : inputs_) {
      if (input.idle) continue;
      all_idle = false;
      minimum = std::min(minimum, input.watermark);
    }
    idle_ = all_idle;
    if (all_idle || minimum <= combined_) return false;
    combined_ = minimum;
    return true;
  }

  std::vector<Input> inputs_;
  int64_t combined_ = kMinWatermark;
  bool idle_ = false;
};

}  // namespace sluice::detail
