// The changelog topics of durable state (DESIGN.md section 7): one compacted topic per stateful
// operator, `<transactional id prefix>.<operator uid>.changelog`, with one partition per key
// group for a keyed operator (partitions = the job's max parallelism; key group g is always
// partition g) and one partition for a non-keyed one.
//
// EnsureChangelogTopics creates the missing ones and refuses an existing one that cannot hold
// the state: a wrong partition count (key groups would map to the wrong partitions) or a
// cleanup.policy without "compact" (retention would delete live state). All the topics of one
// call share one DescribeConfigs and one CreateTopics request.
//
// Created topics get cleanup.policy=compact and nothing else: the broker's defaults for segment
// size and compaction lag are fine, because a restore reads every record from the start up to the
// committed end offset and keeps the last value per key, so it is correct whatever the log
// cleaner has or has not compacted yet; shorter segments would only make the cleaner run more
// often (less to read at restore, more broker I/O), a trade-off for the operator of the cluster,
// who can pass it in ChangelogTopicOptions::configs.
//
// Every broker request is bounded by ChangelogTopicOptions::timeout (sluice.broker.timeout.ms)
// in total: no answer in time is kUnavailable naming bootstrap.servers. Nothing here asks the
// broker for metadata of a topic before it is known to exist, because a metadata request from a
// producer (allow.auto.create.topics defaults to true there) can make a broker with
// auto.create.topics.enable=true create the topic with its default partition count and a delete
// policy.
//
// Threads: the functions are reentrant; the handle form may be called on a client that other
// threads use (librdkafka's admin calls are thread-safe), but it does not serve the client's main
// queue, so a refused login shows only as kUnavailable after the timeout there (the properties
// form watches its own client's errors and fails at once with kUnauthenticated).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <sluice/status.h>

namespace sluice::kafka::internal {

/// One changelog topic and the partition count the job needs.
struct ChangelogTopicSpec {
  std::string name;
  /// The job's max parallelism for a keyed operator, 1 for a non-keyed one.
  int32_t partitions = 1;
};

/// The configs of the changelog topics sluice creates: segments small enough for the log
/// cleaner to compact a changelog long before Kafka's default 1 GiB / 7 days segment rolls
/// (segment.bytes=67108864, segment.ms=3600000), so that a restore reads about one record per
/// live key; then every `sluice.changelog.topic.<config>` among `properties`, which win.
std::map<std::string, std::string> ChangelogTopicConfigs(
    const std::map<std::string, std::string>& properties);

struct ChangelogTopicOptions {
  /// Replication factor of created topics; -1: the broker's default.replication.factor.
  int32_t replication_factor = -1;
  /// More configs for created topics (e.g. min.insync.replicas, segment.ms); cleanup.policy is
  /// always compact and cannot be overridden here. Existing topics are never altered.
  std::map<std::string, std::string> configs;
  /// The bound of the whole call (sluice.broker.timeout.ms).
  std::chrono::milliseconds timeout{30'000};
};

/// "<prefix>.<operator uid>.changelog".
std::string ChangelogTopicName(std::string_view transactional_id_prefix,
                               std::string_view operator_uid);

/// Whether a cleanup.policy value ("compact", "delete", "compact,delete", ...) compacts.
bool CleanupPolicyCompacts(std::string_view policy);

/// Makes sure every topic of `topics` exists, compacted, with its partition count, using
/// `client` (any client type; it stays owned by the caller and must outlive the call).
///
/// Errors (the first problem found; topics are checked in the order given):
///  - kFailedPrecondition: a topic exists with another partition count, or with a
///    cleanup.policy without "compact"; the message names the topic, what was found, what is
///    needed and the fix;
///  - kPermissionDenied: the client's principal may not describe the topic's configuration
///    (DESCRIBE_CONFIGS), its metadata (DESCRIBE) or create it (CREATE); the message names the
///    ACL and how to create the topic by hand;
///  - kUnavailable: no answer from bootstrap.servers within options.timeout;
///  - kInvalidArgument: an empty name or a partition count below 1 (a caller bug), or a setting
///    the broker refuses (options.configs, options.replication_factor);
///  - otherwise the broker's error, classified by KafkaErrorStatus.
/// A topic created concurrently by someone else (TOPIC_ALREADY_EXISTS) is validated like any
/// existing one. On success, the topics this call created show in the broker's metadata with a
/// leader for every partition (a CreateTopics answer comes before the metadata catches up).
Status EnsureChangelogTopics(rd_kafka_t* client, const std::vector<ChangelogTopicSpec>& topics,
                             const ChangelogTopicOptions& options);

/// The same with a short-lived client of its own, made from `client_properties`
/// (bootstrap.servers and the security settings; a transactional.id is ignored). Additionally
/// kInvalidArgument for a property librdkafka refuses, and kUnauthenticated (or another
/// non-restartable code) as soon as the brokers refuse the client.
Status EnsureChangelogTopics(const std::map<std::string, std::string>& client_properties,
                             const std::vector<ChangelogTopicSpec>& topics,
                             const ChangelogTopicOptions& options);

}  // namespace sluice::kafka::internal
