// HeapKeyedStateBackend: the "heap" keyed state backend (Flink's HeapKeyedStateBackend /
// HashMapStateBackend). Keyed state lives as C++ objects in per-key-group hash tables
// (include/sluice/state/detail/heap_keyed_state.h); a checkpoint writes it one key group at a
// time in the section format below.
//
// Byte format of one key-group section (SnapshotKeyGroup / RestoreKeyGroup), part of the
// checkpoint format (tests/unit/state/heap_keyed_state_backend_test.cc pins exact bytes):
//
//   u8 kKeyedSectionVersion (2)
//   varint number of states that follow
//   per state, in ascending name order:
//     string name
//     u8 kind (KeyedStateKind: 0 value, 1 list, 2 map, 3 reducing, 4 aggregating)
//     string type name: TypeNameOf<T>() of the value type; for a list the element type T,
//                       for a map "map<UK,UV>" (TypeNameOf<std::map<UK, UV>>()), for
//                       aggregating state the accumulator type
//     u8 payload format (PayloadFormat: 1 unframed values, 2 framed values; version 2 only)
//     string payload:   varint number of entries, then per entry:
//                         string key bytes
//                         the value by SerializeValue: T (value, reducing), std::vector<T>
//                         (list), std::map<UK, UV> (map), the accumulator (aggregating); as
//                         a string in format 2
//
// ("string" is DataOutput::WriteString: varint length, then the bytes.) States without entries
// in the key group are omitted; entries are in hash-table order, so equal state may give
// different bytes: compare decoded values, not snapshots. Lists and maps never hold an empty
// entry: emptying one erases the key's entry.
//
// Version 1 (checkpoints of earlier releases, still restored) has no payload format byte: its
// payloads are all unframed. Registered states are always written framed; a restored payload is
// written back in the format it was read in.
//
// Restored state that the job has not registered (yet) stays as the raw payload bytes of each
// key group, type-checked and decoded when the job first asks for the state, and written back
// unchanged by SnapshotKeyGroup until then, so state of a function that is not opened in one
// run survives into the next checkpoint. MarkAllChanged marks such a payload's key group;
// VisitChanges then reports its entries split from the framed payload, so a changelog written
// in full holds every key even of a state the job never registers. Only an unframed (version 1)
// payload cannot be split without its type: its keys count as changed when the job registers
// the state.
//
// Thread safety, ownership, errors: as KeyedStateBackend.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/state/detail/keyed_state_backend.h>

namespace sluice::detail {

/// The format version written at the start of every key-group section.
inline constexpr std::uint8_t kKeyedSectionVersion = 2;

class HeapKeyedStateBackend : public KeyedStateBackend {
 public:
  static constexpr std::string_view kName = "heap";

  explicit HeapKeyedStateBackend(const KeyedStateBackendParameters& parameters);
  ~HeapKeyedStateBackend() override;

  std::string_view name() const override { return kName; }
  void SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const override;
  void RestoreKeyGroup(std::int32_t key_group, DataInput& in) override;
  std::vector<std::string> StateNames() const override;
  std::vector<std::pair<std::int32_t, std::string>> GetKeys(
      std::string_view state_name) const override;
  void VisitChanges(std::int32_t key_group, const ChangeVisitor& visit) const override;
  void ClearChanges() override;
  void MarkAllChanged() override;

 protected:
  InternalKeyedState& GetOrCreateState(const KeyedStateSpec& spec,
                                       const KeyedStateFactory& factory) override;

 private:
  /// A restored payload kept raw until the job registers its state.
  struct PendingPayload {
    std::string bytes;
    PayloadFormat format;
  };
  struct Slot {
    KeyedStateKind kind;
    std::string type_name;
    /// Null while the state is only restored.
    std::unique_ptr<HeapStateTable> table;
    /// Until registered: the raw payload of each key group (by index) that had entries.
    std::vector<std::optional<PendingPayload>> pending;
    /// Until registered: the key groups (by index) whose pending keys MarkAllChanged marked and
    /// VisitChanges has not reported for good (ClearChanges clears the framed ones; an
    /// unframed one is marked until its keys are decoded); empty when none.
    std::vector<bool> pending_marked;
  };

  /// A registered state requested as another kind, type, or C++ type with the same type name.
  [[noreturn]] void ThrowIncompatible(std::string_view name, const Slot& slot,
                                      const KeyedStateSpec& spec) const;
  void CheckRestoredCompatible(std::string_view name, const Slot& slot, KeyedStateKind kind,
                               const std::string& type_name) const;
  void DecodePending(std::string_view name, const Slot& slot, HeapStateTable& table) const;
  void ReadPayloadInto(std::string_view name, HeapStateTable& table, std::size_t index,
                       std::int32_t key_group, std::string_view payload,
                       PayloadFormat format) const;
  /// Reports every entry of a framed pending payload as a change.
  void VisitPendingEntries(std::string_view name, const Slot& slot, std::size_t index,
                           const ChangeVisitor& visit) const;

  // Ordered so that snapshots list states in name order.
  std::map<std::string, Slot, std::less<>> states_;
  std::vector<bool> restored_key_groups_;
};

/// The registry's factory for "heap".
Result<std::unique_ptr<KeyedStateBackend>> CreateHeapKeyedStateBackend(
    const KeyedStateBackendParameters& parameters);

}  // namespace sluice::detail
