// The file one operator instance writes into a checkpoint (chk-N/<node>-<uid>-<subtask>.state):
//
//   "SLST" | u32 format version (kSubtaskStateFormatVersion) | string uid
//   | string operator-state section (OperatorStateStore::Snapshot)
//   | u8 keyed | if keyed: varint first key group, varint last key group,
//     then per key group, in order: varint key group | string keyed section
//     (KeyedStateStore::SnapshotKeyGroup) | string extras (timers, StreamOperator extras)
//
// The offset of every key group's record is kept in the checkpoint's _metadata, so an
// instance restored at another parallelism reads only the key groups it now owns.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/state/data_io.h>
#include <sluice/status.h>

namespace sluice::internal {

inline constexpr uint32_t kSubtaskStateFormatVersion = 1;

struct EncodedSubtaskState {
  std::string bytes;
  /// Offset in `bytes` of each key group's record, first to last key group.
  std::vector<uint64_t> key_group_offsets;
};

using KeyGroupWriter =
    std::function<void(int32_t key_group, DataOutput& keyed, DataOutput& extras)>;

EncodedSubtaskState EncodeSubtaskState(std::string_view uid, std::string_view operator_section,
                                       std::optional<std::pair<int32_t, int32_t>> key_groups,
                                       const KeyGroupWriter& write_key_group);

struct SubtaskStateHeader {
  std::string uid;
  std::string_view operator_section;  // a view into the decoded bytes
  std::optional<std::pair<int32_t, int32_t>> key_groups;
};

/// Errors: Corruption naming `file` when the bytes are not such a file or of a newer version.
Result<SubtaskStateHeader> DecodeSubtaskHeader(std::string_view bytes, std::string_view file);

struct KeyGroupRecord {
  std::string_view keyed;
  std::string_view extras;
};

/// The record of `key_group` at `offset` (from the metadata).
Result<KeyGroupRecord> DecodeKeyGroupAt(std::string_view bytes, uint64_t offset, int32_t key_group,
                                        std::string_view file);

}  // namespace sluice::internal
