#include "connectors/kafka/offset_resolver.h"

namespace sluice::kafka::internal {
namespace {

// Partitions that got no offset from the first source fall back to the reset strategy.
Status ApplyReset(OffsetResetStrategy reset, const std::vector<TopicPartition>& missing,
                  const OffsetsInitializer& initializer, const std::optional<std::string>& group_id,
                  OffsetLookup& lookup, OffsetMap& out) {
  if (missing.empty()) return Status::Ok();
  if (reset == OffsetResetStrategy::kNone) {
    return Status::InvalidArgument(
        "partition " + ToString(missing.front()) + " has no committed offset in group '" +
        group_id.value_or("") + "' and " + initializer.ToString() +
        " has no reset strategy (undefined offset with no reset policy); use "
        "OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest) or kLatest to start such "
        "partitions");
  }
  Result<OffsetMap> fallback =
      reset == OffsetResetStrategy::kEarliest ? lookup.Earliest(missing) : lookup.Latest(missing);
  if (!fallback.ok()) return fallback.status();
  for (const TopicPartition& tp : missing) out[tp] = fallback->at(tp);
  return Status::Ok();
}

// Copies the offsets `known` has for `partitions` into `out`; returns the partitions it lacks.
std::vector<TopicPartition> TakeKnown(const std::vector<TopicPartition>& partitions,
                                      const OffsetMap& known, OffsetMap& out) {
  std::vector<TopicPartition> missing;
  for (const TopicPartition& tp : partitions) {
    auto it = known.find(tp);
    if (it != known.end()) {
      out[tp] = it->second;
    } else {
      missing.push_back(tp);
    }
  }
  return missing;
}

}  // namespace

Result<OffsetMap> ResolveOffsets(const OffsetsInitializer& initializer,
                                 const std::vector<TopicPartition>& partitions,
                                 const std::optional<std::string>& group_id, OffsetLookup& lookup) {
  if (partitions.empty()) return OffsetMap{};
  switch (initializer.kind()) {
    case OffsetsInitializer::Kind::kEarliest:
      return lookup.Earliest(partitions);
    case OffsetsInitializer::Kind::kLatest:
      return lookup.Latest(partitions);
    case OffsetsInitializer::Kind::kCommitted: {
      Result<OffsetMap> committed = lookup.Committed(partitions);
      if (!committed.ok()) return committed.status();
      OffsetMap out;
      std::vector<TopicPartition> missing = TakeKnown(partitions, *committed, out);
      if (Status st =
              ApplyReset(initializer.reset_strategy(), missing, initializer, group_id, lookup, out);
          !st.ok()) {
        return st;
      }
      return out;
    }
    case OffsetsInitializer::Kind::kSpecific: {
      OffsetMap out;
      std::vector<TopicPartition> unspecified = TakeKnown(partitions, initializer.offsets(), out);
      // Partitions missing from the map: the group's committed offset, then the reset strategy.
      std::vector<TopicPartition> missing = unspecified;
      if (!unspecified.empty() && group_id) {
        Result<OffsetMap> committed = lookup.Committed(unspecified);
        if (!committed.ok()) return committed.status();
        missing = TakeKnown(unspecified, *committed, out);
      }
      if (Status st =
              ApplyReset(initializer.reset_strategy(), missing, initializer, group_id, lookup, out);
          !st.ok()) {
        return st;
      }
      return out;
    }
    case OffsetsInitializer::Kind::kTimestamp: {
      Result<OffsetMap> found = lookup.ForTimestamp(partitions, initializer.timestamp_ms());
      if (!found.ok()) return found.status();
      OffsetMap out;
      std::vector<TopicPartition> none_later;
      for (const TopicPartition& tp : partitions) {
        auto it = found->find(tp);
        if (it != found->end()) {
          out[tp] = it->second;
        } else {
          none_later.push_back(tp);
        }
      }
      // No record at or after the timestamp: the end of the partition.
      if (!none_later.empty()) {
        Result<OffsetMap> end = lookup.Latest(none_later);
        if (!end.ok()) return end.status();
        for (const TopicPartition& tp : none_later) out[tp] = end->at(tp);
      }
      return out;
    }
  }
  return Status::Internal("unknown OffsetsInitializer kind");
}

}  // namespace sluice::kafka::internal
