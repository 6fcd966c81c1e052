#include <sluice/state/detail/operator_state_store.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace sluice::detail {
namespace {

// The largest mode each section version may name.
constexpr std::uint8_t kLastModeOfVersion1 = static_cast<std::uint8_t>(OperatorStateMode::kUnion);
constexpr std::uint8_t kLastMode = static_cast<std::uint8_t>(OperatorStateMode::kBroadcast);

std::string Describe(OperatorStateMode mode, std::string_view type_name) {
  std::string text(OperatorStateModeName(mode));
  text += mode == OperatorStateMode::kBroadcast ? " map state of " : " list state of ";
  text += type_name;
  return text;
}

std::string StateOf(std::string_view name, std::string_view operator_name) {
  std::string text = "operator state '";
  text += name;
  text += "' of operator '";
  text += operator_name;
  text += "'";
  return text;
}

// One state as found in the old sections; views into them.
struct GatheredState {
  OperatorStateMode mode;
  std::string_view type_name;
  // Per old subtask, its items.
  std::vector<std::vector<std::string_view>> items;
};

}  // namespace

std::string_view OperatorStateModeName(OperatorStateMode mode) {
  switch (mode) {
    case OperatorStateMode::kSplit:
      return "split";
    case OperatorStateMode::kUnion:
      return "union";
    case OperatorStateMode::kBroadcast:
      return "broadcast";
  }
  return "unknown";
}

void CheckItemConsumed(const DataInput& in, std::string_view state_name) {
  if (!in.AtEnd()) {
    ThrowSerializationError("item of operator state '" + std::string(state_name) + "'",
                            in.position(), "unexpected bytes after the value");
  }
}

OperatorStateStore::OperatorStateStore() : OperatorStateStore("(unnamed)") {}

OperatorStateStore::OperatorStateStore(std::string operator_name)
    : operator_name_(std::move(operator_name)) {}

OperatorStateStore::~OperatorStateStore() = default;

void OperatorStateStore::ThrowIncompatible(std::string_view name, const Slot& slot,
                                           OperatorStateMode mode,
                                           const std::string& type_name) const {
  if (slot.mode == mode && slot.type_name == type_name) {
    // Two C++ types with one type name (long and long long are both int64).
    throw std::logic_error(StateOf(name, operator_name_) + " is registered as " +
                           Describe(slot.mode, slot.type_name) +
                           " with a different C++ type than it is now requested with (same "
                           "type name, e.g. long and long long); use one C++ type per state");
  }
  throw std::logic_error(StateOf(name, operator_name_) + " is registered as " +
                         Describe(slot.mode, slot.type_name) + " and now requested as " +
                         Describe(mode, type_name) +
                         "; one name cannot hold two kinds or types of state");
}

void OperatorStateStore::CheckRestoredCompatible(std::string_view name, const Slot& slot,
                                                 OperatorStateMode mode,
                                                 const std::string& type_name) const {
  if (slot.mode == mode && slot.type_name == type_name) return;
  throw std::logic_error(StateOf(name, operator_name_) + " was restored from a checkpoint as " +
                         Describe(slot.mode, slot.type_name) + " but is now requested as " +
                         Describe(mode, type_name) +
                         "; a state cannot change its mode or type across restarts: keep the "
                         "old ones, or give the new state a new name");
}

void OperatorStateStore::RethrowWithContext(const SerializationError& error,
                                            std::string_view name) const {
  throw SerializationError(StateOf(name, operator_name_) + ": " + error.what());
}

std::pair<std::size_t, std::size_t> OperatorStateStore::SplitShare(
    const std::vector<std::size_t>& old_counts, std::int32_t subtask, std::int32_t parallelism) {
  const auto index = static_cast<std::size_t>(subtask);
  const auto instances = static_cast<std::size_t>(parallelism);
  if (old_counts.size() == instances) {
    std::size_t first = 0;
    for (std::size_t i = 0; i < index; ++i) first += old_counts[i];
    return {first, first + old_counts[index]};
  }
  std::size_t total = 0;
  for (std::size_t count : old_counts) total += count;
  const std::size_t base = total / instances;
  const std::size_t remainder = total % instances;
  const std::size_t first = index * base + std::min(index, remainder);
  return {first, first + base + (index < remainder ? 1 : 0)};
}

void OperatorStateStore::Snapshot(DataOutput& out) const {
  const bool broadcast = std::any_of(states_.begin(), states_.end(), [](const auto& entry) {
    return entry.second.mode == OperatorStateMode::kBroadcast;
  });
  out.WriteU8(broadcast ? kOperatorSectionVersion : kOperatorSectionVersionWithoutBroadcast);
  out.WriteVarU64(states_.size());
  for (const auto& [name, slot] : states_) {
    out.WriteString(name);
    out.WriteU8(static_cast<std::uint8_t>(slot.mode));
    out.WriteString(slot.type_name);
    if (slot.state != nullptr) {
      slot.state->WriteItems(out);
    } else {
      out.WriteVarU64(slot.carry_end - slot.carry_begin);
      for (std::size_t i = slot.carry_begin; i < slot.carry_end; ++i) {
        out.WriteString(slot.pending[i]);
      }
    }
  }
}

void OperatorStateStore::Restore(const std::vector<std::string_view>& old_sections,
                                 std::int32_t subtask, std::int32_t parallelism) {
  if (restored_) {
    throw std::logic_error("Restore of operator '" + operator_name_ +
                           "': the operator state store was already restored");
  }
  if (parallelism < 1 || subtask < 0 || subtask >= parallelism) {
    throw std::logic_error("Restore of operator '" + operator_name_ + "': subtask " +
                           std::to_string(subtask) + " is not in [0, " +
                           std::to_string(parallelism) + ")");
  }

  // Decode every section before changing anything.
  std::map<std::string_view, GatheredState, std::less<>> gathered;
  for (std::size_t old = 0; old < old_sections.size(); ++old) {
    DataInput in(old_sections[old]);
    const std::string what = "operator state section of old subtask " + std::to_string(old);
    const std::uint8_t version = in.ReadU8();
    if (version != kOperatorSectionVersion && version != kOperatorSectionVersionWithoutBroadcast) {
      ThrowSerializationError(
          what, 0,
          "format version " + std::to_string(version) + " is not one this program reads (" +
              std::to_string(kOperatorSectionVersionWithoutBroadcast) + " to " +
              std::to_string(kOperatorSectionVersion) + "); was it written by a newer release?");
    }
    const std::uint8_t last_mode =
        version == kOperatorSectionVersionWithoutBroadcast ? kLastModeOfVersion1 : kLastMode;
    const std::uint64_t state_count = in.ReadVarU64();
    std::vector<std::string_view> seen;
    for (std::uint64_t s = 0; s < state_count; ++s) {
      const std::size_t name_offset = in.position();
      const std::string_view name = in.ReadStringView();
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) {
        ThrowSerializationError(what, name_offset,
                                "state '" + std::string(name) + "' appears twice");
      }
      seen.push_back(name);
      const std::size_t mode_offset = in.position();
      const std::uint8_t mode_byte = in.ReadU8();
      if (mode_byte > last_mode) {
        ThrowSerializationError(what, mode_offset,
                                "unknown mode " + std::to_string(mode_byte) + " of state '" +
                                    std::string(name) + "' in a version " +
                                    std::to_string(version) + " section");
      }
      const auto mode = static_cast<OperatorStateMode>(mode_byte);
      const std::string_view type_name = in.ReadStringView();
      auto [it, inserted] = gathered.try_emplace(
          name, GatheredState{mode, type_name,
                              std::vector<std::vector<std::string_view>>(old_sections.size())});
      GatheredState& state = it->second;
      if (!inserted && (state.mode != mode || state.type_name != type_name)) {
        ThrowSerializationError(what, name_offset,
                                "state '" + std::string(name) + "' is " +
                                    Describe(mode, type_name) + " here but " +
                                    Describe(state.mode, state.type_name) +
                                    " in another old subtask (inconsistent checkpoint)");
      }
      std::vector<std::string_view>& items = state.items[old];
      const std::uint64_t item_count = in.ReadVarU64();
      // Every item takes at least one byte, so the bytes left bound a corrupt count.
      items.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(item_count, in.remaining())));
      for (std::uint64_t i = 0; i < item_count; ++i) items.push_back(in.ReadStringView());
    }
    if (!in.AtEnd()) {
      ThrowSerializationError(what, in.position(), "unexpected bytes after the last state");
    }
  }

  for (const auto& [name, state] : gathered) {
    std::vector<std::size_t> counts;
    counts.reserve(state.items.size());
    for (const auto& items : state.items) counts.push_back(items.size());
    const auto [share_first, share_end] = SplitShare(counts, subtask, parallelism);
    const bool split = state.mode == OperatorStateMode::kSplit;
    const bool broadcast = state.mode == OperatorStateMode::kBroadcast;

    // This instance's items: its share of the concatenation (split), all of it (union), or the
    // copy of one old instance (broadcast).
    std::vector<std::string_view> mine;
    if (broadcast) {
      const auto& copy = state.items[static_cast<std::size_t>(subtask) % state.items.size()];
      mine.assign(copy.begin(), copy.end());
    } else {
      std::size_t position = 0;
      for (const auto& items : state.items) {
        for (std::string_view item : items) {
          if (!split || (position >= share_first && position < share_end)) mine.push_back(item);
          ++position;
        }
      }
    }

    const auto existing = states_.find(name);
    if (existing != states_.end()) {
      // Registered before Restore (the runtime normally restores first): append.
      Slot& slot = existing->second;
      CheckRestoredCompatible(name,
                              Slot{state.mode, std::string(state.type_name), nullptr, {}, 0, 0},
                              slot.mode, slot.type_name);
      try {
        for (std::string_view item : mine) slot.state->AppendItem(item);
      } catch (const SerializationError& error) {
        RethrowWithContext(error, name);
      }
      continue;
    }
    Slot slot{state.mode, std::string(state.type_name), nullptr, {}, 0, 0};
    slot.pending.reserve(mine.size());
    for (std::string_view item : mine) slot.pending.emplace_back(item);
    const bool whole = split || broadcast;
    slot.carry_begin = whole ? 0 : share_first;
    slot.carry_end = whole ? slot.pending.size() : share_end;
    states_.emplace(std::string(name), std::move(slot));
  }
  restored_ = true;
}

std::vector<std::string> OperatorStateStore::StateNames() const {
  std::vector<std::string> names;
  names.reserve(states_.size());
  for (const auto& [name, slot] : states_) names.push_back(name);
  return names;
}

}  // namespace sluice::detail
