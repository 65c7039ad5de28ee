// One engine evaluation of a realistic policy: 3 metrics, behavior with stabilization and
// rate limits, 2 schedules. The operator evaluates tens of thousands of these a minute.

#include <cmath>
#include <string>

#include <benchmark/benchmark.h>
#include <date/date.h>

#include "policies/engine.h"
#include "policies/spec_parser.h"

namespace {

using namespace governor;
using namespace governor::policies;

constexpr const char* kPolicy = R"(
apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 50
  metrics:
    - {name: cpu, prometheus: {query: cpu}, target: {type: Utilization, averageUtilization: 60}}
    - {name: rps, prometheus: {query: rps}, target: {type: AverageValue, averageValue: "50"}}
    - {name: queue, prometheus: {query: queue}, target: {type: Value, value: "100"}}
  schedules:
    - {name: business-hours, timeZone: Europe/Berlin, start: "0 8 * * 1-5", duration: 10h, minReplicas: 10}
    - {name: batch, timeZone: America/New_York, start: "0 1 * * *", end: "30 3 * * *", maxReplicas: 20}
  behavior:
    scaleUp: {stabilizationWindowSeconds: 60, cooldownSeconds: 30, selectPolicy: Max,
              policies: [{type: Pods, value: 4, periodSeconds: 15}, {type: Percent, value: 100, periodSeconds: 15}]}
    scaleDown: {stabilizationWindowSeconds: 300, selectPolicy: Max, policies: [{type: Percent, value: 10, periodSeconds: 60}]}
)";

void BM_EngineDecide(benchmark::State& bench) {
  auto spec = parsePolicy(kPolicy, "bench");
  if (!spec.ok()) {
    bench.SkipWithError(spec.status().message().c_str());
    return;
  }
  BehaviorState state;
  TimePoint now = std::chrono::time_point_cast<Duration>(date::sys_days{date::year{2026} / 3 / 2} +
                                                         std::chrono::hours(9));
  int32_t current = 12;
  int64_t step = 0;
  for (auto _ : bench) {
    // A load that wanders, so decisions move and the history stays realistic.
    double wave = std::sin(static_cast<double>(step) * 0.05);
    Observation obs;
    obs.current_replicas = current;
    obs.ready_replicas = current;
    obs.metrics["cpu"].value = 60.0 + 30.0 * wave;
    obs.metrics["rps"].value = current * (50.0 + 20.0 * wave);
    obs.metrics["queue"].value = 100.0 + 40.0 * wave;
    Decision d = decide(*spec, obs, state, now);
    if (d.scale()) {
      commitScale(*spec, d, state, now);
      current = d.replicas;
    }
    benchmark::DoNotOptimize(d);
    now += std::chrono::seconds(15);
    ++step;
  }
  bench.counters["history"] = static_cast<double>(state.recommendations.size());
}
BENCHMARK(BM_EngineDecide);

}  // namespace
