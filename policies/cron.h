#pragma once

// Cron expressions, as Vixie cron reads them, evaluated on local wall-clock time.
//
// Syntax: five fields, "minute hour day-of-month month day-of-week", separated by spaces or
// tabs. Each field is a `*`, a number, a range `a-b`, a step `*/n` or `a-b/n` or `a/n`
// (`a` up to the field's maximum), or a comma-separated list of those.
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12, day-of-week 0-7 (0 and 7 Sunday).
// Months accept jan..dec and days sun..sat (three letters, case-insensitive), also in ranges
// ("mon-fri"). A step must lie in 1..the field's maximum; a range must not be reversed
// ("fri-sun" is reversed: write "fri-7" or "fri-sat,sun"). `*` and `a/n` in day-of-week
// run to 6, so "*/2" is sun,tue,thu,sat and "1/2" is mon,wed,fri.
// Macros (case-insensitive): @yearly = @annually = "0 0 1 1 *", @monthly = "0 0 1 * *",
// @weekly = "0 0 * * 0", @daily = @midnight = "0 0 * * *", @hourly = "0 * * * *".
// @reboot, seconds fields, and Quartz extensions (?, L, W, #) are rejected.
//
// Day rule (Vixie cron): when both day-of-month and day-of-week are restricted (neither
// field starts with `*`), a day matches if EITHER matches; otherwise both must match. So
// "0 0 13 * 5" fires on every 13th and every Friday, while "0 0 */2 * 5" (day-of-month starts
// with `*`) fires on Fridays that fall on odd days.
//
// An expression may parse and yet never fire ("0 0 31 2 *"); canMatch() tells, and
// previous()/next() return nullopt for it at once.
//
// Times are date::local_seconds: wall-clock readings with no zone (see schedule.h for the
// mapping to absolute time). Only years 1..9999 are searched; outside them nothing matches.
//
// Cost: previous()/next() skip non-matching months, days and hours with bit masks, so a search
// is O(months in the horizon) in the worst case and a few dozen instructions for the usual
// expressions; they never step minute by minute.
//
// Thread-safety: immutable after parse; safe to share.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>

#include "base/status.h"

namespace governor::policies {

class CronExpr {
 public:
  CronExpr() = default;  // Matches nothing; use parse().

  // Returns the parsed expression, or InvalidArgument whose message names the offending
  // field: "day-of-week: 8 is out of range 0-7", "minute: step 0 is out of range 1-59",
  // "hour: range 17-9 is reversed", "expected 5 fields (...), got 6". Never throws.
  static Result<CronExpr> parse(std::string_view text);

  // True when the local minute `t` (seconds are ignored) matches.
  bool matches(date::local_seconds t) const;

  // The latest matching local minute <= t, looking back at most `horizon` (a match m
  // satisfies m >= t - horizon); nullopt if none.
  std::optional<date::local_seconds> previous(date::local_seconds t,
                                              date::days horizon = date::days(366 * 5)) const;
  // The earliest matching local minute > t, looking ahead at most `horizon` (a match m
  // satisfies m <= t + horizon); nullopt if none.
  std::optional<date::local_seconds> next(date::local_seconds t,
                                          date::days horizon = date::days(366 * 5)) const;

  // False when no date can ever match ("0 0 30 2 *", or a default-constructed expression).
  // True does not promise a match within a given horizon: "0 0 29 2 *" matches only in leap
  // years, which can be 8 years apart (2096 -> 2104).
  bool canMatch() const { return can_match_; }

  // The text as given to parse().
  const std::string& text() const { return text_; }

  // Equal when parsed from the same text ("@daily" and "0 0 * * *" differ).
  friend bool operator==(const CronExpr&, const CronExpr&) = default;

 private:
  // Bit i set when value i matches.
  using MonthDayMasks = std::array<uint32_t, 7>;

  // Matching days (bits 1..31) of the month y/m.
  uint32_t dayMask(int y, unsigned m) const;

  std::string text_;
  uint64_t minutes_ = 0;        // 0..59
  uint32_t hours_ = 0;          // 0..23
  uint32_t days_of_month_ = 0;  // 1..31
  uint32_t months_ = 0;         // 1..12
  uint32_t days_of_week_ = 0;   // 0..6, Sunday = 0 (a 7 in the text is folded into 0)
  // For each weekday of the 1st of a month (Sunday = 0), the days 1..31 that day-of-week
  // matches: lets dayMask() combine the two day fields with two ANDs.
  MonthDayMasks dow_by_first_weekday_{};
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
  bool can_match_ = false;
};

}  // namespace governor::policies
