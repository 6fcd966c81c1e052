// librdkafka error codes as sluice Status codes. The code decides whether a failed job may
// restart (IsRestartable in <sluice/status.h>), so every librdkafka error that fails a task is
// classified here, once: refused credentials, missing ACLs, fencing and settings the broker
// refuses stop the job; broker trouble, unknown topics and everything unclassified restart it.
//
// Threads: pure functions, callable from any thread (librdkafka's callbacks included).
#pragma once

#include <librdkafka/rdkafka.h>

#include <string>
#include <string_view>

#include <sluice/status.h>

#include "connectors/kafka/client_properties.h"

namespace sluice::kafka::internal {

/// kUnauthenticated (SASL refused), kPermissionDenied (an ACL is missing), kFenced (another
/// producer took the transactional id, or another member the group.instance.id),
/// kInvalidArgument (a setting or record the broker refuses), kFailedPrecondition (an offset out
/// of range with no reset strategy), kNotFound (unknown topic or partition), kTimedOut and
/// kUnavailable (broker trouble), and kAborted (restartable) for every other error.
StatusCode StatusCodeOf(rd_kafka_resp_err_t err);

/// What the user should change when no restart can fix `err` (e.g. "check sasl.username and
/// sasl.password ..."); empty when the caller knows better or a restart may help.
std::string_view RemedyFor(rd_kafka_resp_err_t err);

/// The name and text of a librdkafka error code, e.g. "_TRANSPORT (Local: Broker transport
/// failure)".
std::string DescribeError(rd_kafka_resp_err_t err);

/// A Status with StatusCodeOf(err) and the message "<what>: <DescribeError(err)>[: <detail>]
/// [; <RemedyFor(err)>]". `detail` is the broker's or librdkafka's own reason, when there is one.
Status KafkaErrorStatus(rd_kafka_resp_err_t err, std::string_view what,
                        std::string_view detail = {});

/// The StatusCode of a client-level error (librdkafka's error callback or RD_KAFKA_EVENT_ERROR;
/// `reason` is its text): StatusCodeOf(err), except that a TLS handshake that failed on a
/// certificate is kUnauthenticated: _SSL "certificate verify failed" (this client does not
/// trust the broker's certificate) and _SSL or _TRANSPORT with a certificate alert (the broker
/// does not trust this client's: "alert bad certificate", "alert certificate unknown", "alert
/// unknown ca", ...). librdkafka retries those forever, and the same certificate fails every
/// time.
StatusCode ClientErrorCode(rd_kafka_resp_err_t err, std::string_view reason);

/// A client-level error as the Status a task fails with: code ClientErrorCode(err, reason),
/// message "<what>: <DescribeError(err)>: <reason>; <cause and fix>", where the cause and fix
/// fit the client's security setup:
///   - PLAIN, SCRAM: the login of sasl.username was refused; check sasl.username and
///     sasl.password (SCRAM also names librdkafka#4895 with librdkafka < 2.6.1);
///   - GSSAPI: no ticket in the cache (kinit, or the job's keytab login), an expired ticket, a
///     keytab that cannot be read (its path and strerror), a keytab without the principal's
///     keys (klist -k), a broker principal the KDC does not know;
///   - TLS: the broker's certificate is untrusted (ssl.ca.location), names another host (the
///     host name in bootstrap.servers, ssl.endpoint.identification.algorithm) or has expired,
///     from `certificate_failure` (CertificateFailure); the broker refused the client's
///     certificate (ssl.certificate.location);
///   - otherwise RemedyFor(err).
Status ClientErrorStatus(rd_kafka_resp_err_t err, std::string_view what, std::string_view reason,
                         const ClientSecurity& security, std::string_view certificate_failure = {});

/// The ACL a refused request needed, e.g. {"READ", "topic", "orders"}.
struct AclNeeded {
  std::string operations;     // "READ", "WRITE and DESCRIBE", ...
  std::string resource_type;  // "topic", "group", "transactional id", "cluster"
  std::string name;           // the resource's name (or prefix)
  bool prefixed = false;      // the name is a prefix (transactional ids "<prefix>-...")
};

/// A missing ACL as kPermissionDenied: "<what>: <DescribeError(err)>[: <detail>]; <principal>
/// may not do this: grant it <operations> on <resource type> '<name>' (kafka-acls.sh
/// --bootstrap-server ... --add --allow-principal ... --operation ... --topic ...), or connect
/// as a principal that has it".
Status AclDeniedStatus(rd_kafka_resp_err_t err, std::string_view what, const AclNeeded& needed,
                       const ClientSecurity& security, std::string_view detail = {});

}  // namespace sluice::kafka::internal
