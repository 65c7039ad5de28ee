#include "controller/reconciler.h"

#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policies/spec_parser.h"
#include "simulator/in_memory_cluster.h"
#include "simulator/manual_clock.h"

namespace governor::controller {
namespace {

using simulator::InMemoryCluster;
using simulator::ManualClock;
using std::chrono::seconds;

// Tuesday 14 November 2023, 22:13:20 UTC.
const TimePoint kT0 = fromUnixSeconds(1'700'000'000);
const ObjectKey kKey{"shop", "web"};

std::string manifest(const std::string& extra_spec = "", int max_replicas = 20) {
  return "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
         "metadata: {name: web, namespace: shop}\nspec:\n"
         "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
         "  minReplicas: 1\n  maxReplicas: " +
         std::to_string(max_replicas) +
         "\n  metrics:\n"
         "    - {name: cpu, prometheus: {query: 'cpu{ns=\"{{namespace}}\"}'}, "
         "target: {type: Utilization, averageUtilization: 60}}\n" +
         extra_spec;
}

// Serves a settable value for every query; can fail as a whole.
class FakeMetrics final : public MetricsSource {
 public:
  std::optional<double> value;
  std::optional<Status> failure;
  std::vector<MetricQuery> last_queries;

  Result<MetricSnapshot> fetch(const std::vector<MetricQuery>& queries, TimePoint at) override {
    last_queries = queries;
    if (failure) return *failure;
    MetricSnapshot snapshot;
    if (value) {
      for (const auto& q : queries) {
        snapshot.samples[q.name].value = *value;
        snapshot.samples[q.name].timestamp = at;
      }
    }
    return snapshot;
  }
};

class ReconcilerTest : public testing::Test {
 protected:
  ReconcilerTest() : clock_(kT0), cluster_(clock_) {
    cluster_.addTarget("shop", "Deployment", "web", 4, Duration(0));
    cluster_.applyPolicy(kKey, manifest());
  }

  const PolicyStatus& status() const { return cluster_.policy(kKey)->status; }
  const Condition& condition(std::string_view type) const {
    const Condition* c = findCondition(status().conditions, type);
    static const Condition kMissing{"missing", "", "", "", {}, 0};
    EXPECT_NE(c, nullptr) << type;
    return c == nullptr ? kMissing : *c;
  }
  int32_t replicas() const { return cluster_.specReplicas("shop", "Deployment", "web"); }

  ManualClock clock_;
  InMemoryCluster cluster_;
  FakeMetrics metrics_;
};

TEST_F(ReconcilerTest, ScalesUpAndRecordsStatusEventsAndConditions) {
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 90;  // 90% of a 60% target on 4 pods: ceil(1.5 * 4) = 6.
  auto requeue = reconciler.reconcile(kKey);
  ASSERT_TRUE(requeue.ok()) << requeue.status().toString();
  EXPECT_EQ(*requeue, Duration(15'000));
  EXPECT_EQ(replicas(), 6);
  EXPECT_EQ(metrics_.last_queries.at(0).query, "cpu{ns=\"shop\"}");

  EXPECT_EQ(status().observed_generation, 1);
  EXPECT_EQ(status().current_replicas, 4);
  EXPECT_EQ(status().desired_replicas, 6);
  EXPECT_EQ(status().last_scale_time, kT0);
  EXPECT_EQ(status().reason, "AboveTarget");
  ASSERT_FALSE(status().proposals.empty());
  EXPECT_EQ(status().proposals.back().policy, "threshold/cpu");
  EXPECT_EQ(status().proposals.back().replicas, 6);
  EXPECT_EQ(status().behavior.scale_up_events.size(), 1u) << "commitScale after the write";

  EXPECT_EQ(condition(kConditionReady).status, "True");
  EXPECT_EQ(condition(kConditionAbleToScale).reason, "SucceededRescale");
  EXPECT_EQ(condition(kConditionScalingActive).reason, "ValidMetricFound");
  EXPECT_EQ(condition(kConditionScalingLimited).status, "False");
  EXPECT_EQ(condition(kConditionInvalidSpec).status, "False");
  EXPECT_EQ(condition(kConditionReady).observed_generation, 1);

  ASSERT_EQ(cluster_.events().size(), 1u);
  const Event& e = cluster_.events()[0].second;
  EXPECT_EQ(e.type, "Normal");
  EXPECT_EQ(e.reason, "SuccessfulRescale");
  EXPECT_EQ(e.message.rfind("New size: 6; reason: threshold/cpu: ", 0), 0u) << e.message;
}

TEST_F(ReconcilerTest, SteadyStateWritesNothingNewAndKeepsTransitionTimes) {
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 60;  // At target: hold at 4.
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 4);
  EXPECT_EQ(cluster_.scaleWrites(), 0);
  EXPECT_TRUE(cluster_.events().empty());
  EXPECT_EQ(condition(kConditionReady).last_transition_time, kT0);
  EXPECT_EQ(condition(kConditionAbleToScale).reason, "ReadyForNewScale");
}

TEST_F(ReconcilerTest, DryRunDecidesButNeverWritesScale) {
  ReconcilerOptions options;
  options.dry_run = true;
  Reconciler reconciler(cluster_, metrics_, clock_, options);
  metrics_.value = 90;
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 4);
  EXPECT_EQ(cluster_.scaleWrites(), 0);
  EXPECT_EQ(status().desired_replicas, 6);
  EXPECT_FALSE(status().last_scale_time.has_value());
  EXPECT_TRUE(status().behavior.scale_up_events.empty());
  EXPECT_EQ(condition(kConditionAbleToScale).reason, "DryRun");
  // One event for the would-be change, not one per reconcile.
  ASSERT_EQ(cluster_.events().size(), 1u);
  EXPECT_EQ(cluster_.events()[0].second.reason, "DryRunRescale");
  EXPECT_EQ(cluster_.events()[0].second.message.rfind("Would scale to 6; reason: ", 0), 0u);
}

// HPA loses its stabilization history on restart; Governor keeps it in the status. Scale up
// to 8 at t0, then the load drops. A reconciler restarted at t0+200s must still release the
// hold at t0+310s (when t0's recommendation of 8 leaves the 300 s window); one that lost the
// history would seed it again at the restart and hold until t0+500s.
TEST_F(ReconcilerTest, RestartKeepsTheStabilizationWindow) {
  {
    Reconciler first(cluster_, metrics_, clock_);
    metrics_.value = 120;  // 4 pods at 120% of 60%: 8.
    ASSERT_TRUE(first.reconcile(kKey).ok());
    ASSERT_EQ(replicas(), 8);
    clock_.set(kT0 + seconds(60));
    metrics_.value = 15;  // 8 pods at 15%: 2.
    ASSERT_TRUE(first.reconcile(kKey).ok());
    EXPECT_EQ(replicas(), 8);
    EXPECT_EQ(status().reason, "ScaleDownStabilized");
  }
  // The restart: a new Reconciler reads the state back from the status.
  Reconciler second(cluster_, metrics_, clock_);
  clock_.set(kT0 + seconds(200));
  ASSERT_TRUE(second.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 8);
  clock_.set(kT0 + seconds(310));
  ASSERT_TRUE(second.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 2) << status().reason << ": " << status().message;
}

TEST_F(ReconcilerTest, LostHistoryHoldsLonger) {
  // The control for the test above: without the persisted state the hold lasts longer.
  {
    Reconciler first(cluster_, metrics_, clock_);
    metrics_.value = 120;
    ASSERT_TRUE(first.reconcile(kKey).ok());
  }
  metrics_.value = 15;
  PolicyStatus wiped = status();
  wiped.behavior = {};
  ASSERT_TRUE(
      cluster_.updatePolicyStatus(kKey, cluster_.policy(kKey)->resource_version, std::move(wiped))
          .ok());
  Reconciler second(cluster_, metrics_, clock_);
  clock_.set(kT0 + seconds(200));
  ASSERT_TRUE(second.reconcile(kKey).ok());
  clock_.set(kT0 + seconds(310));
  ASSERT_TRUE(second.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 8);
}

TEST_F(ReconcilerTest, InvalidSpecIsAConditionNotACrash) {
  cluster_.applyPolicy(kKey, manifest("", 0));  // maxReplicas: 0.
  Reconciler reconciler(cluster_, metrics_, clock_);
  auto result = reconciler.reconcile(kKey);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(condition(kConditionInvalidSpec).status, "True");
  EXPECT_NE(condition(kConditionInvalidSpec).message.find("spec.maxReplicas"), std::string::npos)
      << condition(kConditionInvalidSpec).message;
  EXPECT_EQ(condition(kConditionReady).status, "False");
  EXPECT_EQ(condition(kConditionScalingActive).status, "False");
  EXPECT_EQ(status().observed_generation, 2);
  EXPECT_EQ(replicas(), 4);
  // A second pass does not repeat the Warning.
  clock_.advance(seconds(15));
  EXPECT_FALSE(reconciler.reconcile(kKey).ok());
  ASSERT_EQ(cluster_.events().size(), 1u);
  EXPECT_EQ(cluster_.events()[0].second.type, "Warning");
  EXPECT_EQ(cluster_.events()[0].second.reason, "InvalidSpec");

  // Fixed: a new generation, and the conditions flip back.
  cluster_.applyPolicy(kKey, manifest());
  clock_.advance(seconds(15));
  metrics_.value = 60;
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(condition(kConditionInvalidSpec).status, "False");
  EXPECT_EQ(condition(kConditionInvalidSpec).last_transition_time, kT0 + seconds(30));
  EXPECT_EQ(condition(kConditionReady).status, "True");
  EXPECT_EQ(status().observed_generation, 3);
}

TEST_F(ReconcilerTest, FailedScaleWriteIsReportedAndRetried) {
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 90;
  cluster_.failNext(InMemoryCluster::Operation::kUpdateScale, unavailable("etcd is down"));
  auto result = reconciler.reconcile(kKey);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(replicas(), 4);
  EXPECT_EQ(condition(kConditionAbleToScale).status, "False");
  EXPECT_EQ(condition(kConditionAbleToScale).reason, "FailedUpdateScale");
  ASSERT_EQ(cluster_.events().size(), 1u);
  EXPECT_EQ(cluster_.events()[0].second.reason, "FailedRescale");
  EXPECT_NE(cluster_.events()[0].second.message.find("etcd is down"), std::string::npos);
  EXPECT_TRUE(status().behavior.scale_up_events.empty());

  clock_.advance(seconds(1));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 6);
  EXPECT_EQ(condition(kConditionAbleToScale).status, "True");
}

TEST_F(ReconcilerTest, MetricsOutageHoldsAndSaysWhy) {
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.failure = unavailable("prometheus: connection refused");
  auto result = reconciler.reconcile(kKey);
  ASSERT_TRUE(result.ok()) << "a metrics outage is not a reconcile error";
  EXPECT_EQ(replicas(), 4);
  EXPECT_EQ(condition(kConditionScalingActive).status, "False");
  EXPECT_EQ(condition(kConditionScalingActive).reason, "FailedGetMetrics");
  ASSERT_FALSE(cluster_.events().empty());
  EXPECT_EQ(cluster_.events().back().second.reason, "FailedGetMetrics");
}

TEST_F(ReconcilerTest, ErrorsTellTheQueueWhatToDo) {
  Reconciler reconciler(cluster_, metrics_, clock_);
  EXPECT_EQ(reconciler.reconcile({"shop", "gone"}).status().code(), StatusCode::kNotFound);

  cluster_.failNext(InMemoryCluster::Operation::kGetScale, unavailable("timeout"));
  auto result = reconciler.reconcile(kKey);
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(condition(kConditionAbleToScale).reason, "FailedGetScale");

  metrics_.value = 60;
  cluster_.failNext(InMemoryCluster::Operation::kUpdatePolicyStatus,
                    Status(StatusCode::kConflict, "modified"));
  EXPECT_EQ(reconciler.reconcile(kKey).status().code(), StatusCode::kConflict);
}

TEST_F(ReconcilerTest, RequeueIsTheEarlierOfSyncAndRecheck) {
  ReconcilerOptions options;
  options.sync_period = Duration(600'000);
  Reconciler reconciler(cluster_, metrics_, clock_, options);
  metrics_.value = 15;  // Wants 1; the 300 s scale-down window holds at 4.
  auto requeue = reconciler.reconcile(kKey);
  ASSERT_TRUE(requeue.ok());
  EXPECT_EQ(replicas(), 4);
  EXPECT_GT(*requeue, Duration(0));
  EXPECT_LE(*requeue, Duration(300'000));
}

TEST_F(ReconcilerTest, QueryTemplatesAreRenderedWithTheTargetsSelector) {
  cluster_.applyPolicy(kKey,
                       "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
                       "metadata: {name: web, namespace: shop}\nspec:\n"
                       "  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 20\n"
                       "  metrics:\n"
                       "    - {name: cpu, prometheus: {query: 'avg(cpu{namespace=\"{{namespace}}\","
                       "{{selector}}, pod=~\"{{target}}-.*\", policy=\"{{name}}\"})'}, "
                       "target: {type: Utilization, averageUtilization: 60}}\n");
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 60;
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  ASSERT_EQ(metrics_.last_queries.size(), 1u);
  // The in-memory cluster's selector is governor.io/target=Deployment.web.
  EXPECT_EQ(metrics_.last_queries[0].query,
            "avg(cpu{namespace=\"shop\",governor_io_target=\"Deployment.web\", "
            "pod=~\"web-.*\", policy=\"web\"})");
  EXPECT_EQ(condition(kConditionScalingActive).reason, "ValidMetricFound");
}

TEST(MetricQueryFor, RendersOrFailsNamingTheMetric) {
  auto spec = policies::parsePolicy(manifest(), "test");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  policies::MetricSpec metric = spec->metrics.at(0);
  struct Case {
    std::string query;
    std::string selector;
    std::string want;  // The query, or a fragment of the error.
    bool ok;
  };
  const Case cases[] = {
      {"x{ns=\"{{namespace}}\",{{selector}}}", "app=web,tier in (a,b)",
       "x{ns=\"shop\",app=\"web\",tier=~\"a|b\"}", true},
      {"x{t=~\"{{target}}.*\"}", "", "x{t=~\"web.*\"}", true},
      {"x{ {{selector}} }", "", "metric cpu: ", false},
      {"x{ {{selector}} }", "", "{{selector}}", false},
      {"x{ {{selector}} }", "app in (a", "metric cpu: ", false},
  };
  for (const Case& c : cases) {
    metric.prometheus.query = c.query;
    auto q = metricQueryFor(*spec, metric, c.selector);
    ASSERT_EQ(q.ok(), c.ok) << c.query << " / " << c.selector;
    if (c.ok) {
      EXPECT_EQ(q->query, c.want);
      EXPECT_EQ(q->name, "cpu");
    } else {
      EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(q.status().message().find(c.want), std::string::npos) << q.status().message();
    }
  }
}

TEST_F(ReconcilerTest, PredictiveProposalJoinsTheDecision) {
  class Fixed final : public ProposalSource {
   public:
    int calls = 0;
    std::optional<policies::Proposal> propose(const ObjectKey&, const policies::PolicySpec&,
                                              const policies::Observation& obs,
                                              const std::vector<MetricQuery>& queries,
                                              TimePoint) override {
      EXPECT_EQ(queries.size(), 1u) << "the rendered queries";
      ++calls;
      EXPECT_TRUE(obs.metrics.count("cpu")) << "the source sees this step's metrics";
      return policies::Proposal{9, "predictive", "ForecastReady", "peak ahead"};
    }
  } predictive;
  Reconciler reconciler(cluster_, metrics_, clock_, {}, &predictive);
  metrics_.value = 60;
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(predictive.calls, 1);
  EXPECT_EQ(replicas(), 8) << "HPA's default scale-up limit: max(4 pods, 100%) from 4";
  bool found = false;
  for (const auto& p : status().proposals) found = found || p.policy == "predictive";
  EXPECT_TRUE(found);
}

TEST_F(ReconcilerTest, RefusesATargetAnHpaManages) {
  cluster_.addHorizontalPodAutoscaler("shop", "web-hpa", "Deployment", "web");
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 90;
  auto requeue = reconciler.reconcile(kKey);
  ASSERT_TRUE(requeue.ok()) << requeue.status().toString();
  EXPECT_EQ(*requeue, Duration(15'000)) << "rechecked every sync period";
  EXPECT_EQ(replicas(), 4) << "never fights the HPA";
  EXPECT_EQ(cluster_.scaleWrites(), 0);
  EXPECT_EQ(condition(kConditionAbleToScale).status, "False");
  EXPECT_EQ(condition(kConditionAbleToScale).reason, "TargetManagedElsewhere");
  EXPECT_NE(condition(kConditionAbleToScale).message.find("HorizontalPodAutoscaler shop/web-hpa"),
            std::string::npos);
  EXPECT_EQ(condition(kConditionReady).status, "False");
  ASSERT_EQ(cluster_.events().size(), 1u);
  EXPECT_EQ(cluster_.events()[0].second.reason, "TargetManagedElsewhere");
  // Refused again: no second event.
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(cluster_.events().size(), 1u);
}

TEST_F(ReconcilerTest, TheOlderPolicyKeepsTheTarget) {
  const ObjectKey newer{"shop", "web-2"};
  std::string second = manifest();
  second.replace(second.find("name: web, namespace"), 9, "name: web-2");
  cluster_.applyPolicy(newer, second);
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 90;
  ASSERT_TRUE(reconciler.reconcile(newer).ok());
  EXPECT_EQ(replicas(), 4);
  const Condition* refused =
      findCondition(cluster_.policy(newer)->status.conditions, kConditionAbleToScale);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->reason, "TargetManagedElsewhere");
  EXPECT_NE(refused->message.find("ScalingPolicy shop/web"), std::string::npos);

  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 6) << "the first policy scales";
  // Once the first is deleted, the second takes over.
  cluster_.deletePolicy(kKey);
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(newer).ok());
  const Condition* now_able =
      findCondition(cluster_.policy(newer)->status.conditions, kConditionAbleToScale);
  EXPECT_EQ(now_able->status, "True");
  EXPECT_EQ(replicas(), 9) << "90% on 6 pods";
}

TEST_F(ReconcilerTest, PolicySyncPeriodOverridesTheOption) {
  cluster_.applyPolicy(kKey, manifest("  syncPeriodSeconds: 5\n"));
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 60;
  auto requeue = reconciler.reconcile(kKey);
  ASSERT_TRUE(requeue.ok());
  EXPECT_EQ(*requeue, Duration(5'000));
}

TEST_F(ReconcilerTest, FallbackAfterConsecutiveMetricFailures) {
  cluster_.applyPolicy(kKey, manifest("  fallback: {replicas: 7, afterFailures: 2}\n"));
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.failure = unavailable("prometheus: connection refused");
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(status().metric_failures, 1);
  EXPECT_EQ(replicas(), 4) << "one failure: hold";
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(status().metric_failures, 2);
  EXPECT_EQ(replicas(), 7) << "two in a row: the fallback";
  EXPECT_EQ(condition(kConditionScalingActive).reason, "FailedGetMetrics");

  // NaN is no better than an outage; a readable value resets the count.
  metrics_.failure.reset();
  metrics_.value = std::numeric_limits<double>::quiet_NaN();
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(status().metric_failures, 3);
  EXPECT_EQ(replicas(), 7);
  metrics_.value = 60;
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(status().metric_failures, 0);
}

// A ScalingPolicy on a Rollout: while the Rollout is mid-update (the adapter sets
// Scale::scale_down_hold), scale-downs wait and scale-ups go through.
constexpr char kProgressing[] = "Rollout shop/web is Progressing (step 2/5)";

std::string rolloutManifest(const std::string& extra_spec = "", int max_replicas = 20) {
  std::string m = manifest(extra_spec, max_replicas);
  const std::string deployment = "apiVersion: apps/v1, kind: Deployment";
  m.replace(m.find(deployment), deployment.size(),
            "apiVersion: governor.io/v1alpha1, kind: Rollout");
  return m;
}

class RolloutHoldTest : public testing::Test {
 protected:
  RolloutHoldTest() : clock_(kT0), cluster_(clock_) {
    cluster_.addTarget("shop", "Rollout", "web", 4, Duration(0));
  }

  const PolicyStatus& status() const { return cluster_.policy(kKey)->status; }
  const Condition& limited() const {
    const Condition* c = findCondition(status().conditions, kConditionScalingLimited);
    static const Condition kMissing{"missing", "", "", "", {}, 0};
    EXPECT_NE(c, nullptr);
    return c == nullptr ? kMissing : *c;
  }
  int32_t replicas() const { return cluster_.specReplicas("shop", "Rollout", "web"); }
  std::vector<std::string> eventReasons() const {
    std::vector<std::string> out;
    for (const auto& [key, event] : cluster_.events()) out.push_back(event.reason);
    return out;
  }
  void hold(std::optional<std::string> reason) {
    cluster_.setScaleDownHold("shop", "Rollout", "web", std::move(reason));
  }

  ManualClock clock_;
  InMemoryCluster cluster_;
  FakeMetrics metrics_;
};

struct HoldCase {
  const char* name;
  double cpu;  // Utilization of the 4 pods, against a 60% target.
  bool mid_update;
  bool dry_run;
  int max_replicas;
  int32_t replicas_after;
  int32_t desired;
  const char* limited_reason;
  std::vector<std::string> events;
};

class RolloutHoldTableTest : public RolloutHoldTest,
                             public testing::WithParamInterface<HoldCase> {};

TEST_P(RolloutHoldTableTest, HoldsScaleDownsOnly) {
  const HoldCase& c = GetParam();
  // No scale-down stabilization: the decision is the proposal, so each case is one reconcile.
  cluster_.applyPolicy(kKey,
                       rolloutManifest("  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}\n",
                                       c.max_replicas));
  if (c.mid_update) hold(kProgressing);
  ReconcilerOptions options;
  options.dry_run = c.dry_run;
  Reconciler reconciler(cluster_, metrics_, clock_, options);
  metrics_.value = c.cpu;
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());

  EXPECT_EQ(replicas(), c.replicas_after);
  EXPECT_EQ(status().current_replicas, 4);
  EXPECT_EQ(status().desired_replicas, c.desired) << "the unheld decision";
  EXPECT_EQ(limited().reason, c.limited_reason) << limited().message;
  EXPECT_EQ(eventReasons(), c.events);
  ASSERT_NE(reconciler.lastOutcome(), nullptr);
  const bool held = std::string(c.limited_reason) == "ScaleDownHeld";
  EXPECT_EQ(reconciler.lastOutcome()->held.has_value(), held);
  if (held) {
    EXPECT_EQ(limited().status, "True");
    EXPECT_EQ(limited().message, "scale-down from 4 to " + std::to_string(c.desired) +
                                     " held: " + kProgressing + "; scale-ups go through");
    EXPECT_EQ(cluster_.events().at(0).second.type, "Normal");
    EXPECT_EQ(cluster_.events().at(0).second.message, limited().message);
    EXPECT_EQ(cluster_.scaleWrites(), 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, RolloutHoldTableTest,
    testing::Values(
        // 4 pods at 15% of 60%: 1.
        HoldCase{"ScaleDownIsHeld", 15, true, false, 20, 4, 1, "ScaleDownHeld", {"ScaleDownHeld"}},
        // 4 pods at 90%: 6.
        HoldCase{"ScaleUpGoesThrough",
                 90,
                 true,
                 false,
                 20,
                 6,
                 6,
                 "DesiredWithinRange",
                 {"SuccessfulRescale"}},
        HoldCase{"AtTargetNothingToHold", 60, true, false, 20, 4, 4, "DesiredWithinRange", {}},
        HoldCase{"NoUpdateScalesDown",
                 15,
                 false,
                 false,
                 20,
                 1,
                 1,
                 "DesiredWithinRange",
                 {"SuccessfulRescale"}},
        // A lowered maximum is a scale-down too: the update keeps its pods until it ends.
        HoldCase{"ABoundIsHeldToo", 60, true, false, 3, 4, 3, "ScaleDownHeld", {"ScaleDownHeld"}},
        HoldCase{"NoUpdateBoundApplies",
                 60,
                 false,
                 false,
                 3,
                 3,
                 3,
                 "TooManyReplicas",
                 {"SuccessfulRescale"}},
        // Dry run reports the hold instead of a would-be scale-down.
        HoldCase{"DryRunHeldToo", 15, true, true, 20, 4, 1, "ScaleDownHeld", {"ScaleDownHeld"}},
        HoldCase{
            "DryRunNoUpdate", 15, false, true, 20, 4, 1, "DesiredWithinRange", {"DryRunRescale"}}),
    [](const auto& info) { return std::string(info.param.name); });

// With the default 300 s scale-down window: the recommendations made during the hold are
// kept, so the scale-down happens at the first reconcile after the update ends instead of a
// window later; one event for the whole hold; the condition follows the rollout's step.
TEST_F(RolloutHoldTest, ReleasedPromptlyWhenTheRolloutEndsWithOneEvent) {
  cluster_.applyPolicy(kKey, rolloutManifest());
  hold(kProgressing);
  Reconciler reconciler(cluster_, metrics_, clock_);
  metrics_.value = 60;  // At target: 4.
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  metrics_.value = 15;  // From now on the policy wants 1.
  bool stabilized_first = false;
  for (int t = 15; t <= 450; t += 15) {
    clock_.set(kT0 + seconds(t));
    ASSERT_TRUE(reconciler.reconcile(kKey).ok());
    ASSERT_EQ(replicas(), 4) << "at " << t << "s";
    // Within the window the stabilized decision is no scale-down: nothing to hold.
    if (t < 300) stabilized_first = stabilized_first || limited().reason == "ScaleDownStabilized";
  }
  EXPECT_TRUE(stabilized_first);
  EXPECT_EQ(limited().reason, "ScaleDownHeld");
  EXPECT_EQ(status().desired_replicas, 1);
  EXPECT_EQ(eventReasons(), std::vector<std::string>{"ScaleDownHeld"});

  // The rollout moves on: the message follows, without another event.
  hold("Rollout shop/web is Progressing (step 3/5)");
  clock_.set(kT0 + seconds(465));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_NE(limited().message.find("(step 3/5)"), std::string::npos) << limited().message;
  EXPECT_EQ(cluster_.events().size(), 1u);

  // Healthy: the adapter clears the hold; the scale-down happens at once.
  hold(std::nullopt);
  clock_.set(kT0 + seconds(480));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 1) << status().reason << ": " << status().message;
  EXPECT_EQ(limited().status, "False");
  EXPECT_EQ(eventReasons(), (std::vector<std::string>{"ScaleDownHeld", "SuccessfulRescale"}));
  EXPECT_EQ(status().behavior.scale_down_events.size(), 1u) << "the held periods scaled nothing";
}

// A second update later is a new hold: a new event.
TEST_F(RolloutHoldTest, EachHoldIsOneEvent) {
  cluster_.applyPolicy(
      kKey, rolloutManifest("  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}\n"));
  Reconciler reconciler(cluster_, metrics_, clock_);
  hold(kProgressing);
  metrics_.value = 30;  // 4 pods at 30%: 2.
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  hold(std::nullopt);
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  ASSERT_EQ(replicas(), 2);
  hold("Rollout shop/web is Paused (step 1/5)");
  metrics_.value = 15;  // 2 pods at 15%: 1.
  clock_.advance(seconds(15));
  ASSERT_TRUE(reconciler.reconcile(kKey).ok());
  EXPECT_EQ(replicas(), 2);
  EXPECT_EQ(eventReasons(),
            (std::vector<std::string>{"ScaleDownHeld", "SuccessfulRescale", "ScaleDownHeld"}));
  EXPECT_NE(cluster_.events().back().second.message.find("is Paused (step 1/5)"),
            std::string::npos);
}

}  // namespace
}  // namespace governor::controller
