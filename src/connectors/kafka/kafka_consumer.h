// KafkaConsumer: one librdkafka consumer handle with the queues a reader uses, created and torn
// down in the order librdkafka needs, plus the client-level errors librdkafka reports on its own
// threads.
//
// Queues:
//   consumer queue  fetched records and per-partition consumer errors (e.g. PARTITION_EOF);
//                   drained with rd_kafka_consume_batch_queue on the task thread
//   commit queue    results of asynchronous offset commits (RD_KAFKA_EVENT_OFFSET_COMMIT)
//   main queue      client errors (error_cb: authentication, all brokers down, fatal) and logs;
//                   served with rd_kafka_poll(rk, 0) on the task thread. It is deliberately
//                   not forwarded to the consumer queue, so serving it never touches records.
//
// Teardown (destructor or Close): disable the wake-up callback (it points at the reader),
// close the consumer through a queue with a bounded wait (rd_kafka_consumer_close can block
// for long when the coordinator is unreachable), destroy every queue handle, and only then
// destroy the client (rd_kafka_destroy hangs while a queue handle lives).
//
// Threads: everything on the owning task thread, except that librdkafka calls the error and
// wake-up callbacks on its own threads (LastClientError is thread-safe).
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <sluice/status.h>

#include "connectors/kafka/kafka_error.h"
#include "connectors/kafka/rdkafka_handles.h"

namespace sluice::kafka::internal {

/// A client-level error reported by librdkafka's error callback.
struct ClientError {
  rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
  std::string reason;
  /// Why the broker's TLS certificate failed this client's check (CertificateFailure), if it
  /// did.
  std::string certificate_failure;
  /// librdkafka's fatal errors, and errors no restart can fix (refused credentials or
  /// certificates, missing ACLs: ClientErrorCode says so); librdkafka would retry those
  /// forever, the job must fail.
  bool fatal = false;

  /// The error as librdkafka's error callback reports it for client `rk`: the fatal error
  /// behind _FATAL, and `fatal` set as ClientErrorCode says.
  static ClientError FromCallback(rd_kafka_t* rk, int err, const char* reason);

  /// The Status a task fails with (ClientErrorStatus): the code, the broker's reason, the
  /// brokers asked, and the cause and fix for the client's security setup, e.g. "connecting to
  /// the Kafka brokers at bootstrap.servers=...: _AUTHENTICATION (...): <reason>; the broker
  /// refused the login of sasl.username 'alice' ...: check sasl.username and sasl.password ...".
  Status ToStatus(const ClientSecurity& security) const;
};

class KafkaConsumer {
 public:
  /// Creates the client. Throws StatusException (kInvalidArgument, naming the property) when
  /// librdkafka refuses the configuration.
  explicit KafkaConsumer(const std::map<std::string, std::string>& properties);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  rd_kafka_t* handle() const { return rk_.get(); }
  /// How the client authenticates (for messages about refused logins and missing ACLs).
  const ClientSecurity& security() const { return security_; }
  rd_kafka_queue_t* consumer_queue() const { return consumer_queue_.get(); }
  rd_kafka_queue_t* commit_queue() const { return commit_queue_.get(); }

  /// Calls `wake` (from a librdkafka thread) whenever the consumer queue goes from empty to
  /// non-empty. Replaces any earlier callback.
  void SetWakeup(std::function<void()> wake);

  /// Serves the main queue (error callback, logs) without blocking.
  void ServeMainQueue() { rd_kafka_poll(rk_.get(), 0); }

  /// While nothing is assigned, the consumer queue holds no records, only the errors of the
  /// consumer's group (e.g. GROUP_AUTHORIZATION_FAILED when its coordinator lookup is refused;
  /// librdkafka retries it while a call such as rd_kafka_committed waits out its timeout).
  /// Takes them and returns the first that no restart can fix; the others are logged and
  /// dropped. Takes nothing once partitions are assigned. Task thread only.
  std::optional<ClientError> TakeUnassignedError();

  /// The latest fatal client error, if any (thread-safe).
  std::optional<ClientError> FatalError() const;
  /// The latest client error of any kind, for messages about timeouts (thread-safe).
  std::optional<ClientError> LastError() const;

  /// Closes the consumer, waiting at most `timeout`, and releases every handle. Idempotent.
  void Close(std::chrono::milliseconds timeout);

 private:
  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnQueueEvent(rd_kafka_t* rk, void* opaque);

  ClientSecurity security_;
  mutable std::mutex mutex_;
  std::optional<ClientError> fatal_;
  std::optional<ClientError> last_;
  std::function<void()> wake_;  // set before the callback is enabled, cleared after it is off

  // Declaration order is destruction order in reverse: queues are released before the client.
  KafkaPtr rk_;
  QueuePtr consumer_queue_;
  QueuePtr commit_queue_;
};

}  // namespace sluice::kafka::internal
