// KeyedStateStore: the heap backend of keyed state for one operator instance (the store behind
// RuntimeContext::GetState / GetListState / GetMapState / GetReducingState). Implementation
// detail: templates here are instantiated in user code, but this is not a stable interface.
//
// Layout: per registered state, one hash table per key group of the instance's inclusive range
// [key_group_start, key_group_end], indexed by key_group - key_group_start. Keys are held as the
// bytes the operator serialized them to (SetCurrentKey), so the store is not templated on the
// key type and its snapshots need no key serializer.
//
// Byte format of one key-group section (SnapshotKeyGroup / RestoreKeyGroup), part of the
// checkpoint format (tests/unit/state/keyed_state_store_test.cc pins exact bytes):
//
//   u8 kKeyedSectionVersion (1)
//   varint number of states that follow
//   per state, in ascending name order:
//     string name
//     u8 kind (KeyedStateKind: 0 value, 1 list, 2 map, 3 reducing)
//     string type name: TypeNameOf<T>() of the value type; for a list the element type T,
//                       for a map "map<UK,UV>" (TypeNameOf<std::map<UK, UV>>())
//     string payload:   varint number of entries, then per entry:
//                         string key bytes
//                         the value by SerializeValue: T (value, reducing), std::vector<T>
//                         (list), std::map<UK, UV> (map)
//
// ("string" is DataOutput::WriteString: varint length, then the bytes.) States without entries
// in the key group are omitted; entries are in hash-table order, so equal state may give
// different bytes: compare decoded values, not snapshots. Lists and maps never hold an empty
// entry: emptying one erases the key's entry.
//
// Restored state that the job has not registered (yet) stays as the raw payload bytes of each
// key group, type-checked and decoded when the job first asks for the state, and written back
// unchanged by SnapshotKeyGroup until then, so state of a function that is not opened in one
// run survives into the next checkpoint.
//
// Thread safety: none. The store and every state object it returns are used only by the task
// thread of the operator instance that owns it.
// Ownership: the runtime owns the store; the store owns its state objects, so references
// returned by Get*State stay valid until the store is destroyed.
// Errors: std::logic_error (bugs in the job or the runtime): a key group outside the range, a
// state accessed without a current key, one state name requested with two kinds or types (also
// against the type recorded in restored bytes). SerializationError: restored bytes that cannot
// be decoded or carry an unknown section version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <sluice/state/data_io.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>

namespace sluice::detail {

/// The format version written at the start of every key-group section.
inline constexpr std::uint8_t kKeyedSectionVersion = 1;

/// The kind of a keyed state, as written into key-group sections (values fixed forever).
enum class KeyedStateKind : std::uint8_t { kValue = 0, kList = 1, kMap = 2, kReducing = 3 };

/// "value", "list", "map" or "reducing" (for messages).
std::string_view KeyedStateKindName(KeyedStateKind kind);

/// The current key as tables look it up: its bytes and their hash, computed once per
/// SetCurrentKey rather than once per state access.
struct KeyBytesRef {
  std::string_view bytes;
  std::size_t hash = 0;
  friend bool operator==(const KeyBytesRef& key, std::string_view other) noexcept {
    return key.bytes == other;
  }
};

/// Transparent hash over key bytes: a table keyed by std::string is searched with a
/// std::string_view or a KeyBytesRef without building a std::string.
struct KeyBytesHash {
  using is_transparent = void;
  // Deliberately not noexcept: libstdc++ then keeps each key's hash in its node, so a table
  // that grows does not rehash every key and a lookup compares bytes only on equal hashes.
  std::size_t operator()(std::string_view bytes) const {
    return std::hash<std::string_view>{}(bytes);
  }
  std::size_t operator()(const KeyBytesRef& key) const noexcept { return key.hash; }
};

/// The entries of one state in one key group: serialized key -> value.
template <typename V>
using KeyBytesMap = std::unordered_map<std::string, V, KeyBytesHash, std::equal_to<>>;

/// What the store's tables read on every access: the current key. Owned by the store.
struct CurrentKey {
  std::string bytes;
  std::size_t hash = 0;
  std::int32_t key_group = -1;
  /// key_group - key_group_start, or -1 while no key is set.
  std::int32_t index = -1;
};

[[noreturn]] void ThrowNoCurrentKey(std::string_view operator_name, std::string_view state_name);
[[noreturn]] void ThrowDuplicateRestoredKey(std::string_view state_name, std::size_t offset);

/// The type-erased side of one registered keyed state: how the store snapshots and restores it.
class KeyedStateTable {
 public:
  virtual ~KeyedStateTable() = default;
  virtual bool HasEntries(std::size_t index) const = 0;
  /// Writes the payload of key group index (see the format at the top of this file).
  virtual void WritePayload(std::size_t index, DataOutput& out) const = 0;
  /// Adds the entries of a payload to key group index.
  virtual void ReadPayload(std::size_t index, DataInput& in) = 0;
};

/// The tables of one state, all key groups, with the lookups the state kinds share.
/// kDropEmpty: list and map values; an empty one is never stored.
template <typename Stored, bool kDropEmpty>
class HeapKeyedTable : public KeyedStateTable {
 public:
  bool HasEntries(std::size_t index) const final { return !tables_[index].empty(); }

  void WritePayload(std::size_t index, DataOutput& out) const final {
    const KeyBytesMap<Stored>& table = tables_[index];
    out.WriteVarU64(table.size());
    for (const auto& [key, value] : table) {
      out.WriteString(key);
      SerializeValue<Stored>(value, out);
    }
  }

  void ReadPayload(std::size_t index, DataInput& in) final {
    KeyBytesMap<Stored>& table = tables_[index];
    const std::uint64_t count = in.ReadVarU64();
    // Every entry takes at least two bytes, so the bytes left bound a corrupt count.
    table.reserve(table.size() +
                  static_cast<std::size_t>(count < in.remaining() ? count : in.remaining()));
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::size_t offset = in.position();
      std::string key = in.ReadString();
      Stored value = DeserializeValue<Stored>(in);
      if constexpr (kDropEmpty) {
        if (value.empty()) continue;
      }
      if (!table.emplace(std::move(key), std::move(value)).second) [[unlikely]] {
        ThrowDuplicateRestoredKey(state_name_, offset);
      }
    }
  }

 protected:
  HeapKeyedTable(const CurrentKey& current, const std::string& operator_name,
                 std::string state_name, std::size_t key_groups)
      : current_(current),
        operator_name_(operator_name),
        state_name_(std::move(state_name)),
        tables_(key_groups) {}

  /// The current key's value, or null.
  const Stored* Lookup() const {
    const KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    return it == table.end() ? nullptr : &it->second;
  }
  Stored* Lookup() {
    KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    return it == table.end() ? nullptr : &it->second;
  }
  /// The current key's value, default-constructed first if absent.
  Stored& LookupOrInsert() {
    KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    if (it != table.end()) return it->second;
    return table.emplace(std::string(current_.bytes), Stored{}).first->second;
  }
  /// Sets the current key's value; an existing entry keeps its key string.
  void Assign(Stored value) {
    KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    if (it != table.end()) {
      it->second = std::move(value);
    } else {
      table.emplace(std::string(current_.bytes), std::move(value));
    }
  }
  void EraseCurrent() {
    KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    if (it != table.end()) table.erase(it);
  }

 private:
  KeyBytesRef Ref() const { return KeyBytesRef{current_.bytes, current_.hash}; }
  const KeyBytesMap<Stored>& CurrentTable() const {
    if (current_.index < 0) [[unlikely]]
      ThrowNoCurrentKey(operator_name_, state_name_);
    return tables_[static_cast<std::size_t>(current_.index)];
  }
  KeyBytesMap<Stored>& CurrentTable() {
    if (current_.index < 0) [[unlikely]]
      ThrowNoCurrentKey(operator_name_, state_name_);
    return tables_[static_cast<std::size_t>(current_.index)];
  }

  const CurrentKey& current_;
  const std::string& operator_name_;
  std::string state_name_;
  std::vector<KeyBytesMap<Stored>> tables_;
};

template <typename T>
class HeapValueState final : public ValueState<T>, public HeapKeyedTable<T, false> {
 public:
  HeapValueState(const ValueStateDescriptor<T>& descriptor, const CurrentKey& current,
                 const std::string& operator_name, std::size_t key_groups)
      : HeapKeyedTable<T, false>(current, operator_name, descriptor.name(), key_groups),
        default_value_(descriptor.default_value()) {}

  std::optional<T> Value() const override {
    if (const T* value = this->Lookup()) return *value;
    return default_value_;
  }
  void Update(T value) override { this->Assign(std::move(value)); }
  void Clear() override { this->EraseCurrent(); }

 private:
  std::optional<T> default_value_;
};

template <typename T>
class HeapListState final : public ListState<T>, public HeapKeyedTable<std::vector<T>, true> {
 public:
  HeapListState(const ListStateDescriptor<T>& descriptor, const CurrentKey& current,
                const std::string& operator_name, std::size_t key_groups)
      : HeapKeyedTable<std::vector<T>, true>(current, operator_name, descriptor.name(),
                                             key_groups) {}

  std::vector<T> Get() const override {
    if (const std::vector<T>* list = this->Lookup()) return *list;
    return {};
  }
  void Add(T value) override { this->LookupOrInsert().push_back(std::move(value)); }
  void AddAll(std::vector<T> values) override {
    if (values.empty()) return;
    if (std::vector<T>* list = this->Lookup()) {
      list->insert(list->end(), std::make_move_iterator(values.begin()),
                   std::make_move_iterator(values.end()));
    } else {
      this->Assign(std::move(values));
    }
  }
  void Update(std::vector<T> values) override {
    if (values.empty()) {
      this->EraseCurrent();
    } else {
      this->Assign(std::move(values));
    }
  }
  void Clear() override { this->EraseCurrent(); }
};

template <typename UK, typename UV>
class HeapMapState final : public MapState<UK, UV>, public HeapKeyedTable<std::map<UK, UV>, true> {
 public:
  HeapMapState(const MapStateDescriptor<UK, UV>& descriptor, const CurrentKey& current,
               const std::string& operator_name, std::size_t key_groups)
      : HeapKeyedTable<std::map<UK, UV>, true>(current, operator_name, descriptor.name(),
                                               key_groups) {}

  std::optional<UV> Get(const UK& key) const override {
    const std::map<UK, UV>* map = this->Lookup();
    if (map == nullptr) return std::nullopt;
    const auto it = map->find(key);
    if (it == map->end()) return std::nullopt;
    return it->second;
  }
  void Put(UK key, UV value) override {
    this->LookupOrInsert().insert_or_assign(std::move(key), std::move(value));
  }
  void Remove(const UK& key) override {
    std::map<UK, UV>* map = this->Lookup();
    if (map == nullptr) return;
    map->erase(key);
    if (map->empty()) this->EraseCurrent();
  }
  bool Contains(const UK& key) const override {
    const std::map<UK, UV>* map = this->Lookup();
    return map != nullptr && map->contains(key);
  }
  bool IsEmpty() const override { return this->Lookup() == nullptr; }
  std::map<UK, UV> Entries() const override {
    if (const std::map<UK, UV>* map = this->Lookup()) return *map;
    return {};
  }
  void Clear() override { this->EraseCurrent(); }
};

template <typename T>
class HeapReducingState final : public ReducingState<T>, public HeapKeyedTable<T, false> {
 public:
  HeapReducingState(const ReducingStateDescriptor<T>& descriptor, const CurrentKey& current,
                    const std::string& operator_name, std::size_t key_groups)
      : HeapKeyedTable<T, false>(current, operator_name, descriptor.name(), key_groups),
        reduce_(descriptor.reduce()) {}

  std::optional<T> Get() const override {
    if (const T* value = this->Lookup()) return *value;
    return std::nullopt;
  }
  void Add(T value) override {
    if (T* accumulated = this->Lookup()) {
      // If the reduce function throws, the accumulated value stays as it was.
      *accumulated = reduce_(*accumulated, value);
    } else {
      this->Assign(std::move(value));
    }
  }
  void Clear() override { this->EraseCurrent(); }

 private:
  typename ReducingStateDescriptor<T>::ReduceFunction reduce_;
};

/// Keyed state of one operator instance for the key groups [key_group_start, key_group_end].
/// See the top of this file for the contract and the byte format.
class KeyedStateStore {
 public:
  /// An empty range (key_group_end == key_group_start - 1) is allowed; anything else with
  /// key_group_end < key_group_start, or a negative start, throws std::logic_error.
  KeyedStateStore(std::string operator_name, std::int32_t key_group_start,
                  std::int32_t key_group_end);
  ~KeyedStateStore();
  // State objects point at the store's current key: the store stays where it was made.
  KeyedStateStore(const KeyedStateStore&) = delete;
  KeyedStateStore& operator=(const KeyedStateStore&) = delete;

  // ---- runtime side ----

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
  const std::string& operator_name() const { return operator_name_; }

  /// Writes the section of `key_group` (in range, else std::logic_error): every state with
  /// entries in it, including restored states not registered by the job.
  void SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const;
  /// Reads one section written by SnapshotKeyGroup, by this or any other instance, for a key
  /// group in this store's range, at most once per key group (else std::logic_error). States
  /// already registered take the entries at once (type-checked); the others keep the raw bytes
  /// until registered. Throws SerializationError for undecodable bytes or an unknown version.
  void RestoreKeyGroup(std::int32_t key_group, DataInput& in);
  /// Registered and restored-but-unregistered states, in ascending order.
  std::vector<std::string> StateNames() const;

  // ---- user side (through RuntimeContext) ----
  // The first call for a name registers the state (decoding any restored bytes of that name);
  // later calls return the same object, whose default value / reduce function are those of the
  // first descriptor. A name already used with another kind or type throws std::logic_error.

  template <typename T>
  ValueState<T>& GetValueState(const ValueStateDescriptor<T>& descriptor) {
    return Register<HeapValueState<T>>(descriptor, KeyedStateKind::kValue,
                                       [] { return TypeNameOf<T>(); });
  }
  template <typename T>
  ListState<T>& GetListState(const ListStateDescriptor<T>& descriptor) {
    return Register<HeapListState<T>>(descriptor, KeyedStateKind::kList,
                                      [] { return TypeNameOf<T>(); });
  }
  template <typename UK, typename UV>
  MapState<UK, UV>& GetMapState(const MapStateDescriptor<UK, UV>& descriptor) {
    return Register<HeapMapState<UK, UV>>(descriptor, KeyedStateKind::kMap,
                                          [] { return TypeNameOf<std::map<UK, UV>>(); });
  }
  template <typename T>
  ReducingState<T>& GetReducingState(const ReducingStateDescriptor<T>& descriptor) {
    return Register<HeapReducingState<T>>(descriptor, KeyedStateKind::kReducing,
                                          [] { return TypeNameOf<T>(); });
  }

 private:
  struct Slot {
    KeyedStateKind kind;
    std::string type_name;
    /// Null while the state is only restored.
    std::unique_ptr<KeyedStateTable> table;
    /// Until registered: the raw payload of each key group (by index) that had entries.
    std::vector<std::optional<std::string>> pending;
  };

  template <typename Impl, typename Descriptor, typename TypeNameFn>
  Impl& Register(const Descriptor& descriptor, KeyedStateKind kind, TypeNameFn type_name_of) {
    const std::string& name = descriptor.name();
    const auto it = states_.find(name);
    if (it != states_.end() && it->second.table != nullptr) {
      // Same Impl means same kind and C++ type: the common repeated call needs no type names.
      if (auto* impl = dynamic_cast<Impl*>(it->second.table.get())) return *impl;
      ThrowIncompatible(name, it->second, kind, type_name_of());
    }
    std::string type_name = type_name_of();
    auto impl = std::make_unique<Impl>(descriptor, current_, operator_name_, KeyGroupCount());
    Impl& result = *impl;
    if (it != states_.end()) {
      CheckRestoredCompatible(name, it->second, kind, type_name);
      // Decoded in full before it is installed: a failure leaves the store as it was.
      DecodePending(name, it->second, *impl);
      it->second.table = std::move(impl);
      it->second.pending.clear();
      it->second.pending.shrink_to_fit();
    } else {
      states_.emplace(name, Slot{kind, std::move(type_name), std::move(impl), {}});
    }
    return result;
  }

  std::size_t KeyGroupCount() const {
    return static_cast<std::size_t>(key_group_end_ - key_group_start_ + 1);
  }
  void CheckInRange(std::int32_t key_group, std::string_view caller) const;
  [[noreturn]] void ThrowKeyGroupOutOfRange(std::int32_t key_group, std::string_view caller) const;
  /// A registered state requested as another kind, type, or C++ type with the same type name.
  [[noreturn]] void ThrowIncompatible(std::string_view name, const Slot& slot, KeyedStateKind kind,
                                      const std::string& type_name) const;
  void CheckRestoredCompatible(std::string_view name, const Slot& slot, KeyedStateKind kind,
                               const std::string& type_name) const;
  void DecodePending(std::string_view name, const Slot& slot, KeyedStateTable& table) const;

  std::string operator_name_;
  std::int32_t key_group_start_;
  std::int32_t key_group_end_;
  CurrentKey current_;
  // Ordered so that snapshots list states in name order.
  std::map<std::string, Slot, std::less<>> states_;
  std::vector<bool> restored_key_groups_;
};

}  // namespace sluice::detail
