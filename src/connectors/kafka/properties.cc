#include <sluice/connectors/kafka/properties.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>
#include <string_view>
#include <system_error>

namespace sluice::kafka {
namespace {

std::string_view Trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// "<operation> the properties file <path>: <strerror>"; kNotFound for a missing file.
Status FileError(int err, std::string_view operation, const std::string& path) {
  std::string message = std::string(operation) + " the properties file " + path + ": " +
                        std::generic_category().message(err);
  if (err == ENOENT) return Status::NotFound(std::move(message));
  return Status::IoError(std::move(message));
}

// The whole file; errors name the path, the operation and errno's text (std::ifstream would
// say neither, and it "opens" a directory that then reads as empty).
Result<std::string> ReadWhole(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return FileError(errno, "cannot open", path);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string text;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return FileError(errno, "cannot read", path);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

Result<Properties> LoadProperties(const std::string& path) {
  Result<std::string> text = ReadWhole(path);
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  Properties properties;
  std::string raw;
  int number = 0;
  while (std::getline(in, raw)) {
    ++number;
    const int first_line = number;
    std::string line(Trim(raw));
    // A trailing backslash continues the logical line (JAAS configurations span lines so).
    while (!line.empty() && line.back() == '\\' && std::getline(in, raw)) {
      ++number;
      line.pop_back();
      line += Trim(raw);
    }
    if (line.empty() || line.front() == '#' || line.front() == '!') continue;
    const size_t separator = line.find_first_of("=:");
    std::string_view key =
        Trim(std::string_view(line).substr(0, separator == std::string::npos ? 0 : separator));
    if (separator == std::string::npos || key.empty()) {
      return Status::InvalidArgument("properties file " + path + " line " +
                                     std::to_string(first_line) +
                                     ": expected key=value (the line is not shown: it may hold a "
                                     "secret)");
    }
    properties[std::string(key)] = std::string(Trim(std::string_view(line).substr(separator + 1)));
  }
  return properties;
}

}  // namespace sluice::kafka
