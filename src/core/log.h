// Logging inside sluice: one spdlog logger named "sluice", to stderr, level set by
// --log-level / SetLogLevel (default info). Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

#include <sluice/status.h>

namespace sluice::internal {

spdlog::logger& Logger();

/// "trace", "debug", "info", "warn", "error" or "off".
Status SetLogLevel(std::string_view level);

}  // namespace sluice::internal

#define SLUICE_LOG_DEBUG(...) ::sluice::internal::Logger().debug(__VA_ARGS__)
#define SLUICE_LOG_INFO(...) ::sluice::internal::Logger().info(__VA_ARGS__)
#define SLUICE_LOG_WARN(...) ::sluice::internal::Logger().warn(__VA_ARGS__)
#define SLUICE_LOG_ERROR(...) ::sluice::internal::Logger().error(__VA_ARGS__)
