#include <sluice/api/key_hash.h>

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace sluice {
namespace {

using namespace std::literals;

struct StringHashVector {
  std::string_view utf8;
  int32_t java_hash;
};

struct PairStringIntVector {
  std::string_view f0;
  int32_t f1;
  int32_t java_hash;
};

struct Tuple3IntLongStringVector {
  int32_t f0;
  int64_t f1;
  std::string_view f2;
  int32_t java_hash;
};

// Expected values: the output of tests/vectors/FlinkHashVectors.java (section api), computed
// by Java 17 and Flink 1.20.3's tuple classes. Do not edit by hand; regenerate (see
// tests/vectors/README.md).
// BEGIN GENERATED
// Java String.hashCode of valid UTF-8 strings.
constexpr StringHashVector kValidStringHashes[] = {
    {""sv, 0},                        // ""
    {"a"sv, 97},                      // "a"
    {"A"sv, 65},                      // "A"
    {"0"sv, 48},                      // "0"
    {"-1"sv, 1444},                   // "-1"
    {" "sv, 32},                      // " "
    {"\x09\x0A"sv, 289},              // "\u0009\u000A"
    {"hello"sv, 99162322},            // "hello"
    {"Hello, World!"sv, 1498789909},  // "Hello, World!"
    {"flink"sv, 97520992},            // "flink"
    {"sluice"sv, -899285041},         // "sluice"
    {"user-42"sv, -147182656},        // "user-42"
    {"The quick brown fox jumps over the lazy dog"sv,
     -609428141},  // "The quick brown fox jumps over the lazy dog"
    {"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"sv,
     -1399078606},  // "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
    {"a\x00"
     "b"sv,
     93315},                                                    // "a\u0000b"
    {"\x00"sv, 0},                                              // "\u0000"
    {"\x00\x00\x00"sv, 0},                                      // "\u0000\u0000\u0000"
    {"caf\xC3\xA9"sv, 3045921},                                 // "caf\u00E9"
    {"na\xC3\xAFve"sv, 104710475},                              // "na\u00EFve"
    {"Z\xC3\xBCrich"sv, -1482116162},                           // "Z\u00FCrich"
    {"\xC3\x80\xC3\x89\xC3\x8E\xC3\x95\xC3\x9C"sv, 183508812},  // "\u00C0\u00C9\u00CE\u00D5\u00DC"
    {"\xC3\x9F"sv, 223},                                        // "\u00DF"
    {"\xC3\xBF"sv, 255},                                        // "\u00FF"
    {"e\xCC\x81"sv, 3900},                                      // "e\u0301"
    {"\xC2\x80"sv, 128},                                        // "\u0080"
    {"\xDF\xBF"sv, 2047},                                       // "\u07FF"
    {"\xE0\xA0\x80"sv, 2048},                                   // "\u0800"
    {"\xE4\xB8\xAD\xE6\x96\x87"sv, 646394},                     // "\u4E2D\u6587"
    {"\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"sv, 25921943},       // "\u65E5\u672C\u8A9E"
    {"\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4"sv, 53916739},       // "\uD55C\uAD6D\uC5B4"
    {"\xE6\x9D\xB1\xE4\xBA\xAC\xE9\x83\xBD"sv, 26109698},       // "\u6771\u4EAC\u90FD"
    {"\xCE\x95\xCE\xBB\xCE\xBB\xCE\xB7\xCE\xBD\xCE\xB9\xCE\xBA\xCE\xAC"sv,
     70494064},  // "\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC"
    {"\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82"sv,
     1177014952},  // "\u041F\u0440\u0438\u0432\u0435\u0442"
    {"\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7"sv, 1531039712},  // "\u0645\u0631\u062D\u0628\u0627"
    {"\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D"sv, 46563067},            // "\u05E9\u05DC\u05D5\u05DD"
    {"\xEF\xBB\xBF"sv, 65279},                                   // "\uFEFF"
    {"\xEF\xBF\xBD"sv, 65533},                                   // "\uFFFD"
    {"\xEF\xBF\xBF"sv, 65535},                                   // "\uFFFF"
    {"\xF0\x9F\x98\x80"sv, 1772899},                             // "\uD83D\uDE00"
    {"a\xF0\x9F\x98\x80"
     "b"sv,
     57849694},                                          // "a\uD83D\uDE00b"
    {"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD"sv, 1705111281},  // "\uD83D\uDC4D\uD83C\uDFFD"
    {"\xF0\x9F\x87\xA9\xF0\x9F\x87\xAA"sv, 1705476891},  // "\uD83C\uDDE9\uD83C\uDDEA"
    {"\xF0\x9D\x84\x9E"sv, 1772394},                     // "\uD834\uDD1E"
    {"\xF0\x90\x80\x80"sv, 1770496},                     // "\uD800\uDC00"
    {"\xF4\x8F\xBF\xBF"sv, 1803232},                     // "\uDBFF\uDFFF"
    {"key-\xE4\xB8\xAD-\xF0\x9F\x9A\x80-\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"sv,
     418748252},  // "key-\u4E2D-\uD83D\uDE80-\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9"
};

// new String(bytes, StandardCharsets.UTF_8).hashCode() for byte sequences
// that are not (all) valid UTF-8; the comment shows the decoded string.
constexpr StringHashVector kRawByteStringHashes[] = {
    {"\x80"sv, 65533},        // "\uFFFD"
    {"\xBF"sv, 65533},        // "\uFFFD"
    {"\x80\x80"sv, 2097056},  // "\uFFFD\uFFFD"
    {"\xC0\x80"sv, 2097056},  // "\uFFFD\uFFFD"
    {"\xC1\xBF"sv, 2097056},  // "\uFFFD\uFFFD"
    {"\xC2"sv, 65533},        // "\uFFFD"
    {"\xC2"
     "A"sv,
     2031588},                     // "\uFFFDA"
    {"\xC2\xC2\xA9"sv, 2031692},   // "\uFFFD\u00A9"
    {"\xE0\x80\x80"sv, 65074269},  // "\uFFFD\uFFFD\uFFFD"
    {"\xE0\x9F\xBF"sv, 65074269},  // "\uFFFD\uFFFD\uFFFD"
    {"\xE0\xA0"sv, 65533},         // "\uFFFD"
    {"\xE2\x82"sv, 65533},         // "\uFFFD"
    {"\xE2\x82"
     "A"sv,
     2031588},  // "\uFFFDA"
    {"\xE2"
     "A"sv,
     2031588},                                // "\uFFFDA"
    {"\xE2\x82\xAC\xE2"sv, 324817},           // "\u20AC\uFFFD"
    {"\xED\xA0\x80"sv, 65533},                // "\uFFFD"
    {"\xED\xBF\xBF"sv, 65533},                // "\uFFFD"
    {"\xED\xA0\xBD\xED\xB8\x80"sv, 2097056},  // "\uFFFD\uFFFD"
    {"\xED\xA0"sv, 65533},                    // "\uFFFD"
    {"\xED\xA0"
     "A"sv,
     2031588},                           // "\uFFFDA"
    {"\xED\x9F\xBF"sv, 55295},           // "\uD7FF"
    {"\xEF\xBF\xBE"sv, 65534},           // "\uFFFE"
    {"\xF0\x80\x80\x80"sv, 2017367872},  // "\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xF0\x8F\xBF\xBF"sv, 2017367872},  // "\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xF0\x9F\x98"sv, 65533},           // "\uFFFD"
    {"\xF0\x9F\x98"
     "A"sv,
     2031588},                                   // "\uFFFDA"
    {"\xF0\x9F"sv, 65533},                       // "\uFFFD"
    {"\xF0\x90\x80x"sv, 2031643},                // "\uFFFDx"
    {"\xF4\x8F\xBF\xBF"sv, 1803232},             // "\uDBFF\uDFFF"
    {"\xF4\x90\x80\x80"sv, 2017367872},          // "\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xF5\x80\x80\x80"sv, 2017367872},          // "\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xF7\xBF\xBF\xBF"sv, 2017367872},          // "\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xF8\x88\x80\x80\x80"sv, -1886039875},     // "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xFC\x84\x80\x80\x80\x80"sv, 1662371552},  // "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD"
    {"\xFE"sv, 65533},                           // "\uFFFD"
    {"\xFF"sv, 65533},                           // "\uFFFD"
    {"\xFF\xFE"sv, 2097056},                     // "\uFFFD\uFFFD"
    {"abc\xFF"
     "def"sv,
     743022154},                            // "abc\uFFFDdef"
    {"a\xF0\x9F\x98\x80\x80"sv, 57915129},  // "a\uD83D\uDE00\uFFFD"
    {"\xC3\xA9\xC3"sv, 72756},              // "\u00E9\uFFFD"
};

// Decoder checksums (see DecoderDigest in this file).
constexpr uint64_t kDigestAll1Byte = 0x870F195C949DD340ULL;
constexpr uint64_t kDigestAll2Byte = 0x8576794FF3837E80ULL;
constexpr uint64_t kDigestLead3Byte = 0x961D289BA0420800ULL;
constexpr uint64_t kDigestLead4Byte = 0xE22E935831E63BC0ULL;
constexpr uint64_t kDigestRandom = 0xE3212F413E426A28ULL;

// Integer.hashCode (Java int).
constexpr std::pair<int32_t, int32_t> kIntHashes[] = {
    {0, 0},
    {1, 1},
    {-1, -1},
    {2, 2},
    {3, 3},
    {7, 7},
    {42, 42},
    {100, 100},
    {127, 127},
    {128, 128},
    {1000, 1000},
    {4096, 4096},
    {65536, 65536},
    {1000000, 1000000},
    {-1000000, -1000000},
    {2147483647, 2147483647},
    {INT32_MIN, INT32_MIN},
    {123456789, 123456789},
    {-987654321, -987654321},
    {31, 31},
};

// Long.hashCode (Java long).
constexpr std::pair<int64_t, int32_t> kLongHashes[] = {
    {int64_t{0}, 0},
    {int64_t{1}, 1},
    {int64_t{-1}, 0},
    {int64_t{42}, 42},
    {int64_t{2147483648}, INT32_MIN},
    {int64_t{4294967296}, 1},
    {int64_t{4294967297}, 0},
    {int64_t{-4294967296}, -1},
    {int64_t{1234567890123}, 1912276436},
    {int64_t{-1234567890123}, 1912276437},
    {int64_t{9223372036854775807}, INT32_MIN},
    {INT64_MIN, INT32_MIN},
    {int64_t{9223372032559808512}, 2147483647},
    {int64_t{4294967295}, -1},
    {int64_t{1700000000000}, -807048821},
    {int64_t{4611686018427387904}, 1073741824},
};

// Short.hashCode and Byte.hashCode.
constexpr int32_t kShortMinHash = -32768;
constexpr int32_t kShortMaxHash = 32767;
constexpr int32_t kByteMinHash = -128;
constexpr int32_t kByteMinusOneHash = -1;

// Long.hashCode of unsigned 32-bit values widened to long (v & 0xFFFFFFFFL).
constexpr std::pair<uint32_t, int32_t> kUint32AsLongHashes[] = {
    {0x00000000u, 0},         {0x00000001u, 1},  {0x7FFFFFFFu, 2147483647},
    {0x80000000u, INT32_MIN}, {0xFFFFFFFFu, -1}, {0xDEADBEEFu, -559038737},
};

// Long.hashCode of unsigned 64-bit values reinterpreted as long.
constexpr std::pair<uint64_t, int32_t> kUint64AsLongHashes[] = {
    {0x0000000000000000ULL, 0},         {0x0000000000000001ULL, 1},
    {0x00000000FFFFFFFFULL, -1},        {0x0000000100000000ULL, 1},
    {0x7FFFFFFFFFFFFFFFULL, INT32_MIN}, {0x8000000000000000ULL, INT32_MIN},
    {0xFFFFFFFFFFFFFFFFULL, 0},         {0xDEADBEEFCAFEBABEULL, 340984913},
};

// Boolean.hashCode.
constexpr int32_t kTrueHash = 1231;
constexpr int32_t kFalseHash = 1237;

// Character.hashCode of UTF-16 code units.
constexpr std::pair<uint16_t, int32_t> kCharacterHashes[] = {
    {0x0000, 0},   {0x0041, 65},  {0x007A, 122},   {0x007F, 127},   {0x0080, 128},
    {0x00E9, 233}, {0x00FF, 255}, {0x4E2D, 20013}, {0xD800, 55296}, {0xFFFF, 65535},
};

// Double.hashCode; the input is the IEEE 754 bit pattern.
constexpr std::pair<uint64_t, int32_t> kDoubleHashes[] = {
    {0x0000000000000000ULL, 0},            // 0.0
    {0x8000000000000000ULL, INT32_MIN},    // -0.0
    {0x3FF0000000000000ULL, 1072693248},   // 1.0
    {0xBFF0000000000000ULL, -1074790400},  // -1.0
    {0x3FB999999999999AULL, -1507852285},  // 0.1
    {0x3FF8000000000000ULL, 1073217536},   // 1.5
    {0x400921FB54442D18ULL, 340593891},    // 3.141592653589793
    {0x7E37E43C8800759CULL, -164130400},   // 1.0E300
    {0x81A56E1FC2F8F359ULL, 1130208582},   // -1.0E-300
    {0x0000000000000001ULL, 1},            // 4.9E-324
    {0x7FEFFFFFFFFFFFFFULL, -2146435072},  // 1.7976931348623157E308
    {0x0010000000000000ULL, 1048576},      // 2.2250738585072014E-308
    {0x7FF0000000000000ULL, 2146435072},   // Infinity
    {0xFFF0000000000000ULL, -1048576},     // -Infinity
    {0x7FF8000000000000ULL, 2146959360},   // NaN
    {0x4045000000000000ULL, 1078263808},   // 42.0
    {0x4278BCFE56800000ULL, 351845630},    // 1.7E12
    {0x7FF0000000000001ULL, 2146959360},   // NaN payload
    {0xFFF8000000000000ULL, 2146959360},   // NaN payload
    {0x7FFFFFFFFFFFFFFFULL, 2146959360},   // NaN payload
    {0xFFF0000000000123ULL, 2146959360},   // NaN payload
};

// Float.hashCode; the input is the IEEE 754 bit pattern.
constexpr std::pair<uint32_t, int32_t> kFloatHashes[] = {
    {0x00000000u, 0},            // 0.0
    {0x80000000u, INT32_MIN},    // -0.0
    {0x3F800000u, 1065353216},   // 1.0
    {0xBF800000u, -1082130432},  // -1.0
    {0x3DCCCCCDu, 1036831949},   // 0.1
    {0x3FC00000u, 1069547520},   // 1.5
    {0x40490FDBu, 1078530011},   // 3.1415927
    {0x00000001u, 1},            // 1.4E-45
    {0x7F7FFFFFu, 2139095039},   // 3.4028235E38
    {0x00800000u, 8388608},      // 1.17549435E-38
    {0x7F800000u, 2139095040},   // Infinity
    {0xFF800000u, -8388608},     // -Infinity
    {0x7FC00000u, 2143289344},   // NaN
    {0x42280000u, 1109917696},   // 42.0
    {0x7F800001u, 2143289344},   // NaN payload
    {0xFFC00000u, 2143289344},   // NaN payload
    {0x7FFFFFFFu, 2143289344},   // NaN payload
};

// Flink Tuple2<String, Integer>.hashCode.
constexpr PairStringIntVector kTuple2StringIntHashes[] = {
    {""sv, 0, 0},
    {"a"sv, 1, 3008},
    {"user-42"sv, -7, -267695047},
    {"caf\xC3\xA9"sv, 2147483647, -2053060098},
    {"\xF0\x9F\x98\x80"sv, INT32_MIN, -2092523779},
    {"The quick brown fox"sv, 123456789, 2038614738},
};

// Flink Tuple3<Integer, Long, String>.hashCode.
constexpr Tuple3IntLongStringVector kTuple3IntLongStringHashes[] = {
    {0, int64_t{0}, ""sv, 0},
    {1, int64_t{2}, "three"sv, 110340509},
    {-1, int64_t{-1}, "\xE4\xB8\xAD"sv, 19052},
    {2147483647, INT64_MIN, "\xF0\x9F\x98\x80x"sv, 54959028},
    {42, int64_t{1099511627776}, "user-42"sv, -147134358},
};

// Other tuple shapes.
constexpr int32_t kTuple0Hash = 0;              // Tuple0
constexpr int32_t kTuple1StringHash = 3536095;  // Tuple1.of("solo")
constexpr int32_t kTuple4Hash = 1362334956;     // Tuple4.of(true, 2.5, (short) -3, 'x')
constexpr int32_t kNestedTupleHash = 102865;    // Tuple2.of(Tuple2.of("k", 1L), 7)
constexpr int32_t kTuple2WithNullHash = 120;    // Tuple2.of(null, "x")
// END GENERATED

// Checksums over every byte sequence of some shape, in the order FlinkHashVectors.java
// enumerates them: digest = digest * 1099511628211 + (uint32_t) hash.
class DecoderDigest {
 public:
  void Add(const uint8_t* bytes, std::size_t size) {
    const auto hash =
        JavaStringHashCode(std::string_view(reinterpret_cast<const char*>(bytes), size));
    digest_ = digest_ * 1099511628211u + static_cast<uint32_t>(hash);
  }
  uint64_t digest() const { return digest_; }

 private:
  uint64_t digest_ = 0;
};

constexpr uint8_t kInterestingBytes[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                         0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xFF};

TEST(JavaStringHashCodeTest, MatchesJavaForValidUtf8) {
  for (const auto& v : kValidStringHashes) {
    EXPECT_EQ(JavaStringHashCode(v.utf8), v.java_hash) << "utf8 of size " << v.utf8.size();
  }
}

TEST(JavaStringHashCodeTest, DecodesInvalidUtf8AsJavaDoes) {
  for (const auto& v : kRawByteStringHashes) {
    std::string hex;
    for (char c : v.utf8) hex += std::to_string(static_cast<unsigned char>(c)) + " ";
    EXPECT_EQ(JavaStringHashCode(v.utf8), v.java_hash) << "bytes " << hex;
  }
}

TEST(JavaStringHashCodeTest, MatchesJavaForEveryOneAndTwoByteSequence) {
  uint8_t b[2];
  DecoderDigest all1;
  for (int b0 = 0; b0 < 256; ++b0) {
    b[0] = static_cast<uint8_t>(b0);
    all1.Add(b, 1);
  }
  EXPECT_EQ(all1.digest(), kDigestAll1Byte);

  DecoderDigest all2;
  for (int b0 = 0; b0 < 256; ++b0) {
    for (int b1 = 0; b1 < 256; ++b1) {
      b[0] = static_cast<uint8_t>(b0);
      b[1] = static_cast<uint8_t>(b1);
      all2.Add(b, 2);
    }
  }
  EXPECT_EQ(all2.digest(), kDigestAll2Byte);
}

TEST(JavaStringHashCodeTest, MatchesJavaForEveryThreeByteSequenceWithAMultiByteLead) {
  uint8_t b[3];
  DecoderDigest lead3;
  for (int b0 = 0xC0; b0 < 256; ++b0) {
    for (int b1 = 0; b1 < 256; ++b1) {
      for (int b2 = 0; b2 < 256; ++b2) {
        b[0] = static_cast<uint8_t>(b0);
        b[1] = static_cast<uint8_t>(b1);
        b[2] = static_cast<uint8_t>(b2);
        lead3.Add(b, 3);
      }
    }
  }
  EXPECT_EQ(lead3.digest(), kDigestLead3Byte);
}

TEST(JavaStringHashCodeTest, MatchesJavaForFourByteSequencesWithLeadsFromE0) {
  uint8_t b[4];
  DecoderDigest lead4;
  for (int b0 = 0xE0; b0 < 256; ++b0) {
    for (int b1 = 0; b1 < 256; ++b1) {
      for (uint8_t b2 : kInterestingBytes) {
        for (uint8_t b3 : kInterestingBytes) {
          b[0] = static_cast<uint8_t>(b0);
          b[1] = static_cast<uint8_t>(b1);
          b[2] = b2;
          b[3] = b3;
          lead4.Add(b, 4);
        }
      }
    }
  }
  EXPECT_EQ(lead4.digest(), kDigestLead4Byte);
}

TEST(JavaStringHashCodeTest, MatchesJavaForPseudoRandomByteStrings) {
  std::vector<uint8_t> alphabet(std::begin(kInterestingBytes), std::end(kInterestingBytes));
  alphabet.insert(alphabet.end(), {0x84, 0x9F, 0xAA, 0xE2});
  uint64_t state = 20240917;
  auto next = [&state] {
    state = state * 6364136223846793005u + 1442695040888963407u;
    return state;
  };
  uint8_t b[16];
  DecoderDigest random;
  for (int i = 0; i < 200000; ++i) {
    const auto size = static_cast<std::size_t>(next() >> 60);
    for (std::size_t j = 0; j < size; ++j) b[j] = alphabet[(next() >> 33) % alphabet.size()];
    random.Add(b, size);
  }
  EXPECT_EQ(random.digest(), kDigestRandom);
}

TEST(JavaStringHashCodeTest, Utf16OverloadHashesCodeUnitsAsTheyAre) {
  EXPECT_EQ(JavaStringHashCode(u""sv), 0);
  EXPECT_EQ(JavaStringHashCode(u"hello"sv), JavaStringHashCode("hello"sv));
  EXPECT_EQ(JavaStringHashCode(u"caf\u00E9 \U0001F600"sv),
            JavaStringHashCode("caf\xC3\xA9 \xF0\x9F\x98\x80"sv));
  // A lone surrogate is a code unit like any other in Java; UTF-8 cannot carry one.
  const char16_t lone[] = {0xD800};
  EXPECT_EQ(JavaStringHashCode(std::u16string_view(lone, 1)), 0xD800);
}

TEST(KeyHashTest, StringTypesAllHashTheirText) {
  for (const auto& v : kValidStringHashes) {
    const std::string text(v.utf8);
    EXPECT_EQ(KeyHash<std::string>::HashCode(text), v.java_hash);
    EXPECT_EQ(KeyHash<std::string_view>::HashCode(v.utf8), v.java_hash);
    const std::u8string u8(text.begin(), text.end());
    EXPECT_EQ(KeyHash<std::u8string>::HashCode(u8), v.java_hash);
    EXPECT_EQ(KeyHash<std::u8string_view>::HashCode(u8), v.java_hash);
    if (text.find('\0') == std::string::npos) {
      EXPECT_EQ(KeyHash<const char*>::HashCode(text.c_str()), v.java_hash);
    }
  }
  EXPECT_EQ(KeyHashCode("hello"), 99162322);  // a literal is text, not an address
  EXPECT_EQ(KeyHashCode(u"hello"s), 99162322);
  EXPECT_EQ(KeyHash<std::u16string_view>::HashCode(u"hello"), 99162322);
}

TEST(KeyHashTest, IntegersHashAsJavaIntegerAndLong) {
  for (const auto& [value, hash] : kIntHashes) {
    EXPECT_EQ(KeyHash<int32_t>::HashCode(value), hash) << value;
  }
  for (const auto& [value, hash] : kLongHashes) {
    EXPECT_EQ(KeyHash<int64_t>::HashCode(value), hash) << value;
    EXPECT_EQ(KeyHash<long long>::HashCode(value), hash) << value;
  }
  for (const auto& [value, hash] : kUint32AsLongHashes) {
    EXPECT_EQ(KeyHash<uint32_t>::HashCode(value), hash) << value;
  }
  for (const auto& [value, hash] : kUint64AsLongHashes) {
    EXPECT_EQ(KeyHash<uint64_t>::HashCode(value), hash) << value;
  }
  EXPECT_EQ(KeyHash<int16_t>::HashCode(INT16_MIN), kShortMinHash);
  EXPECT_EQ(KeyHash<int16_t>::HashCode(INT16_MAX), kShortMaxHash);
  EXPECT_EQ(KeyHash<int8_t>::HashCode(INT8_MIN), kByteMinHash);
  EXPECT_EQ(KeyHash<int8_t>::HashCode(-1), kByteMinusOneHash);
  EXPECT_EQ(KeyHash<uint8_t>::HashCode(255), 255);
  EXPECT_EQ(KeyHash<uint16_t>::HashCode(65535), 65535);
  EXPECT_EQ(KeyHashCode(int64_t{7}), KeyHashCode(int32_t{7}));  // Long and Integer agree >= 0
  EXPECT_EQ(KeyHashCode(int64_t{-7}), 6);                       // but not below 0
}

TEST(KeyHashTest, BoolAndCharactersHashAsJavaBooleanAndCharacter) {
  EXPECT_EQ(KeyHash<bool>::HashCode(true), kTrueHash);
  EXPECT_EQ(KeyHash<bool>::HashCode(false), kFalseHash);
  for (const auto& [unit, hash] : kCharacterHashes) {
    EXPECT_EQ(KeyHash<char16_t>::HashCode(static_cast<char16_t>(unit)), hash) << unit;
    if (unit <= 0xFF) {
      EXPECT_EQ(KeyHash<char>::HashCode(static_cast<char>(unit)), hash) << unit;
      EXPECT_EQ(KeyHash<char8_t>::HashCode(static_cast<char8_t>(unit)), hash) << unit;
    }
  }
  EXPECT_EQ(KeyHash<char32_t>::HashCode(U'\U0001F600'), 0x1F600);
  // signed char / unsigned char are int8_t / uint8_t, i.e. Byte and a widened unsigned byte.
  EXPECT_EQ(KeyHash<signed char>::HashCode(static_cast<signed char>(-23)), -23);
  EXPECT_EQ(KeyHash<unsigned char>::HashCode(233), 233);
}

TEST(KeyHashTest, FloatingPointHashesAsJavaFloatAndDouble) {
  for (const auto& [bits, hash] : kDoubleHashes) {
    EXPECT_EQ(KeyHash<double>::HashCode(std::bit_cast<double>(bits)), hash) << std::hex << bits;
  }
  for (const auto& [bits, hash] : kFloatHashes) {
    EXPECT_EQ(KeyHash<float>::HashCode(std::bit_cast<float>(bits)), hash) << std::hex << bits;
  }
}

TEST(KeyHashTest, PairsAndTuplesHashAsFlinkTuples) {
  for (const auto& v : kTuple2StringIntHashes) {
    const std::pair<std::string, int32_t> pair{std::string(v.f0), v.f1};
    EXPECT_EQ((KeyHash<std::pair<std::string, int32_t>>::HashCode(pair)), v.java_hash) << v.f0;
    // std::tuple of two is Tuple2 as well.
    EXPECT_EQ(KeyHashCode(std::tuple<std::string_view, int32_t>{v.f0, v.f1}), v.java_hash);
  }
  for (const auto& v : kTuple3IntLongStringHashes) {
    const std::tuple<int32_t, int64_t, std::string> tuple{v.f0, v.f1, std::string(v.f2)};
    EXPECT_EQ(KeyHashCode(tuple), v.java_hash) << v.f2;
  }
  EXPECT_EQ(KeyHashCode(std::tuple<>{}), kTuple0Hash);
  EXPECT_EQ(KeyHashCode(std::tuple<std::string>{"solo"}), kTuple1StringHash);
  EXPECT_EQ(KeyHashCode(std::tuple<bool, double, int16_t, char>{true, 2.5, int16_t{-3}, 'x'}),
            kTuple4Hash);
  EXPECT_EQ(KeyHashCode(std::pair<std::pair<std::string, int64_t>, int32_t>{{"k", 1}, 7}),
            kNestedTupleHash);
  EXPECT_EQ(KeyHashCode(std::pair<std::optional<std::string>, std::string>{std::nullopt, "x"}),
            kTuple2WithNullHash);
  EXPECT_EQ(KeyHashCode(std::optional<std::string>{"x"}), KeyHashCode("x"s));
  // A const member (as in a map's value_type) changes nothing.
  EXPECT_EQ(KeyHashCode(std::pair<const std::string, int32_t>{"a", 1}), 3008);
}

enum class Color : int16_t { kRed = -1, kGreen = 7 };
enum Plain : uint64_t { kBig = 0xFFFFFFFF00000000ULL };

TEST(KeyHashTest, EnumsHashAsTheirUnderlyingValue) {
  EXPECT_EQ(KeyHashCode(Color::kRed), -1);
  EXPECT_EQ(KeyHashCode(Color::kGreen), 7);
  EXPECT_EQ(KeyHashCode(kBig), KeyHashCode(uint64_t{0xFFFFFFFF00000000ULL}));
}

struct CustomKey {
  int32_t a;
  int32_t b;
};

}  // namespace
}  // namespace sluice

template <>
struct std::hash<sluice::CustomKey> {
  std::size_t operator()(const sluice::CustomKey& key) const noexcept {
    return (std::size_t{0xABCD} << 32) | static_cast<uint32_t>(key.a * 1000 + key.b);
  }
};

struct SpecialisedKey {
  int32_t id;
};

template <>
struct sluice::KeyHash<SpecialisedKey> {
  static int32_t HashCode(const SpecialisedKey& key) { return key.id * 2; }
};

namespace sluice {
namespace {

TEST(KeyHashTest, OtherTypesUseTheLow32BitsOfStdHash) {
  EXPECT_EQ(KeyHashCode(CustomKey{1, 2}), 1002);
  EXPECT_EQ(KeyHashCode(CustomKey{-1, 0}), -1000);
}

TEST(KeyHashTest, UserSpecialisationsWinAndComposeInsideTuples) {
  EXPECT_EQ(KeyHashCode(SpecialisedKey{21}), 42);
  EXPECT_EQ(KeyHashCode(std::pair<SpecialisedKey, int32_t>{{1}, 1}), 31 * 2 + 1);
}

}  // namespace
}  // namespace sluice
