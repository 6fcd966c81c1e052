#include "state/subtask_state_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::Not;

namespace sluice::internal {
namespace {

using namespace std::literals;

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// Records every write, so tests see the file arrive in pieces.
class RecordingStream final : public StateOutputStream {
 public:
  Status Write(std::string_view bytes) override {
    writes.push_back(bytes.size());
    if (fail_at && writes.size() == *fail_at) return Status::IoError("disk full");
    bytes_.append(bytes);
    return Status::Ok();
  }
  std::string bytes_;
  std::vector<size_t> writes;
  std::optional<size_t> fail_at;
};

std::string KeyedOf(int32_t kg) { return "keyed-" + std::to_string(kg); }
std::string ExtrasOf(int32_t kg) { return kg % 2 == 0 ? "" : "extras-" + std::to_string(kg); }

TEST(SubtaskStateFile, RoundTripReadsEveryKeyGroupAtItsOffset) {
  StringStateOutputStream out;
  Result<std::vector<uint64_t>> offsets =
      WriteSubtaskState(out, "counter", "operator section", std::make_pair(10, 13),
                        [](int32_t kg, DataOutput& keyed, DataOutput& extras) {
                          EXPECT_EQ(keyed.size(), 0u) << "cleared for every key group";
                          EXPECT_EQ(extras.size(), 0u);
                          keyed.WriteBytes(KeyedOf(kg).data(), KeyedOf(kg).size());
                          extras.WriteBytes(ExtrasOf(kg).data(), ExtrasOf(kg).size());
                        });
  ASSERT_THAT(offsets, IsOk());
  ASSERT_EQ(offsets->size(), 4u);
  Result<SubtaskStateHeader> header = DecodeSubtaskHeader(out.bytes(), "f.state");
  ASSERT_THAT(header, IsOk());
  EXPECT_EQ(header->version, kSubtaskStateFormatVersion);
  EXPECT_EQ(header->uid, "counter");
  EXPECT_EQ(header->operator_section, "operator section");
  EXPECT_EQ(header->key_groups, std::make_pair(10, 13));
  // Any subset, in any order: a new instance reads only the key groups it owns.
  for (int32_t kg : {12, 10, 13}) {
    Result<KeyGroupRecord> record = DecodeKeyGroupAt(
        out.bytes(), *header, (*offsets)[static_cast<size_t>(kg - 10)], kg, "f.state");
    ASSERT_THAT(record, IsOk());
    EXPECT_EQ(record->keyed, KeyedOf(kg));
    EXPECT_EQ(record->extras, ExtrasOf(kg));
    EXPECT_FALSE(record->upgraded_extras.has_value());
  }
  Result<KeyGroupRecord> wrong =
      DecodeKeyGroupAt(out.bytes(), *header, (*offsets)[0], 11, "f.state");
  EXPECT_THAT(wrong, StatusIs(StatusCode::kCorruption));
  EXPECT_TRUE(Contains(wrong.status().message(), "expected key group 11"))
      << wrong.status().message();
}

TEST(SubtaskStateFile, HeaderAndKeyGroupRecordBytesArePinned) {
  StringStateOutputStream out;
  Result<std::vector<uint64_t>> offsets = WriteSubtaskState(
      out, "u", "op", std::make_pair(1, 2), [](int32_t kg, DataOutput& keyed, DataOutput& extras) {
        keyed.WriteU8(static_cast<uint8_t>(kg));
        if (kg == 2) extras.WriteU8(9);
      });
  ASSERT_THAT(offsets, IsOk());
  EXPECT_EQ(out.bytes(),
            "SLST"
            "\x02\x00\x00\x00"         // format version 2, little-endian
            "\x01u"                    // uid
            "\x02op"                   // operator section
            "\x01"                     // keyed
            "\x02\x04"                 // key groups 1..2 (zigzag)
            "\x02\x01\x01\x00"         // key group 1: keyed "\x01", no extras
            "\x04\x01\x02\x01\x09"s);  // key group 2: keyed "\x02", extras "\x09"
  EXPECT_EQ(*offsets, (std::vector<uint64_t>{16, 20}));

  StringStateOutputStream plain;
  ASSERT_THAT(WriteSubtaskState(plain, "u", "", std::nullopt, nullptr), IsOk());
  EXPECT_EQ(plain.bytes(), "SLST\x02\x00\x00\x00\x01u\x00\x00"s);
}

TEST(SubtaskStateFile, LargeStateReachesTheStreamInBoundedPieces) {
  const std::string big(40 << 10, 'x');  // 40 KiB per key group, 128 key groups: 5 MiB
  RecordingStream out;
  Result<std::vector<uint64_t>> offsets = WriteSubtaskState(
      out, "big", "", std::make_pair(0, 127),
      [&](int32_t, DataOutput& keyed, DataOutput&) { keyed.WriteBytes(big.data(), big.size()); });
  ASSERT_THAT(offsets, IsOk());
  ASSERT_GT(out.writes.size(), 40u);
  for (size_t size : out.writes) EXPECT_LT(size, kStateFileBufferBytes + big.size() + 16);
  Result<SubtaskStateHeader> header = DecodeSubtaskHeader(out.bytes_, "big.state");
  ASSERT_THAT(header, IsOk());
  Result<KeyGroupRecord> last =
      DecodeKeyGroupAt(out.bytes_, *header, offsets->back(), 127, "big.state");
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(last->keyed, big);
}

TEST(SubtaskStateFile, AStreamErrorStopsTheWriter) {
  RecordingStream out;
  out.fail_at = 2;
  int32_t asked = 0;
  const std::string big(100 << 10, 'x');
  Result<std::vector<uint64_t>> offsets = WriteSubtaskState(
      out, "big", "", std::make_pair(0, 127), [&](int32_t, DataOutput& keyed, DataOutput&) {
        ++asked;
        keyed.WriteBytes(big.data(), big.size());
      });
  ASSERT_THAT(offsets, Not(IsOk()));
  EXPECT_EQ(offsets.status(), Status::IoError("disk full"));
  EXPECT_EQ(out.writes.size(), 2u);
  EXPECT_EQ(asked, 2) << "no key group is snapshot after the stream failed";
}

// A state file written by sluice 0.1 (format version 1): a KeyedStream::Process operator with
// max parallelism 4, value state "count" and list state "seen", processing- and event-time
// timers. Produced by that release's EncodeSubtaskState; the timers in the extras have no
// version byte.
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
constexpr uint64_t kVersion1Offsets[] = {21, 28, 89, 164};

TEST(SubtaskStateFile, Version1FilesAreReadWithTheirTimersUpgraded) {
  Result<SubtaskStateHeader> header = DecodeSubtaskHeader(kVersion1File, "old.state");
  ASSERT_THAT(header, IsOk());
  EXPECT_EQ(header->version, 1u);
  EXPECT_EQ(header->uid, "remind");
  EXPECT_EQ(header->key_groups, std::make_pair(0, 3));
  for (int32_t kg = 0; kg <= 3; ++kg) {
    Result<KeyGroupRecord> record =
        DecodeKeyGroupAt(kVersion1File, *header, kVersion1Offsets[kg], kg, "old.state");
    ASSERT_THAT(record, IsOk());
    EXPECT_EQ(record->keyed.substr(0, 1), "\x01") << "keyed section version 1, unchanged";
    ASSERT_TRUE(record->upgraded_extras.has_value());
    EXPECT_EQ(*record->upgraded_extras, "\x01"s + std::string(record->extras));
  }
  // Key group 0 had no timers: two zero counts then, version 1 timers with no timers now.
  Result<KeyGroupRecord> empty =
      DecodeKeyGroupAt(kVersion1File, *header, kVersion1Offsets[0], 0, "old.state");
  EXPECT_EQ(*empty->upgraded_extras, "\x01\x00\x00"s);
}

TEST(SubtaskStateFile, NewerVersionsAndOtherFilesAreCorruption) {
  std::string newer(kVersion1File);
  newer[4] = 3;
  Result<SubtaskStateHeader> header = DecodeSubtaskHeader(newer, "new.state");
  ASSERT_THAT(header, StatusIs(StatusCode::kCorruption));
  EXPECT_TRUE(Contains(header.status().message(), "new.state")) << header.status().message();
  EXPECT_TRUE(Contains(header.status().message(), "format version 3")) << header.status().message();
  EXPECT_TRUE(Contains(header.status().message(), "versions 1 to 2")) << header.status().message();
  newer[4] = 0;
  EXPECT_THAT(DecodeSubtaskHeader(newer, "zero.state"), StatusIs(StatusCode::kCorruption));

  Result<SubtaskStateHeader> other = DecodeSubtaskHeader("JSON{}", "x.state");
  EXPECT_THAT(other, StatusIs(StatusCode::kCorruption));
  EXPECT_TRUE(Contains(other.status().message(), "bad magic")) << other.status().message();
  Result<SubtaskStateHeader> truncated =
      DecodeSubtaskHeader(kVersion1File.substr(0, 12), "t.state");
  EXPECT_THAT(truncated, StatusIs(StatusCode::kCorruption));
}

}  // namespace
}  // namespace sluice::internal
