#include "api/standard_flags.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <sluice/api/duration.h>
#include <sluice/state/detail/keyed_state_backend.h>

namespace sluice::internal {
namespace {

constexpr std::array<std::string_view, 6> kLogLevels = {"trace", "debug", "info",
                                                        "warn",  "error", "off"};

// Same spelling as ParameterTool's messages: "-p" for one-letter keys, "--key" otherwise.
std::string FlagName(std::string_view key) {
  std::string name(key.size() == 1 ? "-" : "--");
  name += key;
  return name;
}

std::string ToLower(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return lower;
}

// The key under which a flag was given, long name or alias; nullopt when neither.
Result<std::optional<std::string>> GivenKey(const ParameterTool& all, std::string_view name,
                                            std::string_view alias = {}) {
  const bool has_name = all.Has(name);
  const bool has_alias = !alias.empty() && all.Has(alias);
  if (has_name && has_alias) {
    return Status::InvalidArgument(FlagName(alias) + " and " + FlagName(name) +
                                   " are the same flag; give it once");
  }
  if (has_name) return std::optional<std::string>(std::string(name));
  if (has_alias) return std::optional<std::string>(std::string(alias));
  return std::optional<std::string>();
}

Status OutOfRange(std::string_view key, std::int64_t value, std::string_view range) {
  return Status::InvalidArgument("flag " + FlagName(key) + ": " + std::to_string(value) +
                                 " is out of range (" + std::string(range) + ")");
}

Status EmptyPath(std::string_view key) {
  return Status::InvalidArgument("flag " + FlagName(key) + ": expected a path, got an empty value");
}

// A duration flag that must be greater than 0 (a timeout).
Result<std::chrono::milliseconds> PositiveDuration(const ParameterTool& all, std::string_view key) {
  auto duration = all.GetDuration(key);
  if (!duration.ok()) return duration.status();
  if (duration->count() <= 0) {
    return Status::InvalidArgument("flag " + FlagName(key) + ": " + FormatDuration(*duration) +
                                   " is not a timeout (it must be greater than 0)");
  }
  return *duration;
}

// Validates the standard flags found in `all` into `flags` (help is handled by the caller).
Status ParseValidated(const ParameterTool& all, StandardFlags& flags) {
  auto parallelism_key = GivenKey(all, "parallelism", "p");
  if (!parallelism_key.ok()) return parallelism_key.status();
  if (const auto& key = *parallelism_key) {
    auto value = all.GetInt(*key);
    if (!value.ok()) return value.status();
    if (*value < kMinParallelism || *value > kMaxParallelism) {
      return OutOfRange(*key, *value,
                        std::to_string(kMinParallelism) + ".." + std::to_string(kMaxParallelism));
    }
    flags.parallelism = *value;
  }

  if (auto text = all.Get("checkpoint-interval")) {
    if (ToLower(*text) == "off") {
      flags.checkpoint_interval = std::chrono::milliseconds(0);
    } else {
      auto interval = all.GetDuration("checkpoint-interval");
      if (!interval.ok()) return interval.status();
      if (interval->count() != 0 && *interval < kMinCheckpointInterval) {
        return Status::InvalidArgument("flag --checkpoint-interval: " + FormatDuration(*interval) +
                                       " is below the minimum of " +
                                       FormatDuration(kMinCheckpointInterval) +
                                       " (use 0 or off to disable checkpointing)");
      }
      flags.checkpoint_interval = *interval;
    }
  }

  if (auto dir = all.Get("checkpoint-dir")) {
    if (dir->empty()) return EmptyPath("checkpoint-dir");
    flags.checkpoint_dir = std::move(*dir);
  }

  if (all.Has("checkpoint-timeout")) {
    SLUICE_ASSIGN_OR_RETURN(flags.checkpoint_timeout, PositiveDuration(all, "checkpoint-timeout"));
  }

  if (all.Has("savepoint-timeout")) {
    SLUICE_ASSIGN_OR_RETURN(flags.savepoint_timeout, PositiveDuration(all, "savepoint-timeout"));
  }

  auto fresh = all.GetBool("fresh", false);
  if (!fresh.ok()) return fresh.status();
  flags.fresh = *fresh;

  if (auto savepoint = all.Get("from-savepoint")) {
    if (savepoint->empty()) return EmptyPath("from-savepoint");
    flags.from_savepoint = std::move(*savepoint);
  }
  if (auto checkpoint = all.Get("from-checkpoint")) {
    if (checkpoint->empty()) return EmptyPath("from-checkpoint");
    flags.from_checkpoint = std::move(*checkpoint);
  }
  if (flags.fresh && flags.from_savepoint.has_value()) {
    return Status::InvalidArgument(
        "--fresh and --from-savepoint cannot be used together: --fresh starts with empty "
        "state, --from-savepoint restores state from a savepoint; give one of them");
  }
  if (flags.from_checkpoint.has_value() && (flags.fresh || flags.from_savepoint.has_value())) {
    return Status::InvalidArgument(
        std::string(flags.fresh ? "--fresh" : "--from-savepoint") +
        " and --from-checkpoint cannot be used together: each says where the job's state comes "
        "from (--fresh: nowhere, --from-savepoint: a savepoint, --from-checkpoint: a "
        "checkpoint); give one of them");
  }

  auto allow = all.GetBool("allow-non-restored-state", false);
  if (!allow.ok()) return allow.status();
  flags.allow_non_restored_state = *allow;

  if (all.Has("restart-attempts")) {
    auto attempts = all.GetInt("restart-attempts");
    if (!attempts.ok()) return attempts.status();
    if (*attempts < 0) return OutOfRange("restart-attempts", *attempts, "0 or more");
    flags.restart_attempts = *attempts;
  }

  if (auto level = all.Get("log-level")) {
    std::string lower = ToLower(*level);
    if (std::find(kLogLevels.begin(), kLogLevels.end(), lower) == kLogLevels.end()) {
      return Status::InvalidArgument("flag --log-level: '" + *level +
                                     "' is not a log level (expected trace, debug, info, "
                                     "warn, error or off)");
    }
    flags.log_level = std::move(lower);
  }

  if (auto backend = all.Get("state.backend")) {
    std::string lower = ToLower(*backend);
    if (Status known = detail::CheckStateBackendName(lower); !known.ok()) {
      return Status::InvalidArgument("flag --state.backend: " + known.message());
    }
    flags.state_backend = std::move(lower);
  }

  if (auto changelog = all.Get("state.changelog")) {
    const std::string lower = ToLower(*changelog);
    if (lower != "kafka" && lower != "off") {
      return Status::InvalidArgument("flag --state.changelog: '" + *changelog +
                                     "' is not a state changelog (expected kafka or off)");
    }
    flags.state_changelog = lower == "kafka";
  }

  // Flink's login settings: a keytab is useless without the principal whose keys it holds, and
  // a principal alone would leave librdkafka running kinit without a keytab.
  auto keytab = all.Get("security.kerberos.login.keytab");
  auto principal = all.Get("security.kerberos.login.principal");
  if (keytab.has_value() != principal.has_value()) {
    return Status::InvalidArgument(
        std::string("flag --security.kerberos.login.") + (keytab ? "keytab" : "principal") +
        " needs --security.kerberos.login." + (keytab ? "principal" : "keytab") +
        " too: the job logs in to Kerberos with the principal's keys from the keytab (without "
        "either flag, Kafka clients use the ticket cache of kinit)");
  }
  if (keytab) {
    if (keytab->empty()) return EmptyPath("security.kerberos.login.keytab");
    if (principal->empty()) {
      return Status::InvalidArgument(
          "flag --security.kerberos.login.principal: expected a principal such as "
          "alice@EXAMPLE.COM, got an empty value");
    }
    // The reason, but not the path: where a keytab lives is kept out of messages and logs, as
    // its property's value is (ShownValue).
    std::error_code error;
    std::string why;
    if (access(keytab->c_str(), R_OK) != 0) {
      why = "cannot read it: " + std::generic_category().message(errno);
    } else if (!std::filesystem::is_regular_file(*keytab, error)) {
      why = "it is not a regular file" + (error ? ": " + error.message() : std::string());
    }
    if (!why.empty()) {
      return Status::InvalidArgument(
          "flag --security.kerberos.login.keytab: the keytab file does not exist or this user "
          "cannot read it (" +
          why +
          "); give the path of the principal's keytab (ktutil or kadmin ktadd make "
          "one)");
    }
    flags.kerberos_keytab = std::move(*keytab);
    flags.kerberos_principal = std::move(*principal);
  }
  return Status::Ok();
}

}  // namespace

Result<StandardFlags> ParseStandardFlags(int argc, const char* const* argv) {
  auto parsed = ParameterTool::FromArgs(argc, argv);
  if (!parsed.ok()) return parsed.status();
  const ParameterTool& all = *parsed;

  StandardFlags flags;
  std::map<std::string, std::string> job_values;
  for (const auto& [key, value] : all.ToMap()) {
    const bool is_standard = key == "p" || key == "h" ||
                             std::find(kStandardFlagNames.begin(), kStandardFlagNames.end(), key) !=
                                 kStandardFlagNames.end();
    if (!is_standard) job_values.emplace(key, value);
  }
  flags.job_parameters = ParameterTool::FromMap(std::move(job_values));

  auto help_key = GivenKey(all, "help", "h");
  if (!help_key.ok()) return help_key.status();
  if (const auto& key = *help_key) {
    auto help = all.GetBool(*key);
    if (!help.ok()) return help.status();
    flags.help = *help;
  }
  if (flags.help) return flags;

  if (Status status = ParseValidated(all, flags); !status.ok()) return status;
  return flags;
}

std::string StandardFlagsHelp(std::string_view program) {
  struct Line {
    std::string_view flag;
    std::string_view description;
  };
  std::string backends;
  for (std::string_view name : detail::KeyedStateBackendNames()) {
    backends += backends.empty() ? "" : ", ";
    backends += name;
  }
  const std::string backend_line = "where keyed state lives: " + backends + " (default " +
                                   std::string(detail::kDefaultStateBackend) +
                                   ": in memory, Flink's hashmap)";
  const std::array<Line, kStandardFlagNames.size()> lines = {{
      {"-p, --parallelism=N", "default parallelism of the job's operators, 1..32768"},
      {"--checkpoint-interval=DURATION",
       "checkpoint every DURATION (e.g. 30s, 1m; at least 10ms); 0 or off disables"},
      {"--checkpoint-timeout=DURATION",
       "abort a checkpoint not complete within DURATION (default 10m); an EXACTLY_ONCE Kafka "
       "sink's transaction.timeout.ms must exceed interval + timeout"},
      {"--checkpoint-dir=PATH", "directory where checkpoints are written and found"},
      {"--savepoint-timeout=DURATION",
       "how long SIGTERM's stop-with-savepoint waits for the savepoint (default 60s); past it "
       "the job is cancelled and the process exits non-zero"},
      {"--fresh", "start with empty state instead of the latest checkpoint"},
      {"--from-savepoint=PATH", "restore state from the savepoint at PATH (not with --fresh)"},
      {"--from-checkpoint=PATH",
       "restore state from the checkpoint at PATH, a chk-N directory (e.g. an older one when "
       "the newest cannot be used)"},
      {"--allow-non-restored-state", "drop restored state that no operator of the job claims"},
      {"--restart-attempts=N", "restart the job at most N times after a failure (0: never)"},
      {"--log-level=LEVEL", "trace, debug, info, warn, error or off"},
      {"--state.backend=NAME", backend_line},
      {"--state.changelog=kafka|off",
       "also keep state in Kafka changelog topics, committed with each checkpoint (default: "
       "kafka with an EXACTLY_ONCE Kafka sink, else off)"},
      {"--security.kerberos.login.keytab=PATH",
       "Kerberos keytab for every Kafka client of the job (with the principal below; without "
       "both, clients use the ticket cache of kinit)"},
      {"--security.kerberos.login.principal=NAME",
       "Kerberos principal of the keytab, e.g. alice@EXAMPLE.COM; librdkafka renews its ticket"},
      {"-h, --help", "print this help and exit"},
  }};
  std::size_t width = 0;
  for (const Line& line : lines) width = std::max(width, line.flag.size());

  std::string text = "Usage: ";
  text += program;
  text += " [standard flags] [--key=value ...]\n\nStandard flags:\n";
  for (const Line& line : lines) {
    text += "  ";
    text += line.flag;
    text.append(width - line.flag.size() + 2, ' ');
    text += line.description;
    text += '\n';
  }
  text +=
      "\nAny other --key=value (also --key value, or --flag for true) is passed to the job as\n"
      "a parameter. A parameter the job never reads is reported as an unknown flag.\n";
  return text;
}

}  // namespace sluice::internal
