#include "connectors/kafka/dead_letter_producer.h"

#include <array>
#include <string_view>

#include "connectors/kafka/client_properties.h"
#include "connectors/kafka/kafka_error.h"
#include "core/log.h"

namespace sluice::kafka::internal {
namespace {

// Consumer-only settings a producer would only warn about.
bool ConsumerOnly(const std::string& key) {
  static constexpr std::array<std::string_view, 9> kPrefixes = {"group.",
                                                                "fetch.",
                                                                "queued.",
                                                                "auto.",
                                                                "enable.auto.",
                                                                "offset.store.",
                                                                "isolation.",
                                                                "enable.partition.eof",
                                                                "partition.assignment."};
  static constexpr std::array<std::string_view, 6> kKeys = {
      "session.timeout.ms", "heartbeat.interval.ms",         "max.poll.interval.ms",
      "check.crcs",         "consume.callback.max.messages", "coordinator.query.interval.ms"};
  for (std::string_view prefix : kPrefixes) {
    if (key.starts_with(prefix)) return true;
  }
  for (std::string_view k : kKeys) {
    if (key == k) return true;
  }
  return false;
}

}  // namespace

DeadLetterProducer::DeadLetterProducer(const std::map<std::string, std::string>& client_properties,
                                       std::string topic)
    : topic_(std::move(topic)) {
  ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  std::map<std::string, std::string> props;
  for (const auto& [key, value] : client_properties) {
    if (!ConsumerOnly(key)) props[key] = value;
  }
  props["enable.idempotence"] = "true";  // no duplicates from the producer's own retries
  props["client.id"] =
      props.contains("client.id") ? props["client.id"] + "-dlq" : "sluice-kafka-source-dlq";
  for (const auto& [key, value] : ClientProperties(std::move(props))) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      throw StatusException(Status::InvalidArgument(
          "Kafka source: the dead-letter producer refused property '" + key + "': " + error));
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &DeadLetterProducer::OnDelivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error);
  if (rk == nullptr) {
    throw StatusException(Status::InvalidArgument(
        std::string("Kafka source: cannot create the dead-letter producer: ") + error));
  }
  (void)conf.release();  // rd_kafka_new took it
  rk_.reset(rk);
}

DeadLetterProducer::~DeadLetterProducer() {
  if (rk_ == nullptr) return;
  // Best effort on teardown; a checkpoint has flushed everything it covers.
  rd_kafka_flush(rk_.get(), 10'000);
  if (rd_kafka_outq_len(rk_.get()) > 0) {
    SLUICE_LOG_WARN(
        "Kafka source: {} dead letters to '{}' were not acknowledged before shutdown; the records "
        "are "
        "read again after a restore",
        rd_kafka_outq_len(rk_.get()), topic_);
  }
}

void DeadLetterProducer::OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<DeadLetterProducer*>(opaque);
  --self->outstanding_;
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR &&
      self->first_failure_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->first_failure_ = message->err;
  }
}

void DeadLetterProducer::ThrowIfFailed() {
  if (first_failure_ == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  // The code of the delivery error: a missing ACL on the topic stops the job, a broker outage
  // restarts it.
  throw StatusException(KafkaErrorStatus(
      first_failure_, "Kafka source: a dead letter could not be written to topic '" + topic_ +
                          "' (the job fails so that the record is not lost)"));
}

void DeadLetterProducer::Send(const ConsumerRecord& record, const std::string& reason) {
  rd_kafka_headers_t* headers = rd_kafka_headers_new(record.headers.size() + 4);
  for (const KafkaHeader& h : record.headers) {
    std::string name(h.key);
    rd_kafka_header_add(headers, name.c_str(), -1, h.value ? h.value->data() : nullptr,
                        h.value ? static_cast<ssize_t>(h.value->size()) : 0);
  }
  std::string partition = std::to_string(record.partition);
  std::string offset = std::to_string(record.offset);
  rd_kafka_header_add(headers, "sluice.dlq.error", -1, reason.data(),
                      static_cast<ssize_t>(reason.size()));
  rd_kafka_header_add(headers, "sluice.dlq.topic", -1, record.topic.data(),
                      static_cast<ssize_t>(record.topic.size()));
  rd_kafka_header_add(headers, "sluice.dlq.partition", -1, partition.data(),
                      static_cast<ssize_t>(partition.size()));
  rd_kafka_header_add(headers, "sluice.dlq.offset", -1, offset.data(),
                      static_cast<ssize_t>(offset.size()));
  const void* key = record.key ? record.key->data() : nullptr;
  size_t key_len = record.key ? record.key->size() : 0;
  void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
  size_t value_len = record.value ? record.value->size() : 0;
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_.get(), RD_KAFKA_V_TOPIC(topic_.c_str()), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_VALUE(value, value_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_TIMESTAMP(record.timestamp >= 0 ? record.timestamp : 0),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;  // the message owns the headers now
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk_.get(), 100);  // wait for room: deliveries free the queue
      ThrowIfFailed();
      continue;
    }
    rd_kafka_headers_destroy(headers);
    throw StatusException(
        KafkaErrorStatus(err, "Kafka source: cannot send a dead letter to topic '" + topic_ + "'"));
  }
  ++outstanding_;
  Poll();
}

void DeadLetterProducer::Poll() {
  rd_kafka_poll(rk_.get(), 0);
  ThrowIfFailed();
}

void DeadLetterProducer::Flush(std::chrono::milliseconds timeout) {
  if (outstanding_ == 0) return Poll();
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_.get(), static_cast<int>(timeout.count()));
  ThrowIfFailed();
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || outstanding_ > 0) {
    throw StatusException(
        Status::TimedOut("Kafka source: " + std::to_string(outstanding_) +
                         " dead letters to topic '" + topic_ + "' were not acknowledged within " +
                         std::to_string(timeout.count()) + " ms (sluice.broker.timeout.ms)"));
  }
}

}  // namespace sluice::kafka::internal
