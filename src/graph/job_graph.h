// StreamGraph -> JobGraph: resolves virtual nodes (union, partitioning, side outputs) into edges
// between operators, settles every operator's parallelism and uid, and chains operators that can
// pass records by function call (one input, forward edge, equal parallelism) into one vertex, which
// becomes one task per parallel instance. An operator with two inputs (ConnectedStreams) is never
// chained to its producers; each of its edges says which of its inputs it feeds.
//
// Runs on the thread that calls Execute(), before any task starts.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sluice/detail/transformation.h>
#include <sluice/status.h>

namespace sluice::internal {

using detail::PartitionerKind;
using detail::Transformation;

struct JobEdge {
  int32_t id = 0;
  const Transformation* producer = nullptr;
  const Transformation* consumer = nullptr;
  /// Null: the default (kind tells which: forward or rebalance).
  const detail::PartitionerBase* partitioner = nullptr;
  PartitionerKind kind = PartitionerKind::kForward;
  bool chained = false;
  /// The kSideOutput node when the edge carries a side output of the producer (its records are
  /// of that node's type, not the producer's); null for the main output.
  const Transformation* side_output = nullptr;
  /// The consumer's logical input the edge feeds: 0, or 1 for the second input of a two-input
  /// operator.
  int32_t input = 0;
  /// The node whose type the edge's records have: its channels and writers are made by it.
  const Transformation* records() const { return side_output != nullptr ? side_output : producer; }
};

struct JobNode {
  const Transformation* transformation = nullptr;
  std::string uid;
  bool uid_generated = false;
  int32_t parallelism = 1;
  int32_t vertex = 0;
  std::vector<int32_t> in_edges;
  std::vector<int32_t> out_edges;
};

struct JobVertex {
  int32_t id = 0;
  std::string name;  // "Source -> Map -> Filter"
  int32_t parallelism = 1;
  /// The chain, head first, every node after its producer.
  std::vector<const Transformation*> nodes;
  bool is_source = false;
};

struct JobGraph {
  std::vector<JobVertex> vertices;
  std::vector<JobEdge> edges;
  std::map<const Transformation*, JobNode> nodes;
  int32_t max_parallelism = 128;
  /// True when every source is bounded: the job finishes by itself.
  bool bounded = true;

  const JobNode& node(const Transformation* t) const { return nodes.at(t); }
};

struct JobGraphOptions {
  int32_t default_parallelism = 1;
  int32_t max_parallelism = 128;
  bool chaining = true;
};

/// Builds the job graph; errors name the operators involved. `warnings` receives advice
/// (e.g. operators without uid).
Result<JobGraph> BuildJobGraph(const std::vector<std::unique_ptr<Transformation>>& transformations,
                               const JobGraphOptions& options, std::vector<std::string>& warnings);

}  // namespace sluice::internal
