# Warning flags for sluice's own targets (not for consumers of the installed package).
# No -Wold-style-cast: librdkafka's C macros (RD_KAFKA_V_*) expand to C casts in our code.
add_library(sluice_warnings INTERFACE)
target_compile_options(sluice_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
  -Woverloaded-virtual -Wconversion -Wsign-conversion -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${SLUICE_WERROR}>:-Werror>)
