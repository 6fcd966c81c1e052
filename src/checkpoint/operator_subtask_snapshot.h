// OperatorSubtaskSnapshot: what one operator instance contributes to a checkpoint, as a task
// acknowledges it to the coordinator (one per operator of its chain). Plain value.
#pragma once

#include <cstdint>
#include <string>

#include "checkpoint/checkpoint_metadata.h"

namespace sluice::internal {

struct OperatorSubtaskSnapshot {
  std::string uid;
  std::string name;
  int32_t parallelism = 1;
  int32_t max_parallelism = 128;
  /// The state file the task wrote into the checkpoint's SnapshotLocation, with its size,
  /// checksum and (keyed operators) the offset of every key group in it.
  SubtaskStateMeta meta;
};

}  // namespace sluice::internal
