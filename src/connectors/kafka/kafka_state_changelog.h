// KafkaStateChangelog: the state changelog of the EXACTLY_ONCE Kafka sink's participant
// (DESIGN.md section 7, include/sluice/checkpoint/state_changelog.h). One compacted topic per
// operator, `<transactional id prefix>.<operator uid>.changelog`, with one partition per key
// group for a keyed operator and one for any other. Records ride on the transactional
// producer that holds the checkpoint's epoch, so the commit marker, the outputs, the source
// offsets and the state of checkpoint N commit in one transaction; the marker records, per
// changelog partition, the offsets [base, end) that hold the state (ChangelogSection).
//
// Threads: OnRecovered, Prepare, Covered, Read and SectionForCommit come from the job master /
// coordinator thread, one at a time (the participant's order); OpenWriter from task threads.
// mutex_ guards the operator table and the per-producer trackers; a writer is its task's own.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/checkpoint/state_changelog.h>
#include <sluice/connectors/kafka/detail/kafka_sink_core.h>

#include "connectors/kafka/kafka_producer.h"
#include "connectors/kafka/transaction_marker.h"
#include "core/mutex.h"

namespace sluice::kafka::internal {

using ::sluice::internal::Mutex;
using ::sluice::internal::MutexLock;

class KafkaStateChangelog final : public StateChangelog {
 public:
  /// The producer whose open transaction holds checkpoint `checkpoint`, and its slot (0, 1).
  using ProducerFor =
      std::function<Result<std::pair<std::shared_ptr<KafkaProducer>, int32_t>>(int64_t)>;

  /// What a failed producer of the pair means for the job (the participant's word: a fenced
  /// one stops the job with the fix named, FencedStatus).
  using FailureOf = std::function<Status(const KafkaProducer&, Status error)>;

  KafkaStateChangelog(std::shared_ptr<const detail::KafkaSinkSettings> settings,
                      ProducerFor producer_for, FailureOf failure_of);

  // ---- StateChangelog ----
  std::string TopicFor(std::string_view uid) const override;
  std::optional<std::vector<ChangelogOperator>> Covered() const override SLUICE_EXCLUDES(mutex_);
  Status Read(std::string_view uid, const std::vector<int32_t>& partitions,
              const std::function<void(const sluice::ChangelogRecord&)>& record) override
      SLUICE_EXCLUDES(mutex_);
  Result<std::vector<std::string>> Prepare(const std::vector<ChangelogOperator>& operators,
                                           bool continue_recovered) override
      SLUICE_EXCLUDES(mutex_);
  Result<std::unique_ptr<StateChangelogWriter>> OpenWriter(int64_t checkpoint, std::string_view uid,
                                                           int32_t subtask) override
      SLUICE_EXCLUDES(mutex_);

  // ---- the participant's side ----

  /// Recovery made new producers and found the last committed marker (of `checkpoint`):
  /// forget the previous attempt's table and trackers, and remember what the marker's
  /// changelog section says. With no admin client (nullptr), only releases the producers.
  /// `admin` is a client of the cluster for topic and offset requests, alive until the next
  /// OnRecovered.
  void OnRecovered(int64_t checkpoint, std::optional<ChangelogSection> recovered, rd_kafka_t* admin)
      SLUICE_EXCLUDES(mutex_);
  /// The section for the marker of the checkpoint whose transaction `slot` holds: every
  /// prepared operator with its ranges moved to the ends that transaction's records reached.
  /// nullopt when Prepare was not called in this attempt (the changelog is off). Call after the
  /// slot's producer is flushed, so every delivery report is in.
  std::optional<ChangelogSection> SectionForCommit(int32_t slot) SLUICE_EXCLUDES(mutex_);

 private:
  class Writer;
  struct Tracked {
    DeliveryTracker* tracker = nullptr;
    TopicPtr topic;
  };
  /// The tracker and topic handle of `topic` on `producer` (slot `slot`), made once per
  /// producer.
  Result<std::pair<DeliveryTracker*, rd_kafka_topic_t*>> TrackedTopic(
      const std::shared_ptr<KafkaProducer>& producer, int32_t slot, const std::string& topic)
      SLUICE_EXCLUDES(mutex_);

  const std::shared_ptr<const detail::KafkaSinkSettings> settings_;
  const ProducerFor producer_for_;
  const FailureOf failure_of_;
  const std::chrono::milliseconds timeout_;

  mutable Mutex mutex_;
  int64_t recovered_checkpoint_ SLUICE_GUARDED_BY(mutex_) = 0;
  std::optional<ChangelogSection> recovered_ SLUICE_GUARDED_BY(mutex_);
  rd_kafka_t* admin_ SLUICE_GUARDED_BY(mutex_) = nullptr;
  /// What the next marker says, by uid; empty until Prepare.
  std::optional<std::map<std::string, ChangelogSection::Operator, std::less<>>> operators_
      SLUICE_GUARDED_BY(mutex_);
  /// Per producer slot: the tracked topics of the current producers.
  std::array<std::map<std::string, Tracked>, 2> tracked_ SLUICE_GUARDED_BY(mutex_);
  std::array<const KafkaProducer*, 2> tracked_producer_ SLUICE_GUARDED_BY(mutex_){};
};

}  // namespace sluice::kafka::internal
