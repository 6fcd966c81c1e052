// Checkpoint storage: the on-disk side of aligned checkpoints and savepoints (DESIGN 3-5).
//
// Layout (job_id = JobIdFromName(job name), N = checkpoint id):
//   <checkpoint_dir>/<job_id>/instance-<i>/chk-<N>/<state files>
//   <checkpoint_dir>/<job_id>/instance-<i>/chk-<N>/_metadata      written last: complete
//   <savepoint_dir>/savepoint-<job_id>-<N>-<6 hex>/<state files> + _metadata
// A chk-N directory without _metadata is an incomplete (aborted or crashed) checkpoint. Every
// file is written with WriteFileAtomically, so a file that exists is whole. _metadata refers to
// state files by plain relative names, so a savepoint (or a copied chk-N) restores from any
// place it is moved to.
//
// A snapshot is written in three steps:
//   1. BeginCheckpoint(N) or BeginSavepoint(dir, N) -> SnapshotLocation (creates the directory);
//   2. every task thread: location.WriteStateFile(...) / WriteSubtaskState(...), or
//      CreateSubtaskStateFile(...) to write in pieces, for its subtask;
//   3. the coordinator, after all tasks acknowledged N: Complete(location, metadata), which
//      checks the referenced files and writes _metadata. For an exactly-once job the Kafka
//      transaction commit follows, then MarkCommitted(N), then Prune(K).
// Recovery: DiscardIncomplete() at job start; for an exactly-once job DiscardNewerThan(the last
// checkpoint the control topic says was committed); then LatestCompleted().
//
// Thread safety: CheckpointStorage and SnapshotLocation may be used from any number of threads
// at once. State file writes (many task threads, each its own file) take no lock. Operations on
// _metadata and on whole checkpoint directories (Complete, MarkCommitted, List*, Discard*,
// Prune) serialise on one internal mutex; they are meant for the single coordinator thread.
// Two processes must not share one job instance's directory: the job master takes
// LockExclusively() before it reads or removes anything there, so a second process on the same
// directory refuses to start, naming the holder (Kafka fencing, DESIGN 5, stops a zombie
// instance on another directory or host). Moving a CheckpointStorage is only allowed before it
// is shared between threads.
// Errors: InvalidArgument for bad calls, NotFound for missing checkpoints/paths, Corruption for
// unreadable _metadata or a state file failing its size/checksum check, IoError otherwise;
// every message names the path involved.
#pragma once

#include <sluice/status.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checkpoint/atomic_file.h"
#include "checkpoint/checkpoint_metadata.h"

namespace sluice::internal {

/// The job name made safe as one directory name: [A-Za-z0-9._-] kept, anything else replaced
/// by '_'. If anything was replaced (or the name is empty, "." / "..", or longer than 100
/// bytes and so truncated), "-<8 hex digits of FNV-1a-32 of the original name>" is appended, so
/// distinct names stay distinct ("a b" -> "a_b-xxxxxxxx", "a_b" -> "a_b"). Stable across
/// builds and platforms: it names directories that outlive the process.
std::string JobIdFromName(std::string_view job_name);

/// The checkpoint id of a "chk-<N>" directory name (decimal, no sign, no leading zeros).
std::optional<std::int64_t> ParseCheckpointDirName(std::string_view name);

/// What one chk-N directory holds (CheckpointStorage::Inspect): for `sluice checkpoints` and
/// for the messages of a restore that cannot use a checkpoint.
struct CheckpointDirInfo {
  enum class State {
    /// No _metadata: being written, or abandoned by a crash or an aborted checkpoint.
    kIncomplete,
    /// _metadata exists but cannot be read, does not decode, names another checkpoint, or was
    /// written by a newer sluice.
    kCorrupt,
    /// _metadata reads, but a state file it names is missing or fails its size or checksum
    /// check (only when Inspect verifies state files).
    kDamaged,
    /// Complete and, as far as checked, usable (metadata->status: COMPLETED or COMMITTED).
    kUsable,
  };
  std::int64_t id = 0;
  std::filesystem::path directory;
  State state = State::kIncomplete;
  /// Set for kDamaged and kUsable.
  std::optional<CheckpointMetadata> metadata;
  /// Why it is not usable (naming the file and the reason); OK for kUsable.
  Status problem;
};

/// "INCOMPLETE", "CORRUPT", "DAMAGED", or for a usable one "COMPLETED" / "COMMITTED".
std::string_view CheckpointDirStateName(const CheckpointDirInfo& info);

/// One subtask's state file being written into a snapshot, chunk by chunk: it counts the size
/// and CRC-32C as the bytes go by, so the file is never held in memory whole. Destroyed before
/// Commit (or after a failed Append), it leaves no file behind. One thread at a time.
class SubtaskStateFileWriter {
 public:
  /// Appends bytes to the file; an error fails the writer (see AtomicFileWriter::Append).
  Status Append(std::string_view bytes);
  /// Bytes appended so far: the offset of the next one.
  std::uint64_t size() const { return size_; }
  /// Makes the file durable under its name (its directory is synced by Complete, as for
  /// WriteStateFile) and returns a SubtaskStateMeta with subtask, file, size and crc32c filled
  /// in (key groups are the caller's).
  Result<SubtaskStateMeta> Commit();

 private:
  friend class SnapshotLocation;
  SubtaskStateFileWriter(AtomicFileWriter file, std::int32_t subtask, std::string name)
      : file_(std::move(file)), subtask_(subtask), name_(std::move(name)) {}

  AtomicFileWriter file_;
  std::int32_t subtask_;
  std::string name_;
  std::uint64_t size_ = 0;
  std::uint32_t crc32c_ = 0;
};

/// The directory one snapshot (checkpoint or savepoint) is written into. A small immutable
/// value: copy it to every task thread that writes state.
class SnapshotLocation {
 public:
  SnapshotLocation(std::filesystem::path directory, std::int64_t checkpoint_id, bool is_savepoint)
      : directory_(std::move(directory)),
        checkpoint_id_(checkpoint_id),
        is_savepoint_(is_savepoint) {}

  const std::filesystem::path& directory() const { return directory_; }
  std::int64_t checkpoint_id() const { return checkpoint_id_; }
  bool is_savepoint() const { return is_savepoint_; }

  /// Writes one state file atomically (creating the directory if it is gone) and returns its
  /// name relative to the directory, for SubtaskStateMeta::file. `file_name` must be a plain
  /// name of at most 200 bytes, not "_metadata" and not shaped like a temp file; choose one
  /// unique per operator subtask (e.g. "op-<uid>-<subtask>", built with JobIdFromName-style
  /// escaping). Writing the same name twice replaces the file.
  Result<std::string> WriteStateFile(std::string_view file_name, std::string_view bytes) const;

  /// WriteStateFile, and returns a SubtaskStateMeta with subtask, file, size and crc32c filled
  /// in (key groups are the caller's).
  Result<SubtaskStateMeta> WriteSubtaskState(std::int32_t subtask, std::string_view file_name,
                                             std::string_view bytes) const;

  /// WriteSubtaskState for bytes that come in pieces: a writer of the state file `file_name`
  /// (named as for WriteStateFile), whose Commit returns the SubtaskStateMeta.
  Result<SubtaskStateFileWriter> CreateSubtaskStateFile(std::int32_t subtask,
                                                        std::string_view file_name) const;

 private:
  std::filesystem::path directory_;
  std::int64_t checkpoint_id_;
  bool is_savepoint_;
};

class CheckpointStorage {
 public:
  /// Opens (creating as needed) <checkpoint_dir>/<job_id>/instance-<instance> and checks that a
  /// file can be written there. A relative checkpoint_dir is made absolute now. Errors name the
  /// directory and the --checkpoint-dir flag.
  static Result<CheckpointStorage> Open(const std::filesystem::path& checkpoint_dir,
                                        std::string job_name, std::int32_t instance);

  CheckpointStorage(CheckpointStorage&&) noexcept = default;
  CheckpointStorage& operator=(CheckpointStorage&&) noexcept = default;

  const std::string& job_name() const { return job_name_; }
  const std::string& job_id() const { return job_id_; }
  std::int32_t instance() const { return instance_; }
  /// <checkpoint_dir>/<job_id>/instance-<i>: the parent of every chk-N.
  const std::filesystem::path& instance_dir() const { return instance_dir_; }

  /// Takes an exclusive lock (flock) on <instance_dir>/_lock, held until this storage is
  /// destroyed (or the process ends, however it ends), and writes this process's pid and host
  /// into the file. FailedPrecondition naming the holder's pid and host when another process
  /// (or another CheckpointStorage of this one) holds it: two instances writing one directory
  /// would delete each other's checkpoints. IoError naming the file if it cannot be opened.
  /// Idempotent.
  Status LockExclusively();
  /// Releases LockExclusively's lock (the job has ended); no-op without one.
  void Unlock() { lock_.reset(); }

  /// <instance_dir>/chk-<id>; a path only, whether or not it exists.
  std::filesystem::path CheckpointDir(std::int64_t id) const;

  // ---- writing (see the steps at the top) ----

  /// Creates chk-<id> (or reuses it if an earlier attempt left it incomplete). AlreadyExists if
  /// checkpoint `id` is already complete; InvalidArgument for a negative id.
  Result<SnapshotLocation> BeginCheckpoint(std::int64_t id);

  /// Creates <savepoint_dir>/savepoint-<job_id>-<id>-<6 random hex> (and savepoint_dir if
  /// needed). The result's directory() is what a user passes to --from-savepoint.
  Result<SnapshotLocation> BeginSavepoint(std::filesystem::path savepoint_dir, std::int64_t id);

  /// Shorthand for writing into chk-<checkpoint_id> without holding its SnapshotLocation;
  /// creates the directory if needed. Returns the relative file name.
  Result<std::string> WriteStateFile(std::int64_t checkpoint_id, std::string_view file_name,
                                     std::string_view bytes);

  /// Makes the snapshot complete: checks `metadata` against the location (checkpoint id,
  /// is_savepoint, this job's name and instance, unique operator uids, every referenced file
  /// present with its recorded size, and everything DecodeMetadata checks, such as key-group
  /// offsets) and writes _metadata atomically, after making the directory itself durable.
  /// InvalidArgument on a mismatch; nothing is written then.
  Status Complete(const SnapshotLocation& location, const CheckpointMetadata& metadata);

  /// Complete() for checkpoint metadata.checkpoint_id in this instance's directory.
  Status CompleteCheckpoint(const CheckpointMetadata& metadata);

  /// Begin + write every (relative name -> bytes) file + Complete, for callers that hold a whole
  /// savepoint in memory. The metadata's file names must be keys of `files`. Returns the
  /// savepoint directory.
  Result<std::filesystem::path> WriteSavepoint(std::filesystem::path savepoint_dir,
                                               const std::map<std::string, std::string>& files,
                                               const CheckpointMetadata& metadata);

  /// Rewrites chk-<id>/_metadata (atomically) with status COMMITTED: the job's exactly-once
  /// Kafka transaction for `id` has committed. Idempotent. NotFound if `id` is not complete.
  Status MarkCommitted(std::int64_t id);
  /// The same for a savepoint (or any snapshot directory).
  Status MarkCommitted(const SnapshotLocation& location);

  // ---- reading this instance's checkpoints ----

  /// Ids, ascending, of chk-N directories whose _metadata decodes and names checkpoint N.
  /// Incomplete directories, unreadable _metadata and names that are not chk-N are skipped
  /// (an unreadable directory is logged and yields an empty list).
  std::vector<std::int64_t> ListCompleted();

  /// The newest checkpoint that has a _metadata, decoded; nullopt if there is none. If that
  /// newest _metadata cannot be read (corrupt, or written by a newer sluice) this is an error
  /// rather than a silent fall-back to an older checkpoint: restoring older state than the
  /// user expects is worse than stopping with a message naming the file.
  Result<std::optional<CheckpointMetadata>> LatestCompleted();

  /// The decoded _metadata of checkpoint `id`. NotFound if it is not complete.
  Result<CheckpointMetadata> ReadCheckpointMetadata(std::int64_t id);

  // ---- removing ----

  /// Removes every chk-N without _metadata and leftover temp files of WriteFileAtomically in
  /// complete ones. Call at job start, before any checkpoint is begun: it cannot tell a
  /// checkpoint being written from an abandoned one. Directories whose _metadata exists but
  /// cannot be read are kept (and logged): they may belong to a newer sluice. `keep`: a
  /// checkpoint never removed, even without _metadata: the one an exactly-once job's Kafka
  /// transaction committed, which is damaged, not abandoned, when it lacks _metadata.
  Status DiscardIncomplete(std::optional<std::int64_t> keep = std::nullopt);

  /// The highest N of any chk-N directory, complete or not, readable or not (0 if none): new
  /// checkpoint ids go above it, so a damaged directory kept for its owner is never reused.
  std::int64_t HighestCheckpointId();

  /// Removes chk-<id>, complete or not. _metadata goes first (durably), so a crash half-way
  /// leaves an incomplete checkpoint, never a "complete" one with missing files. OK if absent.
  Status Discard(std::int64_t id);

  /// Keeps the `retain` (>= 1) newest complete checkpoints and removes older complete ones,
  /// except that the newest COMMITTED checkpoint is never removed: for an exactly-once job it is
  /// the only one that may be restored until a newer one commits (DESIGN 5), even if Prune runs
  /// between Complete and MarkCommitted. Also removes incomplete chk-N older than the newest
  /// complete checkpoint (aborted ones; checkpoints run one at a time). Directories with
  /// unreadable _metadata are left alone.
  Status Prune(int retain);

  /// Removes every chk-M with M > id, complete or not: checkpoints an exactly-once job wrote
  /// but never committed must never be restored (DESIGN 5).
  Status DiscardNewerThan(std::int64_t id);

  // ---- reading any snapshot (restore, `sluice` inspection) ----

  /// The metadata of a checkpoint or savepoint, given its directory or its _metadata file.
  /// NotFound naming the path if it does not exist, or if a directory has no _metadata (an
  /// incomplete snapshot); Corruption/FailedPrecondition from DecodeMetadata, with the file's
  /// path in front. The caller names the flag or record the path came from.
  static Result<CheckpointMetadata> ReadMetadataAt(const std::filesystem::path& path);

  /// Reads every state file `metadata` names in the snapshot directory `dir` and checks its
  /// size and CRC-32C (ReadStateFile); the bytes, by file name, or the first problem.
  static Result<std::map<std::string, std::string>> ReadStateFiles(
      const std::filesystem::path& dir, const CheckpointMetadata& metadata);

  /// Every chk-N directory of `instance_dir` (<checkpoint_dir>/<job_id>/instance-<i>), by
  /// ascending id, with what it holds. With `verify_state_files`, every state file of a
  /// complete checkpoint is read and checked (kDamaged), which reads all of its bytes. Reads
  /// only; no CheckpointStorage needed (`sluice checkpoints` writes nothing). IoError or
  /// NotFound if the directory cannot be listed.
  static Result<std::vector<CheckpointDirInfo>> Inspect(const std::filesystem::path& instance_dir,
                                                        bool verify_state_files);

  /// A state file of a snapshot, given the snapshot's directory (or its _metadata file) and the
  /// relative name from SubtaskStateMeta::file. "" (no state) gives "". InvalidArgument for a
  /// name that is not a plain file name.
  static Result<std::string> ReadStateFile(const std::filesystem::path& checkpoint_or_savepoint_dir,
                                           std::string_view file);

  /// The same, verifying the size and CRC-32C recorded in `subtask`: Corruption naming the
  /// file on a mismatch.
  static Result<std::string> ReadStateFile(const std::filesystem::path& checkpoint_or_savepoint_dir,
                                           const SubtaskStateMeta& subtask);

 private:
  CheckpointStorage(std::filesystem::path checkpoint_dir, std::string job_name,
                    std::int32_t instance);

  // chk-N entries of instance_dir_ with their ids, ascending; the caller holds mutex_.
  Result<std::vector<std::pair<std::int64_t, std::filesystem::path>>> ListCheckpointDirs() const;
  Status DiscardLocked(std::int64_t id);
  Status RewriteStatus(const std::filesystem::path& dir);

  std::filesystem::path checkpoint_dir_;
  std::string job_name_;
  std::string job_id_;
  std::int32_t instance_;
  std::filesystem::path instance_dir_;
  // unique_ptr keeps the class movable (Result<CheckpointStorage>).
  std::unique_ptr<std::mutex> mutex_;
  // The descriptor holding LockExclusively's flock; closing it releases the lock.
  struct LockFile {
    int fd = -1;
    ~LockFile();
  };
  std::unique_ptr<LockFile> lock_;
};

}  // namespace sluice::internal
