#include "connectors/kafka/kafka_consumer.h"

#include "connectors/kafka/client_properties.h"
#include "core/log.h"

namespace sluice::kafka::internal {

ClientError ClientError::FromCallback(rd_kafka_t* rk, int err, const char* reason) {
  ClientError error;
  error.code = static_cast<rd_kafka_resp_err_t>(err);
  error.reason = reason != nullptr ? reason : "";
  if (error.code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    error.code = rd_kafka_fatal_error(rk, fatal, sizeof fatal);
    error.reason = fatal;
    error.fatal = true;
  }
  if (error.code == RD_KAFKA_RESP_ERR__SSL || error.code == RD_KAFKA_RESP_ERR__TRANSPORT)
    error.certificate_failure = CertificateFailure(rk);
  error.fatal = error.fatal || !IsRestartable(ClientErrorCode(error.code, error.reason));
  return error;
}

Status ClientError::ToStatus(const ClientSecurity& security) const {
  return ClientErrorStatus(
      code, "connecting to the Kafka brokers at bootstrap.servers=" + security.bootstrap_servers,
      reason, security, certificate_failure);
}

KafkaConsumer::KafkaConsumer(const std::map<std::string, std::string>& properties)
    : security_(SecurityOf(properties)) {
  Result<ConfPtr> made = NewClientConf(properties, "Kafka source");
  if (!made.ok()) throw StatusException(made.status());
  ConfPtr conf = std::move(made).value();
  char error[512];
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaConsumer::OnError);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), error, sizeof error);
  if (rk == nullptr) {
    throw StatusException(
        Status::InvalidArgument(std::string("Kafka source: cannot create a consumer: ") + error));
  }
  (void)conf.release();  // rd_kafka_new took it
  rk_.reset(rk);
  consumer_queue_.reset(rd_kafka_queue_get_consumer(rk));
  commit_queue_.reset(rd_kafka_queue_new(rk));
  if (consumer_queue_ == nullptr) {
    throw StatusException(
        Status::Internal("Kafka source: the consumer has no consumer queue (is group.id set?)"));
  }
}

KafkaConsumer::~KafkaConsumer() { Close(std::chrono::seconds(10)); }

void KafkaConsumer::SetWakeup(std::function<void()> wake) {
  {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
  }
  rd_kafka_queue_cb_event_enable(consumer_queue_.get(), &KafkaConsumer::OnQueueEvent, this);
}

void KafkaConsumer::OnQueueEvent(rd_kafka_t*, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  std::lock_guard lock(self->mutex_);
  if (self->wake_) self->wake_();
}

void KafkaConsumer::OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaConsumer*>(opaque);
  ClientError error = ClientError::FromCallback(rk, err, reason);
  SLUICE_LOG_WARN("Kafka source consumer {}: {}: {}", rd_kafka_name(rk),
                  rd_kafka_err2name(error.code), error.reason);
  std::lock_guard lock(self->mutex_);
  if (error.fatal) self->fatal_ = error;
  self->last_ = std::move(error);
}

std::optional<ClientError> KafkaConsumer::TakeUnassignedError() {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(rk_.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  PartitionListPtr assignment(raw);
  if (assignment->cnt > 0) return std::nullopt;  // records may be queued: not ours to take
  std::optional<ClientError> found;
  while (MessagePtr message{rd_kafka_consume_queue(consumer_queue_.get(), 0)}) {
    if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // cannot happen unassigned
    ClientError error;
    error.code = message->err;
    error.reason = rd_kafka_message_errstr(message.get());
    error.fatal = !IsRestartable(ClientErrorCode(error.code, error.reason));
    SLUICE_LOG_WARN("Kafka source consumer {}: {}: {}", rd_kafka_name(rk_.get()),
                    rd_kafka_err2name(error.code), error.reason);
    if (error.fatal && !found) found = std::move(error);
  }
  return found;
}

std::optional<ClientError> KafkaConsumer::FatalError() const {
  std::lock_guard lock(mutex_);
  return fatal_;
}

std::optional<ClientError> KafkaConsumer::LastError() const {
  std::lock_guard lock(mutex_);
  return last_;
}

void KafkaConsumer::Close(std::chrono::milliseconds timeout) {
  if (rk_ == nullptr) return;
  // 1. No more wake-ups into a reader that is going away.
  rd_kafka_queue_cb_event_enable(consumer_queue_.get(), nullptr, nullptr);
  {
    std::lock_guard lock(mutex_);
    wake_ = nullptr;
  }
  // 2. Close through a queue so the wait is bounded.
  QueuePtr close_queue(rd_kafka_queue_new(rk_.get()));
  ErrorPtr error(rd_kafka_consumer_close_queue(rk_.get(), close_queue.get()));
  if (error != nullptr) {
    SLUICE_LOG_WARN("Kafka source: closing consumer {}: {}", rd_kafka_name(rk_.get()),
                    rd_kafka_error_string(error.get()));
  } else {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!rd_kafka_consumer_closed(rk_.get()) && std::chrono::steady_clock::now() < deadline) {
      EventPtr event(rd_kafka_queue_poll(close_queue.get(), 100));
    }
    if (!rd_kafka_consumer_closed(rk_.get())) {
      SLUICE_LOG_WARN("Kafka source: consumer {} did not close within {} ms; destroying it anyway",
                      rd_kafka_name(rk_.get()), timeout.count());
    }
  }
  // 3. Every queue handle before the client.
  close_queue.reset();
  commit_queue_.reset();
  consumer_queue_.reset();
  // 4. The client; the consumer is closed (or given up on) already.
  rd_kafka_destroy_flags(rk_.release(), RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

}  // namespace sluice::kafka::internal
