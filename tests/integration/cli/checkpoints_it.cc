// `sluice checkpoints` run as a child process on checkpoint directories written with the
// checkpoint storage: it lists corrupt, damaged and incomplete checkpoints as such, exits 1
// when the checkpoint a restarted job would restore cannot be used, and writes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "checkpoint/atomic_file.h"
#include "checkpoint/checkpoint_storage.h"
#include "cli/run_sluice.h"
#include "kafka_test_env.h"

namespace sluice::testing {
namespace {

namespace fs = std::filesystem;
using internal::CheckpointMetadata;
using internal::CheckpointStorage;
using ::testing::HasSubstr;
using ::testing::Not;

class CheckpointsCommandIT : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / UniqueName("cli-checkpoints");
    Result<CheckpointStorage> storage = CheckpointStorage::Open(dir_, "cli job", 0);
    ASSERT_TRUE(storage.ok()) << storage.status().ToString();
    storage_.emplace(std::move(storage).value());
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void WriteCheckpoint(int64_t id, bool committed = false) {
    Result<internal::SnapshotLocation> location = storage_->BeginCheckpoint(id);
    ASSERT_TRUE(location.ok());
    CheckpointMetadata metadata;
    metadata.checkpoint_id = id;
    metadata.job_name = "cli job";
    metadata.completion_time_ms = 1'700'000'000'000;
    internal::OperatorStateMeta op{"count", "Count", 1, 128, {}};
    Result<internal::SubtaskStateMeta> meta =
        location->WriteSubtaskState(0, "count-0.state", "state of " + std::to_string(id));
    ASSERT_TRUE(meta.ok());
    op.subtasks.push_back(*meta);
    metadata.operators.push_back(op);
    ASSERT_TRUE(storage_->Complete(*location, metadata).ok());
    if (committed) {
      ASSERT_TRUE(storage_->MarkCommitted(id).ok());
    }
  }
  fs::path Chk(int64_t id) const { return storage_->CheckpointDir(id); }

  fs::path dir_;
  std::optional<CheckpointStorage> storage_;
};

TEST_F(CheckpointsCommandIT, HealthyCheckpointsExit0AndMarkTheNewest) {
  WriteCheckpoint(1);
  WriteCheckpoint(2);
  CommandResult result = RunSluice({"checkpoints", "--dir", dir_.string()});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_THAT(result.out, HasSubstr("job 'cli job' instance 0"));
  EXPECT_THAT(result.out, HasSubstr("* chk-2      COMPLETED"));
  EXPECT_THAT(result.out, HasSubstr("  chk-1      COMPLETED"));
}

// The case: before, a directory whose only checkpoint had corrupt metadata printed
// "no checkpoints" and exited 0.
TEST_F(CheckpointsCommandIT, ACorruptNewestMetadataIsListedAndExits1WithTheWaysOut) {
  WriteCheckpoint(1);
  WriteCheckpoint(2);
  ASSERT_TRUE(internal::WriteFileAtomically(Chk(2) / "_metadata", "garbage").ok());
  CommandResult result = RunSluice({"checkpoints", "--dir", dir_.string()});
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.out, HasSubstr("* chk-2      CORRUPT    " + (Chk(2) / "_metadata").string()));
  EXPECT_THAT(result.err, HasSubstr("checkpoint 2 (" + Chk(2).string() + ") cannot be restored"));
  EXPECT_THAT(result.err, HasSubstr("--from-checkpoint=" + Chk(1).string()));
  EXPECT_THAT(result.err, HasSubstr("--fresh"));
}

TEST_F(CheckpointsCommandIT, ADirectoryWhoseOnlyMetadataIsCorruptIsStillListed) {
  WriteCheckpoint(1);
  ASSERT_TRUE(internal::WriteFileAtomically(Chk(1) / "_metadata", "{").ok());
  CommandResult result = RunSluice({"checkpoints", "--dir", dir_.string()});
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.out, Not(HasSubstr("no checkpoints")));
  EXPECT_THAT(result.out, HasSubstr("job id " + storage_->job_id()));
  EXPECT_THAT(result.out, HasSubstr("chk-1      CORRUPT"));
}

TEST_F(CheckpointsCommandIT, AMissingStateFileIsDamagedUnlessQuick) {
  WriteCheckpoint(1);
  fs::remove(Chk(1) / "count-0.state");
  CommandResult result = RunSluice({"checkpoints", "--dir", dir_.string()});
  EXPECT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_THAT(result.out,
              HasSubstr("* chk-1      DAMAGED    cannot open " +
                        (Chk(1) / "count-0.state").string() + ": No such file or directory"));
  CommandResult quick = RunSluice({"checkpoints", "--dir", dir_.string(), "--quick"});
  EXPECT_EQ(quick.exit_code, 0) << Describe(quick);
}

TEST_F(CheckpointsCommandIT, IncompleteOnesAreListedAndAreNoError) {
  WriteCheckpoint(1, /*committed=*/true);
  ASSERT_TRUE(storage_->WriteStateFile(2, "count-0.state", "partial").ok());
  CommandResult result = RunSluice({"checkpoints", "--dir", dir_.string()});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_THAT(result.out, HasSubstr("* chk-1      COMMITTED"));
  EXPECT_THAT(result.out, HasSubstr("  chk-2      INCOMPLETE no _metadata"));
  // An exactly-once job's committed checkpoint may be the one that lost its _metadata.
  EXPECT_THAT(result.out, HasSubstr("its _metadata was lost"));
}

TEST_F(CheckpointsCommandIT, ListingWritesNothing) {
  WriteCheckpoint(1);
  ASSERT_TRUE(storage_->WriteStateFile(2, "count-0.state", "partial").ok());
  auto snapshot = [&] {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(dir_))
      names.push_back(entry.path().string());
    std::sort(names.begin(), names.end());
    return names;
  };
  const std::vector<std::string> before = snapshot();
  CommandResult result = RunSluice({"checkpoints", "--dir", dir_.string()});
  EXPECT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_EQ(snapshot(), before);
}

}  // namespace
}  // namespace sluice::testing
