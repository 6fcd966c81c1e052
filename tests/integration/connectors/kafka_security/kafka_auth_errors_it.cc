// Every way a login or an ACL can refuse sluice's Kafka clients (issue 16 item 4, issue 17 item
// 2), each through the real job runtime: the source, the AT_LEAST_ONCE sink, the EXACTLY_ONCE
// sink and the admin calls (topic creation). Each case asserts
//   - the StatusCode (kUnauthenticated, kPermissionDenied), which decides that no restart
//     happens; the job's restart strategy would restart it three times, and result.restarts
//     must stay 0;
//   - that the message names the cause (the broker's or the TLS / Kerberos library's reason)
//     and the fix (which property to check, which ACL to grant);
//   - that the job ends within 30 s (the test's wait has that deadline, then cancels);
//   - for the EXACTLY_ONCE sink, that a read_committed consumer sees nothing of the failed job
//     and no transaction is left open (last stable offset = high watermark).
//
// Logins: PLAIN and SCRAM (19094, 19096), GSSAPI (19095, realm SLUICE.TEST), TLS (19097, whose
// certificate names 127.0.0.1 only) and mTLS (19098). ACLs: bob, who has no ACLs of his own,
// connects over mTLS (CN=bob is User:bob); each test grants him exactly what its case needs but
// one permission (admin over PLAIN, on uniquely named topics, groups and transactional ids) and
// removes the grants afterwards.
//
// Kerberos settings are process-wide (KRB5_CONFIG, KRB5CCNAME): every test gets a private ticket
// cache and puts the variables back; ctest runs each test in a process of its own anyway.
#include <sluice/connectors/kafka/kafka_sink.h>
#include <sluice/connectors/kafka/kafka_source.h>
#include <sluice/sluice.h>
#include <sluice/testing/status_matchers.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/kerberos_login.h"
#include "connectors/kafka/changelog_topics.h"
#include "integration/connectors/kafka/kafka_it_support.h"
#include "integration/runtime/test_jobs.h"
#include "kafka_test_env.h"

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

namespace sluice::testing {
namespace {

using kafka::DeliveryGuarantee;
using kafka::KafkaRecordSerializationSchema;
using kafka::KafkaSink;
using kafka::KafkaSource;
using kafka::OffsetResetStrategy;
using kafka::OffsetsInitializer;
using kafka::SimpleStringSchema;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The promise of issue 16: a refused login or a missing ACL ends the job within this.
constexpr seconds kWithin(30);

Seen g_seen;

// ---- The failing job ----

enum class Role { kSource, kAtLeastOnceSink, kExactlyOnceSink };

std::string RoleName(Role role) {
  switch (role) {
    case Role::kSource:
      return "Source";
    case Role::kAtLeastOnceSink:
      return "AtLeastOnceSink";
    case Role::kExactlyOnceSink:
      return "ExactlyOnceSink";
  }
  return "?";
}

// Names, checkpoint directory and clean-up of one job.
struct Job {
  std::string prefix = UniqueName("autherr");
  std::string name = UniqueName("autherr-job");
  std::string group = prefix + "-group";
  std::string checkpoints =
      (std::filesystem::temp_directory_path() / UniqueName("autherr-chk")).string();
  ~Job() {
    std::error_code ignored;
    std::filesystem::remove_all(checkpoints, ignored);
    DeleteTopicsWithPrefix(prefix);  // the control topic and any changelog topics
  }
};

struct JobSpec {
  Role role = Role::kSource;
  std::string bootstrap;
  Properties properties;
  std::string topic;  // the source's input or the sink's output
  OffsetsInitializer start = OffsetsInitializer::Earliest();
  bool bounded = true;            // the source stops at the end offsets of its start
  bool with_group = true;         // the source reads (and commits) as Job::group
  bool keyed_count = false;       // a keyed count before the sink: state changelog topics
  std::vector<std::string> args;  // FromArgs flags, e.g. the Kerberos keytab login
};

struct Outcome {
  JobExecutionResult result;
  std::chrono::steady_clock::duration took{};
};

class CountWords final : public KeyedProcessFunction<std::string, std::string, std::string> {
 public:
  void Open() override {
    count_ = &GetRuntimeContext().GetState(ValueStateDescriptor<int64_t>("count"));
  }
  void ProcessElement(std::string word, Context&, Collector<std::string>& out) override {
    const int64_t count = count_->Value().value_or(0) + 1;
    count_->Update(count);
    out.Collect(word + ":" + std::to_string(count));
  }

 private:
  ValueState<int64_t>* count_ = nullptr;
};

std::vector<std::string> Numbered(int count) {
  std::vector<std::string> values;
  for (int i = 0; i < count; ++i) values.push_back("v" + std::to_string(i));
  return values;
}

// Runs the job with a restart strategy that would restart it three times, waiting at most
// kWithin for its end (then it is cancelled, and the test fails on the status).
Outcome RunJob(const JobSpec& spec, const Job& job) {
  std::vector<std::string> args = {"kafka_auth_errors_it"};
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  auto env = StreamExecutionEnvironment::FromArgs(static_cast<int>(argv.size()), argv.data());
  env->SetParallelism(1).SetHandleSignals(false);
  env->EnableCheckpointing(milliseconds(100));
  env->GetCheckpointConfig().SetCheckpointStorage(job.checkpoints);
  // A failure that a restart could fix would restart three times: result.restarts shows it.
  env->SetRestartStrategy(RestartStrategy::FixedDelay(3, milliseconds(100)));

  if (spec.role == Role::kSource) {
    auto builder = KafkaSource<std::string>::Builder();
    builder.SetBootstrapServers(spec.bootstrap)
        .SetTopics(spec.topic)
        .SetProperties(spec.properties)
        .SetStartingOffsets(spec.start)
        .SetValueOnlyDeserializer(SimpleStringSchema());
    if (spec.with_group) builder.SetGroupId(job.group);
    if (spec.bounded) builder.SetBounded(OffsetsInitializer::Latest());
    auto source = builder.Build();
    if (!source.ok()) throw std::runtime_error(source.status().ToString());
    g_seen.Reset();
    env->FromSource<std::string>(*source, WatermarkStrategy<std::string>::NoWatermarks(),
                                 "Kafka Source")
        .Uid("kafka-source")
        .AddSink(SeenSink(&g_seen));
  } else {
    auto builder = KafkaSink<std::string>::Builder();
    builder.SetBootstrapServers(spec.bootstrap)
        .SetRecordSerializer(KafkaRecordSerializationSchema<std::string>::Builder()
                                 .SetTopic(spec.topic)
                                 .SetValueSerializationSchema(SimpleStringSchema())
                                 .Build())
        .SetDeliveryGuarantee(spec.role == Role::kExactlyOnceSink ? DeliveryGuarantee::kExactlyOnce
                                                                  : DeliveryGuarantee::kAtLeastOnce)
        .SetProperties(spec.properties);
    if (spec.role == Role::kExactlyOnceSink) builder.SetTransactionalIdPrefix(job.prefix);
    auto sink = builder.Build();
    if (!sink.ok()) throw std::runtime_error(sink.status().ToString());
    DataStream<std::string> values = env->FromCollection(Numbered(10)).Uid("values");
    if (spec.keyed_count) {
      values = values.KeyBy([](const std::string& word) { return word; }).Process(CountWords());
      values.Uid("count-words");
    }
    values.SinkTo(*sink).Uid("kafka-sink");
  }
  auto start = std::chrono::steady_clock::now();
  Outcome outcome;
  outcome.result = ExecuteWithin(*env, job.name, Scaled(kWithin));
  outcome.took = std::chrono::steady_clock::now() - start;
  return outcome;
}

// The promise: the code, the cause and the fix in the message, within kWithin, no restart.
void ExpectStopsClearly(const Outcome& outcome, StatusCode code,
                        const std::vector<std::string>& cause,
                        const std::vector<std::string>& fix) {
  const JobExecutionResult& result = outcome.result;
  ASSERT_EQ(result.status, JobStatus::kFailed)
      << "expected a failed job within " << kWithin.count() << " s; status "
      << static_cast<int>(result.status) << ": " << result.failure.ToString();
  EXPECT_THAT(result.failure, StatusIs(code)) << result.failure.ToString();
  EXPECT_LT(outcome.took, Scaled(kWithin));
  EXPECT_EQ(result.restarts, 0) << "a login or ACL failure is not restartable";
  for (const std::string& text : cause) {
    EXPECT_THAT(result.failure.message(), HasSubstr(text)) << "the cause: " << text;
  }
  for (const std::string& text : fix) {
    EXPECT_THAT(result.failure.message(), HasSubstr(text)) << "the fix: " << text;
  }
}

// Nothing of a failed EXACTLY_ONCE job is visible to read_committed consumers, and no
// transaction of it is left open (which would hold back every read_committed consumer of the
// partition until the transaction timeout).
void ExpectNothingHalfCommitted(const std::string& topic, int partitions) {
  EXPECT_TRUE(ReadToEnd(topic, partitions, {{"isolation.level", "read_committed"}}).empty())
      << "the failed job committed records to " << topic;
  KafkaPtr committed = NewClient(RD_KAFKA_CONSUMER, {{"group.id", UniqueName("autherr-lso")},
                                                     {"isolation.level", "read_committed"}});
  KafkaPtr uncommitted = NewClient(RD_KAFKA_CONSUMER, {{"group.id", UniqueName("autherr-hw")},
                                                       {"isolation.level", "read_uncommitted"}});
  const auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(30));
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t lso = -1;
    int64_t hw = -2;
    // The abort markers of the job's transactions may still be on their way: the last stable
    // offset reaches the high watermark once they are written.
    while (std::chrono::steady_clock::now() < deadline) {
      ASSERT_EQ(
          rd_kafka_query_watermark_offsets(committed.get(), topic.c_str(), p, &low, &lso, 10'000),
          RD_KAFKA_RESP_ERR_NO_ERROR);
      ASSERT_EQ(
          rd_kafka_query_watermark_offsets(uncommitted.get(), topic.c_str(), p, &low, &hw, 10'000),
          RD_KAFKA_RESP_ERR_NO_ERROR);
      if (lso == hw) break;
      std::this_thread::sleep_for(milliseconds(100));  // polling the broker, not a sync
    }
    EXPECT_EQ(lso, hw) << "a transaction of the failed job is still open on " << topic << "-" << p;
  }
}

void Produce(const std::string& topic, int count) {
  KafkaPtr producer = NewClient(RD_KAFKA_PRODUCER, {});
  std::vector<std::pair<std::string, std::string>> records;
  for (const std::string& value : Numbered(count)) records.emplace_back("", value);
  ProduceAndWait(producer.get(), topic, 0, records);
}

// ---- Logins ----

enum class Ticket { kNone, kValid, kExpired };

struct Login {
  std::string name;
  std::string (*bootstrap)();
  Properties (*properties)();
  Ticket ticket = Ticket::kNone;
  std::vector<std::string> cause;
  std::vector<std::string> fix;
};

std::string SslAsLocalhost() {
  // The broker's certificate names 127.0.0.1 only: "localhost" is a host name mismatch.
  std::string servers = SslBootstrapServers();
  if (auto at = servers.find("127.0.0.1"); at != std::string::npos)
    servers.replace(at, 9, "localhost");
  return servers;
}

Properties Plain(const std::string& user, const std::string& password) {
  return {{"security.protocol", "SASL_PLAINTEXT"},
          {"sasl.mechanism", "PLAIN"},
          {"sasl.username", user},
          {"sasl.password", password}};
}

Properties Kerberos(std::optional<std::string> keytab = std::nullopt,
                    std::optional<std::string> principal = std::nullopt) {
  Properties properties = {{"security.protocol", "SASL_PLAINTEXT"},
                           {"sasl.kerberos.service.name", "kafka"}};
  if (keytab) properties["sasl.kerberos.keytab"] = *keytab;
  if (principal) properties["sasl.kerberos.principal"] = *principal;
  return properties;
}

Properties Tls(const std::string& ca) {
  return {{"security.protocol", "SSL"}, {"ssl.ca.location", ca}};
}

const char* kMissingKeytab = "/nonexistent-sluice-dir/alice.keytab";

std::vector<Login> Logins() {
  return {
      {"PlainWrongPassword",
       &SaslBootstrapServers,
       [] { return Plain("alice", "not-alice-secret"); },
       Ticket::kNone,
       {"Invalid username or password", "alice"},
       {"sasl.password"}},
      {"PlainUnknownUser",
       &SaslBootstrapServers,
       [] { return Plain("mallory", "whatever"); },
       Ticket::kNone,
       {"Invalid username or password", "mallory"},
       {"sasl.username"}},
      {"ScramWrongPassword",
       &ScramBootstrapServers,
       [] {
         Properties properties = Plain("alice", "not-alice-secret");
         properties["sasl.mechanism"] = "SCRAM-SHA-256";
         return properties;
       },
       Ticket::kNone,
       {"invalid credentials", "SCRAM-SHA-256"},
       {"sasl.password"}},
      {"KerberosMissingTicket",
       &GssapiBootstrapServers,
       [] { return Kerberos(); },
       Ticket::kNone,
       {"No Kerberos credentials available"},
       {"kinit", "--security.kerberos.login.keytab"}},
      {"KerberosExpiredTicket",
       &GssapiBootstrapServers,
       [] { return Kerberos(); },
       Ticket::kExpired,
       {"expired"},
       {"kinit", "--security.kerberos.login.keytab"}},
      {"KerberosMissingKeytab",
       &GssapiBootstrapServers,
       [] { return Kerberos(kMissingKeytab, "alice@SLUICE.TEST"); },
       Ticket::kNone,
       {"keytab", "No such file or directory"},
       {"sasl.kerberos.keytab"}},
      {"KerberosUnknownPrincipal",
       &GssapiBootstrapServers,
       [] { return Kerberos(BrokerFile("kerberos/alice.keytab"), "carol@SLUICE.TEST"); },
       Ticket::kNone,
       {"carol@SLUICE.TEST"},
       {"klist -k"}},
      {"TlsUntrustedCertificate",
       &SslBootstrapServers,
       [] { return Tls(BrokerFile("tls/stranger.crt")); },
       Ticket::kNone,
       {"certificate", "not trusted"},
       {"ssl.ca.location"}},
      {"TlsHostNameMismatch",
       &SslAsLocalhost,
       [] { return Tls(BrokerFile("tls/ca.crt")); },
       Ticket::kNone,
       {"localhost", "host name"},
       {"ssl.endpoint.identification.algorithm"}},
      {"TlsClientCertificateRefused",
       &MtlsBootstrapServers,
       [] {
         Properties properties = Tls(BrokerFile("tls/ca.crt"));
         properties["ssl.certificate.location"] = BrokerFile("tls/stranger.crt");
         properties["ssl.key.location"] = BrokerFile("tls/stranger.key");
         return properties;
       },
       Ticket::kNone,
       {"certificate unknown"},
       {"ssl.certificate.location"}},
  };
}

// gtest prints parameters of failed tests: the case's name, not its bytes.
void PrintTo(const Login& login, std::ostream* out) { *out << login.name; }

// Passwords, and where a keytab lives, stay out of messages (and so out of logs).
void ExpectNoSecretShown(const Status& failure, const Properties& properties) {
  for (const auto& [key, value] : properties) {
    if (key.find("password") != std::string::npos || key == "sasl.kerberos.keytab") {
      EXPECT_THAT(failure.message(), Not(HasSubstr(value))) << key;
    }
  }
}

// A private ticket cache for every test; kinit as the case asks.
class KerberosEnv {
 public:
  explicit KerberosEnv(Ticket ticket) {
    dir_ = std::filesystem::temp_directory_path() / UniqueName("autherr-krb5cc");
    std::filesystem::create_directories(dir_);
    if (setenv("KRB5_CONFIG", BrokerFile("kerberos/krb5.conf").c_str(), 1) != 0 ||
        setenv("KRB5CCNAME", ("FILE:" + (dir_ / "ccache").string()).c_str(), 1) != 0) {
      throw std::runtime_error("setenv failed");
    }
    if (ticket == Ticket::kNone) return;
    const std::string keytab = BrokerFile("kerberos/alice.keytab");
    // An expired ticket: one that lives 2 s, then the wait until klist says it is gone.
    const std::string kinit = std::string("kinit ") + (ticket == Ticket::kExpired ? "-l 2s " : "") +
                              "-k -t '" + keytab + "' alice";
    if (std::system(kinit.c_str()) != 0) throw std::runtime_error("failed: " + kinit);
    if (ticket == Ticket::kExpired) {
      const auto deadline = std::chrono::steady_clock::now() + seconds(30);
      // klist -s: exit status 0 while the cache holds a ticket that has not expired.
      while (std::system("klist -s") == 0) {
        if (std::chrono::steady_clock::now() > deadline)
          throw std::runtime_error("the 2 s ticket did not expire");
        std::this_thread::sleep_for(milliseconds(200));  // waiting for the clock, not a sync
      }
    }
  }
  ~KerberosEnv() {
    internal::InstallKerberosLogin(std::nullopt);
    unsetenv("KRB5_CONFIG");
    unsetenv("KRB5CCNAME");
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

 private:
  std::filesystem::path dir_;
};

struct LoginCase {
  Login login;
  Role role;
};

void PrintTo(const LoginCase& c, std::ostream* out) {
  *out << c.login.name << " " << RoleName(c.role);
}

std::string LoginCaseName(const ::testing::TestParamInfo<LoginCase>& info) {
  return info.param.login.name + "_" + RoleName(info.param.role);
}

std::vector<LoginCase> LoginCases() {
  std::vector<LoginCase> cases;
  for (const Login& login : Logins()) {
    for (Role role : {Role::kSource, Role::kAtLeastOnceSink, Role::kExactlyOnceSink}) {
      cases.push_back({login, role});
    }
  }
  return cases;
}

class RefusedLoginIT : public ::testing::TestWithParam<LoginCase> {};

TEST_P(RefusedLoginIT, StopsTheJobNamingTheCauseAndTheFix) {
  const LoginCase& c = GetParam();
  KerberosEnv kerberos(c.login.ticket);
  Job job;
  ScopedTopic topic("autherr-login", 1);
  if (c.role == Role::kSource) Produce(topic.name(), 5);
  JobSpec spec;
  spec.role = c.role;
  spec.bootstrap = c.login.bootstrap();
  spec.properties = c.login.properties();
  spec.topic = topic.name();
  Outcome outcome = RunJob(spec, job);
  ExpectStopsClearly(outcome, StatusCode::kUnauthenticated, c.login.cause, c.login.fix);
  ExpectNoSecretShown(outcome.result.failure, spec.properties);
  if (c.role == Role::kExactlyOnceSink) ExpectNothingHalfCommitted(topic.name(), 1);
}

INSTANTIATE_TEST_SUITE_P(Logins, RefusedLoginIT, ::testing::ValuesIn(LoginCases()), LoginCaseName);

// The admin call that creates the state changelog topics (a client of its own) fails the same
// way. Through a job it is never the first client to fail (the transactional producers come
// first, see RefusedLoginIT), so it is called directly here.
class RefusedLoginAdminIT : public ::testing::TestWithParam<Login> {};

TEST_P(RefusedLoginAdminIT, ChangelogTopicCreationNamesTheCauseAndTheFix) {
  const Login& login = GetParam();
  KerberosEnv kerberos(login.ticket);
  Properties properties = login.properties();
  properties["bootstrap.servers"] = login.bootstrap();
  const std::string name = UniqueName("autherr-admin") + ".changelog";
  kafka::internal::ChangelogTopicOptions options;
  options.timeout = Scaled(kWithin);
  auto start = std::chrono::steady_clock::now();
  Status status = kafka::internal::EnsureChangelogTopics(properties, {{name, 1}}, options);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_THAT(status, StatusIs(StatusCode::kUnauthenticated)) << status.ToString();
  EXPECT_LT(took, Scaled(kWithin));
  for (const std::string& text : login.cause) EXPECT_THAT(status.message(), HasSubstr(text));
  for (const std::string& text : login.fix) EXPECT_THAT(status.message(), HasSubstr(text));
  ExpectNoSecretShown(status, properties);
  EXPECT_TRUE(TopicsWithPrefix(name).empty());
}

INSTANTIATE_TEST_SUITE_P(Logins, RefusedLoginAdminIT, ::testing::ValuesIn(Logins()),
                         [](const ::testing::TestParamInfo<Login>& param) {
                           return param.param.name;
                         });

// ---- ACLs ----

struct AdminOptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* options) const noexcept {
    rd_kafka_AdminOptions_destroy(options);
  }
};

struct Acl {
  rd_kafka_ResourceType_t type;
  std::string name;
  rd_kafka_ResourcePatternType_t pattern;
  rd_kafka_AclOperation_t operation;
};

// Grants bob ACLs for one test and revokes them at its end. The admin logs in over PLAIN (a
// super user). Creating returns once the broker's authorizer shows every ACL.
class ScopedAcls {
 public:
  explicit ScopedAcls(std::vector<Acl> acls) : acls_(std::move(acls)) {
    admin_ = NewClient(RD_KAFKA_PRODUCER, Admin());
    std::vector<rd_kafka_AclBinding_t*> bindings;
    char error[512];
    for (const Acl& acl : acls_) {
      rd_kafka_AclBinding_t* binding = rd_kafka_AclBinding_new(
          acl.type, acl.name.c_str(), acl.pattern, "User:bob", "*", acl.operation,
          RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, error, sizeof error);
      if (binding == nullptr) throw std::runtime_error(std::string("AclBinding: ") + error);
      bindings.push_back(binding);
    }
    rd_kafka_queue_t* queue = rd_kafka_queue_new(admin_.get());
    rd_kafka_CreateAcls(admin_.get(), bindings.data(), bindings.size(), nullptr, queue);
    rd_kafka_AclBinding_destroy_array(bindings.data(), bindings.size());
    std::string failure = Await(queue, [](rd_kafka_event_t* event) {
      size_t count = 0;
      const rd_kafka_acl_result_t** results =
          rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(event), &count);
      for (size_t i = 0; i < count; ++i) {
        if (const rd_kafka_error_t* e = rd_kafka_acl_result_error(results[i]))
          return std::string(rd_kafka_error_string(e));
      }
      return std::string();
    });
    rd_kafka_queue_destroy(queue);
    if (!failure.empty()) throw std::runtime_error("CreateAcls: " + failure);
    // The controller has them; the broker's authorizer follows its metadata log shortly.
    const auto deadline = std::chrono::steady_clock::now() + Scaled(seconds(30));
    while (CountBobsAcls() < acls_.size()) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the broker never showed bob's new ACLs");
      std::this_thread::sleep_for(milliseconds(50));  // polling the broker, not a sync
    }
  }
  ~ScopedAcls() {
    try {
      std::vector<rd_kafka_AclBindingFilter_t*> filters;
      char error[512];
      for (const Acl& acl : acls_) {
        filters.push_back(rd_kafka_AclBindingFilter_new(
            acl.type, acl.name.c_str(), acl.pattern, "User:bob", "*", acl.operation,
            RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, error, sizeof error));
      }
      rd_kafka_queue_t* queue = rd_kafka_queue_new(admin_.get());
      rd_kafka_DeleteAcls(admin_.get(), filters.data(), filters.size(), nullptr, queue);
      for (rd_kafka_AclBindingFilter_t* filter : filters) rd_kafka_AclBinding_destroy(filter);
      (void)Await(queue, [](rd_kafka_event_t*) { return std::string(); });
      rd_kafka_queue_destroy(queue);
    } catch (...) {
      // A clean-up failure must not hide the test's own result; the names are unique anyway.
    }
  }
  ScopedAcls(const ScopedAcls&) = delete;
  ScopedAcls& operator=(const ScopedAcls&) = delete;

  static Properties Admin() {
    Properties properties = Plain("admin", "admin-secret");
    properties["bootstrap.servers"] = SaslBootstrapServers();
    return properties;
  }

 private:
  template <typename Check>
  std::string Await(rd_kafka_queue_t* queue, Check check) {
    rd_kafka_event_t* event =
        rd_kafka_queue_poll(queue, static_cast<int>(Scaled(seconds(30)).count()));
    if (event == nullptr) return "no answer";
    std::string failure = rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR
                              ? std::string(rd_kafka_event_error_string(event))
                              : check(event);
    rd_kafka_event_destroy(event);
    return failure;
  }

  size_t CountBobsAcls() {
    char error[512];
    size_t found = 0;
    for (const Acl& acl : acls_) {
      rd_kafka_AclBindingFilter_t* filter = rd_kafka_AclBindingFilter_new(
          acl.type, acl.name.c_str(), acl.pattern, "User:bob", "*", acl.operation,
          RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, error, sizeof error);
      rd_kafka_queue_t* queue = rd_kafka_queue_new(admin_.get());
      rd_kafka_DescribeAcls(admin_.get(), filter, nullptr, queue);
      rd_kafka_AclBinding_destroy(filter);
      rd_kafka_event_t* event =
          rd_kafka_queue_poll(queue, static_cast<int>(Scaled(seconds(30)).count()));
      if (event != nullptr && rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t count = 0;
        rd_kafka_DescribeAcls_result_acls(rd_kafka_event_DescribeAcls_result(event), &count);
        if (count > 0) ++found;
      }
      if (event != nullptr) rd_kafka_event_destroy(event);
      rd_kafka_queue_destroy(queue);
    }
    return found;
  }

  std::vector<Acl> acls_;
  KafkaPtr admin_;
};

Acl TopicAcl(const std::string& name, rd_kafka_AclOperation_t operation,
             rd_kafka_ResourcePatternType_t pattern = RD_KAFKA_RESOURCE_PATTERN_LITERAL) {
  return {RD_KAFKA_RESOURCE_TOPIC, name, pattern, operation};
}
Acl GroupAcl(const std::string& name, rd_kafka_AclOperation_t operation,
             rd_kafka_ResourcePatternType_t pattern = RD_KAFKA_RESOURCE_PATTERN_LITERAL) {
  return {RD_KAFKA_RESOURCE_GROUP, name, pattern, operation};
}
// bob's WRITE and DESCRIBE on the transactional ids "<prefix>*", through the Java Admin client
// (TransactionalIdAcl in kafka_test_env.h: librdkafka 2.0.2 cannot name that resource type).
class ScopedTransactionalIdAcl {
 public:
  explicit ScopedTransactionalIdAcl(std::string prefix) : prefix_(std::move(prefix)) {
    TransactionalIdAcl("add", "User:bob", prefix_);
  }
  ~ScopedTransactionalIdAcl() {
    try {
      TransactionalIdAcl("remove", "User:bob", prefix_);
    } catch (...) {
      // Clean-up only: the prefix is unique to the test.
    }
  }
  ScopedTransactionalIdAcl(const ScopedTransactionalIdAcl&) = delete;
  ScopedTransactionalIdAcl& operator=(const ScopedTransactionalIdAcl&) = delete;

 private:
  std::string prefix_;
};

// bob over mTLS: the principal User:bob.
Properties Bob() {
  return {{"security.protocol", "SSL"},
          {"ssl.ca.location", BrokerFile("tls/ca.crt")},
          {"ssl.certificate.location", BrokerFile("tls/bob.crt")},
          {"ssl.key.location", BrokerFile("tls/bob.key")}};
}

JobSpec BobSpec(Role role, const std::string& topic) {
  JobSpec spec;
  spec.role = role;
  spec.bootstrap = MtlsBootstrapServers();
  spec.properties = Bob();
  spec.topic = topic;
  return spec;
}

// What an EXACTLY_ONCE sink needs besides its output topic and its transactional ids
// (ScopedTransactionalIdAcl): the control topic "<prefix>.sluice-control" (created, written,
// read back at recovery) and the changelog topics "<prefix>.<uid>.changelog".
std::vector<Acl> ExactlyOnceAcls(const Job& job, bool create_topics = true) {
  std::vector<Acl> acls;
  for (rd_kafka_AclOperation_t operation :
       {RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_ACL_OPERATION_WRITE, RD_KAFKA_ACL_OPERATION_DESCRIBE,
        RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS}) {
    acls.push_back(TopicAcl(job.prefix, operation, RD_KAFKA_RESOURCE_PATTERN_PREFIXED));
  }
  if (create_topics) {
    acls.push_back(
        TopicAcl(job.prefix, RD_KAFKA_ACL_OPERATION_CREATE, RD_KAFKA_RESOURCE_PATTERN_PREFIXED));
  }
  acls.push_back(
      GroupAcl(job.prefix, RD_KAFKA_ACL_OPERATION_READ, RD_KAFKA_RESOURCE_PATTERN_PREFIXED));
  return acls;
}

std::vector<Acl> Plus(std::vector<Acl> acls, const std::vector<Acl>& more) {
  acls.insert(acls.end(), more.begin(), more.end());
  return acls;
}

TEST(MissingAclIT, SourceWithoutReadOnTheTopic) {
  Job job;
  ScopedTopic topic("autherr-noread", 1);
  Produce(topic.name(), 5);
  ScopedAcls acls({GroupAcl(job.group, RD_KAFKA_ACL_OPERATION_READ)});
  Outcome outcome = RunJob(BobSpec(Role::kSource, topic.name()), job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"TOPIC_AUTHORIZATION_FAILED", topic.name()},
                     {"grant", "READ on topic '" + topic.name() + "'"});
}

TEST(MissingAclIT, SourceWithDescribeButWithoutReadOnTheTopic) {
  Job job;
  ScopedTopic topic("autherr-describeonly", 1);
  Produce(topic.name(), 5);
  ScopedAcls acls({GroupAcl(job.group, RD_KAFKA_ACL_OPERATION_READ),
                   TopicAcl(topic.name(), RD_KAFKA_ACL_OPERATION_DESCRIBE)});
  Outcome outcome = RunJob(BobSpec(Role::kSource, topic.name()), job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"TOPIC_AUTHORIZATION_FAILED", topic.name()},
                     {"grant", "READ on topic '" + topic.name() + "'"});
}

TEST(MissingAclIT, SourceWithoutReadOnTheGroupStartingFromCommittedOffsets) {
  Job job;
  ScopedTopic topic("autherr-nogroup", 1);
  Produce(topic.name(), 5);
  ScopedAcls acls({TopicAcl(topic.name(), RD_KAFKA_ACL_OPERATION_READ)});
  JobSpec spec = BobSpec(Role::kSource, topic.name());
  spec.start = OffsetsInitializer::Committed(OffsetResetStrategy::kEarliest);
  Outcome outcome = RunJob(spec, job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"GROUP_AUTHORIZATION_FAILED", job.group},
                     {"grant", "READ on group '" + job.group + "'"});
}

// DESCRIBE on the group lets the reader find the group's coordinator; its first offset commit
// after a checkpoint is refused.
TEST(MissingAclIT, SourceWithDescribeButWithoutReadOnTheGroupCommittingOnCheckpoints) {
  Job job;
  ScopedTopic topic("autherr-nogroup-commit", 1);
  Produce(topic.name(), 5);
  ScopedAcls acls({TopicAcl(topic.name(), RD_KAFKA_ACL_OPERATION_READ),
                   GroupAcl(job.group, RD_KAFKA_ACL_OPERATION_DESCRIBE)});
  JobSpec spec = BobSpec(Role::kSource, topic.name());
  spec.bounded = false;  // runs until the first checkpoint's commit is refused
  Outcome outcome = RunJob(spec, job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"GROUP_AUTHORIZATION_FAILED", "committing offsets", job.group},
                     {"grant", "READ on group '" + job.group + "'"});
}

TEST(MissingAclIT, AtLeastOnceSinkWithoutWriteOnTheOutput) {
  Job job;
  ScopedTopic out("autherr-nowrite", 1);
  ScopedAcls acls({TopicAcl(job.prefix + "-unrelated", RD_KAFKA_ACL_OPERATION_READ)});
  Outcome outcome = RunJob(BobSpec(Role::kAtLeastOnceSink, out.name()), job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"TOPIC_AUTHORIZATION_FAILED", out.name()},
                     {"grant", "WRITE", "on topic '" + out.name() + "'"});
}

TEST(MissingAclIT, AtLeastOnceSinkWithDescribeButWithoutWriteOnTheOutput) {
  Job job;
  ScopedTopic out("autherr-describe-nowrite", 1);
  ScopedAcls acls({TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_DESCRIBE)});
  Outcome outcome = RunJob(BobSpec(Role::kAtLeastOnceSink, out.name()), job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied, {out.name()},
                     {"grant", "WRITE", "on topic '" + out.name() + "'"});
}

TEST(MissingAclIT, ExactlyOnceSinkWithoutWriteOnTheOutput) {
  Job job;
  ScopedTopic out("autherr-eos-nowrite", 1);
  ScopedTransactionalIdAcl ids(job.prefix);
  ScopedAcls acls(ExactlyOnceAcls(job));
  Outcome outcome = RunJob(BobSpec(Role::kExactlyOnceSink, out.name()), job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"TOPIC_AUTHORIZATION_FAILED", out.name()},
                     {"grant", "WRITE", "on topic '" + out.name() + "'"});
  ExpectNothingHalfCommitted(out.name(), 1);
}

TEST(MissingAclIT, ExactlyOnceSinkWithoutTheTransactionalIdAcl) {
  Job job;
  ScopedTopic out("autherr-eos-notxn", 1);
  ScopedAcls acls(
      Plus(ExactlyOnceAcls(job), {TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_WRITE),
                                  TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_DESCRIBE)}));
  Outcome outcome = RunJob(BobSpec(Role::kExactlyOnceSink, out.name()), job);
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"TRANSACTIONAL_ID_AUTHORIZATION_FAILED", job.prefix},
                     {"grant", "WRITE", "transactional id"});
  ExpectNothingHalfCommitted(out.name(), 1);
}

// Admin calls through the job: the control topic's creation.
TEST(MissingAclIT, ExactlyOnceSinkWithoutCreateForItsControlTopic) {
  Job job;
  ScopedTopic out("autherr-eos-nocreate", 1);
  ScopedTransactionalIdAcl ids(job.prefix);
  ScopedAcls acls(Plus(ExactlyOnceAcls(job, /*create_topics=*/false),
                       {TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_WRITE),
                        TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_DESCRIBE)}));
  Outcome outcome = RunJob(BobSpec(Role::kExactlyOnceSink, out.name()), job);
  const std::string control = job.prefix + ".sluice-control";
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied,
                     {"TOPIC_AUTHORIZATION_FAILED", control},
                     {"grant", "CREATE on topic '" + control + "'"});
  ExpectNothingHalfCommitted(out.name(), 1);
}

// Admin calls through the job: the state changelog topics' creation (the control topic exists).
TEST(MissingAclIT, ExactlyOnceSinkWithoutCreateForTheChangelogTopics) {
  Job job;
  ScopedTopic out("autherr-eos-nochangelog", 1);
  CreateTopic(job.prefix + ".sluice-control", 1, {{"cleanup.policy", "compact"}});
  ScopedTransactionalIdAcl ids(job.prefix);
  ScopedAcls acls(Plus(ExactlyOnceAcls(job, /*create_topics=*/false),
                       {TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_WRITE),
                        TopicAcl(out.name(), RD_KAFKA_ACL_OPERATION_DESCRIBE)}));
  JobSpec spec = BobSpec(Role::kExactlyOnceSink, out.name());
  spec.keyed_count = true;
  Outcome outcome = RunJob(spec, job);
  // The first stateful operator's changelog is the first refused (the collection source's).
  ExpectStopsClearly(outcome, StatusCode::kPermissionDenied, {".changelog", "may not create it"},
                     {"grant", "CREATE on topic '" + job.prefix + "."});
  ExpectNothingHalfCommitted(out.name(), 1);
}

}  // namespace
}  // namespace sluice::testing
