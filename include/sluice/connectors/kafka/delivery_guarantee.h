// The Kafka sink's delivery guarantees (Flink's DeliveryGuarantee). See kafka_sink.h.
#pragma once

#include <string_view>

namespace sluice::kafka {

enum class DeliveryGuarantee {
  /// Records are flushed when the writer closes; a failure can lose or duplicate records.
  kNone,
  /// At every checkpoint barrier the writer waits for every delivery report: nothing is lost,
  /// a failure can duplicate what was written since the last checkpoint.
  kAtLeastOnce,
  /// Kafka transactions committed as the checkpoint's completion (DESIGN.md section 5):
  /// read_committed readers see every record exactly once.
  kExactlyOnce,
};

inline std::string_view DeliveryGuaranteeName(DeliveryGuarantee guarantee) {
  switch (guarantee) {
    case DeliveryGuarantee::kNone:
      return "NONE";
    case DeliveryGuarantee::kAtLeastOnce:
      return "AT_LEAST_ONCE";
    case DeliveryGuarantee::kExactlyOnce:
      return "EXACTLY_ONCE";
  }
  return "?";
}

}  // namespace sluice::kafka
