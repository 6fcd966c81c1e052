// The output side of Print() / PrintToErr() (detail::PrintSinkFunction in
// include/sluice/detail/operators.h).
#include <sluice/detail/operators.h>

#include <iostream>
#include <mutex>
#include <string_view>

namespace sluice::detail {

void WritePrintedLine(bool to_stderr, std::string_view line) {
  // One lock for every Print sink of the process, whatever its record type: a line is written
  // whole, and std::cout makes no such promise for concurrent writers.
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  (to_stderr ? std::cerr : std::cout) << line << std::flush;
}

}  // namespace sluice::detail
