// Helpers for tests that talk to the real broker started by scripts/kafka.
//
// Every test creates its own uniquely named topics (ScopedTopic) and removes them at the end,
// so tests never depend on each other or on their order. Bounded waits use Scaled(), which a
// sanitizer build stretches through SLUICE_TEST_TIMEOUT_SCALE.
#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::testing {

/// SLUICE_BOOTSTRAP_SERVERS, or 127.0.0.1:19092 (the PLAINTEXT port of scripts/kafka).
std::string BootstrapServers();

/// The SASL_PLAINTEXT bootstrap address: the host of BootstrapServers() on port 19094, unless
/// SLUICE_SASL_BOOTSTRAP_SERVERS says otherwise.
std::string SaslBootstrapServers();

/// The listeners of scripts/kafka for each security setup, each with its own variable (set by
/// `eval "$(scripts/kafka env)"`, e.g. for a broker moved by SLUICE_KAFKA_PORT_OFFSET):
/// SASL_PLAINTEXT with GSSAPI: SLUICE_GSSAPI_BOOTSTRAP_SERVERS or localhost:19095 (a Kerberos
/// client must name the broker as its principal kafka/localhost does);
std::string GssapiBootstrapServers();
/// SASL_PLAINTEXT with SCRAM-SHA-256 and -512: SLUICE_SCRAM_BOOTSTRAP_SERVERS or 127.0.0.1:19096;
std::string ScramBootstrapServers();
/// SSL without client certificates: SLUICE_SSL_BOOTSTRAP_SERVERS or 127.0.0.1:19097;
std::string SslBootstrapServers();
/// SSL with client certificates (mTLS): SLUICE_MTLS_BOOTSTRAP_SERVERS or 127.0.0.1:19098.
std::string MtlsBootstrapServers();

/// A file scripts/kafka made for clients under its SLUICE_KAFKA_DIR (default .kafka-data in the
/// source tree), e.g. "kerberos/alice.keytab", "kerberos/krb5.conf", "tls/ca.crt". Throws
/// std::runtime_error naming the path when it does not exist (the broker was not started by
/// this tree's scripts/kafka): a security test fails then, it does not skip.
std::string BrokerFile(std::string_view relative_path);

/// The broker's jars (the Java Admin client among them), for tests that need what librdkafka
/// cannot do: SLUICE_KAFKA_LIBS (`scripts/kafka env` prints it), else scripts/kafka's default
/// ${SLUICE_CACHE_DIR:-~/.cache/sluice}/kafka-<tools/kafka/pom.xml's kafka.version>/libs.
/// Throws std::runtime_error naming the directory when it does not exist.
std::string KafkaJars();

/// Runs tools/kafka/TransactionalIdAcl.java with KafkaJars(): allows (`add`) or removes
/// (`remove`) WRITE and DESCRIBE for `principal` on the transactional ids starting with
/// `prefix`, through the PLAINTEXT listener; `add` returns once the broker shows them. librdkafka
/// 2.0.2's CreateAcls cannot name transactional ids. Throws std::runtime_error on failure.
void TransactionalIdAcl(const std::string& action, const std::string& principal,
                        const std::string& prefix);

/// A name no other test run uses: "<prefix>-<pid>-<counter>-<random>".
std::string UniqueName(std::string_view prefix);

/// A test timeout, multiplied by SLUICE_TEST_TIMEOUT_SCALE (default 1; sanitizer runs use more).
std::chrono::milliseconds Scaled(std::chrono::milliseconds base);

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const noexcept {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const noexcept { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

struct ErrorDeleter {
  void operator()(rd_kafka_error_t* e) const noexcept { rd_kafka_error_destroy(e); }
};
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, ErrorDeleter>;

using Properties = std::map<std::string, std::string>;

/// A client of the given type; bootstrap.servers defaults to BootstrapServers(). Throws
/// std::runtime_error naming the property when the configuration is refused.
KafkaPtr NewClient(rd_kafka_type_t type, const Properties& properties,
                   void (*configure)(rd_kafka_conf_t*) = nullptr);

/// Throws std::runtime_error with the error's name and string unless `error` is null.
void ThrowIfError(rd_kafka_error_t* error, std::string_view what);

/// Creates a topic and waits until its metadata shows every partition with a leader.
void CreateTopic(const std::string& name, int partitions, const Properties& configs = {});
void DeleteTopic(const std::string& name);
/// The names of the topics that start with `prefix` (a metadata request).
std::vector<std::string> TopicsWithPrefix(const std::string& prefix);
/// Deletes every topic that starts with `prefix`, ignoring failures (for clean-ups, e.g. the
/// state changelog topics "<transactional id prefix>.<uid>.changelog" a job created).
void DeleteTopicsWithPrefix(const std::string& prefix) noexcept;

/// A topic created for one test and deleted when the test ends.
class ScopedTopic {
 public:
  explicit ScopedTopic(std::string_view prefix, int partitions = 1, const Properties& configs = {});
  ~ScopedTopic();
  ScopedTopic(const ScopedTopic&) = delete;
  ScopedTopic& operator=(const ScopedTopic&) = delete;

  const std::string& name() const { return name_; }
  int partitions() const { return partitions_; }

 private:
  std::string name_;
  int partitions_;
};

/// A consumed record, copied out of librdkafka's buffers.
struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt for a tombstone
  std::vector<std::pair<std::string, std::string>> headers;
};

Record CopyRecord(const rd_kafka_message_t& message);

/// Reads partitions 0..partitions-1 of `topic` from the beginning until every partition has
/// reported its end (the last stable offset under read_committed, the high watermark under
/// read_uncommitted). Extra consumer properties (e.g. isolation.level) come from `properties`.
/// Throws std::runtime_error when the end is not reached within `timeout`.
std::vector<Record> ReadToEnd(const std::string& topic, int partitions,
                              const Properties& properties = {},
                              std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// The offsets consumer group `group` has committed for partitions 0..partitions-1 of `topic`
/// (partition -> offset; negative when none); empty when the broker did not answer in 10 s.
std::map<int32_t, int64_t> CommittedOffsets(const std::string& group, const std::string& topic,
                                            int partitions);

/// Produces (key, value) pairs to one partition and waits for every delivery report. Throws on
/// any delivery failure.
void ProduceAndWait(rd_kafka_t* producer, const std::string& topic, int32_t partition,
                    const std::vector<std::pair<std::string, std::string>>& records,
                    int64_t timestamp_ms = 0);

}  // namespace sluice::testing
