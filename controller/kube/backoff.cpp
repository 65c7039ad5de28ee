#include "controller/kube/backoff.h"

#include <algorithm>
#include <cassert>

namespace governor::controller::kube {

Backoff::Backoff(Duration initial, Duration max, double jitter, uint64_t seed)
    : initial_(initial), max_(max), jitter_(jitter), random_(seed) {
  assert(initial_.count() > 0 && initial_ <= max_ && jitter_ >= 0 && jitter_ < 1);
}

Duration Backoff::next() {
  // Doubling stops once the cap is reached, so the shift never overflows.
  Duration delay = initial_;
  for (int i = 0; i < attempt_ && delay < max_; ++i) delay *= 2;
  delay = std::min(delay, max_);
  if (delay < max_) ++attempt_;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double factor = 1.0 - jitter_ * unit(random_);
  return Duration(static_cast<int64_t>(static_cast<double>(delay.count()) * factor));
}

}  // namespace governor::controller::kube
