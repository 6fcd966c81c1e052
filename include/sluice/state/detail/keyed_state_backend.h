// KeyedStateBackend: where the keyed state of one operator instance lives (Flink's
// KeyedStateBackend, with the key context of AbstractKeyedStateBackend and the per-key-group
// snapshot of CheckpointableKeyedStateBackend). RuntimeContext::GetState / GetListState /
// GetMapState / GetReducingState, the keyed operators and the operator test harness use this
// interface only; which implementation runs is chosen by name (--state.backend, or
// StreamExecutionEnvironment::SetStateBackend) through CreateKeyedStateBackend. Implementation
// detail: the typed accessors are templates instantiated in user code; not a stable interface.
//
// Backends (src/state/): "heap" (HeapKeyedStateBackend, the default): hash tables of C++
// objects per key group. A new backend is one new file plus one line in
// src/state/keyed_state_backend_registry.cc.
//
// How state is created (by descriptor): the typed accessors build a KeyedStateSpec (name, kind,
// type name) and a KeyedStateFactory for the descriptor, and ask the backend for the state of
// that name. The backend checks the spec against what it holds under the name (registered, or
// restored from a checkpoint) and, the first time, has the factory make the state object of its
// storage model: a heap backend calls CreateHeapState, which makes HeapValueState<T> and friends
// (heap_keyed_state.h). A backend that keeps serialized bytes (RocksDB) would add one such
// method for its model, made once here for every descriptor type.
//
// Snapshots are per key group (SnapshotKeyGroup / RestoreKeyGroup), so rescaling moves whole
// key groups and the runtime streams a state file one key group at a time. The bytes of a
// section are the backend's own format, versioned by the backend; the heap backend's is
// documented in src/state/heap_keyed_state_backend.h. A backend created with track_changes also
// reports, per key group, which keys were written since ClearChanges (VisitChanges): what a
// changelog backend writes at each checkpoint; MarkAllChanged makes that everything, for a
// changelog written in full.
//
// Thread safety: none. The backend and every state object it returns are used only by the task
// thread of the operator instance that owns it.
// Ownership: the runtime (or the test harness) owns the backend; the backend owns its state
// objects, so references returned by the accessors stay valid until the backend is destroyed.
// State objects point at the backend's current key: a backend never moves.
// Errors: std::logic_error for bugs in the job or the runtime: a key group outside the range, a
// state accessed without a current key, one state name requested with two kinds or types (also
// against the type recorded in restored bytes). SerializationError: restored bytes that cannot
// be decoded or carry an unknown section version.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sluice/state/data_io.h>
#include <sluice/state/detail/heap_keyed_state.h>
#include <sluice/state/detail/internal_keyed_state.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>
#include <sluice/status.h>

namespace sluice::detail {

/// The backend used when nothing else is configured.
inline constexpr std::string_view kDefaultStateBackend = "heap";

/// Everything a backend is created with: one operator instance and its key groups.
struct KeyedStateBackendParameters {
  /// For messages.
  std::string operator_name;
  /// The operator's uid (its identity across restarts), e.g. to name a changelog.
  std::string operator_uid;
  /// The inclusive key group range of the instance. An empty range (end == start - 1) is
  /// allowed; any other end < start, or a negative start, is a std::logic_error.
  std::int32_t key_group_start = 0;
  std::int32_t key_group_end = -1;
  /// The job's number of key groups.
  std::int32_t max_parallelism = 128;
  /// Record which keys each write touches, for VisitChanges (off: no cost but a branch).
  bool track_changes = false;
};

/// Identifies a state being asked for: what the backend checks against what it holds.
struct KeyedStateSpec {
  const std::string& name;
  KeyedStateKind kind;
  /// TypeNameOf the stored type (for a list the element type T, for a map std::map<UK, UV>).
  /// A function rather than a string: it allocates, and the common repeated request for a
  /// registered state never needs it.
  std::string (*type_name)();
};

/// Makes the state object of one descriptor, in the storage model of the backend that calls it,
/// and checks that an existing state object is the one the descriptor asks for.
class KeyedStateFactory {
 public:
  virtual ~KeyedStateFactory() = default;
  /// A heap state object (HeapValueState<T>, ...).
  virtual std::unique_ptr<HeapStateTable> CreateHeapState(
      const HeapStateContext& context) const = 0;
  /// True if `state` implements the typed interface of the descriptor (ValueState<T>, ...);
  /// the accessor then returns it. False for another kind or C++ type.
  virtual bool Bind(InternalKeyedState& state) const = 0;
};

/// One change of keyed state since the last ClearChanges (KeyedStateBackend::VisitChanges).
struct KeyedStateChange {
  std::string_view state_name;
  KeyedStateKind kind;
  std::string_view type_name;
  /// The key as the operator serialized it.
  std::string_view key;
  /// The key's value now, written by SerializeValue of the stored type (the bytes of a snapshot
  /// entry); nullopt when the key has no value any more (a tombstone).
  std::optional<std::string_view> value;
};

class KeyedStateBackend {
 public:
  /// Throws std::logic_error for an invalid key group range (see KeyedStateBackendParameters).
  explicit KeyedStateBackend(const KeyedStateBackendParameters& parameters);
  virtual ~KeyedStateBackend();
  KeyedStateBackend(const KeyedStateBackend&) = delete;
  KeyedStateBackend& operator=(const KeyedStateBackend&) = delete;

  /// The name the backend is registered under ("heap").
  virtual std::string_view name() const = 0;

  // ---- key context (runtime side). Not virtual: it runs for every record. ----

  /// Makes `key_bytes` (the key as the operator serialized it) the key that state accesses
  /// refer to, until the next call. Copies the bytes; allocates only when they are longer than
  /// any key before. A key group outside the range throws std::logic_error (a runtime bug).
  void SetCurrentKey(std::string_view key_bytes, std::int32_t key_group) {
    if (key_group < key_group_start_ || key_group > key_group_end_) [[unlikely]] {
      ThrowKeyGroupOutOfRange(key_group, "SetCurrentKey");
    }
    current_.bytes.assign(key_bytes.data(), key_bytes.size());
    current_.hash = KeyBytesHash{}(key_bytes);
    current_.key_group = key_group;
    current_.index = key_group - key_group_start_;
  }
  /// The current key's bytes; empty before the first SetCurrentKey.
  std::string_view current_key() const { return current_.bytes; }
  /// The current key group; -1 before the first SetCurrentKey.
  std::int32_t current_key_group() const { return current_.key_group; }

  std::int32_t key_group_start() const { return key_group_start_; }
  std::int32_t key_group_end() const { return key_group_end_; }
  const std::string& operator_name() const { return parameters_.operator_name; }
  const KeyedStateBackendParameters& parameters() const { return parameters_; }
  bool tracks_changes() const { return parameters_.track_changes; }

  // ---- state by descriptor (user side, through RuntimeContext) ----
  // The first call for a name registers the state (decoding any restored bytes of that name);
  // later calls return the same object, whose default value / reduce function are those of the
  // first descriptor. A name already used with another kind or type throws std::logic_error.

  template <typename T>
  ValueState<T>& GetValueState(const ValueStateDescriptor<T>& descriptor) {
    return Get<ValueState<T>, HeapValueState<T>>(descriptor, KeyedStateKind::kValue,
                                                 &TypeNameOf<T>);
  }
  template <typename T>
  ListState<T>& GetListState(const ListStateDescriptor<T>& descriptor) {
    return Get<ListState<T>, HeapListState<T>>(descriptor, KeyedStateKind::kList, &TypeNameOf<T>);
  }
  template <typename UK, typename UV>
  MapState<UK, UV>& GetMapState(const MapStateDescriptor<UK, UV>& descriptor) {
    return Get<MapState<UK, UV>, HeapMapState<UK, UV>>(descriptor, KeyedStateKind::kMap,
                                                       &TypeNameOf<std::map<UK, UV>>);
  }
  template <typename T>
  ReducingState<T>& GetReducingState(const ReducingStateDescriptor<T>& descriptor) {
    return Get<ReducingState<T>, HeapReducingState<T>>(descriptor, KeyedStateKind::kReducing,
                                                       &TypeNameOf<T>);
  }
  template <typename In, typename Acc, typename Out>
  AggregatingState<In, Out>& GetAggregatingState(
      const AggregatingStateDescriptor<In, Acc, Out>& descriptor) {
    return Get<AggregatingState<In, Out>, HeapAggregatingState<In, Acc, Out>>(
        descriptor, KeyedStateKind::kAggregating, &TypeNameOf<Acc>);
  }

  // ---- snapshot and restore, one key group at a time (runtime side) ----

  /// Writes the section of `key_group` (in range, else std::logic_error): every state with
  /// entries in it, including restored states not registered by the job.
  virtual void SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const = 0;
  /// Reads one section written by SnapshotKeyGroup of a backend of the same name, by this or any
  /// other instance, for a key group in this backend's range, at most once per key group (else
  /// std::logic_error). Throws SerializationError for undecodable bytes or an unknown version.
  virtual void RestoreKeyGroup(std::int32_t key_group, DataInput& in) = 0;
  /// Registered and restored-but-unregistered states, in ascending order.
  virtual std::vector<std::string> StateNames() const = 0;
  /// The keys with a value in the registered state `state_name`, each with its key group, in
  /// key group order (keys as the operator serialized them): what a keyed broadcast operator's
  /// ApplyToKeyedState visits. A copy, so the caller may change the state while going through
  /// them. Empty for a name that is not registered (a state is registered by its accessor).
  virtual std::vector<std::pair<std::int32_t, std::string>> GetKeys(
      std::string_view state_name) const = 0;

  // ---- changes since the last ClearChanges (for changelog / incremental snapshots) ----

  using ChangeVisitor = std::function<void(const KeyedStateChange&)>;
  /// Calls `visit` once per (state, key) of `key_group` written since the last ClearChanges (or
  /// since the backend was created), with the key's value now or a tombstone. States in name
  /// order, keys in no particular order; a key rewritten with an equal value may be included.
  /// Restoring records no changes. std::logic_error without track_changes or for a key group
  /// out of range.
  virtual void VisitChanges(std::int32_t key_group, const ChangeVisitor& visit) const = 0;
  /// Forgets every recorded change (once they are written: at a checkpoint).
  virtual void ClearChanges() = 0;
  /// Records every key the backend holds now, in every state and key group, as changed, so
  /// that VisitChanges reports each with its value: for a changelog that must be written in
  /// full (the first checkpoint after a restore from a local snapshot or a savepoint, which the
  /// changelog may not cover). Keys written afterwards are recorded as usual; key groups
  /// restored afterwards are not marked.
  /// A restored state the job has not registered yet is reported too, its entries split from
  /// the restored bytes, keys and value bytes as they were written. Only bytes of a format that
  /// cannot be split without the value type (a heap backend's checkpoint of an earlier release)
  /// are not: their key groups are marked instead, the mark survives ClearChanges, and when the
  /// job registers the state every key decoded from them counts as changed.
  /// Cost: a copy of every key in the change sets until the next ClearChanges.
  /// std::logic_error without track_changes.
  virtual void MarkAllChanged() = 0;

 protected:
  /// The state object called spec.name, created with `factory` on first use. Checks spec (kind,
  /// type name) against a restored state of that name, and calls factory.Bind on the object it
  /// returns, throwing std::logic_error naming both sides when either does not match: the
  /// accessor returns what Bind accepted.
  virtual InternalKeyedState& GetOrCreateState(const KeyedStateSpec& spec,
                                               const KeyedStateFactory& factory) = 0;

  const CurrentKey& current() const { return current_; }
  std::size_t KeyGroupCount() const {
    return static_cast<std::size_t>(std::int64_t{key_group_end_} - key_group_start_ + 1);
  }
  /// key_group - key_group_start; std::logic_error naming `caller` when out of range.
  std::size_t IndexOf(std::int32_t key_group, std::string_view caller) const;
  [[noreturn]] void ThrowKeyGroupOutOfRange(std::int32_t key_group, std::string_view caller) const;

 private:
  // For one descriptor: the heap object Impl, bound to the typed interface Interface.
  template <typename Interface, typename Impl, typename Descriptor>
  class DescriptorFactory final : public KeyedStateFactory {
   public:
    explicit DescriptorFactory(const Descriptor& descriptor) : descriptor_(descriptor) {}
    std::unique_ptr<HeapStateTable> CreateHeapState(
        const HeapStateContext& context) const override {
      return std::make_unique<Impl>(descriptor_, context);
    }
    bool Bind(InternalKeyedState& state) const override {
      bound_ = dynamic_cast<Interface*>(&state);
      return bound_ != nullptr;
    }
    Interface& bound() const { return *bound_; }

   private:
    const Descriptor& descriptor_;
    mutable Interface* bound_ = nullptr;
  };

  template <typename Interface, typename Impl, typename Descriptor>
  Interface& Get(const Descriptor& descriptor, KeyedStateKind kind, std::string (*type_name)()) {
    const DescriptorFactory<Interface, Impl, Descriptor> factory(descriptor);
    GetOrCreateState(KeyedStateSpec{descriptor.name(), kind, type_name}, factory);
    return factory.bound();
  }

  KeyedStateBackendParameters parameters_;
  std::int32_t key_group_start_;
  std::int32_t key_group_end_;
  CurrentKey current_;
};

// ---- choosing a backend by name ----

/// The names CreateKeyedStateBackend accepts, the default ("heap") first.
std::vector<std::string_view> KeyedStateBackendNames();

/// OK if `name` is a registered backend; otherwise InvalidArgument "unknown state backend
/// '<name>'; the state backends are: heap".
Status CheckStateBackendName(std::string_view name);

/// A new backend of the registered name. InvalidArgument for an unknown name (as
/// CheckStateBackendName); a backend that cannot start (e.g. cannot open its files) returns
/// its own error. An invalid key group range is a std::logic_error (a runtime bug).
Result<std::unique_ptr<KeyedStateBackend>> CreateKeyedStateBackend(
    std::string_view name, const KeyedStateBackendParameters& parameters);

}  // namespace sluice::detail
