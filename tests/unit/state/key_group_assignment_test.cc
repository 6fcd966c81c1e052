#include "state/key_group_assignment.h"

#include <sluice/api/key_hash.h>
#include <sluice/status.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::internal {
namespace {

using namespace std::literals;

struct StringKeyGroupVector {
  std::string_view key;
  int32_t key_group_128;
  int32_t key_group_4096;
  int32_t operator_index_128_3;  // max parallelism 128, parallelism 3
};

struct IntKeyGroupVector {
  int32_t key;
  int32_t key_group_128;
  int32_t key_group_4096;
};

struct LongKeyGroupVector {
  int64_t key;
  int32_t key_group_128;
  int32_t key_group_4096;
};

struct RangeVector {
  int32_t max_parallelism;
  int32_t parallelism;
  int32_t operator_index;
  int32_t start;
  int32_t end;
};

struct OperatorIndexVector {
  int32_t max_parallelism;
  int32_t parallelism;
  std::vector<int32_t> operator_index_by_key_group;
};

// Expected values: the output of tests/vectors/FlinkHashVectors.java (section state), computed
// by Flink 1.20.3's MathUtils and KeyGroupRangeAssignment. Do not edit by hand; regenerate (see
// tests/vectors/README.md).
// BEGIN GENERATED
// MathUtils.murmurHash.
constexpr std::pair<int32_t, int32_t> kMurmurHashes[] = {
    {0, 593689054},
    {1, 68075478},
    {-1, 1982413648},
    {2, 1085422463},
    {-2, 1087594050},
    {3, 847579505},
    {7, 1343918321},
    {31, 1168509563},
    {42, 1134849565},
    {97, 1455541201},
    {127, 1931274395},
    {128, 132521001},
    {255, 332370855},
    {256, 1409940790},
    {1000, 3506311},
    {1231, 1090530765},
    {1237, 1530821891},
    {32767, 1389705724},
    {32768, 137138401},
    {65535, 1986290322},
    {65536, 82754377},
    {1048576, 480706890},
    {1073741824, 1278750292},
    {-1073741824, 1897397712},
    {12345678, 2009678998},
    {-12345678, 104081580},
    {99162322, 1715862179},
    {-1875315390, 2025456816},
    {-559038737, 1047277220},
    {-889275714, 2003420054},
    {305419896, 331494558},
    {2147483646, 1247003650},
    {-2147483647, 1646524924},
    {2147483647, 1653689534},
    {INT32_MIN, 1718298732},
    {1431655765, 1310894462},
    {-1431655766, 1623695576},
    {252645135, 2098018352},
    {16777216, 854115492},
    {2023, 1812516392},
    {20240101, 1558052986},
};

// KeyGroupRangeAssignment.assignToKeyGroup(String key, 128 / 4096) and
// assignKeyToParallelOperator(key, 128, 3).
constexpr StringKeyGroupVector kStringKeyGroups[] = {
    {""sv, 94, 2526, 2},                         // ""
    {"a"sv, 81, 3025, 1},                        // "a"
    {"b"sv, 22, 1174, 0},                        // "b"
    {"c"sv, 62, 3390, 1},                        // "c"
    {"hello"sv, 35, 2723, 0},                    // "hello"
    {"world"sv, 66, 3394, 1},                    // "world"
    {"flink"sv, 98, 226, 2},                     // "flink"
    {"sluice"sv, 96, 1504, 2},                   // "sluice"
    {"user-1"sv, 121, 1657, 2},                  // "user-1"
    {"user-2"sv, 22, 1302, 0},                   // "user-2"
    {"user-3"sv, 40, 4008, 0},                   // "user-3"
    {"user-42"sv, 20, 3732, 0},                  // "user-42"
    {"user-1000"sv, 124, 3068, 2},               // "user-1000"
    {"apple"sv, 100, 2532, 2},                   // "apple"
    {"banana"sv, 69, 3525, 1},                   // "banana"
    {"cherry"sv, 27, 2715, 0},                   // "cherry"
    {"key"sv, 72, 3016, 1},                      // "key"
    {"key0"sv, 93, 2269, 2},                     // "key0"
    {"key1"sv, 41, 3753, 0},                     // "key1"
    {"key2"sv, 27, 27, 0},                       // "key2"
    {"caf\xC3\xA9"sv, 54, 3254, 1},              // "caf\u00E9"
    {"\xE4\xB8\xAD\xE6\x96\x87"sv, 39, 935, 0},  // "\u4E2D\u6587"
    {"\xF0\x9F\x98\x80"sv, 54, 3254, 1},         // "\uD83D\uDE00"
    {"The quick brown fox jumps over the lazy dog"sv, 27, 155,
     0},                                // "The quick brown fox jumps over the lazy dog"
    {"order#9f3b2c"sv, 47, 3631, 1},    // "order#9f3b2c"
    {"session:abcdef"sv, 27, 3483, 0},  // "session:abcdef"
    {"de-DE"sv, 31, 2719, 0},           // "de-DE"
    {"en-US"sv, 76, 332, 1},            // "en-US"
    {"NULL"sv, 96, 96, 2},              // "NULL"
    {"null"sv, 72, 840, 1},             // "null"
};

// assignToKeyGroup(Integer key, 128 / 4096).
constexpr IntKeyGroupVector kIntKeyGroups[] = {
    {0, 94, 2526},          {1, 86, 4054},         {-1, 80, 2896},        {2, 127, 2943},
    {3, 113, 2417},         {7, 113, 241},         {42, 29, 3613},        {100, 64, 576},
    {127, 27, 2203},        {128, 41, 3113},       {1000, 7, 135},        {4096, 97, 1761},
    {65536, 73, 2889},      {1000000, 17, 785},    {-1000000, 102, 3302}, {2147483647, 62, 3262},
    {INT32_MIN, 108, 2156}, {123456789, 81, 2385}, {-987654321, 10, 266}, {31, 123, 2683},
};

// assignToKeyGroup(Long key, 128 / 4096).
constexpr LongKeyGroupVector kLongKeyGroups[] = {
    {int64_t{0}, 94, 2526},
    {int64_t{1}, 86, 4054},
    {int64_t{-1}, 94, 2526},
    {int64_t{42}, 29, 3613},
    {int64_t{2147483648}, 108, 2156},
    {int64_t{4294967296}, 86, 4054},
    {int64_t{4294967297}, 94, 2526},
    {int64_t{-4294967296}, 80, 2896},
    {int64_t{1234567890123}, 92, 3420},
    {int64_t{-1234567890123}, 30, 2590},
    {int64_t{9223372036854775807}, 108, 2156},
    {INT64_MIN, 108, 2156},
    {int64_t{9223372032559808512}, 62, 3262},
    {int64_t{4294967295}, 80, 2896},
    {int64_t{1700000000000}, 64, 448},
    {int64_t{4611686018427387904}, 84, 3668},
};

// computeKeyGroupRangeForOperatorIndex: {max, parallelism, index, start, end}.
constexpr RangeVector kKeyGroupRanges[] = {
    {128, 1, 0, 0, 127},   {128, 2, 0, 0, 63},   {128, 2, 1, 64, 127},  {128, 3, 0, 0, 42},
    {128, 3, 1, 43, 85},   {128, 3, 2, 86, 127}, {128, 4, 0, 0, 31},    {128, 4, 1, 32, 63},
    {128, 4, 2, 64, 95},   {128, 4, 3, 96, 127}, {128, 5, 0, 0, 25},    {128, 5, 1, 26, 51},
    {128, 5, 2, 52, 76},   {128, 5, 3, 77, 102}, {128, 5, 4, 103, 127}, {128, 6, 0, 0, 21},
    {128, 6, 1, 22, 42},   {128, 6, 2, 43, 63},  {128, 6, 3, 64, 85},   {128, 6, 4, 86, 106},
    {128, 6, 5, 107, 127}, {128, 7, 0, 0, 18},   {128, 7, 1, 19, 36},   {128, 7, 2, 37, 54},
    {128, 7, 3, 55, 73},   {128, 7, 4, 74, 91},  {128, 7, 5, 92, 109},  {128, 7, 6, 110, 127},
    {10, 3, 0, 0, 3},      {10, 3, 1, 4, 6},     {10, 3, 2, 7, 9},
};

// computeOperatorIndexForKeyGroup for every key group: {max, parallelism, indices}.
const OperatorIndexVector kOperatorIndices[] = {
    {128, 1, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
    {128, 2, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    {128, 3, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
              2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}},
    {128, 4, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
              2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
              3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}},
    {128, 5, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
              2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3,
              3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4,
              4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}},
    {128, 6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2,
              2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
              3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
              4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5}},
    {128, 7, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1,
              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
              2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4,
              4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
              5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6}},
    {10, 3, {0, 0, 0, 0, 1, 1, 1, 2, 2, 2}},
};

// computeDefaultMaxParallelism.
constexpr std::pair<int32_t, int32_t> kFlinkDefaultMaxParallelism[] = {
    {1, 128},       {2, 128},       {10, 128},      {85, 128},      {86, 256},
    {100, 256},     {128, 256},     {1000, 2048},   {5000, 8192},   {10922, 16384},
    {10923, 16384}, {21845, 32768}, {21846, 32768}, {32768, 32768},
};
// END GENERATED

TEST(MurmurHashTest, MatchesFlinkMathUtils) {
  for (const auto& [code, murmur] : kMurmurHashes) {
    EXPECT_EQ(MurmurHash(code), murmur) << code;
  }
}

TEST(MurmurHashTest, IsNeverNegative) {
  for (int64_t code = INT32_MIN; code <= INT32_MAX; code += 65521) {
    EXPECT_GE(MurmurHash(static_cast<int32_t>(code)), 0) << code;
  }
  static_assert(MurmurHash(0) == 593689054, "usable in constant expressions");
}

TEST(AssignToKeyGroupTest, StringKeysLandWhereFlinkPutsThem) {
  for (const auto& v : kStringKeyGroups) {
    const int32_t hash = KeyHash<std::string_view>::HashCode(v.key);
    EXPECT_EQ(AssignToKeyGroup(hash, 128), v.key_group_128) << v.key;
    EXPECT_EQ(AssignToKeyGroup(hash, 4096), v.key_group_4096) << v.key;
    EXPECT_EQ(AssignKeyToParallelOperator(hash, 128, 3), v.operator_index_128_3) << v.key;
  }
}

TEST(AssignToKeyGroupTest, IntegerAndLongKeysLandWhereFlinkPutsThem) {
  for (const auto& v : kIntKeyGroups) {
    const int32_t hash = KeyHash<int32_t>::HashCode(v.key);
    EXPECT_EQ(AssignToKeyGroup(hash, 128), v.key_group_128) << v.key;
    EXPECT_EQ(AssignToKeyGroup(hash, 4096), v.key_group_4096) << v.key;
  }
  for (const auto& v : kLongKeyGroups) {
    const int32_t hash = KeyHash<int64_t>::HashCode(v.key);
    EXPECT_EQ(AssignToKeyGroup(hash, 128), v.key_group_128) << v.key;
    EXPECT_EQ(AssignToKeyGroup(hash, 4096), v.key_group_4096) << v.key;
  }
}

TEST(KeyGroupRangeTest, OperatorRangesMatchFlink) {
  for (const auto& v : kKeyGroupRanges) {
    EXPECT_EQ(
        ComputeKeyGroupRangeForOperatorIndex(v.max_parallelism, v.parallelism, v.operator_index),
        (KeyGroupRange{v.start, v.end}))
        << "max " << v.max_parallelism << " parallelism " << v.parallelism << " index "
        << v.operator_index;
  }
}

TEST(KeyGroupRangeTest, OperatorIndicesMatchFlink) {
  for (const auto& v : kOperatorIndices) {
    ASSERT_EQ(v.operator_index_by_key_group.size(), static_cast<std::size_t>(v.max_parallelism));
    for (int32_t key_group = 0; key_group < v.max_parallelism; ++key_group) {
      EXPECT_EQ(ComputeOperatorIndexForKeyGroup(v.max_parallelism, v.parallelism, key_group),
                v.operator_index_by_key_group[static_cast<std::size_t>(key_group)])
          << "max " << v.max_parallelism << " parallelism " << v.parallelism << " key group "
          << key_group;
    }
  }
}

// For every parallelism up to max: each key group maps to exactly one subtask, that subtask's
// range contains it, and the ranges are non-empty and tile [0, max) in subtask order.
void ExpectRangesTile(int32_t max_parallelism, int32_t parallelism) {
  SCOPED_TRACE("max " + std::to_string(max_parallelism) + " parallelism " +
               std::to_string(parallelism));
  int32_t next = 0;
  for (int32_t index = 0; index < parallelism; ++index) {
    const KeyGroupRange range =
        ComputeKeyGroupRangeForOperatorIndex(max_parallelism, parallelism, index);
    ASSERT_FALSE(range.empty()) << "index " << index;
    ASSERT_EQ(range.start, next) << "index " << index;
    next = range.end + 1;
  }
  ASSERT_EQ(next, max_parallelism);

  for (int32_t key_group = 0; key_group < max_parallelism; ++key_group) {
    const int32_t owner = ComputeOperatorIndexForKeyGroup(max_parallelism, parallelism, key_group);
    ASSERT_GE(owner, 0);
    ASSERT_LT(owner, parallelism);
    int32_t holders = 0;
    for (int32_t index = 0; index < parallelism; ++index) {
      const KeyGroupRange range =
          ComputeKeyGroupRangeForOperatorIndex(max_parallelism, parallelism, index);
      if (range.Contains(key_group)) {
        ++holders;
        ASSERT_EQ(index, owner) << "key group " << key_group;
      }
    }
    ASSERT_EQ(holders, 1) << "key group " << key_group;
  }
}

TEST(KeyGroupRangeTest, EveryKeyGroupHasExactlyOneOwnerAndRangesTile) {
  for (int32_t max_parallelism : {1, 7, 128}) {
    for (int32_t parallelism = 1; parallelism <= max_parallelism; ++parallelism) {
      ExpectRangesTile(max_parallelism, parallelism);
    }
  }
}

TEST(KeyGroupRangeTest, RangesTileAtTheUpperBound) {
  for (int32_t parallelism : {1, 2, 3, 1000, 32767, 32768}) {
    int32_t next = 0;
    for (int32_t index = 0; index < parallelism; ++index) {
      const KeyGroupRange range =
          ComputeKeyGroupRangeForOperatorIndex(kUpperBoundMaxParallelism, parallelism, index);
      ASSERT_EQ(range.start, next);
      ASSERT_FALSE(range.empty());
      for (int32_t key_group : {range.start, range.end}) {
        ASSERT_EQ(
            ComputeOperatorIndexForKeyGroup(kUpperBoundMaxParallelism, parallelism, key_group),
            index);
      }
      next = range.end + 1;
    }
    ASSERT_EQ(next, kUpperBoundMaxParallelism) << parallelism;
  }
}

TEST(KeyGroupRangeTest, HelpersBehaveLikeFlinks) {
  const KeyGroupRange range{43, 85};
  EXPECT_EQ(range.size(), 43);
  EXPECT_FALSE(range.empty());
  EXPECT_TRUE(range.Contains(43));
  EXPECT_TRUE(range.Contains(85));
  EXPECT_FALSE(range.Contains(42));
  EXPECT_FALSE(range.Contains(86));
  EXPECT_EQ(range.KeyGroupAt(0), 43);
  EXPECT_EQ(range.KeyGroupAt(42), 85);

  std::vector<int32_t> visited;
  for (int32_t key_group : range.KeyGroups()) visited.push_back(key_group);
  ASSERT_EQ(visited.size(), 43u);
  EXPECT_EQ(visited.front(), 43);
  EXPECT_EQ(visited.back(), 85);

  EXPECT_EQ(range.Intersection({80, 100}), (KeyGroupRange{80, 85}));
  EXPECT_EQ(range.Intersection({0, 43}), (KeyGroupRange{43, 43}));
  EXPECT_EQ(range.Intersection({86, 127}), KeyGroupRange::Empty());
  EXPECT_EQ(KeyGroupRange::Of(5, 4), KeyGroupRange::Empty());
  EXPECT_EQ(KeyGroupRange::Of(4, 4).size(), 1);

  const KeyGroupRange empty = KeyGroupRange::Empty();
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0);
  EXPECT_FALSE(empty.Contains(0));
  EXPECT_TRUE(empty.KeyGroups().empty());
  EXPECT_EQ(KeyGroupRange{}, empty);

  EXPECT_EQ(range.ToString(), "[43, 85]");
  std::ostringstream out;
  out << empty;
  EXPECT_EQ(out.str(), "[0, -1]");
}

TEST(ComputeDefaultMaxParallelismTest, MatchesFlink) {
  for (const auto& [parallelism, max_parallelism] : kFlinkDefaultMaxParallelism) {
    EXPECT_EQ(ComputeDefaultMaxParallelism(parallelism), max_parallelism) << parallelism;
  }
}

TEST(ValidateParallelismTest, AcceptsTheFullRange) {
  EXPECT_THAT(ValidateMaxParallelism(1), IsOk());
  EXPECT_THAT(ValidateMaxParallelism(kDefaultMaxParallelism), IsOk());
  EXPECT_THAT(ValidateMaxParallelism(32768), IsOk());
  EXPECT_THAT(ValidateParallelism(1, 1), IsOk());
  EXPECT_THAT(ValidateParallelism(128, 128), IsOk());
  EXPECT_THAT(ValidateParallelism(32768, 32768), IsOk());
}

TEST(ValidateParallelismTest, RejectsMaxParallelismOutOfRangeNamingTheSetting) {
  for (int32_t bad : {0, -1, 32769, INT32_MAX, INT32_MIN}) {
    const Status status = ValidateMaxParallelism(bad);
    EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument)) << bad;
    EXPECT_FALSE(IsRestartable(status));
    EXPECT_THAT(status.message(), HasSubstr("max parallelism " + std::to_string(bad)));
    EXPECT_THAT(status.message(), HasSubstr("SetMaxParallelism"));
    EXPECT_THAT(status.message(), HasSubstr("32768"));
    // The same check comes first when validating a parallelism.
    EXPECT_EQ(ValidateParallelism(1, bad), status);
  }
}

TEST(ValidateParallelismTest, RejectsParallelismAboveMaxParallelismNamingBothSettings) {
  const Status status = ValidateParallelism(200, 128);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("parallelism 200 is greater than max parallelism 128"));
  EXPECT_THAT(status.message(), HasSubstr("SetParallelism"));
  EXPECT_THAT(status.message(), HasSubstr("SetMaxParallelism"));
}

TEST(ValidateParallelismTest, RejectsParallelismBelowOne) {
  for (int32_t bad : {0, -4}) {
    const Status status = ValidateParallelism(bad, 128);
    EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(status.message(), HasSubstr("parallelism " + std::to_string(bad)));
    EXPECT_THAT(status.message(), HasSubstr("SetParallelism"));
  }
}

}  // namespace
}  // namespace sluice::internal
