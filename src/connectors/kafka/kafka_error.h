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

}  // namespace sluice::kafka::internal
