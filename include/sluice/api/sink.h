// Sinks: the legacy SinkFunction shape (AddSink) and the Sink/SinkWriter shape (SinkTo).
//
// Threads: writers and sink functions are called on their task thread only. Ownership: the
// runtime owns writers; a Sink definition is shared by all parallel writers and immutable
// once the job runs. Errors: an exception from Write/Invoke/Flush fails the job.
#pragma once

#include <cstdint>
#include <memory>

#include <sluice/api/functions.h>
#include <sluice/checkpoint/checkpoint_participant.h>
#include <sluice/status.h>

namespace sluice {

struct SinkContext {
  /// Event timestamp of the record, or kNoTimestamp.
  int64_t timestamp;
  int64_t current_watermark;
};

/// Flink's SinkFunction: Invoke() per record. Implement CheckpointedFunction and
/// CheckpointListener on the same class to take part in checkpoints.
template <typename T>
class SinkFunction {
 public:
  virtual ~SinkFunction() = default;
  virtual void Invoke(const T& value, const SinkContext& context) = 0;
  /// Called once when the input ended (bounded jobs), before Close().
  virtual void Finish() {}
};

template <typename T>
class RichSinkFunction : public SinkFunction<T>, public RichFunction {};

/// One parallel writer of a Sink. The runtime calls, at every checkpoint barrier:
/// Flush(false) then SnapshotState(id); at the end of a bounded input: Flush(true).
/// Implement CheckpointListener on it to hear about completed checkpoints.
template <typename T>
class SinkWriter {
 public:
  virtual ~SinkWriter() = default;
  virtual void Open(RuntimeContext& /*context*/) {}
  virtual void Write(const T& value, const SinkContext& context) = 0;
  virtual void Flush(bool /*end_of_input*/) {}
  virtual void SnapshotState(CheckpointId /*id*/) {}
  virtual void Close() {}
};

/// Facts about the job a sink checks its configuration against before the job starts.
struct SinkValidationContext {
  bool checkpointing_enabled = false;
  int64_t checkpoint_interval_ms = 0;
  int64_t checkpoint_timeout_ms = 0;
  std::string job_name;
};

template <typename T>
class Sink {
 public:
  virtual ~Sink() = default;
  virtual std::unique_ptr<SinkWriter<T>> CreateWriter(const TaskInfo& task) const = 0;
  /// Checked before the job starts; an error stops Execute() with this status.
  virtual Status Validate(const SinkValidationContext& /*job*/) const { return Status::Ok(); }
  /// The participant that completes this job's checkpoints, if the sink needs one.
  virtual std::shared_ptr<CheckpointParticipant> GetCheckpointParticipant() const {
    return nullptr;
  }
};

}  // namespace sluice
