// SLUICE_ASSERT(condition, message): a check for sluice's own bugs, never for input or broker
// errors (those are Status values). On in debug builds (!NDEBUG) only, like assert() and
// DuckDB's D_ASSERT: a failure prints the condition, the message and the place to stderr and
// aborts, so a death test can see it. In release builds the condition is not evaluated.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace sluice::internal {

[[noreturn]] inline void AssertionFailed(const char* condition, const char* message,
                                         const char* file, int line) {
  std::fprintf(stderr, "%s:%d: sluice assertion failed: %s: %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace sluice::internal

#ifdef NDEBUG
// sizeof keeps the operands "used" without evaluating them.
#define SLUICE_ASSERT(condition, message) static_cast<void>(sizeof((condition) ? 1 : 0))
#else
#define SLUICE_ASSERT(condition, message) \
  ((condition) ? static_cast<void>(0)     \
               : ::sluice::internal::AssertionFailed(#condition, message, __FILE__, __LINE__))
#endif
