#include "connectors/kafka/kafka_producer.h"

#include <algorithm>

#include "connectors/kafka/client_properties.h"
#include "core/log.h"

namespace sluice::kafka::internal {

bool IsFencedError(rd_kafka_resp_err_t code) { return StatusCodeOf(code) == StatusCode::kFenced; }

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const std::map<std::string, std::string>& properties, const std::string& client_id,
    DeliveryFailures failures) {
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer());
  producer->client_id_ = client_id;
  producer->failures_ = failures;
  std::map<std::string, std::string> with_id = properties;
  with_id["client.id"] = client_id;
  producer->security_ = SecurityOf(with_id);
  Result<ConfPtr> made = NewClientConf(with_id, "KafkaSink");
  if (!made.ok()) return made.status();
  ConfPtr conf = std::move(made).value();
  char error[512];
  // Delivery reports and errors go to librdkafka's background thread: nobody has to poll,
  // which matters for the transactional pair that many writers share.
  rd_kafka_conf_set_events(conf.get(), RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
  rd_kafka_conf_set_background_event_cb(conf.get(), &KafkaProducer::OnBackgroundEvent);
  rd_kafka_conf_set_opaque(conf.get(), producer.get());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof(error));
  if (rk == nullptr)
    return Status::InvalidArgument(std::string("KafkaSink: cannot create a producer: ") + error);
  (void)conf.release();  // owned by the client now
  producer->handle_.reset(rk);
  // The main queue (delivery reports, errors) is served by the background thread from now on.
  QueuePtr main_queue(rd_kafka_queue_get_main(rk));
  QueuePtr background(rd_kafka_queue_get_background(rk));
  rd_kafka_queue_forward(main_queue.get(), background.get());
  return producer;
}

KafkaProducer::~KafkaProducer() { handle_.reset(); }

void KafkaProducer::OnBackgroundEvent(rd_kafka_t* rk, rd_kafka_event_t* event, void* opaque) {
  auto* self = static_cast<KafkaProducer*>(opaque);
  switch (rd_kafka_event_type(event)) {
    case RD_KAFKA_EVENT_DR:
      self->OnDeliveryReports(event);
      break;
    case RD_KAFKA_EVENT_ERROR:
      self->OnClientError(rk, event);
      break;
    default:
      break;
  }
  rd_kafka_event_destroy(event);
}

void KafkaProducer::OnDeliveryReports(rd_kafka_event_t* event) {
  const rd_kafka_message_t* message = nullptr;
  while ((message = rd_kafka_event_message_next(event)) != nullptr) {
    // Every report, failed or purged too, ends the record's flight for its writer.
    if (message->_private != nullptr) {
      auto* tracker = static_cast<DeliveryTracker*>(message->_private);
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        tracker->Delivered(message->partition, message->offset);
      tracker->Done();
    }
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
        message->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      if (purging_.load()) continue;  // we asked for it
    }
    failed_->fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    if (error_ && failures_ == DeliveryFailures::kFailTheJob) continue;
    std::string topic = message->rkt != nullptr ? rd_kafka_topic_name(message->rkt) : "?";
    // The code of the delivery error decides about a restart: a timed-out delivery restarts
    // the job, a record too large or a topic ACL missing stops it.
    const std::string what = "KafkaSink: delivery of a record to topic " + topic + " partition " +
                             std::to_string(message->partition) +
                             " failed after librdkafka's retries";
    Status failure =
        message->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED
            ? AclDeniedStatus(message->err, what, {"WRITE", "topic", topic, false}, security_)
            : KafkaErrorStatus(message->err, what);
    if (failures_ == DeliveryFailures::kLogAndCount) {
      LogFailureLocked(failure.message());
    } else {
      error_ = std::move(failure);
      troubled_.store(true, std::memory_order_release);
    }
  }
}

void KafkaProducer::LogFailureLocked(const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (last_failure_log_ != std::chrono::steady_clock::time_point{} &&
      now - last_failure_log_ < std::chrono::seconds(1)) {
    ++failures_not_logged_;
    return;
  }
  if (failures_not_logged_ > 0) {
    SLUICE_LOG_ERROR(
        "{}; the record is lost (SetLogFailuresOnly), and so are {} more since the last such line",
        what, failures_not_logged_);
  } else {
    SLUICE_LOG_ERROR("{}; the record is lost (SetLogFailuresOnly)", what);
  }
  last_failure_log_ = now;
  failures_not_logged_ = 0;
}

void KafkaProducer::CountRefused(const Status& refusal) {
  failed_->fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  LogFailureLocked(refusal.message());
}

bool KafkaProducer::MayHaveFailed() const {
  if (troubled_.load(std::memory_order_acquire)) return true;
  // A fatal error whose event the background thread has not handled yet (an atomic read).
  char reason[8];
  return rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

bool KafkaProducer::FatallyFailed() const {
  char reason[256];
  return rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason)) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

void KafkaProducer::OnClientError(rd_kafka_t* rk, rd_kafka_event_t* event) {
  if (!rd_kafka_event_error_is_fatal(event)) {
    rd_kafka_resp_err_t code = rd_kafka_event_error(event);
    const std::string reason = rd_kafka_event_error_string(event);
    if (IsRestartable(ClientErrorCode(code, reason))) {
      // Transient broker trouble: librdkafka retries by itself; deliveries fail when it gives
      // up.
      SLUICE_LOG_DEBUG("KafkaSink producer {}: {}", client_id_, reason);
      return;
    }
    // A refused login or certificate (or a missing cluster ACL): librdkafka would retry it
    // forever, and every wait (metadata, init_transactions, flush) would end in a timeout that
    // hides the cause.
    std::string certificate_failure;
    if (code == RD_KAFKA_RESP_ERR__SSL || code == RD_KAFKA_RESP_ERR__TRANSPORT)
      certificate_failure = CertificateFailure(rk);
    std::lock_guard lock(mutex_);
    if (!error_) {
      error_ = ClientErrorStatus(code,
                                 "KafkaSink: producer " + client_id_ +
                                     ": connecting to the Kafka brokers at bootstrap.servers=" +
                                     security_.bootstrap_servers,
                                 reason, security_, certificate_failure);
      troubled_.store(true, std::memory_order_release);
    }
    return;
  }
  char reason[512];
  rd_kafka_resp_err_t code = rd_kafka_fatal_error(rk, reason, sizeof(reason));
  std::lock_guard lock(mutex_);
  troubled_.store(true, std::memory_order_release);
  fenced_ = fenced_ || IsFencedError(code);
  // Fencing explains the failed deliveries that come with it, so it replaces them.
  if (!error_ || IsFencedError(code)) error_ = FatalStatus(code, reason);
}

Status KafkaProducer::FatalStatus(rd_kafka_resp_err_t code, const char* reason) const {
  const std::string what = "KafkaSink: producer " + client_id_ + " failed fatally";
  if (code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    // An idempotent producer's id: Kafka 3.0 and later grant it to a principal that may WRITE
    // to any topic (KIP-679), so a missing WRITE shows up here, before any record is refused.
    std::string topic;
    {
      std::lock_guard lock(topics_mutex_);
      if (!topics_.empty()) topic = topics_.front();
    }
    if (!topic.empty()) {
      Status denied =
          AclDeniedStatus(code, what, {"WRITE", "topic", topic, false}, security_, reason);
      return {denied.code(), denied.message() +
                                 " (with WRITE on a topic, Kafka 3.0 and later also give an "
                                 "idempotent producer its producer id; older brokers want "
                                 "IDEMPOTENT_WRITE on the cluster)"};
    }
    return AclDeniedStatus(code, what, {"IDEMPOTENT_WRITE", "cluster", "kafka-cluster", false},
                           security_, reason);
  }
  return KafkaErrorStatus(code, what, reason);
}

std::optional<Status> KafkaProducer::Error() const {
  // Fencing first: the deliveries it fails may be reported before its error event is handled,
  // and a fenced producer must not pass for a restartable delivery failure (the client knows
  // about the fatal error before the event arrives).
  char reason[512];
  rd_kafka_resp_err_t code = rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason));
  if (IsFencedError(code)) return FatalStatus(code, reason);
  std::lock_guard lock(mutex_);
  return error_;
}

bool KafkaProducer::Fenced() const {
  std::lock_guard lock(mutex_);
  if (fenced_) return true;
  // The error event may not have been handled yet; the client knows already.
  char reason[256];
  return IsFencedError(rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason)));
}

DeliveryTracker* KafkaProducer::NewTracker(bool record_offsets) {
  std::lock_guard lock(mutex_);
  trackers_.push_back(std::make_unique<DeliveryTracker>(record_offsets));
  return trackers_.back().get();
}

Result<TopicPtr> KafkaProducer::TopicHandle(const std::string& topic,
                                            std::chrono::milliseconds timeout) {
  Result<std::vector<int32_t>> partitions = Partitions(topic, timeout);
  if (!partitions.ok()) return partitions.status();
  TopicPtr handle(rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr));
  if (handle == nullptr)
    return Status::InvalidArgument("KafkaSink: bad topic name '" + topic + "'");
  return handle;
}

Status KafkaProducer::Produce(const ProducerRecord& record, DeliveryTracker* tracker,
                              rd_kafka_topic_t* topic) {
  rd_kafka_headers_t* headers = nullptr;
  if (!record.headers.empty()) {
    headers = rd_kafka_headers_new(record.headers.size());
    for (const ProducerHeader& header : record.headers) {
      rd_kafka_header_add(headers, header.key.data(), static_cast<ssize_t>(header.key.size()),
                          header.value ? header.value->data() : nullptr,
                          header.value ? static_cast<ssize_t>(header.value->size()) : 0);
    }
  }
  while (true) {
    if (tracker != nullptr) tracker->Sent();  // before: the report may come at once
    // Everything but the topic, which is a handle (RKT) or a name (TOPIC).
#define SLUICE_RECORD_ARGS                                                                       \
  RD_KAFKA_V_PARTITION(record.partition), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),              \
      RD_KAFKA_V_VALUE(record.has_value ? const_cast<char*>(record.value.data()) : nullptr,      \
                       record.has_value ? record.value.size() : 0),                              \
      RD_KAFKA_V_KEY(record.has_key ? record.key.data() : nullptr,                               \
                     record.has_key ? record.key.size() : 0),                                    \
      RD_KAFKA_V_TIMESTAMP(std::max<int64_t>(record.timestamp, 0)), RD_KAFKA_V_HEADERS(headers), \
      RD_KAFKA_V_OPAQUE(tracker), RD_KAFKA_V_END
    rd_kafka_resp_err_t err =
        topic != nullptr
            ? rd_kafka_producev(handle_.get(), RD_KAFKA_V_RKT(topic), SLUICE_RECORD_ARGS)
            : rd_kafka_producev(handle_.get(), RD_KAFKA_V_TOPIC(record.topic.c_str()),
                                SLUICE_RECORD_ARGS);
#undef SLUICE_RECORD_ARGS
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
    if (tracker != nullptr) tracker->Done();  // refused: no report will come
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      // Backpressure: wait a little for deliveries to make room (reports are served by the
      // background thread; flush here is only a bounded wait).
      rd_kafka_flush(handle_.get(), 10);
      continue;
    }
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      std::optional<Status> error = Error();
      char reason[512];
      rd_kafka_resp_err_t code = rd_kafka_fatal_error(handle_.get(), reason, sizeof(reason));
      if (error) return *error;
      return FatalStatus(code, reason);
    }
    return KafkaErrorStatus(err, "KafkaSink: librdkafka refused a record for topic " +
                                     record.topic + " partition " +
                                     std::to_string(record.partition));
  }
}

Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rd_kafka_outq_len(handle_.get()) > 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::TimedOut("KafkaSink: " + std::to_string(rd_kafka_outq_len(handle_.get())) +
                              " records of producer " + client_id_ +
                              " still had no delivery report after " +
                              std::to_string(timeout.count()) + " ms (sluice.broker.timeout.ms)");
    }
    rd_kafka_flush(handle_.get(), 100);
  }
  return Status::Ok();
}

void KafkaProducer::Purge() {
  purging_ = true;
  rd_kafka_purge(handle_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(handle_.get(), 0);
}

Result<std::vector<int32_t>> KafkaProducer::Partitions(const std::string& topic,
                                                       std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(topics_mutex_);
    if (std::find(topics_.begin(), topics_.end(), topic) == topics_.end()) topics_.push_back(topic);
  }
  TopicPtr rkt(rd_kafka_topic_new(handle_.get(), topic.c_str(), nullptr));
  if (rkt == nullptr) return Status::InvalidArgument("KafkaSink: bad topic name '" + topic + "'");
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
  // Short attempts, so that a refused login (an error event, while the request only times
  // out) ends the wait at once instead of after the whole timeout.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    err = rd_kafka_metadata(handle_.get(), 0, rkt.get(), &raw,
                            static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (err != RD_KAFKA_RESP_ERR__TIMED_OUT && err != RD_KAFKA_RESP_ERR__TRANSPORT) break;
    if (std::optional<Status> refused = Error(); refused && !IsRestartable(*refused)) {
      return *refused;
    }
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable("KafkaSink: no metadata for topic " + topic + " within " +
                               std::to_string(timeout.count()) + " ms: " + rd_kafka_err2str(err) +
                               " (check bootstrap.servers)");
  }
  MetadataPtr metadata(raw);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = metadata->topics[i];
    if (topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
      // Kafka answers so for a topic the principal may not DESCRIBE, whether it exists or not.
      return AclDeniedStatus(t.err, "KafkaSink: the metadata of topic " + topic,
                             {"WRITE and DESCRIBE", "topic", topic, false}, security_);
    }
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || t.partition_cnt == 0) {
      return Status::NotFound(
          "KafkaSink: topic " + topic + " does not exist (" + rd_kafka_err2str(t.err) +
          "); create it, or let the broker create topics (auto.create.topics.enable)");
    }
    std::vector<int32_t> ids;
    ids.reserve(static_cast<size_t>(t.partition_cnt));
    for (int p = 0; p < t.partition_cnt; ++p) ids.push_back(t.partitions[p].id);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  return Status::NotFound("KafkaSink: topic " + topic + " does not exist");
}

}  // namespace sluice::kafka::internal
