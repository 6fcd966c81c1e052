#include "state/heap_keyed_state_backend.h"

#include <sluice/testing/status_matchers.h>

#include "state/key_group_assignment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::Not;

namespace sluice::detail {
namespace {

using namespace std::literals;

// The message of the exception `f` throws as E; fails the test if it throws nothing.
template <typename E, typename F>
std::string MessageOf(F&& f) {
  try {
    f();
  } catch (const E& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an exception";
  return {};
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

KeyedStateBackendParameters Params(std::string operator_name, int32_t start, int32_t end,
                                   bool track_changes = false) {
  KeyedStateBackendParameters parameters;
  parameters.operator_name = std::move(operator_name);
  parameters.operator_uid = "uid";
  parameters.key_group_start = start;
  parameters.key_group_end = end;
  parameters.track_changes = track_changes;
  return parameters;
}

// A backend chosen by name, as the runtime makes one: only the interface is visible.
std::unique_ptr<KeyedStateBackend> Create(std::string operator_name, int32_t start, int32_t end,
                                          bool track_changes = false) {
  Result<std::unique_ptr<KeyedStateBackend>> backend =
      CreateKeyedStateBackend("heap", Params(std::move(operator_name), start, end, track_changes));
  EXPECT_THAT(backend, IsOk());
  return std::move(backend).value();
}

std::string KeyBytes(int64_t key) {
  DataOutput out;
  SerializeValue(key, out);
  return out.Release();
}

std::string Snapshot(const KeyedStateBackend& store, int32_t key_group) {
  DataOutput out;
  store.SnapshotKeyGroup(key_group, out);
  return out.Release();
}

void Restore(KeyedStateBackend& store, int32_t key_group, std::string_view bytes) {
  DataInput in(bytes);
  store.RestoreKeyGroup(key_group, in);
  EXPECT_TRUE(in.AtEnd());
}

// A decoded key-group section whose states all store values of type Stored:
// state name -> key bytes -> value.
template <typename Stored>
std::map<std::string, std::map<std::string, Stored>> DecodeSection(std::string_view section) {
  std::map<std::string, std::map<std::string, Stored>> states;
  DataInput in(section);
  EXPECT_EQ(in.ReadU8(), kKeyedSectionVersion);
  const uint64_t count = in.ReadVarU64();
  for (uint64_t s = 0; s < count; ++s) {
    std::map<std::string, Stored>& entries = states[in.ReadString()];
    in.ReadU8();
    in.ReadString();
    EXPECT_EQ(in.ReadU8(), static_cast<uint8_t>(PayloadFormat::kFramedValues));
    const std::string_view payload = in.ReadStringView();
    DataInput payload_in(payload);
    const uint64_t entry_count = payload_in.ReadVarU64();
    EXPECT_GT(entry_count, 0u) << "a state without entries must be omitted";
    for (uint64_t e = 0; e < entry_count; ++e) {
      std::string key = payload_in.ReadString();
      DataInput value_in(payload_in.ReadStringView());
      EXPECT_TRUE(entries.emplace(std::move(key), DeserializeValue<Stored>(value_in)).second);
      EXPECT_TRUE(value_in.AtEnd());
    }
    EXPECT_TRUE(payload_in.AtEnd());
  }
  EXPECT_TRUE(in.AtEnd());
  return states;
}

TEST(KeyedStateBackendRegistry, HeapIsTheDefaultAndCreatedByName) {
  EXPECT_EQ(kDefaultStateBackend, "heap");
  EXPECT_EQ(KeyedStateBackendNames(), (std::vector<std::string_view>{"heap"}));
  EXPECT_THAT(CheckStateBackendName("heap"), IsOk());
  std::unique_ptr<KeyedStateBackend> backend = Create("op", 3, 5);
  EXPECT_EQ(backend->name(), "heap");
  EXPECT_NE(dynamic_cast<HeapKeyedStateBackend*>(backend.get()), nullptr);
  EXPECT_EQ(backend->key_group_start(), 3);
  EXPECT_EQ(backend->key_group_end(), 5);
  EXPECT_EQ(backend->operator_name(), "op");
  EXPECT_EQ(backend->parameters().operator_uid, "uid");
}

TEST(KeyedStateBackendRegistry, AnUnknownNameIsInvalidArgumentNamingTheKnownOnes) {
  for (std::string_view name : {"rocksdb"sv, "Heap"sv, ""sv}) {
    const Status status = CheckStateBackendName(name);
    EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_TRUE(Contains(status.message(), "'" + std::string(name) + "'")) << status.message();
    EXPECT_TRUE(Contains(status.message(), "state backends are: heap")) << status.message();
    Result<std::unique_ptr<KeyedStateBackend>> backend =
        CreateKeyedStateBackend(name, Params("op", 0, 0));
    ASSERT_THAT(backend, Not(IsOk()));
    EXPECT_EQ(backend.status(), status);
  }
}

// Through the interface only, as RuntimeContext uses it: state made by descriptor, one key
// group at a time out and back in.
TEST(KeyedStateBackendInterface, StatesByDescriptorRoundTripPerKeyGroup) {
  std::unique_ptr<KeyedStateBackend> backend = Create("op", 0, 1);
  ValueState<std::string>& value =
      backend->GetValueState(ValueStateDescriptor<std::string>("value"));
  ListState<int32_t>& list = backend->GetListState(ListStateDescriptor<int32_t>("list"));
  MapState<std::string, int64_t>& map =
      backend->GetMapState(MapStateDescriptor<std::string, int64_t>("map"));
  ReducingState<int64_t>& sum = backend->GetReducingState(ReducingStateDescriptor<int64_t>(
      "sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  for (int64_t key = 0; key < 10; ++key) {
    backend->SetCurrentKey(KeyBytes(key), static_cast<int32_t>(key % 2));
    value.Update("v" + std::to_string(key));
    list.Add(static_cast<int32_t>(key));
    map.Put("k", key);
    sum.Add(key);
    sum.Add(key);
  }
  std::unique_ptr<KeyedStateBackend> restored = Create("op", 0, 1);
  for (int32_t key_group = 0; key_group <= 1; ++key_group) {
    Restore(*restored, key_group, Snapshot(*backend, key_group));
  }
  ValueState<std::string>& value2 =
      restored->GetValueState(ValueStateDescriptor<std::string>("value"));
  ListState<int32_t>& list2 = restored->GetListState(ListStateDescriptor<int32_t>("list"));
  MapState<std::string, int64_t>& map2 =
      restored->GetMapState(MapStateDescriptor<std::string, int64_t>("map"));
  ReducingState<int64_t>& sum2 = restored->GetReducingState(ReducingStateDescriptor<int64_t>(
      "sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  for (int64_t key = 0; key < 10; ++key) {
    restored->SetCurrentKey(KeyBytes(key), static_cast<int32_t>(key % 2));
    EXPECT_EQ(value2.Value(), "v" + std::to_string(key));
    EXPECT_EQ(list2.Get(), (std::vector<int32_t>{static_cast<int32_t>(key)}));
    EXPECT_EQ(map2.Get("k"), key);
    EXPECT_EQ(sum2.Get(), 2 * key);
  }
  // A key only in key group 1 is not visible from key group 0.
  restored->SetCurrentKey(KeyBytes(1), 0);
  EXPECT_EQ(value2.Value(), std::nullopt);
}

// ApplyToKeyedState of a keyed broadcast operator goes through every key of one state.
TEST(KeyedStateBackendInterface, GetKeysListsTheKeysWithAValueInOneStateByKeyGroup) {
  std::unique_ptr<KeyedStateBackend> backend = Create("op", 4, 7);
  ValueState<int64_t>& value = backend->GetValueState(ValueStateDescriptor<int64_t>("value"));
  ListState<int64_t>& list = backend->GetListState(ListStateDescriptor<int64_t>("list"));
  for (int64_t key = 0; key < 12; ++key) {
    backend->SetCurrentKey(KeyBytes(key), static_cast<int32_t>(4 + key % 4));
    value.Update(key);
    if (key % 3 == 0) list.Add(key);
  }
  backend->SetCurrentKey(KeyBytes(5), 5);
  value.Clear();  // a cleared key has no value any more

  std::vector<std::pair<int32_t, std::string>> keys = backend->GetKeys("value");
  ASSERT_EQ(keys.size(), 11u);
  for (size_t i = 1; i < keys.size(); ++i) EXPECT_LE(keys[i - 1].first, keys[i].first);
  std::set<std::pair<int32_t, std::string>> expected;
  for (int64_t key = 0; key < 12; ++key) {
    if (key != 5) expected.emplace(static_cast<int32_t>(4 + key % 4), KeyBytes(key));
  }
  EXPECT_EQ(std::set(keys.begin(), keys.end()), expected);

  const std::vector<std::pair<int32_t, std::string>> listed = backend->GetKeys("list");
  EXPECT_EQ(std::set(listed.begin(), listed.end()),
            (std::set<std::pair<int32_t, std::string>>{
                {4, KeyBytes(0)}, {7, KeyBytes(3)}, {6, KeyBytes(6)}, {5, KeyBytes(9)}}));
  EXPECT_TRUE(backend->GetKeys("unknown").empty());

  // Restored but not registered: no keys until the job asks for the state.
  std::unique_ptr<KeyedStateBackend> restored = Create("op", 4, 7);
  for (int32_t kg = 4; kg <= 7; ++kg) Restore(*restored, kg, Snapshot(*backend, kg));
  EXPECT_TRUE(restored->GetKeys("value").empty());
  restored->GetValueState(ValueStateDescriptor<int64_t>("value"));
  EXPECT_EQ(restored->GetKeys("value").size(), 11u);
}

// What a changelog backend writes at a checkpoint: per key group, the keys written since the
// last one, with their value now or a tombstone.
TEST(KeyedStateBackendChanges, VisitChangesReportsChangedKeysWithValuesAndTombstones) {
  std::unique_ptr<KeyedStateBackend> backend = Create("op", 0, 1, /*track_changes=*/true);
  EXPECT_TRUE(backend->tracks_changes());
  ValueState<int32_t>& value = backend->GetValueState(ValueStateDescriptor<int32_t>("value"));
  ListState<int32_t>& list = backend->GetListState(ListStateDescriptor<int32_t>("list"));
  MapState<std::string, int32_t>& map =
      backend->GetMapState(MapStateDescriptor<std::string, int32_t>("map"));
  ReducingState<int32_t>& sum = backend->GetReducingState(ReducingStateDescriptor<int32_t>(
      "sum", [](const int32_t& a, const int32_t& b) { return a + b; }));

  // (state, key) -> value bytes, or nullopt for a tombstone.
  using Changes = std::map<std::pair<std::string, std::string>, std::optional<std::string>>;
  auto changes_of = [&](int32_t key_group) {
    Changes changes;
    backend->VisitChanges(key_group, [&](const KeyedStateChange& change) {
      std::optional<std::string> bytes;
      if (change.value) bytes = std::string(*change.value);
      EXPECT_TRUE(
          changes
              .emplace(std::make_pair(std::string(change.state_name), std::string(change.key)),
                       std::move(bytes))
              .second);
    });
    return changes;
  };
  auto bytes_of = [](auto stored) {
    DataOutput out;
    SerializeValue(stored, out);
    return std::optional<std::string>(out.Release());
  };

  backend->SetCurrentKey("a", 0);
  value.Update(1);
  list.Add(5);
  backend->SetCurrentKey("b", 0);
  value.Update(2);
  value.Update(3);
  map.Put("x", 7);
  sum.Add(4);
  backend->SetCurrentKey("c", 1);
  (void)value.Value();  // reads are no change
  (void)map.Get("x");
  EXPECT_EQ(changes_of(0),
            (Changes{{{"list", "a"}, bytes_of(std::vector<int32_t>{5})},
                     {{"map", "b"}, bytes_of(std::map<std::string, int32_t>{{"x", 7}})},
                     {{"sum", "b"}, bytes_of(int32_t{4})},
                     {{"value", "a"}, bytes_of(int32_t{1})},
                     {{"value", "b"}, bytes_of(int32_t{3})}}));
  EXPECT_TRUE(changes_of(1).empty());

  // After a checkpoint wrote them: only what changes next, and a cleared key is a tombstone.
  backend->ClearChanges();
  EXPECT_TRUE(changes_of(0).empty());
  backend->SetCurrentKey("a", 0);
  value.Clear();
  list.Clear();
  backend->SetCurrentKey("b", 0);
  sum.Add(6);
  map.Remove("x");  // empties the map: the key's entry is gone
  backend->SetCurrentKey("c", 1);
  value.Clear();  // had no value: no change
  EXPECT_EQ(changes_of(0), (Changes{{{"list", "a"}, std::nullopt},
                                    {{"map", "b"}, std::nullopt},
                                    {{"sum", "b"}, bytes_of(int32_t{10})},
                                    {{"value", "a"}, std::nullopt}}));
  EXPECT_TRUE(changes_of(1).empty());

  // A key written and cleared again within one interval is reported as a tombstone.
  backend->ClearChanges();
  backend->SetCurrentKey("d", 1);
  value.Update(9);
  value.Clear();
  EXPECT_EQ(changes_of(1), (Changes{{{"value", "d"}, std::nullopt}}));
  EXPECT_THROW(backend->VisitChanges(2, [](const KeyedStateChange&) {}), std::logic_error);
}

TEST(KeyedStateBackendChanges, RestoringRecordsNoChangesAndUntrackedBackendsRefuse) {
  std::unique_ptr<KeyedStateBackend> source = Create("op", 0, 0);
  source->SetCurrentKey("k", 0);
  source->GetValueState(ValueStateDescriptor<int32_t>("v")).Update(1);
  EXPECT_FALSE(source->tracks_changes());
  const std::string message =
      MessageOf<std::logic_error>([&] { source->VisitChanges(0, [](const KeyedStateChange&) {}); });
  EXPECT_TRUE(Contains(message, "track_changes")) << message;

  std::unique_ptr<KeyedStateBackend> restored = Create("op", 0, 0, /*track_changes=*/true);
  Restore(*restored, 0, Snapshot(*source, 0));
  ValueState<int32_t>& v = restored->GetValueState(ValueStateDescriptor<int32_t>("v"));
  int visits = 0;
  restored->VisitChanges(0, [&](const KeyedStateChange&) { ++visits; });
  EXPECT_EQ(visits, 0);
  restored->SetCurrentKey("k", 0);
  EXPECT_EQ(v.Value(), 1);
  v.Update(2);
  restored->VisitChanges(0, [&](const KeyedStateChange& change) {
    ++visits;
    EXPECT_EQ(change.state_name, "v");
    EXPECT_EQ(change.kind, KeyedStateKind::kValue);
    EXPECT_EQ(change.type_name, "int32");
    EXPECT_EQ(change.key, "k");
    ASSERT_TRUE(change.value.has_value());
    DataInput in(*change.value);
    EXPECT_EQ(DeserializeValue<int32_t>(in), 2);
  });
  EXPECT_EQ(visits, 1);
}

// (state, key) -> value bytes or nullopt (a tombstone), of every change VisitChanges reports.
using ChangeMap = std::map<std::pair<std::string, std::string>, std::optional<std::string>>;

ChangeMap ChangesOf(const KeyedStateBackend& backend, int32_t key_group) {
  ChangeMap changes;
  backend.VisitChanges(key_group, [&](const KeyedStateChange& change) {
    std::optional<std::string> bytes;
    if (change.value) bytes = std::string(*change.value);
    EXPECT_TRUE(
        changes
            .emplace(std::make_pair(std::string(change.state_name), std::string(change.key)),
                     std::move(bytes))
            .second);
  });
  return changes;
}

template <typename T>
std::optional<std::string> BytesOf(const T& stored) {
  DataOutput out;
  SerializeValue(stored, out);
  return out.Release();
}

// For a changelog written in full: every key counts as changed, with its value now.
TEST(KeyedStateBackendChanges, MarkAllChangedReportsEveryKeyWithItsValue) {
  std::unique_ptr<KeyedStateBackend> backend = Create("op", 0, 1, /*track_changes=*/true);
  ValueState<int32_t>& value = backend->GetValueState(ValueStateDescriptor<int32_t>("value"));
  ListState<int32_t>& list = backend->GetListState(ListStateDescriptor<int32_t>("list"));
  MapState<std::string, int32_t>& map =
      backend->GetMapState(MapStateDescriptor<std::string, int32_t>("map"));
  backend->SetCurrentKey("a", 0);
  value.Update(1);
  list.Add(2);
  backend->SetCurrentKey("b", 0);
  map.Put("x", 3);
  backend->SetCurrentKey("c", 1);
  value.Update(4);
  backend->SetCurrentKey("d", 1);
  value.Update(5);
  value.Clear();  // gone: not part of the state any more
  backend->ClearChanges();
  EXPECT_TRUE(ChangesOf(*backend, 0).empty());
  EXPECT_TRUE(ChangesOf(*backend, 1).empty());

  backend->MarkAllChanged();
  EXPECT_EQ(ChangesOf(*backend, 0),
            (ChangeMap{{{"list", "a"}, BytesOf(std::vector<int32_t>{2})},
                       {{"map", "b"}, BytesOf(std::map<std::string, int32_t>{{"x", 3}})},
                       {{"value", "a"}, BytesOf(int32_t{1})}}));
  EXPECT_EQ(ChangesOf(*backend, 1), (ChangeMap{{{"value", "c"}, BytesOf(int32_t{4})}}));

  // Writes after the mark are recorded as usual; the next ClearChanges forgets all of it.
  backend->SetCurrentKey("a", 0);
  value.Clear();
  backend->SetCurrentKey("e", 1);
  value.Update(6);
  EXPECT_EQ(ChangesOf(*backend, 0),
            (ChangeMap{{{"list", "a"}, BytesOf(std::vector<int32_t>{2})},
                       {{"map", "b"}, BytesOf(std::map<std::string, int32_t>{{"x", 3}})},
                       {{"value", "a"}, std::nullopt}}));
  EXPECT_EQ(ChangesOf(*backend, 1), (ChangeMap{{{"value", "c"}, BytesOf(int32_t{4})},
                                               {{"value", "e"}, BytesOf(int32_t{6})}}));
  backend->ClearChanges();
  EXPECT_TRUE(ChangesOf(*backend, 0).empty());
  EXPECT_TRUE(ChangesOf(*backend, 1).empty());
}

TEST(KeyedStateBackendChanges, MarkAllChangedWithoutTrackChangesIsABug) {
  std::unique_ptr<KeyedStateBackend> backend = Create("op", 0, 0);
  const std::string message = MessageOf<std::logic_error>([&] { backend->MarkAllChanged(); });
  EXPECT_TRUE(Contains(message, "MarkAllChanged")) << message;
  EXPECT_TRUE(Contains(message, "'op'")) << message;
  EXPECT_TRUE(Contains(message, "track_changes")) << message;
}

// A restored state the job has not registered is reported from its restored bytes, exactly as
// it would be once registered: a changelog written in full holds it even if the job never
// registers it in this run.
TEST(KeyedStateBackendChanges, MarkAllChangedReportsAPendingStateFromItsRestoredBytes) {
  std::unique_ptr<KeyedStateBackend> source = Create("op", 0, 1);
  ValueState<int32_t>& source_value = source->GetValueState(ValueStateDescriptor<int32_t>("v"));
  ListState<int32_t>& source_list = source->GetListState(ListStateDescriptor<int32_t>("l"));
  source->SetCurrentKey("a", 0);
  source_value.Update(1);
  source_list.Add(10);
  source->SetCurrentKey("b", 0);
  source_list.Add(11);
  source->SetCurrentKey("c", 1);
  source_value.Update(3);
  source_list.Add(12);

  std::unique_ptr<KeyedStateBackend> restored = Create("op", 0, 1, /*track_changes=*/true);
  Restore(*restored, 0, Snapshot(*source, 0));
  ValueState<int32_t>& value = restored->GetValueState(ValueStateDescriptor<int32_t>("v"));
  restored->MarkAllChanged();
  // Restored after the mark: not marked, whether its state is registered ("v") or not ("l").
  Restore(*restored, 1, Snapshot(*source, 1));

  // "v" is registered, "l" pending: both reported, with the same bytes.
  const ChangeMap key_group_0{{{"l", "a"}, BytesOf(std::vector<int32_t>{10})},
                              {{"l", "b"}, BytesOf(std::vector<int32_t>{11})},
                              {{"v", "a"}, BytesOf(int32_t{1})}};
  EXPECT_EQ(ChangesOf(*restored, 0), key_group_0);
  EXPECT_TRUE(ChangesOf(*restored, 1).empty());
  restored->ClearChanges();
  EXPECT_TRUE(ChangesOf(*restored, 0).empty());

  // Registering "l" later reports nothing again: its keys were written.
  ListState<int32_t>& list = restored->GetListState(ListStateDescriptor<int32_t>("l"));
  EXPECT_TRUE(ChangesOf(*restored, 0).empty());
  EXPECT_TRUE(ChangesOf(*restored, 1).empty());
  restored->SetCurrentKey("c", 1);
  EXPECT_EQ(list.Get(), (std::vector<int32_t>{12}));
  EXPECT_EQ(value.Value(), 3);

  // Registered before the changes are cleared: reported once, decoded.
  std::unique_ptr<KeyedStateBackend> again = Create("op", 0, 1, /*track_changes=*/true);
  Restore(*again, 0, Snapshot(*source, 0));
  again->MarkAllChanged();
  again->GetListState(ListStateDescriptor<int32_t>("l"));
  EXPECT_EQ(ChangesOf(*again, 0), key_group_0);
  again->ClearChanges();
  again->GetValueState(ValueStateDescriptor<int32_t>("v"));
  EXPECT_TRUE(ChangesOf(*again, 0).empty());
}

TEST(HeapKeyedStateBackend, ValueStateReturnsDefaultUntilUpdatedAndAfterClear) {
  HeapKeyedStateBackend store(Params("op", 0, 127));
  ValueState<int64_t>& plain = store.GetValueState(ValueStateDescriptor<int64_t>("plain"));
  ValueState<int64_t>& with_default =
      store.GetValueState(ValueStateDescriptor<int64_t>("with_default", 7));
  store.SetCurrentKey(KeyBytes(1), 3);
  EXPECT_EQ(plain.Value(), std::nullopt);
  EXPECT_EQ(with_default.Value(), 7);
  plain.Update(42);
  with_default.Update(8);
  EXPECT_EQ(plain.Value(), 42);
  EXPECT_EQ(with_default.Value(), 8);
  plain.Update(43);
  EXPECT_EQ(plain.Value(), 43);
  plain.Clear();
  with_default.Clear();
  EXPECT_EQ(plain.Value(), std::nullopt);
  EXPECT_EQ(with_default.Value(), 7);
  // Cleared entries are gone, not stored as empty.
  EXPECT_EQ(Snapshot(store, 3), "\x02\x00"s);
}

// An average: the accumulator (sum, count) is the stored value; Get is its result.
class Average final : public AggregateFunction<int32_t, std::pair<int64_t, int64_t>, double> {
 public:
  std::pair<int64_t, int64_t> CreateAccumulator() override { return {0, 0}; }
  std::pair<int64_t, int64_t> Add(const int32_t& value,
                                  std::pair<int64_t, int64_t> accumulator) override {
    if (value < 0) throw std::runtime_error("negative");
    return {accumulator.first + value, accumulator.second + 1};
  }
  double GetResult(const std::pair<int64_t, int64_t>& accumulator) override {
    return static_cast<double>(accumulator.first) / static_cast<double>(accumulator.second);
  }
  std::pair<int64_t, int64_t> Merge(std::pair<int64_t, int64_t> a,
                                    std::pair<int64_t, int64_t> b) override {
    return {a.first + b.first, a.second + b.second};
  }
};
using AverageDescriptor = AggregatingStateDescriptor<int32_t, std::pair<int64_t, int64_t>, double>;

TEST(HeapKeyedStateBackend, AggregatingStateFoldsInputsIntoTheAccumulatorPerKey) {
  HeapKeyedStateBackend store(Params("op", 0, 0, /*track_changes=*/true));
  AggregatingState<int32_t, double>& average =
      store.GetAggregatingState(AverageDescriptor("avg", Average()));
  store.SetCurrentKey("a", 0);
  EXPECT_EQ(average.Get(), std::nullopt);
  average.Add(1);
  average.Add(2);
  store.SetCurrentKey("b", 0);
  average.Add(10);
  // A throwing function leaves the accumulator as it was.
  EXPECT_THROW(average.Add(-1), std::runtime_error);
  EXPECT_EQ(average.Get(), 10.0);
  store.SetCurrentKey("a", 0);
  EXPECT_EQ(average.Get(), 1.5);
  // What a changelog writes is the accumulator, not the result.
  EXPECT_EQ(ChangesOf(store, 0),
            (ChangeMap{{{"avg", "a"}, BytesOf(std::pair<int64_t, int64_t>{3, 2})},
                       {{"avg", "b"}, BytesOf(std::pair<int64_t, int64_t>{10, 1})}}));

  // Snapshotted and restored with its kind and accumulator type.
  const std::string section = Snapshot(store, 0);
  EXPECT_NE(section.find("\x03"
                         "avg\x04"),
            std::string::npos)
      << "kind 4: aggregating";
  HeapKeyedStateBackend restored(Params("op", 0, 0));
  Restore(restored, 0, section);
  AggregatingState<int32_t, double>& again =
      restored.GetAggregatingState(AverageDescriptor("avg", Average()));
  restored.SetCurrentKey("a", 0);
  again.Add(6);
  EXPECT_EQ(again.Get(), 3.0);
  again.Clear();
  EXPECT_EQ(again.Get(), std::nullopt);

  // The same name as another kind of state: refused, naming both.
  const std::string message = MessageOf<std::logic_error>(
      [&] { restored.GetValueState(ValueStateDescriptor<int32_t>("avg")); });
  EXPECT_TRUE(Contains(message, "aggregating state")) << message;
  EXPECT_THROW(AverageDescriptor("avg", std::shared_ptr<AverageDescriptor::Function>()),
               std::invalid_argument);
}

TEST(HeapKeyedStateBackend, ListStateAddsReplacesAndErasesWhenEmptied) {
  HeapKeyedStateBackend store(Params("op", 0, 0));
  ListState<std::string>& list = store.GetListState(ListStateDescriptor<std::string>("list"));
  store.SetCurrentKey("k", 0);
  EXPECT_TRUE(list.Get().empty());
  list.Add("a");
  list.AddAll({"b", "c"});
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"a", "b", "c"}));
  std::vector<std::string> copy = list.Get();
  copy.push_back("not stored");
  EXPECT_EQ(list.Get().size(), 3u);
  list.Update({"x"});
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"x"}));
  list.AddAll({});
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"x"}));
  list.Update({});
  EXPECT_TRUE(list.Get().empty());
  EXPECT_EQ(Snapshot(store, 0), "\x02\x00"s);
  list.AddAll({"y"});
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"y"}));
  list.Clear();
  EXPECT_TRUE(list.Get().empty());
  EXPECT_EQ(Snapshot(store, 0), "\x02\x00"s);
}

TEST(HeapKeyedStateBackend, MapStatePutsRemovesAndErasesTheKeyWhenEmpty) {
  HeapKeyedStateBackend store(Params("op", 0, 0));
  MapState<std::string, int32_t>& map =
      store.GetMapState(MapStateDescriptor<std::string, int32_t>("map"));
  store.SetCurrentKey("k", 0);
  EXPECT_TRUE(map.IsEmpty());
  EXPECT_EQ(map.Get("a"), std::nullopt);
  EXPECT_FALSE(map.Contains("a"));
  map.Put("b", 2);
  map.Put("a", 1);
  map.Put("a", 10);
  EXPECT_FALSE(map.IsEmpty());
  EXPECT_EQ(map.Get("a"), 10);
  EXPECT_TRUE(map.Contains("b"));
  EXPECT_EQ(map.Entries(), (std::map<std::string, int32_t>{{"a", 10}, {"b", 2}}));
  map.Remove("a");
  map.Remove("missing");
  EXPECT_EQ(map.Entries(), (std::map<std::string, int32_t>{{"b", 2}}));
  map.Remove("b");
  EXPECT_TRUE(map.IsEmpty());
  EXPECT_EQ(Snapshot(store, 0), "\x02\x00"s);
  map.Put("c", 3);
  map.Clear();
  EXPECT_TRUE(map.IsEmpty());
  EXPECT_EQ(Snapshot(store, 0), "\x02\x00"s);
}

TEST(HeapKeyedStateBackend, ReducingStateFoldsAddedValues) {
  HeapKeyedStateBackend store(Params("op", 0, 0));
  ReducingState<int64_t>& max = store.GetReducingState(ReducingStateDescriptor<int64_t>(
      "max", [](const int64_t& a, const int64_t& b) { return a > b ? a : b; }));
  ReducingState<std::string>& concat = store.GetReducingState(ReducingStateDescriptor<std::string>(
      "concat", [](const std::string& a, const std::string& b) { return a + b; }));
  store.SetCurrentKey("k", 0);
  EXPECT_EQ(max.Get(), std::nullopt);
  for (int64_t v : {3, 9, -2, 5}) max.Add(v);
  EXPECT_EQ(max.Get(), 9);
  concat.Add("a");
  concat.Add("b");
  concat.Add("c");
  EXPECT_EQ(concat.Get(), "abc");
  max.Clear();
  EXPECT_EQ(max.Get(), std::nullopt);
}

TEST(HeapKeyedStateBackend, KeysAndKeyGroupsDoNotSeeEachOthersValues) {
  HeapKeyedStateBackend store(Params("op", 10, 20));
  ValueState<int32_t>& state = store.GetValueState(ValueStateDescriptor<int32_t>("v"));
  store.SetCurrentKey("a", 10);
  state.Update(1);
  store.SetCurrentKey("b", 10);
  EXPECT_EQ(state.Value(), std::nullopt);
  state.Update(2);
  // The same key bytes in another key group are another entry (a runtime never does this, but
  // the tables must not mix).
  store.SetCurrentKey("a", 20);
  EXPECT_EQ(state.Value(), std::nullopt);
  state.Update(3);
  store.SetCurrentKey("a", 10);
  EXPECT_EQ(state.Value(), 1);
  store.SetCurrentKey("b", 10);
  EXPECT_EQ(state.Value(), 2);
  store.SetCurrentKey("a", 20);
  EXPECT_EQ(state.Value(), 3);
  EXPECT_EQ(store.current_key(), "a");
  EXPECT_EQ(store.current_key_group(), 20);
}

TEST(HeapKeyedStateBackend, KeyBytesAreCopiedOnSetCurrentKey) {
  HeapKeyedStateBackend store(Params("op", 0, 0));
  ValueState<int32_t>& state = store.GetValueState(ValueStateDescriptor<int32_t>("v"));
  std::string key = "key-1";
  store.SetCurrentKey(key, 0);
  state.Update(1);
  key = "key-2";
  EXPECT_EQ(store.current_key(), "key-1");
  EXPECT_EQ(state.Value(), 1);
  // Keys with NUL bytes are keys like any other.
  store.SetCurrentKey("\0a"sv, 0);
  EXPECT_EQ(state.Value(), std::nullopt);
  state.Update(2);
  store.SetCurrentKey("\0b"sv, 0);
  EXPECT_EQ(state.Value(), std::nullopt);
}

TEST(HeapKeyedStateBackend, RepeatedRegistrationReturnsTheSameObject) {
  HeapKeyedStateBackend store(Params("op", 0, 0));
  ValueState<int64_t>& first = store.GetValueState(ValueStateDescriptor<int64_t>("v", 1));
  ValueState<int64_t>& second = store.GetValueState(ValueStateDescriptor<int64_t>("v", 2));
  EXPECT_EQ(&first, &second);
  store.SetCurrentKey("k", 0);
  EXPECT_EQ(second.Value(), 1) << "the first descriptor's default stays in effect";
  MapState<int32_t, std::string>& map1 =
      store.GetMapState(MapStateDescriptor<int32_t, std::string>("m"));
  MapState<int32_t, std::string>& map2 =
      store.GetMapState(MapStateDescriptor<int32_t, std::string>("m"));
  EXPECT_EQ(&map1, &map2);
  EXPECT_EQ(store.StateNames(), (std::vector<std::string>{"m", "v"}));
}

TEST(HeapKeyedStateBackend, AccessWithoutCurrentKeyThrowsNamingStateAndOperator) {
  HeapKeyedStateBackend store(Params("counter-op", 0, 3));
  ValueState<int64_t>& state = store.GetValueState(ValueStateDescriptor<int64_t>("count"));
  const std::string message = MessageOf<std::logic_error>([&] { state.Update(1); });
  EXPECT_TRUE(Contains(message, "'count'")) << message;
  EXPECT_TRUE(Contains(message, "'counter-op'")) << message;
  EXPECT_THROW((void)state.Value(), std::logic_error);
  EXPECT_EQ(store.current_key_group(), -1);
}

TEST(HeapKeyedStateBackend, KeyGroupOutsideTheRangeThrowsNamingOperatorKeyGroupAndRange) {
  HeapKeyedStateBackend store(Params("counter-op", 43, 85));
  const std::string message = MessageOf<std::logic_error>([&] { store.SetCurrentKey("k", 86); });
  EXPECT_TRUE(Contains(message, "'counter-op'")) << message;
  EXPECT_TRUE(Contains(message, "86")) << message;
  EXPECT_TRUE(Contains(message, "[43, 85]")) << message;
  EXPECT_THROW(store.SetCurrentKey("k", 42), std::logic_error);
  DataOutput out;
  EXPECT_THROW(store.SnapshotKeyGroup(0, out), std::logic_error);
  DataInput in("\x01\x00"sv);
  EXPECT_THROW(store.RestoreKeyGroup(127, in), std::logic_error);
  EXPECT_THROW(HeapKeyedStateBackend(Params("op", 5, 3)), std::logic_error);
  HeapKeyedStateBackend empty(Params("op", 5, 4));  // an empty range is allowed
  EXPECT_THROW(empty.SetCurrentKey("k", 5), std::logic_error);
}

TEST(HeapKeyedStateBackend, RegisteringOneNameWithAnotherKindOrTypeThrowsNamingBoth) {
  HeapKeyedStateBackend store(Params("counter-op", 0, 0));
  store.GetValueState(ValueStateDescriptor<int64_t>("count"));
  std::string message = MessageOf<std::logic_error>(
      [&] { store.GetValueState(ValueStateDescriptor<std::string>("count")); });
  EXPECT_TRUE(Contains(message, "'count'")) << message;
  EXPECT_TRUE(Contains(message, "'counter-op'")) << message;
  EXPECT_TRUE(Contains(message, "value state of type int64")) << message;
  EXPECT_TRUE(Contains(message, "value state of type string")) << message;

  message = MessageOf<std::logic_error>(
      [&] { store.GetListState(ListStateDescriptor<int64_t>("count")); });
  EXPECT_TRUE(Contains(message, "value state of type int64")) << message;
  EXPECT_TRUE(Contains(message, "list state of type int64")) << message;

  message = MessageOf<std::logic_error>(
      [&] { store.GetMapState(MapStateDescriptor<std::string, int64_t>("count")); });
  EXPECT_TRUE(Contains(message, "map state of type map<string,int64>")) << message;

  message = MessageOf<std::logic_error>([&] {
    store.GetReducingState(ReducingStateDescriptor<int64_t>(
        "count", [](const int64_t& a, const int64_t& b) { return a + b; }));
  });
  EXPECT_TRUE(Contains(message, "reducing state of type int64")) << message;
}

TEST(HeapKeyedStateBackend, SameTypeNameButAnotherCppTypeIsRejected) {
  static_assert(!std::is_same_v<long, long long> && sizeof(long) == sizeof(long long));
  HeapKeyedStateBackend store(Params("op", 0, 0));
  store.GetValueState(ValueStateDescriptor<long>("n"));
  const std::string message = MessageOf<std::logic_error>(
      [&] { store.GetValueState(ValueStateDescriptor<long long>("n")); });
  EXPECT_TRUE(Contains(message, "'n'")) << message;
  EXPECT_TRUE(Contains(message, "C++ type")) << message;
}

TEST(HeapKeyedStateBackend, SectionBytesArePinned) {
  HeapKeyedStateBackend store(Params("op", 7, 7));
  store.SetCurrentKey("k", 7);
  store.GetValueState(ValueStateDescriptor<int32_t>("v")).Update(5);
  ListState<int32_t>& list = store.GetListState(ListStateDescriptor<int32_t>("l"));
  list.Add(1);
  list.Add(2);
  // Registered without entries: omitted.
  store.GetMapState(MapStateDescriptor<std::string, int32_t>("m"));
  const std::string expected =
      "\x02"  // section format version
      "\x02"  // two states, in name order
      "\x01"
      "l"     // name
      "\x01"  // kind: list
      "\x05"
      "int32"
      "\x02"  // payload format: framed values
      "\x07"  // payload length
      "\x01"  //   one entry
      "\x01"
      "k"                 //   key bytes
      "\x03\x02\x02\x04"  // 3 bytes of vector<int32>: count 2, zigzag 1, zigzag 2
      "\x01"
      "v"
      "\x00"  // kind: value
      "\x05"
      "int32"
      "\x02"
      "\x05"
      "\x01"
      "\x01"
      "k"
      "\x01\x0a"s;  // 1 byte: zigzag 5
  EXPECT_EQ(Snapshot(store, 7), expected);

  HeapKeyedStateBackend map_store(Params("op", 0, 0));
  map_store.SetCurrentKey("k", 0);
  map_store.GetMapState(MapStateDescriptor<std::string, int32_t>("m")).Put("a", -1);
  map_store
      .GetReducingState(ReducingStateDescriptor<int32_t>(
          "r", [](const int32_t& a, const int32_t& b) { return a + b; }))
      .Add(1);
  const std::string expected_map =
      "\x02\x02"
      "\x01"
      "m"
      "\x02"
      "\x11"
      "map<string,int32>"
      "\x02"
      "\x08"
      "\x01"
      "\x01"
      "k"
      "\x04"
      "\x01"
      "\x01"
      "a"
      "\x01"  // map: count 1, "a", zigzag -1
      "\x01"
      "r"
      "\x03"
      "\x05"
      "int32"
      "\x02"
      "\x05"
      "\x01"
      "\x01"
      "k"
      "\x01\x02"s;
  EXPECT_EQ(Snapshot(map_store, 0), expected_map);

  // And it reads back.
  HeapKeyedStateBackend restored(Params("op", 7, 7));
  Restore(restored, 7, expected);
  restored.SetCurrentKey("k", 7);
  EXPECT_EQ(restored.GetValueState(ValueStateDescriptor<int32_t>("v")).Value(), 5);
  EXPECT_EQ(restored.GetListState(ListStateDescriptor<int32_t>("l")).Get(),
            (std::vector<int32_t>{1, 2}));
}

// Checkpoints of earlier releases: section version 1, no payload format byte, unframed values.
const std::string kVersion1Section =
    "\x01"  // section format version
    "\x02"  // two states, in name order
    "\x01"
    "l"
    "\x01"  // kind: list
    "\x05"
    "int32"
    "\x06"  // payload length
    "\x01"  //   one entry
    "\x01"
    "k"
    "\x02\x02\x04"  // vector<int32>: count 2, zigzag 1, zigzag 2
    "\x01"
    "v"
    "\x00"  // kind: value
    "\x05"
    "int32"
    "\x04"
    "\x01"
    "\x01"
    "k"
    "\x0a"s;  // zigzag 5

TEST(HeapKeyedStateBackend, Version1SectionsRestore) {
  HeapKeyedStateBackend restored(Params("op", 7, 7));
  Restore(restored, 7, kVersion1Section);
  restored.SetCurrentKey("k", 7);
  EXPECT_EQ(restored.GetValueState(ValueStateDescriptor<int32_t>("v")).Value(), 5);
  EXPECT_EQ(restored.GetListState(ListStateDescriptor<int32_t>("l")).Get(),
            (std::vector<int32_t>{1, 2}));
}

TEST(HeapKeyedStateBackend, AnUnregisteredVersion1PayloadIsWrittenBackUnframed) {
  HeapKeyedStateBackend restored(Params("op", 7, 7));
  Restore(restored, 7, kVersion1Section);
  restored.SetCurrentKey("k", 7);
  EXPECT_EQ(restored.GetValueState(ValueStateDescriptor<int32_t>("v")).Value(), 5);
  // "l" stays raw: a version 2 section carries it with payload format 1 and the same bytes,
  // and it still decodes.
  const std::string section = Snapshot(restored, 7);
  EXPECT_EQ(section.substr(0, 12), "\x02\x02\x01l\x01\x05int32\x01"s);
  HeapKeyedStateBackend again(Params("op", 7, 7));
  Restore(again, 7, section);
  again.SetCurrentKey("k", 7);
  EXPECT_EQ(again.GetListState(ListStateDescriptor<int32_t>("l")).Get(),
            (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(again.GetValueState(ValueStateDescriptor<int32_t>("v")).Value(), 5);
}

// A version 1 payload cannot be split without its type: MarkAllChanged marks it, and its keys
// count as changed when the job registers the state, even after ClearChanges.
TEST(KeyedStateBackendChanges, AnUnframedPendingStateIsMarkedUntilItIsRegistered) {
  std::unique_ptr<KeyedStateBackend> restored = Create("op", 7, 7, /*track_changes=*/true);
  Restore(*restored, 7, kVersion1Section);
  restored->MarkAllChanged();
  EXPECT_TRUE(ChangesOf(*restored, 7).empty());
  restored->ClearChanges();
  restored->GetListState(ListStateDescriptor<int32_t>("l"));
  EXPECT_EQ(ChangesOf(*restored, 7),
            (ChangeMap{{{"l", "k"}, BytesOf(std::vector<int32_t>{1, 2})}}));
  restored->ClearChanges();
  restored->ClearChanges();
  restored->GetValueState(ValueStateDescriptor<int32_t>("v"));
  EXPECT_EQ(ChangesOf(*restored, 7), (ChangeMap{{{"v", "k"}, BytesOf(int32_t{5})}}));
  restored->ClearChanges();
  EXPECT_TRUE(ChangesOf(*restored, 7).empty());
}

TEST(HeapKeyedStateBackend, UnknownSectionVersionIsRejected) {
  HeapKeyedStateBackend store(Params("op", 0, 0));
  DataInput in("\x03\x00"sv);
  const std::string message = MessageOf<SerializationError>([&] { store.RestoreKeyGroup(0, in); });
  EXPECT_TRUE(Contains(message, "format version 3")) << message;
}

TEST(HeapKeyedStateBackend, CorruptSectionsAreRejected) {
  {
    HeapKeyedStateBackend store(Params("op", 0, 0));
    DataInput in(
        "\x01\x01\x01"
        "v"
        "\x09"
        "\x05"
        "int32"
        "\x00"sv);  // kind 9
    EXPECT_THROW(store.RestoreKeyGroup(0, in), SerializationError);
  }
  {
    HeapKeyedStateBackend store(Params("op", 0, 0));
    DataInput in(
        "\x01\x01\x01"
        "v"
        "\x00"
        "\x05"
        "int32"
        "\x09\x01"sv);  // payload truncated
    EXPECT_THROW(store.RestoreKeyGroup(0, in), SerializationError);
  }
  {
    HeapKeyedStateBackend store(Params("op", 0, 0));
    DataInput in(""sv);
    EXPECT_THROW(store.RestoreKeyGroup(0, in), SerializationError);
  }
  {
    // Raw until registered: the value bytes (int32 from a 10-byte varint) fail then, naming
    // the state.
    HeapKeyedStateBackend store(Params("op", 0, 0));
    const std::string section =
        "\x02\x01\x01"
        "v"
        "\x00"
        "\x05"
        "int32"
        "\x02"
        "\x0d"
        "\x01\x01"
        "k"
        "\x09\xff\xff\xff\xff\xff\xff\xff\xff\x7f"s;
    Restore(store, 0, section);
    const std::string message = MessageOf<SerializationError>(
        [&] { store.GetValueState(ValueStateDescriptor<int32_t>("v")); });
    EXPECT_TRUE(Contains(message, "'v'")) << message;
    EXPECT_TRUE(Contains(message, "key group 0")) << message;
    // The failed registration left nothing half-made: the bytes are still carried.
    EXPECT_EQ(Snapshot(store, 0), section);
  }
  {
    HeapKeyedStateBackend store(Params("op", 0, 0));
    DataInput in(
        "\x02\x01\x01"
        "v"
        "\x00"
        "\x05"
        "int32"
        "\x03\x00"sv);  // payload format 3
    const std::string message =
        MessageOf<SerializationError>([&] { store.RestoreKeyGroup(0, in); });
    EXPECT_TRUE(Contains(message, "unknown payload format 3")) << message;
  }
  {
    // A framed value with a byte left over (written as another type): refused, not misread.
    HeapKeyedStateBackend store(Params("op", 0, 0));
    Restore(store, 0,
            "\x02\x01\x01"
            "v"
            "\x00"
            "\x05"
            "int32"
            "\x02"
            "\x06"
            "\x01\x01"
            "k"
            "\x02\x0a\x00"s);
    const std::string message = MessageOf<SerializationError>(
        [&] { store.GetValueState(ValueStateDescriptor<int32_t>("v")); });
    EXPECT_TRUE(Contains(message, "unexpected bytes after the value")) << message;
  }
}

TEST(HeapKeyedStateBackend, RestoringAKeyGroupTwiceIsABug) {
  HeapKeyedStateBackend store(Params("op", 0, 1));
  Restore(store, 0, "\x01\x00"s);
  DataInput in("\x01\x00"sv);
  EXPECT_THROW(store.RestoreKeyGroup(0, in), std::logic_error);
  Restore(store, 1, "\x01\x00"s);
}

TEST(HeapKeyedStateBackend, RestoredTypeMismatchThrowsNamingStateAndBothTypes) {
  HeapKeyedStateBackend old_store(Params("op", 0, 0));
  old_store.SetCurrentKey("k", 0);
  old_store.GetMapState(MapStateDescriptor<std::string, int64_t>("positions")).Put("x", 1);
  const std::string section = Snapshot(old_store, 0);

  HeapKeyedStateBackend store(Params("trader", 0, 0));
  Restore(store, 0, section);
  const std::string message = MessageOf<std::logic_error>(
      [&] { store.GetMapState(MapStateDescriptor<std::string, int32_t>("positions")); });
  EXPECT_TRUE(Contains(message, "'positions'")) << message;
  EXPECT_TRUE(Contains(message, "'trader'")) << message;
  EXPECT_TRUE(Contains(message, "restored")) << message;
  EXPECT_TRUE(Contains(message, "map<string,int64>")) << message;
  EXPECT_TRUE(Contains(message, "map<string,int32>")) << message;
  EXPECT_THROW(store.GetValueState(ValueStateDescriptor<std::string>("positions")),
               std::logic_error);
  // The right type still works afterwards.
  store.SetCurrentKey("k", 0);
  EXPECT_EQ(store.GetMapState(MapStateDescriptor<std::string, int64_t>("positions")).Get("x"), 1);

  // Restored after registration: checked as well.
  HeapKeyedStateBackend registered_first(Params("trader", 0, 0));
  registered_first.GetValueState(ValueStateDescriptor<int64_t>("positions"));
  DataInput in(section);
  const std::string late =
      MessageOf<std::logic_error>([&] { registered_first.RestoreKeyGroup(0, in); });
  EXPECT_TRUE(Contains(late, "map state of type map<string,int64>")) << late;
  EXPECT_TRUE(Contains(late, "value state of type int64")) << late;
}

TEST(HeapKeyedStateBackend, RestoreIntoAnAlreadyRegisteredStateTakesTheEntries) {
  HeapKeyedStateBackend old_store(Params("op", 0, 0));
  old_store.SetCurrentKey("k", 0);
  old_store.GetValueState(ValueStateDescriptor<int32_t>("v")).Update(9);
  HeapKeyedStateBackend store(Params("op", 0, 0));
  ValueState<int32_t>& state = store.GetValueState(ValueStateDescriptor<int32_t>("v"));
  Restore(store, 0, Snapshot(old_store, 0));
  store.SetCurrentKey("k", 0);
  EXPECT_EQ(state.Value(), 9);
}

TEST(HeapKeyedStateBackend, UnregisteredRestoredStateSurvivesAnotherRoundTripByteForByte) {
  HeapKeyedStateBackend first(Params("op", 0, 3));
  auto& value = first.GetValueState(ValueStateDescriptor<std::string>("value"));
  auto& list = first.GetListState(ListStateDescriptor<int64_t>("list"));
  auto& map = first.GetMapState(MapStateDescriptor<int32_t, double>("map"));
  auto& sum = first.GetReducingState(ReducingStateDescriptor<int64_t>(
      "sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  for (int64_t key = 0; key < 40; ++key) {
    first.SetCurrentKey(KeyBytes(key), static_cast<int32_t>(key % 4));
    value.Update("v" + std::to_string(key));
    list.AddAll({key, -key});
    map.Put(static_cast<int32_t>(key), 0.5 * static_cast<double>(key));
    sum.Add(key);
    sum.Add(1);
  }
  std::vector<std::string> sections;
  for (int32_t key_group = 0; key_group < 4; ++key_group) {
    sections.push_back(Snapshot(first, key_group));
  }

  // Second run: registers only "list", changes it; the other three stay raw.
  HeapKeyedStateBackend second(Params("op", 0, 3));
  for (int32_t key_group = 0; key_group < 4; ++key_group) {
    Restore(second, key_group, sections[static_cast<size_t>(key_group)]);
  }
  EXPECT_EQ(second.StateNames(), (std::vector<std::string>{"list", "map", "sum", "value"}));
  // Nothing registered yet: every section comes back exactly as it was read.
  for (int32_t key_group = 0; key_group < 4; ++key_group) {
    EXPECT_EQ(Snapshot(second, key_group), sections[static_cast<size_t>(key_group)]);
  }
  auto& list2 = second.GetListState(ListStateDescriptor<int64_t>("list"));
  second.SetCurrentKey(KeyBytes(5), 1);
  EXPECT_EQ(list2.Get(), (std::vector<int64_t>{5, -5}));
  list2.Add(100);
  std::vector<std::string> second_sections;
  for (int32_t key_group = 0; key_group < 4; ++key_group) {
    second_sections.push_back(Snapshot(second, key_group));
  }

  // Third run: everything registered, the values are the first run's (plus the change).
  HeapKeyedStateBackend third(Params("op", 0, 3));
  for (int32_t key_group = 0; key_group < 4; ++key_group) {
    Restore(third, key_group, second_sections[static_cast<size_t>(key_group)]);
  }
  auto& value3 = third.GetValueState(ValueStateDescriptor<std::string>("value"));
  auto& list3 = third.GetListState(ListStateDescriptor<int64_t>("list"));
  auto& map3 = third.GetMapState(MapStateDescriptor<int32_t, double>("map"));
  auto& sum3 = third.GetReducingState(ReducingStateDescriptor<int64_t>(
      "sum", [](const int64_t& a, const int64_t& b) { return a + b; }));
  for (int64_t key = 0; key < 40; ++key) {
    third.SetCurrentKey(KeyBytes(key), static_cast<int32_t>(key % 4));
    EXPECT_EQ(value3.Value(), "v" + std::to_string(key));
    EXPECT_EQ(list3.Get(),
              key == 5 ? (std::vector<int64_t>{5, -5, 100}) : (std::vector<int64_t>{key, -key}));
    EXPECT_EQ(
        map3.Entries(),
        (std::map<int32_t, double>{{static_cast<int32_t>(key), 0.5 * static_cast<double>(key)}}));
    EXPECT_EQ(sum3.Get(), key + 1);
  }
}

// Rescaling 2 -> 3 instances over 128 key groups: every key group is snapshot by the old
// instance that owned it and restored into the new instance that owns it now.
TEST(HeapKeyedStateBackend, RescalingMovesExactlyTheTransferredKeyGroups) {
  constexpr int32_t kMaxParallelism = 128;
  constexpr int64_t kKeys = 2000;
  auto key_group_of = [](int64_t key) {
    return internal::AssignToKeyGroup(static_cast<int32_t>(key), kMaxParallelism);
  };

  std::vector<std::unique_ptr<KeyedStateBackend>> old_stores;
  for (int32_t subtask = 0; subtask < 2; ++subtask) {
    const internal::KeyGroupRange range =
        internal::ComputeKeyGroupRangeForOperatorIndex(kMaxParallelism, 2, subtask);
    old_stores.push_back(Create("op", range.start, range.end));
  }
  for (int64_t key = 0; key < kKeys; ++key) {
    const int32_t key_group = key_group_of(key);
    KeyedStateBackend& store = *old_stores[static_cast<size_t>(
        internal::ComputeOperatorIndexForKeyGroup(kMaxParallelism, 2, key_group))];
    store.SetCurrentKey(KeyBytes(key), key_group);
    store.GetValueState(ValueStateDescriptor<int64_t>("v")).Update(key * 10);
  }
  std::map<int32_t, std::string> sections;
  for (auto& store : old_stores) {
    for (int32_t key_group = store->key_group_start(); key_group <= store->key_group_end();
         ++key_group) {
      sections[key_group] = Snapshot(*store, key_group);
    }
  }
  ASSERT_EQ(sections.size(), 128u);

  std::vector<std::unique_ptr<KeyedStateBackend>> new_stores;
  for (int32_t subtask = 0; subtask < 3; ++subtask) {
    const internal::KeyGroupRange range =
        internal::ComputeKeyGroupRangeForOperatorIndex(kMaxParallelism, 3, subtask);
    auto store = Create("op", range.start, range.end);
    for (int32_t key_group : range.KeyGroups()) Restore(*store, key_group, sections.at(key_group));
    new_stores.push_back(std::move(store));
  }

  // Each key is in the store that owns its key group, with its value...
  for (int64_t key = 0; key < kKeys; ++key) {
    const int32_t key_group = key_group_of(key);
    const int32_t owner = internal::ComputeOperatorIndexForKeyGroup(kMaxParallelism, 3, key_group);
    KeyedStateBackend& store = *new_stores[static_cast<size_t>(owner)];
    store.SetCurrentKey(KeyBytes(key), key_group);
    EXPECT_EQ(store.GetValueState(ValueStateDescriptor<int64_t>("v")).Value(), key * 10) << key;
  }
  // ...and in no other: the new stores' snapshots hold every key exactly once.
  std::map<std::string, int> seen;
  for (int32_t subtask = 0; subtask < 3; ++subtask) {
    KeyedStateBackend& store = *new_stores[static_cast<size_t>(subtask)];
    for (int32_t key_group = store.key_group_start(); key_group <= store.key_group_end();
         ++key_group) {
      const auto states = DecodeSection<int64_t>(Snapshot(store, key_group));
      if (states.empty()) continue;
      ASSERT_EQ(states.size(), 1u);
      for (const auto& [key_bytes, value] : states.at("v")) {
        DataInput key_in(key_bytes);
        const auto key = DeserializeValue<int64_t>(key_in);
        EXPECT_EQ(key_group_of(key), key_group);
        EXPECT_EQ(value, key * 10);
        ++seen[key_bytes];
      }
    }
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(kKeys));
  for (const auto& [key, count] : seen) EXPECT_EQ(count, 1);
}

// A backend whose range overlaps an old one only partly restores just the groups it is given.
TEST(HeapKeyedStateBackend, OverlappingRangeKeepsOnlyTheRestoredKeyGroups) {
  HeapKeyedStateBackend old_store(Params("op", 0, 9));
  auto& state = old_store.GetValueState(ValueStateDescriptor<int32_t>("v"));
  for (int32_t key_group = 0; key_group <= 9; ++key_group) {
    old_store.SetCurrentKey("k" + std::to_string(key_group), key_group);
    state.Update(key_group);
  }
  HeapKeyedStateBackend store(Params("op", 5, 14));
  for (int32_t key_group = 5; key_group <= 9; ++key_group) {
    Restore(store, key_group, Snapshot(old_store, key_group));
  }
  auto& restored = store.GetValueState(ValueStateDescriptor<int32_t>("v"));
  for (int32_t key_group = 5; key_group <= 14; ++key_group) {
    for (int32_t key = 0; key <= 9; ++key) {
      store.SetCurrentKey("k" + std::to_string(key), key_group);
      if (key == key_group) {
        EXPECT_EQ(restored.Value(), key);
      } else {
        EXPECT_EQ(restored.Value(), std::nullopt);
      }
    }
  }
  for (int32_t key_group = 5; key_group <= 9; ++key_group) {
    const auto states = DecodeSection<int32_t>(Snapshot(store, key_group));
    ASSERT_EQ(states.size(), 1u);
    EXPECT_EQ(states.at("v"),
              (std::map<std::string, int32_t>{{"k" + std::to_string(key_group), key_group}}));
  }
  for (int32_t key_group = 10; key_group <= 14; ++key_group) {
    EXPECT_TRUE(DecodeSection<int32_t>(Snapshot(store, key_group)).empty());
  }
}

TEST(HeapKeyedStateBackend, UpdatingManyKeysKeepsEveryValue) {
  // Enough keys to make the tables grow (and rehash) several times.
  HeapKeyedStateBackend store(Params("op", 0, 3));
  auto& state = store.GetValueState(ValueStateDescriptor<int64_t>("v"));
  for (int64_t key = 0; key < 20000; ++key) {
    store.SetCurrentKey(KeyBytes(key), static_cast<int32_t>(key % 4));
    state.Update(key);
  }
  for (int64_t key = 0; key < 20000; ++key) {
    store.SetCurrentKey(KeyBytes(key), static_cast<int32_t>(key % 4));
    ASSERT_EQ(state.Value(), key);
    state.Update(key + 1);
    ASSERT_EQ(state.Value(), key + 1);
  }
}

}  // namespace
}  // namespace sluice::detail
