#include "connectors/kafka/partition_assigner.h"

#include <cassert>
#include <cstdint>
#include <string_view>

#include <sluice/api/key_hash.h>

namespace sluice::internal {

int32_t AssignPartitionToSubtask(std::string_view topic, int32_t partition, int32_t parallelism) {
  assert(parallelism >= 1);
  // Java int arithmetic: multiply and add on uint32_t (wrap-around instead of C++'s undefined
  // signed overflow), then back to int32_t, whose % truncates towards zero like Java's.
  const auto topic_hash = static_cast<uint32_t>(JavaStringHashCode(topic));
  const auto spread = static_cast<int32_t>((topic_hash * 31u) & 0x7FFFFFFFu);
  const int32_t start = spread % parallelism;
  const auto sum =
      static_cast<int32_t>(static_cast<uint32_t>(start) + static_cast<uint32_t>(partition));
  return sum % parallelism;
}

}  // namespace sluice::internal
