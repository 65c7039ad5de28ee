#include "controller/clock.h"

#include <chrono>

namespace governor::controller {

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

}  // namespace governor::controller
