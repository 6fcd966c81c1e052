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

namespace sluice::internal {

/// Replaces `path` with `bytes` atomically and durably (see above). The parent directory must
/// exist. On failure the target is untouched and the temp file is removed.
/// kNow fsyncs the directory after the rename; kByCaller leaves that to the caller, who syncs
/// the directory once after writing many files (a checkpoint's state files: the directory is
/// synced once before _metadata is written).
enum class DirectorySync { kNow, kByCaller };

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes,
                           DirectorySync directory_sync = DirectorySync::kNow);

/// The whole content of `path`. NotFound if it does not exist.
Result<std::string> ReadFile(const std::filesystem::path& path);

/// fsyncs a directory, making the creation, rename or removal of its entries durable.
Status SyncDirectory(const std::filesystem::path& dir);

/// True for names WriteFileAtomically uses for its temp files ("x.tmp-123-0123456789abcdef").
bool IsTempFileName(std::string_view file_name);

/// `count` random lower-case hex digits (not for cryptography; for unique names).
std::string RandomHex(int count);

}  // namespace sluice::internal
