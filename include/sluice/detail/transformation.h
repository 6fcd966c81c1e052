// The graph a job's DataStream calls build (Flink's Transformations). Each node knows its
// types; the untyped graph builder and task builder (src/graph, src/runtime) use the virtual
// factories below to create operators, channels, writers and inputs of the right types.
//
// Threads: built on the user's thread before Execute(); read-only while the job runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include <sluice/api/sink.h>
#include <sluice/api/state_participant_provider.h>
#include <sluice/detail/channel.h>
#include <sluice/detail/network_input.h>
#include <sluice/detail/operator.h>
#include <sluice/detail/partitioner.h>
#include <sluice/detail/record_writer.h>
#include <sluice/detail/two_input_network_input.h>
#include <sluice/detail/two_input_operator.h>

namespace sluice::detail {

class Transformation {
 public:
  /// kSideOutput: the records one operator emits to an OutputTag (GetSideOutput).
  /// kTwoInput: an operator with two inputs (ConnectedStreams): inputs()[0] and inputs()[1].
  enum class Kind { kSource, kOneInput, kSink, kUnion, kPartition, kSideOutput, kTwoInput };

  Transformation(int32_t id, std::string name, Kind kind)
      : id_(id), name_(std::move(name)), kind_(kind) {}
  virtual ~Transformation() = default;

  int32_t id() const { return id_; }
  Kind kind() const { return kind_; }
  bool is_virtual() const {
    return kind_ == Kind::kUnion || kind_ == Kind::kPartition || kind_ == Kind::kSideOutput;
  }
  const std::string& name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }
  const std::optional<std::string>& uid() const { return uid_; }
  void set_uid(std::string uid) { uid_ = std::move(uid); }
  /// For an operator the API adds on the user's behalf (the input taggers of a window join):
  /// without a uid of its own it takes `owner`'s uid followed by `suffix`, so naming the
  /// operator the user sees names it too, and it is not warned about separately.
  void set_uid_owner(const Transformation* owner, std::string suffix) {
    uid_owner_ = owner;
    uid_suffix_ = std::move(suffix);
  }
  const Transformation* uid_owner() const { return uid_owner_; }
  const std::string& uid_suffix() const { return uid_suffix_; }
  /// 0: the environment's default.
  int32_t parallelism() const { return parallelism_; }
  void set_parallelism(int32_t parallelism) { parallelism_ = parallelism; }
  /// A source that cannot run in parallel (FromElements): any other parallelism is an error.
  bool non_parallel() const { return non_parallel_; }
  void set_non_parallel() { non_parallel_ = true; }
  /// Operators on keyed streams get a keyed state store for their key-group range.
  bool keyed() const { return keyed_; }
  void set_keyed() { keyed_ = true; }
  bool bounded() const { return bounded_; }
  void set_bounded(bool bounded) { bounded_ = bounded; }

  const std::vector<Transformation*>& inputs() const { return inputs_; }
  void AddInput(Transformation* input) { inputs_.push_back(input); }

  /// kPartition only: how records leave the input towards this node's consumers.
  virtual const PartitionerBase* partitioner() const { return nullptr; }
  /// kSideOutput only: the OutputTag id whose records this node carries.
  virtual const std::string* side_output_id() const { return nullptr; }
  /// The C++ type of the node's records.
  virtual const std::type_info& record_type() const = 0;

  // ---- typed factories (see TypedTransformation / OneInputTransformation) ----
  virtual std::unique_ptr<StreamOperator> CreateOperator() const { return nullptr; }
  virtual std::shared_ptr<ChannelBase> CreateChannel(size_t capacity_batches) const = 0;
  /// A writer for a network edge leaving this node; `partitioner` null means the default
  /// (forward or rebalance by `default_kind`).
  virtual std::unique_ptr<RecordWriterBase> CreateRecordWriter(
      const PartitionerBase* partitioner, PartitionerKind default_kind,
      const std::vector<std::shared_ptr<ChannelBase>>& channels, int producer_subtask) const = 0;
  /// The consumers of one side output of an operator: its kSideOutput node and, as for the
  /// main output, the chained operators and network writers that read it.
  struct SideOutputConsumers {
    const Transformation* side_output = nullptr;
    std::vector<StreamOperator*> chained;
    std::vector<RecordWriterBase*> writers;
  };
  /// Connects `op` (made by this node) to its chained consumers and network writers, and its
  /// side outputs to theirs. Output objects are kept alive by `keep_alive`.
  virtual void ConnectOutputs(StreamOperator* op, const std::vector<StreamOperator*>& chained,
                              const std::vector<RecordWriterBase*>& writers,
                              const std::vector<SideOutputConsumers>& side_outputs,
                              std::vector<std::shared_ptr<void>>& keep_alive) const = 0;
  /// One output of this node's type feeding `chained` and `writers` (a discarding one when
  /// there are none), kept alive by `keep_alive`.
  virtual OutputBase* CreateOutput(const std::vector<StreamOperator*>& chained,
                                   const std::vector<RecordWriterBase*>& writers,
                                   std::vector<std::shared_ptr<void>>& keep_alive) const = 0;
  /// The channels of each logical input of a task: [0] for a one-input head, [0] and [1] for a
  /// two-input one.
  using InputChannels = std::vector<std::vector<std::shared_ptr<ChannelBase>>>;
  /// The input of a task headed by `head` (made by this node) reading `channels`.
  virtual std::unique_ptr<TaskInput> CreateNetworkInput(StreamOperator* /*head*/,
                                                        const InputChannels& /*channels*/,
                                                        TaskHooks* /*hooks*/) const {
    return nullptr;
  }
  /// Sinks only: checked before the job starts, and the participant completing checkpoints.
  virtual Status ValidateSink(const SinkValidationContext&) const { return Status::Ok(); }
  virtual std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const {
    return nullptr;
  }
  /// Sources and sinks whose connector can carry the state changelog in transactions of its
  /// own (state_participant_provider.h); null otherwise.
  virtual const StateParticipantProvider* state_participant_provider() const { return nullptr; }

 private:
  int32_t id_;
  std::string name_;
  Kind kind_;
  std::optional<std::string> uid_;
  const Transformation* uid_owner_ = nullptr;
  std::string uid_suffix_;
  int32_t parallelism_ = 0;
  bool non_parallel_ = false;
  bool keyed_ = false;
  bool bounded_ = true;
  std::vector<Transformation*> inputs_;
};

/// The channels of one input, cast to their record type.
template <typename T>
std::vector<std::shared_ptr<Channel<T>>> TypedChannels(
    const std::vector<std::shared_ptr<ChannelBase>>& channels) {
  std::vector<std::shared_ptr<Channel<T>>> typed;
  typed.reserve(channels.size());
  for (const auto& channel : channels)
    typed.push_back(std::dynamic_pointer_cast<Channel<T>>(channel));
  return typed;
}

/// A node whose records are of type Out.
template <typename Out>
class TypedTransformation : public Transformation {
 public:
  using Transformation::Transformation;

  const std::type_info& record_type() const override { return typeid(Out); }

  std::shared_ptr<ChannelBase> CreateChannel(size_t capacity_batches) const override {
    return std::make_shared<Channel<Out>>(capacity_batches);
  }

  std::unique_ptr<RecordWriterBase> CreateRecordWriter(
      const PartitionerBase* partitioner, PartitionerKind default_kind,
      const std::vector<std::shared_ptr<ChannelBase>>& channels,
      int producer_subtask) const override {
    std::unique_ptr<Partitioner<Out>> typed;
    if (partitioner != nullptr) {
      typed = dynamic_cast<const Partitioner<Out>&>(*partitioner).Clone();
    } else if (default_kind == PartitionerKind::kForward) {
      typed = std::make_unique<ForwardPartitioner<Out>>();
    } else {
      typed = std::make_unique<RebalancePartitioner<Out>>();
    }
    std::vector<std::shared_ptr<Channel<Out>>> typed_channels;
    typed_channels.reserve(channels.size());
    for (const auto& channel : channels)
      typed_channels.push_back(std::dynamic_pointer_cast<Channel<Out>>(channel));
    return std::make_unique<RecordWriter<Out>>(std::move(typed), std::move(typed_channels),
                                               producer_subtask);
  }

  void ConnectOutputs(StreamOperator* op, const std::vector<StreamOperator*>& chained,
                      const std::vector<RecordWriterBase*>& writers,
                      const std::vector<SideOutputConsumers>& side_outputs,
                      std::vector<std::shared_ptr<void>>& keep_alive) const override {
    auto* producer = dynamic_cast<HasOutput<Out>*>(op->OutputOperator());
    if (producer == nullptr) return;  // sinks produce nothing
    Output<Out>* main = MakeOutput(chained, writers, keep_alive);
    if (side_outputs.empty()) {
      producer->SetOutput(main);
      return;
    }
    auto* owner = dynamic_cast<HasSideOutputs*>(op->OutputOperator());
    std::vector<OutputBase*> sides;
    for (const SideOutputConsumers& side : side_outputs) {
      OutputBase* output = side.side_output->CreateOutput(side.chained, side.writers, keep_alive);
      sides.push_back(output);
      // An operator without side outputs leaves the stream empty (watermarks still flow).
      if (owner != nullptr) owner->side_outputs().Set(*side.side_output->side_output_id(), output);
    }
    auto tee = std::make_shared<SideOutputTee<Out>>(main, std::move(sides));
    producer->SetOutput(tee.get());
    keep_alive.push_back(tee);
  }

  OutputBase* CreateOutput(const std::vector<StreamOperator*>& chained,
                           const std::vector<RecordWriterBase*>& writers,
                           std::vector<std::shared_ptr<void>>& keep_alive) const override {
    return MakeOutput(chained, writers, keep_alive);
  }

 private:
  Output<Out>* MakeOutput(const std::vector<StreamOperator*>& chained,
                          const std::vector<RecordWriterBase*>& writers,
                          std::vector<std::shared_ptr<void>>& keep_alive) const {
    std::vector<Output<Out>*> outputs;
    for (StreamOperator* consumer : chained) {
      auto chaining =
          std::make_shared<ChainingOutput<Out>>(dynamic_cast<Input<Out>*>(consumer), consumer);
      outputs.push_back(chaining.get());
      keep_alive.push_back(chaining);
    }
    for (RecordWriterBase* writer : writers)
      outputs.push_back(dynamic_cast<RecordWriter<Out>*>(writer));
    if (outputs.empty()) {
      auto discard = std::make_shared<DiscardingOutput<Out>>();
      keep_alive.push_back(discard);
      return discard.get();
    }
    if (outputs.size() == 1) return outputs[0];
    auto broadcast = std::make_shared<BroadcastingOutput<Out>>(std::move(outputs));
    keep_alive.push_back(broadcast);
    return broadcast.get();
  }
};

template <typename Out>
class SourceTransformation final : public TypedTransformation<Out> {
 public:
  using Factory = std::function<std::unique_ptr<StreamOperator>()>;
  SourceTransformation(int32_t id, std::string name, Factory factory, bool bounded)
      : TypedTransformation<Out>(id, std::move(name), Transformation::Kind::kSource),
        factory_(std::move(factory)) {
    this->set_bounded(bounded);
  }
  std::unique_ptr<StreamOperator> CreateOperator() const override { return factory_(); }
  /// The source definition, when it is a StateParticipantProvider (kept alive with the node).
  void set_state_participant_provider(std::shared_ptr<const StateParticipantProvider> provider) {
    provider_ = std::move(provider);
  }
  const StateParticipantProvider* state_participant_provider() const override {
    return provider_.get();
  }

 private:
  Factory factory_;
  std::shared_ptr<const StateParticipantProvider> provider_;
};

template <typename In, typename Out>
class OneInputTransformation : public TypedTransformation<Out> {
 public:
  using Factory = std::function<std::unique_ptr<StreamOperator>()>;
  OneInputTransformation(int32_t id, std::string name, Factory factory, Transformation* input,
                         Transformation::Kind kind = Transformation::Kind::kOneInput)
      : TypedTransformation<Out>(id, std::move(name), kind), factory_(std::move(factory)) {
    this->AddInput(input);
  }
  std::unique_ptr<StreamOperator> CreateOperator() const override { return factory_(); }

  std::unique_ptr<TaskInput> CreateNetworkInput(StreamOperator* head,
                                                const Transformation::InputChannels& channels,
                                                TaskHooks* hooks) const override {
    return std::make_unique<NetworkInput<In>>(TypedChannels<In>(channels.at(0)),
                                              dynamic_cast<Input<In>*>(head), head, hooks);
  }

 private:
  Factory factory_;
};

/// ConnectedStreams' operators: records of In1 from inputs()[0], of In2 from inputs()[1].
template <typename In1, typename In2, typename Out>
class TwoInputTransformation final : public TypedTransformation<Out> {
 public:
  using Factory = std::function<std::unique_ptr<StreamOperator>()>;
  TwoInputTransformation(int32_t id, std::string name, Factory factory, Transformation* input1,
                         Transformation* input2)
      : TypedTransformation<Out>(id, std::move(name), Transformation::Kind::kTwoInput),
        factory_(std::move(factory)) {
    this->AddInput(input1);
    this->AddInput(input2);
  }
  std::unique_ptr<StreamOperator> CreateOperator() const override { return factory_(); }

  std::unique_ptr<TaskInput> CreateNetworkInput(StreamOperator* head,
                                                const Transformation::InputChannels& channels,
                                                TaskHooks* hooks) const override {
    return std::make_unique<TwoInputNetworkInput<In1, In2>>(
        TypedChannels<In1>(channels.at(0)), TypedChannels<In2>(channels.at(1)),
        dynamic_cast<TwoInput<In1, In2>*>(head), head, hooks);
  }

 private:
  Factory factory_;
};

template <typename In>
class SinkTransformation final : public OneInputTransformation<In, In> {
 public:
  using Factory = typename OneInputTransformation<In, In>::Factory;
  SinkTransformation(int32_t id, std::string name, Factory factory, Transformation* input,
                     std::shared_ptr<const Sink<In>> sink = nullptr)
      : OneInputTransformation<In, In>(id, std::move(name), std::move(factory), input,
                                       Transformation::Kind::kSink),
        sink_(std::move(sink)) {}
  Status ValidateSink(const SinkValidationContext& job) const override {
    return sink_ ? sink_->Validate(job) : Status::Ok();
  }
  std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const override {
    return sink_ ? sink_->GetCheckpointParticipant() : nullptr;
  }
  const StateParticipantProvider* state_participant_provider() const override {
    return dynamic_cast<const StateParticipantProvider*>(sink_.get());
  }

 private:
  std::shared_ptr<const Sink<In>> sink_;
};

/// Union and partitioning are virtual: they shape edges, they run nothing.
template <typename T>
class VirtualTransformation final : public TypedTransformation<T> {
 public:
  VirtualTransformation(int32_t id, std::string name, Transformation::Kind kind,
                        std::unique_ptr<Partitioner<T>> partitioner = nullptr)
      : TypedTransformation<T>(id, std::move(name), kind), partitioner_(std::move(partitioner)) {}
  const PartitionerBase* partitioner() const override { return partitioner_.get(); }

 private:
  std::unique_ptr<Partitioner<T>> partitioner_;
};

/// GetSideOutput(tag): the records an operator emits to one OutputTag. Virtual like a
/// partition: its consumers read from the operator that is its input.
template <typename T>
class SideOutputTransformation final : public TypedTransformation<T> {
 public:
  SideOutputTransformation(int32_t id, std::string tag_id, Transformation* input)
      : TypedTransformation<T>(id, "SideOutput(" + tag_id + ")", Transformation::Kind::kSideOutput),
        tag_id_(std::move(tag_id)) {
    this->AddInput(input);
  }
  const std::string* side_output_id() const override { return &tag_id_; }

 private:
  std::string tag_id_;
};

}  // namespace sluice::detail
