// Key groups: which slice of keyed state a key belongs to and which subtask owns that slice,
// computed exactly as Flink's KeyGroupRangeAssignment does, so that a key lands in the same
// key group and subtask in sluice as in Flink for the same hash (sluice/api/key_hash.h),
// parallelism and max parallelism.
//
//   key group  = MurmurHash(key hash) % max_parallelism
//   subtask    = key_group * parallelism / max_parallelism
//   its groups = ComputeKeyGroupRangeForOperatorIndex(...), a contiguous inclusive range
//
// Keyed state is written per key group, so a checkpoint taken at one parallelism restores at
// any other with the same max parallelism; changing max parallelism moves every key.
//
// Preconditions: the Compute* and Assign* functions expect settings that passed
// ValidateParallelism (1 <= parallelism <= max_parallelism <= 32768) and, where they take
// one, a key group in [0, max_parallelism) and an operator index in [0, parallelism); they
// assert this in debug builds. Flink throws on bad settings; sluice rejects them when the job
// is built, with the Status from the Validate* functions.
// Thread safety: pure functions and plain values; call them from any thread.
#pragma once

#include <cassert>
#include <cstdint>
#include <iosfwd>
#include <ranges>
#include <string>

#include <sluice/status.h>

namespace sluice::internal {

/// sluice's max parallelism when the job sets none. Flink computes its default from the
/// parallelism (ComputeDefaultMaxParallelism); sluice does not, so that raising the
/// parallelism later never changes the key groups of existing state.
inline constexpr int32_t kDefaultMaxParallelism = 128;

/// The largest max parallelism Flink accepts (KeyGroupRangeAssignment's upper bound).
inline constexpr int32_t kUpperBoundMaxParallelism = 32768;

/// Flink's MathUtils.murmurHash: one round of 32-bit MurmurHash3 over `code` with seed 0, then
/// made non-negative (a negative result is negated; INT32_MIN becomes 0).
constexpr int32_t MurmurHash(int32_t code) noexcept {
  uint32_t h = static_cast<uint32_t>(code);
  h *= 0xCC9E2D51u;
  h = (h << 15) | (h >> 17);
  h *= 0x1B873593u;
  h = (h << 13) | (h >> 19);
  h = h * 5u + 0xE6546B64u;
  h ^= 4u;  // the length in bytes of the hashed value
  // Finalisation mix (fmix32).
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  const int32_t signed_h = static_cast<int32_t>(h);
  if (signed_h >= 0) return signed_h;
  return signed_h == INT32_MIN ? 0 : -signed_h;
}

/// The key group of a key whose KeyHash is `key_hash` (Flink's computeKeyGroupForKeyHash).
constexpr int32_t AssignToKeyGroup(int32_t key_hash, int32_t max_parallelism) noexcept {
  assert(max_parallelism >= 1);
  return MurmurHash(key_hash) % max_parallelism;
}

/// The subtask that owns `key_group` (Flink's computeOperatorIndexForKeyGroup).
constexpr int32_t ComputeOperatorIndexForKeyGroup(int32_t max_parallelism, int32_t parallelism,
                                                  int32_t key_group) noexcept {
  assert(max_parallelism >= 1 && parallelism >= 1 && key_group >= 0 && key_group < max_parallelism);
  // In 64 bits: valid settings never overflow 32 (32767 * 32768 < 2^31), but this keeps bad
  // ones out of undefined behaviour.
  return static_cast<int32_t>(int64_t{key_group} * parallelism / max_parallelism);
}

/// The subtask that owns a key with this KeyHash (Flink's assignKeyToParallelOperator).
constexpr int32_t AssignKeyToParallelOperator(int32_t key_hash, int32_t max_parallelism,
                                              int32_t parallelism) noexcept {
  return ComputeOperatorIndexForKeyGroup(max_parallelism, parallelism,
                                         AssignToKeyGroup(key_hash, max_parallelism));
}

/// A contiguous, inclusive range of key groups [start, end], as Flink's KeyGroupRange. The
/// empty range is {0, -1}; any range with end < start is empty.
struct KeyGroupRange {
  int32_t start = 0;
  int32_t end = -1;

  static constexpr KeyGroupRange Empty() noexcept { return {0, -1}; }

  /// [start, end], or Empty() when start > end (Flink's KeyGroupRange.of).
  static constexpr KeyGroupRange Of(int32_t first, int32_t last) noexcept {
    return first <= last ? KeyGroupRange{first, last} : Empty();
  }

  /// The number of key groups (Flink's getNumberOfKeyGroups).
  constexpr int32_t size() const noexcept { return end >= start ? end - start + 1 : 0; }
  constexpr bool empty() const noexcept { return end < start; }
  constexpr bool Contains(int32_t key_group) const noexcept {
    return key_group >= start && key_group <= end;
  }

  /// The index-th key group of the range (Flink's getKeyGroupId); 0 <= index < size().
  constexpr int32_t KeyGroupAt(int32_t index) const noexcept {
    assert(index >= 0 && index < size());
    return start + index;
  }

  /// The key groups both ranges hold; Empty() if none (Flink's getIntersection).
  constexpr KeyGroupRange Intersection(const KeyGroupRange& other) const noexcept {
    return Of(start > other.start ? start : other.start, end < other.end ? end : other.end);
  }

  /// The key groups in ascending order: `for (int32_t key_group : range.KeyGroups())`.
  /// (KeyGroupRange itself is not a range: its member `end` is the last key group, not an
  /// iterator.)
  constexpr std::ranges::iota_view<int32_t, int32_t> KeyGroups() const noexcept {
    return std::views::iota(start, empty() ? start : end + 1);
  }

  /// "[start, end]", e.g. "[0, 42]"; the empty range prints as "[0, -1]".
  std::string ToString() const;

  friend constexpr bool operator==(const KeyGroupRange&, const KeyGroupRange&) noexcept = default;
};

std::ostream& operator<<(std::ostream& out, const KeyGroupRange& range);

/// The key groups that subtask `operator_index` owns (Flink's
/// computeKeyGroupRangeForOperatorIndex). For 1 <= parallelism <= max_parallelism the ranges
/// of subtasks 0..parallelism-1 are non-empty and tile [0, max_parallelism) in order, and
/// ComputeOperatorIndexForKeyGroup maps each of their key groups back to operator_index.
KeyGroupRange ComputeKeyGroupRangeForOperatorIndex(int32_t max_parallelism, int32_t parallelism,
                                                   int32_t operator_index);

/// Flink's default max parallelism for an operator of this parallelism (1..32768): the
/// parallelism plus half, rounded up to a power of two, clamped to [128, 32768]. sluice
/// defaults to kDefaultMaxParallelism instead; this is here to reproduce a Flink job's setting.
int32_t ComputeDefaultMaxParallelism(int32_t parallelism);

/// OK if 1 <= max_parallelism <= 32768, else InvalidArgument naming the setting.
Status ValidateMaxParallelism(int32_t max_parallelism);

/// OK if max_parallelism is valid and 1 <= parallelism <= max_parallelism, else
/// InvalidArgument naming the setting to change. Callers add which operator with
/// Status::WithContext.
Status ValidateParallelism(int32_t parallelism, int32_t max_parallelism);

}  // namespace sluice::internal
