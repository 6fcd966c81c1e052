#include <sluice/state/detail/keyed_timers.h>

#include <string>
#include <utility>

namespace sluice::detail {

bool KeyedTimers::Add(Timer timer) {
  const std::int32_t key_group = timer.key_group;
  if (!timers_.insert(std::move(timer)).second) return false;
  ++per_key_group_[key_group];
  return true;
}

void KeyedTimers::Remove(const Timer& timer) {
  const auto it = timers_.find(timer);
  if (it != timers_.end()) Erase(it);
}

std::optional<KeyedTimers::Timer> KeyedTimers::PopDue(std::int64_t time) {
  if (timers_.empty() || timers_.begin()->time > time) return std::nullopt;
  Timer timer = *timers_.begin();
  Erase(timers_.begin());
  return timer;
}

void KeyedTimers::Erase(std::set<Timer>::iterator it) {
  const auto count = per_key_group_.find(it->key_group);
  if (--count->second == 0) per_key_group_.erase(count);
  timers_.erase(it);
}

void KeyedTimers::WriteKeyGroup(std::int32_t key_group, DataOutput& out) const {
  const auto count = per_key_group_.find(key_group);
  if (count == per_key_group_.end()) {
    out.WriteVarU64(0);
    return;
  }
  out.WriteVarU64(count->second);
  for (const Timer& timer : timers_) {
    if (timer.key_group != key_group) continue;
    out.WriteVarI64(timer.time);
    out.WriteString(timer.key);
  }
}

void KeyedTimers::ReadKeyGroup(std::int32_t key_group, DataInput& in) {
  const std::uint64_t count = in.ReadVarU64();
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::int64_t time = in.ReadVarI64();
    Add(Timer{time, key_group, in.ReadString()});
  }
}

void KeyedTimerQueues::SnapshotKeyGroup(std::int32_t key_group, DataOutput& out) const {
  if (!processing.HasTimersIn(key_group) && !event.HasTimersIn(key_group)) return;
  out.WriteU8(kTimerSnapshotVersion);
  processing.WriteKeyGroup(key_group, out);
  event.WriteKeyGroup(key_group, out);
}

void KeyedTimerQueues::RestoreKeyGroup(std::int32_t key_group, DataInput& in) {
  const std::string what = "timers of key group " + std::to_string(key_group);
  const std::size_t version_offset = in.position();
  const std::uint8_t version = in.ReadU8();
  if (version != kTimerSnapshotVersion) {
    ThrowSerializationError(
        what, version_offset,
        "timer format version " + std::to_string(version) + " is not one this program reads (" +
            std::to_string(kTimerSnapshotVersion) + "); was it written by a newer release?");
  }
  processing.ReadKeyGroup(key_group, in);
  event.ReadKeyGroup(key_group, in);
  if (!in.AtEnd()) {
    ThrowSerializationError(what, in.position(), "unexpected bytes after the event-time timers");
  }
}

}  // namespace sluice::detail
