#include "rollouts/reconcile.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rollouts/split.h"
#include "rollouts/template_hash.h"
#include "rollouts/timeline.h"

namespace governor::rollouts {

// Readable failures: what a person would look at first.
void PrintTo(const RolloutStatus& s, std::ostream* os) {
  *os << "{phase " << (s.phase ? rolloutPhaseName(*s.phase) : "-") << ", step "
      << s.current_step_index << ", stable " << s.stable_revision << ", canary "
      << s.canary_revision << ", weight " << s.canary_weight << ", abort " << s.abort
      << ", progressing_since "
      << (s.progressing_since ? toUnixSeconds(*s.progressing_since) : -1.0) << ", paused_at "
      << (s.paused_at ? toUnixSeconds(*s.paused_at) : -1.0) << ", runs " << s.analysis_runs.size()
      << ", revisions [";
  for (const auto& r : s.revisions) {
    *os << r.pod_template_hash << ":" << revisionRoleName(r.role) << ":" << r.replicas << "/"
        << r.available_replicas << " ";
  }
  *os << "], message \"" << s.message << "\"}";
}
void PrintTo(const ReplicaSetAction& a, std::ostream* os) {
  *os << "{" << static_cast<int>(a.kind) << " " << a.name << " " << a.replicas << "}";
}

namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// A fixed epoch: 2024-01-01T00:00:00Z.
const TimePoint kT0 = fromUnixSeconds(1'704'067'200);

// A Rollout with `strategy` (YAML under `spec.strategy`, indented 4) and IMAGE as the
// container's image, so that a test can make new template revisions.
std::string rolloutYaml(const std::string& strategy, const std::string& image, int replicas,
                        const std::string& extra = "") {
  return "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: "
         "shop}\nspec:\n  replicas: " +
         std::to_string(replicas) + "\n" + extra +
         "  selector: {matchLabels: {app: web}}\n"
         "  template:\n    metadata: {labels: {app: web}}\n"
         "    spec: {containers: [{name: web, image: \"" +
         image + "\"}]}\n  strategy:\n" + strategy;
}

RolloutSpec parsed(const std::string& yaml) {
  auto spec = parseRollout(yaml, "test.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : RolloutSpec{};
}

// An AnalysisTemplate with one metric `result` measured `count` times a minute apart.
AnalysisTemplateSpec analysisTemplate(const std::string& name, const std::string& conditions,
                                      int count) {
  const std::string yaml =
      "apiVersion: governor.io/v1alpha1\nkind: AnalysisTemplate\n"
      "metadata: {name: " +
      name + "}\nspec:\n  metrics:\n    - name: " + name +
      "\n      interval: 1m\n      count: " + std::to_string(count) + "\n" + conditions +
      "      provider: {prometheus: {query: up}}\n";
  auto t = parseAnalysisTemplate(yaml, name);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : AnalysisTemplateSpec{};
}
constexpr const char* kBelow5Percent = "      successCondition: result < 0.05\n";
constexpr const char* kBelow5Above10 =
    "      successCondition: result < 0.05\n      failureCondition: result > 0.1\n";

// The cluster as the controller sees it: applies plans to ReplicaSets, Services and the
// route, persists status, measures running analyses as the controller does, and makes pods
// available when told (at once by default, before the next reconcile).
class World {
 public:
  World(std::string strategy, int replicas, std::string extra = "")
      : strategy_(std::move(strategy)), extra_(std::move(extra)) {
    spec = parsed(rolloutYaml(strategy_, "web:1", replicas, extra_));
  }

  void setImage(const std::string& image) {
    const int32_t replicas = spec.replicas;
    const bool paused = spec.paused;
    spec = parsed(rolloutYaml(strategy_, image, replicas, extra_));
    spec.replicas = replicas;
    spec.paused = paused;
    ++generation;
  }
  std::string hashOf(const std::string& image) const {
    return podTemplateHash(parsed(rolloutYaml(strategy_, image, 1, extra_)));
  }

  RolloutInput input() const {
    RolloutInput in;
    in.spec = spec;
    in.generation = generation;
    in.status = status;
    in.replica_sets = replica_sets;
    in.templates = templates;
    in.now = now;
    return in;
  }

  // Step 2 of the controller's loop: the due metrics of each running run are measured.
  void measure() {
    for (RolloutAnalysisRun& r : status.analysis_runs) {
      if (r.run.phase != AnalysisPhase::kRunning) continue;
      auto t = templates.find(r.template_name);
      if (t == templates.end() || !t->second.ok()) continue;
      for (const std::string& m : dueMetrics(*t->second, r.run, now)) {
        const double v = values.count(r.template_name) ? values[r.template_name](now) : 0.0;
        EXPECT_TRUE(recordMeasurement(*t->second, r.run, m, now, v).ok());
      }
      if (r.run.phase != AnalysisPhase::kRunning && !r.finished_at) r.finished_at = now;
    }
  }

  // One reconcile: measure, plan, apply; pods of grown ReplicaSets become available before
  // the next one when `auto_ready`.
  RolloutPlan reconcile() {
    if (auto_ready) makeReady();
    measure();
    RolloutPlan plan = reconcileRollout(input());
    apply(plan);
    last = plan;
    return plan;
  }

  void apply(const RolloutPlan& plan, bool persist_status = true) {
    for (const ReplicaSetAction& a : plan.replica_sets) {
      auto it = std::find_if(replica_sets.begin(), replica_sets.end(),
                             [&](const auto& r) { return r.name == a.name; });
      switch (a.kind) {
        case ReplicaSetAction::Kind::kCreate:
          ASSERT_EQ(it, replica_sets.end()) << "create of an existing " << a.name;
          replica_sets.push_back(
              {a.name, a.pod_template_hash, a.replicas, a.replicas, 0, 0, true, now});
          break;
        case ReplicaSetAction::Kind::kScale:
          ASSERT_NE(it, replica_sets.end()) << "scale of a missing " << a.name;
          it->spec_replicas = a.replicas;
          it->replicas = std::max(it->replicas, a.replicas);
          // Scaling down removes pods at once, the unavailable ones first.
          if (a.replicas < it->replicas) it->replicas = a.replicas;
          it->available_replicas = std::min(it->available_replicas, a.replicas);
          it->ready_replicas = it->available_replicas;
          break;
        case ReplicaSetAction::Kind::kDelete:
          ASSERT_NE(it, replica_sets.end());
          EXPECT_EQ(it->spec_replicas, 0);
          replica_sets.erase(it);
          break;
      }
    }
    for (const ServiceSelection& s : plan.services) services[s.service] = s.pod_template_hash;
    route = plan.route;
    events.insert(events.end(), plan.events.begin(), plan.events.end());
    if (persist_status) status = plan.status;
  }

  void makeReady() {
    for (auto& r : replica_sets) {
      r.replicas = r.spec_replicas;
      r.ready_replicas = r.available_replicas = r.spec_replicas;
    }
  }

  // Advances to the plan's requeue time (at least 1s, so that time moves); a plan that
  // changed ReplicaSets is looked at again within 5s, as their watch events would trigger.
  void advance() {
    Duration d = last.requeue_after.value_or(seconds(1));
    if (!last.replica_sets.empty()) d = std::min<Duration>(d, seconds(5));
    now += std::max<Duration>(d, seconds(1));
  }

  // Reconciles (advancing time between) until `done` or `max` reconciles.
  bool runUntil(const std::function<bool()>& done, int max = 200) {
    for (int i = 0; i < max; ++i) {
      reconcile();
      if (done()) return true;
      advance();
    }
    return false;
  }

  const ObservedReplicaSet* rs(const std::string& hash) const {
    for (const auto& r : replica_sets) {
      if (r.pod_template_hash == hash) return &r;
    }
    return nullptr;
  }
  int32_t size(const std::string& hash) const {
    const auto* r = rs(hash);
    return r == nullptr ? 0 : r->spec_replicas;
  }
  bool hasEvent(const std::string& reason) const {
    return std::any_of(events.begin(), events.end(),
                       [&](const RolloutEvent& e) { return e.reason == reason; });
  }
  const RolloutCondition* condition(const std::string& type) const {
    for (const auto& c : status.conditions) {
      if (c.type == type) return &c;
    }
    return nullptr;
  }
  RolloutPhase phase() const { return status.phase.value_or(RolloutPhase::kProgressing); }

  RolloutSpec spec;
  int64_t generation = 1;
  RolloutStatus status;
  std::vector<ObservedReplicaSet> replica_sets;
  std::map<std::string, Result<AnalysisTemplateSpec>> templates;
  std::map<std::string, std::function<double(TimePoint)>> values;  // By template name.
  TimePoint now = kT0;
  bool auto_ready = true;
  std::map<std::string, std::string> services;
  std::optional<RouteWeights> route;
  std::vector<RolloutEvent> events;
  RolloutPlan last;

 private:
  std::string strategy_;
  std::string extra_;
};

// Deploys web:1 and waits until it is Healthy.
void deploy(World& w) {
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kHealthy; }));
  ASSERT_EQ(w.status.stable_revision, w.hashOf("web:1"));
}

bool healthyOn(const World& w, const std::string& hash) {
  return w.phase() == RolloutPhase::kHealthy && w.status.stable_revision == hash &&
         w.status.canary_revision == hash;
}

// ---------------------------------------------------------------------------------------
// The first deploy: one ReplicaSet at spec.replicas, stable at once.

TEST(ReconcileRolloutTest, FirstDeployCreatesTheStableRevision) {
  World w("    canary: {steps: [{setWeight: 50}]}\n", 3);
  w.auto_ready = false;
  RolloutPlan plan = w.reconcile();
  const std::string hash = w.hashOf("web:1");
  ASSERT_EQ(plan.replica_sets.size(), 1u);
  EXPECT_EQ(plan.replica_sets[0],
            (ReplicaSetAction{ReplicaSetAction::Kind::kCreate, "web-" + hash, hash, 3}));
  EXPECT_EQ(plan.status.stable_revision, hash);
  EXPECT_EQ(plan.status.canary_revision, hash);
  EXPECT_EQ(plan.status.phase, RolloutPhase::kProgressing);
  EXPECT_EQ(plan.status.strategy, "Canary");
  EXPECT_EQ(plan.status.selector, "app=web");
  w.makeReady();
  plan = w.reconcile();
  EXPECT_EQ(plan.status.phase, RolloutPhase::kHealthy);
  EXPECT_EQ(plan.status.available_replicas, 3);
  EXPECT_EQ(plan.status.revisions.size(), 1u);
  EXPECT_EQ(plan.status.revisions[0].role, RevisionRole::kStable);
}

// ---------------------------------------------------------------------------------------
// Canary without a router: the walk, table-driven over sizes and surge/unavailable limits.

struct WalkCase {
  std::string name;
  int replicas;
  std::string max_surge;
  std::string max_unavailable;
};

class CanaryWalkTest : public testing::TestWithParam<WalkCase> {};

TEST_P(CanaryWalkTest, FollowsTheTimelineWithinTheLimits) {
  const WalkCase& c = GetParam();
  World w("    canary:\n      maxSurge: " + c.max_surge +
              "\n      maxUnavailable: " + c.max_unavailable +
              "\n      steps: [{setWeight: 10}, {setWeight: 30}, {pause: {duration: 1m}}, "
              "{setWeight: 60}]\n",
          c.replicas);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  auto timeline = buildTimeline(w.spec);
  ASSERT_TRUE(timeline.ok());
  const CanaryStrategy& canary = *w.spec.canary();
  const int32_t surge = canary.max_surge.resolve(c.replicas, true);
  int32_t unavailable = canary.max_unavailable.resolve(c.replicas, false);
  if (surge == 0 && unavailable == 0) unavailable = 1;

  w.setImage("web:2");
  w.auto_ready = false;
  std::map<int32_t, std::pair<int32_t, int32_t>> at_completion;  // step -> stable, canary
  for (int i = 0; i < 300 && !healthyOn(w, b); ++i) {
    w.makeReady();
    const int32_t step = w.status.current_step_index;
    const std::pair<int32_t, int32_t> before{w.size(a), w.size(b)};
    w.reconcile();
    // Steps whose split is already there complete in the same reconcile.
    for (int32_t s = step; s < w.status.current_step_index; ++s) at_completion.emplace(s, before);
    // The limits hold at every moment: pods above spec.replicas within maxSurge (or the
    // split's own one surge pod), available pods not below spec.replicas - maxUnavailable.
    const int32_t total = w.size(a) + w.size(b);
    EXPECT_LE(total, c.replicas + std::max(surge, 1)) << "reconcile " << i;
    int32_t available = 0;
    for (const auto& r : w.replica_sets) available += r.available_replicas;
    EXPECT_GE(available, c.replicas - unavailable) << "reconcile " << i;
    w.advance();
  }
  ASSERT_TRUE(healthyOn(w, b)) << w.status.message;
  // Each setWeight step completed on the timeline's split (and canarySplit's).
  for (const TimelineRow& row : timeline->rows) {
    if (row.kind != RowKind::kSetWeight) continue;
    ASSERT_TRUE(at_completion.count(*row.step)) << "step " << *row.step;
    const auto [stable, fresh] = at_completion.at(*row.step);
    EXPECT_EQ(stable, row.stable_replicas) << "step " << *row.step;
    EXPECT_EQ(fresh, row.new_replicas) << "step " << *row.step;
    const ReplicaSplit split = canarySplit(canary, c.replicas, row.weight);
    EXPECT_EQ(stable, split.stable);
    EXPECT_EQ(fresh, split.canary);
  }
  // The promotion row: all pods on the new revision.
  EXPECT_EQ(timeline->rows.back().kind, RowKind::kPromote);
  w.makeReady();
  w.reconcile();
  EXPECT_EQ(w.size(b), timeline->rows.back().new_replicas);
  EXPECT_EQ(w.size(a), timeline->rows.back().stable_replicas);
  EXPECT_TRUE(w.hasEvent("RolloutCompleted"));
  EXPECT_EQ(w.status.canary_weight, 0);
  EXPECT_EQ(w.status.updated_replicas, c.replicas);
  ASSERT_EQ(w.status.revisions.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, CanaryWalkTest,
    testing::Values(WalkCase{"Ten_Surge25Percent", 10, "\"25%\"", "0"},
                    WalkCase{"Ten_Surge1_Unavailable1", 10, "1", "1"},
                    WalkCase{"Four_NoSurge_Unavailable1", 4, "0", "1"},
                    WalkCase{"One_Surge1", 1, "1", "0"},
                    WalkCase{"Seven_Surge0Percent_Unavailable10Percent", 7, "\"0%\"", "\"10%\""}),
    [](const testing::TestParamInfo<WalkCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------
// Canary with a Gateway API route.

constexpr const char* kRouted =
    "    canary:\n      stableService: web-stable\n      canaryService: web-canary\n"
    "      trafficRouting: {gatewayAPI: {httpRoute: web-route}}\n"
    "      steps: [{setCanaryScale: {replicas: 1}}, {setWeight: 20}, "
    "{setCanaryScale: {matchTrafficWeight: true}}, {pause: {duration: 1m}}, {setWeight: 50}]\n";

TEST(ReconcileRolloutTest, RoutedCanaryMovesTrafficOnlyOntoAvailablePods) {
  World w(kRouted, 10);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  ASSERT_TRUE(w.route.has_value());
  EXPECT_EQ(w.route->namespace_, "shop");
  EXPECT_EQ(w.route->canary_weight, 0);
  EXPECT_EQ(w.services["web-canary"], a);  // No update: both Services on stable.
  auto timeline = buildTimeline(w.spec);
  ASSERT_TRUE(timeline.ok());

  w.setImage("web:2");
  w.auto_ready = false;
  std::map<int32_t, std::pair<int32_t, int32_t>> at_completion;
  std::vector<int32_t> route_weights;
  for (int i = 0; i < 100 && !healthyOn(w, b); ++i) {
    const int32_t step = w.status.current_step_index;
    const std::pair<int32_t, int32_t> before{w.size(a), w.size(b)};
    const ObservedReplicaSet* canary = w.rs(b);
    const int32_t canary_available = canary ? canary->available_replicas : 0;
    w.reconcile();
    ASSERT_TRUE(w.route.has_value());
    // Traffic on the canary only with pods for it available when the plan was made.
    if (w.route->canary_weight > 0) {
      EXPECT_GE(canary_available, 1) << "reconcile " << i;
    }
    if (w.status.canary_revision != w.status.stable_revision) {
      EXPECT_EQ(w.services["web-stable"], a);
      EXPECT_EQ(w.services["web-canary"], b);
    }
    if (route_weights.empty() || route_weights.back() != w.route->canary_weight) {
      route_weights.push_back(w.route->canary_weight);
    }
    for (int32_t s = step; s < w.status.current_step_index; ++s) at_completion.emplace(s, before);
    w.makeReady();
    w.advance();
  }
  ASSERT_TRUE(healthyOn(w, b)) << w.status.message;
  for (const TimelineRow& row : timeline->rows) {
    if (!row.step) continue;
    ASSERT_TRUE(at_completion.count(*row.step));
    EXPECT_EQ(at_completion.at(*row.step).first, row.stable_replicas) << *row.step;
    EXPECT_EQ(at_completion.at(*row.step).second, row.new_replicas) << *row.step;
  }
  // 0 -> 20 -> 50 -> 100 (promotion, after the canary is at the stable's size) -> 0 (both
  // Services on the new revision).
  EXPECT_EQ(route_weights, (std::vector<int32_t>{0, 20, 50, 100, 0}));
  EXPECT_EQ(w.services["web-stable"], b);
  EXPECT_EQ(w.services["web-canary"], b);
  w.makeReady();
  w.reconcile();
  EXPECT_EQ(w.size(a), 0);
  EXPECT_EQ(w.size(b), 10);
}

// The promotion rows of a routed canary: the canary reaches the stable's current size before
// the route moves to 100%, and the stable keeps its pods until then.
TEST(ReconcileRolloutTest, RoutedPromotionScalesTheCanaryToTheStablesSizeFirst) {
  World w(kRouted, 10);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.status.current_step_index == 5; }));
  w.auto_ready = false;
  w.reconcile();  // Promotion: scale the canary to 10.
  EXPECT_EQ(w.size(b), 10);
  EXPECT_EQ(w.size(a), 10);
  EXPECT_EQ(w.route->canary_weight, 50);
  EXPECT_EQ(w.status.phase, RolloutPhase::kProgressing);
  w.makeReady();
  w.reconcile();
  EXPECT_EQ(w.route->canary_weight, 100);
  EXPECT_EQ(w.status.stable_revision, a);  // Switched on the next reconcile.
  EXPECT_EQ(w.last.requeue_after, Duration(0));
  w.reconcile();
  EXPECT_EQ(w.status.stable_revision, b);
  EXPECT_EQ(w.services["web-stable"], b);
  EXPECT_EQ(w.size(a), 0);
}

// ---------------------------------------------------------------------------------------
// Pauses.

TEST(ReconcileRolloutTest, TimedPauseRequeuesForTheRemainder) {
  World w("    canary: {steps: [{setWeight: 50}, {pause: {duration: 10m}}, {setWeight: 80}]}\n", 4);
  deploy(w);
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.status.current_step_index == 1; }));
  const TimePoint started = *w.status.current_step_started_at;
  EXPECT_EQ(started, w.now);
  EXPECT_EQ(w.last.requeue_after, minutes(10));
  w.now += minutes(4);
  w.reconcile();
  EXPECT_EQ(w.status.current_step_index, 1);
  EXPECT_EQ(w.last.requeue_after, minutes(6));
  EXPECT_EQ(w.phase(), RolloutPhase::kProgressing);
  w.now += minutes(6);
  w.reconcile();
  EXPECT_EQ(w.status.current_step_index, 2);
  EXPECT_TRUE(w.hasEvent("RolloutStepCompleted"));
}

TEST(ReconcileRolloutTest, IndefinitePauseWaitsForPromote) {
  World w("    canary: {steps: [{setWeight: 50}, {pause: {}}, {setWeight: 80}]}\n", 4);
  deploy(w);
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.status.current_step_index, 1);
  ASSERT_TRUE(w.status.paused_at.has_value());
  const TimePoint paused_at = *w.status.paused_at;
  ASSERT_NE(w.condition("Paused"), nullptr);
  EXPECT_EQ(w.condition("Paused")->reason, "PauseStep");
  EXPECT_TRUE(w.hasEvent("RolloutPaused"));
  // Time passes; nothing moves, nothing is written.
  const RolloutStatus before = w.status;
  w.now += minutes(30);
  RolloutPlan again = w.reconcile();
  EXPECT_EQ(again.status, before);
  EXPECT_TRUE(again.events.empty());
  EXPECT_EQ(*w.status.paused_at, paused_at);

  w.status.promote = PromoteRequest::kStep;
  w.reconcile();
  EXPECT_EQ(w.status.current_step_index, 2);
  EXPECT_FALSE(w.status.promote.has_value());
  EXPECT_FALSE(w.status.paused_at.has_value());
  EXPECT_EQ(w.condition("Paused")->status, "False");
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, w.hashOf("web:2")); }));
}

TEST(ReconcileRolloutTest, PromoteStepSkipsATimedPause) {
  World w("    canary: {steps: [{pause: {duration: 1h}}, {setWeight: 50}]}\n", 2);
  deploy(w);
  w.setImage("web:2");
  w.reconcile();
  EXPECT_EQ(w.last.requeue_after, std::chrono::hours(1));
  w.status.promote = PromoteRequest::kStep;
  w.reconcile();
  EXPECT_EQ(w.status.current_step_index, 1);
  EXPECT_FALSE(w.status.promote.has_value());
}

TEST(ReconcileRolloutTest, PromoteFullSkipsTheRemainingStepsAndAnalyses) {
  World w(
      "    canary: {steps: [{setWeight: 20}, {pause: {}}, {analysis: {templates: "
      "[{templateName: ok}]}}, {setWeight: 60}]}\n",
      5);
  w.templates.emplace("ok", analysisTemplate("ok", kBelow5Percent, 3));
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  w.status.promote = PromoteRequest::kFull;
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
  EXPECT_TRUE(w.status.analysis_runs.empty());  // The analysis step never started.
  EXPECT_EQ(w.size(b), 5);
  EXPECT_EQ(w.size(w.hashOf("web:1")), 0);
}

// spec.paused holds the update; scaling and analyses go on.
TEST(ReconcileRolloutTest, SpecPausedHoldsTheStep) {
  World w("    canary: {steps: [{setWeight: 50}, {pause: {duration: 1m}}, {setWeight: 80}]}\n", 4);
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  w.spec.paused = true;
  for (int i = 0; i < 20; ++i) {
    w.reconcile();
    w.now += minutes(1);
  }
  EXPECT_EQ(w.status.current_step_index, 0);
  EXPECT_EQ(w.phase(), RolloutPhase::kPaused);
  EXPECT_NE(w.status.message.find("paused by spec.paused"), std::string::npos) << w.status.message;
  EXPECT_EQ(w.size(b), 2);  // Step 0's split is kept.
  EXPECT_EQ(w.condition("Paused")->reason, "PausedBySpec");
  w.spec.paused = false;
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
}

// ---------------------------------------------------------------------------------------
// Analysis as a step: pass, fail, inconclusive.

struct AnalysisCase {
  std::string name;
  double value;
  RolloutPhase stops_at;  // Where the walk stops.
};

class AnalysisStepTest : public testing::TestWithParam<AnalysisCase> {};

TEST_P(AnalysisStepTest, GatesTheStep) {
  const AnalysisCase& c = GetParam();
  World w(
      "    canary: {steps: [{setWeight: 25}, {analysis: {templates: [{templateName: "
      "error-rate}]}}, {setWeight: 75}]}\n",
      4);
  w.templates.emplace("error-rate", analysisTemplate("error-rate", kBelow5Above10, 2));
  w.values["error-rate"] = [&](TimePoint) { return c.value; };
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] {
    return w.phase() == c.stops_at && (c.stops_at != RolloutPhase::kHealthy || healthyOn(w, b));
  })) << w.status.message;
  ASSERT_FALSE(w.status.analysis_runs.empty());
  const RolloutAnalysisRun& run = w.status.analysis_runs.front();
  EXPECT_EQ(run.name, "step-1-error-rate");
  EXPECT_EQ(run.kind, AnalysisKind::kStep);
  EXPECT_EQ(run.step_index, 1);
  EXPECT_EQ(run.revision, b);
  EXPECT_TRUE(run.finished_at.has_value());
  EXPECT_EQ(analysisRefOf(w.spec, run),
            &std::get<AnalysisStep>(w.spec.canary()->steps[1]).analysis);

  if (c.stops_at == RolloutPhase::kAborted) {
    EXPECT_TRUE(w.status.abort);
    EXPECT_EQ(w.status.message.rfind("aborted at step 1: metric error-rate: measurement 1 = 0.2 "
                                     "met failureCondition `result > 0.1`",
                                     0),
              0u)
        << w.status.message;
    EXPECT_TRUE(w.hasEvent("AnalysisFailed"));
    EXPECT_TRUE(w.hasEvent("RolloutAborted"));
    ASSERT_TRUE(w.runUntil([&] { return w.size(b) == 0; }));
    EXPECT_EQ(w.size(a), 4);
    EXPECT_EQ(w.phase(), RolloutPhase::kAborted);
    EXPECT_EQ(w.condition("Progressing")->reason, "RolloutAborted");
    // Aborted stays Aborted: no more events, nothing moves.
    w.makeReady();
    w.reconcile();
    RolloutPlan again = w.reconcile();
    EXPECT_TRUE(again.replica_sets.empty());
    EXPECT_TRUE(again.events.empty());
    EXPECT_EQ(again.status, w.status);
  } else if (c.stops_at == RolloutPhase::kPaused) {
    EXPECT_EQ(w.status.current_step_index, 1);
    EXPECT_EQ(w.condition("Paused")->reason, "InconclusiveAnalysis");
    EXPECT_NE(w.status.message.find("inconclusive"), std::string::npos);
    // A person accepts it: the step counts as passed.
    w.status.promote = PromoteRequest::kStep;
    ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
  } else {
    EXPECT_EQ(run.run.phase, AnalysisPhase::kSuccessful);
  }
}

INSTANTIATE_TEST_SUITE_P(Verdicts, AnalysisStepTest,
                         testing::Values(AnalysisCase{"Pass", 0.01, RolloutPhase::kHealthy},
                                         AnalysisCase{"Fail", 0.2, RolloutPhase::kAborted},
                                         AnalysisCase{"Inconclusive", 0.07, RolloutPhase::kPaused}),
                         [](const testing::TestParamInfo<AnalysisCase>& info) {
                           return info.param.name;
                         });

TEST(ReconcileRolloutTest, AnalysisRequeuesAtTheNextMeasurement) {
  World w("    canary: {steps: [{analysis: {templates: [{templateName: ok}]}}]}\n", 2);
  w.templates.emplace("ok", analysisTemplate("ok", kBelow5Percent, 3));
  deploy(w);
  w.setImage("web:2");
  w.reconcile();  // Starts the run: the first measurement is due at once.
  EXPECT_EQ(w.last.requeue_after, Duration(0));
  w.reconcile();  // Measured once; the next in a minute.
  EXPECT_EQ(w.last.requeue_after, minutes(1));
  EXPECT_EQ(w.phase(), RolloutPhase::kProgressing);
}

// Background analysis from startingStep: a failure at a later step aborts.
TEST(ReconcileRolloutTest, BackgroundAnalysisFailureAbortsMidway) {
  World w(
      "    canary:\n      analysis: {templates: [{templateName: errors}], startingStep: 1}\n"
      "      steps: [{setWeight: 20}, {pause: {duration: 5m}}, {setWeight: 50}, "
      "{pause: {duration: 5m}}]\n",
      10);
  w.templates.emplace("errors", analysisTemplate("errors", kBelow5Percent, 0));
  TimePoint bad_from = TimePoint::max();
  w.values["errors"] = [&](TimePoint t) { return t >= bad_from ? 0.3 : 0.01; };
  deploy(w);
  bad_from = w.now + minutes(8);  // During the second pause.
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  w.reconcile();
  EXPECT_TRUE(w.status.analysis_runs.empty());  // Step 0 < startingStep.
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kAborted; }));
  EXPECT_GE(w.status.current_step_index, 2) << testing::PrintToString(w.status);
  ASSERT_EQ(w.status.analysis_runs.size(), 1u);
  EXPECT_EQ(w.status.analysis_runs[0].name, "background-errors");
  EXPECT_EQ(w.status.analysis_runs[0].step_index, 1);
  EXPECT_NE(w.status.message.find("(background analysis): metric errors"), std::string::npos)
      << w.status.message;
  ASSERT_TRUE(w.runUntil([&] { return w.size(b) == 0; }));
}

TEST(ReconcileRolloutTest, BackgroundAnalysisStopsAtPromotion) {
  World w(
      "    canary:\n      analysis: {templates: [{templateName: errors}]}\n"
      "      steps: [{setWeight: 20}, {pause: {duration: 5m}}]\n",
      10);
  w.templates.emplace("errors", analysisTemplate("errors", kBelow5Percent, 0));
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
  ASSERT_EQ(w.status.analysis_runs.size(), 1u);
  EXPECT_EQ(w.status.analysis_runs[0].run.phase, AnalysisPhase::kSuccessful);
  EXPECT_NE(w.status.analysis_runs[0].run.message.find("stopped"), std::string::npos);
}

// ---------------------------------------------------------------------------------------
// Abort and retry.

TEST(ReconcileRolloutTest, AbortByAPersonThenRetryRestartsAtStepZero) {
  World w(
      "    canary:\n      maxSurge: 1\n      steps: [{setWeight: 40}, {analysis: {templates: "
      "[{templateName: ok}]}}, {pause: {}}]\n",
      5);
  w.templates.emplace("ok", analysisTemplate("ok", kBelow5Percent, 1));
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.status.current_step_index, 2);
  ASSERT_EQ(w.status.analysis_runs.size(), 1u);

  w.status.abort = true;
  w.status.promote = PromoteRequest::kStep;  // Ignored: an aborted update is not promoted.
  RolloutPlan plan = w.reconcile();
  EXPECT_EQ(plan.status.phase, RolloutPhase::kAborted);
  EXPECT_FALSE(plan.status.promote.has_value());
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].reason, "RolloutAborted");
  EXPECT_EQ(plan.status.message.rfind("aborted by a person at step 2", 0), 0u)
      << plan.status.message;
  ASSERT_TRUE(w.runUntil([&] { return w.size(b) == 0 && w.size(a) == 5; }));
  EXPECT_EQ(w.phase(), RolloutPhase::kAborted);

  w.status.abort = false;  // `governor rollout retry`.
  w.reconcile();
  EXPECT_TRUE(w.hasEvent("RolloutRetried"));
  EXPECT_EQ(w.status.current_step_index, 0);
  EXPECT_TRUE(w.status.analysis_runs.empty());
  EXPECT_EQ(w.phase(), RolloutPhase::kProgressing);
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  ASSERT_EQ(w.status.analysis_runs.size(), 1u);  // A fresh run.
  EXPECT_GT(w.status.analysis_runs[0].run.started_at, kT0);
  w.status.promote = PromoteRequest::kStep;
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
}

// ---------------------------------------------------------------------------------------
// Scaling, new templates, rollback.

TEST(ReconcileRolloutTest, ScalingMidCanaryKeepsTheWeight) {
  World w(
      "    canary: {maxSurge: 0, maxUnavailable: 1, steps: [{setWeight: 30}, {pause: {}}, "
      "{setWeight: 60}]}\n",
      10);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.size(a), 7);
  EXPECT_EQ(w.size(b), 3);
  EXPECT_EQ(w.status.canary_weight, 30);

  w.spec.replicas = 20;  // A ScalingPolicy through /scale.
  for (int i = 0; i < 10; ++i) {
    w.reconcile();
    w.advance();
  }
  EXPECT_EQ(w.status.current_step_index, 1);  // The step did not move.
  const ReplicaSplit split = splitReplicas(20, 30, 0);
  EXPECT_EQ(w.size(a), split.stable);
  EXPECT_EQ(w.size(b), split.canary);
  EXPECT_EQ(w.status.canary_weight, 30);

  w.spec.replicas = 4;
  for (int i = 0; i < 10; ++i) {
    w.reconcile();
    w.advance();
  }
  EXPECT_EQ(w.size(a) + w.size(b), 4);
  EXPECT_EQ(w.size(b), splitReplicas(4, 30, 0).canary);
  EXPECT_EQ(w.status.current_step_index, 1);
}

TEST(ReconcileRolloutTest, NewTemplateMidUpdateRestartsFromStepZero) {
  World w("    canary: {steps: [{setWeight: 50}, {pause: {}}]}\n", 4);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  const std::string c = w.hashOf("web:3");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  w.setImage("web:3");
  w.reconcile();
  EXPECT_EQ(w.status.canary_revision, c);
  EXPECT_EQ(w.status.stable_revision, a);
  EXPECT_EQ(w.status.current_step_index, 0);
  EXPECT_FALSE(w.status.paused_at.has_value());
  EXPECT_TRUE(w.hasEvent("RolloutUpdated"));
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.size(b), 0);
  EXPECT_EQ(w.size(c), 2);
  EXPECT_EQ(w.size(a), 2);
  for (const RevisionStatus& r : w.status.revisions) {
    EXPECT_NE(r.pod_template_hash, b) << "the abandoned revision has no pods";
  }
}

TEST(ReconcileRolloutTest, StableTemplateRollsBackAtOnce) {
  World w(
      "    canary:\n      stableService: web-stable\n      canaryService: web-canary\n"
      "      steps: [{setWeight: 50}, {pause: {}}]\n",
      4);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.services["web-canary"], b);
  w.setImage("web:1");
  w.reconcile();
  EXPECT_TRUE(w.hasEvent("RolloutRolledBack"));
  EXPECT_EQ(w.status.canary_revision, a);
  EXPECT_EQ(w.services["web-canary"], a);
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, a) && w.size(b) == 0; }));
  EXPECT_EQ(w.size(a), 4);
}

// ---------------------------------------------------------------------------------------
// What cannot be acted on.

TEST(ReconcileRolloutTest, MissingTemplateIsDegradedAndNothingMoves) {
  World w(
      "    canary: {steps: [{setWeight: 50}, {analysis: {templates: [{templateName: "
      "gone}]}}]}\n",
      4);
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.templates.emplace(
      "gone", Result<AnalysisTemplateSpec>(notFound("analysistemplates \"gone\" not found")));
  w.setImage("web:2");
  RolloutPlan plan = w.reconcile();
  EXPECT_EQ(plan.status.phase, RolloutPhase::kDegraded);
  EXPECT_TRUE(plan.replica_sets.empty());  // The canary is not even created.
  const RolloutCondition* invalid = w.condition("InvalidSpec");
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->status, "True");
  EXPECT_EQ(invalid->reason, "AnalysisTemplateNotFound");
  EXPECT_NE(invalid->message.find("AnalysisTemplate gone: analysistemplates \"gone\" not found"),
            std::string::npos)
      << invalid->message;
  EXPECT_TRUE(w.hasEvent("InvalidSpec"));
  RolloutPlan again = w.reconcile();
  EXPECT_TRUE(again.events.empty());

  w.templates.erase("gone");
  w.reconcile();
  EXPECT_EQ(w.phase(), RolloutPhase::kDegraded);  // Absent is missing too.
  w.templates.emplace("gone", analysisTemplate("gone", kBelow5Percent, 1));
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
  EXPECT_EQ(w.condition("InvalidSpec"), nullptr);
}

TEST(ReconcileRolloutTest, ProgressDeadlineDegradesButKeepsTrying) {
  World w("    canary: {steps: [{setWeight: 50}]}\n", 4, "  progressDeadlineSeconds: 60\n");
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  w.auto_ready = false;
  w.reconcile();
  EXPECT_EQ(w.status.progressing_since, w.now);
  EXPECT_EQ(w.last.requeue_after, seconds(60));
  w.now += seconds(59);
  w.reconcile();
  EXPECT_EQ(w.phase(), RolloutPhase::kProgressing);
  w.now += seconds(1);
  RolloutPlan plan = w.reconcile();
  EXPECT_EQ(plan.status.phase, RolloutPhase::kDegraded);
  EXPECT_EQ(w.condition("Progressing")->status, "False");
  EXPECT_EQ(w.condition("Progressing")->reason, "ProgressDeadlineExceeded");
  ASSERT_EQ(plan.events.size(), 1u);
  EXPECT_EQ(plan.events[0].reason, "ProgressDeadlineExceeded");
  EXPECT_TRUE(w.reconcile().events.empty());  // Reported once.
  EXPECT_FALSE(w.status.abort);
  w.auto_ready = true;
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, b); }));
  EXPECT_EQ(w.condition("Progressing")->status, "True");
}

// ---------------------------------------------------------------------------------------
// Blue-green.

constexpr const char* kBlueGreen =
    "    blueGreen:\n      activeService: api-active\n      previewService: api-preview\n"
    "      previewReplicaCount: 2\n      autoPromotionSeconds: 60\n"
    "      scaleDownDelaySeconds: 30\n"
    "      prePromotionAnalysis: {templates: [{templateName: smoke}]}\n"
    "      postPromotionAnalysis: {templates: [{templateName: errors}]}\n";

World blueGreenWorld(double post_value) {
  World w(kBlueGreen, 6);
  w.templates.emplace("smoke", analysisTemplate("smoke", kBelow5Percent, 1));
  w.templates.emplace("errors", analysisTemplate("errors", kBelow5Percent, 2));
  w.values["smoke"] = [](TimePoint) { return 0.0; };
  w.values["errors"] = [post_value](TimePoint) { return post_value; };
  return w;
}

TEST(ReconcileRolloutTest, BlueGreenPreviewPromotionAndScaleDownDelay) {
  World w = blueGreenWorld(0.01);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  EXPECT_EQ(w.services["api-active"], a);
  EXPECT_EQ(w.services["api-preview"], a);
  EXPECT_EQ(w.status.strategy, "BlueGreen");
  auto timeline = buildTimeline(w.spec);
  ASSERT_TRUE(timeline.ok());
  auto row = [&](RowKind kind) {
    return *std::find_if(timeline->rows.begin(), timeline->rows.end(),
                         [&](const TimelineRow& r) { return r.kind == kind; });
  };

  w.setImage("web:2");
  w.auto_ready = false;
  w.reconcile();
  EXPECT_EQ(w.size(b), row(RowKind::kPreview).new_replicas);
  EXPECT_EQ(w.size(a), row(RowKind::kPreview).stable_replicas);
  EXPECT_EQ(w.services["api-preview"], b);
  EXPECT_EQ(w.services["api-active"], a);
  EXPECT_FALSE(w.status.preview_ready_at.has_value());
  w.auto_ready = true;
  ASSERT_TRUE(w.runUntil([&] { return w.status.preview_ready_at.has_value(); }));
  ASSERT_TRUE(w.runUntil(
      [&] { return !w.status.analysis_runs.empty() && w.status.analysis_runs[0].finished_at; }));
  EXPECT_EQ(w.status.analysis_runs[0].name, "prepromotion-smoke");
  // Auto-promotion 60s after the pre-promotion analysis ended.
  const TimePoint analysis_end = *w.status.analysis_runs[0].finished_at;
  EXPECT_EQ(w.last.requeue_after, analysis_end + seconds(60) - w.now);
  EXPECT_EQ(w.services["api-active"], a);
  w.now = analysis_end + seconds(60);
  w.auto_ready = false;
  w.reconcile();  // Full scale first.
  EXPECT_EQ(w.size(b), row(RowKind::kFullScale).new_replicas);
  EXPECT_EQ(w.services["api-active"], a);
  w.makeReady();
  w.reconcile();  // Switch.
  EXPECT_EQ(w.services["api-active"], b);
  EXPECT_EQ(w.status.stable_revision, b);
  EXPECT_EQ(w.status.previous_active, a);
  EXPECT_EQ(w.status.promoted_at, w.now);
  EXPECT_EQ(w.size(a), row(RowKind::kPromote).stable_replicas);
  w.auto_ready = true;
  ASSERT_TRUE(w.runUntil([&] { return w.status.scale_down_at.has_value(); }));
  EXPECT_EQ(*w.status.scale_down_at, w.now + seconds(30));
  EXPECT_EQ(w.last.requeue_after, seconds(30));
  EXPECT_EQ(w.size(a), 6);  // Kept for the delay.
  EXPECT_EQ(w.phase(), RolloutPhase::kHealthy);
  EXPECT_TRUE(w.hasEvent("RolloutCompleted"));
  w.now += seconds(30);
  w.reconcile();
  EXPECT_EQ(w.size(a), row(RowKind::kScaleDownOld).stable_replicas);
  EXPECT_EQ(w.size(b), row(RowKind::kScaleDownOld).new_replicas);
  EXPECT_TRUE(w.status.previous_active.empty());
  EXPECT_TRUE(w.hasEvent("ScaledDownOldRevision"));
  EXPECT_TRUE(healthyOn(w, b));
}

TEST(ReconcileRolloutTest, BlueGreenSwitchesBackWhenPostPromotionAnalysisFails) {
  World w = blueGreenWorld(0.5);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.status.stable_revision == b; }));
  EXPECT_EQ(w.services["api-active"], b);
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kAborted; }));
  EXPECT_EQ(w.services["api-active"], a);
  EXPECT_EQ(w.services["api-preview"], a);
  EXPECT_EQ(w.status.stable_revision, a);
  EXPECT_EQ(w.status.active_selector, a);
  EXPECT_EQ(w.size(a), 6);  // Still at full size: the scale-down waited.
  EXPECT_EQ(w.size(b), 0);
  EXPECT_EQ(w.status.message.rfind("switched back at postPromotionAnalysis: metric errors", 0), 0u)
      << w.status.message;
  EXPECT_TRUE(w.hasEvent("AnalysisFailed"));
}

TEST(ReconcileRolloutTest, BlueGreenManualPromotion) {
  World w("    blueGreen: {activeService: api, autoPromotionEnabled: false}\n", 3);
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.condition("Paused")->reason, "AwaitingPromotion");
  EXPECT_EQ(w.size(b), 3);
  w.status.promote = PromoteRequest::kStep;
  ASSERT_TRUE(w.runUntil([&] { return w.status.stable_revision == b; }));
  EXPECT_EQ(w.services["api"], b);
}

// A person's promote must survive the passes that bring a smaller preview to full size: it is
// consumed at the switch, not before (found by the end-to-end test: the Rollout went back to
// Paused after `governor rollout promote`).
TEST(ReconcileRolloutTest, BlueGreenManualPromotionOutlivesTheFullScale) {
  World w(
      "    blueGreen: {activeService: api, autoPromotionEnabled: false, previewReplicaCount: 1}\n",
      4);
  deploy(w);
  const std::string a = w.hashOf("web:1");
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return w.phase() == RolloutPhase::kPaused; }));
  EXPECT_EQ(w.size(b), 1);
  w.status.promote = PromoteRequest::kStep;
  w.auto_ready = false;
  w.reconcile();  // Full scale asked; the pods are not there yet.
  EXPECT_EQ(w.size(b), 4);
  EXPECT_EQ(w.services["api"], a);
  w.advance();
  w.reconcile();  // Still waiting for them: the request is kept.
  EXPECT_EQ(w.status.promote, PromoteRequest::kStep);
  EXPECT_NE(w.phase(), RolloutPhase::kPaused);
  w.makeReady();
  w.auto_ready = true;
  ASSERT_TRUE(w.runUntil([&] { return w.status.stable_revision == b; }));
  EXPECT_EQ(w.services["api"], b);
  EXPECT_FALSE(w.status.promote.has_value());
  ASSERT_TRUE(w.runUntil([&] { return w.hasEvent("RolloutCompleted"); }));
}

// ---------------------------------------------------------------------------------------
// Restarts, idempotence, history.

// A crash after the ReplicaSets were changed but before the status was written: the next
// reconcile, from the old status, goes on from where the world is and creates nothing twice.
TEST(ReconcileRolloutTest, CrashBeforeTheStatusWriteConverges) {
  World w(
      "    canary: {maxSurge: 1, steps: [{setWeight: 20}, {pause: {duration: 1m}}, "
      "{setWeight: 60}]}\n",
      5);
  deploy(w);
  const std::string b = w.hashOf("web:2");
  w.setImage("web:2");
  for (int i = 0; i < 60 && !healthyOn(w, b); ++i) {
    w.makeReady();
    w.measure();
    const RolloutInput input = w.input();
    const RolloutPlan first = reconcileRollout(input);
    EXPECT_EQ(reconcileRollout(input), first);  // Another operator: the same plan.
    w.apply(first, /*persist_status=*/false);   // ... and it crashed before the write.
    // From the old status in the changed world: never behind the lost status, and nothing
    // created twice (World::apply fails a create of an existing ReplicaSet).
    const RolloutPlan second = reconcileRollout(w.input());
    EXPECT_GE(second.status.current_step_index, first.status.current_step_index) << i;
    if (first.status.stable_revision == b) {
      EXPECT_EQ(second.status.stable_revision, b) << i;
    }
    w.apply(second);
    w.last = second;
    w.advance();
  }
  EXPECT_TRUE(healthyOn(w, b));
}

TEST(ReconcileRolloutTest, ConvergedWorldGetsAnEmptyPlan) {
  World w(kRouted, 4);
  deploy(w);
  w.setImage("web:2");
  ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, w.hashOf("web:2")); }));
  w.reconcile();
  w.reconcile();  // Old revision's pods gone.
  const RolloutPlan plan = reconcileRollout(w.input());
  EXPECT_TRUE(plan.replica_sets.empty());
  EXPECT_TRUE(plan.events.empty());
  EXPECT_EQ(plan.status, w.status);
  EXPECT_FALSE(plan.requeue_after.has_value());
  ASSERT_TRUE(plan.route.has_value());
  EXPECT_EQ(plan.route->canary_weight, 0);
}

TEST(ReconcileRolloutTest, OldRevisionsBeyondTheHistoryLimitAreDeletedOldestFirst) {
  World w("    canary: {}\n", 2, "  revisionHistoryLimit: 1\n");
  deploy(w);
  std::vector<std::string> hashes{w.hashOf("web:1")};
  for (const char* image : {"web:2", "web:3", "web:4"}) {
    w.now += minutes(1);
    w.setImage(image);
    hashes.push_back(w.hashOf(image));
    ASSERT_TRUE(w.runUntil([&] { return healthyOn(w, hashes.back()); }));
    w.reconcile();
  }
  w.reconcile();
  EXPECT_EQ(w.rs(hashes[0]), nullptr);
  EXPECT_EQ(w.rs(hashes[1]), nullptr);
  ASSERT_NE(w.rs(hashes[2]), nullptr);  // The one kept.
  EXPECT_EQ(w.size(hashes[2]), 0);
  EXPECT_EQ(w.size(hashes[3]), 2);
}

TEST(ReconcileRolloutTest, AnalysisRunsAreBounded) {
  World w("    canary: {steps: [{setWeight: 50}]}\n", 2);
  deploy(w);
  w.setImage("web:2");
  w.reconcile();
  RolloutInput input = w.input();
  for (int i = 0; i < 20; ++i) {
    RolloutAnalysisRun r;
    r.name = "step-9-t" + std::to_string(i);
    r.revision = w.status.canary_revision;
    r.run.phase = AnalysisPhase::kSuccessful;
    r.finished_at = kT0 + seconds(i);
    input.status.analysis_runs.push_back(r);
  }
  const RolloutPlan plan = reconcileRollout(input);
  ASSERT_EQ(plan.status.analysis_runs.size(), 16u);
  EXPECT_EQ(plan.status.analysis_runs.front().name, "step-9-t4");  // The oldest went.
}

// ---------------------------------------------------------------------------------------
// Names in status.

TEST(RolloutStatusNamesTest, RoundTrip) {
  for (RolloutPhase p : {RolloutPhase::kProgressing, RolloutPhase::kPaused, RolloutPhase::kHealthy,
                         RolloutPhase::kDegraded, RolloutPhase::kAborted}) {
    EXPECT_EQ(parseRolloutPhase(rolloutPhaseName(p)), p);
  }
  for (RevisionRole r : {RevisionRole::kStable, RevisionRole::kCanary, RevisionRole::kActive,
                         RevisionRole::kPreview, RevisionRole::kOld}) {
    EXPECT_EQ(parseRevisionRole(revisionRoleName(r)), r);
  }
  for (AnalysisKind k : {AnalysisKind::kStep, AnalysisKind::kBackground,
                         AnalysisKind::kPrePromotion, AnalysisKind::kPostPromotion}) {
    EXPECT_EQ(parseAnalysisKind(analysisKindName(k)), k);
  }
  for (PromoteRequest p : {PromoteRequest::kStep, PromoteRequest::kFull}) {
    EXPECT_EQ(parsePromoteRequest(promoteRequestName(p)), p);
  }
  EXPECT_EQ(rolloutPhaseName(RolloutPhase::kAborted), "Aborted");
  EXPECT_EQ(analysisKindName(AnalysisKind::kPrePromotion), "PrePromotion");
  EXPECT_FALSE(parseRolloutPhase("healthy").has_value());
  EXPECT_FALSE(parsePromoteRequest("").has_value());
}

}  // namespace
}  // namespace governor::rollouts
