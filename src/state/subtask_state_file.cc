#include "state/subtask_state_file.h"

namespace sluice::internal {
namespace {

constexpr std::string_view kMagic = "SLST";
// The timer format (keyed_timers.h) whose body state files of version 1 hold as extras.
constexpr uint8_t kTimerFormatOfVersion1Files = 1;

// Buffers small writes (headers, one key group's record) and hands the stream large chunks.
class BufferedWriter {
 public:
  explicit BufferedWriter(StateOutputStream& out) : out_(out) {}
  DataOutput& buffer() { return buffer_; }
  /// Bytes written so far, including the buffered ones: the offset of the next byte.
  uint64_t position() const { return flushed_ + buffer_.size(); }
  Status FlushIfFull() { return buffer_.size() >= kStateFileBufferBytes ? Flush() : Status::Ok(); }
  Status Flush() {
    if (buffer_.size() == 0) return Status::Ok();
    Status status = out_.Write(buffer_.data());
    flushed_ += buffer_.size();
    buffer_.Clear();
    return status;
  }

 private:
  StateOutputStream& out_;
  DataOutput buffer_;
  uint64_t flushed_ = 0;
};

}  // namespace

Result<std::vector<uint64_t>> WriteSubtaskState(
    StateOutputStream& out, std::string_view uid, std::string_view operator_section,
    std::optional<std::pair<int32_t, int32_t>> key_groups, const KeyGroupWriter& write_key_group) {
  BufferedWriter writer(out);
  DataOutput& buffer = writer.buffer();
  buffer.WriteBytes(kMagic.data(), kMagic.size());
  buffer.WriteU32(kSubtaskStateFormatVersion);
  buffer.WriteString(uid);
  buffer.WriteString(operator_section);
  buffer.WriteBool(key_groups.has_value());
  std::vector<uint64_t> offsets;
  if (key_groups) {
    buffer.WriteVarI32(key_groups->first);
    buffer.WriteVarI32(key_groups->second);
    const int64_t key_group_count = int64_t{key_groups->second} - key_groups->first + 1;
    offsets.reserve(static_cast<size_t>(key_group_count));
    DataOutput keyed;
    DataOutput extras;
    for (int32_t kg = key_groups->first; kg <= key_groups->second; ++kg) {
      keyed.Clear();
      extras.Clear();
      write_key_group(kg, keyed, extras);
      offsets.push_back(writer.position());
      buffer.WriteVarI32(kg);
      buffer.WriteString(keyed.data());
      buffer.WriteString(extras.data());
      if (Status status = writer.FlushIfFull(); !status.ok()) return status;
    }
  }
  if (Status status = writer.Flush(); !status.ok()) return status;
  return offsets;
}

Result<SubtaskStateHeader> DecodeSubtaskHeader(std::string_view bytes, std::string_view file) {
  try {
    DataInput in(bytes);
    if (in.ReadBytes(kMagic.size()) != kMagic) {
      return Status::Corruption("state file " + std::string(file) +
                                " is not a sluice state file (bad magic)");
    }
    SubtaskStateHeader header;
    header.version = in.ReadU32();
    if (header.version < kOldestSubtaskStateFormatVersion ||
        header.version > kSubtaskStateFormatVersion) {
      return Status::Corruption("state file " + std::string(file) + " has format version " +
                                std::to_string(header.version) + "; this build reads versions " +
                                std::to_string(kOldestSubtaskStateFormatVersion) + " to " +
                                std::to_string(kSubtaskStateFormatVersion));
    }
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

Result<KeyGroupRecord> DecodeKeyGroupAt(std::string_view bytes, const SubtaskStateHeader& header,
                                        uint64_t offset, int32_t key_group, std::string_view file) {
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
    if (header.version == 1 && !record.extras.empty()) {
      // Version 1 extras were only ever a keyed process operator's timers, written without a
      // version; version 1 of the timer format is exactly those bytes after its version byte.
      std::string upgraded;
      upgraded.reserve(record.extras.size() + 1);
      upgraded.push_back(static_cast<char>(kTimerFormatOfVersion1Files));
      upgraded.append(record.extras);
      record.upgraded_extras = std::move(upgraded);
    }
    return record;
  } catch (const SerializationError& e) {
    return Status::Corruption("state file " + std::string(file) + ": " + e.what());
  }
}

}  // namespace sluice::internal
