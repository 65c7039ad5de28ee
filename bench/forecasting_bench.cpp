// Forecasting benchmarks: Holt-Winters fits (R's datasets and a period-1440 week of minutes),
// the SSE recursion, one-step updates, harmonic regression on 30 days of minutes, auto.
// Results are recorded in docs/benchmarks.md (## Forecasting).

#include <cmath>
#include <cstdint>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "forecasting/auto.h"
#include "forecasting/harmonic.h"
#include "forecasting/holt_winters.h"

namespace governor::forecasting {
namespace {

// Minutes with a daily and a weekly cycle, a slow trend and deterministic noise (the same
// generator as bench/hw_vs_r.cpp).
std::vector<double> minuteSeries(int n) {
  std::vector<double> y(static_cast<size_t>(n));
  uint64_t state = 12345;
  for (int t = 0; t < n; ++t) {
    state = (state * 1103515245 + 12345) % 2147483648ULL;
    const double noise = static_cast<double>(state) / 2147483648.0 - 0.5;
    const double day = 2.0 * std::numbers::pi * t / 1440.0;
    const double week = 2.0 * std::numbers::pi * t / 10080.0;
    y[t] = 200.0 + 0.002 * t + 60.0 * std::sin(day) + 20.0 * std::sin(2.0 * day + 1.0) +
           10.0 * std::sin(week) + 15.0 * noise;
  }
  return y;
}

std::vector<double> airPassengers() {
  std::ifstream in(std::string(GOVERNOR_SOURCE_DIR) +
                   "/tests/data/r-holtwinters/AirPassengers.csv");
  std::vector<double> y;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) y.push_back(std::stod(line.substr(line.find(',') + 1)));
  return y;
}

void BM_HoltWintersFitAirPassengers(benchmark::State& state) {
  const std::vector<double> y = airPassengers();
  HoltWintersOptions options;
  options.period = 12;
  options.seasonality = Seasonality::kMultiplicative;
  for (auto _ : state) benchmark::DoNotOptimize(fitHoltWinters(y, options));
}
BENCHMARK(BM_HoltWintersFitAirPassengers)->Unit(benchmark::kMicrosecond);

void BM_HoltWintersFitWeekPeriod1440(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(10080);
  HoltWintersOptions options;
  options.period = 1440;
  options.multi_start = state.range(0) != 0;
  int evaluations = 0;
  for (auto _ : state) {
    Result<HoltWintersModel> m = fitHoltWinters(y, options);
    evaluations = m->optimizerEvaluations();
    benchmark::DoNotOptimize(m);
  }
  state.counters["evaluations"] = evaluations;
}
BENCHMARK(BM_HoltWintersFitWeekPeriod1440)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_HoltWintersSseWeekPeriod1440(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(10080);
  const HoltWintersStart start = *holtWintersStart(y, 1440, Seasonality::kAdditive);
  const HoltWintersParams params{0.01, 0.001, 0.3, 1.0};
  double gradient[4];
  const bool with_gradient = state.range(0) != 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(holtWintersSse(y, 1440, Seasonality::kAdditive, params, start,
                                            with_gradient ? gradient : nullptr));
  }
}
BENCHMARK(BM_HoltWintersSseWeekPeriod1440)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_HoltWintersUpdate(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(10080);
  HoltWintersOptions options;
  options.period = 1440;
  HoltWintersModel model = *fitHoltWinters(y, options);
  size_t t = 0;
  for (auto _ : state) {
    model.update(y[t]);
    t = t + 1 == y.size() ? 0 : t + 1;
  }
  benchmark::DoNotOptimize(model.level());
}
BENCHMARK(BM_HoltWintersUpdate);

void BM_HarmonicFit30DaysDailyWeekly(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(43200);
  const HarmonicOptions options{.seasons = dailyWeeklyTerms()};
  for (auto _ : state) benchmark::DoNotOptimize(fitHarmonic(y, options));
}
BENCHMARK(BM_HarmonicFit30DaysDailyWeekly)->Unit(benchmark::kMillisecond);

void BM_HarmonicUpdate(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(43200);
  HarmonicModel model = *fitHarmonic(y, HarmonicOptions{.seasons = dailyWeeklyTerms()});
  size_t t = 0;
  for (auto _ : state) {
    model.update(y[t]);
    t = t + 1 == y.size() ? 0 : t + 1;
  }
}
BENCHMARK(BM_HarmonicUpdate)->Unit(benchmark::kMicrosecond);

void BM_HarmonicForecastDay(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(43200);
  HarmonicModel model = *fitHarmonic(y, HarmonicOptions{.seasons = dailyWeeklyTerms()});
  for (auto _ : state) benchmark::DoNotOptimize(model.forecast(1440, 0.95));
}
BENCHMARK(BM_HarmonicForecastDay)->Unit(benchmark::kMicrosecond);

void BM_AutoWeekDaily(benchmark::State& state) {
  const std::vector<double> y = minuteSeries(10080);
  AutoOptions options;
  options.seasons = {{1440, 10}};
  for (auto _ : state) benchmark::DoNotOptimize(fitAuto(y, options));
}
BENCHMARK(BM_AutoWeekDaily)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace governor::forecasting
