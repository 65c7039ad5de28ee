// The install manifests as `kubectl apply -k manifests/` would send them: rendered by
// kubectl's own kustomize (no cluster needed), then checked field by field where a mistake
// would break the operator (probes on the wrong port, a selector that matches nothing, a
// missing permission) or weaken it (a wildcard rule, a root container).

#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "tests/manifests/manifest_files.h"

namespace governor::testing::manifests {
namespace {

constexpr char kNamespace[] = "governor-system";
constexpr char kDeployment[] = "governor-operator";

class KustomizeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto rendered = renderKustomization(sourcePath("manifests"));
    ASSERT_TRUE(rendered.ok()) << rendered.status().message();
    docs_ = new std::vector<YAML::Node>(std::move(rendered).value());
  }
  static void TearDownTestSuite() {
    delete docs_;
    docs_ = nullptr;
  }

  // The rendered object, failing the test when it is missing.
  static YAML::Node object(std::string_view kind, std::string_view name) {
    const YAML::Node* found = findObject(*docs_, kind, name);
    EXPECT_NE(found, nullptr) << kind << " " << name << " is not rendered";
    return found != nullptr ? *found : YAML::Node();
  }

  static YAML::Node podTemplate() { return object("Deployment", kDeployment)["spec"]["template"]; }
  static YAML::Node container() { return podTemplate()["spec"]["containers"][0]; }

  static std::vector<std::string> args() {
    std::vector<std::string> out;
    for (const auto& a : container()["args"]) out.push_back(a.Scalar());
    return out;
  }

  // The value of `--flag=value` in the container's args, or "" when absent.
  static std::string flag(const std::string& name) {
    for (const auto& a : args()) {
      if (a.rfind(name + "=", 0) == 0) return a.substr(name.size() + 1);
    }
    return "";
  }

  // The containerPort of the container port named `name`, or -1.
  static int containerPort(const std::string& name) {
    for (const auto& p : container()["ports"]) {
      if (p["name"].Scalar() == name) return p["containerPort"].as<int>();
    }
    return -1;
  }

  // Whether every label of the selector's matchLabels is on the operator's pods (and the
  // selector is not empty: an empty selector matches everything).
  static bool selectsOperatorPods(const YAML::Node& match_labels) {
    const YAML::Node labels = podTemplate()["metadata"]["labels"];
    if (!match_labels.IsMap() || match_labels.size() == 0) return false;
    for (const auto& kv : match_labels) {
      const std::string key = kv.first.Scalar();
      if (!labels[key] || labels[key].Scalar() != kv.second.Scalar()) return false;
    }
    return true;
  }

  static std::vector<YAML::Node>* docs_;
};

std::vector<YAML::Node>* KustomizeTest::docs_ = nullptr;

TEST_F(KustomizeTest, RendersEveryKindOnce) {
  std::map<std::string, int> kinds;
  for (const auto& doc : *docs_) ++kinds[doc["kind"].Scalar()];
  for (const char* kind : {"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                           "Role", "RoleBinding", "Deployment", "Service", "PodDisruptionBudget"}) {
    EXPECT_EQ(kinds[kind], 1) << kind;
  }
  // ScalingPolicy, Rollout, AnalysisTemplate.
  EXPECT_EQ(kinds["CustomResourceDefinition"], 3);
  EXPECT_EQ(docs_->size(), 12u);
}

TEST_F(KustomizeTest, NamespacedObjectsLiveInTheOperatorNamespace) {
  const std::set<std::string> cluster_scoped = {"Namespace", "CustomResourceDefinition",
                                                "ClusterRole", "ClusterRoleBinding"};
  for (const auto& doc : *docs_) {
    const std::string kind = doc["kind"].Scalar();
    const YAML::Node ns = at(at(doc, "metadata"), "namespace");
    if (cluster_scoped.count(kind) != 0) {
      EXPECT_FALSE(ns.IsDefined()) << kind << " is cluster-scoped";
    } else {
      ASSERT_TRUE(ns.IsDefined()) << kind;
      EXPECT_EQ(ns.Scalar(), kNamespace) << kind;
    }
  }
  EXPECT_EQ(object("Namespace", kNamespace)["metadata"]["name"].Scalar(), kNamespace);
}

TEST_F(KustomizeTest, DeploymentRunsTwoReplicasWithLeaderElection) {
  const YAML::Node deployment = object("Deployment", kDeployment);
  EXPECT_EQ(deployment["spec"]["replicas"].as<int>(), 2);
  const auto a = args();
  // ENTRYPOINT is the governor binary: the first argument picks the subcommand.
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0], "operator");
  EXPECT_NE(std::find(a.begin(), a.end(), "--leader-elect"), a.end());
  EXPECT_TRUE(selectsOperatorPods(deployment["spec"]["selector"]["matchLabels"]));
  // A rolling update never leaves fewer than two replicas: one can always take the Lease.
  EXPECT_EQ(deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"].as<int>(), 0);
}

TEST_F(KustomizeTest, ProbesAndPortsMatchTheFlags) {
  const std::string health = flag("--health-addr");
  const std::string metrics = flag("--metrics-addr");
  ASSERT_FALSE(health.empty());
  ASSERT_FALSE(metrics.empty());
  const int health_port = std::stoi(health.substr(health.rfind(':') + 1));
  const int metrics_port = std::stoi(metrics.substr(metrics.rfind(':') + 1));
  EXPECT_EQ(containerPort("health"), health_port);
  EXPECT_EQ(containerPort("metrics"), metrics_port);
  EXPECT_EQ(metrics_port, 8080);

  struct Probe {
    const char* field;
    const char* path;
  };
  for (const Probe& probe :
       {Probe{"livenessProbe", "/healthz"}, Probe{"readinessProbe", "/readyz"}}) {
    const YAML::Node get = container()[probe.field]["httpGet"];
    ASSERT_TRUE(get.IsMap()) << probe.field;
    EXPECT_EQ(get["path"].Scalar(), probe.path) << probe.field;
    const std::string port = get["port"].Scalar();
    EXPECT_TRUE(port == "health" || port == std::to_string(health_port)) << probe.field;
  }
}

TEST_F(KustomizeTest, ContainerIsLockedDown) {
  const YAML::Node pod = podTemplate()["spec"]["securityContext"];
  const YAML::Node c = container()["securityContext"];
  EXPECT_TRUE(pod["runAsNonRoot"].as<bool>());
  EXPECT_EQ(pod["runAsUser"].as<int>(), 65532);
  EXPECT_EQ(pod["seccompProfile"]["type"].Scalar(), "RuntimeDefault");
  EXPECT_TRUE(c["readOnlyRootFilesystem"].as<bool>());
  EXPECT_FALSE(c["allowPrivilegeEscalation"].as<bool>());
  ASSERT_TRUE(c["capabilities"]["drop"].IsSequence());
  ASSERT_EQ(c["capabilities"]["drop"].size(), 1u);
  EXPECT_EQ(c["capabilities"]["drop"][0].Scalar(), "ALL");
  EXPECT_FALSE(at(at(c, "capabilities"), "add").IsDefined());
  EXPECT_FALSE(at(c, "privileged").IsDefined() && c["privileged"].as<bool>());
  for (const char* kind : {"requests", "limits"}) {
    for (const char* resource : {"cpu", "memory"}) {
      EXPECT_TRUE(container()["resources"][kind][resource].IsScalar()) << kind << "." << resource;
    }
  }
}

TEST_F(KustomizeTest, PodKnowsItsNameAndNamespace) {
  std::map<std::string, std::string> field_refs;
  for (const auto& env : container()["env"]) {
    const YAML::Node ref = at(at(at(env, "valueFrom"), "fieldRef"), "fieldPath");
    if (ref.IsScalar()) field_refs[env["name"].Scalar()] = ref.Scalar();
  }
  EXPECT_EQ(field_refs["POD_NAME"], "metadata.name");
  EXPECT_EQ(field_refs["POD_NAMESPACE"], "metadata.namespace");
}

TEST_F(KustomizeTest, ReplicasSpreadOverNodes) {
  const YAML::Node spec = podTemplate()["spec"];
  bool spread = false;
  for (const auto& c : spec["topologySpreadConstraints"]) {
    spread = spread || (c["topologyKey"].Scalar() == "kubernetes.io/hostname" &&
                        selectsOperatorPods(c["labelSelector"]["matchLabels"]));
  }
  const YAML::Node anti = at(at(spec, "affinity"), "podAntiAffinity");
  EXPECT_TRUE(spread || anti.IsDefined());
}

TEST_F(KustomizeTest, ImageIsTheProjectVersion) {
  EXPECT_EQ(container()["image"].Scalar(), std::string("governor:") + GOVERNOR_VERSION);
}

TEST_F(KustomizeTest, DisruptionBudgetAndMetricsServiceSelectTheOperator) {
  const YAML::Node pdb = object("PodDisruptionBudget", kDeployment);
  EXPECT_EQ(pdb["spec"]["minAvailable"].as<int>(), 1);
  EXPECT_TRUE(selectsOperatorPods(pdb["spec"]["selector"]["matchLabels"]));

  const YAML::Node service = object("Service", "governor-operator-metrics");
  EXPECT_TRUE(selectsOperatorPods(service["spec"]["selector"]));
  ASSERT_EQ(service["spec"]["ports"].size(), 1u);
  const YAML::Node port = service["spec"]["ports"][0];
  EXPECT_EQ(port["name"].Scalar(), "metrics");
  EXPECT_EQ(port["port"].as<int>(), 8080);
  const std::string target = port["targetPort"].Scalar();
  EXPECT_TRUE(target == "metrics" || target == std::to_string(containerPort("metrics")));
}

TEST_F(KustomizeTest, ServiceAccountIsBoundToBothRoles) {
  const std::string account = podTemplate()["spec"]["serviceAccountName"].Scalar();
  ASSERT_NE(findObject(*docs_, "ServiceAccount", account), nullptr) << account;
  struct Binding {
    const char* kind;
    const char* role_kind;
  };
  for (const Binding& b :
       {Binding{"ClusterRoleBinding", "ClusterRole"}, Binding{"RoleBinding", "Role"}}) {
    int bound = 0;
    for (const auto& doc : *docs_) {
      if (doc["kind"].Scalar() != b.kind) continue;
      const YAML::Node ref = doc["roleRef"];
      EXPECT_EQ(ref["kind"].Scalar(), b.role_kind);
      EXPECT_NE(findObject(*docs_, b.role_kind, ref["name"].Scalar()), nullptr)
          << b.kind << " refers to a missing " << b.role_kind;
      for (const auto& subject : doc["subjects"]) {
        if (subject["kind"].Scalar() == "ServiceAccount" && subject["name"].Scalar() == account &&
            subject["namespace"].Scalar() == kNamespace) {
          ++bound;
        }
      }
    }
    EXPECT_EQ(bound, 1) << b.kind;
  }
}

// One permission: (apiGroup, resource, verb).
struct Permission {
  std::string group;
  std::string resource;
  std::string verb;
  friend auto operator<=>(const Permission&, const Permission&) = default;
};

std::set<Permission> permissions(const YAML::Node& role) {
  std::set<Permission> out;
  for (const auto& rule : role["rules"]) {
    for (const auto& g : rule["apiGroups"]) {
      for (const auto& r : rule["resources"]) {
        for (const auto& v : rule["verbs"]) out.insert({g.Scalar(), r.Scalar(), v.Scalar()});
      }
    }
  }
  return out;
}

TEST_F(KustomizeTest, RbacHasNoWildcardsAndOnlyKnownVerbs) {
  const std::set<std::string> verbs = {"get", "list", "watch", "create", "update", "patch"};
  for (const auto& doc : *docs_) {
    const std::string kind = doc["kind"].Scalar();
    if (kind != "ClusterRole" && kind != "Role") continue;
    ASSERT_TRUE(doc["rules"].IsSequence()) << kind;
    for (const auto& rule : doc["rules"]) {
      for (const char* field : {"apiGroups", "resources", "verbs", "resourceNames"}) {
        for (const auto& item : at(rule, field)) {
          EXPECT_EQ(item.Scalar().find('*'), std::string::npos) << kind << " " << field;
        }
      }
      EXPECT_FALSE(at(rule, "nonResourceURLs").IsDefined()) << kind;
      // Delete only the ReplicaSets of a Rollout's old revisions (revisionHistoryLimit).
      bool replica_sets_only = rule["resources"].size() > 0;
      for (const auto& r : rule["resources"]) {
        replica_sets_only = replica_sets_only && r.Scalar() == "replicasets";
      }
      for (const auto& v : rule["verbs"]) {
        EXPECT_TRUE(verbs.count(v.Scalar()) == 1 || (v.Scalar() == "delete" && replica_sets_only))
            << v.Scalar();
      }
      // Never read what the operator has no use for (secrets).
      for (const auto& r : rule["resources"]) EXPECT_NE(r.Scalar(), "secrets");
    }
  }
}

TEST_F(KustomizeTest, RbacGrantsWhatTheOperatorCalls) {
  const auto cluster = permissions(object("ClusterRole", "governor-operator"));
  const auto leader = permissions(object("Role", "governor-leader-election"));
  // The calls of the operator's code paths (manifests/rbac/cluster_role.yaml says which).
  const std::vector<Permission> cluster_wide = {
      {"governor.io", "scalingpolicies", "list"},
      {"governor.io", "scalingpolicies", "watch"},
      {"governor.io", "scalingpolicies/status", "update"},
      {"apps", "deployments/scale", "get"},
      {"apps", "deployments/scale", "update"},
      {"apps", "statefulsets/scale", "get"},
      {"apps", "statefulsets/scale", "update"},
      {"apps", "deployments", "get"},
      {"apps", "statefulsets", "get"},
      {"", "pods", "list"},
      {"", "events", "create"},
      {"autoscaling", "horizontalpodautoscalers", "list"},
      {"autoscaling", "horizontalpodautoscalers", "watch"},
      // The rollout controller, and ScalingPolicies that target Rollouts.
      {"governor.io", "rollouts", "list"},
      {"governor.io", "rollouts", "watch"},
      {"governor.io", "rollouts/status", "update"},
      {"governor.io", "rollouts/scale", "get"},
      {"governor.io", "rollouts/scale", "update"},
      {"governor.io", "analysistemplates", "get"},
      {"apps", "replicasets", "list"},
      {"apps", "replicasets", "watch"},
      {"apps", "replicasets", "create"},
      {"apps", "replicasets", "patch"},
      {"apps", "replicasets", "delete"},
      {"", "services", "patch"},
      {"gateway.networking.k8s.io", "httproutes", "update"},
  };
  for (const auto& p : cluster_wide) {
    EXPECT_EQ(cluster.count(p), 1u)
        << "ClusterRole lacks " << p.verb << " " << p.group << "/" << p.resource;
  }
  for (const char* verb : {"get", "create", "update"}) {
    EXPECT_EQ(leader.count({"coordination.k8s.io", "leases", verb}), 1u) << verb;
  }
  // Leases only in the operator's namespace: it must not be able to take over the Leases of
  // kube-scheduler, kube-controller-manager or the nodes.
  for (const auto& p : cluster) EXPECT_NE(p.resource, "leases");
  EXPECT_EQ(object("Role", "governor-leader-election")["metadata"]["namespace"].Scalar(),
            kNamespace);
}

TEST(RbacSourceTest, EveryRuleSaysWhichCodePathNeedsIt) {
  // kustomize drops comments, so this reads the sources.
  for (const char* file :
       {"manifests/rbac/cluster_role.yaml", "manifests/rbac/leader_election_role.yaml"}) {
    auto text = readFile(sourcePath(file));
    ASSERT_TRUE(text.ok()) << text.status().message();
    std::vector<std::string> lines;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    int rules = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].rfind("  - apiGroups:", 0) != 0) continue;
      ++rules;
      ASSERT_GT(i, 0u);
      EXPECT_EQ(lines[i - 1].rfind("  #", 0), 0u) << file << ":" << i + 1 << " has no comment";
    }
    EXPECT_GT(rules, 0) << file;
  }
}

TEST_F(KustomizeTest, CrdServesV1alpha1WithStatusAndPrinterColumns) {
  const YAML::Node crd = object("CustomResourceDefinition", "scalingpolicies.governor.io");
  const YAML::Node spec = crd["spec"];
  EXPECT_EQ(spec["group"].Scalar(), "governor.io");
  EXPECT_EQ(spec["scope"].Scalar(), "Namespaced");
  EXPECT_EQ(spec["names"]["kind"].Scalar(), "ScalingPolicy");
  EXPECT_EQ(spec["names"]["plural"].Scalar(), "scalingpolicies");
  EXPECT_EQ(spec["names"]["singular"].Scalar(), "scalingpolicy");
  EXPECT_EQ(spec["names"]["shortNames"][0].Scalar(), "spol");
  ASSERT_EQ(spec["versions"].size(), 1u);
  const YAML::Node version = spec["versions"][0];
  EXPECT_EQ(version["name"].Scalar(), "v1alpha1");
  EXPECT_TRUE(version["served"].as<bool>());
  EXPECT_TRUE(version["storage"].as<bool>());
  EXPECT_TRUE(version["subresources"]["status"].IsMap());
  // A ScalingPolicy is not scalable: a scale subresource would invite `kubectl scale` and an
  // HPA pointed at the policy itself.
  EXPECT_FALSE(at(at(version, "subresources"), "scale").IsDefined());

  std::map<std::string, std::string> columns;
  for (const auto& c : version["additionalPrinterColumns"]) {
    columns[c["name"].Scalar()] = c["jsonPath"].Scalar();
  }
  const std::map<std::string, std::string> expected = {
      {"Target", ".spec.scaleTargetRef.name"},
      {"Min", ".spec.minReplicas"},
      {"Max", ".spec.maxReplicas"},
      {"Current", ".status.currentReplicas"},
      {"Desired", ".status.desiredReplicas"},
      {"Age", ".metadata.creationTimestamp"},
  };
  for (const auto& [name, path] : expected) EXPECT_EQ(columns[name], path) << name;
}

TEST_F(KustomizeTest, RolloutCrdsAreInstalledWithScaleAndPrinterColumns) {
  const YAML::Node templates = object("CustomResourceDefinition", "analysistemplates.governor.io");
  EXPECT_EQ(templates["spec"]["names"]["kind"].Scalar(), "AnalysisTemplate");
  const YAML::Node crd = object("CustomResourceDefinition", "rollouts.governor.io");
  EXPECT_EQ(crd["spec"]["names"]["kind"].Scalar(), "Rollout");
  EXPECT_EQ(crd["spec"]["scope"].Scalar(), "Namespaced");
  ASSERT_EQ(crd["spec"]["versions"].size(), 1u);
  const YAML::Node version = crd["spec"]["versions"][0];
  EXPECT_EQ(version["name"].Scalar(), "v1alpha1");
  EXPECT_TRUE(version["subresources"]["status"].IsMap());
  // A ScalingPolicy targets a Rollout through /scale.
  const YAML::Node scale = version["subresources"]["scale"];
  EXPECT_EQ(scale["specReplicasPath"].Scalar(), ".spec.replicas");
  EXPECT_EQ(scale["statusReplicasPath"].Scalar(), ".status.replicas");
  EXPECT_EQ(scale["labelSelectorPath"].Scalar(), ".status.selector");
  std::map<std::string, std::string> columns;
  for (const auto& c : version["additionalPrinterColumns"]) {
    columns[c["name"].Scalar()] = c["jsonPath"].Scalar();
  }
  const std::map<std::string, std::string> expected = {
      {"Strategy", ".status.strategy"},       {"Step", ".status.currentStepIndex"},
      {"Weight", ".status.canaryWeight"},     {"Phase", ".status.phase"},
      {"Age", ".metadata.creationTimestamp"},
  };
  for (const auto& [name, path] : expected) EXPECT_EQ(columns[name], path) << name;
}

}  // namespace
}  // namespace governor::testing::manifests
