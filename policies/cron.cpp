#include "policies/cron.h"

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <date/date.h>

namespace governor::policies {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

enum class Names { kNone, kMonths, kDays };

struct Field {
  std::string_view name;
  int min;       // Smallest value accepted.
  int max;       // Largest value accepted (7 for day-of-week: Sunday again).
  int star_max;  // Where `*` and `a/n` stop (6 for day-of-week).
  Names names;
};

constexpr std::array<Field, 5> kFields = {{
    {"minute", 0, 59, 59, Names::kNone},
    {"hour", 0, 23, 23, Names::kNone},
    {"day-of-month", 1, 31, 31, Names::kNone},
    {"month", 1, 12, 12, Names::kMonths},
    {"day-of-week", 0, 7, 6, Names::kDays},
}};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

struct Macro {
  std::string_view name;
  std::string_view expansion;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

// Only these years are searched: date::year is 16 bits, and nobody schedules outside them.
constexpr int kMinYear = 1;
constexpr int kMaxYear = 9999;
constexpr date::local_seconds kMinLocal{date::local_days{date::year{kMinYear} / 1 / 1}};
constexpr date::local_seconds kMaxLocal{date::local_days{date::year{kMaxYear} / 12 / 31} +
                                        seconds(86399)};

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
char toLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return toLower(x) == y; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Input as shown in an error message: long garbage is cut so that messages stay readable.
std::string clip(std::string_view s) {
  constexpr size_t kMaxShown = 32;
  std::string out(s.substr(0, kMaxShown));
  if (s.size() > kMaxShown) out.append("...");
  return out;
}

std::string quoted(std::string_view s) { return "\"" + clip(s) + "\""; }

Status fieldError(const Field& f, std::string_view message) {
  std::string text(f.name);
  text.append(": ");
  text.append(message);
  return invalidArgument(std::move(text));
}

std::string rangeText(const Field& f) {
  return std::to_string(f.min) + "-" + std::to_string(f.max);
}

// A decimal number of at most 9 digits (so it fits in int), or nullopt when `text` is not
// all digits. Longer numbers come back as INT32_MAX: out of range for every field.
std::optional<int> parseDigits(std::string_view text) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), isDigit)) return std::nullopt;
  while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
  if (text.size() > 9) return INT32_MAX;
  int value = 0;
  for (char c : text) value = value * 10 + (c - '0');
  return value;
}

// A number or name in field `f`.
Result<int> parseValue(const Field& f, std::string_view text) {
  if (std::optional<int> n = parseDigits(text)) {
    if (*n < f.min || *n > f.max) {
      return fieldError(f, clip(text) + " is out of range " + rangeText(f));
    }
    return *n;
  }
  if (f.names == Names::kMonths) {
    for (size_t i = 0; i < kMonthNames.size(); ++i) {
      if (equalsIgnoreCase(text, kMonthNames[i])) return static_cast<int>(i) + 1;
    }
    return fieldError(f, quoted(text) + " is not a number or month name (jan-dec)");
  }
  if (f.names == Names::kDays) {
    for (size_t i = 0; i < kDayNames.size(); ++i) {
      if (equalsIgnoreCase(text, kDayNames[i])) return static_cast<int>(i);
    }
    return fieldError(f, quoted(text) + " is not a number or day name (sun-sat)");
  }
  return fieldError(f, quoted(text) + " is not a number");
}

// One comma-separated element: `*`, `a`, `a-b`, each optionally followed by `/step`.
// Returns the values it matches as a bit mask.
Result<uint64_t> parseElement(const Field& f, std::string_view element) {
  if (element.empty()) return fieldError(f, "empty list element");
  std::string_view range = element;
  int step = 1;
  bool has_step = false;
  if (size_t slash = element.find('/'); slash != std::string_view::npos) {
    has_step = true;
    range = element.substr(0, slash);
    std::string_view step_text = element.substr(slash + 1);
    if (step_text.empty()) return fieldError(f, "missing step after \"/\" in " + quoted(element));
    std::optional<int> n = parseDigits(step_text);
    if (!n) return fieldError(f, "step " + quoted(step_text) + " is not a number");
    if (*n < 1 || *n > f.max) {
      return fieldError(f,
                        "step " + clip(step_text) + " is out of range 1-" + std::to_string(f.max));
    }
    step = *n;
  }

  int lo = 0;
  int hi = 0;
  if (range == "*") {
    lo = f.min;
    hi = f.star_max;
  } else if (size_t dash = range.find('-'); dash != std::string_view::npos) {
    std::string_view lo_text = range.substr(0, dash);
    std::string_view hi_text = range.substr(dash + 1);
    if (lo_text.empty() || hi_text.empty()) {
      return fieldError(f, quoted(range) + " is not a valid range");
    }
    Result<int> a = parseValue(f, lo_text);
    if (!a.ok()) return a.status();
    Result<int> b = parseValue(f, hi_text);
    if (!b.ok()) return b.status();
    lo = *a;
    hi = *b;
    if (lo > hi) {
      std::string message = "range " + clip(range) + " is reversed";
      if (f.names == Names::kDays && hi == 0) {
        message += " (use 7 for Sunday at the end of a range)";
      }
      return fieldError(f, message);
    }
  } else {
    Result<int> a = parseValue(f, range);
    if (!a.ok()) return a.status();
    lo = *a;
    hi = has_step ? std::max(lo, f.star_max) : lo;
  }

  uint64_t mask = 0;
  for (int v = lo; v <= hi; v += step) mask |= uint64_t{1} << v;
  return mask;
}

Result<uint64_t> parseField(const Field& f, std::string_view text) {
  uint64_t mask = 0;
  size_t begin = 0;
  for (;;) {
    size_t comma = text.find(',', begin);
    std::string_view element = text.substr(
        begin, comma == std::string_view::npos ? std::string_view::npos : comma - begin);
    Result<uint64_t> bits = parseElement(f, element);
    if (!bits.ok()) return bits.status();
    mask |= *bits;
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return mask;
}

// Lowest set bit of `mask` at or above `from` (< 64), or -1.
int lowestFrom(uint64_t mask, int from) {
  mask &= ~uint64_t{0} << from;
  return mask == 0 ? -1 : std::countr_zero(mask);
}

// Highest set bit of `mask` at or below `upto` (in [-1, 63]), or -1.
int highestUpTo(uint64_t mask, int upto) {
  if (upto < 0) return -1;
  if (upto < 63) mask &= (uint64_t{2} << upto) - 1;
  return mask == 0 ? -1 : 63 - std::countl_zero(mask);
}

unsigned daysInMonth(int y, unsigned m) {
  constexpr std::array<unsigned, 13> kDays = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && date::year{y}.is_leap()) ? 29 : kDays[m];
}

// Bits 1..last.
uint32_t dayBits(unsigned last) { return (0xFFFFFFFFu >> (31 - last)) & ~1u; }

date::local_seconds at(int y, unsigned m, unsigned d, int h, int mi) {
  return date::local_days{date::year{y} / date::month{m} / date::day{d}} + hours(h) + minutes(mi);
}

// A local time split into calendar fields.
struct Civil {
  int y;
  unsigned m;
  unsigned d;
  int hour;
  int minute;
};

Civil split(date::local_seconds t) {
  date::local_days day = date::floor<date::days>(t);
  date::year_month_day ymd{day};
  auto minute_of_day = date::floor<minutes>(t - day).count();
  return {static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
          static_cast<unsigned>(ymd.day()), static_cast<int>(minute_of_day / 60),
          static_cast<int>(minute_of_day % 60)};
}

}  // namespace

Result<CronExpr> CronExpr::parse(std::string_view text) {
  std::string_view body = trim(text);
  if (body.empty()) return invalidArgument("empty cron expression");
  if (body.front() == '@') {
    for (const Macro& macro : kMacros) {
      if (equalsIgnoreCase(body, macro.name)) {
        Result<CronExpr> expanded = parse(macro.expansion);
        if (expanded.ok()) expanded->text_ = std::string(text);
        return expanded;
      }
    }
    if (equalsIgnoreCase(body, "@reboot")) return invalidArgument("@reboot is not supported");
    return invalidArgument("unknown macro " + quoted(body) +
                           " (expected @yearly, @annually, @monthly, @weekly, @daily, "
                           "@midnight or @hourly)");
  }

  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < body.size()) {
    while (i < body.size() && isSpace(body[i])) ++i;
    size_t start = i;
    while (i < body.size() && !isSpace(body[i])) ++i;
    if (i > start) fields.push_back(body.substr(start, i - start));
  }
  if (fields.size() != kFields.size()) {
    return invalidArgument("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                           std::to_string(fields.size()));
  }

  std::array<uint64_t, 5> masks{};
  for (size_t f = 0; f < kFields.size(); ++f) {
    Result<uint64_t> mask = parseField(kFields[f], fields[f]);
    if (!mask.ok()) return mask.status();
    masks[f] = *mask;
  }

  CronExpr cron;
  cron.text_ = std::string(text);
  cron.minutes_ = masks[0];
  cron.hours_ = static_cast<uint32_t>(masks[1]);
  cron.days_of_month_ = static_cast<uint32_t>(masks[2]);
  cron.months_ = static_cast<uint32_t>(masks[3]);
  uint32_t dow = static_cast<uint32_t>(masks[4]);
  if ((dow & (1u << 7)) != 0) dow = (dow & ~(1u << 7)) | 1u;  // 7 is Sunday.
  cron.days_of_week_ = dow;
  // Vixie cron: a field "is restricted" unless its text starts with `*` ("*/2" is not).
  cron.dom_restricted_ = fields[2].front() != '*';
  cron.dow_restricted_ = fields[4].front() != '*';
  for (unsigned first = 0; first < 7; ++first) {
    uint32_t mask = 0;
    for (unsigned d = 1; d <= 31; ++d) {
      if ((dow >> ((first + d - 1) % 7)) & 1u) mask |= 1u << d;
    }
    cron.dow_by_first_weekday_[first] = mask;
  }

  bool some_day = false;
  for (unsigned m = 1; m <= 12; ++m) {
    if (((cron.months_ >> m) & 1u) == 0) continue;
    // Any date y/m/d falls on every weekday in some year, so only the length of the month
    // (29 for February, in leap years) limits a day-of-month.
    bool dom = (cron.days_of_month_ & dayBits(m == 2 ? 29 : daysInMonth(2001, m))) != 0;
    some_day |=
        (cron.dom_restricted_ && cron.dow_restricted_) ? (dom || dow != 0) : (dom && dow != 0);
  }
  cron.can_match_ = some_day && cron.minutes_ != 0 && cron.hours_ != 0;
  return cron;
}

uint32_t CronExpr::dayMask(int y, unsigned m) const {
  uint32_t valid = dayBits(daysInMonth(y, m));
  unsigned first = date::weekday{date::local_days{date::year{y} / date::month{m} / 1}}.c_encoding();
  uint32_t dom = days_of_month_ & valid;
  uint32_t dow = dow_by_first_weekday_[first] & valid;
  return (dom_restricted_ && dow_restricted_) ? (dom | dow) : (dom & dow);
}

bool CronExpr::matches(date::local_seconds t) const {
  if (!can_match_ || t < kMinLocal || t > kMaxLocal) return false;
  Civil c = split(t);
  return ((months_ >> c.m) & 1u) != 0 && ((dayMask(c.y, c.m) >> c.d) & 1u) != 0 &&
         ((hours_ >> c.hour) & 1u) != 0 && ((minutes_ >> c.minute) & 1u) != 0;
}

std::optional<date::local_seconds> CronExpr::next(date::local_seconds t, date::days horizon) const {
  if (!can_match_ || horizon < date::days(0) || t >= kMaxLocal) return std::nullopt;
  const date::local_seconds limit = t + horizon;
  date::local_seconds from =
      t < kMinLocal ? kMinLocal : date::local_seconds(date::floor<minutes>(t) + minutes(1));
  Civil c = split(from);
  for (;;) {
    if (c.y > kMaxYear) return std::nullopt;
    int m = lowestFrom(months_, static_cast<int>(c.m));
    if (m < 0) {
      c = {c.y + 1, 1, 1, 0, 0};
      continue;
    }
    if (static_cast<unsigned>(m) != c.m) c = {c.y, static_cast<unsigned>(m), 1, 0, 0};
    if (at(c.y, c.m, c.d, 0, 0) > limit) return std::nullopt;

    uint32_t days = dayMask(c.y, c.m);
    for (int d = lowestFrom(days, static_cast<int>(c.d)); d >= 0; d = lowestFrom(days, d + 1)) {
      int hour = 0;
      int minute = 0;
      if (static_cast<unsigned>(d) == c.d) {
        hour = c.hour;
        minute = c.minute;
      }
      int h = lowestFrom(hours_, hour);
      if (h < 0) continue;
      int mi = -1;
      if (h == hour) {
        mi = lowestFrom(minutes_, minute);
        if (mi < 0) h = lowestFrom(hours_, hour + 1);
      }
      if (h < 0) continue;
      if (mi < 0) mi = lowestFrom(minutes_, 0);
      date::local_seconds found = at(c.y, c.m, static_cast<unsigned>(d), h, mi);
      if (found > limit) return std::nullopt;
      return found;
    }
    c = c.m == 12 ? Civil{c.y + 1, 1, 1, 0, 0} : Civil{c.y, c.m + 1, 1, 0, 0};
  }
}

std::optional<date::local_seconds> CronExpr::previous(date::local_seconds t,
                                                      date::days horizon) const {
  if (!can_match_ || horizon < date::days(0) || t < kMinLocal) return std::nullopt;
  const date::local_seconds lower = t - horizon;
  date::local_seconds from = date::floor<minutes>(std::min(t, kMaxLocal));
  Civil c = split(from);
  for (;;) {
    if (c.y < kMinYear) return std::nullopt;
    int m = highestUpTo(months_, static_cast<int>(c.m));
    if (m < 0) {
      c = {c.y - 1, 12, 31, 23, 59};
      continue;
    }
    if (static_cast<unsigned>(m) != c.m) c = {c.y, static_cast<unsigned>(m), 31, 23, 59};
    unsigned last = daysInMonth(c.y, c.m);
    if (at(c.y, c.m, last, 23, 59) < lower) return std::nullopt;

    uint32_t days = dayMask(c.y, c.m);
    for (int d = highestUpTo(days, static_cast<int>(c.d)); d > 0; d = highestUpTo(days, d - 1)) {
      int hour = 23;
      int minute = 59;
      if (static_cast<unsigned>(d) == c.d) {
        hour = c.hour;
        minute = c.minute;
      }
      int h = highestUpTo(hours_, hour);
      if (h < 0) continue;
      int mi = -1;
      if (h == hour) {
        mi = highestUpTo(minutes_, minute);
        if (mi < 0) h = highestUpTo(hours_, hour - 1);
      }
      if (h < 0) continue;
      if (mi < 0) mi = highestUpTo(minutes_, 59);
      date::local_seconds found = at(c.y, c.m, static_cast<unsigned>(d), h, mi);
      if (found < lower) return std::nullopt;
      return found;
    }
    c = c.m == 1 ? Civil{c.y - 1, 12, 31, 23, 59} : Civil{c.y, c.m - 1, 31, 23, 59};
  }
}

}  // namespace governor::policies
