#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace sluice::internal {

spdlog::logger& Logger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto created = spdlog::stderr_color_mt("sluice");
    created->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [sluice] %v");
    created->set_level(spdlog::level::info);
    return created;
  }();
  return *logger;
}

Status SetLogLevel(std::string_view level) {
  spdlog::level::level_enum parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("unknown log level '" + std::string(level) +
                                   "'; use trace, debug, info, warn, error or off (--log-level)");
  }
  Logger().set_level(parsed);
  return Status::Ok();
}

}  // namespace sluice::internal
