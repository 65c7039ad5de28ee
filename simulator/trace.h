#pragma once

// Load traces: a demand series read from a CSV file or a Prometheus query_range response.
//
// CSV: a header line naming the columns, then one sample per line. Fields are separated by
// commas and may be double-quoted; blank lines are skipped; CRLF line ends are accepted.
// Times are Unix seconds (integer or decimal) or RFC 3339 ("2025-03-02T08:00:00Z",
// "...+01:00", fractional seconds allowed). Values are finite and >= 0. Times must increase
// strictly. Every error names the file and line: `web.csv:17: value "abc" is not a number`.
//
// Prometheus: the JSON body of /api/v1/query_range (resultType matrix). With one series it is
// used as is; with several, `series` picks the one whose __name__ label matches. Errors name
// the file and the JSON path: `web.json: data.result[0].values[3][1]: "x" is not a number`.
//
// Between samples the trace is interpolated linearly (default) or held at the previous
// sample (Interpolation::kHold): see valueAt. Gaps — consecutive samples farther apart than
// a limit — are reported, and interpolated or held across like any other interval.
//
// Thread-safety: a loaded Trace is immutable; const methods may be called concurrently.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace governor::simulator {

enum class Interpolation {
  kLinear,  // Straight line between neighbouring samples: rates sampled at instants.
  kHold,    // The previous sample until the next one: counts per interval, step signals.
};

struct TracePoint {
  TimePoint time{};
  double value = 0;
};

// Consecutive samples farther apart than the gap limit.
struct TraceGap {
  TimePoint from{};  // The sample before the gap.
  TimePoint to{};    // The sample after it.
};

class Trace {
 public:
  Trace() = default;
  // REQUIRES: `points` non-empty, times strictly increasing.
  Trace(std::string source, std::vector<TracePoint> points)
      : source_(std::move(source)), points_(std::move(points)) {}

  const std::string& source() const { return source_; }
  const std::vector<TracePoint>& points() const { return points_; }
  TimePoint start() const { return points_.front().time; }
  TimePoint end() const { return points_.back().time; }

  // The demand at `t`: the sample at `t` if there is one; between two samples, interpolated
  // as `mode` says; before the first sample the first value, after the last the last.
  double valueAt(TimePoint t, Interpolation mode) const;
  // The same, searching from `hint` (a sample index; set to the sample at or before `t`, or to
  // the first one) rather than the whole trace: constant time when `t` moves forward a little at
  // a time, as a replay's clock does. Any hint gives the same value; start with 0.
  double valueAt(TimePoint t, Interpolation mode, size_t& hint) const;

  // The median interval between consecutive samples; 0 for a single sample.
  Duration medianInterval() const;

  // The intervals longer than `limit`, in time order.
  std::vector<TraceGap> gaps(Duration limit) const;

 private:
  std::string source_;
  std::vector<TracePoint> points_;
};

// Parses a timestamp: Unix seconds, or RFC 3339. InvalidArgument (the message quotes `text`)
// otherwise.
Result<TimePoint> parseTimestamp(std::string_view text);

// Parses CSV `text` from `source` (named in errors), reading `time_column` and
// `value_column`, multiplying values by `scale`.
Result<Trace> parseCsvTrace(std::string_view text, std::string_view source,
                            std::string_view time_column, std::string_view value_column,
                            double scale = 1.0);

// Parses a Prometheus /api/v1/query_range response. `series`: the __name__ of the series to
// use when the response holds several; nullopt requires exactly one.
Result<Trace> parsePrometheusTrace(std::string_view text, std::string_view source,
                                   const std::optional<std::string>& series, double scale = 1.0);

}  // namespace governor::simulator
