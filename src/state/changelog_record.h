// Changelog records: the Kafka key and value bytes that make an operator's state durable in its
// compacted changelog topic (<prefix>.<operator uid>.changelog, key group g in partition g;
// DESIGN.md section 7), and their decoding for a restore (changelog_fold.h folds a
// partition's records into the bytes a restore needs). Part of the durable state format:
// tests/unit/state/changelog_record_test.cc pins exact bytes.
//
//   key   = u8 key version (kChangelogKeyVersion, 1) | u8 record type | per type:
//     0 keyed entry       string state name | the user key as the operator serialized it (the
//                         rest of the key)
//     1 key group extras  varint key group
//     2 operator state    varint subtask index
//     3 key group reset   varint key group
//   value = absent (a Kafka null) or u8 value version (kChangelogValueVersion, 1) | per type:
//     0 keyed entry       u8 kind (KeyedStateKind) | string type name (as in a key-group
//                         section) | the value bytes (the rest), exactly as
//                         KeyedStateChange::value gives them. Null: a tombstone, the key has
//                         no value any more.
//     1 key group extras  the operator's StreamOperator::SnapshotKeyGroupExtras bytes (the
//                         rest; they carry their own version). Null: no extras.
//     2 operator state    varint parallelism of the job that wrote it | the
//                         OperatorStateStore::Snapshot section of that subtask (the rest).
//                         Null: the subtask no longer exists (after a scale-in).
//     3 key group reset   nothing more. Never null. Every record of the key group before it
//                         (in offset order) is void: written before a changelog is written in
//                         full (KeyedStateBackend::MarkAllChanged), so that keys of an older
//                         run that the full write does not mention cannot come back.
//
// ("string" is DataOutput::WriteString: varint length, then the bytes.)
//
// Why the key looks like this: compaction keeps the last record per key, so a key must name
// exactly what its record replaces, and two different things must never share a key. The state
// name is length-prefixed, so (state "ab", key "c") and (state "a", key "bc") differ; the types
// differ in their second byte. Tombstones must be a null value, not an empty one: only a null
// value lets compaction delete the key.
//
// Versions: the key layout must not change while records of it may be in a topic, since a
// record under another key layout would not replace the old one (its key differs), so
// compaction would keep both; the key version byte exists to refuse keys of a newer layout
// rather than misread them. What can evolve is the value, behind its own version byte; a
// reader refuses versions it does not know.
//
// Thread safety: pure functions over bytes; call them from any thread.
// Errors: decoding throws SerializationError ("sluice: cannot read changelog record key of <n>
// bytes: cannot read <field> at byte offset <m>: <problem>", offsets within the key or value)
// for truncated bytes, an unknown version, an unknown record type or state kind, or bytes after
// the end of a fixed-size record. Callers that know the topic, partition and offset add them
// (and report Status::Corruption).
#pragma once

#include <cstdint>
#include <string_view>

#include <sluice/state/data_io.h>
#include <sluice/state/detail/internal_keyed_state.h>
#include <sluice/state/detail/keyed_state_backend.h>

namespace sluice::internal {

/// The layout of changelog keys; see the top of this file for why it never changes.
inline constexpr std::uint8_t kChangelogKeyVersion = 1;
/// The layout of changelog values written by this build.
inline constexpr std::uint8_t kChangelogValueVersion = 1;

/// The second byte of every changelog key (values fixed forever).
enum class ChangelogRecordType : std::uint8_t {
  kKeyedEntry = 0,
  kKeyGroupExtras = 1,
  kOperatorState = 2,
  kKeyGroupReset = 3,
};

/// The largest ChangelogRecordType value; a key naming a larger one is corrupt or newer.
inline constexpr std::uint8_t kLastChangelogRecordType =
    static_cast<std::uint8_t>(ChangelogRecordType::kKeyGroupReset);

/// "keyed entry", "key group extras", "operator state" or "key group reset" (for messages).
std::string_view ChangelogRecordTypeName(ChangelogRecordType type);

// ---- encoding: each function appends to `out` (clear a reused DataOutput first) ----

/// The key of keyed state entry (state_name, user_key).
void EncodeKeyedEntryKey(std::string_view state_name, std::string_view user_key, DataOutput& out);
/// The value of a keyed state entry that has one (a tombstone is a null value: write none).
void EncodeKeyedEntryValue(detail::KeyedStateKind kind, std::string_view type_name,
                           std::string_view value, DataOutput& out);
/// Both, for one change reported by KeyedStateBackend::VisitChanges: appends the key to `key`
/// and, when the change has a value, the value to `value`. Returns whether it has one; false
/// means the record is a tombstone, to be produced with a null value (`value` is untouched).
bool EncodeKeyedChange(const detail::KeyedStateChange& change, DataOutput& key, DataOutput& value);

/// The key of the extras record of `key_group` (>= 0).
void EncodeKeyGroupExtrasKey(std::int32_t key_group, DataOutput& out);
/// The value of an extras record. No extras (SnapshotKeyGroupExtras wrote nothing) are written
/// as a null value instead, so compaction can drop the record.
void EncodeKeyGroupExtrasValue(std::string_view extras, DataOutput& out);

/// The key of the operator (non-keyed) state of subtask `subtask` (>= 0).
void EncodeOperatorStateKey(std::int32_t subtask, DataOutput& out);
/// The value of an operator state record: the section of a subtask of a job running at
/// `parallelism` (> subtask). A restore takes the sections of subtasks [0, p) written at the
/// parallelism p of subtask 0's latest record (changelog_fold.h).
void EncodeOperatorStateValue(std::int32_t parallelism, std::string_view section, DataOutput& out);

/// The key of the reset record of `key_group` (>= 0).
void EncodeKeyGroupResetKey(std::int32_t key_group, DataOutput& out);
/// The value of a reset record (never null).
void EncodeKeyGroupResetValue(DataOutput& out);

// ---- decoding: the results are views into the bytes passed in ----

/// A decoded changelog key. Fields that do not apply to the type are empty or -1.
struct ChangelogKey {
  ChangelogRecordType type = ChangelogRecordType::kKeyedEntry;
  /// kKeyedEntry.
  std::string_view state_name;
  std::string_view user_key;
  /// kKeyGroupExtras and kKeyGroupReset.
  std::int32_t key_group = -1;
  /// kOperatorState.
  std::int32_t subtask = -1;
};

/// Throws SerializationError for an unknown key version or record type, or a truncated or
/// overlong key.
ChangelogKey DecodeChangelogKey(std::string_view key);

/// A decoded keyed entry value (not a tombstone: those have no value).
struct KeyedEntryValue {
  detail::KeyedStateKind kind = detail::KeyedStateKind::kValue;
  std::string_view type_name;
  /// The value's bytes, as a key-group section holds an entry's value.
  std::string_view value;
};

/// Throws SerializationError for an unknown value version or state kind, or truncated bytes.
KeyedEntryValue DecodeKeyedEntryValue(std::string_view value);
/// The extras bytes. Throws SerializationError for an unknown value version or no bytes.
std::string_view DecodeKeyGroupExtrasValue(std::string_view value);

struct OperatorStateValue {
  std::int32_t parallelism = 0;
  std::string_view section;
};

/// Throws SerializationError for an unknown value version, a parallelism < 1 or truncated
/// bytes.
OperatorStateValue DecodeOperatorStateValue(std::string_view value);
/// Checks a reset record's value. Throws SerializationError for an unknown value version or
/// bytes after it.
void CheckKeyGroupResetValue(std::string_view value);

}  // namespace sluice::internal
