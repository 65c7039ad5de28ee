// Companion of bench/hw_vs_r.sh: the Governor side of the Holt-Winters comparison with R.
//
//   bench_hw_vs_r generate OUT.csv          write the 10,080-point, period-1440 test series
//   bench_hw_vs_r fit IN.csv PERIOD REPS    fit additive HW REPS times; print the median time
//   bench_hw_vs_r parity DATA_DIR           SSE and forecasts vs R on AirPassengers and co2
//
// Not a library: this file does I/O and reads the clock on purpose.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forecasting/holt_winters.h"

namespace {

using governor::forecasting::fitHoltWinters;
using governor::forecasting::HoltWintersOptions;
using governor::forecasting::Seasonality;

// A week of 1-minute samples: daily cycle, slow trend, deterministic pseudo-noise (a 31-bit
// LCG, so that the series is the same everywhere).
std::vector<double> syntheticWeek() {
  std::vector<double> y(10080);
  uint64_t state = 12345;
  for (size_t t = 0; t < y.size(); ++t) {
    state = (state * 1103515245 + 12345) % 2147483648ULL;
    const double noise = static_cast<double>(state) / 2147483648.0 - 0.5;
    const double day = 2.0 * std::numbers::pi * static_cast<double>(t) / 1440.0;
    y[t] = 200.0 + 0.002 * static_cast<double>(t) + 60.0 * std::sin(day) +
           20.0 * std::sin(2.0 * day + 1.0) + 15.0 * noise;
  }
  return y;
}

std::vector<double> readValues(const std::string& path, int column) {
  std::ifstream in(path);
  std::vector<double> out;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::stringstream fields(line);
    std::string field;
    for (int i = 0; i <= column && std::getline(fields, field, ','); ++i) {
    }
    out.push_back(std::stod(field));
  }
  return out;
}

int generate(const std::string& path) {
  std::ofstream out(path);
  out << "value\n";
  out.precision(17);
  for (double v : syntheticWeek()) out << v << "\n";
  return 0;
}

int fit(const std::string& path, int period, int reps) {
  const std::vector<double> y = readValues(path, 0);
  HoltWintersOptions options;
  options.period = period;
  std::vector<double> seconds;
  double sse = 0;
  governor::forecasting::HoltWintersParams params;
  int evaluations = 0;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto model = fitHoltWinters(y, options);
    const auto t1 = std::chrono::steady_clock::now();
    if (!model.ok()) {
      std::cerr << model.status().toString() << "\n";
      return 1;
    }
    seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
    sse = model->sse();
    params = model->params();
    evaluations = model->optimizerEvaluations();
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf(
      "governor n=%zu period=%d median_seconds=%.6f min_seconds=%.6f sse=%.6f "
      "alpha=%.6f beta=%.6f gamma=%.6f evaluations=%d\n",
      y.size(), period, seconds[seconds.size() / 2], seconds.front(), sse, params.alpha,
      params.beta, params.gamma, evaluations);
  return 0;
}

int parity(const std::string& dir) {
  std::ifstream in(dir + "/reference.json");
  const auto fits = nlohmann::json::parse(in)["fits"];
  std::printf(
      "| dataset | seasonal | start | R SSE | our SSE | SSE vs R | alpha beta gamma | "
      "max dev h1-12 | max dev h1-24 |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : fits) {
    if (r["r_call"].get<std::string>().find("alpha =") != std::string::npos) continue;
    const std::vector<double> y =
        readValues(dir + "/" + r["dataset"].get<std::string>() + ".csv", 1);
    for (bool multi : {false, true}) {
      HoltWintersOptions options;
      options.period = r["frequency"].get<int>();
      options.seasonality =
          r["seasonal"] == "additive" ? Seasonality::kAdditive : Seasonality::kMultiplicative;
      options.multi_start = multi;
      auto model = fitHoltWinters(y, options);
      if (!model.ok()) return 1;
      auto fc = model->forecast(24, 0.95);
      double dev12 = 0, dev24 = 0;
      for (int h = 0; h < 24; ++h) {
        const double ref = r["forecast_24"][h].get<double>();
        const double dev = std::abs(fc->mean[h] - ref) / std::abs(ref) * 100.0;
        if (h < 12) dev12 = std::max(dev12, dev);
        dev24 = std::max(dev24, dev);
      }
      const double r_sse = r["SSE"].get<double>();
      std::printf("| %s | %s | %s | %.4f | %.4f | %+.3f%% | %.4f %.4f %.4f | %.3f%% | %.3f%% |\n",
                  r["dataset"].get<std::string>().c_str(), r["seasonal"].get<std::string>().c_str(),
                  multi ? "R's + 4 more" : "R's (0.3, 0.1, 0.1)", r_sse, model->sse(),
                  (model->sse() / r_sse - 1.0) * 100.0, model->params().alpha, model->params().beta,
                  model->params().gamma, dev12, dev24);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 2 && args[0] == "generate") return generate(args[1]);
  if (args.size() == 4 && args[0] == "fit")
    return fit(args[1], std::stoi(args[2]), std::stoi(args[3]));
  if (args.size() == 2 && args[0] == "parity") return parity(args[1]);
  std::cerr << "usage: bench_hw_vs_r generate OUT.csv | fit IN.csv PERIOD REPS | parity DIR\n";
  return 2;
}
