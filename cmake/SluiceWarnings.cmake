# Warning flags for sluice's own targets (not for consumers of the installed package).
# No -Wold-style-cast: librdkafka's C macros (RD_KAFKA_V_*) expand to C casts in our code.
# No -Wnull-dereference: GCC 12 reports false positives inside libstdc++ and CLI11 at -O2.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wimplicit-fallthrough
  $<$<BOOL:${SLUICE_WERROR}>:-Werror>)
