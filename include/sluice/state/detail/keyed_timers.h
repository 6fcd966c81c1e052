// Timers of a keyed operator (KeyedStream::Process), kept per key and checkpointed with their
// key group so they move with their keys on rescaling. Implementation detail of the keyed
// operators; not a stable interface.
//
// Byte format of one key group's timers (KeyedTimerQueues::SnapshotKeyGroup), written as the
// operator's "extras" of that key group in its state file (src/state/subtask_state_file.h):
//
//   u8 kTimerSnapshotVersion (1)
//   processing-time timers of the key group, then event-time timers of the key group, each:
//     varint number of timers, then per timer in ascending (time, key) order:
//       varint-i64 time (zigzag)
//       string key bytes (the key as the operator serialized it)
//
// A key group without timers writes nothing at all. Version 1 is the layout sluice 0.1 wrote
// without the version byte (state file format 1); reading such a file adds the byte
// (subtask_state_file.cc), so one reader serves both.
//
// Thread safety: none; used by the task thread of the operator instance that owns it.
// Errors: RestoreKeyGroup throws SerializationError for undecodable bytes or an unknown version,
// naming the version.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include <sluice/state/data_io.h>

namespace sluice::detail {

/// The format version written at the start of a key group's timers.
inline constexpr std::uint8_t kTimerSnapshotVersion = 1;

/// The timers of one time domain, earliest first.
class KeyedTimers {
 public:
  struct Timer {
    std::int64_t time;
    std::int32_t key_group;
    std::string key;
    auto operator<=>(const Timer&) const = default;
  };

  /// False if the same timer (time, key) was already registered.
  bool Add(Timer timer);
  void Remove(const Timer& timer);
  bool empty() const { return timers_.empty(); }
  std::size_t size() const { return timers_.size(); }
  std::int64_t next_time() const { return timers_.begin()->time; }
  /// Removes and returns the earliest timer if it is due at `time`.
  std::optional<Timer> PopDue(std::int64_t time);
  bool HasTimersIn(std::int32_t key_group) const { return per_key_group_.contains(key_group); }

  /// The unversioned body of the format above for one domain: count, then the timers.
  void WriteKeyGroup(std::int32_t key_group, DataOutput& out) const;
  void ReadKeyGroup(std::int32_t key_group, DataInput& in);

 private:
  void Erase(std::set<Timer>::iterator it);

  std::set<Timer> timers_;
  // Timers per key group, so that snapshotting a key group without timers costs nothing.
  std::unordered_map<std::int32_t, std::size_t> per_key_group_;
};

/// Processing- and event-time timers of one keyed operator instance (the state of Flink's
/// InternalTimerService), snapshotted together per key group in the versioned format above.
struct KeyedTimerQueues {
  KeyedTimers processing;
  KeyedTimers event;

  void SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const;
  /// Adds the timers of one key group; `in` must hold exactly what SnapshotKeyGroup wrote.
  void RestoreKeyGroup(std::int32_t key_group, DataInput& in);
};

}  // namespace sluice::detail
