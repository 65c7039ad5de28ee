#include "cli/files.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace governor::cli {

Result<std::string> readFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return notFound(path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) {
    return invalidArgument(path + ": is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return invalidArgument(path + ": read error");
  return buffer.str();
}

}  // namespace governor::cli
