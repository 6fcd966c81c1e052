#include "checkpoint/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace sluice::internal {
namespace {

constexpr std::string_view kTempInfix = ".tmp-";

std::string ErrnoText(int err) { return std::strerror(err); }

Status ErrnoStatus(int err, std::string_view what, const std::filesystem::path& path) {
  std::string message = fmt::format("{} {}: {}", what, path.string(), ErrnoText(err));
  if (err == ENOENT) return Status::NotFound(std::move(message));
  return Status::IoError(std::move(message));
}

// Closes the descriptor on every path out of a function; Release() hands it back when the
// caller wants to see close()'s own error.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

int OpenRetryingOnEintr(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do {
    fd = ::open(path, flags, mode);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

Status WriteAll(int fd, std::string_view bytes, const std::filesystem::path& path) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot write", path);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string RandomHex(int count) {
  // One engine per thread, seeded from the OS and the thread's identity, so task threads
  // writing state files at the same moment never contend or draw the same name.
  static thread_local std::mt19937_64 engine = [] {
    static std::atomic<std::uint64_t> counter{0};
    std::random_device device;
    std::seed_seq seed{
        device(), device(),
        static_cast<unsigned>(std::hash<std::thread::id>{}(std::this_thread::get_id())),
        static_cast<unsigned>(counter.fetch_add(1))};
    return std::mt19937_64(seed);
  }();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(static_cast<std::size_t>(count));
  std::uint64_t bits = 0;
  for (int i = 0; i < count; ++i) {
    if (i % 16 == 0) bits = engine();
    out.push_back(kDigits[bits & 0xFu]);
    bits >>= 4;
  }
  return out;
}

bool IsTempFileName(std::string_view file_name) {
  std::size_t at = file_name.rfind(kTempInfix);
  if (at == std::string_view::npos || at == 0) return false;
  std::string_view tail = file_name.substr(at + kTempInfix.size());  // "<pid>-<hex>"
  std::size_t dash = tail.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == tail.size()) return false;
  for (char c : tail.substr(0, dash)) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : tail.substr(dash + 1)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status SyncDirectory(const std::filesystem::path& dir) {
  int fd = OpenRetryingOnEintr(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open directory", dir);
  FileDescriptor guard(fd);
  if (::fsync(fd) != 0) return ErrnoStatus(errno, "cannot fsync directory", dir);
  return Status::Ok();
}

Result<AtomicFileWriter> AtomicFileWriter::Open(const std::filesystem::path& path) {
  if (!path.has_filename()) {
    return Status::InvalidArgument(fmt::format("cannot write {}: not a file path", path.string()));
  }
  std::filesystem::path temp = path;
  temp += fmt::format("{}{}-{}", kTempInfix, ::getpid(), RandomHex(16));
  // O_EXCL: a name collision (vanishingly unlikely) fails instead of two writers sharing a file.
  int fd = OpenRetryingOnEintr(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "cannot create", temp);
  return AtomicFileWriter(path, std::move(temp), fd);
}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      error_(std::move(other.error_)) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
  if (this != &other) {
    Abandon();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    fd_ = std::exchange(other.fd_, -1);
    error_ = std::move(other.error_);
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() { Abandon(); }

void AtomicFileWriter::Abandon() noexcept {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_.c_str());
  fd_ = -1;
}

Status AtomicFileWriter::Fail(Status status) {
  Abandon();
  error_ = status;
  return status;
}

Status AtomicFileWriter::Append(std::string_view bytes) {
  if (fd_ < 0) {
    return error_.ok()
               ? Status::FailedPrecondition(fmt::format("{} was already committed", path_.string()))
               : error_;
  }
  if (Status s = WriteAll(fd_, bytes, temp_); !s.ok()) return Fail(std::move(s));
  return Status::Ok();
}

Status AtomicFileWriter::Commit(DirectorySync directory_sync) {
  if (fd_ < 0) {
    return error_.ok()
               ? Status::FailedPrecondition(fmt::format("{} was already committed", path_.string()))
               : error_;
  }
  // Without this fsync a crash after the rename could leave the new name pointing at an empty
  // or partial file (ext4 delayed allocation, XFS).
  if (::fsync(fd_) != 0) return Fail(ErrnoStatus(errno, "cannot fsync", temp_));
  // close() can report a deferred write error (NFS); it must not be lost.
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(temp_.c_str());
    error_ = ErrnoStatus(err, "cannot close", temp_);
    return error_;
  }
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_.c_str());
    error_ = Status::IoError(
        fmt::format("cannot rename {} to {}: {}", temp_.string(), path_.string(), ErrnoText(err)));
    return error_;
  }
  if (directory_sync == DirectorySync::kByCaller) return Status::Ok();
  std::filesystem::path dir = path_.parent_path();
  if (dir.empty()) dir = ".";
  return SyncDirectory(dir);
}

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view bytes,
                           DirectorySync directory_sync) {
  Result<AtomicFileWriter> writer = AtomicFileWriter::Open(path);
  if (!writer.ok()) return writer.status();
  if (Status s = writer->Append(bytes); !s.ok()) return s;
  return writer->Commit(directory_sync);
}

Result<std::string> ReadFile(const std::filesystem::path& path) {
  int fd = OpenRetryingOnEintr(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  FileDescriptor file(fd);
  struct stat st{};
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "cannot stat", path);
  if (S_ISDIR(st.st_mode)) return ErrnoStatus(EISDIR, "cannot read", path);
  // The size is a hint only: the loop reads until EOF, so a file that grows while being read is
  // still read whole. One spare byte lets the common case see EOF without growing the buffer.
  std::string out(st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 4096, '\0');
  std::size_t used = 0;
  while (true) {
    if (used == out.size()) out.resize(out.size() * 2);
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read", path);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return out;
}

}  // namespace sluice::internal
