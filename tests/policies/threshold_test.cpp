#include "policies/threshold.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::policies {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// A fixed epoch: 2023-11-14T22:13:20Z. Tests never read the clock.
const TimePoint kNow{Duration(1'700'000'000'000)};

// replica_calculator_test.go's defaultTestingCPUInitializationPeriod and
// defaultTestingDelayOfInitialReadinessStatus.
const PodTimings kK8sTestTimings{Duration(minutes(2)), Duration(seconds(10))};

constexpr TargetType kValue = TargetType::kValue;
constexpr TargetType kAverageValue = TargetType::kAverageValue;
constexpr TargetType kUtilization = TargetType::kUtilization;

std::string podName(size_t i) { return "test-pod-" + std::to_string(i); }

// Pods from one letter each, named test-pod-0, test-pod-1, ... as in replica_calculator_test.go:
//   R  Running, Ready, started an hour ago ("cool" CPU).
//   U  Running, not Ready, started an hour ago, no transition time: never ready (the Go
//      fixture's ConditionFalse with zero start and transition times).
//   H  Running, Ready, started 1m ago ("hot" CPU: inside the initialization period), became
//      ready 30s ago, so a 60s sample taken now began before that (the Go fixture's samples
//      carry a zero timestamp, which is before any transition: the same outcome).
//   h  Running, not Ready, started 1m ago.
//   F  Failed.   D  Running but being deleted (not Ready).   P  Pending.
std::vector<PodInfo> podsFrom(const std::string& letters) {
  std::vector<PodInfo> pods;
  for (size_t i = 0; i < letters.size(); ++i) {
    PodInfo pod;
    pod.name = podName(i);
    pod.phase = PodPhase::kRunning;
    pod.start_time = kNow - minutes(60);
    switch (letters[i]) {
      case 'R':
        pod.ready = true;
        break;
      case 'U':
        pod.ready = false;
        break;
      case 'H':
        pod.ready = true;
        pod.start_time = kNow - minutes(1);
        pod.ready_transition = kNow - seconds(30);
        break;
      case 'h':
        pod.ready = false;
        pod.start_time = kNow - minutes(1);
        break;
      case 'F':
        pod.ready = false;
        pod.phase = PodPhase::kFailed;
        break;
      case 'D':
        pod.ready = false;
        pod.deleting = true;
        break;
      case 'P':
        pod.ready = false;
        pod.phase = PodPhase::kPending;
        pod.start_time.reset();
        break;
      default:
        ADD_FAILURE() << "unknown pod letter " << letters[i];
    }
    pods.push_back(pod);
  }
  return pods;
}

PodSample sampleOf(double value) { return PodSample{value, kNow, Duration(minutes(1))}; }

MetricSpec metricSpec(std::string name, TargetType type, bool per_pod, double target) {
  MetricSpec spec;
  spec.name = std::move(name);
  spec.prometheus.query = "q";
  spec.prometheus.per_pod = per_pod;
  spec.target.type = type;
  spec.target.value = target;
  return spec;
}

// ---------------------------------------------------------------------------------------------
// Parity with pkg/controller/podautoscaler/replica_calculator_test.go (and horizontal_test.go).
//
// Conversions: Kubernetes' resource levels are milli-CPU per container against a request per
// container; here each pod's value is its utilization in percent (level / request * 100).
// Custom-metric levels are milli-units; here they are units (20000 -> 20).
// Object/External Value maps to per_pod = false, Value; External/Object AverageValue to
// per_pod = false, AverageValue; Pods metrics to per_pod = true, AverageValue; Resource CPU
// utilization to per_pod = true, Utilization.
// ---------------------------------------------------------------------------------------------

struct ParityCase {
  const char* name;
  const char* source;  // The Kubernetes test the numbers come from.
  TargetType type;
  bool per_pod;
  double target;
  int32_t current;
  const char* pods = "";                       // See podsFrom().
  std::vector<double> levels = {};             // Samples of test-pod-0, test-pod-1, ...
  std::optional<double> value = std::nullopt;  // The query's value when not per-pod.
  std::optional<int32_t> status_replicas = std::nullopt;
  int32_t expected = 0;
  std::optional<double> expected_usage = std::nullopt;
};

Observation observationFor(const ParityCase& c, const std::string& metric) {
  Observation obs;
  obs.current_replicas = c.current;
  obs.status_replicas = c.status_replicas;
  obs.pods = podsFrom(c.pods);
  MetricSample sample;
  sample.timestamp = kNow;
  sample.value = c.value;
  for (size_t i = 0; i < c.levels.size(); ++i) sample.per_pod[podName(i)] = sampleOf(c.levels[i]);
  obs.metrics[metric] = sample;
  return obs;
}

class ReplicaCalcParityTest : public testing::TestWithParam<ParityCase> {};

TEST_P(ReplicaCalcParityTest, MatchesKubernetes) {
  const ParityCase& c = GetParam();
  const std::string name = c.type == kUtilization ? "cpu" : "qps";
  const MetricSpec spec = metricSpec(name, c.type, c.per_pod, c.target);
  const Observation obs = observationFor(c, name);

  const MetricRecommendation rec =
      recommendForMetric(spec, obs, Tolerances{}, kK8sTestTimings, kNow);
  ASSERT_TRUE(rec.valid) << c.source << ": " << rec.reason << ": " << rec.message;
  EXPECT_EQ(rec.replicas, c.expected) << c.source << ": " << rec.message;
  if (c.expected_usage) {
    EXPECT_NEAR(rec.usage, *c.expected_usage, 1e-3) << c.source;
  }
  EXPECT_NEAR(rec.ratio, rec.usage / c.target, 1e-12);

  // The same through the policy, which takes tolerances from the (default) behavior.
  PolicySpec policy;
  policy.max_replicas = 100;
  policy.metrics = {spec};
  const ThresholdResult result = evaluateThreshold(policy, obs, kK8sTestTimings, kNow);
  ASSERT_TRUE(result.proposal.has_value()) << result.message;
  EXPECT_EQ(result.proposal->replicas, c.expected);
  EXPECT_EQ(result.proposal->policy, "threshold/" + name);
}

// Table rows, one helper per metric kind. Arguments: test name, Kubernetes source, target,
// current replicas, then the kind's inputs, the expected replicas and (optionally) usage.

// Resource CPU utilization: per-pod Utilization; `levels` in percent of the request.
ParityCase resource(const char* name, const char* source, double target, int32_t current,
                    const char* pods, std::vector<double> levels, int32_t expected,
                    std::optional<double> usage) {
  return {name,         source,       kUtilization, true, target, current, pods, std::move(levels),
          std::nullopt, std::nullopt, expected,     usage};
}

// Pods metric: per-pod AverageValue.
ParityCase podsMetric(const char* name, const char* source, double target, int32_t current,
                      const char* pods, std::vector<double> levels, int32_t expected,
                      std::optional<double> usage) {
  return {name,         source,       kAverageValue, true, target, current, pods, std::move(levels),
          std::nullopt, std::nullopt, expected,      usage};
}

// Object or External metric with a Value target.
ParityCase valueMetric(const char* name, const char* source, double target, int32_t current,
                       const char* pods, double value, int32_t expected) {
  return {name, source, kValue, false,        target,   current,
          pods, {},     value,  std::nullopt, expected, std::nullopt};
}

// Object or External metric with an AverageValue target; status replicas = current.
ParityCase totalPerPodMetric(const char* name, const char* source, double target, int32_t current,
                             double value, int32_t expected, std::optional<double> usage) {
  return {name, source, kAverageValue, false,   target,   current,
          "",   {},     value,         current, expected, usage};
}

const ParityCase kParityCases[] = {
    // --- Resource CPU utilization. Requests 1 CPU unless noted; levels 300 m -> 30%.
    resource("ScaleUp", "TestReplicaCalcScaleUp", 30, 3, "RRR", {30, 50, 70}, 5, 50),
    resource("ScaleUpUnreadyLessScale", "TestReplicaCalcScaleUpUnreadyLessScale", 30, 3, "URR",
             {30, 50, 70}, 4, 60),
    resource("ScaleUpHotCpuLessScale", "TestReplicaCalcScaleUpHotCpuLessScale", 30, 3, "HRR",
             {30, 50, 70}, 4, 60),
    resource("ScaleUpUnreadyNoScale", "TestReplicaCalcScaleUpUnreadyNoScale", 30, 3, "RUU",
             {40, 50, 70}, 3, 40),
    resource("ScaleHotCpuNoScale", "TestReplicaCalcScaleHotCpuNoScale", 30, 3, "Rhh", {40, 50, 70},
             3, 40),
    resource("ScaleUpIgnoresFailedPods", "TestReplicaCalcScaleUpIgnoresFailedPods", 30, 2, "RRFF",
             {50, 70}, 4, 60),
    resource("ScaleUpIgnoresDeletionPods", "TestReplicaCalcScaleUpIgnoresDeletionPods", 30, 2,
             "RRDD", {50, 70}, 4, 60),
    resource("ScaleDown", "TestReplicaCalcScaleDown", 50, 5, "RRRRR", {10, 30, 50, 25, 25}, 3, 28),
    resource("ScaleDownExcludeUnreadyPods", "TestReplicaCalcScaleDownExcludeUnreadyPods", 50, 5,
             "RRRUU", {10, 30, 50, 25, 25}, 2, 30),
    resource("ScaleDownExcludeUnscheduledPods", "TestReplicaCalcScaleDownExcludeUnscheduledPods",
             50, 5, "RPPPP", {10}, 1, 10),
    resource("ScaleDownIgnoreHotCpuPods", "TestReplicaCalcScaleDownIgnoreHotCpuPods", 50, 5,
             "RRRHH", {10, 30, 50, 25, 25}, 2, 30),
    resource("ScaleDownIgnoresFailedPods", "TestReplicaCalcScaleDownIgnoresFailedPods", 50, 5,
             "RRRRRFF", {10, 30, 50, 25, 25}, 3, 28),
    resource("ScaleDownIgnoresDeletionPods", "TestReplicaCalcScaleDownIgnoresDeletionPods", 50, 5,
             "RRRRRDD", {10, 30, 50, 25, 25}, 3, 28),
    // Requests 0.9, 1.0, 1.1 CPU, levels 1010, 1030, 1020 m: 112.2%, 103%, 92.7%. HPA's
    // 3060/3000 = 102% and our mean 102.65% both truncate to 102.
    resource("Tolerance", "TestReplicaCalcTolerance", 100, 3, "RRR",
             {1010.0 / 900 * 100, 103, 1020.0 / 1100 * 100}, 3, 102),
    // Samples for two pods that do not exist.
    resource("SuperfluousMetrics", "TestReplicaCalcSuperfluousMetrics", 100, 4, "RRRR",
             {400, 950, 300, 700, 320, 200}, 24, 587),
    resource("MissingMetrics", "TestReplicaCalcMissingMetrics", 100, 4, "RRRR", {40, 9.5}, 3, 24),
    resource("MissingMetricsNoChangeEq", "TestReplicaCalcMissingMetricsNoChangeEq", 100, 2, "RR",
             {100}, 2, 100),
    resource("MissingMetricsNoChangeGt", "TestReplicaCalcMissingMetricsNoChangeGt", 100, 2, "RR",
             {190}, 2, 190),
    resource("MissingMetricsNoChangeLt", "TestReplicaCalcMissingMetricsNoChangeLt", 100, 2, "RR",
             {60}, 2, 60),
    resource("MissingMetricsUnreadyChange", "TestReplicaCalcMissingMetricsUnreadyChange", 50, 3,
             "URR", {10, 45}, 3, 45),
    resource("MissingMetricsHotCpuNoChange", "TestReplicaCalcMissingMetricsHotCpuNoChange", 50, 3,
             "HRR", {10, 45}, 3, 45),
    resource("MissingMetricsUnreadyScaleUp", "TestReplicaCalcMissingMetricsUnreadyScaleUp", 50, 3,
             "URR", {10, 200}, 4, 200),
    resource("MissingMetricsHotCpuScaleUp", "TestReplicaCalcMissingMetricsHotCpuScaleUp", 50, 3,
             "hRR", {10, 200}, 4, 200),
    resource("MissingMetricsUnreadyScaleDown", "TestReplicaCalcMissingMetricsUnreadyScaleDown", 50,
             4, "URRR", {10, 10, 10}, 3, 10),
    // Requests 1, 1, 2, 2 CPU and levels 200, 100, 100 m: 20%, 10%, 5%. HPA's 400/6000
    // truncates to 6%, our mean (10 + 5) / 2 to 7%; with the missing pod at the 300% target
    // both give 2 replicas.
    resource("MissingMetricsScaleDownTargetOver100",
             "TestReplicaCalcMissingMetricsScaleDownTargetOver100", 300, 4, "URRR", {20, 10, 5}, 2,
             7),
    // A surge pod without metrics.
    resource("DuringRollingUpdateWithMaxSurge", "TestReplicaCalcDuringRollingUpdateWithMaxSurge",
             50, 2, "RRR", {10, 10}, 2, 10),
    // First run: 10 pods at 150 m of (300 +- d) m requests where the d cancel, so 50% overall
    // (each pod is given 50%); the target int32((1 / (2 * 0.9) + 0.01) * 100) = 56 puts 50/56
    // just outside the band.
    resource("ComputedToleranceAlgImplementationScales",
             "TestReplicaCalcComputedToleranceAlgImplementation", 56, 10, "RRRRRRRRRR",
             {50, 50, 50, 50, 50, 50, 50, 50, 50, 50}, 9, 50),
    // Second run: int32((1 / (2 * 0.9) + 0.004) * 100) = 55 puts 50/55 just inside it.
    resource("ComputedToleranceAlgImplementationHolds",
             "TestReplicaCalcComputedToleranceAlgImplementation", 55, 10, "RRRRRRRRRR",
             {50, 50, 50, 50, 50, 50, 50, 50, 50, 50}, 10, 50),
    // The valid metric of horizontal_test.go's TestScaleUpOneMetricInvalid (300, 400, 500 m).
    resource("HorizontalScaleUpOneMetricInvalidCpu", "TestScaleUpOneMetricInvalid", 30, 3, "RRR",
             {30, 40, 50}, 4, 40),

    // --- Pods metrics: readiness does not matter, Pending does. Levels 20000 m -> 20.
    podsMetric("ScaleUpCM", "TestReplicaCalcScaleUpCM", 15, 3, "RRR", {20, 10, 30}, 4, 20),
    podsMetric("ScaleUpCMUnreadyHotCpuNoLessScale",
               "TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale", 15, 3, "RRh", {50, 10, 30}, 6,
               30),
    // HPA truncates the mean to 31.666; Governor keeps 31.6667.
    podsMetric("ScaleUpCMUnreadyHotCpuScaleWouldScaleDown",
               "TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown", 15, 3, "hRh",
               {50, 15, 30}, 7, 95.0 / 3),
    // A pods metric despite the name.
    podsMetric("ScaleUpCMExternalPodsMetric", "TestReplicaCalcScaleUpCMExternal", 4.4, 1, "R",
               {8.6}, 2, 8.6),
    podsMetric("ScaleDownCM", "TestReplicaCalcScaleDownCM", 20, 5, "RRRRR", {12, 12, 12, 12, 12}, 3,
               12),
    podsMetric("ToleranceCM", "TestReplicaCalcToleranceCM", 20, 3, "RRR", {20, 21, 21}, 3,
               62.0 / 3),
    podsMetric("PlainMetricMissingMetricsNoChangeEq",
               "TestPlainMetricReplicaCalcMissingMetricsNoChangeEq", 20, 5, "RRRRR", {20, 19, 21},
               5, 20),
    podsMetric("DuringRollingUpdateWithMaxSurgeCM",
               "TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM", 17, 2, "RRR", {10, 10}, 2, 10),

    // --- Object / External Value: ready pods multiply the ratio.
    valueMetric("ScaleUpCMObject", "TestReplicaCalcScaleUpCMObject", 15, 3, "RRR", 20, 4),
    valueMetric("ScaleUpCMObjectIgnoresUnreadyPods",
                "TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods", 10, 3, "URU", 50, 5),
    valueMetric("ScaleDownCMObject", "TestReplicaCalcScaleDownCMObject", 20, 5, "RRRRR", 12, 3),
    valueMetric("ToleranceCMObject", "TestReplicaCalcToleranceCMObject", 20, 3, "RRR", 20.666, 3),
    valueMetric("ScaleUpCMExternalIgnoresUnreadyPods",
                "TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods", 4.4, 3, "URU", 8.6, 2),
    valueMetric("ScaleDownCMExternal", "TestReplicaCalcScaleDownCMExternal", 14.334, 5, "RRRRR",
                8.6, 3),
    valueMetric("ToleranceCMExternal", "TestReplicaCalcToleranceCMExternal", 8.888, 3, "RRR", 8.6,
                3),
    // horizontal_test.go: a zero value proposes 0.
    valueMetric("ScaleDownToZeroCMObject", "TestScaleDownToZeroCMObject", 20, 5, "RRRRR", 0, 0),

    // --- Object / External AverageValue: ceil(total / target) outside the band.
    totalPerPodMetric("ScaleUpPerPodCMExternal", "TestReplicaCalcScaleUpPerPodCMExternal", 2.15, 3,
                      8.6, 4, 8.6 / 3),
    totalPerPodMetric("ScaleDownPerPodCMExternal", "TestReplicaCalcScaleDownPerPodCMExternal",
                      2.867, 5, 8.6, 3, 1.72),
    totalPerPodMetric("TolerancePerPodCMExternal", "TestReplicaCalcTolerancePerPodCMExternal", 2.9,
                      3, 8.6, 3, 8.6 / 3),
    totalPerPodMetric("ScaleUpCMPerPodObject", "TestReplicaCalcScaleUpCMPerPodObject", 5, 3, 20, 4,
                      20.0 / 3),
    totalPerPodMetric("ScaleDownPerPodCMObject", "TestReplicaCalcScaleDownPerPodCMObject", 2, 5, 6,
                      3, 1.2),
    totalPerPodMetric("TolerancePerPodCMObject", "TestReplicaCalcTolerancePerPodCMObject", 5, 4,
                      20.166, 4, 5.0415),
};

INSTANTIATE_TEST_SUITE_P(Kubernetes, ReplicaCalcParityTest, testing::ValuesIn(kParityCases),
                         [](const testing::TestParamInfo<ParityCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Pod grouping: TestGroupPods (replica_calculator_test.go), through the counts a per-pod
// recommendation reports.
// ---------------------------------------------------------------------------------------------

struct GroupCase {
  const char* name;
  TargetType type;  // kUtilization: the CPU readiness rules; kAverageValue: other metrics.
  PodInfo pod;
  std::optional<PodSample> sample;
  PodCounts expected;
};

class GroupPodsTest : public testing::TestWithParam<GroupCase> {};

TEST_P(GroupPodsTest, GroupsLikeKubernetes) {
  const GroupCase& c = GetParam();
  Observation obs;
  obs.current_replicas = 1;
  obs.pods = {c.pod};
  MetricSample sample;
  if (c.sample) sample.per_pod[c.pod.name] = *c.sample;
  obs.metrics["m"] = sample;
  const MetricRecommendation rec = recommendForMetric(metricSpec("m", c.type, true, 50), obs,
                                                      Tolerances{}, kK8sTestTimings, kNow);
  EXPECT_EQ(rec.pods, c.expected) << rec.message;
  EXPECT_EQ(rec.valid, c.expected.ready > 0) << rec.message;
}

PodInfo groupPod(PodPhase phase, std::optional<Duration> started_ago,
                 std::optional<bool> ready = std::nullopt,
                 std::optional<Duration> transition_ago = std::nullopt, bool deleting = false) {
  PodInfo pod;
  pod.name = "pod";
  pod.phase = phase;
  pod.deleting = deleting;
  pod.ready = ready;
  if (started_ago) pod.start_time = kNow - *started_ago;
  if (transition_ago) pod.ready_transition = kNow - *transition_ago;
  return pod;
}

PodSample groupSample(Duration age, Duration window) { return PodSample{1, kNow - age, window}; }

const GroupCase kGroupCases[] = {
    {"CountInReadyPodMemory",
     kAverageValue,
     groupPod(PodPhase::kSucceeded, std::nullopt),
     groupSample(Duration(0), minutes(1)),
     {.ready = 1}},
    {"UnreadyPodWithoutReadyConditionCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, Duration(0)),
     groupSample(Duration(0), minutes(1)),
     {.unready = 1}},
    {"CountInReadyPodWithFreshMetricsDuringInitializationCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(1), true, seconds(30)),
     groupSample(Duration(0), seconds(30)),
     {.ready = 1}},
    {"UnreadyReadyPodWithoutFreshMetricsDuringInitializationCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(1), true, seconds(30)),
     groupSample(Duration(0), seconds(60)),
     {.unready = 1}},
    {"UnreadyUnreadyPodDuringInitializationCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(10), false, minutes(9) + seconds(54)),
     groupSample(Duration(0), minutes(1)),
     {.unready = 1}},
    {"CountInReadyPodWithoutFreshMetricsAfterInitializationCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(3), true, minutes(3)),
     groupSample(minutes(2), minutes(1)),
     {.ready = 1}},
    {"CountInUnreadyPodThatWasReadyAfterInitializationCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(10), false, minutes(9)),
     groupSample(Duration(0), minutes(1)),
     {.ready = 1}},
    {"UnreadyPodNeverReadyAfterInitializationCpu",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(10), false, minutes(9) + seconds(50)),
     groupSample(Duration(0), minutes(1)),
     {.ready = 1}},
    {"MissingPod",
     kUtilization,
     groupPod(PodPhase::kSucceeded, minutes(3)),
     std::nullopt,
     {.missing = 1}},
    {"PendingPodsAreUnreadied",
     kUtilization,
     groupPod(PodPhase::kPending, std::nullopt),
     std::nullopt,
     {.unready = 1}},
    {"IgnorePodsWithDeletionTimestamps",
     kUtilization,
     groupPod(PodPhase::kPending, std::nullopt, std::nullopt, std::nullopt, true),
     groupSample(Duration(0), minutes(1)),
     {.ignored = 1}},
    {"IgnorePodsInFailedState",
     kUtilization,
     groupPod(PodPhase::kFailed, std::nullopt),
     groupSample(Duration(0), minutes(1)),
     {.ignored = 1}},
    // Governor: a NaN sample is a missing sample.
    {"NaNSampleIsMissing",
     kAverageValue,
     groupPod(PodPhase::kRunning, minutes(3), true),
     PodSample{kNaN, kNow, minutes(1)},
     {.missing = 1}},
    // Governor: readiness is ignored for non-CPU metrics, as HPA ignores it for non-CPU.
    {"NotReadyPodCountsForPlainMetric",
     kAverageValue,
     groupPod(PodPhase::kRunning, minutes(1), false),
     groupSample(Duration(0), minutes(1)),
     {.ready = 1}},
};

INSTANTIATE_TEST_SUITE_P(Kubernetes, GroupPodsTest, testing::ValuesIn(kGroupCases),
                         [](const testing::TestParamInfo<GroupCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Invalid data: every type, every way a value can be unusable.
// ---------------------------------------------------------------------------------------------

struct InvalidCase {
  const char* name;
  TargetType type;
  bool per_pod;
  bool has_sample;                 // False: no entry in Observation::metrics.
  std::optional<double> value;     // The query's value.
  std::vector<double> pod_values;  // Per-pod samples of test-pod-0, ...
  const char* pods;                // See podsFrom().
  const char* reason;
  const char* message_part;
  double target = 10;
};

class InvalidMetricTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidMetricTest, IsSkippedWithReason) {
  const InvalidCase& c = GetParam();
  Observation obs;
  obs.current_replicas = 3;
  obs.pods = podsFrom(c.pods);
  if (c.has_sample) {
    MetricSample sample;
    sample.value = c.value;
    for (size_t i = 0; i < c.pod_values.size(); ++i) {
      sample.per_pod[podName(i)] = sampleOf(c.pod_values[i]);
    }
    obs.metrics["latency"] = sample;
  }
  const MetricRecommendation rec = recommendForMetric(
      metricSpec("latency", c.type, c.per_pod, c.target), obs, Tolerances{}, PodTimings{}, kNow);
  EXPECT_FALSE(rec.valid);
  EXPECT_EQ(rec.reason, c.reason);
  EXPECT_EQ(rec.metric, "latency");
  EXPECT_EQ(rec.message.rfind("latency: ", 0), 0u) << rec.message;
  EXPECT_NE(rec.message.find(c.message_part), std::string::npos) << rec.message;
}

const InvalidCase kInvalidCases[] = {
    {"AbsentValue", kValue, false, false, std::nullopt, {}, "RRR", "MissingMetric", "no sample"},
    {"AbsentAverageValue",
     kAverageValue,
     false,
     false,
     std::nullopt,
     {},
     "RRR",
     "MissingMetric",
     "no sample"},
    {"AbsentPerPodUtilization",
     kUtilization,
     true,
     false,
     std::nullopt,
     {},
     "RRR",
     "MissingMetric",
     "no sample"},
    {"EmptyQueryResult",
     kValue,
     false,
     true,
     std::nullopt,
     {},
     "RRR",
     "MissingMetric",
     "returned no value"},
    {"NaNValue", kValue, false, true, kNaN, {}, "RRR", "InvalidMetric", "value is NaN"},
    {"PlusInfValue", kValue, false, true, kInf, {}, "RRR", "InvalidMetric", "value is +Inf"},
    {"MinusInfAverageValue",
     kAverageValue,
     false,
     true,
     -kInf,
     {},
     "RRR",
     "InvalidMetric",
     "value is -Inf"},
    {"NegativeUtilization",
     kUtilization,
     false,
     true,
     -3,
     {},
     "RRR",
     "InvalidMetric",
     "value -3 is negative"},
    {"NegativeAverageValue",
     kAverageValue,
     false,
     true,
     -0.5,
     {},
     "RRR",
     "InvalidMetric",
     "value -0.5 is negative"},
    {"PerPodNoPods", kUtilization, true, true, std::nullopt, {50, 50}, "", "NoPods", "no pods"},
    {"PerPodAverageValueNoPods",
     kAverageValue,
     true,
     true,
     std::nullopt,
     {5},
     "",
     "NoPods",
     "no pods"},
    {"PerPodNoSamples",
     kAverageValue,
     true,
     true,
     std::nullopt,
     {},
     "RRR",
     "MissingMetric",
     "3 without a usable sample"},
    {"PerPodAllUnusable",
     kUtilization,
     true,
     true,
     std::nullopt,
     {kNaN, -1, kInf},
     "RRR",
     "InvalidMetric",
     "3 NaN, infinite or negative"},
    {"PerPodOnlyUnreadyPodsHaveSamples",
     kUtilization,
     true,
     true,
     std::nullopt,
     {50, 60},
     "UUR",
     "MissingMetric",
     "2 unready"},
    {"PerPodValueSumAllUnusable",
     kValue,
     true,
     true,
     std::nullopt,
     {kNaN, -kInf},
     "RR",
     "InvalidMetric",
     "every series"},
    {"PerPodValueNoSeries",
     kValue,
     true,
     true,
     std::nullopt,
     {},
     "RR",
     "MissingMetric",
     "no series"},
    {"ZeroTarget", kValue, false, true, 5, {}, "RRR", "InvalidTarget", "target 0", 0},
    {"NaNTarget", kAverageValue, false, true, 5, {}, "RRR", "InvalidTarget", "target NaN", kNaN},
    {"NegativeTarget",
     kUtilization,
     true,
     true,
     std::nullopt,
     {50},
     "R",
     "InvalidTarget",
     "target -5",
     -5},
};

INSTANTIATE_TEST_SUITE_P(Governor, InvalidMetricTest, testing::ValuesIn(kInvalidCases),
                         [](const testing::TestParamInfo<InvalidCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Governor cases: tolerances up/down, readiness sources, edges, saturation.
// ---------------------------------------------------------------------------------------------

struct GovernorCase {
  const char* name;
  TargetType type;
  bool per_pod;
  double target;
  int32_t current;
  const char* pods = "";
  std::vector<double> pod_values = {};
  std::optional<double> value = std::nullopt;
  std::optional<int32_t> status_replicas = std::nullopt;
  std::optional<int32_t> ready_replicas = std::nullopt;
  Tolerances tolerances = {};
  int32_t expected = 0;
  const char* reason = "";
};

class GovernorCaseTest : public testing::TestWithParam<GovernorCase> {};

TEST_P(GovernorCaseTest, Recommends) {
  const GovernorCase& c = GetParam();
  Observation obs;
  obs.current_replicas = c.current;
  obs.status_replicas = c.status_replicas;
  obs.ready_replicas = c.ready_replicas;
  obs.pods = podsFrom(c.pods);
  MetricSample sample;
  sample.value = c.value;
  for (size_t i = 0; i < c.pod_values.size(); ++i) {
    sample.per_pod[podName(i)] = sampleOf(c.pod_values[i]);
  }
  obs.metrics["m"] = sample;
  const MetricRecommendation rec = recommendForMetric(metricSpec("m", c.type, c.per_pod, c.target),
                                                      obs, c.tolerances, kK8sTestTimings, kNow);
  ASSERT_TRUE(rec.valid) << rec.reason << ": " << rec.message;
  EXPECT_EQ(rec.replicas, c.expected) << rec.message;
  EXPECT_EQ(rec.reason, c.reason) << rec.message;
  EXPECT_TRUE(std::isfinite(rec.usage));
  EXPECT_TRUE(std::isfinite(rec.ratio));
}

const std::string k40ReadyPods(40, 'R');

const GovernorCase kGovernorCases[] = {
    // Separate tolerances: +5% up, -20% down.
    {.name = "NarrowUpToleranceScalesUp",
     .type = kValue,
     .per_pod = false,
     .target = 100,
     .current = 10,
     .pods = "RRRRRRRRRR",
     .value = 108,
     .tolerances = {0.05, 0.2},
     .expected = 11,
     .reason = "AboveTarget"},
    {.name = "WideDownToleranceHolds",
     .type = kValue,
     .per_pod = false,
     .target = 100,
     .current = 10,
     .pods = "RRRRRRRRRR",
     .value = 85,
     .tolerances = {0.05, 0.2},
     .expected = 10,
     .reason = "WithinTolerance"},
    {.name = "BelowWideDownToleranceScalesDown",
     .type = kValue,
     .per_pod = false,
     .target = 100,
     .current = 10,
     .pods = "RRRRRRRRRR",
     .value = 79,
     .tolerances = {0.05, 0.2},
     .expected = 8,
     .reason = "BelowTarget"},
    // The other way round: +30% up, -2% down.
    {.name = "WideUpToleranceHolds",
     .type = kUtilization,
     .per_pod = true,
     .target = 50,
     .current = 4,
     .pods = "RRRR",
     .pod_values = {60, 60, 65, 55},
     .tolerances = {0.3, 0.02},
     .expected = 4,
     .reason = "WithinTolerance"},
    {.name = "NarrowDownToleranceScalesDown",
     .type = kUtilization,
     .per_pod = true,
     .target = 50,
     .current = 40,
     .pods = k40ReadyPods.c_str(),
     .pod_values = std::vector<double>(40, 48),
     .tolerances = {0.3, 0.02},
     .expected = 39,
     .reason = "BelowTarget"},
    {.name = "NarrowDownTolerancePerPodAverageValue",
     .type = kAverageValue,
     .per_pod = true,
     .target = 10,
     .current = 2,
     .pods = "RR",
     .pod_values = {9.5, 9.5},
     .tolerances = {0.3, 0.02},
     .expected = 2,
     .reason = "BelowTarget"},
    {.name = "ZeroTolerancesAverageValue",
     .type = kAverageValue,
     .per_pod = false,
     .target = 10,
     .current = 3,
     .value = 31,
     .status_replicas = 3,
     .tolerances = {0, 0},
     .expected = 4,
     .reason = "AboveTarget"},
    // Band edges are inclusive, as HPA's isWithin.
    {.name = "UpperEdgeHolds",
     .type = kValue,
     .per_pod = false,
     .target = 60,
     .current = 5,
     .pods = "RRRRR",
     .value = 66,
     .expected = 5,
     .reason = "WithinTolerance"},
    {.name = "LowerEdgeHolds",
     .type = kValue,
     .per_pod = false,
     .target = 60,
     .current = 5,
     .pods = "RRRRR",
     .value = 54,
     .expected = 5,
     .reason = "WithinTolerance"},
    // Decimal inputs: 0.009 / 0.01 is 0.8999999999999999 in binary; HPA's milli-units give
    // exactly 0.9, which holds.
    {.name = "DecimalAtLowerEdgeHolds",
     .type = kValue,
     .per_pod = false,
     .target = 0.01,
     .current = 5,
     .pods = "RRRRR",
     .value = 0.009,
     .expected = 5,
     .reason = "WithinTolerance"},
    // 0.07 / 0.01 is 7.000000000000001 in binary: 7 replicas, not 8.
    {.name = "DecimalIntegerQuotientDoesNotRoundUp",
     .type = kAverageValue,
     .per_pod = false,
     .target = 0.01,
     .current = 1,
     .value = 0.07,
     .status_replicas = 1,
     .expected = 7,
     .reason = "AboveTarget"},
    // Utilization is truncated to a whole percent, as HPA's: 66.5 counts as 66, so 66/60 is
    // on the +10% edge and holds (66.5/60 would not).
    {.name = "UtilizationTruncatedToWholePercent",
     .type = kUtilization,
     .per_pod = true,
     .target = 60,
     .current = 2,
     .pods = "RR",
     .pod_values = {66.5, 66.5},
     .expected = 2,
     .reason = "WithinTolerance"},
    // Readiness source for Value/Utilization: ready_replicas wins over pods.
    {.name = "ReadyReplicasOverridePods",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = 4,
     .pods = "RRRR",
     .value = 20,
     .ready_replicas = 2,
     .expected = 4,
     .reason = "AboveTarget"},
    {.name = "ReadyCountFromPodsSkipsPendingAndUnready",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = 4,
     .pods = "RRUP",
     .value = 20,
     .expected = 4,
     .reason = "AboveTarget"},
    {.name = "ReadyCountFallsBackToCurrent",
     .type = kUtilization,
     .per_pod = false,
     .target = 50,
     .current = 4,
     .value = 100,
     .expected = 8,
     .reason = "AboveTarget"},
    {.name = "NoReadyPodsProposesZero",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = 3,
     .pods = "UUU",
     .value = 50,
     .expected = 0,
     .reason = "AboveTarget"},
    // Scale from zero (HPA's getUsageRatioReplicaCount with currentReplicas 0).
    {.name = "ScaleFromZeroCeilsRatio",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = 0,
     .value = 5,
     .expected = 1,
     .reason = "BelowTarget"},
    {.name = "StaysAtZeroWithZeroValue",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = 0,
     .value = 0,
     .expected = 0,
     .reason = "BelowTarget"},
    {.name = "ScaleFromZeroIgnoresTolerance",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = 0,
     .value = 10.5,
     .expected = 2,
     .reason = "AboveTarget"},
    // AverageValue, not per-pod, with no replicas: ceil(total / target).
    {.name = "AverageValueFromZeroReplicas",
     .type = kAverageValue,
     .per_pod = false,
     .target = 4,
     .current = 0,
     .value = 9,
     .status_replicas = 0,
     .expected = 3,
     .reason = "AboveTarget"},
    // status_replicas unset: current replicas stand in.
    {.name = "AverageValueWithoutStatusReplicas",
     .type = kAverageValue,
     .per_pod = false,
     .target = 4,
     .current = 2,
     .value = 20,
     .expected = 5,
     .reason = "AboveTarget"},
    // Value over per-pod series: their sum (unusable series skipped; unknown pods included).
    {.name = "PerPodValueSumsSeries",
     .type = kValue,
     .per_pod = true,
     .target = 10,
     .current = 2,
     .pods = "RR",
     .pod_values = {15, kNaN, 15},
     .expected = 6,
     .reason = "AboveTarget"},
    // A NaN per-pod sample is a missing pod: on a scale-up it counts as 0, which here
    // reverses the direction, so the count holds.
    {.name = "NaNPodSampleCountsAsMissing",
     .type = kUtilization,
     .per_pod = true,
     .target = 30,
     .current = 2,
     .pods = "RR",
     .pod_values = {50, kNaN},
     .expected = 2,
     .reason = "DirectionUncertain"},
    // A negative sample is a missing pod too: the mean 30 becomes 20 with it at 0 on the
    // scale-up, over 3 pods.
    {.name = "NegativePodSampleCountsAsMissing",
     .type = kAverageValue,
     .per_pod = true,
     .target = 10,
     .current = 3,
     .pods = "RRR",
     .pod_values = {30, -4, 30},
     .expected = 6,
     .reason = "AboveTarget"},
    // Pods metric on a scale-down: a pod without a sample counts at the target (10, not
    // 100%): (2 + 2 + 2 + 10) / 4 = 4, ratio 0.4 over 4 pods.
    {.name = "MissingPodCountsAtTargetOnScaleDown",
     .type = kAverageValue,
     .per_pod = true,
     .target = 10,
     .current = 4,
     .pods = "RRRR",
     .pod_values = {2, 2, 2},
     .expected = 2,
     .reason = "BelowTarget"},
    // CPU on a scale-up: the unready pod counts at 0%, and the mean is truncated after that:
    // (0 + 61 + 61) / 3 = 40% -> ceil(40 / 30 * 3) = 4, where ceil(61 / 30 * 2) would be 5.
    {.name = "UnreadyPodsCountAsZeroOnScaleUp",
     .type = kUtilization,
     .per_pod = true,
     .target = 30,
     .current = 3,
     .pods = "URR",
     .pod_values = {61, 61, 61},
     .expected = 4,
     .reason = "AboveTarget"},
    // AverageValue, not per-pod: the status replica count divides the total, and is what a
    // hold returns (HPA's GetExternalPerPodMetricReplicas returns statusReplicas).
    {.name = "StatusReplicasDivideAverageValue",
     .type = kAverageValue,
     .per_pod = false,
     .target = 10,
     .current = 5,
     .value = 40,
     .status_replicas = 4,
     .expected = 4,
     .reason = "WithinTolerance"},
    // Per-pod samples of pods that are not listed are dropped (Governor).
    {.name = "UnknownPodSamplesDropped",
     .type = kAverageValue,
     .per_pod = true,
     .target = 10,
     .current = 2,
     .pods = "RR",
     .pod_values = {10, 10, 1000, 1000},
     .expected = 2,
     .reason = "WithinTolerance"},
    // Saturation instead of overflow.
    {.name = "HugeValueSaturates",
     .type = kValue,
     .per_pod = false,
     .target = 1e-300,
     .current = 3,
     .pods = "RRR",
     .value = 1e300,
     .expected = kMaxInt32,
     .reason = "AboveTarget"},
    {.name = "HugeAverageValueSaturates",
     .type = kAverageValue,
     .per_pod = false,
     .target = 1e-10,
     .current = 3,
     .value = 1e300,
     .status_replicas = 3,
     .expected = kMaxInt32,
     .reason = "AboveTarget"},
    {.name = "HugePerPodSamplesSaturate",
     .type = kUtilization,
     .per_pod = true,
     .target = 1,
     .current = 2,
     .pods = "RR",
     .pod_values = {1.7e308, 1.7e308},
     .expected = kMaxInt32,
     .reason = "AboveTarget"},
    {.name = "HugePerPodSeriesSumSaturates",
     .type = kValue,
     .per_pod = true,
     .target = 0.5,
     .current = 2,
     .pods = "RR",
     .pod_values = {1.7e308, 1.7e308},
     .expected = kMaxInt32,
     .reason = "AboveTarget"},
    {.name = "HugeCurrentSaturates",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = kMaxInt32,
     .value = 30,
     .ready_replicas = kMaxInt32,
     .expected = kMaxInt32,
     .reason = "AboveTarget"},
    {.name = "NegativeCurrentTreatedAsZero",
     .type = kValue,
     .per_pod = false,
     .target = 10,
     .current = -4,
     .value = 25,
     .expected = 3,
     .reason = "AboveTarget"},
};

INSTANTIATE_TEST_SUITE_P(Governor, GovernorCaseTest, testing::ValuesIn(kGovernorCases),
                         [](const testing::TestParamInfo<GovernorCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// evaluateThreshold: several metrics (computeReplicasForMetrics in horizontal.go).
// ---------------------------------------------------------------------------------------------

struct PolicyMetric {
  const char* name;
  TargetType type;
  double target;
  std::optional<double> value;  // nullopt: no sample at all.
};

struct PolicyCase {
  const char* name;
  const char* source;
  std::vector<PolicyMetric> metrics;
  int32_t current = 4;
  double scale_up_tolerance = 0.1;
  double scale_down_tolerance = 0.1;
  std::optional<int32_t> expected = std::nullopt;  // nullopt: no proposal.
  const char* expected_policy = "";
  const char* expected_reason = "";
};

class EvaluateThresholdTest : public testing::TestWithParam<PolicyCase> {};

TEST_P(EvaluateThresholdTest, PicksLargestValid) {
  const PolicyCase& c = GetParam();
  PolicySpec policy;
  policy.max_replicas = 1000;
  policy.behavior.scale_up.tolerance = c.scale_up_tolerance;
  policy.behavior.scale_down.tolerance = c.scale_down_tolerance;
  Observation obs;
  obs.current_replicas = c.current;
  obs.ready_replicas = c.current;
  for (const PolicyMetric& m : c.metrics) {
    policy.metrics.push_back(metricSpec(m.name, m.type, false, m.target));
    if (m.value) obs.metrics[m.name].value = *m.value;
  }
  const ThresholdResult result = evaluateThreshold(policy, obs, PodTimings{}, kNow);
  ASSERT_EQ(result.metrics.size(), c.metrics.size());
  for (size_t i = 0; i < c.metrics.size(); ++i) {
    EXPECT_EQ(result.metrics[i].metric, c.metrics[i].name) << "spec order";
  }
  EXPECT_EQ(result.reason, c.expected_reason) << result.message;
  EXPECT_FALSE(result.message.empty());
  if (!c.expected) {
    EXPECT_FALSE(result.proposal.has_value()) << result.proposal->message;
    return;
  }
  ASSERT_TRUE(result.proposal.has_value()) << result.reason << ": " << result.message;
  EXPECT_EQ(result.proposal->replicas, *c.expected) << result.proposal->message;
  EXPECT_EQ(result.proposal->policy, c.expected_policy);
  EXPECT_EQ(result.proposal->reason, c.expected_reason);
  EXPECT_EQ(result.proposal->message, result.message);
}

const PolicyCase kPolicyCases[] = {
    {.name = "LargestWins",
     .source = "computeReplicasForMetrics: max over metrics",
     .metrics = {{"cpu", kUtilization, 50, 100}, {"qps", kValue, 10, 15}},
     .expected = 8,
     .expected_policy = "threshold/cpu",
     .expected_reason = "AboveTarget"},
    {.name = "LargestWinsSecond",
     .source = "computeReplicasForMetrics: max over metrics",
     .metrics = {{"cpu", kUtilization, 50, 30}, {"qps", kValue, 10, 15}},
     .expected = 6,
     .expected_policy = "threshold/qps",
     .expected_reason = "AboveTarget"},
    {.name = "TieGoesToFirst",
     .source = "computeReplicasForMetrics: strict > keeps the first",
     .metrics = {{"a", kValue, 10, 20}, {"b", kValue, 5, 10}},
     .expected = 8,
     .expected_policy = "threshold/a",
     .expected_reason = "AboveTarget"},
    {.name = "HoldBeatsScaleDown",
     .source = "computeReplicasForMetrics",
     .metrics = {{"a", kValue, 10, 10.2}, {"b", kValue, 10, 2}},
     .expected = 4,
     .expected_policy = "threshold/a",
     .expected_reason = "WithinTolerance"},
    {.name = "NoMetrics",
     .source = "Governor: a schedule-only policy",
     .metrics = {},
     .expected_reason = "NoMetrics"},
    {.name = "AllInvalid",
     .source = "horizontal_test.go TestScaleUpBothMetricsEmpty",
     .metrics = {{"a", kValue, 10, std::nullopt}, {"b", kValue, 10, kNaN}},
     .expected_reason = "AllMetricsInvalid"},
    {.name = "OneInvalidOthersScaleUp",
     .source = "horizontal_test.go TestScaleUpOneMetricInvalid",
     .metrics = {{"cpu", kUtilization, 30, 40}, {"cheese", kValue, 10, -1}},
     .current = 3,
     .expected = 4,
     .expected_policy = "threshold/cpu",
     .expected_reason = "AboveTarget"},
    {.name = "OneInvalidOthersHold",
     .source = "computeReplicasForMetrics",
     .metrics = {{"missing", kValue, 10, std::nullopt}, {"qps", kValue, 10, 10}},
     .expected = 4,
     .expected_policy = "threshold/qps",
     .expected_reason = "WithinTolerance"},
    {.name = "OneInvalidOthersScaleDownHolds",
     .source = "computeReplicasForMetrics: invalid metrics and replicas < specReplicas",
     .metrics = {{"cpu", kUtilization, 50, 25}, {"missing", kValue, 10, std::nullopt}},
     .current = 5,
     .expected_reason = "InvalidMetricBlocksScaleDown"},
    {.name = "TolerancesFromBehaviorUp",
     .source = "tolerancesForHpa: scaleUp.tolerance",
     .metrics = {{"qps", kValue, 100, 104}},
     .current = 100,
     .scale_up_tolerance = 0.03,
     .scale_down_tolerance = 0.5,
     .expected = 104,
     .expected_policy = "threshold/qps",
     .expected_reason = "AboveTarget"},
    {.name = "TolerancesFromBehaviorDown",
     .source = "tolerancesForHpa: scaleDown.tolerance",
     .metrics = {{"qps", kValue, 100, 60}},
     .current = 100,
     .scale_up_tolerance = 0.03,
     .scale_down_tolerance = 0.5,
     .expected = 100,
     .expected_policy = "threshold/qps",
     .expected_reason = "WithinTolerance"},
};

INSTANTIATE_TEST_SUITE_P(Horizontal, EvaluateThresholdTest, testing::ValuesIn(kPolicyCases),
                         [](const testing::TestParamInfo<PolicyCase>& info) {
                           return std::string(info.param.name);
                         });

// ---------------------------------------------------------------------------------------------
// Single behaviours.
// ---------------------------------------------------------------------------------------------

TEST(ThresholdTest, TolerancesComeFromBehavior) {
  Behavior behavior = Behavior::hpaDefaults();
  behavior.scale_up.tolerance = 0.05;
  behavior.scale_down.tolerance = 0.25;
  const Tolerances t = tolerancesFor(behavior);
  EXPECT_EQ(t.scale_up, 0.05);
  EXPECT_EQ(t.scale_down, 0.25);
  EXPECT_TRUE(t.within(1.05));
  EXPECT_FALSE(t.within(1.0501));
  EXPECT_TRUE(t.within(0.75));
  EXPECT_FALSE(t.within(0.7499));
  EXPECT_FALSE(t.within(kNaN));
}

TEST(ThresholdTest, ProposalMessageIsForPeople) {
  PolicySpec policy;
  policy.max_replicas = 10;
  policy.metrics = {metricSpec("cpu", kUtilization, true, 30)};
  Observation obs;
  obs.current_replicas = 3;
  obs.pods = podsFrom("RRR");
  for (size_t i = 0; i < 3; ++i) {
    obs.metrics["cpu"].per_pod[podName(i)] = sampleOf(30.0 + 20.0 * static_cast<double>(i));
  }
  const ThresholdResult result = evaluateThreshold(policy, obs, kK8sTestTimings, kNow);
  ASSERT_TRUE(result.proposal.has_value());
  EXPECT_EQ(result.proposal->replicas, 5);
  EXPECT_EQ(result.proposal->policy, "threshold/cpu");
  EXPECT_EQ(result.proposal->reason, "AboveTarget");
  EXPECT_EQ(result.proposal->message,
            "cpu 50% > target 30% (tolerance +10%/-10%) over 3 ready pods");
}

struct NumberTextCase {
  std::string name;
  double value;
  std::string want;  // As a message prints it: short, locale-free.
};

class NumberTextTest : public testing::TestWithParam<NumberTextCase> {};

TEST_P(NumberTextTest, MessagePrintsTheValueShort) {
  // Whole numbers print as integers, others with up to 3 decimals, the very large and the
  // very small in exponent form; the boundaries between the forms are in the table.
  Observation obs;
  obs.current_replicas = 2;
  obs.metrics["m"].value = GetParam().value;
  const MetricRecommendation rec =
      recommendForMetric(metricSpec("m", kValue, false, 1e-6), obs, Tolerances{}, {}, kNow);
  ASSERT_TRUE(rec.valid) << rec.message;
  EXPECT_EQ(rec.message.substr(0, rec.message.find(" > ")), "m " + GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, NumberTextTest,
    testing::Values(NumberTextCase{"Whole", 84, "84"}, NumberTextCase{"One", 1, "1"},
                    NumberTextCase{"OneDecimal", 28.5, "28.5"},
                    NumberTextCase{"ThreeDecimals", 1.0 / 3.0, "0.333"},
                    NumberTextCase{"RoundsToWhole", 41.99999, "42"},
                    NumberTextCase{"JustBelowOne", 0.9995, "1"},
                    NumberTextCase{"Thousandth", 0.001, "0.001"},
                    NumberTextCase{"BelowThousandth", 0.0001, "0.0001"},
                    NumberTextCase{"LargestFixed", 999'999'999'999.0, "999999999999"},
                    NumberTextCase{"LargestFixedWithFraction", 999'999'999'999.5, "999999999999.5"},
                    NumberTextCase{"FirstExponent", 1e12, "1e+12"},
                    NumberTextCase{"Huge", 1e300, "1e+300"}),
    [](const testing::TestParamInfo<NumberTextCase>& info) { return info.param.name; });

TEST(ThresholdTest, AdjustedMessageNamesTheAssumption) {
  // TestReplicaCalcMissingMetricsUnreadyScaleUp's numbers.
  Observation obs;
  obs.current_replicas = 3;
  obs.pods = podsFrom("URR");
  obs.metrics["cpu"].per_pod[podName(0)] = sampleOf(10);
  obs.metrics["cpu"].per_pod[podName(1)] = sampleOf(200);
  const MetricRecommendation rec = recommendForMetric(metricSpec("cpu", kUtilization, true, 50),
                                                      obs, Tolerances{}, kK8sTestTimings, kNow);
  ASSERT_TRUE(rec.valid);
  EXPECT_EQ(rec.replicas, 4);
  EXPECT_EQ(rec.pods, (PodCounts{.ready = 1, .unready = 1, .missing = 1, .ignored = 0}));
  EXPECT_NE(rec.message.find("1 pod without a sample counted at 0%"), std::string::npos)
      << rec.message;
  EXPECT_NE(rec.message.find("1 unready pod counted at 0%"), std::string::npos) << rec.message;
}

TEST(ThresholdTest, InvalidMetricNamedInProposal) {
  PolicySpec policy;
  policy.max_replicas = 10;
  policy.metrics = {metricSpec("qps", kValue, false, 10), metricSpec("lag", kValue, false, 10)};
  Observation obs;
  obs.current_replicas = 2;
  obs.ready_replicas = 2;
  obs.metrics["qps"].value = 20;
  obs.metrics["lag"].value = kInf;
  const ThresholdResult result = evaluateThreshold(policy, obs, PodTimings{}, kNow);
  ASSERT_TRUE(result.proposal.has_value());
  EXPECT_EQ(result.proposal->replicas, 4);
  EXPECT_NE(result.proposal->message.find("lag: value is +Inf"), std::string::npos)
      << result.proposal->message;
  ASSERT_EQ(result.metrics.size(), 2u);
  EXPECT_FALSE(result.metrics[1].valid);
  EXPECT_EQ(result.metrics[1].reason, "InvalidMetric");
}

TEST(ThresholdTest, PureSameInputSameOutput) {
  Observation obs;
  obs.current_replicas = 3;
  obs.pods = podsFrom("HRU");
  for (size_t i = 0; i < 3; ++i) obs.metrics["cpu"].per_pod[podName(i)] = sampleOf(80);
  const MetricSpec spec = metricSpec("cpu", kUtilization, true, 50);
  const MetricRecommendation a = recommendForMetric(spec, obs, Tolerances{}, PodTimings{}, kNow);
  const MetricRecommendation b = recommendForMetric(spec, obs, Tolerances{}, PodTimings{}, kNow);
  EXPECT_EQ(a.replicas, b.replicas);
  EXPECT_EQ(a.message, b.message);
  // A later `now` moves the hot pod past its initialization period: it then counts.
  const MetricRecommendation later =
      recommendForMetric(spec, obs, Tolerances{}, PodTimings{}, kNow + minutes(10));
  EXPECT_EQ(a.pods.ready, 1);
  EXPECT_EQ(later.pods.ready, 2);
}

// Arbitrary, hostile inputs: never crash (the sanitizer build checks UB), and every answer
// keeps its invariants.
TEST(ThresholdTest, SurvivesHostileInputs) {
  std::mt19937_64 rng(20240601);
  const double specials[] = {0,   -0.0,  1e-300, 1e300, kNaN, kInf, -kInf, -1,
                             0.5, 1e308, 100.0,  3,     7e-5, -1e9, 42};
  auto pick = [&]() { return specials[rng() % std::size(specials)]; };
  const TimePoint times[] = {kNow, TimePoint::min(), TimePoint::max(), kNow - minutes(1),
                             TimePoint{}};
  const Duration windows[] = {Duration(0), Duration(60'000), Duration::max(), Duration::min(),
                              Duration(-60'000)};
  const TargetType types[] = {kValue, kAverageValue, kUtilization};
  for (int iteration = 0; iteration < 3000; ++iteration) {
    const TargetType type = types[rng() % 3];
    const bool per_pod = rng() % 2 == 0;
    MetricSpec spec = metricSpec("m", type, per_pod, pick());
    Observation obs;
    obs.current_replicas = rng() % 5 == 0 ? kMaxInt32 : static_cast<int32_t>(rng() % 7);
    if (rng() % 9 == 0) obs.current_replicas = -obs.current_replicas;
    if (rng() % 2) obs.status_replicas = static_cast<int32_t>(rng() % 5) - 1;
    if (rng() % 3 == 0) obs.ready_replicas = static_cast<int32_t>(rng() % 5) - 1;
    const size_t pods = rng() % 5;
    for (size_t i = 0; i < pods; ++i) {
      PodInfo pod;
      pod.name = podName(rng() % 4);  // Duplicates on purpose.
      pod.phase = static_cast<PodPhase>(rng() % 5);
      pod.deleting = rng() % 6 == 0;
      if (rng() % 4) pod.ready = rng() % 2 == 0;
      if (rng() % 4) pod.start_time = times[rng() % std::size(times)];
      if (rng() % 2) pod.ready_transition = times[rng() % std::size(times)];
      obs.pods.push_back(pod);
    }
    if (rng() % 8) {
      MetricSample& sample = obs.metrics["m"];
      if (rng() % 4) sample.value = pick();
      const size_t samples = rng() % 6;
      for (size_t i = 0; i < samples; ++i) {
        sample.per_pod[podName(rng() % 6)] =
            PodSample{pick(), times[rng() % std::size(times)], windows[rng() % std::size(windows)]};
      }
    }
    Tolerances tolerances{pick(), pick()};
    PodTimings timings{windows[rng() % std::size(windows)], windows[rng() % std::size(windows)]};
    const MetricRecommendation rec = recommendForMetric(spec, obs, tolerances, timings, kNow);
    ASSERT_FALSE(rec.reason.empty());
    ASSERT_FALSE(rec.message.empty());
    if (rec.valid) {
      ASSERT_GE(rec.replicas, 0) << rec.message;
      ASSERT_TRUE(std::isfinite(rec.usage)) << rec.message;
      ASSERT_TRUE(std::isfinite(rec.ratio)) << rec.message;
    }
    PolicySpec policy;
    policy.max_replicas = 10;
    policy.metrics = {spec, metricSpec("other", type, !per_pod, 10)};
    const ThresholdResult result = evaluateThreshold(policy, obs, timings, kNow);
    ASSERT_FALSE(result.reason.empty());
    if (result.proposal) {
      ASSERT_GE(result.proposal->replicas, 0);
    }
  }
}

}  // namespace
}  // namespace governor::policies
