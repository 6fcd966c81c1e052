// OperatorStateStore: the heap backend of operator (non-keyed) state for one operator instance:
// list state (RuntimeContext::GetOperatorListState / GetUnionListState) and broadcast state
// (the map state of a broadcast operator, sluice/api/broadcast_functions.h). Implementation
// detail: templates here are instantiated in user code, but this is not a stable interface.
//
// Byte format of one instance's section (Snapshot), part of the checkpoint format
// (tests/unit/state/operator_state_store_test.cc pins exact bytes):
//
//   u8 format version: 1, or 2 when a broadcast state is present (see below)
//   varint number of states
//   per state, in ascending name order (every registered state, even with no items):
//     string name
//     u8 mode (OperatorStateMode: 0 split, 1 union, 2 broadcast; 2 only in version 2)
//     string type name: TypeNameOf<T>() of the item type; for broadcast state
//                       TypeNameOf<std::map<K, V>>() ("map<K,V>", as keyed MapState)
//     varint number of items
//     per item: string holding the item's SerializeValue bytes; for broadcast state one item
//               per entry, holding SerializeValue of the key followed by that of the value
//
// ("string" is DataOutput::WriteString: varint length, then the bytes.) Items are separate
// strings so that Restore can move them between instances without knowing their type.
// Version 2 is version 1 plus mode 2. A section without broadcast state is written as version 1,
// byte for byte what releases before broadcast state wrote, so that they still read it; one with
// broadcast state is version 2, which they refuse by its version instead of misreading it.
//
// Redistribution (Restore, with the sections of all p_old old instances, in old subtask order,
// for new instance i of p_new), following Flink's RoundRobinOperatorStateRepartitioner:
//   - split: the old lists are concatenated in old subtask order into n items. If
//     p_new == p_old, instance i gets exactly old instance i's items (a plain restart moves
//     nothing). Otherwise with base = n / p_new and r = n % p_new, instance i gets the
//     contiguous run starting at i * base + min(i, r) of length base + (i < r ? 1 : 0): the
//     first r instances get one item more. Every item goes to exactly one instance.
//     (Flink also rotates which instances get the extra items from one state to the next;
//     sluice treats every state the same way, so the result depends only on that state.)
//   - union: every instance gets all n items, in old subtask order.
//   - broadcast: instance i gets the items (the whole copy) of old instance i % p_old, as
//     Flink's repartitionBroadcastState; every old instance holds the same copy normally.
// Restored states that the job has not registered (yet) keep their raw item bytes and are
// decoded when registered. Until then Snapshot writes them back unchanged: for split and
// broadcast state the items this instance received; for union state only this instance's split
// share of them, so that the next restore again sees every item exactly once instead of once per
// instance.
//
// Thread safety: none. Used only by the task thread of the instance that owns it.
// Ownership: the runtime owns the store; the store owns its state objects, so references
// returned by Get*State stay valid until the store is destroyed. Restore copies what it
// keeps: the sections may be released once it returns.
// Errors: std::logic_error for bugs in the job or the runtime: one name requested with two
// modes or item types (also against the type recorded in restored bytes), Restore called twice
// or with a subtask outside [0, parallelism). SerializationError for restored bytes that cannot
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
#include <utility>
#include <vector>

#include <sluice/state/data_io.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>
#include <sluice/state/type_serializer.h>

namespace sluice::detail {

/// The newest format version of an operator-state section (the top of this file); it is
/// written only when the section holds broadcast state.
inline constexpr std::uint8_t kOperatorSectionVersion = 2;
/// The version of a section without broadcast state (what earlier releases wrote).
inline constexpr std::uint8_t kOperatorSectionVersionWithoutBroadcast = 1;

/// How a state is redistributed on restore, as written into sections (values fixed forever).
enum class OperatorStateMode : std::uint8_t { kSplit = 0, kUnion = 1, kBroadcast = 2 };

/// "split", "union" or "broadcast" (for messages).
std::string_view OperatorStateModeName(OperatorStateMode mode);

/// Throws SerializationError naming the state when an item's bytes hold more than one value.
void CheckItemConsumed(const DataInput& in, std::string_view state_name);

/// The type-erased side of one registered operator state (a list, or broadcast state).
class OperatorListStateBase {
 public:
  virtual ~OperatorListStateBase() = default;
  /// Writes varint item count, then each item as a string holding its SerializeValue bytes.
  virtual void WriteItems(DataOutput& out) const = 0;
  /// Appends one item decoded from its bytes.
  virtual void AppendItem(std::string_view item_bytes) = 0;
};

template <typename T>
class HeapOperatorListState final : public ListState<T>, public OperatorListStateBase {
 public:
  explicit HeapOperatorListState(std::string name) : name_(std::move(name)) {}

  std::vector<T> Get() const override { return items_; }
  void Add(T value) override { items_.push_back(std::move(value)); }
  void AddAll(std::vector<T> values) override {
    items_.insert(items_.end(), std::make_move_iterator(values.begin()),
                  std::make_move_iterator(values.end()));
  }
  void Update(std::vector<T> values) override { items_ = std::move(values); }
  void Clear() override { items_.clear(); }

  void WriteItems(DataOutput& out) const override {
    out.WriteVarU64(items_.size());
    DataOutput item;
    // auto&& and an explicit T: vector<bool> yields proxies.
    for (auto&& value : items_) {
      item.Clear();
      SerializeValue<T>(value, item);
      out.WriteString(item.data());
    }
  }
  void AppendItem(std::string_view item_bytes) override {
    DataInput in(item_bytes);
    T value = DeserializeValue<T>(in);
    CheckItemConsumed(in, name_);
    items_.push_back(std::move(value));
  }

 private:
  std::string name_;
  std::vector<T> items_;
};

/// Broadcast state (a map) of one operator instance; an item is one entry.
template <typename K, typename V>
class HeapBroadcastState final : public BroadcastState<K, V>, public OperatorListStateBase {
 public:
  explicit HeapBroadcastState(std::string name) : name_(std::move(name)) {}

  std::optional<V> Get(const K& key) const override {
    const auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  bool Contains(const K& key) const override { return entries_.contains(key); }
  const std::map<K, V>& ImmutableEntries() const override { return entries_; }
  void Put(K key, V value) override { entries_.insert_or_assign(std::move(key), std::move(value)); }
  void PutAll(std::map<K, V> entries) override {
    for (auto& [key, value] : entries) entries_.insert_or_assign(key, std::move(value));
  }
  void Remove(const K& key) override { entries_.erase(key); }
  void Clear() override { entries_.clear(); }

  void WriteItems(DataOutput& out) const override {
    out.WriteVarU64(entries_.size());
    DataOutput item;
    for (const auto& [key, value] : entries_) {
      item.Clear();
      SerializeValue<K>(key, item);
      SerializeValue<V>(value, item);
      out.WriteString(item.data());
    }
  }
  void AppendItem(std::string_view item_bytes) override {
    DataInput in(item_bytes);
    K key = DeserializeValue<K>(in);
    V value = DeserializeValue<V>(in);
    CheckItemConsumed(in, name_);
    entries_.insert_or_assign(std::move(key), std::move(value));
  }

 private:
  std::string name_;
  std::map<K, V> entries_;
};

/// Operator state of one operator instance. See the top of this file for the contract, the
/// byte format and how Restore redistributes items.
class OperatorStateStore {
 public:
  OperatorStateStore();
  /// `operator_name` appears in error messages.
  explicit OperatorStateStore(std::string operator_name);
  ~OperatorStateStore();
  OperatorStateStore(const OperatorStateStore&) = delete;
  OperatorStateStore& operator=(const OperatorStateStore&) = delete;

  // ---- user side (through RuntimeContext) ----
  // The first call for a name registers the state (decoding any restored items of that name);
  // later calls return the same object. A name already used with the other mode or another
  // item type throws std::logic_error.

  /// Split redistribution: on restore at another parallelism the items are dealt out evenly.
  template <typename T>
  ListState<T>& GetListState(const ListStateDescriptor<T>& descriptor) {
    return Register<HeapOperatorListState<T>>(descriptor.name(), OperatorStateMode::kSplit,
                                              &TypeNameOf<T>);
  }
  /// Union redistribution: on restore every instance gets the items of all old instances.
  template <typename T>
  ListState<T>& GetUnionListState(const ListStateDescriptor<T>& descriptor) {
    return Register<HeapOperatorListState<T>>(descriptor.name(), OperatorStateMode::kUnion,
                                              &TypeNameOf<T>);
  }
  /// Broadcast state: on restore instance i gets the copy of old instance i % old parallelism.
  template <typename K, typename V>
  BroadcastState<K, V>& GetBroadcastState(const MapStateDescriptor<K, V>& descriptor) {
    return Register<HeapBroadcastState<K, V>>(descriptor.name(), OperatorStateMode::kBroadcast,
                                              &TypeNameOf<std::map<K, V>>);
  }
  /// True once Restore was called, even if it brought no items.
  bool IsRestored() const { return restored_; }

  // ---- runtime side ----

  /// Writes this instance's section (format at the top of this file).
  void Snapshot(DataOutput& out) const;
  /// Takes this instance's share of the sections of all old instances (in old subtask order).
  /// At most once, normally before the job registers any state; a state registered already gets
  /// its restored items appended. Throws SerializationError for undecodable sections.
  void Restore(const std::vector<std::string_view>& old_sections, std::int32_t subtask,
               std::int32_t parallelism);
  /// Registered and restored-but-unregistered states, in ascending order.
  std::vector<std::string> StateNames() const;

  /// The split rule: which items [first, second) of the concatenation of lists with
  /// `old_counts` items (per old instance) new instance `subtask` of `parallelism` gets.
  static std::pair<std::size_t, std::size_t> SplitShare(const std::vector<std::size_t>& old_counts,
                                                        std::int32_t subtask,
                                                        std::int32_t parallelism);

 private:
  struct Slot {
    OperatorStateMode mode;
    std::string type_name;
    /// Null while the state is only restored.
    std::unique_ptr<OperatorListStateBase> state;
    /// Until registered: the raw bytes of the items this instance received...
    std::vector<std::string> pending;
    /// ...of which Snapshot writes back [carry_begin, carry_end).
    std::size_t carry_begin = 0;
    std::size_t carry_end = 0;
  };

  // `type_name` is a function: it allocates, and the repeated request for a registered state
  // never needs it.
  template <typename Impl>
  Impl& Register(const std::string& name, OperatorStateMode mode, std::string (*type_name_of)()) {
    const auto it = states_.find(name);
    if (it != states_.end() && it->second.state != nullptr) {
      auto* impl = dynamic_cast<Impl*>(it->second.state.get());
      if (impl != nullptr && it->second.mode == mode) return *impl;
      ThrowIncompatible(name, it->second, mode, type_name_of());
    }
    std::string type_name = type_name_of();
    auto impl = std::make_unique<Impl>(name);
    Impl& result = *impl;
    if (it != states_.end()) {
      CheckRestoredCompatible(name, it->second, mode, type_name);
      // Decoded in full before it is installed: a failure leaves the store as it was.
      try {
        for (const std::string& item : it->second.pending) impl->AppendItem(item);
      } catch (const SerializationError& error) {
        RethrowWithContext(error, name);
      }
      it->second.state = std::move(impl);
      it->second.pending = {};
    } else {
      states_.emplace(name, Slot{mode, std::move(type_name), std::move(impl), {}, 0, 0});
    }
    return result;
  }

  [[noreturn]] void ThrowIncompatible(std::string_view name, const Slot& slot,
                                      OperatorStateMode mode, const std::string& type_name) const;
  void CheckRestoredCompatible(std::string_view name, const Slot& slot, OperatorStateMode mode,
                               const std::string& type_name) const;
  /// Nested deserializers name only the value type; this adds the state and operator.
  [[noreturn]] void RethrowWithContext(const SerializationError& error,
                                       std::string_view name) const;

  std::string operator_name_;
  bool restored_ = false;
  // Ordered so that snapshots list states in name order.
  std::map<std::string, Slot, std::less<>> states_;
};

}  // namespace sluice::detail
