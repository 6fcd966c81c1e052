// EXACTLY_ONCE through transactional checkpoints (DESIGN.md section 5): the pair of
// transactional producers of one (cluster, prefix) and the checkpoint participant that
// commits them.
//
// Threads: Recover, CompleteCheckpoint, AbortCheckpoint and Close come from the checkpoint
// coordinator / job master, one at a time and in checkpoint order; AttachWriter and
// ReportFenced from task threads. mutex_ guards the producer slots and the transaction state
// (SLUICE_GUARDED_BY below); producing itself needs no lock (librdkafka's producer is
// thread-safe).
//
// Epochs: after Recover, slot 0 holds the transaction of the first epoch and slot 1 the next
// one. A writer starts on slot 0 and flips at every barrier. CompleteCheckpoint(N) commits the
// slot that holds N (commit_slot_), begins that slot's next transaction (N+2) and flips
// commit_slot_. Every checkpoint that reaches CompleteCheckpoint passed every writer once, and
// any checkpoint that fails fails the job over to Recover, so writers and commits stay in step.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <sluice/connectors/kafka/detail/kafka_sink_core.h>

#include "connectors/kafka/kafka_producer.h"
#include "connectors/kafka/kafka_state_changelog.h"
#include "connectors/kafka/transaction_marker.h"
#include "core/mutex.h"

namespace sluice::kafka::internal {

using ::sluice::internal::Mutex;
using ::sluice::internal::MutexLock;

class KafkaTransactionParticipant final : public CheckpointParticipant {
 public:
  explicit KafkaTransactionParticipant(std::shared_ptr<const detail::KafkaSinkSettings> settings);
  ~KafkaTransactionParticipant() override;

  std::string Name() const override;
  Result<std::optional<CheckpointCompletion>> Recover(const JobInstanceInfo& job)
      SLUICE_EXCLUDES(mutex_) override;
  Status CompleteCheckpoint(const CheckpointCompletion& completion)
      SLUICE_EXCLUDES(mutex_) override;
  void AbortCheckpoint(CheckpointId id) override;
  void Close() SLUICE_EXCLUDES(mutex_) override;
  /// The state changelog, riding on the pair's transactions (kafka_state_changelog.h).
  StateChangelog* changelog() override { return changelog_.get(); }

  struct Producers {
    std::array<std::shared_ptr<KafkaProducer>, 2> slots;
    int32_t first_slot = 0;
  };
  /// The pair a writer produces through; FailedPrecondition before Recover.
  Result<Producers> AttachWriter() SLUICE_EXCLUDES(mutex_);
  /// A writer saw that a producer of the pair was fenced: the job must stop, not restart.
  void ReportFenced();
  /// A writer wrote records into the open transaction of `slot` (called once per epoch, at the
  /// writer's barrier or close, not per record), so aborting it discards output.
  void NoteWritten(int32_t slot) {
    written_[static_cast<size_t>(slot)].store(true, std::memory_order_relaxed);
  }
  Status FencedStatus(const std::string& transactional_id) const;

  int64_t transactions_committed() const { return committed_.load(); }
  /// Commits that failed (their transaction aborted), plus transactions holding records that
  /// this process aborted at a failover or at the end of the job. Empty transactions aborted
  /// at the end are not counted; a crashed process's are aborted by the next start uncounted.
  int64_t transactions_aborted() const { return aborted_.load(); }
  int64_t last_commit_latency_us() const { return last_commit_latency_us_.load(); }
  /// Source-offset sends (one per consumer group and checkpoint) inside committed or aborted
  /// transactions.
  int64_t offset_commits() const { return offset_commits_.load(); }

 private:
  /// Who the messages are from: the EXACTLY_ONCE sink, or a job's state-only transactions.
  std::string Who() const {
    return settings_->state_only ? "state changelog transactions" : "KafkaSink";
  }
  std::string TransactionalId(int32_t slot) const SLUICE_REQUIRES(mutex_);
  Status CheckFenced(const std::shared_ptr<KafkaProducer>& producer) const;
  Status TxnError(rd_kafka_error_t* error, const std::string& what, int32_t slot)
      SLUICE_REQUIRES(mutex_);
  /// Aborts the transaction of `slot` after a failed commit and returns `why`; the job fails
  /// over and Recover starts the pair afresh.
  Status AbortFailedCommit(int32_t slot, Status why) SLUICE_REQUIRES(mutex_);
  /// send_offsets_to_transaction for what the job's Kafka sources published for checkpoint
  /// `id` (TransactionalOffsets).
  Status SendSourceOffsets(KafkaProducer& producer, int64_t id) SLUICE_REQUIRES(mutex_);
  void DropProducers(bool abort_open) SLUICE_REQUIRES(mutex_);
  Status EnsureControlTopic() SLUICE_REQUIRES(mutex_);
  /// How the pair authenticates, for messages about missing ACLs.
  ClientSecurity Security() const SLUICE_REQUIRES(mutex_);
  Result<std::optional<CommitMarker>> FindLastCommitted() SLUICE_REQUIRES(mutex_);

  std::shared_ptr<const detail::KafkaSinkSettings> settings_;
  Mutex mutex_;
  std::array<std::shared_ptr<KafkaProducer>, 2> producers_ SLUICE_GUARDED_BY(mutex_);
  std::array<bool, 2> open_ SLUICE_GUARDED_BY(mutex_){false, false};
  std::array<std::atomic<bool>, 2> written_{};  // the open transaction of a slot holds records
  int32_t commit_slot_ SLUICE_GUARDED_BY(mutex_) = 0;
  bool recovered_ SLUICE_GUARDED_BY(mutex_) = false;
  std::atomic<bool> fenced_{false};
  JobInstanceInfo job_ SLUICE_GUARDED_BY(mutex_);
  std::atomic<int64_t> committed_{0};
  std::atomic<int64_t> aborted_{0};
  std::atomic<int64_t> last_commit_latency_us_{0};
  std::atomic<int64_t> offset_commits_{0};
  // Made in the constructor, never replaced; it asks for producers through a callback that
  // takes mutex_ (its own lock is always taken after mutex_, never before).
  std::unique_ptr<KafkaStateChangelog> changelog_;
};

}  // namespace sluice::kafka::internal
