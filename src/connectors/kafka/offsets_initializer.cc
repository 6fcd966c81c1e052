#include <sluice/connectors/kafka/offsets_initializer.h>

namespace sluice::kafka {

std::string ToString(OffsetResetStrategy reset) {
  switch (reset) {
    case OffsetResetStrategy::kEarliest:
      return "Earliest";
    case OffsetResetStrategy::kLatest:
      return "Latest";
    case OffsetResetStrategy::kNone:
      return "None";
  }
  return "?";
}

std::string OffsetsInitializer::ToString() const {
  switch (kind_) {
    case Kind::kEarliest:
      return "Earliest()";
    case Kind::kLatest:
      return "Latest()";
    case Kind::kCommitted:
      return "Committed(reset=" + kafka::ToString(reset_) + ")";
    case Kind::kSpecific:
      return "Offsets(" + std::to_string(offsets_.size()) +
             " partitions, reset=" + kafka::ToString(reset_) + ")";
    case Kind::kTimestamp:
      return "Timestamp(" + std::to_string(timestamp_ms_) + ")";
  }
  return "?";
}

}  // namespace sluice::kafka
