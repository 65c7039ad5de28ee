#include "controller/predictive_source.h"

#include <cmath>
#include <numbers>
#include <string>

#include <gtest/gtest.h>

#include "policies/spec_parser.h"

namespace governor::controller {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

const TimePoint kT0 = fromUnixSeconds(1'767'225'600);  // 2026-01-01T00:00:00Z.
const ObjectKey kKey{"shop", "web"};

policies::PolicySpec parse(const std::string& predictive) {
  auto spec = policies::parsePolicy(
      "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: web, namespace: "
      "shop}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 50\n"
      "  metrics:\n    - {name: rps, prometheus: {query: q}, target: {type: AverageValue, "
      "averageValue: 10}}\n" +
          predictive,
      "predictive_source_test");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : policies::PolicySpec{};
}

policies::Observation observe(double rps) {
  policies::Observation obs;
  obs.current_replicas = 4;
  obs.ready_replicas = 4;
  obs.metrics["rps"].value = rps;
  return obs;
}

double load(int64_t hour) {
  return 100.0 + 60.0 * std::sin(2.0 * std::numbers::pi * static_cast<double>(hour) / 24.0) +
         static_cast<double>((hour * 37) % 7);
}

constexpr const char* kHourly =
    "  predictive: {metric: rps, resolution: 1h, seasonalPeriods: [24h], history: 96h, "
    "leadSeconds: 3600}\n";

TEST(PredictiveProposalSourceTest, NoPredictiveBlockNoProposal) {
  PredictiveProposalSource source;
  auto spec = parse("");
  EXPECT_FALSE(source.propose(kKey, spec, observe(100), kT0).has_value());
  EXPECT_EQ(source.lastOutcome(kKey), nullptr);
  EXPECT_EQ(source.policyFor(kKey, spec), nullptr);
}

TEST(PredictiveProposalSourceTest, LearnsFromEveryReconcileAndProposes) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  std::optional<policies::Proposal> last;
  for (int64_t h = 0; h < 72; ++h) {
    last = source.propose(kKey, spec, observe(load(h)), kT0 + hours(h) + minutes(30));
  }
  ASSERT_NE(source.lastOutcome(kKey), nullptr);
  EXPECT_EQ(source.lastOutcome(kKey)->reason, "ForecastReady") << source.lastOutcome(kKey)->message;
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->policy, "predictive");
  EXPECT_GT(last->replicas, 0);
}

TEST(PredictiveProposalSourceTest, ChangedSpecStartsAfresh) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  for (int64_t h = 0; h < 72; ++h) {
    source.propose(kKey, spec, observe(load(h)), kT0 + hours(h) + minutes(30));
  }
  ASSERT_GT(source.policyFor(kKey, spec)->observedBuckets(), 48);
  auto changed = parse(
      "  predictive: {metric: rps, resolution: 1h, seasonalPeriods: [24h], history: 96h, "
      "leadSeconds: 7200}\n");
  source.propose(kKey, changed, observe(load(72)), kT0 + hours(72) + minutes(30));
  EXPECT_EQ(source.lastOutcome(kKey)->reason, "InsufficientHistory");
  EXPECT_EQ(source.policyFor(kKey, changed)->observedBuckets(), 0);  // Only the open bucket.
}

TEST(PredictiveProposalSourceTest, BackfilledHistoryIsUsedAtOnce) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  policies::PredictivePolicy* policy = source.policyFor(kKey, spec);
  ASSERT_NE(policy, nullptr);
  for (int64_t h = 0; h < 72; ++h) policy->addLoad(kT0 + hours(h), load(h));
  auto proposal = source.propose(kKey, spec, observe(load(72)), kT0 + hours(72) + minutes(1));
  EXPECT_TRUE(proposal.has_value()) << source.lastOutcome(kKey)->message;
}

TEST(PredictiveProposalSourceTest, KeysAreIndependent) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  for (int64_t h = 0; h < 72; ++h) {
    source.propose(kKey, spec, observe(load(h)), kT0 + hours(h) + minutes(30));
  }
  const ObjectKey other{"shop", "api"};
  source.propose(other, spec, observe(100), kT0 + hours(72));
  EXPECT_EQ(source.lastOutcome(other)->reason, "InsufficientHistory");
  EXPECT_GT(source.policyFor(kKey, spec)->observedBuckets(), 48);
}

}  // namespace
}  // namespace governor::controller
