// Rollouts end to end: the real `governor operator` against the test API server (ReplicaSets
// get pods that become ready), a real Prometheus scraping the test exporter (the analyses'
// metric is a gauge the test sets), the Gateway API HTTPRoute CRD, and the `governor rollout`
// CLI. Everything is checked as a user would: kubectl (ReplicaSets, Services, the HTTPRoute,
// the Rollout's status, Events) and the API server's audit log.
//
// Expected values come from the pure code the controller is meant to follow, not from
// numbers written here: the replica split at a weight from rollouts::canarySplit, the
// revisions' names from rollouts::podTemplateHash of the parsed template.
//
// Steps are short (pauses of seconds, analyses measuring every second) so that each test
// stays well under a minute; every wait polls with a bound.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>

#include "rollouts/spec.h"
#include "rollouts/split.h"
#include "rollouts/template_hash.h"
#include "tests/e2e/e2e_support.h"
#include "tests/prometheus/test_prometheus.h"
#include "tests/support/http.h"
#include "tests/support/process.h"

namespace governor::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The analyses' metric: one measurement a second; above 5% errors fails at once
// (failureLimit 0). `errors-long` takes 8 measurements (the restart test kills the operator
// in the middle); `errors-delayed` waits 3 s first (blue-green's switch back must be seen
// switched before it switches back).
constexpr char kTemplates[] = R"(apiVersion: governor.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: errors, namespace: shop}
spec:
  args: [{name: app}]
  metrics:
    - name: error-ratio
      interval: 1s
      count: 3
      failureCondition: result > 0.05
      provider:
        prometheus:
          query: max(http_requests_errors_ratio{namespace="shop",app="{{args.app}}"})
---
apiVersion: governor.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: errors-long, namespace: shop}
spec:
  args: [{name: app}]
  metrics:
    - name: error-ratio
      interval: 1s
      count: 8
      failureCondition: result > 0.05
      provider:
        prometheus:
          query: max(http_requests_errors_ratio{namespace="shop",app="{{args.app}}"})
---
apiVersion: governor.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: errors-delayed, namespace: shop}
spec:
  args: [{name: app}]
  metrics:
    - name: error-ratio
      initialDelay: 3s
      interval: 1s
      count: 2
      failureCondition: result > 0.05
      provider:
        prometheus:
          query: max(http_requests_errors_ratio{namespace="shop",app="{{args.app}}"})
)";

constexpr double kPassing = 0.01;
constexpr double kFailing = 0.5;

// A Rollout shop/<name> of `replicas` pods of image version `version`, with `strategy`
// (YAML lines indented by four spaces, under spec.strategy).
std::string rolloutYaml(const std::string& name, int replicas, int version,
                        const std::string& strategy, const std::string& extra_spec = "") {
  return "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: " + name +
         ", namespace: shop}\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  revisionHistoryLimit: 3\n  selector: {matchLabels: {app: " + name +
         "}}\n  template:\n    metadata: {labels: {app: " + name +
         "}}\n    spec: {containers: [{name: app, image: 'registry.example.com/" + name + ":" +
         std::to_string(version) + "'}]}\n" + extra_spec + "  strategy:\n" + strategy;
}

// The Rollout `yaml` as Governor's parser reads it (fails the test if it does not).
rollouts::RolloutSpec parsed(const std::string& yaml) {
  auto spec = rollouts::parseRollout(yaml, "test Rollout");
  EXPECT_TRUE(spec.ok()) << spec.status().toString() << "\n" << yaml;
  return spec.ok() ? *spec : rollouts::RolloutSpec{};
}

// The pod-template-hash of `yaml`'s template: its revision's ReplicaSet is <name>-<hash>.
std::string revisionOf(const std::string& yaml) {
  return rollouts::podTemplateHash(parsed(yaml).pod_template.json);
}

// The weight in force once step `index` is reached: the last setWeight before it.
int32_t weightBefore(const rollouts::CanaryStrategy& canary, size_t index) {
  int32_t weight = 0;
  for (size_t i = 0; i < index && i < canary.steps.size(); ++i) {
    if (const auto* w = std::get_if<rollouts::SetWeightStep>(&canary.steps[i])) weight = w->weight;
  }
  return weight;
}

std::string str(const json& j, const char* key) {
  return j.is_object() ? j.value(key, std::string()) : std::string();
}
int64_t num(const json& j, const char* key, int64_t otherwise = -1) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>()
                                                                        : otherwise;
}

// The analysis run of `kind` (Step, Background, PrePromotion, PostPromotion) in `status`,
// the last one listed (null if none).
json analysisRun(const json& status, const std::string& kind) {
  json found;
  if (!status.is_object()) return found;
  for (const json& run : status.value("analysisRuns", json::array())) {
    if (run.value("kind", "") == kind) found = run;
  }
  return found;
}
// Its first metric's counter `counter` ("measured", "failed", ...), -1 when absent.
int64_t metricCounter(const json& run, const char* counter) {
  if (!run.is_object() || !run.contains("metrics") || run["metrics"].empty()) return -1;
  return num(run["metrics"][0], counter, 0);
}

// Everything a rollout test runs: the cluster, the exporter serving the analyses' gauge, a
// real Prometheus scraping it every second, and the operator.
struct Stack {
  std::unique_ptr<E2eCluster> c;
  std::unique_ptr<TestExporter> exporter;
  std::unique_ptr<TestPrometheus> prometheus;
  std::unique_ptr<Subprocess> op;
  std::map<std::string, double> ratios;  // What the exporter serves, by app.
  int operators_started = 0;
  int metrics_port = 0;  // The operator's /metrics.

  std::string logs() const {
    return (op ? op->logTail(12000) : std::string("(no operator)")) + "\n";
  }

  // Serves `value` as app's error ratio and waits until Prometheus answers with it.
  void setErrorRatio(const std::string& app, double value) {
    ratios[app] = value;
    ASSERT_TRUE(exporter->setSeries(errorRatioSeries(ratios)).ok());
    const std::string query =
        "max(http_requests_errors_ratio{namespace=\"shop\",app=\"" + app + "\"})";
    ASSERT_TRUE(waitUntil(
        [&] {
          auto v = prometheus->queryValue(query);
          return v.ok() && std::abs(*v - value) < 1e-9;
        },
        30s, 100ms))
        << query << " never became " << value;
  }

  // Starts (another) `governor operator`, reading analyses from this Prometheus.
  void startOperator() {
    metrics_port = ::governor::testing::freeLoopbackPort();
    op = c->startOperator("op" + std::to_string(++operators_started),
                          {"--sync-period", "1s", "--prometheus-url", prometheus->url(),
                           "--metrics-addr", "127.0.0.1:" + std::to_string(metrics_port)});
    ASSERT_TRUE(op);
  }

  // The operator's governor_rollout_phase for shop/`name` in `phase`; -1 when /metrics does
  // not answer or has no such series.
  double phaseMetric(const std::string& name, const std::string& phase) const {
    auto response = ::governor::testing::httpRequest(
        "127.0.0.1", static_cast<uint16_t>(metrics_port), "GET", "/metrics");
    if (!response || response->status != 200) return -1;
    const std::string series = "governor_rollout_phase{namespace=\"shop\",phase=\"" + phase +
                               "\",rollout=\"" + name + "\"} ";
    const size_t at = response->body.find(series);
    if (at == std::string::npos) return -1;
    return std::stod(response->body.substr(at + series.size()));
  }

  // Waits until the operator's /metrics says shop/`name` is in `phase` (1 there, 0 in the
  // others).
  ::testing::AssertionResult phaseMetricIs(const std::string& name, const std::string& phase) {
    const char* phases[] = {"Progressing", "Paused", "Healthy", "Degraded", "Aborted"};
    std::string last;
    const bool seen = waitUntil(
        [&] {
          last.clear();
          bool ok = true;
          for (const char* p : phases) {
            const double v = phaseMetric(name, p);
            last += std::string(p) + "=" + std::to_string(v) + " ";
            ok = ok && v == (p == phase ? 1.0 : 0.0);
          }
          return ok;
        },
        15s, 150ms);
    if (seen) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "governor_rollout_phase of " << name << " never " << phase << ": " << last;
  }
};

// Starts the stack with `ratios` served; applies kTemplates and `manifests`; starts the
// operator.
void startStack(Stack& s, const std::map<std::string, double>& ratios,
                const std::vector<std::string>& manifests = {}) {
  s.c = E2eCluster::start(1);
  ASSERT_TRUE(s.c);
  auto exporter = TestExporter::start();
  ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
  s.exporter = std::move(exporter).value();
  s.ratios = ratios;
  ASSERT_TRUE(s.exporter->setSeries(errorRatioSeries(ratios)).ok());
  TestPrometheusOptions options;
  options.targets = {s.exporter->target()};
  auto prometheus = TestPrometheus::start(options);
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
  s.prometheus = std::move(prometheus).value();
  ASSERT_TRUE(s.prometheus->waitForSeries("http_requests_errors_ratio", 30s).ok());
  s.c->kubectl({"apply", "-f", "-"}, kTemplates);
  for (const auto& m : manifests) s.c->kubectl({"apply", "-f", "-"}, m);
  ASSERT_NO_FATAL_FAILURE(s.startOperator());
}

// Applies `yaml` and waits until the Rollout is Healthy on its revision with every pod of
// it ready. Returns the revision's hash.
std::string applyAndWaitHealthy(Stack& s, const std::string& yaml, std::chrono::seconds timeout) {
  const std::string hash = revisionOf(yaml);
  const auto spec = parsed(yaml);
  s.c->kubectl({"apply", "-f", "-"}, yaml);
  const bool healthy = waitUntil(
      [&] {
        json st = s.c->rolloutStatus(spec.name);
        if (str(st, "phase") != "Healthy" || str(st, "stableRevision") != hash) return false;
        auto sets = s.c->rolloutReplicaSets(spec.name);
        return sets.contains(hash) && sets[hash].spec_replicas == spec.replicas &&
               sets[hash].ready_replicas == spec.replicas;
      },
      timeout, 150ms);
  EXPECT_TRUE(healthy) << "Rollout " << spec.name << " never Healthy on " << hash << ": "
                       << s.c->rolloutStatus(spec.name).dump() << "\n"
                       << s.logs();
  return hash;
}

// Polls until status.currentStepIndex == step and check(status) holds. Fails when the
// Rollout goes past the step (or ends) first, or at the deadline; `why` is filled by check.
::testing::AssertionResult atStep(
    Stack& s, const std::string& name, int step,
    const std::function<bool(const json& status, std::string& why)>& check,
    std::chrono::seconds timeout = 30s) {
  std::string why = "never reached";
  json last;
  bool passed = false;
  const bool done = waitUntil(
      [&] {
        const json rollout = s.c->rollout(name);
        if (!rollout.is_object()) return false;
        last = rollout.value("status", json::object());
        const bool current =
            num(last, "observedGeneration") == num(rollout["metadata"], "generation");
        const int64_t at = num(last, "currentStepIndex");
        if (current &&
            (at > step || str(last, "phase") == "Healthy" || str(last, "phase") == "Aborted")) {
          return true;  // Too late: it moved on.
        }
        if (at != step) return false;
        passed = check(last, why);
        return passed;
      },
      timeout, 100ms);
  if (done && passed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "step " << step << ": " << why << "\nlast status: " << last.dump() << "\n"
         << s.logs();
}

// A check that the ReplicaSets of `old_hash` and `new_hash` have `split`'s sizes (specs,
// and every pod ready) and status.canaryWeight is the served weight.
std::function<bool(const json&, std::string&)> hasSplit(Stack& s, const std::string& name,
                                                        const std::string& old_hash,
                                                        const std::string& new_hash,
                                                        const rollouts::ReplicaSplit& split) {
  return [&s, name, old_hash, new_hash, split](const json& status, std::string& why) {
    auto sets = s.c->rolloutReplicaSets(name);
    const int32_t stable = sets.contains(old_hash) ? sets[old_hash].spec_replicas : 0;
    const int32_t canary = sets.contains(new_hash) ? sets[new_hash].spec_replicas : 0;
    const int32_t canary_ready = sets.contains(new_hash) ? sets[new_hash].ready_replicas : 0;
    why = "ReplicaSets stable " + std::to_string(stable) + " + canary " + std::to_string(canary) +
          " (" + std::to_string(canary_ready) + " ready), want " + std::to_string(split.stable) +
          " + " + std::to_string(split.canary) + "; canaryWeight " +
          std::to_string(num(status, "canaryWeight")) + ", want " +
          std::to_string(std::lround(split.served_weight));
    return stable == split.stable && canary == split.canary && canary_ready == split.canary &&
           num(status, "canaryWeight") == std::lround(split.served_weight);
  };
}

// Waits for `s`'s Rollout `name` to be Healthy on `new_hash` with spec.replicas pods, the
// old revision at 0. Checks the Normal Event that ends the update (`final_event`: a canary
// says RolloutCompleted; a blue-green, already promoted, ScaledDownOldRevision).
void expectPromoted(Stack& s, const std::string& name, const std::string& old_hash,
                    const std::string& new_hash, int replicas,
                    const std::string& final_event = "RolloutCompleted") {
  ASSERT_TRUE(waitUntil(
      [&] {
        json st = s.c->rolloutStatus(name);
        auto sets = s.c->rolloutReplicaSets(name);
        return str(st, "phase") == "Healthy" && str(st, "stableRevision") == new_hash &&
               sets.contains(new_hash) && sets[new_hash].spec_replicas == replicas &&
               sets[new_hash].ready_replicas == replicas &&
               s.c->revisionReplicas(name, old_hash) == 0;
      },
      30s, 150ms))
      << s.c->rolloutStatus(name).dump() << "\n"
      << s.logs();
  json st = s.c->rolloutStatus(name);
  EXPECT_EQ(str(st, "canaryRevision"), new_hash) << "no update in progress: canary == stable";
  EXPECT_EQ(num(st, "replicas"), replicas) << st.dump();
  EXPECT_EQ(num(st, "updatedReplicas"), replicas) << st.dump();
  EXPECT_EQ(num(st, "observedGeneration"), num(s.c->rollout(name)["metadata"], "generation"));
  bool completed = false;
  for (const json& e : s.c->events("Rollout", name)) {
    completed =
        completed || (e.value("type", "") == "Normal" && e.value("reason", "") == final_event);
  }
  EXPECT_TRUE(completed) << json(s.c->events("Rollout", name)).dump();
}

// A Warning Event on Rollout `name` and a status condition whose messages name `what`.
void expectWarningAndConditionNaming(Stack& s, const std::string& name, const std::string& what) {
  bool warned = false;
  for (const json& e : s.c->events("Rollout", name)) {
    warned = warned || (e.value("type", "") == "Warning" &&
                        e.value("message", "").find(what) != std::string::npos);
  }
  EXPECT_TRUE(warned) << "no Warning Event naming " << what << ": "
                      << json(s.c->events("Rollout", name)).dump();
  bool conditioned = false;
  json st = s.c->rolloutStatus(name);
  for (const json& c : st.value("conditions", json::array())) {
    conditioned = conditioned || c.value("message", "").find(what) != std::string::npos;
  }
  EXPECT_TRUE(conditioned) << "no condition naming " << what << ": " << st.dump();
}

// ---------------------------------------------------------------------------------------
// 1. A canary without a traffic router walks its steps and promotes.

TEST(RolloutE2eTest, CanaryWalksItsStepsWithAnalysisAndPromotes) {
  Stack s;
  ASSERT_NO_FATAL_FAILURE(
      startStack(s, {{"app", kPassing}},
                 {serviceYaml("app-stable", "app"), serviceYaml("app-canary", "app")}));
  const std::string strategy =
      "    canary:\n"
      "      stableService: app-stable\n"
      "      canaryService: app-canary\n"
      "      steps:\n"
      "        - setWeight: 25\n"
      "        - analysis: {templates: [{templateName: errors}], args: [{name: app, value: app}]}\n"
      "        - setWeight: 50\n"
      "        - pause: {duration: 2s}\n";
  const std::string v1 = rolloutYaml("app", 4, 1, strategy);
  const std::string v2 = rolloutYaml("app", 4, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);
  ASSERT_NE(h1, h2);
  EXPECT_EQ(s.c->rolloutReplicaSets("app")[h1].name, "app-" + h1);
  const rollouts::CanaryStrategy canary = *parsed(v2).canary();

  s.c->kubectl({"apply", "-f", "-"}, v2);
  // Step 1 (the analysis) runs at step 0's weight; step 3 (the pause) at step 2's.
  for (int step : {1, 3}) {
    SCOPED_TRACE("step " + std::to_string(step));
    const auto split = rollouts::canarySplit(canary, 4, weightBefore(canary, step));
    EXPECT_TRUE(atStep(s, "app", step, hasSplit(s, "app", h1, h2, split)));
    EXPECT_EQ(s.c->serviceSelector("app-stable")["pod-template-hash"], h1);
    EXPECT_EQ(s.c->serviceSelector("app-canary")["pod-template-hash"], h2);
  }
  // By the pause, the analysis step passed with its three measurements.
  json run = analysisRun(s.c->rolloutStatus("app"), "Step");
  EXPECT_EQ(str(run, "phase"), "Successful") << run.dump();
  EXPECT_EQ(metricCounter(run, "measured"), 3) << run.dump();
  EXPECT_EQ(metricCounter(run, "failed"), 0) << run.dump();

  ASSERT_NO_FATAL_FAILURE(expectPromoted(s, "app", h1, h2, 4));
  EXPECT_EQ(s.c->rolloutReplicaSets("app")[h2].name, "app-" + h2);
  EXPECT_EQ(s.c->serviceSelector("app-stable")["pod-template-hash"], h2);
  EXPECT_EQ(s.c->serviceSelector("app-stable")["app"], "app") << "the rest of the selector stays";
  std::string table = s.c->kubectl({"-n", "shop", "get", "rollouts.governor.io"});
  EXPECT_NE(table.find("Healthy"), std::string::npos) << table;
  EXPECT_TRUE(s.phaseMetricIs("app", "Healthy"));
}

// ---------------------------------------------------------------------------------------
// 2. A failed analysis aborts: traffic and pods back to stable; `rollout retry` completes it.

struct AbortCase {
  std::string name;
  bool routed;  // trafficRouting.gatewayAPI: also the HTTPRoute's weights go back.
};
// Names the case in CTest's listing and failure messages (not a byte dump).
void PrintTo(const AbortCase& c, std::ostream* os) { *os << c.name; }

class RolloutAbortE2eTest : public ::testing::TestWithParam<AbortCase> {};

TEST_P(RolloutAbortE2eTest, FailedAnalysisAbortsAndRetryCompletes) {
  const AbortCase& tc = GetParam();
  Stack s;
  ASSERT_NO_FATAL_FAILURE(
      startStack(s, {{"app", kPassing}},
                 {serviceYaml("app-stable", "app"), serviceYaml("app-canary", "app")}));
  if (tc.routed) {
    s.c->kubectl({"apply", "-f", std::string(GOVERNOR_TEST_DATA) + "/gateway/httproute-crd.yaml"});
    s.c->kubectl({"apply", "-f", "-"}, httpRouteYaml("app", "app-stable", "app-canary"));
  }
  std::string strategy =
      "    canary:\n"
      "      stableService: app-stable\n"
      "      canaryService: app-canary\n";
  if (tc.routed) strategy += "      trafficRouting: {gatewayAPI: {httpRoute: app}}\n";
  strategy +=
      "      steps:\n"
      "        - setWeight: 50\n"
      "        - analysis: {templates: [{templateName: errors-delayed}], args: [{name: app, "
      "value: app}]}\n"
      "        - setWeight: 75\n";
  const std::string v1 = rolloutYaml("app", 4, 1, strategy);
  const std::string v2 = rolloutYaml("app", 4, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);

  ASSERT_NO_FATAL_FAILURE(s.setErrorRatio("app", kFailing));
  s.c->kubectl({"apply", "-f", "-"}, v2);
  // The analysis runs at weight 50 (its 3 s initial delay leaves time to see it), then fails.
  const auto split = rollouts::canarySplit(*parsed(v2).canary(), 4, 50);
  EXPECT_TRUE(atStep(s, "app", 1, hasSplit(s, "app", h1, h2, split)));
  if (tc.routed) {
    EXPECT_EQ(s.c->routeWeights("app")["app-canary"], 50);
  }

  ASSERT_TRUE(
      waitUntil([&] { return str(s.c->rolloutStatus("app"), "phase") == "Aborted"; }, 30s, 150ms))
      << s.c->rolloutStatus("app").dump() << s.logs();
  EXPECT_TRUE(s.phaseMetricIs("app", "Aborted"));
  // Pods back on stable: the canary at 0, the stable at spec.replicas, all ready.
  ASSERT_TRUE(waitUntil(
      [&] {
        auto sets = s.c->rolloutReplicaSets("app");
        return s.c->revisionReplicas("app", h2) == 0 && sets[h1].spec_replicas == 4 &&
               sets[h1].ready_replicas == 4;
      },
      20s, 150ms))
      << s.c->rolloutStatus("app").dump() << s.logs();
  json st = s.c->rolloutStatus("app");
  EXPECT_EQ(str(st, "stableRevision"), h1) << st.dump();
  EXPECT_EQ(num(st, "canaryWeight"), 0) << st.dump();
  EXPECT_EQ(s.c->serviceSelector("app-stable")["pod-template-hash"], h1);
  if (tc.routed) {
    auto weights = s.c->routeWeights("app");
    EXPECT_EQ(weights["app-canary"], 0);
    EXPECT_EQ(weights["app-stable"], 100);
  }
  json run = analysisRun(st, "Step");
  EXPECT_EQ(str(run, "phase"), "Failed") << run.dump();
  EXPECT_GE(metricCounter(run, "failed"), 1) << run.dump();
  // The Event and a condition say which measurement failed.
  expectWarningAndConditionNaming(s, "app", "error-ratio");
  EXPECT_NE(str(st, "message").find("error-ratio"), std::string::npos) << st.dump();

  // Now the metric passes; a person retries.
  ASSERT_NO_FATAL_FAILURE(s.setErrorRatio("app", kPassing));
  CommandResult retry = s.c->rolloutCommand({"retry", "app"});
  ASSERT_EQ(retry.exit_code, 0) << retry.err << retry.out;
  ASSERT_NO_FATAL_FAILURE(expectPromoted(s, "app", h1, h2, 4));
  json done = analysisRun(s.c->rolloutStatus("app"), "Step");
  EXPECT_EQ(str(done, "phase"), "Successful") << "the retry's run, fresh: " << done.dump();
  EXPECT_EQ(s.c->serviceSelector("app-stable")["pod-template-hash"], h2);
  if (tc.routed) {
    // All the traffic on Services that select the new revision.
    int to_new = 0;
    for (const auto& [service, weight] : s.c->routeWeights("app")) {
      if (s.c->serviceSelector(service)["pod-template-hash"] == h2) to_new += weight;
    }
    EXPECT_EQ(to_new, 100) << json(s.c->routeWeights("app")).dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Routing, RolloutAbortE2eTest,
                         ::testing::Values(AbortCase{"ReplicaSplit", false},
                                           AbortCase{"GatewayApi", true}),
                         [](const auto& info) { return info.param.name; });

// ---------------------------------------------------------------------------------------
// 3. With a Gateway API HTTPRoute, its backendRef weights follow the steps.

TEST(RolloutE2eTest, GatewayApiRouteWeightsFollowTheSteps) {
  Stack s;
  ASSERT_NO_FATAL_FAILURE(startStack(s, {{"app", kPassing}}));
  s.c->kubectl({"apply", "-f", std::string(GOVERNOR_TEST_DATA) + "/gateway/httproute-crd.yaml"});
  s.c->kubectl({"apply", "-f", "-"}, serviceYaml("app-stable", "app"));
  s.c->kubectl({"apply", "-f", "-"}, serviceYaml("app-canary", "app"));
  s.c->kubectl({"apply", "-f", "-"}, httpRouteYaml("app", "app-stable", "app-canary"));
  const std::string strategy =
      "    canary:\n"
      "      stableService: app-stable\n"
      "      canaryService: app-canary\n"
      "      trafficRouting: {gatewayAPI: {httpRoute: app}}\n"
      "      analysis:\n"
      "        templates: [{templateName: errors}]\n"
      "        args: [{name: app, value: app}]\n"
      "        startingStep: 1\n"
      "      steps:\n"
      "        - setWeight: 20\n"
      "        - pause: {duration: 2s}\n"
      "        - setWeight: 60\n"
      "        - pause: {duration: 2s}\n";
  const std::string v1 = rolloutYaml("app", 4, 1, strategy);
  const std::string v2 = rolloutYaml("app", 4, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);
  const rollouts::CanaryStrategy canary = *parsed(v2).canary();

  s.c->kubectl({"apply", "-f", "-"}, v2);
  for (int step : {1, 3}) {
    SCOPED_TRACE("step " + std::to_string(step));
    const int32_t weight = weightBefore(canary, step);
    const auto split = rollouts::canarySplit(canary, 4, weight);
    auto pods = hasSplit(s, "app", h1, h2, split);
    EXPECT_TRUE(atStep(s, "app", step, [&](const json& status, std::string& why) {
      if (!pods(status, why)) return false;
      auto weights = s.c->routeWeights("app");
      why = "route weights " + json(weights).dump();
      return weights["app-canary"] == weight && weights["app-stable"] == 100 - weight;
    }));
    EXPECT_EQ(s.c->serviceSelector("app-stable")["pod-template-hash"], h1);
    EXPECT_EQ(s.c->serviceSelector("app-canary")["pod-template-hash"], h2);
  }
  // The background analysis measures from step 1 on, and has not failed.
  json background = analysisRun(s.c->rolloutStatus("app"), "Background");
  EXPECT_TRUE(background.is_object()) << s.c->rolloutStatus("app").dump();
  EXPECT_NE(str(background, "phase"), "Failed") << background.dump();
  EXPECT_GE(metricCounter(background, "measured"), 1) << background.dump();

  ASSERT_NO_FATAL_FAILURE(expectPromoted(s, "app", h1, h2, 4));
  int to_new = 0;
  for (const auto& [service, weight] : s.c->routeWeights("app")) {
    if (s.c->serviceSelector(service)["pod-template-hash"] == h2) to_new += weight;
  }
  EXPECT_EQ(to_new, 100) << json(s.c->routeWeights("app")).dump();
}

// ---------------------------------------------------------------------------------------
// 4. Blue-green.

std::string blueGreenStrategy(const std::string& name, const std::string& extra,
                              const std::string& pre_app, const std::string& post_template,
                              const std::string& post_app) {
  return "    blueGreen:\n"
         "      activeService: " +
         name + "-active\n      previewService: " + name +
         "-preview\n"
         "      previewReplicaCount: 1\n" +
         extra +
         "      prePromotionAnalysis:\n"
         "        templates: [{templateName: errors}]\n"
         "        args: [{name: app, value: " +
         pre_app +
         "}]\n"
         "      postPromotionAnalysis:\n"
         "        templates: [{templateName: " +
         post_template + "}]\n        args: [{name: app, value: " + post_app + "}]\n";
}

TEST(RolloutE2eTest, BlueGreenPreviewManualPromotionAndScaleDownDelay) {
  Stack s;
  ASSERT_NO_FATAL_FAILURE(startStack(
      s, {{"bg", kPassing}}, {serviceYaml("bg-active", "bg"), serviceYaml("bg-preview", "bg")}));
  const std::string strategy =
      blueGreenStrategy("bg", "      autoPromotionEnabled: false\n      scaleDownDelaySeconds: 4\n",
                        "bg", "errors", "bg");
  const std::string v1 = rolloutYaml("bg", 3, 1, strategy);
  const std::string v2 = rolloutYaml("bg", 3, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);
  EXPECT_EQ(s.c->serviceSelector("bg-active")["pod-template-hash"], h1);

  s.c->kubectl({"apply", "-f", "-"}, v2);
  // The preview: 1 pod behind bg-preview, analysed, then waiting for a person.
  ASSERT_TRUE(waitUntil(
      [&] {
        json st = s.c->rolloutStatus("bg");
        auto sets = s.c->rolloutReplicaSets("bg");
        return str(st, "phase") == "Paused" &&
               str(analysisRun(st, "PrePromotion"), "phase") == "Successful" &&
               sets[h2].spec_replicas == 1 && sets[h2].ready_replicas == 1;
      },
      30s, 150ms))
      << s.c->rolloutStatus("bg").dump() << s.logs();
  EXPECT_EQ(s.c->serviceSelector("bg-preview")["pod-template-hash"], h2);
  EXPECT_EQ(s.c->serviceSelector("bg-active")["pod-template-hash"], h1) << "not promoted yet";
  EXPECT_EQ(s.c->revisionReplicas("bg", h1), 3);
  EXPECT_EQ(metricCounter(analysisRun(s.c->rolloutStatus("bg"), "PrePromotion"), "measured"), 3);

  CommandResult promote = s.c->rolloutCommand({"promote", "bg"});
  ASSERT_EQ(promote.exit_code, 0) << promote.err << promote.out;
  // The switch: the new revision at the active's size first, then bg-active on it; the old
  // revision keeps its pods.
  ASSERT_TRUE(waitUntil(
      [&] { return s.c->serviceSelector("bg-active")["pod-template-hash"] == h2; }, 30s, 100ms))
      << s.c->rolloutStatus("bg").dump() << s.logs();
  auto sets = s.c->rolloutReplicaSets("bg");
  EXPECT_EQ(sets[h2].spec_replicas, 3);
  EXPECT_EQ(sets[h2].ready_replicas, 3) << "switched to a revision whose pods are not all ready";
  EXPECT_EQ(sets[h1].spec_replicas, 3) << "the old revision must stay for the scale-down delay";
  EXPECT_EQ(sets[h1].ready_replicas, 3);

  // Post-promotion analysis passes; the old revision still runs right after it...
  ASSERT_TRUE(waitUntil(
      [&] {
        return str(analysisRun(s.c->rolloutStatus("bg"), "PostPromotion"), "phase") == "Successful";
      },
      30s, 100ms))
      << s.c->rolloutStatus("bg").dump() << s.logs();
  EXPECT_EQ(s.c->revisionReplicas("bg", h1), 3) << "scaled down before scaleDownDelaySeconds";
  // ...and goes to 0 after the delay.
  ASSERT_NO_FATAL_FAILURE(expectPromoted(s, "bg", h1, h2, 3, "ScaledDownOldRevision"));
  EXPECT_EQ(s.c->serviceSelector("bg-active")["pod-template-hash"], h2);
  EXPECT_EQ(str(s.c->rolloutStatus("bg"), "activeSelector"), h2);
}

TEST(RolloutE2eTest, BlueGreenFailedPostPromotionAnalysisSwitchesBack) {
  Stack s;
  // The preview passes its checks (app "ok"); after the switch the errors come ("bad").
  ASSERT_NO_FATAL_FAILURE(
      startStack(s, {{"ok", kPassing}, {"bad", kPassing}},
                 {serviceYaml("bg2-active", "bg2"), serviceYaml("bg2-preview", "bg2")}));
  const std::string strategy =
      blueGreenStrategy("bg2", "      scaleDownDelaySeconds: 30\n", "ok", "errors-delayed", "bad");
  const std::string v1 = rolloutYaml("bg2", 3, 1, strategy);
  const std::string v2 = rolloutYaml("bg2", 3, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);

  ASSERT_NO_FATAL_FAILURE(s.setErrorRatio("bad", kFailing));
  s.c->kubectl({"apply", "-f", "-"}, v2);
  // Auto-promotion: bg2-active switches to the new revision (for at least the analysis's
  // 3 s initial delay)...
  ASSERT_TRUE(waitUntil(
      [&] { return s.c->serviceSelector("bg2-active")["pod-template-hash"] == h2; }, 30s, 100ms))
      << s.c->rolloutStatus("bg2").dump() << s.logs();
  // ...and back when the post-promotion analysis fails.
  ASSERT_TRUE(waitUntil(
      [&] {
        return str(s.c->rolloutStatus("bg2"), "phase") == "Aborted" &&
               s.c->serviceSelector("bg2-active")["pod-template-hash"] == h1;
      },
      30s, 150ms))
      << s.c->rolloutStatus("bg2").dump() << s.logs();
  json st = s.c->rolloutStatus("bg2");
  EXPECT_EQ(str(st, "activeSelector"), h1) << st.dump();
  EXPECT_EQ(str(st, "stableRevision"), h1) << st.dump();
  EXPECT_EQ(str(analysisRun(st, "PostPromotion"), "phase"), "Failed") << st.dump();
  EXPECT_EQ(s.c->revisionReplicas("bg2", h1), 3);
  ASSERT_TRUE(waitUntil([&] { return s.c->revisionReplicas("bg2", h2) == 0; }, 20s, 150ms))
      << "the new revision is scaled to 0 after the switch back\n"
      << s.c->rolloutStatus("bg2").dump();
  expectWarningAndConditionNaming(s, "bg2", "error-ratio");
}

// ---------------------------------------------------------------------------------------
// 5. The operator killed mid-rollout resumes where the status says.

TEST(RolloutE2eTest, OperatorKilledMidRolloutResumesAtTheSameStep) {
  Stack s;
  ASSERT_NO_FATAL_FAILURE(startStack(s, {{"app", kPassing}}));
  const std::string strategy =
      "    canary:\n"
      "      steps:\n"
      "        - setWeight: 50\n"
      "        - analysis: {templates: [{templateName: errors-long}], args: [{name: app, value: "
      "app}]}\n"
      "        - pause: {}\n"
      "        - setWeight: 75\n";
  const std::string v1 = rolloutYaml("app", 4, 1, strategy);
  const std::string v2 = rolloutYaml("app", 4, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);
  s.c->kubectl({"apply", "-f", "-"}, v2);

  // Killed in the middle of the analysis step (8 measurements, one a second).
  ASSERT_TRUE(atStep(s, "app", 1, [](const json& status, std::string& why) {
    const int64_t measured = metricCounter(analysisRun(status, "Step"), "measured");
    why = "measured " + std::to_string(measured);
    return measured >= 2;
  }));
  s.op->signal(SIGKILL);
  ASSERT_TRUE(s.op->waitExit(5s).has_value());
  const json at_kill = s.c->rolloutStatus("app");
  const json run_at_kill = analysisRun(at_kill, "Step");
  const int64_t measured_at_kill = metricCounter(run_at_kill, "measured");
  ASSERT_EQ(num(at_kill, "currentStepIndex"), 1) << at_kill.dump();
  ASSERT_LT(measured_at_kill, 8) << "the analysis ended before the kill: " << at_kill.dump();
  const size_t creates_before = s.c->audit("verb=create&resource=replicasets").size();

  ASSERT_NO_FATAL_FAILURE(s.startOperator());
  // Until the pause: the step never goes back, the counters never drop.
  int64_t min_step = 1, min_measured = measured_at_kill;
  ASSERT_TRUE(waitUntil(
      [&] {
        json st = s.c->rolloutStatus("app");
        const int64_t step = num(st, "currentStepIndex");
        min_step = std::min(min_step, step);
        json run = analysisRun(st, "Step");
        if (str(run, "name") == str(run_at_kill, "name")) {
          min_measured = std::min(min_measured, metricCounter(run, "measured"));
        }
        return step == 2 && str(st, "phase") == "Paused";
      },
      30s, 100ms))
      << s.c->rolloutStatus("app").dump() << s.logs();
  EXPECT_EQ(min_step, 1) << "went back to an earlier step after the restart";
  EXPECT_EQ(min_measured, measured_at_kill) << "the analysis counters were reset";
  json run = analysisRun(s.c->rolloutStatus("app"), "Step");
  EXPECT_EQ(str(run, "phase"), "Successful") << run.dump();
  EXPECT_EQ(metricCounter(run, "measured"), 8)
      << "the run took more than its count: " << run.dump();
  EXPECT_EQ(str(run, "startedAt"), str(run_at_kill, "startedAt")) << "the run was restarted";
  EXPECT_EQ(s.c->audit("verb=create&resource=replicasets").size(), creates_before)
      << "the restarted operator created a ReplicaSet";

  // Killed again while paused for a person: the new operator waits there, and goes on once
  // promoted.
  s.op->signal(SIGKILL);
  ASSERT_TRUE(s.op->waitExit(5s).has_value());
  ASSERT_NO_FATAL_FAILURE(s.startOperator());
  CommandResult promote = s.c->rolloutCommand({"promote", "app"});
  ASSERT_EQ(promote.exit_code, 0) << promote.err << promote.out;
  min_step = 2;
  ASSERT_TRUE(waitUntil(
      [&] {
        json st = s.c->rolloutStatus("app");
        min_step = std::min(min_step, num(st, "currentStepIndex"));
        return str(st, "phase") == "Healthy";
      },
      30s, 100ms))
      << s.c->rolloutStatus("app").dump() << s.logs();
  EXPECT_EQ(min_step, 2) << "went back to an earlier step after the second restart";
  ASSERT_NO_FATAL_FAILURE(expectPromoted(s, "app", h1, h2, 4));
}

// ---------------------------------------------------------------------------------------
// 6. A ScalingPolicy scales a Rollout mid-canary: the weight stays; scale-down is held.

// A ScalingPolicy shop/app on Rollout shop/app whose schedule is always in force with floor
// `floor`; no scale-down stabilization, so only the rollout can hold a scale-down.
std::string rolloutPolicy(int floor) {
  return "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
         "metadata: {name: app, namespace: shop}\nspec:\n"
         "  scaleTargetRef: {apiVersion: governor.io/v1alpha1, kind: Rollout, name: app}\n"
         "  minReplicas: 1\n  maxReplicas: 20\n"
         "  schedules:\n"
         "    - {name: always, start: '* * * * *', duration: 2m, minReplicas: " +
         std::to_string(floor) +
         "}\n"
         "  behavior:\n    scaleDown: {stabilizationWindowSeconds: 0}\n";
}

// Whether the ScalingPolicy's status says that Rollout shop/app holds its scale-down: the
// ScalingLimited condition, reason ScaleDownHeld, naming the Rollout.
bool saysRolloutHolds(const json& condition) {
  return str(condition, "reason") == "ScaleDownHeld" &&
         str(condition, "message").find("Rollout shop/app") != std::string::npos &&
         str(condition, "message").find("held") != std::string::npos;
}

TEST(RolloutE2eTest, ScalingPolicyMidCanaryKeepsTheWeightAndScaleDownIsHeld) {
  Stack s;
  ASSERT_NO_FATAL_FAILURE(startStack(s, {{"app", kPassing}}));
  const std::string strategy =
      "    canary:\n"
      "      steps:\n"
      "        - setWeight: 25\n"
      "        - pause: {duration: 10m}\n";
  const std::string v1 = rolloutYaml("app", 4, 1, strategy);
  const std::string v2 = rolloutYaml("app", 4, 2, strategy);
  const std::string h1 = applyAndWaitHealthy(s, v1, 30s);
  const std::string h2 = revisionOf(v2);
  const rollouts::CanaryStrategy canary = *parsed(v2).canary();
  s.c->kubectl({"apply", "-f", "-"}, v2);
  ASSERT_TRUE(
      atStep(s, "app", 1, hasSplit(s, "app", h1, h2, rollouts::canarySplit(canary, 4, 25))));
  ASSERT_EQ(str(s.c->rolloutStatus("app"), "phase"), "Progressing") << "a timed pause";

  // The policy raises the Rollout from 4 to 8: the split follows at the same weight.
  s.c->kubectl({"apply", "-f", "-"}, rolloutPolicy(8));
  ASSERT_TRUE(
      waitUntil([&] { return num(s.c->rollout("app")["spec"], "replicas") == 8; }, 20s, 150ms))
      << s.c->policyStatus("app").dump() << s.logs();
  EXPECT_TRUE(
      atStep(s, "app", 1, hasSplit(s, "app", h1, h2, rollouts::canarySplit(canary, 8, 25))));

  // The floor drops: the scale-down waits while the Rollout progresses, and the policy's
  // status says why.
  s.c->kubectl({"apply", "-f", "-"}, rolloutPolicy(2));
  ASSERT_TRUE(waitUntil(
      [&] {
        return num(s.c->policyStatus("app"), "observedGeneration") == 2 &&
               saysRolloutHolds(s.c->condition("ScalingLimited", "app"));
      },
      20s, 150ms))
      << "the ScalingPolicy status never says the Rollout holds the scale-down: "
      << s.c->policyStatus("app").dump() << s.logs();
  EXPECT_EQ(num(s.c->rollout("app")["spec"], "replicas"), 8) << "scaled down mid-canary";
  EXPECT_EQ(num(s.c->rolloutStatus("app"), "currentStepIndex"), 1) << "scaling moved the step";
  EXPECT_TRUE(
      atStep(s, "app", 1, hasSplit(s, "app", h1, h2, rollouts::canarySplit(canary, 8, 25))));

  // Promoted: the update ends, and the held scale-down goes through.
  CommandResult promote = s.c->rolloutCommand({"promote", "app"});
  ASSERT_EQ(promote.exit_code, 0) << promote.err << promote.out;
  ASSERT_TRUE(waitUntil(
      [&] {
        json st = s.c->rolloutStatus("app");
        return str(st, "phase") == "Healthy" && str(st, "stableRevision") == h2 &&
               num(s.c->rollout("app")["spec"], "replicas") == 2 &&
               s.c->revisionReplicas("app", h2) == 2 && s.c->revisionReplicas("app", h1) == 0;
      },
      40s, 150ms))
      << s.c->rolloutStatus("app").dump() << s.c->policyStatus("app").dump() << s.logs();
}

// ---------------------------------------------------------------------------------------
// 7. Bad Rollout specs are rejected with the field's path.

constexpr char kBadSpecStrategy[] =
    "    canary:\n"
    "      steps:\n"
    "        - setWeight: 50\n"
    "        - pause: {}\n";

// A valid canary Rollout "bad" with `from` replaced by `to` (the first occurrence).
std::string mutated(const std::string& from, const std::string& to) {
  std::string yaml = rolloutYaml("bad", 2, 1, kBadSpecStrategy);
  const size_t at = yaml.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) yaml.replace(at, from.size(), to);
  return yaml;
}

struct BadSpecCase {
  std::string name;
  std::string from, to;  // mutated(from, to) is the bad Rollout.
  std::string field;     // The path the error names.
};
void PrintTo(const BadSpecCase& c, std::ostream* os) { *os << c.name << " (" << c.field << ")"; }

// Rejected by the CRD's schema: `kubectl apply` fails and names the field.
class RolloutCrdRejectsE2eTest : public ::testing::TestWithParam<BadSpecCase> {
 protected:
  static void SetUpTestSuite() { cluster_ = E2eCluster::start(1).release(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static E2eCluster* cluster_;
};
E2eCluster* RolloutCrdRejectsE2eTest::cluster_ = nullptr;

TEST_P(RolloutCrdRejectsE2eTest, ApplyFailsNamingTheField) {
  ASSERT_NE(cluster_, nullptr);
  const BadSpecCase& tc = GetParam();
  const std::string yaml = mutated(tc.from, tc.to);
  CommandResult r = cluster_->server().kubectl({"apply", "-f", "-"}, yaml);
  EXPECT_NE(r.exit_code, 0) << yaml << r.out;
  EXPECT_NE(r.err.find(tc.field), std::string::npos) << r.err;
  EXPECT_FALSE(cluster_->rollout("bad").is_object()) << "stored anyway";
  // The unmutated Rollout is accepted: the case tests its one field.
  CommandResult good = cluster_->server().kubectl({"apply", "--dry-run=server", "-f", "-"},
                                                  mutated(tc.from, tc.from));
  EXPECT_EQ(good.exit_code, 0) << good.err;
}

INSTANTIATE_TEST_SUITE_P(
    Schema, RolloutCrdRejectsE2eTest,
    ::testing::Values(BadSpecCase{"WeightAbove100", "setWeight: 50", "setWeight: 120",
                                  "spec.strategy.canary.steps[0].setWeight"},
                      BadSpecCase{"NegativeReplicas", "replicas: 2", "replicas: -1",
                                  "spec.replicas"},
                      BadSpecCase{"TwoActionsInOneStep", "- setWeight: 50",
                                  "- {setWeight: 50, pause: {}}", "spec.strategy.canary.steps[0]"},
                      BadSpecCase{"ContainerWithoutImage", "image: 'registry.example.com/bad:1'",
                                  "ports: []", "spec.template.spec.containers[0].image"},
                      BadSpecCase{"BlueGreenWithoutActiveService", kBadSpecStrategy,
                                  "    blueGreen: {previewService: p}\n",
                                  "spec.strategy.blueGreen.activeService"},
                      BadSpecCase{"BadPauseDuration", "pause: {}", "pause: {duration: 10 minutes}",
                                  "spec.strategy.canary.steps[1].pause.duration"}),
    [](const auto& info) { return info.param.name; });

// Accepted by the schema, refused by the controller's parser: phase Degraded, condition
// InvalidSpec naming the field, a Warning Event; no ReplicaSet; other Rollouts unaffected.
TEST(RolloutE2eTest, ControllerRefusesWhatOnlyTheParserChecks) {
  const std::vector<BadSpecCase> cases = {
      {"SelectorDoesNotMatchTemplate", "selector: {matchLabels: {app: bad}}",
       "selector: {matchLabels: {app: other}}", "spec.selector"},
      {"CanaryScaleWithoutRouter", "- pause: {}", "- setCanaryScale: {replicas: 1}",
       "spec.strategy.canary.steps[1].setCanaryScale"},
      {"BackgroundAnalysisBeyondTheSteps", "      steps:",
       "      analysis: {templates: [{templateName: errors}], startingStep: 5}\n      steps:",
       "spec.strategy.canary.analysis.startingStep"},
  };
  Stack s;
  ASSERT_NO_FATAL_FAILURE(startStack(s, {{"app", kPassing}}));
  std::vector<std::string> names;
  for (const auto& tc : cases) {
    std::string yaml = mutated(tc.from, tc.to);
    std::string name = "bad-" + std::to_string(names.size());
    yaml.replace(yaml.find("name: bad,"), 10, "name: " + name + ",");
    s.c->kubectl({"apply", "-f", "-"}, yaml);  // The schema accepts it.
    names.push_back(name);
  }
  // A good one next to them converges.
  applyAndWaitHealthy(s, rolloutYaml("app", 2, 1, "    canary: {steps: [{setWeight: 50}]}\n"), 30s);

  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    const std::string& name = names[i];
    ASSERT_TRUE(waitUntil(
        [&] {
          return str(s.c->rolloutStatus(name), "phase") == "Degraded" &&
                 s.c->rolloutCondition(name, "InvalidSpec").is_object();
        },
        20s, 150ms))
        << s.c->rolloutStatus(name).dump() << s.logs();
    json invalid = s.c->rolloutCondition(name, "InvalidSpec");
    EXPECT_EQ(str(invalid, "status"), "True");
    EXPECT_NE(str(invalid, "message").find(cases[i].field), std::string::npos) << invalid.dump();
    bool warned = false;
    for (const json& e : s.c->events("Rollout", name)) {
      warned =
          warned || (e.value("type", "") == "Warning" && e.value("reason", "") == "InvalidSpec" &&
                     e.value("message", "").find(cases[i].field) != std::string::npos);
    }
    EXPECT_TRUE(warned) << json(s.c->events("Rollout", name)).dump();
    EXPECT_TRUE(s.c->rolloutReplicaSets(name).empty()) << "acted on an invalid spec";
  }
  EXPECT_TRUE(s.op->running()) << s.logs();
}

}  // namespace
}  // namespace governor::testing
