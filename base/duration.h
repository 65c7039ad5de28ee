#pragma once

// Durations as Kubernetes controllers and Prometheus write them: "15s", "1m30s", "10h",
// "336h", "500ms", "1.5h". Units: ms, s, m, h, d (24h), w (7d). A bare "0" is zero.

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"

namespace governor {

// Error messages quote the text: `"10x": unknown unit "x" (use ms, s, m, h, d or w)`.
Result<Duration> parseDuration(std::string_view text);

// Shortest exact form: 90'000 ms -> "1m30s", 0 -> "0s", 1'500 ms -> "1.5s".
std::string formatDuration(Duration d);

}  // namespace governor
