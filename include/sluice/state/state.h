// Keyed and operator state, as in Flink: ValueState, ListState, MapState, ReducingState,
// AggregatingState, and broadcast state (BroadcastState, ReadOnlyBroadcastState).
//
// Keyed state is scoped to the key of the element being processed (inside KeyedStream
// functions); operator state (ListState from GetOperatorListState / GetUnionListState) belongs
// to one parallel instance of an operator; broadcast state is a map every parallel instance of
// a broadcast operator holds a copy of (sluice/api/broadcast_functions.h).
// Thread safety: none. A state object may only be used on the task thread that owns it, from
// inside the function callbacks (ProcessElement, OnTimer, Open, SnapshotState, ...).
// Ownership: the runtime owns state objects; references returned by RuntimeContext stay valid
// until the function is closed.
// Errors: using keyed state outside a keyed context throws std::logic_error naming the state
// and the operator; this is a bug in the job, not a runtime condition.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sluice {

/// A single value per key.
template <typename T>
class ValueState {
 public:
  virtual ~ValueState() = default;
  /// The value for the current key, or the descriptor's default (nullopt when it has none).
  virtual std::optional<T> Value() const = 0;
  virtual void Update(T value) = 0;
  virtual void Clear() = 0;
};

/// A list of values per key (keyed state) or per operator instance (operator state).
template <typename T>
class ListState {
 public:
  virtual ~ListState() = default;
  /// A copy of the list; empty when nothing was added.
  virtual std::vector<T> Get() const = 0;
  virtual void Add(T value) = 0;
  virtual void AddAll(std::vector<T> values) = 0;
  /// Replaces the whole list.
  virtual void Update(std::vector<T> values) = 0;
  virtual void Clear() = 0;
};

/// A map per key. Iteration is in key order.
template <typename UK, typename UV>
class MapState {
 public:
  virtual ~MapState() = default;
  virtual std::optional<UV> Get(const UK& key) const = 0;
  virtual void Put(UK key, UV value) = 0;
  virtual void Remove(const UK& key) = 0;
  virtual bool Contains(const UK& key) const = 0;
  virtual bool IsEmpty() const = 0;
  /// A copy of all entries of the current key.
  virtual std::map<UK, UV> Entries() const = 0;
  virtual void Clear() = 0;
};

/// A value per key that new values are folded into with the descriptor's reduce function.
template <typename T>
class ReducingState {
 public:
  virtual ~ReducingState() = default;
  virtual std::optional<T> Get() const = 0;
  virtual void Add(T value) = 0;
  virtual void Clear() = 0;
};

/// A value per key that inputs are aggregated into with the descriptor's AggregateFunction:
/// Add(in) folds into the accumulator, Get() is GetResult of it (Flink's AggregatingState).
template <typename In, typename Out>
class AggregatingState {
 public:
  virtual ~AggregatingState() = default;
  /// GetResult of the current key's accumulator; nullopt when nothing was added.
  virtual std::optional<Out> Get() const = 0;
  virtual void Add(In value) = 0;
  virtual void Clear() = 0;
};

/// Broadcast state as the element side of a BroadcastProcessFunction or
/// KeyedBroadcastProcessFunction sees it (Flink's ReadOnlyBroadcastState): it may read, never
/// change it, so that every parallel instance keeps the same copy.
template <typename K, typename V>
class ReadOnlyBroadcastState {
 public:
  virtual ~ReadOnlyBroadcastState() = default;
  /// The value of `key`, or nullopt (Flink returns null).
  virtual std::optional<V> Get(const K& key) const = 0;
  virtual bool Contains(const K& key) const = 0;
  /// Every entry, in key order, without a copy (Flink's immutableEntries()); the reference is
  /// valid as long as the state, its contents until the state next changes.
  virtual const std::map<K, V>& ImmutableEntries() const = 0;
};

/// Broadcast state as the broadcast side sees it (Flink's BroadcastState): a map of which every
/// parallel instance holds a copy. Only ProcessBroadcastElement changes it, with the same
/// changes on every instance (every instance sees every broadcast element), so the copies stay
/// equal; a change that depends on the instance (its index, its keyed state) makes them differ.
/// Checkpointed with the operator; restored at another parallelism, new instance i gets the
/// copy of old instance i % old parallelism, as in Flink.
template <typename K, typename V>
class BroadcastState : public ReadOnlyBroadcastState<K, V> {
 public:
  virtual void Put(K key, V value) = 0;
  virtual void PutAll(std::map<K, V> entries) = 0;
  virtual void Remove(const K& key) = 0;
  virtual void Clear() = 0;
};

}  // namespace sluice
