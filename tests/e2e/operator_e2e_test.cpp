// `governor operator` end to end, against the test API server: what a user sees with kubectl.

#include <chrono>
#include <ctime>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>
#include <yaml-cpp/yaml.h>

#include "rollouts/spec.h"
#include "rollouts/template_hash.h"
#include "tests/e2e/e2e_support.h"
#include "tests/prometheus/test_prometheus.h"

namespace governor::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Writes by the operator: what "only the leader writes" and "dry run writes nothing" count.
size_t writesBy(E2eCluster& c, const std::string& user, const std::string& resource) {
  size_t n = 0;
  for (const json& r : c.audit("user=" + user + "&resource=" + resource)) {
    const std::string verb = r.value("verb", "");
    if (verb == "update" || verb == "patch" || verb == "create") ++n;
  }
  return n;
}

TEST(OperatorE2eTest, ScheduleScalesTheTargetAndStatusAndEventsSayWhy) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(5));
  auto op = c->startOperator("op", {"--sync-period", "2s"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 5; }, 20s)) << op->logTail();

  ASSERT_TRUE(waitUntil([&] { return c->condition("Ready").is_object(); }, 10s));
  json ready = c->condition("Ready");
  EXPECT_EQ(ready["status"], "True");
  EXPECT_EQ(ready["reason"], "ScheduleActive");
  EXPECT_EQ(c->condition("AbleToScale")["status"], "True");
  EXPECT_EQ(c->condition("InvalidSpec")["status"], "False");
  json status = c->policyStatus();
  EXPECT_EQ(status["desiredReplicas"], 5);
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_TRUE(status.contains("lastScaleTime"));

  json events = c->getJson({"-n", "shop", "events"});
  bool found = false;
  for (const json& e : events["items"]) {
    if (e.value("reason", "") == "SuccessfulRescale" &&
        e["involvedObject"].value("kind", "") == "ScalingPolicy") {
      found = true;
      EXPECT_EQ(e.value("message", "").rfind("New size: 5; reason: ", 0), 0u) << e.dump();
      EXPECT_EQ(e.value("type", ""), "Normal");
    }
  }
  EXPECT_TRUE(found) << events.dump();
  // kubectl's printer columns.
  std::string table = c->kubectl({"-n", "shop", "get", "scalingpolicies"});
  EXPECT_NE(table.find("TARGET"), std::string::npos) << table;
  EXPECT_NE(table.find("DESIRED"), std::string::npos) << table;
}

TEST(OperatorE2eTest, WindowOpensOnTimeNotAtTheNextSync) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  // The next whole minute at least 25 s away, in UTC.
  const auto now = std::chrono::system_clock::now();
  auto opens = std::chrono::ceil<std::chrono::minutes>(now);
  if (opens - now < 25s) opens += std::chrono::minutes(1);
  const std::time_t t = std::chrono::system_clock::to_time_t(opens);
  std::tm utc{};
  gmtime_r(&t, &utc);
  const std::string cron =
      std::to_string(utc.tm_min) + " " + std::to_string(utc.tm_hour) + " * * *";
  const std::string policy =
      "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
      "metadata: {name: web, namespace: shop}\nspec:\n"
      "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
      "  minReplicas: 1\n  maxReplicas: 20\n"
      "  schedules:\n    - {name: launch, start: '" +
      cron + "', duration: 20s, minReplicas: 4}\n";
  c->kubectl({"apply", "-f", "-"}, policy);
  // A sync period far longer than the test: only the decision's recheck time can be on time.
  auto op = c->startOperator("op", {"--sync-period", "10m"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->policyStatus().is_object(); }, 15s)) << op->logTail();
  EXPECT_EQ(c->replicas(), 2) << "no window yet; the scale-down window holds the count";

  std::optional<std::chrono::system_clock::time_point> scaled;
  waitUntil(
      [&] {
        if (c->replicas() == 4) scaled = std::chrono::system_clock::now();
        return scaled.has_value();
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(opens - now) + 15s, 100ms);
  ASSERT_TRUE(scaled.has_value()) << op->logTail();
  EXPECT_GE(*scaled, opens - 200ms) << "scaled before the window opened";
  EXPECT_LE(*scaled, opens + 5s) << "scaled late";
}

TEST(OperatorE2eTest, SpecChangeIsPickedUpFromTheWatch) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(3));
  auto op = c->startOperator("op", {"--sync-period", "10m"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 3; }, 20s)) << op->logTail();
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(7));
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 7; }, 10s)) << op->logTail();
  ASSERT_TRUE(waitUntil([&] { return c->policyStatus()["observedGeneration"] == 2; }, 10s));
}

TEST(OperatorE2eTest, DryRunComputesAndRecordsButNeverWritesScale) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(6));
  auto op = c->startOperator("op", {"--sync-period", "1s", "--dry-run"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->condition("AbleToScale").is_object(); }, 20s))
      << op->logTail();
  json able = c->condition("AbleToScale");
  EXPECT_EQ(able["reason"], "DryRun");
  EXPECT_EQ(c->policyStatus()["desiredReplicas"], 6);
  std::this_thread::sleep_for(3s);  // Three more sync periods: still nothing written.
  EXPECT_EQ(c->replicas(), 2);
  EXPECT_EQ(writesBy(*c, kOperatorUser, "deployments"), 0u);
  EXPECT_GT(writesBy(*c, kOperatorUser, "scalingpolicies"), 0u) << "status is written";
}

TEST(OperatorE2eTest, OlderPolicyKeepsTheTargetAndTheOtherIsRefused) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(5));
  auto op = c->startOperator("op", {"--sync-period", "1s"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 5; }, 20s)) << op->logTail();
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(9, "", "web-rival"));
  ASSERT_TRUE(waitUntil([&] { return c->condition("AbleToScale", "web-rival").is_object(); }, 10s));
  json refused = c->condition("AbleToScale", "web-rival");
  EXPECT_EQ(refused["status"], "False");
  EXPECT_EQ(refused["reason"], "TargetManagedElsewhere");
  EXPECT_NE(refused.value("message", "").find("ScalingPolicy shop/web"), std::string::npos);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c->replicas(), 5) << "the two policies do not fight";
  // The first one goes: the rival takes over.
  c->kubectl({"-n", "shop", "delete", "scalingpolicy", "web"});
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 9; }, 10s)) << op->logTail();
}

TEST(OperatorE2eTest, InvalidSpecIsAConditionAndAnEventAndBlocksNoOtherPolicy) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  // The CRD schema cannot parse cron: the operator's parser catches it.
  c->kubectl({"-n", "shop", "create", "deployment", "api", "--image=nginx", "--replicas=1"});
  std::string bad = alwaysOnPolicy(3, "", "broken");
  bad.replace(bad.find("'* * * * *'"), 11, "'61 * * * *'");
  bad.replace(bad.find("name: web}"), 10, "name: api}");
  c->kubectl({"apply", "-f", "-"}, bad);
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(4));
  auto op = c->startOperator("op", {"--sync-period", "1s"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 4; }, 20s)) << op->logTail();
  ASSERT_TRUE(waitUntil([&] { return c->condition("InvalidSpec", "broken").is_object(); }, 10s));
  json invalid = c->condition("InvalidSpec", "broken");
  EXPECT_EQ(invalid["status"], "True");
  EXPECT_NE(invalid.value("message", "").find("spec.schedules[0].start"), std::string::npos)
      << invalid.dump();
  EXPECT_EQ(c->replicas("api"), 1);
  json events =
      c->getJson({"-n", "shop", "events", "--field-selector", "involvedObject.name=broken"});
  ASSERT_TRUE(events.is_object());
  bool warned = false;
  for (const json& e : events["items"]) {
    warned = warned || (e.value("reason", "") == "InvalidSpec" && e.value("type", "") == "Warning");
  }
  EXPECT_TRUE(warned) << events.dump();
  EXPECT_TRUE(op->running()) << op->logTail();
}

TEST(OperatorE2eTest, LeaderFailoverKeepsTheStabilizationWindow) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"create", "namespace", "governor-system"});
  ASSERT_TRUE(
      c->server().control("POST", "/_test/tokens", R"({"token":"b-token","user":"b"})").ok());
  // Scale-down stabilization of 30 s: after the floor drops, the count must stay up for 30 s
  // from the last high recommendation, whoever leads.
  const std::string behavior = "  behavior:\n    scaleDown: {stabilizationWindowSeconds: 30}\n";
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(6, behavior));
  const std::vector<std::string> election = {"--leader-elect",
                                             "--leader-elect-namespace",
                                             "governor-system",
                                             "--leader-elect-lease-duration",
                                             "4s",
                                             "--leader-elect-renew-deadline",
                                             "3s",
                                             "--leader-elect-retry-period",
                                             "500ms",
                                             "--sync-period",
                                             "1s"};
  std::vector<std::string> a_args = election, b_args = election;
  a_args.insert(a_args.end(), {"--leader-elect-identity", "replica-a"});
  b_args.insert(b_args.end(), {"--leader-elect-identity", "replica-b"});
  auto a = c->startOperator("a", a_args);
  ASSERT_TRUE(a);
  auto holder = [&] {
    json lease = c->getJson({"-n", "governor-system", "lease", "governor-leader"});
    return lease.is_object() ? lease["spec"].value("holderIdentity", "") : std::string();
  };
  ASSERT_TRUE(waitUntil([&] { return holder() == "replica-a"; }, 20s)) << a->logTail();
  auto b = c->startOperator("b", b_args, "b-token");
  ASSERT_TRUE(b);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 6; }, 20s)) << a->logTail();

  // Only the leader writes.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(holder(), "replica-a");
  EXPECT_EQ(writesBy(*c, "b", "deployments"), 0u);
  EXPECT_EQ(writesBy(*c, "b", "scalingpolicies"), 0u);

  // The floor drops; stabilization holds at 6. Then the leader dies without a word.
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(2, behavior));
  const auto dropped = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitUntil([&] { return c->policyStatus()["observedGeneration"] == 2; }, 10s));
  a->signal(SIGKILL);
  ASSERT_TRUE(a->waitExit(5s).has_value());

  // The other replica takes over within the lease duration (plus a retry period)...
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(waitUntil([&] { return holder() == "replica-b"; }, 10s)) << b->logTail();
  EXPECT_LE(std::chrono::steady_clock::now() - killed, 4s + 3s);
  // ...and keeps the window it finds in the status: no scale-down before 30 s from the drop.
  while (std::chrono::steady_clock::now() - dropped < 25s) {
    ASSERT_EQ(c->replicas(), 6) << "scaled down early: the stabilization window was lost\n"
                                << b->logTail();
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 2; }, 20s)) << b->logTail();
  EXPECT_GT(writesBy(*c, "b", "deployments"), 0u);

  // SIGTERM: drains, releases the Lease, exits 0 within a few seconds.
  b->signal(SIGTERM);
  auto code = b->waitExit(10s);
  ASSERT_TRUE(code.has_value()) << "did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << b->logTail();
  EXPECT_EQ(holder(), "") << "the Lease is released";
}

// Faults injected into the API server: each is survived, the target ends at the right size,
// the operator keeps running.
struct FaultCase {
  std::string name;
  std::string fault;   // POST /_test/faults body, or "" for none.
  std::string action;  // "drop": drop watches; "compact": compact history and drop watches.
};

class OperatorFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(OperatorFaultTest, IsSurvivedWithNoWrongScale) {
  const FaultCase& fc = GetParam();
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(4));
  auto op = c->startOperator("op", {"--sync-period", "1s"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 4; }, 20s)) << op->logTail();

  if (!fc.fault.empty()) {
    auto injected = c->server().control("POST", "/_test/faults", fc.fault);
    ASSERT_TRUE(injected.ok()) << injected.status().toString();
  }
  if (fc.action == "compact") {
    ASSERT_TRUE(c->server().control("POST", "/_test/compact").ok());
  }
  if (fc.action == "drop" || fc.action == "compact") {
    ASSERT_TRUE(c->server().control("POST", "/_test/watches/drop").ok());
  }
  // A spec change while (or right after) the fault hits.
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(7));
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 7; }, 30s)) << op->logTail();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c->replicas(), 7) << "no wrong scale after recovering";
  EXPECT_TRUE(op->running()) << op->logTail();
  // Exactly two scales went through (2 -> 4, 4 -> 7): retries repeat failed writes only.
  size_t succeeded = 0;
  for (const json& r : c->audit("resource=deployments&subresource=scale&verb=update")) {
    if (r.value("code", 0) == 200) ++succeeded;
  }
  EXPECT_EQ(succeeded, 2u);
  ASSERT_TRUE(c->server().control("DELETE", "/_test/faults").ok());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, OperatorFaultTest,
    ::testing::Values(
        FaultCase{
            "ScaleUpdate5xx",
            R"({"verb":"update","resource":"deployments","subresource":"scale","code":500,"count":2})",
            ""},
        FaultCase{
            "Throttled429",
            R"({"resource":"deployments","subresource":"scale","code":429,"retryAfterSeconds":1,"count":2})",
            ""},
        FaultCase{
            "StatusConflict",
            R"({"verb":"update","resource":"scalingpolicies","subresource":"status","code":409,"count":2})",
            ""},
        FaultCase{"SlowApiServer", R"({"resource":"deployments","delayMs":1500,"count":3})", ""},
        FaultCase{"DroppedWatch", "", "drop"}, FaultCase{"WatchGone410", "", "compact"}),
    [](const auto& info) { return info.param.name; });

TEST(OperatorE2eTest, TargetManagedByAnHpaIsRefusedNotFoughtOver) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"apply", "-f", "-"},
             "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
             "metadata: {name: web-hpa, namespace: shop}\n"
             "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
             "  minReplicas: 2\n  maxReplicas: 5\n");
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(6));
  auto op = c->startOperator("op", {"--sync-period", "1s"});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->condition("AbleToScale").is_object(); }, 20s))
      << op->logTail();
  json refused = c->condition("AbleToScale");
  EXPECT_EQ(refused["status"], "False");
  EXPECT_EQ(refused["reason"], "TargetManagedElsewhere");
  EXPECT_NE(refused.value("message", "").find("HorizontalPodAutoscaler shop/web-hpa"),
            std::string::npos);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c->replicas(), 2);
  // The HPA is removed: the policy takes the target over, through the watch.
  c->kubectl({"-n", "shop", "delete", "hpa", "web-hpa"});
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 6; }, 10s)) << op->logTail();
}

// Every (group, resource, verb) the operator calls is granted by manifests/rbac, and every
// grant is used: the ClusterRole and Role are exactly what the code needs.
TEST(OperatorE2eTest, RbacCoversExactlyWhatTheOperatorCalls) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"create", "namespace", "governor-system"});
  // Every code path: a Deployment and a StatefulSet target, an HPA, a per-pod metric without
  // Prometheus (pods are listed, then the fetch fails, again and again: repeated Events).
  c->kubectl({"apply", "-f", "-"},
             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: shop}\n"
             "spec:\n  replicas: 1\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n"
             "  template:\n    metadata: {labels: {app: db}}\n"
             "    spec: {containers: [{name: db, image: postgres}]}\n");
  c->kubectl({"-n", "shop", "create", "deployment", "other", "--image=nginx", "--replicas=1"});
  c->kubectl({"-n", "shop", "create", "deployment", "api", "--image=nginx", "--replicas=1"});
  c->kubectl({"apply", "-f", "-"},
             "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
             "metadata: {name: other, namespace: shop}\n"
             "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: other}\n"
             "  maxReplicas: 5\n");
  c->kubectl({"apply", "-f", "-"}, alwaysOnPolicy(3));
  std::string db = alwaysOnPolicy(2, "", "db");
  db.replace(db.find("kind: Deployment, name: web"), 27, "kind: StatefulSet, name: db");
  c->kubectl({"apply", "-f", "-"}, db);
  c->kubectl({"apply", "-f", "-"},
             "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
             "metadata: {name: per-pod, namespace: shop}\nspec:\n"
             "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n"
             "  maxReplicas: 5\n  metrics:\n"
             "    - {name: rps, prometheus: {query: 'rate(x[1m])', perPod: true},\n"
             "       target: {type: AverageValue, averageValue: '10'}}\n");
  // Rollouts, every path of the rollout controller: a canary behind a Gateway API HTTPRoute
  // with an analysis step (AnalysisTemplates, Services, the route), a blue-green with pre-
  // promotion analysis, both updated once and keeping no history (old ReplicaSets deleted),
  // and a ScalingPolicy on a Rollout (its /scale). Prometheus answers the analyses' constant
  // query without any target.
  auto prometheus = TestPrometheus::start();
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
  c->kubectl({"apply", "-f", std::string(GOVERNOR_TEST_DATA) + "/gateway/httproute-crd.yaml"});
  c->kubectl({"apply", "-f", "-"},
             "apiVersion: governor.io/v1alpha1\nkind: AnalysisTemplate\n"
             "metadata: {name: check, namespace: shop}\nspec:\n  metrics:\n"
             "    - {name: errors, interval: 1s, count: 1, failureCondition: result > 0.05,\n"
             "       provider: {prometheus: {query: 'vector(0.01)'}}}\n");
  for (const char* service : {"cart-stable", "cart-canary", "bg-active", "bg-preview"}) {
    c->kubectl({"apply", "-f", "-"}, serviceYaml(service, "x"));
  }
  c->kubectl({"apply", "-f", "-"}, httpRouteYaml("cart", "cart-stable", "cart-canary"));
  auto rollout = [](const std::string& name, int version, const std::string& strategy) {
    return "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: " + name +
           ", namespace: shop}\nspec:\n  replicas: 1\n  revisionHistoryLimit: 0\n"
           "  selector: {matchLabels: {app: " +
           name + "}}\n  template:\n    metadata: {labels: {app: " + name +
           "}}\n    spec: {containers: [{name: app, image: 'app:" + std::to_string(version) +
           "'}]}\n  strategy:\n" + strategy;
  };
  const std::string canary =
      "    canary:\n      stableService: cart-stable\n      canaryService: cart-canary\n"
      "      trafficRouting: {gatewayAPI: {httpRoute: cart}}\n"
      "      steps: [{setWeight: 50}, {analysis: {templates: [{templateName: check}]}}]\n";
  const std::string blue_green =
      "    blueGreen:\n      activeService: bg-active\n      previewService: bg-preview\n"
      "      scaleDownDelaySeconds: 0\n"
      "      prePromotionAnalysis: {templates: [{templateName: check}]}\n";
  c->kubectl({"apply", "-f", "-"}, rollout("cart", 1, canary));
  c->kubectl({"apply", "-f", "-"}, rollout("bg", 1, blue_green));
  // A ReplicaSet that is not the controller's squats the name of Rollout "clash"'s revision:
  // its create gets AlreadyExists, and it reads the ReplicaSet to see whose it is.
  const std::string clash = rollout("clash", 1, "    canary: {steps: [{setWeight: 50}]}\n");
  auto clash_spec = rollouts::parseRollout(clash, "clash");
  ASSERT_TRUE(clash_spec.ok()) << clash_spec.status().toString();
  c->kubectl({"apply", "-f", "-"},
             "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: clash-" +
                 rollouts::podTemplateHash(clash_spec->pod_template.json) +
                 ", namespace: shop}\nspec:\n  replicas: 0\n"
                 "  selector: {matchLabels: {app: squatter}}\n"
                 "  template:\n    metadata: {labels: {app: squatter}}\n"
                 "    spec: {containers: [{name: s, image: squatter}]}\n");
  c->kubectl({"apply", "-f", "-"}, clash);
  std::string cart_policy = alwaysOnPolicy(2, "", "cart");
  const std::string web_ref = "apiVersion: apps/v1, kind: Deployment, name: web";
  cart_policy.replace(cart_policy.find(web_ref), web_ref.size(),
                      "apiVersion: governor.io/v1alpha1, kind: Rollout, name: cart");
  c->kubectl({"apply", "-f", "-"}, cart_policy);

  auto op = c->startOperator(
      "op", {"--sync-period", "1s", "--leader-elect", "--leader-elect-namespace", "governor-system",
             "--leader-elect-retry-period", "500ms", "--prometheus-url", (*prometheus)->url()});
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 3; }, 20s)) << op->logTail();
  ASSERT_TRUE(waitUntil(
      [&] {
        auto s = c->getJson({"-n", "shop", "statefulset", "db"});
        return s.is_object() && s["spec"].value("replicas", 0) == 2;
      },
      20s))
      << op->logTail();
  // Both Rollouts Healthy (the canary at the policy's 2 pods), then updated to completion.
  auto healthy = [&](const std::string& name) {
    json st = c->rolloutStatus(name);
    if (!st.is_object() || st.value("phase", "") != "Healthy") return false;
    auto sets = c->rolloutReplicaSets(name);
    // revisionHistoryLimit 0: only the stable revision's ReplicaSet is left.
    return sets.size() == 1 && sets.begin()->first == st.value("stableRevision", "");
  };
  ASSERT_TRUE(waitUntil(
      [&] {
        return healthy("cart") && healthy("bg") &&
               c->rollout("cart")["spec"].value("replicas", 0) == 2;
      },
      30s, 200ms))
      << c->rolloutStatus("cart").dump() << c->rolloutStatus("bg").dump() << op->logTail();
  const std::string cart_v1 = c->rolloutStatus("cart").value("stableRevision", "");
  const std::string bg_v1 = c->rolloutStatus("bg").value("stableRevision", "");
  c->kubectl({"apply", "-f", "-"}, rollout("cart", 2, canary));
  c->kubectl({"apply", "-f", "-"}, rollout("bg", 2, blue_green));
  ASSERT_TRUE(waitUntil(
      [&] {
        return healthy("cart") && healthy("bg") &&
               c->rolloutStatus("cart").value("stableRevision", "") != cart_v1 &&
               c->rolloutStatus("bg").value("stableRevision", "") != bg_v1;
      },
      40s, 200ms))
      << c->rolloutStatus("cart").dump() << c->rolloutStatus("bg").dump() << op->logTail();
  ASSERT_TRUE(waitUntil(
      [&] {
        return !c->audit("verb=get&resource=replicasets&user=" + std::string(kOperatorUser))
                    .empty();
      },
      10s, 200ms))
      << "the operator never read the squatting ReplicaSet\n"
      << c->rolloutStatus("clash").dump() << op->logTail();
  // A few more rounds: repeated warnings are patched onto their Event.
  std::this_thread::sleep_for(4s);
  op->signal(SIGTERM);  // Releasing the Lease is an update too.
  ASSERT_TRUE(op->waitExit(10s).has_value());

  using Grant = std::tuple<std::string, std::string, std::string>;  // group, resource, verb
  std::set<Grant> used;
  for (const json& r : c->audit(std::string("user=") + kOperatorUser)) {
    const std::string resource = r.value("resource", "");
    if (resource.empty()) continue;  // Discovery: non-resource URLs every user may read.
    std::string full = resource;
    if (!r.value("subresource", "").empty()) full += "/" + r.value("subresource", "");
    used.insert({r.value("apiGroup", ""), full, r.value("verb", "")});
  }
  std::set<Grant> granted;
  CommandResult rendered =
      runCommand({"kubectl", "kustomize", std::string(GOVERNOR_SOURCE_DIR) + "/manifests"}, 60s);
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  for (const YAML::Node& doc : YAML::LoadAll(rendered.out)) {
    const std::string kind = doc["kind"].as<std::string>("");
    if (kind != "ClusterRole" && kind != "Role") continue;
    for (const YAML::Node& rule : doc["rules"]) {
      for (const auto& g : rule["apiGroups"]) {
        for (const auto& res : rule["resources"]) {
          for (const auto& v : rule["verbs"]) {
            granted.insert({g.as<std::string>(), res.as<std::string>(), v.as<std::string>()});
          }
        }
      }
    }
  }
  auto text = [](const Grant& g) {
    return "(" + std::get<0>(g) + ", " + std::get<1>(g) + ", " + std::get<2>(g) + ")";
  };
  std::string seen;
  for (const Grant& g : used) seen += text(g) + " ";
  SCOPED_TRACE("the operator called: " + seen);
  for (const Grant& g : used) {
    EXPECT_TRUE(granted.contains(g))
        << "the operator calls " << text(g) << " but manifests/rbac does not grant it";
  }
  for (const Grant& g : granted) {
    EXPECT_TRUE(used.contains(g)) << "manifests/rbac grants " << text(g)
                                  << " but the operator never calls it";
  }
}

}  // namespace
}  // namespace governor::testing
