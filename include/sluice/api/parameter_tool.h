// ParameterTool: a job's command-line parameters (Flink's ParameterTool), with a record of
// which keys the job read so that mistyped flags are reported instead of silently ignored.
//
//   int main(int argc, char** argv) {
//     auto params = sluice::ParameterTool::FromArgs(argc, argv);
//     if (!params.ok()) { std::cerr << params.status().ToString() << "\n"; return 2; }
//     auto window = params->GetDuration("window", std::chrono::seconds(10));
//     if (!window.ok()) ...;
//     if (auto unknown = params->CheckAllRequested(); !unknown.ok()) ...;  // --windw=5s?
//   }
//
// Keys are stored without leading dashes: "--window=5s" has key "window".
// Messages name a key as "--key", or "-k" when it is one character long.
//
// Thread safety: every const member function may be called from several threads at once,
// including on copies of one object. The map is immutable after construction; the record of
// requested keys is guarded by a mutex. Assigning to an object while another thread reads
// that same object is a data race, as for any value.
//
// Copies: the map and the record of requested keys are shared between copies (copying is
// cheap). A key read through any copy counts as requested for all of them, so a job may copy
// the tool into its functions and a later CheckAllRequested on the original still sees the
// reads. FromArgs, FromMap and MergeWith start a new record.
//
// Errors: FromArgs returns InvalidArgument naming the offending argument. Typed getters
// return NotFound ("missing required flag --key") when a required key is absent and
// InvalidArgument naming the flag, the value and the expected form when a value does not
// parse. The getters with a default return Result too: a present but malformed value is an
// error, never replaced by the default.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/status.h>

namespace sluice {

class ParameterTool {
 public:
  /// An empty tool.
  ParameterTool();
  // Declared so that no move operations are generated: a "moved" tool is copied (two
  // reference counts), so a moved-from tool stays usable and keeps sharing its record.
  ParameterTool(const ParameterTool&) = default;
  ParameterTool& operator=(const ParameterTool&) = default;
  ~ParameterTool() = default;

  /// Parses main's argc/argv; argv[0] (the program) is skipped.
  ///
  /// Accepted forms, with key = the name without its leading dashes:
  ///   --key=value, -k=value   value is everything after the first '=' (may be empty)
  ///   --key value, -k value   the next argument is the value if it does not start with '-',
  ///                           or is "-", or looks like a negative number: '-' followed by a
  ///                           digit or '.' ("--offset -5", "--lat -.5")
  ///   --flag, -f              value "true" (when not followed by a value as above)
  /// Errors (InvalidArgument, naming the argument): a positional argument (one that is not a
  /// flag and not consumed as a value, including "-5"); an empty name ("--=x", "--", "-");
  /// a name starting with a third dash ("---x"); the same key given twice, also as -k and
  /// --k.
  static Result<ParameterTool> FromArgs(int argc, const char* const* argv);

  /// A tool over the given map; keys are used as they are (no dashes stripped).
  static ParameterTool FromMap(std::map<std::string, std::string> values);

  /// Each lookup below marks `key` as requested, whether or not it is present: absent keys
  /// that were asked for are what CheckAllRequested suggests for a typo.

  /// True if `key` was given.
  bool Has(std::string_view key) const;
  /// The value of `key`, or nullopt.
  std::optional<std::string> Get(std::string_view key) const;
  /// The value of `key`, or `default_value` when absent.
  std::string Get(std::string_view key, std::string_view default_value) const;
  /// The value of `key`; NotFound "missing required flag --key" when absent.
  Result<std::string> GetRequired(std::string_view key) const;

  /// Typed getters. The one-argument form returns NotFound when the key is absent; the
  /// two-argument form returns `default_value` then. Both return InvalidArgument when the
  /// key is present and its value does not parse:
  ///   GetInt     decimal int32_t ("-12"), no sign '+', no whitespace, in range
  ///   GetLong    decimal int64_t, same rules
  ///   GetDouble  a finite decimal or scientific number ("0.5", "3", "1e-3"); no nan/inf
  ///   GetBool    true/false, yes/no, 1/0, ASCII case-insensitive ("True", "YES")
  ///   GetDuration as ParseDuration in <sluice/api/duration.h> ("250ms", "1.5s", "300")
  Result<std::int32_t> GetInt(std::string_view key) const;
  Result<std::int32_t> GetInt(std::string_view key, std::int32_t default_value) const;
  Result<std::int64_t> GetLong(std::string_view key) const;
  Result<std::int64_t> GetLong(std::string_view key, std::int64_t default_value) const;
  Result<double> GetDouble(std::string_view key) const;
  Result<double> GetDouble(std::string_view key, double default_value) const;
  Result<bool> GetBool(std::string_view key) const;
  Result<bool> GetBool(std::string_view key, bool default_value) const;
  Result<std::chrono::milliseconds> GetDuration(std::string_view key) const;
  Result<std::chrono::milliseconds> GetDuration(std::string_view key,
                                                std::chrono::milliseconds default_value) const;

  /// Keys that were given but never looked up, sorted.
  std::vector<std::string> UnrequestedKeys() const;

  /// OK when every given key was looked up or is one of `known_names` (names the caller
  /// accepts without reading them through this tool, e.g. the runtime's standard flags).
  /// Otherwise InvalidArgument listing each unknown key in sorted order, separated by "; ",
  /// each with the closest known name or requested key when one is close enough (edit
  /// distance with transpositions, at most 1 for names up to 4 characters, 2 up to 8,
  /// 3 beyond), e.g. "unknown flag --paralelism (did you mean --parallelism?)".
  Status CheckAllRequested(std::span<const std::string_view> known_names = {}) const;

  /// A new tool with the keys of both; `other`'s value wins for a key in both. Keys
  /// requested on either input count as requested on the result (as in Flink); later reads
  /// of the result are not seen by the inputs.
  ParameterTool MergeWith(const ParameterTool& other) const;

  /// All keys and values. Does not mark anything as requested. The reference is valid as
  /// long as this object or a copy of it lives.
  const std::map<std::string, std::string>& ToMap() const noexcept { return *values_; }

 private:
  struct Requested;

  ParameterTool(std::shared_ptr<const std::map<std::string, std::string>> values,
                std::shared_ptr<Requested> requested);

  // Marks `key` requested and returns its value, or nullptr when absent.
  const std::string* Lookup(std::string_view key) const;

  std::shared_ptr<const std::map<std::string, std::string>> values_;
  std::shared_ptr<Requested> requested_;
};

}  // namespace sluice
