#include "policies/engine.h"

#include <string>
#include <vector>

#include <date/date.h>
#include <gtest/gtest.h>

#include "policies/spec_parser.h"

namespace governor::policies {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Monday 2 March 2026, 06:00 UTC (07:00 in Berlin, CET).
const TimePoint kMonday6Utc =
    std::chrono::time_point_cast<Duration>(date::sys_days{date::year{2026} / 3 / 2} + hours(6));

PolicySpec policy(const std::string& spec_body) {
  std::string text =
      "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: web}\nspec:\n"
      "  scaleTargetRef: {kind: Deployment, name: web}\n" +
      spec_body;
  auto parsed = parsePolicy(text, "engine_test");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : PolicySpec{};
}

constexpr const char* kCpu60 =
    "  metrics:\n"
    "    - {name: cpu, prometheus: {query: q}, target: {type: Utilization, averageUtilization: "
    "60}}\n";

Observation observe(int32_t current, std::optional<double> cpu) {
  Observation obs;
  obs.current_replicas = current;
  obs.ready_replicas = current;
  if (cpu) obs.metrics["cpu"].value = *cpu;
  return obs;
}

struct EngineCase {
  std::string name;
  std::string spec;
  TimePoint now;
  int32_t current;
  std::optional<double> cpu;
  int32_t want_replicas;
  std::string want_reason;
};

class EngineTest : public testing::TestWithParam<EngineCase> {};

TEST_P(EngineTest, Decides) {
  const EngineCase& c = GetParam();
  PolicySpec spec = policy(c.spec);
  BehaviorState state;
  Decision d = decide(spec, observe(c.current, c.cpu), state, c.now);
  EXPECT_EQ(d.replicas, c.want_replicas) << d.reason << ": " << d.message;
  EXPECT_EQ(d.reason, c.want_reason) << d.message;
  EXPECT_EQ(d.current, c.current);
}

const std::string kBusinessHours =
    "  schedules:\n"
    "    - {name: business-hours, timeZone: Europe/Berlin, start: \"0 8 * * 1-5\", duration: 10h, "
    "minReplicas: 10}\n";

INSTANTIATE_TEST_SUITE_P(
    Table, EngineTest,
    testing::Values(
        // cpu 90% of a 60% target on 4 pods: ceil(1.5 * 4) = 6.
        EngineCase{"ScalesUpOnCpu", std::string("  maxReplicas: 20\n") + kCpu60, kMonday6Utc, 4,
                   90.0, 6, "AboveTarget"},
        // HPA's default scale-up limit: max(4 pods, 100%) per 15 s from 2 -> at most 6.
        EngineCase{"ScaleUpRateLimited", std::string("  maxReplicas: 50\n") + kCpu60, kMonday6Utc,
                   2, 600.0, 6, "ScaleUpLimit"},
        EngineCase{"ClampedToMax", std::string("  maxReplicas: 5\n") + kCpu60, kMonday6Utc, 4, 90.0,
                   5, "TooManyReplicas"},
        // Every metric missing: hold, never scale down on missing data.
        EngineCase{"MissingMetricHolds", std::string("  maxReplicas: 20\n") + kCpu60, kMonday6Utc,
                   7, std::nullopt, 7, "FailedGetMetrics"},
        // A freshly started controller does not scale down inside the stabilization window.
        EngineCase{"FirstScaleDownStabilized", std::string("  maxReplicas: 20\n") + kCpu60,
                   kMonday6Utc, 8, 30.0, 8, "ScaleDownStabilized"},
        // 07:00 Berlin: the business-hours window is not yet open; no metric wants more.
        EngineCase{"BeforeWindowCpuDecides",
                   std::string("  maxReplicas: 20\n") + kCpu60 + kBusinessHours, kMonday6Utc, 4,
                   60.0, 4, "WithinTolerance"},
        // 08:00 Berlin: the floor of 10 applies at once, past the rate limit.
        EngineCase{"WindowFloorActsAtOnce",
                   std::string("  maxReplicas: 20\n") + kCpu60 + kBusinessHours,
                   kMonday6Utc + hours(1), 2, 60.0, 10, "ScheduleMinimum"},
        // A window's ceiling below the current count also acts at once.
        EngineCase{"WindowCeilingActsAtOnce",
                   "  maxReplicas: 20\n  schedules:\n"
                   "    - {name: night, start: \"0 0 * * *\", duration: 8h, maxReplicas: 3}\n",
                   kMonday6Utc, 9, std::nullopt, 3, "ScheduleMaximum"},
        // Two overlapping windows combine by max; the fixed `replicas` sets both bounds.
        EngineCase{"OverlappingWindowsCombineByMax",
                   "  maxReplicas: 20\n  schedules:\n"
                   "    - {name: a, start: \"0 5 * * *\", duration: 4h, replicas: 6}\n"
                   "    - {name: b, start: \"0 6 * * *\", duration: 4h, minReplicas: 8}\n",
                   kMonday6Utc + minutes(30), 2, std::nullopt, 8, "ScheduleMinimum"},
        // A floor above a ceiling: the floor wins.
        EngineCase{"FloorBeatsCeiling",
                   "  maxReplicas: 20\n  schedules:\n"
                   "    - {name: a, start: \"0 5 * * *\", duration: 4h, maxReplicas: 4}\n"
                   "    - {name: b, start: \"0 6 * * *\", duration: 4h, minReplicas: 9}\n",
                   kMonday6Utc + minutes(30), 2, std::nullopt, 9, "ScheduleMinimum"},
        // Schedule-only, no window: nothing asks for more than minReplicas; stabilized first.
        EngineCase{"ScheduleOnlyFollowsFloorDown",
                   std::string("  minReplicas: 2\n  maxReplicas: 20\n  behavior: {scaleDown: "
                               "{stabilizationWindowSeconds: 0}}\n") +
                       kBusinessHours,
                   kMonday6Utc, 10, std::nullopt, 2, "NoScheduleActive"},
        // HPA: a target scaled to zero by hand is left alone.
        EngineCase{"ZeroReplicasDisablesScaling", std::string("  maxReplicas: 20\n") + kCpu60,
                   kMonday6Utc, 0, 90.0, 0, "ScalingDisabled"},
        // Below the floor (someone scaled it by hand): back to the floor at once.
        EngineCase{"BelowMinRaisedAtOnce",
                   std::string("  minReplicas: 3\n  maxReplicas: 20\n") + kCpu60, kMonday6Utc, 1,
                   60.0, 3, "TooFewReplicas"}),
    [](const testing::TestParamInfo<EngineCase>& info) { return info.param.name; });

TEST(EngineTest, PredictiveAddsCapacityButNeverRemovesIt) {
  PolicySpec spec = policy(std::string("  maxReplicas: 50\n") + kCpu60);
  BehaviorState state;
  Observation obs = observe(4, 90.0);  // Threshold wants 6.
  obs.predictive = Proposal{5, "predictive", "ForecastPeak", "p90 forecast needs 5"};
  Decision lower = decide(spec, obs, state, kMonday6Utc);
  EXPECT_EQ(lower.replicas, 6);
  EXPECT_EQ(lower.reason, "AboveTarget");

  BehaviorState state2;
  obs.predictive = Proposal{8, "predictive", "ForecastPeak", "p90 forecast needs 8"};
  Decision higher = decide(spec, obs, state2, kMonday6Utc);
  EXPECT_EQ(higher.replicas, 8);
  EXPECT_EQ(higher.proposed, 8);
  EXPECT_EQ(higher.reason, "ForecastPeak");
  ASSERT_GE(higher.proposals.size(), 2u);
}

TEST(EngineTest, RechecksWhenTheNextWindowOpens) {
  PolicySpec spec = policy(std::string("  maxReplicas: 20\n") + kCpu60 + kBusinessHours);
  BehaviorState state;
  Decision d = decide(spec, observe(4, 60.0), state, kMonday6Utc);
  ASSERT_TRUE(d.recheck_after.has_value());
  EXPECT_EQ(*d.recheck_after, hours(1));  // 08:00 Berlin is 07:00 UTC.
  EXPECT_TRUE(d.bounds.windows.empty());

  Decision inside = decide(spec, observe(10, 60.0), state, kMonday6Utc + hours(2));
  EXPECT_EQ(inside.bounds.min, 10);
  ASSERT_EQ(inside.bounds.windows.size(), 1u);
  EXPECT_EQ(inside.bounds.windows[0], "business-hours");
  ASSERT_TRUE(inside.recheck_after.has_value());
  EXPECT_EQ(*inside.recheck_after, hours(9));  // The window closes at 18:00 Berlin.
}

TEST(EngineTest, StabilizationStateCarriesAcrossDecisions) {
  // Scale-down window 60 s: a low reading is only acted on once it has persisted.
  PolicySpec spec = policy(std::string("  maxReplicas: 20\n") + kCpu60 +
                           "  behavior: {scaleDown: {stabilizationWindowSeconds: 60}}\n");
  BehaviorState state;
  TimePoint t = kMonday6Utc;
  Decision first = decide(spec, observe(8, 60.0), state, t);
  EXPECT_EQ(first.replicas, 8);
  commitScale(spec, first, state, t);
  Decision dip = decide(spec, observe(8, 30.0), state, t + seconds(15));
  EXPECT_EQ(dip.replicas, 8) << dip.message;
  EXPECT_EQ(dip.reason, "ScaleDownStabilized");
  // 75 s later every recommendation in the window is 4.
  Decision later = decide(spec, observe(8, 30.0), state, t + seconds(90));
  EXPECT_EQ(later.replicas, 4) << later.message;
  // The same sequence from a copied (persisted and restored) state gives the same answer.
  BehaviorState restored = state;
  Decision again = decide(spec, observe(8, 30.0), restored, t + seconds(105));
  Decision original = decide(spec, observe(8, 30.0), state, t + seconds(105));
  EXPECT_EQ(again.replicas, original.replicas);
  EXPECT_EQ(restored, state);
}

TEST(EngineTest, ScaleUpCooldownHoldsAndSaysHowLong) {
  PolicySpec spec = policy(std::string("  maxReplicas: 50\n") + kCpu60 +
                           "  behavior: {scaleUp: {cooldownSeconds: 120}}\n");
  BehaviorState state;
  Decision up = decide(spec, observe(4, 90.0), state, kMonday6Utc);
  ASSERT_EQ(up.replicas, 6);
  commitScale(spec, up, state, kMonday6Utc);
  Decision held = decide(spec, observe(6, 90.0), state, kMonday6Utc + seconds(30));
  EXPECT_EQ(held.replicas, 6);
  EXPECT_EQ(held.reason, "ScaleUpCooldown");
  ASSERT_TRUE(held.recheck_after.has_value());
  EXPECT_LE(*held.recheck_after, seconds(90));
  Decision after = decide(spec, observe(6, 90.0), state, kMonday6Utc + seconds(121));
  EXPECT_EQ(after.replicas, 9);
}

TEST(EngineTest, InvalidMetricIsReportedWhileOthersDecide) {
  PolicySpec spec = policy(
      "  maxReplicas: 20\n  metrics:\n"
      "    - {name: cpu, prometheus: {query: q}, target: {type: Utilization, averageUtilization: "
      "60}}\n"
      "    - {name: rps, prometheus: {query: q}, target: {type: AverageValue, averageValue: "
      "10}}\n");
  BehaviorState state;
  Observation obs = observe(4, 90.0);
  obs.metrics["rps"].value = std::numeric_limits<double>::quiet_NaN();
  Decision d = decide(spec, obs, state, kMonday6Utc);
  EXPECT_EQ(d.replicas, 6);
  ASSERT_EQ(d.metrics.size(), 2u);
  EXPECT_TRUE(d.metrics[0].valid);
  EXPECT_FALSE(d.metrics[1].valid);
  EXPECT_TRUE(d.scaling_active);
}

TEST(EngineTest, InvalidMetricBlocksAScaleDownOthersWant) {
  PolicySpec spec = policy(
      "  maxReplicas: 20\n  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}\n"
      "  metrics:\n"
      "    - {name: cpu, prometheus: {query: q}, target: {type: Utilization, averageUtilization: "
      "60}}\n"
      "    - {name: rps, prometheus: {query: q}, target: {type: AverageValue, averageValue: "
      "10}}\n");
  BehaviorState state;
  Observation obs = observe(8, 15.0);                  // cpu alone would scale down to 2.
  Decision d = decide(spec, obs, state, kMonday6Utc);  // rps is missing.
  EXPECT_EQ(d.replicas, 8) << d.message;
  EXPECT_EQ(d.reason, "InvalidMetricBlocksScaleDown");
  EXPECT_NE(d.message.find("rps"), std::string::npos) << d.message;
  EXPECT_TRUE(d.scaling_active);
}

TEST(EngineTest, AllMetricsMissingSaysWhich) {
  PolicySpec spec = policy(std::string("  maxReplicas: 20\n") + kCpu60);
  BehaviorState state;
  Decision d = decide(spec, observe(5, std::nullopt), state, kMonday6Utc);
  EXPECT_EQ(d.replicas, 5);
  EXPECT_EQ(d.reason, "FailedGetMetrics");
  EXPECT_FALSE(d.scaling_active);
  EXPECT_NE(d.message.find("cpu"), std::string::npos) << d.message;
}

// Every field of two decisions, with what differs.
void expectSameDecision(const Decision& got, const Decision& want, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_EQ(got.replicas, want.replicas);
  EXPECT_EQ(got.current, want.current);
  EXPECT_EQ(got.proposed, want.proposed);
  EXPECT_EQ(got.bounds.min, want.bounds.min);
  EXPECT_EQ(got.bounds.max, want.bounds.max);
  EXPECT_EQ(got.bounds.windows, want.bounds.windows);
  EXPECT_EQ(got.scaling_active, want.scaling_active);
  ASSERT_EQ(got.proposals.size(), want.proposals.size());
  for (size_t i = 0; i < want.proposals.size(); ++i) {
    EXPECT_EQ(got.proposals[i].replicas, want.proposals[i].replicas) << i;
    EXPECT_EQ(got.proposals[i].policy, want.proposals[i].policy) << i;
    EXPECT_EQ(got.proposals[i].reason, want.proposals[i].reason) << i;
    EXPECT_EQ(got.proposals[i].message, want.proposals[i].message) << i;
  }
  ASSERT_EQ(got.metrics.size(), want.metrics.size());
  for (size_t i = 0; i < want.metrics.size(); ++i) {
    const MetricRecommendation& g = got.metrics[i];
    const MetricRecommendation& w = want.metrics[i];
    EXPECT_EQ(g.metric, w.metric) << i;
    EXPECT_EQ(g.valid, w.valid) << i;
    EXPECT_EQ(g.replicas, w.replicas) << i;
    EXPECT_EQ(g.usage, w.usage) << i;
    EXPECT_EQ(g.ratio, w.ratio) << i;
    EXPECT_EQ(g.reason, w.reason) << i;
    EXPECT_EQ(g.message, w.message) << i;
    EXPECT_EQ(g.pods, w.pods) << i;
  }
  EXPECT_EQ(got.limits, want.limits);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.message, want.message);
  EXPECT_EQ(got.recheck_after, want.recheck_after);
}

struct ReuseStep {
  int32_t current;
  std::optional<double> cpu;  // nullopt: missing.
  std::optional<double> rps;  // A second metric, for the specs that have one.
  std::optional<int32_t> predictive;
  int32_t failures = 0;
};

// decide() into one Decision reused across every step of every spec below (left over from
// whatever came before: other specs, other branches) gives, field by field, what a fresh
// Decision gets; the behavior states, evolved side by side, stay equal too.
TEST(EngineTest, ReusedDecisionEqualsAFreshOne) {
  const std::string rps =
      "    - {name: rps, prometheus: {query: r}, target: {type: AverageValue, averageValue: "
      "50}}\n";
  const std::vector<std::string> specs = {
      std::string("  maxReplicas: 20\n") + kCpu60,
      std::string("  minReplicas: 3\n  maxReplicas: 9\n") + kCpu60 + rps,
      std::string("  maxReplicas: 20\n  fallback: {replicas: 8, afterFailures: 2}\n") + kCpu60,
      std::string("  maxReplicas: 20\n  behavior: {scaleDown: {stabilizationWindowSeconds: 30, "
                  "cooldownSeconds: 45}, scaleUp: {selectPolicy: Disabled}}\n") +
          kCpu60,
      std::string("  maxReplicas: 20\n") + kCpu60 + kBusinessHours,
      "  minReplicas: 2\n  maxReplicas: 20\n  schedules:\n"
      "    - {name: a, start: \"0 5 * * *\", duration: 4h, replicas: 6}\n"
      "    - {name: b, start: \"0 6 * * *\", duration: 4h, minReplicas: 8, maxReplicas: 12}\n",
  };
  const std::vector<ReuseStep> steps = {
      {4, 90.0, 100.0, std::nullopt},
      {6, 95.0, 400.0, 3},
      {6, 30.0, std::nullopt, 9},
      {9, 10.0, 10.0, std::nullopt},
      {9, std::nullopt, 20.0, std::nullopt},
      {9, std::nullopt, std::nullopt, std::nullopt},
      {9, std::nullopt, std::nullopt, std::nullopt, 1},
      {9, std::nullopt, 5.0, 2, 3},
      {0, 90.0, 90.0, std::nullopt},
      {2, 61.0, 100.0, 1},
      {2, 600.0, 1000.0, 30},
      {5, 20.0, 1.0, std::nullopt},
      {5, 20.0, 1.0, std::nullopt},
  };
  Decision reused;
  reused.message = "left over from before";
  reused.limits = {{"Old", "an old limit"}, {"Older", "an older limit"}, {"Oldest", "x"}};
  for (size_t si = 0; si < specs.size(); ++si) {
    const PolicySpec spec = policy(specs[si]);
    BehaviorState fresh_state;
    BehaviorState reused_state;
    TimePoint now = kMonday6Utc + hours(1) + minutes(30);
    for (size_t i = 0; i < steps.size(); ++i) {
      const ReuseStep& step = steps[i];
      Observation obs = observe(step.current, step.cpu);
      if (step.rps) obs.metrics["rps"].value = *step.rps;
      if (step.predictive)
        obs.predictive =
            Proposal{*step.predictive, "predictive", "Forecast", "forecast needs more"};
      obs.metric_failures = step.failures;
      const Decision want = decide(spec, obs, fresh_state, now);
      decide(spec, obs, reused_state, now, {}, reused);
      expectSameDecision(reused, want,
                         "spec " + std::to_string(si) + ", step " + std::to_string(i));
      if (want.scale()) {
        commitScale(spec, want, fresh_state, now);
        commitScale(spec, reused, reused_state, now);
      }
      EXPECT_EQ(reused_state, fresh_state);
      now += seconds(15);
    }
  }
}

struct FallbackCase {
  std::string name;
  int32_t current;
  std::optional<double> cpu;  // nullopt: missing.
  int32_t failures;           // Observation::metric_failures.
  int32_t want_replicas;
  std::string want_reason;
};

class FallbackTest : public testing::TestWithParam<FallbackCase> {};

// fallback {replicas: 8, afterFailures: 3} on a 60% CPU target.
TEST_P(FallbackTest, AddsCapacityOnlyWhenBlindLongEnough) {
  const auto& c = GetParam();
  PolicySpec spec = policy(
      std::string("  maxReplicas: 20\n  fallback: {replicas: 8, afterFailures: 3}\n") + kCpu60);
  BehaviorState state;
  Observation obs = observe(c.current, c.cpu);
  obs.metric_failures = c.failures;
  Decision d = decide(spec, obs, state, kMonday6Utc);
  EXPECT_EQ(d.replicas, c.want_replicas);
  EXPECT_EQ(d.reason, c.want_reason);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FallbackTest,
    testing::Values(
        // Not yet blind for long enough: hold, as without a fallback.
        FallbackCase{"BeforeAfterFailures", 4, std::nullopt, 2, 4, "FailedGetMetrics"},
        // Blind for 3 evaluations: up to the fallback (HPA default rate: +4 pods per 15 s).
        FallbackCase{"AtAfterFailures", 4, std::nullopt, 3, 8, "FallbackReplicas"},
        FallbackCase{"RateLimited", 2, std::nullopt, 5, 6, "FallbackReplicas"},
        // Above the fallback already: never a scale-down on no data.
        FallbackCase{"NeverScalesDown", 12, std::nullopt, 9, 12, "FailedGetMetrics"},
        // A readable metric decides; the fallback is only for blindness.
        FallbackCase{"ValidMetricWins", 4, 90.0, 7, 6, "AboveTarget"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace governor::policies
