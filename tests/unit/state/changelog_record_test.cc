#include "state/changelog_record.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::internal {
namespace {

using namespace std::literals;
using detail::KeyedStateKind;

template <typename F>
std::string SerializationMessageOf(F&& f) {
  try {
    f();
  } catch (const SerializationError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected a SerializationError";
  return {};
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

template <typename F>
std::string Encoded(F&& encode) {
  DataOutput out;
  encode(out);
  return out.Release();
}

// The bytes of each record type are part of the durable format: pinned.
TEST(ChangelogRecord, KeyedEntryBytesArePinnedAndRoundTrip) {
  const std::string key =
      Encoded([](DataOutput& out) { EncodeKeyedEntryKey("count", "\x02k"sv, out); });
  EXPECT_EQ(key,
            "\x01"  // key format version
            "\x00"  // record type: keyed entry
            "\x05"
            "count"      // state name
            "\x02k"sv);  // the user key, the rest of the key
  const ChangelogKey decoded = DecodeChangelogKey(key);
  EXPECT_EQ(decoded.type, ChangelogRecordType::kKeyedEntry);
  EXPECT_EQ(decoded.state_name, "count");
  EXPECT_EQ(decoded.user_key, "\x02k"sv);
  EXPECT_EQ(decoded.key_group, -1);
  EXPECT_EQ(decoded.subtask, -1);

  const std::string value = Encoded([](DataOutput& out) {
    EncodeKeyedEntryValue(KeyedStateKind::kMap, "map<string,int32>", "\x01\x01x\x0a"sv, out);
  });
  EXPECT_EQ(value,
            "\x01"  // value format version
            "\x02"  // kind: map
            "\x11"
            "map<string,int32>"  // type name
            "\x01\x01x\x0a"sv);  // the value bytes, the rest of the value
  const KeyedEntryValue decoded_value = DecodeKeyedEntryValue(value);
  EXPECT_EQ(decoded_value.kind, KeyedStateKind::kMap);
  EXPECT_EQ(decoded_value.type_name, "map<string,int32>");
  EXPECT_EQ(decoded_value.value, "\x01\x01x\x0a"sv);

  // Empty names, keys and values are still distinct, decodable records.
  const std::string empty = Encoded([](DataOutput& out) { EncodeKeyedEntryKey("", "", out); });
  EXPECT_EQ(empty, "\x01\x00\x00"sv);
  EXPECT_EQ(DecodeChangelogKey(empty).state_name, "");
  EXPECT_EQ(DecodeChangelogKey(empty).user_key, "");
  const std::string empty_value = Encoded(
      [](DataOutput& out) { EncodeKeyedEntryValue(KeyedStateKind::kValue, "unit", "", out); });
  EXPECT_EQ(empty_value, "\x01\x00\x04unit"sv);
  EXPECT_EQ(DecodeKeyedEntryValue(empty_value).value, "");
}

TEST(ChangelogRecord, KeyedChangeEncodesKeyAndValueOrATombstone) {
  const detail::KeyedStateChange put{"v", KeyedStateKind::kReducing, "int64", "k", "\x06"sv};
  DataOutput key;
  DataOutput value;
  EXPECT_TRUE(EncodeKeyedChange(put, key, value));
  EXPECT_EQ(key.data(), "\x01\x00\x01vk"sv);
  EXPECT_EQ(value.data(), "\x01\x03\x05int64\x06"sv);

  const detail::KeyedStateChange tombstone{"v", KeyedStateKind::kReducing, "int64", "k",
                                           std::nullopt};
  DataOutput tombstone_key;
  DataOutput untouched;
  EXPECT_FALSE(EncodeKeyedChange(tombstone, tombstone_key, untouched));
  EXPECT_EQ(tombstone_key.data(), key.data()) << "a tombstone replaces the key's record";
  EXPECT_EQ(untouched.size(), 0u) << "a tombstone is a null value, not an empty one";
}

TEST(ChangelogRecord, ExtrasOperatorStateAndResetBytesArePinnedAndRoundTrip) {
  const std::string extras_key =
      Encoded([](DataOutput& out) { EncodeKeyGroupExtrasKey(300, out); });
  EXPECT_EQ(extras_key, "\x01\x01\xac\x02"sv);  // version, type 1, varint 300
  EXPECT_EQ(DecodeChangelogKey(extras_key).type, ChangelogRecordType::kKeyGroupExtras);
  EXPECT_EQ(DecodeChangelogKey(extras_key).key_group, 300);
  const std::string extras_value =
      Encoded([](DataOutput& out) { EncodeKeyGroupExtrasValue("\x01timers"sv, out); });
  EXPECT_EQ(extras_value, "\x01\x01timers"sv);  // version, then the extras as they are
  EXPECT_EQ(DecodeKeyGroupExtrasValue(extras_value), "\x01timers"sv);

  const std::string operator_key = Encoded([](DataOutput& out) { EncodeOperatorStateKey(3, out); });
  EXPECT_EQ(operator_key, "\x01\x02\x03"sv);
  EXPECT_EQ(DecodeChangelogKey(operator_key).type, ChangelogRecordType::kOperatorState);
  EXPECT_EQ(DecodeChangelogKey(operator_key).subtask, 3);
  EXPECT_EQ(DecodeChangelogKey(operator_key).key_group, -1);
  const std::string operator_value =
      Encoded([](DataOutput& out) { EncodeOperatorStateValue(4, "section", out); });
  EXPECT_EQ(operator_value, "\x01\x04section"sv);  // version, parallelism, the section
  EXPECT_EQ(DecodeOperatorStateValue(operator_value).parallelism, 4);
  EXPECT_EQ(DecodeOperatorStateValue(operator_value).section, "section");

  const std::string reset_key = Encoded([](DataOutput& out) { EncodeKeyGroupResetKey(7, out); });
  EXPECT_EQ(reset_key, "\x01\x03\x07"sv);
  EXPECT_EQ(DecodeChangelogKey(reset_key).type, ChangelogRecordType::kKeyGroupReset);
  EXPECT_EQ(DecodeChangelogKey(reset_key).key_group, 7);
  const std::string reset_value = Encoded([](DataOutput& out) { EncodeKeyGroupResetValue(out); });
  EXPECT_EQ(reset_value, "\x01"sv);
  CheckKeyGroupResetValue(reset_value);

  EXPECT_EQ(ChangelogRecordTypeName(ChangelogRecordType::kKeyedEntry), "keyed entry");
  EXPECT_EQ(ChangelogRecordTypeName(ChangelogRecordType::kKeyGroupExtras), "key group extras");
  EXPECT_EQ(ChangelogRecordTypeName(ChangelogRecordType::kOperatorState), "operator state");
  EXPECT_EQ(ChangelogRecordTypeName(ChangelogRecordType::kKeyGroupReset), "key group reset");
}

// Compaction keeps one record per key: two different things must never share a key.
TEST(ChangelogRecord, DistinctRecordsNeverShareAKey) {
  std::set<std::string> keys;
  auto add = [&](const std::string& key) { EXPECT_TRUE(keys.insert(key).second) << key; };
  add(Encoded([](DataOutput& out) { EncodeKeyedEntryKey("ab", "c", out); }));
  add(Encoded([](DataOutput& out) { EncodeKeyedEntryKey("a", "bc", out); }));
  add(Encoded([](DataOutput& out) { EncodeKeyedEntryKey("abc", "", out); }));
  add(Encoded([](DataOutput& out) { EncodeKeyedEntryKey("", "abc", out); }));
  add(Encoded([](DataOutput& out) { EncodeKeyGroupExtrasKey(1, out); }));
  add(Encoded([](DataOutput& out) { EncodeOperatorStateKey(1, out); }));
  add(Encoded([](DataOutput& out) { EncodeKeyGroupResetKey(1, out); }));

  // Random (name, key) pairs over a tiny alphabet, so that prefixes collide often: each
  // decodes to exactly what was encoded, so no two pairs can share bytes.
  std::mt19937 random(7);
  std::uniform_int_distribution<int> length(0, 4);
  std::uniform_int_distribution<int> letter(0, 2);
  auto text = [&] {
    std::string s(static_cast<std::size_t>(length(random)), 'a');
    for (char& c : s) c = static_cast<char>('a' + letter(random));
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    const std::string name = text();
    const std::string user_key = text();
    const std::string key =
        Encoded([&](DataOutput& out) { EncodeKeyedEntryKey(name, user_key, out); });
    const ChangelogKey decoded = DecodeChangelogKey(key);
    ASSERT_EQ(decoded.type, ChangelogRecordType::kKeyedEntry);
    ASSERT_EQ(decoded.state_name, name);
    ASSERT_EQ(decoded.user_key, user_key);
  }
}

TEST(ChangelogRecord, UnknownVersionsAndTypesAreRejectedNamingThem) {
  std::string message = SerializationMessageOf([] { DecodeChangelogKey("\x02\x00\x01vk"sv); });
  EXPECT_TRUE(Contains(message, "changelog record key")) << message;
  EXPECT_TRUE(Contains(message, "key format version 2")) << message;
  EXPECT_TRUE(Contains(message, "newer release")) << message;

  message = SerializationMessageOf([] { DecodeChangelogKey("\x01\x04\x01"sv); });
  EXPECT_TRUE(Contains(message, "unknown record type 4")) << message;

  message = SerializationMessageOf([] { DecodeKeyedEntryValue("\x02\x00\x05int32\x02"sv); });
  EXPECT_TRUE(Contains(message, "changelog keyed entry value")) << message;
  EXPECT_TRUE(Contains(message, "value format version 2")) << message;
  message = SerializationMessageOf([] { DecodeKeyGroupExtrasValue("\x00x"sv); });
  EXPECT_TRUE(Contains(message, "value format version 0")) << message;
  message = SerializationMessageOf([] { DecodeOperatorStateValue("\x09\x01s"sv); });
  EXPECT_TRUE(Contains(message, "value format version 9")) << message;
  message = SerializationMessageOf([] { CheckKeyGroupResetValue("\x02"sv); });
  EXPECT_TRUE(Contains(message, "value format version 2")) << message;

  message = SerializationMessageOf([] { DecodeKeyedEntryValue("\x01\x05\x05int32\x02"sv); });
  EXPECT_TRUE(Contains(message, "unknown state kind 5")) << message;
}

TEST(ChangelogRecord, TruncatedOrOverlongRecordsAreRejected) {
  struct Case {
    std::string_view bytes;
    std::string_view expected;
  };
  for (const Case& c : {
           Case{""sv, "byte offset 0"},          // no version
           Case{"\x01"sv, "byte offset 1"},      // no type
           Case{"\x01\x00"sv, "string length"},  // no state name
           Case{"\x01\x00\x05"
                "abc"sv,
                "string"},                        // state name cut short
           Case{"\x01\x01"sv, "varint u32"},      // extras without key group
           Case{"\x01\x01\x80"sv, "varint u32"},  // key group cut short
           Case{"\x01\x01\x05\x00"sv, "1 unexpected bytes after the key group"},
           Case{"\x01\x03\x05xy"sv, "2 unexpected bytes after the key group"},
           Case{"\x01\x02\x01\x00"sv, "unexpected bytes after the subtask index"},
           Case{"\x01\x01\x80\x80\x80\x80\x08"sv, "key group 2147483648 is out of range"},
           Case{"\x01\x02\xff\xff\xff\xff\x0f"sv, "subtask index 4294967295 is out of range"},
       }) {
    const std::string message = SerializationMessageOf([&] { DecodeChangelogKey(c.bytes); });
    EXPECT_TRUE(Contains(message, "changelog record key")) << message;
    EXPECT_TRUE(Contains(message, c.expected)) << message << " (expected: " << c.expected << ")";
  }

  // A value that is present must hold at least its version: an empty one is not a null.
  std::string message = SerializationMessageOf([] { DecodeKeyedEntryValue(""sv); });
  EXPECT_TRUE(Contains(message, "must be a Kafka null")) << message;
  message = SerializationMessageOf([] { DecodeKeyGroupExtrasValue(""sv); });
  EXPECT_TRUE(Contains(message, "must be a Kafka null")) << message;
  message = SerializationMessageOf([] { DecodeOperatorStateValue(""sv); });
  EXPECT_TRUE(Contains(message, "must be a Kafka null")) << message;
  message = SerializationMessageOf([] { CheckKeyGroupResetValue(""sv); });
  EXPECT_TRUE(Contains(message, "must be a Kafka null")) << message;

  message = SerializationMessageOf([] { DecodeKeyedEntryValue("\x01"sv); });
  EXPECT_TRUE(Contains(message, "byte offset 1")) << message;  // no kind
  message = SerializationMessageOf([] { DecodeKeyedEntryValue("\x01\x00\x05in"sv); });
  EXPECT_TRUE(Contains(message, "string")) << message;  // type name cut short
  message = SerializationMessageOf([] { DecodeOperatorStateValue("\x01"sv); });
  EXPECT_TRUE(Contains(message, "varint u32")) << message;  // no parallelism
  message = SerializationMessageOf([] { DecodeOperatorStateValue("\x01\x00section"sv); });
  EXPECT_TRUE(Contains(message, "parallelism 0 is below 1")) << message;
  message = SerializationMessageOf([] { CheckKeyGroupResetValue("\x01\x00"sv); });
  EXPECT_TRUE(Contains(message, "unexpected bytes after the version")) << message;
}

}  // namespace
}  // namespace sluice::internal
