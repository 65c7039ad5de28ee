#include "policies/schedule.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <date/date.h>
#include <date/tz.h>
#include <gtest/gtest.h>

#include "base/time.h"
#include "policies/cron.h"
#include "policies/spec.h"

namespace governor::policies {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// DST facts the tables rely on (UTC instants of the transitions, 2024):
//   Europe/Berlin     spring 03-31 01:00 (02:00 CET -> 03:00 CEST; 02:00-03:00 skipped)
//                     fall   10-27 01:00 (03:00 CEST -> 02:00 CET; 02:00-03:00 twice)
//   America/New_York  spring 03-10 07:00 (02:00 EST -> 03:00 EDT; 02:00-03:00 skipped)
//                     fall   11-03 06:00 (02:00 EDT -> 01:00 EST; 01:00-02:00 twice)
//   Australia/Sydney  fall   04-06 16:00 (03:00 AEDT -> 02:00 AEST; 02:00-03:00 twice)
// Weekdays: 2024-06-03 Mon, 2024-06-07 Fri, 2024-01-08 Mon, 2024-03-30 Sat, 2024-10-26 Sat.

// "2024-10-27 01:45" or "2024-10-27 01:45:30", UTC.
TimePoint utc(const std::string& text) {
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  int s = 0;
  int n = std::sscanf(text.c_str(), "%d-%u-%u %d:%d:%d", &y, &mo, &d, &h, &mi, &s);
  EXPECT_TRUE(n == 5 || n == 6) << "bad test time " << text;
  date::year_month_day ymd{date::year{y}, date::month{mo}, date::day{d}};
  EXPECT_TRUE(ymd.ok()) << "bad test date " << text;
  return TimePoint(date::sys_days{ymd} + hours(h) + minutes(mi) + seconds(s));
}

std::string show(std::optional<TimePoint> t) {
  if (!t) return "none";
  if (t->time_since_epoch() % seconds(1) != milliseconds(0)) return date::format("%F %T", *t);
  return date::format("%F %T", date::floor<seconds>(*t));
}

std::string show(const std::string& expected) {
  return expected == "none" ? "none" : show(utc(expected));
}

// "" is nullptr, which means UTC.
const date::time_zone* zoneNamed(const std::string& name) {
  if (name.empty()) return nullptr;
  Result<const date::time_zone*> zone = findTimeZone(name);
  EXPECT_TRUE(zone.ok()) << zone.status().toString();
  return zone.ok() ? *zone : nullptr;
}

CronExpr mustParse(const std::string& text) {
  Result<CronExpr> cron = CronExpr::parse(text);
  EXPECT_TRUE(cron.ok()) << text << ": " << cron.status().toString();
  return cron.ok() ? *cron : CronExpr();
}

// `end` empty: start + duration.
ScheduleSpec makeSpec(const std::string& zone, const std::string& start, Duration duration,
                      const std::string& end = "") {
  ScheduleSpec spec;
  spec.name = "test";
  spec.time_zone = zone.empty() ? "UTC" : zone;
  spec.zone = zoneNamed(zone);
  spec.start = mustParse(start);
  if (end.empty()) {
    spec.duration = duration;
  } else {
    spec.end = mustParse(end);
  }
  return spec;
}

template <typename Case>
std::string caseName(const testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

// ---------------------------------------------------------------------------------------------
// findTimeZone

struct ZoneCase {
  std::string name;
  std::string zone;
  std::string error;  // Empty when the zone resolves.
};

class FindTimeZoneTest : public testing::TestWithParam<ZoneCase> {};

TEST_P(FindTimeZoneTest, Resolves) {
  const ZoneCase& c = GetParam();
  Result<const date::time_zone*> zone = findTimeZone(c.zone);
  if (c.error.empty()) {
    ASSERT_TRUE(zone.ok()) << zone.status().toString();
    ASSERT_NE(*zone, nullptr);
    EXPECT_EQ((*zone)->name(), c.zone);
  } else {
    ASSERT_FALSE(zone.ok());
    EXPECT_EQ(zone.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(zone.status().message(), c.error);
  }
}

std::string unknownZone(const std::string& name) {
  return "unknown time zone \"" + name +
         "\" (expected an IANA name such as \"Europe/Berlin\" or \"UTC\")";
}

INSTANTIATE_TEST_SUITE_P(
    Table, FindTimeZoneTest,
    testing::Values(ZoneCase{"Berlin", "Europe/Berlin", ""},
                    ZoneCase{"NewYork", "America/New_York", ""}, ZoneCase{"Utc", "UTC", ""},
                    ZoneCase{"Kolkata", "Asia/Kolkata", ""},
                    ZoneCase{"Unknown", "Mars/Olympus", unknownZone("Mars/Olympus")},
                    ZoneCase{"WrongCase", "europe/berlin", unknownZone("europe/berlin")},
                    ZoneCase{"TrailingSpace", "Europe/Berlin ", unknownZone("Europe/Berlin ")},
                    ZoneCase{"PathTraversal", "../../etc/passwd", unknownZone("../../etc/passwd")},
                    ZoneCase{"Empty", "", "time zone: empty name (expected an IANA name)"}),
    caseName<ZoneCase>);

// ---------------------------------------------------------------------------------------------
// previousFire / nextFire: the DST rules on single crons.

struct FireCase {
  std::string name;
  std::string zone;  // "" means nullptr (UTC).
  std::string cron;
  std::string at;        // UTC.
  std::string previous;  // Latest fire <= at, UTC, or "none".
  std::string next;      // First fire > at, UTC, or "none".
};

class FireTest : public testing::TestWithParam<FireCase> {};

TEST_P(FireTest, PreviousAndNext) {
  const FireCase& c = GetParam();
  const date::time_zone* zone = zoneNamed(c.zone);
  CronExpr cron = mustParse(c.cron);
  EXPECT_EQ(show(previousFire(cron, zone, utc(c.at))), show(c.previous)) << c.cron;
  EXPECT_EQ(show(nextFire(cron, zone, utc(c.at))), show(c.next)) << c.cron;
  // Within the same second the answers hold; a fire is at or before `at` or strictly after.
  EXPECT_EQ(show(previousFire(cron, zone, utc(c.at) + milliseconds(999))), show(c.previous));
  EXPECT_EQ(show(nextFire(cron, zone, utc(c.at) + milliseconds(999))), show(c.next));
}

INSTANTIATE_TEST_SUITE_P(
    Table, FireTest,
    testing::Values(
        // Spring forward, Berlin: 02:30 does not exist on 03-31 and fires at 03:00 CEST.
        FireCase{"BerlinSpringBeforeGap", "Europe/Berlin", "30 2 * * *", "2024-03-31 00:59",
                 "2024-03-30 01:30", "2024-03-31 01:00"},
        FireCase{"BerlinSpringAtGapEnd", "Europe/Berlin", "30 2 * * *", "2024-03-31 01:00",
                 "2024-03-31 01:00", "2024-04-01 00:30"},
        FireCase{"BerlinSpringQuartersCollapse", "Europe/Berlin", "*/15 2 * * *",
                 "2024-03-31 00:50", "2024-03-30 01:45", "2024-03-31 01:00"},
        FireCase{"BerlinSpringQuartersFireOnce", "Europe/Berlin", "*/15 2 * * *",
                 "2024-03-31 01:00", "2024-03-31 01:00", "2024-04-01 00:00"},
        FireCase{"BerlinSpringHourlyBefore", "Europe/Berlin", "0 * * * *", "2024-03-31 00:30",
                 "2024-03-31 00:00", "2024-03-31 01:00"},
        FireCase{"BerlinSpringHourlyAfter", "Europe/Berlin", "0 * * * *", "2024-03-31 01:00",
                 "2024-03-31 01:00", "2024-03-31 02:00"},
        // Fall back, Berlin: 02:00-02:59 happen twice on 10-27; each fires once, in CEST.
        FireCase{"BerlinFallFirstPass", "Europe/Berlin", "30 2 * * *", "2024-10-27 00:45",
                 "2024-10-27 00:30", "2024-10-28 01:30"},
        FireCase{"BerlinFallSecondPass", "Europe/Berlin", "30 2 * * *", "2024-10-27 01:45",
                 "2024-10-27 00:30", "2024-10-28 01:30"},
        FireCase{"BerlinFallSecondPassBeforeRepeat", "Europe/Berlin", "30 2 * * *",
                 "2024-10-27 01:15", "2024-10-27 00:30", "2024-10-28 01:30"},
        FireCase{"BerlinFallSecondPassAtTransition", "Europe/Berlin", "30 2 * * *",
                 "2024-10-27 01:00", "2024-10-27 00:30", "2024-10-28 01:30"},
        FireCase{"BerlinFallHourlyGapOfTwoHours", "Europe/Berlin", "0 * * * *", "2024-10-27 00:30",
                 "2024-10-27 00:00", "2024-10-27 02:00"},
        FireCase{"BerlinFallHourlySecondPass", "Europe/Berlin", "0 * * * *", "2024-10-27 01:30",
                 "2024-10-27 00:00", "2024-10-27 02:00"},
        FireCase{"BerlinFallQuartersInRepeatedHour", "Europe/Berlin", "*/15 2 * * *",
                 "2024-10-27 01:10", "2024-10-27 00:45", "2024-10-28 01:00"},
        FireCase{"BerlinFallAfterRepeatedHour", "Europe/Berlin", "0 3 * * *", "2024-10-27 01:59",
                 "2024-10-26 01:00", "2024-10-27 02:00"},
        // New York.
        FireCase{"NewYorkSpringBeforeGap", "America/New_York", "30 2 * * *", "2024-03-10 06:59",
                 "2024-03-09 07:30", "2024-03-10 07:00"},
        FireCase{"NewYorkSpringAtGapEnd", "America/New_York", "30 2 * * *", "2024-03-10 07:00",
                 "2024-03-10 07:00", "2024-03-11 06:30"},
        FireCase{"NewYorkFallFirstPass", "America/New_York", "30 1 * * *", "2024-11-03 05:45",
                 "2024-11-03 05:30", "2024-11-04 06:30"},
        FireCase{"NewYorkFallSecondPass", "America/New_York", "30 1 * * *", "2024-11-03 06:15",
                 "2024-11-03 05:30", "2024-11-04 06:30"},
        FireCase{"NewYorkFallMidnightUnaffected", "America/New_York", "0 0 * * *",
                 "2024-11-03 12:00", "2024-11-03 04:00", "2024-11-04 05:00"},
        // Southern hemisphere: Sydney falls back in April.
        FireCase{"SydneyFallSecondPass", "Australia/Sydney", "30 2 * * *", "2024-04-06 16:45",
                 "2024-04-06 15:30", "2024-04-07 16:30"},
        // No DST; a half-hour offset.
        FireCase{"KolkataHalfHour", "Asia/Kolkata", "0 9 * * *", "2024-06-01 00:00",
                 "2024-05-31 03:30", "2024-06-01 03:30"},
        // UTC, as nullptr and by name.
        FireCase{"NullZoneIsUtc", "", "0 8 * * 1-5", "2024-09-06 09:00", "2024-09-06 08:00",
                 "2024-09-09 08:00"},
        FireCase{"NamedUtc", "UTC", "0 8 * * 1-5", "2024-09-06 08:00", "2024-09-06 08:00",
                 "2024-09-09 08:00"},
        // Leap days, looking back and forward years.
        FireCase{"LeapDay", "", "0 0 29 2 *", "2025-06-01 00:00", "2024-02-29 00:00",
                 "2028-02-29 00:00"},
        FireCase{"LeapDayAcross2100", "", "0 0 29 2 *", "2100-06-01 00:00", "2096-02-29 00:00",
                 "2104-02-29 00:00"},
        FireCase{"LeapDayBerlin", "Europe/Berlin", "0 0 29 2 *", "2024-02-28 23:00",
                 "2024-02-28 23:00", "2028-02-28 23:00"},
        FireCase{"ImpossibleCron", "Europe/Berlin", "0 0 31 2 *", "2024-06-01 00:00", "none",
                 "none"}),
    caseName<FireCase>);

// ---------------------------------------------------------------------------------------------
// evaluateSchedule: worked examples.

struct WindowCase {
  std::string name;
  std::string zone;  // "" means nullptr (UTC).
  std::string start;
  Duration duration;  // Used when `end` is empty.
  std::string end;
  std::string now;  // UTC.
  bool active;
  std::string started;  // UTC, or "none".
  std::string ends;
  std::string next_change;
};

class WindowTest : public testing::TestWithParam<WindowCase> {};

TEST_P(WindowTest, Evaluates) {
  const WindowCase& c = GetParam();
  ScheduleSpec spec = makeSpec(c.zone, c.start, c.duration, c.end);
  WindowState state = evaluateSchedule(spec, utc(c.now));
  EXPECT_EQ(state.active, c.active);
  EXPECT_EQ(show(state.started), show(c.started)) << "started";
  EXPECT_EQ(show(state.ends), show(c.ends)) << "ends";
  EXPECT_EQ(show(state.next_change), show(c.next_change)) << "next_change";
  if (state.next_change) {
    // `active` really flips at next_change, and not a millisecond before.
    EXPECT_EQ(evaluateSchedule(spec, *state.next_change).active, !c.active);
    EXPECT_EQ(evaluateSchedule(spec, *state.next_change - milliseconds(1)).active, c.active);
  }
}

constexpr Duration kNone{0};

INSTANTIATE_TEST_SUITE_P(
    Table, WindowTest,
    testing::Values(
        // Business hours in Berlin: 08:00-18:00 local, Monday to Friday.
        WindowCase{"BerlinBusinessMorning", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-06-03 08:00", true, "2024-06-03 06:00", "2024-06-03 16:00",
                   "2024-06-03 16:00"},
        WindowCase{"BerlinBusinessAtStart", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-06-03 06:00", true, "2024-06-03 06:00", "2024-06-03 16:00",
                   "2024-06-03 16:00"},
        WindowCase{"BerlinBusinessAtEnd", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-06-03 16:00", false, "none", "none", "2024-06-04 06:00"},
        WindowCase{"BerlinBusinessBeforeOpen", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-06-03 05:59", false, "none", "none", "2024-06-03 06:00"},
        WindowCase{"BerlinBusinessFridayEvening", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-06-07 18:00", false, "none", "none", "2024-06-10 06:00"},
        WindowCase{"BerlinBusinessWeekend", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-06-08 12:00", false, "none", "none", "2024-06-10 06:00"},
        WindowCase{"BerlinBusinessWinter", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-01-08 12:00", true, "2024-01-08 07:00", "2024-01-08 17:00",
                   "2024-01-08 17:00"},
        WindowCase{"BerlinBusinessOverSpringForward", "Europe/Berlin", "0 8 * * 1-5", hours(10), "",
                   "2024-03-29 20:00", false, "none", "none", "2024-04-01 06:00"},
        // Fall back, Berlin: the start at the first 02:30 (CEST) is known during the second.
        WindowCase{"BerlinFallSecondPassInWindow", "Europe/Berlin", "30 2 * * *", hours(2), "",
                   "2024-10-27 01:45", true, "2024-10-27 00:30", "2024-10-27 02:30",
                   "2024-10-27 02:30"},
        WindowCase{"BerlinFallSecondPassClosed", "Europe/Berlin", "30 2 * * *", hours(1), "",
                   "2024-10-27 01:45", false, "none", "none", "2024-10-28 01:30"},
        WindowCase{"BerlinFallNoSecondStart", "Europe/Berlin", "30 2 * * *", minutes(30), "",
                   "2024-10-27 01:15", false, "none", "none", "2024-10-28 01:30"},
        WindowCase{"BerlinFallHourlyGap", "Europe/Berlin", "0 * * * *", minutes(90), "",
                   "2024-10-27 01:45", false, "none", "none", "2024-10-27 02:00"},
        WindowCase{"BerlinFallHourlyBeforeGap", "Europe/Berlin", "0 * * * *", minutes(90), "",
                   "2024-10-27 00:45", true, "2024-10-27 00:00", "2024-10-27 01:30",
                   "2024-10-27 01:30"},
        // Spring forward, Berlin: a start in the skipped hour opens at 03:00 CEST.
        WindowCase{"BerlinSpringSkippedStart", "Europe/Berlin", "30 2 * * *", hours(1), "",
                   "2024-03-31 01:10", true, "2024-03-31 01:00", "2024-03-31 02:00",
                   "2024-03-31 02:00"},
        WindowCase{"BerlinSpringBeforeSkippedStart", "Europe/Berlin", "30 2 * * *", hours(1), "",
                   "2024-03-31 00:59", false, "none", "none", "2024-03-31 01:00"},
        // Durations are elapsed time: 10 real hours across each transition.
        WindowCase{"BerlinTenHoursOverSpringForward", "Europe/Berlin", "0 22 * * 6", hours(10), "",
                   "2024-03-31 06:00", true, "2024-03-30 21:00", "2024-03-31 07:00",
                   "2024-03-31 07:00"},
        WindowCase{"BerlinTenHoursOverFallBack", "Europe/Berlin", "0 22 * * 6", hours(10), "",
                   "2024-10-27 05:30", true, "2024-10-26 20:00", "2024-10-27 06:00",
                   "2024-10-27 06:00"},
        // New York.
        WindowCase{"NewYorkSpringSkippedStart", "America/New_York", "30 2 * * *", hours(1), "",
                   "2024-03-10 07:30", true, "2024-03-10 07:00", "2024-03-10 08:00",
                   "2024-03-10 08:00"},
        WindowCase{"NewYorkFallSecondPassInWindow", "America/New_York", "0 1 * * *", minutes(90),
                   "", "2024-11-03 06:15", true, "2024-11-03 05:00", "2024-11-03 06:30",
                   "2024-11-03 06:30"},
        WindowCase{"NewYorkFallStartEndFirstPass", "America/New_York", "0 1 * * *", kNone,
                   "30 1 * * *", "2024-11-03 05:15", true, "2024-11-03 05:00", "2024-11-03 05:30",
                   "2024-11-03 05:30"},
        // At 01:15 EST the clock reads inside 01:00-01:30, but both fired an hour ago, in EDT.
        WindowCase{"NewYorkFallStartEndSecondPass", "America/New_York", "0 1 * * *", kNone,
                   "30 1 * * *", "2024-11-03 06:15", false, "none", "none", "2024-11-04 06:00"},
        WindowCase{"NewYorkSpringStartEnd", "America/New_York", "0 1 * * *", kNone, "0 3 * * *",
                   "2024-03-10 06:30", true, "2024-03-10 06:00", "2024-03-10 07:00",
                   "2024-03-10 07:00"},
        WindowCase{"NewYorkSpringEndInGap", "America/New_York", "0 1 * * *", kNone, "30 2 * * *",
                   "2024-03-10 06:45", true, "2024-03-10 06:00", "2024-03-10 07:00",
                   "2024-03-10 07:00"},
        WindowCase{"SydneyFallSecondPassInWindow", "Australia/Sydney", "30 2 * * *", hours(2), "",
                   "2024-04-06 16:45", true, "2024-04-06 15:30", "2024-04-06 17:30",
                   "2024-04-06 17:30"},
        WindowCase{"KolkataHalfHourOffset", "Asia/Kolkata", "0 9 * * *", hours(8), "",
                   "2024-06-01 04:00", true, "2024-06-01 03:30", "2024-06-01 11:30",
                   "2024-06-01 11:30"},
        // Windows spanning midnight.
        WindowCase{"NightAfterMidnight", "UTC", "0 22 * * *", kNone, "0 6 * * *",
                   "2024-06-04 02:00", true, "2024-06-03 22:00", "2024-06-04 06:00",
                   "2024-06-04 06:00"},
        WindowCase{"NightDuringDay", "UTC", "0 22 * * *", kNone, "0 6 * * *", "2024-06-04 12:00",
                   false, "none", "none", "2024-06-04 22:00"},
        WindowCase{"NightAtEnd", "UTC", "0 22 * * *", kNone, "0 6 * * *", "2024-06-04 06:00", false,
                   "none", "none", "2024-06-04 22:00"},
        WindowCase{"NightAtStart", "UTC", "0 22 * * *", kNone, "0 6 * * *", "2024-06-03 22:00",
                   true, "2024-06-03 22:00", "2024-06-04 06:00", "2024-06-04 06:00"},
        WindowCase{"NightByDuration", "", "0 22 * * *", hours(8), "", "2024-06-04 02:00", true,
                   "2024-06-03 22:00", "2024-06-04 06:00", "2024-06-04 06:00"},
        WindowCase{"NightBerlinOverFallBack", "Europe/Berlin", "0 22 * * *", kNone, "0 6 * * *",
                   "2024-10-27 03:00", true, "2024-10-26 20:00", "2024-10-27 05:00",
                   "2024-10-27 05:00"},
        WindowCase{"WeekendWindow", "", "0 18 * * fri", kNone, "0 6 * * mon", "2024-06-08 12:00",
                   true, "2024-06-07 18:00", "2024-06-10 06:00", "2024-06-10 06:00"},
        WindowCase{"WeekendWindowMidweek", "", "0 18 * * fri", kNone, "0 6 * * mon",
                   "2024-06-05 12:00", false, "none", "none", "2024-06-07 18:00"},
        // Several starts before one end: the window began at the first.
        WindowCase{"TwoStartsOneEnd", "", "0 8,12 * * *", kNone, "0 18 * * *", "2024-06-04 13:00",
                   true, "2024-06-04 08:00", "2024-06-04 18:00", "2024-06-04 18:00"},
        // Durations longer than the gap between starts: overlapping windows merge.
        WindowCase{"OverlapChainEnds", "", "0 8,12 * * *", hours(6), "", "2024-06-04 09:00", true,
                   "2024-06-04 08:00", "2024-06-04 18:00", "2024-06-04 18:00"},
        WindowCase{"OverlapAfterSecondStart", "", "0 8,12 * * *", hours(6), "", "2024-06-04 15:00",
                   true, "2024-06-04 12:00", "2024-06-04 18:00", "2024-06-04 18:00"},
        WindowCase{"OverlapClosed", "", "0 8,12 * * *", hours(6), "", "2024-06-04 19:00", false,
                   "none", "none", "2024-06-05 08:00"},
        WindowCase{"TwoDaysOverWeekdays", "", "0 8 * * 1-3", hours(48), "", "2024-06-04 10:00",
                   true, "2024-06-04 08:00", "2024-06-07 08:00", "2024-06-07 08:00"},
        WindowCase{"TwoDaysFromSunday", "", "0 8 * * 1-3", hours(48), "", "2024-06-09 10:00", false,
                   "none", "none", "2024-06-10 08:00"},
        WindowCase{"DurationAcrossWeekend", "", "0 8 * * 5", hours(72), "", "2024-06-09 10:00",
                   true, "2024-06-07 08:00", "2024-06-10 08:00", "2024-06-10 08:00"},
        // Leap days.
        WindowCase{"LeapDayWindow", "", "0 0 29 2 *", hours(24), "", "2024-02-29 12:00", true,
                   "2024-02-29 00:00", "2024-03-01 00:00", "2024-03-01 00:00"},
        WindowCase{"LeapDayWaitsFourYears", "", "0 0 29 2 *", hours(24), "", "2025-02-28 12:00",
                   false, "none", "none", "2028-02-29 00:00"},
        WindowCase{"LeapDayAcross2100", "", "0 0 29 2 *", hours(24), "", "2100-01-01 00:00", false,
                   "none", "none", "2104-02-29 00:00"},
        WindowCase{"LeapDayEndCron", "", "0 0 29 2 *", kNone, "0 0 1 3 *", "2096-03-15 00:00",
                   false, "none", "none", "2104-02-29 00:00"},
        WindowCase{"LeapDayEndCronActive", "", "0 0 29 2 *", kNone, "0 0 1 3 *", "2096-02-29 23:00",
                   true, "2096-02-29 00:00", "2096-03-01 00:00", "2096-03-01 00:00"},
        // Crons that never fire.
        WindowCase{"ImpossibleStart", "Europe/Berlin", "0 0 31 2 *", hours(1), "",
                   "2024-06-01 00:00", false, "none", "none", "none"},
        WindowCase{"ImpossibleStartWithEnd", "Europe/Berlin", "0 0 30 2 *", kNone, "0 0 * * *",
                   "2024-06-01 00:00", false, "none", "none", "none"}),
    caseName<WindowCase>);

// ---------------------------------------------------------------------------------------------
// evaluateSchedule: edge cases.

TEST(WindowEdgeTest, MillisecondsAroundTheBounds) {
  ScheduleSpec spec = makeSpec("", "0 8 * * *", hours(10));
  EXPECT_TRUE(evaluateSchedule(spec, utc("2024-06-04 17:59:59") + milliseconds(999)).active);
  EXPECT_FALSE(evaluateSchedule(spec, utc("2024-06-04 18:00")).active);
  WindowState before = evaluateSchedule(spec, utc("2024-06-04 07:59:59") + milliseconds(999));
  EXPECT_FALSE(before.active);
  EXPECT_EQ(show(before.next_change), show("2024-06-04 08:00"));
  // A duration with milliseconds ends exactly then.
  spec.duration = hours(1) + milliseconds(250);
  WindowState in = evaluateSchedule(spec, utc("2024-06-04 08:30"));
  EXPECT_EQ(show(in.ends), show(utc("2024-06-04 09:00") + milliseconds(250)));
}

TEST(WindowEdgeTest, HourlyStartsWithTwoHoursNeverEnd) {
  ScheduleSpec spec = makeSpec("Europe/Berlin", "0 * * * *", hours(2));
  TimePoint now = utc("2024-10-26 10:30");
  WindowState state = evaluateSchedule(spec, now);
  EXPECT_TRUE(state.active);
  EXPECT_EQ(show(state.started), show("2024-10-26 10:00"));
  EXPECT_EQ(state.ends, std::nullopt);
  // The search stopped after kMaxWindowExtensions windows, each at least 2 h later; it went
  // through the fall-back night, and the window is still open where it stopped.
  ASSERT_TRUE(state.next_change.has_value());
  EXPECT_GE(*state.next_change, now + hours(2 * kMaxWindowExtensions));
  WindowState later = evaluateSchedule(spec, *state.next_change);
  EXPECT_TRUE(later.active);
  EXPECT_GT(later.next_change.value_or(TimePoint()), *state.next_change);
}

TEST(WindowEdgeTest, EndCoincidingWithStartKeepsWindowOpen) {
  ScheduleSpec spec = makeSpec("", "0 0 * * *", kNone, "0 0 * * *");
  TimePoint now = utc("2024-06-04 12:00");
  WindowState state = evaluateSchedule(spec, now);
  EXPECT_TRUE(state.active);
  EXPECT_EQ(show(state.started), show("2024-06-04 00:00"));
  EXPECT_EQ(state.ends, std::nullopt);
  ASSERT_TRUE(state.next_change.has_value());
  EXPECT_GT(*state.next_change, now + hours(24) * (kMaxWindowExtensions - 1));
  EXPECT_TRUE(evaluateSchedule(spec, utc("2024-06-05 00:00")).active);
}

TEST(WindowEdgeTest, EndThatNeverFires) {
  ScheduleSpec spec = makeSpec("", "0 8 * * *", kNone, "0 0 31 2 *");
  WindowState state = evaluateSchedule(spec, utc("2024-06-04 09:00"));
  EXPECT_TRUE(state.active);
  // The first start within the look-back horizon (2024-06-04 09:00 - 2928 days = 2016-05-29).
  EXPECT_EQ(show(state.started), show("2016-05-30 08:00"));
  EXPECT_EQ(state.ends, std::nullopt);
  EXPECT_EQ(state.next_change, std::nullopt);
}

TEST(WindowEdgeTest, InvalidSpecsAreNeverActive) {
  const TimePoint now = utc("2024-06-04 09:00");
  ScheduleSpec neither = makeSpec("", "0 8 * * *", hours(1));
  neither.duration.reset();
  EXPECT_EQ(evaluateSchedule(neither, now), WindowState{});
  ScheduleSpec zero = makeSpec("", "0 8 * * *", Duration(0));
  EXPECT_EQ(evaluateSchedule(zero, now), WindowState{});
  ScheduleSpec negative = makeSpec("", "0 8 * * *", -hours(1));
  EXPECT_EQ(evaluateSchedule(negative, now), WindowState{});
  ScheduleSpec unparsed = makeSpec("", "0 8 * * *", hours(1));
  unparsed.start = CronExpr();
  EXPECT_EQ(evaluateSchedule(unparsed, now), WindowState{});
  // With both, `end` wins.
  ScheduleSpec both = makeSpec("", "0 8 * * *", hours(10), "30 8 * * *");
  both.duration = hours(10);
  EXPECT_FALSE(evaluateSchedule(both, now).active);
}

TEST(WindowEdgeTest, ExtremeInstantsAreSafe) {
  for (const char* zone : {"", "Europe/Berlin"}) {
    ScheduleSpec spec = makeSpec(zone, "0 8 * * *", hours(10));
    for (TimePoint now : {TimePoint::min(), TimePoint::max(), TimePoint()}) {
      WindowState state = evaluateSchedule(spec, now);
      EXPECT_FALSE(state.active) << zone;
      if (now != TimePoint()) {
        EXPECT_EQ(state.next_change, std::nullopt) << zone;
      }
    }
    ScheduleSpec with_end = makeSpec(zone, "0 8 * * *", kNone, "0 18 * * *");
    EXPECT_FALSE(evaluateSchedule(with_end, TimePoint::min()).active);
    EXPECT_FALSE(evaluateSchedule(with_end, TimePoint::max()).active);
  }
}

// ---------------------------------------------------------------------------------------------
// evaluateSchedule against a brute-force oracle across DST transitions: every local minute of
// a week is mapped to its instant by the documented rule (first occurrence; end of the gap),
// and the window definitions are applied literally, at many instants around the transition.

struct OracleCase {
  std::string name;
  std::string zone;
  std::string day;  // The transition day, "YYYY-MM-DD".
  std::string start;
  Duration duration;
  std::string end;
};

class WindowOracleTest : public testing::TestWithParam<OracleCase> {};

std::vector<TimePoint> fires(const CronExpr& cron, const date::time_zone* zone,
                             date::local_days day) {
  std::vector<TimePoint> out;
  for (date::local_seconds l = day - date::days(4); l < day + date::days(4); l += minutes(1)) {
    if (!cron.matches(l)) continue;
    date::local_info info = zone->get_info(l);
    date::sys_seconds at = info.result == date::local_info::nonexistent
                               ? info.first.end
                               : date::sys_seconds(l.time_since_epoch() - info.first.offset);
    out.push_back(TimePoint(at));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

TEST_P(WindowOracleTest, MatchesBruteForce) {
  const OracleCase& c = GetParam();
  ScheduleSpec spec = makeSpec(c.zone, c.start, c.duration, c.end);
  const date::local_days day =
      date::local_days(date::floor<date::days>(utc(c.day + " 00:00")).time_since_epoch());
  const std::vector<TimePoint> starts = fires(spec.start, spec.zone, day);
  const std::vector<TimePoint> ends =
      spec.end ? fires(*spec.end, spec.zone, day) : std::vector<TimePoint>{};
  ASSERT_FALSE(starts.empty());

  auto activeAt = [&](TimePoint t) {
    for (TimePoint s : starts) {
      if (s > t) break;
      if (!spec.end) {
        if (t < s + *spec.duration) return true;
        continue;
      }
      bool closed =
          std::any_of(ends.begin(), ends.end(), [&](TimePoint e) { return e > s && e <= t; });
      if (!closed) return true;
    }
    return false;
  };
  std::vector<TimePoint> candidates = starts;
  for (TimePoint s : starts) {
    if (!spec.end) candidates.push_back(s + *spec.duration);
  }
  candidates.insert(candidates.end(), ends.begin(), ends.end());
  std::sort(candidates.begin(), candidates.end());

  const TimePoint center = utc(c.day + " 00:00");
  const TimePoint horizon = center + hours(48);  // The oracle sees fires up to 3 days on.
  int flips = 0;
  for (TimePoint now = center - hours(24); now <= center + hours(36); now += minutes(5)) {
    for (TimePoint t : {now, now + seconds(1), now + minutes(4) + seconds(59)}) {
      WindowState state = evaluateSchedule(spec, t);
      bool active = activeAt(t);
      ASSERT_EQ(state.active, active) << "at " << show(t);
      std::optional<TimePoint> flip;
      for (TimePoint k : candidates) {
        if (k > t && activeAt(k) != active) {
          flip = k;
          break;
        }
      }
      if (flip && *flip <= horizon) {
        ASSERT_EQ(show(state.next_change), show(flip)) << "at " << show(t);
        if (active) {
          ASSERT_EQ(show(state.ends), show(flip)) << "at " << show(t);
        }
        ++flips;
      } else if (state.next_change && *state.next_change <= horizon) {
        // Only a stopped search (see WindowState::next_change) may name an instant at which
        // nothing changes.
        ASSERT_TRUE(active && !state.ends && activeAt(*state.next_change)) << "at " << show(t);
      }
      if (active && !spec.end) {
        auto latest = std::upper_bound(starts.begin(), starts.end(), t) - 1;
        ASSERT_EQ(show(state.started), show(*latest)) << "at " << show(t);
      }
    }
  }
  EXPECT_GT(flips, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, WindowOracleTest,
    testing::Values(
        OracleCase{"BerlinSpringHalfPastTwo", "Europe/Berlin", "2024-03-31", "30 2 * * *", hours(1),
                   ""},
        OracleCase{"BerlinFallHalfPastTwo", "Europe/Berlin", "2024-10-27", "30 2 * * *", hours(1),
                   ""},
        OracleCase{"BerlinSpringHourly50m", "Europe/Berlin", "2024-03-31", "0 * * * *", minutes(50),
                   ""},
        OracleCase{"BerlinFallHourly90m", "Europe/Berlin", "2024-10-27", "0 * * * *", minutes(90),
                   ""},
        OracleCase{"BerlinFallTwenties30m", "Europe/Berlin", "2024-10-27", "*/20 1-3 * * *",
                   minutes(30), ""},
        OracleCase{"BerlinSpringTwenties30m", "Europe/Berlin", "2024-03-31", "*/20 1-3 * * *",
                   minutes(30), ""},
        // Overlapping windows that leave one gap: 22:00 CEST to 03:00 CET is 4 real hours.
        OracleCase{"BerlinFallEveryThreeHours3h30m", "Europe/Berlin", "2024-10-27", "0 */3 * * *",
                   minutes(210), ""},
        OracleCase{"BerlinFallTenHours", "Europe/Berlin", "2024-10-27", "0 22 * * *", hours(10),
                   ""},
        OracleCase{"BerlinFallStartEnd", "Europe/Berlin", "2024-10-27", "0 2 * * *", kNone,
                   "30 2 * * *"},
        OracleCase{"BerlinSpringEndInGap", "Europe/Berlin", "2024-03-31", "30 1 * * *", kNone,
                   "15 2 * * *"},
        OracleCase{"BerlinSpringStartInGap", "Europe/Berlin", "2024-03-31", "30 2 * * *", kNone,
                   "0 4 * * *"},
        OracleCase{"BerlinFallNight", "Europe/Berlin", "2024-10-27", "0 22 * * *", kNone,
                   "0 6 * * *"},
        OracleCase{"NewYorkSpringHalfPastTwo", "America/New_York", "2024-03-10", "30 2 * * *",
                   hours(1), ""},
        OracleCase{"NewYorkFallHalfPastOne", "America/New_York", "2024-11-03", "30 1 * * *",
                   hours(1), ""},
        OracleCase{"NewYorkFallTwenties45m", "America/New_York", "2024-11-03", "*/20 0-2 * * *",
                   minutes(45), ""},
        OracleCase{"NewYorkSpringTwenties45m", "America/New_York", "2024-03-10", "*/20 1-3 * * *",
                   minutes(45), ""},
        OracleCase{"NewYorkFallStartEnd", "America/New_York", "2024-11-03", "0 1 * * *", kNone,
                   "30 1 * * *"},
        OracleCase{"NewYorkSpringStartEnd", "America/New_York", "2024-03-10", "0 2 * * *", kNone,
                   "30 2 * * *"}),
    caseName<OracleCase>);

}  // namespace
}  // namespace governor::policies
