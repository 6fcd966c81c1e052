#include "connectors/kafka/kafka_error.h"

namespace sluice::kafka::internal {

StatusCode StatusCodeOf(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return StatusCode::kOk;
    // librdkafka retries connecting after a refused login, but the broker refuses the same
    // credentials every time (the Java client's SaslAuthenticationException is fatal too).
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM:
    case RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
      return StatusCode::kUnauthenticated;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED:
      return StatusCode::kPermissionDenied;
    // INVALID_PRODUCER_EPOCH is how the broker answers a transactional producer whose epoch
    // another init_transactions has bumped.
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      return StatusCode::kFenced;
    // A restart sends the same settings and the same record again.
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return StatusCode::kInvalidArgument;
    // An offset out of range with auto.offset.reset=none: the restored offsets are the same.
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return StatusCode::kFailedPrecondition;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
      return StatusCode::kTimedOut;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kAborted;
  }
}

std::string_view RemedyFor(rd_kafka_resp_err_t err) {
  switch (StatusCodeOf(err)) {
    case StatusCode::kUnauthenticated:
      return "check sasl.username and sasl.password (and security.protocol and sasl.mechanism) "
             "against the broker's listener";
    case StatusCode::kPermissionDenied:
      return "grant the client's principal the ACL the broker asks for, or connect as a "
             "principal that has it";
    default:
      break;
  }
  switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return "a record is larger than the producer's message.max.bytes or the topic's "
             "max.message.bytes: raise them or write smaller records";
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
      return "the offset to read is out of range and the reset strategy is NONE "
             "(auto.offset.reset=none): choose EARLIEST or LATEST, or start from valid offsets";
    default:
      return {};
  }
}

std::string DescribeError(rd_kafka_resp_err_t err) {
  return std::string(rd_kafka_err2name(err)) + " (" + rd_kafka_err2str(err) + ")";
}

Status KafkaErrorStatus(rd_kafka_resp_err_t err, std::string_view what, std::string_view detail) {
  std::string message(what);
  message += ": ";
  message += DescribeError(err);
  if (!detail.empty()) {
    message += ": ";
    message += detail;
  }
  if (std::string_view remedy = RemedyFor(err); !remedy.empty()) {
    message += "; ";
    message += remedy;
  }
  StatusCode code = StatusCodeOf(err);
  // librdkafka before 2.6.1 repeats the server's nonce in its SCRAM proof; Kafka 4 brokers
  // check it as RFC 5802 says and refuse every SCRAM login of such a client as if the
  // password were wrong (librdkafka#4895). Right credentials then look wrong: say so.
  if (code == StatusCode::kUnauthenticated && detail.find("SCRAM") != std::string_view::npos &&
      rd_kafka_version() < 0x020601ff) {
    message += "; if the credentials are right: this process runs librdkafka ";
    message += rd_kafka_version_str();
    message +=
        ", whose SCRAM login Kafka 4 brokers refuse (fixed in librdkafka 2.6.1); use librdkafka "
        "2.6.1 or later, or another mechanism the broker offers (PLAIN over SSL, GSSAPI, mTLS)";
  }
  return {code == StatusCode::kOk ? StatusCode::kInternal : code, std::move(message)};
}

}  // namespace sluice::kafka::internal
