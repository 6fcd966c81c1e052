#include "cli/txn_abort.h"

#include <librdkafka/rdkafka.h>
#include <syslog.h>

#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "connectors/kafka/client_properties.h"
#include "connectors/kafka/rdkafka_handles.h"

namespace sluice::cli {
namespace {

using kafka::internal::ConfPtr;
using kafka::internal::ErrorPtr;
using kafka::internal::KafkaPtr;

constexpr char kCommand[] = "sluice txn abort";

// What librdkafka reported while one producer ran. librdkafka 2.0.2 has no API for the
// producer id and epoch or for what InitProducerId found, so they are read from its `eos` debug
// log: "Acquired PID{Id:<id>,Epoch:<epoch>}" carries the result, and a CONCURRENT_TRANSACTIONS
// refusal before it means the coordinator first had to end a transaction of the previous
// producer (the coordinator answers that way while it aborts an open transaction, then the
// retry gets the bumped epoch). If a future librdkafka words its log differently, the ids are
// still handled; the report just says less.
//
// Log and error callbacks run on librdkafka's threads, hence the mutex.
class ClientReport {
 public:
  explicit ClientReport(bool forward_debug) : forward_debug_(forward_debug) {}

  static void OnLog(const rd_kafka_t* rk, int level, const char* facility, const char* message) {
    static_cast<ClientReport*>(rd_kafka_opaque(rk))->Log(level, facility, message);
  }

  static void OnError(rd_kafka_t*, int code, const char* reason, void* opaque) {
    static_cast<ClientReport*>(opaque)->Error(static_cast<rd_kafka_resp_err_t>(code), reason);
  }

  std::optional<std::pair<int64_t, int>> producer_id_and_epoch() const {
    std::lock_guard lock(mutex_);
    return producer_id_and_epoch_;
  }
  bool ended_earlier_transaction() const {
    std::lock_guard lock(mutex_);
    return ended_earlier_transaction_;
  }
  bool saw_any(std::initializer_list<rd_kafka_resp_err_t> codes) const {
    std::lock_guard lock(mutex_);
    for (rd_kafka_resp_err_t code : codes) {
      if (error_codes_.count(code) != 0) return true;
    }
    return false;
  }
  // The last problem librdkafka reported (error callback or an error-level log line), to name
  // the cause when a call only says it timed out.
  std::string last_problem() const {
    std::lock_guard lock(mutex_);
    return last_problem_;
  }

 private:
  void Log(int level, const char* facility, const char* message) {
    if (forward_debug_ || std::strcmp(facility, "CONFWARN") == 0) {
      std::fprintf(stderr, "librdkafka %s: %s\n", facility, message);
    }
    std::lock_guard lock(mutex_);
    if (std::strcmp(facility, "GETPID") == 0) {
      long long id = 0;
      int epoch = 0;
      if (const char* acquired = std::strstr(message, "Acquired PID{Id:");
          acquired != nullptr &&
          std::sscanf(acquired, "Acquired PID{Id:%lld,Epoch:%d}", &id, &epoch) == 2) {
        producer_id_and_epoch_ = std::make_pair(static_cast<int64_t>(id), epoch);
      } else if (std::strstr(message, rd_kafka_err2str(
                                          RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS)) != nullptr) {
        ended_earlier_transaction_ = true;
      }
      return;  // retries of InitProducerId are expected, not problems
    }
    if (level <= LOG_ERR) last_problem_ = message;
  }

  void Error(rd_kafka_resp_err_t code, const char* reason) {
    std::lock_guard lock(mutex_);
    error_codes_.insert(code);
    // "1/1 brokers are down" follows the error that says why; keep the why.
    if (code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || last_problem_.empty())
      last_problem_ = reason;
  }

  const bool forward_debug_;
  mutable std::mutex mutex_;
  std::optional<std::pair<int64_t, int>> producer_id_and_epoch_;
  bool ended_earlier_transaction_ = false;
  std::set<rd_kafka_resp_err_t> error_codes_;
  std::string last_problem_;
};

// The producer configuration shared by every id: --property pairs on top of sluice's settings.
// Returns nullptr and fills `problem` when librdkafka refuses a property.
ConfPtr BaseConf(const TxnAbortOptions& options, bool* forward_debug, std::string* problem) {
  ConfPtr conf(rd_kafka_conf_new());
  char error[512];
  auto set = [&](const std::string& key, const std::string& value) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), error, sizeof error) !=
        RD_KAFKA_CONF_OK) {
      *problem = "--property " + key + "=" + kafka::internal::ShownValue(key, value) +
                 " is refused by librdkafka: " + error +
                 " (see librdkafka's CONFIGURATION.md for producer properties)";
      return false;
    }
    return true;
  };
  std::string user_debug;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& property : options.properties) {
    size_t equals = property.find('=');
    if (equals == std::string::npos || equals == 0) {
      *problem =
          "--property '" + property +
          "' is not of the form key=value (e.g. --property security.protocol=SASL_PLAINTEXT)";
      return nullptr;
    }
    std::string key = property.substr(0, equals);
    std::string value = property.substr(equals + 1);
    if (key == "bootstrap.servers") {
      *problem =
          "--property bootstrap.servers is not allowed: give the brokers with --bootstrap-servers";
      return nullptr;
    }
    if (key == "transactional.id") {
      *problem =
          "--property transactional.id is not allowed: the ids come from --prefix and --instances";
      return nullptr;
    }
    if (key == "debug") {
      user_debug = value;
      continue;
    }
    pairs.emplace_back(std::move(key), std::move(value));
  }
  // A recognisable client.id in the brokers' logs; --property client.id=... overrides it.
  if (!set("client.id", "sluice-txn-abort") || !set("bootstrap.servers", options.bootstrap_servers))
    return nullptr;
  // A later pair for a key wins; the Kerberos defaults every sluice client gets are added.
  std::map<std::string, std::string> properties;
  for (auto& [key, value] : pairs) properties[key] = std::move(value);
  for (const auto& [key, value] : kafka::internal::ClientProperties(std::move(properties))) {
    if (!set(key, value)) return nullptr;
  }
  // `eos` debug output is where the producer id and epoch come from (see ClientReport); the
  // user's own debug contexts are forwarded to stderr as they asked.
  *forward_debug = !user_debug.empty();
  if (!set("debug", user_debug.empty() ? "eos" : user_debug + ",eos")) return nullptr;
  rd_kafka_conf_set_log_cb(conf.get(), &ClientReport::OnLog);
  rd_kafka_conf_set_error_cb(conf.get(), &ClientReport::OnError);
  return conf;
}

enum class Finding {
  kEndedOpenTransaction,  // the previous producer had a transaction open; it is aborted now
  kNoOpenTransaction,     // a previous producer existed, with nothing open
  kNewToBroker,           // the broker knew no producer with this id (or had expired it)
  kUnknown,               // librdkafka's log did not say; the id is fenced and clean anyway
};

struct IdOutcome {
  std::optional<Finding> finding;  // set on success
  std::string error;               // set on failure
  std::optional<std::pair<int64_t, int>> producer_id_and_epoch;
};

std::string ErrorText(const TxnAbortOptions& options, const std::string& id, rd_kafka_error_t* raw,
                      const ClientReport& report) {
  ErrorPtr error(raw);
  rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
  std::string detail = std::string(rd_kafka_error_string(error.get())) + " (" +
                       rd_kafka_error_name(error.get()) + ")";
  std::string problem = report.last_problem();
  std::string cause = problem.empty() ? "" : " (last error: " + problem + ")";
  if (code == RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED) {
    return id + ": not authorised: " + detail +
           ". The principal needs WRITE and DESCRIBE on TransactionalId '" + options.prefix +
           "-' (resource pattern type PREFIXED), e.g. kafka-acls.sh --add --allow-principal " +
           "User:<name> --operation Write --operation Describe --transactional-id '" +
           options.prefix + "-' " + "--resource-pattern-type prefixed";
  }
  if (code == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED) {
    return id + ": not authorised: " + detail +
           ". The principal needs WRITE and DESCRIBE on TransactionalId '" + options.prefix +
           "-' (PREFIXED) and, on brokers before Kafka 3.0, IDEMPOTENT_WRITE on the cluster";
  }
  if (code == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
      report.saw_any({RD_KAFKA_RESP_ERR__AUTHENTICATION})) {
    return "authentication with the Kafka brokers at " + options.bootstrap_servers + " failed" +
           cause +
           ". Check --property sasl.mechanism, sasl.username, sasl.password and security.protocol";
  }
  if (code == RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT) {
    return id + ": the broker refused the producer's transaction.timeout.ms: " + detail +
           ". Give a smaller one with --property transaction.timeout.ms=60000 (it must not exceed "
           "the brokers' "
           "transaction.max.timeout.ms)";
  }
  if (code == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    if (report.saw_any({RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                        RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR__SSL})) {
      return "could not reach the Kafka brokers at " + options.bootstrap_servers + " within " +
             std::to_string(options.timeout_ms) + " ms" + cause +
             ". Check --bootstrap-servers, that the brokers are running, and that --property "
             "security.protocol "
             "matches their listener";
    }
    return id + ": the transaction coordinator did not finish init_transactions within " +
           std::to_string(options.timeout_ms) + " ms (brokers at " + options.bootstrap_servers +
           ")" + cause +
           ". The coordinator may still be loading or aborting; run the command again or raise "
           "--timeout-ms";
  }
  return id + ": init_transactions failed: " + detail + cause;
}

IdOutcome FenceAndAbort(const TxnAbortOptions& options, const rd_kafka_conf_t* base,
                        bool forward_debug, const std::string& id) {
  IdOutcome outcome;
  // Declared before the producer: librdkafka calls into it until rd_kafka_destroy returns.
  ClientReport report(forward_debug);
  ConfPtr conf(rd_kafka_conf_dup(base));
  char error[512];
  if (rd_kafka_conf_set(conf.get(), "transactional.id", id.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    outcome.error = id + ": " + error;
    return outcome;
  }
  rd_kafka_conf_set_opaque(conf.get(), &report);
  KafkaPtr producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error, sizeof error));
  if (producer == nullptr) {
    outcome.error = id + ": could not create a producer: " + error;
    return outcome;
  }
  (void)conf.release();  // rd_kafka_new took it
  if (rd_kafka_error_t* failed = rd_kafka_init_transactions(producer.get(), options.timeout_ms)) {
    rd_kafka_poll(producer.get(), 0);  // serves the queued error callbacks that name the cause
    outcome.error = ErrorText(options, id, failed, report);
    return outcome;
  }
  outcome.producer_id_and_epoch = report.producer_id_and_epoch();
  if (!outcome.producer_id_and_epoch) {
    outcome.finding = Finding::kUnknown;
  } else if (report.ended_earlier_transaction()) {
    outcome.finding = Finding::kEndedOpenTransaction;
  } else if (outcome.producer_id_and_epoch->second == 0) {
    // The coordinator starts a transactional id it has no state for at epoch 0.
    outcome.finding = Finding::kNewToBroker;
  } else {
    outcome.finding = Finding::kNoOpenTransaction;
  }
  return outcome;
}

const char* Describe(Finding finding) {
  switch (finding) {
    case Finding::kEndedOpenTransaction:
      return "fenced the earlier producer and aborted the transaction it had left open";
    case Finding::kNoOpenTransaction:
      return "fenced the earlier producer; it had no transaction open";
    case Finding::kNewToBroker:
      return "no earlier producer: the broker did not know this id, so nothing was open";
    case Finding::kUnknown:
      return "fenced any earlier producer and aborted any transaction it had left open";
  }
  return "";
}

}  // namespace

std::vector<std::string> SinkTransactionalIds(std::string_view prefix, int32_t instances) {
  std::vector<std::string> ids;
  for (int32_t instance = 0; instance < instances; ++instance) {
    for (const char* slot : {"-a", "-b"}) {
      ids.push_back(std::string(prefix) + "-" + std::to_string(instance) + slot);
    }
  }
  return ids;
}

CLI::App* AddTxnAbortCommand(CLI::App& txn, TxnAbortOptions& options) {
  CLI::App* abort = txn.add_subcommand("abort",
                                       "Abort the open Kafka transactions of an EXACTLY_ONCE job "
                                       "that will not come back, so read_committed "
                                       "readers of its output move on. For each transactional id "
                                       "<prefix>-<instance>-a and -b it calls "
                                       "init_transactions, which aborts what the previous producer "
                                       "left open and fences that producer.");
  abort
      ->add_option("--bootstrap-servers", options.bootstrap_servers,
                   "the Kafka cluster the job wrote to")
      ->required();
  abort
      ->add_option("--prefix", options.prefix,
                   "the sink's transactional id prefix (SetTransactionalIdPrefix)")
      ->required();
  abort
      ->add_option("--instances", options.instances,
                   "number of job instances: ids for instances 0..N-1")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  abort
      ->add_option(
          "--property", options.properties,
          "a librdkafka producer property, repeatable, e.g. security.protocol=SASL_PLAINTEXT")
      ->type_name("KEY=VALUE")
      ->take_all();
  abort
      ->add_option("--timeout-ms", options.timeout_ms,
                   "how long to wait for the brokers, per transactional id")
      ->check(CLI::Range(1, INT32_MAX))
      ->capture_default_str();
  abort->add_flag("--dry-run", options.dry_run, "only list the transactional ids it would touch");
  abort->footer(
      "WARNING: running this against a LIVE job fences that job: its next commit fails with a "
      "'fenced' error "
      "and the job stops. Only use it for a job that is gone for good. Without it, the brokers "
      "abort the "
      "open transactions themselves after the job's transaction.timeout.ms (15 minutes by "
      "default).");
  return abort;
}

int RunTxnAbort(const TxnAbortOptions& options) {
  if (options.prefix.empty()) {
    std::fprintf(stderr,
                 "%s: --prefix must not be empty: give the sink's SetTransactionalIdPrefix\n",
                 kCommand);
    return 2;
  }
  if (options.bootstrap_servers.empty()) {
    std::fprintf(stderr,
                 "%s: --bootstrap-servers must not be empty: give the brokers the job wrote to\n",
                 kCommand);
    return 2;
  }
  bool forward_debug = false;
  std::string problem;
  ConfPtr base = BaseConf(options, &forward_debug, &problem);
  if (base == nullptr) {
    std::fprintf(stderr, "%s: %s\n", kCommand, problem.c_str());
    return 2;
  }
  const std::vector<std::string> ids = SinkTransactionalIds(options.prefix, options.instances);
  if (options.dry_run) {
    std::printf(
        "dry run: would fence and abort the open transactions of %zu transactional id(s) on %s:\n",
        ids.size(), options.bootstrap_servers.c_str());
    for (const std::string& id : ids) std::printf("  %s\n", id.c_str());
    std::printf("nothing was sent to the brokers\n");
    return 0;
  }
  std::printf("%s: %zu transactional id(s) of prefix '%s' on %s\n", kCommand, ids.size(),
              options.prefix.c_str(), options.bootstrap_servers.c_str());
  std::fflush(stdout);
  int aborted = 0;
  bool all_known = true;
  for (size_t i = 0; i < ids.size(); ++i) {
    IdOutcome outcome = FenceAndAbort(options, base.get(), forward_debug, ids[i]);
    if (!outcome.finding) {
      std::fprintf(stderr, "%s: %s\n", kCommand, outcome.error.c_str());
      std::string untouched;
      for (size_t j = i; j < ids.size(); ++j) untouched += " " + ids[j];
      std::fprintf(
          stderr,
          "%s: stopped; %zu of %zu id(s) done, not done:%s. Running the command again is safe.\n",
          kCommand, i, ids.size(), untouched.c_str());
      return 1;
    }
    if (*outcome.finding == Finding::kEndedOpenTransaction) ++aborted;
    if (*outcome.finding == Finding::kUnknown) all_known = false;
    std::string pid;
    if (outcome.producer_id_and_epoch) {
      pid = " (producer id " + std::to_string(outcome.producer_id_and_epoch->first) + ", epoch " +
            std::to_string(outcome.producer_id_and_epoch->second) + ")";
    }
    std::printf("%s: %s%s\n", ids[i].c_str(), Describe(*outcome.finding), pid.c_str());
    std::fflush(stdout);
  }
  std::string aborted_text = all_known ? std::to_string(aborted) + " open transaction(s) aborted"
                                       : "any open transactions aborted";
  std::printf(
      "done: %zu transactional id(s) handled, %s; read_committed readers are no longer held back "
      "by them\n",
      ids.size(), aborted_text.c_str());
  return 0;
}

}  // namespace sluice::cli
