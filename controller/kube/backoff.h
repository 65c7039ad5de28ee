#pragma once

// Exponential backoff with jitter, for re-watching and relisting after errors: initial,
// 2x initial, 4x initial, ... capped at max, each delay shortened by a random fraction of up
// to `jitter` so that many informers that lost the API server together do not come back in
// lockstep (client-go's wait.Backoff does the same with its Jitter factor).
//
// Thread-safety: not thread-safe; one per retry loop.

#include <cstdint>
#include <random>

#include "base/time.h"

namespace governor::controller::kube {

class Backoff {
 public:
  // REQUIRES: 0 < initial <= max, 0 <= jitter < 1.
  Backoff(Duration initial, Duration max, double jitter = 0.2,
          uint64_t seed = std::random_device{}());

  // The next delay: min(max, initial * 2^n) * (1 - jitter * u), u uniform in [0, 1).
  // Always in [initial * (1 - jitter), max].
  Duration next();

  // After a success: the next delay is `initial` again.
  void reset() { attempt_ = 0; }

 private:
  Duration initial_;
  Duration max_;
  double jitter_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace governor::controller::kube
