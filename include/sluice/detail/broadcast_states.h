// The broadcast states of one broadcast operator instance: the descriptors given to
// DataStream::Broadcast(...), registered in the operator's OperatorStateStore when it opens,
// and the check that a function asks only for one of them (Flink's CoBroadcastWith*Operator
// keeps the same map). Implementation detail of the broadcast process functions' contexts.
//
// Threads: the task thread of the operator instance.
// Errors: a descriptor not given to Broadcast(...) throws std::invalid_argument with Flink's
// advice; one given with other types than it is asked with throws std::logic_error from the
// store.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <sluice/state/detail/operator_state_store.h>
#include <sluice/state/state.h>
#include <sluice/state/state_descriptor.h>

namespace sluice::detail {

/// The descriptors of a BroadcastStream, without their types: names, and how to register each
/// in a store. Shared by every operator instance (immutable).
class BroadcastStateDescriptors {
 public:
  template <typename K, typename V>
  void Add(const MapStateDescriptor<K, V>& descriptor) {
    for (const Entry& entry : entries_) {
      if (entry.name == descriptor.name()) {
        throw std::invalid_argument("Broadcast(...) got two state descriptors named '" +
                                    descriptor.name() +
                                    "'; give each broadcast state its own name");
      }
    }
    entries_.push_back(Entry{descriptor.name(), [descriptor](OperatorStateStore& store) {
                               store.GetBroadcastState(descriptor);
                             }});
  }
  /// Registers every state in `store` (decoding restored copies).
  void RegisterAll(OperatorStateStore& store) const {
    for (const Entry& entry : entries_) entry.register_in(store);
  }
  bool Contains(const std::string& name) const {
    for (const Entry& entry : entries_) {
      if (entry.name == name) return true;
    }
    return false;
  }
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string name;
    std::function<void(OperatorStateStore&)> register_in;
  };
  std::vector<Entry> entries_;
};

/// What a broadcast operator instance hands its function's contexts.
class BroadcastStates {
 public:
  BroadcastStates() = default;
  BroadcastStates(std::shared_ptr<const BroadcastStateDescriptors> descriptors,
                  OperatorStateStore* store)
      : descriptors_(std::move(descriptors)), store_(store) {}

  template <typename K, typename V>
  BroadcastState<K, V>& Get(const MapStateDescriptor<K, V>& descriptor) const {
    if (!descriptors_->Contains(descriptor.name())) ThrowUndeclared(descriptor.name());
    return store_->GetBroadcastState(descriptor);
  }

 private:
  [[noreturn]] static void ThrowUndeclared(const std::string& name) {
    // Flink: "The requested state does not exist. Check for typos in your state descriptor, or
    // specify the state descriptor in the datastream.broadcast(...) call if you forgot to
    // register it."
    throw std::invalid_argument("the broadcast state '" + name +
                                "' does not exist: check the descriptor's name for typos, or give "
                                "the descriptor to the DataStream::Broadcast(...) call");
  }

  std::shared_ptr<const BroadcastStateDescriptors> descriptors_;
  OperatorStateStore* store_ = nullptr;
};

}  // namespace sluice::detail
