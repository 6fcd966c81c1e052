// The broker side of starting a reader: which partitions the subscription covers (metadata),
// and the offsets OffsetsInitializer resolution needs (watermarks, committed offsets, offsets
// for times). Every call waits at most the source's broker timeout (sluice.broker.timeout.ms)
// and fails early on an authentication or other fatal client error, so a wrong address or bad
// credentials fail the job within bounded time with a message naming bootstrap.servers.
//
// Threads: the reader's task thread, during Open.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sluice/connectors/kafka/detail/kafka_source_core.h>

#include "connectors/kafka/kafka_consumer.h"
#include "connectors/kafka/offset_resolver.h"

namespace sluice::kafka::internal {

/// Topic name -> partition count, from a metadata answer (topics with an error left out).
std::map<std::string, int> PartitionCounts(const rd_kafka_metadata_t& metadata);

/// The partitions the settings subscribe to, given every topic's partition count. With
/// `strict` (at start) a missing topic or partition is NotFound naming it; without (partition
/// discovery) it is left out.
Result<std::vector<TopicPartition>> MatchSubscription(
    const std::map<std::string, int>& partition_counts, const detail::KafkaSourceSettings& settings,
    const std::string& bootstrap_servers, bool strict);

class BrokerOffsetLookup final : public OffsetLookup {
 public:
  BrokerOffsetLookup(KafkaConsumer& consumer, std::string bootstrap_servers,
                     std::chrono::milliseconds timeout)
      : consumer_(consumer), bootstrap_servers_(std::move(bootstrap_servers)), timeout_(timeout) {}

  /// The partitions of the subscribed topics (or the pattern's matches, or the fixed list).
  /// NotFound naming the topic for a missing topic or partition; PermissionDenied naming the
  /// ACL for a named topic the client's principal may not see (Kafka leaves such topics out of
  /// a metadata answer for all topics, as if they did not exist); Unavailable naming
  /// bootstrap.servers when the broker does not answer in time.
  Result<std::vector<TopicPartition>> SubscribedPartitions(
      const detail::KafkaSourceSettings& settings);

  Result<OffsetMap> Earliest(const std::vector<TopicPartition>& partitions) override;
  Result<OffsetMap> Latest(const std::vector<TopicPartition>& partitions) override;
  Result<OffsetMap> Committed(const std::vector<TopicPartition>& partitions) override;
  Result<OffsetMap> ForTimestamp(const std::vector<TopicPartition>& partitions,
                                 int64_t timestamp_ms) override;

 private:
  Result<OffsetMap> Watermarks(const std::vector<TopicPartition>& partitions, bool low);
  // `acl`: what a refusal of the request for lack of an ACL needs (permission errors name it).
  Status Failure(const std::string& what, rd_kafka_resp_err_t err, const AclNeeded* acl = nullptr,
                 std::string_view detail = {}) const;
  // PermissionDenied when the principal may not describe `topic`, else OK.
  Status CheckTopicVisible(const std::string& topic,
                           std::chrono::steady_clock::time_point deadline) const;
  std::string GroupId() const;
  Status FatalOr(Status status) const;

  KafkaConsumer& consumer_;
  std::string bootstrap_servers_;
  std::chrono::milliseconds timeout_;
};

}  // namespace sluice::kafka::internal
