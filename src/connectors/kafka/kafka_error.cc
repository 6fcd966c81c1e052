#include "connectors/kafka/kafka_error.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace sluice::kafka::internal {
namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// A TLS alert about a certificate: the peer (the broker) refused ours.
bool IsCertificateAlert(std::string_view reason) {
  return Contains(reason, "alert") &&
         (Contains(reason, "certificate") || Contains(reason, "unknown ca"));
}

// librdkafka before 2.6.1 and Kafka 4 brokers: every SCRAM login fails (librdkafka#4895).
void AppendScramNote(std::string& message) {
  if (rd_kafka_version() >= 0x020601ff) return;
  message += "; if the credentials are right: this process runs librdkafka ";
  message += rd_kafka_version_str();
  message +=
      ", whose SCRAM login Kafka 4 brokers refuse (fixed in librdkafka 2.6.1); use librdkafka "
      "2.6.1 or later, or another mechanism the broker offers (PLAIN over SSL, GSSAPI, mTLS)";
}

std::string TicketCache() {
  const char* cache = std::getenv("KRB5CCNAME");
  return cache != nullptr && *cache != '\0' ? std::string("KRB5CCNAME=") + cache
                                            : std::string("the default ticket cache");
}

// The cause and fix of a refused Kerberos (GSSAPI) login.
std::string KerberosFix(std::string_view reason, const ClientSecurity& security) {
  const std::string principal =
      security.kerberos_principal.empty() ? "<principal>" : security.kerberos_principal;
  const std::string own_login =
      "let the job log in by itself with --security.kerberos.login.keytab and "
      "--security.kerberos.login.principal (or the properties sasl.kerberos.keytab and "
      "sasl.kerberos.principal): librdkafka then renews the ticket before it expires";
  if (Contains(reason, "Server not found in Kerberos database")) {
    return "the KDC knows no principal for the broker: name the brokers in bootstrap.servers by "
           "the host name in their Kerberos principal (<sasl.kerberos.service.name>/<host>), and "
           "check sasl.kerberos.service.name";
  }
  if (Contains(reason, "Clock skew")) {
    return "the clocks of this host and the KDC differ too much: synchronise them (NTP)";
  }
  if (!security.keytab.empty()) {
    // The keytab's path is not shown: where a secret lives stays out of messages (ShownValue).
    if (access(security.keytab.c_str(), R_OK) != 0) {
      const int err = errno;
      return "the keytab that " + security.keytab_setting + " names cannot be read (" +
             std::generic_category().message(err) +
             "), so librdkafka's kinit got no ticket: give the path of " + principal +
             "'s keytab in " + security.keytab_setting +
             " (ktutil or kadmin's ktadd make one), readable by this user";
    }
    return "librdkafka's kinit (sasl.kerberos.kinit.cmd) got no ticket for " + principal +
           " with the keytab that " + security.keytab_setting +
           " names (librdkafka's log line SASLREFRESH shows kinit's answer): check that the "
           "keytab holds keys of that principal (klist -k -t <keytab>) and that the principal "
           "exists in the KDC's realm";
  }
  if (Contains(reason, "expired")) {
    return "the Kerberos ticket in " + TicketCache() + " has expired: renew it (kinit " +
           principal + ") before the job starts, or " + own_login;
  }
  if (Contains(reason, "No Kerberos credentials available") ||
      Contains(reason, "No credentials were supplied")) {
    return "there is no Kerberos ticket in " + TicketCache() + ": run kinit " + principal +
           " before the job starts (with the same KRB5CCNAME and KRB5_CONFIG), or " + own_login;
  }
  return "check the Kerberos ticket (klist), KRB5_CONFIG, sasl.kerberos.service.name and the "
         "host names in bootstrap.servers, or " +
         own_login;
}

// The cause and fix of a refused TLS handshake.
std::string TlsFix(std::string_view reason, const ClientSecurity& security,
                   std::string_view certificate_failure) {
  const std::string trusted = security.ca_location.empty()
                                  ? std::string("the system's CA certificates")
                                  : "ssl.ca.location=" + security.ca_location;
  if (IsCertificateAlert(reason) && !Contains(reason, "certificate verify failed")) {
    return "the broker refused this client's certificate (" +
           (security.certificate_location.empty()
                ? std::string("none is set: ssl.certificate.location")
                : "ssl.certificate.location=" + security.certificate_location) +
           "): give a client certificate signed by a CA that the broker's listener trusts, with "
           "its key (ssl.certificate.location, ssl.key.location)";
  }
  std::string fix(certificate_failure.empty()
                      ? std::string("the broker's certificate failed this client's check")
                      : std::string(certificate_failure));
  if (Contains(certificate_failure, "does not name the host")) {
    fix +=
        ": put a host name or address that the certificate names (its subjectAltName) in "
        "bootstrap.servers (and let the brokers advertise such names), or, only if you "
        "accept talking to a broker whose identity is not checked, set "
        "ssl.endpoint.identification.algorithm=none";
  } else if (Contains(certificate_failure, "expired") ||
             Contains(certificate_failure, "valid yet")) {
    fix += ": renew the broker's certificate, or check this host's clock";
  } else {
    fix += ": this client trusts " + trusted +
           "; set ssl.ca.location to the CA certificate that signed the broker's certificate";
    if (certificate_failure.empty()) {
      fix +=
          ", and check that the host names in bootstrap.servers are names the certificate "
          "carries (ssl.endpoint.identification.algorithm)";
    }
  }
  return fix;
}

}  // namespace

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
  if (code == StatusCode::kUnauthenticated && Contains(detail, "SCRAM")) AppendScramNote(message);
  return {code == StatusCode::kOk ? StatusCode::kInternal : code, std::move(message)};
}

StatusCode ClientErrorCode(rd_kafka_resp_err_t err, std::string_view reason) {
  if (err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    // Certificates do not change between two attempts; librdkafka would retry forever.
    if (Contains(reason, "certificate verify failed") || IsCertificateAlert(reason))
      return StatusCode::kUnauthenticated;
  }
  return StatusCodeOf(err);
}

Status ClientErrorStatus(rd_kafka_resp_err_t err, std::string_view what, std::string_view reason,
                         const ClientSecurity& security, std::string_view certificate_failure) {
  const StatusCode code = ClientErrorCode(err, reason);
  if (code != StatusCode::kUnauthenticated) return KafkaErrorStatus(err, what, reason);
  std::string message(what);
  message += ": ";
  message += DescribeError(err);
  if (!reason.empty()) message.append(": ").append(reason);
  message += "; ";
  if (err == RD_KAFKA_RESP_ERR__SSL || err == RD_KAFKA_RESP_ERR__TRANSPORT) {
    message += TlsFix(reason, security, certificate_failure);
  } else if (security.UsesKerberos()) {
    message += KerberosFix(reason, security);
  } else if (!security.mechanism.empty()) {
    message += "the broker refused the login of sasl.username '" + security.username +
               "' with sasl.mechanism " + security.mechanism +
               ": check sasl.username and sasl.password against the credentials the broker's "
               "listener knows, and that security.protocol (" +
               security.protocol + ") and sasl.mechanism are the listener's";
    if (security.mechanism.starts_with("SCRAM")) AppendScramNote(message);
  } else {
    message += RemedyFor(err);
  }
  return {code, std::move(message)};
}

namespace {

// Kafka's spelling of an ACL operation in kafka-acls.sh: DESCRIBE_CONFIGS -> DescribeConfigs.
std::string AclsToolOperation(std::string_view operation) {
  std::string name;
  bool upper = true;
  for (char c : operation) {
    if (c == '_') {
      upper = true;
      continue;
    }
    const bool is_upper = c >= 'A' && c <= 'Z';
    name += upper || !is_upper ? c : static_cast<char>(c - 'A' + 'a');
    upper = false;
  }
  return name;
}

}  // namespace

Status AclDeniedStatus(rd_kafka_resp_err_t err, std::string_view what, const AclNeeded& needed,
                       const ClientSecurity& security, std::string_view detail) {
  std::string message(what);
  message += ": ";
  message += DescribeError(err);
  if (!detail.empty()) message.append(": ").append(detail);
  const std::string principal = security.AclPrincipal();
  message += "; " + principal + " may not do this: grant it " + needed.operations + " on " +
             needed.resource_type + (needed.prefixed ? "s starting with '" : " '") + needed.name +
             "'";
  // The command a Kafka administrator would run (Kafka's own tool and option names).
  std::string option;
  if (needed.resource_type == "topic") option = "--topic";
  if (needed.resource_type == "group") option = "--group";
  if (needed.resource_type == "transactional id") option = "--transactional-id";
  if (needed.resource_type == "cluster") option = "--cluster";
  if (!option.empty()) {
    message += " (kafka-acls.sh --bootstrap-server " +
               (security.bootstrap_servers.empty() ? std::string("<brokers>")
                                                   : security.bootstrap_servers) +
               " --add --allow-principal " +
               (principal.starts_with("User:") ? principal : std::string("User:<name>"));
    // "WRITE and DESCRIBE" -> --operation Write --operation Describe
    std::string_view operations = needed.operations;
    while (!operations.empty()) {
      const size_t end = operations.find(" and ");
      message += " --operation " + AclsToolOperation(operations.substr(0, end));
      if (end == std::string_view::npos) break;
      operations.remove_prefix(end + 5);
    }
    message += " " + option;
    if (option != "--cluster") message += " '" + needed.name + "'";
    if (needed.prefixed) message += " --resource-pattern-type prefixed";
    message += ")";
  }
  message += ", or connect as a principal that has it";
  return Status::PermissionDenied(std::move(message));
}

}  // namespace sluice::kafka::internal
