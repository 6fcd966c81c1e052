// Event time: how records get their timestamps and how watermarks are generated
// (Flink's WatermarkStrategy).
//
// Thread safety: a strategy is an immutable value; each parallel instance (and, in the Kafka
// source, each partition) gets its own generator from CreateGenerator().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <sluice/api/time.h>

namespace sluice {

class WatermarkOutput {
 public:
  virtual ~WatermarkOutput() = default;
  virtual void EmitWatermark(int64_t timestamp) = 0;
  virtual void MarkIdle() = 0;
  virtual void MarkActive() = 0;
};

/// Called for every record and periodically (every auto-watermark interval, 200 ms default).
/// A periodic generator emits in OnPeriodicEmit; a punctuated one (a watermark carried by
/// certain records) emits in OnEvent, which runs after its record went downstream, as in Flink,
/// so a watermark equal to the record's timestamp does not make that record late. Emitting a
/// watermark not above the last one does nothing.
class WatermarkGenerator {
 public:
  virtual ~WatermarkGenerator() = default;
  virtual void OnEvent(int64_t event_timestamp, WatermarkOutput& output) = 0;
  virtual void OnPeriodicEmit(WatermarkOutput& output) = 0;
};

/// Watermark = highest timestamp seen - bound - 1 (Flink's BoundedOutOfOrdernessWatermarks).
std::unique_ptr<WatermarkGenerator> MakeBoundedOutOfOrdernessGenerator(
    std::chrono::milliseconds bound);
/// Marks the output idle when no record arrived for `timeout` of processing time.
std::unique_ptr<WatermarkGenerator> MakeIdlenessGenerator(std::unique_ptr<WatermarkGenerator> inner,
                                                          std::chrono::milliseconds timeout,
                                                          std::function<int64_t()> clock);

template <typename T>
class WatermarkStrategy {
 public:
  /// Returns the event timestamp of an element; `record_timestamp` is what the source attached
  /// (the Kafka record timestamp, for the Kafka source), or kNoTimestamp.
  using TimestampAssigner = std::function<int64_t(const T& element, int64_t record_timestamp)>;

  /// No watermarks at all (records keep the timestamps their source gave them).
  static WatermarkStrategy NoWatermarks() { return WatermarkStrategy(Kind::kNone, {}); }
  /// Timestamps only ever increase: watermark = highest timestamp - 1.
  static WatermarkStrategy ForMonotonousTimestamps() {
    return WatermarkStrategy(Kind::kBounded, {});
  }
  /// Records may be up to `bound` late.
  static WatermarkStrategy ForBoundedOutOfOrderness(std::chrono::milliseconds bound) {
    return WatermarkStrategy(Kind::kBounded, bound);
  }
  /// Watermarks from a generator of the job's own (Flink's WatermarkStrategy.forGenerator):
  /// `supplier` is called once per parallel instance (and, in the Kafka source, per partition)
  /// and must return a new generator each time, never null (std::invalid_argument when it is,
  /// at CreateGenerator). A supplier that is empty throws std::invalid_argument here.
  using GeneratorSupplier = std::function<std::unique_ptr<WatermarkGenerator>()>;
  static WatermarkStrategy ForGenerator(GeneratorSupplier supplier) {
    if (!supplier) throw std::invalid_argument("WatermarkStrategy::ForGenerator: empty supplier");
    WatermarkStrategy strategy(Kind::kCustom, {});
    strategy.supplier_ = std::move(supplier);
    return strategy;
  }

  WatermarkStrategy WithTimestampAssigner(TimestampAssigner assigner) const {
    WatermarkStrategy copy = *this;
    copy.assigner_ = std::move(assigner);
    return copy;
  }
  /// An input without records for `timeout` stops holding back downstream watermarks.
  WatermarkStrategy WithIdleness(std::chrono::milliseconds timeout) const {
    WatermarkStrategy copy = *this;
    copy.idle_timeout_ = timeout;
    return copy;
  }

  // ---- used by the runtime and by sources ----
  bool GeneratesWatermarks() const { return kind_ != Kind::kNone; }
  const TimestampAssigner& timestamp_assigner() const { return assigner_; }
  std::optional<std::chrono::milliseconds> idle_timeout() const { return idle_timeout_; }
  /// A generator, or null for NoWatermarks(). `clock` gives processing time for idleness.
  std::unique_ptr<WatermarkGenerator> CreateGenerator(
      std::function<int64_t()> clock = &CurrentTimeMillis) const {
    if (kind_ == Kind::kNone) return nullptr;
    std::unique_ptr<WatermarkGenerator> generator;
    if (kind_ == Kind::kCustom) {
      generator = supplier_();
      if (generator == nullptr)
        throw std::invalid_argument(
            "WatermarkStrategy::ForGenerator: the supplier returned no generator");
    } else {
      generator = MakeBoundedOutOfOrdernessGenerator(bound_);
    }
    if (idle_timeout_)
      generator = MakeIdlenessGenerator(std::move(generator), *idle_timeout_, std::move(clock));
    return generator;
  }

 private:
  enum class Kind { kNone, kBounded, kCustom };
  WatermarkStrategy(Kind kind, std::chrono::milliseconds bound) : kind_(kind), bound_(bound) {}

  Kind kind_;
  std::chrono::milliseconds bound_{0};
  TimestampAssigner assigner_;
  GeneratorSupplier supplier_;
  std::optional<std::chrono::milliseconds> idle_timeout_;
};

}  // namespace sluice
