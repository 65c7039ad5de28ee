#pragma once

// A test cluster for end-to-end tests: the test API server with Governor's CRD applied, a
// namespace "shop" with a Deployment "web", and `governor operator` processes started
// against it. Everything it starts stops with it.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/apiserver.h"
#include "tests/support/process.h"

namespace governor::testing {

class E2eCluster {
 public:
  // Starts the server (pods ready after 200 ms), applies manifests/crd, creates namespace
  // "shop" and Deployment shop/web with `replicas`. Fails the calling test on error.
  static std::unique_ptr<E2eCluster> start(int replicas = 2);

  TestApiServer& server() { return *server_; }

  // kubectl as admin; fails the calling test when it exits non-zero.
  std::string kubectl(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // `kubectl get <what> -o json`, parsed; null when it fails (e.g. NotFound).
  nlohmann::json getJson(const std::vector<std::string>& what);
  // spec.replicas of deployment shop/web (-1 if unreadable).
  int replicas(const std::string& deployment = "web");
  // The status of ScalingPolicy shop/<name> (null if none).
  nlohmann::json policyStatus(const std::string& name = "web");
  // The condition `type` of that status (null if none).
  nlohmann::json condition(const std::string& type, const std::string& name = "web");
  // Audit records matching the query string (e.g. "verb=update&resource=deployments").
  std::vector<nlohmann::json> audit(const std::string& query = "");

  // Starts `governor operator --kubeconfig <kubeconfig for token> --log-format json` plus
  // `args`. `name` names its log file.
  std::unique_ptr<Subprocess> startOperator(const std::string& name,
                                            const std::vector<std::string>& args,
                                            const std::string& token = kOperatorToken);

  // --- Rollouts (governor.io/v1alpha1), all in namespace "shop". ---

  // Rollout shop/<name> as the API server has it (null if none).
  nlohmann::json rollout(const std::string& name);
  // Its status (null if none or not written yet).
  nlohmann::json rolloutStatus(const std::string& name);
  // The condition `type` of that status (null if none).
  nlohmann::json rolloutCondition(const std::string& name, const std::string& type);

  // One ReplicaSet a Rollout owns, as the API server has it.
  struct ReplicaSetState {
    std::string name;
    int32_t spec_replicas = -1;  // spec.replicas.
    int32_t ready_replicas = 0;  // status.readyReplicas.
  };
  // The ReplicaSets whose controller ownerReference is Rollout shop/<rollout>, by their
  // pod-template-hash label. Empty when none (or the list fails).
  std::map<std::string, ReplicaSetState> rolloutReplicaSets(const std::string& rollout);
  // spec.replicas of the ReplicaSet of `rollout` labelled `hash`; 0 when there is none (a
  // deleted revision runs no pods).
  int32_t revisionReplicas(const std::string& rollout, const std::string& hash);

  // spec.selector of Service shop/<name> (empty if none).
  std::map<std::string, std::string> serviceSelector(const std::string& name);
  // The weight of each backendRef (by Service name) in the first rule of HTTPRoute
  // shop/<name> (empty if none).
  std::map<std::string, int> routeWeights(const std::string& name);
  // Events in "shop" whose involvedObject is <kind> <name>.
  std::vector<nlohmann::json> events(const std::string& kind, const std::string& name);

  // Runs `governor rollout <args...> -n shop --kubeconfig <admin kubeconfig>` (at most 30 s).
  CommandResult rolloutCommand(const std::vector<std::string>& args);

 private:
  E2eCluster() = default;
  std::unique_ptr<TestApiServer> server_;
  TempDir dir_;
};

// A ScalingPolicy shop/<name> on Deployment web whose schedule window is always in force
// (starts every minute, lasts two), with floor `floor`, and `extra` lines appended to spec.
std::string alwaysOnPolicy(int floor, const std::string& extra = "",
                           const std::string& name = "web");

// A Service shop/<name> on port 80 selecting `app: <app>` (the rollout controller adds the
// pod-template-hash to the selectors of the Services a Rollout names).
std::string serviceYaml(const std::string& name, const std::string& app);

// An HTTPRoute shop/<name> (gateway.networking.k8s.io/v1) with one rule whose two
// backendRefs are `stable` (weight 100) and `canary` (weight 0), port 80.
std::string httpRouteYaml(const std::string& name, const std::string& stable,
                          const std::string& canary);

// Exporter series (TestExporter::setSeries JSON): the gauge http_requests_errors_ratio with
// label app=<app>, one item per entry of `ratios` (app -> value).
std::string errorRatioSeries(const std::map<std::string, double>& ratios);

}  // namespace governor::testing
