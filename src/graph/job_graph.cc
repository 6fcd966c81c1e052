#include "graph/job_graph.h"

#include <functional>
#include <set>

namespace sluice::internal {
namespace {

std::string Describe(const Transformation* t) {
  return "'" + t->name() + "' (#" + std::to_string(t->id()) + ")";
}

// One producer of a consumer's records: the operator, the partitioner closest to the consumer,
// and the side output node when the records are one of the operator's side outputs.
struct ResolvedInput {
  const Transformation* producer;
  const detail::PartitionerBase* partitioner;
  const Transformation* side_output;
};

// Walks from a consumer's input through union, partition and side output nodes to the operators
// that produce its records; the partitioner closest to the consumer wins.
Status ResolveInputs(const Transformation* input, const detail::PartitionerBase* partitioner,
                     std::vector<ResolvedInput>& out) {
  if (input->kind() == Transformation::Kind::kPartition) {
    return ResolveInputs(input->inputs().at(0),
                         partitioner != nullptr ? partitioner : input->partitioner(), out);
  }
  if (input->kind() == Transformation::Kind::kUnion) {
    for (const Transformation* in : input->inputs()) {
      SLUICE_RETURN_IF_ERROR(ResolveInputs(in, partitioner, out));
    }
    return Status::Ok();
  }
  if (input->kind() == Transformation::Kind::kSideOutput) {
    const Transformation* producer = input->inputs().at(0);
    if (producer->is_virtual()) {
      return Status::InvalidArgument(
          "GetSideOutput(\"" + *input->side_output_id() + "\") is called on " + Describe(producer) +
          ", which is not an operator; call it on the stream an operator returns (Process, "
          "a window function, ...)");
    }
    out.push_back({producer, partitioner, input});
    return Status::Ok();
  }
  out.push_back({input, partitioner, nullptr});
  return Status::Ok();
}

}  // namespace

Result<JobGraph> BuildJobGraph(const std::vector<std::unique_ptr<Transformation>>& transformations,
                               const JobGraphOptions& options, std::vector<std::string>& warnings) {
  JobGraph graph;
  graph.max_parallelism = options.max_parallelism;
  std::vector<const Transformation*> physical;
  for (const auto& t : transformations) {
    if (!t->is_virtual()) physical.push_back(t.get());
  }
  if (physical.empty()) {
    return Status::FailedPrecondition(
        "the job has no operators; add a source and a sink before Execute()");
  }

  // Parallelism and uids.
  std::map<std::string, const Transformation*> uids;
  for (const Transformation* t : physical) {
    JobNode node;
    node.transformation = t;
    int32_t p = t->parallelism() > 0 ? t->parallelism() : options.default_parallelism;
    if (t->non_parallel()) {
      if (t->parallelism() > 1) {
        return Status::InvalidArgument(
            "operator " + Describe(t) +
            " cannot run in parallel (a non-parallel source, or WindowAll); its parallelism "
            "must be 1, not " +
            std::to_string(t->parallelism()));
      }
      p = 1;
    }
    if (p < 1 || p > options.max_parallelism) {
      return Status::InvalidArgument(
          "operator " + Describe(t) + " has parallelism " + std::to_string(p) +
          "; it must be between 1 and the max parallelism " +
          std::to_string(options.max_parallelism) + " (SetMaxParallelism)");
    }
    node.parallelism = p;
    if (t->uid()) {
      auto [it, inserted] = uids.emplace(*t->uid(), t);
      if (!inserted) {
        return Status::InvalidArgument(
            "two operators have uid '" + *t->uid() + "': " + Describe(it->second) + " and " +
            Describe(t) + "; a uid identifies one operator's state, so each must be unique");
      }
      node.uid = *t->uid();
    }
    graph.nodes.emplace(t, std::move(node));
  }
  // Operators the API added for another (uid_owner) take its uid plus their suffix.
  for (const Transformation* t : physical) {
    JobNode& node = graph.nodes.at(t);
    const Transformation* owner = t->uid_owner();
    if (!node.uid.empty() || owner == nullptr || !owner->uid()) continue;
    std::string derived = *owner->uid() + t->uid_suffix();
    auto [it, inserted] = uids.emplace(derived, t);
    if (!inserted) {
      return Status::InvalidArgument(
          "two operators have uid '" + derived + "': " + Describe(it->second) + " and " +
          Describe(t) + " (the uid of " + Describe(owner) + " plus '" + t->uid_suffix() +
          "'); a uid identifies one operator's "
          "state, so each must be unique");
    }
    node.uid = std::move(derived);
  }
  for (const Transformation* t : physical) {
    JobNode& node = graph.nodes.at(t);
    if (!node.uid.empty()) continue;
    // Stable as long as the job is built by the same calls in the same order.
    std::string generated = t->name() + "#" + std::to_string(t->id());
    while (uids.count(generated) != 0) generated += "'";
    uids.emplace(generated, t);
    node.uid = generated;
    // An operator added for another is covered by the warning about its owner.
    node.uid_generated = t->uid_owner() == nullptr;
  }

  // Edges.
  for (const Transformation* t : physical) {
    std::vector<ResolvedInput> producers;
    // The logical input (of a two-input operator) each resolved producer feeds.
    std::vector<int32_t> logical_inputs;
    const bool two_inputs = t->kind() == Transformation::Kind::kTwoInput;
    for (size_t i = 0; i < t->inputs().size(); ++i) {
      SLUICE_RETURN_IF_ERROR(ResolveInputs(t->inputs()[i], nullptr, producers));
      logical_inputs.resize(producers.size(), two_inputs ? static_cast<int32_t>(i) : 0);
    }
    for (size_t p = 0; p < producers.size(); ++p) {
      auto [producer, partitioner, side_output] = producers[p];
      JobEdge edge;
      edge.id = static_cast<int32_t>(graph.edges.size());
      edge.producer = producer;
      edge.consumer = t;
      edge.partitioner = partitioner;
      edge.side_output = side_output;
      edge.input = logical_inputs[p];
      int32_t up = graph.nodes.at(producer).parallelism;
      int32_t down = graph.nodes.at(t).parallelism;
      if (partitioner != nullptr) {
        edge.kind = partitioner->kind();
      } else {
        edge.kind = up == down ? PartitionerKind::kForward : PartitionerKind::kRebalance;
      }
      if (edge.kind == PartitionerKind::kForward && up != down) {
        return Status::InvalidArgument("Forward() between " + Describe(producer) +
                                       " with parallelism " + std::to_string(up) + " and " +
                                       Describe(t) + " with parallelism " + std::to_string(down) +
                                       ": forward needs equal parallelism; use Rebalance()");
      }
      graph.nodes.at(producer).out_edges.push_back(edge.id);
      graph.nodes.at(t).in_edges.push_back(edge.id);
      graph.edges.push_back(edge);
    }
    if (t->kind() != Transformation::Kind::kSource && producers.empty()) {
      return Status::Internal("operator " + Describe(t) + " has no input");
    }
  }

  // One side output per producer and tag id, however many GetSideOutput calls read it: their
  // edges share the first call's node, so the operator emits each record once to all readers.
  std::map<std::pair<const Transformation*, std::string>, const Transformation*> side_outputs;
  for (JobEdge& edge : graph.edges) {
    if (edge.side_output == nullptr) continue;
    auto [it, inserted] = side_outputs.emplace(
        std::make_pair(edge.producer, *edge.side_output->side_output_id()), edge.side_output);
    if (inserted) continue;
    if (it->second->record_type() != edge.side_output->record_type()) {
      return Status::InvalidArgument(
          "the side output \"" + it->first.second + "\" of " + Describe(edge.producer) +
          " is read (GetSideOutput) with two element types; use one OutputTag type per id");
    }
    edge.side_output = it->second;
  }

  // Chaining: a node joins its producer's vertex when it has a single forward input.
  for (const Transformation* t : physical) {
    JobNode& node = graph.nodes.at(t);
    bool chain = false;
    // Two-input operators head their task: their inputs arrive through a two-input network
    // input, whatever the edges (a.Connect(a) with forward edges included).
    if (options.chaining && node.in_edges.size() == 1 &&
        t->kind() != Transformation::Kind::kTwoInput) {
      JobEdge& edge = graph.edges[static_cast<size_t>(node.in_edges[0])];
      chain = edge.kind == PartitionerKind::kForward;
      edge.chained = chain;
    }
    if (chain) {
      const JobEdge& edge = graph.edges[static_cast<size_t>(node.in_edges[0])];
      node.vertex = graph.nodes.at(edge.producer).vertex;
      JobVertex& vertex = graph.vertices[static_cast<size_t>(node.vertex)];
      vertex.nodes.push_back(t);
      vertex.name += " -> " + t->name();
    } else {
      JobVertex vertex;
      vertex.id = static_cast<int32_t>(graph.vertices.size());
      vertex.name = t->name();
      vertex.parallelism = node.parallelism;
      vertex.nodes.push_back(t);
      vertex.is_source = t->kind() == Transformation::Kind::kSource;
      node.vertex = vertex.id;
      graph.vertices.push_back(std::move(vertex));
    }
    if (t->kind() == Transformation::Kind::kSource && !t->bounded()) graph.bounded = false;
  }

  for (const Transformation* t : physical) {
    const JobNode& node = graph.nodes.at(t);
    if (node.uid_generated) {
      warnings.push_back("operator " + Describe(t) +
                         " has no uid; its state is matched by the generated uid '" + node.uid +
                         "', which changes when the job's operators change; set .Uid(...) on it");
    }
  }
  return graph;
}

}  // namespace sluice::internal
