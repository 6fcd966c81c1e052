// Window assigners: which windows an element belongs to, with Flink's names and exact window
// boundaries (start = the largest start <= timestamp aligned to the offset, also for negative
// timestamps; see TimeWindow::GetWindowStartWithOffset).
//
//   TumblingEventTimeWindows::Of(10s)            [0, 10s), [10s, 20s), ...
//   TumblingEventTimeWindows::Of(1h, 15min)      [0:15, 1:15), ...
//   SlidingEventTimeWindows::Of(10s, 5s)         every element in two windows
//   EventTimeSessionWindows::WithGap(30s)        merging: a session ends after 30 s of silence
//   EventTimeSessionWindows::WithDynamicGap(f)   the gap per element: f(element) in ms
//   TumblingProcessingTimeWindows / SlidingProcessingTimeWindows / ProcessingTimeSessionWindows
//   GlobalWindows::Create()                      one window per key; fires only by trigger
//
// An assigner is a copyable value with the members below (window_type, AssignWindows,
// GetDefaultTrigger, IsEventTime, and MergeWindows for merging ones); the window operator
// gets its own copy per parallel instance.
//
// Thread safety: assigners are immutable after construction.
// Errors: invalid sizes throw std::invalid_argument from Of/WithGap, with Flink's messages. An
// event-time assigner given an element without a timestamp fails the job with
// StatusException(kInvalidArgument) (no restart can help): assign timestamps first
// (AssignTimestampsAndWatermarks, or a source that sets them).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/api/time.h>
#include <sluice/api/windowing/triggers.h>
#include <sluice/api/windowing/windows.h>
#include <sluice/status.h>

namespace sluice {

/// What an assigner may ask of the runtime when it assigns windows.
class WindowAssignerContext {
 public:
  virtual ~WindowAssignerContext() = default;
  virtual int64_t GetCurrentProcessingTime() const = 0;
};

namespace detail {
[[noreturn]] inline void ThrowNoTimestamp() {
  throw StatusException(Status::InvalidArgument(
      "an element without a timestamp reached an event-time window assigner; did you forget to "
      "call AssignTimestampsAndWatermarks(...), or did you mean a processing-time assigner "
      "(TumblingProcessingTimeWindows, ...)?"));
}
/// TimeWindow::mergeWindows of Flink: sorts the windows by start, groups overlapping ones, and
/// calls `merge(group, cover)` for every group of more than one window (duplicates count once).
void MergeTimeWindows(std::vector<TimeWindow> windows,
                      const std::function<void(std::vector<TimeWindow>, TimeWindow)>& merge);
}  // namespace detail

/// Callback of a merging assigner's MergeWindows: `to_merge` become `result`.
using TimeWindowMergeCallback =
    std::function<void(std::vector<TimeWindow> to_merge, TimeWindow result)>;

class TumblingEventTimeWindows {
 public:
  using window_type = TimeWindow;
  /// std::invalid_argument unless |offset| < size (and size > 0).
  static TumblingEventTimeWindows Of(std::chrono::milliseconds size,
                                     std::chrono::milliseconds offset = {}) {
    if (size.count() <= 0 || std::abs(offset.count()) >= size.count()) {
      throw std::invalid_argument(
          "TumblingEventTimeWindows parameters must satisfy abs(offset) < size");
    }
    return TumblingEventTimeWindows(size.count(), offset.count());
  }
  template <typename T>
  void AssignWindows(const T&, int64_t timestamp, const WindowAssignerContext&,
                     std::vector<TimeWindow>& out) const {
    if (timestamp == kNoTimestamp) detail::ThrowNoTimestamp();
    const int64_t start = TimeWindow::GetWindowStartWithOffset(timestamp, offset_ % size_, size_);
    out.emplace_back(start, start + size_);
  }
  EventTimeTrigger GetDefaultTrigger() const { return EventTimeTrigger::Create(); }
  bool IsEventTime() const { return true; }
  int64_t size() const { return size_; }
  int64_t offset() const { return offset_; }

 private:
  TumblingEventTimeWindows(int64_t size, int64_t offset) : size_(size), offset_(offset) {}
  int64_t size_;
  int64_t offset_;
};

class SlidingEventTimeWindows {
 public:
  using window_type = TimeWindow;
  /// std::invalid_argument unless |offset| < slide and size > 0 (and slide > 0).
  static SlidingEventTimeWindows Of(std::chrono::milliseconds size, std::chrono::milliseconds slide,
                                    std::chrono::milliseconds offset = {}) {
    if (slide.count() <= 0 || std::abs(offset.count()) >= slide.count() || size.count() <= 0) {
      throw std::invalid_argument(
          "SlidingEventTimeWindows parameters must satisfy abs(offset) < slide and size > 0");
    }
    return SlidingEventTimeWindows(size.count(), slide.count(), offset.count());
  }
  /// The windows containing `timestamp`, the latest start first (as Flink).
  template <typename T>
  void AssignWindows(const T&, int64_t timestamp, const WindowAssignerContext&,
                     std::vector<TimeWindow>& out) const {
    if (timestamp == kNoTimestamp) detail::ThrowNoTimestamp();
    const int64_t last_start = TimeWindow::GetWindowStartWithOffset(timestamp, offset_, slide_);
    for (int64_t start = last_start; start > timestamp - size_; start -= slide_) {
      out.emplace_back(start, start + size_);
    }
  }
  EventTimeTrigger GetDefaultTrigger() const { return EventTimeTrigger::Create(); }
  bool IsEventTime() const { return true; }

 private:
  SlidingEventTimeWindows(int64_t size, int64_t slide, int64_t offset)
      : size_(size), slide_(slide), offset_(offset) {}
  int64_t size_;
  int64_t slide_;
  int64_t offset_;
};

/// Sessions in event time: each element opens [timestamp, timestamp + gap), and windows that
/// overlap or touch merge (Flink's MergingWindowAssigner).
class EventTimeSessionWindows {
 public:
  using window_type = TimeWindow;
  /// std::invalid_argument unless gap > 0.
  static EventTimeSessionWindows WithGap(std::chrono::milliseconds gap) {
    if (gap.count() <= 0) {
      throw std::invalid_argument("EventTimeSessionWindows parameters must satisfy 0 < size");
    }
    return EventTimeSessionWindows(gap.count());
  }
  /// The gap of each element's session, from `extractor(element)` (Flink's
  /// SessionWindowTimeGapExtractor); a gap <= 0 fails the job (std::invalid_argument).
  template <typename T, typename F>
  static auto WithDynamicGap(F extractor);

  template <typename T>
  void AssignWindows(const T&, int64_t timestamp, const WindowAssignerContext&,
                     std::vector<TimeWindow>& out) const {
    if (timestamp == kNoTimestamp) detail::ThrowNoTimestamp();
    out.emplace_back(timestamp, timestamp + gap_);
  }
  void MergeWindows(const std::vector<TimeWindow>& windows,
                    const TimeWindowMergeCallback& merge) const {
    detail::MergeTimeWindows(windows, merge);
  }
  EventTimeTrigger GetDefaultTrigger() const { return EventTimeTrigger::Create(); }
  bool IsEventTime() const { return true; }

 private:
  explicit EventTimeSessionWindows(int64_t gap) : gap_(gap) {}
  int64_t gap_;
};

/// EventTimeSessionWindows::WithDynamicGap<T>(extractor) and
/// ProcessingTimeSessionWindows::WithDynamicGap<T>(extractor): a session per element with the
/// gap extractor(element) (milliseconds: an integer or a std::chrono duration).
template <typename T, bool kEventTime>
class DynamicSessionWindows {
 public:
  using window_type = TimeWindow;
  explicit DynamicSessionWindows(std::function<int64_t(const T&)> extractor)
      : extractor_(std::move(extractor)) {}

  void AssignWindows(const T& element, int64_t timestamp, const WindowAssignerContext& ctx,
                     std::vector<TimeWindow>& out) const {
    const int64_t gap = extractor_(element);
    if (gap <= 0) throw std::invalid_argument("Dynamic session time gap must satisfy 0 < gap");
    if constexpr (kEventTime) {
      if (timestamp == kNoTimestamp) detail::ThrowNoTimestamp();
      out.emplace_back(timestamp, timestamp + gap);
    } else {
      const int64_t now = ctx.GetCurrentProcessingTime();
      out.emplace_back(now, now + gap);
    }
  }
  void MergeWindows(const std::vector<TimeWindow>& windows,
                    const TimeWindowMergeCallback& merge) const {
    detail::MergeTimeWindows(windows, merge);
  }
  auto GetDefaultTrigger() const {
    if constexpr (kEventTime) {
      return EventTimeTrigger::Create();
    } else {
      return ProcessingTimeTrigger::Create();
    }
  }
  bool IsEventTime() const { return kEventTime; }

 private:
  std::function<int64_t(const T&)> extractor_;
};

namespace detail {
template <typename T, typename F>
std::function<int64_t(const T&)> GapExtractor(F extractor) {
  return [extractor = std::move(extractor)](const T& element) -> int64_t {
    auto gap = extractor(element);
    if constexpr (requires { gap.count(); }) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(gap).count();
    } else {
      return static_cast<int64_t>(gap);
    }
  };
}
}  // namespace detail

template <typename T, typename F>
auto EventTimeSessionWindows::WithDynamicGap(F extractor) {
  return DynamicSessionWindows<T, true>(detail::GapExtractor<T>(std::move(extractor)));
}

class TumblingProcessingTimeWindows {
 public:
  using window_type = TimeWindow;
  /// std::invalid_argument unless |offset| < size (and size > 0).
  static TumblingProcessingTimeWindows Of(std::chrono::milliseconds size,
                                          std::chrono::milliseconds offset = {}) {
    if (size.count() <= 0 || std::abs(offset.count()) >= size.count()) {
      throw std::invalid_argument(
          "TumblingProcessingTimeWindows parameters must satisfy abs(offset) < size");
    }
    return TumblingProcessingTimeWindows(size.count(), offset.count());
  }
  template <typename T>
  void AssignWindows(const T&, int64_t, const WindowAssignerContext& ctx,
                     std::vector<TimeWindow>& out) const {
    const int64_t now = ctx.GetCurrentProcessingTime();
    const int64_t start = TimeWindow::GetWindowStartWithOffset(now, offset_ % size_, size_);
    out.emplace_back(start, start + size_);
  }
  ProcessingTimeTrigger GetDefaultTrigger() const { return ProcessingTimeTrigger::Create(); }
  bool IsEventTime() const { return false; }

 private:
  TumblingProcessingTimeWindows(int64_t size, int64_t offset) : size_(size), offset_(offset) {}
  int64_t size_;
  int64_t offset_;
};

class SlidingProcessingTimeWindows {
 public:
  using window_type = TimeWindow;
  /// std::invalid_argument unless |offset| < slide and size > 0 (and slide > 0).
  static SlidingProcessingTimeWindows Of(std::chrono::milliseconds size,
                                         std::chrono::milliseconds slide,
                                         std::chrono::milliseconds offset = {}) {
    if (slide.count() <= 0 || std::abs(offset.count()) >= slide.count() || size.count() <= 0) {
      throw std::invalid_argument(
          "SlidingProcessingTimeWindows parameters must satisfy abs(offset) < slide and size > 0");
    }
    return SlidingProcessingTimeWindows(size.count(), slide.count(), offset.count());
  }
  template <typename T>
  void AssignWindows(const T&, int64_t, const WindowAssignerContext& ctx,
                     std::vector<TimeWindow>& out) const {
    const int64_t now = ctx.GetCurrentProcessingTime();
    const int64_t last_start = TimeWindow::GetWindowStartWithOffset(now, offset_, slide_);
    for (int64_t start = last_start; start > now - size_; start -= slide_) {
      out.emplace_back(start, start + size_);
    }
  }
  ProcessingTimeTrigger GetDefaultTrigger() const { return ProcessingTimeTrigger::Create(); }
  bool IsEventTime() const { return false; }

 private:
  SlidingProcessingTimeWindows(int64_t size, int64_t slide, int64_t offset)
      : size_(size), slide_(slide), offset_(offset) {}
  int64_t size_;
  int64_t slide_;
  int64_t offset_;
};

/// Sessions in processing time: [now, now + gap), merging.
class ProcessingTimeSessionWindows {
 public:
  using window_type = TimeWindow;
  /// std::invalid_argument unless gap > 0.
  static ProcessingTimeSessionWindows WithGap(std::chrono::milliseconds gap) {
    if (gap.count() <= 0) {
      throw std::invalid_argument("ProcessingTimeSessionWindows parameters must satisfy 0 < size");
    }
    return ProcessingTimeSessionWindows(gap.count());
  }
  template <typename T, typename F>
  static auto WithDynamicGap(F extractor) {
    return DynamicSessionWindows<T, false>(detail::GapExtractor<T>(std::move(extractor)));
  }
  template <typename T>
  void AssignWindows(const T&, int64_t, const WindowAssignerContext& ctx,
                     std::vector<TimeWindow>& out) const {
    const int64_t now = ctx.GetCurrentProcessingTime();
    out.emplace_back(now, now + gap_);
  }
  void MergeWindows(const std::vector<TimeWindow>& windows,
                    const TimeWindowMergeCallback& merge) const {
    detail::MergeTimeWindows(windows, merge);
  }
  ProcessingTimeTrigger GetDefaultTrigger() const { return ProcessingTimeTrigger::Create(); }
  bool IsEventTime() const { return false; }

 private:
  explicit ProcessingTimeSessionWindows(int64_t gap) : gap_(gap) {}
  int64_t gap_;
};

/// One window per key (GlobalWindow), which never ends: set a trigger (CountTrigger, ...) to fire
/// it. KeyedStream::CountWindow is built on it.
class GlobalWindows {
 public:
  using window_type = GlobalWindow;
  static GlobalWindows Create() { return GlobalWindows(); }
  template <typename T>
  void AssignWindows(const T&, int64_t, const WindowAssignerContext&,
                     std::vector<GlobalWindow>& out) const {
    out.push_back(GlobalWindow::Get());
  }
  NeverTrigger GetDefaultTrigger() const { return NeverTrigger(); }
  bool IsEventTime() const { return false; }
};

}  // namespace sluice
