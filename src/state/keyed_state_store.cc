#include <sluice/state/detail/keyed_state_store.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace sluice::detail {
namespace {

constexpr std::uint8_t kLastKind = static_cast<std::uint8_t>(KeyedStateKind::kReducing);

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

std::string_view KeyedStateKindName(KeyedStateKind kind) {
  switch (kind) {
    case KeyedStateKind::kValue:
      return "value";
    case KeyedStateKind::kList:
      return "list";
    case KeyedStateKind::kMap:
      return "map";
    case KeyedStateKind::kReducing:
      return "reducing";
  }
  return "unknown";
}

void ThrowNoCurrentKey(std::string_view operator_name, std::string_view state_name) {
  throw std::logic_error(StateOf(state_name, operator_name) +
                         " was accessed without a current key; keyed state can be used only "
                         "while an element or timer of a keyed stream is processed (not in "
                         "Open or Close)");
}

void ThrowDuplicateRestoredKey(std::string_view state_name, std::size_t offset) {
  ThrowSerializationError("keyed state '" + std::string(state_name) + "'", offset,
                          "the same key appears twice in one key group (corrupt input)");
}

KeyedStateStore::KeyedStateStore(std::string operator_name, std::int32_t key_group_start,
                                 std::int32_t key_group_end)
    : operator_name_(std::move(operator_name)),
      key_group_start_(key_group_start),
      key_group_end_(key_group_end) {
  if (key_group_start < 0 || key_group_end < key_group_start - 1) {
    throw std::logic_error("keyed state store of operator '" + operator_name_ +
                           "': invalid key group range [" + std::to_string(key_group_start) + ", " +
                           std::to_string(key_group_end) + "]");
  }
  restored_key_groups_.assign(KeyGroupCount(), false);
}

KeyedStateStore::~KeyedStateStore() = default;

void KeyedStateStore::CheckInRange(std::int32_t key_group, std::string_view caller) const {
  if (key_group < key_group_start_ || key_group > key_group_end_) {
    ThrowKeyGroupOutOfRange(key_group, caller);
  }
}

void KeyedStateStore::ThrowKeyGroupOutOfRange(std::int32_t key_group,
                                              std::string_view caller) const {
  throw std::logic_error(
      std::string(caller) + " of operator '" + operator_name_ + "': key group " +
      std::to_string(key_group) + " is outside this instance's key group range [" +
      std::to_string(key_group_start_) + ", " + std::to_string(key_group_end_) + "]");
}

void KeyedStateStore::ThrowIncompatible(std::string_view name, const Slot& slot,
                                        KeyedStateKind kind, const std::string& type_name) const {
  if (slot.kind == kind && slot.type_name == type_name) {
    // Two C++ types with one type name (long and long long are both int64): the bytes would
    // agree, but one object cannot be both.
    throw std::logic_error(StateOf(name, operator_name_) + " is registered as " +
                           Describe(slot.kind, slot.type_name) +
                           " with a different C++ type than it is now requested with (same "
                           "type name, e.g. long and long long); use one C++ type per state");
  }
  throw std::logic_error(StateOf(name, operator_name_) + " is registered as " +
                         Describe(slot.kind, slot.type_name) + " and now requested as " +
                         Describe(kind, type_name) +
                         "; one name cannot hold two kinds or types of state");
}

void KeyedStateStore::CheckRestoredCompatible(std::string_view name, const Slot& slot,
                                              KeyedStateKind kind,
                                              const std::string& type_name) const {
  if (slot.kind == kind && slot.type_name == type_name) return;
  throw std::logic_error(StateOf(name, operator_name_) + " was restored from a checkpoint as " +
                         Describe(slot.kind, slot.type_name) + " but is now requested as " +
                         Describe(kind, type_name) +
                         "; a state cannot change its kind or type across restarts: keep the "
                         "old type, or give the new state a new name");
}

void KeyedStateStore::DecodePending(std::string_view name, const Slot& slot,
                                    KeyedStateTable& table) const {
  for (std::size_t index = 0; index < slot.pending.size(); ++index) {
    if (!slot.pending[index]) continue;
    const auto key_group = key_group_start_ + static_cast<std::int32_t>(index);
    try {
      DataInput in(*slot.pending[index]);
      table.ReadPayload(index, in);
      if (!in.AtEnd()) {
        ThrowSerializationError("keyed state payload", in.position(),
                                "unexpected bytes after the last entry");
      }
    } catch (const SerializationError& error) {
      RethrowWithContext(error, name, operator_name_, key_group);
    }
  }
}

void KeyedStateStore::SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const {
  CheckInRange(key_group, "SnapshotKeyGroup");
  const auto index = static_cast<std::size_t>(key_group - key_group_start_);
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
    if (slot.table != nullptr) {
      if (!slot.table->HasEntries(index)) continue;
      payload.Clear();
      slot.table->WritePayload(index, payload);
    } else if (!slot.pending[index]) {
      continue;
    }
    out.WriteString(name);
    out.WriteU8(static_cast<std::uint8_t>(slot.kind));
    out.WriteString(slot.type_name);
    out.WriteString(slot.table != nullptr ? payload.data()
                                          : std::string_view(*slot.pending[index]));
  }
}

void KeyedStateStore::RestoreKeyGroup(std::int32_t key_group, DataInput& in) {
  CheckInRange(key_group, "RestoreKeyGroup");
  const auto index = static_cast<std::size_t>(key_group - key_group_start_);
  if (restored_key_groups_[index]) {
    throw std::logic_error("RestoreKeyGroup of operator '" + operator_name_ + "': key group " +
                           std::to_string(key_group) + " was already restored");
  }
  const std::string what = "keyed state section of key group " + std::to_string(key_group);
  const std::size_t version_offset = in.position();
  const std::uint8_t version = in.ReadU8();
  if (version != kKeyedSectionVersion) {
    ThrowSerializationError(
        what, version_offset,
        "format version " + std::to_string(version) + " is not one this program reads (" +
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
    if (kind_byte > kLastKind) {
      ThrowSerializationError(what, kind_offset,
                              "unknown state kind " + std::to_string(kind_byte) + " of state '" +
                                  std::string(name) + "'");
    }
    const auto kind = static_cast<KeyedStateKind>(kind_byte);
    const std::string_view type_name = in.ReadStringView();
    const std::string_view payload = in.ReadStringView();

    auto it = states_.find(name);
    if (it == states_.end()) {
      Slot slot{kind, std::string(type_name), nullptr, {}};
      slot.pending.resize(KeyGroupCount());
      slot.pending[index].emplace(payload);
      states_.emplace(std::string(name), std::move(slot));
      continue;
    }
    Slot& slot = it->second;
    if (slot.table != nullptr) {
      // Restored after the job registered the state (the runtime normally restores first).
      CheckRestoredCompatible(name, Slot{kind, std::string(type_name), nullptr, {}}, slot.kind,
                              slot.type_name);
      try {
        DataInput payload_in(payload);
        slot.table->ReadPayload(index, payload_in);
        if (!payload_in.AtEnd()) {
          ThrowSerializationError("keyed state payload", payload_in.position(),
                                  "unexpected bytes after the last entry");
        }
      } catch (const SerializationError& error) {
        RethrowWithContext(error, name, operator_name_, key_group);
      }
      continue;
    }
    if (slot.kind != kind || slot.type_name != type_name) {
      ThrowSerializationError(what, name_offset,
                              "state '" + std::string(name) + "' is " + Describe(kind, type_name) +
                                  " here but " + Describe(slot.kind, slot.type_name) +
                                  " in another key group (inconsistent checkpoint)");
    }
    slot.pending[index].emplace(payload);
  }
  restored_key_groups_[index] = true;
}

std::vector<std::string> KeyedStateStore::StateNames() const {
  std::vector<std::string> names;
  names.reserve(states_.size());
  for (const auto& [name, slot] : states_) names.push_back(name);
  return names;
}

}  // namespace sluice::detail
