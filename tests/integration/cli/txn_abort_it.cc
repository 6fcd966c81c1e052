// `sluice txn abort` run as a child process against the real broker: it ends the transaction a
// dead EXACTLY_ONCE job left open so read_committed readers move on, fences a live producer
// with the same id, and fails with exit code 1 or 2 and a message that names the cause.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/run_sluice.h"
#include "kafka_test_env.h"

extern char** environ;

namespace sluice::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Runs txn_zombie: a transactional producer that writes `count` records to partition 0 and dies
// with SIGKILL inside its transaction, as a crashed job would.
void RunZombie(const std::string& transactional_id, const std::string& topic, int count) {
  std::vector<std::string> args = {SLUICE_TXN_ZOMBIE_PATH, BootstrapServers(), transactional_id,
                                   topic, std::to_string(count)};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "txn_zombie did not reach its open transaction (wait status " << status << ")";
}

// The end of partition 0 as a reader with `isolation_level` sees it: the last stable offset for
// read_committed, the high watermark for read_uncommitted.
int64_t EndOffset(const std::string& topic, const std::string& isolation_level) {
  KafkaPtr consumer = NewClient(RD_KAFKA_CONSUMER, {{"group.id", UniqueName("txn-abort-probe")},
                                                    {"isolation.level", isolation_level}});
  int64_t low = -1;
  int64_t high = -1;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      consumer.get(), topic.c_str(), 0, &low, &high, static_cast<int>(Scaled(seconds(30)).count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    throw std::runtime_error(std::string("watermarks: ") + rd_kafka_err2str(err));
  return high;
}

std::vector<std::string> Values(const std::vector<Record>& records) {
  std::vector<std::string> values;
  for (const Record& r : records) values.push_back(r.value.value_or("<null>"));
  return values;
}

const Properties kReadCommitted{{"isolation.level", "read_committed"}};

TEST(TxnAbortIT, AbortsTheTransactionADeadJobLeftOpenSoReadCommittedReadersReachTheEnd) {
  ScopedTopic topic("txn-abort", 1);
  const std::string prefix = UniqueName("txn-abort");
  RunZombie(prefix + "-0-a", topic.name(), 20);
  // A committed record after the open transaction: read_committed readers cannot get to it.
  KafkaPtr plain = NewClient(RD_KAFKA_PRODUCER, {});
  ProduceAndWait(plain.get(), topic.name(), 0, {{"k", "after"}});

  ASSERT_EQ(EndOffset(topic.name(), "read_uncommitted"), 21);
  ASSERT_EQ(EndOffset(topic.name(), "read_committed"), 0)
      << "the dead producer's transaction pins the LSO";
  ASSERT_TRUE(ReadToEnd(topic.name(), 1, kReadCommitted).empty());

  CommandResult result =
      RunSluice({"txn", "abort", "--bootstrap-servers", BootstrapServers(), "--prefix", prefix});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_NE(result.out.find(
                prefix +
                "-0-a: fenced the earlier producer and aborted the transaction it had left open"),
            std::string::npos)
      << Describe(result);
  EXPECT_NE(result.out.find(prefix + "-0-b: no earlier producer"), std::string::npos)
      << Describe(result);
  EXPECT_NE(result.out.find("1 open transaction(s) aborted"), std::string::npos)
      << Describe(result);

  // The abort marker is in the log once init_transactions returned, so the LSO reaches the end;
  // the deadline only absorbs metadata propagation, the zombie's own timeout is 10 minutes.
  int64_t high_watermark = EndOffset(topic.name(), "read_uncommitted");
  auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(30));
  while (EndOffset(topic.name(), "read_committed") < high_watermark &&
         std::chrono::steady_clock::now() < deadline) {
  }
  EXPECT_EQ(EndOffset(topic.name(), "read_committed"), high_watermark);
  EXPECT_EQ(Values(ReadToEnd(topic.name(), 1, kReadCommitted)), std::vector<std::string>{"after"})
      << "none of the aborted records may be visible";

  // Run again: both ids are known now and nothing is open.
  CommandResult again =
      RunSluice({"txn", "abort", "--bootstrap-servers", BootstrapServers(), "--prefix", prefix});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_NE(
      again.out.find(prefix + "-0-a: fenced the earlier producer; it had no transaction open"),
      std::string::npos)
      << Describe(again);
  EXPECT_NE(
      again.out.find(prefix + "-0-b: fenced the earlier producer; it had no transaction open"),
      std::string::npos)
      << Describe(again);
  EXPECT_NE(again.out.find("0 open transaction(s) aborted"), std::string::npos) << Describe(again);
}

TEST(TxnAbortIT, FencesALiveProducerWithTheSameIdSoItsCommitFails) {
  ScopedTopic topic("txn-abort-live", 1);
  const std::string prefix = UniqueName("txn-abort-live");
  KafkaPtr live = NewClient(RD_KAFKA_PRODUCER, {{"transactional.id", prefix + "-1-b"}});
  ThrowIfError(
      rd_kafka_init_transactions(live.get(), static_cast<int>(Scaled(seconds(30)).count())),
      "init");
  ThrowIfError(rd_kafka_begin_transaction(live.get()), "begin_transaction");
  ProduceAndWait(live.get(), topic.name(), 0, {{"k", "live-1"}, {"k", "live-2"}});

  CommandResult result = RunSluice({"txn", "abort", "--bootstrap-servers", BootstrapServers(),
                                    "--prefix", prefix, "--instances", "2"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  for (const char* id : {"-0-a", "-0-b", "-1-a", "-1-b"}) {
    EXPECT_NE(result.out.find(prefix + id + ": "), std::string::npos) << id << "\n"
                                                                      << Describe(result);
  }
  EXPECT_NE(result.out.find(prefix + "-1-b: fenced the earlier producer and aborted"),
            std::string::npos)
      << Describe(result);

  ErrorPtr commit(
      rd_kafka_commit_transaction(live.get(), static_cast<int>(Scaled(seconds(30)).count())));
  ASSERT_TRUE(commit != nullptr) << "the fenced producer's commit succeeded";
  EXPECT_TRUE(rd_kafka_error_is_fatal(commit.get())) << rd_kafka_error_string(commit.get());
  EXPECT_TRUE(ReadToEnd(topic.name(), 1, kReadCommitted).empty());
}

TEST(TxnAbortIT, PassesPropertiesThroughToReachASaslListener) {
  const std::string prefix = UniqueName("txn-abort-sasl");
  CommandResult result = RunSluice(
      {"txn", "abort", "--bootstrap-servers", SaslBootstrapServers(), "--prefix", prefix,
       "--property", "security.protocol=SASL_PLAINTEXT", "--property", "sasl.mechanism=PLAIN",
       "--property", "sasl.username=alice", "--property", "sasl.password=alice-secret"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  EXPECT_NE(result.out.find(prefix + "-0-a: "), std::string::npos) << Describe(result);
  EXPECT_NE(result.out.find(prefix + "-0-b: "), std::string::npos) << Describe(result);

  CommandResult wrong_password =
      RunSluice({"txn", "abort", "--bootstrap-servers", SaslBootstrapServers(), "--prefix", prefix,
                 "--timeout-ms", "5000", "--property", "security.protocol=SASL_PLAINTEXT",
                 "--property", "sasl.mechanism=PLAIN", "--property", "sasl.username=alice",
                 "--property", "sasl.password=not-the-password"});
  EXPECT_EQ(wrong_password.exit_code, 1) << Describe(wrong_password);
  EXPECT_NE(wrong_password.err.find("authentication"), std::string::npos)
      << Describe(wrong_password);
  EXPECT_NE(wrong_password.err.find("sasl.password"), std::string::npos)
      << Describe(wrong_password);
}

TEST(TxnAbortIT, AnUnreachableBrokerFailsWithExitCode1NamingTheServers) {
  CommandResult result = RunSluice({"txn", "abort", "--bootstrap-servers", "127.0.0.1:1",
                                    "--prefix", UniqueName("txn-abort"), "--timeout-ms", "2000"});
  ASSERT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_NE(result.err.find("could not reach the Kafka brokers at 127.0.0.1:1"), std::string::npos)
      << Describe(result);
}

TEST(TxnAbortIT, AnAuthorizationFailureNamesTheAclToGrant) {
  // The scripts/kafka broker runs without an authorizer, so librdkafka's mock cluster (in this
  // process, on a 127.0.0.1 port) refuses InitProducerId the way a broker with ACLs would.
  char error[512];
  KafkaPtr host(rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), error, sizeof error));
  ASSERT_NE(host, nullptr) << error;
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(host.get(), 1);
  ASSERT_NE(cluster, nullptr);
  constexpr int16_t kInitProducerIdApiKey = 22;
  rd_kafka_mock_push_request_errors(cluster, kInitProducerIdApiKey, 1,
                                    RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  const std::string prefix = UniqueName("txn-abort-acl");
  CommandResult result =
      RunSluice({"txn", "abort", "--bootstrap-servers", rd_kafka_mock_cluster_bootstraps(cluster),
                 "--prefix", prefix, "--timeout-ms", "30000"});
  rd_kafka_mock_cluster_destroy(cluster);
  ASSERT_EQ(result.exit_code, 1) << Describe(result);
  EXPECT_NE(result.err.find(prefix + "-0-a: not authorised"), std::string::npos)
      << Describe(result);
  EXPECT_NE(result.err.find("WRITE and DESCRIBE on TransactionalId '" + prefix + "-'"),
            std::string::npos)
      << Describe(result);
  EXPECT_NE(result.err.find("not done: " + prefix + "-0-a " + prefix + "-0-b"), std::string::npos)
      << Describe(result);
}

TEST(TxnAbortIT, DryRunListsTheIdsWithoutContactingTheBrokers) {
  // An address nobody listens on: a dry run that tried to connect would fail.
  CommandResult result =
      RunSluice({"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", "wc",
                 "--instances", "2", "--dry-run", "--timeout-ms", "1000"});
  ASSERT_EQ(result.exit_code, 0) << Describe(result);
  for (const char* id : {"wc-0-a", "wc-0-b", "wc-1-a", "wc-1-b"}) {
    EXPECT_NE(result.out.find(std::string("  ") + id + "\n"), std::string::npos)
        << id << "\n"
        << Describe(result);
  }
  EXPECT_NE(result.out.find("nothing was sent to the brokers"), std::string::npos)
      << Describe(result);
}

TEST(TxnAbortIT, BadUsageExitsWith2AndSaysWhatIsWrong) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1"}, "--prefix is required"},
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", "p", "--no-such-flag"},
       "--no-such-flag"},
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", "p", "--instances", "0"},
       "--instances"},
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", ""},
       "--prefix must not be empty"},
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", "p", "--property",
        "acks"},
       "key=value"},
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", "p", "--property",
        "no.such.property=1"},
       "no.such.property"},
      {{"txn", "abort", "--bootstrap-servers", "127.0.0.1:1", "--prefix", "p", "--property",
        "transactional.id=x"},
       "transactional.id is not allowed"},
      {{"txn"}, "subcommand"},
  };
  for (const Case& c : cases) {
    CommandResult result = RunSluice(c.args);
    std::string command;
    for (const std::string& arg : c.args) command += " " + arg;
    EXPECT_EQ(result.exit_code, 2) << command << "\n" << Describe(result);
    EXPECT_NE(result.err.find(c.message), std::string::npos) << command << "\n" << Describe(result);
  }
}

}  // namespace
}  // namespace sluice::testing
