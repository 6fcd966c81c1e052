// A running or finished job: its status, its result, and the client that controls it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <sluice/status.h>

namespace sluice {

enum class JobStatus { kCreated, kRunning, kRestarting, kFinished, kCanceled, kFailed };

std::string_view JobStatusName(JobStatus status);

/// What Execute() returns when the job has ended.
struct JobExecutionResult {
  std::string job_name;
  JobStatus status = JobStatus::kCreated;
  /// Why the job failed (the root cause, with the operator that threw), or OK.
  Status failure;
  std::chrono::milliseconds runtime{0};
  int32_t restarts = 0;
  int64_t completed_checkpoints = 0;
  int64_t failed_checkpoints = 0;
  /// The checkpoint the last attempt restored, if any.
  std::optional<int64_t> restored_checkpoint;
  /// The savepoint written by StopWithSavepoint or SIGTERM, if any.
  std::optional<std::string> savepoint_path;
  /// Every metric of every operator instance at the end, by dotted name
  /// "<operator uid>.<subtask index>.<metric>" (e.g. "parse.0.skippedRecords"), summed over
  /// attempts.
  std::map<std::string, int64_t> counters;

  bool ok() const { return status == JobStatus::kFinished || status == JobStatus::kCanceled; }
};

/// Controls a job started with ExecuteAsync(). Thread-safe; every call may come from any
/// thread. Dropping the client does not stop the job; WaitForResult() blocks until it ends.
class JobClient {
 public:
  virtual ~JobClient() = default;
  virtual JobStatus GetJobStatus() const = 0;
  /// Stops the job without a savepoint; the result's status becomes kCanceled.
  virtual void Cancel() = 0;
  /// Takes a savepoint in `directory` (the configured savepoint directory when empty) while
  /// the job keeps running; returns its path.
  virtual Result<std::string> TriggerSavepoint(const std::string& directory = "") = 0;
  /// Takes a savepoint and then stops the job; the result carries the savepoint path.
  virtual Result<std::string> StopWithSavepoint(const std::string& directory = "") = 0;
  /// Blocks until the job has ended.
  virtual JobExecutionResult WaitForResult() = 0;
  /// Every metric of the job now, named as in JobExecutionResult::counters (counters summed
  /// over attempts, gauges as their owners last published them). Safe while the job runs, so
  /// monitoring code and tests can watch metrics move; after the end it matches the result's.
  virtual std::map<std::string, int64_t> GetMetrics() const = 0;
};

}  // namespace sluice
