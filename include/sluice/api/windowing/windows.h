// The windows elements are grouped into (Flink's TimeWindow and GlobalWindow).
//
// A TimeWindow is the half-open interval [start, end) of event or processing time in
// milliseconds; its last timestamp (MaxTimestamp) is end - 1, and it is the timestamp of the
// window's results. The GlobalWindow is the one window of GlobalWindows: it never ends
// (MaxTimestamp is kMaxWatermark), so only a trigger (CountTrigger, ...) fires it.
//
// Both are values: cheap to copy, ordered (by start, then end), and serializable (they are part
// of the keys under which window state is stored; see their TypeSerializers below).
//
// Thread safety: immutable values. Errors: none.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>

#include <sluice/state/type_serializer.h>

namespace sluice {

class TimeWindow {
 public:
  TimeWindow() = default;
  TimeWindow(int64_t start, int64_t end) : start_(start), end_(end) {}

  int64_t Start() const { return start_; }
  int64_t End() const { return end_; }
  /// The largest timestamp still in the window: End() - 1.
  int64_t MaxTimestamp() const { return end_ - 1; }

  /// True if the windows overlap or touch ([0, 5) and [5, 10) do), as Flink's
  /// TimeWindow.intersects: what session windows merge.
  bool Intersects(const TimeWindow& other) const {
    return start_ <= other.end_ && end_ >= other.start_;
  }
  /// The smallest window covering both.
  TimeWindow Cover(const TimeWindow& other) const {
    return TimeWindow(std::min(start_, other.start_), std::max(end_, other.end_));
  }

  /// The start of the window of length `window_size` that `timestamp` falls in, for windows
  /// aligned to `offset` (Flink's TimeWindow.getWindowStartWithOffset): the largest start
  /// <= timestamp with (start - offset) a multiple of window_size, also for negative
  /// timestamps (-1 with size 10 is in [-10, 0)).
  static int64_t GetWindowStartWithOffset(int64_t timestamp, int64_t offset, int64_t window_size) {
    const int64_t remainder = (timestamp - offset) % window_size;
    // C++'s % keeps the sign of the dividend, as Java's does.
    return remainder < 0 ? timestamp - (remainder + window_size) : timestamp - remainder;
  }

  friend auto operator<=>(const TimeWindow&, const TimeWindow&) = default;
  friend bool operator==(const TimeWindow&, const TimeWindow&) = default;
  friend std::ostream& operator<<(std::ostream& os, const TimeWindow& w) {
    return os << "TimeWindow{start=" << w.start_ << ", end=" << w.end_ << "}";
  }

 private:
  int64_t start_ = 0;
  int64_t end_ = 0;
};

/// The single window of GlobalWindows::Create().
class GlobalWindow {
 public:
  static GlobalWindow Get() { return GlobalWindow(); }
  int64_t MaxTimestamp() const { return std::numeric_limits<int64_t>::max(); }

  friend auto operator<=>(const GlobalWindow&, const GlobalWindow&) = default;
  friend bool operator==(const GlobalWindow&, const GlobalWindow&) = default;
  friend std::ostream& operator<<(std::ostream& os, const GlobalWindow&) {
    return os << "GlobalWindow";
  }
};

// Windows are written into the keys of window state and timers (after the record key), so their
// bytes are versioned: version 1 is below; a later layout adds a version and still reads 1.
template <>
struct TypeSerializer<TimeWindow> {
  /// 1: varint-i64 start (zigzag), varint-i64 end.
  static constexpr std::uint32_t kVersion = 1;
  static std::string TypeName() { return "sluice.TimeWindow"; }
  static void Serialize(const TimeWindow& window, DataOutput& out) {
    out.WriteVarI64(window.Start());
    out.WriteVarI64(window.End());
  }
  static TimeWindow Deserialize(DataInput& in, std::uint32_t) {
    const int64_t start = in.ReadVarI64();
    const int64_t end = in.ReadVarI64();
    return TimeWindow(start, end);
  }
};

template <>
struct TypeSerializer<GlobalWindow> {
  /// 1: no bytes (the version alone).
  static constexpr std::uint32_t kVersion = 1;
  static std::string TypeName() { return "sluice.GlobalWindow"; }
  static void Serialize(const GlobalWindow&, DataOutput&) {}
  static GlobalWindow Deserialize(DataInput&, std::uint32_t) { return GlobalWindow(); }
};

}  // namespace sluice
