// Failure injection for the EXACTLY_ONCE commit protocol, used by the integration tests only.
// Not installed. A hook is a process-wide function that is unset in production (one atomic
// load per commit phase); libsluice is built once for tests and users, so it cannot be
// compiled out without a separate build of the library.
#pragma once

#include <cstdint>
#include <functional>

#include <sluice/status.h>

namespace sluice::kafka::internal {

enum class TransactionPhase {
  /// Checkpoint N's state is durable; nothing sent to Kafka for it yet. An error aborts N's
  /// transaction, like a commit refused by the broker.
  kBeforeMarker,
  /// N's marker is produced and every record of N delivered; commit_transaction not called.
  /// An error leaves the transaction open, like a process dying in the middle of the commit.
  kBeforeCommit,
  /// N's transaction is committed; NotifyCheckpointComplete has not gone out. An error makes
  /// CompleteCheckpoint fail anyway, like a crash right after the commit.
  kAfterCommit,
};

using TransactionHook = std::function<Status(TransactionPhase phase, int64_t checkpoint)>;

/// Installs (or, with an empty function, removes) the hook.
void SetTransactionHookForTesting(TransactionHook hook);

}  // namespace sluice::kafka::internal
