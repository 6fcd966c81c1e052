// The window operator behind KeyedStream::Window / WindowAll (Flink's WindowOperator and
// EvictingWindowOperator, with their exact semantics): assigns each element to windows, keeps
// their contents, runs the trigger, fires and purges, cleans a window up once the watermark (or
// processing time) passes its end plus the allowed lateness, and sends elements too late for
// any window to the late-data side output.
//
// State. Everything lives in the operator's keyed state backend and its timers, so it is
// checkpointed per key group, restored at another parallelism and written to the state
// changelog like any other keyed state:
//   - window contents (kWindowContentsState), trigger state (e.g. CountTrigger's "count") and
//     a ProcessWindowFunction's WindowState() are keyed state whose key is the record key
//     followed by the window: SerializeValue(key) then SerializeValue(window) (Flink's
//     namespace; windows are versioned values, see windows.h). Both are self-delimiting, so
//     such a key never equals a plain record key;
//   - the in-flight windows of a merging assigner (MergingWindowSet) are ValueState
//     kMergingWindowsState of the plain record key: a list of (window, state window);
//   - timers are the keyed timers of keyed_timers.h (format version 1, written as the key
//     group's extras), whose key bytes are the same (record key, window) bytes.
//
// Threads: every method runs on the task thread of the operator instance.
// Errors: user functions' exceptions propagate (the task fails). Merging a session into a
// window that would already be late is a std::logic_error, as Flink's
// UnsupportedOperationException.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/api/key_hash.h>
#include <sluice/api/metrics.h>
#include <sluice/api/output_tag.h>
#include <sluice/api/windowing/keyed_state_store.h>
#include <sluice/detail/key_groups.h>
#include <sluice/detail/merging_window_set.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/operators.h>
#include <sluice/detail/window_contents.h>
#include <sluice/state/detail/keyed_timers.h>

namespace sluice::detail {

/// The in-flight windows of a merging assigner, per record key.
inline constexpr const char* kMergingWindowsState = "_merging-window-set";

/// What one window operator is made of; copied into every parallel instance by its factory.
template <typename K, typename T, typename W, typename Out>
struct WindowOperatorParts {
  std::function<K(const T&)> key_selector;
  std::unique_ptr<WindowAssignerBase<T, W>> assigner;
  std::unique_ptr<TriggerBase<T, W>> trigger;
  std::unique_ptr<WindowContents<K, T, W, Out>> contents;
  int64_t allowed_lateness = 0;
  std::optional<OutputTag<T>> late_data_tag;
};

template <typename K, typename T, typename W, typename Out>
class WindowOperator final : public OneInputOperator<T, Out>,
                             public HasSideOutputs,
                             private WindowNamespaces<W>,
                             private NamespaceScope {
 public:
  explicit WindowOperator(WindowOperatorParts<K, T, W, Out> parts)
      : parts_(std::move(parts)),
        event_time_(parts_.assigner->IsEventTime()),
        merging_(parts_.assigner->IsMerging()),
        trigger_context_(this),
        process_context_(this),
        clocks_(this),
        collector_(&this->output_) {}

  void Setup(OperatorContext& context) override {
    OneInputOperator<T, Out>::Setup(context);
    backend_ = context.GetKeyedStateBackend();
    if (backend_ == nullptr) throw std::logic_error("a window operator needs a keyed stream");
    max_parallelism_ = context.GetTaskInfo().max_parallelism;
    time_ = &context.GetProcessingTimeService();
    partitioned_state_ = std::make_unique<KeyedStateStore>(backend_);
    global_state_ = std::make_unique<KeyedStateStore>(backend_);
    window_state_ = std::make_unique<KeyedStateStore>(backend_, static_cast<NamespaceScope*>(this));
    late_records_dropped_ =
        &context.GetRuntimeContext().GetMetricGroup().GetCounter("numLateRecordsDropped");
  }
  void Open() override {
    if (merging_) {
      merging_state_ = &backend_->GetValueState(
          ValueStateDescriptor<std::vector<std::pair<W, W>>>(kMergingWindowsState));
    }
    parts_.contents->Open(this->context(), *backend_);
  }
  void Close() override { parts_.contents->Close(); }
  void SnapshotState(CheckpointId id) override { parts_.contents->SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { parts_.contents->NotifyComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { parts_.contents->NotifyAborted(id); }

  void ProcessElement(StreamRecord<T>&& record) override {
    SetKey(parts_.key_selector(record.value));
    windows_.clear();
    parts_.assigner->AssignWindows(record.value, record.timestamp, clocks_, windows_);
    bool skipped = true;
    if (merging_) {
      UseKey();
      MergingWindowSet<W> windows = LoadMergingWindows();
      for (const W& window : windows_) {
        const W actual = windows.AddWindow(
            window,
            [&](const W& result, const std::vector<W>& merged, const W& state_result,
                const std::vector<W>& states) { OnMerge(result, merged, state_result, states); });
        // Drop the window if it is late already.
        if (IsWindowLate(actual)) {
          windows.RetireWindow(actual);
          continue;
        }
        skipped = false;
        std::optional<W> state_window = windows.GetStateWindow(actual);
        if (!state_window) ThrowNotInFlight(actual);
        AddAndTrigger(record, actual, *state_window);
      }
      UseKey();
      PersistMergingWindows(windows);
    } else {
      for (const W& window : windows_) {
        if (IsWindowLate(window)) continue;
        skipped = false;
        AddAndTrigger(record, window, window);
      }
    }
    // An element no window took, because it is late even with the allowed lateness.
    if (skipped && IsElementLate(record)) {
      Output<T>* late =
          parts_.late_data_tag ? side_outputs_.Resolve(*parts_.late_data_tag) : nullptr;
      if (late != nullptr) {
        late->Collect(std::move(record));
      } else {
        late_records_dropped_->Inc();
      }
    }
  }

  void ProcessWatermark(Watermark watermark) override {
    watermark_ = watermark.timestamp;
    while (auto timer = timers_.event.PopDue(watermark.timestamp)) OnTimer(*timer, true);
    this->output_->EmitWatermark(watermark);
  }

  // The timers are the extras of each key group (versioned: keyed_timers.h).
  void SnapshotKeyGroupExtras(int32_t key_group, DataOutput& out) override {
    timers_.SnapshotKeyGroup(key_group, out);
  }
  void RestoreKeyGroupExtras(int32_t key_group, DataInput& in) override {
    timers_.RestoreKeyGroup(key_group, in);
    ScheduleProcessingWakeup();
  }

 private:
  // ---- the trigger's context: the current key and trigger_window_ ----
  class TriggerContextImpl final : public OnMergeContext {
   public:
    explicit TriggerContextImpl(WindowOperator* op) : op_(op) {}
    int64_t GetCurrentProcessingTime() const override { return op_->ProcessingTime(); }
    int64_t GetCurrentWatermark() const override { return op_->watermark_; }
    void RegisterProcessingTimeTimer(int64_t time) override {
      op_->timers_.processing.Add(op_->TimerFor(time, op_->trigger_window_));
      op_->ScheduleProcessingWakeup();
    }
    void RegisterEventTimeTimer(int64_t time) override {
      op_->timers_.event.Add(op_->TimerFor(time, op_->trigger_window_));
    }
    void DeleteProcessingTimeTimer(int64_t time) override {
      op_->timers_.processing.Remove(op_->TimerFor(time, op_->trigger_window_));
    }
    void DeleteEventTimeTimer(int64_t time) override {
      op_->timers_.event.Remove(op_->TimerFor(time, op_->trigger_window_));
    }

   private:
    KeyedStateStore& PartitionedState() override { return *op_->partitioned_state_; }
    void ForEachMergedWindow(const std::function<void()>& visit) override {
      for (const W& merged : *op_->merged_windows_) {
        op_->UseWindow(merged);
        visit();
      }
      op_->UseWindow(op_->trigger_window_);
    }
    WindowOperator* op_;
  };

  // ---- the ProcessWindowFunction's context: the current key and process_window_ ----
  class ProcessContextImpl final : public ProcessWindowContext<W> {
   public:
    explicit ProcessContextImpl(WindowOperator* op) : op_(op) {}
    const W& Window() const override { return op_->process_window_; }
    int64_t CurrentProcessingTime() const override { return op_->ProcessingTime(); }
    int64_t CurrentWatermark() const override { return op_->watermark_; }
    KeyedStateStore& WindowState() override { return *op_->window_state_; }
    KeyedStateStore& GlobalState() override { return *op_->global_state_; }

   private:
    const SideOutputs& GetSideOutputs() const override { return op_->side_outputs_; }
    WindowOperator* op_;
  };

  // ---- the clocks, for assigners and evictors ----
  class Clocks final : public WindowAssignerContext, public EvictorContext {
   public:
    explicit Clocks(WindowOperator* op) : op_(op) {}
    int64_t GetCurrentProcessingTime() const override { return op_->ProcessingTime(); }
    int64_t GetCurrentWatermark() const override { return op_->watermark_; }

   private:
    WindowOperator* op_;
  };

  // ---- keys and namespaces ----
  void SetKey(K key) {
    key_ = std::move(key);
    key_buffer_.Clear();
    SerializeValue(key_, key_buffer_);
    key_bytes_.assign(key_buffer_.data());
    key_group_ = KeyGroupForKeyHash(KeyHash<K>::HashCode(key_), max_parallelism_);
  }
  void UseKey() override { backend_->SetCurrentKey(key_bytes_, key_group_); }
  void UseWindow(const W& window) override {
    backend_->SetCurrentKey(WindowKey(window), key_group_);
  }
  // (record key, window): the key of window state and timers. Valid until the next call.
  std::string_view WindowKey(const W& window) {
    window_key_.Clear();
    window_key_.WriteBytes(key_bytes_.data(), key_bytes_.size());
    SerializeValue(window, window_key_);
    return window_key_.data();
  }
  KeyedTimers::Timer TimerFor(int64_t time, const W& window) {
    return KeyedTimers::Timer{time, key_group_, std::string(WindowKey(window))};
  }
  // WindowState() of a ProcessWindowFunction: each access under (key, process_window_).
  void Enter() override { UseWindow(process_window_); }
  void Leave() override { UseKey(); }

  int64_t ProcessingTime() const { return time_->CurrentProcessingTime(); }

  // ---- Flink's WindowOperator ----
  void AddAndTrigger(const StreamRecord<T>& record, const W& window, const W& state_window) {
    UseWindow(state_window);
    parts_.contents->Add(record.value, record.timestamp);
    trigger_window_ = window;
    if (!(state_window == window)) UseWindow(window);
    const TriggerResult result =
        parts_.trigger->OnElement(record.value, record.timestamp, window, trigger_context_);
    if (IsFire(result)) {
      UseWindow(state_window);
      if (!Emit(window, state_window)) return;
    }
    if (IsPurge(result)) {
      UseWindow(state_window);
      parts_.contents->Clear();
    }
    RegisterCleanupTimer(window);
  }

  void OnMerge(const W& result, const std::vector<W>& merged, const W& state_result,
               const std::vector<W>& merged_states) {
    if (event_time_ && CleanupTime(result) <= watermark_) {
      std::ostringstream message;
      message << "the end timestamp of an event-time window cannot become earlier than the "
                 "current watermark by merging; current watermark: "
              << watermark_ << ", window: " << result;
      throw std::logic_error(message.str());
    }
    if (!event_time_ && result.MaxTimestamp() <= ProcessingTime()) {
      std::ostringstream message;
      message << "the end timestamp of a processing-time window cannot become earlier than the "
                 "current processing time by merging; current processing time: "
              << ProcessingTime() << ", window: " << result;
      throw std::logic_error(message.str());
    }
    trigger_window_ = result;
    merged_windows_ = &merged;
    UseWindow(result);
    parts_.trigger->OnMerge(result, trigger_context_);
    for (const W& window : merged) {
      trigger_window_ = window;
      UseWindow(window);
      parts_.trigger->Clear(window, trigger_context_);
      DeleteCleanupTimer(window);
    }
    parts_.contents->MergeNamespaces(state_result, merged_states, *this);
    UseKey();
  }

  // The window's function over its contents (current key: (key, state_window)); false when the
  // window has no contents.
  bool Emit(const W& window, const W& state_window) {
    process_window_ = window;
    collector_.SetTimestamp(window.MaxTimestamp());
    const FireContext<K, W, Out> fire{key_,    window,     state_window, process_context_,
                                      clocks_, collector_, *this};
    return parts_.contents->Fire(fire);
  }

  void OnTimer(const KeyedTimers::Timer& timer, bool event_time) {
    DataInput in(timer.key);
    K key = DeserializeValue<K>(in);
    const size_t key_size = in.position();
    const W window = DeserializeValue<W>(in);
    key_ = std::move(key);
    key_bytes_.assign(timer.key.data(), key_size);
    key_group_ = timer.key_group;
    trigger_window_ = window;

    std::optional<MergingWindowSet<W>> windows;
    W state_window = window;
    if (merging_) {
      UseKey();
      windows.emplace(LoadMergingWindows());
      std::optional<W> found = windows->GetStateWindow(window);
      // A timer of a window merged away that its trigger did not delete: nothing left to do.
      if (!found) return;
      state_window = *found;
    }
    UseWindow(window);
    const TriggerResult result =
        event_time ? parts_.trigger->OnEventTime(timer.time, window, trigger_context_)
                   : parts_.trigger->OnProcessingTime(timer.time, window, trigger_context_);
    if (IsFire(result)) {
      UseWindow(state_window);
      Emit(window, state_window);
    }
    if (IsPurge(result)) {
      UseWindow(state_window);
      parts_.contents->Clear();
    }
    if (event_time == event_time_ && timer.time == CleanupTime(window)) {
      ClearAllState(window, state_window, windows ? &*windows : nullptr);
    }
    if (windows) {
      UseKey();
      PersistMergingWindows(*windows);
    }
  }

  void ClearAllState(const W& window, const W& state_window, MergingWindowSet<W>* windows) {
    UseWindow(state_window);
    parts_.contents->Clear();
    trigger_window_ = window;
    UseWindow(window);
    parts_.trigger->Clear(window, trigger_context_);
    process_window_ = window;
    UseKey();
    parts_.contents->ClearFunction(process_context_);
    if (windows != nullptr) windows->RetireWindow(window);
  }

  // When the window's state is dropped: its end plus the allowed lateness in event time (never
  // for a window that ends at the end of time), its end in processing time.
  int64_t CleanupTime(const W& window) const {
    if (!event_time_) return window.MaxTimestamp();
    const int64_t max = window.MaxTimestamp();
    if (max > kMaxWatermark - parts_.allowed_lateness) {
      return kMaxWatermark;
    }
    return max + parts_.allowed_lateness;
  }
  bool IsWindowLate(const W& window) const {
    return event_time_ && CleanupTime(window) <= watermark_;
  }
  // Flink's timestamp + lateness <= watermark, without overflowing at either end.
  bool IsElementLate(const StreamRecord<T>& record) const {
    if (!event_time_ || record.timestamp == kNoTimestamp) return false;
    if (watermark_ < kMinWatermark + parts_.allowed_lateness) return false;
    return record.timestamp <= watermark_ - parts_.allowed_lateness;
  }
  void RegisterCleanupTimer(const W& window) {
    const int64_t time = CleanupTime(window);
    if (time == kMaxWatermark) return;  // never cleaned up
    if (event_time_) {
      timers_.event.Add(TimerFor(time, window));
    } else {
      timers_.processing.Add(TimerFor(time, window));
      ScheduleProcessingWakeup();
    }
  }
  void DeleteCleanupTimer(const W& window) {
    const int64_t time = CleanupTime(window);
    if (time == kMaxWatermark) return;
    (event_time_ ? timers_.event : timers_.processing).Remove(TimerFor(time, window));
  }

  // Current key: the record key.
  MergingWindowSet<W> LoadMergingWindows() {
    const auto* assigner = parts_.assigner.get();
    return MergingWindowSet<W>(merging_state_->Value().value_or(std::vector<std::pair<W, W>>{}),
                               [assigner](const std::vector<W>& windows,
                                          const std::function<void(std::vector<W>, W)>& merge) {
                                 assigner->MergeWindows(windows, merge);
                               });
  }
  void PersistMergingWindows(const MergingWindowSet<W>& windows) {
    if (!windows.changed()) return;
    if (windows.empty()) {
      merging_state_->Clear();
    } else {
      merging_state_->Update(windows.ToList());
    }
  }
  [[noreturn]] static void ThrowNotInFlight(const W& window) {
    std::ostringstream message;
    message << "window " << window << " is not in the in-flight window set";
    throw std::logic_error(message.str());
  }

  // One task-level timer at the earliest processing-time timer; re-armed after each firing (as
  // KeyedProcessOperator).
  void ScheduleProcessingWakeup() {
    if (timers_.processing.empty()) return;
    const int64_t next = timers_.processing.next_time();
    if (wakeup_scheduled_ && scheduled_time_ <= next) return;
    wakeup_scheduled_ = true;
    scheduled_time_ = next;
    time_->RegisterTimer(next, [this](int64_t now) {
      if (now >= scheduled_time_) wakeup_scheduled_ = false;
      while (auto timer = timers_.processing.PopDue(now)) OnTimer(*timer, false);
      ScheduleProcessingWakeup();
    });
  }

  WindowOperatorParts<K, T, W, Out> parts_;
  const bool event_time_;
  const bool merging_;
  KeyedStateBackend* backend_ = nullptr;
  int32_t max_parallelism_ = 128;
  ProcessingTimeService* time_ = nullptr;
  Counter* late_records_dropped_ = nullptr;

  TriggerContextImpl trigger_context_;
  ProcessContextImpl process_context_;
  Clocks clocks_;
  TimestampedCollector<Out> collector_;
  std::unique_ptr<KeyedStateStore> partitioned_state_;
  std::unique_ptr<KeyedStateStore> global_state_;
  std::unique_ptr<KeyedStateStore> window_state_;
  ValueState<std::vector<std::pair<W, W>>>* merging_state_ = nullptr;

  // The key of the element or timer being processed.
  K key_{};
  DataOutput key_buffer_;
  std::string key_bytes_;
  int32_t key_group_ = 0;
  DataOutput window_key_;
  std::vector<W> windows_;
  W trigger_window_{};
  W process_window_{};
  const std::vector<W>* merged_windows_ = nullptr;

  int64_t watermark_ = kMinWatermark;
  KeyedTimerQueues timers_;
  bool wakeup_scheduled_ = false;
  int64_t scheduled_time_ = 0;
};

}  // namespace sluice::detail
