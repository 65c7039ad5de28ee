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
  EXPECT_FALSE(source.propose(kKey, spec, observe(100), {}, kT0).has_value());
  EXPECT_EQ(source.lastOutcome(kKey), nullptr);
  EXPECT_EQ(source.policyFor(kKey, spec), nullptr);
}

TEST(PredictiveProposalSourceTest, LearnsFromEveryReconcileAndProposes) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  std::optional<policies::Proposal> last;
  for (int64_t h = 0; h < 72; ++h) {
    last = source.propose(kKey, spec, observe(load(h)), {}, kT0 + hours(h) + minutes(30));
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
    source.propose(kKey, spec, observe(load(h)), {}, kT0 + hours(h) + minutes(30));
  }
  ASSERT_GT(source.policyFor(kKey, spec)->observedBuckets(), 48);
  auto changed = parse(
      "  predictive: {metric: rps, resolution: 1h, seasonalPeriods: [24h], history: 96h, "
      "leadSeconds: 7200}\n");
  source.propose(kKey, changed, observe(load(72)), {}, kT0 + hours(72) + minutes(30));
  EXPECT_EQ(source.lastOutcome(kKey)->reason, "InsufficientHistory");
  EXPECT_EQ(source.policyFor(kKey, changed)->observedBuckets(), 0);  // Only the open bucket.
}

TEST(PredictiveProposalSourceTest, BackfilledHistoryIsUsedAtOnce) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  policies::PredictivePolicy* policy = source.policyFor(kKey, spec);
  ASSERT_NE(policy, nullptr);
  for (int64_t h = 0; h < 72; ++h) policy->addLoad(kT0 + hours(h), load(h));
  auto proposal = source.propose(kKey, spec, observe(load(72)), {}, kT0 + hours(72) + minutes(1));
  EXPECT_TRUE(proposal.has_value()) << source.lastOutcome(kKey)->message;
}

// A MetricHistory that serves a scripted series and records what it was asked.
class FakeHistory final : public MetricHistory {
 public:
  std::vector<MetricQuery> asked;
  std::vector<std::pair<TimePoint, TimePoint>> ranges;
  std::vector<Duration> steps;
  std::optional<Status> failure;

  Result<std::vector<HistoryPoint>> history(const MetricQuery& query, TimePoint start,
                                            TimePoint end, Duration step) override {
    asked.push_back(query);
    ranges.emplace_back(start, end);
    steps.push_back(step);
    if (failure) return *failure;
    std::vector<HistoryPoint> points;
    for (TimePoint t = start; t <= end; t += step) {
      const double hour = static_cast<double>((t - kT0).count()) / 3'600'000.0;
      points.push_back(HistoryPoint{t, load(static_cast<int64_t>(std::floor(hour)))});
    }
    return points;
  }
};

std::vector<MetricQuery> rendered(const std::string& promql) {
  MetricQuery q;
  q.name = "rps";
  q.query = promql;
  q.address = "http://thanos:9090";
  return {q};
}

TEST(PredictiveProposalSourceTest, BackfillsFromHistoryOnTheFirstEvaluation) {
  FakeHistory history;
  PredictiveProposalSource source(&history);
  auto spec = parse(kHourly);
  const TimePoint now = kT0 + hours(96) + minutes(1);
  auto proposal = source.propose(kKey, spec, observe(load(96)), rendered("sum(rate(x[1m]))"), now);
  EXPECT_TRUE(proposal.has_value()) << source.lastOutcome(kKey)->message;
  ASSERT_EQ(history.asked.size(), 1u);
  // AverageValue, not per pod: the load is the query itself; the address is kept.
  EXPECT_EQ(history.asked[0].query, "(sum(rate(x[1m]))\n)");
  EXPECT_EQ(history.asked[0].address, std::optional<std::string>("http://thanos:9090"));
  // The whole history window, from a bucket boundary, at resolution / 5.
  EXPECT_EQ(history.ranges[0].first, kT0);
  EXPECT_EQ(history.ranges[0].second, now);
  EXPECT_EQ(history.steps[0], Duration(minutes(12)));
  const BackfillState* state = source.backfill(kKey);
  ASSERT_NE(state, nullptr);
  EXPECT_TRUE(state->done);
  EXPECT_EQ(state->points, 96 * 5 + 1);
  EXPECT_GE(source.policyFor(kKey, spec)->observedBuckets(), 95);

  // Once only.
  source.propose(kKey, spec, observe(load(96)), rendered("sum(rate(x[1m]))"), now + minutes(15));
  EXPECT_EQ(history.asked.size(), 1u);
}

TEST(PredictiveProposalSourceTest, FailedBackfillIsRetriedAfterAMinute) {
  FakeHistory history;
  history.failure = Status(StatusCode::kUnavailable, "connection refused");
  PredictiveProposalSource source(&history);
  auto spec = parse(kHourly);
  const TimePoint now = kT0 + hours(96);
  EXPECT_FALSE(source.propose(kKey, spec, observe(100), rendered("q"), now).has_value());
  EXPECT_FALSE(source.backfill(kKey)->done);
  EXPECT_NE(source.backfill(kKey)->message.find("connection refused"), std::string::npos);
  source.propose(kKey, spec, observe(100), rendered("q"), now + std::chrono::seconds(30));
  EXPECT_EQ(history.asked.size(), 1u) << "not before retry_after";
  history.failure.reset();
  auto proposal =
      source.propose(kKey, spec, observe(load(96)), rendered("q"), now + std::chrono::seconds(61));
  EXPECT_EQ(history.asked.size(), 2u);
  EXPECT_TRUE(source.backfill(kKey)->done);
  EXPECT_TRUE(proposal.has_value()) << source.lastOutcome(kKey)->message;
}

TEST(PredictiveProposalSourceTest, LoadQueriesPerTargetType) {
  struct Case {
    std::string metric;
    std::optional<std::string> asked;  // nullopt: no backfill possible.
  };
  const Case cases[] = {
      {"{name: rps, prometheus: {query: q}, target: {type: AverageValue, averageValue: 10}}",
       "(q\n)"},
      {"{name: rps, prometheus: {query: q, perPod: true}, target: {type: AverageValue, "
       "averageValue: 10}}",
       "sum((q\n))"},
      {"{name: rps, prometheus: {query: q, perPod: true}, target: {type: Utilization, "
       "averageUtilization: 60}}",
       "sum((q\n)) / 100"},
      {"{name: rps, prometheus: {query: q}, target: {type: Utilization, averageUtilization: 60}}",
       std::nullopt},
  };
  for (const Case& c : cases) {
    auto spec = policies::parsePolicy(
        "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: web}\nspec:\n"
        "  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 50\n  metrics:\n    - " +
            c.metric + "\n" + kHourly,
        "test");
    ASSERT_TRUE(spec.ok()) << spec.status().message();
    FakeHistory history;
    PredictiveProposalSource source(&history);
    source.propose(kKey, *spec, observe(100), rendered("q"), kT0 + hours(96));
    if (c.asked) {
      ASSERT_EQ(history.asked.size(), 1u) << c.metric;
      EXPECT_EQ(history.asked[0].query, *c.asked) << c.metric;
    } else {
      EXPECT_TRUE(history.asked.empty()) << c.metric;
      EXPECT_TRUE(source.backfill(kKey)->done);
      EXPECT_NE(source.backfill(kKey)->message.find("not possible"), std::string::npos);
    }
  }
}

TEST(PredictiveProposalSourceTest, KeysAreIndependent) {
  PredictiveProposalSource source;
  auto spec = parse(kHourly);
  for (int64_t h = 0; h < 72; ++h) {
    source.propose(kKey, spec, observe(load(h)), {}, kT0 + hours(h) + minutes(30));
  }
  const ObjectKey other{"shop", "api"};
  source.propose(other, spec, observe(100), {}, kT0 + hours(72));
  EXPECT_EQ(source.lastOutcome(other)->reason, "InsufficientHistory");
  EXPECT_GT(source.policyFor(kKey, spec)->observedBuckets(), 48);
}

}  // namespace
}  // namespace governor::controller
