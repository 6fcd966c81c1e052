// The timers of a keyed operator with two inputs (Flink's InternalTimerService behind a
// TimerService): processing- and event-time timers of the current key, fired in time order
// with their key set as the current key, and written per key group as the operator's extras
// (the versioned format of keyed_timers.h), so they move with their keys on rescaling.
// Implementation detail of KeyedCoProcessOperator and KeyedBroadcastProcessOperator.
//
// Threads: the task thread of the operator instance that owns it.
// Lifecycle: Setup once (in the operator's Setup), before restore; the operator must not move
// afterwards (a processing-time wake-up points at the service).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include <sluice/api/functions.h>
#include <sluice/api/time.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/operators.h>
#include <sluice/state/data_io.h>
#include <sluice/state/detail/keyed_timers.h>
#include <sluice/state/type_serializer.h>

namespace sluice::detail {

template <typename K>
class KeyedTimerService final : public TimerService {
 public:
  /// Called for each due timer, with the timer's key already the current key.
  using FireFunction = std::function<void(const K& key, int64_t time, TimeDomain domain)>;

  void Setup(KeyContext<K>* keys, ProcessingTimeService* time, FireFunction fire) {
    keys_ = keys;
    time_ = time;
    fire_ = std::move(fire);
  }

  // ---- TimerService, for the current key ----
  int64_t CurrentProcessingTime() const override { return time_->CurrentProcessingTime(); }
  int64_t CurrentWatermark() const override { return watermark_; }
  void RegisterProcessingTimeTimer(int64_t time) override {
    timers_.processing.Add(CurrentTimer(time));
    ScheduleProcessingWakeup();
  }
  void DeleteProcessingTimeTimer(int64_t time) override {
    timers_.processing.Remove(CurrentTimer(time));
  }
  void RegisterEventTimeTimer(int64_t time) override { timers_.event.Add(CurrentTimer(time)); }
  void DeleteEventTimeTimer(int64_t time) override { timers_.event.Remove(CurrentTimer(time)); }

  /// The operator's watermark advanced: fires every event-time timer due by it.
  void AdvanceWatermark(int64_t watermark) {
    watermark_ = watermark;
    while (auto timer = timers_.event.PopDue(watermark)) Fire(*timer, TimeDomain::kEventTime);
  }

  void SnapshotKeyGroup(int32_t key_group, DataOutput& out) const {
    timers_.SnapshotKeyGroup(key_group, out);
  }
  void RestoreKeyGroup(int32_t key_group, DataInput& in) {
    timers_.RestoreKeyGroup(key_group, in);
    ScheduleProcessingWakeup();
  }

  const KeyedTimerQueues& timers() const { return timers_; }

 private:
  KeyedTimers::Timer CurrentTimer(int64_t time) const {
    return KeyedTimers::Timer{time, keys_->current_key_group(),
                              std::string(keys_->current_key_bytes())};
  }

  // One task-level timer at the earliest processing-time timer; re-armed after each firing.
  void ScheduleProcessingWakeup() {
    if (timers_.processing.empty()) return;
    const int64_t next = timers_.processing.next_time();
    if (wakeup_scheduled_ && scheduled_time_ <= next) return;
    wakeup_scheduled_ = true;
    scheduled_time_ = next;
    // An earlier wake-up replaces a later one; the later one still fires and finds nothing due.
    time_->RegisterTimer(next, [this](int64_t now) {
      if (now >= scheduled_time_) wakeup_scheduled_ = false;
      while (auto timer = timers_.processing.PopDue(now)) Fire(*timer, TimeDomain::kProcessingTime);
      ScheduleProcessingWakeup();
    });
  }

  void Fire(const KeyedTimers::Timer& timer, TimeDomain domain) {
    keys_->SetCurrentKeyBytes(timer.key, timer.key_group);
    DataInput in(timer.key);
    const K key = DeserializeValue<K>(in);
    fire_(key, timer.time, domain);
  }

  KeyContext<K>* keys_ = nullptr;
  ProcessingTimeService* time_ = nullptr;
  FireFunction fire_;
  KeyedTimerQueues timers_;
  int64_t watermark_ = kMinWatermark;
  bool wakeup_scheduled_ = false;
  int64_t scheduled_time_ = 0;
};

}  // namespace sluice::detail
