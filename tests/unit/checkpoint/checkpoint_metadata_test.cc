#include "checkpoint/checkpoint_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::internal {
namespace {

using Json = nlohmann::json;

CheckpointMetadata FullMetadata() {
  CheckpointMetadata m;
  m.checkpoint_id = 9'000'000'000;  // beyond 32 bits
  m.job_name = "word count \xC3\xA9t\xC3\xA9 \"quoted\"\n";
  m.instance = 3;
  m.trigger_time_ms = 1'700'000'000'123;
  m.completion_time_ms = 1'700'000'000'456;
  m.is_savepoint = true;
  m.status = CheckpointMetadata::Status::kCommitted;
  m.properties = {{"kafka.offsets", "words-0:17,words-1:4"}, {"", "empty key"}, {"k", ""}};

  OperatorStateMeta source;
  source.uid = "kafka-source";
  source.name = "Source: words";
  source.parallelism = 2;
  source.max_parallelism = 128;
  SubtaskStateMeta s0;
  s0.subtask = 0;
  s0.file = "op-kafka-source-0";
  s0.size = std::numeric_limits<std::uint64_t>::max();
  s0.crc32c = 0xFFFFFFFFu;
  source.subtasks.push_back(s0);
  SubtaskStateMeta s1;  // no state at all
  s1.subtask = 1;
  source.subtasks.push_back(s1);

  OperatorStateMeta keyed;
  keyed.uid = "counter";
  keyed.name = "Count";
  keyed.parallelism = 1;
  keyed.max_parallelism = 4;
  SubtaskStateMeta k0;
  k0.subtask = 0;
  k0.file = "op-counter-0";
  k0.size = 300;
  k0.crc32c = 0xE3069283u;
  k0.key_groups = KeyGroupRangeMeta{0, 3};
  k0.key_group_offsets = {0, 0, 100, 300};
  keyed.subtasks.push_back(k0);
  SubtaskStateMeta k1;  // keyed range without per-group offsets
  k1.subtask = 0;
  k1.file = "op-counter-1";
  k1.size = 5;
  k1.key_groups = KeyGroupRangeMeta{7, 7};
  keyed.subtasks.push_back(k1);

  OperatorStateMeta stateless;  // an operator with no subtask entries
  stateless.uid = "map";
  stateless.name = "";
  stateless.parallelism = 8;
  stateless.max_parallelism = 128;

  m.operators = {source, keyed, stateless};
  return m;
}

Json Parse(const CheckpointMetadata& m) { return Json::parse(EncodeMetadata(m)); }

Status DecodeJson(const Json& j) { return DecodeMetadata(j.dump()).status(); }

TEST(CheckpointMetadataTest, RoundTripsEveryField) {
  CheckpointMetadata original = FullMetadata();
  Result<CheckpointMetadata> decoded = DecodeMetadata(EncodeMetadata(original));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, original);
  // Spot checks, so a broken operator== could not hide a loss.
  EXPECT_EQ(decoded->checkpoint_id, 9'000'000'000);
  EXPECT_EQ(decoded->operators[0].subtasks[0].size, std::numeric_limits<std::uint64_t>::max());
  EXPECT_FALSE(decoded->operators[0].subtasks[1].key_groups.has_value());
  ASSERT_TRUE(decoded->operators[1].subtasks[0].key_groups.has_value());
  EXPECT_EQ(decoded->operators[1].subtasks[0].key_groups->end, 3);
  EXPECT_EQ(decoded->operators[1].subtasks[0].key_group_offsets.size(), 4u);
  EXPECT_EQ(decoded->status, CheckpointMetadata::Status::kCommitted);
  EXPECT_EQ(decoded->properties.at(""), "empty key");
}

TEST(CheckpointMetadataTest, RoundTripsEmptyMetadataAndDefaults) {
  CheckpointMetadata empty;
  Result<CheckpointMetadata> decoded = DecodeMetadata(EncodeMetadata(empty));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, empty);
  EXPECT_TRUE(decoded->operators.empty());
  EXPECT_TRUE(decoded->properties.empty());
  EXPECT_EQ(decoded->status, CheckpointMetadata::Status::kCompleted);
  EXPECT_FALSE(decoded->is_savepoint);

  CheckpointMetadata negative_times;
  negative_times.trigger_time_ms = -5;
  negative_times.completion_time_ms = std::numeric_limits<std::int64_t>::min();
  EXPECT_EQ(DecodeMetadata(EncodeMetadata(negative_times)).value(), negative_times);
}

TEST(CheckpointMetadataTest, EncodesPrettyJsonWithFormatVersionFirst) {
  std::string text = EncodeMetadata(FullMetadata());
  EXPECT_EQ(text.rfind("{\n  \"format_version\": 1,\n", 0), 0u) << text.substr(0, 80);
  Json j = Json::parse(text);
  EXPECT_EQ(j["status"], "COMMITTED");
  EXPECT_TRUE(j["operators"][0]["subtasks"][1]["key_groups"].is_null());
  EXPECT_EQ(j["operators"][1]["subtasks"][0]["key_groups"], Json({{"start", 0}, {"end", 3}}));
  EXPECT_EQ(j["operators"][0]["subtasks"][0]["crc32c"], 0xFFFFFFFFu);
}

TEST(CheckpointMetadataTest, RejectsANewerFormatVersionNamingBothVersions) {
  Json j = Parse(FullMetadata());
  j["format_version"] = 2;
  Status status = DecodeJson(j);
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(status.message(),
            "checkpoint metadata has format_version 2, newer than this build of sluice reads "
            "(format_version 1); restore it with the sluice version that wrote it or a newer one");
}

TEST(CheckpointMetadataTest, RejectsAnUnknownOlderFormatVersion) {
  Json j = Parse(FullMetadata());
  j["format_version"] = 0;
  Status status = DecodeJson(j);
  EXPECT_THAT(status, StatusIs(StatusCode::kCorruption));
  EXPECT_EQ(status.message(),
            "checkpoint metadata has unknown format_version 0; this build of sluice reads "
            "format_version 1");
}

TEST(CheckpointMetadataTest, VersionIsCheckedBeforeOtherFields) {
  // A future format may drop fields this build requires; the version error must win.
  Status status = DecodeMetadata(R"({"format_version": 7, "something": "else"})").status();
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(status.message(), HasSubstr("format_version 7"));
}

TEST(CheckpointMetadataTest, MissingFieldIsCorruptionNamingIt) {
  struct Case {
    const char* pointer;
    const char* name;
  };
  for (Case c :
       {Case{"/format_version", "format_version"}, Case{"/checkpoint_id", "checkpoint_id"},
        Case{"/status", "status"}, Case{"/properties", "properties"},
        Case{"/operators", "operators"}, Case{"/operators/1/uid", "operators[1].uid"},
        Case{"/operators/2/subtasks", "operators[2].subtasks"},
        Case{"/operators/0/subtasks/1/crc32c", "operators[0].subtasks[1].crc32c"},
        Case{"/operators/1/subtasks/0/key_groups", "operators[1].subtasks[0].key_groups"},
        Case{"/operators/1/subtasks/0/key_groups/end", "operators[1].subtasks[0].key_groups.end"},
        Case{"/operators/0/subtasks/0/key_group_offsets",
             "operators[0].subtasks[0].key_group_offsets"}}) {
    Json j = Parse(FullMetadata());
    Json::json_pointer pointer(c.pointer);
    j[pointer.parent_pointer()].erase(pointer.back());
    Status status = DecodeJson(j);
    EXPECT_THAT(status, StatusIs(StatusCode::kCorruption)) << c.pointer;
    EXPECT_EQ(status.message(),
              std::string("checkpoint metadata: field '") + c.name + "' is missing")
        << c.pointer;
  }
}

TEST(CheckpointMetadataTest, MistypedFieldIsCorruptionNamingItAndTheTypes) {
  Json j = Parse(FullMetadata());
  j["operators"][0]["subtasks"][0]["size"] = "12";
  Status status = DecodeJson(j);
  EXPECT_THAT(status, StatusIs(StatusCode::kCorruption));
  EXPECT_EQ(status.message(),
            "checkpoint metadata: field 'operators[0].subtasks[0].size' is a string, expected a "
            "non-negative integer");

  j = Parse(FullMetadata());
  j["is_savepoint"] = 1;
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("'is_savepoint' is a number, expected a boolean"));

  j = Parse(FullMetadata());
  j["instance"] = 1.5;
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("'instance' is a floating-point number"));

  j = Parse(FullMetadata());
  j["operators"][0]["subtasks"][0]["crc32c"] = -1;
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("'operators[0].subtasks[0].crc32c' is negative"));

  j = Parse(FullMetadata());
  j["properties"]["k"] = 3;
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("'properties.k' is not a string"));

  j = Parse(FullMetadata());
  j["operators"][1] = "not an object";
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("'operators[1]' is a string, expected an object"));

  j = Parse(FullMetadata());
  j["status"] = "DONE";
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("'status' = \"DONE\""));
}

TEST(CheckpointMetadataTest, OutOfRangeIntegersAreCorruption) {
  Json j = Parse(FullMetadata());
  j["instance"] = std::int64_t{1} << 31;
  Status status = DecodeJson(j);
  EXPECT_THAT(status, StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(status.message(), HasSubstr("'instance' = 2147483648 is out of range"));

  j = Parse(FullMetadata());
  j["operators"][0]["subtasks"][0]["crc32c"] = std::uint64_t{1} << 32;
  EXPECT_THAT(DecodeJson(j), StatusIs(StatusCode::kCorruption));

  j = Parse(FullMetadata());
  j["checkpoint_id"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_THAT(DecodeJson(j), StatusIs(StatusCode::kCorruption));
}

TEST(CheckpointMetadataTest, NotJsonOrNotAnObjectIsCorruption) {
  EXPECT_THAT(DecodeMetadata(""), StatusIs(StatusCode::kCorruption));
  std::string truncated = EncodeMetadata(FullMetadata());
  truncated.resize(truncated.size() / 2);
  Status status = DecodeMetadata(truncated).status();
  EXPECT_THAT(status, StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(status.message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(DecodeMetadata("[1, 2]"), StatusIs(StatusCode::kCorruption));
}

TEST(CheckpointMetadataTest, StateFileOutsideTheSnapshotDirectoryIsCorruption) {
  for (const char* file : {"../escape", "/etc/passwd", "a/b", ".", ".."}) {
    Json j = Parse(FullMetadata());
    j["operators"][0]["subtasks"][0]["file"] = file;
    Status status = DecodeJson(j);
    EXPECT_THAT(status, StatusIs(StatusCode::kCorruption)) << file;
    EXPECT_THAT(status.message(), HasSubstr("operators[0].subtasks[0].file")) << file;
  }
}

TEST(CheckpointMetadataTest, InconsistentKeyGroupOffsetsAreCorruption) {
  Json j = Parse(FullMetadata());
  j["operators"][1]["subtasks"][0]["key_group_offsets"] = {0, 100};  // range has 4 groups
  EXPECT_THAT(DecodeJson(j).message(), HasSubstr("has 2 entries for 4 key groups"));

  j = Parse(FullMetadata());
  j["operators"][1]["subtasks"][0]["key_group_offsets"] = {0, 200, 100, 300};
  EXPECT_THAT(DecodeJson(j), StatusIs(StatusCode::kCorruption));

  j = Parse(FullMetadata());
  j["operators"][1]["subtasks"][0]["key_group_offsets"] = {0, 0, 100, 301};  // past the end
  EXPECT_THAT(DecodeJson(j), StatusIs(StatusCode::kCorruption));

  j = Parse(FullMetadata());
  j["operators"][0]["subtasks"][1]["key_group_offsets"] = {0};  // offsets without a range
  EXPECT_THAT(DecodeJson(j), StatusIs(StatusCode::kCorruption));

  j = Parse(FullMetadata());
  j["operators"][1]["subtasks"][0]["key_groups"] = {{"start", 5}, {"end", 2}};
  EXPECT_THAT(DecodeJson(j), StatusIs(StatusCode::kCorruption));
}

TEST(CheckpointMetadataTest, UnknownFieldsAreIgnoredWithinAVersion) {
  Json j = Parse(FullMetadata());
  j["added_later"] = {{"x", 1}};
  j["operators"][0]["subtasks"][0]["also_new"] = true;
  Result<CheckpointMetadata> decoded = DecodeMetadata(j.dump());
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, FullMetadata());
}

}  // namespace
}  // namespace sluice::internal
