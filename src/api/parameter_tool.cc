#include <sluice/api/parameter_tool.h>

#include <sluice/api/duration.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>

namespace sluice {

struct ParameterTool::Requested {
  std::mutex mu;
  std::set<std::string, std::less<>> keys;  // guarded by mu
};

namespace {

// Messages spell a key as a user would most likely have typed it.
std::string FlagName(std::string_view key) {
  std::string name(key.size() == 1 ? "-" : "--");
  name += key;
  return name;
}

std::string Quoted(std::string_view text) {
  std::string quoted = "'";
  quoted += text;
  quoted += "'";
  return quoted;
}

// "flag --key: 'value' <what>"
Status Malformed(std::string_view key, std::string_view value, std::string_view what) {
  std::string message = "flag " + FlagName(key) + ": " + Quoted(value) + " ";
  message += what;
  return Status::InvalidArgument(std::move(message));
}

Status MissingRequired(std::string_view key) {
  return Status::NotFound("missing required flag " + FlagName(key));
}

// A lone "-" (stdin, by convention) and negative numbers are values, not flags, so that
// "--offset -5" means offset=-5.
bool LooksLikeValue(std::string_view arg) {
  if (arg.empty() || arg.front() != '-' || arg == "-") return true;
  const char next = arg[1];
  return (next >= '0' && next <= '9') || next == '.';
}

template <typename Int>
Result<Int> ParseInteger(std::string_view key, std::string_view value, std::string_view what) {
  Int parsed{};
  // [begin, end) bounds the parse: from_chars needs no terminating NUL.
  const char* begin = value.data();
  const char* end = begin + value.size();
  auto [ptr, ec] = std::from_chars(begin, end, parsed);
  if (ec == std::errc::result_out_of_range) {
    return Malformed(key, value,
                     "is out of range for " + std::string(what) + " (" +
                         std::to_string(std::numeric_limits<Int>::min()) + ".." +
                         std::to_string(std::numeric_limits<Int>::max()) + ")");
  }
  if (ec != std::errc() || ptr != end || value.empty()) {
    return Malformed(key, value, "is not " + std::string(what));
  }
  return parsed;
}

Result<double> ParseDouble(std::string_view key, std::string_view value) {
  double parsed = 0;
  // [begin, end) bounds the parse: from_chars needs no terminating NUL.
  const char* begin = value.data();
  const char* end = begin + value.size();
  auto [ptr, ec] = std::from_chars(begin, end, parsed);
  if (ec != std::errc() || ptr != end || value.empty() || !std::isfinite(parsed)) {
    return Malformed(key, value, "is not a finite number (expected e.g. 0.75, 3 or 1e-3)");
  }
  return parsed;
}

Result<bool> ParseBool(std::string_view key, std::string_view value) {
  std::string lower(value);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (lower == "true" || lower == "yes" || lower == "1") return true;
  if (lower == "false" || lower == "no" || lower == "0") return false;
  return Malformed(key, value, "is not a boolean (expected true/false, yes/no or 1/0)");
}

Result<std::chrono::milliseconds> ParseDurationFlag(std::string_view key, std::string_view value) {
  auto parsed = ParseDuration(value);
  if (!parsed.ok()) return parsed.status().WithContext("flag " + FlagName(key));
  return parsed;
}

// Optimal string alignment distance: Levenshtein plus adjacent transpositions, the most
// common typo ("parallelsim").
std::size_t EditDistance(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

// Short names tolerate fewer edits, or every two-letter flag would suggest every other.
std::size_t MaxSuggestionDistance(std::string_view unknown) {
  if (unknown.size() <= 4) return 1;
  if (unknown.size() <= 8) return 2;
  return 3;
}

}  // namespace

ParameterTool::ParameterTool()
    : ParameterTool(std::make_shared<const std::map<std::string, std::string>>(),
                    std::make_shared<Requested>()) {}

ParameterTool::ParameterTool(std::shared_ptr<const std::map<std::string, std::string>> values,
                             std::shared_ptr<Requested> requested)
    : values_(std::move(values)), requested_(std::move(requested)) {}

Result<ParameterTool> ParameterTool::FromArgs(int argc, const char* const* argv) {
  std::map<std::string, std::string> values;
  std::map<std::string, std::string> given_as;  // key -> the argument that set it
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.empty() || arg.front() != '-' || (arg != "-" && LooksLikeValue(arg))) {
      return Status::InvalidArgument("unexpected positional argument " + Quoted(arg) +
                                     ": parameters are given as --key=value, --key value "
                                     "or --flag");
    }
    const std::size_t dashes = arg.starts_with("--") ? 2 : 1;
    std::string_view name = arg.substr(dashes);
    std::optional<std::string_view> value;
    if (const std::size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name.empty()) {
      return Status::InvalidArgument("empty flag name in argument " + Quoted(arg) +
                                     ": parameters are given as --key=value");
    }
    if (name.front() == '-') {
      return Status::InvalidArgument("malformed flag " + Quoted(arg) +
                                     ": a flag starts with one or two dashes");
    }
    std::string argument(arg);
    if (!value.has_value()) {
      if (i + 1 < argc && LooksLikeValue(argv[i + 1])) {
        value = argv[i + 1];
        argument += " ";
        argument += argv[i + 1];
        ++i;
      } else {
        value = "true";
      }
    }
    std::string key(name);
    if (auto it = given_as.find(key); it != given_as.end()) {
      return Status::InvalidArgument("flag " + FlagName(key) + " is given twice: " +
                                     Quoted(it->second) + " and " + Quoted(argument));
    }
    given_as.emplace(key, std::move(argument));
    values.emplace(std::move(key), std::string(*value));
  }
  return FromMap(std::move(values));
}

ParameterTool ParameterTool::FromMap(std::map<std::string, std::string> values) {
  return ParameterTool(
      std::make_shared<const std::map<std::string, std::string>>(std::move(values)),
      std::make_shared<Requested>());
}

const std::string* ParameterTool::Lookup(std::string_view key) const {
  {
    std::lock_guard<std::mutex> lock(requested_->mu);
    if (requested_->keys.find(key) == requested_->keys.end()) requested_->keys.emplace(key);
  }
  // The map is immutable, so reading it needs no lock.
  auto it = values_->find(std::string(key));
  return it == values_->end() ? nullptr : &it->second;
}

bool ParameterTool::Has(std::string_view key) const { return Lookup(key) != nullptr; }

std::optional<std::string> ParameterTool::Get(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::string ParameterTool::Get(std::string_view key, std::string_view default_value) const {
  const std::string* value = Lookup(key);
  return value == nullptr ? std::string(default_value) : *value;
}

Result<std::string> ParameterTool::GetRequired(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return MissingRequired(key);
  return *value;
}

Result<std::int32_t> ParameterTool::GetInt(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return MissingRequired(key);
  return ParseInteger<std::int32_t>(key, *value, "a 32-bit integer");
}

Result<std::int32_t> ParameterTool::GetInt(std::string_view key, std::int32_t default_value) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return default_value;
  return ParseInteger<std::int32_t>(key, *value, "a 32-bit integer");
}

Result<std::int64_t> ParameterTool::GetLong(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return MissingRequired(key);
  return ParseInteger<std::int64_t>(key, *value, "a 64-bit integer");
}

Result<std::int64_t> ParameterTool::GetLong(std::string_view key,
                                            std::int64_t default_value) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return default_value;
  return ParseInteger<std::int64_t>(key, *value, "a 64-bit integer");
}

Result<double> ParameterTool::GetDouble(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return MissingRequired(key);
  return ParseDouble(key, *value);
}

Result<double> ParameterTool::GetDouble(std::string_view key, double default_value) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return default_value;
  return ParseDouble(key, *value);
}

Result<bool> ParameterTool::GetBool(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return MissingRequired(key);
  return ParseBool(key, *value);
}

Result<bool> ParameterTool::GetBool(std::string_view key, bool default_value) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return default_value;
  return ParseBool(key, *value);
}

Result<std::chrono::milliseconds> ParameterTool::GetDuration(std::string_view key) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return MissingRequired(key);
  return ParseDurationFlag(key, *value);
}

Result<std::chrono::milliseconds> ParameterTool::GetDuration(
    std::string_view key, std::chrono::milliseconds default_value) const {
  const std::string* value = Lookup(key);
  if (value == nullptr) return default_value;
  return ParseDurationFlag(key, *value);
}

std::vector<std::string> ParameterTool::UnrequestedKeys() const {
  std::vector<std::string> unrequested;
  std::lock_guard<std::mutex> lock(requested_->mu);
  for (const auto& [key, value] : *values_) {
    if (requested_->keys.find(key) == requested_->keys.end()) unrequested.push_back(key);
  }
  return unrequested;
}

Status ParameterTool::CheckAllRequested(std::span<const std::string_view> known_names) const {
  std::vector<std::string> unknown;
  std::vector<std::string> candidates;
  {
    std::lock_guard<std::mutex> lock(requested_->mu);
    for (const auto& [key, value] : *values_) {
      if (requested_->keys.find(key) != requested_->keys.end()) continue;
      if (std::find(known_names.begin(), known_names.end(), key) != known_names.end()) continue;
      unknown.push_back(key);
    }
    if (unknown.empty()) return Status::Ok();
    candidates.assign(requested_->keys.begin(), requested_->keys.end());
  }
  candidates.insert(candidates.end(), known_names.begin(), known_names.end());
  // Sorted so that among equally close names the suggestion does not depend on order.
  std::sort(candidates.begin(), candidates.end());

  std::string message;
  for (const std::string& key : unknown) {
    if (!message.empty()) message += "; ";
    message += "unknown flag " + FlagName(key);
    const std::string* best = nullptr;
    std::size_t best_distance = MaxSuggestionDistance(key) + 1;
    for (const std::string& candidate : candidates) {
      if (candidate == key) continue;
      const std::size_t distance = EditDistance(key, candidate);
      if (distance < best_distance) {
        best = &candidate;
        best_distance = distance;
      }
    }
    if (best != nullptr) message += " (did you mean " + FlagName(*best) + "?)";
  }
  return Status::InvalidArgument(std::move(message));
}

ParameterTool ParameterTool::MergeWith(const ParameterTool& other) const {
  std::map<std::string, std::string> merged = *other.values_;
  // insert() keeps existing entries, so other's value wins for keys in both.
  merged.insert(values_->begin(), values_->end());
  auto requested = std::make_shared<Requested>();
  // Locked one at a time (never both), so merging a with b while another thread merges b
  // with a cannot deadlock; a tool merged with itself is fine too.
  for (const ParameterTool* source : {this, &other}) {
    std::lock_guard<std::mutex> lock(source->requested_->mu);
    requested->keys.insert(source->requested_->keys.begin(), source->requested_->keys.end());
  }
  return ParameterTool(
      std::make_shared<const std::map<std::string, std::string>>(std::move(merged)),
      std::move(requested));
}

}  // namespace sluice
