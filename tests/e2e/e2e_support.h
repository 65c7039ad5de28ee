#pragma once

// A test cluster for end-to-end tests: the test API server with Governor's CRD applied, a
// namespace "shop" with a Deployment "web", and `governor operator` processes started
// against it. Everything it starts stops with it.

#include <chrono>
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

 private:
  E2eCluster() = default;
  std::unique_ptr<TestApiServer> server_;
  TempDir dir_;
};

// A ScalingPolicy shop/<name> on Deployment web whose schedule window is always in force
// (starts every minute, lasts two), with floor `floor`, and `extra` lines appended to spec.
std::string alwaysOnPolicy(int floor, const std::string& extra = "",
                           const std::string& name = "web");

}  // namespace governor::testing
