// Helpers of the changelog integration tests: a transactional producer that remembers the offset
// of every record it wrote (the writer of a changelog gets them the same way, from delivery
// reports), the facts of a topic as the broker tells them, and DeleteRecords.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "kafka_test_env.h"

namespace sluice::testing {

/// A record as written: key, value (nullopt: tombstone), and the offset Kafka gave it.
struct Written {
  int32_t partition = 0;
  int64_t offset = -1;
  std::string key;
  std::optional<std::string> value;
};

/// A transactional producer; Put records between Begin and Commit/Abort. Every transaction is
/// flushed before it ends, so aborted records take their offsets in the log as they would when
/// a writer dies after sending.
class TxnProducer {
 public:
  explicit TxnProducer(const std::string& topic) : topic_(topic) {
    producer_ = NewClient(
        RD_KAFKA_PRODUCER,
        {{"transactional.id", UniqueName("changelog-it-txn")}, {"linger.ms", "5"}},
        [](rd_kafka_conf_t* conf) { rd_kafka_conf_set_dr_msg_cb(conf, &TxnProducer::OnDelivery); });
    ThrowIfError(rd_kafka_init_transactions(producer_.get(), Timeout()), "init_transactions");
  }

  void Begin() {
    ThrowIfError(rd_kafka_begin_transaction(producer_.get()), "begin_transaction");
    pending_.clear();
  }

  void Put(int32_t partition, const std::string& key, std::optional<std::string> value) {
    pending_.push_back(std::make_unique<Written>(Written{partition, -1, key, std::move(value)}));
    Written* record = pending_.back().get();
    // A tombstone is a null value, not an empty one.
    void* payload = record->value ? const_cast<char*>(record->value->data()) : nullptr;
    const size_t size = record->value ? record->value->size() : 0;
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(record->key.data(), record->key.size()), RD_KAFKA_V_VALUE(payload, size),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(record), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw std::runtime_error("produce to " + topic_ + ": " + rd_kafka_err2str(err));
      }
      rd_kafka_poll(producer_.get(), 10);  // the local queue drains as deliveries arrive
    }
  }

  /// A record whose offset nobody needs (bulk writes): no bookkeeping per record.
  void PutUntracked(int32_t partition, const std::string& key, const std::string& value) {
    while (true) {
      rd_kafka_resp_err_t err =
          rd_kafka_producev(producer_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()),
                            RD_KAFKA_V_PARTITION(partition), RD_KAFKA_V_KEY(key.data(), key.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        throw std::runtime_error("produce to " + topic_ + ": " + rd_kafka_err2str(err));
      }
      rd_kafka_poll(producer_.get(), 10);  // the local queue drains as deliveries arrive
    }
  }

  /// Flushes and commits; returns the records with their offsets, in the order of Put.
  std::vector<Written> Commit() {
    Flush();
    ThrowIfError(rd_kafka_commit_transaction(producer_.get(), Timeout()), "commit_transaction");
    return Take();
  }

  /// Flushes (the records reach the log) and aborts; returns them with their offsets.
  std::vector<Written> Abort() {
    Flush();
    ThrowIfError(rd_kafka_abort_transaction(producer_.get(), Timeout()), "abort_transaction");
    return Take();
  }

  /// Flushes an open transaction without ending it.
  void Flush() {
    if (rd_kafka_resp_err_t err = rd_kafka_flush(producer_.get(), Timeout()); err) {
      throw std::runtime_error(std::string("flush: ") + rd_kafka_err2str(err));
    }
    for (const auto& record : pending_) {
      if (record->offset < 0) throw std::runtime_error("a record of " + topic_ + " failed");
    }
  }

 private:
  static int Timeout() { return static_cast<int>(Scaled(std::chrono::seconds(30)).count()); }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
    auto* record = static_cast<Written*>(message->_private);
    if (record != nullptr && message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      record->offset = message->offset;
    }
  }

  std::vector<Written> Take() {
    std::vector<Written> out;
    for (auto& record : pending_) out.push_back(std::move(*record));
    pending_.clear();
    return out;
  }

  std::string topic_;
  KafkaPtr producer_;
  std::vector<std::unique_ptr<Written>> pending_;  // stable addresses: delivery reports write them
};

/// The high watermark of a partition (read_uncommitted: control records and open transactions
/// included), i.e. the offset after the last record or transaction marker.
inline int64_t HighWatermark(const std::string& topic, int32_t partition) {
  KafkaPtr consumer = NewClient(RD_KAFKA_CONSUMER, {{"isolation.level", "read_uncommitted"}});
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), partition, &low, &high,
                                       static_cast<int>(Scaled(std::chrono::seconds(30)).count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("watermarks of " + topic + ": " + rd_kafka_err2str(err));
  }
  return high;
}

/// cleanup.policy and partition count of an existing topic, as the broker reports them.
struct TopicFacts {
  std::string cleanup_policy;
  int partitions = -1;
  std::map<std::string, std::string> configs;  // every config DescribeConfigs returned
};

inline TopicFacts DescribeTopic(const std::string& topic) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  TopicFacts facts;
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
  rd_kafka_DescribeConfigs(admin.get(), &resource, 1, nullptr, queue);
  rd_kafka_ConfigResource_destroy(resource);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(Scaled(std::chrono::seconds(30)).count()));
  std::string failure = event == nullptr ? "no answer" : "";
  if (event != nullptr && rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(event);
  } else if (event != nullptr) {
    size_t count = 0;
    const rd_kafka_ConfigResource_t** results = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      if (rd_kafka_ConfigResource_error(results[i]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        failure = rd_kafka_err2str(rd_kafka_ConfigResource_error(results[i]));
        continue;
      }
      size_t configs = 0;
      const rd_kafka_ConfigEntry_t** entries =
          rd_kafka_ConfigResource_configs(results[i], &configs);
      for (size_t c = 0; c < configs; ++c) {
        const char* value = rd_kafka_ConfigEntry_value(entries[c]);
        facts.configs[rd_kafka_ConfigEntry_name(entries[c])] = value != nullptr ? value : "";
        if (std::string(rd_kafka_ConfigEntry_name(entries[c])) == "cleanup.policy")
          facts.cleanup_policy = rd_kafka_ConfigEntry_value(entries[c]);
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty()) throw std::runtime_error("DescribeConfigs " + topic + ": " + failure);

  rd_kafka_topic_t* handle = rd_kafka_topic_new(admin.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(admin.get(), 0, handle, &metadata, 10000);
  rd_kafka_topic_destroy(handle);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && metadata->topic_cnt == 1 &&
      metadata->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    facts.partitions = metadata->topics[0].partition_cnt;
  }
  if (metadata != nullptr) rd_kafka_metadata_destroy(metadata);
  return facts;
}

/// Deletes the records of `partition` before `offset` (the topic's cleanup.policy must include
/// delete: Kafka refuses DeleteRecords on a compact-only topic). Returns the new log start.
inline int64_t DeleteRecordsBefore(const std::string& topic, int32_t partition, int64_t offset) {
  KafkaPtr admin = NewClient(RD_KAFKA_PRODUCER, {});
  PartitionListPtr before(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(before.get(), topic.c_str(), partition)->offset = offset;
  rd_kafka_DeleteRecords_t* request = rd_kafka_DeleteRecords_new(before.get());
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin.get());
  rd_kafka_DeleteRecords(admin.get(), &request, 1, nullptr, queue);
  rd_kafka_DeleteRecords_destroy(request);
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, static_cast<int>(Scaled(std::chrono::seconds(30)).count()));
  std::string failure = event == nullptr ? "no answer" : "";
  int64_t low = -1;
  if (event != nullptr && rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failure = rd_kafka_event_error_string(event);
  } else if (event != nullptr) {
    const rd_kafka_topic_partition_list_t* result =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(event));
    if (result->cnt != 1 || result->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failure = result->cnt == 1 ? rd_kafka_err2str(result->elems[0].err) : "no result";
    } else {
      low = result->elems[0].offset;
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  if (!failure.empty()) throw std::runtime_error("DeleteRecords " + topic + ": " + failure);
  return low;
}

/// Deletes a topic at the end of a test that made it by other means than ScopedTopic.
class TopicDeleter {
 public:
  explicit TopicDeleter(std::string name) : name_(std::move(name)) {}
  ~TopicDeleter() {
    try {
      DeleteTopic(name_);
    } catch (...) {
      // A topic left behind costs disk, never a wrong result: names are unique.
    }
  }
  TopicDeleter(const TopicDeleter&) = delete;
  TopicDeleter& operator=(const TopicDeleter&) = delete;

 private:
  std::string name_;
};

}  // namespace sluice::testing
