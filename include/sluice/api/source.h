// The pull-style source interface for connectors (Flink's FLIP-27 Source/SourceReader, without
// split enumeration): the task thread drives a reader by calling PollNext() between its other
// duties (checkpoints, timers), so emitting and snapshotting never interleave.
//
// Threads: every SourceReader method runs on its task thread, except that a reader may call
// SourceReaderContext::SignalAvailable() from any thread.
// Ownership: the runtime owns readers; a Source (the definition) is shared by all parallel
// instances and must be immutable after the job starts.
// Errors: an exception thrown by a reader fails the job.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <sluice/api/functions.h>
#include <sluice/api/time.h>

namespace sluice {

enum class InputStatus {
  kMoreAvailable,     // call PollNext again soon
  kNothingAvailable,  // wait for SignalAvailable() (or at most a short while) before polling again
  kEndOfInput,        // this reader is done for good
};

template <typename T>
class ReaderOutput {
 public:
  virtual ~ReaderOutput() = default;
  /// Emits a record; `timestamp` is its event time (kNoTimestamp when it has none) and is
  /// what the watermark strategy's timestamp assigner sees as the record timestamp.
  virtual void Collect(T value, int64_t timestamp = kNoTimestamp) = 0;
  virtual void EmitWatermark(int64_t timestamp) = 0;
  virtual void MarkIdle() = 0;
  virtual void MarkActive() = 0;
};

class SourceReaderContext {
 public:
  virtual ~SourceReaderContext() = default;
  virtual RuntimeContext& GetRuntimeContext() = 0;
  /// Wakes the task after PollNext returned kNothingAvailable. Thread-safe.
  virtual void SignalAvailable() = 0;
};

template <typename T>
class SourceReader {
 public:
  virtual ~SourceReader() = default;
  /// Get operator state from ctx.GetRuntimeContext() here; it is already restored.
  virtual void Open(SourceReaderContext& /*ctx*/) {}
  /// Emits what is available now (a bounded amount: the task has other work too).
  virtual InputStatus PollNext(ReaderOutput<T>& output) = 0;
  /// Brings this reader's operator state up to date for checkpoint `id`.
  virtual void SnapshotState(CheckpointId /*id*/) {}
  virtual void NotifyCheckpointComplete(CheckpointId /*id*/) {}
  virtual void NotifyCheckpointAborted(CheckpointId /*id*/) {}
  virtual void Close() {}
};

/// The immutable definition of a source, shared by all its parallel readers.
template <typename T>
class Source {
 public:
  virtual ~Source() = default;
  /// A bounded source ends; the job finishes when all its sources have.
  virtual bool IsBounded() const = 0;
  virtual std::unique_ptr<SourceReader<T>> CreateReader(const TaskInfo& task) const = 0;
};

}  // namespace sluice
