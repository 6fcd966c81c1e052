// DataOutput and DataInput: the byte writer and reader under every checkpointed value.
//
// Wire format (part of the checkpoint format: changing any of it makes old checkpoints
// unreadable, which is why tests/unit/state/data_io_test.cc pins exact bytes):
//   - fixed-width integers (WriteU16/U32/U64/I32/I64): little-endian, two's complement;
//   - varints (WriteVarU64/U32): unsigned LEB128, 7 bits per byte, low group first, high bit
//     set on every byte but the last; at most 10 bytes for 64 bits, 5 for 32;
//   - signed varints (WriteVarI64/I32): zigzag first (0,-1,1,-2,... -> 0,1,2,3,...) so small
//     negative numbers stay short, then LEB128;
//   - float/double: their IEEE-754 bits as a fixed-width u32/u64 (NaN payloads kept);
//   - bool: one byte, 0 or 1;
//   - strings: varint byte length, then the bytes as they are (no terminator, NUL allowed).
//
// Thread safety: none. One DataOutput or DataInput is used by one thread at a time; distinct
// objects may be used from distinct threads.
// Ownership: DataOutput owns its buffer; Release() hands it to the caller. DataInput does NOT
// own what it reads: the bytes behind the string_view given to its constructor must stay alive
// and unchanged while the DataInput, or any string_view returned by ReadBytes/ReadStringView,
// is in use.
// Errors: reading past the end or reading bytes that cannot be what was asked for throws
// SerializationError; its message names what was being read and the byte offset where that
// read started. A Read* call that throws leaves position() where it was. Writes fail only with
// std::bad_alloc. Serialization errors are exceptions rather than Status because they surface
// from deep inside nested deserializers (a map of vectors of user structs), where threading a
// Result through every level would cost more than it buys; whoever restores a checkpoint
// catches SerializationError once and reports Status::Corruption.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace sluice {

static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "sluice's checkpoint format stores float and double as IEEE-754 bits");

/// Checkpointed bytes that cannot be decoded: truncated, corrupt, or written by a newer format.
/// what() reads "sluice: cannot read <what> at byte offset <n>: <problem>".
class SerializationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Throws SerializationError("sluice: cannot read <what> at byte offset <offset>: <problem>").
/// For serializers, including user TypeSerializer specialisations, that find a value they
/// cannot accept (an unknown enum value, a count that contradicts another field, ...).
[[noreturn]] void ThrowSerializationError(std::string_view what, std::size_t offset,
                                          std::string_view problem);

/// Zigzag mapping used by the signed varints: 0,-1,1,-2,2,... -> 0,1,2,3,4,...
constexpr std::uint64_t ZigZagEncode(std::int64_t value) noexcept {
  // The right shift of a negative number is arithmetic (defined since C++20): all ones.
  return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}
constexpr std::int64_t ZigZagDecode(std::uint64_t value) noexcept {
  return static_cast<std::int64_t>((value >> 1) ^ (0 - (value & 1)));
}

/// The most bytes a varint of 64 bits takes.
inline constexpr std::size_t kMaxVarint64Bytes = 10;

/// Appends encoded values to a growable buffer it owns. Only growth of that buffer allocates.
class DataOutput {
 public:
  DataOutput() = default;

  /// Makes room for `bytes` more bytes without reallocating.
  void Reserve(std::size_t bytes) { buffer_.reserve(buffer_.size() + bytes); }

  void WriteU8(std::uint8_t value) { buffer_.push_back(static_cast<char>(value)); }
  void WriteU16(std::uint16_t value) { WriteLittleEndian<2>(value); }
  void WriteU32(std::uint32_t value) { WriteLittleEndian<4>(value); }
  void WriteU64(std::uint64_t value) { WriteLittleEndian<8>(value); }
  void WriteI32(std::int32_t value) { WriteU32(static_cast<std::uint32_t>(value)); }
  void WriteI64(std::int64_t value) { WriteU64(static_cast<std::uint64_t>(value)); }
  void WriteBool(bool value) { WriteU8(value ? 1 : 0); }

  void WriteVarU64(std::uint64_t value) {
    char bytes[kMaxVarint64Bytes];
    std::size_t count = 0;
    while (value >= 0x80) {
      bytes[count++] = static_cast<char>(value | 0x80);
      value >>= 7;
    }
    bytes[count++] = static_cast<char>(value);
    buffer_.append(bytes, count);
  }
  void WriteVarI64(std::int64_t value) { WriteVarU64(ZigZagEncode(value)); }
  /// Same bytes as WriteVarU64/WriteVarI64 of the value widened to 64 bits; the 32-bit readers
  /// additionally reject values that do not fit.
  void WriteVarU32(std::uint32_t value) { WriteVarU64(value); }
  void WriteVarI32(std::int32_t value) { WriteVarI64(value); }

  void WriteFloat(float value) { WriteU32(std::bit_cast<std::uint32_t>(value)); }
  void WriteDouble(double value) { WriteU64(std::bit_cast<std::uint64_t>(value)); }

  /// Raw bytes, no length: the reader must know how many to read (ReadBytes(size)).
  void WriteBytes(const void* data, std::size_t size) {
    if (size != 0) buffer_.append(static_cast<const char*>(data), size);
  }
  /// Varint length, then the bytes.
  void WriteString(std::string_view value) {
    WriteVarU64(value.size());
    WriteBytes(value.data(), value.size());
  }

  std::size_t size() const noexcept { return buffer_.size(); }
  /// The bytes written so far; invalidated by the next Write*, Clear or Release.
  std::string_view data() const noexcept { return buffer_; }
  /// Hands the bytes to the caller without copying; this DataOutput is then empty.
  std::string Release() noexcept { return std::exchange(buffer_, std::string()); }
  /// Forgets the bytes but keeps the capacity, so a DataOutput reused per record stops
  /// allocating once it has grown to the largest record.
  void Clear() noexcept { buffer_.clear(); }

 private:
  template <std::size_t N>
  void WriteLittleEndian(std::uint64_t value) {
    // Byte by byte rather than memcpy so the layout does not depend on the host's byte order;
    // compilers merge this into one store on little-endian machines.
    char bytes[N];
    for (std::size_t i = 0; i < N; ++i) bytes[i] = static_cast<char>(value >> (8 * i));
    buffer_.append(bytes, N);
  }

  // std::string rather than std::vector<std::byte>: Release() then hands over a type every
  // storage API takes, and appending a few bytes is a single call.
  std::string buffer_;
};

/// Reads what DataOutput wrote, front to back, from bytes it does not own (see the top of this
/// file). Never allocates, except ReadString, which returns an owning copy.
class DataInput {
 public:
  explicit DataInput(std::string_view bytes) noexcept : data_(bytes) {}

  std::uint8_t ReadU8() { return static_cast<std::uint8_t>(ReadLittleEndian<1>("u8")); }
  std::uint16_t ReadU16() { return static_cast<std::uint16_t>(ReadLittleEndian<2>("u16")); }
  std::uint32_t ReadU32() { return static_cast<std::uint32_t>(ReadLittleEndian<4>("u32")); }
  std::uint64_t ReadU64() { return ReadLittleEndian<8>("u64"); }
  std::int32_t ReadI32() { return static_cast<std::int32_t>(ReadLittleEndian<4>("i32")); }
  std::int64_t ReadI64() { return static_cast<std::int64_t>(ReadLittleEndian<8>("i64")); }
  /// Throws unless the byte is 0 or 1.
  bool ReadBool() {
    const auto byte = static_cast<std::uint8_t>(PeekLittleEndian<1>("bool"));
    if (byte > 1) [[unlikely]] {
      ThrowSerializationError("bool", pos_, "byte " + std::to_string(byte) + " is neither 0 nor 1");
    }
    ++pos_;
    return byte == 1;
  }

  /// Throws on more than 10 bytes or a value over 64 bits.
  std::uint64_t ReadVarU64() { return CommitVarint("varint u64"); }
  std::int64_t ReadVarI64() { return ZigZagDecode(CommitVarint("varint i64")); }
  /// Throws also when the value does not fit in 32 bits.
  std::uint32_t ReadVarU32() {
    std::size_t end = 0;
    const std::uint64_t value = PeekVarint("varint u32", end);
    if (value > std::numeric_limits<std::uint32_t>::max()) [[unlikely]] {
      ThrowOutOfRange("varint u32", value, false);
    }
    pos_ = end;
    return static_cast<std::uint32_t>(value);
  }
  std::int32_t ReadVarI32() {
    std::size_t end = 0;
    const std::uint64_t zigzag = PeekVarint("varint i32", end);
    // The zigzag of every int32 is below 2^32; anything larger was not written as an i32.
    if (zigzag > std::numeric_limits<std::uint32_t>::max()) [[unlikely]] {
      ThrowOutOfRange("varint i32", zigzag, true);
    }
    pos_ = end;
    return static_cast<std::int32_t>(ZigZagDecode(zigzag));
  }

  float ReadFloat() {
    return std::bit_cast<float>(static_cast<std::uint32_t>(ReadLittleEndian<4>("float")));
  }
  double ReadDouble() { return std::bit_cast<double>(ReadLittleEndian<8>("double")); }

  /// The next `size` bytes, as a view into the input (see the ownership note at the top).
  std::string_view ReadBytes(std::size_t size) {
    if (size > remaining()) [[unlikely]]
      ThrowTruncated("bytes", pos_, size);
    const std::string_view bytes = data_.substr(pos_, size);
    pos_ += size;
    return bytes;
  }
  /// A string written by WriteString, as a view into the input (see the ownership note).
  std::string_view ReadStringView() {
    std::size_t body = 0;
    const std::uint64_t length = PeekVarint("string length", body);
    // Checked before anything is allocated, so a corrupt length cannot ask for terabytes.
    if (length > data_.size() - body) [[unlikely]] {
      ThrowTruncated("string", pos_, (body - pos_) + length);
    }
    pos_ = body + static_cast<std::size_t>(length);
    return data_.substr(body, static_cast<std::size_t>(length));
  }
  /// A string written by WriteString, copied out of the input.
  std::string ReadString() { return std::string(ReadStringView()); }

  /// Bytes consumed so far: the offset of the next read.
  std::size_t position() const noexcept { return pos_; }
  std::size_t remaining() const noexcept { return data_.size() - pos_; }
  bool AtEnd() const noexcept { return pos_ == data_.size(); }

 private:
  template <std::size_t N>
  std::uint64_t PeekLittleEndian(std::string_view what) const {
    if (remaining() < N) [[unlikely]]
      ThrowTruncated(what, pos_, N);
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < N; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    }
    return value;
  }
  template <std::size_t N>
  std::uint64_t ReadLittleEndian(std::string_view what) {
    const std::uint64_t value = PeekLittleEndian<N>(what);
    pos_ += N;
    return value;
  }

  // Decodes the varint at pos_ without consuming it; `end` receives the offset just past it.
  // Peek-then-commit is what keeps position() unchanged when a read throws.
  std::uint64_t PeekVarint(std::string_view what, std::size_t& end) const {
    std::uint64_t value = 0;
    std::size_t at = pos_;
    for (unsigned shift = 0;; shift += 7) {
      if (at == data_.size()) [[unlikely]]
        ThrowTruncated(what, pos_, at - pos_ + 1);
      const auto byte = static_cast<unsigned char>(data_[at++]);
      // The tenth byte holds only bit 63: anything more is corruption, not a bigger number.
      if (shift == 63 && byte > 1) [[unlikely]]
        ThrowOverlongVarint(what);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        end = at;
        return value;
      }
    }
  }
  std::uint64_t CommitVarint(std::string_view what) {
    std::size_t end = 0;
    const std::uint64_t value = PeekVarint(what, end);
    pos_ = end;
    return value;
  }

  // Out of line and cold: building the message is the only costly part of a failed read.
  [[noreturn]] void ThrowTruncated(std::string_view what, std::size_t offset,
                                   std::uint64_t needed) const;
  [[noreturn]] void ThrowOverlongVarint(std::string_view what) const;
  [[noreturn]] void ThrowOutOfRange(std::string_view what, std::uint64_t raw, bool zigzag) const;

  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace sluice
