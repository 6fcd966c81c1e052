#include <sluice/state/type_serializer.h>

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

// Test types live outside sluice's namespace, as a user's would.
namespace sluice_test {

// A user type whose format changed: version 1 wrote name and count; version 2 added tags.
struct Reading {
  std::string name;
  std::int64_t count = 0;
  std::vector<std::string> tags;  // version 2
  friend bool operator==(const Reading&, const Reading&) = default;
};

// A user type whose specialisation gives no TypeName.
struct Unnamed {
  std::int32_t value = 0;
  friend bool operator==(const Unnamed&, const Unnamed&) = default;
};

// No specialisation at all.
struct NoSerializer {};

// Specialised, but Deserialize has the wrong signature.
struct Incomplete {};

// A family of user types served by one partial specialisation through the Enable parameter.
template <typename T>
struct Tagged {
  T value;
  friend bool operator==(const Tagged&, const Tagged&) = default;
};
template <typename T>
struct IsTagged : std::false_type {};
template <typename T>
struct IsTagged<Tagged<T>> : std::true_type {};

enum class Side : std::int8_t { kBuy = 1, kSell = -1 };
enum Plain : std::int32_t { kZero, kOne, kBig = 1000 };

}  // namespace sluice_test

namespace sluice {

template <>
struct TypeSerializer<sluice_test::Reading> {
  static constexpr std::uint32_t kVersion = 2;
  static std::string TypeName() { return "test.Reading"; }
  static void Serialize(const sluice_test::Reading& reading, DataOutput& out) {
    out.WriteString(reading.name);
    out.WriteVarI64(reading.count);
    SerializeValue(reading.tags, out);
  }
  static sluice_test::Reading Deserialize(DataInput& in, std::uint32_t version) {
    sluice_test::Reading reading;
    reading.name = in.ReadString();
    reading.count = in.ReadVarI64();
    if (version >= 2) reading.tags = DeserializeValue<std::vector<std::string>>(in);
    return reading;
  }
};

template <>
struct TypeSerializer<sluice_test::Unnamed> {
  static constexpr std::uint32_t kVersion = 1;
  static void Serialize(const sluice_test::Unnamed& unnamed, DataOutput& out) {
    out.WriteVarI32(unnamed.value);
  }
  static sluice_test::Unnamed Deserialize(DataInput& in, std::uint32_t) {
    return {in.ReadVarI32()};
  }
};

template <>
struct TypeSerializer<sluice_test::Incomplete> {
  static constexpr std::uint32_t kVersion = 0;
  static void Serialize(const sluice_test::Incomplete&, DataOutput&) {}
  static int Deserialize(DataInput&, std::uint32_t) { return 0; }
};

template <typename T>
struct TypeSerializer<T, std::enable_if_t<sluice_test::IsTagged<T>::value>> {
  using Inner = decltype(T::value);
  static constexpr std::uint32_t kVersion = 0;
  static std::string TypeName() { return "tagged<" + TypeNameOf<Inner>() + ">"; }
  static void Serialize(const T& tagged, DataOutput& out) { SerializeValue(tagged.value, out); }
  static T Deserialize(DataInput& in, std::uint32_t) { return T{DeserializeValue<Inner>(in)}; }
};

namespace {

using sluice_test::Incomplete;
using sluice_test::kBig;
using sluice_test::NoSerializer;
using sluice_test::Reading;
using sluice_test::Side;
using sluice_test::Unnamed;

// ---- compile-time contract ----

static_assert(HasTypeSerializer<std::int64_t>);
static_assert(HasTypeSerializer<std::map<std::string, std::vector<std::optional<Reading>>>>);
static_assert(HasTypeSerializer<Unnamed>);
static_assert(HasTypeSerializer<Side>);
static_assert(HasTypeSerializer<sluice_test::Plain>);
static_assert(HasTypeSerializer<std::tuple<>>);
static_assert(!HasTypeSerializer<NoSerializer>);
static_assert(!HasTypeSerializer<Incomplete>);
// Containers have a serializer only if their elements do.
static_assert(!HasTypeSerializer<std::vector<NoSerializer>>);
static_assert(!HasTypeSerializer<std::map<std::string, NoSerializer>>);
static_assert(!HasTypeSerializer<std::map<NoSerializer, int>>);
static_assert(!HasTypeSerializer<std::pair<int, NoSerializer>>);
static_assert(!HasTypeSerializer<std::tuple<int, NoSerializer>>);
static_assert(!HasTypeSerializer<std::optional<NoSerializer>>);
static_assert(!HasTypeSerializer<std::array<NoSerializer, 2>>);
// Platform-dependent widths are refused rather than written unportably.
static_assert(!HasTypeSerializer<wchar_t>);
static_assert(!HasTypeSerializer<long double>);
static_assert(!HasTypeSerializer<const char*>);
static_assert(!HasTypeSerializer<std::string_view>);

// ---- helpers ----

std::string Raw(std::initializer_list<unsigned> bytes) {
  std::string raw;
  for (unsigned byte : bytes) raw.push_back(static_cast<char>(byte));
  return raw;
}

template <typename T>
std::string Encode(const T& value) {
  DataOutput out;
  SerializeValue(value, out);
  return out.Release();
}

// Decodes and checks that exactly all the bytes were consumed.
template <typename T>
T Decode(std::string_view bytes) {
  DataInput in(bytes);
  T value = DeserializeValue<T>(in);
  EXPECT_TRUE(in.AtEnd()) << in.remaining() << " bytes left over";
  return value;
}

template <typename T>
T RoundTrip(const T& value) {
  return Decode<T>(Encode(value));
}

template <typename T>
std::string DecodeError(std::string_view bytes) {
  try {
    DataInput in(bytes);
    DeserializeValue<T>(in);
  } catch (const SerializationError& error) {
    return error.what();
  }
  return "";
}

// ---- round trips ----

TEST(TypeSerializerTest, BoolRoundTrips) {
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(false), false);
  EXPECT_EQ(DecodeError<bool>(Raw({0x07})),
            "sluice: cannot read bool at byte offset 0: byte 7 is neither 0 nor 1");
}

template <typename T>
class IntegerRoundTripTest : public ::testing::Test {};
using IntegerTypes =
    ::testing::Types<std::int8_t, std::uint8_t, std::int16_t, std::uint16_t, std::int32_t,
                     std::uint32_t, std::int64_t, std::uint64_t, char, char8_t, char16_t, char32_t,
                     short, unsigned short, int, unsigned, long, unsigned long, long long,
                     unsigned long long, std::size_t, std::ptrdiff_t>;
TYPED_TEST_SUITE(IntegerRoundTripTest, IntegerTypes);

TYPED_TEST(IntegerRoundTripTest, RoundTripsAtLimitsAndAroundZero) {
  using T = TypeParam;
  const T values[] = {std::numeric_limits<T>::min(),
                      static_cast<T>(std::numeric_limits<T>::min() + 1),
                      static_cast<T>(0),
                      static_cast<T>(1),
                      static_cast<T>(127),
                      static_cast<T>(std::numeric_limits<T>::max() - 1),
                      std::numeric_limits<T>::max()};
  for (T value : values) EXPECT_EQ(RoundTrip(value), value);
  // 8/16-bit integers are fixed width; wider ones are varints of at most 5 or 10 bytes.
  const std::size_t max_size = sizeof(T) <= 2 ? sizeof(T) : (sizeof(T) == 4 ? 5 : 10);
  EXPECT_EQ(Encode(std::numeric_limits<T>::max()).size(), max_size);
  EXPECT_EQ(Encode(std::numeric_limits<T>::min()).size(),
            std::is_signed_v<T> || sizeof(T) <= 2 ? max_size : 1);
}

TEST(TypeSerializerTest, ThirtyTwoBitIntegersRejectSixtyFourBitValues) {
  const std::string wide = Encode(std::int64_t{1} << 40);
  EXPECT_EQ(DecodeError<std::int32_t>(wide),
            "sluice: cannot read varint i32 at byte offset 0: value 1099511627776 does not fit in "
            "32 bits");
  EXPECT_THROW(Decode<std::uint32_t>(Encode(std::uint64_t{1} << 32)), SerializationError);
}

TEST(TypeSerializerTest, FloatsRoundTripBitExact) {
  const std::uint64_t double_bits[] = {
      std::bit_cast<std::uint64_t>(3.25),
      std::bit_cast<std::uint64_t>(-0.0),
      std::bit_cast<std::uint64_t>(std::numeric_limits<double>::infinity()),
      std::bit_cast<std::uint64_t>(-std::numeric_limits<double>::infinity()),
      std::bit_cast<std::uint64_t>(std::numeric_limits<double>::lowest()),
      std::bit_cast<std::uint64_t>(std::numeric_limits<double>::denorm_min()),
      0x7FF8000000000000u,  // quiet NaN
      0xFFF4000000000123u,  // signalling NaN, negative, with a payload
  };
  for (std::uint64_t bits : double_bits) {
    EXPECT_EQ(std::bit_cast<std::uint64_t>(RoundTrip(std::bit_cast<double>(bits))), bits);
  }
  const std::uint32_t float_bits[] = {
      std::bit_cast<std::uint32_t>(-1.5f),
      std::bit_cast<std::uint32_t>(std::numeric_limits<float>::infinity()),
      std::bit_cast<std::uint32_t>(std::numeric_limits<float>::quiet_NaN()),
      0xFFA00001u,  // signalling NaN with a payload
  };
  for (std::uint32_t bits : float_bits) {
    EXPECT_EQ(std::bit_cast<std::uint32_t>(RoundTrip(std::bit_cast<float>(bits))), bits);
  }
}

TEST(TypeSerializerTest, StringsRoundTripWithNulAndNonAscii) {
  using namespace std::string_literals;
  EXPECT_EQ(RoundTrip(std::string()), "");
  EXPECT_EQ(RoundTrip("\0\0x\0"s), "\0\0x\0"s);
  const std::string non_ascii =
      "na\xC3\xAFve \xE2\x82\xAC \xF0\x9F\x9A\x80 \xFF\xFE";  // and invalid UTF-8
  EXPECT_EQ(RoundTrip(non_ascii), non_ascii);
  const std::string big(100000, '\x80');
  EXPECT_EQ(RoundTrip(big), big);
}

TEST(TypeSerializerTest, BytesRoundTrip) {
  EXPECT_EQ(RoundTrip(Bytes{}), Bytes{});
  const Bytes bytes = {std::byte{0x00}, std::byte{0xFF}, std::byte{0x80}, std::byte{0x0A}};
  EXPECT_EQ(RoundTrip(bytes), bytes);
  EXPECT_EQ(RoundTrip(std::byte{0xC3}), std::byte{0xC3});
}

TEST(TypeSerializerTest, EnumsRoundTripAsTheirUnderlyingType) {
  EXPECT_EQ(RoundTrip(Side::kBuy), Side::kBuy);
  EXPECT_EQ(RoundTrip(Side::kSell), Side::kSell);
  EXPECT_EQ(RoundTrip(kBig), kBig);
  // Values without a name survive too: C++ allows them, so the serializer does not judge.
  EXPECT_EQ(RoundTrip(static_cast<Side>(42)), static_cast<Side>(42));
}

TEST(TypeSerializerTest, VectorsRoundTripIncludingEmptyNestedAndBool) {
  EXPECT_EQ(RoundTrip(std::vector<std::int32_t>{}), std::vector<std::int32_t>{});
  const std::vector<std::int64_t> longs = {std::numeric_limits<std::int64_t>::min(), -1, 0, 1,
                                           std::numeric_limits<std::int64_t>::max()};
  EXPECT_EQ(RoundTrip(longs), longs);
  const std::vector<std::vector<std::string>> nested = {{}, {"a"}, {"", "b\0c", "d"}, {}};
  EXPECT_EQ(RoundTrip(nested), nested);
  const std::vector<bool> bools = {true, false, false, true, true};
  EXPECT_EQ(RoundTrip(bools), bools);
  EXPECT_EQ(Encode(bools), Raw({5, 1, 0, 0, 1, 1}));
}

TEST(TypeSerializerTest, MapsAndSetsRoundTrip) {
  EXPECT_EQ(RoundTrip(std::map<std::string, std::int32_t>{}),
            (std::map<std::string, std::int32_t>{}));
  const std::map<std::string, std::vector<double>> map = {
      {"", {}}, {"a", {1.5, -2.0}}, {"z", {0.0}}};
  EXPECT_EQ(RoundTrip(map), map);
  const std::unordered_map<std::int64_t, std::string> unordered = {
      {-5, "minus five"}, {7, ""}, {std::int64_t{1} << 40, "big"}};
  EXPECT_EQ(RoundTrip(unordered), unordered);
  EXPECT_EQ(RoundTrip(std::unordered_map<std::string, bool>{}),
            (std::unordered_map<std::string, bool>{}));
  const std::map<std::int32_t, std::map<std::string, std::set<std::int16_t>>> nested = {
      {1, {{"x", {1, 2, 3}}, {"y", {}}}}, {-1, {}}};
  EXPECT_EQ(RoundTrip(nested), nested);
  const std::set<std::string> set = {"b", "a", "c"};
  EXPECT_EQ(RoundTrip(set), set);
  EXPECT_EQ(RoundTrip(std::set<std::int32_t>{}), std::set<std::int32_t>{});
  const std::unordered_set<std::uint64_t> unordered_set = {
      0, 1, std::numeric_limits<std::uint64_t>::max()};
  EXPECT_EQ(RoundTrip(unordered_set), unordered_set);
}

TEST(TypeSerializerTest, PairsTuplesOptionalsAndArraysRoundTrip) {
  const std::pair<std::string, std::int64_t> pair = {"k", -9};
  EXPECT_EQ(RoundTrip(pair), pair);
  const std::tuple<bool, std::string, double, std::vector<std::int32_t>> tuple = {
      true, "t", 0.5, {3, 4}};
  EXPECT_EQ(RoundTrip(tuple), tuple);
  EXPECT_EQ(RoundTrip(std::tuple<>{}), std::tuple<>{});
  EXPECT_EQ(Encode(std::tuple<>{}), "");

  EXPECT_EQ(RoundTrip(std::optional<std::string>{}), std::nullopt);
  EXPECT_EQ(RoundTrip(std::optional<std::string>{""}), std::optional<std::string>{""});
  // An empty inner optional must stay distinct from an empty outer one.
  EXPECT_EQ(RoundTrip(std::optional<std::optional<std::int32_t>>{std::nullopt}),
            std::optional<std::optional<std::int32_t>>{std::nullopt});
  EXPECT_EQ(RoundTrip(std::optional<std::optional<std::int32_t>>{}), std::nullopt);

  const std::array<std::int32_t, 3> array = {-1, 0, 1};
  EXPECT_EQ(RoundTrip(array), array);
  EXPECT_EQ(RoundTrip(std::array<std::string, 0>{}), (std::array<std::string, 0>{}));
  const std::array<std::pair<std::string, std::optional<Side>>, 2> mixed = {
      {{"a", Side::kSell}, {"b", std::nullopt}}};
  EXPECT_EQ(RoundTrip(mixed), mixed);
}

// ---- exact bytes: a silent change of format must fail here ----

TEST(TypeSerializerTest, ExactBytesOfScalars) {
  EXPECT_EQ(Encode(true), Raw({0x01}));
  EXPECT_EQ(Encode(std::int64_t{300}), Raw({0xD8, 0x04}));  // zigzag 600
  EXPECT_EQ(Encode(std::int64_t{-1}), Raw({0x01}));
  EXPECT_EQ(Encode(std::uint64_t{300}), Raw({0xAC, 0x02}));
  EXPECT_EQ(Encode(std::int32_t{-3}), Raw({0x05}));
  EXPECT_EQ(Encode(std::uint32_t{1}), Raw({0x01}));
  EXPECT_EQ(Encode(std::int16_t{-2}), Raw({0xFE, 0xFF}));
  EXPECT_EQ(Encode(std::uint16_t{0x1234}), Raw({0x34, 0x12}));
  EXPECT_EQ(Encode(std::int8_t{-1}), Raw({0xFF}));
  EXPECT_EQ(Encode('A'), Raw({0x41}));
  EXPECT_EQ(Encode(u'\u00E9'), Raw({0xE9, 0x00}));
  EXPECT_EQ(Encode(U'\U0001F30A'), Raw({0x8A, 0xE6, 0x07}));
  EXPECT_EQ(Encode(1.0), Raw({0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));
  EXPECT_EQ(Encode(-2.0f), Raw({0, 0, 0, 0xC0}));
  EXPECT_EQ(Encode(Side::kSell), Raw({0xFF}));
  EXPECT_EQ(Encode(kBig), Raw({0xD0, 0x0F}));  // int-backed enum: varint of zigzag 2000
  EXPECT_EQ(Encode(std::byte{0x7F}), Raw({0x7F}));
}

TEST(TypeSerializerTest, ExactBytesOfStringsAndBytes) {
  EXPECT_EQ(Encode(std::string("ab")), Raw({0x02, 'a', 'b'}));
  EXPECT_EQ(Encode(std::string()), Raw({0x00}));
  EXPECT_EQ(Encode(Bytes{std::byte{0xAA}, std::byte{0x00}}), Raw({0x02, 0xAA, 0x00}));
}

TEST(TypeSerializerTest, ExactBytesOfContainers) {
  EXPECT_EQ(Encode(std::vector<std::int32_t>{1, 2}), Raw({0x02, 0x02, 0x04}));
  EXPECT_EQ(Encode(std::vector<std::int32_t>{}), Raw({0x00}));
  EXPECT_EQ(Encode(std::map<std::string, std::int32_t>{{"b", -1}, {"a", 1}}),
            Raw({0x02, 0x01, 'a', 0x02, 0x01, 'b', 0x01}));
  EXPECT_EQ(Encode(std::unordered_map<std::string, std::int32_t>{{"a", 1}}),
            Raw({0x01, 0x01, 'a', 0x02}));
  EXPECT_EQ(Encode(std::set<std::uint8_t>{3, 1}), Raw({0x02, 0x01, 0x03}));
  EXPECT_EQ(Encode(std::pair<bool, std::uint16_t>{true, 0x0102}), Raw({0x01, 0x02, 0x01}));
  EXPECT_EQ(Encode(std::tuple<std::int8_t, std::string, bool>{-2, "x", false}),
            Raw({0xFE, 0x01, 'x', 0x00}));
  EXPECT_EQ(Encode(std::optional<std::int32_t>{}), Raw({0x00}));
  EXPECT_EQ(Encode(std::optional<std::int32_t>{-1}), Raw({0x01, 0x01}));
  EXPECT_EQ(Encode(std::array<std::uint16_t, 2>{1, 2}), Raw({0x01, 0x00, 0x02, 0x00}));
}

TEST(TypeSerializerTest, TypeNamesAreStable) {
  EXPECT_EQ(TypeNameOf<bool>(), "bool");
  EXPECT_EQ(TypeNameOf<std::int8_t>(), "int8");
  EXPECT_EQ(TypeNameOf<std::uint8_t>(), "uint8");
  EXPECT_EQ(TypeNameOf<std::int16_t>(), "int16");
  EXPECT_EQ(TypeNameOf<std::uint16_t>(), "uint16");
  EXPECT_EQ(TypeNameOf<std::int32_t>(), "int32");
  EXPECT_EQ(TypeNameOf<std::uint32_t>(), "uint32");
  EXPECT_EQ(TypeNameOf<std::int64_t>(), "int64");
  EXPECT_EQ(TypeNameOf<std::uint64_t>(), "uint64");
  EXPECT_EQ(TypeNameOf<long long>(), "int64");  // by width, not by spelling
  EXPECT_EQ(TypeNameOf<char>(), "char");
  EXPECT_EQ(TypeNameOf<char8_t>(), "char8");
  EXPECT_EQ(TypeNameOf<char16_t>(), "char16");
  EXPECT_EQ(TypeNameOf<char32_t>(), "char32");
  EXPECT_EQ(TypeNameOf<float>(), "float");
  EXPECT_EQ(TypeNameOf<double>(), "double");
  EXPECT_EQ(TypeNameOf<std::string>(), "string");
  EXPECT_EQ(TypeNameOf<Bytes>(), "bytes");
  EXPECT_EQ(TypeNameOf<std::byte>(), "byte");
  EXPECT_EQ(TypeNameOf<Side>(), "enum<int8>");
  EXPECT_EQ(TypeNameOf<std::vector<std::int64_t>>(), "vector<int64>");
  EXPECT_EQ((TypeNameOf<std::map<std::string, std::int32_t>>()), "map<string,int32>");
  EXPECT_EQ((TypeNameOf<std::unordered_map<std::string, std::vector<bool>>>()),
            "unordered_map<string,vector<bool>>");
  EXPECT_EQ(TypeNameOf<std::set<double>>(), "set<double>");
  EXPECT_EQ(TypeNameOf<std::unordered_set<std::string>>(), "unordered_set<string>");
  EXPECT_EQ((TypeNameOf<std::pair<std::string, float>>()), "pair<string,float>");
  EXPECT_EQ((TypeNameOf<std::tuple<bool, std::int16_t, std::string>>()),
            "tuple<bool,int16,string>");
  EXPECT_EQ(TypeNameOf<std::tuple<>>(), "tuple<>");
  EXPECT_EQ(TypeNameOf<std::optional<Reading>>(), "optional<test.Reading>");
  EXPECT_EQ((TypeNameOf<std::array<std::uint32_t, 4>>()), "array<uint32,4>");
}

TEST(TypeSerializerTest, TypeNameDefaultsToTheDemangledCppNameWithoutTheVersion) {
  EXPECT_EQ(TypeNameOf<Unnamed>(), "sluice_test::Unnamed");
  EXPECT_EQ(TypeNameOf<std::vector<Unnamed>>(), "vector<sluice_test::Unnamed>");
}

// ---- versioned user types ----

TEST(TypeSerializerTest, VersionedUserTypeWritesItsVersionFirst) {
  const Reading reading{"t", -1, {"x"}};
  EXPECT_EQ(Encode(reading), Raw({0x02,                // version 2
                                  0x01, 't',           // name
                                  0x01,                // count -1, zigzag
                                  0x01, 0x01, 'x'}));  // tags
  EXPECT_EQ(RoundTrip(reading), reading);
  EXPECT_EQ(RoundTrip(Unnamed{-7}), Unnamed{-7});
  EXPECT_EQ(Encode(Unnamed{-7}), Raw({0x01, 0x0D}));
}

TEST(TypeSerializerTest, VersionTwoReadsBytesWrittenByVersionOne) {
  // Version 1 of Reading wrote: version varint, name, count. No tags.
  const std::string v1 = Raw({0x01, 0x03, 'c', 'p', 'u', 0xD8, 0x04});
  EXPECT_EQ(Decode<Reading>(v1), (Reading{"cpu", 300, {}}));

  // Inside a container each element carries its own version, so old and new mix.
  const std::string mixed = Raw({0x02,                    // two elements
                                 0x01, 0x01, 'a', 0x02,   // v1: "a", 1
                                 0x02, 0x01, 'b', 0x04,   // v2: "b", 2,
                                 0x01, 0x02, 'h', 'i'});  //     tags {"hi"}
  EXPECT_EQ(Decode<std::vector<Reading>>(mixed),
            (std::vector<Reading>{{"a", 1, {}}, {"b", 2, {"hi"}}}));
}

TEST(TypeSerializerTest, VersionNewerThanSupportedThrowsNamingTheType) {
  const std::string v3 = Raw({0x03, 0x01, 'a', 0x02});
  EXPECT_EQ(
      DecodeError<Reading>(v3),
      "sluice: cannot read test.Reading at byte offset 0: format version 3 is newer than this "
      "program reads (1 to 2); was it written by a newer release?");
  // Nested: the offset is that of the element's version.
  EXPECT_EQ(DecodeError<std::vector<Unnamed>>(Raw({0x02, 0x01, 0x00, 0x05, 0x00})),
            "sluice: cannot read sluice_test::Unnamed at byte offset 3: format version 5 is newer "
            "than this program reads (1 to 1); was it written by a newer release?");
}

TEST(TypeSerializerTest, VersionZeroForAVersionedTypeIsCorrupt) {
  EXPECT_EQ(DecodeError<Reading>(Raw({0x00, 0x01, 'a', 0x02})),
            "sluice: cannot read test.Reading at byte offset 0: format version 0 is never written "
            "for a versioned type (corrupt input, or the type was written with kVersion 0)");
}

TEST(TypeSerializerTest, PartialSpecialisationThroughEnableWorks) {
  using TaggedReading = sluice_test::Tagged<Reading>;
  static_assert(HasTypeSerializer<sluice_test::Tagged<std::int32_t>>);
  EXPECT_EQ(Encode(sluice_test::Tagged<std::int32_t>{-2}), Raw({0x03}));
  EXPECT_EQ(RoundTrip(TaggedReading{{"n", 1, {}}}), (TaggedReading{{"n", 1, {}}}));
  EXPECT_EQ(TypeNameOf<std::vector<TaggedReading>>(), "vector<tagged<test.Reading>>");
}

// ---- corrupt and truncated input ----

TEST(TypeSerializerTest, TruncatedContainerThrowsWithTheOffset) {
  // Says three elements, holds two.
  EXPECT_EQ(DecodeError<std::vector<std::int32_t>>(Raw({0x03, 0x02, 0x04})),
            "sluice: cannot read varint i32 at byte offset 3: input is truncated (needs 1 bytes, 0 "
            "left)");
  EXPECT_EQ(
      (DecodeError<std::map<std::string, std::int64_t>>(Raw({0x01, 0x05, 'a', 'b'}))),
      "sluice: cannot read string at byte offset 1: input is truncated (needs 6 bytes, 3 left)");
  EXPECT_EQ(DecodeError<std::int64_t>(""),
            "sluice: cannot read varint i64 at byte offset 0: input is truncated (needs 1 bytes, 0 "
            "left)");
  EXPECT_EQ(DecodeError<Reading>(Raw({0x02, 0x01, 't', 0x01})),
            "sluice: cannot read varint u64 at byte offset 4: input is truncated (needs 1 bytes, 0 "
            "left)");
  // A count far beyond the input fails on the data, not by reserving memory for it.
  const std::string huge_count = Raw({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00});
  EXPECT_THROW(Decode<std::vector<std::string>>(huge_count), SerializationError);
  EXPECT_THROW(Decode<std::optional<double>>(Raw({0x01, 0x00, 0x00})), SerializationError);
  EXPECT_THROW((Decode<std::array<std::int16_t, 2>>(Raw({0x01, 0x00, 0x02}))), SerializationError);
}

TEST(TypeSerializerTest, EveryPrefixOfAValidEncodingIsRejected) {
  using Value = std::map<std::string, std::vector<std::optional<Reading>>>;
  const Value value = {{"k", {Reading{"r", 5, {"t"}}, std::nullopt}}, {"l", {}}};
  const std::string bytes = Encode(value);
  ASSERT_EQ(Decode<Value>(bytes), value);
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    EXPECT_THROW(Decode<Value>(std::string_view(bytes).substr(0, length)), SerializationError)
        << "prefix of " << length << " bytes";
  }
}

TEST(TypeSerializerTest, DuplicateKeysAreCorruption) {
  EXPECT_EQ(
      (DecodeError<std::map<std::string, bool>>(Raw({0x02, 0x01, 'a', 0x01, 0x01, 'a', 0x00}))),
      "sluice: cannot read map<string,bool> at byte offset 4: duplicate key (corrupt input)");
  EXPECT_EQ(
      (DecodeError<std::unordered_map<std::uint8_t, bool>>(Raw({0x02, 0x07, 0x01, 0x07, 0x00}))),
      "sluice: cannot read unordered_map<uint8,bool> at byte offset 3: duplicate key (corrupt "
      "input)");
  EXPECT_EQ(DecodeError<std::set<std::uint8_t>>(Raw({0x02, 0x07, 0x07})),
            "sluice: cannot read set<uint8> at byte offset 2: duplicate element (corrupt input)");
  EXPECT_THROW(Decode<std::unordered_set<std::int32_t>>(Raw({0x02, 0x02, 0x02})),
               SerializationError);
}

TEST(TypeSerializerTest, TupleElementsAreReadInOrder) {
  // Catches a compiler evaluating the element reads in another order.
  using Triple = std::tuple<std::uint8_t, std::uint8_t, std::uint8_t>;
  EXPECT_EQ(Decode<Triple>(Raw({1, 2, 3})), (Triple{1, 2, 3}));
  using Pair = std::pair<std::uint8_t, std::uint8_t>;
  EXPECT_EQ(Decode<Pair>(Raw({4, 5})), (Pair{4, 5}));
  using Array = std::array<std::uint8_t, 3>;
  EXPECT_EQ(Decode<Array>(Raw({6, 7, 8})), (Array{6, 7, 8}));
}

}  // namespace
}  // namespace sluice
