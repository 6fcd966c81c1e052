#include <sluice/api/duration.h>

#include <array>
#include <cstdint>
#include <limits>

namespace sluice {
namespace {

constexpr std::string_view kDurationForms =
    "expected a number with unit ms, s, m or h, e.g. 250ms, 5s, 1m, 2h or 1.5s "
    "(a plain number is milliseconds)";

// A fraction with more significant digits than this cannot be a whole number of
// milliseconds in any unit up to hours (3'600'000 = 2^7 * 3^2 * 5^5), and capping it keeps
// fraction * unit inside int64_t.
constexpr std::size_t kMaxFractionDigits = 9;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status NotADuration(std::string_view text, std::string_view why) {
  std::string message = "'";
  message += text;
  message += "' is not a duration";
  if (!why.empty()) {
    message += " (";
    message += why;
    message += ")";
  }
  message += ": ";
  message += kDurationForms;
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  std::string_view whole = text.substr(0, pos);
  std::string_view fraction;
  if (whole.empty()) return NotADuration(text, "");
  if (pos < text.size() && text[pos] == '.') {
    const std::size_t start = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    fraction = text.substr(start, pos - start);
    if (fraction.empty()) return NotADuration(text, "");
  }

  const std::string_view unit = text.substr(pos);
  std::int64_t unit_ms = 0;
  if (unit.empty() || unit == "ms") {
    unit_ms = 1;
  } else if (unit == "s") {
    unit_ms = 1'000;
  } else if (unit == "m") {
    unit_ms = 60'000;
  } else if (unit == "h") {
    unit_ms = 3'600'000;
  } else {
    return NotADuration(text, "unknown unit '" + std::string(unit) + "'");
  }

  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  if (fraction.size() > kMaxFractionDigits) {
    return NotADuration(text, "not a whole number of milliseconds");
  }

  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t whole_value = 0;
  for (char c : whole) {
    const std::int64_t digit = c - '0';
    if (whole_value > (kMax - digit) / 10) return NotADuration(text, "too large");
    whole_value = whole_value * 10 + digit;
  }
  if (whole_value > kMax / unit_ms) return NotADuration(text, "too large");
  std::int64_t total = whole_value * unit_ms;

  if (!fraction.empty()) {
    std::int64_t numerator = 0;
    std::int64_t denominator = 1;
    for (char c : fraction) {
      numerator = numerator * 10 + (c - '0');
      denominator *= 10;
    }
    // numerator < 10^9 and unit_ms <= 3.6e6, so the product stays below 2^63.
    const std::int64_t scaled = numerator * unit_ms;
    if (scaled % denominator != 0) {
      return NotADuration(text, "not a whole number of milliseconds");
    }
    const std::int64_t fraction_ms = scaled / denominator;
    if (total > kMax - fraction_ms) return NotADuration(text, "too large");
    total += fraction_ms;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds duration) {
  struct Unit {
    std::int64_t ms;
    std::string_view suffix;
  };
  static constexpr std::array<Unit, 3> kUnits = {{{3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}}};

  const std::int64_t count = duration.count();
  if (count == 0) return "0ms";
  for (const Unit& unit : kUnits) {
    if (count % unit.ms == 0) return std::to_string(count / unit.ms) + std::string(unit.suffix);
  }
  return std::to_string(count) + "ms";
}

}  // namespace sluice
