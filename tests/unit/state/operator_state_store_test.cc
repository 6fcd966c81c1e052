#include <sluice/state/detail/operator_state_store.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::detail {
namespace {

using namespace std::literals;

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

std::string Snapshot(const OperatorStateStore& store) {
  DataOutput out;
  store.Snapshot(out);
  return out.Release();
}

std::vector<std::string_view> Views(const std::vector<std::string>& sections) {
  return {sections.begin(), sections.end()};
}

// Old instance i holds counts[i] items: i * 1000 + 0, i * 1000 + 1, ... in "split" (split mode)
// and "union" (union mode).
std::vector<std::string> OldSections(const std::vector<int64_t>& counts) {
  std::vector<std::string> sections;
  for (size_t i = 0; i < counts.size(); ++i) {
    OperatorStateStore store("op");
    auto& split = store.GetListState(ListStateDescriptor<int64_t>("split"));
    auto& union_state = store.GetUnionListState(ListStateDescriptor<int64_t>("union"));
    for (int64_t k = 0; k < counts[i]; ++k) {
      split.Add(static_cast<int64_t>(i) * 1000 + k);
      union_state.Add(static_cast<int64_t>(i) * 1000 + k);
    }
    sections.push_back(Snapshot(store));
  }
  return sections;
}

std::vector<int64_t> AllItems(const std::vector<int64_t>& counts) {
  std::vector<int64_t> items;
  for (size_t i = 0; i < counts.size(); ++i) {
    for (int64_t k = 0; k < counts[i]; ++k) items.push_back(static_cast<int64_t>(i) * 1000 + k);
  }
  return items;
}

// Restores `sections` into `parallelism` new instances; returns each one's "split" list.
std::vector<std::vector<int64_t>> RestoreSplit(const std::vector<std::string>& sections,
                                               int32_t parallelism) {
  std::vector<std::vector<int64_t>> lists;
  for (int32_t subtask = 0; subtask < parallelism; ++subtask) {
    OperatorStateStore store("op");
    store.Restore(Views(sections), subtask, parallelism);
    lists.push_back(store.GetListState(ListStateDescriptor<int64_t>("split")).Get());
  }
  return lists;
}

void ExpectEveryItemExactlyOnceInContiguousEvenShares(
    const std::vector<std::vector<int64_t>>& lists, const std::vector<int64_t>& all) {
  std::vector<int64_t> concatenated;
  size_t smallest = all.size();
  size_t largest = 0;
  for (const auto& list : lists) {
    concatenated.insert(concatenated.end(), list.begin(), list.end());
    smallest = std::min(smallest, list.size());
    largest = std::max(largest, list.size());
  }
  // In order: instance i's share follows instance i-1's.
  EXPECT_EQ(concatenated, all);
  EXPECT_LE(largest - smallest, 1u);
}

TEST(OperatorStateStore, ListStateSemantics) {
  OperatorStateStore store("op");
  ListState<std::string>& list = store.GetListState(ListStateDescriptor<std::string>("l"));
  EXPECT_TRUE(list.Get().empty());
  list.Add("a");
  list.AddAll({"b", "c"});
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"a", "b", "c"}));
  list.Update({"x", "y"});
  EXPECT_EQ(list.Get(), (std::vector<std::string>{"x", "y"}));
  list.Clear();
  EXPECT_TRUE(list.Get().empty());
  EXPECT_EQ(&store.GetListState(ListStateDescriptor<std::string>("l")), &list);
  EXPECT_FALSE(store.IsRestored());
}

TEST(OperatorStateStore, SectionBytesArePinned) {
  OperatorStateStore store("op");
  auto& split = store.GetListState(ListStateDescriptor<int32_t>("s"));
  split.Add(1);
  split.Add(-1);
  store.GetUnionListState(ListStateDescriptor<std::string>("u")).Add("ab");
  store.GetListState(ListStateDescriptor<bool>("empty"));
  const std::string expected =
      "\x01"  // section format version
      "\x03"  // three states, in name order
      "\x05"
      "empty"
      "\x00"
      "\x04"
      "bool"
      "\x00"  // split, no items
      "\x01"
      "s"
      "\x00"
      "\x05"
      "int32"
      "\x02"      // split, two items
      "\x01\x02"  //   "zigzag 1" as a string
      "\x01\x01"  //   "zigzag -1"
      "\x01"
      "u"
      "\x01"
      "\x06"
      "string"
      "\x01"  // union, one item
      "\x03"
      "\x02"
      "ab"s;  //   the string "ab" as a string
  EXPECT_EQ(Snapshot(store), expected);
}

TEST(OperatorStateStore, IsRestoredAfterRestoreEvenWithNothing) {
  OperatorStateStore empty_restore("op");
  empty_restore.Restore({}, 0, 1);
  EXPECT_TRUE(empty_restore.IsRestored());
  EXPECT_TRUE(empty_restore.StateNames().empty());

  OperatorStateStore zero_items("op");
  const std::vector<std::string> sections = OldSections({0, 0});
  zero_items.Restore(Views(sections), 1, 3);
  EXPECT_TRUE(zero_items.IsRestored());
  EXPECT_EQ(zero_items.StateNames(), (std::vector<std::string>{"split", "union"}));
  EXPECT_TRUE(zero_items.GetListState(ListStateDescriptor<int64_t>("split")).Get().empty());
}

TEST(OperatorStateStore, SplitRedistributionThreeToTwoCoversEveryItemOnce) {
  const std::vector<int64_t> counts = {3, 0, 4};
  const auto lists = RestoreSplit(OldSections(counts), 2);
  ExpectEveryItemExactlyOnceInContiguousEvenShares(lists, AllItems(counts));
  // 7 items over 2: base 3, the first instance gets one more.
  EXPECT_EQ(lists[0], (std::vector<int64_t>{0, 1, 2, 2000}));
  EXPECT_EQ(lists[1], (std::vector<int64_t>{2001, 2002, 2003}));
}

TEST(OperatorStateStore, SplitRedistributionTwoToThreeCoversEveryItemOnce) {
  const std::vector<int64_t> counts = {5, 3};
  const auto lists = RestoreSplit(OldSections(counts), 3);
  ExpectEveryItemExactlyOnceInContiguousEvenShares(lists, AllItems(counts));
  // 8 items over 3: base 2, remainder 2: sizes 3, 3, 2.
  EXPECT_EQ(lists[0], (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(lists[1], (std::vector<int64_t>{3, 4, 1000}));
  EXPECT_EQ(lists[2], (std::vector<int64_t>{1001, 1002}));
}

TEST(OperatorStateStore, SplitRedistributionWithFewerItemsThanInstances) {
  const std::vector<int64_t> counts = {1, 1};
  const auto lists = RestoreSplit(OldSections(counts), 5);
  ExpectEveryItemExactlyOnceInContiguousEvenShares(lists, AllItems(counts));
  EXPECT_EQ(lists[0], (std::vector<int64_t>{0}));
  EXPECT_EQ(lists[1], (std::vector<int64_t>{1000}));
  for (size_t i = 2; i < 5; ++i) EXPECT_TRUE(lists[i].empty());
}

TEST(OperatorStateStore, SplitRedistributionManyShapes) {
  for (const std::vector<int64_t>& counts :
       std::vector<std::vector<int64_t>>{{10}, {0}, {7, 7, 7}, {1, 2, 3, 4}, {0, 0, 9}, {13, 1}}) {
    const std::vector<std::string> sections = OldSections(counts);
    for (int32_t parallelism = 1; parallelism <= 6; ++parallelism) {
      if (static_cast<size_t>(parallelism) == counts.size()) continue;
      SCOPED_TRACE(testing::Message() << counts.size() << " -> " << parallelism);
      ExpectEveryItemExactlyOnceInContiguousEvenShares(RestoreSplit(sections, parallelism),
                                                       AllItems(counts));
    }
  }
}

TEST(OperatorStateStore, SameParallelismKeepsEachInstancesItems) {
  const std::vector<int64_t> counts = {5, 0, 1};
  const auto lists = RestoreSplit(OldSections(counts), 3);
  EXPECT_EQ(lists[0], (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(lists[1].empty());
  EXPECT_EQ(lists[2], (std::vector<int64_t>{2000}));
}

TEST(OperatorStateStore, UnionGivesAllItemsToEveryInstance) {
  const std::vector<int64_t> counts = {2, 3, 1};
  const std::vector<std::string> sections = OldSections(counts);
  for (int32_t parallelism : {1, 2, 3, 4}) {
    for (int32_t subtask = 0; subtask < parallelism; ++subtask) {
      OperatorStateStore store("op");
      store.Restore(Views(sections), subtask, parallelism);
      EXPECT_EQ(store.GetUnionListState(ListStateDescriptor<int64_t>("union")).Get(),
                AllItems(counts));
    }
  }
}

TEST(OperatorStateStore, UnregisteredStateIsCarriedForwardByteForByte) {
  // Same parallelism: the section comes back exactly as it was.
  const std::vector<std::string> sections = OldSections({4});
  OperatorStateStore store("op");
  store.Restore(Views(sections), 0, 1);
  EXPECT_EQ(Snapshot(store), sections[0]);

  // Rescaled, with one state registered and changed: the other keeps this instance's items.
  const std::vector<int64_t> counts = {3, 4};
  const std::vector<std::string> old_sections = OldSections(counts);
  std::vector<std::string> middle;
  for (int32_t subtask = 0; subtask < 3; ++subtask) {
    OperatorStateStore instance("op");
    instance.Restore(Views(old_sections), subtask, 3);
    instance.GetUnionListState(ListStateDescriptor<int64_t>("union")).Update({subtask});
    middle.push_back(Snapshot(instance));
  }
  const auto lists = RestoreSplit(middle, 2);
  ExpectEveryItemExactlyOnceInContiguousEvenShares(lists, AllItems(counts));
  OperatorStateStore last("op");
  last.Restore(Views(middle), 0, 2);
  EXPECT_EQ(last.GetUnionListState(ListStateDescriptor<int64_t>("union")).Get(),
            (std::vector<int64_t>{0, 1, 2}));
}

TEST(OperatorStateStore, UnregisteredUnionStateIsCarriedOnceNotOncePerInstance) {
  const std::vector<int64_t> counts = {2, 3};
  std::vector<std::string> sections = OldSections(counts);
  // Three restores at changing parallelism, none registering "union".
  for (int32_t parallelism : {3, 1, 4, 4}) {
    std::vector<std::string> next;
    for (int32_t subtask = 0; subtask < parallelism; ++subtask) {
      OperatorStateStore store("op");
      store.Restore(Views(sections), subtask, parallelism);
      next.push_back(Snapshot(store));
    }
    sections = std::move(next);
  }
  OperatorStateStore store("op");
  store.Restore(Views(sections), 2, 4);
  EXPECT_EQ(store.GetUnionListState(ListStateDescriptor<int64_t>("union")).Get(), AllItems(counts));
}

TEST(OperatorStateStore, TypeAndModeMismatchesThrowNamingStateAndBothTypes) {
  OperatorStateStore store("kafka-source");
  store.GetListState(ListStateDescriptor<int64_t>("offsets"));
  std::string message = MessageOf<std::logic_error>(
      [&] { store.GetListState(ListStateDescriptor<std::string>("offsets")); });
  EXPECT_TRUE(Contains(message, "'offsets'")) << message;
  EXPECT_TRUE(Contains(message, "'kafka-source'")) << message;
  EXPECT_TRUE(Contains(message, "split list state of int64")) << message;
  EXPECT_TRUE(Contains(message, "split list state of string")) << message;

  message = MessageOf<std::logic_error>(
      [&] { store.GetUnionListState(ListStateDescriptor<int64_t>("offsets")); });
  EXPECT_TRUE(Contains(message, "union list state of int64")) << message;

  message = MessageOf<std::logic_error>(
      [&] { store.GetListState(ListStateDescriptor<long long>("offsets")); });
  EXPECT_TRUE(Contains(message, "C++ type")) << message;

  // Against restored bytes.
  const std::vector<std::string> sections = OldSections({1});
  OperatorStateStore restored("kafka-source");
  restored.Restore(Views(sections), 0, 1);
  message = MessageOf<std::logic_error>(
      [&] { restored.GetListState(ListStateDescriptor<int32_t>("split")); });
  EXPECT_TRUE(Contains(message, "'split'")) << message;
  EXPECT_TRUE(Contains(message, "restored")) << message;
  EXPECT_TRUE(Contains(message, "split list state of int64")) << message;
  EXPECT_TRUE(Contains(message, "split list state of int32")) << message;
  message = MessageOf<std::logic_error>(
      [&] { restored.GetListState(ListStateDescriptor<int64_t>("union")); });
  EXPECT_TRUE(Contains(message, "union list state of int64")) << message;
  EXPECT_TRUE(Contains(message, "split list state of int64")) << message;
  EXPECT_EQ(restored.GetListState(ListStateDescriptor<int64_t>("split")).Get(),
            (std::vector<int64_t>{0}));
}

TEST(OperatorStateStore, RestoreAfterRegistrationAppendsRestoredItems) {
  const std::vector<std::string> sections = OldSections({2});
  OperatorStateStore store("op");
  auto& split = store.GetListState(ListStateDescriptor<int64_t>("split"));
  split.Add(-1);
  store.Restore(Views(sections), 0, 1);
  EXPECT_EQ(split.Get(), (std::vector<int64_t>{-1, 0, 1}));
}

TEST(OperatorStateStore, RestoreMisuseIsABug) {
  OperatorStateStore store("op");
  EXPECT_THROW(store.Restore({}, 2, 2), std::logic_error);
  EXPECT_THROW(store.Restore({}, -1, 2), std::logic_error);
  EXPECT_THROW(store.Restore({}, 0, 0), std::logic_error);
  store.Restore({}, 0, 1);
  EXPECT_THROW(store.Restore({}, 0, 1), std::logic_error);
}

TEST(OperatorStateStore, CorruptOrUnknownSectionsAreRejected) {
  auto restore = [](std::string section) {
    OperatorStateStore store("op");
    store.Restore({section}, 0, 1);
  };
  const std::string message = MessageOf<SerializationError>([&] { restore("\x03\x00"s); });
  EXPECT_TRUE(Contains(message, "format version 3")) << message;
  EXPECT_THROW(restore(""s), SerializationError);
  EXPECT_THROW(restore("\x01\x00\x00"s), SerializationError);  // trailing
  EXPECT_THROW(restore("\x01\x01\x01"
                       "s"
                       "\x02"
                       "\x05"
                       "int32"
                       "\x00"s),
               SerializationError);  // mode 2 (broadcast) in a version 1 section
  EXPECT_THROW(restore("\x02\x01\x01"
                       "s"
                       "\x03"
                       "\x05"
                       "int32"
                       "\x00"s),
               SerializationError);  // mode 3
  EXPECT_THROW(restore("\x01\x01\x01"
                       "s"
                       "\x00"
                       "\x05"
                       "int32"
                       "\x02\x01"s),
               SerializationError);
  EXPECT_THROW(restore("\x01\x02\x01"
                       "s"
                       "\x00"
                       "\x05"
                       "int32"
                       "\x00"
                       "\x01"
                       "s"
                       "\x00"
                       "\x05"
                       "int32"
                       "\x00"s),
               SerializationError);  // a name twice

  // Two old instances disagreeing about a state's type.
  OperatorStateStore a("op");
  a.GetListState(ListStateDescriptor<int32_t>("s"));
  OperatorStateStore b("op");
  b.GetListState(ListStateDescriptor<std::string>("s"));
  const std::vector<std::string> sections = {Snapshot(a), Snapshot(b)};
  OperatorStateStore store("op");
  EXPECT_THROW(store.Restore(Views(sections), 0, 1), SerializationError);

  // Item bytes decoded at registration: an item with bytes after its value names the state.
  OperatorStateStore trailing("op");
  trailing.Restore({"\x01\x01\x01"
                    "s"
                    "\x00"
                    "\x05"
                    "int32"
                    "\x01"
                    "\x02\x02\x02"sv},
                   0, 1);
  const std::string item_message = MessageOf<SerializationError>(
      [&] { trailing.GetListState(ListStateDescriptor<int32_t>("s")); });
  EXPECT_TRUE(Contains(item_message, "'s'")) << item_message;
}

// ---- broadcast state ----

using Rules = std::map<std::string, int64_t>;
const MapStateDescriptor<std::string, int64_t> kRules("rules");

TEST(OperatorStateStore, BroadcastStateIsAMap) {
  OperatorStateStore store("op");
  BroadcastState<std::string, int64_t>& rules = store.GetBroadcastState(kRules);
  EXPECT_TRUE(rules.ImmutableEntries().empty());
  rules.Put("b", 2);
  rules.Put("a", 1);
  rules.Put("b", 3);
  EXPECT_EQ(rules.Get("b"), 3);
  EXPECT_EQ(rules.Get("c"), std::nullopt);
  EXPECT_TRUE(rules.Contains("a"));
  EXPECT_FALSE(rules.Contains("c"));
  rules.PutAll({{"c", 4}, {"a", 5}});
  EXPECT_EQ(rules.ImmutableEntries(), (Rules{{"a", 5}, {"b", 3}, {"c", 4}}));
  rules.Remove("b");
  rules.Remove("absent");
  EXPECT_EQ(rules.ImmutableEntries(), (Rules{{"a", 5}, {"c", 4}}));
  EXPECT_EQ(&store.GetBroadcastState(kRules), &rules);
  rules.Clear();
  EXPECT_TRUE(rules.ImmutableEntries().empty());
}

TEST(OperatorStateStore, ASectionWithBroadcastStateIsVersion2AndPinned) {
  OperatorStateStore store("op");
  auto& rules = store.GetBroadcastState(MapStateDescriptor<std::string, int32_t>("r"));
  rules.Put("b", -1);
  rules.Put("a", 1);
  store.GetListState(ListStateDescriptor<int32_t>("s")).Add(1);
  const std::string expected =
      "\x02"  // section format version 2: it holds broadcast state
      "\x02"  // two states, in name order
      "\x01"
      "r"
      "\x02"  // broadcast
      "\x11"
      "map<string,int32>"
      "\x02"  // two entries, in key order, each a string holding key then value
      "\x03\x01"
      "a\x02"  //   "a" -> zigzag 1
      "\x03\x01"
      "b\x01"  //   "b" -> zigzag -1
      "\x01"
      "s"
      "\x00"
      "\x05"
      "int32"
      "\x01"
      "\x01\x02"s;
  EXPECT_EQ(Snapshot(store), expected);

  OperatorStateStore restored("op");
  restored.Restore({expected}, 0, 1);
  EXPECT_EQ(
      restored.GetBroadcastState(MapStateDescriptor<std::string, int32_t>("r")).ImmutableEntries(),
      (std::map<std::string, int32_t>{{"a", 1}, {"b", -1}}));
  EXPECT_EQ(restored.GetListState(ListStateDescriptor<int32_t>("s")).Get(),
            (std::vector<int32_t>{1}));
  EXPECT_EQ(Snapshot(restored), expected);
}

// Old instance i holds {"from": i, "shared": 7}.
std::vector<std::string> BroadcastSections(int32_t parallelism) {
  std::vector<std::string> sections;
  for (int32_t i = 0; i < parallelism; ++i) {
    OperatorStateStore store("op");
    auto& rules = store.GetBroadcastState(kRules);
    rules.Put("from", i);
    rules.Put("shared", 7);
    sections.push_back(Snapshot(store));
  }
  return sections;
}

TEST(OperatorStateStore, BroadcastStateGoesToEveryNewInstanceFromOldInstanceIModuloOld) {
  for (auto [from, to] :
       {std::pair{2, 4}, std::pair{4, 2}, std::pair{3, 3}, std::pair{1, 3}, std::pair{3, 1}}) {
    const std::vector<std::string> sections = BroadcastSections(from);
    for (int32_t subtask = 0; subtask < to; ++subtask) {
      OperatorStateStore store("op");
      store.Restore(Views(sections), subtask, to);
      EXPECT_EQ(store.GetBroadcastState(kRules).ImmutableEntries(),
                (Rules{{"from", subtask % from}, {"shared", 7}}))
          << from << " -> " << to << ", new instance " << subtask;
    }
  }
}

TEST(OperatorStateStore, UnregisteredBroadcastStateIsCarriedWholeByEveryInstance) {
  std::vector<std::string> sections = BroadcastSections(2);
  // Two rescalings that never register the state: every instance keeps a whole copy.
  for (int32_t parallelism : {3, 2}) {
    std::vector<std::string> next;
    for (int32_t subtask = 0; subtask < parallelism; ++subtask) {
      OperatorStateStore store("op");
      store.Restore(Views(sections), subtask, parallelism);
      next.push_back(Snapshot(store));
    }
    sections = std::move(next);
  }
  // 2 -> 3: copies of 0, 1, 0; 3 -> 2: copies of 0, 1.
  for (int32_t subtask = 0; subtask < 2; ++subtask) {
    OperatorStateStore store("op");
    store.Restore(Views(sections), subtask, 2);
    EXPECT_EQ(store.GetBroadcastState(kRules).ImmutableEntries(),
              (Rules{{"from", subtask}, {"shared", 7}}));
  }
}

TEST(OperatorStateStore, BroadcastStateMismatchesThrowNamingBoth) {
  OperatorStateStore store("broadcaster");
  store.GetBroadcastState(kRules);
  std::string message = MessageOf<std::logic_error>(
      [&] { store.GetBroadcastState(MapStateDescriptor<std::string, int32_t>("rules")); });
  EXPECT_TRUE(Contains(message, "broadcast map state of map<string,int64>")) << message;
  EXPECT_TRUE(Contains(message, "broadcast map state of map<string,int32>")) << message;
  message = MessageOf<std::logic_error>(
      [&] { store.GetUnionListState(ListStateDescriptor<int64_t>("rules")); });
  EXPECT_TRUE(Contains(message, "union list state of int64")) << message;

  const std::vector<std::string> sections = BroadcastSections(1);
  OperatorStateStore restored("broadcaster");
  restored.Restore(Views(sections), 0, 1);
  message = MessageOf<std::logic_error>(
      [&] { restored.GetListState(ListStateDescriptor<int64_t>("rules")); });
  EXPECT_TRUE(Contains(message, "restored")) << message;
  EXPECT_TRUE(Contains(message, "broadcast map state of map<string,int64>")) << message;
}

TEST(OperatorStateStore, ABroadcastEntryWithBytesAfterItsValueNamesTheState) {
  OperatorStateStore store("op");
  store.Restore({"\x02\x01\x01"
                 "r"
                 "\x02"
                 "\x11"
                 "map<string,int32>"
                 "\x01"
                 "\x04\x01"
                 "a\x02\x02"sv},
                0, 1);
  const std::string message = MessageOf<SerializationError>(
      [&] { store.GetBroadcastState(MapStateDescriptor<std::string, int32_t>("r")); });
  EXPECT_TRUE(Contains(message, "'r'")) << message;
}

TEST(OperatorStateStore, SplitShareRule) {
  using Share = std::pair<size_t, size_t>;
  // Same number of instances: identity.
  EXPECT_EQ(OperatorStateStore::SplitShare({4, 0, 2}, 0, 3), (Share{0, 4}));
  EXPECT_EQ(OperatorStateStore::SplitShare({4, 0, 2}, 1, 3), (Share{4, 4}));
  EXPECT_EQ(OperatorStateStore::SplitShare({4, 0, 2}, 2, 3), (Share{4, 6}));
  // 10 over 4: base 2, remainder 2.
  EXPECT_EQ(OperatorStateStore::SplitShare({10}, 0, 4), (Share{0, 3}));
  EXPECT_EQ(OperatorStateStore::SplitShare({10}, 1, 4), (Share{3, 6}));
  EXPECT_EQ(OperatorStateStore::SplitShare({10}, 2, 4), (Share{6, 8}));
  EXPECT_EQ(OperatorStateStore::SplitShare({10}, 3, 4), (Share{8, 10}));
}

}  // namespace
}  // namespace sluice::detail
