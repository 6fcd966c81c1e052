#include <sluice/version.h>

namespace sluice {

const char* VersionString() noexcept { return SLUICE_VERSION_STRING; }

}  // namespace sluice
