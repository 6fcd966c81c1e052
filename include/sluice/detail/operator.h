// The operator model every DataStream call becomes (implementation detail of the public API:
// templates instantiated in user code need it; not a stable interface).
//
// Threads: every method of an operator runs on its task thread.
// Lifecycle: Setup -> (state restored) -> Open -> elements/watermarks/checkpoints -> EndInput
// (bounded inputs) -> Close. Hooks have no-op defaults.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <sluice/api/runtime_context.h>
#include <sluice/api/strong_id.h>
#include <sluice/detail/output.h>
#include <sluice/detail/stream_element.h>
#include <sluice/state/data_io.h>
#include <sluice/state/detail/keyed_state_backend.h>
#include <sluice/status.h>

namespace sluice::detail {

/// Processing-time timers on the task thread.
class ProcessingTimeService {
 public:
  virtual ~ProcessingTimeService() = default;
  virtual int64_t CurrentProcessingTime() const = 0;
  /// Runs `callback(time)` on the task thread once processing time reaches `time`.
  virtual void RegisterTimer(int64_t time, std::function<void(int64_t)> callback) = 0;
};

/// What the runtime gives one operator instance.
class OperatorContext {
 public:
  virtual ~OperatorContext() = default;
  virtual RuntimeContext& GetRuntimeContext() = 0;
  virtual ProcessingTimeService& GetProcessingTimeService() = 0;
  /// Null unless the operator is on a keyed stream.
  virtual KeyedStateBackend* GetKeyedStateBackend() = 0;
  virtual OperatorStateStore& GetOperatorStateStore() = 0;
  virtual const TaskInfo& GetTaskInfo() const = 0;
  virtual int64_t GetAutoWatermarkInterval() const = 0;
  /// Wakes the task thread (thread-safe): for sources whose data arrives asynchronously.
  virtual void SignalAvailable() = 0;
};

class StreamOperator {
 public:
  virtual ~StreamOperator() = default;
  virtual void Setup(OperatorContext& context) { context_ = &context; }
  virtual void Open() {}
  virtual void ProcessWatermark(Watermark watermark) = 0;
  virtual void ProcessWatermarkStatus(WatermarkStatus status) = 0;
  /// A bounded input has ended (after its final watermark).
  virtual void EndInput() {}
  /// Brings user-visible state up to date for checkpoint `id` (the runtime then writes the
  /// state stores).
  virtual void SnapshotState(CheckpointId /*id*/) {}
  virtual void NotifyCheckpointComplete(CheckpointId /*id*/) {}
  virtual void NotifyCheckpointAborted(CheckpointId /*id*/) {}
  virtual void Close() {}
  /// Per-key-group state beyond the keyed state backend (e.g. timers), written into the same
  /// key-group record so it moves with its keys on rescaling. The operator versions these
  /// bytes itself; a key group with nothing to keep writes nothing, and is then not restored.
  virtual void SnapshotKeyGroupExtras(int32_t /*key_group*/, DataOutput& /*out*/) {}
  virtual void RestoreKeyGroupExtras(int32_t /*key_group*/, DataInput& /*in*/) {}
  /// The operator whose output the runtime connects (a wrapper returns the wrapped one).
  virtual StreamOperator* OutputOperator() { return this; }

 protected:
  OperatorContext& context() { return *context_; }

 private:
  OperatorContext* context_ = nullptr;
};

/// The typed entry of an operator with one input.
template <typename In>
class Input {
 public:
  virtual ~Input() = default;
  virtual void ProcessElement(StreamRecord<In>&& record) = 0;
};

/// An operator that produces records of type Out.
template <typename Out>
class HasOutput {
 public:
  virtual ~HasOutput() = default;
  void SetOutput(Output<Out>* output) { output_ = output; }

 protected:
  Output<Out>* output_ = nullptr;
};

/// An operator with one input and one output type; forwards watermarks by default.
template <typename In, typename Out>
class OneInputOperator : public StreamOperator, public Input<In>, public HasOutput<Out> {
 public:
  void ProcessWatermark(Watermark watermark) override { this->output_->EmitWatermark(watermark); }
  void ProcessWatermarkStatus(WatermarkStatus status) override {
    this->output_->EmitWatermarkStatus(status);
  }
};

/// A source operator: it has an output but no input; the task drives it.
template <typename Out>
class SourceOperatorBase : public StreamOperator, public HasOutput<Out> {
 public:
  void ProcessWatermark(Watermark) override {}
  void ProcessWatermarkStatus(WatermarkStatus) override {}
};

/// Feeds a chained operator by direct function call.
template <typename T>
class ChainingOutput final : public Output<T> {
 public:
  ChainingOutput(Input<T>* input, StreamOperator* op) : input_(input), op_(op) {}
  void Collect(StreamRecord<T>&& record) override { input_->ProcessElement(std::move(record)); }
  void EmitWatermark(Watermark watermark) override { op_->ProcessWatermark(watermark); }
  void EmitWatermarkStatus(WatermarkStatus status) override { op_->ProcessWatermarkStatus(status); }

 private:
  Input<T>* input_;
  StreamOperator* op_;
};

/// Sends everything to several outputs (an operator with more than one consumer).
template <typename T>
class BroadcastingOutput final : public Output<T> {
 public:
  explicit BroadcastingOutput(std::vector<Output<T>*> outputs) : outputs_(std::move(outputs)) {}
  void Collect(StreamRecord<T>&& record) override {
    for (size_t i = 0; i + 1 < outputs_.size(); ++i) {
      StreamRecord<T> copy = record;
      outputs_[i]->Collect(std::move(copy));
    }
    if (!outputs_.empty()) outputs_.back()->Collect(std::move(record));
  }
  void EmitWatermark(Watermark watermark) override {
    for (Output<T>* o : outputs_) o->EmitWatermark(watermark);
  }
  void EmitWatermarkStatus(WatermarkStatus status) override {
    for (Output<T>* o : outputs_) o->EmitWatermarkStatus(status);
  }

 private:
  std::vector<Output<T>*> outputs_;
};

/// Writes one key group of an operator instance, as a checkpoint holds it: the keyed state
/// section from its backend (when keyed) and the operator's extras. The runtime and the test
/// harness both snapshot through this.
inline void SnapshotKeyGroup(StreamOperator& op, const KeyedStateBackend* backend,
                             int32_t key_group, DataOutput& keyed, DataOutput& extras) {
  if (backend != nullptr) backend->SnapshotKeyGroup(key_group, keyed);
  op.SnapshotKeyGroupExtras(key_group, extras);
}

/// Restores one key group written by SnapshotKeyGroup into a new instance, before Open. Bytes
/// that cannot be decoded (corrupt, or a format version this build does not read) throw
/// StatusException(kCorruption) naming the operator, the key group and the problem: restarting
/// cannot fix them.
inline void RestoreKeyGroup(StreamOperator& op, KeyedStateBackend* backend,
                            std::string_view operator_name, int32_t key_group,
                            std::string_view keyed, std::string_view extras) {
  try {
    if (backend != nullptr && !keyed.empty()) {
      DataInput in(keyed);
      backend->RestoreKeyGroup(key_group, in);
    }
    if (!extras.empty()) {
      DataInput in(extras);
      op.RestoreKeyGroupExtras(key_group, in);
    }
  } catch (const SerializationError& error) {
    throw StatusException(Status::Corruption("cannot restore key group " +
                                             std::to_string(key_group) + " of operator '" +
                                             std::string(operator_name) + "': " + error.what()));
  }
}

/// An output that drops everything (an operator nobody consumes, e.g. a sink's).
template <typename T>
class DiscardingOutput final : public Output<T> {
 public:
  void Collect(StreamRecord<T>&&) override {}
  void EmitWatermark(Watermark) override {}
  void EmitWatermarkStatus(WatermarkStatus) override {}
};

}  // namespace sluice::detail
