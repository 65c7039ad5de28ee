#include "simulator/simulation_spec.h"

#include <string>

#include <gtest/gtest.h>

namespace governor::simulator {
namespace {

const std::string kHead = "apiVersion: governor.io/v1alpha1\nkind: Simulation\n";

TEST(SimulationSpecTest, ParsesEveryFieldAndResolvesPaths) {
  const std::string text = kHead +
                           "metadata: {name: web}\n"
                           "spec:\n"
                           "  trace:\n"
                           "    file: ../traces/web.json\n"
                           "    series: rps\n"
                           "    scale: 0.5\n"
                           "    interpolation: hold\n"
                           "    maxGapSeconds: 600\n"
                           "  stepSeconds: 30\n"
                           "  workload: {capacityPerReplica: 50, startupSeconds: 90, "
                           "initialReplicas: 3}\n"
                           "  policies: [../policies/a.yaml, /abs/b.yaml]\n"
                           "  baselines: [oracle, static:4]\n";
  auto sim = parseSimulation(text, "examples/sims/web.yaml");
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  EXPECT_EQ(sim->name, "web");
  EXPECT_EQ(sim->trace.file, "examples/traces/web.json");
  EXPECT_EQ(sim->trace.format, TraceFormat::kPrometheus);
  EXPECT_EQ(sim->trace.series, "rps");
  EXPECT_EQ(sim->trace.scale, 0.5);
  EXPECT_EQ(sim->trace.interpolation, Interpolation::kHold);
  EXPECT_EQ(sim->trace.max_gap, Duration(600'000));
  EXPECT_EQ(sim->step, Duration(30'000));
  EXPECT_EQ(sim->workload.capacity_per_replica, 50);
  EXPECT_EQ(sim->workload.startup, Duration(90'000));
  EXPECT_EQ(sim->workload.initial_replicas, 3);
  ASSERT_EQ(sim->policies.size(), 2u);
  EXPECT_EQ(sim->policies[0].path, "examples/policies/a.yaml");
  EXPECT_EQ(sim->policies[0].field, "examples/sims/web.yaml:13: spec.policies[0]");
  EXPECT_EQ(sim->policies[1].path, "/abs/b.yaml");
  ASSERT_EQ(sim->baselines.size(), 2u);
  EXPECT_EQ(sim->baselines[1].name(), "static:4");
}

TEST(SimulationSpecTest, Defaults) {
  auto sim = parseSimulation(kHead +
                                 "spec:\n  trace: {file: t.csv}\n"
                                 "  workload: {capacityPerReplica: 1}\n  baselines: [oracle]\n",
                             "dir/s.yaml");
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  EXPECT_EQ(sim->name, "s");
  EXPECT_EQ(sim->trace.format, TraceFormat::kCsv);
  EXPECT_EQ(sim->trace.time_column, "timestamp");
  EXPECT_EQ(sim->trace.value_column, "value");
  EXPECT_EQ(sim->trace.interpolation, Interpolation::kLinear);
  EXPECT_EQ(sim->step, Duration(15'000));
  EXPECT_EQ(sim->workload.initial_replicas, 1);
}

struct BadSpecCase {
  std::string name;
  std::string spec;  // After "spec:\n".
  std::string want;
};

class BadSimulationSpecTest : public testing::TestWithParam<BadSpecCase> {};

TEST_P(BadSimulationSpecTest, NamesFileLineAndField) {
  auto sim = parseSimulation(kHead + "spec:\n" + GetParam().spec, "s.yaml");
  ASSERT_FALSE(sim.ok());
  EXPECT_EQ(sim.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(sim.status().message().find(GetParam().want), std::string::npos)
      << sim.status().message();
}

const std::string kTrace = "  trace: {file: t.csv}\n";
const std::string kWorkload = "  workload: {capacityPerReplica: 10}\n";

INSTANTIATE_TEST_SUITE_P(
    Table, BadSimulationSpecTest,
    testing::Values(
        BadSpecCase{"UnknownField", kTrace + kWorkload + "  baselines: [oracle]\n  sped: 1\n",
                    "s.yaml:7: spec.sped: unknown field"},
        BadSpecCase{"MissingTrace", kWorkload + "  baselines: [oracle]\n",
                    "s.yaml:4: spec.trace: required"},
        BadSpecCase{"ZeroCapacity",
                    kTrace + "  workload:\n    capacityPerReplica: 0\n"
                             "  baselines: [oracle]\n",
                    "s.yaml:6: spec.workload.capacityPerReplica: must be > 0, got 0"},
        BadSpecCase{"BadInterpolation",
                    "  trace:\n    file: t.csv\n    interpolation: cubic\n" + kWorkload +
                        "  baselines: [oracle]\n",
                    "s.yaml:6: spec.trace.interpolation: must be linear or hold, got cubic"},
        BadSpecCase{"BadBaseline", kTrace + kWorkload + "  baselines:\n    - static:zero\n",
                    "s.yaml:7: spec.baselines[0]: static:N needs a replica count"},
        BadSpecCase{"StepNotInteger",
                    kTrace + kWorkload +
                        "  stepSeconds: fast\n"
                        "  baselines: [oracle]\n",
                    "s.yaml:6: spec.stepSeconds: must be an integer, got \"fast\""},
        BadSpecCase{"NothingToRun", kTrace + kWorkload,
                    "spec.policies: name at least one policy file or baseline"}),
    [](const testing::TestParamInfo<BadSpecCase>& info) { return info.param.name; });

TEST(SimulationSpecTest, WrongKind) {
  auto sim = parseSimulation("apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nspec: {}\n",
                             "s.yaml");
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.status().message().find("s.yaml:2: kind: must be Simulation"), std::string::npos)
      << sim.status().message();
}

}  // namespace
}  // namespace governor::simulator
