#pragma once

// Scheduled windows: when a ScheduleSpec is in force, in absolute time.
//
// Cron times are wall-clock times in the schedule's IANA zone. Across DST transitions:
// - a start or end that falls in a skipped hour (spring forward) takes effect at the first
//   instant after the gap (02:30 Europe/Berlin on the last Sunday of March -> 03:00 CEST);
//   several skipped times ("*/15 2 * * *") all take effect at that one instant;
// - a time that occurs twice (fall back) fires once, at its first occurrence: "30 2 * * *"
//   in Europe/Berlin on the last Sunday of October fires at 02:30 CEST (00:30 UTC) only,
//   and at the second 02:45 (CET) the latest start is still that 02:30 CEST.
// So the instants a cron fires at are the local matches mapped through this rule, in order;
// "latest fire <= t" and "first fire > t" below are about these instants.
// `duration` is elapsed time, so a 10h window that spans a transition ends 10 real hours later.
//
// Window semantics, for a ScheduleSpec evaluated at `now`:
// - start + duration: active iff the latest start fire s <= now satisfies now < s + duration.
//   Windows may overlap (a duration longer than the gap between starts): each start opens a
//   window of its own, and `active` is true while any of them is open.
// - start + end: active iff there is a start fire s <= now with no end fire in (s, now].
//   A start and an end at the same instant leave the window open.
//
// Searches are bounded: cron look-back and look-ahead cover kScheduleHorizon (enough for a
// Feb 29 start across 2100, which is not a leap year), so an impossible cron ("0 0 31 2 *")
// costs a few microseconds and is never active.
//
// Known limit: with the OS time zone database, the date library knows the transitions the
// zone files list explicitly, up to 2037; later years use the last offset (no DST).
//
// Cost: one evaluation is a handful of cron searches (bit-mask skips, no minute stepping)
// and usually a single time zone lookup (the DST interval around `now` is reused); about
// 0.1 us for "0 8 * * 1-5" with a 10h duration, 0.2 us for a start + end window
// (bench/schedule_bench.cpp).
//
// Thread-safety: pure functions.

#include <optional>
#include <string>

#include <date/tz.h>

#include "base/status.h"
#include "base/time.h"
#include "policies/cron.h"
#include "policies/spec.h"

namespace governor::policies {

// How far cron searches look back and ahead: 8 years and a bit, the longest gap between two
// Feb 29ths (2096 -> 2104).
inline constexpr date::days kScheduleHorizon{366 * 8};

// How many overlapping windows the end of an active window is followed through before the
// search stops (see WindowState::next_change).
inline constexpr int kMaxWindowExtensions = 64;

// Resolves an IANA name ("Europe/Berlin", "UTC"); on failure returns InvalidArgument naming
// the zone: `unknown time zone "Mars/Olympus" (...)`. Never throws. The first call loads the
// zone database (tens of milliseconds); later calls are fast.
Result<const date::time_zone*> findTimeZone(const std::string& name);

// The latest instant <= t at which `cron` fires in `zone` (nullptr means UTC), by the DST
// rules above, looking back at most `horizon`; nullopt if none.
std::optional<TimePoint> previousFire(const CronExpr& cron, const date::time_zone* zone,
                                      TimePoint t, date::days horizon = kScheduleHorizon);
// The earliest instant > t at which `cron` fires in `zone` (nullptr means UTC), looking ahead
// at most `horizon`; nullopt if none.
std::optional<TimePoint> nextFire(const CronExpr& cron, const date::time_zone* zone, TimePoint t,
                                  date::days horizon = kScheduleHorizon);

struct WindowState {
  bool active = false;
  // When the window in force began (set iff active). start + duration: the latest start
  // fire. start + end: the first start fire after the latest end fire (the first start in
  // the look-back horizon when no end fire is found there; the latest start when it
  // coincides with the latest end).
  std::optional<TimePoint> started;
  // When active becomes false (set only if active, and only when found: nullopt if no end
  // fire lies within the look-ahead horizon, or if the search stopped, see next_change).
  // Overlapping windows count as one: hourly starts with a 90 min duration never end.
  std::optional<TimePoint> ends;
  // The next instant `active` changes (window opens or closes); nullopt if never within the
  // look-ahead horizon. The operator requeues for this instant.
  // When an active window keeps being extended (starts with a duration longer than the gap
  // between them, or an end cron that always coincides with a start), the search stops after
  // kMaxWindowExtensions windows: then `ends` is nullopt and next_change is the instant
  // reached, before which `active` surely does not change; evaluating again at that instant
  // continues the search.
  std::optional<TimePoint> next_change;

  friend bool operator==(const WindowState&, const WindowState&) = default;
};

// REQUIRES: spec parsed and validated (zone resolved; exactly one of duration > 0 and end).
// An invalid spec (neither, or a duration <= 0) is never active and has no next_change;
// with both, `end` wins.
WindowState evaluateSchedule(const ScheduleSpec& spec, TimePoint now);

}  // namespace governor::policies
