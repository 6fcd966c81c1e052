#include <sluice/state/detail/keyed_state_backend.h>

#include <stdexcept>
#include <string>

namespace sluice::detail {

std::string_view KeyedStateKindName(KeyedStateKind kind) {
  switch (kind) {
    case KeyedStateKind::kValue:
      return "value";
    case KeyedStateKind::kList:
      return "list";
    case KeyedStateKind::kMap:
      return "map";
    case KeyedStateKind::kReducing:
      return "reducing";
    case KeyedStateKind::kAggregating:
      return "aggregating";
  }
  return "unknown";
}

void ThrowNoCurrentKey(std::string_view operator_name, std::string_view state_name) {
  throw std::logic_error("keyed state '" + std::string(state_name) + "' of operator '" +
                         std::string(operator_name) +
                         "' was accessed without a current key; keyed state can be used only "
                         "while an element or timer of a keyed stream is processed (not in "
                         "Open or Close)");
}

void ThrowDuplicateRestoredKey(std::string_view state_name, std::size_t offset) {
  ThrowSerializationError("keyed state '" + std::string(state_name) + "'", offset,
                          "the same key appears twice in one key group (corrupt input)");
}

KeyedStateBackend::KeyedStateBackend(const KeyedStateBackendParameters& parameters)
    : parameters_(parameters),
      key_group_start_(parameters.key_group_start),
      key_group_end_(parameters.key_group_end) {
  if (key_group_start_ < 0 || key_group_end_ < key_group_start_ - 1) {
    throw std::logic_error("keyed state backend of operator '" + parameters_.operator_name +
                           "': invalid key group range [" + std::to_string(key_group_start_) +
                           ", " + std::to_string(key_group_end_) + "]");
  }
}

KeyedStateBackend::~KeyedStateBackend() = default;

std::size_t KeyedStateBackend::IndexOf(std::int32_t key_group, std::string_view caller) const {
  if (key_group < key_group_start_ || key_group > key_group_end_) {
    ThrowKeyGroupOutOfRange(key_group, caller);
  }
  return static_cast<std::size_t>(key_group - key_group_start_);
}

void KeyedStateBackend::ThrowKeyGroupOutOfRange(std::int32_t key_group,
                                                std::string_view caller) const {
  throw std::logic_error(
      std::string(caller) + " of operator '" + parameters_.operator_name + "': key group " +
      std::to_string(key_group) + " is outside this instance's key group range [" +
      std::to_string(key_group_start_) + ", " + std::to_string(key_group_end_) + "]");
}

}  // namespace sluice::detail
