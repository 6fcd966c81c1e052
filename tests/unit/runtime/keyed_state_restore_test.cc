// Restoring a keyed process operator's state (keyed state and timers) from state files, as the
// runtime does: files of the current format and of sluice 0.1, and refusing what this build
// cannot read.
#include <sluice/testing/operator_harness.h>

#include <sluice/testing/status_matchers.h>

#include "state/subtask_state_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::testing {
namespace {

using namespace std::literals;

// Counts per key and remembers timestamps; 100 ms of processing time after a key's first
// element, and 10 ms of event time after each element, OnTimer reports the key's count. The
// state names and types are those of the function that wrote kVersion1File.
class Remind final : public KeyedProcessFunction<std::string, std::string, std::string> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
    seen_ = &GetRuntimeContext().GetListState(ListStateDescriptor<int64_t>("seen"));
  }
  void ProcessElement(std::string word, Context& ctx, Collector<std::string>& out) override {
    int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    seen_->Add(ctx.Timestamp());
    if (count == 1)
      ctx.TimerService().RegisterProcessingTimeTimer(ctx.TimerService().CurrentProcessingTime() +
                                                     100);
    ctx.TimerService().RegisterEventTimeTimer(ctx.Timestamp() + 10);
    out.Collect(word);
  }
  void OnTimer(int64_t time, OnTimerContext& ctx, Collector<std::string>& out) override {
    out.Collect(std::string(ctx.GetTimeDomain() == TimeDomain::kEventTime ? "event " : "proc ") +
                ctx.GetCurrentKey() + "@" + std::to_string(time) + "=" +
                std::to_string(count_->Value().value_or(0)) + "/" +
                std::to_string(seen_->Get().size()));
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
  ListState<int64_t>* seen_ = nullptr;
};

constexpr int32_t kMaxParallelism = 4;

OneInputOperatorHarness<std::string, std::string> MakeHarness(
    const OperatorSnapshot* restore = nullptr) {
  return OneInputOperatorHarness<std::string, std::string>(
      std::make_unique<detail::KeyedProcessOperator<std::string, std::string, std::string, Remind>>(
          Remind(), [](const std::string& s) { return s; }),
      /*keyed=*/true, restore, kMaxParallelism);
}

// What the job master hands a restoring instance: each key group's record read back from the
// file at its offset, extras upgraded where the file is older.
OperatorSnapshot ReadFile(std::string_view bytes, const std::vector<uint64_t>& offsets) {
  Result<internal::SubtaskStateHeader> header = internal::DecodeSubtaskHeader(bytes, "test.state");
  EXPECT_THAT(header, IsOk());
  OperatorSnapshot snapshot;
  snapshot.operator_section = std::string(header->operator_section);
  for (int32_t kg = header->key_groups->first; kg <= header->key_groups->second; ++kg) {
    Result<internal::KeyGroupRecord> record = internal::DecodeKeyGroupAt(
        bytes, *header, offsets[static_cast<size_t>(kg - header->key_groups->first)], kg,
        "test.state");
    EXPECT_THAT(record, IsOk());
    snapshot.key_groups[kg] = {std::string(record->keyed), record->upgraded_extras
                                                               ? *record->upgraded_extras
                                                               : std::string(record->extras)};
  }
  return snapshot;
}

// The same input as the sluice 0.1 run that wrote kVersion1File.
void Feed(OneInputOperatorHarness<std::string, std::string>& harness) {
  harness.SetProcessingTime(1000);
  harness.ProcessElement("a", 50);
  harness.ProcessElement("b", 60);
  harness.ProcessElement("a", 70);
  harness.ProcessElement("c", 80);
  harness.TakeOutputValues();
}

// What a restored instance does with the state of Feed: every timer fires with the right key
// and state.
void ExpectRestoredStateAndTimers(OneInputOperatorHarness<std::string, std::string>& restored) {
  EXPECT_EQ((restored.ValueStateOf<std::string, int64_t>("a", "count")), 2);
  EXPECT_EQ((restored.ValueStateOf<std::string, int64_t>("b", "count")), 1);
  EXPECT_EQ((restored.ValueStateOf<std::string, int64_t>("c", "count")), 1);
  restored.ProcessWatermark(75);
  EXPECT_EQ(restored.TakeOutputValues(),
            (std::vector<std::string>{"event a@60=2/2", "event b@70=1/1"}));
  restored.SetProcessingTime(1100);
  std::vector<std::string> fired = restored.TakeOutputValues();
  std::sort(fired.begin(), fired.end());
  EXPECT_EQ(fired,
            (std::vector<std::string>{"proc a@1100=2/2", "proc b@1100=1/1", "proc c@1100=1/1"}));
  restored.ProcessWatermark(kMaxWatermark);
  EXPECT_EQ(restored.TakeOutputValues(),
            (std::vector<std::string>{"event a@80=2/2", "event c@90=1/1"}));
}

TEST(KeyedStateRestore, AStateFileOfTheCurrentFormatRestoresStateAndTimers) {
  auto harness = MakeHarness();
  harness.Open();
  Feed(harness);
  const OperatorSnapshot snapshot = harness.Snapshot(1);
  internal::StringStateOutputStream file;
  Result<std::vector<uint64_t>> offsets = internal::WriteSubtaskState(
      file, "remind", snapshot.operator_section, std::make_pair(0, kMaxParallelism - 1),
      [&](int32_t kg, DataOutput& keyed, DataOutput& extras) {
        const auto& [keyed_bytes, extras_bytes] = snapshot.key_groups.at(kg);
        keyed.WriteBytes(keyed_bytes.data(), keyed_bytes.size());
        extras.WriteBytes(extras_bytes.data(), extras_bytes.size());
      });
  ASSERT_THAT(offsets, IsOk());
  const OperatorSnapshot read = ReadFile(file.bytes(), *offsets);
  auto restored = MakeHarness(&read);
  restored.Open();
  ExpectRestoredStateAndTimers(restored);
}

// Written by sluice 0.1's EncodeSubtaskState from the harness snapshot of Feed (state file
// format 1, timers without a version byte).
constexpr std::string_view kVersion1File =
    "\x53\x4c\x53\x54\x01\x00\x00\x00\x06\x72\x65\x6d\x69\x6e\x64\x02"
    "\x01\x00\x01\x00\x06\x00\x02\x01\x00\x02\x00\x00\x02\x2a\x01\x02"
    "\x05\x63\x6f\x75\x6e\x74\x00\x05\x69\x6e\x74\x36\x34\x05\x01\x02"
    "\x01\x61\x04\x04\x73\x65\x65\x6e\x01\x05\x69\x6e\x74\x36\x34\x08"
    "\x01\x02\x01\x61\x02\x64\x8c\x01\x10\x01\x98\x11\x02\x01\x61\x02"
    "\x78\x02\x01\x61\xa0\x01\x02\x01\x61\x04\x32\x01\x02\x05\x63\x6f"
    "\x75\x6e\x74\x00\x05\x69\x6e\x74\x36\x34\x09\x02\x02\x01\x63\x02"
    "\x02\x01\x62\x02\x04\x73\x65\x65\x6e\x01\x05\x69\x6e\x74\x36\x34"
    "\x0c\x02\x02\x01\x63\x01\xa0\x01\x02\x01\x62\x01\x78\x16\x02\x98"
    "\x11\x02\x01\x62\x98\x11\x02\x01\x63\x02\x8c\x01\x02\x01\x62\xb4"
    "\x01\x02\x01\x63\x06\x02\x01\x00\x02\x00\x00"sv;

TEST(KeyedStateRestore, AStateFileOfSluice01RestoresStateAndTimers) {
  const OperatorSnapshot read = ReadFile(kVersion1File, {21, 28, 89, 164});
  auto restored = MakeHarness(&read);
  restored.Open();
  ExpectRestoredStateAndTimers(restored);
}

TEST(KeyedStateRestore, TimersOfAnUnknownFormatVersionAreCorruptionNamingTheVersion) {
  auto harness = MakeHarness();
  harness.Open();
  Feed(harness);
  OperatorSnapshot snapshot = harness.Snapshot(1);
  int32_t patched = -1;
  for (auto& [kg, parts] : snapshot.key_groups) {
    if (parts.second.empty()) continue;
    ASSERT_EQ(parts.second[0], '\x01');
    parts.second[0] = '\x07';  // as a newer release might write
    patched = kg;
    break;
  }
  ASSERT_NE(patched, -1);
  try {
    auto restored = MakeHarness(&snapshot);
    ADD_FAILURE() << "timers of format version 7 were accepted";
  } catch (const StatusException& error) {
    EXPECT_THAT(error.status(), StatusIs(StatusCode::kCorruption));
    const std::string& message = error.status().message();
    EXPECT_NE(message.find("timer format version 7"), std::string::npos) << message;
    EXPECT_NE(message.find("key group " + std::to_string(patched)), std::string::npos) << message;
    EXPECT_NE(message.find("operator under test"), std::string::npos) << message;
  }
}

TEST(KeyedStateRestore, AnUnknownStateBackendNameIsInvalidArgument) {
  try {
    OneInputOperatorHarness<std::string, std::string> harness(
        std::make_unique<
            detail::KeyedProcessOperator<std::string, std::string, std::string, Remind>>(
            Remind(), [](const std::string& s) { return s; }),
        /*keyed=*/true, nullptr, kMaxParallelism, "rocksdb");
    ADD_FAILURE() << "an unknown backend was accepted";
  } catch (const StatusException& error) {
    EXPECT_THAT(error.status(), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(error.status().message(), HasSubstr("'rocksdb'"));
  }
}

}  // namespace
}  // namespace sluice::testing
