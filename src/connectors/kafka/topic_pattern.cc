#include "connectors/kafka/topic_pattern.h"

#include <locale>

namespace sluice::kafka::internal {
namespace {

// libstdc++'s std::ctype<char>::narrow fills a per-locale cache on first use of each character,
// from whichever thread asks (GCC PR libstdc++/77704), and the regex compiler narrows every
// character of a pattern: two tasks compiling patterns at once write the same cache entries,
// a data race (ThreadSanitizer found it). Filling the entries the compiler writes once, from
// one thread (the static's initialisation is serialised), leaves later compiles only reading.
void FillCtypeCache() {
  static const bool filled = [] {
    const auto& ctype = std::use_facet<std::ctype<char>>(std::locale());
    // narrow(c, d) caches c unless it equals d; the compiler passes '\0' or ' ' as d, so these
    // two calls fill every entry it would otherwise write (all but NUL, which stays uncached).
    for (int c = 1; c < 256; ++c) {
      ctype.narrow(static_cast<char>(c), '\0');
      ctype.narrow(static_cast<char>(c), ' ');
    }
    ctype.widen('_');  // the widen table is filled on its first use, the same way
    return true;
  }();
  (void)filled;
}

}  // namespace

std::regex CompileTopicPattern(const std::string& pattern) {
  FillCtypeCache();
  return std::regex(pattern);
}

}  // namespace sluice::kafka::internal
