#include "controller/rollout_controller.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controller/kube_rollout_cluster.h"
#include "rollouts/analysis_spec.h"
#include "rollouts/template_hash.h"

namespace governor::controller {
namespace {

using nlohmann::json;
using rollouts::RolloutPhase;
using std::chrono::seconds;

// Tuesday 14 November 2023, 22:13:20 UTC.
const TimePoint kT0 = fromUnixSeconds(1'700'000'000);
const ObjectKey kKey{"shop", "web"};

// A canary with a Gateway API route: setWeight 25, an analysis step, setWeight 50.
std::string rolloutYaml(const std::string& image, const std::string& first_step = "setWeight: 25") {
  return "apiVersion: governor.io/v1alpha1\nkind: Rollout\n"
         "metadata: {name: web, namespace: shop}\n"
         "spec:\n"
         "  replicas: 4\n"
         "  selector: {matchLabels: {app: web}}\n"
         "  template:\n"
         "    metadata: {labels: {app: web}}\n"
         "    spec: {containers: [{name: web, image: \"" +
         image +
         "\"}]}\n"
         "  strategy:\n"
         "    canary:\n"
         "      stableService: web-stable\n"
         "      canaryService: web-canary\n"
         "      trafficRouting: {gatewayAPI: {httpRoute: web}}\n"
         "      steps:\n"
         "        - " +
         first_step +
         "\n"
         "        - analysis: {templates: [{templateName: success-rate}],"
         " args: [{name: service, value: web-canary}]}\n"
         "        - setWeight: 50\n";
}

const char kTemplateYaml[] = R"(apiVersion: governor.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate, namespace: shop}
spec:
  args: [{name: service}]
  metrics:
    - name: success-rate
      successCondition: result >= 0.95
      provider:
        prometheus:
          query: 'sum(rate(ok{service="{{args.service}}"}[1m]))'
)";

// The API server in memory: every write is logged; pods are available as soon as asked for.
class FakeCluster final : public RolloutCluster {
 public:
  RolloutObject object;
  bool exists = true;
  std::map<std::string, rollouts::ObservedReplicaSet> replica_sets;
  std::map<std::string, std::string> services;  // Name -> the hash selected ("" none).
  bool route_exists = true;
  std::optional<rollouts::RouteWeights> route;
  std::optional<Status> template_failure;
  std::deque<Status> status_failures;  // Returned by the next status writes, in order.
  std::vector<std::string> log;        // "up web-x 2", "service web-canary x", "down ...".
  std::vector<Event> events;
  int status_writes = 0;

  FakeCluster() {
    object.key = kKey;
    object.uid = "uid-1";
    object.generation = 1;
    object.resource_version = "1";
    object.manifest = rolloutYaml("web:1");
    services = {{"web-stable", ""}, {"web-canary", ""}};
  }

  void setManifest(const std::string& manifest) {
    object.manifest = manifest;
    ++object.generation;
    bump();
  }

  Result<std::shared_ptr<const RolloutObject>> getRollout(const ObjectKey& key) override {
    if (!exists || key != kKey) return notFound("rollouts " + key.toString() + " not found");
    return std::make_shared<const RolloutObject>(object);
  }
  Result<std::vector<rollouts::ObservedReplicaSet>> listReplicaSets(const RolloutObject&) override {
    std::vector<rollouts::ObservedReplicaSet> out;
    for (const auto& [name, rs] : replica_sets) out.push_back(rs);
    return out;
  }
  Status createReplicaSet(const RolloutObject&, const rollouts::RolloutSpec&,
                          const rollouts::ReplicaSetAction& action) override {
    log.push_back("up " + action.name + " " + std::to_string(action.replicas));
    rollouts::ObservedReplicaSet rs;
    rs.name = action.name;
    rs.pod_template_hash = action.pod_template_hash;
    replica_sets[action.name] = rs;
    setPods(replica_sets[action.name], action.replicas);
    return Status();
  }
  Status scaleReplicaSet(const std::string&, const std::string& name, int32_t replicas) override {
    auto it = replica_sets.find(name);
    if (it == replica_sets.end()) return notFound("replicasets " + name);
    log.push_back(std::string(replicas > it->second.spec_replicas ? "up " : "down ") + name + " " +
                  std::to_string(replicas));
    setPods(it->second, replicas);
    return Status();
  }
  Status deleteReplicaSet(const std::string&, const std::string& name) override {
    log.push_back("down " + name + " deleted");
    replica_sets.erase(name);
    return Status();
  }
  Status selectRevision(const std::string&, const std::string& service,
                        const std::string& hash) override {
    auto it = services.find(service);
    if (it == services.end()) return notFound("services " + service);
    if (it->second != hash) log.push_back("service " + service + " " + hash);
    it->second = hash;
    return Status();
  }
  Status setRouteWeights(const rollouts::RouteWeights& weights) override {
    if (!route_exists) return notFound("httproutes " + weights.http_route);
    if (!route || *route != weights) {
      log.push_back("route " + std::to_string(weights.canary_weight));
    }
    route = weights;
    return Status();
  }
  Result<rollouts::AnalysisTemplateSpec> getAnalysisTemplate(const std::string& ns,
                                                             const std::string& name) override {
    if (template_failure) return *template_failure;
    if (ns != "shop" || name != "success-rate") return notFound("analysistemplates " + name);
    return rollouts::parseAnalysisTemplate(kTemplateYaml, "test");
  }
  Status updateRolloutStatus(const ObjectKey&, const std::string& resource_version,
                             const rollouts::RolloutStatus& status) override {
    if (!status_failures.empty()) {
      Status s = status_failures.front();
      status_failures.pop_front();
      return s;
    }
    if (resource_version != object.resource_version) {
      return Status(StatusCode::kConflict, "the object has been modified");
    }
    ++status_writes;
    log.push_back("status");
    object.status = status;
    bump();
    return Status();
  }
  void recordEvent(const ObjectKey&, const Event& event) override { events.push_back(event); }

 private:
  void bump() { object.resource_version = std::to_string(std::stoi(object.resource_version) + 1); }
  static void setPods(rollouts::ObservedReplicaSet& rs, int32_t replicas) {
    rs.spec_replicas = rs.replicas = rs.ready_replicas = rs.available_replicas = replicas;
  }
};

// Answers every query from a script (the last answer repeats), and remembers the queries.
class FakeQuerier final : public AnalysisQuerier {
 public:
  std::deque<Result<std::vector<double>>> answers{std::vector<double>{0.99}};
  std::vector<std::string> queries;

  Result<std::vector<double>> query(const std::string& promql, const std::optional<std::string>&,
                                    TimePoint) override {
    queries.push_back(promql);
    Result<std::vector<double>> answer = answers.front();
    if (answers.size() > 1) answers.pop_front();
    return answer;
  }
};

class RolloutReconcilerTest : public testing::Test {
 protected:
  // Reconciles until `done` holds (checked after each reconcile) or `rounds` reconciles,
  // moving the clock by each requeue. `each` sees the cluster after every reconcile. Returns
  // the last result.
  Result<Duration> runUntil(const std::function<bool()>& done, int rounds = 40,
                            const std::function<void()>& each = {}) {
    Result<Duration> result = Duration(0);
    for (int i = 0; i < rounds; ++i) {
      const size_t before = cluster_.log.size();
      result = reconciler_.reconcile(kKey, now_);
      checkApplyOrder(before);
      if (each) each();
      if (done()) return result;
      now_ += result.ok() ? *result : Duration(1'000);
    }
    return result;
  }

  // Within one reconcile: scale-ups and creates, then traffic, then scale-downs and deletes.
  void checkApplyOrder(size_t from) {
    int stage = 0;
    for (size_t i = from; i < cluster_.log.size(); ++i) {
      const std::string& entry = cluster_.log[i];
      const int s = entry.starts_with("up ")                                       ? 0
                    : entry.starts_with("service ") || entry.starts_with("route ") ? 1
                    : entry.starts_with("down ")                                   ? 2
                                                                                   : 3;
      EXPECT_GE(s, stage) << "out of order: " << entry << " after stage " << stage;
      stage = std::max(stage, s);
    }
  }

  bool healthyAt(const std::string& image) {
    auto spec = rollouts::parseRollout(rolloutYaml(image), "test");
    return spec.ok() && cluster_.object.status.phase == RolloutPhase::kHealthy &&
           cluster_.object.status.stable_revision == rollouts::podTemplateHash(*spec) &&
           cluster_.object.status.observed_generation == cluster_.object.generation;
  }

  FakeCluster cluster_;
  FakeQuerier querier_;
  RolloutReconciler reconciler_{cluster_, querier_};
  TimePoint now_ = kT0;
};

TEST_F(RolloutReconcilerTest, NewRolloutBecomesHealthyThenWritesNothingMore) {
  auto result = runUntil([&] { return healthyAt("web:1"); });
  ASSERT_TRUE(result.ok()) << result.status().toString();
  ASSERT_TRUE(healthyAt("web:1")) << cluster_.object.status.message;
  const auto spec = rollouts::parseRollout(rolloutYaml("web:1"), "test");
  ASSERT_TRUE(spec.ok());
  const std::string hash = rollouts::podTemplateHash(*spec);
  ASSERT_EQ(cluster_.replica_sets.count("web-" + hash), 1u);
  EXPECT_EQ(cluster_.replica_sets["web-" + hash].spec_replicas, 4);

  // Level-triggered and idempotent: nothing changed, nothing is written.
  const size_t writes = cluster_.log.size();
  const int status_writes = cluster_.status_writes;
  const size_t events = cluster_.events.size();
  for (int i = 0; i < 3; ++i) {
    now_ += seconds(30);
    result = reconciler_.reconcile(kKey, now_);
    ASSERT_TRUE(result.ok()) << result.status().toString();
    EXPECT_GE(*result, Duration(1'000));
    EXPECT_LE(*result, Duration(60'000));
  }
  EXPECT_EQ(cluster_.status_writes, status_writes);
  EXPECT_EQ(cluster_.log.size(), writes);
  EXPECT_EQ(cluster_.events.size(), events);
}

TEST_F(RolloutReconcilerTest, CanaryWalksStepsMeasuresAnalysisAndPromotes) {
  ASSERT_TRUE(runUntil([&] { return healthyAt("web:1"); }).ok());
  cluster_.setManifest(rolloutYaml("web:2"));
  // The first measurement fails (an Error, tolerated by consecutiveErrorLimit), then 0.99.
  querier_.answers = {unavailable("connection refused"), std::vector<double>{0.99}};
  std::vector<int32_t> weights;
  std::vector<rollouts::Measurement> measurements;
  auto result =
      runUntil([&] { return healthyAt("web:2"); }, 60,
               [&] {
                 if (cluster_.route &&
                     (weights.empty() || weights.back() != cluster_.route->canary_weight)) {
                   weights.push_back(cluster_.route->canary_weight);
                 }
                 for (const auto& run : cluster_.object.status.analysis_runs) {
                   for (const auto& metric : run.run.metrics) {
                     for (const auto& m : metric.measurements) {
                       if (std::none_of(measurements.begin(), measurements.end(),
                                        [&](const auto& seen) { return seen == m; })) {
                         measurements.push_back(m);
                       }
                     }
                   }
                 }
               });
  ASSERT_TRUE(result.ok()) << result.status().toString();
  ASSERT_TRUE(healthyAt("web:2")) << cluster_.object.status.message;

  // The query was rendered with the Rollout's args.
  ASSERT_FALSE(querier_.queries.empty());
  EXPECT_EQ(querier_.queries.front(), R"(sum(rate(ok{service="web-canary"}[1m])))");
  // Both measurements were recorded in status: the error, then the success.
  ASSERT_EQ(measurements.size(), 2u);
  EXPECT_EQ(measurements[0].phase, rollouts::MeasurementPhase::kError);
  EXPECT_NE(measurements[0].message.find("connection refused"), std::string::npos)
      << measurements[0].message;
  EXPECT_EQ(measurements[1].phase, rollouts::MeasurementPhase::kSuccessful);
  ASSERT_TRUE(measurements[1].value.has_value());
  EXPECT_DOUBLE_EQ(*measurements[1].value, 0.99);
  // The route walked the steps.
  ASSERT_GE(weights.size(), 2u);
  EXPECT_NE(std::find(weights.begin(), weights.end(), 25), weights.end());
  EXPECT_NE(std::find(weights.begin(), weights.end(), 50), weights.end());
  EXPECT_LT(std::find(weights.begin(), weights.end(), 25),
            std::find(weights.begin(), weights.end(), 50));
  // Promoted: both Services on the new revision.
  EXPECT_EQ(cluster_.services["web-stable"], cluster_.object.status.stable_revision);
}

TEST_F(RolloutReconcilerTest, InvalidSpecIsDegradedWithOneEventPerGeneration) {
  cluster_.object.manifest = rolloutYaml("web:1", "setWeight: 120");
  for (int i = 0; i < 3; ++i) {
    auto result = reconciler_.reconcile(kKey, now_ + seconds(i));
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
  const auto& status = cluster_.object.status;
  EXPECT_EQ(status.phase, RolloutPhase::kDegraded);
  EXPECT_EQ(status.observed_generation, 1);
  auto condition = std::find_if(status.conditions.begin(), status.conditions.end(),
                                [](const auto& c) { return c.type == "InvalidSpec"; });
  ASSERT_NE(condition, status.conditions.end());
  EXPECT_EQ(condition->status, "True");
  EXPECT_NE(condition->message.find("spec.strategy.canary.steps[0].setWeight"), std::string::npos)
      << condition->message;
  EXPECT_EQ(cluster_.status_writes, 1);
  ASSERT_EQ(cluster_.events.size(), 1u);
  EXPECT_EQ(cluster_.events[0].type, "Warning");
  EXPECT_EQ(cluster_.events[0].reason, "InvalidSpec");
  EXPECT_TRUE(cluster_.replica_sets.empty());

  // Another invalid generation is reported again.
  cluster_.setManifest(rolloutYaml("web:1", "setWeight: 130"));
  EXPECT_FALSE(reconciler_.reconcile(kKey, now_ + seconds(10)).ok());
  EXPECT_EQ(cluster_.events.size(), 2u);
  EXPECT_EQ(cluster_.object.status.observed_generation, 2);

  // Fixed: the rollout proceeds and the condition flips.
  cluster_.setManifest(rolloutYaml("web:1"));
  now_ += seconds(20);
  ASSERT_TRUE(runUntil([&] { return healthyAt("web:1"); }).ok());
  const auto& fixed = cluster_.object.status.conditions;
  condition = std::find_if(fixed.begin(), fixed.end(),
                           [](const auto& c) { return c.type == "InvalidSpec"; });
  if (condition != fixed.end()) {
    EXPECT_EQ(condition->status, "False");
  }
}

TEST_F(RolloutReconcilerTest, StatusConflictIsReturnedWithoutEventsAndRetried) {
  ASSERT_TRUE(runUntil([&] { return healthyAt("web:1"); }).ok());
  cluster_.setManifest(rolloutYaml("web:2"));
  cluster_.status_failures = {Status(StatusCode::kConflict, "the object has been modified")};
  const size_t events = cluster_.events.size();
  const auto before = cluster_.object.status;
  auto result = reconciler_.reconcile(kKey, now_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_EQ(cluster_.events.size(), events);
  EXPECT_EQ(cluster_.object.status, before);
  // The retry (work queue: at once) goes on from a fresh read.
  result = reconciler_.reconcile(kKey, now_);
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_NE(cluster_.object.status, before);
}

TEST_F(RolloutReconcilerTest, MissingServiceDegradesWithClearMessage) {
  ASSERT_TRUE(runUntil([&] { return healthyAt("web:1"); }).ok());
  cluster_.services.erase("web-canary");
  cluster_.setManifest(rolloutYaml("web:2"));
  Result<Duration> result = Duration(0);
  for (int i = 0; i < 10 && result.ok(); ++i) {
    now_ += seconds(1);
    result = reconciler_.reconcile(kKey, now_);
  }
  ASSERT_FALSE(result.ok());
  // Not NotFound: that would make the work queue forget the Rollout.
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(result.status().message().find("Service shop/web-canary not found"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(cluster_.object.status.phase, RolloutPhase::kDegraded);
  EXPECT_NE(cluster_.object.status.message.find("Service shop/web-canary not found"),
            std::string::npos);
  EXPECT_TRUE(std::any_of(cluster_.events.begin(), cluster_.events.end(),
                          [](const Event& e) { return e.reason == "FailedApply"; }));
  // Created, it is used.
  cluster_.services["web-canary"] = "";
  ASSERT_TRUE(runUntil([&] { return healthyAt("web:2"); }, 60).ok());
}

TEST_F(RolloutReconcilerTest, TransientTemplateErrorBacksOffWithoutDegrading) {
  ASSERT_TRUE(runUntil([&] { return healthyAt("web:1"); }).ok());
  const auto before = cluster_.object.status;
  cluster_.template_failure = unavailable("apiserver down");
  auto result = reconciler_.reconcile(kKey, now_ + seconds(1));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(cluster_.object.status, before);
}

TEST_F(RolloutReconcilerTest, GoneRolloutIsNotFound) {
  cluster_.exists = false;
  auto result = reconciler_.reconcile(kKey, now_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

TEST(AnalysisTemplateNamesTest, EachOnceInOrderOfMention) {
  auto spec = rollouts::parseRollout(
      rolloutYaml("web:1",
                  "analysis: {templates: [{templateName: a}, {templateName: success-rate}]}"),
      "test");
  ASSERT_TRUE(spec.ok()) << spec.status().toString();
  EXPECT_EQ(analysisTemplateNames(*spec), (std::vector<std::string>{"a", "success-rate"}));
}

struct ConditionCase {
  std::string name;
  std::optional<std::string> before;  // The existing condition's status.
  std::string after;
  bool moves;  // Whether lastTransitionTime moves to now.
};

class SetRolloutConditionTest : public testing::TestWithParam<ConditionCase> {};

TEST_P(SetRolloutConditionTest, TransitionTimeMovesOnlyWhenStatusFlips) {
  const ConditionCase& c = GetParam();
  std::vector<rollouts::RolloutCondition> conditions;
  if (c.before) conditions.push_back({"InvalidSpec", *c.before, "Old", "old", kT0});
  setRolloutCondition(conditions, "InvalidSpec", c.after, "New", "new", kT0 + seconds(5));
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].status, c.after);
  EXPECT_EQ(conditions[0].reason, "New");
  EXPECT_EQ(conditions[0].message, "new");
  EXPECT_EQ(conditions[0].last_transition_time, c.moves ? kT0 + seconds(5) : kT0);
}

INSTANTIATE_TEST_SUITE_P(Table, SetRolloutConditionTest,
                         testing::Values(ConditionCase{"New", std::nullopt, "True", true},
                                         ConditionCase{"Flip", "True", "False", true},
                                         ConditionCase{"Same", "True", "True", false}),
                         [](const auto& info) { return info.param.name; });

// A MetricsSource that answers one fixed outcome.
class OneAnswerSource final : public MetricsSource {
 public:
  explicit OneAnswerSource(Result<MetricSnapshot> answer) : answer_(std::move(answer)) {}
  Result<MetricSnapshot> fetch(const std::vector<MetricQuery>& queries, TimePoint) override {
    queries_ = queries;
    return answer_;
  }
  std::vector<MetricQuery> queries_;

 private:
  Result<MetricSnapshot> answer_;
};

TEST(MetricsSourceQuerierTest, ValueAbsentAndError) {
  MetricSnapshot with_value;
  with_value.samples["analysis"].value = 0.5;
  OneAnswerSource value_source(with_value);
  auto v = MetricsSourceQuerier(value_source).query("up", std::string("http://p:9090"), kT0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::vector<double>{0.5});
  ASSERT_EQ(value_source.queries_.size(), 1u);
  EXPECT_EQ(value_source.queries_[0].query, "up");
  EXPECT_EQ(value_source.queries_[0].address, std::optional<std::string>("http://p:9090"));

  OneAnswerSource absent_source{MetricSnapshot{}};
  auto absent = MetricsSourceQuerier(absent_source).query("up", std::nullopt, kT0);
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->empty());

  OneAnswerSource failing_source{unavailable("refused")};
  auto failed = MetricsSourceQuerier(failing_source).query("up", std::nullopt, kT0);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
}

TEST(ReplicaSetManifestTest, HashLabelsSelectorTemplateAndOwner) {
  auto spec = rollouts::parseRollout(rolloutYaml("web:1"), "test");
  ASSERT_TRUE(spec.ok());
  auto rs = replicaSetManifest(*spec, "uid-1", "web-abc", "abc", 3);
  ASSERT_TRUE(rs.ok()) << rs.status().toString();
  const json& m = *rs;
  EXPECT_EQ(m["metadata"]["name"], "web-abc");
  EXPECT_EQ(m["metadata"]["namespace"], "shop");
  EXPECT_EQ(m["metadata"]["labels"],
            (json{{"app", "web"}, {"pod-template-hash", "abc"}, {"governor.io/rollout", "web"}}));
  EXPECT_EQ(m["spec"]["replicas"], 3);
  EXPECT_EQ(m["spec"]["selector"],
            (json{{"matchLabels", {{"app", "web"}, {"pod-template-hash", "abc"}}}}));
  EXPECT_EQ(m["spec"]["template"]["metadata"]["labels"],
            (json{{"app", "web"}, {"pod-template-hash", "abc"}}));
  EXPECT_EQ(m["spec"]["template"]["spec"]["containers"][0]["image"], "web:1");
  const json& owner = m["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["kind"], "Rollout");
  EXPECT_EQ(owner["name"], "web");
  EXPECT_EQ(owner["uid"], "uid-1");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["blockOwnerDeletion"], true);
  // The owner index and the enqueue mapping read it back.
  EXPECT_EQ(rolloutOwnerOf(m), std::vector<std::string>{"uid-1"});
  EXPECT_EQ(rolloutKeyOf(m), std::optional<ObjectKey>(kKey));
}

struct RouteCase {
  std::string name;
  json rules;
  int32_t canary_weight;
  bool ok;
  bool changed;
  json want_rules;  // When ok.
};

class ApplyRouteWeightsTest : public testing::TestWithParam<RouteCase> {};

TEST_P(ApplyRouteWeightsTest, SetsStableAndCanaryInEveryRule) {
  const RouteCase& c = GetParam();
  json route = {{"spec", {{"rules", c.rules}}}};
  rollouts::RouteWeights weights{"web", "shop", "web-stable", "web-canary", c.canary_weight};
  auto changed = applyRouteWeights(route, weights);
  ASSERT_EQ(changed.ok(), c.ok) << changed.status().toString();
  if (!c.ok) {
    EXPECT_EQ(changed.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(changed.status().message().find("HTTPRoute shop/web"), std::string::npos);
    return;
  }
  EXPECT_EQ(*changed, c.changed);
  EXPECT_EQ(route["spec"]["rules"], c.want_rules);
}

json rule(std::optional<int> stable, std::optional<int> canary, bool other = false) {
  json refs = json::array();
  json s = {{"name", "web-stable"}, {"port", 80}};
  if (stable) s["weight"] = *stable;
  json c = {{"name", "web-canary"}, {"port", 80}};
  if (canary) c["weight"] = *canary;
  refs.push_back(s);
  refs.push_back(c);
  if (other) refs.push_back({{"name", "other"}, {"port", 80}, {"weight", 7}});
  return {{"backendRefs", refs}};
}

INSTANTIATE_TEST_SUITE_P(
    Table, ApplyRouteWeightsTest,
    testing::Values(
        RouteCase{"SetsMissingWeights", json::array({rule(std::nullopt, std::nullopt)}), 25, true,
                  true, json::array({rule(75, 25)})},
        RouteCase{"AlreadySet", json::array({rule(75, 25)}), 25, true, false,
                  json::array({rule(75, 25)})},
        RouteCase{"EveryRuleOthersKept",
                  json::array({rule(100, 0, true), rule(100, 0), json{{"matches", 1}}}), 40, true,
                  true, json::array({rule(60, 40, true), rule(60, 40), json{{"matches", 1}}})},
        RouteCase{"NoCanaryBackend",
                  json::array({json{{"backendRefs", json::array({json{{"name", "web-stable"}}})}}}),
                  10, false, false, json()},
        RouteCase{"NoRules", json(), 10, false, false, json()}),
    [](const auto& info) { return info.param.name; });

TEST(ObservedReplicaSetTest, CountsAndObservedGeneration) {
  json rs = json::parse(R"({"metadata": {"name": "web-abc", "generation": 3,
      "labels": {"pod-template-hash": "abc"}},
      "spec": {"replicas": 4},
      "status": {"replicas": 4, "readyReplicas": 3, "availableReplicas": 2,
                 "observedGeneration": 2}})");
  rollouts::ObservedReplicaSet o = observedReplicaSet(rs);
  EXPECT_EQ(o.name, "web-abc");
  EXPECT_EQ(o.pod_template_hash, "abc");
  EXPECT_EQ(o.spec_replicas, 4);
  EXPECT_EQ(o.replicas, 4);
  EXPECT_EQ(o.ready_replicas, 3);
  EXPECT_EQ(o.available_replicas, 2);
  EXPECT_FALSE(o.observed);
  rs["status"]["observedGeneration"] = 3;
  EXPECT_TRUE(observedReplicaSet(rs).observed);
  // Garbage in the status is read as nothing, not a crash.
  rs["status"] = "garbage";
  EXPECT_EQ(observedReplicaSet(rs).replicas, 0);
}

TEST(RolloutFromJsonTest, ManifestMetadataAndBadStatus) {
  json object = json::parse(R"({"apiVersion": "governor.io/v1alpha1", "kind": "Rollout",
      "metadata": {"name": "web", "namespace": "shop", "uid": "u", "generation": 2,
                   "resourceVersion": "7", "labels": {"x": "y"}},
      "spec": {"replicas": 1},
      "status": {"phase": "NoSuchPhase"}})");
  Status status_error;
  auto r = rolloutFromJson(object, &status_error);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->key, kKey);
  EXPECT_EQ(r->uid, "u");
  EXPECT_EQ(r->generation, 2);
  EXPECT_EQ(r->resource_version, "7");
  EXPECT_EQ(json::parse(r->manifest),
            json::parse(R"({"apiVersion": "governor.io/v1alpha1", "kind": "Rollout",
                "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 1}})"));
  EXPECT_FALSE(status_error.ok());
  EXPECT_NE(status_error.message().find("status.phase"), std::string::npos)
      << status_error.message();
  EXPECT_FALSE(r->status.phase.has_value());
  EXPECT_FALSE(rolloutFromJson(json::array()).ok());
  EXPECT_FALSE(rolloutFromJson(json{{"metadata", json::object()}}).ok());
}

}  // namespace
}  // namespace governor::controller
