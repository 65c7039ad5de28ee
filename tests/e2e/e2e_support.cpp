#include "tests/e2e/e2e_support.h"

#include <string>

#include <gtest/gtest.h>

namespace governor::testing {

std::unique_ptr<E2eCluster> E2eCluster::start(int replicas) {
  std::unique_ptr<E2eCluster> c(new E2eCluster());
  TestApiServerOptions options;
  options.pod_ready_delay = std::chrono::milliseconds(200);
  auto server = TestApiServer::start(options);
  if (!server.ok()) {
    ADD_FAILURE() << server.status().toString();
    return nullptr;
  }
  c->server_ = std::move(server).value();
  c->kubectl({"apply", "-f", std::string(GOVERNOR_SOURCE_DIR) + "/manifests/crd/"});
  c->kubectl({"create", "namespace", "shop"});
  c->kubectl({"-n", "shop", "create", "deployment", "web", "--image=nginx",
              "--replicas=" + std::to_string(replicas)});
  return c;
}

std::string E2eCluster::kubectl(const std::vector<std::string>& args,
                                const std::string& stdin_data) {
  CommandResult r = server_->kubectl(args, stdin_data);
  EXPECT_EQ(r.exit_code, 0) << "kubectl";
  if (r.exit_code != 0) {
    std::string line;
    for (const auto& a : args) line += " " + a;
    ADD_FAILURE() << "kubectl" << line << ": " << r.err << r.out;
  }
  return r.out;
}

nlohmann::json E2eCluster::getJson(const std::vector<std::string>& what) {
  std::vector<std::string> args = {"get"};
  args.insert(args.end(), what.begin(), what.end());
  args.push_back("-o");
  args.push_back("json");
  CommandResult r = server_->kubectl(args);
  if (r.exit_code != 0) return nullptr;
  auto parsed = nlohmann::json::parse(r.out, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(nullptr) : parsed;
}

int E2eCluster::replicas(const std::string& deployment) {
  auto d = getJson({"-n", "shop", "deployment", deployment});
  if (!d.is_object()) return -1;
  return d["spec"].value("replicas", -1);
}

nlohmann::json E2eCluster::policyStatus(const std::string& name) {
  auto p = getJson({"-n", "shop", "scalingpolicy", name});
  if (!p.is_object() || !p.contains("status")) return nullptr;
  return p["status"];
}

nlohmann::json E2eCluster::condition(const std::string& type, const std::string& name) {
  auto status = policyStatus(name);
  if (!status.is_object()) return nullptr;
  for (const auto& c : status.value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

std::vector<nlohmann::json> E2eCluster::audit(const std::string& query) {
  auto body = server_->control("GET", "/_test/audit" + (query.empty() ? "" : "?" + query));
  if (!body.ok()) {
    ADD_FAILURE() << body.status().toString();
    return {};
  }
  auto parsed = nlohmann::json::parse(*body, nullptr, false);
  if (!parsed.is_array()) return {};
  return parsed.get<std::vector<nlohmann::json>>();
}

std::unique_ptr<Subprocess> E2eCluster::startOperator(const std::string& name,
                                                      const std::vector<std::string>& args,
                                                      const std::string& token) {
  std::vector<std::string> argv = {
      GOVERNOR_BINARY, "operator",
      "--kubeconfig",  server_->writeKubeconfig(token, name + ".kubeconfig"),
      "--log-format",  "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto process = Subprocess::start(argv, dir_.file(name + ".log"));
  if (!process.ok()) {
    ADD_FAILURE() << process.status().toString();
    return nullptr;
  }
  return std::move(process).value();
}

std::string alwaysOnPolicy(int floor, const std::string& extra, const std::string& name) {
  return "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
         "metadata: {name: " +
         name +
         ", namespace: shop}\nspec:\n"
         "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
         "  minReplicas: 1\n  maxReplicas: 20\n"
         "  schedules:\n"
         "    - {name: always, start: '* * * * *', duration: 2m, minReplicas: " +
         std::to_string(floor) + "}\n" + extra;
}

}  // namespace governor::testing
