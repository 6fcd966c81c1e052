// The untyped half of a KafkaSink writer: which producer a record goes to, what happens at a
// barrier and at the end of input, and turning stored delivery failures into exceptions on the
// task thread (the only way a SinkWriter can fail its job; StatusException keeps their code).
#include <librdkafka/rdkafka.h>

#include <array>
#include <charconv>
#include <map>

#include <sluice/connectors/kafka/detail/kafka_sink_core.h>

#include "connectors/kafka/kafka_producer.h"
#include "connectors/kafka/transaction_participant.h"
#include "core/log.h"

namespace sluice::kafka::detail {
namespace {

using internal::DeliveryTracker;
using internal::KafkaProducer;
using internal::KafkaTransactionParticipant;

// A SinkWriter fails its task by throwing; the Status travels inside, so the job master sees
// its code (a fenced or unauthenticated sink stops the job instead of restarting it).
[[noreturn]] void Fail(const Status& status) { throw StatusException(status); }

int64_t PropertyMs(const std::map<std::string, std::string>& properties, const char* key,
                   int64_t fallback) {
  auto it = properties.find(key);
  if (it == properties.end()) return fallback;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  return ec == std::errc() && value > 0 ? value : fallback;
}

class KafkaWriterCoreImpl final : public KafkaWriterCore {
 public:
  KafkaWriterCoreImpl(std::shared_ptr<const KafkaSinkSettings> settings,
                      std::shared_ptr<CheckpointParticipant> participant, const TaskInfo& task)
      : settings_(std::move(settings)),
        participant_(std::static_pointer_cast<KafkaTransactionParticipant>(std::move(participant))),
        task_(task) {
    // librdkafka reports every record within message.timeout.ms (default 5 min); a flush that
    // outlives it plus a margin means something is broken.
    flush_timeout_ = std::chrono::milliseconds(
        PropertyMs(settings_->producer_properties, "message.timeout.ms",
                   PropertyMs(settings_->producer_properties, "delivery.timeout.ms", 300'000)) +
        settings_->broker_timeout_ms);
  }

  void Open(RuntimeContext& context) override {
    MetricGroup& group = context.GetMetricGroup().AddGroup("KafkaSink");
    records_send_ = &group.GetCounter("numRecordsSend");
    bytes_send_ = &group.GetCounter("numBytesSend");
    dropped_ = &group.GetCounter("numRecordsDropped");
    if (settings_->guarantee == DeliveryGuarantee::kExactlyOnce) {
      Result<KafkaTransactionParticipant::Producers> producers = participant_->AttachWriter();
      if (!producers.ok()) Fail(producers.status());
      pair_ = producers->slots;
      slot_ = producers->first_slot;
      current_ = pair_[static_cast<size_t>(slot_)].get();
      for (size_t i = 0; i < pair_.size(); ++i) trackers_[i] = pair_[i]->NewTracker();
      std::shared_ptr<KafkaTransactionParticipant> participant = participant_;
      group.AddGauge("transactionsCommitted",
                     [participant] { return participant->transactions_committed(); });
      group.AddGauge("transactionsAborted",
                     [participant] { return participant->transactions_aborted(); });
      group.AddGauge("commitLatencyUs",
                     [participant] { return participant->last_commit_latency_us(); });
      auto a = pair_[0]->failed_counter(), b = pair_[1]->failed_counter();
      group.AddGauge("numRecordsSendErrors", [a, b] { return a->load() + b->load(); });
      return;
    }
    std::string client_id =
        (task_.operator_uid.empty() ? "sluice-kafka-sink" : task_.operator_uid) + "-" +
        std::to_string(task_.subtask_index);
    Result<std::unique_ptr<KafkaProducer>> producer = KafkaProducer::Create(
        settings_->producer_properties, client_id,
        settings_->log_failures_only ? internal::DeliveryFailures::kLogAndCount
                                     : internal::DeliveryFailures::kFailTheJob);
    if (!producer.ok()) Fail(producer.status());
    own_ = std::move(*producer);
    current_ = own_.get();
    auto failed = own_->failed_counter();
    group.AddGauge("numRecordsSendErrors", [failed] { return failed->load(); });
  }

  void Send(const ProducerRecord& record) override {
    ThrowIfFailed();
    Status status = current_->Produce(record, tracker(), TopicHandle(record.topic));
    if (!status.ok()) {
      ThrowIfFailed();
      // A refused record (too large, unknown partition, ...) is a failed delivery that
      // librdkafka reports early; a fatal producer error ends everything anyway.
      if (settings_->log_failures_only && !current_->FatallyFailed()) {
        current_->CountRefused(status);
        return;
      }
      Fail(status);
    }
    records_send_->Inc();
    bytes_send_->Inc(static_cast<int64_t>(record.key.size() + record.value.size()));
    ++since_barrier_;
  }

  void CountDropped() override { dropped_->Inc(); }

  const std::vector<int32_t>& PartitionsFor(const std::string& topic) override {
    auto it = partitions_.find(topic);
    if (it != partitions_.end()) return it->second;
    Result<std::vector<int32_t>> partitions =
        current_->Partitions(topic, std::chrono::milliseconds(settings_->broker_timeout_ms));
    if (!partitions.ok()) Fail(partitions.status());
    return partitions_.emplace(topic, std::move(*partitions)).first->second;
  }

  void Flush(bool end_of_input) override {
    switch (settings_->guarantee) {
      case DeliveryGuarantee::kNone:
        if (end_of_input) WaitForDeliveries();
        break;
      case DeliveryGuarantee::kAtLeastOnce:
        // The snapshot that follows may only complete once everything before the barrier is
        // acknowledged by the broker.
        WaitForDeliveries();
        break;
      case DeliveryGuarantee::kExactlyOnce:
        // Records are in the shared producer already; the commit flushes it. At the end of
        // input the runtime's final checkpoint commits what came after the last barrier.
        ThrowIfFailed();
        break;
    }
    if (end_of_input) ended_ = true;
  }

  void SnapshotState(CheckpointId) override {
    if (settings_->guarantee == DeliveryGuarantee::kExactlyOnce) {
      if (since_barrier_ > 0) participant_->NoteWritten(slot_);
      // Epoch N ends here: later records belong to N+1, whose transaction is already open on
      // the other producer. First every record of N must be in the broker's log: records of
      // the two producers reach a partition in arrival order, and N+1's must come after N's
      // (per-key order, and the last value a compacted topic keeps). One round trip per
      // checkpoint, not a wait for the commit.
      WaitForOwnDeliveries();
      slot_ = 1 - slot_;
      current_ = pair_[static_cast<size_t>(slot_)].get();
    }
    since_barrier_ = 0;
  }

  void Close() override {
    if (settings_->guarantee == DeliveryGuarantee::kExactlyOnce && ended_ && since_barrier_ > 0) {
      SLUICE_LOG_WARN(
          "KafkaSink (EXACTLY_ONCE) subtask {}: {} records written after the last completed "
          "checkpoint are not "
          "committed (the job's final checkpoint did not complete); their transaction is aborted",
          task_.subtask_index, since_barrier_);
    }
    // The open epoch's transaction is aborted next (failover or end): it discards records.
    if (settings_->guarantee == DeliveryGuarantee::kExactlyOnce && since_barrier_ > 0) {
      participant_->NoteWritten(slot_);
    }
    last_topic_ = nullptr;
    topics_.clear();  // topic handles before their producers
    if (own_ != nullptr) {
      // After a clean end of input everything was flushed; on cancellation nothing waits for
      // the broker (AT_LEAST_ONCE replays from the last checkpoint anyway).
      if (!ended_) own_->Purge();
      own_.reset();
    }
    trackers_ = {};
    pair_ = {};
    current_ = nullptr;
  }

 private:
  // This writer's topic handles, one per producer it writes through: made (with a metadata
  // request, so the first records are not held back and a missing topic fails at once) the
  // first time a topic appears; the last one used is found without a map lookup.
  struct TopicHandles {
    std::string name;
    std::array<internal::TopicPtr, 2> per_producer;
  };

  rd_kafka_topic_t* TopicHandle(const std::string& topic) {
    if (last_topic_ == nullptr || last_topic_->name != topic) {
      auto it = topics_.find(topic);
      if (it == topics_.end()) it = topics_.emplace(topic, OpenTopic(topic)).first;
      last_topic_ = &it->second;
    }
    size_t index =
        settings_->guarantee == DeliveryGuarantee::kExactlyOnce ? static_cast<size_t>(slot_) : 0;
    return last_topic_->per_producer[index].get();
  }

  TopicHandles OpenTopic(const std::string& topic) {
    TopicHandles handles{topic, {}};
    std::array<KafkaProducer*, 2> producers = {own_.get(), nullptr};
    if (settings_->guarantee == DeliveryGuarantee::kExactlyOnce)
      producers = {pair_[0].get(), pair_[1].get()};
    for (size_t i = 0; i < producers.size(); ++i) {
      if (producers[i] == nullptr) continue;
      Result<internal::TopicPtr> handle =
          producers[i]->TopicHandle(topic, std::chrono::milliseconds(settings_->broker_timeout_ms));
      if (!handle.ok()) Fail(handle.status());
      handles.per_producer[i] = std::move(*handle);
    }
    return handles;
  }

  DeliveryTracker* tracker() const {
    return settings_->guarantee == DeliveryGuarantee::kExactlyOnce
               ? trackers_[static_cast<size_t>(slot_)]
               : nullptr;
  }

  void WaitForOwnDeliveries() {
    DeliveryTracker* own = tracker();
    if (!own->WaitUntilDrained(flush_timeout_)) {
      Fail(Status::TimedOut(
          "KafkaSink: " + std::to_string(own->outstanding()) + " records of subtask " +
          std::to_string(task_.subtask_index) + " still had no delivery report after " +
          std::to_string(flush_timeout_.count()) + " ms at a checkpoint barrier"));
    }
    ThrowIfFailed();
  }

  void WaitForDeliveries() {
    Status flushed = current_->Flush(flush_timeout_);
    ThrowIfFailed();
    if (!flushed.ok()) Fail(flushed);
  }

  void ThrowIfFailed() {
    if (settings_->guarantee == DeliveryGuarantee::kExactlyOnce) {
      for (const std::shared_ptr<KafkaProducer>& producer : pair_) {
        if (!producer->MayHaveFailed()) continue;  // per record: no locks on the way
        std::optional<Status> error = producer->Error();
        // A fenced producer may learn it from a failed delivery (INVALID_PRODUCER_EPOCH)
        // before librdkafka raises the fatal error: either way the job must stop.
        if (producer->Fenced() || (error && error->code() == StatusCode::kFenced)) {
          participant_->ReportFenced();
          Fail(participant_->FencedStatus(producer->client_id()));
        }
        if (error) Fail(*error);
      }
      return;
    }
    if (!current_->MayHaveFailed()) return;
    if (std::optional<Status> error = current_->Error()) Fail(*error);
  }

  std::shared_ptr<const KafkaSinkSettings> settings_;
  std::shared_ptr<KafkaTransactionParticipant> participant_;
  TaskInfo task_;
  std::chrono::milliseconds flush_timeout_{0};
  std::unique_ptr<KafkaProducer> own_;
  std::array<std::shared_ptr<KafkaProducer>, 2> pair_;
  std::array<DeliveryTracker*, 2> trackers_{};  // owned by pair_'s producers
  std::map<std::string, TopicHandles> topics_;
  TopicHandles* last_topic_ = nullptr;
  int32_t slot_ = 0;
  KafkaProducer* current_ = nullptr;
  std::map<std::string, std::vector<int32_t>> partitions_;
  Counter* records_send_ = nullptr;
  Counter* bytes_send_ = nullptr;
  Counter* dropped_ = nullptr;
  int64_t since_barrier_ = 0;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<KafkaWriterCore> CreateKafkaWriterCore(
    std::shared_ptr<const KafkaSinkSettings> settings,
    std::shared_ptr<CheckpointParticipant> participant, const TaskInfo& task) {
  return std::make_unique<KafkaWriterCoreImpl>(std::move(settings), std::move(participant), task);
}

}  // namespace sluice::kafka::detail
