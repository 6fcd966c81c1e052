// Test harnesses for operators (Flink's OneInputStreamOperatorTestHarness and
// TwoInputStreamOperatorTestHarness): run one operator without a job, feed it records,
// watermarks and processing time by hand, take a snapshot as a checkpoint barrier would, restore
// it into a fresh harness, and read what it emitted and its state.
//
//   auto harness = sluice::testing::KeyedProcessHarness<std::string, std::string, Count>(
//       CountWords(), [](const std::string& w) { return w; });
//   harness.Open();
//   harness.ProcessElement("a", /*timestamp=*/10);
//   harness.SetProcessingTime(1000);           // fires due processing-time timers
//   auto snapshot = harness.Snapshot(1);       // what checkpoint 1 would hold
//   auto restored = sluice::testing::KeyedProcessHarness<...>(CountWords(), selector, &snapshot);
//
// The keyed state backend is the one a job would use ("heap" unless another name is given);
// snapshots and restores go through the same per-key-group path as the runtime's.
//
// Threads: single-threaded; everything runs on the calling thread.
// Errors: exceptions from the operator propagate to the test.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <sluice/api/data_stream.h>
#include <sluice/api/metrics.h>
#include <sluice/api/parameter_tool.h>
#include <sluice/detail/key_groups.h>
#include <sluice/detail/operators.h>
#include <sluice/detail/two_input_operator.h>

namespace sluice::testing {

/// An operator's state as a checkpoint would hold it (all key groups, one instance).
struct OperatorSnapshot {
  std::string operator_section;
  /// key group -> (keyed state section, extras such as timers); every key group of the
  /// operator, extras empty where it has none.
  std::map<int32_t, std::pair<std::string, std::string>> key_groups;
};

/// What every harness shares: the operator's context, clocks, state, output and snapshots. The
/// one- and two-input harnesses below add how elements and watermarks go in.
template <typename Out>
class OperatorHarnessBase : private detail::OperatorContext, private detail::ProcessingTimeService {
 public:
  // The operator keeps pointers to the harness (its context and output): it never moves.
  OperatorHarnessBase(const OperatorHarnessBase&) = delete;
  OperatorHarnessBase& operator=(const OperatorHarnessBase&) = delete;

  void Open() { op_->Open(); }
  void Close() { op_->Close(); }
  void EndInput() { op_->EndInput(); }

  /// Advances processing time and fires every timer due by then, in time order.
  void SetProcessingTime(int64_t time) {
    now_ = time;
    while (!timers_.empty() && timers_.begin()->first <= now_) {
      auto it = timers_.begin();
      auto [due, callback] = std::move(*it);
      timers_.erase(it);
      callback(due);
    }
  }

  /// What checkpoint `id` would store for this operator (calls its SnapshotState hooks).
  OperatorSnapshot Snapshot(int64_t id) {
    op_->SnapshotState(CheckpointId(id));
    OperatorSnapshot snapshot;
    DataOutput section;
    operator_state_.Snapshot(section);
    snapshot.operator_section = section.Release();
    if (keyed_ != nullptr) {
      for (int32_t kg = 0; kg < info_.max_parallelism; ++kg) {
        DataOutput keyed;
        DataOutput extras;
        detail::SnapshotKeyGroup(*op_, keyed_.get(), kg, keyed, extras);
        snapshot.key_groups[kg] = {keyed.Release(), extras.Release()};
      }
    }
    return snapshot;
  }
  void NotifyCheckpointComplete(int64_t id) { op_->NotifyCheckpointComplete(CheckpointId(id)); }

  /// Records emitted so far (value and timestamp), and then cleared by TakeOutput().
  const std::vector<detail::StreamRecord<Out>>& output() const { return output_.records; }
  std::vector<Out> TakeOutputValues() {
    std::vector<Out> values;
    values.reserve(output_.records.size());
    for (auto& record : output_.records) values.push_back(std::move(record.value));
    output_.records.clear();
    return values;
  }
  const std::vector<int64_t>& watermarks() const { return output_.watermarks; }
  /// The watermark statuses emitted so far: true for idle, false for active again.
  const std::vector<bool>& watermark_statuses() const { return output_.statuses; }

  /// Reads keyed ValueState `name` of `key` (the key's serialized form selects it).
  template <typename K, typename T>
  std::optional<T> ValueStateOf(const K& key, const std::string& name) {
    DataOutput bytes;
    SerializeValue(key, bytes);
    keyed_->SetCurrentKey(
        bytes.data(), detail::KeyGroupForKeyHash(KeyHash<K>::HashCode(key), info_.max_parallelism));
    return keyed_->GetValueState(ValueStateDescriptor<T>(name)).Value();
  }

  /// Collects what the operator emits to side output `tag` (records only: watermarks go to the
  /// main output); the returned vector fills as the operator runs. std::logic_error if the
  /// operator has no side outputs.
  template <typename S>
  const std::vector<detail::StreamRecord<S>>& SideOutput(const OutputTag<S>& tag) {
    auto* owner = dynamic_cast<detail::HasSideOutputs*>(op_->OutputOperator());
    if (owner == nullptr) throw std::logic_error("the operator under test has no side outputs");
    auto collecting = std::make_unique<CollectingOutput<S>>();
    const std::vector<detail::StreamRecord<S>>& records = collecting->records;
    owner->side_outputs().Set(tag.id(), collecting.get());
    side_outputs_.push_back(std::move(collecting));
    return records;
  }

  MetricGroup& metrics() { return metrics_; }
  /// The operator's keyed state backend; null unless keyed.
  detail::KeyedStateBackend* keyed_state_backend() { return keyed_.get(); }
  /// The operator's operator state (list and broadcast state).
  detail::OperatorStateStore& operator_state() { return operator_state_; }
  size_t pending_timers() const { return timers_.size(); }

 protected:
  /// `keyed`: give the operator a keyed state backend for all key groups, the one registered
  /// as `state_backend` (an unknown name throws StatusException(kInvalidArgument)).
  /// `restore`: state to restore before Open; undecodable bytes throw
  /// StatusException(kCorruption), as restoring a job does.
  OperatorHarnessBase(std::unique_ptr<detail::StreamOperator> op, bool keyed,
                      const OperatorSnapshot* restore, int32_t max_parallelism,
                      std::string_view state_backend)
      : op_(std::move(op)) {
    info_.job_name = "harness";
    info_.operator_name = "operator under test";
    info_.operator_uid = "operator-under-test";
    info_.max_parallelism = max_parallelism;
    if (keyed) {
      detail::KeyedStateBackendParameters parameters;
      parameters.operator_name = info_.operator_name;
      parameters.operator_uid = info_.operator_uid;
      parameters.key_group_start = 0;
      parameters.key_group_end = max_parallelism - 1;
      parameters.max_parallelism = max_parallelism;
      Result<std::unique_ptr<detail::KeyedStateBackend>> backend =
          detail::CreateKeyedStateBackend(state_backend, parameters);
      if (!backend.ok()) throw StatusException(backend.status());
      keyed_ = std::move(*backend);
    }
    runtime_context_ = std::make_unique<RuntimeContext>(info_, &metrics_, &parameters_,
                                                        keyed_.get(), &operator_state_);
    if (auto* producer = dynamic_cast<detail::HasOutput<Out>*>(op_->OutputOperator()))
      producer->SetOutput(&output_);
    op_->Setup(*this);
    if (restore != nullptr) {
      std::vector<std::string_view> sections{restore->operator_section};
      operator_state_.Restore(sections, 0, 1);
      for (const auto& [kg, parts] : restore->key_groups) {
        detail::RestoreKeyGroup(*op_, keyed_.get(), info_.operator_name, kg, parts.first,
                                parts.second);
      }
    }
  }
  ~OperatorHarnessBase() override = default;

  detail::StreamOperator& op() { return *op_; }

 private:
  template <typename T>
  struct CollectingOutput final : detail::Output<T> {
    std::vector<detail::StreamRecord<T>> records;
    std::vector<int64_t> watermarks;
    std::vector<bool> statuses;
    void Collect(detail::StreamRecord<T>&& record) override {
      records.push_back(std::move(record));
    }
    void EmitWatermark(detail::Watermark watermark) override {
      watermarks.push_back(watermark.timestamp);
    }
    void EmitWatermarkStatus(detail::WatermarkStatus status) override {
      statuses.push_back(status.idle);
    }
  };

  // ---- OperatorContext ----
  RuntimeContext& GetRuntimeContext() override { return *runtime_context_; }
  detail::ProcessingTimeService& GetProcessingTimeService() override { return *this; }
  detail::KeyedStateBackend* GetKeyedStateBackend() override { return keyed_.get(); }
  detail::OperatorStateStore& GetOperatorStateStore() override { return operator_state_; }
  const TaskInfo& GetTaskInfo() const override { return info_; }
  int64_t GetAutoWatermarkInterval() const override { return 200; }
  void SignalAvailable() override {}
  // ---- ProcessingTimeService ----
  int64_t CurrentProcessingTime() const override { return now_; }
  void RegisterTimer(int64_t time, std::function<void(int64_t)> callback) override {
    timers_.emplace(time, std::move(callback));
  }

  std::unique_ptr<detail::StreamOperator> op_;
  TaskInfo info_;
  MetricGroup metrics_;
  ParameterTool parameters_;
  std::unique_ptr<detail::KeyedStateBackend> keyed_;
  detail::OperatorStateStore operator_state_;
  std::unique_ptr<RuntimeContext> runtime_context_;
  CollectingOutput<Out> output_;
  std::vector<std::unique_ptr<detail::OutputBase>> side_outputs_;
  int64_t now_ = 0;
  std::multimap<int64_t, std::function<void(int64_t)>> timers_;
};

/// A harness around an operator with one input.
template <typename In, typename Out>
class OneInputOperatorHarness : public OperatorHarnessBase<Out> {
 public:
  /// `keyed`, `restore`, `state_backend`: see OperatorHarnessBase.
  OneInputOperatorHarness(std::unique_ptr<detail::StreamOperator> op, bool keyed,
                          const OperatorSnapshot* restore = nullptr, int32_t max_parallelism = 128,
                          std::string_view state_backend = detail::kDefaultStateBackend)
      : OperatorHarnessBase<Out>(std::move(op), keyed, restore, max_parallelism, state_backend),
        input_(dynamic_cast<detail::Input<In>*>(&this->op())) {}

  void ProcessElement(In value, int64_t timestamp = kNoTimestamp) {
    input_->ProcessElement(detail::StreamRecord<In>{std::move(value), timestamp});
  }
  void ProcessWatermark(int64_t timestamp) {
    this->op().ProcessWatermark(detail::Watermark{timestamp});
  }

 private:
  detail::Input<In>* input_;
};

/// A harness around an operator with two inputs (Flink's TwoInputStreamOperatorTestHarness):
/// elements, watermarks and watermark status go to input 1 or 2; the operator combines the
/// watermarks as the runtime has it do.
template <typename In1, typename In2, typename Out>
class TwoInputOperatorHarness : public OperatorHarnessBase<Out> {
 public:
  /// `keyed`, `restore`, `state_backend`: see OperatorHarnessBase.
  TwoInputOperatorHarness(std::unique_ptr<detail::StreamOperator> op, bool keyed,
                          const OperatorSnapshot* restore = nullptr, int32_t max_parallelism = 128,
                          std::string_view state_backend = detail::kDefaultStateBackend)
      : OperatorHarnessBase<Out>(std::move(op), keyed, restore, max_parallelism, state_backend),
        input_(dynamic_cast<detail::TwoInput<In1, In2>*>(&this->op())),
        operator_(dynamic_cast<detail::TwoInputStreamOperator*>(&this->op())) {
    if (input_ == nullptr || operator_ == nullptr)
      throw std::logic_error("the operator under test does not have inputs of these types");
  }

  void ProcessElement1(In1 value, int64_t timestamp = kNoTimestamp) {
    input_->ProcessElement1(detail::StreamRecord<In1>{std::move(value), timestamp});
  }
  void ProcessElement2(In2 value, int64_t timestamp = kNoTimestamp) {
    input_->ProcessElement2(detail::StreamRecord<In2>{std::move(value), timestamp});
  }
  void ProcessWatermark1(int64_t timestamp) {
    operator_->ProcessInputWatermark(0, detail::Watermark{timestamp});
  }
  void ProcessWatermark2(int64_t timestamp) {
    operator_->ProcessInputWatermark(1, detail::Watermark{timestamp});
  }
  /// Input 1 (2) becomes idle (true) or active again (false).
  void ProcessWatermarkStatus1(bool idle) {
    operator_->ProcessInputWatermarkStatus(0, detail::WatermarkStatus{idle});
  }
  void ProcessWatermarkStatus2(bool idle) {
    operator_->ProcessInputWatermarkStatus(1, detail::WatermarkStatus{idle});
  }

 private:
  detail::TwoInput<In1, In2>* input_;
  detail::TwoInputStreamOperator* operator_;
};

/// A harness around KeyedStream::Process(function).
template <typename K, typename In, typename Out, typename F>
OneInputOperatorHarness<In, Out> KeyedProcessHarness(F function,
                                                     std::function<K(const In&)> key_selector,
                                                     const OperatorSnapshot* restore = nullptr) {
  return OneInputOperatorHarness<In, Out>(
      std::make_unique<detail::KeyedProcessOperator<K, In, Out, F>>(std::move(function),
                                                                    std::move(key_selector)),
      /*keyed=*/true, restore);
}

/// A harness around the operator that produced `stream`, as the DataStream calls built it (e.g.
/// a window operator: `HarnessOf<Event>(keyed.Window(...).Reduce(...))`, with the stream built in
/// a StreamExecutionEnvironment that is never executed). Keyed when the operator is.
template <typename In, typename Out>
OneInputOperatorHarness<In, Out> HarnessOf(const DataStream<Out>& stream,
                                           const OperatorSnapshot* restore = nullptr,
                                           int32_t max_parallelism = 128) {
  return OneInputOperatorHarness<In, Out>(stream.node()->CreateOperator(), stream.node()->keyed(),
                                          restore, max_parallelism);
}

/// A harness around DataStream::Process(function) (a ProcessFunction).
template <typename In, typename Out, typename F>
OneInputOperatorHarness<In, Out> ProcessHarness(F function) {
  return OneInputOperatorHarness<In, Out>(
      std::make_unique<detail::ProcessOperator<In, Out, F>>(std::move(function)),
      /*keyed=*/false);
}

/// A harness around the two-input operator that produced `stream` (ConnectedStreams' Map,
/// FlatMap, Process, or a broadcast Process), as the DataStream calls built it, with the stream
/// built in a StreamExecutionEnvironment that is never executed. Keyed when the operator is.
template <typename In1, typename In2, typename Out>
TwoInputOperatorHarness<In1, In2, Out> TwoInputHarnessOf(const DataStream<Out>& stream,
                                                         const OperatorSnapshot* restore = nullptr,
                                                         int32_t max_parallelism = 128) {
  return TwoInputOperatorHarness<In1, In2, Out>(stream.node()->CreateOperator(),
                                                stream.node()->keyed(), restore, max_parallelism);
}

/// A harness around DataStream::Map(function) (a lambda or a RichMapFunction).
template <typename In, typename Out, typename F>
OneInputOperatorHarness<In, Out> MapHarness(F function, const OperatorSnapshot* restore = nullptr) {
  return OneInputOperatorHarness<In, Out>(
      std::make_unique<detail::MapOperator<In, Out, F>>(std::move(function)),
      /*keyed=*/false, restore);
}

}  // namespace sluice::testing
