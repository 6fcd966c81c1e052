#include <sluice/state/data_io.h>

#include <string>

namespace sluice {

void ThrowSerializationError(std::string_view what, std::size_t offset, std::string_view problem) {
  std::string message = "sluice: cannot read ";
  message.append(what);
  message.append(" at byte offset ");
  message.append(std::to_string(offset));
  message.append(": ");
  message.append(problem);
  throw SerializationError(message);
}

void DataInput::ThrowTruncated(std::string_view what, std::size_t offset,
                               std::uint64_t needed) const {
  ThrowSerializationError(what, offset,
                          "input is truncated (needs " + std::to_string(needed) + " bytes, " +
                              std::to_string(data_.size() - offset) + " left)");
}

void DataInput::ThrowOverlongVarint(std::string_view what) const {
  ThrowSerializationError(what, pos_, "varint is longer than 10 bytes or exceeds 64 bits");
}

void DataInput::ThrowOutOfRange(std::string_view what, std::uint64_t raw, bool zigzag) const {
  const std::string value = zigzag ? std::to_string(ZigZagDecode(raw)) : std::to_string(raw);
  ThrowSerializationError(what, pos_, "value " + value + " does not fit in 32 bits");
}

}  // namespace sluice
