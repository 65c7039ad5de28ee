#pragma once

// Regular series and the clean-up of messy metric data, before any model sees it.
//
// Models take a regularly spaced series (std::span<const double>, oldest first) where NaN
// marks a missing observation. The rules for messy input, end to end:
//   - Gaps (missing timestamps): resample() puts samples on a regular grid; an empty slot is
//     NaN. Several samples in one slot are averaged.
//   - NaN / gaps: fillGaps() linearly interpolates interior runs of at most max_gap NaNs;
//     longer runs stay NaN, and each model treats a remaining NaN as missing (Holt-Winters and
//     the naive models advance on their own forecast; the regressions leave the row out).
//     Leading NaNs are dropped by every fit; trailing NaNs are missing steps, so forecasts
//     still start after the end of the input.
//   - Counter resets: counterIncreases() turns a monotonic counter into per-step increases;
//     a drop is a reset (the increase is the new value, as Prometheus' increase()).
//   - Negative values: kept; additive models handle them; multiplicative Holt-Winters rejects
//     values <= 0 (fitAuto skips it then).
//   - Constant series: see isConstant(); fitAuto returns the naive model for them.
//   - Very short history: each fit returns InvalidArgument naming the minimum length.
//
// Thread-safety: free functions without shared state.

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace governor::forecasting {

struct Sample {
  std::chrono::milliseconds time;  // Since any fixed epoch.
  double value = 0.0;
};

struct Series {
  std::chrono::milliseconds start{0};  // Time of values[0].
  std::chrono::milliseconds step{60000};
  std::vector<double> values;  // Oldest first; NaN marks a missing observation.
};

// Places `samples` on the grid start, start + step, ... where start is the first sample's
// time, rounding each time to the nearest slot; slots without a sample are NaN and samples
// sharing a slot are averaged. NaN sample values count as missing.
// Returns InvalidArgument when samples is empty, step <= 0, times are not non-decreasing, or
// the grid would exceed max_points. Default max_points: 10 million.
Result<Series> resample(std::span<const Sample> samples, std::chrono::milliseconds step,
                        int64_t max_points = 10'000'000);

struct GapReport {
  int64_t filled = 0;        // NaNs replaced by interpolation.
  int64_t left_missing = 0;  // NaNs left (leading, trailing, or in runs longer than max_gap).
};

// Linearly interpolates every interior run of at most `max_gap` NaNs in place; leaves longer
// runs and leading/trailing NaNs. Returns what it did. REQUIRES: max_gap >= 0.
GapReport fillGaps(std::vector<double>& values, int64_t max_gap);

// Per-step increases of a cumulative counter: out[0] = NaN, out[t] = v[t] - v[t-1], or v[t]
// when v[t] < v[t-1] (a reset: the counter restarted from 0). NaN in, NaN out (the increase
// after a NaN is measured from the last observed value).
std::vector<double> counterIncreases(std::span<const double> counter);

// True when every observed value is within `tolerance` * max(1, |first|) of the first one
// (also true when fewer than two values are observed).
bool isConstant(std::span<const double> values, double tolerance = 1e-12);

// Number of non-NaN values.
int64_t countObserved(std::span<const double> values);

}  // namespace governor::forecasting
