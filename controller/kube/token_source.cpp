#include "controller/kube/token_source.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <utility>

#include <spdlog/spdlog.h>

namespace governor::controller::kube {
namespace {

// The token with surrounding whitespace removed (files usually end with a newline); nullopt
// when the file cannot be read.
std::optional<std::string> readToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const char* space = " \t\r\n";
  const size_t begin = token.find_first_not_of(space);
  if (begin == std::string::npos) return std::string();
  const size_t end = token.find_last_not_of(space);
  return token.substr(begin, end - begin + 1);
}

}  // namespace

TokenSource::TokenSource(std::string token, std::string token_file, Duration refresh_period,
                         NowFn now)
    : static_token_(std::move(token)),
      file_(std::move(token_file)),
      refresh_period_(refresh_period),
      now_(std::move(now)) {}

Result<std::string> TokenSource::token() {
  if (file_.empty()) return static_token_;
  std::lock_guard lock(mu_);
  const TimePoint now = now_();
  if (have_cached_ && !stale_ && now - last_read_ < refresh_period_) return cached_;
  ++reads_;
  last_read_ = now;
  stale_ = false;
  std::optional<std::string> fresh = readToken(file_);
  if (fresh && !fresh->empty()) {
    cached_ = std::move(*fresh);
    have_cached_ = true;
    return cached_;
  }
  if (have_cached_) {
    // Never log the token; the path is enough.
    spdlog::warn("kube: cannot re-read token file {}; keeping the previous token", file_);
    return cached_;
  }
  return Status(StatusCode::kPermissionDenied,
                "token file \"" + file_ + "\" " + (fresh ? "is empty" : "cannot be read"));
}

bool TokenSource::invalidate() {
  if (file_.empty()) return false;
  std::lock_guard lock(mu_);
  stale_ = true;
  return true;
}

int TokenSource::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

}  // namespace governor::controller::kube
