#include "checkpoint/checkpoint_storage.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sluice/testing/status_matchers.h>

#include "checkpoint/atomic_file.h"
#include "checkpoint/crc32c.h"
#include "unit/checkpoint/checkpoint_test_util.h"

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace sluice::internal {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

constexpr char kJob[] = "word count";

std::vector<std::string> FileNames(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// True if `s` is `prefix` followed by exactly `hex_digits` lower-case hex digits. (Not
// std::regex: GCC 12 reports false maybe-uninitialized warnings inside it under ASan.)
bool IsPrefixThenHex(std::string_view s, std::string_view prefix, std::size_t hex_digits) {
  if (!s.starts_with(prefix) || s.size() != prefix.size() + hex_digits) return false;
  return s.substr(prefix.size()).find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

class CheckpointStorageTest : public ::testing::Test {
 protected:
  CheckpointStorage OpenStorage() {
    Result<CheckpointStorage> storage =
        CheckpointStorage::Open(tmp_.path() / "checkpoints", kJob, 0);
    EXPECT_THAT(storage, IsOk());
    return std::move(storage).value();
  }

  CheckpointMetadata MetadataFor(const CheckpointStorage& storage, std::int64_t id) {
    CheckpointMetadata m;
    m.checkpoint_id = id;
    m.job_name = storage.job_name();
    m.instance = storage.instance();
    m.trigger_time_ms = 1000 * id;
    m.completion_time_ms = 1000 * id + 10;
    return m;
  }

  // Writes two subtasks of one keyed operator and completes checkpoint `id`.
  CheckpointMetadata WriteCheckpoint(CheckpointStorage& storage, std::int64_t id) {
    Result<SnapshotLocation> location = storage.BeginCheckpoint(id);
    EXPECT_THAT(location, IsOk());
    CheckpointMetadata m = MetadataFor(storage, id);
    OperatorStateMeta op{"counter", "Count", 2, 4, {}};
    for (std::int32_t subtask = 0; subtask < 2; ++subtask) {
      std::string bytes = "state of " + std::to_string(id) + "/" + std::to_string(subtask);
      Result<SubtaskStateMeta> meta =
          location->WriteSubtaskState(subtask, "op-counter-" + std::to_string(subtask), bytes);
      EXPECT_THAT(meta, IsOk());
      meta->key_groups = KeyGroupRangeMeta{2 * subtask, 2 * subtask + 1};
      meta->key_group_offsets = {0, 3};
      op.subtasks.push_back(*meta);
    }
    m.operators.push_back(op);
    Status status = storage.Complete(*location, m);
    EXPECT_THAT(status, IsOk());
    return m;
  }

  TempDir tmp_;
};

TEST(JobIdTest, KeepsSafeNamesAndDisambiguatesReplacedOnes) {
  EXPECT_EQ(JobIdFromName("wordcount"), "wordcount");
  EXPECT_EQ(JobIdFromName("Word-Count_v2.1"), "Word-Count_v2.1");
  EXPECT_EQ(JobIdFromName("a_b"), "a_b");
  std::string spaced = JobIdFromName("a b");
  EXPECT_NE(spaced, "a_b");
  EXPECT_TRUE(IsPrefixThenHex(spaced, "a_b-", 8)) << spaced;
  EXPECT_EQ(JobIdFromName("a b"), spaced);  // stable
  EXPECT_NE(JobIdFromName("a/b"), spaced);  // same stem, different original
  EXPECT_EQ(JobIdFromName("a/b").substr(0, 4), "a_b-");
  // FNV-1a-32 is fixed by definition: this value must never change, or jobs lose their place.
  EXPECT_EQ(JobIdFromName("a b"), "a_b-10a3f9f2");
}

TEST(JobIdTest, NeverProducesAPathThatEscapesOrCollapses) {
  using namespace std::string_view_literals;
  for (std::string_view name :
       {""sv, "."sv, ".."sv, "/"sv, "../x"sv, "x/.."sv, "\xC3\xA9t\xC3\xA9"sv, "a\0b"sv}) {
    std::string id = JobIdFromName(name);
    EXPECT_FALSE(id.empty()) << name;
    EXPECT_NE(id, ".");
    EXPECT_NE(id, "..");
    EXPECT_EQ(id.find('/'), std::string::npos) << id;
    EXPECT_EQ(
        id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"),
        std::string::npos)
        << id;
  }
  EXPECT_NE(JobIdFromName("."), JobIdFromName(".."));
  std::string long_name(300, 'x');
  std::string id = JobIdFromName(long_name);
  EXPECT_EQ(id.size(), 100u + 9u);
  EXPECT_NE(id, JobIdFromName(long_name + "y"));
}

TEST(CheckpointDirNameTest, ParsesOnlyCanonicalChkNames) {
  EXPECT_EQ(ParseCheckpointDirName("chk-0"), 0);
  EXPECT_EQ(ParseCheckpointDirName("chk-42"), 42);
  EXPECT_EQ(ParseCheckpointDirName("chk-9223372036854775807"), INT64_MAX);
  for (std::string_view junk : {"chk-", "chk-007", "chk--1", "chk-+1", "chk-1a", "chk-1 ", "CHK-1",
                                "chk-99999999999999999999", "xchk-1", "savepoint-1"}) {
    EXPECT_FALSE(ParseCheckpointDirName(junk).has_value()) << junk;
  }
}

TEST_F(CheckpointStorageTest, OpenCreatesTheInstanceDirectory) {
  CheckpointStorage storage = OpenStorage();
  EXPECT_EQ(storage.job_id(), JobIdFromName(kJob));
  EXPECT_EQ(storage.instance_dir(),
            tmp_.path() / "checkpoints" / JobIdFromName(kJob) / "instance-0");
  EXPECT_TRUE(fs::is_directory(storage.instance_dir()));
  EXPECT_TRUE(FileNames(storage.instance_dir()).empty());  // the write probe is gone
  EXPECT_EQ(storage.CheckpointDir(7), storage.instance_dir() / "chk-7");
}

TEST_F(CheckpointStorageTest, OpenOfAnUncreatableDirectoryNamesItAndTheFlag) {
  // A path below a regular file cannot be created, even as root (which ignores permissions).
  ASSERT_THAT(WriteFileAtomically(tmp_.path() / "file", "x"), IsOk());
  fs::path bad = tmp_.path() / "file" / "checkpoints";
  Result<CheckpointStorage> storage = CheckpointStorage::Open(bad, kJob, 0);
  ASSERT_THAT(storage, Not(IsOk()));
  EXPECT_THAT(storage, StatusIs(StatusCode::kIoError));
  EXPECT_THAT(storage.status().message(), HasSubstr(bad.string()));
  EXPECT_THAT(storage.status().message(), HasSubstr("--checkpoint-dir"));
  EXPECT_THAT(storage.status().message(), HasSubstr("cannot create checkpoint directory"));
  EXPECT_THAT(storage.status().message(), HasSubstr(": Not a directory"));
}

// An unwritable --checkpoint-dir fails at start, not at the first checkpoint: a read-only
// file system (root ignores permissions, so chmod would not do).
TEST_F(CheckpointStorageTest, OpenOfAReadOnlyDirectoryNamesItTheOperationAndTheErrnoText) {
  const fs::path disk = tmp_.path() / "disk";
  fs::create_directory(disk);
  std::optional<std::string> report = testing::InChildWithTmpfs(disk, /*read_only=*/false, [&] {
    // The instance directory exists; then the disk turns read-only (a remount after errors).
    if (!CheckpointStorage::Open(disk, kJob, 0).ok() || !testing::RemountReadOnly(disk)) {
      return std::string("setup failed");
    }
    Result<CheckpointStorage> storage = CheckpointStorage::Open(disk, kJob, 0);
    return std::to_string(static_cast<int>(storage.status().code())) + " " +
           storage.status().message();
  });
  if (!report) GTEST_SKIP() << "cannot mount a tmpfs here";
  EXPECT_EQ(report->substr(0, report->find(' ')),
            std::to_string(static_cast<int>(StatusCode::kIoError)))
      << *report;
  const fs::path instance = disk / JobIdFromName(kJob) / "instance-0";
  EXPECT_THAT(*report, HasSubstr("checkpoint directory " + instance.string() +
                                 " is not writable (check --checkpoint-dir " + disk.string()));
  EXPECT_THAT(*report,
              HasSubstr("cannot create " + (instance / "_write_probe").string() + ".tmp-"));
  EXPECT_THAT(*report, HasSubstr(": Read-only file system"));
}

// A checkpoint whose disk turns read-only after it began: each state file and the metadata
// name their path, the operation and the reason.
TEST_F(CheckpointStorageTest, WritingIntoAReadOnlyCheckpointNamesEachFileAndTheErrnoText) {
  const fs::path disk = tmp_.path() / "disk";
  fs::create_directory(disk);
  std::optional<std::string> report = testing::InChildWithTmpfs(disk, /*read_only=*/false, [&] {
    Result<CheckpointStorage> storage = CheckpointStorage::Open(disk, kJob, 0);
    if (!storage.ok()) return "setup failed: " + storage.status().ToString();
    Result<SnapshotLocation> location = storage->BeginCheckpoint(1);
    if (!location.ok() || !testing::RemountReadOnly(disk)) return std::string("setup failed");
    std::string out;
    out += location->WriteSubtaskState(0, "op-whole-0", "bytes").status().ToString() + "\n";
    out += location->CreateSubtaskStateFile(0, "op-pieces-0").status().ToString() + "\n";
    CheckpointMetadata m;
    m.checkpoint_id = 1;
    m.job_name = kJob;
    out += storage->Complete(*location, m).ToString() + "\n";
    return out;
  });
  if (!report) GTEST_SKIP() << "cannot mount a tmpfs here";
  const fs::path chk = disk / JobIdFromName(kJob) / "instance-0" / "chk-1";
  EXPECT_THAT(*report,
              HasSubstr("IoError: cannot create " + (chk / "op-whole-0").string() + ".tmp-"));
  EXPECT_THAT(*report,
              HasSubstr("IoError: cannot create " + (chk / "op-pieces-0").string() + ".tmp-"));
  EXPECT_THAT(*report,
              HasSubstr("IoError: cannot create " + (chk / "_metadata").string() + ".tmp-"));
  size_t reasons = 0;
  for (size_t at = report->find(": Read-only file system"); at != std::string::npos;
       at = report->find(": Read-only file system", at + 1)) {
    ++reasons;
  }
  EXPECT_EQ(reasons, 3u) << *report;
}

TEST_F(CheckpointStorageTest, CompletingWithAMissingStateFileNamesItsPathAndTheErrnoText) {
  CheckpointStorage storage = OpenStorage();
  Result<SnapshotLocation> location = storage.BeginCheckpoint(1);
  ASSERT_THAT(location, IsOk());
  CheckpointMetadata m = MetadataFor(storage, 1);
  SubtaskStateMeta lost;
  lost.subtask = 0;
  lost.file = "op-lost-0";
  lost.size = 5;
  m.operators.push_back(OperatorStateMeta{"lost", "Lost", 1, 1, {lost}});
  Status status = storage.Complete(*location, m);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("cannot stat its state file " +
                                          (storage.CheckpointDir(1) / "op-lost-0").string() +
                                          ": No such file or directory"));
}

// A path the process may not look into is not "missing": the message says what failed.
TEST_F(CheckpointStorageTest, ReadMetadataAtAPathItCannotStatSaysSoNotThatItIsMissing) {
  ASSERT_THAT(WriteFileAtomically(tmp_.path() / "file", "x"), IsOk());
  const fs::path below = tmp_.path() / "file" / "savepoint-1";
  Result<CheckpointMetadata> read = CheckpointStorage::ReadMetadataAt(below);
  EXPECT_THAT(read, StatusIs(StatusCode::kIoError));
  EXPECT_EQ(read.status().message(), "cannot stat " + below.string() + ": Not a directory");
}

TEST_F(CheckpointStorageTest, ReadingAStateFileThatIsADirectoryNamesItAndTheErrnoText) {
  CheckpointStorage storage = OpenStorage();
  ASSERT_THAT(storage.BeginCheckpoint(1), IsOk());
  fs::create_directory(storage.CheckpointDir(1) / "op-dir-0");
  Result<std::string> read = CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), "op-dir-0");
  EXPECT_THAT(read, StatusIs(StatusCode::kIoError));
  EXPECT_THAT(read.status().message(),
              HasSubstr("cannot read " + (storage.CheckpointDir(1) / "op-dir-0").string() +
                        ": Is a directory"));
}

TEST_F(CheckpointStorageTest, OpenRejectsMissingArguments) {
  EXPECT_THAT(CheckpointStorage::Open("", kJob, 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckpointStorage::Open("", kJob, 0).status().message(),
              HasSubstr("--checkpoint-dir"));
  EXPECT_THAT(CheckpointStorage::Open(tmp_.path(), "", 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckpointStorage::Open(tmp_.path(), kJob, -1),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(CheckpointStorageTest, CompletedCheckpointRestoresIdentically) {
  CheckpointStorage storage = OpenStorage();
  CheckpointMetadata written = WriteCheckpoint(storage, 1);
  EXPECT_EQ(storage.ListCompleted(), std::vector<std::int64_t>{1});
  Result<std::optional<CheckpointMetadata>> latest = storage.LatestCompleted();
  ASSERT_THAT(latest, IsOk());
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ(**latest, written);
  for (const SubtaskStateMeta& subtask : (*latest)->operators[0].subtasks) {
    Result<std::string> bytes = CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), subtask);
    ASSERT_THAT(bytes, IsOk());
    EXPECT_EQ(*bytes, "state of 1/" + std::to_string(subtask.subtask));
  }
  EXPECT_EQ(FileNames(storage.CheckpointDir(1)),
            (std::vector<std::string>{"_metadata", "op-counter-0", "op-counter-1"}));
}

TEST_F(CheckpointStorageTest, NoCheckpointYetIsAnEmptyResultNotAnError) {
  CheckpointStorage storage = OpenStorage();
  EXPECT_TRUE(storage.ListCompleted().empty());
  Result<std::optional<CheckpointMetadata>> latest = storage.LatestCompleted();
  ASSERT_THAT(latest, IsOk());
  EXPECT_FALSE(latest->has_value());
}

TEST_F(CheckpointStorageTest, StateFilesFromManyThreadsAtOnce) {
  CheckpointStorage storage = OpenStorage();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::vector<Result<std::string>> names(kThreads, Status::Internal("not run"));
  for (int t = 0; t < kThreads; ++t) {
    // No BeginCheckpoint: WriteStateFile(id, ...) creates chk-N itself, racing with the others.
    threads.emplace_back([&storage, &names, t] {
      names[static_cast<std::size_t>(t)] = storage.WriteStateFile(
          5, "op-x-" + std::to_string(t), std::string(10000, static_cast<char>('a' + t)));
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    const Result<std::string>& name = names[static_cast<std::size_t>(t)];
    ASSERT_THAT(name, IsOk());
    EXPECT_EQ(*name, "op-x-" + std::to_string(t));
    EXPECT_EQ(CheckpointStorage::ReadStateFile(storage.CheckpointDir(5), *name).value(),
              std::string(10000, static_cast<char>('a' + t)));
  }
  EXPECT_EQ(FileNames(storage.CheckpointDir(5)).size(), static_cast<std::size_t>(kThreads));
}

TEST_F(CheckpointStorageTest, StateFileNamesMustBePlainAndNotReserved) {
  CheckpointStorage storage = OpenStorage();
  using namespace std::string_view_literals;
  for (std::string_view name :
       {""sv, "a/b"sv, ".."sv, "."sv, "_metadata"sv, "_x"sv, "op.tmp-1-ab"sv, "a\0b"sv}) {
    Result<std::string> written = storage.WriteStateFile(1, name, "x");
    EXPECT_THAT(written, StatusIs(StatusCode::kInvalidArgument)) << name;
  }
  EXPECT_THAT(storage.WriteStateFile(1, std::string(201, 'x'), "x"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(storage.WriteStateFile(1, std::string(200, 'x'), "x"), IsOk());
  EXPECT_THAT(storage.WriteStateFile(-1, "x", "x"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(CheckpointStorageTest, AStateFileWrittenInPiecesHasTheMetaOfOneWrittenWhole) {
  CheckpointStorage storage = OpenStorage();
  SnapshotLocation location = storage.BeginCheckpoint(4).value();
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes.push_back(static_cast<char>(i * 7 % 256));
  SubtaskStateMeta whole = location.WriteSubtaskState(2, "op-whole-2", bytes).value();

  Result<SubtaskStateFileWriter> writer = location.CreateSubtaskStateFile(2, "op-pieces-2");
  ASSERT_THAT(writer, IsOk());
  for (std::size_t at = 0; at < bytes.size(); at += 333) {
    ASSERT_THAT(writer->Append(std::string_view(bytes).substr(at, 333)), IsOk());
  }
  EXPECT_EQ(writer->size(), bytes.size());
  Result<SubtaskStateMeta> pieces = writer->Commit();
  ASSERT_THAT(pieces, IsOk());
  EXPECT_EQ(pieces->subtask, 2);
  EXPECT_EQ(pieces->file, "op-pieces-2");
  EXPECT_EQ(pieces->size, whole.size);
  EXPECT_EQ(pieces->crc32c, whole.crc32c);
  EXPECT_EQ(CheckpointStorage::ReadStateFile(location.directory(), *pieces).value(), bytes);

  // Names are checked as for WriteStateFile; an abandoned writer leaves nothing.
  EXPECT_THAT(location.CreateSubtaskStateFile(0, "_metadata"),
              StatusIs(StatusCode::kInvalidArgument));
  {
    ASSERT_THAT(location.CreateSubtaskStateFile(3, "op-abandoned-3"), IsOk());
  }
  EXPECT_EQ(FileNames(location.directory()),
            (std::vector<std::string>{"op-pieces-2", "op-whole-2"}));
}

TEST_F(CheckpointStorageTest, CompleteRejectsMetadataThatDoesNotMatchTheFiles) {
  CheckpointStorage storage = OpenStorage();
  SnapshotLocation location = storage.BeginCheckpoint(3).value();
  SubtaskStateMeta written = location.WriteSubtaskState(0, "op-a-0", "abc").value();

  CheckpointMetadata m = MetadataFor(storage, 3);
  m.operators.push_back(OperatorStateMeta{"a", "A", 1, 128, {written}});
  SubtaskStateMeta missing = written;
  missing.file = "op-a-1";
  CheckpointMetadata with_missing = m;
  with_missing.operators[0].subtasks.push_back(missing);
  Status status = storage.Complete(location, with_missing);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("op-a-1"));

  CheckpointMetadata wrong_size = m;
  wrong_size.operators[0].subtasks[0].size = 4;
  EXPECT_THAT(storage.Complete(location, wrong_size), StatusIs(StatusCode::kInvalidArgument));

  CheckpointMetadata wrong_id = m;
  wrong_id.checkpoint_id = 4;
  EXPECT_THAT(storage.Complete(location, wrong_id), StatusIs(StatusCode::kInvalidArgument));

  CheckpointMetadata wrong_job = m;
  wrong_job.job_name = "other";
  EXPECT_THAT(storage.Complete(location, wrong_job), StatusIs(StatusCode::kInvalidArgument));

  CheckpointMetadata bad_offsets = m;  // a restore would reject it, so completing must too
  bad_offsets.operators[0].subtasks[0].key_groups = KeyGroupRangeMeta{0, 1};
  bad_offsets.operators[0].subtasks[0].key_group_offsets = {0, 4};
  status = storage.Complete(location, bad_offsets);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), HasSubstr("key_group_offsets[1]"));

  CheckpointMetadata duplicate_uid = m;
  duplicate_uid.operators.push_back(m.operators[0]);
  EXPECT_THAT(storage.Complete(location, duplicate_uid), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_TRUE(storage.ListCompleted().empty());  // nothing was written by the failures
  ASSERT_THAT(storage.Complete(location, m), IsOk());
  EXPECT_EQ(storage.ListCompleted(), std::vector<std::int64_t>{3});
  EXPECT_THAT(storage.Complete(location, m), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(storage.BeginCheckpoint(3), StatusIs(StatusCode::kAlreadyExists));
}

TEST_F(CheckpointStorageTest, ListingIgnoresIncompleteDirectoriesAndJunkNames) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  WriteCheckpoint(storage, 2);
  WriteCheckpoint(storage, 10);
  const fs::path& root = storage.instance_dir();
  // Incomplete: state written, no _metadata.
  ASSERT_THAT(storage.WriteStateFile(11, "op-counter-0", "partial"), IsOk());
  // Junk that must not be mistaken for checkpoints, some even holding a valid _metadata.
  for (const char* junk : {"chk-", "chk-abc", "chk-007", "chk--3", "foo", "chk-12.old"}) {
    fs::create_directory(root / junk);
    fs::copy_file(storage.CheckpointDir(1) / "_metadata", root / junk / "_metadata");
  }
  ASSERT_THAT(WriteFileAtomically(root / "chk-13", "a file, not a directory"), IsOk());
  // _metadata that is not valid, or names another checkpoint.
  fs::create_directory(root / "chk-14");
  ASSERT_THAT(WriteFileAtomically(root / "chk-14" / "_metadata", "{ not json"), IsOk());
  fs::create_directory(root / "chk-15");
  fs::copy_file(storage.CheckpointDir(2) / "_metadata", root / "chk-15" / "_metadata");

  EXPECT_EQ(storage.ListCompleted(), (std::vector<std::int64_t>{1, 2, 10}));
}

TEST_F(CheckpointStorageTest, LatestCompletedRefusesToSkipAnUnreadableNewestCheckpoint) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  ASSERT_THAT(storage.WriteStateFile(3, "op-counter-0", "partial"), IsOk());  // incomplete: skipped
  EXPECT_EQ(storage.LatestCompleted().value()->checkpoint_id, 1);

  fs::create_directory(storage.CheckpointDir(2));
  ASSERT_THAT(WriteFileAtomically(storage.CheckpointDir(2) / "_metadata", "{}"), IsOk());
  Result<std::optional<CheckpointMetadata>> latest = storage.LatestCompleted();
  ASSERT_THAT(latest, Not(IsOk()));
  EXPECT_THAT(latest, StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(latest.status().message(),
              HasSubstr((storage.CheckpointDir(2) / "_metadata").string()));
  EXPECT_THAT(latest.status().message(), HasSubstr("--fresh"));
}

TEST_F(CheckpointStorageTest, DiscardIncompleteRemovesOnlyIncompleteCheckpointsAndTempFiles) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  ASSERT_THAT(storage.WriteStateFile(2, "op-counter-0", "partial"), IsOk());
  fs::create_directory(storage.CheckpointDir(3));  // empty, also incomplete
  fs::create_directory(storage.CheckpointDir(4));
  ASSERT_THAT(WriteFileAtomically(storage.CheckpointDir(4) / "_metadata", "garbage"), IsOk());
  fs::create_directory(storage.instance_dir() / "keep-me");
  // A crash in the middle of an atomic write leaves its temp file behind.
  ASSERT_THAT(WriteFileAtomically(storage.CheckpointDir(1) / "_metadata.tmp-1-abc", "x"), IsOk());

  ASSERT_THAT(storage.DiscardIncomplete(), IsOk());
  EXPECT_EQ(FileNames(storage.instance_dir()),
            (std::vector<std::string>{"chk-1", "chk-4", "keep-me"}));
  EXPECT_EQ(FileNames(storage.CheckpointDir(1)),
            (std::vector<std::string>{"_metadata", "op-counter-0", "op-counter-1"}));
}

TEST_F(CheckpointStorageTest, DiscardIncompleteKeepsTheCommittedCheckpointEvenWithoutMetadata) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  WriteCheckpoint(storage, 2);
  ASSERT_THAT(storage.WriteStateFile(3, "op-counter-0", "partial"), IsOk());
  fs::remove(storage.CheckpointDir(2) / "_metadata");  // lost, not abandoned

  ASSERT_THAT(storage.DiscardIncomplete(/*keep=*/2), IsOk());
  EXPECT_EQ(FileNames(storage.instance_dir()), (std::vector<std::string>{"chk-1", "chk-2"}));
  EXPECT_EQ(FileNames(storage.CheckpointDir(2)),
            (std::vector<std::string>{"op-counter-0", "op-counter-1"}));
}

TEST_F(CheckpointStorageTest, HighestCheckpointIdCountsEveryDirectoryReadableOrNot) {
  CheckpointStorage storage = OpenStorage();
  EXPECT_EQ(storage.HighestCheckpointId(), 0);
  WriteCheckpoint(storage, 1);
  fs::create_directory(storage.CheckpointDir(3));
  ASSERT_THAT(WriteFileAtomically(storage.CheckpointDir(3) / "_metadata", "garbage"), IsOk());
  EXPECT_EQ(storage.HighestCheckpointId(), 3);
  ASSERT_THAT(storage.WriteStateFile(5, "op-counter-0", "partial"), IsOk());
  EXPECT_EQ(storage.HighestCheckpointId(), 5);
}

TEST_F(CheckpointStorageTest, InspectTellsUsableIncompleteCorruptAndDamagedApart) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  WriteCheckpoint(storage, 2);
  WriteCheckpoint(storage, 3);
  ASSERT_THAT(storage.MarkCommitted(3), IsOk());
  ASSERT_THAT(storage.WriteStateFile(4, "op-counter-0", "partial"), IsOk());
  ASSERT_THAT(WriteFileAtomically(storage.CheckpointDir(2) / "_metadata", "{not json"), IsOk());
  fs::remove(storage.CheckpointDir(1) / "op-counter-1");

  Result<std::vector<CheckpointDirInfo>> quick =
      CheckpointStorage::Inspect(storage.instance_dir(), false);
  ASSERT_THAT(quick, IsOk());
  ASSERT_EQ(quick->size(), 4u);
  EXPECT_EQ(CheckpointDirStateName((*quick)[0]), "COMPLETED");  // files not read
  EXPECT_EQ(CheckpointDirStateName((*quick)[1]), "CORRUPT");
  EXPECT_THAT((*quick)[1].problem.message(),
              HasSubstr((storage.CheckpointDir(2) / "_metadata").string()));
  EXPECT_FALSE((*quick)[1].metadata.has_value());
  EXPECT_EQ(CheckpointDirStateName((*quick)[2]), "COMMITTED");
  EXPECT_EQ(CheckpointDirStateName((*quick)[3]), "INCOMPLETE");
  EXPECT_EQ((*quick)[3].id, 4);
  EXPECT_EQ((*quick)[3].directory, storage.CheckpointDir(4));

  Result<std::vector<CheckpointDirInfo>> verified =
      CheckpointStorage::Inspect(storage.instance_dir(), true);
  ASSERT_THAT(verified, IsOk());
  EXPECT_EQ(CheckpointDirStateName((*verified)[0]), "DAMAGED");
  EXPECT_THAT((*verified)[0].problem.message(),
              HasSubstr((storage.CheckpointDir(1) / "op-counter-1").string()));
  EXPECT_THAT((*verified)[0].problem.message(), HasSubstr("No such file or directory"));
  EXPECT_EQ(CheckpointDirStateName((*verified)[2]), "COMMITTED");
}

TEST_F(CheckpointStorageTest, ReadStateFilesReturnsEveryFileOrTheFirstProblem) {
  CheckpointStorage storage = OpenStorage();
  CheckpointMetadata m = WriteCheckpoint(storage, 1);
  Result<std::map<std::string, std::string>> files =
      CheckpointStorage::ReadStateFiles(storage.CheckpointDir(1), m);
  ASSERT_THAT(files, IsOk());
  EXPECT_EQ(files->at("op-counter-1"), "state of 1/1");
  ASSERT_THAT(WriteFileAtomically(storage.CheckpointDir(1) / "op-counter-1", "state of 1/X"),
              IsOk());
  EXPECT_THAT(CheckpointStorage::ReadStateFiles(storage.CheckpointDir(1), m),
              StatusIs(StatusCode::kCorruption, HasSubstr("fails its checksum")));
}

// flock locks belong to an open file description, so a second storage of the same directory
// in this process meets the lock as another process would.
TEST_F(CheckpointStorageTest, ASecondLockOfTheSameDirectoryIsRefusedNamingTheHolder) {
  CheckpointStorage first = OpenStorage();
  ASSERT_THAT(first.LockExclusively(), IsOk());
  ASSERT_THAT(first.LockExclusively(), IsOk());  // idempotent
  CheckpointStorage second = OpenStorage();
  Status refused = second.LockExclusively();
  EXPECT_THAT(refused, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(IsRestartable(refused));
  EXPECT_THAT(refused.message(), HasSubstr(first.instance_dir().string()));
  EXPECT_THAT(refused.message(), HasSubstr("pid " + std::to_string(::getpid())));
  EXPECT_THAT(refused.message(), HasSubstr("--checkpoint-dir"));
  // Listing and inspecting take no lock, and the lock file is no checkpoint.
  EXPECT_EQ(CheckpointStorage::Inspect(first.instance_dir(), true)->size(), 0u);
  first.Unlock();
  EXPECT_THAT(second.LockExclusively(), IsOk());
}

TEST_F(CheckpointStorageTest, PruneKeepsExactlyTheNewestK) {
  CheckpointStorage storage = OpenStorage();
  for (std::int64_t id = 1; id <= 6; ++id) WriteCheckpoint(storage, id);
  ASSERT_THAT(storage.Prune(3), IsOk());
  EXPECT_EQ(storage.ListCompleted(), (std::vector<std::int64_t>{4, 5, 6}));
  EXPECT_EQ(FileNames(storage.instance_dir()),
            (std::vector<std::string>{"chk-4", "chk-5", "chk-6"}));
  ASSERT_THAT(storage.Prune(1), IsOk());
  EXPECT_EQ(storage.ListCompleted(), std::vector<std::int64_t>{6});
  ASSERT_THAT(storage.Prune(5), IsOk());  // fewer than K: nothing to do
  EXPECT_EQ(storage.ListCompleted(), std::vector<std::int64_t>{6});
  EXPECT_THAT(storage.Prune(0), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(CheckpointStorageTest, PruneNeverRemovesTheNewestCommittedCheckpoint) {
  CheckpointStorage storage = OpenStorage();
  for (std::int64_t id = 1; id <= 4; ++id) WriteCheckpoint(storage, id);
  ASSERT_THAT(storage.MarkCommitted(1), IsOk());
  ASSERT_THAT(storage.MarkCommitted(2), IsOk());
  // 3 and 4 are complete but (not yet) committed: 2 is all an exactly-once job may restore.
  ASSERT_THAT(storage.Prune(1), IsOk());
  EXPECT_EQ(storage.ListCompleted(), (std::vector<std::int64_t>{2, 4}));
  ASSERT_THAT(storage.MarkCommitted(4), IsOk());
  ASSERT_THAT(storage.Prune(1), IsOk());
  EXPECT_EQ(storage.ListCompleted(), std::vector<std::int64_t>{4});
}

TEST_F(CheckpointStorageTest, PruneRemovesAbortedCheckpointsButNotOneInProgress) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  ASSERT_THAT(storage.WriteStateFile(2, "op-counter-0", "aborted"), IsOk());
  WriteCheckpoint(storage, 3);
  ASSERT_THAT(storage.WriteStateFile(4, "op-counter-0", "being written"), IsOk());
  ASSERT_THAT(storage.Prune(2), IsOk());
  EXPECT_EQ(FileNames(storage.instance_dir()),
            (std::vector<std::string>{"chk-1", "chk-3", "chk-4"}));
}

TEST_F(CheckpointStorageTest, MarkCommittedRewritesOnlyTheStatus) {
  CheckpointStorage storage = OpenStorage();
  CheckpointMetadata written = WriteCheckpoint(storage, 7);
  ASSERT_THAT(storage.MarkCommitted(7), IsOk());
  ASSERT_THAT(storage.MarkCommitted(7), IsOk());  // idempotent
  CheckpointMetadata read = storage.ReadCheckpointMetadata(7).value();
  EXPECT_EQ(read.status, CheckpointMetadata::Status::kCommitted);
  written.status = CheckpointMetadata::Status::kCommitted;
  EXPECT_EQ(read, written);
  EXPECT_EQ(FileNames(storage.CheckpointDir(7)),
            (std::vector<std::string>{"_metadata", "op-counter-0", "op-counter-1"}));

  ASSERT_THAT(storage.WriteStateFile(8, "op-counter-0", "x"), IsOk());
  EXPECT_THAT(storage.MarkCommitted(8), StatusIs(StatusCode::kNotFound));  // incomplete
  EXPECT_THAT(storage.MarkCommitted(9), StatusIs(StatusCode::kNotFound));  // absent
}

TEST_F(CheckpointStorageTest, DiscardAndDiscardNewerThan) {
  CheckpointStorage storage = OpenStorage();
  for (std::int64_t id = 1; id <= 4; ++id) WriteCheckpoint(storage, id);
  ASSERT_THAT(storage.WriteStateFile(5, "op-counter-0", "x"), IsOk());
  ASSERT_THAT(storage.Discard(1), IsOk());
  ASSERT_THAT(storage.Discard(1), IsOk());  // already gone: fine
  EXPECT_FALSE(fs::exists(storage.CheckpointDir(1)));
  ASSERT_THAT(storage.DiscardNewerThan(2), IsOk());
  EXPECT_EQ(FileNames(storage.instance_dir()), std::vector<std::string>{"chk-2"});
  EXPECT_EQ(storage.LatestCompleted().value()->checkpoint_id, 2);
}

TEST_F(CheckpointStorageTest, ChecksumAndSizeMismatchesAreCorruptionNamingTheFile) {
  CheckpointStorage storage = OpenStorage();
  CheckpointMetadata m = WriteCheckpoint(storage, 1);
  const SubtaskStateMeta& subtask = m.operators[0].subtasks[0];
  fs::path file = storage.CheckpointDir(1) / subtask.file;
  std::string original = ReadFile(file).value();

  std::string flipped = original;
  flipped[2] ^= 0x01;  // same size, one bit different
  ASSERT_THAT(WriteFileAtomically(file, flipped), IsOk());
  Result<std::string> read = CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), subtask);
  ASSERT_THAT(read, Not(IsOk()));
  EXPECT_THAT(read, StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(read.status().message(), HasSubstr(file.string()));
  EXPECT_THAT(read.status().message(), HasSubstr("checksum"));

  ASSERT_THAT(WriteFileAtomically(file, original + "!"), IsOk());
  read = CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), subtask);
  EXPECT_THAT(read, StatusIs(StatusCode::kCorruption));
  EXPECT_THAT(read.status().message(), HasSubstr(file.string()));

  // Unchecked reads still work, and "" means no state.
  EXPECT_EQ(CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), subtask.file).value(),
            original + "!");
  EXPECT_EQ(CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), SubtaskStateMeta{}).value(),
            "");
  EXPECT_THAT(CheckpointStorage::ReadStateFile(storage.CheckpointDir(1), "../x"),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(CheckpointStorageTest, SavepointMovedElsewhereRestoresIdentically) {
  CheckpointStorage storage = OpenStorage();
  fs::path savepoints = tmp_.path() / "savepoints";
  Result<SnapshotLocation> location = storage.BeginSavepoint(savepoints, 42);
  ASSERT_THAT(location, IsOk());
  EXPECT_TRUE(location->is_savepoint());
  EXPECT_EQ(location->directory().parent_path(), savepoints);
  std::string dir_name = location->directory().filename().string();
  EXPECT_TRUE(IsPrefixThenHex(dir_name, "savepoint-" + storage.job_id() + "-42-", 6)) << dir_name;

  CheckpointMetadata m = MetadataFor(storage, 42);
  m.is_savepoint = true;
  m.properties["kafka.offsets"] = "words-0:17";
  OperatorStateMeta op{"src", "Source", 3, 128, {}};
  std::vector<std::string> contents = {"zero", std::string(70000, 'q'), ""};
  for (std::int32_t subtask = 0; subtask < 3; ++subtask) {
    const std::string& bytes = contents[static_cast<std::size_t>(subtask)];
    if (bytes.empty()) {
      op.subtasks.push_back(SubtaskStateMeta{subtask, "", 0, 0, std::nullopt, {}});
      continue;
    }
    op.subtasks.push_back(
        location->WriteSubtaskState(subtask, "op-src-" + std::to_string(subtask), bytes).value());
  }
  m.operators.push_back(op);
  ASSERT_THAT(storage.Complete(*location, m), IsOk());
  EXPECT_TRUE(storage.ListCompleted().empty());  // savepoints are not checkpoints of the job

  TempDir elsewhere;
  fs::path moved = elsewhere.path() / "renamed-savepoint";
  fs::rename(location->directory(), moved);

  for (const fs::path& given : {moved, moved / "_metadata"}) {
    Result<CheckpointMetadata> read = CheckpointStorage::ReadMetadataAt(given);
    ASSERT_THAT(read, IsOk());
    EXPECT_EQ(*read, m);
    for (std::size_t i = 0; i < read->operators[0].subtasks.size(); ++i) {
      Result<std::string> bytes =
          CheckpointStorage::ReadStateFile(given, read->operators[0].subtasks[i]);
      ASSERT_THAT(bytes, IsOk());
      EXPECT_EQ(*bytes, contents[i]);
    }
  }
}

TEST_F(CheckpointStorageTest, WriteSavepointInOneCallAndMarkItCommitted) {
  CheckpointStorage storage = OpenStorage();
  CheckpointMetadata m = MetadataFor(storage, 5);
  m.is_savepoint = true;
  std::string bytes = "offsets";
  m.operators.push_back(OperatorStateMeta{
      "src",
      "Source",
      1,
      128,
      {SubtaskStateMeta{0, "op-src-0", bytes.size(), Crc32c(bytes), std::nullopt, {}}}});
  Result<fs::path> dir = storage.WriteSavepoint(tmp_.path() / "sp", {{"op-src-0", bytes}}, m);
  ASSERT_THAT(dir, IsOk());
  EXPECT_EQ(CheckpointStorage::ReadMetadataAt(*dir).value(), m);
  ASSERT_THAT(storage.MarkCommitted(SnapshotLocation(*dir, 5, true)), IsOk());
  EXPECT_EQ(CheckpointStorage::ReadMetadataAt(*dir)->status,
            CheckpointMetadata::Status::kCommitted);

  // A savepoint whose metadata names a file it does not have is not left half-written.
  CheckpointMetadata broken = m;
  broken.operators[0].subtasks[0].file = "op-src-missing";
  Result<fs::path> failed =
      storage.WriteSavepoint(tmp_.path() / "sp", {{"op-src-0", bytes}}, broken);
  EXPECT_THAT(failed, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(FileNames(tmp_.path() / "sp").size(), 1u);
}

// The path may come from --from-savepoint, --from-checkpoint or a commit record: the caller
// names which, so the storage never names a flag that was not given.
TEST_F(CheckpointStorageTest, ReadMetadataAtAMissingPathNamesItAndNoFlag) {
  fs::path missing = tmp_.path() / "no-such-savepoint";
  Result<CheckpointMetadata> read = CheckpointStorage::ReadMetadataAt(missing);
  ASSERT_THAT(read, Not(IsOk()));
  EXPECT_THAT(read, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(read.status().message(), HasSubstr(missing.string()));
  EXPECT_THAT(read.status().message(), Not(HasSubstr("--from-")));

  fs::create_directory(missing);  // exists, but incomplete
  read = CheckpointStorage::ReadMetadataAt(missing);
  EXPECT_THAT(read, StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(read.status().message(), HasSubstr("no _metadata"));
}

TEST_F(CheckpointStorageTest, ReadMetadataAtNamesTheFileOfAFutureFormat) {
  fs::path dir = tmp_.path() / "future";
  fs::create_directory(dir);
  ASSERT_THAT(WriteFileAtomically(dir / "_metadata", R"({"format_version": 2})"), IsOk());
  Result<CheckpointMetadata> read = CheckpointStorage::ReadMetadataAt(dir);
  EXPECT_THAT(read, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(read.status().message(), StartsWith((dir / "_metadata").string() + ": "));
  EXPECT_THAT(read.status().message(), HasSubstr("format_version 2"));
}

TEST_F(CheckpointStorageTest, InstancesAndJobsDoNotSeeEachOthersCheckpoints) {
  CheckpointStorage storage = OpenStorage();
  WriteCheckpoint(storage, 1);
  CheckpointStorage other_instance =
      CheckpointStorage::Open(tmp_.path() / "checkpoints", kJob, 1).value();
  CheckpointStorage other_job =
      CheckpointStorage::Open(tmp_.path() / "checkpoints", "word_count", 0).value();
  EXPECT_TRUE(other_instance.ListCompleted().empty());
  EXPECT_TRUE(other_job.ListCompleted().empty());
  EXPECT_EQ(other_instance.instance_dir().filename(), "instance-1");
}

}  // namespace
}  // namespace sluice::internal
