// OutputTag<T>: names a side output of an operator (Flink's OutputTag). A function emits to it
// with `ctx.Output(tag, value)` from any context that has one (ProcessFunction,
// KeyedProcessFunction, ProcessWindowFunction, CoProcessFunction, KeyedCoProcessFunction and the
// broadcast process functions), and the job reads it with
// `stream.GetSideOutput(tag)`, a DataStream<T> of its own.
//
//   const sluice::OutputTag<std::string> rejected("rejected");
//   auto main = input.Process(Validate(rejected));
//   main.GetSideOutput(rejected).Print();
//
// Two tags are the same side output when their ids are equal (as in Flink); using one id with
// two element types is a bug in the job (std::logic_error when the first record is emitted).
// Records of a side output nobody reads are dropped.
//
// Thread safety: immutable after construction; copy it freely into functions.
// Errors: an empty id throws std::invalid_argument (Flink: "OutputTag id must not be empty").
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

namespace sluice {

template <typename T>
class OutputTag {
 public:
  using value_type = T;

  explicit OutputTag(std::string id) : id_(std::move(id)) {
    if (id_.empty()) throw std::invalid_argument("OutputTag id must not be empty");
  }
  const std::string& id() const { return id_; }
  friend bool operator==(const OutputTag& a, const OutputTag& b) { return a.id_ == b.id_; }

 private:
  std::string id_;
};

}  // namespace sluice
