#include "checkpoint/checkpoint_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "checkpoint/atomic_file.h"
#include "checkpoint/crc32c.h"

namespace sluice::internal {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCheckpointDirPrefix = "chk-";
constexpr std::string_view kWriteProbeName = "_write_probe";
constexpr std::string_view kLockFileName = "_lock";
constexpr std::size_t kMaxJobIdStem = 100;
constexpr std::size_t kMaxStateFileName = 200;  // leaves room for the temp suffix in NAME_MAX
constexpr int kSavepointNameAttempts = 16;

Status FsError(const std::error_code& ec, std::string_view what, const fs::path& path) {
  std::string message = fmt::format("{} {}: {}", what, path.string(), ec.message());
  if (ec == std::errc::no_such_file_or_directory) return Status::NotFound(std::move(message));
  return Status::IoError(std::move(message));
}

Status ValidateStateFileName(std::string_view name) {
  auto invalid = [name](std::string_view why) {
    return Status::InvalidArgument(fmt::format("state file name \"{}\" {}", name, why));
  };
  if (name.empty()) return invalid("is empty");
  if (!IsSafeStateFileName(name)) return invalid("is not a plain file name");
  if (name.front() == '_') return invalid("starts with '_', reserved for _metadata and the like");
  if (IsTempFileName(name)) return invalid("looks like a temp file of an atomic write");
  if (name.size() > kMaxStateFileName) {
    return invalid(fmt::format("is longer than {} bytes", kMaxStateFileName));
  }
  return Status::Ok();
}

// A user may name a snapshot by its directory or by its _metadata file.
fs::path ResolveSnapshotDir(const fs::path& path) {
  std::error_code ec;
  if (path.filename() == kMetadataFileName && !fs::is_directory(path, ec)) {
    return path.parent_path();
  }
  return path;
}

bool Exists(const fs::path& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

Result<CheckpointMetadata> ReadMetadataFile(const fs::path& metadata_file) {
  Result<std::string> bytes = ReadFile(metadata_file);
  if (!bytes.ok()) return bytes.status();
  Result<CheckpointMetadata> metadata = DecodeMetadata(*bytes);
  if (!metadata.ok()) return metadata.status().WithContext(metadata_file.string());
  return metadata;
}

// _metadata of chk-<id>, which must also name checkpoint <id>: a copied or renamed directory
// is not silently taken for another checkpoint.
Result<CheckpointMetadata> ReadCheckpointMetadataIn(const fs::path& dir, std::int64_t id) {
  fs::path metadata_file = dir / kMetadataFileName;
  Result<CheckpointMetadata> metadata = ReadMetadataFile(metadata_file);
  if (metadata.ok() && metadata->checkpoint_id != id) {
    return Status::Corruption(
        fmt::format("{}: records checkpoint_id {} but its directory is chk-{}",
                    metadata_file.string(), metadata->checkpoint_id, id));
  }
  return metadata;
}

Status RemoveAll(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec) return FsError(ec, "cannot remove", path);
  return Status::Ok();
}

void KeepFirstError(Status& first, Status next) {
  if (first.ok() && !next.ok()) first = std::move(next);
}

}  // namespace

std::string JobIdFromName(std::string_view job_name) {
  std::string id;
  bool changed = job_name.empty() || job_name == "." || job_name == "..";
  for (char c : job_name) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    id.push_back(keep ? c : '_');
    changed |= !keep;
  }
  if (id.size() > kMaxJobIdStem) {
    id.resize(kMaxJobIdStem);
    changed = true;
  }
  if (id.empty() || id == "." || id == "..") id = std::string(id.empty() ? 1 : id.size(), '_');
  if (changed) {
    // FNV-1a (32-bit): tiny, fixed by its definition, identical on every platform and build,
    // unlike std::hash.
    std::uint32_t hash = 2166136261u;
    for (char c : job_name) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 16777619u;
    }
    id += fmt::format("-{:08x}", hash);
  }
  return id;
}

std::optional<std::int64_t> ParseCheckpointDirName(std::string_view name) {
  if (!name.starts_with(kCheckpointDirPrefix)) return std::nullopt;
  std::string_view digits = name.substr(kCheckpointDirPrefix.size());
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

// ---- SnapshotLocation ----

Result<std::string> SnapshotLocation::WriteStateFile(std::string_view file_name,
                                                     std::string_view bytes) const {
  if (Status s = ValidateStateFileName(file_name); !s.ok()) return s;
  fs::path path = directory_ / file_name;
  // The directory is synced once, in Complete, before _metadata: one fsync per checkpoint
  // instead of one per operator instance.
  Status status = WriteFileAtomically(path, bytes, DirectorySync::kByCaller);
  if (status.code() == StatusCode::kNotFound) {
    // The directory is created by Begin*; this covers callers that went straight to writing.
    // Trying first and creating on failure saves a stat per file on the common path.
    std::error_code ec;
    fs::create_directories(directory_, ec);
    if (ec) return FsError(ec, "cannot create snapshot directory", directory_);
    status = WriteFileAtomically(path, bytes, DirectorySync::kByCaller);
  }
  if (!status.ok()) return status;
  return std::string(file_name);
}

Result<SubtaskStateMeta> SnapshotLocation::WriteSubtaskState(std::int32_t subtask,
                                                             std::string_view file_name,
                                                             std::string_view bytes) const {
  Result<std::string> file = WriteStateFile(file_name, bytes);
  if (!file.ok()) return file.status();
  SubtaskStateMeta meta;
  meta.subtask = subtask;
  meta.file = std::move(file).value();
  meta.size = bytes.size();
  meta.crc32c = Crc32c(bytes);
  return meta;
}

Result<SubtaskStateFileWriter> SnapshotLocation::CreateSubtaskStateFile(
    std::int32_t subtask, std::string_view file_name) const {
  if (Status s = ValidateStateFileName(file_name); !s.ok()) return s;
  fs::path path = directory_ / file_name;
  Result<AtomicFileWriter> file = AtomicFileWriter::Open(path);
  if (file.status().code() == StatusCode::kNotFound) {
    // As in WriteStateFile: the directory is normally there already.
    std::error_code ec;
    fs::create_directories(directory_, ec);
    if (ec) return FsError(ec, "cannot create snapshot directory", directory_);
    file = AtomicFileWriter::Open(path);
  }
  if (!file.ok()) return file.status();
  return SubtaskStateFileWriter(std::move(file).value(), subtask, std::string(file_name));
}

// ---- SubtaskStateFileWriter ----

Status SubtaskStateFileWriter::Append(std::string_view bytes) {
  if (Status s = file_.Append(bytes); !s.ok()) return s;
  size_ += bytes.size();
  crc32c_ = Crc32cExtend(crc32c_, bytes);
  return Status::Ok();
}

Result<SubtaskStateMeta> SubtaskStateFileWriter::Commit() {
  // The directory is synced once, in Complete, before _metadata (as for WriteStateFile).
  if (Status s = file_.Commit(DirectorySync::kByCaller); !s.ok()) return s;
  SubtaskStateMeta meta;
  meta.subtask = subtask_;
  meta.file = name_;
  meta.size = size_;
  meta.crc32c = crc32c_;
  return meta;
}

// ---- CheckpointStorage: opening ----

CheckpointStorage::CheckpointStorage(fs::path checkpoint_dir, std::string job_name,
                                     std::int32_t instance)
    : checkpoint_dir_(std::move(checkpoint_dir)),
      job_name_(std::move(job_name)),
      job_id_(JobIdFromName(job_name_)),
      instance_(instance),
      instance_dir_(checkpoint_dir_ / job_id_ / fmt::format("instance-{}", instance)),
      mutex_(std::make_unique<std::mutex>()) {}

Result<CheckpointStorage> CheckpointStorage::Open(const fs::path& checkpoint_dir,
                                                  std::string job_name, std::int32_t instance) {
  if (checkpoint_dir.empty()) {
    return Status::InvalidArgument("no checkpoint directory: set --checkpoint-dir");
  }
  if (job_name.empty()) {
    return Status::InvalidArgument("the job has no name; its checkpoints are stored by job name");
  }
  if (instance < 0) {
    return Status::InvalidArgument(fmt::format("job instance must be >= 0, got {}", instance));
  }
  std::error_code ec;
  fs::path absolute = fs::absolute(checkpoint_dir, ec);
  if (ec) return FsError(ec, "cannot resolve --checkpoint-dir", checkpoint_dir);
  CheckpointStorage storage(absolute.lexically_normal(), std::move(job_name), instance);

  fs::create_directories(storage.instance_dir_, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot create checkpoint directory {} (under "
                    "--checkpoint-dir {}): {}",
                    storage.instance_dir_.string(), checkpoint_dir.string(), ec.message()));
  }
  // Find out now, not at the first checkpoint minutes later, that the directory is read-only
  // or full: write and remove a probe file the same way state files are written.
  fs::path probe = storage.instance_dir_ / kWriteProbeName;
  if (Status s = WriteFileAtomically(probe, "probe"); !s.ok()) {
    return Status::IoError(
        fmt::format("checkpoint directory {} is not writable (check "
                    "--checkpoint-dir {}): {}",
                    storage.instance_dir_.string(), checkpoint_dir.string(), s.message()));
  }
  fs::remove(probe, ec);
  return storage;
}

CheckpointStorage::LockFile::~LockFile() {
  if (fd >= 0) ::close(fd);
}

Status CheckpointStorage::LockExclusively() {
  if (lock_ != nullptr) return Status::Ok();
  const fs::path path = instance_dir_ / kLockFileName;
  auto lock = std::make_unique<LockFile>();
  do {
    lock->fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  } while (lock->fd < 0 && errno == EINTR);
  if (lock->fd < 0) {
    return Status::IoError(
        fmt::format("cannot open lock file {}: {}", path.string(), std::strerror(errno)));
  }
  int rc;
  do {
    rc = ::flock(lock->fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK) {
      return Status::IoError(fmt::format("cannot lock {}: {}", path.string(), std::strerror(err)));
    }
    Result<std::string> holder = ReadFile(path);
    std::string who = holder.ok() ? *holder : std::string();
    while (!who.empty() && (who.back() == '\n' || who.back() == ' ')) who.pop_back();
    return Status::FailedPrecondition(fmt::format(
        "checkpoint directory {} is in use by another process ({}; it holds {}): two instances "
        "of job '{}' must not write one checkpoint directory, they would delete each other's "
        "checkpoints. Stop the other one, or give this one its own --checkpoint-dir (and, with "
        "an EXACTLY_ONCE Kafka sink, its own transactional id prefix or instance)",
        instance_dir_.string(), who.empty() ? "pid unknown" : who, path.string(), job_name_));
  }
  // Who holds it, for the message above; the lock itself is the flock, not this content.
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  const std::string content = fmt::format("pid {} on host {}\n", ::getpid(), host);
  if (::ftruncate(lock->fd, 0) != 0 || ::pwrite(lock->fd, content.data(), content.size(), 0) !=
                                           static_cast<ssize_t>(content.size())) {
    return Status::IoError(
        fmt::format("cannot write lock file {}: {}", path.string(), std::strerror(errno)));
  }
  lock_ = std::move(lock);
  return Status::Ok();
}

fs::path CheckpointStorage::CheckpointDir(std::int64_t id) const {
  return instance_dir_ / fmt::format("{}{}", kCheckpointDirPrefix, id);
}

// ---- writing ----

Result<SnapshotLocation> CheckpointStorage::BeginCheckpoint(std::int64_t id) {
  if (id < 0) return Status::InvalidArgument(fmt::format("checkpoint id must be >= 0, got {}", id));
  std::lock_guard lock(*mutex_);
  fs::path dir = CheckpointDir(id);
  if (Exists(dir / kMetadataFileName)) {
    return Status::AlreadyExists(
        fmt::format("checkpoint {} is already complete in {}", id, dir.string()));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return FsError(ec, "cannot create checkpoint directory", dir);
  return SnapshotLocation(std::move(dir), id, /*is_savepoint=*/false);
}

Result<SnapshotLocation> CheckpointStorage::BeginSavepoint(fs::path savepoint_dir,
                                                           std::int64_t id) {
  if (id < 0) return Status::InvalidArgument(fmt::format("checkpoint id must be >= 0, got {}", id));
  if (savepoint_dir.empty()) return Status::InvalidArgument("no savepoint directory given");
  std::error_code ec;
  savepoint_dir = fs::absolute(savepoint_dir, ec).lexically_normal();
  if (ec) return FsError(ec, "cannot resolve savepoint directory", savepoint_dir);
  fs::create_directories(savepoint_dir, ec);
  if (ec) return FsError(ec, "cannot create savepoint directory", savepoint_dir);
  for (int attempt = 0; attempt < kSavepointNameAttempts; ++attempt) {
    fs::path dir = savepoint_dir / fmt::format("savepoint-{}-{}-{}", job_id_, id, RandomHex(6));
    // create_directory, not create_directories: false means the name was taken, so two
    // savepoints can never share a directory.
    bool created = fs::create_directory(dir, ec);
    if (ec) return FsError(ec, "cannot create savepoint directory", dir);
    if (!created) continue;
    if (Status s = SyncDirectory(savepoint_dir); !s.ok()) return s;
    return SnapshotLocation(std::move(dir), id, /*is_savepoint=*/true);
  }
  return Status::IoError(
      fmt::format("cannot find a free savepoint directory name in {} after {} "
                  "attempts",
                  savepoint_dir.string(), kSavepointNameAttempts));
}

Result<std::string> CheckpointStorage::WriteStateFile(std::int64_t checkpoint_id,
                                                      std::string_view file_name,
                                                      std::string_view bytes) {
  if (checkpoint_id < 0) {
    return Status::InvalidArgument(
        fmt::format("checkpoint id must be >= 0, got {}", checkpoint_id));
  }
  // No lock: task threads write their own files concurrently.
  return SnapshotLocation(CheckpointDir(checkpoint_id), checkpoint_id, false)
      .WriteStateFile(file_name, bytes);
}

Status CheckpointStorage::Complete(const SnapshotLocation& location,
                                   const CheckpointMetadata& metadata) {
  const fs::path& dir = location.directory();
  auto mismatch = [&](std::string what) {
    return Status::InvalidArgument(fmt::format("cannot complete {} {} in {}: {}",
                                               location.is_savepoint() ? "savepoint" : "checkpoint",
                                               location.checkpoint_id(), dir.string(), what));
  };
  if (metadata.checkpoint_id != location.checkpoint_id()) {
    return mismatch(fmt::format("metadata is for checkpoint {}", metadata.checkpoint_id));
  }
  if (metadata.is_savepoint != location.is_savepoint()) {
    return mismatch(fmt::format("metadata says is_savepoint={}", metadata.is_savepoint));
  }
  if (metadata.job_name != job_name_ || metadata.instance != instance_) {
    return mismatch(
        fmt::format("metadata is for job \"{}\" instance {}, storage for \"{}\" "
                    "instance {}",
                    metadata.job_name, metadata.instance, job_name_, instance_));
  }
  if (metadata.format_version != kCheckpointMetadataVersion) {
    return mismatch(fmt::format("metadata has format_version {}, this build writes {}",
                                metadata.format_version, kCheckpointMetadataVersion));
  }
  std::set<std::string_view> uids;
  for (const OperatorStateMeta& op : metadata.operators) {
    if (!uids.insert(op.uid).second) {
      return mismatch(fmt::format("operator uid \"{}\" appears twice", op.uid));
    }
    for (const SubtaskStateMeta& subtask : op.subtasks) {
      if (subtask.file.empty()) continue;
      if (!IsSafeStateFileName(subtask.file)) {
        return mismatch(fmt::format("operator \"{}\" subtask {}: \"{}\" is not a plain file name",
                                    op.uid, subtask.subtask, subtask.file));
      }
      // The size, not the checksum: re-reading every byte would double the checkpoint's I/O.
      std::error_code ec;
      std::uintmax_t size = fs::file_size(dir / subtask.file, ec);
      if (ec) {
        return mismatch(fmt::format("operator \"{}\" subtask {}: cannot stat its state file {}: {}",
                                    op.uid, subtask.subtask, (dir / subtask.file).string(),
                                    ec.message()));
      }
      if (size != subtask.size) {
        return mismatch(
            fmt::format("operator \"{}\" subtask {}: state file {} has {} bytes, "
                        "metadata says {}",
                        op.uid, subtask.subtask, subtask.file, size, subtask.size));
      }
    }
  }

  // Whatever the restore-time reader would reject (inconsistent key-group offsets, say) must
  // fail this checkpoint now, not the restart that needs it.
  std::string encoded = EncodeMetadata(metadata);
  if (Result<CheckpointMetadata> decoded = DecodeMetadata(encoded); !decoded.ok()) {
    return mismatch(decoded.status().message());
  }

  std::lock_guard lock(*mutex_);
  fs::path metadata_file = dir / kMetadataFileName;
  if (Exists(metadata_file)) {
    return Status::AlreadyExists(fmt::format("{} already exists", metadata_file.string()));
  }
  // Every state file's rename and the directory's own entry must be durable before
  // _metadata declares the checkpoint complete (state files are written with
  // DirectorySync::kByCaller).
  if (Status s = SyncDirectory(dir); !s.ok()) return s;
  if (Status s = SyncDirectory(dir.parent_path()); !s.ok()) return s;
  return WriteFileAtomically(metadata_file, encoded);
}

Status CheckpointStorage::CompleteCheckpoint(const CheckpointMetadata& metadata) {
  if (metadata.checkpoint_id < 0) {
    return Status::InvalidArgument(
        fmt::format("checkpoint id must be >= 0, got {}", metadata.checkpoint_id));
  }
  return Complete(SnapshotLocation(CheckpointDir(metadata.checkpoint_id), metadata.checkpoint_id,
                                   /*is_savepoint=*/false),
                  metadata);
}

Result<fs::path> CheckpointStorage::WriteSavepoint(fs::path savepoint_dir,
                                                   const std::map<std::string, std::string>& files,
                                                   const CheckpointMetadata& metadata) {
  Result<SnapshotLocation> location =
      BeginSavepoint(std::move(savepoint_dir), metadata.checkpoint_id);
  if (!location.ok()) return location.status();
  Status status;
  for (const auto& [name, bytes] : files) {
    Result<std::string> written = location->WriteStateFile(name, bytes);
    if (!written.ok()) {
      status = written.status();
      break;
    }
  }
  if (status.ok()) status = Complete(*location, metadata);
  if (!status.ok()) {
    // Half a savepoint is of no use to anyone and the directory is ours alone.
    (void)RemoveAll(location->directory());
    return status;
  }
  return location->directory();
}

Status CheckpointStorage::RewriteStatus(const fs::path& dir) {
  fs::path metadata_file = dir / kMetadataFileName;
  if (!Exists(metadata_file)) {
    return Status::NotFound(
        fmt::format("cannot mark {} committed: it has no _metadata (not a "
                    "complete checkpoint)",
                    dir.string()));
  }
  Result<CheckpointMetadata> metadata = ReadMetadataFile(metadata_file);
  if (!metadata.ok()) return metadata.status();
  if (metadata->status == CheckpointMetadata::Status::kCommitted) return Status::Ok();
  metadata->status = CheckpointMetadata::Status::kCommitted;
  return WriteFileAtomically(metadata_file, EncodeMetadata(*metadata));
}

Status CheckpointStorage::MarkCommitted(std::int64_t id) {
  std::lock_guard lock(*mutex_);
  return RewriteStatus(CheckpointDir(id));
}

Status CheckpointStorage::MarkCommitted(const SnapshotLocation& location) {
  std::lock_guard lock(*mutex_);
  return RewriteStatus(location.directory());
}

// ---- reading this instance's checkpoints ----

Result<std::vector<std::pair<std::int64_t, fs::path>>> CheckpointStorage::ListCheckpointDirs()
    const {
  std::vector<std::pair<std::int64_t, fs::path>> dirs;
  std::error_code ec;
  fs::directory_iterator it(instance_dir_, ec);
  if (ec) return FsError(ec, "cannot list checkpoint directory", instance_dir_);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::optional<std::int64_t> id = ParseCheckpointDirName(it->path().filename().string());
    std::error_code type_ec;
    if (id && it->is_directory(type_ec)) dirs.emplace_back(*id, it->path());
  }
  if (ec) return FsError(ec, "cannot list checkpoint directory", instance_dir_);
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::vector<std::int64_t> CheckpointStorage::ListCompleted() {
  std::lock_guard lock(*mutex_);
  auto dirs = ListCheckpointDirs();
  if (!dirs.ok()) {
    spdlog::warn("listing checkpoints: {}", dirs.status().ToString());
    return {};
  }
  std::vector<std::int64_t> ids;
  for (const auto& [id, dir] : *dirs) {
    if (Exists(dir / kMetadataFileName) && ReadCheckpointMetadataIn(dir, id).ok()) {
      ids.push_back(id);
    }
  }
  return ids;
}

Result<std::optional<CheckpointMetadata>> CheckpointStorage::LatestCompleted() {
  std::lock_guard lock(*mutex_);
  auto dirs = ListCheckpointDirs();
  if (!dirs.ok()) return dirs.status();
  for (auto it = dirs->rbegin(); it != dirs->rend(); ++it) {
    if (!Exists(it->second / kMetadataFileName)) continue;  // incomplete
    Result<CheckpointMetadata> metadata = ReadCheckpointMetadataIn(it->second, it->first);
    if (!metadata.ok()) {
      return metadata.status().WithContext(fmt::format(
          "the newest checkpoint cannot be restored (remove {} to fall back to an older one, or "
          "start with --fresh)",
          it->second.string()));
    }
    return std::optional<CheckpointMetadata>(std::move(metadata).value());
  }
  return std::optional<CheckpointMetadata>();
}

Result<CheckpointMetadata> CheckpointStorage::ReadCheckpointMetadata(std::int64_t id) {
  std::lock_guard lock(*mutex_);
  fs::path dir = CheckpointDir(id);
  if (!Exists(dir / kMetadataFileName)) {
    return Status::NotFound(fmt::format("checkpoint {} is not complete: no {}", id,
                                        (dir / kMetadataFileName).string()));
  }
  return ReadCheckpointMetadataIn(dir, id);
}

// ---- removing ----

Status CheckpointStorage::DiscardIncomplete(std::optional<std::int64_t> keep) {
  std::lock_guard lock(*mutex_);
  auto dirs = ListCheckpointDirs();
  if (!dirs.ok()) return dirs.status();
  Status first_error;
  auto remove_temp_files = [&first_error](const fs::path& dir) {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
      if (!IsTempFileName(it->path().filename().string())) continue;
      std::error_code remove_ec;
      fs::remove(it->path(), remove_ec);
      if (remove_ec) KeepFirstError(first_error, FsError(remove_ec, "cannot remove", it->path()));
    }
    if (ec) KeepFirstError(first_error, FsError(ec, "cannot list", dir));
  };
  remove_temp_files(instance_dir_);
  for (const auto& [id, dir] : *dirs) {
    if (!Exists(dir / kMetadataFileName) && id == keep) {
      spdlog::warn("keeping checkpoint {}: it has no _metadata, but it is the committed one",
                   dir.string());
      continue;
    }
    if (!Exists(dir / kMetadataFileName)) {
      spdlog::info("removing incomplete checkpoint {}", dir.string());
      KeepFirstError(first_error, RemoveAll(dir));
      continue;
    }
    if (Result<CheckpointMetadata> metadata = ReadCheckpointMetadataIn(dir, id); !metadata.ok()) {
      spdlog::warn("keeping checkpoint {} whose metadata cannot be read: {}", dir.string(),
                   metadata.status().ToString());
    }
    // A crash during MarkCommitted's rewrite leaves "_metadata.tmp-..." next to _metadata.
    remove_temp_files(dir);
  }
  return first_error;
}

std::int64_t CheckpointStorage::HighestCheckpointId() {
  std::lock_guard lock(*mutex_);
  auto dirs = ListCheckpointDirs();
  if (!dirs.ok() || dirs->empty()) return 0;
  return dirs->back().first;
}

Status CheckpointStorage::DiscardLocked(std::int64_t id) {
  fs::path dir = CheckpointDir(id);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  // remove_all deletes in no particular order; without this step a crash could leave a
  // _metadata whose state files are already gone, i.e. a "complete" checkpoint that cannot be
  // restored.
  if (fs::remove(dir / kMetadataFileName, ec)) {
    if (Status s = SyncDirectory(dir); !s.ok()) return s;
  } else if (ec) {
    return FsError(ec, "cannot remove", dir / kMetadataFileName);
  }
  return RemoveAll(dir);
}

Status CheckpointStorage::Discard(std::int64_t id) {
  std::lock_guard lock(*mutex_);
  return DiscardLocked(id);
}

Status CheckpointStorage::Prune(int retain) {
  if (retain < 1) {
    return Status::InvalidArgument(
        fmt::format("the number of checkpoints to retain must be at least 1, got {}", retain));
  }
  std::lock_guard lock(*mutex_);
  auto dirs = ListCheckpointDirs();
  if (!dirs.ok()) return dirs.status();

  std::vector<std::int64_t> completed;
  std::vector<std::int64_t> incomplete;
  std::optional<std::int64_t> newest_committed;
  for (const auto& [id, dir] : *dirs) {
    if (!Exists(dir / kMetadataFileName)) {
      incomplete.push_back(id);
      continue;
    }
    Result<CheckpointMetadata> metadata = ReadCheckpointMetadataIn(dir, id);
    if (!metadata.ok()) continue;  // never delete what we cannot read
    completed.push_back(id);
    if (metadata->status == CheckpointMetadata::Status::kCommitted) newest_committed = id;
  }

  Status first_error;
  auto retain_count = static_cast<std::size_t>(retain);
  if (completed.size() > retain_count) {
    for (std::size_t i = 0; i < completed.size() - retain_count; ++i) {
      if (completed[i] == newest_committed) continue;
      KeepFirstError(first_error, DiscardLocked(completed[i]));
    }
  }
  if (!completed.empty()) {
    for (std::int64_t id : incomplete) {
      if (id < completed.back()) KeepFirstError(first_error, DiscardLocked(id));
    }
  }
  return first_error;
}

Status CheckpointStorage::DiscardNewerThan(std::int64_t id) {
  std::lock_guard lock(*mutex_);
  auto dirs = ListCheckpointDirs();
  if (!dirs.ok()) return dirs.status();
  Status first_error;
  for (const auto& [dir_id, dir] : *dirs) {
    if (dir_id > id) {
      spdlog::info("removing checkpoint {}: newer than checkpoint {}, which the job restores",
                   dir.string(), id);
      KeepFirstError(first_error, DiscardLocked(dir_id));
    }
  }
  return first_error;
}

// ---- reading any snapshot ----

Result<CheckpointMetadata> CheckpointStorage::ReadMetadataAt(const fs::path& path) {
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  // A directory on the way that cannot be searched is no missing path.
  if (ec && ec != std::errc::no_such_file_or_directory) return FsError(ec, "cannot stat", path);
  if (!fs::exists(status)) {
    return Status::NotFound(
        fmt::format("no checkpoint or savepoint at {}: the path does not exist", path.string()));
  }
  fs::path metadata_file = path;
  if (fs::is_directory(status)) {
    metadata_file = path / kMetadataFileName;
    if (!Exists(metadata_file)) {
      return Status::NotFound(
          fmt::format("{} has no {}: it is not a complete checkpoint or savepoint", path.string(),
                      kMetadataFileName));
    }
  }
  return ReadMetadataFile(metadata_file);
}

Result<std::string> CheckpointStorage::ReadStateFile(const fs::path& checkpoint_or_savepoint_dir,
                                                     std::string_view file) {
  if (file.empty()) return std::string();
  if (!IsSafeStateFileName(file)) {
    return Status::InvalidArgument(
        fmt::format("state file name \"{}\" is not a plain file name", file));
  }
  return ReadFile(ResolveSnapshotDir(checkpoint_or_savepoint_dir) / file);
}

Result<std::string> CheckpointStorage::ReadStateFile(const fs::path& checkpoint_or_savepoint_dir,
                                                     const SubtaskStateMeta& subtask) {
  Result<std::string> bytes = ReadStateFile(checkpoint_or_savepoint_dir, subtask.file);
  if (!bytes.ok()) return bytes;
  fs::path path = ResolveSnapshotDir(checkpoint_or_savepoint_dir) / subtask.file;
  if (bytes->size() != subtask.size) {
    return Status::Corruption(
        fmt::format("state file {} (subtask {}) has {} bytes, _metadata "
                    "records {}",
                    path.string(), subtask.subtask, bytes->size(), subtask.size));
  }
  if (std::uint32_t crc = Crc32c(*bytes); crc != subtask.crc32c) {
    return Status::Corruption(
        fmt::format("state file {} (subtask {}) fails its checksum: "
                    "CRC-32C is {:#010x}, _metadata records {:#010x}",
                    path.string(), subtask.subtask, crc, subtask.crc32c));
  }
  return bytes;
}

// ---- inspecting (`sluice checkpoints`, restore errors) ----

std::string_view CheckpointDirStateName(const CheckpointDirInfo& info) {
  switch (info.state) {
    case CheckpointDirInfo::State::kIncomplete:
      return "INCOMPLETE";
    case CheckpointDirInfo::State::kCorrupt:
      return "CORRUPT";
    case CheckpointDirInfo::State::kDamaged:
      return "DAMAGED";
    case CheckpointDirInfo::State::kUsable:
      return info.metadata && info.metadata->status == CheckpointMetadata::Status::kCommitted
                 ? "COMMITTED"
                 : "COMPLETED";
  }
  return "UNKNOWN";
}

Result<std::map<std::string, std::string>> CheckpointStorage::ReadStateFiles(
    const fs::path& dir, const CheckpointMetadata& metadata) {
  std::map<std::string, std::string> files;
  for (const OperatorStateMeta& op : metadata.operators) {
    for (const SubtaskStateMeta& subtask : op.subtasks) {
      if (subtask.file.empty() || files.count(subtask.file) != 0) continue;
      Result<std::string> bytes = ReadStateFile(dir, subtask);
      if (!bytes.ok()) return bytes.status();
      files.emplace(subtask.file, std::move(bytes).value());
    }
  }
  return files;
}

Result<std::vector<CheckpointDirInfo>> CheckpointStorage::Inspect(const fs::path& instance_dir,
                                                                  bool verify_state_files) {
  std::vector<CheckpointDirInfo> infos;
  std::error_code ec;
  fs::directory_iterator it(instance_dir, ec);
  if (ec) return FsError(ec, "cannot list checkpoint directory", instance_dir);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    std::optional<std::int64_t> id = ParseCheckpointDirName(it->path().filename().string());
    std::error_code type_ec;
    if (!id || !it->is_directory(type_ec)) continue;
    CheckpointDirInfo& info = infos.emplace_back();
    info.id = *id;
    info.directory = it->path();
  }
  if (ec) return FsError(ec, "cannot list checkpoint directory", instance_dir);
  std::sort(infos.begin(), infos.end(),
            [](const CheckpointDirInfo& a, const CheckpointDirInfo& b) { return a.id < b.id; });
  for (CheckpointDirInfo& info : infos) {
    const fs::path metadata_file = info.directory / kMetadataFileName;
    if (!Exists(metadata_file)) {
      info.state = CheckpointDirInfo::State::kIncomplete;
      info.problem = Status::NotFound(fmt::format("{} does not exist", metadata_file.string()));
      continue;
    }
    Result<CheckpointMetadata> metadata = ReadCheckpointMetadataIn(info.directory, info.id);
    if (!metadata.ok()) {
      info.state = CheckpointDirInfo::State::kCorrupt;
      info.problem = metadata.status();
      continue;
    }
    info.metadata = std::move(metadata).value();
    info.state = CheckpointDirInfo::State::kUsable;
    if (!verify_state_files) continue;
    if (Result<std::map<std::string, std::string>> files =
            ReadStateFiles(info.directory, *info.metadata);
        !files.ok()) {
      info.state = CheckpointDirInfo::State::kDamaged;
      info.problem = files.status();
    }
  }
  return infos;
}

}  // namespace sluice::internal
