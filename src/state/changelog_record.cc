#include "state/changelog_record.h"

#include <limits>
#include <string>

#include "core/assert.h"

namespace sluice::internal {
namespace {

void WriteHeader(ChangelogRecordType type, DataOutput& out) {
  out.WriteU8(kChangelogKeyVersion);
  out.WriteU8(static_cast<std::uint8_t>(type));
}

void WriteId(std::int32_t id, DataOutput& out) {
  SLUICE_ASSERT(id >= 0, "key groups and subtask indexes are never negative");
  out.WriteVarU32(static_cast<std::uint32_t>(id));
}

// Runs `decode` over `bytes`, adding to a SerializationError which record part it was reading:
// the reads inside name only the field (DataInput names only a "varint u32").
template <typename F>
auto WithContext(std::string_view what, std::string_view bytes, F&& decode) {
  try {
    return decode();
  } catch (const SerializationError& error) {
    std::string_view inner = error.what();
    if (inner.starts_with("sluice: ")) inner.remove_prefix(8);
    throw SerializationError("sluice: cannot read " + std::string(what) + " of " +
                             std::to_string(bytes.size()) + " bytes: " + std::string(inner));
  }
}

// A key group, subtask index or parallelism: a varint that must fit a non-negative int32.
std::int32_t ReadId(DataInput& in, std::string_view field) {
  const std::size_t offset = in.position();
  const std::uint32_t id = in.ReadVarU32();
  if (id > static_cast<std::uint32_t>(std::numeric_limits<std::int32_t>::max())) {
    ThrowSerializationError(field, offset,
                            std::string(field) + " " + std::to_string(id) + " is out of range");
  }
  return static_cast<std::int32_t>(id);
}

void ExpectEnd(const DataInput& in, std::string_view after) {
  if (!in.AtEnd()) {
    ThrowSerializationError(
        "end", in.position(),
        std::to_string(in.remaining()) + " unexpected bytes after the " + std::string(after));
  }
}

// Reads the value version byte; the value of a record that has one is never empty.
void ReadValueVersion(DataInput& in) {
  if (in.AtEnd()) {
    ThrowSerializationError("version", 0,
                            "the value is empty (a record without a value must be a Kafka null, "
                            "not zero bytes)");
  }
  const std::uint8_t version = in.ReadU8();
  if (version != kChangelogValueVersion) {
    ThrowSerializationError(
        "version", 0,
        "value format version " + std::to_string(version) + " is not one this program reads (" +
            std::to_string(kChangelogValueVersion) + "); was it written by a newer release?");
  }
}

}  // namespace

std::string_view ChangelogRecordTypeName(ChangelogRecordType type) {
  switch (type) {
    case ChangelogRecordType::kKeyedEntry:
      return "keyed entry";
    case ChangelogRecordType::kKeyGroupExtras:
      return "key group extras";
    case ChangelogRecordType::kOperatorState:
      return "operator state";
    case ChangelogRecordType::kKeyGroupReset:
      return "key group reset";
  }
  return "unknown";
}

void EncodeKeyedEntryKey(std::string_view state_name, std::string_view user_key, DataOutput& out) {
  WriteHeader(ChangelogRecordType::kKeyedEntry, out);
  out.WriteString(state_name);
  out.WriteBytes(user_key.data(), user_key.size());
}

void EncodeKeyedEntryValue(detail::KeyedStateKind kind, std::string_view type_name,
                           std::string_view value, DataOutput& out) {
  out.WriteU8(kChangelogValueVersion);
  out.WriteU8(static_cast<std::uint8_t>(kind));
  out.WriteString(type_name);
  out.WriteBytes(value.data(), value.size());
}

bool EncodeKeyedChange(const detail::KeyedStateChange& change, DataOutput& key, DataOutput& value) {
  EncodeKeyedEntryKey(change.state_name, change.key, key);
  if (!change.value) return false;
  EncodeKeyedEntryValue(change.kind, change.type_name, *change.value, value);
  return true;
}

void EncodeKeyGroupExtrasKey(std::int32_t key_group, DataOutput& out) {
  WriteHeader(ChangelogRecordType::kKeyGroupExtras, out);
  WriteId(key_group, out);
}

void EncodeKeyGroupExtrasValue(std::string_view extras, DataOutput& out) {
  out.WriteU8(kChangelogValueVersion);
  out.WriteBytes(extras.data(), extras.size());
}

void EncodeOperatorStateKey(std::int32_t subtask, DataOutput& out) {
  WriteHeader(ChangelogRecordType::kOperatorState, out);
  WriteId(subtask, out);
}

void EncodeOperatorStateValue(std::int32_t parallelism, std::string_view section, DataOutput& out) {
  SLUICE_ASSERT(parallelism >= 1, "a job runs at least one subtask");
  out.WriteU8(kChangelogValueVersion);
  out.WriteVarU32(static_cast<std::uint32_t>(parallelism));
  out.WriteBytes(section.data(), section.size());
}

void EncodeKeyGroupResetKey(std::int32_t key_group, DataOutput& out) {
  WriteHeader(ChangelogRecordType::kKeyGroupReset, out);
  WriteId(key_group, out);
}

void EncodeKeyGroupResetValue(DataOutput& out) { out.WriteU8(kChangelogValueVersion); }

ChangelogKey DecodeChangelogKey(std::string_view key) {
  return WithContext("changelog record key", key, [key] {
    DataInput in(key);
    const std::uint8_t version = in.ReadU8();
    if (version != kChangelogKeyVersion) {
      ThrowSerializationError(
          "version", 0,
          "key format version " + std::to_string(version) + " is not one this program reads (" +
              std::to_string(kChangelogKeyVersion) + "); was it written by a newer release?");
    }
    const std::uint8_t type_byte = in.ReadU8();
    if (type_byte > kLastChangelogRecordType) {
      ThrowSerializationError("record type", 1,
                              "unknown record type " + std::to_string(type_byte) +
                                  "; was it written by a newer release?");
    }
    ChangelogKey decoded;
    decoded.type = static_cast<ChangelogRecordType>(type_byte);
    switch (decoded.type) {
      case ChangelogRecordType::kKeyedEntry:
        decoded.state_name = in.ReadStringView();
        decoded.user_key = key.substr(in.position());
        break;
      case ChangelogRecordType::kKeyGroupExtras:
      case ChangelogRecordType::kKeyGroupReset:
        decoded.key_group = ReadId(in, "key group");
        ExpectEnd(in, "key group");
        break;
      case ChangelogRecordType::kOperatorState:
        decoded.subtask = ReadId(in, "subtask index");
        ExpectEnd(in, "subtask index");
        break;
    }
    return decoded;
  });
}

KeyedEntryValue DecodeKeyedEntryValue(std::string_view value) {
  return WithContext("changelog keyed entry value", value, [value] {
    DataInput in(value);
    ReadValueVersion(in);
    const std::size_t kind_offset = in.position();
    const std::uint8_t kind_byte = in.ReadU8();
    if (kind_byte > detail::kLastKeyedStateKind) {
      ThrowSerializationError("state kind", kind_offset,
                              "unknown state kind " + std::to_string(kind_byte));
    }
    KeyedEntryValue decoded;
    decoded.kind = static_cast<detail::KeyedStateKind>(kind_byte);
    decoded.type_name = in.ReadStringView();
    decoded.value = value.substr(in.position());
    return decoded;
  });
}

std::string_view DecodeKeyGroupExtrasValue(std::string_view value) {
  return WithContext("changelog key group extras value", value, [value] {
    DataInput in(value);
    ReadValueVersion(in);
    return value.substr(in.position());
  });
}

OperatorStateValue DecodeOperatorStateValue(std::string_view value) {
  return WithContext("changelog operator state value", value, [value] {
    DataInput in(value);
    ReadValueVersion(in);
    const std::size_t offset = in.position();
    OperatorStateValue decoded;
    decoded.parallelism = ReadId(in, "parallelism");
    if (decoded.parallelism < 1) {
      ThrowSerializationError("parallelism", offset,
                              "parallelism " + std::to_string(decoded.parallelism) + " is below 1");
    }
    decoded.section = value.substr(in.position());
    return decoded;
  });
}

void CheckKeyGroupResetValue(std::string_view value) {
  WithContext("changelog key group reset value", value, [value] {
    DataInput in(value);
    ReadValueVersion(in);
    ExpectEnd(in, "version");
  });
}

}  // namespace sluice::internal
