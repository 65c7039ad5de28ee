#include "rollouts/spec.h"

#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "rollouts/template_hash.h"

namespace governor::rollouts {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// Every field of a canary Rollout, with a traffic router.
constexpr const char* kEveryCanaryField = R"(apiVersion: governor.io/v1alpha1
kind: Rollout
metadata:
  name: web
  namespace: shop
  labels: {team: payments}     # metadata extras are ignored
spec:
  replicas: 10
  revisionHistoryLimit: 3
  progressDeadlineSeconds: 900
  selector:
    matchLabels: {app: web}
    matchExpressions:
      - {key: tier, operator: In, values: [frontend, edge]}
      - {key: legacy, operator: DoesNotExist}
  template:
    metadata:
      labels: {app: web, tier: frontend}
      annotations: {prometheus.io/scrape: "true"}
    spec:
      containers:
        - name: web
          image: registry.example.com/web:2.0
          ports: [{containerPort: 8080}]
  strategy:
    canary:
      maxSurge: "50%"
      maxUnavailable: 1
      stableService: web-stable
      canaryService: web-canary
      trafficRouting:
        gatewayAPI: {httpRoute: web-route, namespace: gateways}
      analysis:
        templates: [{templateName: error-rate}]
        args: [{name: service, value: web-canary}]
        startingStep: 1
      steps:
        - setCanaryScale: {replicas: 2}
        - setWeight: 10
        - pause: {duration: 10m}
        - pause: {duration: 90}
        - analysis:
            templates: [{templateName: success-rate}, {templateName: latency}]
            args: [{name: service, value: web-canary}, {name: quantile, value: "0.99"}]
        - setCanaryScale: {weight: 40}
        - setCanaryScale: {matchTrafficWeight: true}
        - pause: {}
)";

TEST(RolloutSpecTest, ParsesEveryCanaryField) {
  auto got = parseRollout(kEveryCanaryField, "web.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  const RolloutSpec& r = *got;
  EXPECT_EQ(r.name, "web");
  EXPECT_EQ(r.namespace_, "shop");
  EXPECT_EQ(r.replicas, 10);
  EXPECT_EQ(r.revision_history_limit, 3);
  EXPECT_EQ(r.progress_deadline, seconds(900));
  EXPECT_EQ(r.selector.match_labels, (std::map<std::string, std::string>{{"app", "web"}}));
  ASSERT_EQ(r.selector.match_expressions.size(), 2u);
  EXPECT_EQ(r.selector.match_expressions[0],
            (LabelSelectorRequirement{"tier", "In", {"frontend", "edge"}}));
  EXPECT_EQ(r.selector.match_expressions[1],
            (LabelSelectorRequirement{"legacy", "DoesNotExist", {}}));
  EXPECT_EQ(r.pod_template.labels,
            (std::map<std::string, std::string>{{"app", "web"}, {"tier", "frontend"}}));
  EXPECT_EQ(r.pod_template.json,
            R"({"metadata":{"annotations":{"prometheus.io/scrape":"true"},)"
            R"("labels":{"app":"web","tier":"frontend"}},"spec":{"containers":[{"image":)"
            R"("registry.example.com/web:2.0","name":"web","ports":[{"containerPort":8080}]}]}})");

  ASSERT_NE(r.canary(), nullptr);
  EXPECT_EQ(r.blueGreen(), nullptr);
  const CanaryStrategy& c = *r.canary();
  EXPECT_EQ(c.max_surge, (IntOrPercent{50, true}));
  EXPECT_EQ(c.max_unavailable, (IntOrPercent{1, false}));
  EXPECT_EQ(c.stable_service, "web-stable");
  EXPECT_EQ(c.canary_service, "web-canary");
  ASSERT_TRUE(c.traffic_routing.has_value());
  EXPECT_EQ(c.traffic_routing->http_route, "web-route");
  EXPECT_EQ(c.traffic_routing->namespace_, "gateways");
  ASSERT_TRUE(c.analysis.has_value());
  EXPECT_EQ(c.analysis->analysis.templates, std::vector<std::string>{"error-rate"});
  EXPECT_EQ(c.analysis->analysis.args, (std::vector<AnalysisArg>{{"service", "web-canary"}}));
  EXPECT_EQ(c.analysis->starting_step, 1);

  const std::vector<CanaryStep> want = {
      SetCanaryScaleStep{{CanaryScale::Mode::kReplicas, 2}},
      SetWeightStep{10},
      PauseStep{minutes(10)},
      PauseStep{seconds(90)},
      AnalysisStep{
          {{"success-rate", "latency"}, {{"service", "web-canary"}, {"quantile", "0.99"}}}},
      SetCanaryScaleStep{{CanaryScale::Mode::kWeight, 40}},
      SetCanaryScaleStep{{CanaryScale::Mode::kMatchTrafficWeight, 0}},
      PauseStep{std::nullopt},
  };
  EXPECT_EQ(c.steps, want);
  EXPECT_EQ(stepKindName(c.steps[0]), "setCanaryScale");
  EXPECT_EQ(stepKindName(c.steps[1]), "setWeight");
  EXPECT_EQ(stepKindName(c.steps[2]), "pause");
  EXPECT_EQ(stepKindName(c.steps[4]), "analysis");
}

TEST(RolloutSpecTest, ParsesEveryBlueGreenField) {
  auto got = parseRollout(R"(apiVersion: governor.io/v1alpha1
kind: Rollout
metadata: {name: api}
spec:
  replicas: 6
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: "api:3"}]}
  strategy:
    blueGreen:
      activeService: api-active
      previewService: api-preview
      autoPromotionEnabled: true
      autoPromotionSeconds: 120
      previewReplicaCount: 2
      scaleDownDelaySeconds: 45
      prePromotionAnalysis: {templates: [{templateName: smoke}]}
      postPromotionAnalysis:
        templates: [{templateName: error-rate}]
        args: [{name: service, value: api-active}]
)",
                          "api.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_NE(got->blueGreen(), nullptr);
  EXPECT_EQ(got->canary(), nullptr);
  const BlueGreenStrategy& b = *got->blueGreen();
  EXPECT_EQ(b.active_service, "api-active");
  EXPECT_EQ(b.preview_service, "api-preview");
  EXPECT_TRUE(b.auto_promotion_enabled);
  EXPECT_EQ(b.auto_promotion_seconds, seconds(120));
  EXPECT_EQ(b.preview_replica_count, 2);
  EXPECT_EQ(b.scale_down_delay, seconds(45));
  EXPECT_EQ(b.pre_promotion_analysis, (AnalysisRef{{"smoke"}, {}}));
  EXPECT_EQ(b.post_promotion_analysis, (AnalysisRef{{"error-rate"}, {{"service", "api-active"}}}));
}

// The smallest valid document of each strategy: every default.
constexpr const char* kHeader = R"(apiVersion: governor.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
)";

std::string document(const std::string& rest) { return std::string(kHeader) + rest; }

TEST(RolloutSpecTest, CanaryDefaults) {
  auto got = parseRollout(document("  strategy: {canary: {}}\n"), "min.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->namespace_, "default");
  EXPECT_EQ(got->replicas, 1);
  EXPECT_EQ(got->revision_history_limit, 10);
  EXPECT_EQ(got->progress_deadline, seconds(600));
  ASSERT_NE(got->canary(), nullptr);
  const CanaryStrategy& c = *got->canary();
  EXPECT_TRUE(c.steps.empty());
  EXPECT_EQ(c.max_surge, (IntOrPercent{25, true}));
  EXPECT_EQ(c.max_unavailable, (IntOrPercent{0, false}));
  EXPECT_FALSE(c.analysis.has_value());
  EXPECT_FALSE(c.traffic_routing.has_value());
  EXPECT_TRUE(c.stable_service.empty());
  EXPECT_TRUE(c.canary_service.empty());
  EXPECT_FALSE(got->paused);
}

TEST(RolloutSpecTest, PausedIsRead) {
  auto got = parseRollout(document("  paused: true\n  strategy: {canary: {}}\n"), "paused.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->paused);
}

TEST(RolloutSpecTest, BlueGreenDefaults) {
  auto got = parseRollout(document("  strategy: {blueGreen: {activeService: web}}\n"), "min.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_NE(got->blueGreen(), nullptr);
  const BlueGreenStrategy& b = *got->blueGreen();
  EXPECT_TRUE(b.preview_service.empty());
  EXPECT_TRUE(b.auto_promotion_enabled);
  EXPECT_FALSE(b.auto_promotion_seconds.has_value());
  EXPECT_FALSE(b.preview_replica_count.has_value());
  EXPECT_EQ(b.scale_down_delay, seconds(30));
  EXPECT_FALSE(b.pre_promotion_analysis.has_value());
  EXPECT_FALSE(b.post_promotion_analysis.has_value());
}

TEST(RolloutSpecTest, GatewayNamespaceDefaultsToEmptyMeaningTheRollouts) {
  auto got = parseRollout(document("  strategy:\n    canary:\n      stableService: s\n"
                                   "      canaryService: c\n"
                                   "      trafficRouting: {gatewayAPI: {httpRoute: r}}\n"),
                          "gw.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->canary()->traffic_routing->namespace_, "");
}

// The operator reads Rollouts as JSON from the API server, the CLI as YAML from files: the
// same object must parse to the same spec, template JSON (and so hash) included.
TEST(RolloutSpecTest, JsonAndYamlOfTheSameObjectAgree) {
  const std::string json =
      R"({"apiVersion":"governor.io/v1alpha1","kind":"Rollout",)"
      R"("metadata":{"name":"web","namespace":"default","uid":"1","generation":4},)"
      R"("spec":{"template":{"spec":{"containers":[{"image":"nginx:1.27","name":"web"}]},)"
      R"("metadata":{"labels":{"app":"web"}}},"selector":{"matchLabels":{"app":"web"}},)"
      R"("strategy":{"canary":{"steps":[{"setWeight":20},{"pause":{"duration":"1m"}}]}}},)"
      R"("status":{"phase":"Healthy"}})";
  const std::string yaml = document(
      "  strategy:\n    canary:\n      steps:\n        - setWeight: 20\n"
      "        - pause: {duration: 1m}\n");
  auto a = parseRollout(json, "from-api");
  auto b = parseRollout(yaml, "from-file");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(podTemplateHash(*a), podTemplateHash(*b));
}

struct PauseCase {
  std::string name;
  std::string pause;
  std::optional<Duration> want;
};

class PauseFormsTest : public testing::TestWithParam<PauseCase> {};

TEST_P(PauseFormsTest, Parses) {
  auto got = parseRollout(document("  strategy:\n    canary:\n      steps:\n        - pause: " +
                                   GetParam().pause + "\n"),
                          "pause.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->canary()->steps.size(), 1u);
  const auto* pause = std::get_if<PauseStep>(&got->canary()->steps[0]);
  ASSERT_NE(pause, nullptr);
  EXPECT_EQ(pause->duration, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PauseFormsTest,
    testing::Values(PauseCase{"EmptyMapping", "{}", std::nullopt},
                    PauseCase{"Null", "", std::nullopt},
                    PauseCase{"DurationNull", "{duration: null}", std::nullopt},
                    PauseCase{"DurationText", "{duration: 10m}", minutes(10)},
                    PauseCase{"DurationCompound", "{duration: 1h30m}", minutes(90)},
                    PauseCase{"BareSeconds", "{duration: 45}", seconds(45)},
                    PauseCase{"QuotedDuration", "{duration: \"2h\"}", std::chrono::hours(2)},
                    PauseCase{"Zero", "{duration: 0}", Duration(0)}),
    [](const testing::TestParamInfo<PauseCase>& info) { return info.param.name; });

struct BadCase {
  std::string name;
  std::string text;  // The whole document.
  std::string want;  // One line of the error: "file:line: path: message" (as a substring).
};

class BadRolloutTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadRolloutTest, NamesTheLineAndFieldPath) {
  auto got = parseRollout(GetParam().text, "bad.yaml");
  ASSERT_FALSE(got.ok()) << "accepted:\n" << GetParam().text;
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find(GetParam().want), std::string::npos)
      << "want: " << GetParam().want << "\ngot:  " << got.status().message();
}

// A canary document whose steps (from line 12) are `steps`.
std::string withSteps(const std::string& steps) {
  return document("  strategy:\n    canary:\n      steps:\n" + steps);
}

// A document whose spec (from line 5) is `spec`.
std::string withSpec(const std::string& spec) {
  return "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: web}\nspec:\n" + spec;
}

constexpr const char* kSelectorAndTemplate = R"(  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
)";
constexpr const char* kCanary = "  strategy: {canary: {}}\n";

std::string specWith(const std::string& extra) {
  return withSpec(std::string(kSelectorAndTemplate) + kCanary + extra);
}

INSTANTIATE_TEST_SUITE_P(
    Document, BadRolloutTest,
    testing::Values(
        BadCase{"WrongKind", "apiVersion: governor.io/v1alpha1\nkind: Deployment\n",
                "bad.yaml:2: kind: must be Rollout, got \"Deployment\""},
        BadCase{
            "WrongApiVersion", "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n",
            "bad.yaml:1: apiVersion: must be governor.io/v1alpha1, got \"argoproj.io/v1alpha1\""},
        BadCase{"MissingSpec",
                "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: a}\n",
                "bad.yaml:1: spec: required"},
        BadCase{"NotAMapping", "- a\n- b\n", "(document): must be a mapping, got a list"},
        BadCase{"InvalidYaml", "spec: [unclosed\n", "bad.yaml:2: invalid YAML"},
        BadCase{"UnknownTopLevel",
                withSpec(std::string(kSelectorAndTemplate) + kCanary) + "extra: 1\n",
                "bad.yaml:10: extra: unknown field"},
        BadCase{"BadName",
                "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: Web_1}\n",
                "bad.yaml:3: metadata.name: must be a DNS-1123 subdomain"},
        BadCase{"LongName",
                "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: " +
                    std::string(62, 'a') + "." + std::string(62, 'b') + "." + std::string(62, 'c') +
                    "." + std::string(62, 'd') + "}\n",
                "metadata.name: must be at most 242 characters"},
        BadCase{"BadNamespace",
                "apiVersion: governor.io/v1alpha1\nkind: Rollout\nmetadata: {name: a, namespace: "
                "a.b}\n",
                "bad.yaml:3: metadata.namespace: must be a DNS-1123 label, got \"a.b\""}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Spec, BadRolloutTest,
    testing::Values(
        BadCase{"UnknownSpecField", specWith("  minReadySeconds: 5\n"),
                "bad.yaml:10: spec.minReadySeconds: unknown field"},
        BadCase{"NegativeReplicas", specWith("  replicas: -1\n"),
                "bad.yaml:10: spec.replicas: must be >= 0, got -1"},
        BadCase{"FractionalReplicas", specWith("  replicas: 2.5\n"),
                "spec.replicas: must be an integer, got \"2.5\""},
        BadCase{"NegativeHistory", specWith("  revisionHistoryLimit: -1\n"),
                "bad.yaml:10: spec.revisionHistoryLimit: must be >= 0, got -1"},
        BadCase{"PausedNotABoolean", specWith("  paused: maybe\n"),
                "bad.yaml:10: spec.paused: must be true or false, got \"maybe\""},
        BadCase{"ZeroDeadline", specWith("  progressDeadlineSeconds: 0\n"),
                "bad.yaml:10: spec.progressDeadlineSeconds: must be >= 1, got 0"},
        BadCase{"MissingSelector",
                withSpec("  template:\n    metadata: {labels: {app: web}}\n"
                         "    spec: {containers: [{name: web, image: x}]}\n") +
                    kCanary,
                "bad.yaml:5: spec.selector: required"},
        BadCase{"EmptySelector", withSpec("  selector: {}\n"),
                "bad.yaml:5: spec.selector: must not be empty"},
        BadCase{"SelectorMismatch",
                withSpec("  selector: {matchLabels: {app: api}}\n  template:\n"
                         "    metadata: {labels: {app: web}}\n"
                         "    spec: {containers: [{name: web, image: x}]}\n") +
                    kCanary,
                "bad.yaml:5: spec.selector: does not match spec.template.metadata.labels"},
        BadCase{"SelectorExpressionMismatch",
                withSpec("  selector:\n    matchExpressions: [{key: app, operator: NotIn, "
                         "values: [web]}]\n  template:\n    metadata: {labels: {app: web}}\n"
                         "    spec: {containers: [{name: web, image: x}]}\n") +
                    kCanary,
                "spec.selector: does not match spec.template.metadata.labels"},
        BadCase{"BadOperator",
                withSpec("  selector:\n    matchExpressions: [{key: app, operator: Equals}]\n"),
                "bad.yaml:6: spec.selector.matchExpressions[0].operator: must be In, NotIn, "
                "Exists or DoesNotExist, got \"Equals\""},
        BadCase{
            "InWithoutValues",
            withSpec("  selector:\n    matchExpressions: [{key: app, operator: In}]\n"),
            "spec.selector.matchExpressions[0].values: must be a non-empty list for operator In"},
        BadCase{"ExistsWithValues",
                withSpec("  selector:\n    matchExpressions: [{key: app, operator: Exists, "
                         "values: [a]}]\n"),
                "spec.selector.matchExpressions[0].values: must be empty for operator Exists"},
        BadCase{"BadLabelValue", withSpec("  selector: {matchLabels: {app: \"-web\"}}\n"),
                "bad.yaml:5: spec.selector.matchLabels.app: must be a label value"},
        BadCase{"BadLabelKey", withSpec("  selector: {matchLabels: {\"a b\": web}}\n"),
                "bad.yaml:5: spec.selector.matchLabels.a b: must be a label key"},
        BadCase{"MissingTemplate", withSpec("  selector: {matchLabels: {app: web}}\n") + kCanary,
                "bad.yaml:5: spec.template: required"},
        BadCase{
            "TemplateWithoutLabels",
            withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                     "    metadata: {name: x}\n    spec: {containers: [{name: web, image: x}]}\n"),
            "bad.yaml:7: spec.template.metadata.labels: required"},
        BadCase{"TemplateUnknownField",
                withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                         "    metadata: {labels: {app: web}}\n    kind: Pod\n"),
                "bad.yaml:8: spec.template.kind: unknown field"},
        BadCase{"TemplateHashLabel",
                withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                         "    metadata: {labels: {app: web, pod-template-hash: abc}}\n"),
                "bad.yaml:7: spec.template.metadata.labels.pod-template-hash: is set by the "
                "controller"},
        BadCase{"NoContainers",
                withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                         "    metadata: {labels: {app: web}}\n    spec: {containers: []}\n"),
                "bad.yaml:8: spec.template.spec.containers: must be a non-empty list, got an "
                "empty list"},
        BadCase{"ContainerWithoutImage",
                withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                         "    metadata: {labels: {app: web}}\n"
                         "    spec:\n      containers:\n        - name: web\n"),
                "bad.yaml:10: spec.template.spec.containers[0].image: required"},
        BadCase{"DuplicateContainer",
                withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                         "    metadata: {labels: {app: web}}\n"
                         "    spec: {containers: [{name: a, image: x}, {name: a, image: y}]}\n"),
                "spec.template.spec.containers[1].name: duplicate container name \"a\""},
        BadCase{"TemplateInfinity",
                withSpec("  selector: {matchLabels: {app: web}}\n  template:\n"
                         "    metadata: {labels: {app: web}, annotations: {x: .inf}}\n"
                         "    spec: {containers: [{name: a, image: x}]}\n"),
                "bad.yaml:7: spec.template: metadata.annotations.x: \".inf\" is not a JSON number"},
        BadCase{"MissingStrategy", withSpec(kSelectorAndTemplate),
                "bad.yaml:5: spec.strategy: required (canary or blueGreen)"},
        BadCase{"BothStrategies",
                withSpec(std::string(kSelectorAndTemplate) +
                         "  strategy:\n    canary: {}\n    blueGreen: {activeService: a}\n"),
                "bad.yaml:11: spec.strategy: set exactly one of canary or blueGreen, not both"},
        BadCase{"NoStrategy", withSpec(std::string(kSelectorAndTemplate) + "  strategy: {}\n"),
                "bad.yaml:9: spec.strategy: must set canary or blueGreen"},
        BadCase{"UnknownStrategy",
                withSpec(std::string(kSelectorAndTemplate) + "  strategy: {rollingUpdate: {}}\n"),
                "bad.yaml:9: spec.strategy.rollingUpdate: unknown field"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// Canary steps start at line 12.
INSTANTIATE_TEST_SUITE_P(
    Canary, BadRolloutTest,
    testing::Values(
        BadCase{"WeightAbove100", withSteps("        - setWeight: 120\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0].setWeight: must be in [0, 100], "
                "got 120"},
        BadCase{"WeightNotANumber", withSteps("        - setWeight: 10%\n"),
                "spec.strategy.canary.steps[0].setWeight: must be an integer, got \"10%\""},
        BadCase{"TwoActions", withSteps("        - {setWeight: 10, pause: {}}\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0]: must set exactly one of setWeight, "
                "pause, analysis or setCanaryScale, got setWeight, pause"},
        BadCase{"NoAction", withSteps("        - {}\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0]: must set exactly one of"},
        BadCase{"UnknownAction", withSteps("        - setWeight: 5\n        - experiment: {}\n"),
                "bad.yaml:13: spec.strategy.canary.steps[1].experiment: unknown field"},
        BadCase{"BadPauseDuration", withSteps("        - pause: {duration: 10x}\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0].pause.duration: \"10x\": unknown "
                "unit \"x\""},
        BadCase{"NegativePause", withSteps("        - pause: {duration: -5m}\n"),
                "spec.strategy.canary.steps[0].pause.duration: must be in [0s, "},
        BadCase{"PauseUnknownField", withSteps("        - pause: {until: tomorrow}\n"),
                "spec.strategy.canary.steps[0].pause.until: unknown field"},
        BadCase{"PauseList", withSteps("        - pause: [1]\n"),
                "spec.strategy.canary.steps[0].pause: must be a mapping, got a list"},
        BadCase{"AnalysisWithoutTemplates", withSteps("        - analysis: {args: []}\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0].analysis.templates: required"},
        BadCase{"AnalysisEmptyTemplates", withSteps("        - analysis: {templates: []}\n"),
                "spec.strategy.canary.steps[0].analysis.templates: must be a non-empty list"},
        BadCase{"AnalysisBadTemplateName",
                withSteps("        - analysis: {templates: [{templateName: Bad_Name}]}\n"),
                "spec.strategy.canary.steps[0].analysis.templates[0].templateName: must be a "
                "DNS-1123 subdomain"},
        BadCase{"AnalysisDuplicateTemplate",
                withSteps("        - analysis: {templates: [{templateName: a}, {templateName: "
                          "a}]}\n"),
                "spec.strategy.canary.steps[0].analysis.templates[1].templateName: duplicate "
                "template \"a\""},
        BadCase{"AnalysisArgWithoutValue",
                withSteps("        - analysis: {templates: [{templateName: a}], args: [{name: "
                          "x}]}\n"),
                "spec.strategy.canary.steps[0].analysis.args[0].value: required"},
        BadCase{"AnalysisArgValueFrom",
                withSteps("        - analysis: {templates: [{templateName: a}], args: [{name: "
                          "x, valueFrom: {}}]}\n"),
                "spec.strategy.canary.steps[0].analysis.args[0].valueFrom: unknown field"},
        BadCase{"AnalysisDuplicateArg",
                withSteps("        - analysis: {templates: [{templateName: a}], args: [{name: "
                          "x, value: a}, {name: x, value: b}]}\n"),
                "spec.strategy.canary.steps[0].analysis.args[1].name: duplicate argument \"x\""},
        BadCase{"AnalysisArgNumber",
                withSteps("        - analysis: {templates: [{templateName: a}], args: [{name: "
                          "port, value: 8080}]}\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0].analysis.args[0].value: must be a "
                "string, got 8080 (quote it: \"8080\")"},
        BadCase{"AnalysisArgNull",
                withSteps("        - analysis: {templates: [{templateName: a}], args: [{name: "
                          "port, value: ~}]}\n"),
                "spec.strategy.canary.steps[0].analysis.args[0].value: required"},
        BadCase{"CanaryScaleWithoutRouter", withSteps("        - setCanaryScale: {replicas: 2}\n"),
                "bad.yaml:12: spec.strategy.canary.steps[0].setCanaryScale: needs trafficRouting"},
        BadCase{"CanaryScaleTwoFields",
                withSteps("        - setCanaryScale: {replicas: 2, weight: 10}\n"),
                "spec.strategy.canary.steps[0].setCanaryScale: must set exactly one of replicas, "
                "weight or matchTrafficWeight"},
        BadCase{"CanaryScaleMatchFalse",
                withSteps("        - setCanaryScale: {matchTrafficWeight: false}\n"),
                "spec.strategy.canary.steps[0].setCanaryScale.matchTrafficWeight: must be true"},
        BadCase{
            "CanaryScaleWeightAbove100", withSteps("        - setCanaryScale: {weight: 101}\n"),
            "spec.strategy.canary.steps[0].setCanaryScale.weight: must be in [0, 100], got 101"},
        BadCase{"StepsNotAList",
                document("  strategy:\n    canary:\n      steps: {setWeight: 5}\n"),
                "bad.yaml:11: spec.strategy.canary.steps: must be a list, got a mapping"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// Canary fields from line 11.
std::string canaryWith(const std::string& fields) {
  return document("  strategy:\n    canary:\n" + fields);
}

INSTANTIATE_TEST_SUITE_P(
    CanaryFields, BadRolloutTest,
    testing::Values(
        BadCase{"SurgePercentAbove100", canaryWith("      maxSurge: 150%\n"),
                "bad.yaml:11: spec.strategy.canary.maxSurge: must be a percentage in [0%, 100%], "
                "got \"150%\""},
        BadCase{"SurgeQuotedCount", canaryWith("      maxSurge: \"2\"\n"),
                "spec.strategy.canary.maxSurge: must be an integer >= 0 or a percentage like "
                "\"25%\", got \"2\" (a count is written without quotes)"},
        BadCase{"SurgeNegative", canaryWith("      maxSurge: -1\n"),
                "spec.strategy.canary.maxSurge: must be >= 0, got -1"},
        BadCase{"UnavailableList", canaryWith("      maxUnavailable: [1]\n"),
                "spec.strategy.canary.maxUnavailable: must be an integer >= 0 or a percentage"},
        BadCase{"BothZero", canaryWith("      maxSurge: 0\n      maxUnavailable: 0%\n"),
                "bad.yaml:12: spec.strategy.canary.maxUnavailable: must not be 0 when maxSurge "
                "is 0"},
        BadCase{"RouterWithoutServices",
                canaryWith("      trafficRouting: {gatewayAPI: {httpRoute: web}}\n"),
                "bad.yaml:11: spec.strategy.canary.stableService: required"},
        BadCase{"RouterWithoutCanaryService",
                canaryWith("      stableService: s\n"
                           "      trafficRouting: {gatewayAPI: {httpRoute: web}}\n"),
                "bad.yaml:11: spec.strategy.canary.canaryService: required"},
        BadCase{"SameServices", canaryWith("      stableService: web\n      canaryService: web\n"),
                "bad.yaml:12: spec.strategy.canary.canaryService: must differ from stableService"},
        BadCase{"ServiceStartsWithDigit", canaryWith("      stableService: 1web\n"),
                "spec.strategy.canary.stableService: must be a DNS-1035 label"},
        BadCase{"UnknownRouter",
                canaryWith("      stableService: s\n      canaryService: c\n"
                           "      trafficRouting: {istio: {}}\n"),
                "bad.yaml:13: spec.strategy.canary.trafficRouting.istio: unknown field"},
        BadCase{"RouterWithoutGateway",
                canaryWith("      stableService: s\n      canaryService: c\n"
                           "      trafficRouting: {}\n"),
                "bad.yaml:13: spec.strategy.canary.trafficRouting.gatewayAPI: required"},
        BadCase{"GatewayWithoutRoute",
                canaryWith("      stableService: s\n      canaryService: c\n"
                           "      trafficRouting: {gatewayAPI: {namespace: gw}}\n"),
                "spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute: required"},
        BadCase{"BackgroundStartingStepPastTheEnd",
                canaryWith("      steps: [{setWeight: 10}, {pause: {}}]\n"
                           "      analysis: {templates: [{templateName: a}], startingStep: 2}\n"),
                "bad.yaml:12: spec.strategy.canary.analysis.startingStep: must be the index of a "
                "step (< 2), got 2"},
        BadCase{"BackgroundUnknownField",
                canaryWith("      analysis: {templates: [{templateName: a}], dryRun: true}\n"),
                "spec.strategy.canary.analysis.dryRun: unknown field"},
        BadCase{"CanaryUnknownField", canaryWith("      scaleDownDelaySeconds: 30\n"),
                "bad.yaml:11: spec.strategy.canary.scaleDownDelaySeconds: unknown field"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

// Blue-green fields from line 11.
std::string blueGreenWith(const std::string& fields) {
  return document("  strategy:\n    blueGreen:\n" + fields);
}

INSTANTIATE_TEST_SUITE_P(
    BlueGreen, BadRolloutTest,
    testing::Values(
        BadCase{"NoActiveService", blueGreenWith("      previewService: p\n"),
                "bad.yaml:11: spec.strategy.blueGreen.activeService: required"},
        BadCase{"EmptyBlueGreen", document("  strategy: {blueGreen: }\n"),
                "spec.strategy.blueGreen.activeService: required"},
        BadCase{"SameServices",
                blueGreenWith("      activeService: web\n      previewService: web\n"),
                "bad.yaml:12: spec.strategy.blueGreen.previewService: must differ from "
                "activeService"},
        BadCase{"AutoSecondsWhenDisabled",
                blueGreenWith("      activeService: web\n      autoPromotionEnabled: false\n"
                              "      autoPromotionSeconds: 60\n"),
                "bad.yaml:13: spec.strategy.blueGreen.autoPromotionSeconds: has no effect with "
                "autoPromotionEnabled: false"},
        BadCase{"AutoPromotionNotBool",
                blueGreenWith("      activeService: web\n      autoPromotionEnabled: maybe\n"),
                "spec.strategy.blueGreen.autoPromotionEnabled: must be true or false, got "
                "\"maybe\""},
        BadCase{"ZeroAutoSeconds",
                blueGreenWith("      activeService: web\n      autoPromotionSeconds: 0\n"),
                "spec.strategy.blueGreen.autoPromotionSeconds: must be >= 1, got 0"},
        BadCase{"ZeroPreview",
                blueGreenWith("      activeService: web\n      previewReplicaCount: 0\n"),
                "bad.yaml:12: spec.strategy.blueGreen.previewReplicaCount: must be >= 1, got 0"},
        BadCase{"NegativeScaleDownDelay",
                blueGreenWith("      activeService: web\n      scaleDownDelaySeconds: -1\n"),
                "spec.strategy.blueGreen.scaleDownDelaySeconds: must be >= 0, got -1"},
        BadCase{"PreAnalysisWithoutTemplates",
                blueGreenWith("      activeService: web\n      prePromotionAnalysis: {}\n"),
                "bad.yaml:12: spec.strategy.blueGreen.prePromotionAnalysis.templates: required"},
        BadCase{"PostAnalysisStartingStep",
                blueGreenWith("      activeService: web\n      postPromotionAnalysis: "
                              "{templates: [{templateName: a}], startingStep: 1}\n"),
                "spec.strategy.blueGreen.postPromotionAnalysis.startingStep: unknown field"},
        BadCase{"UnknownField", blueGreenWith("      activeService: web\n      steps: []\n"),
                "bad.yaml:12: spec.strategy.blueGreen.steps: unknown field"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(RolloutSpecTest, ReportsEveryProblemAtOnce) {
  auto got = parseRollout(withSteps("        - setWeight: 120\n        - pause: {duration: 5x}\n"
                                    "        - bogus: 1\n"),
                          "bad.yaml");
  ASSERT_FALSE(got.ok());
  const std::string m = got.status().message();
  EXPECT_NE(m.find("bad.yaml:12: spec.strategy.canary.steps[0].setWeight"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.yaml:13: spec.strategy.canary.steps[1].pause.duration"), std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.yaml:14: spec.strategy.canary.steps[2].bogus: unknown field"),
            std::string::npos)
      << m;
}

TEST(RolloutSpecTest, ExactlyOneDocument) {
  const std::string one = document("  strategy: {canary: {}}\n");
  auto two = parseRollout(one + "---\n" + one, "two.yaml");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("two.yaml: expected one Rollout, found 2 documents"),
            std::string::npos)
      << two.status().message();
  auto none = parseRollout("# nothing\n", "empty.yaml");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("expected one Rollout, found 0"), std::string::npos);
}

struct IntOrPercentCase {
  IntOrPercent value;
  int32_t total;
  int32_t up;    // resolve(total, true)
  int32_t down;  // resolve(total, false)
};

class IntOrPercentTest : public testing::TestWithParam<IntOrPercentCase> {};

// Rounding as k8s.io/apimachinery intstr.GetScaledValueFromIntOrPercent: maxSurge rounds
// up, maxUnavailable down (pkg/controller/deployment/util ResolveFenceposts).
TEST_P(IntOrPercentTest, Resolves) {
  const auto& c = GetParam();
  EXPECT_EQ(c.value.resolve(c.total, true), c.up);
  EXPECT_EQ(c.value.resolve(c.total, false), c.down);
}

INSTANTIATE_TEST_SUITE_P(
    Table, IntOrPercentTest,
    testing::Values(IntOrPercentCase{{3, false}, 10, 3, 3}, IntOrPercentCase{{25, true}, 10, 3, 2},
                    IntOrPercentCase{{25, true}, 4, 1, 1}, IntOrPercentCase{{25, true}, 1, 1, 0},
                    IntOrPercentCase{{25, true}, 0, 0, 0}, IntOrPercentCase{{100, true}, 7, 7, 7},
                    IntOrPercentCase{{0, true}, 7, 0, 0},
                    IntOrPercentCase{{50, true}, 2147483647, 1073741824, 1073741823}));

TEST(IntOrPercentTest, Prints) {
  EXPECT_EQ((IntOrPercent{25, true}).toString(), "25%");
  EXPECT_EQ((IntOrPercent{1, false}).toString(), "1");
}

struct SelectorCase {
  std::string name;
  LabelSelector selector;
  std::map<std::string, std::string> labels;
  bool matches;
  std::string text;
};

class SelectorTest : public testing::TestWithParam<SelectorCase> {};

TEST_P(SelectorTest, MatchesAndPrints) {
  EXPECT_EQ(GetParam().selector.matches(GetParam().labels), GetParam().matches);
  EXPECT_EQ(GetParam().selector.toString(), GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SelectorTest,
    testing::Values(
        SelectorCase{
            "LabelsMatch", {{{"app", "web"}}, {}}, {{"app", "web"}, {"x", "y"}}, true, "app=web"},
        SelectorCase{"LabelDiffers", {{{"app", "web"}}, {}}, {{"app", "api"}}, false, "app=web"},
        SelectorCase{"LabelMissing", {{{"app", "web"}}, {}}, {}, false, "app=web"},
        SelectorCase{
            "In", {{}, {{"tier", "In", {"b", "a"}}}}, {{"tier", "a"}}, true, "tier in (a,b)"},
        SelectorCase{"InMissing", {{}, {{"tier", "In", {"a"}}}}, {}, false, "tier in (a)"},
        SelectorCase{"NotInMissing", {{}, {{"tier", "NotIn", {"a"}}}}, {}, true, "tier notin (a)"},
        SelectorCase{"NotInPresent",
                     {{}, {{"tier", "NotIn", {"a"}}}},
                     {{"tier", "a"}},
                     false,
                     "tier notin (a)"},
        SelectorCase{"Exists", {{}, {{"canary", "Exists", {}}}}, {{"canary", ""}}, true, "canary"},
        SelectorCase{"DoesNotExist",
                     {{{"app", "web"}}, {{"canary", "DoesNotExist", {}}}},
                     {{"app", "web"}, {"canary", "1"}},
                     false,
                     "app=web,!canary"}),
    [](const testing::TestParamInfo<SelectorCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::rollouts
