#include "base/rfc3339.h"

#include <chrono>
#include <cstdio>

namespace governor {
namespace {

// Reads exactly `n` digits at `pos`; false when there are fewer.
bool digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  out = value;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

Status bad(std::string_view text) {
  return invalidArgument("timestamp \"" + std::string(text) +
                         "\" is not RFC 3339 (2026-11-26T04:30:00Z)");
}

}  // namespace

std::string formatRfc3339(TimePoint t, TimePrecision precision) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", int(ymd.year()),
                        unsigned(ymd.month()), unsigned(ymd.day()), int(hms.hours().count()),
                        int(hms.minutes().count()), int(hms.seconds().count()));
  std::string out(buf, static_cast<size_t>(n));
  const auto millis = static_cast<int>(hms.subseconds().count());
  if (precision == TimePrecision::kMilliseconds) {
    std::snprintf(buf, sizeof buf, ".%03d", millis);
    out += buf;
  } else if (precision == TimePrecision::kMicroseconds) {
    std::snprintf(buf, sizeof buf, ".%03d000", millis);
    out += buf;
  }
  out += 'Z';
  return out;
}

Result<TimePoint> parseRfc3339(std::string_view text) {
  using namespace std::chrono;
  size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  if (!digits(text, pos, 4, y) || !expect(text, pos, '-') || !digits(text, pos, 2, mo) ||
      !expect(text, pos, '-') || !digits(text, pos, 2, d)) {
    return bad(text);
  }
  if (pos >= text.size() || (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')) {
    return bad(text);
  }
  ++pos;
  if (!digits(text, pos, 2, h) || !expect(text, pos, ':') || !digits(text, pos, 2, mi) ||
      !expect(text, pos, ':') || !digits(text, pos, 2, s)) {
    return bad(text);
  }
  int millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      millis += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad(text);
  }
  int offset_minutes = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh = 0, om = 0;
    if (!digits(text, pos, 2, oh) || !expect(text, pos, ':') || !digits(text, pos, 2, om) ||
        oh > 23 || om > 59) {
      return bad(text);
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return bad(text);
  }
  if (pos != text.size()) return bad(text);
  const year_month_day ymd{year(y), month(static_cast<unsigned>(mo)),
                           day(static_cast<unsigned>(d))};
  // A leap second (23:59:60) is rejected with the other out-of-range values: Go's
  // time.Parse rejects it too, so Kubernetes never writes one.
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return bad(text);
  const auto t = sys_days(ymd) + hours(h) + minutes(mi) + seconds(s) + milliseconds(millis) -
                 minutes(offset_minutes);
  return TimePoint(duration_cast<Duration>(t.time_since_epoch()));
}

}  // namespace governor
