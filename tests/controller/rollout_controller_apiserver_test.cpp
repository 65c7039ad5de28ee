// The rollout controller inside the operator (runOperator, in-process), against the test API
// server: Rollout discovery when the CRD comes after start-up, and a canary with a Gateway
// API HTTPRoute walking its setWeight steps to Healthy, checked with kubectl.

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controller/operator/operator.h"
#include "tests/support/apiserver.h"

namespace governor::controller {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TestApiServer;

const std::string kSource = GOVERNOR_SOURCE_DIR;
const std::string kData = GOVERNOR_TEST_DATA;

// Polls `done` every 100 ms until it holds or `timeout` passes. Returns done().
bool waitFor(const std::function<bool()>& done, std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return done();
}

class RolloutApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TestApiServerOptions options;
    options.pod_ready_delay = milliseconds(200);
    auto server = TestApiServer::start(options);
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(server).value();
    kubectl({"create", "namespace", "shop"});
  }

  void TearDown() override {
    stopOperator();
    if (HasFailure() && server_ != nullptr) {
      std::cerr << "--- API server log ---\n" << server_->logTail() << "\n";
    }
  }

  void kubectl(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    auto r = server_->kubectl(args, stdin_data);
    ASSERT_EQ(r.exit_code, 0) << "kubectl failed: " << r.err << r.out;
  }

  // `kubectl get <what> -o json`, parsed; null when it fails.
  json getJson(std::vector<std::string> what) {
    std::vector<std::string> args = {"get"};
    args.insert(args.end(), what.begin(), what.end());
    args.insert(args.end(), {"-o", "json"});
    auto r = server_->kubectl(args);
    if (r.exit_code != 0) return nullptr;
    return json::parse(r.out, nullptr, false);
  }

  // The Rollout's status; an empty object when it has none (yet).
  json rolloutStatus(const std::string& name = "web") {
    json r = getJson({"rollout.governor.io", name, "-n", "shop"});
    return r.is_object() && r.contains("status") && r["status"].is_object() ? r["status"]
                                                                            : json::object();
  }

  void startOperator() {
    options_.kubeconfig = server_->kubeconfigPath();
    options_.workers = 2;
    options_.sync_period = seconds(2);
    options_.rollout_discovery_period = seconds(1);
    operator_ = std::jthread([this](std::stop_token stop) {
      operator_result_ = runOperator(options_, std::move(stop));
    });
  }

  void stopOperator() {
    if (!operator_.joinable()) return;
    operator_.request_stop();
    operator_.join();
    EXPECT_TRUE(operator_result_.ok()) << operator_result_.toString();
  }

  std::unique_ptr<TestApiServer> server_;
  OperatorOptions options_;
  Status operator_result_;
  std::jthread operator_;
};

std::string rolloutYaml(const std::string& image, const std::string& strategy) {
  return "apiVersion: governor.io/v1alpha1\nkind: Rollout\n"
         "metadata: {name: web, namespace: shop}\n"
         "spec:\n"
         "  replicas: 3\n"
         "  selector: {matchLabels: {app: web}}\n"
         "  template:\n"
         "    metadata: {labels: {app: web}}\n"
         "    spec: {containers: [{name: web, image: \"" +
         image + "\"}]}\n" + strategy;
}

TEST_F(RolloutApiServerTest, RolloutCrdInstalledAfterStartIsFoundWhilePoliciesRun) {
  // Only the ScalingPolicy CRD: the Rollout list answers 404.
  kubectl({"apply", "-f", kSource + "/manifests/crd/governor.io_scalingpolicies.yaml"});
  kubectl({"create", "deployment", "web", "-n", "shop", "--image=nginx", "--replicas=1"});
  kubectl({"apply", "-f", "-"},
          "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
          "metadata: {name: web, namespace: shop}\nspec:\n"
          "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
          "  minReplicas: 1\n  maxReplicas: 20\n"
          "  schedules:\n"
          "    - {name: always, start: '* * * * *', duration: 2m, minReplicas: 2}\n");
  startOperator();
  // ScalingPolicies run without the Rollout CRD.
  EXPECT_TRUE(waitFor(
      [&] {
        json d = getJson({"deployment", "web", "-n", "shop"});
        return d.is_object() && d["spec"].value("replicas", 0) == 2;
      },
      seconds(30)))
      << "the policy did not scale the Deployment";

  kubectl({"apply", "-f", kSource + "/manifests/crd/governor.io_rollouts.yaml"});
  kubectl({"apply", "-f", kSource + "/manifests/crd/governor.io_analysistemplates.yaml"});
  kubectl({"apply", "-f", "-"},
          rolloutYaml("web:1", "  strategy:\n    canary:\n      steps: [{setWeight: 50}]\n"));
  // Found within the discovery period, without a restart.
  EXPECT_TRUE(waitFor([&] { return rolloutStatus().value("phase", "") == "Healthy"; }, seconds(30)))
      << rolloutStatus().dump();
  EXPECT_TRUE(waitFor(
      [&] {
        json pods = getJson({"pods", "-n", "shop", "-l", "app=web"});
        return pods.is_object() && pods["items"].size() == 2 + 3;  // Deployment + Rollout.
      },
      seconds(30)));
}

TEST_F(RolloutApiServerTest, CanaryWithHttpRouteWalksStepsToHealthy) {
  kubectl({"apply", "-f", kSource + "/manifests/crd/governor.io_scalingpolicies.yaml"});
  kubectl({"apply", "-f", kSource + "/manifests/crd/governor.io_rollouts.yaml"});
  kubectl({"apply", "-f", kSource + "/manifests/crd/governor.io_analysistemplates.yaml"});
  kubectl({"apply", "-f", kData + "/gateway/httproute-crd.yaml"});
  for (const char* service : {"web-stable", "web-canary"}) {
    kubectl({"apply", "-f", "-"}, std::string("apiVersion: v1\nkind: Service\n") +
                                      "metadata: {name: " + service +
                                      ", namespace: shop}\n"
                                      "spec:\n  selector: {app: web}\n"
                                      "  ports: [{port: 80, targetPort: 8080}]\n");
  }
  kubectl({"apply", "-f", "-"},
          "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
          "metadata: {name: web, namespace: shop}\n"
          "spec:\n"
          "  parentRefs: [{name: gateway}]\n"
          "  hostnames: [web.example.com]\n"
          "  rules:\n"
          "    - matches: [{path: {type: PathPrefix, value: /}}]\n"
          "      backendRefs:\n"
          "        - {name: web-stable, port: 80, weight: 100}\n"
          "        - {name: web-canary, port: 80, weight: 0}\n");
  const std::string strategy =
      "  strategy:\n"
      "    canary:\n"
      "      stableService: web-stable\n"
      "      canaryService: web-canary\n"
      "      trafficRouting: {gatewayAPI: {httpRoute: web}}\n"
      "      steps:\n"
      "        - setWeight: 25\n"
      "        - pause: {duration: 2}\n"
      "        - setWeight: 50\n"
      "        - pause: {duration: 2}\n";
  kubectl({"apply", "-f", "-"}, rolloutYaml("web:1", strategy));
  startOperator();
  ASSERT_TRUE(waitFor([&] { return rolloutStatus().value("phase", "") == "Healthy"; }, seconds(30)))
      << rolloutStatus().dump();
  const std::string first = rolloutStatus().value("stableRevision", "");
  ASSERT_FALSE(first.empty());

  auto backendWeight = [](const json& route, const std::string& name) {
    for (const json& ref : route["spec"]["rules"][0]["backendRefs"]) {
      if (ref.value("name", "") == name) return ref.value("weight", -1);
    }
    return -2;
  };
  kubectl({"apply", "-f", "-"}, rolloutYaml("web:2", strategy));
  std::vector<int> canary_weights;
  std::string second;
  const bool promoted = waitFor(
      [&] {
        json route = getJson({"httproute", "web", "-n", "shop"});
        if (route.is_object()) {
          const int w = backendWeight(route, "web-canary");
          if (canary_weights.empty() || canary_weights.back() != w) canary_weights.push_back(w);
        }
        json status = rolloutStatus();
        second = status.value("stableRevision", "");
        return status.value("phase", "") == "Healthy" && !second.empty() && second != first;
      },
      seconds(60));
  ASSERT_TRUE(promoted) << rolloutStatus().dump();
  std::string seen;
  for (int w : canary_weights) seen += std::to_string(w) + " ";
  auto at = [&](int w) { return std::find(canary_weights.begin(), canary_weights.end(), w); };
  EXPECT_NE(at(25), canary_weights.end()) << "weights seen: " << seen;
  EXPECT_NE(at(50), canary_weights.end()) << "weights seen: " << seen;
  EXPECT_LT(at(25), at(50)) << "weights seen: " << seen;

  // Traffic: both Services select the new revision, the rest of their selectors kept; the
  // route's weights add up to 100 on the promoted revision.
  for (const char* service : {"web-stable", "web-canary"}) {
    json svc = getJson({"service", service, "-n", "shop"});
    ASSERT_TRUE(svc.is_object());
    EXPECT_EQ(svc["spec"]["selector"], (json{{"app", "web"}, {"pod-template-hash", second}}))
        << service;
  }
  json route = getJson({"httproute", "web", "-n", "shop"});
  ASSERT_TRUE(route.is_object());
  EXPECT_EQ(backendWeight(route, "web-stable") + backendWeight(route, "web-canary"), 100);
  EXPECT_EQ(route["spec"]["hostnames"], json::array({"web.example.com"}));

  // The ReplicaSets: one per revision, hash-labelled, owned by the Rollout; the old one at 0.
  json rollout = getJson({"rollout.governor.io", "web", "-n", "shop"});
  const std::string uid = rollout["metadata"].value("uid", "");
  json sets = getJson({"replicasets", "-n", "shop", "-l", "governor.io/rollout=web"});
  ASSERT_TRUE(sets.is_object());
  ASSERT_EQ(sets["items"].size(), 2u) << sets.dump();
  for (const json& rs : sets["items"]) {
    const std::string name = rs["metadata"]["name"];
    const std::string hash = rs["metadata"]["labels"].value("pod-template-hash", "");
    EXPECT_EQ(name, "web-" + hash);
    EXPECT_EQ(rs["spec"]["selector"]["matchLabels"]["pod-template-hash"], hash);
    EXPECT_EQ(rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"], hash);
    const json& owner = rs["metadata"]["ownerReferences"][0];
    EXPECT_EQ(owner["kind"], "Rollout");
    EXPECT_EQ(owner["name"], "web");
    EXPECT_EQ(owner["uid"], uid);
    EXPECT_EQ(owner["controller"], true);
    EXPECT_EQ(owner["blockOwnerDeletion"], true);
    EXPECT_EQ(rs["spec"]["replicas"], hash == second ? 3 : 0) << name;
  }
  EXPECT_TRUE(waitFor(
      [&] {
        json pods = getJson({"pods", "-n", "shop", "-l", "pod-template-hash=" + second});
        return pods.is_object() && pods["items"].size() == 3;
      },
      seconds(20)));
  // Events on the Rollout.
  json events = getJson({"events", "-n", "shop"});
  ASSERT_TRUE(events.is_object());
  bool rollout_event = false;
  for (const json& e : events["items"]) {
    rollout_event = rollout_event || (e["involvedObject"].value("kind", "") == "Rollout" &&
                                      e["involvedObject"].value("name", "") == "web");
  }
  EXPECT_TRUE(rollout_event) << events.dump();
}

}  // namespace
}  // namespace governor::controller
