#pragma once

// The bearer token of every request. Projected service-account tokens rotate (the kubelet
// rewrites the file well before expiry), so a token file is re-read, as client-go's cached
// file token source does: at most once per refresh period, and at once after the server
// answered 401 (the token may have rotated since the last read).
//
// Thread-safety: thread-safe.

#include <chrono>
#include <mutex>
#include <string>

#include "base/status.h"
#include "base/time.h"
#include "controller/kube/time_source.h"

namespace governor::controller::kube {

class TokenSource {
 public:
  // `token` is sent as is when `token_file` is empty; otherwise the file is read (trimmed)
  // on first use and again when `refresh_period` has passed since the last read.
  TokenSource(std::string token, std::string token_file,
              Duration refresh_period = std::chrono::minutes(1), NowFn now = systemNow);

  TokenSource(const TokenSource&) = delete;
  TokenSource& operator=(const TokenSource&) = delete;

  // The token to send; "" when there is none (client certificates, anonymous). When a
  // re-read fails, the previous token is kept (the file may be mid-rotation). Returns
  // PermissionDenied, naming the file, when it was never readable or is empty.
  Result<std::string> token();

  // Called after a 401: the next token() re-reads the file whatever the period. Returns
  // whether there is a file to re-read (else retrying cannot help).
  bool invalidate();

  // How many times the file was read (for tests and debugging).
  int reads() const;

 private:
  const std::string static_token_;
  const std::string file_;
  const Duration refresh_period_;
  const NowFn now_;

  mutable std::mutex mu_;
  std::string cached_;        // Guarded by mu_.
  bool have_cached_ = false;  // Guarded by mu_.
  TimePoint last_read_{};     // Guarded by mu_.
  bool stale_ = true;         // Guarded by mu_.
  int reads_ = 0;             // Guarded by mu_.
};

}  // namespace governor::controller::kube
