#include <sluice/connectors/kafka/properties.h>

#include <fstream>
#include <string_view>

namespace sluice::kafka {
namespace {

std::string_view Trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

}  // namespace

Result<Properties> LoadProperties(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::NotFound("cannot read the properties file " + path +
                            " (it must exist and be readable by this user)");
  }
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
