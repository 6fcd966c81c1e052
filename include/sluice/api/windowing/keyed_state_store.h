// KeyedStateStore: keyed state handed to window functions and triggers (Flink's
// KeyedStateStore): ProcessWindowFunction's Context::GlobalState() (per key, as
// RuntimeContext::GetState) and Context::WindowState() (per key and window), and a trigger's
// TriggerContext::GetPartitionedState (per key and window).
//
// Per-window state is ordinary keyed state whose key is the record key followed by the
// window (Flink's namespace), so it is checkpointed, rescaled and written to the state
// changelog like any other keyed state. A state name is one state: the same name read through
// GlobalState() and WindowState() is one state under two keys, as in Flink.
//
// Thread safety: none; use it only inside the callback that received it, on the task thread.
// Ownership: the window operator owns the store and the state objects it returns; references
// stay valid until the operator closes. Do not keep a per-window state object across windows:
// ask for it again in each call (it refers to the window of the call that asked).
// Errors: one name asked for with two kinds or types throws std::logic_error (as RuntimeContext).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <sluice/state/detail/keyed_state_backend.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>

namespace sluice {
namespace detail {

/// Makes the backend's current key the one a store's states are scoped to (record key and
/// window) for the duration of one state access, and restores it afterwards.
class NamespaceScope {
 public:
  virtual ~NamespaceScope() = default;
  virtual void Enter() = 0;
  virtual void Leave() = 0;
};

class ScopedStateBase {
 public:
  virtual ~ScopedStateBase() = default;
};

// Enter on construction, Leave on destruction (also when the access throws).
class ScopeGuard {
 public:
  explicit ScopeGuard(NamespaceScope& scope) : scope_(scope) { scope_.Enter(); }
  ~ScopeGuard() { scope_.Leave(); }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  NamespaceScope& scope_;
};

template <typename T>
class ScopedValueState final : public ValueState<T>, public ScopedStateBase {
 public:
  ScopedValueState(ValueState<T>& inner, NamespaceScope& scope) : inner_(inner), scope_(scope) {}
  std::optional<T> Value() const override {
    ScopeGuard guard(scope_);
    return inner_.Value();
  }
  void Update(T value) override {
    ScopeGuard guard(scope_);
    inner_.Update(std::move(value));
  }
  void Clear() override {
    ScopeGuard guard(scope_);
    inner_.Clear();
  }

 private:
  ValueState<T>& inner_;
  NamespaceScope& scope_;
};

template <typename T>
class ScopedListState final : public ListState<T>, public ScopedStateBase {
 public:
  ScopedListState(ListState<T>& inner, NamespaceScope& scope) : inner_(inner), scope_(scope) {}
  std::vector<T> Get() const override {
    ScopeGuard guard(scope_);
    return inner_.Get();
  }
  void Add(T value) override {
    ScopeGuard guard(scope_);
    inner_.Add(std::move(value));
  }
  void AddAll(std::vector<T> values) override {
    ScopeGuard guard(scope_);
    inner_.AddAll(std::move(values));
  }
  void Update(std::vector<T> values) override {
    ScopeGuard guard(scope_);
    inner_.Update(std::move(values));
  }
  void Clear() override {
    ScopeGuard guard(scope_);
    inner_.Clear();
  }

 private:
  ListState<T>& inner_;
  NamespaceScope& scope_;
};

template <typename UK, typename UV>
class ScopedMapState final : public MapState<UK, UV>, public ScopedStateBase {
 public:
  ScopedMapState(MapState<UK, UV>& inner, NamespaceScope& scope) : inner_(inner), scope_(scope) {}
  std::optional<UV> Get(const UK& key) const override {
    ScopeGuard guard(scope_);
    return inner_.Get(key);
  }
  void Put(UK key, UV value) override {
    ScopeGuard guard(scope_);
    inner_.Put(std::move(key), std::move(value));
  }
  void Remove(const UK& key) override {
    ScopeGuard guard(scope_);
    inner_.Remove(key);
  }
  bool Contains(const UK& key) const override {
    ScopeGuard guard(scope_);
    return inner_.Contains(key);
  }
  bool IsEmpty() const override {
    ScopeGuard guard(scope_);
    return inner_.IsEmpty();
  }
  std::map<UK, UV> Entries() const override {
    ScopeGuard guard(scope_);
    return inner_.Entries();
  }
  void Clear() override {
    ScopeGuard guard(scope_);
    inner_.Clear();
  }

 private:
  MapState<UK, UV>& inner_;
  NamespaceScope& scope_;
};

template <typename T>
class ScopedReducingState final : public ReducingState<T>, public ScopedStateBase {
 public:
  ScopedReducingState(ReducingState<T>& inner, NamespaceScope& scope)
      : inner_(inner), scope_(scope) {}
  std::optional<T> Get() const override {
    ScopeGuard guard(scope_);
    return inner_.Get();
  }
  void Add(T value) override {
    ScopeGuard guard(scope_);
    inner_.Add(std::move(value));
  }
  void Clear() override {
    ScopeGuard guard(scope_);
    inner_.Clear();
  }

 private:
  ReducingState<T>& inner_;
  NamespaceScope& scope_;
};

template <typename In, typename Out>
class ScopedAggregatingState final : public AggregatingState<In, Out>, public ScopedStateBase {
 public:
  ScopedAggregatingState(AggregatingState<In, Out>& inner, NamespaceScope& scope)
      : inner_(inner), scope_(scope) {}
  std::optional<Out> Get() const override {
    ScopeGuard guard(scope_);
    return inner_.Get();
  }
  void Add(In value) override {
    ScopeGuard guard(scope_);
    inner_.Add(std::move(value));
  }
  void Clear() override {
    ScopeGuard guard(scope_);
    inner_.Clear();
  }

 private:
  AggregatingState<In, Out>& inner_;
  NamespaceScope& scope_;
};

}  // namespace detail

class KeyedStateStore {
 public:
  /// Runtime side. Without `scope`, states refer to the backend's current key as set by the
  /// caller; with one, every access runs inside scope->Enter() / Leave().
  explicit KeyedStateStore(detail::KeyedStateBackend* backend,
                           detail::NamespaceScope* scope = nullptr)
      : backend_(backend), scope_(scope) {}
  KeyedStateStore(const KeyedStateStore&) = delete;
  KeyedStateStore& operator=(const KeyedStateStore&) = delete;

  template <typename T>
  ValueState<T>& GetState(const ValueStateDescriptor<T>& descriptor) {
    return Scoped<detail::ScopedValueState<T>>(backend().GetValueState(descriptor));
  }
  template <typename T>
  ListState<T>& GetListState(const ListStateDescriptor<T>& descriptor) {
    return Scoped<detail::ScopedListState<T>>(backend().GetListState(descriptor));
  }
  template <typename UK, typename UV>
  MapState<UK, UV>& GetMapState(const MapStateDescriptor<UK, UV>& descriptor) {
    return Scoped<detail::ScopedMapState<UK, UV>>(backend().GetMapState(descriptor));
  }
  template <typename T>
  ReducingState<T>& GetReducingState(const ReducingStateDescriptor<T>& descriptor) {
    return Scoped<detail::ScopedReducingState<T>>(backend().GetReducingState(descriptor));
  }
  template <typename In, typename Acc, typename Out>
  AggregatingState<In, Out>& GetAggregatingState(
      const AggregatingStateDescriptor<In, Acc, Out>& descriptor) {
    return Scoped<detail::ScopedAggregatingState<In, Out>>(
        backend().GetAggregatingState(descriptor));
  }

 private:
  detail::KeyedStateBackend& backend() {
    if (backend_ == nullptr) throw std::logic_error("keyed state used outside a keyed stream");
    return *backend_;
  }
  // The backend's object itself when unscoped; else one wrapper per state object.
  template <typename Wrapper, typename Inner>
  Inner& Scoped(Inner& inner) {
    if (scope_ == nullptr) return inner;
    std::unique_ptr<detail::ScopedStateBase>& wrapper = wrappers_[&inner];
    if (wrapper == nullptr) wrapper = std::make_unique<Wrapper>(inner, *scope_);
    return static_cast<Wrapper&>(*wrapper);
  }

  detail::KeyedStateBackend* backend_;
  detail::NamespaceScope* scope_;
  std::map<const void*, std::unique_ptr<detail::ScopedStateBase>> wrappers_;
};

}  // namespace sluice
