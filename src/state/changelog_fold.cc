#include "state/changelog_fold.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <stdexcept>

#include <sluice/state/data_io.h>

#include "state/changelog_record.h"
#include "state/heap_keyed_state_backend.h"

namespace sluice::internal {
namespace {

// AddCopy's block size: large enough that blocks are few, small enough not to matter when a
// key group holds a handful of records.
constexpr std::size_t kCopyBlockBytes = std::size_t{256} << 10;

constexpr std::size_t kInitialSlots = 16;

std::size_t VarintLength(std::uint64_t value) {
  std::size_t length = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++length;
  }
  return length;
}

std::size_t StringLength(std::string_view bytes) {
  return VarintLength(bytes.size()) + bytes.size();
}

std::string Describe(detail::KeyedStateKind kind, std::string_view type_name) {
  std::string text(detail::KeyedStateKindName(kind));
  text += " state of type ";
  text += type_name;
  return text;
}

[[noreturn]] void ThrowOperatorStateError(const std::string& problem) {
  throw SerializationError("sluice: cannot fold the operator state changelog: " + problem);
}

}  // namespace

// The entries of one state: an open-addressing hash table (linear probing) of indexes into
// `entries`, which keeps every key seen since the last reset, tombstoned ones included (an
// entry is never removed, so probing needs no deletion markers). A slot holds the key's hash
// beside the index, so that probing past other keys does not touch their entries: with a
// million keys, every entry visited is a cache miss.
struct KeyGroupChangelogFold::StateFold {
  std::string_view name;
  // Of the live entries; taken from the next put when there are none.
  detail::KeyedStateKind kind = detail::KeyedStateKind::kValue;
  std::string_view type_name;
  std::vector<Entry> entries;
  // (hash << 32) | (entry index + 1); 0 is an empty slot. The size is a power of two.
  std::vector<std::uint64_t> slots;
  std::size_t live = 0;

  static std::uint64_t SlotOf(std::uint32_t hash, std::size_t index) {
    return (std::uint64_t{hash} << 32) | static_cast<std::uint32_t>(index + 1);
  }
  static std::size_t IndexIn(std::uint64_t slot) {
    return static_cast<std::uint32_t>(slot) - std::size_t{1};
  }

  // The slot holding `key`, or the empty slot where it would go. Needs a free slot.
  std::size_t Probe(std::string_view key, std::uint32_t hash) const {
    const std::size_t mask = slots.size() - 1;
    for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
      const std::uint64_t slot = slots[at];
      if (slot == 0) return at;
      if (static_cast<std::uint32_t>(slot >> 32) == hash && entries[IndexIn(slot)].key == key) {
        return at;
      }
    }
  }

  // Keeps the load at most 3/4 once `entries` has one more.
  void ReserveOneMore() {
    if ((entries.size() + 1) * 4 <= slots.size() * 3) return;
    const std::size_t size = slots.empty() ? kInitialSlots : slots.size() * 2;
    if (size * 3 / 4 >= std::uint32_t{0xffffffff}) {
      throw std::length_error("changelog fold: too many keys in one key group");
    }
    slots.assign(size, 0);
    const std::size_t mask = size - 1;
    for (std::size_t index = 0; index < entries.size(); ++index) {
      std::size_t at = entries[index].hash & mask;
      while (slots[at] != 0) at = (at + 1) & mask;
      slots[at] = SlotOf(entries[index].hash, index);
    }
    entries.reserve(size * 3 / 4);
  }
};

KeyGroupChangelogFold::KeyGroupChangelogFold(std::int32_t key_group) : key_group_(key_group) {}

KeyGroupChangelogFold::~KeyGroupChangelogFold() = default;

void KeyGroupChangelogFold::Reset() {
  states_.clear();
  last_state_ = nullptr;
  extras_.reset();
}

KeyGroupChangelogFold::StateFold& KeyGroupChangelogFold::StateNamed(std::string_view name) {
  if (last_state_ != nullptr && last_state_->name == name) return *last_state_;
  for (const std::unique_ptr<StateFold>& state : states_) {
    if (state->name == name) {
      last_state_ = state.get();
      return *state;
    }
  }
  states_.push_back(std::make_unique<StateFold>());
  last_state_ = states_.back().get();
  last_state_->name = name;
  return *last_state_;
}

void KeyGroupChangelogFold::CheckKeyGroup(std::int32_t key_group,
                                          std::string_view type_name) const {
  if (key_group == key_group_) return;
  throw SerializationError("sluice: cannot fold the changelog of key group " +
                           std::to_string(key_group_) + ": it holds a " + std::string(type_name) +
                           " record of key group " + std::to_string(key_group) +
                           " (a record in the wrong partition)");
}

void KeyGroupChangelogFold::Add(std::string_view key, std::optional<std::string_view> value) {
  const ChangelogKey decoded = DecodeChangelogKey(key);
  switch (decoded.type) {
    case ChangelogRecordType::kKeyedEntry:
      break;
    case ChangelogRecordType::kKeyGroupExtras:
      CheckKeyGroup(decoded.key_group, ChangelogRecordTypeName(decoded.type));
      if (value) {
        extras_ = DecodeKeyGroupExtrasValue(*value);
      } else {
        extras_.reset();
      }
      return;
    case ChangelogRecordType::kKeyGroupReset:
      CheckKeyGroup(decoded.key_group, ChangelogRecordTypeName(decoded.type));
      if (!value) {
        throw SerializationError("sluice: cannot fold the changelog of key group " +
                                 std::to_string(key_group_) +
                                 ": a key group reset record has a null value");
      }
      CheckKeyGroupResetValue(*value);
      Reset();
      return;
    case ChangelogRecordType::kOperatorState:
      return;
  }

  const std::uint32_t hash =
      static_cast<std::uint32_t>(std::hash<std::string_view>{}(decoded.user_key));
  if (!value) {
    // A tombstone: nothing to do for a state or key not seen since the last reset.
    StateFold* state = nullptr;
    if (last_state_ != nullptr && last_state_->name == decoded.state_name) {
      state = last_state_;
    } else {
      for (const std::unique_ptr<StateFold>& candidate : states_) {
        if (candidate->name == decoded.state_name) {
          state = candidate.get();
          break;
        }
      }
    }
    if (state == nullptr || state->slots.empty()) return;
    const std::uint64_t slot = state->slots[state->Probe(decoded.user_key, hash)];
    if (slot == 0) return;
    Entry& entry = state->entries[StateFold::IndexIn(slot)];
    if (entry.present) {
      entry.present = false;
      --state->live;
    }
    return;
  }

  const KeyedEntryValue entry_value = DecodeKeyedEntryValue(*value);
  StateFold& state = StateNamed(decoded.state_name);
  if (state.live == 0) {
    state.kind = entry_value.kind;
    state.type_name = entry_value.type_name;
  } else if (state.kind != entry_value.kind || state.type_name != entry_value.type_name) {
    throw SerializationError(
        "sluice: cannot fold the changelog of key group " + std::to_string(key_group_) +
        ": state '" + std::string(decoded.state_name) + "' is " +
        Describe(entry_value.kind, entry_value.type_name) + " in one record but " +
        Describe(state.kind, state.type_name) + " in earlier ones (inconsistent changelog)");
  }
  state.ReserveOneMore();
  const std::size_t at = state.Probe(decoded.user_key, hash);
  if (state.slots[at] == 0) {
    state.slots[at] = StateFold::SlotOf(hash, state.entries.size());
    state.entries.push_back(Entry{decoded.user_key, entry_value.value, hash, true});
    ++state.live;
    return;
  }
  Entry& entry = state.entries[StateFold::IndexIn(state.slots[at])];
  entry.value = entry_value.value;
  if (!entry.present) {
    entry.present = true;
    ++state.live;
  }
}

std::string_view KeyGroupChangelogFold::CopyIn(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (block_size_ - block_used_ < bytes.size()) {
    block_size_ = std::max(kCopyBlockBytes, bytes.size());
    blocks_.push_back(std::make_unique_for_overwrite<char[]>(block_size_));
    block_used_ = 0;
  }
  char* at = blocks_.back().get() + block_used_;
  std::memcpy(at, bytes.data(), bytes.size());
  block_used_ += bytes.size();
  return {at, bytes.size()};
}

void KeyGroupChangelogFold::AddCopy(std::string_view key, std::optional<std::string_view> value) {
  const std::string_view key_copy = CopyIn(key);
  std::optional<std::string_view> value_copy;
  if (value) value_copy = CopyIn(*value);
  Add(key_copy, value_copy);
}

std::size_t KeyGroupChangelogFold::live_entries() const {
  std::size_t live = 0;
  for (const std::unique_ptr<StateFold>& state : states_) live += state->live;
  return live;
}

KeyGroupRestoreBytes KeyGroupChangelogFold::Finish() const {
  std::vector<const StateFold*> states;
  for (const std::unique_ptr<StateFold>& state : states_) {
    if (state->live > 0) states.push_back(state.get());
  }
  std::sort(states.begin(), states.end(),
            [](const StateFold* a, const StateFold* b) { return a->name < b->name; });

  // Sized first, so the section is written into one allocation of its exact size.
  std::vector<std::size_t> payload_sizes;
  payload_sizes.reserve(states.size());
  std::size_t total = 1 + VarintLength(states.size());
  for (const StateFold* state : states) {
    std::size_t payload = VarintLength(state->live);
    for (const Entry& entry : state->entries) {
      if (entry.present) payload += StringLength(entry.key) + StringLength(entry.value);
    }
    payload_sizes.push_back(payload);
    total += StringLength(state->name) + 1 + StringLength(state->type_name) + 1 +
             VarintLength(payload) + payload;
  }

  DataOutput out;
  out.Reserve(total);
  out.WriteU8(detail::kKeyedSectionVersion);
  out.WriteVarU64(states.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    const StateFold& state = *states[i];
    out.WriteString(state.name);
    out.WriteU8(static_cast<std::uint8_t>(state.kind));
    out.WriteString(state.type_name);
    out.WriteU8(static_cast<std::uint8_t>(detail::PayloadFormat::kFramedValues));
    out.WriteVarU64(payload_sizes[i]);
    out.WriteVarU64(state.live);
    for (const Entry& entry : state.entries) {
      if (!entry.present) continue;
      out.WriteString(entry.key);
      out.WriteString(entry.value);
    }
  }
  KeyGroupRestoreBytes result;
  result.keyed = out.Release();
  if (extras_) result.extras.assign(extras_->data(), extras_->size());
  return result;
}

void OperatorStateChangelogFold::Add(std::string_view key, std::optional<std::string_view> value) {
  const ChangelogKey decoded = DecodeChangelogKey(key);
  if (decoded.type != ChangelogRecordType::kOperatorState) return;
  if (!value) {
    latest_[decoded.subtask].reset();
    return;
  }
  const OperatorStateValue section = DecodeOperatorStateValue(*value);
  latest_[decoded.subtask].emplace(section.parallelism, std::string(section.section));
}

std::optional<OperatorStateRestoreSections> OperatorStateChangelogFold::Finish() const {
  const bool any = std::any_of(latest_.begin(), latest_.end(),
                               [](const auto& subtask) { return subtask.second.has_value(); });
  if (!any) return std::nullopt;
  const auto first = latest_.find(0);
  if (first == latest_.end() || !first->second) {
    ThrowOperatorStateError("subtask 0 has no section, though other subtasks have");
  }
  OperatorStateRestoreSections result;
  result.parallelism = first->second->first;
  result.sections.reserve(static_cast<std::size_t>(result.parallelism));
  for (std::int32_t subtask = 0; subtask < result.parallelism; ++subtask) {
    const auto it = latest_.find(subtask);
    if (it == latest_.end() || !it->second) {
      ThrowOperatorStateError("subtask " + std::to_string(subtask) +
                              " has no section, though subtask 0's was written at parallelism " +
                              std::to_string(result.parallelism));
    }
    if (it->second->first != result.parallelism) {
      ThrowOperatorStateError(
          "subtask " + std::to_string(subtask) + "'s latest section was written at parallelism " +
          std::to_string(it->second->first) + " but subtask 0's at parallelism " +
          std::to_string(result.parallelism));
    }
    result.sections.push_back(it->second->second);
  }
  return result;
}

}  // namespace sluice::internal
