#include "simulator/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <nlohmann/json.hpp>

#include "base/rfc3339.h"

namespace governor::simulator {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Splits one CSV line into `fields` (views into `line`, quotes removed; a doubled quote inside
// quotes stays doubled, which no numeric field contains).
void splitCsv(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t i = 0;
  while (true) {
    size_t start = i;
    size_t end = 0;
    if (i < line.size() && line[i] == '"') {
      size_t close = line.find('"', i + 1);
      if (close == std::string_view::npos) close = line.size();
      fields.push_back(line.substr(i + 1, close - i - 1));
      i = line.find(',', close);
      if (i == std::string_view::npos) return;
      ++i;
      continue;
    }
    end = line.find(',', start);
    if (end == std::string_view::npos) {
      fields.push_back(trim(line.substr(start)));
      return;
    }
    fields.push_back(trim(line.substr(start, end - start)));
    i = end + 1;
  }
}

std::optional<double> parseNumber(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string formatTime(TimePoint t) {
  return formatRfc3339(t, t.time_since_epoch().count() % 1000 == 0 ? TimePrecision::kSeconds
                                                                   : TimePrecision::kMilliseconds);
}

}  // namespace

namespace {

// The index of the first sample after `t`. REQUIRES: front().time < t < back().time.
size_t sampleAfter(const std::vector<TracePoint>& points, TimePoint t) {
  auto next = std::upper_bound(points.begin(), points.end(), t,
                               [](TimePoint x, const TracePoint& p) { return x < p.time; });
  return static_cast<size_t>(next - points.begin());
}

// The demand at `t` from the samples around it: a.time <= t < b.time.
double between(const TracePoint& a, const TracePoint& b, TimePoint t, Interpolation mode) {
  if (a.time == t || mode == Interpolation::kHold) return a.value;
  const double f =
      static_cast<double>((t - a.time).count()) / static_cast<double>((b.time - a.time).count());
  return a.value + (b.value - a.value) * f;
}

}  // namespace

double Trace::valueAt(TimePoint t, Interpolation mode) const {
  if (points_.empty()) return 0;
  if (t <= points_.front().time) return points_.front().value;
  if (t >= points_.back().time) return points_.back().value;
  const size_t next = sampleAfter(points_, t);
  return between(points_[next - 1], points_[next], t, mode);
}

double Trace::valueAt(TimePoint t, Interpolation mode, size_t& hint) const {
  if (points_.empty()) return 0;
  if (t <= points_.front().time) {
    hint = 0;
    return points_.front().value;
  }
  if (t >= points_.back().time) {
    hint = points_.size() - 1;
    return points_.back().value;
  }
  // Find i with points_[i].time <= t < points_[i + 1].time (it exists: front < t < back).
  size_t i = hint;
  constexpr int kMaxForward = 8;  // Beyond that, a binary search is as cheap.
  int forward = 0;
  if (i >= points_.size() - 1 || points_[i].time > t) {
    i = sampleAfter(points_, t) - 1;
  } else {
    while (points_[i + 1].time <= t) {
      if (++forward > kMaxForward) {
        i = sampleAfter(points_, t) - 1;
        break;
      }
      ++i;
    }
  }
  hint = i;
  return between(points_[i], points_[i + 1], t, mode);
}

Duration Trace::medianInterval() const {
  if (points_.size() < 2) return Duration(0);
  std::vector<Duration::rep> intervals;
  intervals.reserve(points_.size() - 1);
  for (size_t i = 1; i < points_.size(); ++i) {
    intervals.push_back((points_[i].time - points_[i - 1].time).count());
  }
  auto mid = intervals.begin() + static_cast<std::ptrdiff_t>(intervals.size() / 2);
  std::nth_element(intervals.begin(), mid, intervals.end());
  return Duration(*mid);
}

std::vector<TraceGap> Trace::gaps(Duration limit) const {
  std::vector<TraceGap> found;
  for (size_t i = 1; i < points_.size(); ++i) {
    if (points_[i].time - points_[i - 1].time > limit) {
      found.push_back({points_[i - 1].time, points_[i].time});
    }
  }
  return found;
}

Result<TimePoint> parseTimestamp(std::string_view text) {
  text = trim(text);
  // Unix seconds: exact in milliseconds for integers; decimals rounded to the millisecond.
  {
    int64_t whole = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), whole);
    if (ec == std::errc() && end == text.data() + text.size() && !text.empty()) {
      if (whole > INT64_MAX / 1000 || whole < INT64_MIN / 1000) {
        return invalidArgument("timestamp " + quote(text) + " is out of range");
      }
      return TimePoint(Duration(whole * 1000));
    }
    if (auto seconds = parseNumber(text)) {
      if (!std::isfinite(*seconds) || std::fabs(*seconds) > 9.0e15) {
        return invalidArgument("timestamp " + quote(text) + " is out of range");
      }
      return TimePoint(Duration(std::llround(*seconds * 1000.0)));
    }
  }
  auto parsed = parseRfc3339(text);
  if (!parsed.ok()) {
    return invalidArgument("timestamp " + quote(text) +
                           " is neither Unix seconds nor RFC 3339 (2025-03-02T08:00:00Z)");
  }
  return *parsed;
}

Result<Trace> parseCsvTrace(std::string_view text, std::string_view source,
                            std::string_view time_column, std::string_view value_column,
                            double scale) {
  const std::string src(source);
  std::vector<std::string_view> fields;
  std::vector<TracePoint> points;
  points.reserve(text.size() / 16);
  size_t time_index = 0;
  size_t value_index = 0;
  size_t columns = 0;
  bool have_header = false;
  int64_t line_no = 0;
  int64_t previous_line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (trim(line).empty()) continue;
    const std::string where = src + ":" + std::to_string(line_no) + ": ";
    splitCsv(line, fields);
    if (!have_header) {
      have_header = true;
      columns = fields.size();
      auto find = [&](std::string_view name) -> std::optional<size_t> {
        for (size_t i = 0; i < fields.size(); ++i) {
          if (fields[i] == name) return i;
        }
        return std::nullopt;
      };
      auto t = find(time_column);
      auto v = find(value_column);
      if (!t || !v) {
        std::string names;
        for (auto f : fields) names += (names.empty() ? "" : ", ") + std::string(f);
        return invalidArgument(where + "no column " + quote(!t ? time_column : value_column) +
                               " in the header (columns: " + names + ")");
      }
      time_index = *t;
      value_index = *v;
      continue;
    }
    if (fields.size() != columns) {
      return invalidArgument(where + "expected " + std::to_string(columns) + " fields, got " +
                             std::to_string(fields.size()));
    }
    auto time = parseTimestamp(fields[time_index]);
    if (!time.ok()) return invalidArgument(where + time.status().message());
    auto value = parseNumber(fields[value_index]);
    if (!value)
      return invalidArgument(where + "value " + quote(fields[value_index]) + " is not a number");
    if (!std::isfinite(*value) || *value < 0) {
      return invalidArgument(where + "value " + quote(fields[value_index]) +
                             " must be a finite number >= 0");
    }
    if (!points.empty() && *time <= points.back().time) {
      return invalidArgument(
          where + "time " + formatTime(*time) + " is not after the previous sample's (line " +
          std::to_string(previous_line) + ", " + formatTime(points.back().time) + ")");
    }
    points.push_back({*time, *value * scale});
    previous_line = line_no;
  }
  if (!have_header) return invalidArgument(src + ": empty file: expected a header line");
  if (points.empty()) return invalidArgument(src + ": no samples after the header");
  return Trace(src, std::move(points));
}

Result<Trace> parsePrometheusTrace(std::string_view text, std::string_view source,
                                   const std::optional<std::string>& series, double scale) {
  const std::string src(source);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return invalidArgument(src + ": invalid JSON: " + e.what());
  }
  auto fail = [&](const std::string& path, const std::string& what) -> Status {
    return invalidArgument(src + ": " + path + ": " + what);
  };
  if (!doc.is_object()) return fail("(root)", "must be an object (a query_range response)");
  if (!doc.contains("status") || !doc["status"].is_string()) return fail("status", "required");
  if (doc["status"] != "success") {
    std::string error = doc.contains("error") && doc["error"].is_string()
                            ? doc["error"].get<std::string>()
                            : std::string("no error message");
    return fail("status", quote(doc["status"].get<std::string>()) + ", not \"success\": " + error);
  }
  if (!doc.contains("data") || !doc["data"].is_object()) return fail("data", "required");
  const auto& data = doc["data"];
  if (!data.contains("resultType") || data["resultType"] != "matrix") {
    return fail("data.resultType", "must be \"matrix\" (a /api/v1/query_range response)");
  }
  if (!data.contains("result") || !data["result"].is_array()) {
    return fail("data.result", "must be a list");
  }
  const auto& result = data["result"];
  if (result.empty()) return fail("data.result", "no series");
  size_t chosen = 0;
  if (series) {
    bool found = false;
    std::string names;
    for (size_t i = 0; i < result.size(); ++i) {
      const auto& metric = result[i].value("metric", nlohmann::json::object());
      std::string name = metric.is_object() ? metric.value("__name__", std::string()) : "";
      names += (names.empty() ? "" : ", ") + quote(name);
      if (name == *series && !found) {
        chosen = i;
        found = true;
      }
    }
    if (!found) {
      return fail("data.result",
                  "no series with __name__ " + quote(*series) + " (series: " + names + ")");
    }
  } else if (result.size() > 1) {
    return fail("data.result", std::to_string(result.size()) +
                                   " series; name one with trace.series or query sum(...)");
  }
  const std::string base = "data.result[" + std::to_string(chosen) + "].values";
  const auto& one = result[chosen];
  if (!one.is_object() || !one.contains("values") || !one["values"].is_array()) {
    return fail(base, "must be a list of [time, \"value\"] pairs");
  }
  std::vector<TracePoint> points;
  const auto& values = one["values"];
  points.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string path = base + "[" + std::to_string(i) + "]";
    const auto& pair = values[i];
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number()) {
      return fail(path, "must be a [time, \"value\"] pair");
    }
    const double seconds = pair[0].get<double>();
    if (!std::isfinite(seconds)) return fail(path + "[0]", "time is not finite");
    const TimePoint time(Duration(std::llround(seconds * 1000.0)));
    if (!pair[1].is_string()) return fail(path + "[1]", "must be a string, as Prometheus writes");
    const std::string raw = pair[1].get<std::string>();
    auto value = parseNumber(raw);
    if (!value && raw != "NaN" && raw != "+Inf" && raw != "-Inf") {
      return fail(path + "[1]", quote(raw) + " is not a number");
    }
    // NaN and infinities (a division by zero in the query) are left out: they become gaps.
    if (!value || !std::isfinite(*value)) continue;
    if (*value < 0) return fail(path + "[1]", quote(raw) + " must be >= 0");
    if (!points.empty() && time <= points.back().time) {
      return fail(path + "[0]", "time " + formatTime(time) + " is not after the previous one");
    }
    points.push_back({time, *value * scale});
  }
  if (points.empty()) return fail(base, "no finite samples");
  return Trace(src, std::move(points));
}

}  // namespace governor::simulator
