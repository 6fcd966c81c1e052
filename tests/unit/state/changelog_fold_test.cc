#include "state/changelog_fold.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "state/changelog_record.h"
#include "state/heap_keyed_state_backend.h"

namespace sluice::internal {
namespace {

using namespace std::literals;
using detail::HeapKeyedStateBackend;
using detail::KeyedStateBackendParameters;
using detail::KeyedStateChange;
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

// One Kafka record of a changelog partition: a key, and a value or a null.
struct Record {
  std::string key;
  std::optional<std::string> value;
};
using Log = std::vector<Record>;

template <typename T>
std::string BytesOf(const T& stored) {
  DataOutput out;
  SerializeValue(stored, out);
  return out.Release();
}

Record Put(std::string_view state, KeyedStateKind kind, std::string_view type_name,
           std::string_view key, std::string_view value) {
  DataOutput key_out;
  DataOutput value_out;
  EncodeKeyedEntryKey(state, key, key_out);
  EncodeKeyedEntryValue(kind, type_name, value, value_out);
  return Record{key_out.Release(), value_out.Release()};
}
Record PutInt(std::string_view state, std::string_view key, int32_t value) {
  return Put(state, KeyedStateKind::kValue, "int32", key, BytesOf(value));
}
Record Tombstone(std::string_view state, std::string_view key) {
  DataOutput key_out;
  EncodeKeyedEntryKey(state, key, key_out);
  return Record{key_out.Release(), std::nullopt};
}
Record Extras(int32_t key_group, std::optional<std::string_view> extras) {
  DataOutput key_out;
  EncodeKeyGroupExtrasKey(key_group, key_out);
  if (!extras) return Record{key_out.Release(), std::nullopt};
  DataOutput value_out;
  EncodeKeyGroupExtrasValue(*extras, value_out);
  return Record{key_out.Release(), value_out.Release()};
}
Record Reset(int32_t key_group) {
  DataOutput key_out;
  DataOutput value_out;
  EncodeKeyGroupResetKey(key_group, key_out);
  EncodeKeyGroupResetValue(value_out);
  return Record{key_out.Release(), value_out.Release()};
}
Record OperatorState(int32_t subtask, std::optional<std::pair<int32_t, std::string>> section) {
  DataOutput key_out;
  EncodeOperatorStateKey(subtask, key_out);
  if (!section) return Record{key_out.Release(), std::nullopt};
  DataOutput value_out;
  EncodeOperatorStateValue(section->first, section->second, value_out);
  return Record{key_out.Release(), value_out.Release()};
}

std::optional<std::string_view> ValueOf(const Record& record) {
  if (!record.value) return std::nullopt;
  return std::string_view(*record.value);
}

KeyGroupRestoreBytes Fold(int32_t key_group, const Log& log,
                          std::size_t count = static_cast<std::size_t>(-1)) {
  KeyGroupChangelogFold fold(key_group);
  for (std::size_t i = 0; i < std::min(count, log.size()); ++i) {
    fold.Add(log[i].key, ValueOf(log[i]));
  }
  return fold.Finish();
}

// What compaction leaves of a partition: the last record of each key, in offset order; and
// once the cleaner has run past delete.retention.ms, no tombstones either.
Log Compact(const Log& log, std::size_t count, bool drop_tombstones) {
  std::map<std::string, std::size_t> last;
  for (std::size_t i = 0; i < count; ++i) last[log[i].key] = i;
  Log compacted;
  for (std::size_t i = 0; i < count; ++i) {
    if (last[log[i].key] != i) continue;
    if (drop_tombstones && !log[i].value) continue;
    compacted.push_back(log[i]);
  }
  return compacted;
}

KeyedStateBackendParameters Params(int32_t start, int32_t end, bool track_changes = false) {
  KeyedStateBackendParameters parameters;
  parameters.operator_name = "op";
  parameters.operator_uid = "uid";
  parameters.key_group_start = start;
  parameters.key_group_end = end;
  parameters.track_changes = track_changes;
  return parameters;
}

void RestoreInto(detail::KeyedStateBackend& backend, int32_t key_group, std::string_view section) {
  DataInput in(section);
  backend.RestoreKeyGroup(key_group, in);
  EXPECT_TRUE(in.AtEnd());
}

TEST(KeyGroupChangelogFold, LastWriteWinsTombstonesEraseAndEmptyStatesAreOmitted) {
  const Log log = {
      PutInt("v", "a", 1),
      PutInt("v", "b", 2),
      PutInt("v", "a", 3),
      Tombstone("v", "b"),
      Put("gone", KeyedStateKind::kList, "int32", "x", BytesOf(std::vector<int32_t>{1})),
      Tombstone("gone", "x"),
      Tombstone("never", "y"),  // a state never written
      Tombstone("v", "zz"),     // a key never written
  };
  KeyGroupChangelogFold fold(0);
  for (const Record& record : log) fold.Add(record.key, ValueOf(record));
  EXPECT_EQ(fold.live_entries(), 1u);
  const KeyGroupRestoreBytes bytes = fold.Finish();
  // The heap backend's section format (one entry per state, so the bytes are deterministic).
  EXPECT_EQ(bytes.keyed,
            "\x02"  // section version
            "\x01"  // one state
            "\x01v"
            "\x00"  // kind: value
            "\x05"
            "int32"
            "\x02"  // payload format: framed values
            "\x05"  // payload length
            "\x01"  //   one entry
            "\x01"
            "a"            //   key
            "\x01\x06"s);  //   1 byte: zigzag 3
  EXPECT_EQ(bytes.extras, "");

  HeapKeyedStateBackend restored(Params(0, 0));
  RestoreInto(restored, 0, bytes.keyed);
  ValueState<int32_t>& v = restored.GetValueState(ValueStateDescriptor<int32_t>("v"));
  restored.SetCurrentKey("a", 0);
  EXPECT_EQ(v.Value(), 3);
  restored.SetCurrentKey("b", 0);
  EXPECT_EQ(v.Value(), std::nullopt);
  EXPECT_EQ(restored.StateNames(), (std::vector<std::string>{"v"}));
}

TEST(KeyGroupChangelogFold, NothingFoldedIsAnEmptySection) {
  KeyGroupChangelogFold fold(3);
  EXPECT_EQ(fold.key_group(), 3);
  const KeyGroupRestoreBytes bytes = fold.Finish();
  EXPECT_EQ(bytes.keyed, "\x02\x00"sv);
  EXPECT_EQ(bytes.extras, "");
  HeapKeyedStateBackend restored(Params(3, 3));
  RestoreInto(restored, 3, bytes.keyed);
  EXPECT_TRUE(restored.StateNames().empty());
}

TEST(KeyGroupChangelogFold, StatesComeOutInNameOrderWithEveryKindRestorable) {
  const Log log = {
      Put("z-list", KeyedStateKind::kList, "string", "k1",
          BytesOf(std::vector<std::string>{"a", "b"})),
      Put("m-map", KeyedStateKind::kMap, "map<string,int32>", "k1",
          BytesOf(std::map<std::string, int32_t>{{"x", 1}})),
      Put("a-sum", KeyedStateKind::kReducing, "int64", "k2", BytesOf(int64_t{40})),
      Put("m-map", KeyedStateKind::kMap, "map<string,int32>", "k2",
          BytesOf(std::map<std::string, int32_t>{{"y", 2}})),
      Put("a-sum", KeyedStateKind::kReducing, "int64", "k2", BytesOf(int64_t{42})),
  };
  const KeyGroupRestoreBytes bytes = Fold(9, log);
  DataInput in(bytes.keyed);
  ASSERT_EQ(in.ReadU8(), detail::kKeyedSectionVersion);
  ASSERT_EQ(in.ReadVarU64(), 3u);
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    names.push_back(in.ReadString());
    in.ReadU8();
    in.ReadStringView();
    EXPECT_EQ(in.ReadU8(), static_cast<uint8_t>(detail::PayloadFormat::kFramedValues));
    in.ReadStringView();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a-sum", "m-map", "z-list"}));

  HeapKeyedStateBackend restored(Params(9, 9));
  RestoreInto(restored, 9, bytes.keyed);
  ListState<std::string>& list = restored.GetListState(ListStateDescriptor<std::string>("z-list"));
  MapState<std::string, int32_t>& map =
      restored.GetMapState(MapStateDescriptor<std::string, int32_t>("m-map"));
  ReducingState<int64_t>& sum = restored.GetReducingState(ReducingStateDescriptor<int64_t>(
      "a-sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  restored.SetCurrentKey("k1", 9);
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(map.Entries(), (std::map<std::string, int32_t>{{"x", 1}}));
  EXPECT_EQ(sum.Get(), std::nullopt);
  restored.SetCurrentKey("k2", 9);
  EXPECT_EQ(map.Entries(), (std::map<std::string, int32_t>{{"y", 2}}));
  EXPECT_EQ(sum.Get(), 42);
}

TEST(KeyGroupChangelogFold, ExtrasAreTheLatestAndANullMeansNone) {
  EXPECT_EQ(Fold(5, {Extras(5, "one"), Extras(5, "two")}).extras, "two");
  EXPECT_EQ(Fold(5, {Extras(5, "one"), Extras(5, std::nullopt)}).extras, "");
  EXPECT_EQ(Fold(5, {Extras(5, std::nullopt), Extras(5, "three")}).extras, "three");

  const std::string message = SerializationMessageOf([] { Fold(5, {Extras(6, "x")}); });
  EXPECT_TRUE(Contains(message, "changelog of key group 5")) << message;
  EXPECT_TRUE(Contains(message, "key group extras record of key group 6")) << message;
}

// A reset voids everything of its key group before it: keys of an older run that the full
// write after it does not mention, and their extras.
TEST(KeyGroupChangelogFold, AResetVoidsEveryEarlierRecordOfTheKeyGroup) {
  const Log log = {
      PutInt("v", "stale", 1), PutInt("old", "k", 2), Extras(2, "old timers"), Reset(2),
      PutInt("v", "live", 3),
  };
  const KeyGroupRestoreBytes bytes = Fold(2, log);
  EXPECT_EQ(bytes.extras, "");
  HeapKeyedStateBackend restored(Params(2, 2));
  RestoreInto(restored, 2, bytes.keyed);
  EXPECT_EQ(restored.StateNames(), (std::vector<std::string>{"v"}));
  ValueState<int32_t>& v = restored.GetValueState(ValueStateDescriptor<int32_t>("v"));
  restored.SetCurrentKey("stale", 2);
  EXPECT_EQ(v.Value(), std::nullopt);
  restored.SetCurrentKey("live", 2);
  EXPECT_EQ(v.Value(), 3);

  std::string message = SerializationMessageOf([] { Fold(2, {Reset(3)}); });
  EXPECT_TRUE(Contains(message, "key group reset record of key group 3")) << message;
  message = SerializationMessageOf([] {
    Record null_reset = Reset(2);
    null_reset.value.reset();
    Fold(2, {null_reset});
  });
  EXPECT_TRUE(Contains(message, "null value")) << message;
}

TEST(KeyGroupChangelogFold, LiveEntriesOfOneStateMustAgreeOnKindAndType) {
  std::string message = SerializationMessageOf([] {
    Fold(0, {PutInt("s", "a", 1), Put("s", KeyedStateKind::kValue, "int64", "b", "\x02"sv)});
  });
  EXPECT_TRUE(Contains(message, "state 's'")) << message;
  EXPECT_TRUE(Contains(message, "value state of type int64")) << message;
  EXPECT_TRUE(Contains(message, "value state of type int32")) << message;
  EXPECT_TRUE(Contains(message, "inconsistent changelog")) << message;
  message = SerializationMessageOf([] {
    Fold(0, {PutInt("s", "a", 1), Put("s", KeyedStateKind::kReducing, "int32", "a", "\x02"sv)});
  });
  EXPECT_TRUE(Contains(message, "reducing state of type int32")) << message;

  // Once every entry is gone, a state may come back with another type (a job that emptied it
  // could register it anew after a restore that omitted it).
  const KeyGroupRestoreBytes bytes =
      Fold(0, {PutInt("s", "a", 1), Tombstone("s", "a"),
               Put("s", KeyedStateKind::kValue, "string", "b", BytesOf(std::string("text")))});
  HeapKeyedStateBackend restored(Params(0, 0));
  RestoreInto(restored, 0, bytes.keyed);
  restored.SetCurrentKey("b", 0);
  EXPECT_EQ(restored.GetValueState(ValueStateDescriptor<std::string>("s")).Value(), "text");
}

TEST(KeyGroupChangelogFold, ARecordThatCannotBeDecodedChangesNothing) {
  KeyGroupChangelogFold fold(0);
  const Record good = PutInt("v", "a", 1);  // kept alive: the fold keeps views into it
  fold.Add(good.key, ValueOf(good));
  const Record bad_value{PutInt("v", "a", 2).key, "\x01\x07"s};  // unknown kind
  EXPECT_THROW(fold.Add(bad_value.key, ValueOf(bad_value)), SerializationError);
  EXPECT_THROW(fold.Add("\x02\x00\x01va"sv, "\x01"sv), SerializationError);
  const Record other_type = Put("v", KeyedStateKind::kList, "int32", "b", "\x00"sv);
  EXPECT_THROW(fold.Add(other_type.key, ValueOf(other_type)), SerializationError);
  EXPECT_EQ(fold.Finish().keyed, Fold(0, {good}).keyed);
  // Finish can be called again after more records.
  const Record more = PutInt("v", "a", 5);
  fold.Add(more.key, ValueOf(more));
  EXPECT_EQ(fold.Finish().keyed, Fold(0, {more}).keyed);
}

TEST(KeyGroupChangelogFold, AddCopyKeepsNothingOfTheCallersBytes) {
  Log log;
  for (int i = 0; i < 3000; ++i) {
    log.push_back(PutInt("v", "key-" + std::to_string(i % 1000), i));
    if (i % 7 == 0) log.push_back(Tombstone("v", "key-" + std::to_string((i * 13) % 1000)));
  }
  log.push_back(Extras(0, std::string(300000, 'x')));  // larger than a copy block
  KeyGroupChangelogFold copying(0);
  std::string key;
  std::string value;
  for (const Record& record : log) {
    key = record.key;
    value = record.value.value_or("");
    copying.AddCopy(key, record.value ? std::optional<std::string_view>(value) : std::nullopt);
    // The caller reuses its buffers for the next record.
    std::fill(key.begin(), key.end(), '#');
    std::fill(value.begin(), value.end(), '#');
  }
  const KeyGroupRestoreBytes expected = Fold(0, log);
  const KeyGroupRestoreBytes copied = copying.Finish();
  EXPECT_EQ(copied.keyed, expected.keyed);
  EXPECT_EQ(copied.extras, expected.extras);
  // Keys whose last record has a value.
  std::map<std::string, bool> present;
  for (const Record& record : log) {
    if (DecodeChangelogKey(record.key).type == ChangelogRecordType::kKeyedEntry) {
      present[record.key] = record.value.has_value();
    }
  }
  EXPECT_EQ(copying.live_entries(),
            static_cast<std::size_t>(std::count_if(
                present.begin(), present.end(), [](const auto& entry) { return entry.second; })));
  EXPECT_LT(copying.live_entries(), 1000u) << "some keys end with a tombstone";
}

TEST(OperatorStateChangelogFold, TheLatestSectionOfEverySubtask) {
  OperatorStateChangelogFold fold;
  EXPECT_EQ(fold.Finish(), std::nullopt);
  for (const Record& record : {
           OperatorState(0, std::make_pair(2, "a0"s)),
           OperatorState(1, std::make_pair(2, "a1"s)),
           PutInt("v", "k", 1),  // other record types are ignored
           Extras(0, "timers"),
           OperatorState(1, std::make_pair(2, "b1"s)),
       }) {
    fold.Add(record.key, ValueOf(record));
  }
  std::optional<OperatorStateRestoreSections> sections = fold.Finish();
  ASSERT_TRUE(sections.has_value());
  EXPECT_EQ(sections->parallelism, 2);
  EXPECT_EQ(sections->sections, (std::vector<std::string>{"a0", "b1"}));

  // The key group fold ignores operator state likewise.
  EXPECT_EQ(Fold(0, {OperatorState(0, std::make_pair(1, "x"s))}).keyed, "\x02\x00"sv);

  OperatorStateChangelogFold all_gone;
  const Record gone = OperatorState(0, std::nullopt);
  all_gone.Add(gone.key, ValueOf(gone));
  EXPECT_EQ(all_gone.Finish(), std::nullopt);
}

TEST(OperatorStateChangelogFold, AfterAScaleInTheOldSubtasksAreIgnored) {
  OperatorStateChangelogFold fold;
  for (const Record& record : {
           OperatorState(0, std::make_pair(4, "p4-0"s)),
           OperatorState(1, std::make_pair(4, "p4-1"s)),
           OperatorState(2, std::make_pair(4, "p4-2"s)),
           OperatorState(3, std::make_pair(4, "p4-3"s)),
           OperatorState(1, std::make_pair(2, "p2-1"s)),
           OperatorState(0, std::make_pair(2, "p2-0"s)),
           OperatorState(3, std::nullopt),  // a writer may drop the old ones, or not
       }) {
    fold.Add(record.key, ValueOf(record));
  }
  std::optional<OperatorStateRestoreSections> sections = fold.Finish();
  ASSERT_TRUE(sections.has_value());
  EXPECT_EQ(sections->parallelism, 2);
  EXPECT_EQ(sections->sections, (std::vector<std::string>{"p2-0", "p2-1"}));
}

TEST(OperatorStateChangelogFold, SectionsThatDoNotMakeUpOneParallelismAreRejected) {
  auto finish = [](const Log& log) {
    OperatorStateChangelogFold fold;
    for (const Record& record : log) fold.Add(record.key, ValueOf(record));
    (void)fold.Finish();
  };
  std::string message = SerializationMessageOf([&] {
    finish({OperatorState(0, std::make_pair(3, "a"s)), OperatorState(2, std::make_pair(3, "c"s))});
  });
  EXPECT_TRUE(Contains(message, "operator state changelog")) << message;
  EXPECT_TRUE(Contains(message, "subtask 1 has no section")) << message;
  EXPECT_TRUE(Contains(message, "parallelism 3")) << message;

  message = SerializationMessageOf([&] {
    finish({OperatorState(0, std::make_pair(2, "a"s)), OperatorState(1, std::make_pair(3, "b"s))});
  });
  EXPECT_TRUE(Contains(message,
                       "subtask 1's latest section was written at parallelism 3 but "
                       "subtask 0's at parallelism 2"))
      << message;

  message = SerializationMessageOf([&] {
    finish({OperatorState(0, std::make_pair(2, "a"s)), OperatorState(1, std::make_pair(2, "b"s)),
            OperatorState(0, std::nullopt)});
  });
  EXPECT_TRUE(Contains(message, "subtask 0 has no section")) << message;

  message = SerializationMessageOf([&] {
    finish({OperatorState(1, std::make_pair(2, "b"s)), OperatorState(1, std::make_pair(2, "b"s))});
  });
  EXPECT_TRUE(Contains(message, "subtask 0 has no section")) << message;

  EXPECT_THROW(
      {
        OperatorStateChangelogFold fold;
        fold.Add("\x01\x02\x00"sv, "\x01\x00"sv);  // parallelism 0
      },
      SerializationError);
}

// ---- the whole path: a tracked heap backend's changes, written per checkpoint, folded and
// restored into a fresh backend, at every checkpoint ----

constexpr int32_t kFirstKeyGroup = 4;
constexpr int32_t kLastKeyGroup = 7;
constexpr int32_t kKeyGroups = kLastKeyGroup - kFirstKeyGroup + 1;
constexpr int kKeys = 48;

std::string KeyBytes(int key) {
  DataOutput out;
  SerializeValue(int64_t{key}, out);
  return out.Release();
}
int32_t KeyGroupOf(int key) { return kFirstKeyGroup + key % kKeyGroups; }

// The four kinds of keyed state over one backend.
struct Job {
  explicit Job(bool register_now = true)
      : backend(std::make_unique<HeapKeyedStateBackend>(
            Params(kFirstKeyGroup, kLastKeyGroup, /*track_changes=*/true))) {
    if (register_now) {
      RegisterAllButSum();
      RegisterSum();
    }
  }
  void RegisterAllButSum() {
    value = &backend->GetValueState(ValueStateDescriptor<int64_t>("value"));
    list = &backend->GetListState(ListStateDescriptor<std::string>("list"));
    map = &backend->GetMapState(MapStateDescriptor<std::string, int32_t>("map"));
  }
  void RegisterSum() {
    sum = &backend->GetReducingState(ReducingStateDescriptor<int64_t>(
        "sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  }

  std::unique_ptr<HeapKeyedStateBackend> backend;
  ValueState<int64_t>* value = nullptr;
  ListState<std::string>* list = nullptr;
  MapState<std::string, int32_t>* map = nullptr;
  ReducingState<int64_t>* sum = nullptr;
};

void RandomWrites(Job& job, std::mt19937& random, int count) {
  auto pick = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(random);
  };
  for (int i = 0; i < count; ++i) {
    const int key = pick(0, kKeys - 1);
    job.backend->SetCurrentKey(KeyBytes(key), KeyGroupOf(key));
    switch (pick(0, 12)) {
      case 0:
      case 1:
        job.value->Update(pick(-1000, 1000));
        break;
      case 2:
        job.value->Clear();
        break;
      case 3:
        job.list->Add("s" + std::to_string(pick(0, 99)));
        break;
      case 4: {
        std::vector<std::string> items(static_cast<std::size_t>(pick(0, 3)));
        for (std::string& item : items) item = "u" + std::to_string(pick(0, 99));
        job.list->Update(std::move(items));  // empty: erases the key
        break;
      }
      case 5:
        job.list->AddAll({"x", "y"});
        break;
      case 6:
        job.list->Clear();
        break;
      case 7:
      case 8:
        job.map->Put("m" + std::to_string(pick(0, 4)), pick(-50, 50));
        break;
      case 9:
        job.map->Remove("m" + std::to_string(pick(0, 4)));
        break;
      case 10:
        job.map->Clear();
        break;
      case 11:
        job.sum->Add(pick(1, 9));
        break;
      default:
        job.sum->Clear();
        break;
    }
  }
}

// A key group's state decoded: "state/kind/type" -> key -> the value re-serialized (so that
// equal contents compare equal whatever the entry order of the section).
using Contents = std::map<std::string, std::map<std::string, std::string>>;

template <typename T>
std::string Canonical(DataInput& in) {
  return BytesOf(DeserializeValue<T>(in));
}

Contents DecodeContents(std::string_view section) {
  Contents contents;
  DataInput in(section);
  EXPECT_EQ(in.ReadU8(), detail::kKeyedSectionVersion);
  const uint64_t states = in.ReadVarU64();
  for (uint64_t s = 0; s < states; ++s) {
    const std::string name = in.ReadString();
    const int kind = in.ReadU8();
    const std::string type_name = in.ReadString();
    std::map<std::string, std::string>& entries =
        contents[name + "/" + std::to_string(kind) + "/" + type_name];
    EXPECT_EQ(in.ReadU8(), static_cast<uint8_t>(detail::PayloadFormat::kFramedValues));
    DataInput payload(in.ReadStringView());
    const uint64_t count = payload.ReadVarU64();
    EXPECT_GT(count, 0u) << name;
    for (uint64_t e = 0; e < count; ++e) {
      std::string key = payload.ReadString();
      DataInput value_bytes(payload.ReadStringView());
      std::string value;
      if (name == "value" || name == "sum") {
        value = Canonical<int64_t>(value_bytes);
      } else if (name == "list") {
        value = Canonical<std::vector<std::string>>(value_bytes);
      } else if (name == "map") {
        value = Canonical<std::map<std::string, int32_t>>(value_bytes);
      } else {
        ADD_FAILURE() << "unexpected state " << name;
        return contents;
      }
      EXPECT_TRUE(entries.emplace(std::move(key), std::move(value)).second) << name;
    }
    EXPECT_TRUE(payload.AtEnd());
  }
  EXPECT_TRUE(in.AtEnd());
  return contents;
}

Contents ContentsOf(const detail::KeyedStateBackend& backend, int32_t key_group) {
  DataOutput out;
  backend.SnapshotKeyGroup(key_group, out);
  return DecodeContents(out.data());
}

// What each checkpoint committed, to compare a restore from the changelog as it was then.
struct Committed {
  std::vector<std::size_t> log_sizes;  // per key group
  std::vector<Contents> contents;      // per key group
  std::vector<std::string> extras;     // per key group
  std::vector<std::string> operator_sections;
};

class ChangelogWriter {
 public:
  explicit ChangelogWriter(std::mt19937& random) : random_(random), logs_(kKeyGroups) {}

  // What a changelog backend does at a checkpoint: per key group the changes and the extras
  // (when `full`, after a reset, all extras; the caller has called MarkAllChanged); the
  // operator state into key group 4's partition; then ClearChanges.
  void Checkpoint(Job& job, bool full, int32_t parallelism) {
    ++checkpoint_;
    for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
      Log& log = LogOf(key_group);
      if (full) log.push_back(Reset(key_group));
      job.backend->VisitChanges(key_group, [&](const KeyedStateChange& change) {
        DataOutput key;
        DataOutput value;
        const bool has_value = EncodeKeyedChange(change, key, value);
        log.push_back(Record{
            key.Release(), has_value ? std::optional<std::string>(value.Release()) : std::nullopt});
      });
      std::optional<std::string>& extras = extras_[key_group];
      switch (std::uniform_int_distribution<int>(0, 5)(random_)) {
        case 0:
          extras = "timers-" + std::to_string(checkpoint_) + "-" + std::to_string(key_group);
          log.push_back(Extras(key_group, extras));
          break;
        case 1:
          extras.reset();
          log.push_back(Extras(key_group, std::nullopt));
          break;
        default:
          if (full) log.push_back(Extras(key_group, extras));
          break;
      }
    }
    std::vector<std::string> sections;
    for (int32_t subtask = 0; subtask < parallelism; ++subtask) {
      sections.push_back("operator-" + std::to_string(checkpoint_) + "-" + std::to_string(subtask));
      LogOf(kFirstKeyGroup)
          .push_back(OperatorState(subtask, std::make_pair(parallelism, sections.back())));
    }
    job.backend->ClearChanges();

    Committed committed;
    for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
      committed.log_sizes.push_back(LogOf(key_group).size());
      committed.contents.push_back(ContentsOf(*job.backend, key_group));
      committed.extras.push_back(extras_[key_group].value_or(""));
    }
    committed.operator_sections = std::move(sections);
    committed_.push_back(std::move(committed));
  }

  Log& LogOf(int32_t key_group) {
    return logs_[static_cast<std::size_t>(key_group - kFirstKeyGroup)];
  }
  const std::vector<Committed>& committed() const { return committed_; }

 private:
  std::mt19937& random_;
  std::vector<Log> logs_;
  std::map<int32_t, std::optional<std::string>> extras_;
  int checkpoint_ = 0;
  std::vector<Committed> committed_;
};

// Restores every key group from `fold` (one per key group) into a fresh backend and checks it
// holds exactly `committed`.
void ExpectRestores(const std::vector<KeyGroupRestoreBytes>& folded, const Committed& committed,
                    const std::string& context) {
  HeapKeyedStateBackend restored(Params(kFirstKeyGroup, kLastKeyGroup));
  for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
    const auto index = static_cast<std::size_t>(key_group - kFirstKeyGroup);
    RestoreInto(restored, key_group, folded[index].keyed);
    EXPECT_EQ(ContentsOf(restored, key_group), committed.contents[index])
        << context << ", key group " << key_group;
    EXPECT_EQ(folded[index].extras, committed.extras[index])
        << context << ", key group " << key_group;
  }
}

TEST(ChangelogRoundTrip, EveryCheckpointRestoresFromTheFoldedChangelogOfItsKeyGroups) {
  for (const unsigned seed : {1u, 2u, 3u, 4u, 5u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    ChangelogWriter writer(random);

    // A job with the changelog on: each checkpoint writes what changed.
    Job first;
    for (int checkpoint = 0; checkpoint < 4; ++checkpoint) {
      RandomWrites(first, random, 250);
      writer.Checkpoint(first, /*full=*/false, /*parallelism=*/2);
    }
    // Then the changelog is off for a while: changes, keys cleared among them, that the
    // changelog never sees.
    for (int interval = 0; interval < 2; ++interval) {
      RandomWrites(first, random, 250);
      first.backend->ClearChanges();
    }
    // Restored from its local snapshot by a job with the changelog on again, now at
    // parallelism 1: the first checkpoint writes everything, after a reset. "sum" is
    // registered only after MarkAllChanged, as a state the job asks for late.
    Job second(/*register_now=*/false);
    for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
      DataOutput snapshot;
      first.backend->SnapshotKeyGroup(key_group, snapshot);
      RestoreInto(*second.backend, key_group, snapshot.data());
    }
    second.RegisterAllButSum();
    second.backend->MarkAllChanged();
    second.RegisterSum();
    writer.Checkpoint(second, /*full=*/true, /*parallelism=*/1);
    for (int checkpoint = 0; checkpoint < 4; ++checkpoint) {
      RandomWrites(second, random, 250);
      writer.Checkpoint(second, /*full=*/false, /*parallelism=*/1);
    }

    // Every checkpoint restores from the changelog as it stood when that checkpoint committed,
    // compacted or not.
    const std::vector<Committed>& committed = writer.committed();
    for (std::size_t c = 0; c < committed.size(); ++c) {
      const std::string context = "checkpoint " + std::to_string(c + 1);
      std::vector<KeyGroupRestoreBytes> folded;
      std::vector<KeyGroupRestoreBytes> compacted;
      std::vector<KeyGroupRestoreBytes> cleaned;
      for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
        const Log& log = writer.LogOf(key_group);
        const std::size_t size =
            committed[c].log_sizes[static_cast<std::size_t>(key_group - kFirstKeyGroup)];
        folded.push_back(Fold(key_group, log, size));
        compacted.push_back(Fold(key_group, Compact(log, size, /*drop_tombstones=*/false)));
        cleaned.push_back(Fold(key_group, Compact(log, size, /*drop_tombstones=*/true)));
      }
      ExpectRestores(folded, committed[c], context);
      ExpectRestores(compacted, committed[c], context + ", compacted");
      ExpectRestores(cleaned, committed[c], context + ", compacted without tombstones");

      OperatorStateChangelogFold operator_fold;
      const Log& log = writer.LogOf(kFirstKeyGroup);
      for (std::size_t i = 0; i < committed[c].log_sizes[0]; ++i) {
        operator_fold.Add(log[i].key, ValueOf(log[i]));
      }
      const std::optional<OperatorStateRestoreSections> sections = operator_fold.Finish();
      ASSERT_TRUE(sections.has_value()) << context;
      EXPECT_EQ(sections->parallelism, static_cast<int32_t>(committed[c].operator_sections.size()))
          << context;
      EXPECT_EQ(sections->sections, committed[c].operator_sections) << context;
    }

    // The last checkpoint once more through the typed state of a job that registers it, and
    // against the live job itself, key by key.
    Job restored(/*register_now=*/false);
    for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
      RestoreInto(*restored.backend, key_group, Fold(key_group, writer.LogOf(key_group)).keyed);
    }
    restored.RegisterAllButSum();
    restored.RegisterSum();
    std::size_t live = 0;
    for (int key = 0; key < kKeys; ++key) {
      second.backend->SetCurrentKey(KeyBytes(key), KeyGroupOf(key));
      restored.backend->SetCurrentKey(KeyBytes(key), KeyGroupOf(key));
      EXPECT_EQ(restored.value->Value(), second.value->Value()) << "key " << key;
      EXPECT_EQ(restored.list->Get(), second.list->Get()) << "key " << key;
      EXPECT_EQ(restored.map->Entries(), second.map->Entries()) << "key " << key;
      EXPECT_EQ(restored.sum->Get(), second.sum->Get()) << "key " << key;
      if (second.value->Value().has_value()) ++live;
    }
    EXPECT_GT(live, 0u) << "the test should end with state to restore";

    // Without the reset, keys cleared while the changelog was off would come back: the reset
    // is what makes the full write sufficient.
    bool any_resurrected = false;
    for (int32_t key_group = kFirstKeyGroup; key_group <= kLastKeyGroup; ++key_group) {
      Log without_resets;
      for (const Record& record : writer.LogOf(key_group)) {
        if (DecodeChangelogKey(record.key).type != ChangelogRecordType::kKeyGroupReset) {
          without_resets.push_back(record);
        }
      }
      any_resurrected |=
          DecodeContents(Fold(key_group, without_resets).keyed) !=
          committed.back().contents[static_cast<std::size_t>(key_group - kFirstKeyGroup)];
    }
    EXPECT_TRUE(any_resurrected);
  }
}

// A changelog written in full after a restore from files holds every key, also of a state the
// job has not registered in that run: restored from that changelog alone, the state is whole.
TEST(ChangelogRoundTrip, AStateNeverRegisteredInARunSurvivesARestoreFromItsChangelog) {
  HeapKeyedStateBackend first_run(Params(4, 4));
  ValueState<int32_t>& count = first_run.GetValueState(ValueStateDescriptor<int32_t>("count"));
  ListState<std::string>& seen = first_run.GetListState(ListStateDescriptor<std::string>("seen"));
  for (const std::string key : {"a", "b", "c"}) {
    first_run.SetCurrentKey(key, 4);
    count.Update(static_cast<int32_t>(key[0]));
    seen.Add(key + "1");
    seen.Add(key + "2");
  }
  DataOutput file;
  first_run.SnapshotKeyGroup(4, file);

  // The second run restores from the file and writes its changelog in full, registering only
  // "count"; "seen" stays raw all run long.
  HeapKeyedStateBackend second_run(Params(4, 4, /*track_changes=*/true));
  RestoreInto(second_run, 4, file.data());
  second_run.GetValueState(ValueStateDescriptor<int32_t>("count"));
  second_run.MarkAllChanged();
  Log log = {Reset(4)};
  second_run.VisitChanges(4, [&](const detail::KeyedStateChange& change) {
    DataOutput key;
    DataOutput value;
    const bool present = EncodeKeyedChange(change, key, value);
    log.push_back(Record{key.Release(),
                         present ? std::optional<std::string>(value.Release()) : std::nullopt});
  });
  second_run.ClearChanges();
  EXPECT_EQ(log.size(), 7u);  // the reset, 3 keys of "count", 3 of "seen"

  // The third run has no files: the changelog alone.
  HeapKeyedStateBackend third_run(Params(4, 4));
  RestoreInto(third_run, 4, Fold(4, log).keyed);
  ValueState<int32_t>& restored_count =
      third_run.GetValueState(ValueStateDescriptor<int32_t>("count"));
  ListState<std::string>& restored_seen =
      third_run.GetListState(ListStateDescriptor<std::string>("seen"));
  for (const std::string key : {"a", "b", "c"}) {
    third_run.SetCurrentKey(key, 4);
    EXPECT_EQ(restored_count.Value(), static_cast<int32_t>(key[0])) << key;
    EXPECT_EQ(restored_seen.Get(), (std::vector<std::string>{key + "1", key + "2"})) << key;
  }
}

}  // namespace
}  // namespace sluice::internal
