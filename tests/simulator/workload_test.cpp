#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "simulator/in_memory_cluster.h"
#include "simulator/manual_clock.h"
#include "simulator/trace_source.h"

namespace governor::simulator {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = fromUnixSeconds(1'700'000'000);
const policies::ScaleTargetRef kRef{"apps/v1", "Deployment", "web"};

TEST(WorkloadTest, NewReplicasAreReadyAfterStartupAndScaleDownIsImmediate) {
  ManualClock clock(kT0);
  InMemoryCluster cluster(clock);
  cluster.addTarget("ns", "Deployment", "web", 2, Duration(90'000));
  EXPECT_EQ(cluster.readyPods("ns", "Deployment", "web"), 2);

  auto scale = cluster.getScale("ns", kRef);
  ASSERT_TRUE(scale.ok());
  ASSERT_TRUE(cluster.updateScale("ns", kRef, scale->resource_version, 5).ok());
  EXPECT_EQ(cluster.existingPods("ns", "Deployment", "web"), 5);
  EXPECT_EQ(cluster.readyPods("ns", "Deployment", "web"), 2);
  clock.set(kT0 + seconds(89));
  EXPECT_EQ(cluster.readyPods("ns", "Deployment", "web"), 2);
  EXPECT_EQ(cluster.getScale("ns", kRef)->ready_replicas, 2);
  clock.set(kT0 + seconds(90));
  EXPECT_EQ(cluster.readyPods("ns", "Deployment", "web"), 5);

  // Add two more, then go down to 4: the two starting ones go first, then the newest ready.
  clock.set(kT0 + seconds(100));
  scale = cluster.getScale("ns", kRef);
  ASSERT_TRUE(cluster.updateScale("ns", kRef, scale->resource_version, 7).ok());
  scale = cluster.getScale("ns", kRef);
  ASSERT_TRUE(cluster.updateScale("ns", kRef, scale->resource_version, 4).ok());
  EXPECT_EQ(cluster.existingPods("ns", "Deployment", "web"), 4);
  EXPECT_EQ(cluster.readyPods("ns", "Deployment", "web"), 4);
  EXPECT_EQ(cluster.readyPodNames("ns", "Deployment", "web"),
            (std::vector<std::string>{"web-1", "web-2", "web-3", "web-4"}));
  EXPECT_EQ(cluster.scaleWrites(), 3);

  // A stale resourceVersion is a conflict.
  EXPECT_EQ(cluster.updateScale("ns", kRef, "1", 9).code(), StatusCode::kConflict);
}

TEST(WorkloadTest, ListPodsReportsReadiness) {
  ManualClock clock(kT0);
  InMemoryCluster cluster(clock);
  cluster.addTarget("ns", "Deployment", "web", 1, Duration(60'000));
  auto scale = cluster.getScale("ns", kRef);
  ASSERT_TRUE(cluster.updateScale("ns", kRef, scale->resource_version, 2).ok());
  auto pods = cluster.listPods("ns", scale->selector);
  ASSERT_TRUE(pods.ok());
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[0].ready, true);
  EXPECT_EQ((*pods)[1].ready, false);
  EXPECT_EQ((*pods)[1].start_time, kT0);
  EXPECT_TRUE(cluster.listPods("other", scale->selector)->empty());
}

TEST(WorkloadTest, TargetHandleAnswersAsTheNamedQueries) {
  ManualClock clock(kT0);
  InMemoryCluster cluster(clock);
  EXPECT_FALSE(cluster.findHandle("ns", "Deployment", "web").valid());
  cluster.addTarget("ns", "Deployment", "web", 2, Duration(60'000));
  cluster.addTarget("ns", "StatefulSet", "web", 7, Duration(60'000));
  const InMemoryCluster::TargetHandle web = cluster.findHandle("ns", "Deployment", "web");
  ASSERT_TRUE(web.valid());
  auto scale = cluster.getScale("ns", kRef);
  ASSERT_TRUE(cluster.updateScale("ns", kRef, scale->resource_version, 5).ok());
  for (int64_t s : {0, 59, 60, 61}) {
    clock.set(kT0 + seconds(s));
    EXPECT_EQ(cluster.existingPods(web), cluster.existingPods("ns", "Deployment", "web")) << s;
    EXPECT_EQ(cluster.readyPods(web), cluster.readyPods("ns", "Deployment", "web")) << s;
    EXPECT_EQ(cluster.readyPodNames(web), cluster.readyPodNames("ns", "Deployment", "web")) << s;
  }
  EXPECT_EQ(cluster.existingPods(web), 5);
  EXPECT_EQ(cluster.readyPods(web), 5);
  // No such target: no pods, as the named queries say.
  const InMemoryCluster::TargetHandle none = cluster.findHandle("other", "Deployment", "web");
  EXPECT_FALSE(none.valid());
  EXPECT_EQ(cluster.existingPods(none), 0);
  EXPECT_EQ(cluster.readyPods(none), 0);
  EXPECT_TRUE(cluster.readyPodNames(none).empty());
}

TEST(WorkloadTest, StatusUpdateSwapsAndKeepsHeldSnapshots) {
  ManualClock clock(kT0);
  InMemoryCluster cluster(clock);
  const controller::ObjectKey key{"ns", "p"};
  cluster.applyPolicy(key, "manifest");
  controller::PolicyStatus first;
  first.message = "first status, long enough not to fit in a short string";
  ASSERT_TRUE(cluster.updatePolicyStatus(key, "1", controller::PolicyStatus(first)).ok());
  EXPECT_EQ(cluster.policy(key)->status, first);
  EXPECT_EQ(cluster.policy(key)->resource_version, "2");

  // A snapshot someone holds is never changed by a later update.
  auto held = cluster.getPolicy(key);
  ASSERT_TRUE(held.ok());
  controller::PolicyStatus second;
  second.message = "second";
  second.desired_replicas = 3;
  controller::PolicyStatus buffer = second;
  ASSERT_TRUE(cluster.updatePolicyStatus(key, "2", std::move(buffer)).ok());
  EXPECT_EQ((*held)->status, first);
  EXPECT_EQ(cluster.policy(key)->status, second);
  // The caller gets the replaced status back, buffers and all, for its next one (this
  // adapter's documented swap: reading a moved-from argument is the point).
  EXPECT_EQ(buffer, first);
  held = cluster.getPolicy(key);  // Releases the old snapshot.

  // A stale version is a conflict and changes nothing.
  controller::PolicyStatus stale;
  stale.message = "stale";
  EXPECT_EQ(cluster.updatePolicyStatus(key, "2", std::move(stale)).code(), StatusCode::kConflict);
  EXPECT_EQ(cluster.policy(key)->status, second);
  EXPECT_EQ(cluster.policy(key)->resource_version, "3");
}

TEST(WorkloadTest, ResourceVersionsNeverRepeatAcrossDeletion) {
  ManualClock clock(kT0);
  InMemoryCluster cluster(clock);
  const controller::ObjectKey key{"ns", "p"};
  cluster.applyPolicy(key, "manifest");
  ASSERT_TRUE(cluster.updatePolicyStatus(key, "1", controller::PolicyStatus()).ok());
  cluster.deletePolicy(key);
  EXPECT_EQ(cluster.policy(key), nullptr);
  EXPECT_EQ(cluster.getPolicy(key).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(cluster.updatePolicyStatus(key, "2", controller::PolicyStatus()).code(),
            StatusCode::kNotFound);
  cluster.applyPolicy(key, "manifest");
  ASSERT_NE(cluster.policy(key), nullptr);
  EXPECT_EQ(cluster.policy(key)->resource_version, "3");
  EXPECT_EQ(cluster.policy(key)->generation, 1);
}

struct DeriveCase {
  std::string name;
  policies::TargetType type;
  bool per_pod;
  int32_t ready;
  std::optional<double> want_value;  // per_pod false
  std::optional<double> want_each;   // per_pod true: every ready pod's value
  bool want_absent;
};

class DeriveMetricTest : public testing::TestWithParam<DeriveCase> {};

TEST_P(DeriveMetricTest, FromDemandAndReadyReplicas) {
  // Demand 120 on replicas of capacity 50.
  const auto& c = GetParam();
  controller::MetricQuery q;
  q.name = "m";
  q.per_pod = c.per_pod;
  q.target_type = c.type;
  std::vector<std::string> pods;
  for (int32_t i = 0; i < c.ready; ++i) pods.push_back("p" + std::to_string(i));
  auto sample = deriveMetric(q, 120, 50, c.ready, pods, kT0, Duration(15'000));
  if (c.want_absent) {
    EXPECT_FALSE(sample.has_value());
    return;
  }
  ASSERT_TRUE(sample.has_value());
  EXPECT_EQ(sample->timestamp, kT0);
  if (c.want_value) {
    ASSERT_TRUE(sample->value.has_value());
    EXPECT_DOUBLE_EQ(*sample->value, *c.want_value);
    EXPECT_TRUE(sample->per_pod.empty());
  }
  if (c.want_each) {
    EXPECT_FALSE(sample->value.has_value());
    ASSERT_EQ(sample->per_pod.size(), static_cast<size_t>(c.ready));
    for (const auto& [pod, s] : sample->per_pod) EXPECT_DOUBLE_EQ(s.value, *c.want_each) << pod;
  }
}

using policies::TargetType;
INSTANTIATE_TEST_SUITE_P(
    Table, DeriveMetricTest,
    testing::Values(
        // 120 / (3 * 50) * 100 = 80%.
        DeriveCase{"Utilization", TargetType::kUtilization, false, 3, 80.0, std::nullopt, false},
        DeriveCase{"UtilizationPerPod", TargetType::kUtilization, true, 3, std::nullopt, 80.0,
                   false},
        DeriveCase{"UtilizationNoReadyPodIsAbsent", TargetType::kUtilization, false, 0,
                   std::nullopt, std::nullopt, true},
        // The non-per-pod query is a total; the engine divides it by the replicas.
        DeriveCase{"AverageValueTotal", TargetType::kAverageValue, false, 3, 120.0, std::nullopt,
                   false},
        DeriveCase{"AverageValuePerPod", TargetType::kAverageValue, true, 3, std::nullopt, 40.0,
                   false},
        DeriveCase{"PerPodNoReadyPodIsAbsent", TargetType::kAverageValue, true, 0, std::nullopt,
                   std::nullopt, true},
        DeriveCase{"Value", TargetType::kValue, false, 3, 120.0, std::nullopt, false},
        DeriveCase{"ValueWithNoReadyPod", TargetType::kValue, false, 0, 120.0, std::nullopt, false},
        DeriveCase{"ValuePerPodSumsToDemand", TargetType::kValue, true, 4, std::nullopt, 30.0,
                   false}),
    [](const testing::TestParamInfo<DeriveCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::simulator
