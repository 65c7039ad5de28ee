// Integration tests of the test API server (tests/apiserver/apiserver.py), driven with the
// real kubectl and with raw HTTP (curl). Each test starts its own server on a free loopback
// port; the fixture stops it.

#include "tests/support/apiserver.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/process.h"

namespace governor::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr auto kWait = seconds(30);  // Upper bound for anything the server does by itself.

constexpr char kDeployment[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: frontend}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports:
        - containerPort: 80
        env:
        - {name: A, value: "1"}
)";

// A custom resource with status and scale subresources and a schema exercising the common
// validations.
constexpr char kWidgetCrd[] = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
    additionalPrinterColumns:
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Mode, type: string, jsonPath: .spec.mode}
    schema:
      openAPIV3Schema:
        type: object
        required: [spec]
        properties:
          spec:
            type: object
            required: [replicas]
            properties:
              replicas: {type: integer, minimum: 1, maximum: 10}
              mode: {type: string, enum: [Fast, Slow], default: Fast}
              owner: {type: string, pattern: '^[a-z]+$'}
              tags: {type: array, maxItems: 2, items: {type: string}}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
              phase: {type: string}
)";

std::string widgetYaml(const std::string& name, const std::string& spec) {
  return "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: " + name + "}\nspec: " + spec +
         "\n";
}

struct HttpResponse {
  int code = 0;
  std::string headers;
  std::string body;
  json doc;  // The body parsed as JSON, or null.
};

std::ostream& operator<<(std::ostream& os, const HttpResponse& r) {
  return os << "HTTP " << r.code << "\n" << r.headers << "\n" << r.body;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { startServer({}); }

  void startServer(TestApiServerOptions options) {
    auto s = TestApiServer::start(std::move(options));
    ASSERT_TRUE(s.ok()) << s.status().toString();
    server_ = std::move(s).value();
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "server log tail:\n" << server_->logTail() << "\n";
  }

  // kubectl with the admin kubeconfig; expects success.
  std::string kubectlOk(const std::vector<std::string>& args, const std::string& in = "") {
    CommandResult r = server_->kubectl(args, in);
    EXPECT_EQ(r.exit_code, 0) << "kubectl " << join(args) << "\nstdout: " << r.out
                              << "\nstderr: " << r.err;
    return r.out;
  }

  json kubectlJson(const std::vector<std::string>& args) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"-o", "json"});
    std::string out = kubectlOk(a);
    json j = json::parse(out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(j.is_discarded()) << out;
    return j;
  }

  HttpResponse http(const std::string& method, const std::string& path,
                    const std::string& body = "",
                    const std::string& content_type = "application/json",
                    const std::string& token = kAdminToken,
                    const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {"curl", "-sS", "-i", "--max-time", "30", "-X", method};
    if (!token.empty()) argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
    if (!content_type.empty()) argv.insert(argv.end(), {"-H", "Content-Type: " + content_type});
    if (!server_->caFile().empty()) argv.insert(argv.end(), {"--cacert", server_->caFile()});
    if (!body.empty()) argv.insert(argv.end(), {"--data-binary", "@-"});
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(server_->url() + path);
    CommandResult r = runCommand(argv, seconds(40), {}, body);
    HttpResponse out;
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto split = r.out.find("\r\n\r\n");
    out.headers = r.out.substr(0, split);
    out.body = split == std::string::npos ? "" : r.out.substr(split + 4);
    if (out.headers.size() > 12) out.code = std::atoi(out.headers.c_str() + 9);
    out.doc = json::parse(out.body, nullptr, false);
    if (out.doc.is_discarded()) out.doc = nullptr;
    return out;
  }

  // Watch events from a raw watch URL that the server ends by itself (timeoutSeconds).
  std::vector<json> watchEvents(const std::string& path) {
    std::vector<std::string> argv = {"curl",
                                     "-sS",
                                     "-N",
                                     "--max-time",
                                     "30",
                                     "-H",
                                     std::string("Authorization: Bearer ") + kAdminToken};
    if (!server_->caFile().empty()) argv.insert(argv.end(), {"--cacert", server_->caFile()});
    argv.push_back(server_->url() + path);
    CommandResult r = runCommand(argv, seconds(40));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<json> events;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      json e = json::parse(line, nullptr, false);
      EXPECT_FALSE(e.is_discarded()) << line;
      if (!e.is_discarded()) events.push_back(e);
    }
    return events;
  }

  std::string control(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    auto r = server_->control(method, path, body);
    EXPECT_TRUE(r.ok()) << r.status().toString();
    return r.ok() ? *r : "";
  }

  void applyWidgetCrd() {
    kubectlOk({"apply", "-f", "-"}, kWidgetCrd);
    kubectlOk(
        {"wait", "--for", "condition=established", "crd/widgets.example.com", "--timeout=20s"});
  }

  // Pods of the deployment "web", as JSON items.
  json webPods() { return kubectlJson({"get", "pods", "-l", "app=web"})["items"]; }

  static int readyCount(const json& pods) {
    int n = 0;
    for (const auto& p : pods) {
      for (const auto& c : p["status"].value("conditions", json::array())) {
        if (c["type"] == "Ready" && c["status"] == "True") ++n;
      }
    }
    return n;
  }

  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
    return s;
  }

  std::unique_ptr<TestApiServer> server_;
};

// --- Discovery and basic kubectl --------------------------------------------------------------

TEST_F(ApiServerTest, KubectlSeesVersionAndResources) {
  json version = kubectlJson({"version"});
  EXPECT_EQ(version["serverVersion"]["major"], "1");
  EXPECT_EQ(version["serverVersion"]["minor"], "32");
  std::string resources = kubectlOk({"api-resources"});
  for (const char* r : {"deployments", "statefulsets", "replicasets", "pods", "leases",
                        "customresourcedefinitions", "events", "configmaps", "namespaces"}) {
    EXPECT_NE(resources.find(r), std::string::npos) << r << " missing in\n" << resources;
  }
  HttpResponse apps = http("GET", "/apis/apps/v1");
  ASSERT_EQ(apps.code, 200) << apps;
  bool scale = false;
  for (const auto& r : apps.doc["resources"]) {
    if (r["name"] == "deployments/scale") {
      scale = true;
      EXPECT_EQ(r["group"], "autoscaling");
      EXPECT_EQ(r["kind"], "Scale");
    }
  }
  EXPECT_TRUE(scale) << apps.body;
  json ns = kubectlJson({"get", "namespaces"});
  std::vector<std::string> names;
  for (const auto& n : ns["items"]) names.push_back(n["metadata"]["name"]);
  EXPECT_NE(std::find(names.begin(), names.end(), "default"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "kube-system"), names.end());
}

// --- Deployments, the simulated controller ----------------------------------------------------

TEST_F(ApiServerTest, DeploymentApplyGetScalePatchDelete) {
  EXPECT_NE(kubectlOk({"apply", "-f", "-"}, kDeployment).find("deployment.apps/web created"),
            std::string::npos);
  json d = kubectlJson({"get", "deployment", "web"});
  EXPECT_EQ(d["metadata"]["generation"], 1);
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_FALSE(d["metadata"].value("uid", "").empty());
  EXPECT_FALSE(d["metadata"].value("resourceVersion", "").empty());

  // Re-applying the same manifest changes nothing.
  EXPECT_NE(kubectlOk({"apply", "-f", "-"}, kDeployment).find("unchanged"), std::string::npos);
  kubectlOk({"scale", "deployment", "web", "--replicas=3"});
  EXPECT_EQ(kubectlJson({"get", "deployment", "web"})["spec"]["replicas"], 3);
  kubectlOk({"patch", "deployment", "web", "-p", R"({"metadata":{"labels":{"team":"a"}}})"});
  kubectlOk({"label", "deployment", "web", "env=test"});
  d = kubectlJson({"get", "deployment", "web"});
  EXPECT_EQ(d["metadata"]["labels"]["team"], "a");
  EXPECT_EQ(d["metadata"]["labels"]["env"], "test");
  EXPECT_EQ(d["metadata"]["generation"], 2);  // scale bumped it; labels did not

  ASSERT_TRUE(waitUntil([&] { return webPods().size() == 3; }, kWait));
  kubectlOk({"delete", "deployment", "web"});
  CommandResult gone = server_->kubectl({"get", "deployment", "web"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_NE(gone.err.find("NotFound"), std::string::npos) << gone.err;
  // Owned ReplicaSets and pods go with it.
  EXPECT_TRUE(webPods().empty());
  EXPECT_TRUE(kubectlJson({"get", "replicasets"})["items"].empty());
}

TEST_F(ApiServerTest, ScaledPodsBecomeReadyAfterTheDelay) {
  // A delay no test run reaches: pods exist but stay not Ready until the delay is lowered.
  control("PUT", "/_test/pod-ready-delay", R"({"seconds": 3600})");
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  kubectlOk({"scale", "deployment", "web", "--replicas=3"});
  ASSERT_TRUE(waitUntil([&] { return webPods().size() == 3; }, kWait));
  json pods = webPods();
  EXPECT_EQ(readyCount(pods), 0);
  for (const auto& p : pods) {
    std::string name = p["metadata"]["name"];
    EXPECT_EQ(name.rfind("web-", 0), 0u) << name;
    EXPECT_EQ(p["metadata"]["labels"]["tier"], "frontend");
    EXPECT_FALSE(p["metadata"]["labels"].value("pod-template-hash", "").empty());
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
    EXPECT_EQ(p["status"]["phase"], "Pending");
  }
  EXPECT_EQ(kubectlJson({"get", "deployment", "web"})["status"].value("readyReplicas", 0), 0);

  control("PUT", "/_test/pod-ready-delay", R"({"seconds": 0})");
  ASSERT_TRUE(waitUntil([&] { return readyCount(webPods()) == 3; }, kWait));
  for (const auto& p : webPods()) EXPECT_EQ(p["status"]["phase"], "Running");
  ASSERT_TRUE(waitUntil(
      [&] {
        json s = kubectlJson({"get", "deployment", "web"})["status"];
        return s.value("readyReplicas", 0) == 3 && s.value("availableReplicas", 0) == 3;
      },
      kWait));
  json d = kubectlJson({"get", "deployment", "web"});
  EXPECT_EQ(d["status"]["observedGeneration"], d["metadata"]["generation"]);
  kubectlOk({"wait", "--for=condition=Available", "deployment/web", "--timeout=20s"});
}

TEST_F(ApiServerTest, ScaleDownRemovesNotReadyPodsFirst) {
  control("PUT", "/_test/pod-ready-delay", R"({"seconds": 0})");
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  ASSERT_TRUE(waitUntil([&] { return readyCount(webPods()) == 2; }, kWait));
  std::vector<std::string> ready;
  for (const auto& p : webPods()) ready.push_back(p["metadata"]["name"]);

  control("PUT", "/_test/pod-ready-delay", R"({"seconds": 3600})");
  kubectlOk({"scale", "deployment", "web", "--replicas=4"});
  ASSERT_TRUE(waitUntil([&] { return webPods().size() == 4; }, kWait));
  kubectlOk({"scale", "deployment", "web", "--replicas=2"});
  ASSERT_TRUE(waitUntil([&] { return webPods().size() == 2; }, kWait));
  std::vector<std::string> left;
  for (const auto& p : webPods()) left.push_back(p["metadata"]["name"]);
  std::sort(ready.begin(), ready.end());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, ready);
}

TEST_F(ApiServerTest, StatefulSetPodsAreOrdinal) {
  control("PUT", "/_test/pod-ready-delay", R"({"seconds": 0})");
  kubectlOk({"create", "-f", "-"}, R"(apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: postgres:16}]
)");
  ASSERT_TRUE(waitUntil(
      [&] {
        return kubectlJson({"get", "statefulset", "db"})["status"].value("readyReplicas", 0) == 3;
      },
      kWait));
  std::vector<std::string> names;
  json pods = kubectlJson({"get", "pods", "-l", "app=db"});
  for (const auto& p : pods["items"]) {
    names.push_back(p["metadata"]["name"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"db-0", "db-1", "db-2"}));
  kubectlOk({"scale", "statefulset", "db", "--replicas=1"});
  ASSERT_TRUE(waitUntil(
      [&] {
        return kubectlJson({"get", "pods", "-l", "app=db"})["items"].size() == 1;
      },
      kWait));
  EXPECT_EQ(kubectlJson({"get", "pods", "-l", "app=db"})["items"][0]["metadata"]["name"], "db-0");
}

// kubectl's generators use client-go's typed clientset, which POSTs protobuf.
TEST_F(ApiServerTest, KubectlCreateGeneratorsSendProtobuf) {
  struct Case {
    std::vector<std::string> create;
    std::vector<std::string> get;
    std::string jsonpath;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"create", "namespace", "shop"}, {"namespace", "shop"}, "{.status.phase}", "Active"},
      {{"create", "deployment", "api", "-n", "shop", "--image=nginx:1.27", "--replicas=3",
        "--port=8080"},
       {"deployment", "api", "-n", "shop"},
       "{.spec.replicas} {.spec.selector.matchLabels.app} "
       "{.spec.template.spec.containers[0].image} "
       "{.spec.template.spec.containers[0].ports[0].containerPort}",
       "3 api nginx:1.27 8080"},
      {{"create", "configmap", "cfg", "-n", "shop", "--from-literal=a=1", "--from-literal=b=2"},
       {"configmap", "cfg", "-n", "shop"},
       "{.data.a}{.data.b}",
       "12"},
      // "secret" in base64.
      {{"create", "secret", "generic", "pw", "-n", "shop", "--from-literal=p=secret"},
       {"secret", "pw", "-n", "shop"},
       "{.type} {.data.p}",
       "Opaque c2VjcmV0"},
      {{"create", "service", "clusterip", "api", "-n", "shop", "--tcp=80:8080"},
       {"service", "api", "-n", "shop"},
       "{.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector.app}",
       "80 8080 api"},
      {{"run", "one", "-n", "shop", "--image=busybox", "--labels=x=y"},
       {"pod", "one", "-n", "shop"},
       "{.metadata.labels.x} {.spec.containers[0].image}",
       "y busybox"},
  };
  for (const Case& c : cases) {
    kubectlOk(c.create);
    std::vector<std::string> get = {"get"};
    get.insert(get.end(), c.get.begin(), c.get.end());
    get.push_back("-o=jsonpath=" + c.jsonpath);
    EXPECT_EQ(kubectlOk(get), c.expected) << join(c.create);
  }
}

TEST_F(ApiServerTest, ScaleSubresourceOverRawHttp) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  HttpResponse scale = http("GET", "/apis/apps/v1/namespaces/default/deployments/web/scale");
  ASSERT_EQ(scale.code, 200) << scale;
  EXPECT_EQ(scale.doc["kind"], "Scale");
  EXPECT_EQ(scale.doc["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(scale.doc["spec"]["replicas"], 2);
  EXPECT_EQ(scale.doc["status"]["selector"], "app=web");

  json stale = scale.doc;
  stale["spec"]["replicas"] = 5;
  HttpResponse put =
      http("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", stale.dump());
  ASSERT_EQ(put.code, 200) << put;
  EXPECT_EQ(put.doc["spec"]["replicas"], 5);
  // The same (now stale) resourceVersion again: 409.
  stale["spec"]["replicas"] = 6;
  HttpResponse conflict =
      http("PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", stale.dump());
  EXPECT_EQ(conflict.code, 409) << conflict;
  EXPECT_EQ(conflict.doc["reason"], "Conflict");
  HttpResponse patched = http("PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale",
                              R"({"spec":{"replicas":1}})", "application/merge-patch+json");
  ASSERT_EQ(patched.code, 200) << patched;
  EXPECT_EQ(kubectlJson({"get", "deployment", "web"})["spec"]["replicas"], 1);
}

// --- Object semantics -------------------------------------------------------------------------

TEST_F(ApiServerTest, StaleUpdateConflictsAndUnconditionalUpdateWins) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/web";
  json obj = http("GET", path).doc;
  json first = obj;
  first["spec"]["replicas"] = 4;
  HttpResponse ok = http("PUT", path, first.dump());
  ASSERT_EQ(ok.code, 200) << ok;
  EXPECT_NE(ok.doc["metadata"]["resourceVersion"], obj["metadata"]["resourceVersion"]);

  json stale = obj;  // still carries the old resourceVersion
  stale["spec"]["replicas"] = 7;
  HttpResponse conflict = http("PUT", path, stale.dump());
  ASSERT_EQ(conflict.code, 409) << conflict;
  EXPECT_EQ(conflict.doc["kind"], "Status");
  EXPECT_EQ(conflict.doc["reason"], "Conflict");
  EXPECT_EQ(conflict.doc["details"]["name"], "web");
  EXPECT_EQ(conflict.doc["details"]["group"], "apps");
  EXPECT_NE(conflict.doc["message"].get<std::string>().find("the object has been modified"),
            std::string::npos);

  stale["metadata"].erase("resourceVersion");
  HttpResponse unconditional = http("PUT", path, stale.dump());
  ASSERT_EQ(unconditional.code, 200) << unconditional;
  EXPECT_EQ(unconditional.doc["spec"]["replicas"], 7);
}

struct ErrorCase {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  int code;
  std::string reason;
};

class ApiErrorTest : public ApiServerTest, public ::testing::WithParamInterface<ErrorCase> {};

TEST_P(ApiErrorTest, AnswersAStatus) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  const ErrorCase& c = GetParam();
  HttpResponse r = http(c.method, c.path, c.body);
  EXPECT_EQ(r.code, c.code) << r;
  EXPECT_EQ(r.doc["kind"], "Status") << r;
  EXPECT_EQ(r.doc["status"], "Failure");
  EXPECT_EQ(r.doc["code"], c.code);
  EXPECT_EQ(r.doc["reason"], c.reason) << r;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ApiErrorTest,
    ::testing::Values(
        ErrorCase{"NotFound", "GET", "/apis/apps/v1/namespaces/default/deployments/nope", "", 404,
                  "NotFound"},
        ErrorCase{"NamespaceMissing", "POST", "/api/v1/namespaces/nowhere/configmaps",
                  R"({"metadata":{"name":"x"}})", 404, "NotFound"},
        ErrorCase{"BadJson", "POST", "/api/v1/namespaces/default/configmaps", "{not json", 400,
                  "BadRequest"},
        ErrorCase{"InvalidName", "POST", "/api/v1/namespaces/default/configmaps",
                  R"({"metadata":{"name":"Bad_Name"}})", 422, "Invalid"},
        ErrorCase{"PatchAsPlainJson", "PATCH", "/apis/apps/v1/namespaces/default/deployments/web",
                  R"({"spec":{}})", 415, "UnsupportedMediaType"},
        ErrorCase{"NameMismatch", "PUT", "/apis/apps/v1/namespaces/default/deployments/web",
                  R"({"metadata":{"name":"other"}})", 400, "BadRequest"},
        ErrorCase{"UnknownResource", "GET", "/apis/apps/v1/namespaces/default/gizmos", "", 404,
                  "NotFound"},
        ErrorCase{"ProtectedNamespace", "DELETE", "/api/v1/namespaces/default", "", 403,
                  "Forbidden"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST_F(ApiServerTest, CreateTwiceIsAlreadyExistsAndGenerateNameWorks) {
  const std::string path = "/api/v1/namespaces/default/configmaps";
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"cfg"},"data":{"a":"1"}})").code, 201);
  HttpResponse again = http("POST", path, R"({"metadata":{"name":"cfg"}})");
  EXPECT_EQ(again.code, 409) << again;
  EXPECT_EQ(again.doc["reason"], "AlreadyExists");
  EXPECT_EQ(again.doc["message"], "configmaps \"cfg\" already exists");
  HttpResponse generated = http("POST", path, R"({"metadata":{"generateName":"cfg-"}})");
  ASSERT_EQ(generated.code, 201) << generated;
  std::string name = generated.doc["metadata"]["name"];
  EXPECT_EQ(name.size(), std::string("cfg-").size() + 5) << name;
  EXPECT_EQ(name.rfind("cfg-", 0), 0u);
}

TEST_F(ApiServerTest, BuiltInValidationNamesTheField) {
  HttpResponse r = http("POST", "/apis/apps/v1/namespaces/default/deployments",
                        R"({"metadata":{"name":"bad"},"spec":{"replicas":-1,
                            "selector":{"matchLabels":{"app":"x"}},
                            "template":{"metadata":{"labels":{"app":"x"}},
                              "spec":{"containers":[{"name":"c"}]}}}})");
  ASSERT_EQ(r.code, 422) << r;
  std::vector<std::string> fields;
  for (const auto& c : r.doc["details"]["causes"]) fields.push_back(c["field"]);
  EXPECT_NE(std::find(fields.begin(), fields.end(), "spec.replicas"), fields.end()) << r;
  EXPECT_NE(std::find(fields.begin(), fields.end(), "spec.template.spec.containers[0].image"),
            fields.end())
      << r;
  HttpResponse type = http("POST", "/apis/apps/v1/namespaces/default/deployments",
                           R"({"metadata":{"name":"bad"},"spec":{"replicas":"two"}})");
  EXPECT_EQ(type.code, 400) << type;
  EXPECT_NE(type.body.find("spec.replicas"), std::string::npos) << type;
}

// --- Custom resources -------------------------------------------------------------------------

TEST_F(ApiServerTest, CrdServesItsResourceToKubectl) {
  applyWidgetCrd();
  std::string resources = kubectlOk({"api-resources", "--api-group=example.com"});
  EXPECT_NE(resources.find("widgets"), std::string::npos) << resources;
  EXPECT_NE(resources.find("wd"), std::string::npos) << resources;
  kubectlOk({"apply", "-f", "-"}, widgetYaml("w1", "{replicas: 2}"));
  std::string table = kubectlOk({"get", "widgets"});
  EXPECT_NE(table.find("REPLICAS"), std::string::npos) << table;
  EXPECT_NE(table.find("MODE"), std::string::npos) << table;
  EXPECT_NE(table.find("Fast"), std::string::npos) << table;  // the schema default
  json w = kubectlJson({"get", "wd", "w1"});
  EXPECT_EQ(w["spec"]["mode"], "Fast");
  EXPECT_EQ(w["metadata"]["generation"], 1);

  kubectlOk({"scale", "widget", "w1", "--replicas=4"});
  EXPECT_EQ(kubectlJson({"get", "wd", "w1"})["spec"]["replicas"], 4);
  HttpResponse scale = http("GET", "/apis/example.com/v1/namespaces/default/widgets/w1/scale");
  ASSERT_EQ(scale.code, 200) << scale;
  EXPECT_EQ(scale.doc["spec"]["replicas"], 4);

  kubectlOk({"delete", "crd", "widgets.example.com"});
  HttpResponse gone = http("GET", "/apis/example.com/v1/namespaces/default/widgets/w1");
  EXPECT_EQ(gone.code, 404) << gone;
}

TEST_F(ApiServerTest, KubectlApplyRejectsSchemaViolationsWithTheFieldPath) {
  applyWidgetCrd();
  CommandResult r = server_->kubectl({"apply", "-f", "-"}, widgetYaml("w2", "{replicas: 0}"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("spec.replicas"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("should be greater than or equal to 1"), std::string::npos) << r.err;
}

TEST_F(ApiServerTest, UnknownFieldsFollowFieldValidation) {
  applyWidgetCrd();
  const std::string yaml = widgetYaml("w3", "{replicas: 1, colour: red}");
  CommandResult strict = server_->kubectl({"apply", "--validate=strict", "-f", "-"}, yaml);
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.err.find("unknown field \"spec.colour\""), std::string::npos) << strict.err;

  CommandResult warn = server_->kubectl({"apply", "--validate=warn", "-f", "-"}, yaml);
  EXPECT_EQ(warn.exit_code, 0) << warn.err;
  EXPECT_NE(warn.err.find("unknown field \"spec.colour\""), std::string::npos) << warn.err;
  // Pruned, like the real server.
  EXPECT_FALSE(kubectlJson({"get", "wd", "w3"})["spec"].contains("colour"));

  CommandResult ignore = server_->kubectl({"apply", "--validate=false", "-f", "-"},
                                          widgetYaml("w4", "{replicas: 1, colour: blue}"));
  EXPECT_EQ(ignore.exit_code, 0) << ignore.err;
  EXPECT_EQ(ignore.err.find("unknown field"), std::string::npos) << ignore.err;
}

struct SchemaCase {
  std::string name;
  std::string spec;  // JSON
  std::string field;
  std::string reason;
  std::string message_part;
};

class SchemaTest : public ApiServerTest, public ::testing::WithParamInterface<SchemaCase> {};

TEST_P(SchemaTest, InvalidCustomResourceIs422WithCauses) {
  applyWidgetCrd();
  const SchemaCase& c = GetParam();
  HttpResponse r = http("POST", "/apis/example.com/v1/namespaces/default/widgets",
                        R"({"apiVersion":"example.com/v1","kind":"Widget",)"
                        R"("metadata":{"name":"bad"},"spec":)" +
                            c.spec + "}");
  ASSERT_EQ(r.code, 422) << r;
  EXPECT_EQ(r.doc["reason"], "Invalid");
  EXPECT_EQ(r.doc["details"]["kind"], "Widget");
  EXPECT_EQ(r.doc["details"]["group"], "example.com");
  ASSERT_EQ(r.doc["details"]["causes"].size(), 1u) << r;
  const json& cause = r.doc["details"]["causes"][0];
  EXPECT_EQ(cause["field"], c.field);
  EXPECT_EQ(cause["reason"], c.reason);
  std::string message = r.doc["message"];
  EXPECT_EQ(message.rfind("Widget.example.com \"bad\" is invalid: " + c.field + ": ", 0), 0u)
      << message;
  EXPECT_NE(message.find(c.message_part), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SchemaTest,
    ::testing::Values(
        // Messages as apiextensions-apiserver words them (k8s.io/apiextensions-apiserver
        // pkg/apiserver/validation: kube-openapi errors turned into field.Errors).
        SchemaCase{"Minimum", R"({"replicas":0})", "spec.replicas", "FieldValueInvalid",
                   "Invalid value: 0: spec.replicas in body should be greater than or equal to 1"},
        SchemaCase{"Maximum", R"({"replicas":11})", "spec.replicas", "FieldValueInvalid",
                   "should be less than or equal to 10"},
        SchemaCase{"Required", R"({"mode":"Slow"})", "spec.replicas", "FieldValueRequired",
                   "Required value"},
        SchemaCase{"Enum", R"({"replicas":1,"mode":"Medium"})", "spec.mode",
                   "FieldValueNotSupported",
                   R"(Unsupported value: "Medium": supported values: "Fast", "Slow")"},
        SchemaCase{"Type", R"({"replicas":"two"})", "spec.replicas", "FieldValueTypeInvalid",
                   "must be of type integer"},
        SchemaCase{"Pattern", R"({"replicas":1,"owner":"Bob"})", "spec.owner", "FieldValueInvalid",
                   "should match '^[a-z]+$'"},
        SchemaCase{"MaxItems", R"({"replicas":1,"tags":["a","b","c"]})", "spec.tags",
                   "FieldValueTooMany", "must have at most 2 items"}),
    [](const ::testing::TestParamInfo<SchemaCase>& info) { return info.param.name; });

struct GenerationCase {
  std::string name;
  std::string subresource;  // "" or "status"
  std::string patch;        // merge patch
  bool bumps;
};

class GenerationTest : public ApiServerTest,
                       public ::testing::WithParamInterface<GenerationCase> {};

TEST_P(GenerationTest, BumpsOnSpecChangesOnly) {
  applyWidgetCrd();
  kubectlOk({"apply", "-f", "-"}, widgetYaml("g", "{replicas: 2}"));
  const GenerationCase& c = GetParam();
  std::string path = "/apis/example.com/v1/namespaces/default/widgets/g";
  if (!c.subresource.empty()) path += "/" + c.subresource;
  HttpResponse before = http("GET", path);
  HttpResponse r = http("PATCH", path, c.patch, "application/merge-patch+json");
  ASSERT_EQ(r.code, 200) << r;
  EXPECT_NE(r.doc["metadata"]["resourceVersion"], before.doc["metadata"]["resourceVersion"]);
  EXPECT_EQ(r.doc["metadata"]["generation"], c.bumps ? 2 : 1) << r;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, GenerationTest,
    ::testing::Values(GenerationCase{"Spec", "", R"({"spec":{"replicas":3}})", true},
                      GenerationCase{"Labels", "", R"({"metadata":{"labels":{"a":"b"}}})", false},
                      GenerationCase{"Status", "status", R"({"status":{"phase":"Ok"}})", false}),
    [](const ::testing::TestParamInfo<GenerationCase>& info) { return info.param.name; });

TEST_F(ApiServerTest, StatusSubresourceSeparatesSpecAndStatus) {
  applyWidgetCrd();
  kubectlOk({"apply", "-f", "-"}, widgetYaml("s", "{replicas: 2}"));
  const std::string path = "/apis/example.com/v1/namespaces/default/widgets/s";
  // Main resource: status is ignored.
  HttpResponse main = http("PATCH", path, R"({"spec":{"replicas":3},"status":{"phase":"X"}})",
                           "application/merge-patch+json");
  ASSERT_EQ(main.code, 200) << main;
  EXPECT_EQ(main.doc["spec"]["replicas"], 3);
  EXPECT_FALSE(main.doc.contains("status")) << main;
  // /status: everything but status is ignored.
  HttpResponse status = http("PATCH", path + "/status",
                             R"({"spec":{"replicas":9},"status":{"phase":"Y","replicas":3}})",
                             "application/merge-patch+json");
  ASSERT_EQ(status.code, 200) << status;
  EXPECT_EQ(status.doc["spec"]["replicas"], 3);
  EXPECT_EQ(status.doc["status"]["phase"], "Y");
  EXPECT_EQ(http("GET", path + "/scale").doc["status"]["replicas"], 3);
}

// --- Patches ----------------------------------------------------------------------------------

struct PatchCase {
  std::string name;
  std::string content_type;
  std::string patch;
  std::vector<std::string> containers;  // expected container names, in order
  int replicas;
};

class PatchTest : public ApiServerTest, public ::testing::WithParamInterface<PatchCase> {};

TEST_P(PatchTest, PatchesTheDeployment) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  const PatchCase& c = GetParam();
  HttpResponse r =
      http("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", c.patch, c.content_type);
  ASSERT_EQ(r.code, 200) << r;
  std::vector<std::string> names;
  for (const auto& ctr : r.doc["spec"]["template"]["spec"]["containers"]) {
    names.push_back(ctr["name"]);
  }
  EXPECT_EQ(names, c.containers);
  EXPECT_EQ(r.doc["spec"]["replicas"], c.replicas);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PatchTest,
    ::testing::Values(
        // Strategic merge: containers merge by name.
        PatchCase{
            "StrategicMergesContainers",
            "application/strategic-merge-patch+json",
            R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"b"}]}}}})",
            {"nginx", "sidecar"},
            2},
        PatchCase{
            "StrategicDeleteDirective",
            "application/strategic-merge-patch+json",
            R"({"spec":{"replicas":5,"template":{"spec":{"containers":[{"name":"nginx","$patch":"delete"},{"name":"new","image":"n"}]}}}})",
            {"new"},
            5},
        // Merge patch (RFC 7386): lists are replaced.
        PatchCase{
            "MergeReplacesContainers",
            "application/merge-patch+json",
            R"({"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"b"}]}}}})",
            {"sidecar"},
            2},
        // JSON patch (RFC 6902), with a passing test op.
        PatchCase{"JsonPatch",
                  "application/json-patch+json",
                  R"([{"op":"test","path":"/spec/replicas","value":2},
                      {"op":"replace","path":"/spec/replicas","value":3},
                      {"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"x","image":"x"}}])",
                  {"nginx", "x"},
                  3}),
    [](const ::testing::TestParamInfo<PatchCase>& info) { return info.param.name; });

TEST_F(ApiServerTest, PatchErrors) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/web";
  HttpResponse failed_test =
      http("PATCH", path, R"([{"op":"test","path":"/spec/replicas","value":9}])",
           "application/json-patch+json");
  EXPECT_EQ(failed_test.code, 422) << failed_test;
  applyWidgetCrd();
  kubectlOk({"apply", "-f", "-"}, widgetYaml("p", "{replicas: 2}"));
  HttpResponse smp = http("PATCH", "/apis/example.com/v1/namespaces/default/widgets/p",
                          R"({"spec":{"replicas":3}})", "application/strategic-merge-patch+json");
  EXPECT_EQ(smp.code, 415) << smp;
  EXPECT_EQ(smp.doc["reason"], "UnsupportedMediaType");
  HttpResponse invalid = http("PATCH", "/apis/example.com/v1/namespaces/default/widgets/p",
                              R"({"spec":{"replicas":100}})", "application/merge-patch+json");
  EXPECT_EQ(invalid.code, 422) << invalid;
}

// --- Lists and selectors ----------------------------------------------------------------------

struct SelectorCase {
  std::string name;
  std::string query;
  std::vector<std::string> expected;
};

class SelectorTest : public ApiServerTest, public ::testing::WithParamInterface<SelectorCase> {};

TEST_P(SelectorTest, ListsWhatMatches) {
  const std::string path = "/api/v1/namespaces/default/configmaps";
  for (const char* body : {R"({"metadata":{"name":"a","labels":{"app":"web","tier":"front"}}})",
                           R"({"metadata":{"name":"b","labels":{"app":"db"}}})",
                           R"({"metadata":{"name":"c","labels":{"tier":"back"}}})"}) {
    ASSERT_EQ(http("POST", path, body).code, 201);
  }
  const SelectorCase& c = GetParam();
  HttpResponse r = http("GET", path + "?" + c.query);
  ASSERT_EQ(r.code, 200) << r;
  EXPECT_EQ(r.doc["kind"], "ConfigMapList");
  std::vector<std::string> names;
  for (const auto& item : r.doc["items"]) names.push_back(item["metadata"]["name"]);
  EXPECT_EQ(names, c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SelectorTest,
    ::testing::Values(SelectorCase{"Equals", "labelSelector=app%3Dweb", {"a"}},
                      SelectorCase{"NotEquals", "labelSelector=app!%3Dweb", {"b", "c"}},
                      SelectorCase{"In", "labelSelector=app%20in%20(web,db)", {"a", "b"}},
                      SelectorCase{"NotIn", "labelSelector=tier%20notin%20(front)", {"b", "c"}},
                      SelectorCase{"Exists", "labelSelector=tier", {"a", "c"}},
                      SelectorCase{"NotExists", "labelSelector=!tier", {"b"}},
                      SelectorCase{"And", "labelSelector=app,tier", {"a"}},
                      SelectorCase{"FieldName", "fieldSelector=metadata.name%3Db", {"b"}},
                      SelectorCase{
                          "FieldNamespace", "fieldSelector=metadata.namespace%3Dother", {}},
                      SelectorCase{"Limit", "limit=2", {"a", "b"}}),
    [](const ::testing::TestParamInfo<SelectorCase>& info) { return info.param.name; });

TEST_F(ApiServerTest, ListContinuesAfterLimit) {
  const std::string path = "/api/v1/namespaces/default/configmaps";
  for (const char* n : {"a", "b", "c"}) {
    ASSERT_EQ(http("POST", path, std::string(R"({"metadata":{"name":")") + n + "\"}}").code, 201);
  }
  HttpResponse page1 = http("GET", path + "?limit=2");
  ASSERT_EQ(page1.doc["items"].size(), 2u);
  std::string cont = page1.doc["metadata"]["continue"];
  EXPECT_EQ(page1.doc["metadata"]["remainingItemCount"], 1);
  HttpResponse page2 = http("GET", path + "?limit=2&continue=" + cont);
  ASSERT_EQ(page2.doc["items"].size(), 1u) << page2;
  EXPECT_EQ(page2.doc["items"][0]["metadata"]["name"], "c");
  EXPECT_FALSE(page2.doc["metadata"].contains("continue"));
  // Compaction past the list's resourceVersion (etcd keeps the compacted revision itself).
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"d"}})").code, 201);
  control("POST", "/_test/compact");
  HttpResponse expired = http("GET", path + "?limit=2&continue=" + cont);
  EXPECT_EQ(expired.code, 410) << expired;
  EXPECT_EQ(expired.doc["reason"], "Expired");
}

// --- Watches ----------------------------------------------------------------------------------

TEST_F(ApiServerTest, WatchStreamsEventsAndBookmarks) {
  server_.reset();
  startServer({.extra_args = {"--bookmark-interval", "0.1"}});
  const std::string path = "/api/v1/namespaces/default/configmaps";
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"a","labels":{"w":"1"}}})").code, 201);
  std::string rv = http("GET", path).doc["metadata"]["resourceVersion"];
  ASSERT_EQ(
      http("PATCH", path + "/a", R"({"data":{"k":"v"}})", "application/merge-patch+json").code,
      200);
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"b"}})").code, 201);
  ASSERT_EQ(http("DELETE", path + "/a").code, 200);

  // From `rv`: the history after it, then bookmarks until the server ends the stream.
  std::vector<json> events = watchEvents(
      path + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=" + rv);
  std::vector<std::string> seen;
  int bookmarks = 0;
  std::string last_rv = rv;
  for (const auto& e : events) {
    if (e["type"] == "BOOKMARK") {
      ++bookmarks;
      EXPECT_EQ(e["object"]["kind"], "ConfigMap");
      EXPECT_FALSE(e["object"].contains("data"));
    } else {
      seen.push_back(e["type"].get<std::string>() + " " +
                     e["object"]["metadata"]["name"].get<std::string>());
    }
    std::string erv = e["object"]["metadata"]["resourceVersion"];
    EXPECT_GE(std::stoll(erv), std::stoll(last_rv));
    last_rv = erv;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"MODIFIED a", "ADDED b", "DELETED a"}));
  EXPECT_GE(bookmarks, 1);

  // Label selectors filter; resourceVersion 0 starts with the current objects.
  events = watchEvents(path + "?watch=true&timeoutSeconds=1&labelSelector=w%3D1");
  EXPECT_TRUE(events.empty()) << events.size();
  events = watchEvents(path + "?watch=true&timeoutSeconds=1&resourceVersion=0");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "b");
}

TEST_F(ApiServerTest, WatchFromCompactedVersionIsGone) {
  const std::string path = "/api/v1/namespaces/default/configmaps";
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"a"}})").code, 201);
  std::string rv = http("GET", path).doc["metadata"]["resourceVersion"];
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"b"}})").code, 201);
  control("POST", "/_test/compact");
  std::vector<json> events = watchEvents(path + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
  HttpResponse exact = http("GET", path + "?resourceVersionMatch=Exact&resourceVersion=" + rv);
  EXPECT_EQ(exact.code, 410) << exact;
  // A watch from the current version still works.
  std::string now = http("GET", path).doc["metadata"]["resourceVersion"];
  events = watchEvents(path + "?watch=1&timeoutSeconds=1&resourceVersion=" + now);
  EXPECT_TRUE(events.empty());
}

TEST_F(ApiServerTest, MaxWatchHistoryBehavesLikeCompaction) {
  server_.reset();
  startServer({.extra_args = {"--max-watch-history", "2"}});
  const std::string path = "/api/v1/namespaces/default/configmaps";
  ASSERT_EQ(http("POST", path, R"({"metadata":{"name":"a"}})").code, 201);
  std::string rv = http("GET", path).doc["metadata"]["resourceVersion"];
  for (const char* n : {"b", "c", "d"}) {
    ASSERT_EQ(http("POST", path, std::string(R"({"metadata":{"name":")") + n + "\"}}").code, 201);
  }
  std::vector<json> events = watchEvents(path + "?watch=1&timeoutSeconds=1&resourceVersion=" + rv);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["object"]["code"], 410);
}

TEST_F(ApiServerTest, DroppedWatchEndsAbruptly) {
  TempDir dir;
  auto watch =
      Subprocess::start({"curl", "-sS", "-N", "--max-time", "60", "-H",
                         std::string("Authorization: Bearer ") + kAdminToken,
                         server_->url() + "/apis/apps/v1/namespaces/default/deployments?watch=1"},
                        dir.file("watch.log"));
  ASSERT_TRUE(watch.ok()) << watch.status().toString();
  ASSERT_TRUE(waitUntil(
      [&] {
        auto w = server_->control("GET", "/_test/watches");
        return w.ok() && json::parse(*w, nullptr, false).size() == 1;
      },
      kWait));
  json dropped = json::parse(control("POST", "/_test/watches/drop"));
  EXPECT_EQ(dropped["dropped"], 1);
  std::optional<int> code = (*watch)->waitExit(kWait);
  ASSERT_TRUE(code.has_value());
  // curl: 18 = transfer closed with outstanding read data (no terminating chunk).
  EXPECT_EQ(*code, 18) << (*watch)->logTail();
}

TEST_F(ApiServerTest, KubectlGetWatchPrintsChanges) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  TempDir dir;
  auto watch = Subprocess::start({"kubectl", "--kubeconfig", server_->kubeconfigPath(), "get",
                                  "deployment", "web", "-w", "--request-timeout=60s"},
                                 dir.file("kubectl-watch.log"));
  ASSERT_TRUE(watch.ok()) << watch.status().toString();
  ASSERT_TRUE(
      waitUntil([&] { return (*watch)->logTail().find("web") != std::string::npos; }, kWait));
  kubectlOk({"scale", "deployment", "web", "--replicas=3"});
  // One header line, then a line per event; the scale makes at least one more.
  EXPECT_TRUE(waitUntil(
      [&] {
        std::string log = (*watch)->logTail();
        return std::count(log.begin(), log.end(), '\n') >= 3 && log.find("/3") != std::string::npos;
      },
      kWait))
      << (*watch)->logTail();
  std::string log = (*watch)->logTail();
  EXPECT_EQ(log.find("NAME"), 0u) << log;
  EXPECT_EQ(log.find("NAME", 1), std::string::npos) << log;  // headers only once
}

// --- Faults -----------------------------------------------------------------------------------

struct FaultCase {
  std::string name;
  std::string fault;
  int code;
  std::string reason;
  std::string header;  // expected in the response headers, if any
};

class FaultTest : public ApiServerTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(FaultTest, InjectedFaultIsObservedThenGone) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  const FaultCase& c = GetParam();
  control("POST", "/_test/faults", c.fault);
  const std::string path = "/apis/apps/v1/namespaces/default/deployments/web";
  // A request the fault does not match is untouched.
  EXPECT_EQ(http("GET", "/api/v1/namespaces/default/configmaps").code, 200);
  for (int i = 0; i < 2; ++i) {  // count: 2
    HttpResponse r =
        http("PATCH", path + "/status", R"({"status":{}})", "application/merge-patch+json");
    EXPECT_EQ(r.code, c.code) << r;
    EXPECT_EQ(r.doc["reason"], c.reason) << r;
    if (!c.header.empty()) {
      EXPECT_NE(r.headers.find(c.header), std::string::npos) << r;
    }
  }
  EXPECT_EQ(
      http("PATCH", path + "/status", R"({"status":{}})", "application/merge-patch+json").code,
      200);
  EXPECT_EQ(json::parse(control("GET", "/_test/faults")).size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FaultTest,
    ::testing::Values(
        FaultCase{
            "InternalError",
            R"({"verb":"patch","resource":"deployments","subresource":"status","code":500,"count":2})",
            500, "InternalError", ""},
        FaultCase{
            "TooManyRequests",
            R"({"verb":"patch","resource":"deployments","code":429,"retryAfterSeconds":7,"count":2})",
            429, "TooManyRequests", "Retry-After: 7"},
        FaultCase{
            "Conflict",
            R"({"resource":"deployments","subresource":"status","namespace":"default","code":409,"count":2})",
            409, "Conflict", ""},
        FaultCase{"ForbiddenForAdmin",
                  R"({"user":"admin","resource":"deployments","code":403,"count":2})", 403,
                  "Forbidden", ""}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; });

TEST_F(ApiServerTest, FaultsMatchTheUser) {
  control("POST", "/_test/faults",
          std::string(R"({"user":")") + kOperatorUser + R"(","code":503})");
  const std::string path = "/api/v1/namespaces/default/configmaps";
  EXPECT_EQ(http("GET", path, "", "", kOperatorToken).code, 503);
  EXPECT_EQ(http("GET", path, "", "", kAdminToken).code, 200);
  control("DELETE", "/_test/faults");
  EXPECT_EQ(http("GET", path, "", "", kOperatorToken).code, 200);
}

TEST_F(ApiServerTest, DelayFaultHoldsTheRequest) {
  control("POST", "/_test/faults",
          R"({"verb":"list","resource":"configmaps","delayMs":5000,"count":1})");
  // A client that gives up after 0.5 s does not get an answer from a request held for 5 s.
  std::vector<std::string> argv = {"curl",
                                   "-sS",
                                   "--max-time",
                                   "0.5",
                                   "-H",
                                   std::string("Authorization: Bearer ") + kAdminToken,
                                   server_->url() + "/api/v1/namespaces/default/configmaps"};
  CommandResult r = runCommand(argv, seconds(20));
  EXPECT_EQ(r.exit_code, 28) << r.out << r.err;  // curl: operation timed out
  json faults = json::parse(control("GET", "/_test/faults"));
  EXPECT_TRUE(faults.empty()) << faults;  // count 1, used
}

// --- Authentication, audit, TLS ---------------------------------------------------------------

TEST_F(ApiServerTest, InvalidTokenIs401AndOperatorTokenIsItsUser) {
  HttpResponse bad = http("GET", "/api/v1/namespaces", "", "", "wrong-token");
  EXPECT_EQ(bad.code, 401) << bad;
  EXPECT_EQ(bad.doc["reason"], "Unauthorized");
  EXPECT_EQ(http("GET", "/api/v1/namespaces", "", "", kOperatorToken).code, 200);
  auto audit = json::parse(control("GET", "/_test/audit?resource=namespaces&verb=list"));
  std::vector<std::string> users;
  for (const auto& rec : audit) users.push_back(rec["user"]);
  EXPECT_NE(std::find(users.begin(), users.end(), kOperatorUser), users.end()) << audit;
  // The control API is for admin only.
  HttpResponse forbidden = http("GET", "/_test/faults", "", "", kOperatorToken);
  EXPECT_EQ(forbidden.code, 403) << forbidden;
}

TEST_F(ApiServerTest, AuditRecordsVerbsAsKubernetesAuthorizationSeesThem) {
  kubectlOk({"apply", "-f", "-"}, kDeployment);
  control("DELETE", "/_test/audit");
  const std::string base = "/apis/apps/v1/namespaces/default/deployments";
  http("GET", base + "/web");
  http("GET", base);
  http("PATCH", base + "/web/scale", R"({"spec":{"replicas":1}})", "application/merge-patch+json");
  http("GET", base + "/missing");
  json audit = json::parse(control("GET", "/_test/audit?resource=deployments"));
  std::vector<std::string> seen;
  for (const auto& rec : audit) {
    seen.push_back(rec["verb"].get<std::string>() + "/" + rec["subresource"].get<std::string>() +
                   "/" + std::to_string(rec["code"].get<int>()));
    EXPECT_EQ(rec["apiGroup"], "apps");
    EXPECT_EQ(rec["namespace"], "default");
    EXPECT_EQ(rec["user"], "admin");
  }
  EXPECT_EQ(seen,
            (std::vector<std::string>{"get//200", "list//200", "patch/scale/200", "get//404"}));
}

TEST_F(ApiServerTest, LeaseUpdatesConflictOnStaleVersion) {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
  HttpResponse created = http(
      "POST", path,
      R"({"metadata":{"name":"governor"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,
          "acquireTime":"2025-01-01T00:00:00.000000Z","renewTime":"2025-01-01T00:00:00.000000Z"}})");
  ASSERT_EQ(created.code, 201) << created;
  json mine = created.doc;
  json theirs = created.doc;
  mine["spec"]["holderIdentity"] = "b";
  ASSERT_EQ(http("PUT", path + "/governor", mine.dump()).code, 200);
  theirs["spec"]["holderIdentity"] = "c";
  EXPECT_EQ(http("PUT", path + "/governor", theirs.dump()).code, 409);
  HttpResponse bad_time = http("PATCH", path + "/governor", R"({"spec":{"renewTime":"yesterday"}})",
                               "application/merge-patch+json");
  EXPECT_EQ(bad_time.code, 400) << bad_time;
}

class TlsApiServerTest : public ApiServerTest {
 protected:
  void SetUp() override {
    TestApiServerOptions options;
    options.tls = true;
    startServer(options);
  }
};

TEST_F(TlsApiServerTest, KubectlTrustsTheCaAndTokensAreRequired) {
  EXPECT_EQ(server_->url().rfind("https://127.0.0.1:", 0), 0u);
  ASSERT_FALSE(server_->caFile().empty());
  json ns = kubectlJson({"get", "namespace", "default"});
  EXPECT_EQ(ns["metadata"]["name"], "default");
  kubectlOk({"apply", "-f", "-"}, kDeployment);

  // Without a token, or with a wrong one: 401, for kubectl too.
  HttpResponse anonymous = http("GET", "/api/v1/namespaces", "", "", "");
  EXPECT_EQ(anonymous.code, 401) << anonymous;
  std::string wrong = server_->writeKubeconfig("wrong-token", "wrong.kubeconfig");
  CommandResult r = runCommand({"kubectl", "--kubeconfig", wrong, "get", "pods"}, seconds(60));
  EXPECT_NE(r.exit_code, 0);
  // kubectl words a 401 as "the server has asked for the client to provide credentials".
  EXPECT_NE(r.err.find("provide credentials"), std::string::npos) << r.err;
  // The operator's identity works, and the audit log shows it.
  std::string op = server_->writeKubeconfig(kOperatorToken, "operator.kubeconfig");
  r = runCommand({"kubectl", "--kubeconfig", op, "get", "deployments"}, seconds(60));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json audit = json::parse(control("GET", "/_test/audit?verb=list&resource=deployments"));
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back()["user"], kOperatorUser);
  // An HTTPS client that does not trust the CA fails verification.
  CommandResult untrusted =
      runCommand({"curl", "-sS", "--max-time", "10", server_->url() + "/readyz"}, seconds(20));
  EXPECT_EQ(untrusted.exit_code, 60) << untrusted.err;  // curl: peer certificate not trusted
}

}  // namespace
}  // namespace governor::testing
