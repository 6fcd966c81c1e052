// Strong types for ids that are easy to mix up: passing an offset where a checkpoint id is
// expected does not compile.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace sluice {

template <typename Tag, typename Rep>
class StrongId {
 public:
  using rep_type = Rep;
  constexpr StrongId() noexcept = default;
  constexpr explicit StrongId(Rep value) noexcept : value_(value) {}
  constexpr Rep value() const noexcept { return value_; }
  constexpr auto operator<=>(const StrongId&) const noexcept = default;
  friend std::ostream& operator<<(std::ostream& os, StrongId id) { return os << id.value_; }

 private:
  Rep value_{};
};

using CheckpointId = StrongId<struct CheckpointIdTag, int64_t>;
using SubtaskIndex = StrongId<struct SubtaskIndexTag, int32_t>;

}  // namespace sluice

template <typename Tag, typename Rep>
struct std::hash<sluice::StrongId<Tag, Rep>> {
  size_t operator()(sluice::StrongId<Tag, Rep> id) const noexcept {
    return std::hash<Rep>{}(id.value());
  }
};
