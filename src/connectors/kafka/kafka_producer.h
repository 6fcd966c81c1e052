// One librdkafka producer with delivery-failure capture: the sink writers' own producers
// (NONE, AT_LEAST_ONCE) and the shared transactional pair (EXACTLY_ONCE) are all this.
//
// Threads: Produce, Flush, Purge and Partitions may be called from any thread (librdkafka's
// producer is thread-safe). Delivery reports and client errors are handled on librdkafka's
// background thread, which only records the first failure (under a mutex) and counts; the
// owner reads it with Error() on its own thread and throws there. With
// DeliveryFailures::kLogAndCount (the legacy SetLogFailuresOnly) a failed delivery is logged
// and counted instead of recorded; only fatal client errors and refused logins are recorded
// then.
// Lifetime: the destructor destroys the librdkafka handle first, which joins the background
// thread, so no callback outlives the object.
#pragma once

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sluice/connectors/kafka/serialization_schema.h>
#include <sluice/status.h>

#include "connectors/kafka/kafka_error.h"
#include "connectors/kafka/rdkafka_handles.h"

namespace sluice::kafka::internal {

/// What a failed delivery does: become Error() (the job fails), or only a log line and a count.
enum class DeliveryFailures { kFailTheJob, kLogAndCount };

/// The records one writer has handed to a shared producer and that have no delivery report
/// yet. An EXACTLY_ONCE writer waits for its tracker to drain at a barrier before it writes to
/// the other producer of the pair: records of two producers are appended to a partition in
/// the order the broker receives them, so without the wait a word's count from epoch N could
/// land after its next count from epoch N+1 (the crash test saw exactly that).
/// Owned by the producer (KafkaProducer::NewTracker) so that a delivery report arriving after
/// the writer is gone never touches freed memory. Thread-safe.
///
/// A tracker made with record_offsets also remembers, per partition, the offset after the last
/// record delivered (the state changelog's ranges, DESIGN.md section 7).
class DeliveryTracker {
 public:
  explicit DeliveryTracker(bool record_offsets = false) : record_offsets_(record_offsets) {}
  void Sent() { outstanding_.fetch_add(1, std::memory_order_relaxed); }
  /// A record reached `partition` at `offset` (before its Done()).
  void Delivered(int32_t partition, int64_t offset) {
    if (!record_offsets_) return;
    std::lock_guard lock(mutex_);
    int64_t& end = ends_[partition];
    end = std::max(end, offset + 1);
  }
  /// The ends recorded since the last call, and forgets them.
  std::map<int32_t, int64_t> TakeEnds() {
    std::lock_guard lock(mutex_);
    return std::exchange(ends_, {});
  }
  void Done() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mutex_);  // a waiter checks under the lock: no lost wake-up
      drained_.notify_all();
    }
  }
  int64_t outstanding() const { return outstanding_.load(std::memory_order_acquire); }
  /// True when every record sent has its delivery report, false after `timeout`.
  bool WaitUntilDrained(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return drained_.wait_for(lock, timeout, [this] { return outstanding() == 0; });
  }

 private:
  const bool record_offsets_;
  std::atomic<int64_t> outstanding_{0};
  std::mutex mutex_;
  std::condition_variable drained_;
  std::map<int32_t, int64_t> ends_;  // guarded by mutex_
};

class KafkaProducer {
 public:
  /// A producer with exactly `properties` (plus client.id). Errors name the property.
  static Result<std::unique_ptr<KafkaProducer>> Create(
      const std::map<std::string, std::string>& properties, const std::string& client_id,
      DeliveryFailures failures = DeliveryFailures::kFailTheJob);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  rd_kafka_t* handle() const { return handle_.get(); }
  const std::string& client_id() const { return client_id_; }
  /// How the producer authenticates (for messages about refused logins and missing ACLs).
  const ClientSecurity& security() const { return security_; }

  /// Hands a copy of the record to librdkafka, waiting while its queue is full (that is the
  /// sink's backpressure). An error status when librdkafka refuses the record.
  /// `topic`, when given, is this producer's handle for record.topic (TopicHandle): it saves
  /// librdkafka a lookup by name under its lock per record.
  Status Produce(const ProducerRecord& record, DeliveryTracker* tracker = nullptr,
                 rd_kafka_topic_t* topic = nullptr);
  /// A handle for `topic` on this producer, after a metadata request for it (bounded by
  /// `timeout`) so that the first records need not wait for librdkafka's periodic topic scan
  /// (up to a second). NotFound when the topic does not exist; PermissionDenied (naming the
  /// ACL) when the producer's principal may not see it; Error() at once when the brokers refuse
  /// the producer's login.
  Result<TopicPtr> TopicHandle(const std::string& topic, std::chrono::milliseconds timeout);
  /// A tracker for one writer's records, living as long as this producer.
  DeliveryTracker* NewTracker(bool record_offsets = false);
  /// Why this producer cannot go on, if it cannot: fencing (kFenced) before anything else,
  /// else the first of a delivery that failed after librdkafka's retries (its code from
  /// StatusCodeOf), a refused login or missing cluster ACL (kUnauthenticated,
  /// kPermissionDenied), or another fatal client error.
  std::optional<Status> Error() const;
  /// True when the fatal error says another producer with our transactional.id fenced us.
  bool Fenced() const;
  /// True once librdkafka raised a fatal error: nothing can be produced any more.
  bool FatallyFailed() const;
  /// Cheap, lock-free, for the per-record path: false means Error() is empty and the producer
  /// is not fenced; true means look closer (Error(), Fenced()).
  bool MayHaveFailed() const;
  /// kLogAndCount: a record librdkafka refused (Produce's error) is logged and counted like a
  /// failed delivery.
  void CountRefused(const Status& refusal);
  /// Waits until every record handed over has its delivery report, at most `timeout`.
  Status Flush(std::chrono::milliseconds timeout);
  /// Drops queued and in-flight records (their delivery reports say purged, not failures).
  void Purge();
  /// The topic's partition ids, sorted (a metadata request, bounded by `timeout`).
  Result<std::vector<int32_t>> Partitions(const std::string& topic,
                                          std::chrono::milliseconds timeout);

  int64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  int64_t failed() const { return failed_->load(std::memory_order_relaxed); }
  /// The failure count, shareable with a metrics gauge that may outlive the producer.
  std::shared_ptr<const std::atomic<int64_t>> failed_counter() const { return failed_; }

 private:
  KafkaProducer() = default;
  static void OnBackgroundEvent(rd_kafka_t* rk, rd_kafka_event_t* event, void* opaque);
  void OnDeliveryReports(rd_kafka_event_t* event);
  void OnClientError(rd_kafka_t* rk, rd_kafka_event_t* event);
  Status FatalStatus(rd_kafka_resp_err_t code, const char* reason) const;
  // Counts a failure that does not fail the job and logs it, at most one line a second (a
  // broker outage can fail thousands of records); the caller holds mutex_.
  void LogFailureLocked(const std::string& what);

  std::string client_id_;
  ClientSecurity security_;
  // The topics Partitions was asked about, first first: what a refused producer id names.
  mutable std::mutex topics_mutex_;
  std::vector<std::string> topics_;  // guarded by topics_mutex_
  DeliveryFailures failures_ = DeliveryFailures::kFailTheJob;
  mutable std::mutex mutex_;
  std::optional<Status> error_;
  std::chrono::steady_clock::time_point last_failure_log_{};
  int64_t failures_not_logged_ = 0;
  bool fenced_ = false;
  std::atomic<bool> purging_{false};
  std::atomic<bool> troubled_{false};  // error_ or fenced_ was set
  std::atomic<int64_t> delivered_{0};
  std::shared_ptr<std::atomic<int64_t>> failed_ = std::make_shared<std::atomic<int64_t>>(0);
  std::vector<std::unique_ptr<DeliveryTracker>> trackers_;  // guarded by mutex_
  // Last member: destroyed first, joining librdkafka's threads before the state above goes.
  KafkaPtr handle_;
};

/// Whether a librdkafka error code means "another producer took our transactional.id"
/// (StatusCodeOf is kFenced).
bool IsFencedError(rd_kafka_resp_err_t code);

}  // namespace sluice::kafka::internal
