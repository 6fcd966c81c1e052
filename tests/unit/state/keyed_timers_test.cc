#include <sluice/state/detail/keyed_timers.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sluice::detail {
namespace {

using namespace std::literals;

std::vector<KeyedTimers::Timer> Drain(KeyedTimers& timers) {
  std::vector<KeyedTimers::Timer> out;
  while (auto timer = timers.PopDue(INT64_MAX)) out.push_back(*timer);
  return out;
}

std::string Snapshot(const KeyedTimerQueues& queues, int32_t key_group) {
  DataOutput out;
  queues.SnapshotKeyGroup(key_group, out);
  return out.Release();
}

TEST(KeyedTimers, PopDueReturnsTimersInTimeOrderOnlyWhenDue) {
  KeyedTimers timers;
  EXPECT_TRUE(timers.Add({20, 1, "b"}));
  EXPECT_TRUE(timers.Add({10, 2, "a"}));
  EXPECT_FALSE(timers.Add({10, 2, "a"})) << "the same timer twice is one timer";
  EXPECT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers.next_time(), 10);
  EXPECT_EQ(timers.PopDue(9), std::nullopt);
  EXPECT_EQ(timers.PopDue(10), (KeyedTimers::Timer{10, 2, "a"}));
  EXPECT_FALSE(timers.HasTimersIn(2));
  EXPECT_TRUE(timers.HasTimersIn(1));
  timers.Remove({20, 1, "b"});
  timers.Remove({20, 1, "b"});  // twice: still no underflow of the per-group count
  EXPECT_TRUE(timers.empty());
  EXPECT_FALSE(timers.HasTimersIn(1));
}

TEST(KeyedTimerQueues, BytesArePinned) {
  KeyedTimerQueues queues;
  queues.processing.Add({1100, 5, "k"});
  queues.processing.Add({-1, 5, "j"});
  queues.processing.Add({7, 6, "other group"});
  queues.event.Add({60, 5, "k"});
  const std::string expected =
      "\x01"           // timer format version
      "\x02"           // two processing-time timers in key group 5, by time
      "\x01\x01j"      //   zigzag -1, key "j"
      "\x98\x11\x01k"  //   zigzag 1100, key "k"
      "\x01"           // one event-time timer
      "\x78\x01k"s;    //   zigzag 60, key "k"
  EXPECT_EQ(Snapshot(queues, 5), expected);
  EXPECT_EQ(Snapshot(queues, 4), "") << "a key group without timers writes nothing";
}

TEST(KeyedTimerQueues, RoundTripMovesEachKeyGroupsTimersOnly) {
  KeyedTimerQueues queues;
  for (int32_t key_group = 0; key_group < 4; ++key_group) {
    for (int64_t i = 0; i < 3; ++i) {
      const std::string key = "k" + std::to_string(key_group) + "-" + std::to_string(i);
      queues.processing.Add({1000 + i * 7 + key_group, key_group, key});
      if (i != 1) queues.event.Add({-50 + i, key_group, key});
    }
  }
  // Restore key groups 1 and 3 only, as an instance owning them after rescaling would.
  KeyedTimerQueues restored;
  for (int32_t key_group : {1, 3}) {
    const std::string bytes = Snapshot(queues, key_group);
    DataInput in(bytes);
    restored.RestoreKeyGroup(key_group, in);
    EXPECT_EQ(Snapshot(restored, key_group), bytes);
  }
  EXPECT_EQ(Snapshot(restored, 0), "");
  std::vector<KeyedTimers::Timer> expected_processing;
  std::vector<KeyedTimers::Timer> expected_event;
  for (KeyedTimers::Timer timer : Drain(queues.processing)) {
    if (timer.key_group % 2 == 1) expected_processing.push_back(timer);
  }
  for (KeyedTimers::Timer timer : Drain(queues.event)) {
    if (timer.key_group % 2 == 1) expected_event.push_back(timer);
  }
  EXPECT_EQ(Drain(restored.processing), expected_processing);
  EXPECT_EQ(Drain(restored.event), expected_event);
}

TEST(KeyedTimerQueues, AnotherVersionIsRefusedNamingIt) {
  KeyedTimerQueues queues;
  DataInput in("\x02\x00\x00"sv);
  try {
    queues.RestoreKeyGroup(3, in);
    ADD_FAILURE() << "version 2 was accepted";
  } catch (const SerializationError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("timer format version 2"), std::string::npos) << message;
    EXPECT_NE(message.find("key group 3"), std::string::npos) << message;
  }
  EXPECT_TRUE(queues.processing.empty());
}

TEST(KeyedTimerQueues, TruncatedOrTrailingBytesAreRefused) {
  for (std::string_view bytes : {"\x01\x01\x02"sv, "\x01\x00\x00\x00"sv, ""sv}) {
    KeyedTimerQueues queues;
    DataInput in(bytes);
    EXPECT_THROW(queues.RestoreKeyGroup(0, in), SerializationError);
  }
}

}  // namespace
}  // namespace sluice::detail
