#include "policies/cron.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <date/date.h>
#include <gtest/gtest.h>

namespace governor::policies {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// "2024-03-31 02:30" as a wall-clock reading.
date::local_seconds local(const std::string& text) {
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  int h = 0;
  int mi = 0;
  char tail = 0;
  int n = std::sscanf(text.c_str(), "%d-%u-%u %d:%d%c", &y, &mo, &d, &h, &mi, &tail);
  EXPECT_EQ(n, 5) << "bad test time " << text;
  date::year_month_day ymd{date::year{y}, date::month{mo}, date::day{d}};
  EXPECT_TRUE(ymd.ok()) << "bad test date " << text;
  return date::local_days{ymd} + std::chrono::hours(h) + minutes(mi);
}

std::string show(std::optional<date::local_seconds> t) {
  if (!t) return "none";
  return date::format("%Y-%m-%d %H:%M:%S", *t);
}

std::string show(const std::string& expected) {
  return expected == "none" ? "none" : show(local(expected));
}

CronExpr mustParse(const std::string& text) {
  Result<CronExpr> cron = CronExpr::parse(text);
  EXPECT_TRUE(cron.ok()) << text << ": " << cron.status().toString();
  return cron.ok() ? *cron : CronExpr();
}

template <typename Case>
std::string caseName(const testing::TestParamInfo<Case>& info) {
  return info.param.name;
}

// ---------------------------------------------------------------------------------------------
// Parse errors: every message names the field and the offending text.

struct ErrorCase {
  std::string name;
  std::string text;
  std::string message;
};

class CronParseErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(CronParseErrorTest, RejectsWithMessage) {
  const ErrorCase& c = GetParam();
  Result<CronExpr> cron = CronExpr::parse(c.text);
  ASSERT_FALSE(cron.ok()) << c.text;
  EXPECT_EQ(cron.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cron.status().message(), c.message);
}

const std::string kFieldCount =
    "expected 5 fields (minute hour day-of-month month day-of-week), got ";

INSTANTIATE_TEST_SUITE_P(
    Table, CronParseErrorTest,
    testing::Values(
        ErrorCase{"Empty", "", "empty cron expression"},
        ErrorCase{"Blank", " \t \n", "empty cron expression"},
        ErrorCase{"FourFields", "* * * *", kFieldCount + "4"},
        ErrorCase{"SixFieldsWithSeconds", "0 0 8 * * *", kFieldCount + "6"},
        ErrorCase{"MinuteOutOfRange", "60 * * * *", "minute: 60 is out of range 0-59"},
        ErrorCase{"HourOutOfRange", "0 24 * * *", "hour: 24 is out of range 0-23"},
        ErrorCase{"DayOfMonthZero", "0 0 0 * *", "day-of-month: 0 is out of range 1-31"},
        ErrorCase{"DayOfMonth32", "0 0 32 * *", "day-of-month: 32 is out of range 1-31"},
        ErrorCase{"MonthZero", "0 0 1 0 *", "month: 0 is out of range 1-12"},
        ErrorCase{"Month13", "0 0 1 13 *", "month: 13 is out of range 1-12"},
        ErrorCase{"DayOfWeek8", "0 8 * * 8", "day-of-week: 8 is out of range 0-7"},
        ErrorCase{"RangeEndOutOfRange", "0 9-25 * * *", "hour: 25 is out of range 0-23"},
        ErrorCase{"HugeNumber", "99999999999999999999 * * * *",
                  "minute: 99999999999999999999 is out of range 0-59"},
        ErrorCase{"HugeNumberInList", "0 1,4294967297 * * *",
                  "hour: 4294967297 is out of range 0-23"},
        ErrorCase{"StepZero", "*/0 * * * *", "minute: step 0 is out of range 1-59"},
        ErrorCase{"StepLargerThanField", "0 */24 * * *", "hour: step 24 is out of range 1-23"},
        ErrorCase{"StepHuge", "0 0 1-5/18446744073709551617 * *",
                  "day-of-month: step 18446744073709551617 is out of range 1-31"},
        ErrorCase{"StepMissing", "*/ * * * *", "minute: missing step after \"/\" in \"*/\""},
        ErrorCase{"StepNotANumber", "*/x * * * *", "minute: step \"x\" is not a number"},
        ErrorCase{"StepNegative", "*/-1 * * * *", "minute: step \"-1\" is not a number"},
        ErrorCase{"DoubleStep", "*/2/3 * * * *", "minute: step \"2/3\" is not a number"},
        ErrorCase{"ReversedRange", "0 17-9 * * *", "hour: range 17-9 is reversed"},
        ErrorCase{"ReversedDayNames", "0 0 * * fri-sun",
                  "day-of-week: range fri-sun is reversed (use 7 for Sunday at the end of a "
                  "range)"},
        ErrorCase{"ReversedMonthNames", "0 0 1 dec-jan *", "month: range dec-jan is reversed"},
        ErrorCase{"NegativeNumber", "-5 * * * *", "minute: \"-5\" is not a valid range"},
        ErrorCase{"OpenRange", "5- * * * *", "minute: \"5-\" is not a valid range"},
        ErrorCase{"ThreePartRange", "1-2-3 * * * *", "minute: \"2-3\" is not a number"},
        ErrorCase{"StarInRange", "*-5 * * * *", "minute: \"*\" is not a number"},
        ErrorCase{"EmptyListElement", "1,,2 * * * *", "minute: empty list element"},
        ErrorCase{"TrailingComma", "0 0 * * 1,", "day-of-week: empty list element"},
        ErrorCase{"LeadingComma", "0 ,3 * * *", "hour: empty list element"},
        ErrorCase{"Garbage", "a b c d e", "minute: \"a\" is not a number"},
        ErrorCase{"NameInMinute", "mon * * * *", "minute: \"mon\" is not a number"},
        ErrorCase{"UnknownMonthName", "0 0 1 foo *",
                  "month: \"foo\" is not a number or month name (jan-dec)"},
        ErrorCase{"DayNameInMonth", "0 0 1 mon *",
                  "month: \"mon\" is not a number or month name (jan-dec)"},
        ErrorCase{"MonthNameInDayOfWeek", "0 0 * * jan",
                  "day-of-week: \"jan\" is not a number or day name (sun-sat)"},
        ErrorCase{"LongDayName", "0 0 * * monday",
                  "day-of-week: \"monday\" is not a number or day name (sun-sat)"},
        ErrorCase{"QuartzQuestionMark", "0 0 ? * *", "day-of-month: \"?\" is not a number"},
        ErrorCase{"QuartzLast", "0 0 L * *", "day-of-month: \"L\" is not a number"},
        ErrorCase{"QuartzNth", "0 0 * * 5#3",
                  "day-of-week: \"5#3\" is not a number or day name (sun-sat)"},
        ErrorCase{"FullWidthDigit", "\xef\xbc\x90 * * * *",
                  "minute: \"\xef\xbc\x90\" is not a number"},
        ErrorCase{"LongGarbageIsCut", std::string(40, 'x') + " * * * *",
                  "minute: \"" + std::string(32, 'x') + "...\" is not a number"},
        ErrorCase{"Reboot", "@reboot", "@reboot is not supported"},
        ErrorCase{"UnknownMacro", "@every 5m",
                  "unknown macro \"@every 5m\" (expected @yearly, @annually, @monthly, "
                  "@weekly, @daily, @midnight or @hourly)"},
        ErrorCase{"MacroWithField", "@daily 5",
                  "unknown macro \"@daily 5\" (expected @yearly, @annually, @monthly, @weekly, "
                  "@daily, @midnight or @hourly)"}),
    caseName<ErrorCase>);

// Arbitrary input never crashes, never throws, and yields either a usable expression or an
// InvalidArgument with a message. Inputs are random strings and random edits of valid
// expressions; the seed is fixed, so they are the same every run.
TEST(CronFuzzTest, RandomInputNeverCrashes) {
  const std::string alphabet = "0123456789*/-,@ \tabcdefjlmnorstuwyJMS?#L\x01\xff";
  const std::vector<std::string> valid = {"0 8 * * 1-5", "*/15 9-17 * * mon-fri", "30 2 29 2 *",
                                          "@daily", "5,10 */2 1-7 jan-jun/2 0,7"};
  std::mt19937 rng(20240331);
  std::uniform_int_distribution<size_t> length(0, 24);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> edits(1, 3);
  int parsed = 0;
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    if (i % 2 == 0) {
      size_t n = length(rng);
      for (size_t k = 0; k < n; ++k) text.push_back(alphabet[pick(rng)]);
    } else {
      text = valid[static_cast<size_t>(i / 2) % valid.size()];
      for (int e = edits(rng); e > 0 && !text.empty(); --e) {
        size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
        switch (rng() % 3) {
          case 0:
            text[at] = alphabet[pick(rng)];
            break;
          case 1:
            text.insert(at, 1, alphabet[pick(rng)]);
            break;
          default:
            text.erase(at, 1);
            break;
        }
      }
    }
    Result<CronExpr> cron = CronExpr::parse(text);
    if (!cron.ok()) {
      ++rejected;
      ASSERT_EQ(cron.status().code(), StatusCode::kInvalidArgument) << text;
      ASSERT_FALSE(cron.status().message().empty()) << text;
      continue;
    }
    ++parsed;
    date::local_seconds t = local("2024-03-31 02:30");
    std::optional<date::local_seconds> next = cron->next(t);
    std::optional<date::local_seconds> previous = cron->previous(t);
    if (next) {
      ASSERT_GT(*next, t) << text;
      ASSERT_TRUE(cron->matches(*next)) << text;
    }
    if (previous) {
      ASSERT_LE(*previous, t) << text;
      ASSERT_TRUE(cron->matches(*previous)) << text;
    }
  }
  EXPECT_GT(rejected, 10000);
  EXPECT_GT(parsed, 200);
}

// Structured fuzz: five random fields built from valid and invalid pieces.
TEST(CronFuzzTest, RandomFieldsNeverCrash) {
  const std::vector<std::string> pieces = {
      "*",   "*/0", "*/1", "*/7", "*/61", "0",   "7",       "31",  "59",          "60",
      "1-5", "5-1", "0-7", "mon", "SUN",  "jan", "feb-mar", "2/3", "99999999999", "-",
      "",    ",",   "1,2", "*/",  "a",    "L",   "1-",      "-1",  "13",          "24"};
  std::mt19937 rng(7);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    for (int f = 0; f < 5; ++f) text += pieces[pick(rng)] + " ";
    Result<CronExpr> cron = CronExpr::parse(text);
    if (!cron.ok()) {
      ASSERT_EQ(cron.status().code(), StatusCode::kInvalidArgument) << text;
      const std::string message = cron.status().message();
      bool names_field = false;
      for (std::string_view field : {"minute: ", "hour: ", "day-of-month: ", "month: ",
                                     "day-of-week: ", "expected 5", "empty cron"}) {
        names_field |= message.rfind(field, 0) == 0;
      }
      ASSERT_TRUE(names_field) << text << " -> " << message;
      continue;
    }
    ++parsed;
    date::local_seconds t = local("2096-02-29 12:00");
    // Any date falls on any weekday within 40 years, so a possible expression matches.
    std::optional<date::local_seconds> next = cron->next(t, date::days(366 * 40));
    if (next) {
      ASSERT_TRUE(cron->matches(*next)) << text;
    }
    ASSERT_EQ(next.has_value(), cron->canMatch()) << text;
  }
  EXPECT_GT(parsed, 100);
}

// ---------------------------------------------------------------------------------------------
// matches()

struct MatchCase {
  std::string name;
  std::string cron;
  std::string at;  // Local time.
  bool matches;
};

class CronMatchTest : public testing::TestWithParam<MatchCase> {};

TEST_P(CronMatchTest, Matches) {
  const MatchCase& c = GetParam();
  CronExpr cron = mustParse(c.cron);
  EXPECT_EQ(cron.matches(local(c.at)), c.matches) << c.cron << " at " << c.at;
  // Seconds are ignored.
  EXPECT_EQ(cron.matches(local(c.at) + seconds(59)), c.matches) << c.cron << " at " << c.at;
}

// Weekdays: 2024-08-13 Tue, 2024-09-01 Sun, 2024-09-06 Fri, 2024-09-13 Fri, 2024-02-29 Thu.
INSTANTIATE_TEST_SUITE_P(
    Table, CronMatchTest,
    testing::Values(
        MatchCase{"EveryMinute", "* * * * *", "2024-05-17 13:37", true},
        MatchCase{"MinuteListHit", "5,10 * * * *", "2024-05-17 13:10", true},
        MatchCase{"MinuteListMiss", "5,10 * * * *", "2024-05-17 13:11", false},
        MatchCase{"HourRangeLast", "0 9-17 * * *", "2024-05-17 17:00", true},
        MatchCase{"HourRangeAfter", "0 9-17 * * *", "2024-05-17 18:00", false},
        MatchCase{"StepInRangeHit", "5-50/20 * * * *", "2024-05-17 13:45", true},
        MatchCase{"StepInRangeMiss", "5-50/20 * * * *", "2024-05-17 13:50", false},
        MatchCase{"StartStepHit", "10/20 * * * *", "2024-05-17 13:50", true},
        MatchCase{"StartStepMiss", "10/20 * * * *", "2024-05-17 13:55", false},
        MatchCase{"HourStep", "0 */6 * * *", "2024-05-17 18:00", true},
        MatchCase{"HourStepMiss", "0 */6 * * *", "2024-05-17 19:00", false},
        // Vixie OR rule: both day fields restricted, either suffices.
        MatchCase{"OrRule13thOnTuesday", "0 0 13 * 5", "2024-08-13 00:00", true},
        MatchCase{"OrRuleFridayThe6th", "0 0 13 * 5", "2024-09-06 00:00", true},
        MatchCase{"OrRuleNeither", "0 0 13 * 5", "2024-09-07 00:00", false},
        MatchCase{"OrRuleFirstWeekOrMonday", "0 0 1-7 * mon", "2024-09-30 00:00", true},
        // Day-of-month starts with `*`: both must match.
        MatchCase{"AndRuleEvenFriday", "0 0 */2 * 5", "2024-09-06 00:00", false},
        MatchCase{"AndRuleOddFriday", "0 0 */2 * 5", "2024-09-13 00:00", true},
        MatchCase{"AndRuleOddSunday", "0 0 */2 * 5", "2024-09-15 00:00", false},
        // Day-of-week starts with `*`: both must match.
        MatchCase{"AndRuleDowStarStep", "0 0 13 * */1", "2024-09-06 00:00", false},
        MatchCase{"AndRuleDowStarStepHit", "0 0 13 * */1", "2024-09-13 00:00", true},
        MatchCase{"DayOfWeek7IsSunday", "0 0 * * 7", "2024-09-01 00:00", true},
        MatchCase{"DayOfWeek7NotMonday", "0 0 * * 7", "2024-09-02 00:00", false},
        MatchCase{"DayOfWeekRangeTo7", "0 0 * * 5-7", "2024-09-01 00:00", true},
        MatchCase{"DayOfWeekStarStepSunday", "0 0 * * */2", "2024-09-01 00:00", true},
        MatchCase{"DayOfWeekStarStepMonday", "0 0 * * */2", "2024-09-02 00:00", false},
        MatchCase{"DayOfWeekStartStepNoSunday", "0 0 * * 1/2", "2024-09-01 00:00", false},
        MatchCase{"DayNamesMixedCase", "0 9 * * MON-fri", "2024-09-02 09:00", true},
        MatchCase{"DayNamesWeekend", "0 9 * * MON-fri", "2024-09-01 09:00", false},
        MatchCase{"MonthNames", "0 0 1 jan,JUL *", "2024-07-01 00:00", true},
        MatchCase{"MonthNamesMiss", "0 0 1 jan,JUL *", "2024-06-01 00:00", false},
        MatchCase{"MonthNameRangeStep", "0 0 1 jan-dec/3 *", "2024-10-01 00:00", true},
        MatchCase{"LeapDay", "0 0 29 2 *", "2024-02-29 00:00", true},
        MatchCase{"Day31", "0 0 31 * *", "2024-12-31 00:00", true},
        MatchCase{"Hourly", "@hourly", "2024-05-17 13:00", true},
        MatchCase{"HourlyMiss", "@hourly", "2024-05-17 13:01", false},
        MatchCase{"DailyUpperCase", "@DAILY", "2024-05-17 00:00", true},
        MatchCase{"Midnight", "@midnight", "2024-05-17 00:01", false},
        MatchCase{"WeeklyOnSunday", "@weekly", "2024-09-01 00:00", true},
        MatchCase{"WeeklyNotMonday", "@weekly", "2024-09-02 00:00", false},
        MatchCase{"Monthly", "@monthly", "2024-09-01 00:00", true},
        MatchCase{"Yearly", "@yearly", "2025-01-01 00:00", true},
        MatchCase{"AnnuallyNotFeb", "@annually", "2025-02-01 00:00", false},
        MatchCase{"TabsAndSpaces", " 0\t8  * *\t1-5 ", "2024-09-02 08:00", true},
        MatchCase{"LeadingZeros", "00 08 01 01 *", "2024-01-01 08:00", true},
        MatchCase{"OverlappingList", "0-10,5-15/5,* 0 * * *", "2024-01-01 00:59", true}),
    caseName<MatchCase>);

TEST(CronMatchTest, DefaultConstructedMatchesNothing) {
  CronExpr cron;
  EXPECT_FALSE(cron.canMatch());
  EXPECT_FALSE(cron.matches(local("2024-01-01 00:00")));
  EXPECT_EQ(cron.next(local("2024-01-01 00:00")), std::nullopt);
  EXPECT_EQ(cron.previous(local("2024-01-01 00:00")), std::nullopt);
}

TEST(CronMatchTest, KeepsText) {
  EXPECT_EQ(mustParse("0 8 * * 1-5").text(), "0 8 * * 1-5");
  EXPECT_EQ(mustParse("@daily").text(), "@daily");
}

// ---------------------------------------------------------------------------------------------
// next() and previous()

struct SearchCase {
  std::string name;
  std::string cron;
  std::string from;      // Local time.
  std::string expected;  // Local time, or "none".
};

class CronNextTest : public testing::TestWithParam<SearchCase> {};
class CronPreviousTest : public testing::TestWithParam<SearchCase> {};

TEST_P(CronNextTest, FindsEarliestMatchAfter) {
  const SearchCase& c = GetParam();
  CronExpr cron = mustParse(c.cron);
  EXPECT_EQ(show(cron.next(local(c.from))), show(c.expected)) << c.cron << " after " << c.from;
  // Seconds within the minute do not change the answer: next() is strictly after the minute.
  EXPECT_EQ(show(cron.next(local(c.from) + seconds(30))), show(c.expected));
}

TEST_P(CronPreviousTest, FindsLatestMatchAtOrBefore) {
  const SearchCase& c = GetParam();
  CronExpr cron = mustParse(c.cron);
  EXPECT_EQ(show(cron.previous(local(c.from))), show(c.expected)) << c.cron << " at " << c.from;
  EXPECT_EQ(show(cron.previous(local(c.from) + seconds(59))), show(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronNextTest,
    testing::Values(
        SearchCase{"EveryMinute", "* * * * *", "2024-05-17 13:37", "2024-05-17 13:38"},
        SearchCase{"StrictlyAfter", "0 8 * * 1-5", "2024-09-02 08:00", "2024-09-03 08:00"},
        SearchCase{"SameDayLater", "0 8 * * 1-5", "2024-09-02 07:59", "2024-09-02 08:00"},
        SearchCase{"SkipsWeekend", "0 8 * * 1-5", "2024-09-06 09:00", "2024-09-09 08:00"},
        SearchCase{"MinuteWrapsHour", "15,45 * * * *", "2024-05-17 13:50", "2024-05-17 14:15"},
        SearchCase{"HourStep", "0 */6 * * *", "2024-05-17 13:37", "2024-05-17 18:00"},
        SearchCase{"LastMinuteOfDay", "59 23 * * *", "2024-05-17 23:59", "2024-05-18 23:59"},
        SearchCase{"YearRollover", "@yearly", "2024-12-31 23:59", "2025-01-01 00:00"},
        SearchCase{"OrRuleFridayFirst", "0 0 13 * 5", "2024-09-01 00:00", "2024-09-06 00:00"},
        SearchCase{"OrRule13th", "0 0 13 * 5", "2024-08-10 00:00", "2024-08-13 00:00"},
        SearchCase{"AndRuleOddFriday", "0 0 */2 * 5", "2024-09-01 00:00", "2024-09-13 00:00"},
        SearchCase{"OrRuleMondayAfterFirstWeek", "0 0 1-7 * 1", "2024-09-08 00:00",
                   "2024-09-09 00:00"},
        SearchCase{"MonthNamesSkip", "0 0 1 jan,jul *", "2024-07-01 00:00", "2025-01-01 00:00"},
        SearchCase{"Day31SkipsShortMonths", "0 0 31 * *", "2024-04-01 00:00", "2024-05-31 00:00"},
        SearchCase{"Feb29FromLeapYear", "0 0 29 2 *", "2024-03-01 00:00", "2028-02-29 00:00"},
        SearchCase{"Feb29SameYear", "0 0 29 2 *", "2024-01-15 00:00", "2024-02-29 00:00"},
        SearchCase{"Feb30Never", "0 0 30 2 *", "2024-01-01 00:00", "none"},
        SearchCase{"Feb31Never", "0 0 31 2 *", "2024-01-01 00:00", "none"},
        SearchCase{"Apr31Never", "0 0 31 4 *", "2024-01-01 00:00", "none"},
        SearchCase{"Feb31OrMonday", "0 0 31 2 1", "2024-01-01 00:00", "2024-02-05 00:00"},
        SearchCase{"WeeklySunday", "@weekly", "2024-09-02 00:00", "2024-09-08 00:00"},
        SearchCase{"MonthlyFromLastDay", "@monthly", "2024-01-31 12:00", "2024-02-01 00:00"},
        SearchCase{"QuarterlyMonthStep", "0 6 1 */3 *", "2024-04-01 06:00", "2024-07-01 06:00"},
        SearchCase{"HourlyAtEndOfDay", "@hourly", "2024-12-31 23:00", "2025-01-01 00:00"},
        SearchCase{"SundayAs7", "30 4 * * 7", "2024-09-01 04:30", "2024-09-08 04:30"},
        SearchCase{"NoMoreHoursToday", "0 9,10 * * *", "2024-09-01 10:00", "2024-09-02 09:00"},
        SearchCase{"NextHourFirstMinute", "5,50 9,10 * * *", "2024-09-01 09:51",
                   "2024-09-01 10:05"},
        SearchCase{"Year9999Last", "59 23 31 12 *", "9999-12-31 23:58", "9999-12-31 23:59"},
        SearchCase{"BeyondYear9999", "59 23 31 12 *", "9999-12-31 23:59", "none"}),
    caseName<SearchCase>);

INSTANTIATE_TEST_SUITE_P(
    Table, CronPreviousTest,
    testing::Values(
        SearchCase{"Inclusive", "0 8 * * 1-5", "2024-09-09 08:00", "2024-09-09 08:00"},
        SearchCase{"SkipsWeekendBack", "0 8 * * 1-5", "2024-09-09 07:59", "2024-09-06 08:00"},
        SearchCase{"SameDayEarlier", "15,45 9-17 * * *", "2024-05-17 12:44", "2024-05-17 12:15"},
        SearchCase{"PreviousDayLast", "15,45 9-17 * * *", "2024-05-17 09:10", "2024-05-16 17:45"},
        SearchCase{"YearRollback", "30 2 * * *", "2024-01-01 00:00", "2023-12-31 02:30"},
        SearchCase{"NewYearsEveLastYear", "59 23 31 12 *", "2024-12-31 23:58", "2023-12-31 23:59"},
        SearchCase{"Day31SkipsShortMonths", "0 0 31 * *", "2024-05-30 00:00", "2024-03-31 00:00"},
        SearchCase{"Feb29BackOneYear", "0 0 29 2 *", "2025-01-01 00:00", "2024-02-29 00:00"},
        SearchCase{"Feb29BackFourYears", "0 0 29 2 *", "2024-02-28 23:59", "2020-02-29 00:00"},
        SearchCase{"Feb31Never", "0 0 31 2 *", "2024-01-01 00:00", "none"},
        SearchCase{"OrRule", "0 0 13 * 5", "2024-09-12 00:00", "2024-09-06 00:00"},
        SearchCase{"AndRule", "0 0 */2 * 5", "2024-09-26 00:00", "2024-09-13 00:00"},
        SearchCase{"Monthly", "@monthly", "2024-03-15 00:00", "2024-03-01 00:00"},
        SearchCase{"WeeklyFromSaturday", "@weekly", "2024-09-07 23:59", "2024-09-01 00:00"},
        SearchCase{"LastHourOfPreviousDay", "0,30 23 * * *", "2024-09-07 22:59",
                   "2024-09-06 23:30"},
        SearchCase{"EarlierHourLastMinute", "10,40 3,7 * * *", "2024-09-07 07:05",
                   "2024-09-07 03:40"},
        SearchCase{"Year1First", "0 0 1 1 *", "0001-01-01 00:00", "0001-01-01 00:00"},
        SearchCase{"BeforeYear1", "0 0 2 1 *", "0001-01-01 12:00", "none"}),
    caseName<SearchCase>);

// Equal expressions written differently fire at the same minutes.
struct EquivalenceCase {
  std::string name;
  std::string a;
  std::string b;
};

class CronEquivalenceTest : public testing::TestWithParam<EquivalenceCase> {};

TEST_P(CronEquivalenceTest, SameFires) {
  const EquivalenceCase& c = GetParam();
  CronExpr a = mustParse(c.a);
  CronExpr b = mustParse(c.b);
  std::optional<date::local_seconds> ta = local("2024-01-01 00:00");
  std::optional<date::local_seconds> tb = ta;
  for (int i = 0; i < 300 && ta; ++i) {
    ta = a.next(*ta);
    tb = b.next(*tb);
    ASSERT_EQ(show(ta), show(tb)) << c.a << " vs " << c.b << " fire " << i;
  }
  EXPECT_TRUE(ta.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronEquivalenceTest,
    testing::Values(EquivalenceCase{"Yearly", "@yearly", "0 0 1 1 *"},
                    EquivalenceCase{"Annually", "@annually", "0 0 1 jan *"},
                    EquivalenceCase{"Monthly", "@monthly", "0 0 1 * *"},
                    EquivalenceCase{"Weekly", "@weekly", "0 0 * * sun"},
                    EquivalenceCase{"Daily", "@daily", "0 0 * * *"},
                    EquivalenceCase{"Midnight", "@midnight", "0 0 */1 * *"},
                    EquivalenceCase{"Hourly", "@hourly", "0 */1 * * *"},
                    EquivalenceCase{"SundayNames", "0 0 * * 7", "0 0 * * SUN"},
                    EquivalenceCase{"SundayZeroSeven", "0 0 * * 0,7", "0 0 * * 0"},
                    EquivalenceCase{"WeekdayNames", "0 9 * * Mon-Fri", "0 9 * * 1-5"},
                    EquivalenceCase{"AllWeekdaysRange", "0 0 * * 0-7", "0 0 * * *"},
                    EquivalenceCase{"DowStarStep", "0 0 * * */2", "0 0 * * 0,2,4,6"},
                    EquivalenceCase{"DowStartStep", "0 0 * * 1/2", "0 0 * * 1,3,5"},
                    EquivalenceCase{"MonthNames", "0 0 1 jan,jul *", "0 0 1 1,7 *"},
                    EquivalenceCase{"MinuteStar", "*/15 * * * *", "0,15,30,45 * * * *"},
                    EquivalenceCase{"MinuteRangeStep", "5-50/20 8 * * *", "5,25,45 8 * * *"},
                    EquivalenceCase{"MinuteStartStep", "10/20 8 * * *", "10,30,50 8 * * *"},
                    EquivalenceCase{"OversizedStep", "*/59 0 * * *", "0,59 0 * * *"}),
    caseName<EquivalenceCase>);

// ---------------------------------------------------------------------------------------------
// next()/previous() agree with a minute-by-minute scan using matches(), which the table
// above pins down; the scan is the obvious algorithm the bit-mask searches replace.

struct ScanCase {
  std::string name;
  std::string cron;
  std::string from;
};

class CronScanTest : public testing::TestWithParam<ScanCase> {};

TEST_P(CronScanTest, AgreesWithMinuteScan) {
  const ScanCase& c = GetParam();
  CronExpr cron = mustParse(c.cron);
  const date::local_seconds begin = local(c.from);
  const int kMinutes = 4 * 24 * 60;
  std::vector<date::local_seconds> fires;
  for (int i = -kMinutes; i <= 2 * kMinutes; ++i) {
    date::local_seconds m = begin + minutes(i);
    if (cron.matches(m)) fires.push_back(m);
  }
  ASSERT_FALSE(fires.empty()) << c.cron;
  int checked = 0;
  for (int i = 0; i <= kMinutes; i += 7) {
    date::local_seconds t = begin + minutes(i) + seconds(i % 60);
    auto after = std::upper_bound(fires.begin(), fires.end(), t);
    if (after != fires.end()) {
      ASSERT_EQ(show(cron.next(t)), show(*after)) << c.cron << " after " << show(t);
      ++checked;
    }
    if (after != fires.begin()) {
      ASSERT_EQ(show(cron.previous(t)), show(*(after - 1))) << c.cron << " at " << show(t);
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CronScanTest,
    testing::Values(ScanCase{"Business", "0 8 * * 1-5", "2024-09-05 00:00"},
                    ScanCase{"Quarters", "*/15 9-17 * * *", "2024-09-05 00:00"},
                    ScanCase{"OrRule", "0 0 13 * 5", "2024-09-10 00:00"},
                    ScanCase{"AndRule", "7 1 */2 * 4-6", "2024-09-10 00:00"},
                    ScanCase{"MonthEnd", "30 23 28-31 * *", "2024-02-27 00:00"},
                    ScanCase{"LeapDay", "0 12 29 2 *", "2024-02-27 00:00"},
                    ScanCase{"YearEnd", "5,55 23,0 * * *", "2024-12-30 00:00"},
                    ScanCase{"SparseMinutes", "1,58 3,21 * * 0,3", "2024-03-29 00:00"},
                    ScanCase{"EveryMinute", "* * * * *", "2024-10-26 00:00"}),
    caseName<ScanCase>);

// ---------------------------------------------------------------------------------------------
// Horizons: searches are bounded, and impossible expressions answer at once.

TEST(CronHorizonTest, ImpossibleExpressionsCannotMatch) {
  for (const char* text : {"0 0 30 2 *", "0 0 31 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 feb *"}) {
    CronExpr cron = mustParse(text);
    EXPECT_FALSE(cron.canMatch()) << text;
    EXPECT_EQ(cron.next(local("2024-01-01 00:00"), date::days(366 * 1000)), std::nullopt);
    EXPECT_EQ(cron.previous(local("2024-01-01 00:00"), date::days(366 * 1000)), std::nullopt);
  }
  for (const char* text : {"0 0 29 2 *", "0 0 31 2 1", "0 0 */2 2 5"}) {
    EXPECT_TRUE(mustParse(text).canMatch()) << text;
  }
}

TEST(CronHorizonTest, LeapDayAcross2100NeedsEightYears) {
  // 2100 is not a leap year: Feb 29 comes 2096, then 2104.
  CronExpr cron = mustParse("0 0 29 2 *");
  EXPECT_EQ(show(cron.next(local("2097-01-01 00:00"))), "none");  // Default: 5 years.
  EXPECT_EQ(show(cron.next(local("2097-01-01 00:00"), date::days(366 * 8))),
            show(local("2104-02-29 00:00")));
  EXPECT_EQ(show(cron.previous(local("2103-12-31 00:00"))), "none");
  EXPECT_EQ(show(cron.previous(local("2103-12-31 00:00"), date::days(366 * 8))),
            show(local("2096-02-29 00:00")));
}

TEST(CronHorizonTest, HorizonIsInclusiveAndExact) {
  CronExpr cron = mustParse("0 0 1 1 *");
  date::local_seconds t = local("2024-01-01 00:00");
  EXPECT_EQ(show(cron.next(t, date::days(366))), show(local("2025-01-01 00:00")));
  EXPECT_EQ(show(cron.next(t, date::days(365))), "none");
  EXPECT_EQ(show(cron.previous(local("2023-12-31 00:00"), date::days(364))),
            show(local("2023-01-01 00:00")));
  EXPECT_EQ(show(cron.previous(local("2023-12-31 00:00"), date::days(363))), "none");
  EXPECT_EQ(show(cron.next(t, date::days(-1))), "none");
  EXPECT_EQ(show(cron.previous(t, date::days(0))), show(t));
}

TEST(CronHorizonTest, ExtremeTimesAreSafe) {
  CronExpr cron = mustParse("* * * * *");
  const date::local_seconds lo = date::local_seconds::min();
  const date::local_seconds hi = date::local_seconds::max();
  EXPECT_FALSE(cron.matches(lo));
  EXPECT_FALSE(cron.matches(hi));
  EXPECT_EQ(show(cron.next(hi)), "none");
  EXPECT_EQ(show(cron.previous(lo)), "none");
  EXPECT_EQ(show(cron.next(lo, date::days(1))), "none");  // Year 1 is beyond the horizon.
  EXPECT_EQ(show(cron.previous(hi)), "none");             // Year 9999 is beyond the horizon.
  EXPECT_EQ(show(cron.previous(local("9999-12-31 23:59") + date::days(365))),
            show(local("9999-12-31 23:59")));
  EXPECT_EQ(show(cron.next(local("0001-01-01 00:00") - date::days(1))),
            show(local("0001-01-01 00:00")));
}

}  // namespace
}  // namespace governor::policies
