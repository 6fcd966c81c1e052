#include "state/subtask_state_file.h"

namespace sluice::internal {
namespace {

constexpr std::string_view kMagic = "SLST";

}  // namespace

EncodedSubtaskState EncodeSubtaskState(std::string_view uid, std::string_view operator_section,
                                       std::optional<std::pair<int32_t, int32_t>> key_groups,
                                       const KeyGroupWriter& write_key_group) {
  DataOutput out;
  out.WriteBytes(kMagic.data(), kMagic.size());
  out.WriteU32(kSubtaskStateFormatVersion);
  out.WriteString(uid);
  out.WriteString(operator_section);
  out.WriteBool(key_groups.has_value());
  EncodedSubtaskState result;
  if (key_groups) {
    out.WriteVarI32(key_groups->first);
    out.WriteVarI32(key_groups->second);
    DataOutput keyed;
    DataOutput extras;
    for (int32_t kg = key_groups->first; kg <= key_groups->second; ++kg) {
      keyed.Clear();
      extras.Clear();
      write_key_group(kg, keyed, extras);
      result.key_group_offsets.push_back(out.size());
      out.WriteVarI32(kg);
      out.WriteString(keyed.data());
      out.WriteString(extras.data());
    }
  }
  result.bytes = out.Release();
  return result;
}

Result<SubtaskStateHeader> DecodeSubtaskHeader(std::string_view bytes, std::string_view file) {
  try {
    DataInput in(bytes);
    if (in.ReadBytes(kMagic.size()) != kMagic) {
      return Status::Corruption("state file " + std::string(file) +
                                " is not a sluice state file (bad magic)");
    }
    uint32_t version = in.ReadU32();
    if (version != kSubtaskStateFormatVersion) {
      return Status::Corruption("state file " + std::string(file) + " has format version " +
                                std::to_string(version) + "; this build reads version " +
                                std::to_string(kSubtaskStateFormatVersion));
    }
    SubtaskStateHeader header;
    header.uid = in.ReadString();
    header.operator_section = in.ReadStringView();
    if (in.ReadBool()) {
      int32_t first = in.ReadVarI32();
      int32_t last = in.ReadVarI32();
      header.key_groups = std::make_pair(first, last);
    }
    return header;
  } catch (const SerializationError& e) {
    return Status::Corruption("state file " + std::string(file) + ": " + e.what());
  }
}

Result<KeyGroupRecord> DecodeKeyGroupAt(std::string_view bytes, uint64_t offset, int32_t key_group,
                                        std::string_view file) {
  if (offset >= bytes.size()) {
    return Status::Corruption("state file " + std::string(file) + ": key group " +
                              std::to_string(key_group) + " offset " + std::to_string(offset) +
                              " is past the end");
  }
  try {
    DataInput in(bytes.substr(offset));
    int32_t found = in.ReadVarI32();
    if (found != key_group) {
      return Status::Corruption("state file " + std::string(file) + ": expected key group " +
                                std::to_string(key_group) + " at offset " + std::to_string(offset) +
                                ", found " + std::to_string(found));
    }
    KeyGroupRecord record;
    record.keyed = in.ReadStringView();
    record.extras = in.ReadStringView();
    return record;
  } catch (const SerializationError& e) {
    return Status::Corruption("state file " + std::string(file) + ": " + e.what());
  }
}

}  // namespace sluice::internal
