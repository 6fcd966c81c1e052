// Time in sluice: event timestamps and watermarks are milliseconds since the Unix epoch, as
// in Flink and Kafka.
#pragma once

#include <cstdint>
#include <limits>

namespace sluice {

/// "This record has no event timestamp" (Flink's Long.MIN_VALUE for records without one).
inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();
/// The watermark that ends event time: emitted at the end of every bounded input.
inline constexpr int64_t kMaxWatermark = std::numeric_limits<int64_t>::max();
/// The watermark before any watermark was seen.
inline constexpr int64_t kMinWatermark = std::numeric_limits<int64_t>::min();

/// Wall-clock milliseconds since the epoch: processing time.
int64_t CurrentTimeMillis() noexcept;

}  // namespace sluice
