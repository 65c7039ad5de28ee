#pragma once

// Where the Kubernetes client reads the time when the time matters for its logic (token
// re-reads, discovery refreshes, Event timestamps): a function, so tests pass a manual one.
// governor_kube sits below governor_controller, so it cannot take controller::Clock; the
// operator adapts its Clock with `[&clock] { return clock.now(); }`.

#include <chrono>
#include <functional>

#include "base/time.h"

namespace governor::controller::kube {

using NowFn = std::function<TimePoint()>;

// The system's wall clock at millisecond resolution.
inline TimePoint systemNow() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace governor::controller::kube
