// What every keyed state backend and the state objects it hands out share: the kinds of keyed
// state, the current key, and the untyped base of a state object. Implementation detail of
// RuntimeContext's keyed state (see keyed_state_backend.h); not a stable interface.
//
// Thread safety: none; everything here is used by the task thread of one operator instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::detail {

/// The kind of a keyed state, as written into key-group sections (values fixed forever).
enum class KeyedStateKind : std::uint8_t {
  kValue = 0,
  kList = 1,
  kMap = 2,
  kReducing = 3,
  kAggregating = 4,
};

/// The largest KeyedStateKind value; a section naming a larger one is corrupt or newer.
inline constexpr std::uint8_t kLastKeyedStateKind =
    static_cast<std::uint8_t>(KeyedStateKind::kAggregating);

/// "value", "list", "map", "reducing" or "aggregating" (for messages).
std::string_view KeyedStateKindName(KeyedStateKind kind);

/// The key that state accesses refer to, as set by KeyedStateBackend::SetCurrentKey: its bytes
/// (the key as the operator serialized it), their hash, computed once per key rather than once
/// per state access, and its key group. Owned by the backend; state objects read it.
struct CurrentKey {
  std::string bytes;
  std::size_t hash = 0;
  std::int32_t key_group = -1;
  /// key_group - the backend's first key group, or -1 while no key is set.
  std::int32_t index = -1;
};

/// The untyped side of every keyed state object a backend hands out (ValueState<T>, ...), by
/// which the backend owns it (Flink's InternalKvState). Each backend derives its own tables from
/// it; the typed side is the ValueState<T> / ListState<T> / ... interface the object also
/// implements.
class InternalKeyedState {
 public:
  virtual ~InternalKeyedState() = default;
};

/// std::logic_error: keyed state used while no key is set (in Open or Close).
[[noreturn]] void ThrowNoCurrentKey(std::string_view operator_name, std::string_view state_name);

}  // namespace sluice::detail
