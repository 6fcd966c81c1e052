// Durations as users write them on the command line and in configuration: "250ms", "5s",
// "1m", "2h", "1.5s", or a plain number of milliseconds.
//
// Thread safety: both functions are pure and may be called from any thread.
// Errors: ParseDuration returns InvalidArgument with a message quoting the text and showing
// the accepted forms; callers add which flag or setting the text came from.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <sluice/status.h>

namespace sluice {

/// Parses `<number>[unit]` where number is decimal digits with an optional fraction
/// ("1.5") and unit is one of ms, s, m, h; without a unit the number is milliseconds.
/// Nothing else is accepted: no sign, no whitespace, no upper case, no compound forms
/// ("1m30s"), no fraction without a leading digit (".5s").
///
/// Errors (InvalidArgument): anything outside that grammar; a value that is not a whole
/// number of milliseconds ("0.5ms", "1.0001s"); a value that does not fit in
/// std::chrono::milliseconds.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

/// The shortest exact spelling in the largest unit that divides the value: 3'600'000ms ->
/// "1h", 90'000ms -> "90s", 1'500ms -> "1500ms", 0 -> "0ms". ParseDuration(FormatDuration(d))
/// == d for every d >= 0. Negative values are formatted with a leading '-' (for messages);
/// ParseDuration rejects those.
std::string FormatDuration(std::chrono::milliseconds duration);

}  // namespace sluice
