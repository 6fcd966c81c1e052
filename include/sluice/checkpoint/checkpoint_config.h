// Checkpointing settings of a job (Flink's CheckpointConfig).
//
// Thread safety: configure before Execute(); the runtime copies it when the job starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace sluice {

class CheckpointConfig {
 public:
  using Millis = std::chrono::milliseconds;

  bool IsCheckpointingEnabled() const { return interval_.count() > 0; }
  Millis GetCheckpointInterval() const { return interval_; }
  void SetCheckpointInterval(Millis interval) { interval_ = interval; }

  /// A checkpoint not complete after this long is aborted (default 10 minutes, as Flink).
  Millis GetCheckpointTimeout() const { return timeout_; }
  void SetCheckpointTimeout(Millis timeout) { timeout_ = timeout; }

  /// The least time between the end of one checkpoint and the start of the next (default 0).
  Millis GetMinPauseBetweenCheckpoints() const { return min_pause_; }
  void SetMinPauseBetweenCheckpoints(Millis pause) { min_pause_ = pause; }

  /// Consecutive failed checkpoints tolerated before the job fails (default 0, as Flink).
  int32_t GetTolerableCheckpointFailureNumber() const { return tolerable_failures_; }
  void SetTolerableCheckpointFailureNumber(int32_t n) { tolerable_failures_ = n; }

  /// Completed checkpoints kept on disk (default 1, as Flink's state.checkpoints.num-retained).
  int32_t GetNumRetainedCheckpoints() const { return retained_; }
  void SetNumRetainedCheckpoints(int32_t n) { retained_ = n; }

  /// Where checkpoints are written (default "checkpoints" under the working directory).
  const std::string& GetCheckpointStorage() const { return storage_; }
  void SetCheckpointStorage(std::string directory) { storage_ = std::move(directory); }

  /// Where savepoints are written when no directory is given (default "savepoints").
  const std::string& GetSavepointDirectory() const { return savepoint_dir_; }
  void SetSavepointDirectory(std::string directory) { savepoint_dir_ = std::move(directory); }

  /// How long stop-with-savepoint (SIGTERM, JobClient::StopWithSavepoint) waits for its
  /// savepoint (default 60 s; --savepoint-timeout). Past it, a stop by SIGTERM cancels the
  /// job and Execute() returns kFailed saying so; StopWithSavepoint returns kTimedOut and the
  /// job keeps running.
  Millis GetSavepointTimeout() const { return savepoint_timeout_; }
  void SetSavepointTimeout(Millis timeout) { savepoint_timeout_ = timeout; }

 private:
  Millis interval_{0};
  Millis timeout_{std::chrono::minutes(10)};
  Millis min_pause_{0};
  int32_t tolerable_failures_ = 0;
  int32_t retained_ = 1;
  std::string storage_ = "checkpoints";
  std::string savepoint_dir_ = "savepoints";
  Millis savepoint_timeout_{std::chrono::seconds(60)};
};

}  // namespace sluice
