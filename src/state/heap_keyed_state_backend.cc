#include "state/heap_keyed_state_backend.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace sluice::detail {
namespace {

std::string Describe(KeyedStateKind kind, std::string_view type_name) {
  std::string text(KeyedStateKindName(kind));
  text += " state of type ";
  text += type_name;
  return text;
}

std::string StateOf(std::string_view name, std::string_view operator_name) {
  std::string text = "keyed state '";
  text += name;
  text += "' of operator '";
  text += operator_name;
  text += "'";
  return text;
}

// Nested deserializers name only the value type that failed; say which state and key group too.
[[noreturn]] void RethrowWithContext(const SerializationError& error, std::string_view name,
                                     std::string_view operator_name, std::int32_t key_group) {
  throw SerializationError(StateOf(name, operator_name) + ", key group " +
                           std::to_string(key_group) + ": " + error.what());
}

}  // namespace

HeapKeyedStateBackend::HeapKeyedStateBackend(const KeyedStateBackendParameters& parameters)
    : KeyedStateBackend(parameters) {
  restored_key_groups_.assign(KeyGroupCount(), false);
}

HeapKeyedStateBackend::~HeapKeyedStateBackend() = default;

Result<std::unique_ptr<KeyedStateBackend>> CreateHeapKeyedStateBackend(
    const KeyedStateBackendParameters& parameters) {
  return std::unique_ptr<KeyedStateBackend>(std::make_unique<HeapKeyedStateBackend>(parameters));
}

InternalKeyedState& HeapKeyedStateBackend::GetOrCreateState(const KeyedStateSpec& spec,
                                                            const KeyedStateFactory& factory) {
  const auto it = states_.find(spec.name);
  if (it != states_.end() && it->second.table != nullptr) {
    // Bind succeeding means same kind and C++ type: the common repeated call needs no type name.
    if (factory.Bind(*it->second.table)) return *it->second.table;
    ThrowIncompatible(spec.name, it->second, spec);
  }
  std::string type_name = spec.type_name();
  std::unique_ptr<HeapStateTable> table = factory.CreateHeapState(
      HeapStateContext{current(), operator_name(), KeyGroupCount(), tracks_changes()});
  if (!factory.Bind(*table)) {
    throw std::logic_error(StateOf(spec.name, operator_name()) +
                           ": the state made for its descriptor does not implement it (a bug)");
  }
  HeapStateTable& result = *table;
  if (it != states_.end()) {
    CheckRestoredCompatible(spec.name, it->second, spec.kind, type_name);
    // Decoded in full before it is installed: a failure leaves the backend as it was.
    DecodePending(spec.name, it->second, *table);
    for (std::size_t index = 0; index < it->second.pending_marked.size(); ++index) {
      if (it->second.pending_marked[index]) table->MarkAllChanged(index);
    }
    it->second.table = std::move(table);
    it->second.pending.clear();
    it->second.pending.shrink_to_fit();
    it->second.pending_marked.clear();
    it->second.pending_marked.shrink_to_fit();
  } else {
    states_.emplace(spec.name, Slot{spec.kind, std::move(type_name), std::move(table), {}, {}});
  }
  return result;
}

void HeapKeyedStateBackend::ThrowIncompatible(std::string_view name, const Slot& slot,
                                              const KeyedStateSpec& spec) const {
  const std::string type_name = spec.type_name();
  if (slot.kind == spec.kind && slot.type_name == type_name) {
    // Two C++ types with one type name (long and long long are both int64): the bytes would
    // agree, but one object cannot be both.
    throw std::logic_error(StateOf(name, operator_name()) + " is registered as " +
                           Describe(slot.kind, slot.type_name) +
                           " with a different C++ type than it is now requested with (same "
                           "type name, e.g. long and long long); use one C++ type per state");
  }
  throw std::logic_error(StateOf(name, operator_name()) + " is registered as " +
                         Describe(slot.kind, slot.type_name) + " and now requested as " +
                         Describe(spec.kind, type_name) +
                         "; one name cannot hold two kinds or types of state");
}

void HeapKeyedStateBackend::CheckRestoredCompatible(std::string_view name, const Slot& slot,
                                                    KeyedStateKind kind,
                                                    const std::string& type_name) const {
  if (slot.kind == kind && slot.type_name == type_name) return;
  throw std::logic_error(StateOf(name, operator_name()) + " was restored from a checkpoint as " +
                         Describe(slot.kind, slot.type_name) + " but is now requested as " +
                         Describe(kind, type_name) +
                         "; a state cannot change its kind or type across restarts: keep the "
                         "old type, or give the new state a new name");
}

void HeapKeyedStateBackend::ReadPayloadInto(std::string_view name, HeapStateTable& table,
                                            std::size_t index, std::int32_t key_group,
                                            std::string_view payload, PayloadFormat format) const {
  try {
    DataInput in(payload);
    table.ReadPayload(index, in, format);
    if (!in.AtEnd()) {
      ThrowSerializationError("keyed state payload", in.position(),
                              "unexpected bytes after the last entry");
    }
  } catch (const SerializationError& error) {
    RethrowWithContext(error, name, operator_name(), key_group);
  }
}

void HeapKeyedStateBackend::DecodePending(std::string_view name, const Slot& slot,
                                          HeapStateTable& table) const {
  for (std::size_t index = 0; index < slot.pending.size(); ++index) {
    if (!slot.pending[index]) continue;
    ReadPayloadInto(name, table, index, key_group_start() + static_cast<std::int32_t>(index),
                    slot.pending[index]->bytes, slot.pending[index]->format);
  }
}

void HeapKeyedStateBackend::SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const {
  const std::size_t index = IndexOf(key_group, "SnapshotKeyGroup");
  std::uint64_t count = 0;
  for (const auto& [name, slot] : states_) {
    const bool has_entries =
        slot.table != nullptr ? slot.table->HasEntries(index) : slot.pending[index].has_value();
    count += has_entries ? 1 : 0;
  }
  out.WriteU8(kKeyedSectionVersion);
  out.WriteVarU64(count);
  // The payload is length-prefixed so that a reader can keep it raw without knowing its type;
  // building it apart costs one copy per state and key group, at checkpoint time only.
  DataOutput payload;
  for (const auto& [name, slot] : states_) {
    PayloadFormat format = PayloadFormat::kFramedValues;
    std::string_view bytes;
    if (slot.table != nullptr) {
      if (!slot.table->HasEntries(index)) continue;
      payload.Clear();
      slot.table->WritePayload(index, payload);
      bytes = payload.data();
    } else if (slot.pending[index]) {
      format = slot.pending[index]->format;
      bytes = slot.pending[index]->bytes;
    } else {
      continue;
    }
    out.WriteString(name);
    out.WriteU8(static_cast<std::uint8_t>(slot.kind));
    out.WriteString(slot.type_name);
    out.WriteU8(static_cast<std::uint8_t>(format));
    out.WriteString(bytes);
  }
}

void HeapKeyedStateBackend::RestoreKeyGroup(std::int32_t key_group, DataInput& in) {
  const std::size_t index = IndexOf(key_group, "RestoreKeyGroup");
  if (restored_key_groups_[index]) {
    throw std::logic_error("RestoreKeyGroup of operator '" + operator_name() + "': key group " +
                           std::to_string(key_group) + " was already restored");
  }
  const std::string what = "keyed state section of key group " + std::to_string(key_group);
  const std::size_t version_offset = in.position();
  const std::uint8_t version = in.ReadU8();
  if (version == 0 || version > kKeyedSectionVersion) {
    ThrowSerializationError(
        what, version_offset,
        "format version " + std::to_string(version) + " is not one this program reads (1 to " +
            std::to_string(kKeyedSectionVersion) + "); was it written by a newer release?");
  }
  const std::uint64_t count = in.ReadVarU64();
  std::vector<std::string_view> seen;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t name_offset = in.position();
    const std::string_view name = in.ReadStringView();
    for (std::string_view other : seen) {
      if (other == name) {
        ThrowSerializationError(what, name_offset,
                                "state '" + std::string(name) + "' appears twice");
      }
    }
    seen.push_back(name);
    const std::size_t kind_offset = in.position();
    const std::uint8_t kind_byte = in.ReadU8();
    if (kind_byte > kLastKeyedStateKind) {
      ThrowSerializationError(what, kind_offset,
                              "unknown state kind " + std::to_string(kind_byte) + " of state '" +
                                  std::string(name) + "'");
    }
    const auto kind = static_cast<KeyedStateKind>(kind_byte);
    const std::string_view type_name = in.ReadStringView();
    PayloadFormat format = PayloadFormat::kUnframedValues;
    if (version >= 2) {
      const std::size_t format_offset = in.position();
      const std::uint8_t format_byte = in.ReadU8();
      if (format_byte == 0 || format_byte > kLastPayloadFormat) {
        ThrowSerializationError(what, format_offset,
                                "unknown payload format " + std::to_string(format_byte) +
                                    " of state '" + std::string(name) + "'");
      }
      format = static_cast<PayloadFormat>(format_byte);
    }
    const std::string_view payload = in.ReadStringView();

    auto it = states_.find(name);
    if (it == states_.end()) {
      Slot slot{kind, std::string(type_name), nullptr, {}, {}};
      slot.pending.resize(KeyGroupCount());
      slot.pending[index].emplace(PendingPayload{std::string(payload), format});
      states_.emplace(std::string(name), std::move(slot));
      continue;
    }
    Slot& slot = it->second;
    if (slot.table != nullptr) {
      // Restored after the job registered the state (the runtime normally restores first).
      CheckRestoredCompatible(name, Slot{kind, std::string(type_name), nullptr, {}, {}}, slot.kind,
                              slot.type_name);
      ReadPayloadInto(name, *slot.table, index, key_group, payload, format);
      continue;
    }
    if (slot.kind != kind || slot.type_name != type_name) {
      ThrowSerializationError(what, name_offset,
                              "state '" + std::string(name) + "' is " + Describe(kind, type_name) +
                                  " here but " + Describe(slot.kind, slot.type_name) +
                                  " in another key group (inconsistent checkpoint)");
    }
    slot.pending[index].emplace(PendingPayload{std::string(payload), format});
  }
  restored_key_groups_[index] = true;
}

std::vector<std::string> HeapKeyedStateBackend::StateNames() const {
  std::vector<std::string> names;
  names.reserve(states_.size());
  for (const auto& [name, slot] : states_) names.push_back(name);
  return names;
}

std::vector<std::pair<std::int32_t, std::string>> HeapKeyedStateBackend::GetKeys(
    std::string_view state_name) const {
  std::vector<std::pair<std::int32_t, std::string>> keys;
  const auto it = states_.find(state_name);
  if (it == states_.end() || it->second.table == nullptr) return keys;
  std::vector<std::string> group;
  for (std::size_t index = 0; index < KeyGroupCount(); ++index) {
    group.clear();
    it->second.table->AppendKeys(index, group);
    const auto key_group =
        static_cast<std::int32_t>(key_group_start() + static_cast<std::int64_t>(index));
    for (std::string& key : group) keys.emplace_back(key_group, std::move(key));
  }
  return keys;
}

void HeapKeyedStateBackend::VisitChanges(std::int32_t key_group, const ChangeVisitor& visit) const {
  const std::size_t index = IndexOf(key_group, "VisitChanges");
  if (!tracks_changes()) {
    throw std::logic_error("VisitChanges of operator '" + operator_name() +
                           "': the keyed state backend was created without track_changes");
  }
  DataOutput value;
  for (const auto& [name, slot] : states_) {
    if (slot.table == nullptr) {
      // A state only restored has not been written since; MarkAllChanged may have marked it.
      VisitPendingEntries(name, slot, index, visit);
      continue;
    }
    for (const std::string& key : slot.table->ChangedKeys(index)) {
      value.Clear();
      const bool present = slot.table->WriteValueOf(index, key, value);
      visit(
          KeyedStateChange{name, slot.kind, slot.type_name, key,
                           present ? std::optional<std::string_view>(value.data()) : std::nullopt});
    }
  }
}

void HeapKeyedStateBackend::VisitPendingEntries(std::string_view name, const Slot& slot,
                                                std::size_t index,
                                                const ChangeVisitor& visit) const {
  if (index >= slot.pending_marked.size() || !slot.pending_marked[index]) return;
  const std::optional<PendingPayload>& pending = slot.pending[index];
  if (!pending || pending->format != PayloadFormat::kFramedValues) return;
  const std::int32_t key_group = key_group_start() + static_cast<std::int32_t>(index);
  try {
    // The bytes were decoded up to the payload when restored, not entry by entry: check them.
    DataInput in(pending->bytes);
    const std::uint64_t count = in.ReadVarU64();
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::string_view key = in.ReadStringView();
      const std::string_view entry_value = in.ReadStringView();
      visit(KeyedStateChange{name, slot.kind, slot.type_name, key, entry_value});
    }
    if (!in.AtEnd()) {
      ThrowSerializationError("keyed state payload", in.position(),
                              "unexpected bytes after the last entry");
    }
  } catch (const SerializationError& error) {
    RethrowWithContext(error, name, operator_name(), key_group);
  }
}

void HeapKeyedStateBackend::ClearChanges() {
  for (auto& [name, slot] : states_) {
    if (slot.table != nullptr) {
      slot.table->ClearChanges();
      continue;
    }
    // VisitChanges reported the framed payloads' keys; unframed ones wait for registration
    // (see MarkAllChanged).
    for (std::size_t index = 0; index < slot.pending_marked.size(); ++index) {
      if (slot.pending[index] && slot.pending[index]->format == PayloadFormat::kFramedValues) {
        slot.pending_marked[index] = false;
      }
    }
  }
}

void HeapKeyedStateBackend::MarkAllChanged() {
  if (!tracks_changes()) {
    throw std::logic_error("MarkAllChanged of operator '" + operator_name() +
                           "': the keyed state backend was created without track_changes");
  }
  for (auto& [name, slot] : states_) {
    if (slot.table != nullptr) {
      for (std::size_t index = 0; index < KeyGroupCount(); ++index) {
        slot.table->MarkAllChanged(index);
      }
      continue;
    }
    slot.pending_marked.resize(KeyGroupCount(), false);
    for (std::size_t index = 0; index < KeyGroupCount(); ++index) {
      if (slot.pending[index]) slot.pending_marked[index] = true;
    }
  }
}

}  // namespace sluice::detail
