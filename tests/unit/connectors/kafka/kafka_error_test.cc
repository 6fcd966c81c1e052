// librdkafka error codes -> StatusCode: the code decides whether a failed job restarts, so the
// classification of the errors a Kafka job meets is pinned here.
#include "connectors/kafka/kafka_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <map>
#include <string>
#include <vector>

#include <sluice/testing/status_matchers.h>

using ::sluice::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace sluice::kafka::internal {
namespace {

struct Row {
  rd_kafka_resp_err_t err;
  StatusCode code;
};

TEST(KafkaErrorTest, EachErrorAJobMeetsHasTheCodeThatDecidesItsRestart) {
  const std::vector<Row> rows = {
      // No restart can fix these.
      {RD_KAFKA_RESP_ERR__AUTHENTICATION, StatusCode::kUnauthenticated},
      {RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, StatusCode::kUnauthenticated},
      {RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM, StatusCode::kUnauthenticated},
      {RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, StatusCode::kPermissionDenied},
      {RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, StatusCode::kPermissionDenied},
      {RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, StatusCode::kPermissionDenied},
      {RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, StatusCode::kPermissionDenied},
      {RD_KAFKA_RESP_ERR__FENCED, StatusCode::kFenced},
      {RD_KAFKA_RESP_ERR_PRODUCER_FENCED, StatusCode::kFenced},
      {RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, StatusCode::kFenced},
      {RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, StatusCode::kInvalidArgument},
      {RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, StatusCode::kFailedPrecondition},
      // A restart may help with these.
      {RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, StatusCode::kNotFound},
      {RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, StatusCode::kNotFound},
      {RD_KAFKA_RESP_ERR__TIMED_OUT, StatusCode::kTimedOut},
      {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, StatusCode::kTimedOut},
      {RD_KAFKA_RESP_ERR__TRANSPORT, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, StatusCode::kUnavailable},
      {RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, StatusCode::kAborted},  // unclassified
      {RD_KAFKA_RESP_ERR__STATE, StatusCode::kAborted},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(StatusCodeOf(row.err), row.code) << rd_kafka_err2name(row.err);
  }
  EXPECT_EQ(StatusCodeOf(RD_KAFKA_RESP_ERR_NO_ERROR), StatusCode::kOk);
  EXPECT_FALSE(IsRestartable(StatusCodeOf(RD_KAFKA_RESP_ERR__AUTHENTICATION)));
  EXPECT_TRUE(IsRestartable(StatusCodeOf(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)));
}

TEST(KafkaErrorTest, ARefusedLoginNamesTheBrokersReasonAndTheSettingsToCheck) {
  Status status = KafkaErrorStatus(
      RD_KAFKA_RESP_ERR__AUTHENTICATION, "Kafka source: the brokers refused the client",
      "SASL authentication error: Authentication failed: Invalid username or password");
  EXPECT_THAT(status, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(status.message(),
              StartsWith("Kafka source: the brokers refused the client: "
                         "_AUTHENTICATION (Local: Authentication failure): SASL "
                         "authentication error: Authentication failed: Invalid username "
                         "or password; check sasl.username and sasl.password"));
}

// Kafka 4 brokers refuse the SCRAM proof of librdkafka < 2.6.1 as invalid credentials: the
// message must not send a user with the right password hunting for a typo.
TEST(KafkaErrorTest, ARefusedScramLoginNamesTheLibrdkafkaBugWhenThisLibrdkafkaHasIt) {
  Status status = KafkaErrorStatus(
      RD_KAFKA_RESP_ERR__AUTHENTICATION, "KafkaSink: the brokers refused the client",
      "SASL authentication error: Authentication failed during authentication due to invalid "
      "credentials with SASL mechanism SCRAM-SHA-256");
  EXPECT_THAT(status, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(status.message(), HasSubstr("check sasl.username and sasl.password"));
  if (rd_kafka_version() < 0x020601ff) {
    EXPECT_THAT(status.message(),
                HasSubstr("this process runs librdkafka " + std::string(rd_kafka_version_str())));
    EXPECT_THAT(status.message(), HasSubstr("fixed in librdkafka 2.6.1"));
  } else {
    EXPECT_THAT(status.message(), Not(HasSubstr("librdkafka 2.6.1")));
  }
  // A PLAIN refusal is a wrong password, whatever the librdkafka.
  EXPECT_THAT(KafkaErrorStatus(RD_KAFKA_RESP_ERR__AUTHENTICATION, "x",
                               "Authentication failed: Invalid username or password")
                  .message(),
              Not(HasSubstr("librdkafka 2.6.1")));
}

TEST(KafkaErrorTest, ARestartableErrorCarriesNoRemedyAndNoDetailWhenThereIsNone) {
  Status status = KafkaErrorStatus(RD_KAFKA_RESP_ERR__TRANSPORT, "KafkaSink: flushing");
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(status.message(), "KafkaSink: flushing: _TRANSPORT (Local: Broker transport failure)");
  EXPECT_TRUE(RemedyFor(RD_KAFKA_RESP_ERR__TRANSPORT).empty());
}

TEST(KafkaErrorTest, RemediesNameTheSettingToChange) {
  EXPECT_NE(std::string(RemedyFor(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)).find("message.max.bytes"),
            std::string::npos);
  EXPECT_NE(std::string(RemedyFor(RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)).find("auto.offset.reset"),
            std::string::npos);
  EXPECT_NE(std::string(RemedyFor(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)).find("ACL"),
            std::string::npos);
}

// ---- Client-level errors: the cause and the fix for the client's security setup ----

ClientSecurity Security(std::map<std::string, std::string> properties) {
  properties.emplace("bootstrap.servers", "broker:9093");
  return SecurityOf(properties);
}

constexpr std::string_view kVerifyFailed =
    "ssl://broker:9093/bootstrap: SSL handshake failed: error:0A000086:SSL "
    "routines::certificate verify failed: broker certificate could not be verified";

TEST(ClientErrorTest, ACertificateThatFailsTheTlsHandshakeIsNotRetriedForever) {
  EXPECT_EQ(ClientErrorCode(RD_KAFKA_RESP_ERR__SSL, kVerifyFailed), StatusCode::kUnauthenticated);
  EXPECT_EQ(ClientErrorCode(RD_KAFKA_RESP_ERR__TRANSPORT,
                            "ssl://b:9093/bootstrap: error:0A000086:SSL routines::certificate "
                            "verify failed (after 4ms in state SSL_HANDSHAKE)"),
            StatusCode::kUnauthenticated);
  // The broker refused our certificate: a TLS alert.
  for (std::string_view alert : {"sslv3 alert certificate unknown: SSL alert number 46",
                                 "sslv3 alert bad certificate: SSL alert number 42",
                                 "tlsv1 alert unknown ca: SSL alert number 48",
                                 "tlsv13 alert certificate required: SSL alert number 116"}) {
    EXPECT_EQ(
        ClientErrorCode(RD_KAFKA_RESP_ERR__TRANSPORT, "Receive failed: " + std::string(alert)),
        StatusCode::kUnauthenticated)
        << alert;
  }
  // A broker going away is broker trouble, and restartable as before.
  EXPECT_EQ(ClientErrorCode(RD_KAFKA_RESP_ERR__TRANSPORT, "Connection refused"),
            StatusCode::kUnavailable);
  EXPECT_EQ(ClientErrorCode(RD_KAFKA_RESP_ERR__SSL, "SSL handshake failed: unexpected eof"),
            StatusCode::kAborted);
  EXPECT_TRUE(IsRestartable(ClientErrorCode(RD_KAFKA_RESP_ERR__SSL, "unexpected eof")));
  EXPECT_EQ(ClientErrorCode(RD_KAFKA_RESP_ERR__AUTHENTICATION, "whatever"),
            StatusCode::kUnauthenticated);
}

TEST(ClientErrorTest, APlainOrScramRefusalNamesTheUserAndTheCredentialsToCheck) {
  Status plain = ClientErrorStatus(
      RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting",
      "SASL authentication error: Authentication failed: Invalid username or password",
      Security({{"security.protocol", "sasl_plaintext"},
                {"sasl.mechanism", "PLAIN"},
                {"sasl.username", "alice"},
                {"sasl.password", "hunter2"}}));
  EXPECT_THAT(plain, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(plain.message(),
              StartsWith("connecting: _AUTHENTICATION (Local: Authentication failure): SASL "
                         "authentication error: Authentication failed: Invalid username or "
                         "password; the broker refused the login of sasl.username 'alice' with "
                         "sasl.mechanism PLAIN: check sasl.username and sasl.password"));
  EXPECT_THAT(plain.message(), HasSubstr("security.protocol (SASL_PLAINTEXT)"));
  EXPECT_THAT(plain.message(), Not(HasSubstr("hunter2")));
  Status scram =
      ClientErrorStatus(RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting", "invalid credentials",
                        Security({{"security.protocol", "SASL_SSL"},
                                  {"sasl.mechanisms", "SCRAM-SHA-512"},
                                  {"sasl.username", "bob"}}));
  EXPECT_THAT(scram.message(), HasSubstr("sasl.username 'bob' with sasl.mechanism SCRAM-SHA-512"));
  EXPECT_EQ(scram.message().find("librdkafka 2.6.1") != std::string::npos,
            rd_kafka_version() < 0x020601ff);
}

TEST(ClientErrorTest, AKerberosRefusalSaysWhatIsMissingAndHowToGetIt) {
  const ClientSecurity cache =
      Security({{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.kerberos.service.name", "kafka"}});
  ASSERT_EQ(setenv("KRB5CCNAME", "FILE:/tmp/cc-of-test", 1), 0);
  Status none = ClientErrorStatus(
      RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting",
      "GSSAPI Error: No credentials were supplied (No Kerberos credentials available)", cache);
  EXPECT_THAT(none, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(none.message(), HasSubstr("no Kerberos ticket in KRB5CCNAME=FILE:/tmp/cc-of-test"));
  EXPECT_THAT(none.message(), HasSubstr("run kinit"));
  EXPECT_THAT(none.message(), HasSubstr("--security.kerberos.login.keytab"));
  Status expired = ClientErrorStatus(RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting",
                                     "GSSAPI Error: (Ticket expired)", cache);
  EXPECT_THAT(expired.message(), HasSubstr("has expired: renew it (kinit"));
  unsetenv("KRB5CCNAME");

  const std::string missing = "/nonexistent-dir/secret-place.keytab";
  Status unreadable = ClientErrorStatus(
      RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting", "No Kerberos credentials available",
      Security({{"security.protocol", "SASL_PLAINTEXT"},
                {"sasl.kerberos.keytab", missing},
                {"sasl.kerberos.principal", "alice@EXAMPLE.COM"}}));
  EXPECT_THAT(unreadable.message(),
              HasSubstr("the keytab that sasl.kerberos.keytab names cannot be read (No such file "
                        "or directory)"));
  EXPECT_THAT(unreadable.message(), HasSubstr("alice@EXAMPLE.COM"));
  EXPECT_THAT(unreadable.message(), Not(HasSubstr("secret-place"))) << "where a secret lives";

  // A keytab that exists but holds no keys of the principal.
  Status no_keys = ClientErrorStatus(RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting",
                                     "No Kerberos credentials available",
                                     Security({{"security.protocol", "SASL_PLAINTEXT"},
                                               {"sasl.kerberos.keytab", "/dev/null"},
                                               {"sasl.kerberos.principal", "carol@EXAMPLE.COM"}}));
  EXPECT_THAT(no_keys.message(), HasSubstr("got no ticket for carol@EXAMPLE.COM"));
  EXPECT_THAT(no_keys.message(), HasSubstr("klist -k"));

  Status no_server = ClientErrorStatus(RD_KAFKA_RESP_ERR__AUTHENTICATION, "connecting",
                                       "Server not found in Kerberos database", cache);
  EXPECT_THAT(no_server.message(), HasSubstr("sasl.kerberos.service.name"));
}

TEST(ClientErrorTest, ATlsRefusalNamesTheCertificateProblemAndTheSettingToFix) {
  const ClientSecurity tls =
      Security({{"security.protocol", "SSL"}, {"ssl.ca.location", "/etc/kafka/ca.pem"}});
  Status host = ClientErrorStatus(RD_KAFKA_RESP_ERR__SSL, "connecting", kVerifyFailed, tls,
                                  DescribeCertificateFailure("broker:9093", 62, 0));
  EXPECT_THAT(host, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(host.message(),
              HasSubstr("the certificate of broker:9093 does not name the host this client "
                        "connected to (X509 error 62: hostname mismatch)"));
  EXPECT_THAT(host.message(), HasSubstr("ssl.endpoint.identification.algorithm=none"));
  Status untrusted = ClientErrorStatus(RD_KAFKA_RESP_ERR__SSL, "connecting", kVerifyFailed, tls,
                                       DescribeCertificateFailure("broker:9093", 19, 1));
  EXPECT_THAT(untrusted.message(),
              HasSubstr("a CA certificate in the chain of broker:9093 is not trusted"));
  EXPECT_THAT(untrusted.message(),
              HasSubstr("this client trusts ssl.ca.location=/etc/kafka/ca.pem"));
  Status expired = ClientErrorStatus(RD_KAFKA_RESP_ERR__SSL, "connecting", kVerifyFailed, tls,
                                     DescribeCertificateFailure("broker:9093", 10, 0));
  EXPECT_THAT(expired.message(), HasSubstr("has expired (X509 error 10"));
  EXPECT_THAT(expired.message(), HasSubstr("renew the broker's certificate"));
  // Without a recorded reason (a client not made by NewClientConf): both likely causes.
  Status unknown = ClientErrorStatus(RD_KAFKA_RESP_ERR__SSL, "connecting", kVerifyFailed,
                                     Security({{"security.protocol", "SSL"}}));
  EXPECT_THAT(unknown.message(), HasSubstr("the system's CA certificates"));
  EXPECT_THAT(unknown.message(), HasSubstr("ssl.endpoint.identification.algorithm"));

  Status refused = ClientErrorStatus(
      RD_KAFKA_RESP_ERR__TRANSPORT, "connecting",
      "Receive failed: error:0A000416:SSL routines::sslv3 alert certificate unknown",
      Security({{"security.protocol", "SSL"}, {"ssl.certificate.location", "/etc/me.pem"}}));
  EXPECT_THAT(refused, StatusIs(StatusCode::kUnauthenticated));
  EXPECT_THAT(refused.message(), HasSubstr("the broker refused this client's certificate "
                                           "(ssl.certificate.location=/etc/me.pem)"));
}

TEST(ClientErrorTest, ARestartableClientErrorKeepsItsCodeAndPlainMessage) {
  Status down = ClientErrorStatus(RD_KAFKA_RESP_ERR__TRANSPORT, "connecting", "Connection refused",
                                  Security({}));
  EXPECT_THAT(down, StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(down.message(),
            "connecting: _TRANSPORT (Local: Broker transport failure): Connection refused");
}

TEST(AclDeniedTest, NamesThePrincipalTheAclAndTheCommandThatGrantsIt) {
  Status topic = AclDeniedStatus(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
                                 "KafkaSink: the metadata of topic out",
                                 {"WRITE and DESCRIBE", "topic", "out", false},
                                 Security({{"security.protocol", "SASL_SSL"},
                                           {"sasl.mechanism", "PLAIN"},
                                           {"sasl.username", "bob"}}));
  EXPECT_THAT(topic, StatusIs(StatusCode::kPermissionDenied));
  EXPECT_EQ(topic.message(),
            "KafkaSink: the metadata of topic out: TOPIC_AUTHORIZATION_FAILED (Broker: Topic "
            "authorization failed); User:bob may not do this: grant it WRITE and DESCRIBE on topic "
            "'out' (kafka-acls.sh --bootstrap-server broker:9093 --add --allow-principal User:bob "
            "--operation Write --operation Describe --topic 'out'), or connect as a principal "
            "that has it");
  Status ids =
      AclDeniedStatus(RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "init_transactions",
                      {"WRITE and DESCRIBE", "transactional id", "job-", true},
                      Security({{"security.protocol", "SASL_PLAINTEXT"},
                                {"sasl.kerberos.principal", "carol/host@EXAMPLE.COM"}}),
                      "Transactional Id authorization failed.");
  EXPECT_THAT(ids.message(), HasSubstr(": Transactional Id authorization failed.; User:carol "));
  EXPECT_THAT(ids.message(), HasSubstr("on transactional ids starting with 'job-'"));
  EXPECT_THAT(ids.message(),
              HasSubstr("--transactional-id 'job-' --resource-pattern-type prefixed)"));
  Status configs = AclDeniedStatus(
      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, "describing",
      {"DESCRIBE_CONFIGS", "topic", "t", false},
      Security({{"security.protocol", "SSL"}, {"ssl.certificate.location", "/etc/bob.pem"}}));
  EXPECT_THAT(configs.message(), HasSubstr("--operation DescribeConfigs"));
  EXPECT_THAT(configs.message(), HasSubstr("--allow-principal User:<name>"));
  EXPECT_THAT(
      configs.message(),
      HasSubstr("the principal of the client certificate ssl.certificate.location=/etc/bob.pem"));
}

TEST(ClientSecurityTest, ReadsHowTheClientAuthenticates) {
  ClientSecurity plaintext = Security({});
  EXPECT_EQ(plaintext.protocol, "PLAINTEXT");
  EXPECT_TRUE(plaintext.mechanism.empty());
  EXPECT_EQ(plaintext.AclPrincipal(), "User:ANONYMOUS");
  ClientSecurity kerberos = Security({{"security.protocol", "sasl_ssl"}});
  EXPECT_EQ(kerberos.mechanism, "GSSAPI") << "librdkafka's default mechanism";
  EXPECT_TRUE(kerberos.UsesTls());
  EXPECT_EQ(kerberos.AclPrincipal(), "the principal of the Kerberos ticket (klist)");
  ClientSecurity keytab = Security({{"security.protocol", "SASL_PLAINTEXT"},
                                    {"sasl.kerberos.keytab", "/k"},
                                    {"sasl.kerberos.principal", "alice@EXAMPLE.COM"}});
  EXPECT_EQ(keytab.keytab_setting, "sasl.kerberos.keytab");
  EXPECT_EQ(keytab.AclPrincipal(), "User:alice");
}

TEST(CertificateFailureTest, DescribesOpenSslsVerificationErrors) {
  EXPECT_EQ(DescribeCertificateFailure("b:9093", 62, 0),
            "the certificate of b:9093 does not name the host this client connected to (X509 "
            "error 62: hostname mismatch)");
  EXPECT_EQ(DescribeCertificateFailure("b:9093", 20, 0),
            "the certificate of b:9093 is not trusted: no CA this client trusts signed it (X509 "
            "error 20: unable to get local issuer certificate)");
  EXPECT_EQ(DescribeCertificateFailure("b:9093", 99, 2),
            "a CA certificate in the chain of b:9093 failed the check (X509 error 99)");
}

}  // namespace
}  // namespace sluice::kafka::internal
