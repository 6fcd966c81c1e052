// librdkafka error codes -> StatusCode: the code decides whether a failed job restarts, so the
// classification of the errors a Kafka job meets is pinned here.
#include "connectors/kafka/kafka_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace sluice::kafka::internal
