// Durable, all-or-nothing file writes for checkpoint storage, over POSIX open/write/fsync/rename.
//
// A reader (a restarting job, `sluice` inspecting a savepoint) sees either the old file or the
// complete new one, never a prefix, even after a power failure: the bytes go to a temp file in
// the same directory, are fsynced, renamed over the target, and the directory is fsynced so the
// rename itself survives. Temp files are named "<name>.tmp-<pid>-<16 hex>"; IsTempFileName
// recognises them so leftovers of a crash can be removed.
//
// Thread safety: every function is safe to call from any thread. Concurrent writers of the same
// target each produce a complete file; the last rename wins.
// Errors: IoError (NotFound when a path does not exist) naming the path and the errno text.
#pragma once

#include <sluice/status.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

namespace sluice::internal {

/// Replaces `path` with `bytes` atomically and durably (see above). The parent directory must
/// exist. On failure the target is untouched and the temp file is removed.
/// kNow fsyncs the directory after the rename; kByCaller leaves that to the caller, who syncs
/// the directory once after writing many files (a checkpoint's state files: the directory is
/// synced once before _metadata is written).
enum class DirectorySync { kNow, kByCaller };

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes,
                           DirectorySync directory_sync = DirectorySync::kNow);

/// WriteFileAtomically in pieces, for files too large to build in memory first: Open creates
/// the temp file, Append adds bytes, Commit fsyncs and renames it over the target. A writer
/// destroyed (or failed) before Commit removes its temp file and leaves the target untouched.
/// One thread at a time; movable, not copyable.
class AtomicFileWriter {
 public:
  /// Creates the temp file next to `path`; its parent directory must exist (NotFound if not).
  static Result<AtomicFileWriter> Open(const std::filesystem::path& path);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  /// Appends `bytes`. After an error the writer is failed: the temp file is gone, and every
  /// later Append and Commit returns that error.
  Status Append(std::string_view bytes);
  /// Makes the file durable under its name (see DirectorySync). At most once; the writer is
  /// finished afterwards, whatever the result.
  Status Commit(DirectorySync directory_sync = DirectorySync::kNow);
  const std::filesystem::path& path() const { return path_; }

 private:
  AtomicFileWriter(std::filesystem::path path, std::filesystem::path temp, int fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}
  // Closes the descriptor and removes the temp file; keeps `status` as the writer's error.
  Status Fail(Status status);
  void Abandon() noexcept;

  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;  // -1 once committed, failed or moved from
  Status error_;
};

/// The whole content of `path`. NotFound if it does not exist.
Result<std::string> ReadFile(const std::filesystem::path& path);

/// fsyncs a directory, making the creation, rename or removal of its entries durable.
Status SyncDirectory(const std::filesystem::path& dir);

/// True for names WriteFileAtomically uses for its temp files ("x.tmp-123-0123456789abcdef").
bool IsTempFileName(std::string_view file_name);

/// `count` random lower-case hex digits (not for cryptography; for unique names).
std::string RandomHex(int count);

}  // namespace sluice::internal
