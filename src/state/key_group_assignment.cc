#include "state/key_group_assignment.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstdint>
#include <ostream>
#include <string>

namespace sluice::internal {

std::string KeyGroupRange::ToString() const {
  return "[" + std::to_string(start) + ", " + std::to_string(end) + "]";
}

std::ostream& operator<<(std::ostream& out, const KeyGroupRange& range) {
  return out << range.ToString();
}

KeyGroupRange ComputeKeyGroupRangeForOperatorIndex(int32_t max_parallelism, int32_t parallelism,
                                                   int32_t operator_index) {
  assert(ValidateParallelism(parallelism, max_parallelism).ok());
  assert(operator_index >= 0 && operator_index < parallelism);
  // Subtask i starts at ceil(i * max / p) and ends just before subtask i + 1 starts; the
  // same rounding as ComputeOperatorIndexForKeyGroup's floor, so the two agree. 64-bit
  // intermediates for the same reason as there.
  const int64_t max = max_parallelism;
  const int64_t index = operator_index;
  const auto start = static_cast<int32_t>((index * max + parallelism - 1) / parallelism);
  const auto end = static_cast<int32_t>(((index + 1) * max - 1) / parallelism);
  return {start, end};
}

int32_t ComputeDefaultMaxParallelism(int32_t parallelism) {
  assert(parallelism >= 1 && parallelism <= kUpperBoundMaxParallelism);
  const auto wanted = static_cast<uint32_t>(parallelism + parallelism / 2);
  const auto rounded = static_cast<int32_t>(std::bit_ceil(wanted));
  return std::clamp(rounded, kDefaultMaxParallelism, kUpperBoundMaxParallelism);
}

Status ValidateMaxParallelism(int32_t max_parallelism) {
  if (max_parallelism >= 1 && max_parallelism <= kUpperBoundMaxParallelism) return Status::Ok();
  return Status::InvalidArgument(
      "max parallelism " + std::to_string(max_parallelism) +
      " is out of range: set max parallelism (SetMaxParallelism) to a value from 1 to " +
      std::to_string(kUpperBoundMaxParallelism) + "; the default is " +
      std::to_string(kDefaultMaxParallelism));
}

Status ValidateParallelism(int32_t parallelism, int32_t max_parallelism) {
  if (Status status = ValidateMaxParallelism(max_parallelism); !status.ok()) return status;
  if (parallelism < 1) {
    return Status::InvalidArgument("parallelism " + std::to_string(parallelism) +
                                   " is out of range: set parallelism (SetParallelism) to 1 "
                                   "or more");
  }
  if (parallelism > max_parallelism) {
    return Status::InvalidArgument(
        "parallelism " + std::to_string(parallelism) + " is greater than max parallelism " +
        std::to_string(max_parallelism) +
        ": keyed state is split into max-parallelism key groups and each subtask needs at "
        "least one. Lower the parallelism (SetParallelism) or raise max parallelism "
        "(SetMaxParallelism); changing max parallelism makes keyed state in existing "
        "checkpoints and savepoints unrestorable");
  }
  return Status::Ok();
}

}  // namespace sluice::internal
