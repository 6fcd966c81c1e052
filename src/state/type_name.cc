// Demangling for TypeNameOf<T>() (include/sluice/state/type_serializer.h): the default type
// name of a serializer that names none, recorded with its state.
#include <sluice/state/type_serializer.h>

#include <cstdlib>
#include <memory>
#include <string>

#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define SLUICE_HAS_CXXABI 1
#endif

namespace sluice::detail {

std::string Demangle(const char* mangled) {
#ifdef SLUICE_HAS_CXXABI
  int status = 0;
  const std::unique_ptr<char, decltype(&std::free)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  if (status == 0 && demangled != nullptr) return demangled.get();
#endif
  return mangled;
}

}  // namespace sluice::detail
