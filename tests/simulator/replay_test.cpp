#include "simulator/replay.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policies/spec_parser.h"
#include "simulator/report.h"
#include "simulator/simulation.h"

namespace governor::simulator {
namespace {

const TimePoint kT0 = fromUnixSeconds(1'700'000'000);

ReplayGrid grid(std::vector<double> demand, Duration step) {
  ReplayGrid g;
  g.start = kT0;
  g.step = step;
  g.demand = std::move(demand);
  return g;
}

// Capacity 10, start-up 30 s, steps of 15 s: pods requested at step j serve from j + 2.
// need = ceil(demand / 10) = [1, 1, 3, 1, 1, 4, 1, 1]; the oracle holds max(need[i..i+2]).
TEST(OracleTest, SlidingMaximumOverTheStartupHorizon) {
  const std::vector<double> demand = {5, 5, 25, 5, 5, 35, 5, 5};
  EXPECT_EQ(oracleReplicas(demand, 10, Duration(30'000), Duration(15'000)),
            (std::vector<int32_t>{3, 3, 3, 4, 4, 4, 1, 1}));
  // Start-up within one step: k = 1. Instant start-up: k = 0, exactly the need.
  EXPECT_EQ(oracleReplicas(demand, 10, Duration(1'000), Duration(15'000)),
            (std::vector<int32_t>{1, 3, 3, 1, 4, 4, 1, 1}));
  EXPECT_EQ(oracleReplicas(demand, 10, Duration(0), Duration(15'000)),
            (std::vector<int32_t>{1, 1, 3, 1, 1, 4, 1, 1}));
  // Decimal demand over capacity: 0.3 / 0.1 is 3 pods, not 4.
  EXPECT_EQ(oracleReplicas({0.3, 0}, 0.1, Duration(0), Duration(15'000)),
            (std::vector<int32_t>{3, 0}));
}

TEST(OracleTest, ServesEveryStepThroughTheWorkloadModel) {
  WorkloadSpec workload{10, Duration(30'000), 1};
  RunOptions options;
  options.record_timeline = true;
  RunResult run = runOracle(grid({5, 5, 25, 5, 5, 35, 5, 5}, Duration(15'000)), workload, options);
  EXPECT_EQ(run.metrics.unserved_fraction, 0.0);
  EXPECT_EQ(run.metrics.under_provisioned_seconds, 0.0);
  // 3+3+3+4+4+4+1+1 = 23 pod-steps of 15 s.
  EXPECT_DOUBLE_EQ(run.metrics.replica_hours, 23 * 15 / 3600.0);
  EXPECT_EQ(run.metrics.scale_events, 2);  // 3 -> 4 at step 3, 4 -> 1 at step 6.
  EXPECT_EQ(run.metrics.max_replicas, 4);
  ASSERT_EQ(run.timeline.size(), 8u);
  EXPECT_EQ(run.timeline[5].serving, 4) << "the pod requested at step 3 serves at step 5";
  EXPECT_EQ(run.timeline[4].serving, 3);
}

// static:2, capacity 10, steps of 60 s, demand [10, 30, 20, 0]:
//   replicaHours 2 * 4 * 60 s = 0.1333 h; under-provisioned: step 1 only (30 > 20), 60 s;
//   unserved 10 of 60; utilization min(d, 20) / 20 = [50, 100, 100, 0], mean 62.5,
//   p95 (nearest rank: the 4th of 4) 100.
TEST(MetricsTest, HandComputedStaticRun) {
  RunResult run = runStatic(2, grid({10, 30, 20, 0}, Duration(60'000)), {10, Duration(0), 2}, {});
  EXPECT_EQ(run.name, "static:2");
  EXPECT_TRUE(run.baseline);
  EXPECT_DOUBLE_EQ(run.metrics.replica_hours, 480 / 3600.0);
  EXPECT_DOUBLE_EQ(run.metrics.under_provisioned_seconds, 60);
  EXPECT_DOUBLE_EQ(run.metrics.unserved_fraction, 10.0 / 60.0);
  EXPECT_EQ(run.metrics.scale_events, 0);
  EXPECT_EQ(run.metrics.max_replicas, 2);
  EXPECT_DOUBLE_EQ(run.metrics.mean_utilization, 62.5);
  EXPECT_DOUBLE_EQ(run.metrics.p95_utilization, 100);
}

TEST(MetricsTest, StepsWithoutReadyPodsAreLeftOutOfUtilization) {
  MetricsAccumulator acc(10, Duration(60'000));
  acc.add(5, 1, 0);  // Starting, not serving: unserved, no utilization.
  acc.add(5, 1, 1);
  RunMetrics m = acc.finish(1, 0);
  EXPECT_DOUBLE_EQ(m.mean_utilization, 50);
  EXPECT_DOUBLE_EQ(m.unserved_fraction, 0.5);
  EXPECT_DOUBLE_EQ(m.under_provisioned_seconds, 60);
  EXPECT_EQ(m.max_replicas, 1);
}

policies::PolicySpec parse(const std::string& text) {
  auto spec = policies::parsePolicy(text, "test");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : policies::PolicySpec{};
}

const std::string kPolicy =
    "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
    "metadata: {name: web, namespace: shop}\nspec:\n"
    "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
    "  minReplicas: 1\n  maxReplicas: 20\n  metrics:\n"
    "    - {name: cpu, prometheus: {query: q}, target: {type: Utilization, "
    "averageUtilization: 50}}\n";

TEST(ReplayTest, PolicyRunMetricsAgreeWithItsTimeline) {
  // Demand 40 on pods of 10 at a 50% target wants 8 pods; 2 are ready at the start.
  Trace trace("t", {{kT0, 40}, {kT0 + Seconds(600), 40}});
  SimulationSpec sim;
  sim.step = Duration(15'000);
  sim.workload = {10, Duration(30'000), 2};
  ReplayGrid g = makeGrid(trace, sim.step, Interpolation::kLinear);
  ASSERT_EQ(g.steps(), 41);
  RunOptions options;
  options.record_timeline = true;
  auto run = runPolicy(parse(kPolicy), kPolicy, trace, g, sim, options);
  ASSERT_TRUE(run.ok()) << run.status().message();
  const auto& tl = run->timeline;
  ASSERT_EQ(tl.size(), 41u);
  // Row one is the decision at the first sample.
  EXPECT_EQ(tl[0].ready, 2);
  EXPECT_DOUBLE_EQ(tl[0].utilization, 200);
  EXPECT_GT(tl[0].desired, 2);
  EXPECT_EQ(tl.back().serving, 8);
  EXPECT_EQ(tl.back().desired, 8);

  double pod_steps = 0;
  int64_t changes = 0;
  int32_t previous = 2;
  for (const auto& s : tl) {
    pod_steps += s.replicas;
    changes += s.replicas != previous ? 1 : 0;
    previous = s.replicas;
  }
  EXPECT_DOUBLE_EQ(run->metrics.replica_hours, pod_steps * 15 / 3600);
  EXPECT_EQ(run->metrics.scale_events, changes);
  EXPECT_GT(run->metrics.under_provisioned_seconds, 0) << "start-up makes it late";
  EXPECT_EQ(run->metrics.max_replicas, 8);
}

TEST(ReplayTest, PerPodPolicyRuns) {
  Trace trace("t", {{kT0, 40}, {kT0 + Seconds(300), 40}});
  SimulationSpec sim;
  sim.step = Duration(15'000);
  sim.workload = {10, Duration(30'000), 2};
  const std::string per_pod =
      "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
      "metadata: {name: web, namespace: shop}\nspec:\n"
      "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
      "  maxReplicas: 20\n  metrics:\n"
      "    - {name: rps, prometheus: {query: q, perPod: true}, target: {type: AverageValue, "
      "averageValue: \"5\"}}\n";
  auto run = runPolicy(parse(per_pod), per_pod, trace,
                       makeGrid(trace, sim.step, Interpolation::kLinear), sim, {});
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->metrics.max_replicas, 8);  // 40 / 5 per pod.
}

TEST(SimulationTest, SameInputGivesByteIdenticalOutput) {
  const std::string path = std::string(GOVERNOR_TEST_DATA) + "/simulator/sim.yaml";
  std::string outputs[2];
  for (auto& out : outputs) {
    auto input = loadSimulation(path);
    ASSERT_TRUE(input.ok()) << input.status().message();
    SimulationOptions options;
    options.record_timelines = true;
    auto result = runSimulation(*input, options);
    ASSERT_TRUE(result.ok()) << result.status().message();
    out = formatTable(*input, *result) + formatJson(*input, *result) +
          formatHtmlReport(*input, *result);
    for (const auto& run : result->runs) out += formatTimelineCsv(run);
  }
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_GT(outputs[0].size(), 10'000u);
}

TEST(SimulationTest, ReportsTheTracesGaps) {
  auto input = loadSimulation(std::string(GOVERNOR_TEST_DATA) + "/simulator/sim.yaml");
  ASSERT_TRUE(input.ok()) << input.status().message();
  ASSERT_EQ(input->gaps.size(), 1u);  // ramp.csv lacks ten minutes.
  EXPECT_EQ(input->gaps[0].to - input->gaps[0].from, Duration(660'000));
}

TEST(SimulationTest, SplitsYamlStreams) {
  auto docs = splitYamlDocuments("# c\n---\na: 1\n---\n# only a comment\n---   \nb: 2\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], "a: 1\n");
  EXPECT_EQ(docs[1], "b: 2\n");
}

}  // namespace
}  // namespace governor::simulator
