// Key groups as Flink computes them (DESIGN.md section 2), for templates in headers.
// Implemented in src/api/stream_execution_environment.cc on top of
// src/state/key_group_assignment.h.
#pragma once

#include <cstdint>

namespace sluice::detail {

/// murmur(key_hash) % max_parallelism.
int32_t KeyGroupForKeyHash(int32_t key_hash, int32_t max_parallelism);
/// key_group * parallelism / max_parallelism.
int32_t OperatorIndexForKeyGroup(int32_t max_parallelism, int32_t parallelism, int32_t key_group);

}  // namespace sluice::detail
