#include "connectors/kafka/changelog_reader.h"

#include <algorithm>
#include <set>
#include <thread>

#include "connectors/kafka/kafka_consumer.h"
#include "connectors/kafka/kafka_error.h"
#include "connectors/kafka/rdkafka_handles.h"
#include "core/log.h"

namespace sluice::kafka::internal {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Large enough that the per-call overhead vanishes, small enough to stay in cache.
constexpr size_t kBatchSize = 4096;

// ListOffsets' special timestamps (librdkafka's RD_KAFKA_OFFSET_BEGINNING / _END).
constexpr int64_t kEarliest = -2;
constexpr int64_t kLatest = -1;

int RemainingMs(Clock::time_point deadline, int cap_ms) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, cap_ms));
}

std::string Partition(const std::string& topic, int32_t partition) {
  return "partition " + std::to_string(partition) + " of the changelog topic '" + topic + "'";
}

std::string CannotRestore(CheckpointId checkpoint) {
  return "the state of checkpoint " + std::to_string(checkpoint.value()) +
         " cannot be restored from Kafka";
}

std::map<std::string, std::string> ConsumerProperties(
    std::map<std::string, std::string> properties) {
  for (const char* producer_only :
       {"transactional.id", "transaction.timeout.ms", "enable.idempotence", "partitioner", "acks",
        "linger.ms", "queue.buffering.max.ms", "batch.num.messages", "batch.size",
        "compression.type", "compression.codec", "message.timeout.ms", "retries",
        "delivery.timeout.ms"}) {
    properties.erase(producer_only);
  }
  // rd_kafka_assign needs a group; it is never joined and nothing is committed to it.
  properties["group.id"] = "sluice-changelog-reader";
  properties["enable.auto.commit"] = "false";
  properties["enable.auto.offset.store"] = "false";
  properties["allow.auto.create.topics"] = "false";
  properties["isolation.level"] = "read_committed";
  // Ends of partitions show as events: a partition whose last offsets before `end` are control
  // records finishes on its position already; the event is the fallback.
  properties["enable.partition.eof"] = "true";
  // A base offset that retention removed must fail the restore, never skip to what is left.
  properties["auto.offset.reset"] = "error";
  // Restores read big backlogs: 8 MB per partition per fetch (librdkafka's default is 1 MB),
  // up to 128 MB prefetched in the consumer queue (the default 64 MB).
  properties["max.partition.fetch.bytes"] = "8388608";
  properties["queued.max.messages.kbytes"] = "131072";
  return properties;
}

}  // namespace

ChangelogReader::ChangelogReader(std::map<std::string, std::string> properties,
                                 milliseconds timeout)
    : properties_(std::move(properties)), timeout_(timeout) {
  if (auto it = properties_.find("bootstrap.servers"); it != properties_.end()) {
    bootstrap_servers_ = it->second;
  }
}

ChangelogReader::~ChangelogReader() {
  if (consumer_ != nullptr) consumer_->Close(timeout_);
}

Result<std::unique_ptr<ChangelogReader>> ChangelogReader::Open(
    std::map<std::string, std::string> client_properties, milliseconds timeout) {
  std::unique_ptr<ChangelogReader> reader(
      new ChangelogReader(ConsumerProperties(std::move(client_properties)), timeout));
  try {
    reader->consumer_ = std::make_unique<KafkaConsumer>(reader->properties_);
  } catch (const StatusException& e) {
    return e.status().WithContext("the changelog reader");
  }
  return reader;
}

namespace {

// The per-call work of Read, on the reader's consumer.
class ReadCall {
 public:
  ReadCall(KafkaConsumer& consumer, const std::map<std::string, std::string>& properties,
           const std::string& bootstrap_servers, milliseconds timeout, const std::string& topic,
           CheckpointId checkpoint)
      : consumer_(consumer),
        properties_(properties),
        bootstrap_servers_(bootstrap_servers),
        timeout_(timeout),
        topic_(topic),
        checkpoint_(checkpoint) {}

  // The topic's partition count; kNotFound when it is missing.
  Result<int> PartitionCount() {
    TopicPtr handle(rd_kafka_topic_new(consumer_.handle(), topic_.c_str(), nullptr));
    if (handle == nullptr) {
      return Status::InvalidArgument("the changelog topic name '" + topic_ +
                                     "': " + rd_kafka_err2str(rd_kafka_last_error()));
    }
    const Clock::time_point deadline = Clock::now() + timeout_;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    do {
      const rd_kafka_metadata_t* raw = nullptr;
      // Short attempts: a refused login (error callback) ends the wait at once.
      err = rd_kafka_metadata(consumer_.handle(), 0, handle.get(), &raw,
                              std::max(1, RemainingMs(deadline, 1000)));
      MetadataPtr metadata(raw);
      consumer_.ServeMainQueue();
      if (auto fatal = consumer_.FatalError()) return fatal->ToStatus(consumer_.security());
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      err = metadata->topic_cnt == 1 ? metadata->topics[0].err
                                     : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return metadata->topics[0].partition_cnt;
      if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return Status::NotFound(
            "the changelog topic '" + topic_ + "' is missing at bootstrap.servers=" +
            bootstrap_servers_ + "; " + CannotRestore(checkpoint_) +
            ". The topic was deleted, or the job runs against another cluster or with another "
            "transactional id prefix than the one that wrote it. Restore from a savepoint or a "
            "local checkpoint, or start the job without this state");
      }
      if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        return Status::PermissionDenied(
            "the changelog topic '" + topic_ +
            "': the client's principal may not see it (bootstrap.servers=" + bootstrap_servers_ +
            "); grant it DESCRIBE and READ on topic '" + topic_ + "'");
      }
      // LEADER_NOT_AVAILABLE and the like: a broker is moving partitions; ask again shortly.
      std::this_thread::sleep_for(milliseconds(std::min(RemainingMs(deadline, 50), 50)));
    } while (Clock::now() < deadline);
    return Failure("reading the metadata of the changelog topic '" + topic_ + "'", err);
  }

  // ListOffsets for `partitions` with a special timestamp (kEarliest, kLatest): the log start
  // offsets, or the ends (the last stable offsets under read_committed). Retried until the
  // deadline while the broker is not ready.
  Result<std::map<int32_t, int64_t>> ListOffsets(KafkaConsumer& consumer,
                                                 const std::vector<int32_t>& partitions,
                                                 int64_t timestamp) {
    const Clock::time_point deadline = Clock::now() + timeout_;
    const char* what = timestamp == kEarliest ? "looking up the start offsets of"
                                              : "looking up the end offsets of";
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    do {
      PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
      for (int32_t p : partitions) {
        rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = timestamp;
      }
      err = rd_kafka_offsets_for_times(consumer.handle(), list.get(),
                                       std::max(1, RemainingMs(deadline, 1000)));
      consumer.ServeMainQueue();
      if (auto fatal = consumer.FatalError()) return fatal->ToStatus(consumer.security());
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::map<int32_t, int64_t> offsets;
        for (int i = 0; i < list->cnt && err == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          err = list->elems[i].err;
          offsets[list->elems[i].partition] = list->elems[i].offset;
        }
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return offsets;
        if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
          return Status::PermissionDenied("the changelog topic '" + topic_ +
                                          "': the client's principal may not read it "
                                          "(bootstrap.servers=" +
                                          bootstrap_servers_ + "); grant it READ on topic '" +
                                          topic_ + "'");
        }
      }
      if (err != RD_KAFKA_RESP_ERR__TIMED_OUT) {
        std::this_thread::sleep_for(milliseconds(std::min(RemainingMs(deadline, 50), 50)));
      }
    } while (Clock::now() < deadline);
    return Failure(std::string(what) + " the changelog topic '" + topic_ + "'", err);
  }

  // Whether Kafka still holds [base, end) of every range.
  Status CheckOffsets(const std::vector<ChangelogPartitionRange>& ranges) {
    std::vector<int32_t> partitions;
    partitions.reserve(ranges.size());
    for (const ChangelogPartitionRange& r : ranges) partitions.push_back(r.partition);
    SLUICE_ASSIGN_OR_RETURN(const auto starts, ListOffsets(consumer_, partitions, kEarliest));
    for (const ChangelogPartitionRange& r : ranges) {
      const int64_t start = starts.at(r.partition);
      if (start > r.base) {
        return Status::FailedPrecondition(
            Partition(topic_, r.partition) + " starts at offset " + std::to_string(start) +
            ", but the state needs it from offset " + std::to_string(r.base) +
            ": records were deleted (retention of a topic whose cleanup.policy includes delete, "
            "or kafka-delete-records); " +
            CannotRestore(checkpoint_) +
            ". Keep changelog topics at cleanup.policy=compact, and restore from a savepoint "
            "or a local checkpoint, or start the job without this state");
      }
    }
    SLUICE_ASSIGN_OR_RETURN(const auto ends, ListOffsets(consumer_, partitions, kLatest));
    std::vector<const ChangelogPartitionRange*> short_ranges;
    for (const ChangelogPartitionRange& r : ranges) {
      if (ends.at(r.partition) < r.end) short_ranges.push_back(&r);
    }
    if (short_ranges.empty()) return Status::Ok();

    // Under read_committed the end is the last stable offset: an open transaction holds it back
    // too. Only the high watermark tells a topic that is really shorter.
    std::map<std::string, std::string> uncommitted = properties_;
    uncommitted["isolation.level"] = "read_uncommitted";
    std::optional<KafkaConsumer> probe;
    try {
      probe.emplace(uncommitted);
    } catch (const StatusException& e) {
      return e.status().WithContext("the changelog reader");
    }
    std::vector<int32_t> short_partitions;
    short_partitions.reserve(short_ranges.size());
    for (const ChangelogPartitionRange* r : short_ranges) short_partitions.push_back(r->partition);
    Result<std::map<int32_t, int64_t>> high = ListOffsets(*probe, short_partitions, kLatest);
    probe->Close(timeout_);
    if (!high.ok()) return high.status();
    for (const ChangelogPartitionRange* r : short_ranges) {
      const int64_t watermark = high->at(r->partition);
      if (watermark < r->end) {
        return Status::FailedPrecondition(
            Partition(topic_, r->partition) + " ends at offset " + std::to_string(watermark) +
            ", before offset " + std::to_string(r->end) + " where checkpoint " +
            std::to_string(checkpoint_.value()) +
            " committed its state: the topic is shorter than the committed checkpoint says (it "
            "was deleted and recreated, or truncated); " +
            CannotRestore(checkpoint_) +
            ". Restore from a savepoint or a local checkpoint, or start the job without this "
            "state");
      }
    }
    {
      const ChangelogPartitionRange* r = short_ranges.front();
      const int64_t stable = ends.at(r->partition);
      return Status::Unavailable(
          Partition(topic_, r->partition) +
          ": an open transaction of another producer holds the committed end at offset " +
          std::to_string(stable) + ", before offset " + std::to_string(r->end) +
          " that checkpoint " + std::to_string(checkpoint_.value()) +
          " needs; it ends when that producer commits or aborts, at the latest after its "
          "transaction.timeout.ms");
    }
  }

  Status Consume(const std::vector<ChangelogPartitionRange>& ranges, int partition_count,
                 const ChangelogRecordCallback& on_record) {
    struct Progress {
      int32_t partition;
      int64_t base;
      int64_t end;
      int64_t position;  // the next offset the consumer reads
      bool done = false;
    };
    std::vector<Progress> progress;
    std::vector<int32_t> slot(static_cast<size_t>(partition_count), -1);
    PartitionListPtr assignment(rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size())));
    for (const ChangelogPartitionRange& r : ranges) {
      slot[static_cast<size_t>(r.partition)] = static_cast<int32_t>(progress.size());
      progress.push_back({r.partition, r.base, r.end, r.base});
      rd_kafka_topic_partition_list_add(assignment.get(), topic_.c_str(), r.partition)->offset =
          r.base;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.handle(), assignment.get()); err) {
      return KafkaErrorStatus(err, "the changelog reader: assigning " + topic_);
    }

    size_t remaining = progress.size();
    std::vector<rd_kafka_message_t*> batch(kBatchSize);
    PartitionListPtr finished(rd_kafka_topic_partition_list_new(0));
    auto finish = [&](Progress& p) {
      p.done = true;
      --remaining;
      rd_kafka_topic_partition_list_add(finished.get(), topic_.c_str(), p.partition);
    };
    Clock::time_point stall_deadline = Clock::now() + timeout_;
    while (remaining > 0) {
      consumer_.ServeMainQueue();
      if (auto fatal = consumer_.FatalError()) return fatal->ToStatus(consumer_.security());
      ssize_t n =
          rd_kafka_consume_batch_queue(consumer_.consumer_queue(), 0, batch.data(), batch.size());
      if (n == 0) {
        // Wait for the first message only: a full batch's wait would idle at a partition end.
        n = rd_kafka_consume_batch_queue(consumer_.consumer_queue(),
                                         RemainingMs(stall_deadline, 100), batch.data(), 1);
      }
      if (n < 0) {
        return KafkaErrorStatus(rd_kafka_last_error(), "the changelog reader: consuming " + topic_);
      }
      if (n > 0) {
        stall_deadline = Clock::now() + timeout_;
        SLUICE_RETURN_IF_ERROR(Deliver(batch, n, progress, slot, finish, on_record));
      }
      if (static_cast<size_t>(n) < batch.size()) {
        // The queue ran dry: a partition may have reached `end` through control records, which
        // librdkafka consumes without returning them (they move the position only), so that no
        // record at or past `end` may ever come. The end-of-partition event would tell too, but
        // only after one more fetch round trip (up to fetch.wait.max.ms). Asked after the
        // batch's records are delivered: the position already counts them.
        SLUICE_RETURN_IF_ERROR(FinishByPosition(progress, slot, finish, &stall_deadline));
      }
      if (finished->cnt > 0) {
        // Stop fetching what lies past `end` (later, uncommitted or aborted transactions).
        (void)rd_kafka_pause_partitions(consumer_.handle(), finished.get());
        finished.reset(rd_kafka_topic_partition_list_new(0));
      }
      if (n == 0 && remaining > 0 && Clock::now() >= stall_deadline) return Stalled(progress);
    }
    return Status::Ok();
  }

 private:
  // Hands the batch's records in [base, end) to `on_record` and moves the partitions on.
  template <typename ProgressVector, typename Finish>
  Status Deliver(std::vector<rd_kafka_message_t*>& batch, ssize_t n, ProgressVector& progress,
                 const std::vector<int32_t>& slot, const Finish& finish,
                 const ChangelogRecordCallback& on_record) {
    ChangelogRecord record;
    // Every message is destroyed, also when the callback fails.
    struct BatchGuard {
      std::vector<rd_kafka_message_t*>& batch;
      ssize_t count;
      ~BatchGuard() {
        for (ssize_t i = 0; i < count; ++i) rd_kafka_message_destroy(batch[static_cast<size_t>(i)]);
      }
    } guard{batch, n};
    for (ssize_t i = 0; i < n; ++i) {
      const rd_kafka_message_t& message = *batch[static_cast<size_t>(i)];
      if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR &&
          message.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        SLUICE_RETURN_IF_ERROR(ConsumerError(message, progress, slot));
        continue;
      }
      if (message.partition < 0 || static_cast<size_t>(message.partition) >= slot.size()) continue;
      const int32_t index = slot[static_cast<size_t>(message.partition)];
      if (index < 0) continue;
      auto& p = progress[static_cast<size_t>(index)];
      if (p.done) continue;
      if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        // The end of what read_committed may read: past the last record, past control
        // records after it too. Before `end` only if the topic changed under the reader; the
        // stall timeout reports that.
        p.position = std::max(p.position, message.offset);
      } else {
        if (message.offset < p.base) continue;
        if (message.offset < p.end) {
          record.partition = message.partition;
          record.offset = message.offset;
          record.key =
              message.key != nullptr
                  ? std::string_view(static_cast<const char*>(message.key), message.key_len)
                  : std::string_view();
          record.value = message.payload != nullptr
                             ? std::optional<std::string_view>(std::string_view(
                                   static_cast<const char*>(message.payload), message.len))
                             : std::nullopt;
          SLUICE_RETURN_IF_ERROR(on_record(record));
        }
        p.position = message.offset + 1;
      }
      if (p.position >= p.end) finish(p);
    }
    return Status::Ok();
  }

  // Finishes the unfinished partitions whose consumer position (the offset after the last
  // record or control record the application has consumed) reached their end.
  template <typename ProgressVector, typename Finish>
  Status FinishByPosition(ProgressVector& progress, const std::vector<int32_t>& slot,
                          const Finish& finish, Clock::time_point* stall_deadline) {
    PartitionListPtr open(rd_kafka_topic_partition_list_new(0));
    for (const auto& p : progress) {
      if (!p.done) rd_kafka_topic_partition_list_add(open.get(), topic_.c_str(), p.partition);
    }
    if (open->cnt == 0) return Status::Ok();
    if (rd_kafka_resp_err_t err = rd_kafka_position(consumer_.handle(), open.get()); err) {
      return KafkaErrorStatus(err, "the changelog reader: the position in " + topic_);
    }
    for (int i = 0; i < open->cnt; ++i) {
      const rd_kafka_topic_partition_t& tp = open->elems[i];
      if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR || tp.offset < 0) continue;  // nothing consumed
      auto& p = progress[static_cast<size_t>(slot[static_cast<size_t>(tp.partition)])];
      if (tp.offset > p.position) {
        p.position = tp.offset;
        *stall_deadline = Clock::now() + timeout_;  // control records are progress too
      }
      if (p.position >= p.end) finish(p);
    }
    return Status::Ok();
  }

  template <typename ProgressVector>
  Status ConsumerError(const rd_kafka_message_t& message, const ProgressVector& progress,
                       const std::vector<int32_t>& slot) {
    const std::string reason = rd_kafka_message_errstr(&message);
    if (message.rkt == nullptr) {
      // Client- or group-level: the group only exists because rd_kafka_assign needs one.
      if (message.err == RD_KAFKA_RESP_ERR__FATAL) {
        if (auto fatal = consumer_.FatalError()) return fatal->ToStatus(consumer_.security());
        return KafkaErrorStatus(message.err, "the changelog reader", reason);
      }
      SLUICE_LOG_DEBUG("the changelog reader of '{}': {}: {}", topic_, DescribeError(message.err),
                       reason);
      return Status::Ok();
    }
    const std::string where = Partition(topic_, message.partition);
    switch (message.err) {
      case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: {
        int64_t base = -1;
        if (message.partition >= 0 && static_cast<size_t>(message.partition) < slot.size() &&
            slot[static_cast<size_t>(message.partition)] >= 0) {
          base = progress[static_cast<size_t>(slot[static_cast<size_t>(message.partition)])].base;
        }
        return Status::FailedPrecondition(
            where + ": offset " + std::to_string(base) +
            ", where the state starts, is no longer in the topic (" + reason +
            "): records were deleted (retention or kafka-delete-records) while the restore ran; " +
            CannotRestore(checkpoint_));
      }
      case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
        return Status::PermissionDenied(where + ": the client's principal may not read it (" +
                                        reason + "); grant it READ on topic '" + topic_ + "'");
      case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
      case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return Status::NotFound(where + " disappeared while the restore read it (" + reason +
                                "); " + CannotRestore(checkpoint_));
      default:
        // Transient (a broker restarting, a fetch timing out): librdkafka retries by itself, and
        // the stall timeout bounds it.
        SLUICE_LOG_WARN("the changelog reader: {}: {}: {}", where, DescribeError(message.err),
                        reason);
        return Status::Ok();
    }
  }

  template <typename ProgressVector>
  Status Stalled(const ProgressVector& progress) const {
    std::string unfinished;
    size_t listed = 0;
    size_t open = 0;
    for (const auto& p : progress) {
      if (p.done) continue;
      ++open;
      if (listed++ < 5) {
        unfinished += (unfinished.empty() ? "" : ", ") + std::string("partition ") +
                      std::to_string(p.partition) + " at offset " + std::to_string(p.position) +
                      " of " + std::to_string(p.end);
      }
    }
    if (open > listed) unfinished += ", ...";
    std::string last;
    if (auto e = consumer_.LastError()) last = "; last client error: " + e->reason;
    return Status::Unavailable(
        "the changelog reader of '" + topic_ + "' (checkpoint " +
        std::to_string(checkpoint_.value()) + ") made no progress for " +
        std::to_string(timeout_.count()) +
        " ms (sluice.broker.timeout.ms) with bootstrap.servers=" + bootstrap_servers_ + ": " +
        std::to_string(open) + " partitions unfinished (" + unfinished + ")" + last);
  }

  Status Failure(const std::string& what, rd_kafka_resp_err_t err) const {
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT || err == RD_KAFKA_RESP_ERR__TRANSPORT ||
        err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT ||
        StatusCodeOf(err) == StatusCode::kUnavailable) {
      std::string last;
      if (auto e = consumer_.LastError()) last = "; last client error: " + e->reason;
      return Status::Unavailable(
          what + ": no answer from the Kafka brokers at bootstrap.servers=" + bootstrap_servers_ +
          " within " + std::to_string(timeout_.count()) + " ms (sluice.broker.timeout.ms)" + last +
          "; check bootstrap.servers and that the brokers are up");
    }
    return KafkaErrorStatus(err, what + " (bootstrap.servers=" + bootstrap_servers_ + ")");
  }

  KafkaConsumer& consumer_;
  const std::map<std::string, std::string>& properties_;
  const std::string& bootstrap_servers_;
  milliseconds timeout_;
  const std::string& topic_;
  CheckpointId checkpoint_;
};

}  // namespace

Status ChangelogReader::Read(const std::string& topic,
                             const std::vector<ChangelogPartitionRange>& ranges,
                             CheckpointId checkpoint, const ChangelogRecordCallback& on_record) {
  std::set<int32_t> partitions;
  std::vector<ChangelogPartitionRange> active;
  for (const ChangelogPartitionRange& r : ranges) {
    if (r.partition < 0 || r.base < 0 || r.end < r.base || !partitions.insert(r.partition).second) {
      return Status::InvalidArgument("the changelog reader: bad range for " +
                                     Partition(topic, r.partition) + ": [" +
                                     std::to_string(r.base) + ", " + std::to_string(r.end) +
                                     ") (ranges need distinct partitions and 0 <= base <= end)");
    }
    if (r.base < r.end) active.push_back(r);
  }
  // A fresh consumer per Read: librdkafka keeps per-partition state across assignments (the pause
  // flag, the position, which it resets only once the previous fetcher has stopped, a moment after
  // the unassign), and a stale position could end a partition before its records.
  if (consumer_ == nullptr) {
    try {
      consumer_ = std::make_unique<KafkaConsumer>(properties_);
    } catch (const StatusException& e) {
      return e.status().WithContext("the changelog reader");
    }
  }
  struct CloseAfterRead {
    std::unique_ptr<KafkaConsumer>& consumer;
    milliseconds timeout;
    ~CloseAfterRead() {
      consumer->Close(timeout);
      consumer.reset();
    }
  } close_after_read{consumer_, timeout_};
  ReadCall call(*consumer_, properties_, bootstrap_servers_, timeout_, topic, checkpoint);
  SLUICE_ASSIGN_OR_RETURN(const int partition_count, call.PartitionCount());
  for (const ChangelogPartitionRange& r : ranges) {
    if (r.partition >= partition_count) {
      return Status::FailedPrecondition(
          "the changelog topic '" + topic + "' has " + std::to_string(partition_count) +
          " partitions, but checkpoint " + std::to_string(checkpoint.value()) +
          " wrote state to partition " + std::to_string(r.partition) +
          ": the topic was recreated with another partition count; " + CannotRestore(checkpoint) +
          ". Restore from a savepoint or a local checkpoint, or start the job without this "
          "state");
    }
  }
  if (active.empty()) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(call.CheckOffsets(active));
  return call.Consume(active, partition_count, on_record);
}

}  // namespace sluice::kafka::internal
