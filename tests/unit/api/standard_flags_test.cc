#include "api/standard_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <sluice/testing/status_matchers.h>

using ::testing::HasSubstr;

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::Not;
using ::testing::StartsWith;

namespace sluice::internal {
namespace {

using std::chrono::milliseconds;
using Map = std::map<std::string, std::string>;

Result<StandardFlags> Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"wordcount"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ParseStandardFlags(static_cast<int>(argv.size()), argv.data());
}

Status ParseError(std::initializer_list<const char*> args) {
  Result<StandardFlags> parsed = Parse(args);
  EXPECT_THAT(parsed, Not(IsOk()));
  return parsed.status();
}

TEST(StandardFlagsTest, NothingGivenLeavesEverythingUnset) {
  Result<StandardFlags> flags = Parse({});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->parallelism, std::nullopt);
  EXPECT_EQ(flags->checkpoint_interval, std::nullopt);
  EXPECT_EQ(flags->checkpoint_dir, std::nullopt);
  EXPECT_EQ(flags->savepoint_timeout, std::nullopt);
  EXPECT_EQ(flags->checkpoint_timeout, std::nullopt);
  EXPECT_FALSE(flags->fresh);
  EXPECT_EQ(flags->from_savepoint, std::nullopt);
  EXPECT_FALSE(flags->allow_non_restored_state);
  EXPECT_EQ(flags->restart_attempts, std::nullopt);
  EXPECT_EQ(flags->log_level, std::nullopt);
  EXPECT_EQ(flags->state_backend, std::nullopt);
  EXPECT_FALSE(flags->help);
  EXPECT_TRUE(flags->job_parameters.ToMap().empty());
}

TEST(StandardFlagsTest, ParsesEveryStandardFlagAndPassesTheRestToTheJob) {
  Result<StandardFlags> flags =
      Parse({"--parallelism=8", "--checkpoint-interval", "1.5s", "--checkpoint-dir=/tmp/ckpt",
             "--from-savepoint", "/tmp/sp-1", "--allow-non-restored-state", "--restart-attempts=3",
             "--log-level=WARN", "--state.backend", "heap", "--input=words.txt", "--window", "5s",
             "--verbose"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->parallelism, 8);
  EXPECT_EQ(flags->checkpoint_interval, milliseconds(1'500));
  EXPECT_EQ(flags->checkpoint_dir, "/tmp/ckpt");
  EXPECT_FALSE(flags->fresh);
  EXPECT_EQ(flags->from_savepoint, "/tmp/sp-1");
  EXPECT_TRUE(flags->allow_non_restored_state);
  EXPECT_EQ(flags->restart_attempts, 3);
  EXPECT_EQ(flags->log_level, "warn");
  EXPECT_EQ(flags->state_backend, "heap");
  EXPECT_FALSE(flags->help);
  EXPECT_EQ(flags->job_parameters.ToMap(),
            (Map{{"input", "words.txt"}, {"window", "5s"}, {"verbose", "true"}}));
  EXPECT_EQ(flags->job_parameters.UnrequestedKeys(),
            (std::vector<std::string>{"input", "verbose", "window"}));
}

TEST(StandardFlagsTest, ShortParallelismAndBooleanValues) {
  Result<StandardFlags> flags = Parse({"-p", "4", "--fresh", "--allow-non-restored-state=no"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->parallelism, 4);
  EXPECT_TRUE(flags->fresh);
  EXPECT_FALSE(flags->allow_non_restored_state);

  flags = Parse({"--fresh=false", "--from-savepoint=/sp"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_FALSE(flags->fresh);
  EXPECT_EQ(flags->from_savepoint, "/sp");
}

TEST(StandardFlagsTest, ParallelismBounds) {
  EXPECT_EQ(Parse({"--parallelism=1"})->parallelism, 1);
  EXPECT_EQ(Parse({"--parallelism=32768"})->parallelism, 32768);
  EXPECT_EQ(ParseError({"--parallelism=0"}),
            Status::InvalidArgument("flag --parallelism: 0 is out of range (1..32768)"));
  EXPECT_EQ(ParseError({"--parallelism=32769"}),
            Status::InvalidArgument("flag --parallelism: 32769 is out of range (1..32768)"));
  EXPECT_EQ(ParseError({"-p", "-3"}),
            Status::InvalidArgument("flag -p: -3 is out of range (1..32768)"));
  EXPECT_EQ(ParseError({"--parallelism=four"}),
            Status::InvalidArgument("flag --parallelism: 'four' is not a 32-bit integer"));
  EXPECT_EQ(ParseError({"-p", "2", "--parallelism=2"}),
            Status::InvalidArgument("-p and --parallelism are the same flag; give it once"));
}

TEST(StandardFlagsTest, CheckpointIntervalMinimumAndOff) {
  EXPECT_EQ(Parse({"--checkpoint-interval=10ms"})->checkpoint_interval, milliseconds(10));
  EXPECT_EQ(Parse({"--checkpoint-interval=30s"})->checkpoint_interval, milliseconds(30'000));
  EXPECT_EQ(Parse({"--checkpoint-interval=250"})->checkpoint_interval, milliseconds(250));
  EXPECT_EQ(Parse({"--checkpoint-interval=0"})->checkpoint_interval, milliseconds(0));
  EXPECT_EQ(Parse({"--checkpoint-interval=0s"})->checkpoint_interval, milliseconds(0));
  EXPECT_EQ(Parse({"--checkpoint-interval=off"})->checkpoint_interval, milliseconds(0));
  EXPECT_EQ(Parse({"--checkpoint-interval=OFF"})->checkpoint_interval, milliseconds(0));
  EXPECT_EQ(ParseError({"--checkpoint-interval=9ms"}),
            Status::InvalidArgument("flag --checkpoint-interval: 9ms is below the minimum of "
                                    "10ms (use 0 or off to disable checkpointing)"));
  Status status = ParseError({"--checkpoint-interval", "soon"});
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(status.message(), StartsWith("flag --checkpoint-interval: 'soon' is not a duration"));
}

TEST(StandardFlagsTest, SavepointTimeoutIsAPositiveDuration) {
  Result<StandardFlags> flags = Parse({"--savepoint-timeout=90s"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->savepoint_timeout, milliseconds(90'000));
  EXPECT_THAT(
      ParseError({"--savepoint-timeout=0"}),
      StatusIs(StatusCode::kInvalidArgument,
               "flag --savepoint-timeout: 0ms is not a timeout (it must be greater than 0)"));
  EXPECT_THAT(ParseError({"--savepoint-timeout=soon"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("savepoint-timeout")));
}

TEST(StandardFlagsTest, CheckpointTimeoutIsAPositiveDuration) {
  Result<StandardFlags> flags = Parse({"--checkpoint-timeout", "20s"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->checkpoint_timeout, milliseconds(20'000));
  EXPECT_THAT(
      ParseError({"--checkpoint-timeout=0s"}),
      StatusIs(StatusCode::kInvalidArgument,
               "flag --checkpoint-timeout: 0ms is not a timeout (it must be greater than 0)"));
}

TEST(StandardFlagsTest, PathsMustNotBeEmpty) {
  EXPECT_EQ(ParseError({"--checkpoint-dir="}),
            Status::InvalidArgument("flag --checkpoint-dir: expected a path, got an empty value"));
  EXPECT_EQ(ParseError({"--from-savepoint="}),
            Status::InvalidArgument("flag --from-savepoint: expected a path, got an empty value"));
}

TEST(StandardFlagsTest, FreshWithFromSavepointNamesBoth) {
  Status status = ParseError({"--fresh", "--from-savepoint=/sp"});
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(),
            "--fresh and --from-savepoint cannot be used together: --fresh starts with empty "
            "state, --from-savepoint restores state from a savepoint; give one of them");
}

TEST(StandardFlagsTest, FromCheckpointIsAPathAndExcludesTheOtherStarts) {
  Result<StandardFlags> flags = Parse({"--from-checkpoint=/chk/job/instance-0/chk-5"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->from_checkpoint, "/chk/job/instance-0/chk-5");
  EXPECT_EQ(flags->from_savepoint, std::nullopt);
  EXPECT_EQ(ParseError({"--from-checkpoint="}),
            Status::InvalidArgument("flag --from-checkpoint: expected a path, got an empty value"));
  EXPECT_THAT(ParseError({"--fresh", "--from-checkpoint=/c"}),
              StatusIs(StatusCode::kInvalidArgument,
                       StartsWith("--fresh and --from-checkpoint cannot be used together")));
  EXPECT_THAT(
      ParseError({"--from-savepoint=/s", "--from-checkpoint=/c"}),
      StatusIs(StatusCode::kInvalidArgument,
               StartsWith("--from-savepoint and --from-checkpoint cannot be used together")));
}

TEST(StandardFlagsTest, RestartAttempts) {
  EXPECT_EQ(Parse({"--restart-attempts=0"})->restart_attempts, 0);
  EXPECT_EQ(Parse({"--restart-attempts", "10"})->restart_attempts, 10);
  EXPECT_EQ(ParseError({"--restart-attempts=-1"}),
            Status::InvalidArgument("flag --restart-attempts: -1 is out of range (0 or more)"));
  EXPECT_EQ(ParseError({"--restart-attempts=many"}),
            Status::InvalidArgument("flag --restart-attempts: 'many' is not a 32-bit integer"));
}

TEST(StandardFlagsTest, LogLevels) {
  for (const char* level : {"trace", "debug", "info", "warn", "error", "off"}) {
    const std::string arg = std::string("--log-level=") + level;
    Result<StandardFlags> flags = Parse({arg.c_str()});
    ASSERT_THAT(flags, IsOk()) << level;
    EXPECT_EQ(flags->log_level, level);
  }
  EXPECT_EQ(Parse({"--log-level=Debug"})->log_level, "debug");
  EXPECT_EQ(ParseError({"--log-level=verbose"}),
            Status::InvalidArgument("flag --log-level: 'verbose' is not a log level (expected "
                                    "trace, debug, info, warn, error or off)"));
}

TEST(StandardFlagsTest, StateBackendIsARegisteredNameInAnyCase) {
  EXPECT_EQ(Parse({"--state.backend=Heap"})->state_backend, "heap");
  for (const char* bad : {"--state.backend=rocksdb", "--state.backend="}) {
    Status status = ParseError({bad});
    EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(status.message(), HasSubstr("--state.backend"));
    EXPECT_THAT(status.message(), HasSubstr("state backends are: heap"));
  }
  EXPECT_THAT(ParseError({"--state.backend=rocksdb"}).message(), HasSubstr("'rocksdb'"));
}

TEST(StandardFlagsTest, MalformedBooleanNamesTheFlag) {
  EXPECT_EQ(ParseError({"--fresh=maybe"}),
            Status::InvalidArgument(
                "flag --fresh: 'maybe' is not a boolean (expected true/false, yes/no or 1/0)"));
  EXPECT_EQ(ParseError({"--allow-non-restored-state=2"}).message(),
            "flag --allow-non-restored-state: '2' is not a boolean (expected true/false, "
            "yes/no or 1/0)");
}

TEST(StandardFlagsTest, SyntaxErrorsFromFromArgsPassThrough) {
  EXPECT_EQ(ParseError({"--parallelism=2", "extra"})
                .message()
                .rfind("unexpected positional argument 'extra'", 0),
            0u);
  EXPECT_EQ(ParseError({"--input=a", "--input=b"}).message(),
            "flag --input is given twice: '--input=a' and '--input=b'");
}

TEST(StandardFlagsTest, HelpSkipsValidationOfTheOtherFlags) {
  for (const char* help : {"--help", "-h", "--help=true"}) {
    Result<StandardFlags> flags = Parse({"--parallelism=0", help, "--job-key=1"});
    ASSERT_THAT(flags, IsOk()) << help;
    EXPECT_TRUE(flags->help);
    EXPECT_EQ(flags->parallelism, std::nullopt);
    EXPECT_EQ(flags->job_parameters.ToMap(), (Map{{"job-key", "1"}}));
  }
  Result<StandardFlags> flags = Parse({"--help=false", "--parallelism=2"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_FALSE(flags->help);
  EXPECT_EQ(flags->parallelism, 2);
  EXPECT_EQ(ParseError({"--help=please"}).message(),
            "flag --help: 'please' is not a boolean (expected true/false, yes/no or 1/0)");
}

TEST(StandardFlagsTest, MistypedStandardFlagGetsASuggestion) {
  Result<StandardFlags> flags = Parse({"--paralelism=4"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->parallelism, std::nullopt);
  EXPECT_EQ(flags->job_parameters.ToMap(), (Map{{"paralelism", "4"}}));
  Status status = flags->job_parameters.CheckAllRequested(kStandardFlagNames);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "unknown flag --paralelism (did you mean --parallelism?)");

  flags = Parse({"--checkpoint_interval=5s"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->job_parameters.CheckAllRequested(kStandardFlagNames).message(),
            "unknown flag --checkpoint_interval (did you mean --checkpoint-interval?)");
}

TEST(StandardFlagsTest, MistypedJobParameterGetsASuggestion) {
  Result<StandardFlags> flags = Parse({"--parallelism=2", "--inptu=words.txt"});
  ASSERT_THAT(flags, IsOk());
  const ParameterTool& params = flags->job_parameters;
  EXPECT_EQ(params.Get("input", "stdin"), "stdin");
  EXPECT_EQ(params.CheckAllRequested(kStandardFlagNames).message(),
            "unknown flag --inptu (did you mean --input?)");
}

TEST(StandardFlagsTest, JobThatReadsEveryParameterPassesTheCheck) {
  Result<StandardFlags> flags = Parse({"-p", "2", "--input=a.txt", "--log-level=info"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(*flags->job_parameters.GetRequired("input"), "a.txt");
  EXPECT_THAT(flags->job_parameters.CheckAllRequested(kStandardFlagNames), IsOk());
}

TEST(StandardFlagsTest, HelpTextMentionsEveryFlag) {
  const std::string help = StandardFlagsHelp("wordcount");
  EXPECT_EQ(help.rfind("Usage: wordcount [standard flags] [--key=value ...]\n", 0), 0u) << help;
  for (std::string_view name : kStandardFlagNames) {
    EXPECT_NE(help.find("--" + std::string(name)), std::string::npos) << name;
  }
  EXPECT_NE(help.find("-p, --parallelism=N"), std::string::npos);
  EXPECT_NE(help.find("-h, --help"), std::string::npos);
  EXPECT_NE(help.find("Any other --key=value"), std::string::npos);
  EXPECT_NE(help.find("passed to the job as\na parameter"), std::string::npos);
  EXPECT_EQ(help.back(), '\n');
  // One line per standard flag, each with a description after the flag column.
  std::size_t flag_lines = 0;
  std::size_t pos = 0;
  while ((pos = help.find("\n  -", pos)) != std::string::npos) {
    ++flag_lines;
    const std::size_t end = help.find('\n', pos + 1);
    const std::string line = help.substr(pos + 1, end - pos - 1);
    EXPECT_NE(line.find("  ", 2), std::string::npos) << line;  // gap before the description
    pos = end;
  }
  EXPECT_EQ(flag_lines, kStandardFlagNames.size());
}

// Flink's Kerberos login flags: both or neither, and a keytab this user can read. The errors
// name the flag and the fix but not the path (where a secret lives is not for logs).
TEST(StandardFlagsTest, KerberosLoginNeedsAReadableKeytabAndItsPrincipal) {
  const std::filesystem::path keytab =
      std::filesystem::temp_directory_path() / ("standard-flags-" + std::to_string(getpid()));
  {
    std::ofstream(keytab) << "not really a keytab";
  }
  const std::string keytab_flag = "--security.kerberos.login.keytab=" + keytab.string();

  Result<StandardFlags> flags =
      Parse({keytab_flag.c_str(), "--security.kerberos.login.principal=alice@SLUICE.TEST"});
  ASSERT_THAT(flags, IsOk());
  EXPECT_EQ(flags->kerberos_keytab, keytab.string());
  EXPECT_EQ(flags->kerberos_principal, "alice@SLUICE.TEST");
  EXPECT_TRUE(flags->job_parameters.ToMap().empty()) << "standard flags, not job parameters";

  EXPECT_THAT(
      ParseError({keytab_flag.c_str()}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("--security.kerberos.login.keytab needs "
                                                       "--security.kerberos.login.principal")));
  EXPECT_THAT(
      ParseError({"--security.kerberos.login.principal=alice"}),
      StatusIs(StatusCode::kInvalidArgument, HasSubstr("--security.kerberos.login.principal needs "
                                                       "--security.kerberos.login.keytab")));
  Status missing = ParseError({"--security.kerberos.login.keytab=/nonexistent/secret.keytab",
                               "--security.kerberos.login.principal=alice"});
  EXPECT_THAT(missing,
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("the keytab file does not exist")));
  EXPECT_THAT(missing.message(), HasSubstr("cannot read it: No such file or directory"));
  EXPECT_THAT(missing.message(), Not(HasSubstr("secret.keytab")));
  std::filesystem::remove(keytab);
}

TEST(StandardFlagsTest, HelpListsTheKerberosLoginFlags) {
  std::string help = StandardFlagsHelp("job");
  EXPECT_THAT(help, HasSubstr("--security.kerberos.login.keytab=PATH"));
  EXPECT_THAT(help, HasSubstr("--security.kerberos.login.principal=NAME"));
}

}  // namespace
}  // namespace sluice::internal
