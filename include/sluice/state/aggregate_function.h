// AggregateFunction (Flink's AggregateFunction): incremental aggregation with an accumulator,
// used by AggregatingState and by windows (WindowedStream::Aggregate).
//
// Thread safety: none needed; each parallel instance uses its own copy (windows) or the one its
// state descriptor holds (AggregatingState), on its task thread only.
// Errors: whatever the job's functions throw fails the task (and goes through the restart
// strategy); the state keeps its accumulator as it was before the failed call.
#pragma once

namespace sluice {

/// The accumulator is kept per key (per key and window, in windows) and needs a TypeSerializer;
/// each element is added as it arrives, and GetResult runs when the result is read (a window
/// fires, AggregatingState::Get). Merge combines the accumulators of merged windows (sessions).
/// Derive from it.
template <typename In, typename Acc, typename Out>
class AggregateFunction {
 public:
  using input_type = In;
  using accumulator_type = Acc;
  using output_type = Out;
  virtual ~AggregateFunction() = default;
  virtual Acc CreateAccumulator() = 0;
  /// Adds `value` to `accumulator` and returns the result (which may be `accumulator` itself).
  virtual Acc Add(const In& value, Acc accumulator) = 0;
  virtual Out GetResult(const Acc& accumulator) = 0;
  virtual Acc Merge(Acc a, Acc b) = 0;
};

}  // namespace sluice
