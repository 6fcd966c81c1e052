// The graph of a job under construction: the transformations its DataStream calls add.
// Implementation detail of StreamExecutionEnvironment, which holds one privately and hands it
// to the DataStream handles it creates; users never call it.
//
// Threads: the user's thread, before Execute(). Ownership: owns every transformation; the
// DataStream handles point into it, and Execute() moves the transformations into the job.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <sluice/detail/transformation.h>

namespace sluice::detail {

class GraphBuilder {
 public:
  using Nodes = std::vector<std::unique_ptr<Transformation>>;

  /// Takes ownership; returns the node (stable: nodes are never moved or removed).
  Transformation* Add(std::unique_ptr<Transformation> node) {
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }
  int32_t NextId() { return next_id_++; }

  /// The number of key groups; KeyBy reads it when it is called.
  int32_t max_parallelism() const { return max_parallelism_; }
  void set_max_parallelism(int32_t max_parallelism) { max_parallelism_ = max_parallelism; }

  const Nodes& nodes() const { return nodes_; }
  /// The transformations, for the job that runs them; the builder is empty afterwards.
  Nodes TakeNodes() { return std::exchange(nodes_, {}); }

 private:
  Nodes nodes_;
  int32_t next_id_ = 1;
  int32_t max_parallelism_ = 128;
};

}  // namespace sluice::detail
