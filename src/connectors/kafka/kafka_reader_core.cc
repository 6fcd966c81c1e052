// The reader core of KafkaSource: one consumer per parallel reader, partitions assigned by
// Flink's formula with explicit offsets (rd_kafka_assign; no subscribe, no group rebalancing),
// records handed to the typed reader straight from librdkafka's buffers.
//
// Threads: every method runs on the reader's task thread. librdkafka's threads only call
// KafkaConsumer's callbacks (wake-up, errors), and the metric gauges read atomics.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <sluice/connectors/kafka/detail/kafka_source_core.h>

#include "connectors/kafka/broker_offset_lookup.h"
#include "connectors/kafka/kafka_consumer.h"
#include "connectors/kafka/offset_resolver.h"
#include "connectors/kafka/offset_state.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "core/log.h"

namespace sluice::kafka::detail {

[[noreturn]] void ThrowDeserializationError(const ConsumerRecord& record, const char* reason) {
  throw std::runtime_error("Kafka source: cannot deserialize the record at topic '" + std::string(record.topic) +
                           "' partition " + std::to_string(record.partition) + " offset " +
                           std::to_string(record.offset) + ": " + reason);
}

namespace {

using internal::PartitionOffset;
using std::chrono::milliseconds;

constexpr int kBatchSize = 1024;

// One owned partition. Atomics because metric gauges read them from the reporter thread.
struct OwnedPartition {
  TopicPartition tp;
  std::atomic<int64_t> next_offset{0};
  std::atomic<int64_t> committed_offset{-1};
  std::optional<int64_t> stopping_offset;
  bool finished = false;
};

class ReaderCore final : public KafkaReaderCore {
 public:
  ReaderCore(std::shared_ptr<const KafkaSourceSettings> settings, const TaskInfo& task)
      : settings_(std::move(settings)), task_(task) {}

  ~ReaderCore() override { Close(); }

  void Open(SourceReaderContext& context) override {
    RuntimeContext& runtime = context.GetRuntimeContext();
    state_ = &runtime.GetUnionListState(ListStateDescriptor<PartitionOffset>(internal::kOffsetStateName));
    std::optional<std::vector<PartitionOffset>> restored;
    if (runtime.IsRestored()) restored = state_->Get();

    MetricGroup& metrics = runtime.GetMetricGroup().AddGroup("KafkaSourceReader");
    commits_succeeded_ = &metrics.GetCounter("commitsSucceeded");
    commits_failed_ = &metrics.GetCounter("commitsFailed");
    bytes_in_ = &metrics.GetCounter("numBytesIn");
    records_in_ = &metrics.GetCounter("numRecordsIn");

    consumer_ = std::make_unique<internal::KafkaConsumer>(ClientProperties());
    internal::BrokerOffsetLookup lookup(*consumer_, settings_->client_properties.at("bootstrap.servers"),
                                        milliseconds(settings_->broker_timeout_ms));
    std::vector<TopicPartition> subscribed = Throw(lookup.SubscribedPartitions(*settings_));
    internal::ReaderAssignment plan =
        internal::PlanAssignment(subscribed, restored, task_.subtask_index, task_.parallelism);
    if (!plan.dropped.empty()) {
      SLUICE_LOG_INFO("Kafka source subtask {}: {} restored partitions are no longer subscribed and are dropped "
                      "(first: {})", task_.subtask_index, plan.dropped.size(), ToString(plan.dropped.front()));
    }
    std::map<TopicPartition, int64_t> starts;
    for (const auto& [tp, item] : plan.restored) starts[tp] = item.next_offset;
    OffsetsInitializer fresh_init =
        plan.fresh_start_at_earliest ? OffsetsInitializer::Earliest() : settings_->starting_offsets;
    for (auto& [tp, offset] : Throw(internal::ResolveOffsets(fresh_init, plan.fresh, settings_->group_id, lookup))) {
      starts[tp] = offset;
    }
    std::map<TopicPartition, int64_t> stops;
    if (settings_->stopping_offsets) {
      std::vector<TopicPartition> need_stop;
      for (const auto& [tp, start] : starts) {
        auto r = plan.restored.find(tp);
        if (r != plan.restored.end() && r->second.stopping_offset) {
          stops[tp] = *r->second.stopping_offset;
        } else {
          need_stop.push_back(tp);
        }
      }
      for (auto& [tp, offset] :
           Throw(internal::ResolveOffsets(*settings_->stopping_offsets, need_stop, settings_->group_id, lookup))) {
        stops[tp] = offset;
      }
    }

    internal::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(starts.size())));
    for (const auto& [tp, start] : starts) {
      auto owned = std::make_unique<OwnedPartition>();
      owned->tp = tp;
      owned->next_offset = start;
      if (auto s = stops.find(tp); s != stops.end()) owned->stopping_offset = s->second;
      owned->finished = owned->stopping_offset && start >= *owned->stopping_offset;
      if (!owned->finished) {
        rd_kafka_topic_partition_list_add(assignment.get(), tp.topic.c_str(), tp.partition)->offset = start;
      }
      MetricGroup& group = metrics.AddGroup("topic").AddGroup(tp.topic).AddGroup("partition").AddGroup(
          std::to_string(tp.partition));
      OwnedPartition* raw = owned.get();
      group.AddGauge("currentOffset", [raw] { return raw->next_offset.load(std::memory_order_relaxed); });
      group.AddGauge("committedOffset", [raw] { return raw->committed_offset.load(std::memory_order_relaxed); });
      index_[{tp.topic, tp.partition}] = owned.get();
      partitions_.push_back(std::move(owned));
    }
    SLUICE_LOG_INFO("Kafka source subtask {}/{}: {} partitions ({} restored)", task_.subtask_index,
                    task_.parallelism, partitions_.size(), plan.restored.size());

    SourceReaderContext* ctx = &context;
    consumer_->SetWakeup([ctx] { ctx->SignalAvailable(); });
    if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_->handle(), assignment.get()); err) {
      throw std::runtime_error("Kafka source: assigning partitions failed: " + internal::DescribeError(err));
    }
  }

  InputStatus PollNext(RecordHandler& handler) override {
    consumer_->ServeMainQueue();
    ThrowIfFatal();
    ServeCommitResults();
    if (partitions_.empty()) {
      if (settings_->bounded) return InputStatus::kEndOfInput;
      // Flink leaves this to the user; sluice keeps watermarks moving downstream.
      if (!idle_) handler.MarkIdle();
      idle_ = true;
      return InputStatus::kNothingAvailable;
    }
    if (AllFinished()) return settings_->bounded ? InputStatus::kEndOfInput : InputStatus::kNothingAvailable;

    ssize_t n = rd_kafka_consume_batch_queue(consumer_->consumer_queue(), 0, batch_.data(), batch_.size());
    if (n < 0) {
      throw std::runtime_error("Kafka source: consuming failed: " + internal::DescribeError(rd_kafka_last_error()));
    }
    // Every message must be destroyed, also when the handler throws.
    struct BatchGuard {
      std::array<rd_kafka_message_t*, kBatchSize>& batch;
      ssize_t count;
      ~BatchGuard() {
        for (ssize_t i = 0; i < count; ++i) rd_kafka_message_destroy(batch[static_cast<size_t>(i)]);
      }
    } guard{batch_, n};
    for (ssize_t i = 0; i < n; ++i) Handle(*batch_[static_cast<size_t>(i)], handler);
    if (n > 0) return InputStatus::kMoreAvailable;
    if (AllFinished() && settings_->bounded) return InputStatus::kEndOfInput;
    return InputStatus::kNothingAvailable;
  }

  void SnapshotState(CheckpointId id) override {
    std::vector<PartitionOffset> items;
    items.reserve(partitions_.size());
    for (const auto& p : partitions_) {
      items.push_back(PartitionOffset{p->tp.topic, p->tp.partition, p->next_offset.load(), p->stopping_offset});
    }
    if (settings_->commit_offsets_on_checkpoint) {
      std::map<TopicPartition, int64_t> offsets;
      for (const PartitionOffset& item : items) offsets[{item.topic, item.partition}] = item.next_offset;
      pending_commits_[id] = std::move(offsets);
    }
    state_->Update(std::move(items));
  }

  void NotifyCheckpointComplete(CheckpointId id) override {
    if (!settings_->commit_offsets_on_checkpoint || consumer_ == nullptr) return;
    auto it = pending_commits_.find(id);
    if (it == pending_commits_.end()) return;
    std::map<TopicPartition, int64_t> offsets = std::move(it->second);
    // Older pending checkpoints are subsumed by this one; drop them so the map cannot grow.
    pending_commits_.erase(pending_commits_.begin(), std::next(it));
    if (offsets.empty()) return;
    internal::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset = offset;
    }
    // Asynchronous: the result arrives on the commit queue, served in PollNext. The commit is
    // for monitoring; the offsets that count live in the checkpoint.
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(consumer_->handle(), list.get(), consumer_->commit_queue(),
                                                    nullptr, nullptr);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      commits_failed_->Inc();
      SLUICE_LOG_WARN("Kafka source: committing offsets of checkpoint {} failed: {}", id.value(),
                      internal::DescribeError(err));
    }
  }

  void NotifyCheckpointAborted(CheckpointId id) override { pending_commits_.erase(id); }

  void Close() override {
    if (consumer_ == nullptr) return;
    ServeCommitResults();
    consumer_->Close(milliseconds(10'000));
    consumer_.reset();
  }

 private:
  std::map<std::string, std::string> ClientProperties() const {
    std::map<std::string, std::string> props = settings_->client_properties;
    // rd_kafka_assign needs a group; without the user's, an internal one that never commits.
    if (!settings_->group_id) {
      props["group.id"] = "sluice-kafka-source-" + std::to_string(CurrentTimeMillis()) + "-" +
                          std::to_string(task_.subtask_index);
    }
    if (!props.contains("client.id")) {
      std::string prefix = settings_->client_id_prefix.value_or(settings_->group_id.value_or("sluice-kafka-source"));
      props["client.id"] = prefix + "-" + std::to_string(task_.subtask_index);
    }
    return props;
  }

  template <typename V>
  static V Throw(Result<V> result) {
    if (!result.ok()) throw std::runtime_error("Kafka source: " + result.status().message());
    return std::move(result).value();
  }

  void ThrowIfFatal() {
    if (auto fatal = consumer_->FatalError()) {
      throw std::runtime_error("Kafka source: the consumer failed with " + std::string(rd_kafka_err2name(fatal->code)) +
                               ": " + fatal->reason + " (bootstrap.servers=" +
                               settings_->client_properties.at("bootstrap.servers") + ")");
    }
  }

  bool AllFinished() const {
    return std::all_of(partitions_.begin(), partitions_.end(), [](const auto& p) { return p->finished; });
  }

  OwnedPartition* Find(const rd_kafka_message_t& message) {
    const char* topic = rd_kafka_topic_name(message.rkt);
    if (last_ != nullptr && last_->tp.partition == message.partition && last_->tp.topic == topic) return last_;
    auto it = index_.find({topic, message.partition});
    last_ = it == index_.end() ? nullptr : it->second;
    return last_;
  }

  void Finish(OwnedPartition& p) {
    if (p.finished) return;
    p.finished = true;
    // Stop fetching it: records past the stop would only be dropped.
    internal::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), p.tp.topic.c_str(), p.tp.partition);
    rd_kafka_pause_partitions(consumer_->handle(), list.get());
  }

  void Handle(const rd_kafka_message_t& message, RecordHandler& handler) {
    if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The fetch position reached the end; transaction markers are behind it too, so the
      // position (not the last record's offset) decides whether a bounded partition is done.
      OwnedPartition* p = message.rkt != nullptr ? Find(message) : nullptr;
      if (p != nullptr && p->stopping_offset && message.offset >= *p->stopping_offset) Finish(*p);
      return;
    }
    if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      HandleConsumerError(message);
      return;
    }
    OwnedPartition* p = Find(message);
    if (p == nullptr || p->finished) return;
    if (p->stopping_offset && message.offset >= *p->stopping_offset) {
      Finish(*p);
      return;
    }
    if (idle_) {
      handler.MarkActive();
      idle_ = false;
    }
    ConsumerRecord record;
    record.topic = rd_kafka_topic_name(message.rkt);
    record.partition = message.partition;
    record.offset = message.offset;
    rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    record.timestamp = rd_kafka_message_timestamp(&message, &ts_type);
    record.timestamp_type = ts_type == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? TimestampType::kCreateTime
                            : ts_type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? TimestampType::kLogAppendTime
                                                                            : TimestampType::kNoTimestampType;
    if (message.key != nullptr) record.key = std::string_view(static_cast<const char*>(message.key), message.key_len);
    if (message.payload != nullptr) {
      record.value = std::string_view(static_cast<const char*>(message.payload), message.len);
    }
    headers_.clear();
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR && headers != nullptr) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
        KafkaHeader header{name, std::nullopt};
        if (value != nullptr) header.value = std::string_view(static_cast<const char*>(value), size);
        headers_.push_back(header);
      }
    }
    record.headers = headers_;
    handler.OnRecord(record);
    p->next_offset.store(message.offset + 1, std::memory_order_relaxed);
    records_in_->Inc();
    bytes_in_->Inc(static_cast<int64_t>(message.len + message.key_len));
    if (p->stopping_offset && message.offset + 1 >= *p->stopping_offset) Finish(*p);
  }

  void HandleConsumerError(const rd_kafka_message_t& message) {
    std::string where = message.rkt != nullptr ? " (topic '" + std::string(rd_kafka_topic_name(message.rkt)) +
                                                     "' partition " + std::to_string(message.partition) + ")"
                                               : "";
    switch (message.err) {
      case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR__FATAL:
        // Retrying cannot help: a missing topic, refused credentials, or an offset out of range
        // with reset strategy None.
        throw std::runtime_error("Kafka source: " + internal::DescribeError(message.err) + where + ": " +
                                 rd_kafka_message_errstr(&message));
      default:
        // Transient (a broker restarting, a timed-out fetch): librdkafka retries by itself.
        SLUICE_LOG_WARN("Kafka source subtask {}: {}{}: {}", task_.subtask_index, internal::DescribeError(message.err),
                        where, rd_kafka_message_errstr(&message));
    }
  }

  void ServeCommitResults() {
    if (consumer_ == nullptr) return;
    while (internal::EventPtr event{rd_kafka_queue_poll(consumer_->commit_queue(), 0)}) {
      if (rd_kafka_event_type(event.get()) != RD_KAFKA_EVENT_OFFSET_COMMIT) continue;
      rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
      const rd_kafka_topic_partition_list_t* list = rd_kafka_event_topic_partition_list(event.get());
      bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
      for (int i = 0; list != nullptr && i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& tp = list->elems[i];
        if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          ok = false;
          continue;
        }
        auto it = index_.find({tp.topic, tp.partition});
        if (it != index_.end()) it->second->committed_offset.store(tp.offset, std::memory_order_relaxed);
      }
      if (ok) {
        commits_succeeded_->Inc();
      } else {
        commits_failed_->Inc();
        SLUICE_LOG_WARN("Kafka source subtask {}: committing offsets failed: {}", task_.subtask_index,
                        rd_kafka_event_error_string(event.get()));
      }
    }
  }

  std::shared_ptr<const KafkaSourceSettings> settings_;
  TaskInfo task_;
  ListState<PartitionOffset>* state_ = nullptr;
  Counter* commits_succeeded_ = nullptr;
  Counter* commits_failed_ = nullptr;
  Counter* bytes_in_ = nullptr;
  Counter* records_in_ = nullptr;
  std::vector<std::unique_ptr<OwnedPartition>> partitions_;
  std::map<std::pair<std::string, int32_t>, OwnedPartition*> index_;
  OwnedPartition* last_ = nullptr;
  std::map<CheckpointId, std::map<TopicPartition, int64_t>> pending_commits_;
  std::array<rd_kafka_message_t*, kBatchSize> batch_{};
  std::vector<KafkaHeader> headers_;
  bool idle_ = false;
  // Last: closed and destroyed first (Close), while everything above is still alive.
  std::unique_ptr<internal::KafkaConsumer> consumer_;
};

}  // namespace

std::unique_ptr<KafkaReaderCore> CreateKafkaReaderCore(std::shared_ptr<const KafkaSourceSettings> settings,
                                                       const TaskInfo& task) {
  return std::make_unique<ReaderCore>(std::move(settings), task);
}

}  // namespace sluice::kafka::detail
