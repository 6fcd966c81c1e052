// The `sluice` admin command.
//
//   sluice checkpoints --dir DIR [--job NAME] [--instance I] [--quick]
//       lists the checkpoints of every job (or one) in a checkpoint directory: id, status
//       (COMPLETED, or COMMITTED once an exactly-once Kafka transaction made it final; or
//       INCOMPLETE, CORRUPT, DAMAGED with the reason), time, operators, size; marks the one a
//       restarted job would restore, and exits 1 when that one cannot be used
//       (list_checkpoints.h).
//
//   sluice txn abort --bootstrap-servers B --prefix P [--instances N] [--property k=v ...]
//                    [--timeout-ms T] [--dry-run]
//       aborts the open Kafka transactions of an EXACTLY_ONCE job that is gone (txn_abort.h).
//
// Exit codes: 0 success, 1 an error (message on stderr), 2 bad usage.
#include <CLI/CLI.hpp>

#include "cli/list_checkpoints.h"
#include "cli/txn_abort.h"

int main(int argc, char** argv) {
  CLI::App app{"sluice: administer sluice jobs"};
  app.require_subcommand(1);

  CLI::App* checkpoints =
      app.add_subcommand("checkpoints", "List the checkpoints in a checkpoint directory");
  sluice::cli::ListCheckpointsOptions list_options;
  checkpoints->add_option("--dir", list_options.dir, "the job's --checkpoint-dir")->required();
  checkpoints->add_option("--job", list_options.job,
                          "only this job (its name as given to Execute)");
  checkpoints->add_option("--instance", list_options.instance, "only this instance (default: all)");
  checkpoints->add_flag("--quick", list_options.quick,
                        "do not read every state file to check its size and checksum");

  CLI::App* txn =
      app.add_subcommand("txn", "Administer the Kafka transactions of EXACTLY_ONCE sinks");
  txn->require_subcommand(1);
  sluice::cli::TxnAbortOptions txn_abort_options;
  CLI::App* txn_abort = sluice::cli::AddTxnAbortCommand(*txn, txn_abort_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints help (exit 0) or the message; every other parse failure is bad usage.
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (*txn_abort) return sluice::cli::RunTxnAbort(txn_abort_options);

  if (*checkpoints) return sluice::cli::ListCheckpoints(list_options);
  return 2;
}
