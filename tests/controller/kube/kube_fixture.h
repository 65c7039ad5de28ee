#pragma once

// A fixture for the Kubernetes client's integration tests: the test API server
// (tests/support/apiserver.h) started for each test, a Client configured from its kubeconfig
// (as the operator would be), and helpers for namespaces and objects.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controller/kube/client.h"
#include "controller/kube/config.h"
#include "tests/support/apiserver.h"
#include "tests/support/process.h"

namespace governor::controller::kube {

inline const ResourceRef kNamespaces{.version = "v1", .resource = "namespaces"};
inline const ResourceRef kConfigMaps{.version = "v1", .resource = "configmaps"};
inline const ResourceRef kDeployments{.group = "apps", .version = "v1", .resource = "deployments"};
inline const ResourceRef kEvents{.version = "v1", .resource = "events"};

inline nlohmann::json configMap(const std::string& name, const std::string& value,
                                const std::string& app = "demo") {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", app}}}}},
          {"data", {{"value", value}}}};
}

inline nlohmann::json deployment(const std::string& name, int replicas) {
  const nlohmann::json labels = {{"app", name}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", labels}}},
            {"template",
             {{"metadata", {{"labels", labels}}},
              {"spec", {{"containers", {{{"name", "app"}, {"image", "nginx:1.27"}}}}}}}}}}};
}

class KubeServerTest : public ::testing::Test {
 protected:
  // Override to start the server differently (TLS, bookmark interval).
  virtual governor::testing::TestApiServerOptions serverOptions() {
    governor::testing::TestApiServerOptions options;
    options.pod_ready_delay = std::chrono::milliseconds(200);
    options.extra_args = {"--bookmark-interval", "0.2"};
    return options;
  }

  void SetUp() override {
    auto server = governor::testing::TestApiServer::start(serverOptions());
    ASSERT_TRUE(server.ok()) << server.status().toString();
    server_ = std::move(server).value();
    auto config = loadKubeconfig({server_->kubeconfigPath()});
    ASSERT_TRUE(config.ok()) << config.status().toString();
    config_ = *config;
    client_ = makeClient(config_);
    ASSERT_NE(client_, nullptr);
  }

  // A client whose retry waits are recorded in sleeps() instead of slept.
  std::unique_ptr<Client> makeClient(const ClientConfig& config, ClientOptions options = {}) {
    options.sleep = [this](Duration d) {
      std::lock_guard lock(sleeps_mu_);
      sleeps_.push_back(d);
    };
    auto client = Client::fromConfig(config, std::move(options));
    EXPECT_TRUE(client.ok()) << client.status().toString();
    return client.ok() ? std::move(client).value() : nullptr;
  }

  std::vector<Duration> sleeps() {
    std::lock_guard lock(sleeps_mu_);
    return sleeps_;
  }

  // Creates namespace `name` and returns it.
  std::string makeNamespace(const std::string& name) {
    auto created = client_->create(
        kNamespaces, {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
    EXPECT_TRUE(created.ok()) << created.status().toString();
    return name;
  }

  // Posts a fault to the server's control API.
  void injectFault(const std::string& fault_json) {
    auto answer = server_->control("POST", "/_test/faults", fault_json);
    ASSERT_TRUE(answer.ok()) << answer.status().toString();
  }

  std::string control(const std::string& method, const std::string& path) {
    auto answer = server_->control(method, path);
    EXPECT_TRUE(answer.ok()) << answer.status().toString();
    return answer.ok() ? *answer : "";
  }

  std::unique_ptr<governor::testing::TestApiServer> server_;
  ClientConfig config_;
  std::unique_ptr<Client> client_;

 private:
  std::mutex sleeps_mu_;
  std::vector<Duration> sleeps_;
};

}  // namespace governor::controller::kube
