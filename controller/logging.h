#pragma once

// Process-wide logging setup (spdlog): text for people, JSON lines for log pipelines.

#include <string_view>

#include "base/status.h"

namespace governor::controller {

enum class LogFormat { kText, kJson };

Result<LogFormat> parseLogFormat(std::string_view text);

// Configures the default spdlog logger to write to stderr in `format` at `level`
// ("trace", "debug", "info", "warn", "error"). An unknown level is an error.
Status setupLogging(LogFormat format, std::string_view level);

}  // namespace governor::controller
