# Warning flags for sluice's own targets (not for consumers of the installed package).
# No -Wold-style-cast: librdkafka's C macros (RD_KAFKA_V_*) expand to C casts in our code.
# No -Wnull-dereference: GCC 12 reports false positives inside libstdc++ and CLI11 at -O2.
# Clang only: no -Wgnu-statement-expression-from-macro-expansion, which -Wpedantic turns on:
# the same RD_KAFKA_V_* macros expand to GNU statement expressions that GCC accepts silently.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wimplicit-fallthrough
  $<$<BOOL:${SLUICE_WERROR}>:-Werror>
  $<$<CXX_COMPILER_ID:Clang>:-Wno-gnu-statement-expression-from-macro-expansion>
  # Clang checks the lock contracts written with src/core/thread_annotations.h; a broken one
  # is an error even outside CI (GCC has no such analysis; the macros expand to nothing).
  $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety -Werror=thread-safety>)
