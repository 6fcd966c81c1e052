#include "connectors/kafka/transaction_participant.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>

#include <sluice/api/time.h>

#include "connectors/kafka/client_properties.h"
#include "connectors/kafka/transaction_marker.h"
#include "connectors/kafka/transaction_test_hooks.h"
#include "connectors/kafka/transactional_offsets.h"
#include "core/log.h"

namespace sluice::kafka::internal {
namespace {

using std::chrono::milliseconds;

std::mutex g_hook_mutex;
TransactionHook g_hook;
std::atomic<bool> g_hook_set{false};

Status RunHook(TransactionPhase phase, int64_t checkpoint) {
  if (!g_hook_set.load(std::memory_order_acquire)) return Status::Ok();
  TransactionHook hook;
  {
    std::lock_guard lock(g_hook_mutex);
    hook = g_hook;
  }
  return hook ? hook(phase, checkpoint) : Status::Ok();
}

// How many control-topic records recovery reads per step while walking back from the end.
constexpr int64_t kRecoveryWindow = 1000;

// init_transactions in steps of at most a second: a retriable timeout resumes the same call
// (librdkafka: "Calling the function again will resume the operation"), and between steps a
// refused login, which librdkafka reports only as an error event while the call waits on,
// ends the wait at once instead of after sluice.broker.timeout.ms. TxnError names it then.
rd_kafka_error_t* InitTransactions(KafkaProducer& producer, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    rd_kafka_error_t* error = rd_kafka_init_transactions(
        producer.handle(), static_cast<int>(std::clamp<int64_t>(left.count(), 1, 1000)));
    if (error == nullptr || rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__TIMED_OUT ||
        !rd_kafka_error_is_retriable(error) || std::chrono::steady_clock::now() >= deadline) {
      return error;
    }
    if (std::optional<Status> refused = producer.Error(); refused && !IsRestartable(*refused)) {
      return error;
    }
    rd_kafka_error_destroy(error);
  }
}

}  // namespace

void SetTransactionHookForTesting(TransactionHook hook) {
  std::lock_guard lock(g_hook_mutex);
  g_hook = std::move(hook);
  g_hook_set.store(static_cast<bool>(g_hook), std::memory_order_release);
}

KafkaTransactionParticipant::KafkaTransactionParticipant(
    std::shared_ptr<const detail::KafkaSinkSettings> settings)
    : settings_(std::move(settings)) {
  changelog_ = std::make_unique<KafkaStateChangelog>(
      settings_,
      [this](int64_t checkpoint) -> Result<std::pair<std::shared_ptr<KafkaProducer>, int32_t>> {
        MutexLock lock(mutex_);
        if (!recovered_) {
          return Status::FailedPrecondition(
              "state changelog: checkpoint " + std::to_string(checkpoint) +
              " writes state while the transactions are not recovered (the job is failing over)");
        }
        return std::make_pair(producers_[static_cast<size_t>(commit_slot_)], commit_slot_);
      },
      [this](const KafkaProducer& producer, Status error) {
        // Fencing seen first by a changelog append (a task's snapshot) must stop the job with
        // the same word as when a sink writer sees it.
        if (producer.Fenced() || error.code() == StatusCode::kFenced) {
          ReportFenced();
          return FencedStatus(producer.client_id());
        }
        return error;
      });
}

KafkaTransactionParticipant::~KafkaTransactionParticipant() {
  changelog_->OnRecovered(0, std::nullopt, nullptr);  // releases its handles on the producers
  MutexLock lock(mutex_);
  DropProducers(/*abort_open=*/false);
}

std::string KafkaTransactionParticipant::Name() const {
  return std::string(settings_->state_only ? "the state changelog's Kafka transactions"
                                           : "the EXACTLY_ONCE Kafka sink") +
         " (bootstrap.servers=" + settings_->cluster_key + ", transactional id prefix '" +
         *settings_->transactional_id_prefix + "')";
}

std::string KafkaTransactionParticipant::TransactionalId(int32_t slot) const {
  return *settings_->transactional_id_prefix + "-" + std::to_string(job_.instance) +
         (slot == 0 ? "-a" : "-b");
}

Status KafkaTransactionParticipant::FencedStatus(const std::string& transactional_id) const {
  return Status::Fenced(
      Who() + ": transactional id " + transactional_id +
      " was taken over by another producer: another live instance of this job (or another job) "
      "uses the transactional id prefix '" +
      *settings_->transactional_id_prefix + "' on bootstrap.servers=" + settings_->cluster_key +
      ". Stop the other instance, or give each job its own prefix (SetTransactionalIdPrefix). "
      "The job stops instead of restarting, because a restart would fence the other instance in "
      "turn.");
}

void KafkaTransactionParticipant::ReportFenced() { fenced_ = true; }

Status KafkaTransactionParticipant::CheckFenced(
    const std::shared_ptr<KafkaProducer>& producer) const {
  if (producer != nullptr && producer->Fenced()) return FencedStatus(producer->client_id());
  return Status::Ok();
}

Status KafkaTransactionParticipant::TxnError(rd_kafka_error_t* raw, const std::string& what,
                                             int32_t slot) {
  if (raw == nullptr) return Status::Ok();
  internal::ErrorPtr error(raw);
  rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
  std::string detail = std::string(rd_kafka_error_string(error.get())) + " (" +
                       rd_kafka_error_name(error.get()) + ")";
  const std::string id = TransactionalId(slot);
  if (IsFencedError(code) || (producers_[static_cast<size_t>(slot)] != nullptr &&
                              producers_[static_cast<size_t>(slot)]->Fenced())) {
    fenced_ = true;
    return FencedStatus(id);
  }
  if (code == RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT) {
    return Status::InvalidArgument(
        Who() + ": the broker refused transaction.timeout.ms=" +
        std::to_string(settings_->transaction_timeout_ms) + " for " + id +
        ": it exceeds the broker's transaction.max.timeout.ms (900000 = 15 min unless the broker "
        "sets it). Lower transaction.timeout.ms with SetProperty (it must still exceed checkpoint "
        "interval + "
        "checkpoint timeout), or raise transaction.max.timeout.ms on the brokers. (" +
        detail + ")");
  }
  if (code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
    return AclDeniedStatus(code, Who() + ": " + what + " for " + id,
                           {"WRITE and DESCRIBE", "transactional id",
                            *settings_->transactional_id_prefix, /*prefixed=*/true},
                           Security(), detail);
  }
  if (code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    return AclDeniedStatus(code, Who() + ": " + what + " for " + id,
                           {"IDEMPOTENT_WRITE", "cluster", "kafka-cluster", false}, Security(),
                           detail);
  }
  // A timeout may hide the real cause, which the producer heard about as an error event or a
  // failed delivery (a refused login, a record too large): that cause decides about a restart.
  if (const std::shared_ptr<KafkaProducer>& producer = producers_[static_cast<size_t>(slot)]) {
    if (std::optional<Status> cause = producer->Error(); cause && !IsRestartable(*cause))
      return cause->WithContext(what + " for " + id);
  }
  StatusCode status_code =
      rd_kafka_error_is_retriable(error.get()) || code == RD_KAFKA_RESP_ERR__TIMED_OUT
          ? StatusCode::kUnavailable
          : StatusCodeOf(code);
  return {status_code, Who() + ": " + what + " for " + id + " failed: " + detail};
}

void KafkaTransactionParticipant::DropProducers(bool abort_open) {
  for (size_t slot = 0; slot < producers_.size(); ++slot) {
    std::shared_ptr<KafkaProducer>& producer = producers_[slot];
    if (producer == nullptr) continue;
    if (abort_open && open_[slot] && !producer->Fenced()) {
      producer->Purge();  // the abort purges its records anyway: not failed deliveries
      rd_kafka_error_t* error = rd_kafka_abort_transaction(
          producer->handle(), static_cast<int>(settings_->broker_timeout_ms));
      if (error == nullptr) {
        // The writers' next epoch is always open and usually empty at the end: that is no loss.
        if (written_[slot].load()) ++aborted_;
      } else {
        SLUICE_LOG_WARN(
            "{}: aborting the open transaction of {} at close: {} (the next start "
            "aborts it)",
            Who(), producer->client_id(), rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
      }
    } else {
      // Whatever was open is aborted by the next init_transactions on this id.
      producer->Purge();
    }
    open_[slot] = false;
    producer.reset();
  }
}

Result<std::optional<CheckpointCompletion>> KafkaTransactionParticipant::Recover(
    const JobInstanceInfo& job) {
  MutexLock lock(mutex_);
  for (int32_t slot = 0; slot < 2; ++slot) {
    Status fenced = CheckFenced(producers_[static_cast<size_t>(slot)]);
    if (!fenced.ok()) fenced_ = true;
  }
  if (fenced_) return FencedStatus(TransactionalId(0) + " / " + TransactionalId(1));
  // Transactions of the failed attempt that hold records: aborted below.
  std::array<bool, 2> discarded{};
  for (size_t slot = 0; slot < discarded.size(); ++slot)
    discarded[slot] = open_[slot] && written_[slot].load();
  // A restart in this process. If another instance took these transactional ids while the
  // failed attempt ran (this process was paused, say), the attempt's producers are fenced,
  // and init_transactions below would fence that instance in turn: the wrong process would
  // win. So abort the attempt's transactions through their own producers first: the
  // coordinator refuses the abort of a fenced epoch, and this instance stops instead.
  for (size_t slot = 0; slot < producers_.size(); ++slot) {
    const std::shared_ptr<KafkaProducer>& producer = producers_[slot];
    if (producer == nullptr || !open_[slot] || !discarded[slot]) continue;
    producer->Purge();  // the abort drops them anyway: not failed deliveries
    internal::ErrorPtr error(rd_kafka_abort_transaction(
        producer->handle(), static_cast<int>(settings_->broker_timeout_ms)));
    if (producer->Fenced() ||
        (error != nullptr && IsFencedError(rd_kafka_error_code(error.get())))) {
      fenced_ = true;
      return FencedStatus(producer->client_id());
    }
    // Any other answer (a broker that is down, say) leaves it to init_transactions.
    if (error == nullptr) open_[slot] = false;
  }
  changelog_->OnRecovered(0, std::nullopt, nullptr);  // its topic handles belong to the producers
  DropProducers(/*abort_open=*/false);
  recovered_ = false;
  job_ = job;
  for (int32_t slot = 0; slot < 2; ++slot) {
    std::map<std::string, std::string> properties = settings_->producer_properties;
    properties["transactional.id"] = TransactionalId(slot);
    Result<std::unique_ptr<KafkaProducer>> producer =
        KafkaProducer::Create(properties, TransactionalId(slot));
    if (!producer.ok()) return producer.status();
    producers_[static_cast<size_t>(slot)] = std::shared_ptr<KafkaProducer>(std::move(*producer));
    // Aborts whatever a previous owner of this id left open and fences that owner.
    Status status = TxnError(InitTransactions(*producers_[static_cast<size_t>(slot)],
                                              milliseconds(settings_->broker_timeout_ms)),
                             "init_transactions", slot);
    if (!status.ok()) return status;
    if (discarded[static_cast<size_t>(slot)]) ++aborted_;
  }
  Status topic = EnsureControlTopic();
  if (!topic.ok()) return topic;
  Result<std::optional<CommitMarker>> marker = FindLastCommitted();
  if (!marker.ok()) return marker.status();
  std::optional<CheckpointCompletion> committed;
  if (*marker) {
    committed.emplace();
    committed->id = CheckpointId((*marker)->checkpoint);
    committed->trigger_time_ms = (*marker)->trigger_time_ms;
    committed->storage_path = (*marker)->storage_path;
  }
  changelog_->OnRecovered(*marker ? (*marker)->checkpoint : 0,
                          *marker ? (*marker)->changelog : std::nullopt, producers_[0]->handle());
  for (int32_t slot = 0; slot < 2; ++slot) {
    Status status =
        TxnError(rd_kafka_begin_transaction(producers_[static_cast<size_t>(slot)]->handle()),
                 "begin_transaction", slot);
    if (!status.ok()) return status;
    open_[static_cast<size_t>(slot)] = true;
    written_[static_cast<size_t>(slot)] = false;
  }
  commit_slot_ = 0;
  recovered_ = true;
  TransactionalOffsets::Instance().Subscribe(job.job_name, settings_->cluster_key);
  if (committed) {
    SLUICE_LOG_INFO("{}: job '{}' instance {}: last committed checkpoint {} ({}{})", Who(),
                    job.job_name, job.instance, committed->id.value(), committed->storage_path,
                    (*marker)->changelog ? ", state also in the changelog" : "");
  }
  return committed;
}

Status KafkaTransactionParticipant::CompleteCheckpoint(const CheckpointCompletion& completion) {
  MutexLock lock(mutex_);
  const int64_t id = completion.id.value();
  if (!recovered_)
    return Status::FailedPrecondition(Who() + ": CompleteCheckpoint before Recover (a sluice bug)");
  const int32_t slot = commit_slot_;
  const std::shared_ptr<KafkaProducer>& producer = producers_[static_cast<size_t>(slot)];
  const auto timeout = static_cast<int>(settings_->broker_timeout_ms);
  const auto started = std::chrono::steady_clock::now();

  if (Status fenced = CheckFenced(producer); !fenced.ok()) {
    fenced_ = true;
    return fenced;
  }
  if (Status hook = RunHook(TransactionPhase::kBeforeMarker, id); !hook.ok())
    return AbortFailedCommit(slot, hook);
  if (std::optional<Status> error = producer->Error()) return AbortFailedCommit(slot, *error);

  // Every writer passed barrier N, so all of epoch N (outputs and state changelog records) is
  // in the producer; wait for it so that a failed delivery is reported with its topic and
  // partition rather than as a failed commit, and so that the marker can record where N's
  // changelog records end.
  if (Status flushed = producer->Flush(milliseconds(settings_->broker_timeout_ms)); !flushed.ok()) {
    return AbortFailedCommit(slot, flushed);
  }
  if (std::optional<Status> error = producer->Error()) {
    if (producer->Fenced()) {
      fenced_ = true;
      return FencedStatus(producer->client_id());
    }
    return AbortFailedCommit(slot, *error);
  }
  const auto flushed_at = std::chrono::steady_clock::now();

  CommitMarker marker{job_.job_name,
                      job_.instance,
                      id,
                      completion.storage_path,
                      completion.trigger_time_ms,
                      CurrentTimeMillis(),
                      changelog_->SectionForCommit(slot)};
  ProducerRecord record;
  record.topic = settings_->control_topic;
  record.partition = 0;
  record.key = MarkerKey(job_.job_name, job_.instance);
  record.has_key = true;
  record.value = EncodeMarker(marker);
  record.has_value = true;
  if (Status sent = producer->Produce(record); !sent.ok()) {
    if (producer->Fenced()) {
      fenced_ = true;
      return FencedStatus(producer->client_id());
    }
    return AbortFailedCommit(slot, sent);
  }
  if (Status offsets = SendSourceOffsets(*producer, id); !offsets.ok()) {
    if (offsets.code() == StatusCode::kFenced) {
      fenced_ = true;
      return offsets;
    }
    return AbortFailedCommit(slot, offsets);
  }
  if (Status hook = RunHook(TransactionPhase::kBeforeCommit, id); !hook.ok()) {
    recovered_ = false;  // left open on purpose: the next init_transactions must abort it
    return hook;
  }
  const auto committing_at = std::chrono::steady_clock::now();
  rd_kafka_error_t* raw = rd_kafka_commit_transaction(producer->handle(), timeout);
  if (raw != nullptr) {
    bool requires_abort = rd_kafka_error_txn_requires_abort(raw) != 0;
    Status status = TxnError(raw, "commit_transaction of checkpoint " + std::to_string(id), slot);
    if (status.code() == StatusCode::kFenced) return status;
    if (requires_abort) return AbortFailedCommit(slot, status);
    recovered_ = false;
    return status;
  }
  open_[static_cast<size_t>(slot)] = false;
  ++committed_;
  last_commit_latency_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count();
  // Where a slow commit spends its time: waiting for deliveries, the marker and the offsets,
  // or the broker's commit (which writes a marker into every partition of the transaction).
  const auto ms = [](auto from, auto to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
  };
  SLUICE_LOG_DEBUG(
      "{}: checkpoint {} committed in {:.1f} ms (flush {:.1f}, marker and offsets "
      "{:.1f}, commit_transaction {:.1f})",
      Who(), id, static_cast<double>(last_commit_latency_us_.load()) / 1000.0,
      ms(started, flushed_at), ms(flushed_at, committing_at),
      ms(committing_at, std::chrono::steady_clock::now()));
  if (Status hook = RunHook(TransactionPhase::kAfterCommit, id); !hook.ok()) {
    recovered_ = false;
    return hook;
  }
  // The transaction for checkpoint N+2; the writers move to it at barrier N+1.
  Status begun =
      TxnError(rd_kafka_begin_transaction(producer->handle()), "begin_transaction", slot);
  if (!begun.ok()) {
    recovered_ = false;
    return begun;
  }
  open_[static_cast<size_t>(slot)] = true;
  written_[static_cast<size_t>(slot)] = false;
  commit_slot_ = 1 - slot;
  return Status::Ok();
}

Status KafkaTransactionParticipant::AbortFailedCommit(int32_t slot, Status why) {
  KafkaProducer& producer = *producers_[static_cast<size_t>(slot)];
  if (producer.Fenced() || why.code() == StatusCode::kFenced) {
    // The failure came from the fencing (failed deliveries, a refused marker): the job must
    // stop, and the transaction is no longer ours to abort.
    fenced_ = true;
    return FencedStatus(producer.client_id());
  }
  producer.Purge();  // the abort purges its records anyway: not failed deliveries
  if (rd_kafka_error_t* error = rd_kafka_abort_transaction(
          producer.handle(), static_cast<int>(settings_->broker_timeout_ms)))
    rd_kafka_error_destroy(error);
  open_[static_cast<size_t>(slot)] = false;
  recovered_ = false;  // the job fails over; Recover starts the pair afresh
  ++aborted_;
  return why;
}

void KafkaTransactionParticipant::AbortCheckpoint(CheckpointId id) {
  // Nothing to undo here: a failed checkpoint of an exactly-once job fails the job over, and
  // Recover's init_transactions aborts both open transactions.
  SLUICE_LOG_DEBUG("{}: checkpoint {} aborted; its transaction is aborted at recovery", Who(),
                   id.value());
}

Status KafkaTransactionParticipant::SendSourceOffsets(KafkaProducer& producer, int64_t id) {
  TransactionalOffsets::GroupOffsets groups = TransactionalOffsets::Instance().Take(
      job_.job_name, settings_->cluster_key, CheckpointId(id));
  for (const auto& [group, offsets] : groups) {
    if (offsets.empty()) continue;
    PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [tp, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition)->offset =
          offset;
    }
    // The source reads with assign(), not as a group member: a metadata with the group id
    // alone (generation -1) is what the broker expects for such a group.
    std::unique_ptr<rd_kafka_consumer_group_metadata_t,
                    decltype(&rd_kafka_consumer_group_metadata_destroy)>
        metadata(rd_kafka_consumer_group_metadata_new(group.c_str()),
                 &rd_kafka_consumer_group_metadata_destroy);
    Status status = TxnError(
        rd_kafka_send_offsets_to_transaction(producer.handle(), list.get(), metadata.get(),
                                             static_cast<int>(settings_->broker_timeout_ms)),
        "send_offsets_to_transaction (group '" + group + "') of checkpoint " + std::to_string(id),
        commit_slot_);
    if (!status.ok()) return status;
    ++offset_commits_;
  }
  return Status::Ok();
}

void KafkaTransactionParticipant::Close() {
  changelog_->OnRecovered(0, std::nullopt, nullptr);
  MutexLock lock(mutex_);
  if (!job_.job_name.empty())
    TransactionalOffsets::Instance().Unsubscribe(job_.job_name, settings_->cluster_key);
  recovered_ = false;
  DropProducers(/*abort_open=*/true);
}

Result<KafkaTransactionParticipant::Producers> KafkaTransactionParticipant::AttachWriter() {
  MutexLock lock(mutex_);
  if (fenced_) return FencedStatus(TransactionalId(0) + " / " + TransactionalId(1));
  if (!recovered_) {
    return Status::FailedPrecondition(
        Who() +
        ": an EXACTLY_ONCE writer opened before its transactions were recovered; the "
        "sink's checkpoint "
        "participant must be registered with the job (a sluice bug)");
  }
  return Producers{producers_, commit_slot_};
}

Status KafkaTransactionParticipant::EnsureControlTopic() {
  rd_kafka_t* rk = producers_[0]->handle();
  char error[512];
  int replication = -1;
  if (auto it = settings_->properties.find("sluice.control.topic.replication.factor");
      it != settings_->properties.end()) {
    replication = std::stoi(it->second);
  }
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(settings_->control_topic.c_str(), 1, replication, error, sizeof(error));
  if (topic == nullptr)
    return Status::InvalidArgument(Who() + ": control topic " + settings_->control_topic + ": " +
                                   error);
  rd_kafka_NewTopic_set_config(topic, "cleanup.policy", "compact");
  internal::QueuePtr queue(rd_kafka_queue_new(rk));
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(settings_->broker_timeout_ms),
                                            error, sizeof(error));
  rd_kafka_CreateTopics(rk, &topic, 1, options, queue.get());
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(topic);
  internal::EventPtr event(
      rd_kafka_queue_poll(queue.get(), static_cast<int>(settings_->broker_timeout_ms) + 1000));
  if (event == nullptr) {
    return Status::Unavailable(Who() +
                               ": no answer from bootstrap.servers=" + settings_->cluster_key +
                               " while creating the control topic " + settings_->control_topic);
  }
  rd_kafka_resp_err_t err = rd_kafka_event_error(event.get());
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(event.get()), &count);
    if (count > 0) err = rd_kafka_topic_result_error(results[0]);
  }
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    SLUICE_LOG_INFO("{}: created the control topic {} (compacted, 1 partition)", Who(),
                    settings_->control_topic);
    return Status::Ok();
  }
  if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) return Status::Ok();
  const std::string what = Who() + ": creating the control topic " + settings_->control_topic;
  const std::string fix =
      "; or create it yourself (compacted, 1 partition), or name another "
      "with the property sluice.control.topic";
  if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
      err == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    // Not allowed to create topics: fine if it exists already.
    Result<std::vector<int32_t>> exists = producers_[0]->Partitions(
        settings_->control_topic, milliseconds(settings_->broker_timeout_ms));
    if (exists.ok()) return Status::Ok();
    if (exists.status().code() != StatusCode::kNotFound) return exists.status();
    Status denied = AclDeniedStatus(err, what, {"CREATE", "topic", settings_->control_topic, false},
                                    Security());
    return {denied.code(), denied.message() + fix};
  }
  Status failed = KafkaErrorStatus(err, what);
  return {failed.code(), failed.message() + fix};
}

ClientSecurity KafkaTransactionParticipant::Security() const {
  if (producers_[0] != nullptr) return producers_[0]->security();
  return SecurityOf(settings_->producer_properties);
}

Result<std::optional<CommitMarker>> KafkaTransactionParticipant::FindLastCommitted() {
  std::map<std::string, std::string> properties = settings_->producer_properties;
  for (const char* producer_only :
       {"transaction.timeout.ms", "enable.idempotence", "partitioner", "acks", "linger.ms",
        "queue.buffering.max.ms", "batch.num.messages", "batch.size", "compression.type",
        "compression.codec", "message.timeout.ms", "retries", "delivery.timeout.ms"}) {
    properties.erase(producer_only);
  }
  properties["group.id"] = *settings_->transactional_id_prefix +
                           "-sluice-recovery";  // assign only: never joins or commits
  properties["enable.auto.commit"] = "false";
  properties["isolation.level"] = "read_committed";
  properties["enable.partition.eof"] = "true";
  properties["auto.offset.reset"] = "earliest";
  Result<internal::ConfPtr> made =
      internal::NewClientConf(properties, Who() + ": the control topic reader");
  if (!made.ok()) return made.status();
  internal::ConfPtr conf = std::move(made).value();
  char error[512];
  rd_kafka_t* raw = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof(error));
  if (raw == nullptr) return Status::InvalidArgument(Who() + ": control topic reader: " + error);
  (void)conf.release();  // rd_kafka_new took it
  internal::KafkaPtr consumer(raw);
  struct Closer {
    rd_kafka_t* rk;
    ~Closer() { rd_kafka_consumer_close(rk); }
  } closer{consumer.get()};

  const std::string& topic = settings_->control_topic;
  const std::string key = MarkerKey(job_.job_name, job_.instance);
  const auto deadline =
      std::chrono::steady_clock::now() + milliseconds(settings_->broker_timeout_ms);
  auto remaining = [&] {
    return static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now())
               .count()));
  };
  int64_t low = 0, high = 0;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  do {  // a topic created a moment ago may not have a leader yet
    err = rd_kafka_query_watermark_offsets(consumer.get(), topic.c_str(), 0, &low, &high,
                                           std::min(remaining(), 5000));
  } while (err != RD_KAFKA_RESP_ERR_NO_ERROR && IsRestartable(StatusCodeOf(err)) &&
           remaining() > 0);
  if (StatusCodeOf(err) == StatusCode::kPermissionDenied) {
    return AclDeniedStatus(err, Who() + ": reading the end of the control topic " + topic,
                           {"READ", "topic", topic, false}, Security());
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(Who() + ": cannot read the end of the control topic " + topic +
                               ": " + rd_kafka_err2str(err));
  }
  // Walk back from the end in windows; the newest window holding one of our markers wins.
  // The topic is compacted per job instance, so this rarely reads more than one window.
  int64_t end = high;
  while (end > low) {
    const int64_t start = std::max(low, end - kRecoveryWindow);
    internal::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), 0)->offset = start;
    if (rd_kafka_resp_err_t e = rd_kafka_assign(consumer.get(), assignment.get());
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(Who() + ": cannot read the control topic " + topic + ": " +
                                 rd_kafka_err2str(e));
    }
    std::optional<CommitMarker> found;
    bool window_done = false;
    bool retry = false;
    while (!window_done) {
      if (remaining() == 0) {
        return Status::Unavailable(
            Who() + ": reading the control topic " + topic + " took longer than " +
            std::to_string(settings_->broker_timeout_ms) +
            " ms (sluice.broker.timeout.ms); is another producer holding a transaction open "
            "on it?");
      }
      internal::MessagePtr message(
          rd_kafka_consumer_poll(consumer.get(), std::min(remaining(), 200)));
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // Under read_committed the end is the last stable offset. Below the high watermark, a
        // transaction is still open: wait for it rather than miss a marker behind it.
        // librdkafka reports the end once, so read the window again.
        if (end == high && message->offset < high) {
          found.reset();
          retry = true;
        }
        window_done = true;
        continue;
      }
      if (StatusCodeOf(message->err) == StatusCode::kPermissionDenied) {
        return AclDeniedStatus(message->err, Who() + ": reading the control topic " + topic,
                               {"READ", "topic", topic, false}, Security(),
                               rd_kafka_message_errstr(message.get()));
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable(Who() + ": reading the control topic " + topic + ": " +
                                   rd_kafka_message_errstr(message.get()));
      }
      if (message->offset >= end) {
        window_done = true;
        continue;
      }
      std::string_view message_key(static_cast<const char*>(message->key), message->key_len);
      if (message_key != key || message->payload == nullptr) continue;
      Result<CommitMarker> marker =
          DecodeMarker(std::string_view(static_cast<const char*>(message->payload), message->len));
      if (!marker.ok())
        return marker.status().WithContext("control topic " + topic + " offset " +
                                           std::to_string(message->offset));
      found = std::move(*marker);
    }
    if (retry) continue;
    if (found) return found;
    end = start;
  }
  return std::optional<CommitMarker>();
}

}  // namespace sluice::kafka::internal

namespace sluice::kafka::detail {

std::shared_ptr<CheckpointParticipant> AcquireTransactionParticipant(
    std::shared_ptr<const KafkaSinkSettings> settings) {
  // One participant per (cluster, prefix) in the process, alive while any sink holds it.
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>,
                  std::weak_ptr<internal::KafkaTransactionParticipant>>
      registry;
  std::lock_guard lock(mutex);
  auto key = std::make_pair(settings->cluster_key, *settings->transactional_id_prefix);
  if (std::shared_ptr<internal::KafkaTransactionParticipant> existing = registry[key].lock())
    return existing;
  auto participant = std::make_shared<internal::KafkaTransactionParticipant>(std::move(settings));
  registry[key] = participant;
  return participant;
}

}  // namespace sluice::kafka::detail
