#include <sluice/state/data_io.h>

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

namespace sluice {
namespace {

// The bytes given as numbers, so expected layouts read like a hex dump.
std::string Raw(std::initializer_list<unsigned> bytes) {
  std::string raw;
  for (unsigned byte : bytes) raw.push_back(static_cast<char>(byte));
  return raw;
}

// Runs `read` and returns the SerializationError message it throws ("" if none).
template <typename Read>
std::string ErrorOf(Read&& read) {
  try {
    read();
  } catch (const SerializationError& error) {
    return error.what();
  }
  return "";
}

TEST(DataIoTest, FixedWidthIntegersAreLittleEndian) {
  DataOutput out;
  out.WriteU8(0xAB);
  out.WriteU16(0x0102);
  out.WriteU32(0x01020304);
  out.WriteU64(0x0102030405060708);
  out.WriteI32(-2);
  out.WriteI64(-1);
  EXPECT_EQ(out.data(), Raw({0xAB,                                            //
                             0x02, 0x01,                                      //
                             0x04, 0x03, 0x02, 0x01,                          //
                             0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  //
                             0xFE, 0xFF, 0xFF, 0xFF,                          //
                             0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(DataIoTest, FixedWidthIntegersRoundTripAtTheirLimits) {
  DataOutput out;
  out.WriteU8(0);
  out.WriteU8(255);
  out.WriteU16(65535);
  out.WriteU32(std::numeric_limits<std::uint32_t>::max());
  out.WriteU64(std::numeric_limits<std::uint64_t>::max());
  out.WriteI32(std::numeric_limits<std::int32_t>::min());
  out.WriteI32(std::numeric_limits<std::int32_t>::max());
  out.WriteI64(std::numeric_limits<std::int64_t>::min());
  out.WriteI64(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(out.size(), 1u + 1 + 2 + 4 + 8 + 4 + 4 + 8 + 8);

  DataInput in(out.data());
  EXPECT_EQ(in.ReadU8(), 0);
  EXPECT_EQ(in.ReadU8(), 255);
  EXPECT_EQ(in.ReadU16(), 65535);
  EXPECT_EQ(in.ReadU32(), std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(in.ReadU64(), std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(in.ReadI32(), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(in.ReadI32(), std::numeric_limits<std::int32_t>::max());
  EXPECT_EQ(in.ReadI64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(in.ReadI64(), std::numeric_limits<std::int64_t>::max());
  EXPECT_TRUE(in.AtEnd());
}

TEST(DataIoTest, UnsignedVarintsAreLeb128) {
  auto encode = [](std::uint64_t value) {
    DataOutput out;
    out.WriteVarU64(value);
    return out.Release();
  };
  EXPECT_EQ(encode(0), Raw({0x00}));
  EXPECT_EQ(encode(1), Raw({0x01}));
  EXPECT_EQ(encode(127), Raw({0x7F}));
  EXPECT_EQ(encode(128), Raw({0x80, 0x01}));
  EXPECT_EQ(encode(300), Raw({0xAC, 0x02}));
  EXPECT_EQ(encode(16384), Raw({0x80, 0x80, 0x01}));
  EXPECT_EQ(encode(std::numeric_limits<std::uint32_t>::max()), Raw({0xFF, 0xFF, 0xFF, 0xFF, 0x0F}));
  EXPECT_EQ(encode(std::numeric_limits<std::uint64_t>::max()),
            Raw({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST(DataIoTest, SignedVarintsAreZigzagThenLeb128) {
  EXPECT_EQ(ZigZagEncode(0), 0u);
  EXPECT_EQ(ZigZagEncode(-1), 1u);
  EXPECT_EQ(ZigZagEncode(1), 2u);
  EXPECT_EQ(ZigZagEncode(-2), 3u);
  EXPECT_EQ(ZigZagEncode(std::numeric_limits<std::int64_t>::max()), 0xFFFFFFFFFFFFFFFEu);
  EXPECT_EQ(ZigZagEncode(std::numeric_limits<std::int64_t>::min()), 0xFFFFFFFFFFFFFFFFu);

  auto encode = [](std::int64_t value) {
    DataOutput out;
    out.WriteVarI64(value);
    return out.Release();
  };
  EXPECT_EQ(encode(0), Raw({0x00}));
  EXPECT_EQ(encode(-1), Raw({0x01}));
  EXPECT_EQ(encode(-64), Raw({0x7F}));
  EXPECT_EQ(encode(64), Raw({0x80, 0x01}));
  EXPECT_EQ(encode(300), Raw({0xD8, 0x04}));
  EXPECT_EQ(encode(std::numeric_limits<std::int64_t>::min()),
            Raw({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));

  // The 32-bit writers produce the same bytes as the 64-bit ones for the same value.
  DataOutput out32;
  out32.WriteVarI32(-300);
  out32.WriteVarU32(300);
  DataOutput out64;
  out64.WriteVarI64(-300);
  out64.WriteVarU64(300);
  EXPECT_EQ(out32.data(), out64.data());
}

TEST(DataIoTest, VarintsRoundTripAtTheirLimits) {
  const std::uint64_t unsigned_values[] = {0,
                                           1,
                                           127,
                                           128,
                                           255,
                                           300,
                                           16383,
                                           16384,
                                           std::numeric_limits<std::uint32_t>::max(),
                                           std::numeric_limits<std::uint64_t>::max() - 1,
                                           std::numeric_limits<std::uint64_t>::max()};
  const std::int64_t signed_values[] = {0,
                                        -1,
                                        1,
                                        -64,
                                        64,
                                        -65,
                                        65,
                                        std::numeric_limits<std::int32_t>::min(),
                                        std::numeric_limits<std::int32_t>::max(),
                                        std::numeric_limits<std::int64_t>::min(),
                                        std::numeric_limits<std::int64_t>::max()};
  DataOutput out;
  for (std::uint64_t value : unsigned_values) out.WriteVarU64(value);
  for (std::int64_t value : signed_values) out.WriteVarI64(value);
  out.WriteVarU32(std::numeric_limits<std::uint32_t>::max());
  out.WriteVarI32(std::numeric_limits<std::int32_t>::min());
  out.WriteVarI32(std::numeric_limits<std::int32_t>::max());

  DataInput in(out.data());
  for (std::uint64_t value : unsigned_values) EXPECT_EQ(in.ReadVarU64(), value);
  for (std::int64_t value : signed_values) EXPECT_EQ(in.ReadVarI64(), value);
  EXPECT_EQ(in.ReadVarU32(), std::numeric_limits<std::uint32_t>::max());
  EXPECT_EQ(in.ReadVarI32(), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(in.ReadVarI32(), std::numeric_limits<std::int32_t>::max());
  EXPECT_TRUE(in.AtEnd());
}

TEST(DataIoTest, FloatsAreTheirIeeeBitsLittleEndian) {
  DataOutput out;
  out.WriteFloat(1.0f);
  out.WriteDouble(1.0);
  EXPECT_EQ(out.data(), Raw({0x00, 0x00, 0x80, 0x3F,  //
                             0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F}));
}

TEST(DataIoTest, FloatsRoundTripBitExactIncludingNanPayloadsAndSignedZero) {
  const std::uint64_t double_bits[] = {
      std::bit_cast<std::uint64_t>(0.0),
      std::bit_cast<std::uint64_t>(-0.0),
      std::bit_cast<std::uint64_t>(std::numeric_limits<double>::infinity()),
      std::bit_cast<std::uint64_t>(-std::numeric_limits<double>::infinity()),
      std::bit_cast<std::uint64_t>(std::numeric_limits<double>::denorm_min()),
      std::bit_cast<std::uint64_t>(std::numeric_limits<double>::max()),
      0x7FF8000000000000u,  // quiet NaN
      0xFFF0000000000001u,  // negative signalling NaN with payload 1
      0x7FF80000DEADBEEFu,  // quiet NaN with a payload
  };
  const std::uint32_t float_bits[] = {
      std::bit_cast<std::uint32_t>(-0.0f),
      std::bit_cast<std::uint32_t>(std::numeric_limits<float>::infinity()),
      0x7FC00001u,  // quiet NaN with a payload
      0xFF800001u,  // negative signalling NaN
  };
  DataOutput out;
  for (std::uint64_t bits : double_bits) out.WriteDouble(std::bit_cast<double>(bits));
  for (std::uint32_t bits : float_bits) out.WriteFloat(std::bit_cast<float>(bits));

  DataInput in(out.data());
  for (std::uint64_t bits : double_bits)
    EXPECT_EQ(std::bit_cast<std::uint64_t>(in.ReadDouble()), bits);
  for (std::uint32_t bits : float_bits)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(in.ReadFloat()), bits);
  EXPECT_TRUE(in.AtEnd());
}

TEST(DataIoTest, StringsAreVarintLengthThenBytes) {
  DataOutput out;
  out.WriteString("ab");
  out.WriteString("");
  EXPECT_EQ(out.data(), Raw({0x02, 'a', 'b', 0x00}));
}

TEST(DataIoTest, StringsKeepNulBytesAndUtf8) {
  using namespace std::string_literals;
  const std::string with_nul = "a\0b\0"s;
  const std::string utf8 =
      "Gr\xC3\xBC\xC3\x9F"
      "e \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8C\x8A";
  const std::string long_string(300, 'x');  // needs a two-byte length
  DataOutput out;
  out.WriteString(with_nul);
  out.WriteString(utf8);
  out.WriteString(long_string);
  EXPECT_EQ(out.size(), 1 + with_nul.size() + 1 + utf8.size() + 2 + long_string.size());

  DataInput in(out.data());
  EXPECT_EQ(in.ReadString(), with_nul);
  EXPECT_EQ(in.ReadStringView(), utf8);
  EXPECT_EQ(in.ReadString(), long_string);
  EXPECT_TRUE(in.AtEnd());
}

TEST(DataIoTest, BoolsAreOneByteZeroOrOne) {
  DataOutput out;
  out.WriteBool(true);
  out.WriteBool(false);
  EXPECT_EQ(out.data(), Raw({0x01, 0x00}));
  DataInput in(out.data());
  EXPECT_TRUE(in.ReadBool());
  EXPECT_FALSE(in.ReadBool());
}

TEST(DataIoTest, ReadBytesAndReadStringViewPointIntoTheInput) {
  const std::string buffer = Raw({0x10, 0x20, 0x30, 0x02, 'h', 'i'});
  DataInput in(buffer);
  const std::string_view raw = in.ReadBytes(3);
  EXPECT_EQ(raw.data(), buffer.data());
  EXPECT_EQ(raw, Raw({0x10, 0x20, 0x30}));
  const std::string_view text = in.ReadStringView();
  EXPECT_EQ(text.data(), buffer.data() + 4);
  EXPECT_EQ(text, "hi");
  EXPECT_EQ(in.ReadBytes(0), "");
}

TEST(DataIoTest, PositionRemainingAndAtEndTrackReads) {
  const std::string buffer = Raw({0x01, 0x02, 0x03, 0xAC, 0x02});
  DataInput in(buffer);
  EXPECT_EQ(in.position(), 0u);
  EXPECT_EQ(in.remaining(), 5u);
  EXPECT_FALSE(in.AtEnd());
  EXPECT_EQ(in.ReadU16(), 0x0201);
  EXPECT_EQ(in.position(), 2u);
  EXPECT_EQ(in.remaining(), 3u);
  EXPECT_EQ(in.ReadU8(), 3);
  EXPECT_EQ(in.ReadVarU64(), 300u);
  EXPECT_EQ(in.position(), 5u);
  EXPECT_EQ(in.remaining(), 0u);
  EXPECT_TRUE(in.AtEnd());

  DataInput empty{std::string_view()};
  EXPECT_TRUE(empty.AtEnd());
}

TEST(DataIoTest, ReleaseHandsOverTheBytesAndClearKeepsCapacity) {
  DataOutput out;
  out.WriteString("checkpoint");
  const std::string released = out.Release();
  EXPECT_EQ(released, Raw({10, 'c', 'h', 'e', 'c', 'k', 'p', 'o', 'i', 'n', 't'}));
  EXPECT_EQ(out.size(), 0u);
  EXPECT_TRUE(out.data().empty());

  out.WriteU64(7);
  out.Clear();
  EXPECT_EQ(out.size(), 0u);
  out.WriteU8(9);
  EXPECT_EQ(out.data(), Raw({9}));
}

TEST(DataIoTest, WriteBytesAppendsWithoutALength) {
  DataOutput out;
  const char raw[] = {'x', '\0', 'y'};
  out.WriteBytes(raw, sizeof(raw));
  out.WriteBytes(nullptr, 0);
  EXPECT_EQ(out.data(), Raw({'x', 0, 'y'}));
}

TEST(DataIoTest, TruncatedFixedWidthReadThrowsWithOffsetAndLeavesPosition) {
  const std::string buffer = Raw({0x01, 0x02, 0x03});
  DataInput in(buffer);
  EXPECT_EQ(in.ReadU8(), 1);
  EXPECT_EQ(ErrorOf([&] { in.ReadU32(); }),
            "sluice: cannot read u32 at byte offset 1: input is truncated (needs 4 bytes, 2 left)");
  EXPECT_EQ(in.position(), 1u);
  EXPECT_EQ(
      ErrorOf([&] { in.ReadDouble(); }),
      "sluice: cannot read double at byte offset 1: input is truncated (needs 8 bytes, 2 left)");
  EXPECT_EQ(ErrorOf([&] { in.ReadI64(); }),
            "sluice: cannot read i64 at byte offset 1: input is truncated (needs 8 bytes, 2 left)");
  EXPECT_EQ(in.ReadU16(), 0x0302);
  EXPECT_EQ(ErrorOf([&] { in.ReadU8(); }),
            "sluice: cannot read u8 at byte offset 3: input is truncated (needs 1 bytes, 0 left)");
  EXPECT_THROW(in.ReadBool(), SerializationError);
  EXPECT_THROW(in.ReadU16(), SerializationError);
  EXPECT_THROW(in.ReadFloat(), SerializationError);
  EXPECT_THROW(in.ReadI32(), SerializationError);
  EXPECT_THROW(in.ReadU64(), SerializationError);
}

TEST(DataIoTest, TruncatedVarintThrowsWithOffsetAndLeavesPosition) {
  const std::string buffer = Raw({0x05, 0x80, 0x80});
  DataInput in(buffer);
  EXPECT_EQ(in.ReadVarU64(), 5u);
  EXPECT_EQ(ErrorOf([&] { in.ReadVarU64(); }),
            "sluice: cannot read varint u64 at byte offset 1: input is truncated "
            "(needs 3 bytes, 2 left)");
  EXPECT_EQ(in.position(), 1u);
  EXPECT_THROW(in.ReadVarI64(), SerializationError);
  EXPECT_THROW(in.ReadVarU32(), SerializationError);
  EXPECT_THROW(in.ReadVarI32(), SerializationError);
  EXPECT_EQ(in.position(), 1u);
}

TEST(DataIoTest, OverlongVarintIsRejected) {
  // Ten bytes whose last one carries more than bit 63.
  const std::string too_big = Raw({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02});
  DataInput big(too_big);
  EXPECT_EQ(ErrorOf([&] { big.ReadVarU64(); }),
            "sluice: cannot read varint u64 at byte offset 0: varint is longer than 10 bytes or "
            "exceeds 64 bits");
  // Eleven bytes: the tenth still says "more follows".
  const std::string too_long =
      Raw({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  DataInput longer(too_long);
  EXPECT_THROW(longer.ReadVarI64(), SerializationError);
  EXPECT_EQ(longer.position(), 0u);
}

TEST(DataIoTest, ThirtyTwoBitVarintReadersRejectWiderValues) {
  DataOutput out;
  out.WriteVarU64(std::uint64_t{1} << 32);
  out.WriteVarI64(std::int64_t{std::numeric_limits<std::int32_t>::min()} - 1);
  DataInput in(out.data());
  EXPECT_EQ(
      ErrorOf([&] { in.ReadVarU32(); }),
      "sluice: cannot read varint u32 at byte offset 0: value 4294967296 does not fit in 32 bits");
  EXPECT_EQ(in.position(), 0u);
  EXPECT_EQ(in.ReadVarU64(), std::uint64_t{1} << 32);
  const std::size_t offset = in.position();
  EXPECT_EQ(ErrorOf([&] { in.ReadVarI32(); }), "sluice: cannot read varint i32 at byte offset " +
                                                   std::to_string(offset) +
                                                   ": value -2147483649 does not fit in 32 bits");
}

TEST(DataIoTest, StringLongerThanTheInputThrowsBeforeAllocating) {
  // Length 2^62: must fail on the bounds check, not on an allocation.
  DataOutput out;
  out.WriteU8(0x00);
  out.WriteVarU64(std::uint64_t{1} << 62);
  out.WriteBytes("abc", 3);
  DataInput in(out.data());
  EXPECT_EQ(in.ReadU8(), 0);
  EXPECT_EQ(
      ErrorOf([&] { in.ReadString(); }),
      "sluice: cannot read string at byte offset 1: input is truncated (needs 4611686018427387913 "
      "bytes, 12 left)");
  EXPECT_EQ(in.position(), 1u);

  const std::string short_body = Raw({0x05, 'a', 'b'});
  DataInput truncated(short_body);
  EXPECT_EQ(
      ErrorOf([&] { truncated.ReadStringView(); }),
      "sluice: cannot read string at byte offset 0: input is truncated (needs 6 bytes, 3 left)");
  EXPECT_EQ(
      ErrorOf([&] { truncated.ReadBytes(4); }),
      "sluice: cannot read bytes at byte offset 0: input is truncated (needs 4 bytes, 3 left)");
}

TEST(DataIoTest, BoolOtherThanZeroOrOneIsRejected) {
  const std::string buffer = Raw({0x01, 0x02});
  DataInput in(buffer);
  EXPECT_TRUE(in.ReadBool());
  EXPECT_EQ(ErrorOf([&] { in.ReadBool(); }),
            "sluice: cannot read bool at byte offset 1: byte 2 is neither 0 nor 1");
  EXPECT_EQ(in.position(), 1u);
}

TEST(DataIoTest, ThrowSerializationErrorFormatsTheMessage) {
  EXPECT_EQ(ErrorOf([] { ThrowSerializationError("app.Order", 42, "unknown side 7"); }),
            "sluice: cannot read app.Order at byte offset 42: unknown side 7");
  // A runtime_error, so generic handlers that know nothing of sluice still see the message.
  EXPECT_THROW(ThrowSerializationError("x", 0, "y"), std::runtime_error);
}

}  // namespace
}  // namespace sluice
