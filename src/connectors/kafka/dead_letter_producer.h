// The producer behind DeserializationFailurePolicy::DeadLetter: sends the raw bytes of records
// the schema could not deserialise to the dead-letter topic, with headers saying why.
//
// Delivery is checked, never assumed: Poll() serves delivery reports and throws on the first
// failed one; Flush() (called before each checkpoint snapshot) waits for every outstanding
// report, so a checkpoint never covers a dead letter that is not in Kafka. Either failure
// fails the job, which then replays from the last checkpoint: a dead letter may be written
// twice, never lost (at least once).
//
// Threads: the reader's task thread only (delivery callbacks run inside Poll/Flush).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include <sluice/connectors/kafka/deserialization_schema.h>

#include "connectors/kafka/rdkafka_handles.h"

namespace sluice::kafka::internal {

class DeadLetterProducer {
 public:
  /// `client_properties` are the source's consumer properties; the connection and security
  /// ones are reused, consumer-only ones are left out. Throws StatusException (kInvalidArgument)
  /// when librdkafka refuses them.
  DeadLetterProducer(const std::map<std::string, std::string>& client_properties,
                     std::string topic);
  ~DeadLetterProducer();
  DeadLetterProducer(const DeadLetterProducer&) = delete;
  DeadLetterProducer& operator=(const DeadLetterProducer&) = delete;

  /// Queues `record` (copied) with the why-headers. Throws when it cannot be queued.
  void Send(const ConsumerRecord& record, const std::string& reason);
  /// Serves delivery reports without blocking; throws on a failed delivery.
  void Poll();
  /// Waits until every queued dead letter is acknowledged; throws on failure or timeout.
  void Flush(std::chrono::milliseconds timeout);

  const std::string& topic() const { return topic_; }

 private:
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  void ThrowIfFailed();

  std::string topic_;
  int64_t outstanding_ = 0;
  rd_kafka_resp_err_t first_failure_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // of a delivery
  KafkaPtr rk_;
};

}  // namespace sluice::kafka::internal
