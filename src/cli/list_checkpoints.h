// `sluice checkpoints`: lists every checkpoint of a checkpoint directory per job instance, with
// what each holds (COMMITTED, COMPLETED, INCOMPLETE, CORRUPT, DAMAGED) and the one a restarted
// job would restore. It only reads: nothing is created, removed or rewritten.
//
// Thread safety: main thread only.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::cli {

struct ListCheckpointsOptions {
  std::string dir;
  std::string job;        // empty: every job
  int32_t instance = -1;  // -1: every instance
  bool quick = false;     // do not read and check every state file
};

/// Prints the listing on stdout and problems on stderr. Returns the exit code: 0, or 1 when the
/// directory cannot be read or when the checkpoint a restarted job would restore cannot be
/// used (its _metadata or a state file is missing or corrupt).
int ListCheckpoints(const ListCheckpointsOptions& options);

}  // namespace sluice::cli
