#include "base/duration.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

namespace governor {
namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  if (text.empty()) return invalidArgument("empty duration");
  if (text == "0") return Duration(0);
  size_t i = 0;
  double total_ms = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    ++i;
  }
  if (i == text.size()) return invalidArgument(quoted(text) + ": no number");
  while (i < text.size()) {
    size_t start = i;
    bool seen_digit = false;
    while (i < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
      seen_digit = seen_digit || text[i] != '.';
      ++i;
    }
    if (!seen_digit) return invalidArgument(quoted(text) + ": expected a number");
    std::string number(text.substr(start, i - start));
    if (number.find('.') != number.rfind('.')) {
      return invalidArgument(quoted(text) + ": malformed number \"" + number + "\"");
    }
    double value = std::stod(number);
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1e3;
    } else if (unit == "m") {
      scale = 60e3;
    } else if (unit == "h") {
      scale = 3600e3;
    } else if (unit == "d") {
      scale = 86400e3;
    } else if (unit == "w") {
      scale = 7 * 86400e3;
    } else if (unit.empty()) {
      return invalidArgument(quoted(text) + ": missing unit (use ms, s, m, h, d or w)");
    } else {
      return invalidArgument(quoted(text) + ": unknown unit \"" + std::string(unit) +
                             "\" (use ms, s, m, h, d or w)");
    }
    total_ms += value * scale;
  }
  // Ten thousand years is far past anything meaningful and well within int64 milliseconds.
  if (!std::isfinite(total_ms) || total_ms > 3.2e14) {
    return invalidArgument(quoted(text) + ": out of range");
  }
  auto ms = static_cast<int64_t>(std::llround(total_ms));
  return Duration(negative ? -ms : ms);
}

std::string formatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out += '-';
    ms = -ms;
  }
  int64_t hours = ms / 3'600'000;
  ms %= 3'600'000;
  int64_t minutes = ms / 60'000;
  ms %= 60'000;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (minutes > 0) out += std::to_string(minutes) + "m";
  if (ms > 0) {
    if (ms % 1000 == 0) {
      out += std::to_string(ms / 1000) + "s";
    } else if (ms < 1000 && hours == 0 && minutes == 0) {
      out += std::to_string(ms) + "ms";
    } else {
      std::string frac = std::to_string(ms % 1000);
      frac.insert(0, 3 - frac.size(), '0');
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
      out += std::to_string(ms / 1000) + "." + frac + "s";
    }
  }
  return out;
}

}  // namespace governor
