// The flags every sluice job understands (parallelism, checkpointing, restore, restarts,
// logging, state backend, help), split from the job's own parameters.
//
// Thread safety: the functions are pure; a StandardFlags is a plain value (its
// job_parameters follows ParameterTool's rules).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <sluice/api/parameter_tool.h>
#include <sluice/status.h>

namespace sluice::internal {

/// Long names of the standard flags, for did-you-mean on unknown flags:
///   job_parameters.CheckAllRequested(kStandardFlagNames)
/// The short aliases -p and -h are left out: one-letter names would be suggested for every
/// one- or two-letter typo.
// std::to_array: the size follows the list (a fixed std::array size would pad a short list
// with empty names).
inline constexpr auto kStandardFlagNames = std::to_array<std::string_view>({
    "parallelism",
    "checkpoint-interval",
    "checkpoint-timeout",
    "checkpoint-dir",
    "savepoint-timeout",
    "fresh",
    "from-savepoint",
    "from-checkpoint",
    "allow-non-restored-state",
    "restart-attempts",
    "log-level",
    "state.backend",
    "state.changelog",
    "security.kerberos.login.keytab",
    "security.kerberos.login.principal",
    "help",
});

inline constexpr std::int32_t kMinParallelism = 1;
inline constexpr std::int32_t kMaxParallelism = 32768;
inline constexpr std::chrono::milliseconds kMinCheckpointInterval{10};

/// Unset optionals mean "not given": the job's own setting or the runtime default applies.
struct StandardFlags {
  /// --parallelism / -p: 1..32768.
  std::optional<std::int32_t> parallelism;
  /// --checkpoint-interval: at least 10ms. "0", "0ms" or "off" give 0ms, which means
  /// checkpointing is explicitly disabled (overriding a job that enables it), as opposed to
  /// nullopt, which leaves the job's choice alone.
  std::optional<std::chrono::milliseconds> checkpoint_interval;
  /// --checkpoint-timeout: greater than 0; a checkpoint not complete after this long is
  /// aborted (CheckpointConfig::SetCheckpointTimeout; an EXACTLY_ONCE sink's
  /// transaction.timeout.ms must exceed the interval plus this).
  std::optional<std::chrono::milliseconds> checkpoint_timeout;
  /// --checkpoint-dir: non-empty path.
  std::optional<std::string> checkpoint_dir;
  /// --savepoint-timeout: greater than 0; how long stop-with-savepoint waits for its savepoint
  /// (CheckpointConfig::SetSavepointTimeout).
  std::optional<std::chrono::milliseconds> savepoint_timeout;
  /// --fresh: start with empty state instead of resuming from the latest checkpoint.
  bool fresh = false;
  /// --from-savepoint: non-empty path.
  std::optional<std::string> from_savepoint;
  /// --from-checkpoint: non-empty path of a chk-N directory (or its _metadata). At most one of
  /// --fresh, --from-savepoint and --from-checkpoint.
  std::optional<std::string> from_checkpoint;
  /// --allow-non-restored-state: drop restored state that no operator claims.
  bool allow_non_restored_state = false;
  /// --restart-attempts: >= 0.
  std::optional<std::int32_t> restart_attempts;
  /// --log-level: trace, debug, info, warn, error or off (case-insensitive, stored lower).
  std::optional<std::string> log_level;
  /// --state.backend: the name of a registered keyed state backend ("heap"; Flink's
  /// state.backend.type), case-insensitive, stored lower.
  std::optional<std::string> state_backend;
  /// --state.changelog: kafka (true) or off (false), case-insensitive: whether keyed and
  /// operator state is also written to changelog topics in Kafka at every checkpoint
  /// (include/sluice/checkpoint/state_changelog.h). Unset: on exactly when the job's
  /// checkpoints are transactional (an EXACTLY_ONCE Kafka sink).
  std::optional<bool> state_changelog;
  /// --security.kerberos.login.keytab and --security.kerberos.login.principal (Flink's names):
  /// the Kerberos login of every Kafka client of the job (api/kerberos_login.h). Both or
  /// neither; the keytab must be a readable file.
  std::optional<std::string> kerberos_keytab;
  std::optional<std::string> kerberos_principal;
  /// --help / -h.
  bool help = false;
  /// Every other flag, for the job. The caller checks it with
  /// CheckAllRequested(kStandardFlagNames) once the job has read its parameters.
  ParameterTool job_parameters;
};

/// Parses main's argc/argv (argv[0] skipped) with ParameterTool::FromArgs and splits off
/// the standard flags. Boolean flags accept a bare --flag or the values GetBool accepts.
///
/// Errors (InvalidArgument, naming the flag): any FromArgs error; a standard flag whose
/// value does not parse or is out of range (an unknown --state.backend names the known ones; a
/// timeout must be greater than 0);
/// -p together with --parallelism (likewise -h and --help); two of --fresh, --from-savepoint
/// and --from-checkpoint; one of the two --security.kerberos.login flags without the other, or a
/// keytab that is not a readable file (the message does not repeat the path: it is a secret's
/// location).
///
/// When help is requested, the other standard flags are not validated (a user asking for
/// help should get it): the result has help == true, those fields unset, and
/// job_parameters as usual. Syntax errors from FromArgs are still reported.
Result<StandardFlags> ParseStandardFlags(int argc, const char* const* argv);

/// Usage text for `program`: every standard flag with a one-line description, and a note
/// that any other --key=value is passed to the job. Ends with a newline.
std::string StandardFlagsHelp(std::string_view program);

}  // namespace sluice::internal
