// The wrapper that makes an operator on a keyed stream set the current key before each
// element, so the function can use keyed state (Flink allows keyed state in map, filter and
// flatMap after keyBy). Created by KeyedStream for every operator applied to it.
//
// Threads: the task thread of its subtask, like every operator.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

#include <sluice/detail/operator.h>
#include <sluice/detail/operators.h>

namespace sluice::detail {

template <typename K, typename In>
class KeySettingOperator final : public StreamOperator, public Input<In> {
 public:
  KeySettingOperator(std::unique_ptr<StreamOperator> inner,
                     std::function<K(const In&)> key_selector)
      : inner_(std::move(inner)),
        input_(dynamic_cast<Input<In>*>(inner_.get())),
        key_selector_(std::move(key_selector)) {}
  StreamOperator* OutputOperator() override { return inner_.get(); }
  void Setup(OperatorContext& context) override {
    StreamOperator::Setup(context);
    inner_->Setup(context);
    keys_.Setup(context);
  }
  void Open() override { inner_->Open(); }
  void ProcessElement(StreamRecord<In>&& record) override {
    keys_.SetCurrentKey(key_selector_(record.value));
    input_->ProcessElement(std::move(record));
  }
  void ProcessWatermark(Watermark w) override { inner_->ProcessWatermark(w); }
  void ProcessWatermarkStatus(WatermarkStatus s) override { inner_->ProcessWatermarkStatus(s); }
  void EndInput() override { inner_->EndInput(); }
  void SnapshotState(CheckpointId id) override { inner_->SnapshotState(id); }
  void NotifyCheckpointComplete(CheckpointId id) override { inner_->NotifyCheckpointComplete(id); }
  void NotifyCheckpointAborted(CheckpointId id) override { inner_->NotifyCheckpointAborted(id); }
  void Close() override { inner_->Close(); }
  void SnapshotKeyGroupExtras(int32_t key_group, DataOutput& out) override {
    inner_->SnapshotKeyGroupExtras(key_group, out);
  }
  void RestoreKeyGroupExtras(int32_t key_group, DataInput& in) override {
    inner_->RestoreKeyGroupExtras(key_group, in);
  }

 private:
  std::unique_ptr<StreamOperator> inner_;
  Input<In>* input_;
  std::function<K(const In&)> key_selector_;
  KeyContext<K> keys_;
};

}  // namespace sluice::detail
