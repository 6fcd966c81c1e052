// Every security listener of scripts/kafka's broker with the source, the AT_LEAST_ONCE sink and the
// EXACTLY_ONCE sink: Kerberos (the seed's GSSAPI, with a ticket from kinit and with the job's
// keytab login), SCRAM-SHA-256 and -512, SSL and SSL with client certificates. Each test writes
// or reads through the secured listener and checks the records through the PLAINTEXT one. A
// listener that is missing fails the test (scripts/kafka always starts all of them).
//
// Kerberos settings are process-wide (KRB5_CONFIG, KRB5CCNAME, the job's login): each test sets
// its own and puts them back; ctest runs each test in a process of its own anyway.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/connectors/kafka/properties.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/kerberos_login.h"
#include "integration/connectors/kafka/kafka_it_support.h"
#include "integration/runtime/test_jobs.h"
#include "kafka_test_env.h"

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;

namespace sluice::testing {
namespace {

using kafka::DeliveryGuarantee;
using kafka::KafkaRecordSerializationSchema;
using kafka::KafkaSink;
using kafka::KafkaSource;
using kafka::OffsetsInitializer;
using kafka::SimpleStringSchema;
using std::chrono::milliseconds;
using std::chrono::seconds;

Seen g_seen;

// librdkafka before 2.6.1 repeats the server nonce in its SCRAM proof, which Kafka 4 brokers
// reject (librdkafka#4895): with it, SCRAM must fail clearly instead of working.
bool ScramWorksWithThisLibrdkafka() { return rd_kafka_version() >= 0x020601ff; }

enum class Kerberos { kNone, kTicketCache, kKeytabLogin };

struct Listener {
  std::string name;
  Kerberos kerberos = Kerberos::kNone;
  bool scram = false;
};

std::string PrintSetup(const ::testing::TestParamInfo<Listener>& info) { return info.param.name; }

class KafkaSecurityIT : public ::testing::TestWithParam<Listener> {
 protected:
  void SetUp() override {
    const Listener& listener = GetParam();
    if (listener.kerberos == Kerberos::kNone) return;
    // A private realm configuration and ticket cache: the user's own stay untouched.
    ccache_dir_ = std::filesystem::temp_directory_path() / UniqueName("krb5cc");
    std::filesystem::create_directories(ccache_dir_);
    ASSERT_EQ(setenv("KRB5_CONFIG", BrokerFile("kerberos/krb5.conf").c_str(), 1), 0);
    ASSERT_EQ(setenv("KRB5CCNAME", ("FILE:" + (ccache_dir_ / "ccache").string()).c_str(), 1), 0);
    if (listener.kerberos == Kerberos::kTicketCache) {
      // What a user of the seed does before starting the job: kinit alice.
      std::string kinit = "kinit -k -t '" + BrokerFile("kerberos/alice.keytab") + "' alice";
      ASSERT_EQ(std::system(kinit.c_str()), 0) << kinit;
    }
  }
  void TearDown() override {
    internal::InstallKerberosLogin(std::nullopt);
    if (!ccache_dir_.empty()) {
      unsetenv("KRB5_CONFIG");
      unsetenv("KRB5CCNAME");
      std::error_code ignored;
      std::filesystem::remove_all(ccache_dir_, ignored);
    }
  }

  // The listener and properties of the listener, as a user would write them.
  static std::string ListenerBootstrap() {
    const Listener& listener = GetParam();
    if (listener.kerberos != Kerberos::kNone) return GssapiBootstrapServers();
    if (listener.scram) return ScramBootstrapServers();
    return listener.name == "Ssl" ? SslBootstrapServers() : MtlsBootstrapServers();
  }
  static kafka::Properties ClientSettings() {
    const Listener& listener = GetParam();
    if (listener.kerberos != Kerberos::kNone) {
      // The seed's two properties, nothing else: the ticket cache or the job's login does the
      // rest.
      return {{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.kerberos.service.name", "kafka"}};
    }
    if (listener.scram) {
      return {
          {"security.protocol", "SASL_PLAINTEXT"},
          {"sasl.mechanism", listener.name == "ScramSha256" ? "SCRAM-SHA-256" : "SCRAM-SHA-512"},
          {"sasl.username", "alice"},
          {"sasl.password", "alice-secret"}};
    }
    kafka::Properties tls = {{"security.protocol", "SSL"},
                             {"ssl.ca.location", BrokerFile("tls/ca.crt")}};
    if (listener.name == "Mtls") {
      tls["ssl.certificate.location"] = BrokerFile("tls/alice.crt");
      tls["ssl.key.location"] = BrokerFile("tls/alice.key");
    }
    return tls;
  }

  // A job environment as FromArgs makes it: the keytab login comes in through Flink's flags.
  static std::unique_ptr<StreamExecutionEnvironment> NewEnv(const std::string& checkpoints) {
    std::vector<std::string> args = {"kafka_security_it"};
    if (GetParam().kerberos == Kerberos::kKeytabLogin) {
      args.push_back("--security.kerberos.login.keytab=" + BrokerFile("kerberos/alice.keytab"));
      args.push_back("--security.kerberos.login.principal=alice@SLUICE.TEST");
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    auto env = StreamExecutionEnvironment::FromArgs(static_cast<int>(argv.size()), argv.data());
    env->SetParallelism(1).SetHandleSignals(false);
    env->EnableCheckpointing(milliseconds(100));
    env->GetCheckpointConfig().SetCheckpointStorage(checkpoints);
    // Any failure is the test's: a restart would only hide it.
    env->SetRestartStrategy(RestartStrategy::NoRestart());
    return env;
  }

  // With a librdkafka whose SCRAM Kafka 4 refuses: the job stops at once as unauthenticated,
  // and the message names the cause and the fix.
  static void ExpectScramRefusedClearly(const JobExecutionResult& result,
                                        std::chrono::steady_clock::duration took) {
    ASSERT_EQ(result.status, JobStatus::kFailed) << result.failure.ToString();
    EXPECT_THAT(result.failure, StatusIs(StatusCode::kUnauthenticated));
    EXPECT_LT(took, Scaled(seconds(30))) << "the refused login ends the job, not a timeout";
    EXPECT_THAT(result.failure.message(), HasSubstr("librdkafka 2.6.1"));
  }

  std::filesystem::path ccache_dir_;
};

struct Job {
  std::string prefix = UniqueName("sec-txn");
  std::string name = UniqueName("sec-job");
  std::string checkpoints =
      (std::filesystem::temp_directory_path() / UniqueName("sec-chk")).string();
  ~Job() {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoints, ignored);
    DeleteTopicsWithPrefix(prefix);  // the control topic and any changelog topics
  }
};

std::vector<std::string> Expected(int count) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) values.push_back("v" + std::to_string(i));
  return values;
}

TEST_P(KafkaSecurityIT, SourceReadsThroughTheListener) {
  ScopedTopic topic("sec-src", 1);
  {
    KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
    std::vector<std::pair<std::string, std::string>> records;
    for (const std::string& value : Expected(5)) records.emplace_back("", value);
    ProduceAndWait(producer.get(), topic.name(), 0, records);
  }
  Job job;
  g_seen.Reset();
  auto env = NewEnv(job.checkpoints);
  auto source = KafkaSource<std::string>::Builder()
                    .SetBootstrapServers(ListenerBootstrap())
                    .SetTopics(topic.name())
                    .SetGroupId(job.prefix + "-group")
                    .SetProperties(ClientSettings())
                    .SetStartingOffsets(OffsetsInitializer::Earliest())
                    .SetBounded(OffsetsInitializer::Latest())
                    .SetValueOnlyDeserializer(SimpleStringSchema())
                    .Build();
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  env->FromSource<std::string>(*source, WatermarkStrategy<std::string>::NoWatermarks(),
                               "Kafka Source")
      .Uid("kafka-source")
      .AddSink(SeenSink(&g_seen));

  auto start = std::chrono::steady_clock::now();
  JobExecutionResult result = ExecuteWithin(*env, job.name, Scaled(seconds(60)));
  auto took = std::chrono::steady_clock::now() - start;
  if (GetParam().scram && !ScramWorksWithThisLibrdkafka()) {
    ExpectScramRefusedClearly(result, took);
    return;
  }
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  EXPECT_EQ(g_seen.Snapshot(), Expected(5));
}

void RunSinkCase(DeliveryGuarantee guarantee, const std::string& bootstrap,
                 const kafka::Properties& properties,
                 std::unique_ptr<StreamExecutionEnvironment> (*new_env)(const std::string&),
                 bool scram_refused) {
  Job job;
  ScopedTopic out("sec-sink", 1);
  auto builder = KafkaSink<std::string>::Builder();
  builder.SetBootstrapServers(bootstrap)
      .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                               .SetTopic(out.name())
                               .SetValueSerializationSchema(SimpleStringSchema())
                               .Build())
      .SetDeliveryGuarantee(guarantee)
      .SetProperties(properties);
  if (guarantee == DeliveryGuarantee::kExactlyOnce) builder.SetTransactionalIdPrefix(job.prefix);
  auto sink = builder.Build();
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  auto env = new_env(job.checkpoints);
  std::vector<std::string> values = Expected(10);
  env->FromCollection(values).Uid("values").SinkTo(*sink).Uid("kafka-sink");

  auto start = std::chrono::steady_clock::now();
  JobExecutionResult result = ExecuteWithin(*env, job.name, Scaled(seconds(60)));
  auto took = std::chrono::steady_clock::now() - start;
  if (scram_refused) {
    ASSERT_EQ(result.status, JobStatus::kFailed) << result.failure.ToString();
    EXPECT_THAT(result.failure, StatusIs(StatusCode::kUnauthenticated));
    EXPECT_LT(took, Scaled(seconds(30))) << "the refused login ends the job, not a timeout";
    EXPECT_THAT(result.failure.message(), HasSubstr("librdkafka 2.6.1"));
    return;
  }
  ASSERT_EQ(result.status, JobStatus::kFinished) << result.failure.ToString();
  std::vector<std::string> read;
  for (const Record& record : ReadToEnd(out.name(), 1, {{"isolation.level", "read_committed"}})) {
    read.push_back(record.value.value_or("<tombstone>"));
  }
  EXPECT_EQ(read, values) << "every value once, in order, committed";
}

TEST_P(KafkaSecurityIT, AtLeastOnceSinkWritesThroughTheListener) {
  RunSinkCase(DeliveryGuarantee::kAtLeastOnce, ListenerBootstrap(), ClientSettings(), &NewEnv,
              GetParam().scram && !ScramWorksWithThisLibrdkafka());
}

TEST_P(KafkaSecurityIT, ExactlyOnceSinkCommitsThroughTheListener) {
  RunSinkCase(DeliveryGuarantee::kExactlyOnce, ListenerBootstrap(), ClientSettings(), &NewEnv,
              GetParam().scram && !ScramWorksWithThisLibrdkafka());
}

INSTANTIATE_TEST_SUITE_P(Listeners, KafkaSecurityIT,
                         ::testing::Values(Listener{"GssapiTicketCache", Kerberos::kTicketCache},
                                           Listener{"GssapiKeytabLogin", Kerberos::kKeytabLogin},
                                           Listener{"ScramSha256", Kerberos::kNone, true},
                                           Listener{"ScramSha512", Kerberos::kNone, true},
                                           Listener{"Ssl"}, Listener{"Mtls"}),
                         PrintSetup);

}  // namespace
}  // namespace sluice::testing
