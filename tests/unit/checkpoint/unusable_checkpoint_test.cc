#include "checkpoint/unusable_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <sluice/testing/status_matchers.h>

#include "checkpoint/atomic_file.h"
#include "checkpoint_test_util.h"

namespace sluice::internal {
namespace {

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

TEST(UnusableCheckpointTest, NamesTheCheckpointWhatIsWrongAndEveryWayOut) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "chk-7";
  fs::create_directory(dir);
  UnusableCheckpoint checkpoint;
  checkpoint.id = 7;
  checkpoint.directory = dir;
  checkpoint.problem = Status::NotFound("whatever the reader said");
  checkpoint.older = tmp.path() / "chk-5";
  Status status = UnusableCheckpointError(checkpoint);
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(IsRestartable(status));
  EXPECT_EQ(status.message(),
            "checkpoint 7 (" + dir.string() +
                ") cannot be restored: " + (dir / "_metadata").string() +
                " does not exist. It is the newest checkpoint of the job. sluice leaves it as it "
                "is and does not restart the job (the same files would fail the same way). Ways "
                "out: put the directory back as it was (from a backup) and start the job again; "
                "or start from the older checkpoint --from-checkpoint=" +
                (tmp.path() / "chk-5").string() + "; or start with empty state: --fresh");
}

TEST(UnusableCheckpointTest, ACommittedOneWarnsOfRepeatedOutputAndOffersTheChangelog) {
  testing::TempDir tmp;
  UnusableCheckpoint checkpoint;
  checkpoint.id = 3;
  checkpoint.directory = tmp.path() / "gone" / "chk-3";
  checkpoint.problem = Status::NotFound("no such directory");
  checkpoint.committed_by = "the EXACTLY_ONCE Kafka sink (bootstrap.servers=b:1)";
  checkpoint.changelog_holds_it = true;
  checkpoint.changelog_possible = true;
  const std::string message = UnusableCheckpointError(checkpoint).message();
  EXPECT_THAT(message,
              HasSubstr("the directory " + checkpoint.directory.string() + " does not exist"));
  EXPECT_THAT(message, HasSubstr("It is the last checkpoint the EXACTLY_ONCE Kafka sink "
                                 "(bootstrap.servers=b:1) committed."));
  EXPECT_THAT(message, HasSubstr("restore its state from the state changelog in Kafka, which "
                                 "holds it: start without --state.changelog=off"));
  EXPECT_THAT(message,
              HasSubstr("--from-checkpoint=PATH or --from-savepoint=PATH (none is left in " +
                        checkpoint.directory.parent_path().string()));
  EXPECT_THAT(message, HasSubstr("--fresh"));
  EXPECT_THAT(message, HasSubstr("the output committed since is written again"));
  // The changelog already holds it: no advice to turn it on for the future.
  EXPECT_THAT(message, Not(HasSubstr("--state.changelog=kafka")));
}

TEST(UnusableCheckpointTest, CorruptBytesKeepTheirCodeAndTheReadersMessage) {
  testing::TempDir tmp;
  const fs::path dir = tmp.path() / "chk-2";
  fs::create_directory(dir);
  ASSERT_TRUE(WriteFileAtomically(dir / "_metadata", "{").ok());
  UnusableCheckpoint checkpoint;
  checkpoint.id = 2;
  checkpoint.directory = dir;
  checkpoint.problem = Status::Corruption((dir / "_metadata").string() + ": not JSON");
  checkpoint.changelog_possible = true;
  Status status = UnusableCheckpointError(checkpoint);
  EXPECT_THAT(status, StatusIs(StatusCode::kCorruption,
                               HasSubstr("cannot be restored: " + (dir / "_metadata").string() +
                                         ": not JSON.")));
  EXPECT_THAT(status.message(), HasSubstr("--state.changelog=kafka"));
}

}  // namespace
}  // namespace sluice::internal
