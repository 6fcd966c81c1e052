// `sluice txn abort`: ends the open Kafka transactions of an EXACTLY_ONCE job that will not
// come back, so read_committed readers of its output move past them.
//
// For every transactional id of the job's sink (`<prefix>-<instance>-a` and `-b`) it creates a
// transactional producer with that id and calls init_transactions: the broker's transaction
// coordinator aborts whatever the previous producer with that id left open and bumps the
// producer epoch, which fences that producer for good. Nothing is produced.
//
// Running it against a LIVE job fences that job: its next commit fails with a 'fenced' error
// and the job stops. Only use it for a job that is gone.
//
// Main thread only; writes its report to stdout and errors to stderr.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::cli {

struct TxnAbortOptions {
  std::string bootstrap_servers;
  std::string prefix;                   // the sink's SetTransactionalIdPrefix
  int32_t instances = 1;                // job instances 0..instances-1
  std::vector<std::string> properties;  // "key=value" librdkafka producer properties
  int32_t timeout_ms = 60000;           // per transactional id
  bool dry_run = false;
};

/// Registers `abort` under `txn` with its flags bound to `options`.
CLI::App* AddTxnAbortCommand(CLI::App& txn, TxnAbortOptions& options);

/// The transactional ids the EXACTLY_ONCE sink uses for `instances` job instances, in the
/// order they are processed. Must stay in step with KafkaTransactionParticipant::TransactionalId.
std::vector<std::string> SinkTransactionalIds(std::string_view prefix, int32_t instances);

/// Runs the command. Returns the process exit code: 0 when every id was handled, 1 when the
/// brokers could not be reached, refused authentication or authorization, or an id failed
/// (the ids after it are left untouched; running the command again is safe), 2 for bad usage
/// (an empty prefix, a malformed or unknown --property).
int RunTxnAbort(const TxnAbortOptions& options);

}  // namespace sluice::cli
