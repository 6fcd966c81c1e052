// RunStoppingOffsets: the stopping offsets a bounded (or stopping) KafkaSource resolved in one
// run of its job, shared by its readers across attempts. A failover inside the run stops where
// the run planned to, even when the restored checkpoint is older than the run or there is none
// (Flink keeps them in the split, resolved once per job); the next run (a new process start)
// resolves its own, "the end offsets seen at start", instead of the ones an earlier run wrote
// into its checkpoints.
//
// Thread safety: Get may be called from every reader's task thread at once. The resolver runs
// without the lock (it asks the broker); partitions are owned by one reader each, and the first
// offset remembered for a partition wins.
#pragma once

#include <sluice/connectors/kafka/topic_partition.h>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

namespace sluice::kafka::detail {

class RunStoppingOffsets {
 public:
  using Resolver =
      std::function<std::map<TopicPartition, int64_t>(const std::vector<TopicPartition>&)>;

  /// The stopping offset of each of `partitions` in run `run_id` (TaskInfo::run_id): the ones
  /// this run resolved before, and `resolve`'s answer for the rest, remembered. A run id other
  /// than the last one seen forgets the previous run's offsets. Exceptions from `resolve` pass
  /// through, and nothing is remembered then.
  std::map<TopicPartition, int64_t> Get(uint64_t run_id,
                                        const std::vector<TopicPartition>& partitions,
                                        const Resolver& resolve);

 private:
  void SwitchTo(uint64_t run_id);  // mutex_ held

  std::mutex mutex_;
  uint64_t run_id_ = 0;
  std::map<TopicPartition, int64_t> stops_;
};

}  // namespace sluice::kafka::detail
