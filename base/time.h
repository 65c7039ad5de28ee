#pragma once

// Time as Governor's pure code sees it: always an argument, never read from the system here.
// Millisecond resolution: enough for sync periods and scale events, and exact in int64 for
// the whole range of dates we care about.

#include <chrono>
#include <cstdint>

namespace governor {

using Duration = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Duration>;

inline TimePoint fromUnixSeconds(double seconds) {
  return TimePoint(Duration(static_cast<int64_t>(seconds * 1000.0)));
}
inline double toUnixSeconds(TimePoint t) {
  return static_cast<double>(t.time_since_epoch().count()) / 1000.0;
}
inline double toSeconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace governor
