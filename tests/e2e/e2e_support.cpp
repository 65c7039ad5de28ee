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

nlohmann::json E2eCluster::rollout(const std::string& name) {
  auto r = getJson({"-n", "shop", "rollouts.governor.io", name});
  return r.is_object() ? r : nlohmann::json(nullptr);
}

nlohmann::json E2eCluster::rolloutStatus(const std::string& name) {
  auto r = rollout(name);
  if (!r.is_object() || !r.contains("status")) return nullptr;
  return r["status"];
}

nlohmann::json E2eCluster::rolloutCondition(const std::string& name, const std::string& type) {
  auto status = rolloutStatus(name);
  if (!status.is_object()) return nullptr;
  for (const auto& c : status.value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

std::map<std::string, E2eCluster::ReplicaSetState> E2eCluster::rolloutReplicaSets(
    const std::string& rollout) {
  std::map<std::string, ReplicaSetState> out;
  auto list = getJson({"-n", "shop", "replicasets"});
  if (!list.is_object()) return out;
  for (const auto& rs : list.value("items", nlohmann::json::array())) {
    const auto& meta = rs["metadata"];
    bool owned = false;
    for (const auto& ref : meta.value("ownerReferences", nlohmann::json::array())) {
      owned = owned || (ref.value("kind", "") == "Rollout" && ref.value("name", "") == rollout &&
                        ref.value("controller", false));
    }
    if (!owned) continue;
    const auto labels = meta.value("labels", nlohmann::json::object());
    ReplicaSetState state;
    state.name = meta.value("name", "");
    state.spec_replicas = rs["spec"].value("replicas", -1);
    if (rs.contains("status")) state.ready_replicas = rs["status"].value("readyReplicas", 0);
    out[labels.value("pod-template-hash", "")] = state;
  }
  return out;
}

int32_t E2eCluster::revisionReplicas(const std::string& rollout, const std::string& hash) {
  auto sets = rolloutReplicaSets(rollout);
  auto it = sets.find(hash);
  return it == sets.end() ? 0 : it->second.spec_replicas;
}

std::map<std::string, std::string> E2eCluster::serviceSelector(const std::string& name) {
  std::map<std::string, std::string> out;
  auto s = getJson({"-n", "shop", "service", name});
  if (!s.is_object()) return out;
  const nlohmann::json selector = s["spec"].value("selector", nlohmann::json::object());
  for (const auto& [k, v] : selector.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::map<std::string, int> E2eCluster::routeWeights(const std::string& name) {
  std::map<std::string, int> out;
  auto r = getJson({"-n", "shop", "httproutes.gateway.networking.k8s.io", name});
  if (!r.is_object()) return out;
  const auto rules = r["spec"].value("rules", nlohmann::json::array());
  if (rules.empty()) return out;
  for (const auto& ref : rules[0].value("backendRefs", nlohmann::json::array())) {
    // An absent weight is 1 in the Gateway API.
    out[ref.value("name", "")] = ref.value("weight", 1);
  }
  return out;
}

std::vector<nlohmann::json> E2eCluster::events(const std::string& kind, const std::string& name) {
  std::vector<nlohmann::json> out;
  auto list = getJson({"-n", "shop", "events", "--field-selector", "involvedObject.name=" + name});
  if (!list.is_object()) return out;
  for (const auto& e : list.value("items", nlohmann::json::array())) {
    if (e["involvedObject"].value("kind", "") == kind) out.push_back(e);
  }
  return out;
}

CommandResult E2eCluster::rolloutCommand(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {GOVERNOR_BINARY, "rollout"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"-n", "shop", "--kubeconfig", server_->kubeconfigPath()});
  return runCommand(argv, std::chrono::seconds(30));
}

std::string serviceYaml(const std::string& name, const std::string& app) {
  return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name +
         ", namespace: shop}\nspec:\n  selector: {app: " + app +
         "}\n  ports: [{port: 80, targetPort: 8080}]\n";
}

std::string httpRouteYaml(const std::string& name, const std::string& stable,
                          const std::string& canary) {
  return "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: " + name +
         ", namespace: shop}\nspec:\n  parentRefs: [{name: gateway}]\n  rules:\n"
         "    - backendRefs:\n        - {name: " +
         stable + ", port: 80, weight: 100}\n        - {name: " + canary +
         ", port: 80, weight: 0}\n";
}

std::string errorRatioSeries(const std::map<std::string, double>& ratios) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& [app, value] : ratios) {
    items.push_back({{"name", "http_requests_errors_ratio"},
                     {"labels", {{"namespace", "shop"}, {"app", app}}},
                     {"value", value}});
  }
  return items.dump();
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
