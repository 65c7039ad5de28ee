#pragma once

// Reading the files a user names, with errors that name them.

#include <string>

#include "base/status.h"

namespace governor::cli {

// The whole file. NotFound / InvalidArgument (a directory, unreadable) name `path`.
Result<std::string> readFile(const std::string& path);

}  // namespace governor::cli
