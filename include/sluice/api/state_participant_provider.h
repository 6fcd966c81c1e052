// The hook through which a connector carries a job's state changelog when the job's output is
// not transactional (`--state.changelog=kafka` without an EXACTLY_ONCE Kafka sink).
//
// A job whose checkpoints are committed by an EXACTLY_ONCE sink writes its state changelog in
// that sink's transactions (CheckpointParticipant::changelog). Any other job asked to keep its
// state in Kafka needs a participant of its own: transactions that hold only the changelog, the
// commit marker and the sources' offsets. A Source, Sink or SourceFunction that knows a Kafka
// cluster implements this interface on the same class; the runtime asks the job's sinks first,
// then its sources, and uses the first participant it gets.
//
// Threads: called once per job run, on the thread that runs Execute(), before any task starts.
// Ownership: the participant returned is shared with the runtime for the job's lifetime.
// Errors: InvalidArgument naming the setting and the fix when the connector's settings cannot
// make one (e.g. a transaction timeout shorter than the checkpoint interval plus timeout).
#pragma once

#include <memory>

#include <sluice/api/sink.h>
#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/status.h>

namespace sluice {

class StateParticipantProvider {
 public:
  virtual ~StateParticipantProvider() = default;
  /// A participant whose transactions carry the job's state changelog and nothing the job
  /// outputs; its changelog() is never null. `job` says which job and how it checkpoints.
  virtual Result<std::shared_ptr<CheckpointParticipant>> CreateStateParticipant(
      const SinkValidationContext& job) const = 0;
};

}  // namespace sluice
