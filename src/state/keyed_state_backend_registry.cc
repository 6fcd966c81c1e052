// The keyed state backends a job can choose by name (--state.backend, SetStateBackend).
// Adding a backend: its own file with a factory function, and one line in kBackends.
#include <sluice/state/detail/keyed_state_backend.h>

#include <string>

#include "state/heap_keyed_state_backend.h"

namespace sluice::detail {
namespace {

struct Registration {
  std::string_view name;
  Result<std::unique_ptr<KeyedStateBackend>> (*create)(const KeyedStateBackendParameters&);
};

// The first is the default (kDefaultStateBackend).
constexpr Registration kBackends[] = {
    {HeapKeyedStateBackend::kName, &CreateHeapKeyedStateBackend},
};

static_assert(kBackends[0].name == kDefaultStateBackend);

}  // namespace

std::vector<std::string_view> KeyedStateBackendNames() {
  std::vector<std::string_view> names;
  for (const Registration& backend : kBackends) names.push_back(backend.name);
  return names;
}

Status CheckStateBackendName(std::string_view name) {
  std::string known;
  for (const Registration& backend : kBackends) {
    if (backend.name == name) return Status::Ok();
    if (!known.empty()) known += ", ";
    known += backend.name;
  }
  return Status::InvalidArgument("unknown state backend '" + std::string(name) +
                                 "'; the state backends are: " + known);
}

Result<std::unique_ptr<KeyedStateBackend>> CreateKeyedStateBackend(
    std::string_view name, const KeyedStateBackendParameters& parameters) {
  for (const Registration& backend : kBackends) {
    if (backend.name == name) return backend.create(parameters);
  }
  return CheckStateBackendName(name);
}

}  // namespace sluice::detail
