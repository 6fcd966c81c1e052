// Where operators send their results: the typed main output, and side outputs by tag id
// (implementation detail of the DataStream API; templates instantiated in user code need it).
//
// Threads: every method runs on the task thread of the operator instance that owns it.
// Ownership: the runtime (or the test harness) owns every Output; operators hold raw pointers
// that stay valid until the operator is destroyed.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/api/output_tag.h>
#include <sluice/detail/stream_element.h>

namespace sluice::detail {

/// The untyped side of an output: what every output of an operator receives alike.
class OutputBase {
 public:
  virtual ~OutputBase() = default;
  virtual void EmitWatermark(Watermark watermark) = 0;
  virtual void EmitWatermarkStatus(WatermarkStatus status) = 0;
};

/// Where an operator sends its results of type T.
template <typename T>
class Output : public OutputBase {
 public:
  virtual void Collect(StreamRecord<T>&& record) = 0;
};

/// The side outputs of one operator instance, by OutputTag id. Only ids that some stream reads
/// (GetSideOutput) are connected; a record for any other id is dropped, as in Flink. A side
/// output receives records only: the runtime sends the operator's watermarks to it beside the
/// main output (SideOutputTee), so operators never forward them here.
class SideOutputs {
 public:
  /// Runtime side: connects side output `id`; a second call for the same id replaces it.
  void Set(std::string id, OutputBase* output) {
    for (auto& entry : outputs_) {
      if (entry.first == id) {
        entry.second = output;
        return;
      }
    }
    outputs_.emplace_back(std::move(id), output);
  }
  /// The output connected for `id`, or null.
  OutputBase* Find(std::string_view id) const {
    // Linear: an operator has a handful of side outputs at most.
    for (const auto& entry : outputs_) {
      if (entry.first == id) return entry.second;
    }
    return nullptr;
  }
  /// The typed output of `tag`, or null when nobody reads it. std::logic_error when the
  /// stream reading it has another element type (one id used with two types).
  template <typename T>
  Output<T>* Resolve(const OutputTag<T>& tag) const {
    OutputBase* base = Find(tag.id());
    if (base == nullptr) return nullptr;
    auto* typed = dynamic_cast<Output<T>*>(base);
    if (typed == nullptr) ThrowTypeMismatch(tag.id());
    return typed;
  }
  template <typename T>
  void Collect(const OutputTag<T>& tag, T value, int64_t timestamp) const {
    if (Output<T>* output = Resolve(tag))
      output->Collect(StreamRecord<T>{std::move(value), timestamp});
  }
  bool empty() const { return outputs_.empty(); }

 private:
  [[noreturn]] static void ThrowTypeMismatch(const std::string& id);

  std::vector<std::pair<std::string, OutputBase*>> outputs_;
};

/// Implemented by operators whose functions may emit side outputs (ctx.Output); the runtime
/// connects the streams of GetSideOutput through it. Other operators have no side outputs: a
/// GetSideOutput of theirs is an empty stream (it still receives their watermarks).
class HasSideOutputs {
 public:
  virtual ~HasSideOutputs() = default;
  SideOutputs& side_outputs() { return side_outputs_; }

 protected:
  SideOutputs side_outputs_;
};

/// The main output of an operator that has side outputs: records go to the main output,
/// watermarks and watermark status to every output, as Flink broadcasts them to side outputs.
/// Only operators with a GetSideOutput consumer pay for it.
template <typename T>
class SideOutputTee final : public Output<T> {
 public:
  SideOutputTee(Output<T>* main, std::vector<OutputBase*> sides)
      : main_(main), sides_(std::move(sides)) {}
  void Collect(StreamRecord<T>&& record) override { main_->Collect(std::move(record)); }
  void EmitWatermark(Watermark watermark) override {
    main_->EmitWatermark(watermark);
    for (OutputBase* side : sides_) side->EmitWatermark(watermark);
  }
  void EmitWatermarkStatus(WatermarkStatus status) override {
    main_->EmitWatermarkStatus(status);
    for (OutputBase* side : sides_) side->EmitWatermarkStatus(status);
  }

 private:
  Output<T>* main_;
  std::vector<OutputBase*> sides_;
};

}  // namespace sluice::detail
