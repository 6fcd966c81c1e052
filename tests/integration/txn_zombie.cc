// A transactional producer that dies mid-transaction: it opens a transaction, writes records,
// makes sure the broker has them, and then kills itself with SIGKILL, leaving the transaction
// open exactly as a crashed job would. Used by broker_compat_it.cc.
//
// usage: txn_zombie BOOTSTRAP TRANSACTIONAL_ID TOPIC COUNT
#include <librdkafka/rdkafka.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

[[noreturn]] void Die(const char* what, rd_kafka_error_t* error) {
  std::fprintf(stderr, "txn_zombie: %s: %s\n", what, error ? rd_kafka_error_string(error) : "");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: txn_zombie BOOTSTRAP TRANSACTIONAL_ID TOPIC COUNT\n");
    return 2;
  }
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // A long timeout: the broker must not abort this transaction on its own during the test,
  // so only the next owner's init_transactions can end it.
  const char* settings[][2] = {{"bootstrap.servers", argv[1]},
                               {"transactional.id", argv[2]},
                               {"transaction.timeout.ms", "600000"}};
  for (auto& kv : settings) {
    if (rd_kafka_conf_set(conf, kv[0], kv[1], error, sizeof error) != RD_KAFKA_CONF_OK) {
      std::fprintf(stderr, "txn_zombie: %s\n", error);
      return 2;
    }
  }
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (producer == nullptr) {
    std::fprintf(stderr, "txn_zombie: %s\n", error);
    return 2;
  }
  if (rd_kafka_error_t* e = rd_kafka_init_transactions(producer, 30000))
    Die("init_transactions", e);
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(producer)) Die("begin_transaction", e);
  int count = std::atoi(argv[4]);
  for (int i = 0; i < count; ++i) {
    std::string value = "zombie-" + std::to_string(i);
    rd_kafka_resp_err_t err =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(argv[3]), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE(value.data(), value.size()),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "txn_zombie: produce: %s\n", rd_kafka_err2str(err));
      return 2;
    }
  }
  // flush() returns once every record is acknowledged: they are in the log, uncommitted.
  if (rd_kafka_flush(producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::fprintf(stderr, "txn_zombie: flush timed out\n");
    return 2;
  }
  std::fflush(stdout);
  std::raise(SIGKILL);
  return 3;  // not reached
}
