// Sources in Flink's SourceFunction shape: Run() loops emitting records, Cancel() makes it
// return. Written exactly like Flink's:
//
//   class SimpleStringGenerator : public sluice::SourceFunction<std::string> {
//    public:
//     SimpleStringGenerator() = default;
//     // AddSource copies the function (one copy per parallel instance); std::atomic is not
//     // copyable, so say what a copy starts with.
//     SimpleStringGenerator(const SimpleStringGenerator&) {}
//     void Run(sluice::SourceContext<std::string>& ctx) override {
//       for (int64_t i = 0; running_; ++i) {
//         ctx.Collect("add element : " + std::to_string(i));
//         std::this_thread::sleep_for(std::chrono::seconds(3));
//       }
//     }
//     void Cancel() override { running_ = false; }
//    private:
//     std::atomic<bool> running_{true};
//   };
//
// Threads: Run() runs on a thread of its own; Cancel() is called from another thread.
// Emitting and checkpointing never interleave: Collect() holds the checkpoint lock while it
// emits, and a checkpoint takes the same lock. A source whose own state must change together
// with an emitted record (an offset, a counter) holds GetCheckpointLock() around both, as in
// Flink. Errors: an exception thrown from Run() fails the job.
#pragma once

#include <cstdint>
#include <mutex>

#include <sluice/api/functions.h>

namespace sluice {

template <typename T>
class SourceContext {
 public:
  virtual ~SourceContext() = default;
  /// Emits a record without an event timestamp (or with one from a later timestamp assigner).
  virtual void Collect(T value) = 0;
  virtual void CollectWithTimestamp(T value, int64_t timestamp) = 0;
  /// Emits a watermark: no record with a timestamp at or below it follows.
  virtual void EmitWatermark(int64_t timestamp) = 0;
  /// Declares that no records or watermarks follow for a while, so downstream watermarks do
  /// not wait for this source; the next record or watermark makes it active again.
  virtual void MarkAsTemporarilyIdle() = 0;
  /// Recursive: Collect() may be called while holding it.
  virtual std::recursive_mutex& GetCheckpointLock() = 0;
};

template <typename T>
class SourceFunction {
 public:
  using output_type = T;
  virtual ~SourceFunction() = default;
  virtual void Run(SourceContext<T>& ctx) = 0;
  virtual void Cancel() = 0;
};

/// A SourceFunction with Open/Close and a RuntimeContext. Every parallel instance gets its
/// own object (from the factory given to AddSource), so members are per instance.
template <typename T>
class RichSourceFunction : public SourceFunction<T>, public RichFunction {};

/// A source whose instances can run in parallel (Flink's ParallelSourceFunction): the same
/// interface; AddSource accepts a parallelism for it.
template <typename T>
class RichParallelSourceFunction : public RichSourceFunction<T> {};

}  // namespace sluice
