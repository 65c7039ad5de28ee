// `governor simulate` on 30 days at 15 s steps (172,800 steps): a run with the threshold
// example policy against a run with only a static baseline, on the same trace. The issue asks
// for a ratio of at most 3: policy evaluation must be cheap next to reading the trace.
//
// The trace is synthetic but shaped like a web service's (daily and weekly cycles, noise), one
// sample per 15 s, written once to a temporary directory as CSV with Unix-second or RFC 3339
// timestamps (the two forms the simulator reads; RFC 3339 is what exports usually carry).
// Each iteration is what the CLI does: load the manifest, the trace and the policies, replay,
// format the table.

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <benchmark/benchmark.h>
#include <date/date.h>

#include "simulator/report.h"
#include "simulator/simulation.h"

namespace {

namespace fs = std::filesystem;
using namespace governor;

constexpr int64_t kSteps = 30 * 24 * 3600 / 15;  // 172,800.
constexpr int64_t kStart = 1'735'689'600;        // 2025-01-01T00:00:00Z.

const fs::path& dir() {
  static const fs::path d = [] {
    fs::path p = fs::temp_directory_path() / "governor_simulate_bench";
    fs::create_directories(p);
    std::ofstream unix_csv(p / "trace-unix.csv");
    std::ofstream rfc_csv(p / "trace-rfc3339.csv");
    unix_csv << "timestamp,value\n";
    rfc_csv << "timestamp,value\n";
    uint64_t lcg = 42;
    for (int64_t i = 0; i < kSteps; ++i) {
      const double day = 2 * M_PI * static_cast<double>(i) / 5760.0;
      const double week = 2 * M_PI * static_cast<double>(i) / 40320.0;
      lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
      const double noise = static_cast<double>(lcg >> 11) / 9007199254740992.0 - 0.5;
      const double v = 300 + 200 * std::sin(day) + 60 * std::sin(week) + 40 * noise;
      const int64_t t = kStart + 15 * i;
      unix_csv << t << ',' << static_cast<int64_t>(v * 100) / 100.0 << '\n';
      rfc_csv << date::format("%FT%TZ", date::sys_seconds(std::chrono::seconds(t))) << ','
              << static_cast<int64_t>(v * 100) / 100.0 << '\n';
    }
    const std::string policy =
        std::string(GOVERNOR_SOURCE_DIR) + "/examples/policies/threshold.yaml";
    for (const char* trace : {"unix", "rfc3339"}) {
      for (const char* kind : {"static", "threshold"}) {
        std::ofstream sim(p / (std::string(kind) + "-" + trace + ".yaml"));
        sim << "apiVersion: governor.io/v1alpha1\nkind: Simulation\nspec:\n"
            << "  trace: {file: trace-" << trace << ".csv}\n"
            << "  stepSeconds: 15\n"
            << "  workload: {capacityPerReplica: 50, startupSeconds: 90, initialReplicas: 6}\n";
        if (std::string(kind) == "static") {
          sim << "  baselines: [static:12]\n";
        } else {
          sim << "  policies: [" << policy << "]\n";
        }
      }
    }
    return p;
  }();
  return d;
}

void simulate(benchmark::State& state, const char* manifest) {
  const std::string path = (dir() / manifest).string();
  for (auto _ : state) {
    auto input = simulator::loadSimulation(path);
    if (!input.ok()) {
      state.SkipWithError(input.status().message().c_str());
      return;
    }
    auto result = simulator::runSimulation(*input, {});
    if (!result.ok()) {
      state.SkipWithError(result.status().message().c_str());
      return;
    }
    std::string table = simulator::formatTable(*input, *result);
    benchmark::DoNotOptimize(table);
    state.counters["steps"] = static_cast<double>(result->grid.steps());
  }
}

BENCHMARK_CAPTURE(simulate, static_unix, "static-unix.yaml")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(simulate, threshold_unix, "threshold-unix.yaml")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(simulate, static_rfc3339, "static-rfc3339.yaml")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(simulate, threshold_rfc3339, "threshold-rfc3339.yaml")
    ->Unit(benchmark::kMillisecond);

}  // namespace
