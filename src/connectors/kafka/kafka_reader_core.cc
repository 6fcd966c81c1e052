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
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <sluice/connectors/kafka/detail/kafka_source_core.h>

#include "connectors/kafka/broker_offset_lookup.h"
#include "connectors/kafka/dead_letter_producer.h"
#include "connectors/kafka/kafka_consumer.h"
#include "connectors/kafka/offset_resolver.h"
#include "connectors/kafka/offset_state.h"
#include "connectors/kafka/partition_assigner.h"
#include "connectors/kafka/partition_discovery.h"
#include "connectors/kafka/partition_watermarks.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "connectors/kafka/run_stopping_offsets.h"
#include "connectors/kafka/transactional_offsets.h"
#include "core/log.h"

namespace sluice::kafka::detail {

[[noreturn]] void ThrowDeserializationError(const ConsumerRecord& record, const char* reason,
                                            StatusCode code) {
  throw StatusException(Status(code, "Kafka source: cannot deserialize the record at topic '" +
                                         std::string(record.topic) + "' partition " +
                                         std::to_string(record.partition) + " offset " +
                                         std::to_string(record.offset) + ": " + reason));
}

namespace {

using internal::PartitionOffset;
using std::chrono::milliseconds;

constexpr int kBatchSize = 1024;
constexpr int64_t kLagRefreshMs = 1000;

// One owned partition. Atomics because metric gauges read them from the reporter thread.
// next_offset may be RD_KAFKA_OFFSET_BEGINNING for a discovered partition that has not
// delivered a record yet: it is checkpointed as such and means "earliest" on restore.
struct OwnedPartition {
  TopicPartition tp;
  std::atomic<int64_t> next_offset{0};
  std::atomic<int64_t> committed_offset{-1};
  int64_t high_watermark = -1;  // from librdkafka's cached fetch answers; -1 unknown
  std::optional<int64_t> stopping_offset;
  bool finished = false;
  size_t watermark_slot = 0;
};

class ReaderCore final : public KafkaReaderCore {
 public:
  ReaderCore(std::shared_ptr<const KafkaSourceSettings> settings, const TaskInfo& task)
      : settings_(std::move(settings)), task_(task) {}

  ~ReaderCore() override { Close(); }

  void Open(SourceReaderContext& context) override {
    RuntimeContext& runtime = context.GetRuntimeContext();
    state_ = &runtime.GetUnionListState(
        ListStateDescriptor<PartitionOffset>(internal::kOffsetStateName));
    std::optional<std::vector<PartitionOffset>> restored;
    if (runtime.IsRestored()) restored = state_->Get();

    cluster_key_ = internal::ClusterKey(settings_->client_properties.at("bootstrap.servers"));
    MetricGroup& metrics = runtime.GetMetricGroup().AddGroup("KafkaSourceReader");
    commits_succeeded_ = &metrics.GetCounter("commitsSucceeded");
    commits_failed_ = &metrics.GetCounter("commitsFailed");
    bytes_in_ = &metrics.GetCounter("numBytesIn");
    records_in_ = &metrics.GetCounter("numRecordsIn");

    consumer_ = std::make_unique<internal::KafkaConsumer>(ClientProperties());
    internal::BrokerOffsetLookup lookup(*consumer_,
                                        settings_->client_properties.at("bootstrap.servers"),
                                        milliseconds(settings_->broker_timeout_ms));
    std::vector<TopicPartition> subscribed = Throw(lookup.SubscribedPartitions(*settings_));
    internal::ReaderAssignment plan =
        internal::PlanAssignment(subscribed, restored, task_.subtask_index, task_.parallelism);
    if (!plan.dropped.empty()) {
      SLUICE_LOG_INFO(
          "Kafka source subtask {}: {} restored partitions are no longer subscribed and are "
          "dropped "
          "(first: {})",
          task_.subtask_index, plan.dropped.size(), ToString(plan.dropped.front()));
    }
    std::map<TopicPartition, int64_t> starts;
    for (const auto& [tp, item] : plan.restored) starts[tp] = item.next_offset;
    if (settings_->legacy && !plan.fresh_start_at_earliest &&
        settings_->starting_offsets.kind() == OffsetsInitializer::Kind::kSpecific) {
      for (const TopicPartition& tp : plan.fresh) {
        if (!settings_->starting_offsets.offsets().contains(tp)) {
          SLUICE_LOG_WARN(
              "Kafka source subtask {}: partition {} has no specific start offset; it starts from "
              "the "
              "group's committed offset (or auto.offset.reset)",
              task_.subtask_index, ToString(tp));
        }
      }
    }
    OffsetsInitializer fresh_init =
        plan.fresh_start_at_earliest ? OffsetsInitializer::Earliest() : settings_->starting_offsets;
    for (auto& [tp, offset] :
         Throw(internal::ResolveOffsets(fresh_init, plan.fresh, settings_->group_id, lookup))) {
      starts[tp] = offset;
    }
    // The end offsets of this run: resolved once per run and kept across its failovers
    // (RunStoppingOffsets). Stopping offsets in restored state are not used: they are an
    // earlier run's unless this run resolved the same ones, and a new process start stops at
    // the end offsets seen at its own start.
    std::map<TopicPartition, int64_t> stops;
    if (settings_->stopping_offsets) {
      std::vector<TopicPartition> partitions;
      partitions.reserve(starts.size());
      for (const auto& [tp, start] : starts) partitions.push_back(tp);
      stops = settings_->run_stopping_offsets->Get(
          task_.run_id, partitions, [&](const std::vector<TopicPartition>& missing) {
            return Throw(internal::ResolveOffsets(*settings_->stopping_offsets, missing,
                                                  settings_->group_id, lookup));
          });
    }

    metrics_ = &metrics;
    // Gauges outlive the reader (the job result reads them after Close): they share what they read.
    metrics.AddGauge("pendingRecords", [pending = pending_records_] {
      return pending->load(std::memory_order_relaxed);
    });
    watermarks_ = std::make_unique<internal::PartitionWatermarks>(
        watermark_factory_, watermark_idle_ms_.value_or(settings_->partition_idle_timeout_ms),
        &CurrentTimeMillis);
    internal::PartitionListPtr assignment(
        rd_kafka_topic_partition_list_new(static_cast<int>(starts.size())));
    for (const auto& [tp, start] : starts) {
      std::optional<int64_t> stop;
      if (auto s = stops.find(tp); s != stops.end()) stop = s->second;
      AddOwned(tp, start, stop, assignment.get());
    }
    for (const TopicPartition& tp : subscribed) known_.insert(tp);
    if (settings_->failure_policy.kind() == DeserializationFailurePolicy::Kind::kDeadLetter) {
      dead_letters_ = std::make_unique<internal::DeadLetterProducer>(
          ClientProperties(), settings_->failure_policy.topic());
    }
    SLUICE_LOG_INFO("Kafka source subtask {}/{}: {} partitions ({} restored)", task_.subtask_index,
                    task_.parallelism, partitions_.size(), plan.restored.size());

    SourceReaderContext* ctx = &context;
    consumer_->SetWakeup([ctx] { ctx->SignalAvailable(); });
    if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_->handle(), assignment.get()); err) {
      throw StatusException(internal::KafkaErrorStatus(err, "Kafka source: assigning partitions"));
    }
    // A fixed partition list has nothing to discover; bounded sources never discover.
    if (settings_->partition_discovery_interval_ms > 0 && settings_->partitions.empty() &&
        !settings_->bounded) {
      discovery_ = std::make_unique<internal::PartitionDiscovery>(
          consumer_->handle(), milliseconds(settings_->partition_discovery_interval_ms),
          milliseconds(std::min<int64_t>(settings_->broker_timeout_ms, 10'000)),
          [ctx] { ctx->SignalAvailable(); });
    }
  }

  void EnableWatermarks(std::function<std::unique_ptr<WatermarkGenerator>()> factory,
                        std::optional<int64_t> idle_timeout_ms) override {
    watermark_factory_ = std::move(factory);
    watermark_idle_ms_ = idle_timeout_ms;
  }

  void OnEventTimestamp(int64_t timestamp) override {
    if (current_ != nullptr) watermarks_->OnEvent(current_->watermark_slot, timestamp);
  }

  void EmitPeriodicWatermark(RecordHandler& handler) override {
    if (watermarks_ == nullptr || !watermark_factory_) return;
    StatusOutput output(*this, handler);
    watermarks_->OnPeriodicEmit(output);
  }

  void SendToDeadLetter(const ConsumerRecord& record, const std::string& reason) override {
    if (dead_letters_ == nullptr)
      throw std::logic_error("Kafka source: SendToDeadLetter without a dead-letter policy");
    dead_letters_->Send(record, reason);
  }

  InputStatus PollNext(RecordHandler& handler) override {
    consumer_->ServeMainQueue();
    ThrowIfFatal();
    if (std::optional<Status> refused = ServeCommitResults()) throw StatusException(*refused);
    if (dead_letters_ != nullptr) dead_letters_->Poll();
    if (discovery_ != nullptr) {
      if (auto counts = discovery_->Take()) AddDiscovered(*counts);
    }
    RefreshLag();
    if (partitions_.empty()) {
      if (settings_->bounded) return InputStatus::kEndOfInput;
      // Flink leaves this to the user; sluice keeps watermarks moving downstream.
      if (!idle_) handler.MarkIdle();
      idle_ = true;
      return InputStatus::kNothingAvailable;
    }
    if (AllFinished())
      return settings_->bounded ? InputStatus::kEndOfInput : InputStatus::kNothingAvailable;

    ssize_t n =
        rd_kafka_consume_batch_queue(consumer_->consumer_queue(), 0, batch_.data(), batch_.size());
    if (n < 0) {
      throw StatusException(
          internal::KafkaErrorStatus(rd_kafka_last_error(), "Kafka source: consuming"));
    }
    // The lag is refreshed at once at its edges. Records after a quiet spell: a slow downstream
    // may now hold this thread for long, and the lag must show the backlog meanwhile (librdkafka
    // updates a partition's high watermark before it queues the fetched records). An empty
    // poll after records: the reader caught up.
    if ((n > 0) == quiet_since_last_batch_) RefreshLag(/*force=*/true);
    quiet_since_last_batch_ = n == 0;
    // Every message must be destroyed, also when the handler throws.
    struct BatchGuard {
      std::array<rd_kafka_message_t*, kBatchSize>& batch;
      ssize_t count;
      ~BatchGuard() {
        for (ssize_t i = 0; i < count; ++i) rd_kafka_message_destroy(batch[static_cast<size_t>(i)]);
      }
    } guard{batch_, n};
    struct CountGuard {
      ReaderCore& core;
      ~CountGuard() { core.PublishCounts(); }
    } count_guard{*this};
    for (ssize_t i = 0; i < n; ++i) {
      Handle(*batch_[static_cast<size_t>(i)], handler);
      if (handler.StopRequested()) {
        // End of stream: stop fetching; the rest of the batch is not read (nor counted).
        rd_kafka_assign(consumer_->handle(), nullptr);
        return InputStatus::kEndOfInput;
      }
    }
    if (n > 0) return InputStatus::kMoreAvailable;
    if (AllFinished() && settings_->bounded) return InputStatus::kEndOfInput;
    return InputStatus::kNothingAvailable;
  }

  void SnapshotState(CheckpointId id) override {
    // Dead letters of records this checkpoint counts as read must be in Kafka first.
    if (dead_letters_ != nullptr) dead_letters_->Flush(milliseconds(settings_->broker_timeout_ms));
    std::vector<PartitionOffset> items;
    items.reserve(partitions_.size());
    for (const auto& p : partitions_) {
      items.push_back(
          PartitionOffset{p->tp.topic, p->tp.partition, p->next_offset.load(), p->stopping_offset});
    }
    if (settings_->commit_offsets_on_checkpoint) {
      std::map<TopicPartition, int64_t> offsets;
      for (const PartitionOffset& item : items) {
        // A discovered partition with nothing read yet has no offset to commit.
        if (item.next_offset >= 0) offsets[{item.topic, item.partition}] = item.next_offset;
      }
      // With an exactly-once sink on this cluster the checkpoint's own transaction commits
      // them (DESIGN.md section 5); the reader commits only what nobody else does.
      bool in_transaction = !offsets.empty() && settings_->group_id &&
                            internal::TransactionalOffsets::Instance().Publish(
                                task_.job_name, cluster_key_, id, *settings_->group_id, offsets);
      pending_commits_[id] = PendingCommit{std::move(offsets), in_transaction};
    }
    state_->Update(std::move(items));
  }

  void NotifyCheckpointComplete(CheckpointId id) override {
    if (!settings_->commit_offsets_on_checkpoint || consumer_ == nullptr) return;
    auto it = pending_commits_.find(id);
    if (it == pending_commits_.end()) return;
    PendingCommit pending = std::move(it->second);
    std::map<TopicPartition, int64_t>& offsets = pending.offsets;
    // Older pending checkpoints are subsumed by this one; drop them so the map cannot grow.
    pending_commits_.erase(pending_commits_.begin(), std::next(it));
    if (offsets.empty()) return;
    if (pending.in_transaction) {
      // Committed already: the transaction that completed this checkpoint carried them.
      for (const auto& [tp, offset] : offsets) {
        auto owned = index_.find({tp.topic, tp.partition});
        if (owned != index_.end())
          owned->second->committed_offset.store(offset, std::memory_order_relaxed);
      }
      commits_succeeded_->Inc();
      return;
    }
    internal::PartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
          offset;
    }
    // Asynchronous: the result arrives on the commit queue, served in PollNext. The commit is
    // for monitoring; the offsets that count live in the checkpoint.
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(consumer_->handle(), list.get(),
                                                    consumer_->commit_queue(), nullptr, nullptr);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      commits_failed_->Inc();
      SLUICE_LOG_WARN("Kafka source: committing offsets of checkpoint {} failed: {}", id.value(),
                      internal::DescribeError(err));
    }
  }

  void NotifyCheckpointAborted(CheckpointId id) override { pending_commits_.erase(id); }

  void Close() override {
    discovery_.reset();  // joins its thread, which uses the consumer
    dead_letters_.reset();
    if (consumer_ == nullptr) return;
    (void)ServeCommitResults();  // closing anyway: a refusal only counts as a failed commit
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
      std::string prefix =
          settings_->client_id_prefix.value_or(settings_->group_id.value_or("sluice-kafka-source"));
      props["client.id"] = prefix + "-" + std::to_string(task_.subtask_index);
    }
    return props;
  }

  // The task fails with the Status itself, so the job master sees its code.
  template <typename V>
  static V Throw(Result<V> result) {
    if (!result.ok()) throw StatusException(result.status().WithContext("Kafka source"));
    return std::move(result).value();
  }

  void ThrowIfFatal() {
    if (auto fatal = consumer_->FatalError()) {
      throw StatusException(
          fatal->ToStatus(consumer_->security())
              .WithContext("Kafka source subtask " + std::to_string(task_.subtask_index)));
    }
  }

  // The error behind librdkafka's generic _FATAL.
  rd_kafka_resp_err_t FatalCode() const {
    char reason[256];
    rd_kafka_resp_err_t code = rd_kafka_fatal_error(consumer_->handle(), reason, sizeof reason);
    return code == RD_KAFKA_RESP_ERR_NO_ERROR ? RD_KAFKA_RESP_ERR__FATAL : code;
  }

  bool AllFinished() const {
    return std::all_of(partitions_.begin(), partitions_.end(),
                       [](const auto& p) { return p->finished; });
  }

  OwnedPartition* Find(const rd_kafka_message_t& message) {
    const char* topic = rd_kafka_topic_name(message.rkt);
    if (last_ != nullptr && last_->tp.partition == message.partition && last_->tp.topic == topic)
      return last_;
    auto it = index_.find({topic, message.partition});
    last_ = it == index_.end() ? nullptr : it->second;
    return last_;
  }

  void Finish(OwnedPartition& p) {
    if (p.finished) return;
    p.finished = true;
    RefreshLag(/*force=*/true);  // a finished partition has no lag; a bounded reader may end now
    if (watermarks_ != nullptr) watermarks_->FinishPartition(p.watermark_slot);
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
    ConsumerRecord& record = record_;  // reused: no zeroing of a fresh one per record
    record.topic = rd_kafka_topic_name(message.rkt);
    record.partition = message.partition;
    record.offset = message.offset;
    rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    record.timestamp = rd_kafka_message_timestamp(&message, &ts_type);
    record.timestamp_type = ts_type == RD_KAFKA_TIMESTAMP_CREATE_TIME ? TimestampType::kCreateTime
                            : ts_type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME
                                ? TimestampType::kLogAppendTime
                                : TimestampType::kNoTimestampType;
    record.key = message.key != nullptr
                     ? std::optional<std::string_view>(
                           std::string_view(static_cast<const char*>(message.key), message.key_len))
                     : std::nullopt;
    record.value = message.payload != nullptr
                       ? std::optional<std::string_view>(std::string_view(
                             static_cast<const char*>(message.payload), message.len))
                       : std::nullopt;
    headers_.clear();
    rd_kafka_headers_t* headers = nullptr;
    // Parsing headers costs a few percent of the read path; value-only schemas never see them.
    if (handler.NeedsHeaders() &&
        rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        headers != nullptr) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t i = 0;
           rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++i) {
        KafkaHeader header{name, std::nullopt};
        if (value != nullptr)
          header.value = std::string_view(static_cast<const char*>(value), size);
        headers_.push_back(header);
      }
    }
    record.headers = headers_;
    watermarks_->OnRecord(p->watermark_slot);
    current_ = p;
    handler.OnRecord(record);
    current_ = nullptr;
    p->next_offset.store(message.offset + 1, std::memory_order_relaxed);
    // Plain counters here, published once per batch: two atomic adds per record were a third
    // of the reader's own CPU.
    ++uncounted_records_;
    uncounted_bytes_ += static_cast<int64_t>(message.len + message.key_len);
    if (p->stopping_offset && message.offset + 1 >= *p->stopping_offset) Finish(*p);
  }

  void HandleConsumerError(const rd_kafka_message_t& message) {
    std::string where = message.rkt != nullptr
                            ? " (topic '" + std::string(rd_kafka_topic_name(message.rkt)) +
                                  "' partition " + std::to_string(message.partition) + ")"
                            : "";
    switch (message.err) {
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
      case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED: {
        // A missing ACL: no retry of librdkafka's or restart of ours grants it.
        const bool topic = message.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        internal::AclNeeded acl{
            "READ", topic ? "topic" : "group",
            topic && message.rkt != nullptr ? rd_kafka_topic_name(message.rkt) : GroupName(),
            false};
        throw StatusException(internal::AclDeniedStatus(message.err, "Kafka source" + where, acl,
                                                        consumer_->security(),
                                                        rd_kafka_message_errstr(&message)));
      }
      case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR__FATAL:
        // librdkafka does not retry these by itself: a missing topic (restartable), refused
        // credentials or ACLs, or an offset out of range with reset strategy None.
        throw StatusException(internal::KafkaErrorStatus(
            message.err == RD_KAFKA_RESP_ERR__FATAL ? FatalCode() : message.err,
            "Kafka source" + where, rd_kafka_message_errstr(&message)));
      default:
        // Transient (a broker restarting, a timed-out fetch): librdkafka retries by itself.
        SLUICE_LOG_WARN("Kafka source subtask {}: {}{}: {}", task_.subtask_index,
                        internal::DescribeError(message.err), where,
                        rd_kafka_message_errstr(&message));
    }
  }

  // Tells the handler the reader's status, dropping repeats (shared with the idle logic above).
  struct StatusOutput final : WatermarkOutput {
    StatusOutput(ReaderCore& core, RecordHandler& handler) : core_(core), handler_(handler) {}
    void EmitWatermark(int64_t timestamp) override { handler_.EmitWatermark(timestamp); }
    void MarkIdle() override {
      if (core_.idle_) return;
      core_.idle_ = true;
      handler_.MarkIdle();
    }
    void MarkActive() override {
      if (!core_.idle_) return;
      core_.idle_ = false;
      handler_.MarkActive();
    }
    ReaderCore& core_;
    RecordHandler& handler_;
  };

  // Registers an owned partition (metrics, watermark slot) and adds it to `assignment` unless
  // it is already finished.
  void AddOwned(const TopicPartition& tp, int64_t start, std::optional<int64_t> stop,
                rd_kafka_topic_partition_list_t* assignment) {
    auto owned = std::make_shared<OwnedPartition>();
    owned->tp = tp;
    owned->next_offset = start;
    owned->stopping_offset = stop;
    owned->finished = stop && start >= 0 && start >= *stop;
    owned->watermark_slot = watermarks_->AddPartition();
    if (owned->finished) watermarks_->FinishPartition(owned->watermark_slot);
    if (!owned->finished) {
      rd_kafka_topic_partition_list_add(assignment, tp.topic.c_str(), tp.partition)->offset = start;
    }
    MetricGroup& group = metrics_->AddGroup("topic")
                             .AddGroup(tp.topic)
                             .AddGroup("partition")
                             .AddGroup(std::to_string(tp.partition));
    group.AddGauge("currentOffset",
                   [owned] { return owned->next_offset.load(std::memory_order_relaxed); });
    group.AddGauge("committedOffset",
                   [owned] { return owned->committed_offset.load(std::memory_order_relaxed); });
    index_[{tp.topic, tp.partition}] = owned.get();
    last_ = nullptr;
    partitions_.push_back(std::move(owned));
  }

  // Partition discovery: partitions of the subscription not seen before start at the
  // earliest offset, on the subtask Flink's formula picks.
  void AddDiscovered(const std::map<std::string, int>& counts) {
    Result<std::vector<TopicPartition>> matched = internal::MatchSubscription(
        counts, *settings_, settings_->client_properties.at("bootstrap.servers"),
        /*strict=*/false);
    if (!matched.ok()) return;
    std::vector<TopicPartition> mine;
    for (const TopicPartition& tp : *matched) {
      if (!known_.insert(tp).second) continue;
      if (sluice::internal::AssignPartitionToSubtask(tp.topic, tp.partition, task_.parallelism) ==
          task_.subtask_index) {
        mine.push_back(tp);
      }
    }
    if (mine.empty()) return;
    std::map<TopicPartition, int64_t> stops;
    if (settings_->stopping_offsets) {
      // Rare (SetUnbounded with stopping offsets): a bounded lookup on the task thread.
      internal::BrokerOffsetLookup lookup(*consumer_,
                                          settings_->client_properties.at("bootstrap.servers"),
                                          milliseconds(settings_->broker_timeout_ms));
      stops = settings_->run_stopping_offsets->Get(
          task_.run_id, mine, [&](const std::vector<TopicPartition>& missing) {
            return Throw(internal::ResolveOffsets(*settings_->stopping_offsets, missing,
                                                  settings_->group_id, lookup));
          });
    }
    internal::PartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(mine.size())));
    for (const TopicPartition& tp : mine) {
      std::optional<int64_t> stop;
      if (auto it = stops.find(tp); it != stops.end()) stop = it->second;
      AddOwned(tp, RD_KAFKA_OFFSET_BEGINNING, stop, list.get());
      SLUICE_LOG_INFO(
          "Kafka source subtask {}: discovered partition {}, reading it from the earliest offset",
          task_.subtask_index, ToString(tp));
    }
    internal::ErrorPtr error(rd_kafka_incremental_assign(consumer_->handle(), list.get()));
    if (error != nullptr) {
      throw StatusException(internal::KafkaErrorStatus(
          rd_kafka_error_code(error.get()), "Kafka source: assigning discovered partitions",
          rd_kafka_error_string(error.get())));
    }
  }

  // pendingRecords: the sum over owned partitions of (high watermark - next offset), from the
  // high watermarks librdkafka caches from fetch answers (no broker request). At most once a
  // second while batches come back to back, unless `force`.
  void RefreshLag(bool force = false) {
    int64_t now = CurrentTimeMillis();
    if (!force && now - last_lag_refresh_ms_ < kLagRefreshMs) return;
    last_lag_refresh_ms_ = now;
    int64_t pending = 0;
    for (auto& p : partitions_) {
      int64_t low = -1;
      int64_t high = -1;
      if (rd_kafka_get_watermark_offsets(consumer_->handle(), p->tp.topic.c_str(), p->tp.partition,
                                         &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        p->high_watermark = high;
      }
      int64_t next = p->next_offset.load(std::memory_order_relaxed);
      if (p->finished || p->high_watermark < 0) continue;
      if (next < 0) next = low >= 0 ? low : 0;
      pending += std::max<int64_t>(0, p->high_watermark - next);
    }
    pending_records_->store(pending, std::memory_order_relaxed);
  }

  void PublishCounts() {
    if (uncounted_records_ == 0) return;
    records_in_->Inc(uncounted_records_);
    bytes_in_->Inc(uncounted_bytes_);
    uncounted_records_ = 0;
    uncounted_bytes_ = 0;
  }

  // The group the reader commits to: the user's, or the private one of ClientProperties().
  std::string GroupName() const {
    if (settings_->group_id) return *settings_->group_id;
    char value[512];
    size_t size = sizeof value;
    if (rd_kafka_conf_get(rd_kafka_conf(consumer_->handle()), "group.id", value, &size) !=
        RD_KAFKA_CONF_OK) {
      return "?";
    }
    return value;
  }

  // Serves the results of offset commits. A commit refused for lack of an ACL comes back as
  // the Status to fail with: the commit is for monitoring, but the user asked for it (a group
  // id, commits on checkpoints), and every later one would be refused the same way. Other
  // failures (a coordinator moving) are counted and logged; the next checkpoint commits again.
  std::optional<Status> ServeCommitResults() {
    if (consumer_ == nullptr) return std::nullopt;
    std::optional<Status> refused;
    while (internal::EventPtr event{rd_kafka_queue_poll(consumer_->commit_queue(), 0)}) {
      if (rd_kafka_event_type(event.get()) != RD_KAFKA_EVENT_OFFSET_COMMIT) continue;
      rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
      const rd_kafka_topic_partition_list_t* list =
          rd_kafka_event_topic_partition_list(event.get());
      bool ok = err == RD_KAFKA_RESP_ERR_NO_ERROR;
      auto check_refused = [&](rd_kafka_resp_err_t code, const char* topic) {
        if (refused || internal::StatusCodeOf(code) != StatusCode::kPermissionDenied) return;
        const bool topic_acl = code == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
        refused = internal::AclDeniedStatus(
            code,
            "Kafka source subtask " + std::to_string(task_.subtask_index) +
                ": committing offsets to group '" + GroupName() + "'",
            {"READ", topic_acl ? "topic" : "group",
             topic_acl && topic != nullptr ? std::string(topic) : GroupName(), false},
            consumer_->security());
      };
      check_refused(err, nullptr);
      for (int i = 0; list != nullptr && i < list->cnt; ++i) {
        const rd_kafka_topic_partition_t& tp = list->elems[i];
        if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          ok = false;
          check_refused(tp.err, tp.topic);
          continue;
        }
        auto it = index_.find({tp.topic, tp.partition});
        if (it != index_.end())
          it->second->committed_offset.store(tp.offset, std::memory_order_relaxed);
      }
      if (ok) {
        commits_succeeded_->Inc();
      } else {
        commits_failed_->Inc();
        SLUICE_LOG_WARN("Kafka source subtask {}: committing offsets failed: {}",
                        task_.subtask_index, rd_kafka_event_error_string(event.get()));
      }
    }
    return refused;
  }

  std::shared_ptr<const KafkaSourceSettings> settings_;
  TaskInfo task_;
  ListState<PartitionOffset>* state_ = nullptr;
  Counter* commits_succeeded_ = nullptr;
  Counter* commits_failed_ = nullptr;
  Counter* bytes_in_ = nullptr;
  Counter* records_in_ = nullptr;
  std::vector<std::shared_ptr<OwnedPartition>> partitions_;
  std::map<std::pair<std::string, int32_t>, OwnedPartition*> index_;
  OwnedPartition* last_ = nullptr;
  struct PendingCommit {
    std::map<TopicPartition, int64_t> offsets;
    bool in_transaction = false;  // an exactly-once sink's transaction commits them
  };
  std::map<CheckpointId, PendingCommit> pending_commits_;
  std::string cluster_key_;
  ConsumerRecord record_;
  int64_t uncounted_records_ = 0;
  int64_t uncounted_bytes_ = 0;
  std::array<rd_kafka_message_t*, kBatchSize> batch_{};
  std::vector<KafkaHeader> headers_;
  bool idle_ = false;
  MetricGroup* metrics_ = nullptr;
  std::shared_ptr<std::atomic<int64_t>> pending_records_ =
      std::make_shared<std::atomic<int64_t>>(0);
  int64_t last_lag_refresh_ms_ = 0;
  bool quiet_since_last_batch_ = true;  // the last poll found nothing (or none happened yet)
  std::function<std::unique_ptr<WatermarkGenerator>()> watermark_factory_;
  std::optional<int64_t> watermark_idle_ms_;
  std::unique_ptr<internal::PartitionWatermarks> watermarks_;
  OwnedPartition* current_ = nullptr;
  std::set<TopicPartition> known_;  // every subscribed partition seen, any subtask's
  std::unique_ptr<internal::DeadLetterProducer> dead_letters_;
  std::unique_ptr<internal::PartitionDiscovery>
      discovery_;  // uses consumer_: Close resets it first
  // Last: closed and destroyed first (Close), while everything above is still alive.
  std::unique_ptr<internal::KafkaConsumer> consumer_;
};

}  // namespace

std::unique_ptr<KafkaReaderCore> CreateKafkaReaderCore(
    std::shared_ptr<const KafkaSourceSettings> settings, const TaskInfo& task) {
  return std::make_unique<ReaderCore>(std::move(settings), task);
}

}  // namespace sluice::kafka::detail
