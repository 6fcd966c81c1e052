// What flows between operators: records and the control elements that travel in line with
// them (watermarks, watermark status, checkpoint barriers, end of input).
#pragma once

#include <cstdint>
#include <utility>
#include <variant>
#include <vector>

#include <sluice/api/time.h>

namespace sluice::detail {

template <typename T>
struct StreamRecord {
  T value;
  int64_t timestamp = kNoTimestamp;
};

struct Watermark {
  int64_t timestamp;
};

/// Idle inputs do not hold back the minimum watermark downstream (Flink's WatermarkStatus).
struct WatermarkStatus {
  bool idle;
};

struct CheckpointBarrier {
  int64_t checkpoint_id;
  int64_t timestamp;
  bool is_savepoint = false;
};

/// The channel's producer has finished: no element follows on this channel.
struct EndOfInput {};

template <typename T>
using StreamElement =
    std::variant<StreamRecord<T>, Watermark, WatermarkStatus, CheckpointBarrier, EndOfInput>;

/// Elements travel between tasks in batches to amortise synchronisation.
template <typename T>
using Batch = std::vector<StreamElement<T>>;

}  // namespace sluice::detail
