#include "connectors/kafka/run_stopping_offsets.h"

namespace sluice::kafka::detail {

void RunStoppingOffsets::SwitchTo(uint64_t run_id) {
  if (run_id == run_id_) return;
  run_id_ = run_id;
  stops_.clear();
}

std::map<TopicPartition, int64_t> RunStoppingOffsets::Get(
    uint64_t run_id, const std::vector<TopicPartition>& partitions, const Resolver& resolve) {
  std::map<TopicPartition, int64_t> result;
  std::vector<TopicPartition> missing;
  {
    std::lock_guard lock(mutex_);
    SwitchTo(run_id);
    for (const TopicPartition& tp : partitions) {
      if (auto it = stops_.find(tp); it != stops_.end()) {
        result.emplace(tp, it->second);
      } else {
        missing.push_back(tp);
      }
    }
  }
  if (missing.empty()) return result;
  std::map<TopicPartition, int64_t> resolved = resolve(missing);
  std::lock_guard lock(mutex_);
  SwitchTo(run_id);
  for (const auto& [tp, offset] : resolved) result[tp] = stops_.emplace(tp, offset).first->second;
  return result;
}

}  // namespace sluice::kafka::detail
