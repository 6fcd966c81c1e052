// One WatermarkGenerator per Kafka partition inside a reader, merged into the reader's single
// watermark: the minimum over partitions that are neither idle nor finished (Flink's
// per-split watermarks, plus sluice's default idleness).
//
// A partition is idle after `idle_timeout_ms` of processing time without a record, as seen by
// the periodic emissions (a record counts as arriving at the first emission after it, so a
// partition turns idle up to one emission period late, never early) (or when
// its own generator, e.g. a WithIdleness one, marks it idle); its next record makes it active
// again. A finished partition (a bounded one that reached its stopping offset) never holds
// the watermark back again. When no partition is active (or the reader has none) the reader's
// output is marked idle; the merged watermark never goes backwards.
//
// Threads: one owner thread (the reader's); not thread-safe. Pure apart from the clock, so it
// is unit-tested with a fake one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <sluice/api/time.h>
#include <sluice/api/watermark_strategy.h>

namespace sluice::kafka::internal {

class PartitionWatermarks {
 public:
  using GeneratorFactory = std::function<std::unique_ptr<WatermarkGenerator>()>;

  /// `idle_timeout_ms` <= 0: partitions never become idle by timeout.
  PartitionWatermarks(GeneratorFactory factory, int64_t idle_timeout_ms,
                      std::function<int64_t()> clock);

  /// A new partition; returns its slot. It starts active, with no watermark yet.
  size_t AddPartition();
  /// The partition will never hold the watermark back again.
  void FinishPartition(size_t slot);
  /// A record of partition `slot` arrived (whether or not it deserialised): active again.
  void OnRecord(size_t slot);
  /// An emitted value of partition `slot` with this event timestamp (after the assigner).
  void OnEvent(size_t slot, int64_t timestamp);
  /// Runs every generator's periodic emission, applies idleness, and emits the merged
  /// watermark when it advanced. The status goes to `output` every time (MarkIdle when no
  /// partition is active, else MarkActive); the output drops repeats.
  void OnPeriodicEmit(WatermarkOutput& output);

  /// The last merged watermark emitted (kMinWatermark before the first).
  int64_t current_watermark() const { return emitted_; }

 private:
  // What one partition's generator emitted.
  struct Slot final : WatermarkOutput {
    std::unique_ptr<WatermarkGenerator> generator;
    int64_t watermark = kMinWatermark;
    int64_t last_record_ms = 0;
    bool record_since_emit = false;
    bool generator_idle = false;  // the generator itself said idle
    bool timed_out = false;       // no record for the idle timeout
    bool finished = false;
    void EmitWatermark(int64_t timestamp) override {
      if (timestamp > watermark) watermark = timestamp;
      generator_idle = false;
    }
    void MarkIdle() override { generator_idle = true; }
    void MarkActive() override { generator_idle = false; }
    bool Active() const { return !finished && !generator_idle && !timed_out; }
  };

  GeneratorFactory factory_;
  int64_t idle_timeout_ms_;
  std::function<int64_t()> clock_;
  std::vector<std::unique_ptr<Slot>> slots_;
  int64_t emitted_ = kMinWatermark;
};

}  // namespace sluice::kafka::internal
