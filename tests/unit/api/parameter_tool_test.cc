#include <sluice/api/parameter_tool.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::IsOk;
using ::sluice::testing::StatusIs;
using ::testing::Not;
using ::testing::StartsWith;

namespace sluice {
namespace {

using std::chrono::milliseconds;
using Map = std::map<std::string, std::string>;

// argv as main sees it: "job" first, then `args`.
Result<ParameterTool> Parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv = {"job"};
  argv.insert(argv.end(), args.begin(), args.end());
  return ParameterTool::FromArgs(static_cast<int>(argv.size()), argv.data());
}

Status ParseError(std::initializer_list<const char*> args) {
  Result<ParameterTool> parsed = Parse(args);
  EXPECT_THAT(parsed, Not(IsOk()));
  return parsed.status();
}

TEST(ParameterToolFromArgsTest, AcceptsEveryForm) {
  Result<ParameterTool> parsed = Parse({"--input=words.txt", "--output", "out.txt", "-k", "3",
                                        "--verbose", "-v", "--empty=", "--expr=a=b", "-x=7",
                                        "--offset", "-5", "--lat", "-.5", "--file", "-", "--last"});
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->ToMap(), (Map{{"input", "words.txt"},
                                  {"output", "out.txt"},
                                  {"k", "3"},
                                  {"verbose", "true"},
                                  {"v", "true"},
                                  {"empty", ""},
                                  {"expr", "a=b"},
                                  {"x", "7"},
                                  {"offset", "-5"},
                                  {"lat", "-.5"},
                                  {"file", "-"},
                                  {"last", "true"}}));
}

TEST(ParameterToolFromArgsTest, BareFlagFollowedByAFlagIsTrue) {
  Result<ParameterTool> parsed = Parse({"--dry-run", "--name", "x", "-q", "--z"});
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->ToMap(),
            (Map{{"dry-run", "true"}, {"name", "x"}, {"q", "true"}, {"z", "true"}}));
}

TEST(ParameterToolFromArgsTest, NoArgumentsGiveAnEmptyTool) {
  Result<ParameterTool> parsed = Parse({});
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->ToMap().empty());
  const char* only_program[] = {"job"};
  EXPECT_THAT(ParameterTool::FromArgs(1, only_program), IsOk());
  EXPECT_THAT(ParameterTool::FromArgs(0, nullptr), IsOk());
}

TEST(ParameterToolFromArgsTest, RejectsAPositionalArgumentNamingIt) {
  Status status = ParseError({"--a=1", "stray"});
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(),
            "unexpected positional argument 'stray': parameters are given as --key=value, "
            "--key value or --flag");
  // A value is taken only once; the next plain word is positional.
  EXPECT_THAT(ParseError({"--a", "1", "2"}).message(),
              StartsWith("unexpected positional argument '2'"));
  EXPECT_THAT(ParseError({"-5"}).message(), StartsWith("unexpected positional argument '-5'"));
  EXPECT_THAT(ParseError({"first"}).message(),
              StartsWith("unexpected positional argument 'first'"));
}

TEST(ParameterToolFromArgsTest, RejectsAnEmptyNameNamingTheArgument) {
  EXPECT_EQ(ParseError({"--=x"}).message(),
            "empty flag name in argument '--=x': parameters are given as --key=value");
  EXPECT_EQ(ParseError({"--"}).message(),
            "empty flag name in argument '--': parameters are given as --key=value");
  EXPECT_EQ(ParseError({"-"}).message(),
            "empty flag name in argument '-': parameters are given as --key=value");
  EXPECT_THAT(ParseError({"-=1"}), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParameterToolFromArgsTest, RejectsThreeDashes) {
  EXPECT_EQ(ParseError({"---x=1"}).message(),
            "malformed flag '---x=1': a flag starts with one or two dashes");
}

TEST(ParameterToolFromArgsTest, RejectsARepeatedKeyNamingBothArguments) {
  Status status = ParseError({"--parallelism=2", "--parallelism", "4"});
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(),
            "flag --parallelism is given twice: '--parallelism=2' and '--parallelism 4'");
  EXPECT_EQ(ParseError({"-k", "1", "--k=2"}).message(),
            "flag -k is given twice: '-k 1' and '--k=2'");
  EXPECT_EQ(ParseError({"--flag", "--flag"}).message(),
            "flag --flag is given twice: '--flag' and '--flag'");
}

TEST(ParameterToolTest, GetAndHas) {
  ParameterTool params = ParameterTool::FromMap({{"name", "wc"}, {"empty", ""}});
  EXPECT_TRUE(params.Has("name"));
  EXPECT_FALSE(params.Has("missing"));
  EXPECT_EQ(params.Get("name"), std::optional<std::string>("wc"));
  EXPECT_EQ(params.Get("empty"), std::optional<std::string>(""));
  EXPECT_EQ(params.Get("missing"), std::nullopt);
  EXPECT_EQ(params.Get("name", "other"), "wc");
  EXPECT_EQ(params.Get("empty", "other"), "");
  EXPECT_EQ(params.Get("missing", "other"), "other");
  EXPECT_EQ(*params.GetRequired("name"), "wc");
}

TEST(ParameterToolTest, GetRequiredNamesTheMissingFlag) {
  ParameterTool params = ParameterTool::FromMap({});
  Status status = params.GetRequired("input").status();
  EXPECT_THAT(status, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(status.message(), "missing required flag --input");
  EXPECT_EQ(params.GetRequired("k").status().message(), "missing required flag -k");
  EXPECT_EQ(params.GetInt("n").status(), Status::NotFound("missing required flag -n"));
  EXPECT_EQ(params.GetLong("count").status(), Status::NotFound("missing required flag --count"));
  EXPECT_EQ(params.GetDouble("ratio").status(), Status::NotFound("missing required flag --ratio"));
  EXPECT_EQ(params.GetBool("dry").status(), Status::NotFound("missing required flag --dry"));
  EXPECT_EQ(params.GetDuration("window").status(),
            Status::NotFound("missing required flag --window"));
}

TEST(ParameterToolTest, GetIntAndGetLong) {
  ParameterTool params = ParameterTool::FromMap({{"a", "42"},
                                                 {"neg", "-7"},
                                                 {"max", "2147483647"},
                                                 {"big", "2147483648"},
                                                 {"huge", "9223372036854775807"},
                                                 {"word", "x"}});
  EXPECT_EQ(*params.GetInt("a"), 42);
  EXPECT_EQ(*params.GetInt("neg"), -7);
  EXPECT_EQ(*params.GetInt("max"), 2147483647);
  EXPECT_EQ(*params.GetInt("a", 5), 42);
  EXPECT_EQ(*params.GetInt("missing", 5), 5);
  EXPECT_EQ(*params.GetLong("big"), 2147483648LL);
  EXPECT_EQ(*params.GetLong("huge"), INT64_MAX);
  EXPECT_EQ(*params.GetLong("missing", -1), -1);

  EXPECT_EQ(params.GetInt("big").status(),
            Status::InvalidArgument("flag --big: '2147483648' is out of range for a 32-bit "
                                    "integer (-2147483648..2147483647)"));
  EXPECT_EQ(params.GetInt("word", 5).status(),
            Status::InvalidArgument("flag --word: 'x' is not a 32-bit integer"));
  EXPECT_EQ(params.GetLong("word", 5).status(),
            Status::InvalidArgument("flag --word: 'x' is not a 64-bit integer"));
}

TEST(ParameterToolTest, IntegersRejectSignsSpacesSuffixesAndEmpty) {
  for (const char* bad : {"+1", " 1", "1 ", "1.0", "1k", "0x10", ""}) {
    ParameterTool params = ParameterTool::FromMap({{"n", bad}});
    Result<std::int32_t> value = params.GetInt("n", 9);
    ASSERT_THAT(value, Not(IsOk())) << "'" << bad << "'";
    EXPECT_EQ(value.status().message(),
              "flag -n: '" + std::string(bad) + "' is not a 32-bit integer");
    EXPECT_THAT(params.GetLong("n"), Not(IsOk())) << "'" << bad << "'";
  }
}

TEST(ParameterToolTest, GetDouble) {
  ParameterTool params = ParameterTool::FromMap({{"a", "0.75"},
                                                 {"b", "3"},
                                                 {"c", "1e-3"},
                                                 {"d", "-2.5"},
                                                 {"nan", "nan"},
                                                 {"inf", "inf"},
                                                 {"suffix", "0.5x"},
                                                 {"big", "1e999"}});
  EXPECT_EQ(*params.GetDouble("a"), 0.75);
  EXPECT_EQ(*params.GetDouble("b"), 3.0);
  EXPECT_EQ(*params.GetDouble("c"), 0.001);
  EXPECT_EQ(*params.GetDouble("d", 1.0), -2.5);
  EXPECT_EQ(*params.GetDouble("missing", 1.25), 1.25);
  for (const char* key : {"nan", "inf", "suffix", "big"}) {
    Result<double> value = params.GetDouble(key, 1.0);
    ASSERT_THAT(value, Not(IsOk())) << key;
    EXPECT_EQ(value.status().message(),
              "flag --" + std::string(key) + ": '" + params.ToMap().at(key) +
                  "' is not a finite number (expected e.g. 0.75, 3 or 1e-3)");
  }
}

TEST(ParameterToolTest, GetBoolAcceptsSixSpellingsInAnyCase) {
  ParameterTool params = ParameterTool::FromMap({{"t1", "true"},
                                                 {"t2", "YES"},
                                                 {"t3", "1"},
                                                 {"f1", "False"},
                                                 {"f2", "no"},
                                                 {"f3", "0"},
                                                 {"bad", "maybe"},
                                                 {"two", "2"}});
  for (const char* key : {"t1", "t2", "t3"}) EXPECT_TRUE(*params.GetBool(key)) << key;
  for (const char* key : {"f1", "f2", "f3"}) EXPECT_FALSE(*params.GetBool(key, true)) << key;
  EXPECT_TRUE(*params.GetBool("missing", true));
  EXPECT_FALSE(*params.GetBool("missing", false));
  EXPECT_EQ(params.GetBool("bad", false).status(),
            Status::InvalidArgument(
                "flag --bad: 'maybe' is not a boolean (expected true/false, yes/no or 1/0)"));
  EXPECT_THAT(params.GetBool("two"), Not(IsOk()));
}

TEST(ParameterToolTest, BareFlagReadsAsTrue) {
  Result<ParameterTool> parsed = Parse({"--verbose"});
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(*parsed->GetBool("verbose", false));
}

TEST(ParameterToolTest, GetDuration) {
  ParameterTool params = ParameterTool::FromMap(
      {{"a", "250ms"}, {"b", "1.5s"}, {"c", "2h"}, {"d", "300"}, {"bad", "5 minutes"}});
  EXPECT_EQ(*params.GetDuration("a"), milliseconds(250));
  EXPECT_EQ(*params.GetDuration("b"), milliseconds(1'500));
  EXPECT_EQ(*params.GetDuration("c", milliseconds(1)), milliseconds(7'200'000));
  EXPECT_EQ(*params.GetDuration("d"), milliseconds(300));
  EXPECT_EQ(*params.GetDuration("missing", std::chrono::seconds(10)), milliseconds(10'000));
  EXPECT_EQ(params.GetDuration("bad", milliseconds(1)).status(),
            Status::InvalidArgument(
                "flag --bad: '5 minutes' is not a duration (unknown unit ' minutes'): expected a "
                "number with unit ms, s, m or h, e.g. 250ms, 5s, 1m, 2h or 1.5s (a plain number "
                "is milliseconds)"));
}

TEST(ParameterToolTest, DefaultedGettersNeverHideAMalformedValue) {
  ParameterTool params = ParameterTool::FromMap({{"v", "oops"}});
  EXPECT_THAT(params.GetInt("v", 1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(params.GetLong("v", 1), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(params.GetDouble("v", 1.0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(params.GetBool("v", true), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(params.GetDuration("v", milliseconds(1)), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParameterToolTest, TracksWhichKeysWereRequested) {
  ParameterTool params = ParameterTool::FromMap({{"a", "1"},
                                                 {"b", "2"},
                                                 {"c", "x"},
                                                 {"d", "4"},
                                                 {"e", "5"},
                                                 {"f", "6"},
                                                 {"g", "1s"},
                                                 {"h", "true"},
                                                 {"i", "0.5"},
                                                 {"j", "7"}});
  EXPECT_EQ(params.UnrequestedKeys(),
            (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}));
  (void)params.Has("a");
  (void)params.Get("b");
  (void)params.Get("c", "default");
  (void)params.GetRequired("d");
  (void)params.GetInt("e");
  (void)params.GetLong("f", 0);
  (void)params.GetDuration("g");
  (void)params.GetBool("h");
  // A failed parse still counts as a read: the job knows the flag, the value is the problem.
  (void)params.GetInt("c", 0);
  (void)params.ToMap();  // does not count
  EXPECT_EQ(params.UnrequestedKeys(), (std::vector<std::string>{"i", "j"}));
  (void)params.GetDouble("i", 0.0);
  (void)params.GetInt("j", 0);
  EXPECT_TRUE(params.UnrequestedKeys().empty());
  EXPECT_THAT(params.CheckAllRequested(), IsOk());
}

TEST(ParameterToolTest, CopiesShareTheRecordOfRequestedKeys) {
  ParameterTool original = ParameterTool::FromMap({{"a", "1"}, {"b", "2"}});
  ParameterTool copy = original;
  (void)copy.Get("a");
  EXPECT_EQ(original.UnrequestedKeys(), (std::vector<std::string>{"b"}));
  ParameterTool moved = std::move(copy);
  (void)moved.Get("b");
  EXPECT_TRUE(original.UnrequestedKeys().empty());
  // The moved-from tool is still usable (moves copy).
  EXPECT_EQ(copy.Get("a"), std::optional<std::string>("1"));  // NOLINT(bugprone-use-after-move)
}

TEST(ParameterToolTest, CheckAllRequestedSuggestsAKnownName) {
  Result<ParameterTool> parsed = Parse({"--paralelism=4"});
  ASSERT_THAT(parsed, IsOk());
  constexpr std::array<std::string_view, 2> kKnown = {"parallelism", "checkpoint-dir"};
  Status status = parsed->CheckAllRequested(kKnown);
  EXPECT_THAT(status, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(status.message(), "unknown flag --paralelism (did you mean --parallelism?)");
}

TEST(ParameterToolTest, CheckAllRequestedSuggestsAKeyTheJobAskedFor) {
  Result<ParameterTool> parsed = Parse({"--windw-size=5s", "--input", "in.txt"});
  ASSERT_THAT(parsed, IsOk());
  ParameterTool& params = *parsed;
  EXPECT_EQ(*params.GetRequired("input"), "in.txt");
  EXPECT_EQ(*params.GetDuration("window-size", milliseconds(10'000)), milliseconds(10'000));
  EXPECT_EQ(params.UnrequestedKeys(), (std::vector<std::string>{"windw-size"}));
  EXPECT_EQ(params.CheckAllRequested().message(),
            "unknown flag --windw-size (did you mean --window-size?)");
}

TEST(ParameterToolTest, CheckAllRequestedCountsTranspositionsAsOneEdit) {
  ParameterTool params = ParameterTool::FromMap({{"parallelsim", "2"}});
  constexpr std::array<std::string_view, 1> kKnown = {"parallelism"};
  EXPECT_EQ(params.CheckAllRequested(kKnown).message(),
            "unknown flag --parallelsim (did you mean --parallelism?)");
}

TEST(ParameterToolTest, CheckAllRequestedListsEveryUnknownKeyAndOmitsFarSuggestions) {
  ParameterTool params =
      ParameterTool::FromMap({{"zzz", "1"}, {"outptu", "x"}, {"known", "1"}, {"read", "1"}});
  (void)params.Get("read");
  (void)params.Get("output");
  constexpr std::array<std::string_view, 1> kKnown = {"known"};
  EXPECT_EQ(params.CheckAllRequested(kKnown).message(),
            "unknown flag --outptu (did you mean --output?); unknown flag --zzz");
}

TEST(ParameterToolTest, CheckAllRequestedKeepsShortNameSuggestionsTight) {
  // "ab" is 2 edits from "abcd": too far for a name of 2 characters.
  ParameterTool params = ParameterTool::FromMap({{"ab", "1"}});
  (void)params.Get("abcd");
  EXPECT_EQ(params.CheckAllRequested().message(), "unknown flag --ab");
  (void)params.Get("ac");
  EXPECT_EQ(params.CheckAllRequested().message(), "unknown flag --ab (did you mean --ac?)");
}

TEST(ParameterToolTest, CheckAllRequestedPrefersTheClosestThenTheFirstInOrder) {
  ParameterTool params = ParameterTool::FromMap({{"windowx", "1"}});
  (void)params.Get("windows");  // 1 edit
  (void)params.Get("window");   // 1 edit
  (void)params.Get("widow");    // 2 edits
  EXPECT_EQ(params.CheckAllRequested().message(),
            "unknown flag --windowx (did you mean --window?)");
}

TEST(ParameterToolTest, MergeWithPrefersTheOtherValueAndUnitesRequestedKeys) {
  ParameterTool defaults = ParameterTool::FromMap({{"a", "1"}, {"b", "2"}, {"c", "3"}});
  ParameterTool overrides = ParameterTool::FromMap({{"b", "20"}, {"d", "40"}});
  (void)defaults.Get("a");
  (void)overrides.Get("d");
  ParameterTool merged = defaults.MergeWith(overrides);
  EXPECT_EQ(merged.ToMap(), (Map{{"a", "1"}, {"b", "20"}, {"c", "3"}, {"d", "40"}}));
  EXPECT_EQ(merged.UnrequestedKeys(), (std::vector<std::string>{"b", "c"}));
  (void)merged.Get("c");
  // The inputs keep their own records.
  EXPECT_EQ(defaults.UnrequestedKeys(), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(defaults.MergeWith(defaults).ToMap(), defaults.ToMap());
}

TEST(ParameterToolTest, ReadsFromSeveralThreadsAreAllRecorded) {
  constexpr int kThreads = 4;
  constexpr int kKeysPerThread = 200;
  Map values;
  for (int i = 0; i < kThreads * kKeysPerThread; ++i) values["k" + std::to_string(i)] = "1";
  const ParameterTool params = ParameterTool::FromMap(values);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&params, t] {
      ParameterTool copy = params;  // copies read concurrently too
      for (int i = 0; i < kKeysPerThread; ++i) {
        const std::string key = "k" + std::to_string(t * kKeysPerThread + i);
        EXPECT_EQ(*(i % 2 == 0 ? params : copy).GetInt(key), 1);
        (void)params.UnrequestedKeys();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_TRUE(params.UnrequestedKeys().empty());
}

}  // namespace
}  // namespace sluice
