// An optional interface for SourceReaders that generate watermarks themselves, one generator
// per split (the Kafka source: one per partition, merged by the minimum over active ones), as
// Flink's SourceOperator lets split-aware readers do.
//
// When the reader made by Source::CreateReader also implements WatermarkingSourceReader<T>,
// the source operator (ReaderSourceOperator) calls SetWatermarkStrategy once before the
// reader's Open and then leaves event time to the reader: it neither applies the timestamp
// assigner nor runs a generator of its own, and calls EmitPeriodicWatermark every
// auto-watermark interval (only when the strategy generates watermarks). Records the reader
// emits carry their final event timestamp.
//
// Threads: every call on the reader's task thread.
#pragma once

#include <sluice/api/source.h>
#include <sluice/api/watermark_strategy.h>

namespace sluice::detail {

template <typename T>
class WatermarkingSourceReader {
 public:
  virtual ~WatermarkingSourceReader() = default;
  virtual void SetWatermarkStrategy(const WatermarkStrategy<T>& strategy) = 0;
  /// Emits the merged watermark (or idle status) through `output` when it changed.
  virtual void EmitPeriodicWatermark(ReaderOutput<T>& output) = 0;
};

}  // namespace sluice::detail
