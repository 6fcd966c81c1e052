// The state objects of backends that keep keyed state as C++ objects in memory (the "heap"
// backend, and later the changelog backend, whose working copy is the same heap tables).
// Implementation detail: these templates are instantiated in user code, which is why they are in
// a header; the backend that owns them is src/state/heap_keyed_state_backend.h.
//
// Layout: one hash table per key group of the backend's range, indexed by key_group -
// key_group_start, from the key's serialized bytes to the value. Keys are bytes so that the
// backend is not templated on the key type and needs no key serializer for snapshots.
//
// Change tracking (HeapStateContext::track_changes): every write records the current key in a
// per-key-group set until ClearChanges, so a backend can write only what changed since its last
// snapshot (a changelog). Off, it costs one predictable branch per write.
//
// Thread safety: none; used by the task thread of the operator instance that owns the backend.
// Errors: std::logic_error for a state accessed without a current key (a bug in the job);
// SerializationError from ReadPayload for bytes that cannot be decoded.
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
#include <unordered_set>
#include <utility>
#include <vector>

#include <sluice/state/data_io.h>
#include <sluice/state/detail/internal_keyed_state.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>

namespace sluice::detail {

/// The current key as tables look it up: its bytes and their precomputed hash.
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
/// A set of serialized keys (the keys of a key group changed since the last ClearChanges).
using KeyBytesSet = std::unordered_set<std::string, KeyBytesHash, std::equal_to<>>;

[[noreturn]] void ThrowDuplicateRestoredKey(std::string_view state_name, std::size_t offset);

/// How a payload (the entries of one state in one key group) lays out its entries: varint
/// number of entries, then per entry the key bytes (string) and the value, SerializeValue of
/// the stored type, either as is (kUnframedValues, what checkpoints before key-group section
/// version 2 hold) or as a string of those bytes (kFramedValues, written since). Framed values
/// let a payload be split into its entries without knowing the value type: a backend can report
/// the keys of a restored state the job has not registered (ForEachFramedEntry).
enum class PayloadFormat : std::uint8_t { kUnframedValues = 1, kFramedValues = 2 };
inline constexpr std::uint8_t kLastPayloadFormat = 2;

/// What a heap state object shares with the backend that creates it (all owned by the backend,
/// which outlives its state objects).
struct HeapStateContext {
  const CurrentKey& current;
  const std::string& operator_name;
  /// Key groups in the backend's range: the number of tables per state.
  std::size_t key_groups;
  /// Record every written key until ClearChanges (see the top of this file).
  bool track_changes;
};

/// The type-erased side of one heap state: how its backend snapshots, restores and reports it.
/// `index` is always key_group - key_group_start, checked by the backend.
class HeapStateTable : public InternalKeyedState {
 public:
  virtual bool HasEntries(std::size_t index) const = 0;
  /// Writes the payload of key group `index` in PayloadFormat::kFramedValues.
  virtual void WritePayload(std::size_t index, DataOutput& out) const = 0;
  /// Adds the entries of a payload in `format` to key group `index`. Not recorded as changes.
  virtual void ReadPayload(std::size_t index, DataInput& in, PayloadFormat format) = 0;
  /// The keys of key group `index` written since the last ClearChanges; always empty unless
  /// the state tracks changes.
  virtual const KeyBytesSet& ChangedKeys(std::size_t index) const = 0;
  /// Writes the value of `key` in key group `index` as WritePayload writes an entry's value;
  /// false, writing nothing, when the key has no value (it was cleared: a tombstone).
  virtual bool WriteValueOf(std::size_t index, std::string_view key, DataOutput& out) const = 0;
  virtual void ClearChanges() = 0;
  /// Records every key key group `index` holds now as changed; nothing unless the state tracks
  /// changes.
  virtual void MarkAllChanged(std::size_t index) = 0;
  /// Appends the keys key group `index` holds now.
  virtual void AppendKeys(std::size_t index, std::vector<std::string>& out) const = 0;
};

/// The tables of one state, all key groups, with the lookups the state kinds share.
/// kDropEmpty: list and map values; an empty one is never stored.
template <typename Stored, bool kDropEmpty>
class HeapKeyedTable : public HeapStateTable {
 public:
  bool HasEntries(std::size_t index) const final { return !tables_[index].empty(); }

  void WritePayload(std::size_t index, DataOutput& out) const final {
    const KeyBytesMap<Stored>& table = tables_[index];
    out.WriteVarU64(table.size());
    // The value's length comes before it, so each value is serialized apart first: one copy
    // per entry, at checkpoint time only.
    DataOutput value_bytes;
    for (const auto& [key, value] : table) {
      out.WriteString(key);
      value_bytes.Clear();
      SerializeValue<Stored>(value, value_bytes);
      out.WriteString(value_bytes.data());
    }
  }

  void ReadPayload(std::size_t index, DataInput& in, PayloadFormat format) final {
    KeyBytesMap<Stored>& table = tables_[index];
    const std::uint64_t count = in.ReadVarU64();
    // Every entry takes at least two bytes, so the bytes left bound a corrupt count.
    table.reserve(table.size() +
                  static_cast<std::size_t>(count < in.remaining() ? count : in.remaining()));
    for (std::uint64_t i = 0; i < count; ++i) {
      const std::size_t offset = in.position();
      std::string key = in.ReadString();
      Stored value = format == PayloadFormat::kFramedValues ? ReadFramedValue(in)
                                                            : DeserializeValue<Stored>(in);
      if constexpr (kDropEmpty) {
        if (value.empty()) continue;
      }
      if (!table.emplace(std::move(key), std::move(value)).second) [[unlikely]] {
        ThrowDuplicateRestoredKey(state_name_, offset);
      }
    }
  }

  const KeyBytesSet& ChangedKeys(std::size_t index) const final {
    static const KeyBytesSet kNone;
    return track_changes_ ? changed_[index] : kNone;
  }

  bool WriteValueOf(std::size_t index, std::string_view key, DataOutput& out) const final {
    const KeyBytesMap<Stored>& table = tables_[index];
    const auto it = table.find(key);
    if (it == table.end()) return false;
    SerializeValue<Stored>(it->second, out);
    return true;
  }

  void ClearChanges() final {
    for (KeyBytesSet& keys : changed_) keys.clear();
  }

  void AppendKeys(std::size_t index, std::vector<std::string>& out) const final {
    const KeyBytesMap<Stored>& table = tables_[index];
    out.reserve(out.size() + table.size());
    for (const auto& entry : table) out.push_back(entry.first);
  }

  void MarkAllChanged(std::size_t index) final {
    if (!track_changes_) return;
    KeyBytesSet& keys = changed_[index];
    const KeyBytesMap<Stored>& table = tables_[index];
    keys.reserve(keys.size() + table.size());
    for (const auto& entry : table) keys.insert(entry.first);
  }

 private:
  static Stored ReadFramedValue(DataInput& in) {
    const std::size_t offset = in.position();
    DataInput value_in(in.ReadStringView());
    Stored value = DeserializeValue<Stored>(value_in);
    if (!value_in.AtEnd()) [[unlikely]] {
      ThrowSerializationError("keyed state value", offset,
                              std::to_string(value_in.remaining()) +
                                  " unexpected bytes after the value (another type?)");
    }
    return value;
  }

 protected:
  HeapKeyedTable(const HeapStateContext& context, std::string state_name)
      : current_(context.current),
        operator_name_(context.operator_name),
        state_name_(std::move(state_name)),
        tables_(context.key_groups),
        track_changes_(context.track_changes) {
    if (track_changes_) changed_.resize(context.key_groups);
  }

  /// The current key's value, or null. For reading only: it records no change.
  const Stored* Lookup() const {
    const KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    return it == table.end() ? nullptr : &it->second;
  }
  /// The current key's value, or null; for changing it in place. A found key is recorded as
  /// changed even if the caller then leaves it as it was (a change that rewrites the same value
  /// is harmless; one lookup per access matters more).
  Stored* LookupForUpdate() {
    KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    if (it == table.end()) return nullptr;
    RecordChange();
    return &it->second;
  }
  /// The current key's value, default-constructed first if absent.
  Stored& LookupOrInsert() {
    KeyBytesMap<Stored>& table = CurrentTable();
    RecordChange();
    const auto it = table.find(Ref());
    if (it != table.end()) return it->second;
    return table.emplace(std::string(current_.bytes), Stored{}).first->second;
  }
  /// Sets the current key's value; an existing entry keeps its key string.
  void Assign(Stored value) {
    KeyBytesMap<Stored>& table = CurrentTable();
    RecordChange();
    const auto it = table.find(Ref());
    if (it != table.end()) {
      it->second = std::move(value);
    } else {
      table.emplace(std::string(current_.bytes), std::move(value));
    }
  }
  /// Removes the current key's value; a key that had none is no change.
  void EraseCurrent() {
    KeyBytesMap<Stored>& table = CurrentTable();
    const auto it = table.find(Ref());
    if (it == table.end()) return;
    RecordChange();
    table.erase(it);
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
  // Called only with a current key (after CurrentTable()).
  void RecordChange() {
    if (!track_changes_) [[likely]]
      return;
    KeyBytesSet& keys = changed_[static_cast<std::size_t>(current_.index)];
    if (keys.find(Ref()) == keys.end()) keys.emplace(current_.bytes);
  }

  const CurrentKey& current_;
  const std::string& operator_name_;
  std::string state_name_;
  std::vector<KeyBytesMap<Stored>> tables_;
  bool track_changes_;
  // Per key group, when tracking; empty otherwise.
  std::vector<KeyBytesSet> changed_;
};

template <typename T>
class HeapValueState final : public ValueState<T>, public HeapKeyedTable<T, false> {
 public:
  HeapValueState(const ValueStateDescriptor<T>& descriptor, const HeapStateContext& context)
      : HeapKeyedTable<T, false>(context, descriptor.name()),
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
  HeapListState(const ListStateDescriptor<T>& descriptor, const HeapStateContext& context)
      : HeapKeyedTable<std::vector<T>, true>(context, descriptor.name()) {}

  std::vector<T> Get() const override {
    if (const std::vector<T>* list = this->Lookup()) return *list;
    return {};
  }
  void Add(T value) override { this->LookupOrInsert().push_back(std::move(value)); }
  void AddAll(std::vector<T> values) override {
    if (values.empty()) return;
    if (std::vector<T>* list = this->LookupForUpdate()) {
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
  HeapMapState(const MapStateDescriptor<UK, UV>& descriptor, const HeapStateContext& context)
      : HeapKeyedTable<std::map<UK, UV>, true>(context, descriptor.name()) {}

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
    std::map<UK, UV>* map = this->LookupForUpdate();
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
  HeapReducingState(const ReducingStateDescriptor<T>& descriptor, const HeapStateContext& context)
      : HeapKeyedTable<T, false>(context, descriptor.name()), reduce_(descriptor.reduce()) {}

  std::optional<T> Get() const override {
    if (const T* value = this->Lookup()) return *value;
    return std::nullopt;
  }
  void Add(T value) override {
    if (T* accumulated = this->LookupForUpdate()) {
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

template <typename In, typename Acc, typename Out>
class HeapAggregatingState final : public AggregatingState<In, Out>,
                                   public HeapKeyedTable<Acc, false> {
 public:
  HeapAggregatingState(const AggregatingStateDescriptor<In, Acc, Out>& descriptor,
                       const HeapStateContext& context)
      : HeapKeyedTable<Acc, false>(context, descriptor.name()), function_(descriptor.function()) {}

  std::optional<Out> Get() const override {
    if (const Acc* accumulator = this->Lookup()) return function_->GetResult(*accumulator);
    return std::nullopt;
  }
  void Add(In value) override {
    // Added to a copy: if the function throws, the accumulator stays as it was.
    if (Acc* accumulator = this->LookupForUpdate()) {
      *accumulator = function_->Add(value, Acc(*accumulator));
    } else {
      this->Assign(function_->Add(value, function_->CreateAccumulator()));
    }
  }
  void Clear() override { this->EraseCurrent(); }

 private:
  std::shared_ptr<AggregateFunction<In, Acc, Out>> function_;
};

}  // namespace sluice::detail
