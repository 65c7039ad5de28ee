#include "forecasting/series.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace governor::forecasting {

Result<Series> resample(std::span<const Sample> samples, std::chrono::milliseconds step,
                        int64_t max_points) {
  if (samples.empty()) return invalidArgument("resample: no samples");
  if (step.count() <= 0) return invalidArgument("resample: step must be > 0");
  const int64_t t0 = samples.front().time.count();
  for (size_t i = 1; i < samples.size(); ++i) {
    if (samples[i].time < samples[i - 1].time) {
      return invalidArgument("resample: sample times must be non-decreasing; index " +
                             std::to_string(i) + " goes back in time");
    }
  }
  const int64_t span_ms = samples.back().time.count() - t0;
  const int64_t points = (span_ms + step.count() / 2) / step.count() + 1;
  if (points > max_points) {
    return invalidArgument("resample: " + std::to_string(points) + " points exceed the limit of " +
                           std::to_string(max_points));
  }
  Series out;
  out.start = samples.front().time;
  out.step = step;
  std::vector<double> sums(static_cast<size_t>(points), 0.0);
  std::vector<int> counts(static_cast<size_t>(points), 0);
  for (const Sample& s : samples) {
    if (std::isnan(s.value)) continue;
    const int64_t slot = (s.time.count() - t0 + step.count() / 2) / step.count();
    sums[static_cast<size_t>(slot)] += s.value;
    ++counts[static_cast<size_t>(slot)];
  }
  out.values.resize(static_cast<size_t>(points));
  for (size_t i = 0; i < out.values.size(); ++i) {
    out.values[i] = counts[i] > 0 ? sums[i] / counts[i] : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

GapReport fillGaps(std::vector<double>& values, int64_t max_gap) {
  GapReport report;
  const int64_t n = static_cast<int64_t>(values.size());
  int64_t last = -1;  // Index of the last observed value.
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(values[i])) continue;
    const int64_t run = i - last - 1;
    if (last >= 0 && run > 0 && run <= max_gap) {
      for (int64_t j = last + 1; j < i; ++j) {
        values[j] = values[last] + (values[i] - values[last]) * static_cast<double>(j - last) /
                                       static_cast<double>(i - last);
      }
      report.filled += run;
    }
    last = i;
  }
  report.left_missing = n - countObserved(values);
  return report;
}

std::vector<double> counterIncreases(std::span<const double> counter) {
  std::vector<double> out(counter.size(), std::numeric_limits<double>::quiet_NaN());
  double last = std::numeric_limits<double>::quiet_NaN();
  for (size_t t = 0; t < counter.size(); ++t) {
    const double v = counter[t];
    if (std::isnan(v)) continue;
    if (!std::isnan(last)) out[t] = v >= last ? v - last : v;
    last = v;
  }
  return out;
}

bool isConstant(std::span<const double> values, double tolerance) {
  double first = std::numeric_limits<double>::quiet_NaN();
  for (double v : values) {
    if (std::isnan(v)) continue;
    if (std::isnan(first)) {
      first = v;
    } else if (std::abs(v - first) > tolerance * std::max(1.0, std::abs(first))) {
      return false;
    }
  }
  return true;
}

int64_t countObserved(std::span<const double> values) {
  int64_t n = 0;
  for (double v : values) n += std::isnan(v) ? 0 : 1;
  return n;
}

}  // namespace governor::forecasting
