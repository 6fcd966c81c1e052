#include "connectors/kafka/broker_offset_lookup.h"

#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "connectors/kafka/kafka_error.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "connectors/kafka/topic_pattern.h"

namespace sluice::kafka::internal {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline, int cap_ms) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 1, cap_ms));
}

PartitionListPtr ToList(const std::vector<TopicPartition>& partitions) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const TopicPartition& tp : partitions)
    rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
  return list;
}

}  // namespace

std::map<std::string, int> PartitionCounts(const rd_kafka_metadata_t& metadata) {
  std::map<std::string, int> partition_counts;
  for (int i = 0; i < metadata.topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = metadata.topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    partition_counts[topic.topic] = topic.partition_cnt;
  }
  return partition_counts;
}

Result<std::vector<TopicPartition>> MatchSubscription(
    const std::map<std::string, int>& partition_counts, const detail::KafkaSourceSettings& settings,
    const std::string& bootstrap_servers, bool strict) {
  std::vector<TopicPartition> result;
  auto add_all = [&](const std::string& topic, int count) {
    for (int p = 0; p < count; ++p) result.push_back({topic, p});
  };
  if (settings.topic_pattern) {
    const std::regex pattern = CompileTopicPattern(*settings.topic_pattern);
    for (const auto& [topic, count] : partition_counts) {
      // Kafka's internal topics never match (the Java consumer's exclude.internal.topics).
      if (topic.starts_with("__")) continue;
      if (std::regex_match(topic, pattern)) add_all(topic, count);
    }
  } else if (!settings.partitions.empty()) {
    for (const TopicPartition& tp : settings.partitions) {
      auto it = partition_counts.find(tp.topic);
      if (it == partition_counts.end() || (!strict && tp.partition >= it->second)) {
        if (!strict) continue;
        return Status::NotFound("topic '" + tp.topic +
                                "' (of SetPartitions) does not exist at bootstrap.servers=" +
                                bootstrap_servers + "; create it or fix the partition list");
      }
      if (tp.partition >= it->second) {
        return Status::NotFound("partition " + ToString(tp) + " does not exist: topic '" +
                                tp.topic + "' has " + std::to_string(it->second) + " partitions");
      }
      result.push_back(tp);
    }
  } else {
    for (const std::string& topic :
         std::set<std::string>(settings.topics.begin(), settings.topics.end())) {
      auto it = partition_counts.find(topic);
      if (it == partition_counts.end()) {
        if (!strict) continue;
        return Status::NotFound(("topic '" + topic + "' does not exist at bootstrap.servers=")
                                    .append(bootstrap_servers)
                                    .append("; create it, or fix SetTopics"));
      }
      add_all(topic, it->second);
    }
  }
  return result;
}

Status BrokerOffsetLookup::FatalOr(Status status) const {
  // A refused login or a missing ACL explains the timeout or transport error that follows it,
  // and decides that no restart can help.
  if (auto fatal = consumer_.FatalError()) return fatal->ToStatus(consumer_.security());
  return status;
}

Status BrokerOffsetLookup::Failure(const std::string& what, rd_kafka_resp_err_t err,
                                   const AclNeeded* acl, std::string_view detail) const {
  if (acl != nullptr && StatusCodeOf(err) == StatusCode::kPermissionDenied) {
    return AclDeniedStatus(err, what + " (bootstrap.servers=" + bootstrap_servers_ + ")", *acl,
                           consumer_.security(), detail);
  }
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
      err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    std::string last;
    if (auto e = consumer_.LastError()) last = "; last client error: " + e->reason;
    return FatalOr(Status::Unavailable(
        what + ": no answer from the Kafka brokers at bootstrap.servers=" + bootstrap_servers_ +
        " within " + std::to_string(timeout_.count()) + " ms (sluice.broker.timeout.ms)" + last +
        "; check bootstrap.servers and that the brokers are up"));
  }
  return FatalOr(
      KafkaErrorStatus(err, what + " failed (bootstrap.servers=" + bootstrap_servers_ + ")"));
}

Result<std::vector<TopicPartition>> BrokerOffsetLookup::SubscribedPartitions(
    const detail::KafkaSourceSettings& settings) {
  Clock::time_point deadline = Clock::now() + timeout_;
  MetadataPtr metadata;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  // Short attempts, so an authentication failure (reported through the error callback) ends
  // the wait at once instead of after the whole timeout.
  while (Clock::now() < deadline) {
    const rd_kafka_metadata_t* md = nullptr;
    err = rd_kafka_metadata(consumer_.handle(), 1, nullptr, &md, RemainingMs(deadline, 1000));
    consumer_.ServeMainQueue();
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      metadata.reset(md);
      break;
    }
    if (auto fatal = consumer_.FatalError()) return fatal->ToStatus(consumer_.security());
  }
  if (metadata == nullptr) return Failure("fetching topic metadata", err);

  const std::map<std::string, int> counts = PartitionCounts(*metadata);
  Result<std::vector<TopicPartition>> matched =
      MatchSubscription(counts, settings, bootstrap_servers_, /*strict=*/true);
  if (matched.ok() || matched.status().code() != StatusCode::kNotFound) return matched;
  // A named topic missing from the answer may exist and be hidden by a missing ACL: only a
  // request for the topic itself tells (TOPIC_AUTHORIZATION_FAILED). A pattern has no names.
  std::set<std::string> named(settings.topics.begin(), settings.topics.end());
  for (const TopicPartition& tp : settings.partitions) named.insert(tp.topic);
  for (const std::string& topic : named) {
    if (counts.contains(topic)) continue;
    if (Status visible = CheckTopicVisible(topic, deadline); !visible.ok()) return visible;
  }
  return matched;
}

Status BrokerOffsetLookup::CheckTopicVisible(const std::string& topic,
                                             Clock::time_point deadline) const {
  TopicPtr rkt(rd_kafka_topic_new(consumer_.handle(), topic.c_str(), nullptr));
  if (rkt == nullptr) return Status::Ok();  // a bad name: MatchSubscription's NotFound says it
  const rd_kafka_metadata_t* md = nullptr;
  // At most 5 s (at least 1 s, even past the lookup's deadline): the answer only refines the
  // NotFound the caller has already.
  rd_kafka_resp_err_t err = rd_kafka_metadata(consumer_.handle(), 0, rkt.get(), &md,
                                              std::max(1000, RemainingMs(deadline, 5000)));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  MetadataPtr metadata(md);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      const AclNeeded acl{"READ", "topic", topic, false};
      return Failure("topic '" + topic + "'", t.err, &acl);
    }
  }
  return Status::Ok();
}

std::string BrokerOffsetLookup::GroupId() const {
  char value[512];
  size_t size = sizeof value;
  if (rd_kafka_conf_get(rd_kafka_conf(consumer_.handle()), "group.id", value, &size) !=
      RD_KAFKA_CONF_OK) {
    return "?";
  }
  return value;
}

Result<OffsetMap> BrokerOffsetLookup::Watermarks(const std::vector<TopicPartition>& partitions,
                                                 bool low) {
  Clock::time_point deadline = Clock::now() + timeout_;
  OffsetMap out;
  for (const TopicPartition& tp : partitions) {
    int64_t lo = 0;
    int64_t hi = 0;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    while (Clock::now() < deadline) {
      err = rd_kafka_query_watermark_offsets(consumer_.handle(), tp.topic.c_str(), tp.partition,
                                             &lo, &hi, RemainingMs(deadline, 2000));
      consumer_.ServeMainQueue();
      if (err != RD_KAFKA_RESP_ERR__TIMED_OUT || consumer_.FatalError()) break;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const AclNeeded acl{"READ", "topic", tp.topic, false};
      return Failure(
          std::string(low ? "looking up the earliest offset" : "looking up the end offset") +
              " of " + ToString(tp),
          err, &acl);
    }
    out[tp] = low ? lo : hi;
  }
  return out;
}

Result<OffsetMap> BrokerOffsetLookup::Earliest(const std::vector<TopicPartition>& partitions) {
  return Watermarks(partitions, true);
}

Result<OffsetMap> BrokerOffsetLookup::Latest(const std::vector<TopicPartition>& partitions) {
  return Watermarks(partitions, false);
}

Result<OffsetMap> BrokerOffsetLookup::Committed(const std::vector<TopicPartition>& partitions) {
  const std::string group = GroupId();
  const AclNeeded group_acl{"READ", "group", group, false};
  Clock::time_point deadline = Clock::now() + timeout_;
  PartitionListPtr list;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  // Short attempts: a refused coordinator lookup (GROUP_AUTHORIZATION_FAILED) only shows in
  // the consumer queue while rd_kafka_committed waits on, so each pause looks there.
  while (Clock::now() < deadline) {
    list = ToList(partitions);
    err = rd_kafka_committed(consumer_.handle(), list.get(), RemainingMs(deadline, 1000));
    consumer_.ServeMainQueue();
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT) break;
    if (auto fatal = consumer_.FatalError()) return fatal->ToStatus(consumer_.security());
    if (std::optional<ClientError> refused = consumer_.TakeUnassignedError()) {
      if (StatusCodeOf(refused->code) == StatusCode::kPermissionDenied) {
        return Failure(
            "reading the committed offsets of group '" + group + "'", refused->code,
            refused->code == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ? &group_acl : nullptr,
            refused->reason);
      }
      return refused->ToStatus(consumer_.security());
    }
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Failure("reading the committed offsets of group '" + group + "'", err,
                   err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ? nullptr : &group_acl);
  }
  OffsetMap out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const AclNeeded topic_acl{"READ", "topic", tp.topic, false};
      return Failure(
          "reading the committed offset of group '" + group + "' for " + std::string(tp.topic) +
              "-" + std::to_string(tp.partition),
          tp.err, tp.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ? &topic_acl : &group_acl);
    }
    if (tp.offset >= 0) out[{tp.topic, tp.partition}] = tp.offset;  // RD_KAFKA_OFFSET_INVALID: none
  }
  return out;
}

Result<OffsetMap> BrokerOffsetLookup::ForTimestamp(const std::vector<TopicPartition>& partitions,
                                                   int64_t timestamp_ms) {
  PartitionListPtr list = ToList(partitions);
  for (int i = 0; i < list->cnt; ++i) list->elems[i].offset = timestamp_ms;
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(consumer_.handle(), list.get(),
                                                       static_cast<int>(timeout_.count()));
  consumer_.ServeMainQueue();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return Failure("looking up offsets for timestamp", err);
  OffsetMap out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const AclNeeded acl{"READ", "topic", tp.topic, false};
      return Failure("looking up the offset for timestamp " + std::to_string(timestamp_ms) +
                         " of " + std::string(tp.topic) + "-" + std::to_string(tp.partition),
                     tp.err, &acl);
    }
    if (tp.offset >= 0) out[{tp.topic, tp.partition}] = tp.offset;  // -1: no record that late
  }
  return out;
}

}  // namespace sluice::kafka::internal
