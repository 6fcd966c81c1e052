#include "connectors/kafka/offset_state.h"

#include <algorithm>
#include <set>

#include "connectors/kafka/partition_assigner.h"

namespace sluice::kafka::internal {

ReaderAssignment PlanAssignment(const std::vector<TopicPartition>& subscribed,
                                const std::optional<std::vector<PartitionOffset>>& restored,
                                int32_t subtask, int32_t parallelism) {
  ReaderAssignment plan;
  std::set<TopicPartition> subscribed_set(subscribed.begin(), subscribed.end());
  std::map<TopicPartition, const PartitionOffset*> in_state;
  if (restored) {
    for (const PartitionOffset& item : *restored) {
      TopicPartition tp{item.topic, item.partition};
      if (!subscribed_set.contains(tp)) {
        plan.dropped.push_back(std::move(tp));
        continue;
      }
      // Each partition has exactly one owner, so it appears once; should two readers ever have
      // written it, the further offset wins (nothing is read twice).
      auto [it, inserted] = in_state.emplace(tp, &item);
      if (!inserted && item.next_offset > it->second->next_offset) it->second = &item;
    }
    plan.fresh_start_at_earliest = true;
  }
  for (const TopicPartition& tp : subscribed_set) {
    if (::sluice::internal::AssignPartitionToSubtask(tp.topic, tp.partition, parallelism) !=
        subtask)
      continue;
    auto it = in_state.find(tp);
    if (it != in_state.end()) {
      plan.restored.emplace(tp, *it->second);
    } else {
      plan.fresh.push_back(tp);
    }
  }
  std::sort(plan.dropped.begin(), plan.dropped.end());
  plan.dropped.erase(std::unique(plan.dropped.begin(), plan.dropped.end()), plan.dropped.end());
  return plan;
}

}  // namespace sluice::kafka::internal
