// The file one operator instance writes into a checkpoint (chk-N/<node>-<uid>-<subtask>.state):
//
//   "SLST" | u32 format version (kSubtaskStateFormatVersion) | string uid
//   | string operator-state section (OperatorStateStore::Snapshot)
//   | u8 keyed | if keyed: varint first key group, varint last key group,
//     then per key group, in order: varint key group | string keyed section
//     (KeyedStateBackend::SnapshotKeyGroup of the job's backend) | string extras (the
//     operator's StreamOperator::SnapshotKeyGroupExtras: a keyed process operator's timers)
//
// The offset of every key group's record is kept in the checkpoint's _metadata, so an
// instance restored at another parallelism reads only the key groups it now owns.
//
// Versions: 2 (current): the extras carry their writer's own version (the timers' format,
// include/sluice/state/detail/keyed_timers.h). 1 (sluice 0.1): the same layout, but the extras
// were the timers without a version byte; DecodeKeyGroupAt hands them on as version 1 timers
// (the byte added), so files of either version restore. A newer version is refused.
//
// The file is written as a stream, one key group at a time (WriteSubtaskState): a subtask's
// state is never held in memory as one string, only one key group's record and a bounded
// buffer.
//
// Thread safety: the functions are reentrant; a StateOutputStream is used by one thread.
#pragma once

#include <cstddef>
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

inline constexpr uint32_t kSubtaskStateFormatVersion = 2;
/// The oldest version DecodeSubtaskHeader still reads.
inline constexpr uint32_t kOldestSubtaskStateFormatVersion = 1;

/// Where WriteSubtaskState sends a state file's bytes, front to back: a checkpoint file being
/// written (the runtime adapts checkpoint storage's writer), or memory.
class StateOutputStream {
 public:
  virtual ~StateOutputStream() = default;
  /// Appends `bytes`; an error stops the writer, which returns it.
  virtual Status Write(std::string_view bytes) = 0;
};

/// A StateOutputStream into a string (tests, and callers that want the bytes).
class StringStateOutputStream final : public StateOutputStream {
 public:
  Status Write(std::string_view bytes) override {
    bytes_.append(bytes);
    return Status::Ok();
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

/// Fills the keyed section and the extras of one key group (cleared before each call).
using KeyGroupWriter =
    std::function<void(int32_t key_group, DataOutput& keyed, DataOutput& extras)>;

/// How much WriteSubtaskState buffers before it writes to its stream.
inline constexpr std::size_t kStateFileBufferBytes = std::size_t{64} << 10;

/// Writes a state file of the current version to `out`, asking `write_key_group` for each key
/// group of `key_groups` in order. Returns the offset of each key group's record (first to
/// last key group; empty when not keyed) for _metadata. Errors: the stream's first error
/// (nothing more is written then). Exceptions from write_key_group propagate.
Result<std::vector<uint64_t>> WriteSubtaskState(
    StateOutputStream& out, std::string_view uid, std::string_view operator_section,
    std::optional<std::pair<int32_t, int32_t>> key_groups, const KeyGroupWriter& write_key_group);

struct SubtaskStateHeader {
  uint32_t version = kSubtaskStateFormatVersion;
  std::string uid;
  std::string_view operator_section;  // a view into the decoded bytes
  std::optional<std::pair<int32_t, int32_t>> key_groups;
};

/// Errors: Corruption naming `file` when the bytes are not such a file, or are of a version
/// this build does not read (naming it and the versions it reads).
Result<SubtaskStateHeader> DecodeSubtaskHeader(std::string_view bytes, std::string_view file);

struct KeyGroupRecord {
  std::string_view keyed;  // a view into the decoded bytes
  /// The extras as the file holds them (a view into the decoded bytes); use `upgraded_extras`
  /// instead when it is set.
  std::string_view extras;
  /// The extras rewritten into the current version's format, for a file of an older version
  /// (version 1 timers get their version byte); nullopt when `extras` are current already.
  std::optional<std::string> upgraded_extras;
};

/// The record of `key_group` at `offset` (from the metadata) of a file whose header is
/// `header`. Errors: Corruption naming `file`.
Result<KeyGroupRecord> DecodeKeyGroupAt(std::string_view bytes, const SubtaskStateHeader& header,
                                        uint64_t offset, int32_t key_group, std::string_view file);

}  // namespace sluice::internal
