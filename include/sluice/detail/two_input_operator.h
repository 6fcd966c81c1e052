// Operators with two inputs (Flink's TwoInputStreamOperator): ConnectedStreams' Map, FlatMap and
// Process, and the broadcast operators. Implementation detail of the DataStream API (templates
// instantiated in user code need it); not a stable interface.
//
// How watermarks reach them: the runtime merges the channels of each input on its own (one
// watermark valve per input, src/runtime/network_input.cc) and hands each input's watermark and
// idleness to ProcessInputWatermark / ProcessInputWatermarkStatus with the input's index
// (Flink's processWatermark1/2 and processWatermarkStatus1/2). The
// operator combines the two (CombinedWatermark: the minimum over the inputs that are not idle)
// and calls its own ProcessWatermark / ProcessWatermarkStatus with the combined values only when
// they change; those are what an operator overrides (to fire timers, say), and by default they
// forward downstream. Records arrive by ProcessElement1 / ProcessElement2.
//
// Threads: every method runs on the task thread of the operator instance.
// Lifecycle: as every StreamOperator (operator.h). A two-input operator is always the head of
// its task: it is never chained to an upstream operator.
#pragma once

#include <cstddef>
#include <cstdint>

#include <sluice/detail/combined_watermark.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/stream_element.h>

namespace sluice::detail {

/// The untyped side of an operator with two inputs: per-input watermarks and status, combined.
class TwoInputStreamOperator : public StreamOperator {
 public:
  /// Input `input` (0 or 1) reached `watermark`.
  void ProcessInputWatermark(std::size_t input, Watermark watermark) {
    const bool was_idle = combined_.idle();
    const bool advanced = combined_.UpdateWatermark(input, watermark.timestamp);
    // Active again before the watermark that made it so, so downstream never sees a watermark
    // from an operator it takes to be idle.
    if (was_idle && !combined_.idle()) ProcessWatermarkStatus(WatermarkStatus{false});
    if (advanced) ProcessWatermark(Watermark{combined_.watermark()});
  }
  /// Input `input` (0 or 1) became idle or active.
  void ProcessInputWatermarkStatus(std::size_t input, WatermarkStatus status) {
    const bool was_idle = combined_.idle();
    const bool advanced = combined_.UpdateStatus(input, status.idle);
    if (was_idle && !combined_.idle()) ProcessWatermarkStatus(WatermarkStatus{false});
    if (advanced) ProcessWatermark(Watermark{combined_.watermark()});
    if (!was_idle && combined_.idle()) ProcessWatermarkStatus(WatermarkStatus{true});
  }

  /// The combined watermark (kMinWatermark until every input that is not idle has one).
  int64_t combined_watermark() const { return combined_.watermark(); }

 private:
  CombinedWatermark combined_{2};
};

/// The typed entries of an operator with two inputs.
template <typename In1, typename In2>
class TwoInput {
 public:
  virtual ~TwoInput() = default;
  virtual void ProcessElement1(StreamRecord<In1>&& record) = 0;
  virtual void ProcessElement2(StreamRecord<In2>&& record) = 0;
};

/// An operator with two inputs and one output type; forwards the combined watermark and status
/// by default.
template <typename In1, typename In2, typename Out>
class TwoInputOperator : public TwoInputStreamOperator,
                         public TwoInput<In1, In2>,
                         public HasOutput<Out> {
 public:
  void ProcessWatermark(Watermark watermark) override { this->output_->EmitWatermark(watermark); }
  void ProcessWatermarkStatus(WatermarkStatus status) override {
    this->output_->EmitWatermarkStatus(status);
  }
};

}  // namespace sluice::detail
