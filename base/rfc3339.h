#pragma once

// RFC 3339 timestamps as the Kubernetes API writes them: metav1.Time ("2026-11-26T04:30:00Z",
// seconds), metav1.MicroTime ("2026-11-26T04:30:00.123456Z", Leases), and Governor's own
// millisecond form for persisted behavior state ("2026-11-26T04:30:00.123Z").
//
// Thread-safety: pure functions.

#include <string>
#include <string_view>

#include "base/status.h"
#include "base/time.h"

namespace governor {

enum class TimePrecision { kSeconds, kMilliseconds, kMicroseconds };

// Formats `t` in UTC with a trailing "Z". kSeconds truncates the milliseconds (as metav1.Time
// does); kMicroseconds pads them with "000".
std::string formatRfc3339(TimePoint t, TimePrecision precision = TimePrecision::kSeconds);

// Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)" ('t', 'z' and a space for 'T'
// accepted). Fractions beyond milliseconds are truncated. InvalidArgument, quoting `text`,
// for anything else (including out-of-range fields such as month 13 or February 30).
Result<TimePoint> parseRfc3339(std::string_view text);

}  // namespace governor
