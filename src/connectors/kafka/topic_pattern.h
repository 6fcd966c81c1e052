// Compiling a topic pattern (SetTopicPattern) with std::regex from any thread.
//
// Thread safety: CompileTopicPattern may run on several task threads at once.
#pragma once

#include <regex>
#include <string>

namespace sluice::kafka::internal {

/// The pattern as a std::regex (ECMAScript, matched against whole topic names); throws
/// std::regex_error when it is not a valid regular expression.
std::regex CompileTopicPattern(const std::string& pattern);

}  // namespace sluice::kafka::internal
