// Evictors: remove elements from a window's contents before and/or after its function runs
// (Flink's Evictor, CountEvictor, TimeEvictor).
//
//   stream.KeyBy(key).Window(GlobalWindows::Create())
//       .Evictor(CountEvictor::Of(100))         // keep the last 100
//       .Trigger(CountTrigger::Of(10))          // fire every 10
//
// A window with an evictor keeps every element (with its timestamp) until it fires, also for
// Reduce and Aggregate, which then fold the remaining elements when the window fires (as in
// Flink). An evictor is any copyable class with EvictBefore / EvictAfter as below; derive from
// Evictor<T, W> to write your own.
//
// Thread safety: called only on the task thread of its operator instance.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <sluice/api/time.h>

namespace sluice {

/// An element of a window with its timestamp (kNoTimestamp when it has none).
template <typename T>
struct TimestampedValue {
  T value;
  int64_t timestamp = kNoTimestamp;
  bool HasTimestamp() const { return timestamp != kNoTimestamp; }
};

/// The clocks, for evictors that evict by time.
class EvictorContext {
 public:
  virtual ~EvictorContext() = default;
  virtual int64_t GetCurrentProcessingTime() const = 0;
  virtual int64_t GetCurrentWatermark() const = 0;
};

/// The interface of an evictor, for writing your own. `elements` are the window's contents in
/// arrival order; erase what is to be evicted. `size` is their number.
template <typename T, typename W>
class Evictor {
 public:
  virtual ~Evictor() = default;
  virtual void EvictBefore(std::vector<TimestampedValue<T>>& elements, int size, const W& window,
                           const EvictorContext& ctx) = 0;
  virtual void EvictAfter(std::vector<TimestampedValue<T>>& elements, int size, const W& window,
                          const EvictorContext& ctx) = 0;
};

/// Keeps at most `max_count` elements: evicts the oldest (first) ones, before the function runs
/// (or after it, with do_evict_after).
class CountEvictor {
 public:
  /// std::invalid_argument unless max_count >= 0.
  static CountEvictor Of(int64_t max_count, bool do_evict_after = false) {
    if (max_count < 0) throw std::invalid_argument("CountEvictor::Of: the count must be >= 0");
    return CountEvictor(max_count, do_evict_after);
  }
  template <typename T, typename W>
  void EvictBefore(std::vector<TimestampedValue<T>>& elements, int size, const W&,
                   const EvictorContext&) const {
    if (!do_evict_after_) Evict(elements, size);
  }
  template <typename T, typename W>
  void EvictAfter(std::vector<TimestampedValue<T>>& elements, int size, const W&,
                  const EvictorContext&) const {
    if (do_evict_after_) Evict(elements, size);
  }

 private:
  CountEvictor(int64_t max_count, bool do_evict_after)
      : max_count_(max_count), do_evict_after_(do_evict_after) {}
  template <typename T>
  void Evict(std::vector<TimestampedValue<T>>& elements, int size) const {
    if (size <= max_count_) return;
    const auto evicted = static_cast<std::ptrdiff_t>(size - max_count_);
    elements.erase(elements.begin(),
                   elements.begin() + std::min<std::ptrdiff_t>(evicted, std::ssize(elements)));
  }
  int64_t max_count_;
  bool do_evict_after_;
};

/// Keeps the elements of the last `window_size` of event time: evicts every element whose
/// timestamp is at or before (the largest timestamp in the window - window_size). When the
/// elements carry no timestamps (the first one has none), nothing is evicted, as in Flink.
class TimeEvictor {
 public:
  /// std::invalid_argument unless window_size >= 0.
  static TimeEvictor Of(std::chrono::milliseconds window_size, bool do_evict_after = false) {
    if (window_size.count() < 0) {
      throw std::invalid_argument("TimeEvictor::Of: the window size must be >= 0");
    }
    return TimeEvictor(window_size.count(), do_evict_after);
  }
  template <typename T, typename W>
  void EvictBefore(std::vector<TimestampedValue<T>>& elements, int, const W&,
                   const EvictorContext&) const {
    if (!do_evict_after_) Evict(elements);
  }
  template <typename T, typename W>
  void EvictAfter(std::vector<TimestampedValue<T>>& elements, int, const W&,
                  const EvictorContext&) const {
    if (do_evict_after_) Evict(elements);
  }

 private:
  TimeEvictor(int64_t window_size, bool do_evict_after)
      : window_size_(window_size), do_evict_after_(do_evict_after) {}
  template <typename T>
  void Evict(std::vector<TimestampedValue<T>>& elements) const {
    // As Flink: the first element tells whether the elements carry timestamps.
    if (elements.empty() || !elements.front().HasTimestamp()) return;
    int64_t current = std::numeric_limits<int64_t>::min();
    for (const auto& element : elements) current = std::max(current, element.timestamp);
    const int64_t cutoff = current - window_size_;
    std::erase_if(elements, [&](const TimestampedValue<T>& e) { return e.timestamp <= cutoff; });
  }
  int64_t window_size_;
  bool do_evict_after_;
};

}  // namespace sluice
