// Source offsets that travel inside the exactly-once sink's transaction (DESIGN.md section 5):
// when a job has an EXACTLY_ONCE Kafka sink and a Kafka source with a group id on the same
// cluster, the offsets a checkpoint holds for that group are committed by the very transaction
// that completes the checkpoint (send_offsets_to_transaction), so the group's committed
// offsets never run ahead of or behind the committed output.
//
// A process-wide meeting point keyed by (job name, cluster): the transaction participant
// subscribes when it recovers and unsubscribes when it closes; source readers publish their
// offsets at each snapshot only while a subscription exists (so nothing accumulates for jobs
// without one), and the participant takes what a checkpoint collected when it commits it.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <sluice/api/strong_id.h>
#include <sluice/connectors/kafka/topic_partition.h>

namespace sluice::kafka::internal {

/// bootstrap.servers as a sorted, de-duplicated list: the identity of a cluster however its
/// brokers are listed.
std::string ClusterKey(const std::string& bootstrap_servers);

class TransactionalOffsets {
 public:
  /// group id -> partition -> next offset to read.
  using GroupOffsets = std::map<std::string, std::map<TopicPartition, int64_t>>;

  static TransactionalOffsets& Instance();

  /// The participant of (job, cluster) will commit source offsets from now on; clears what
  /// an earlier attempt left.
  void Subscribe(const std::string& job_name, const std::string& cluster_key);
  void Unsubscribe(const std::string& job_name, const std::string& cluster_key);

  /// A source reader's offsets for `group` at checkpoint `id` (merged with other subtasks').
  /// Returns false when no participant of that job and cluster is subscribed: the reader then
  /// commits them itself after the checkpoint.
  bool Publish(const std::string& job_name, const std::string& cluster_key, CheckpointId id,
               const std::string& group, const std::map<TopicPartition, int64_t>& offsets);

  /// Everything published for checkpoint `id`; drops it and every older checkpoint's
  /// (those were aborted or are subsumed).
  GroupOffsets Take(const std::string& job_name, const std::string& cluster_key, CheckpointId id);

 private:
  struct Subscription {
    std::map<int64_t, GroupOffsets> by_checkpoint;
  };
  std::map<std::pair<std::string, std::string>, Subscription> subscriptions_;
};

}  // namespace sluice::kafka::internal
