#include "policies/spec_parser.h"

#include <string>

#include <gtest/gtest.h>

namespace governor::policies {
namespace {

// The contract shape from the foundation issue, verbatim.
constexpr const char* kContract = R"(apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 50
  metrics:
    - name: cpu
      prometheus:
        query: 'avg(rate(container_cpu_usage_seconds_total{namespace="{{namespace}}",pod=~"web-.*"}[2m])) * 100'
        perPod: false                 # true: the query returns one series per pod, labelled `pod`
      target: {type: Utilization, averageUtilization: 60}   # or {type: AverageValue, averageValue: "100"} / {type: Value, value: "500"}
  schedules:
    - name: business-hours
      timeZone: Europe/Berlin
      start: "0 8 * * 1-5"
      duration: 10h                   # or end: "0 18 * * 1-5"
      minReplicas: 10                 # and/or maxReplicas, or replicas (fixed)
  behavior:
    scaleUp:   {stabilizationWindowSeconds: 0, tolerance: 0.1, cooldownSeconds: 0, selectPolicy: Max,
                policies: [{type: Pods, value: 4, periodSeconds: 15}, {type: Percent, value: 100, periodSeconds: 15}]}
    scaleDown: {stabilizationWindowSeconds: 300, selectPolicy: Max, policies: [{type: Percent, value: 100, periodSeconds: 15}]}
)";

TEST(SpecParserTest, ParsesTheContractShape) {
  auto got = parsePolicy(kContract, "web.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  const PolicySpec& p = *got;
  EXPECT_EQ(p.name, "web");
  EXPECT_EQ(p.namespace_, "shop");
  EXPECT_EQ(p.scale_target_ref.api_version, "apps/v1");
  EXPECT_EQ(p.scale_target_ref.kind, "Deployment");
  EXPECT_EQ(p.scale_target_ref.name, "web");
  EXPECT_EQ(p.min_replicas, 2);
  EXPECT_EQ(p.max_replicas, 50);
  ASSERT_EQ(p.metrics.size(), 1u);
  EXPECT_EQ(p.metrics[0].name, "cpu");
  EXPECT_FALSE(p.metrics[0].prometheus.per_pod);
  EXPECT_NE(p.metrics[0].prometheus.query.find("{{namespace}}"), std::string::npos);
  EXPECT_EQ(p.metrics[0].target.type, TargetType::kUtilization);
  EXPECT_EQ(p.metrics[0].target.value, 60);
  ASSERT_EQ(p.schedules.size(), 1u);
  const ScheduleSpec& s = p.schedules[0];
  EXPECT_EQ(s.name, "business-hours");
  EXPECT_EQ(s.time_zone, "Europe/Berlin");
  EXPECT_NE(s.zone, nullptr);
  EXPECT_EQ(s.start.text(), "0 8 * * 1-5");
  ASSERT_TRUE(s.duration.has_value());
  EXPECT_EQ(*s.duration, std::chrono::hours(10));
  EXPECT_EQ(s.min_replicas, 10);
  EXPECT_FALSE(s.max_replicas.has_value());
  EXPECT_EQ(p.behavior.scale_up.stabilization_window, Seconds(0));
  ASSERT_EQ(p.behavior.scale_up.policies.size(), 2u);
  EXPECT_EQ(p.behavior.scale_up.policies[0].type, ScalingPolicyType::kPods);
  EXPECT_EQ(p.behavior.scale_up.policies[0].value, 4);
  EXPECT_EQ(p.behavior.scale_up.policies[1].type, ScalingPolicyType::kPercent);
  EXPECT_EQ(p.behavior.scale_down.stabilization_window, Seconds(300));
  EXPECT_EQ(p.behavior.scale_down.select_policy, SelectPolicy::kMax);
}

TEST(SpecParserTest, ParsesSyncPeriodAndFallback) {
  auto got = parsePolicy(R"(
apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: web}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 10
  syncPeriodSeconds: 30
  fallback: {replicas: 6}
)",
                         "p.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->sync_period, Seconds(30));
  ASSERT_TRUE(got->fallback.has_value());
  EXPECT_EQ(got->fallback->replicas, 6);
  EXPECT_EQ(got->fallback->after_failures, 3);  // KEDA's default failureThreshold is 3 too.
}

TEST(SpecParserTest, AppliesHpaDefaults) {
  auto got = parsePolicy(R"(
apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: minimal}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 5
  behavior:
    scaleDown: {cooldownSeconds: 120}
)",
                         "minimal.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->namespace_, "default");
  EXPECT_EQ(got->min_replicas, 1);
  EXPECT_TRUE(got->metrics.empty());
  const Behavior defaults = Behavior::hpaDefaults();
  EXPECT_EQ(got->behavior.scale_up.stabilization_window, Seconds(0));
  EXPECT_EQ(got->behavior.scale_up.policies.size(), defaults.scale_up.policies.size());
  EXPECT_EQ(got->behavior.scale_up.tolerance, 0.1);
  // A direction given in part keeps HPA's defaults for the rest.
  EXPECT_EQ(got->behavior.scale_down.cooldown, Seconds(120));
  EXPECT_EQ(got->behavior.scale_down.stabilization_window, Seconds(300));
  ASSERT_EQ(got->behavior.scale_down.policies.size(), 1u);
  EXPECT_EQ(got->behavior.scale_down.policies[0].type, ScalingPolicyType::kPercent);
  EXPECT_EQ(got->behavior.scale_down.policies[0].value, 100);
}

TEST(SpecParserTest, ParsesTargetTypesAndQuantities) {
  auto got = parsePolicy(R"(
apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: q}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 5
  metrics:
    - {name: a, prometheus: {query: x, perPod: true}, target: {type: AverageValue, averageValue: "500m"}}
    - {name: b, prometheus: {query: y, address: "https://thanos:9090"}, target: {type: Value, value: 2k}}
)",
                         "q.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->metrics.size(), 2u);
  EXPECT_TRUE(got->metrics[0].prometheus.per_pod);
  EXPECT_EQ(got->metrics[0].target.type, TargetType::kAverageValue);
  EXPECT_DOUBLE_EQ(got->metrics[0].target.value, 0.5);
  EXPECT_EQ(got->metrics[1].target.type, TargetType::kValue);
  EXPECT_DOUBLE_EQ(got->metrics[1].target.value, 2000);
  EXPECT_EQ(got->metrics[1].prometheus.address, "https://thanos:9090");
}

TEST(SpecParserTest, ParsesJsonAsTheApiServerSendsIt) {
  auto got = parsePolicy(
      R"({"apiVersion":"governor.io/v1alpha1","kind":"ScalingPolicy",)"
      R"("metadata":{"name":"web","namespace":"shop","uid":"1","generation":3},)"
      R"("spec":{"scaleTargetRef":{"kind":"Deployment","name":"web"},"maxReplicas":10},)"
      R"("status":{"currentReplicas":3}})",
      "ScalingPolicy shop/web");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->max_replicas, 10);
}

TEST(SpecParserTest, ParsesEveryDocumentOfAStream) {
  std::string two = std::string(kContract) + "---\n" + kContract;
  auto got = parsePolicies(two, "two.yaml");
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->size(), 2u);
  auto one = parsePolicy(two, "two.yaml");
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("expected one ScalingPolicy, found 2"), std::string::npos);
}

struct BadSpecCase {
  std::string name;
  std::string spec;  // Replaces the `spec:` body of a valid document.
  std::string want;  // A line of the error: "file:line: path: message" (checked as substring).
};

std::string document(const std::string& spec_body) {
  return "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: web}\nspec:\n" +
         spec_body;
}

constexpr const char* kRef = "  scaleTargetRef: {kind: Deployment, name: web}\n";

class BadSpecTest : public testing::TestWithParam<BadSpecCase> {};

TEST_P(BadSpecTest, NamesTheFieldPath) {
  auto got = parsePolicy(document(GetParam().spec), "bad.yaml");
  ASSERT_FALSE(got.ok()) << "accepted:\n" << document(GetParam().spec);
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find(GetParam().want), std::string::npos)
      << "want: " << GetParam().want << "\ngot:  " << got.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadSpecTest,
    testing::Values(
        BadSpecCase{"MissingMax", kRef, "bad.yaml:5: spec.maxReplicas: required"},
        BadSpecCase{"MaxBelowMin", std::string(kRef) + "  minReplicas: 5\n  maxReplicas: 3\n",
                    "bad.yaml:7: spec.maxReplicas: must be >= minReplicas (5), got 3"},
        BadSpecCase{"NegativeMin", std::string(kRef) + "  minReplicas: -1\n  maxReplicas: 3\n",
                    "spec.minReplicas: must be >= 0, got -1"},
        BadSpecCase{"FloatReplicas", std::string(kRef) + "  maxReplicas: 2.5\n",
                    "spec.maxReplicas: must be an integer, got \"2.5\""},
        BadSpecCase{"MissingTarget", "  maxReplicas: 3\n", "spec.scaleTargetRef: required"},
        BadSpecCase{"SyncPeriodZero",
                    std::string(kRef) + "  maxReplicas: 3\n  syncPeriodSeconds: 0\n",
                    "spec.syncPeriodSeconds: must be in [1, 3600], got 0"},
        BadSpecCase{"FallbackWithoutReplicas",
                    std::string(kRef) + "  maxReplicas: 3\n  fallback: {afterFailures: 2}\n",
                    "spec.fallback.replicas: required"},
        BadSpecCase{
            "FallbackZeroFailures",
            std::string(kRef) + "  maxReplicas: 3\n  fallback: {replicas: 2, afterFailures: 0}\n",
            "spec.fallback.afterFailures: must be in [1, 1000], got 0"},
        BadSpecCase{"FallbackUnknownField",
                    std::string(kRef) + "  maxReplicas: 3\n  fallback: {replicas: 2, after: 1}\n",
                    "spec.fallback.after: unknown field"},
        BadSpecCase{"MissingTargetName", "  scaleTargetRef: {kind: Deployment}\n  maxReplicas: 3\n",
                    "spec.scaleTargetRef.name: required"},
        BadSpecCase{"UnknownField", std::string(kRef) + "  maxReplicas: 3\n  minReplica: 1\n",
                    "bad.yaml:7: spec.minReplica: unknown field"},
        BadSpecCase{"ZeroUtilization",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: q}, target: {type: Utilization, "
                        "averageUtilization: 60}}\n"
                        "    - {name: mem, prometheus: {query: q}, target: {type: Utilization, "
                        "averageUtilization: 0}}\n",
                    "spec.metrics[1].target.averageUtilization: must be >= 1, got 0"},
        BadSpecCase{"BadTargetType",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: q}, target: {type: Percent}}\n",
                    "spec.metrics[0].target.type: must be Utilization, AverageValue or Value"},
        BadSpecCase{"WrongFieldForType",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: q}, target: {type: Utilization, "
                        "averageUtilization: 50, value: 3}}\n",
                    "spec.metrics[0].target.value: unknown field"},
        BadSpecCase{"BadQuantity",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: rps, prometheus: {query: q}, target: {type: AverageValue, "
                        "averageValue: 10Q}}\n",
                    "spec.metrics[0].target.averageValue: \"10Q\" is not a quantity"},
        BadSpecCase{"NegativeValue",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: rps, prometheus: {query: q}, target: {type: Value, value: "
                        "\"-5\"}}\n",
                    "spec.metrics[0].target.value: must be > 0, got -5"},
        BadSpecCase{
            "DuplicateMetric",
            std::string(kRef) +
                "  maxReplicas: 3\n  metrics:\n"
                "    - {name: cpu, prometheus: {query: q}, target: {type: Value, value: 1}}\n"
                "    - {name: cpu, prometheus: {query: q}, target: {type: Value, value: 2}}\n",
            "spec.metrics[1].name: duplicate metric name \"cpu\""},
        BadSpecCase{"EmptyQuery",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: \"\"}, target: {type: Value, value: "
                        "1}}\n",
                    "spec.metrics[0].prometheus.query: must not be empty"},
        BadSpecCase{"BadAddress",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: q, address: \"prom:9090\"}, target: "
                        "{type: Value, value: 1}}\n",
                    "spec.metrics[0].prometheus.address: must be an http:// or https:// URL"},
        BadSpecCase{"QueryTemplateUnknownVariable",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: 'x{a=\"{{pod}}\"}'}, target: "
                        "{type: Value, value: 1}}\n",
                    "spec.metrics[0].prometheus.query: query template, offset 5: unknown "
                    "variable {{pod}}"},
        BadSpecCase{"QueryTemplateValueOutsideQuotes",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: 'x{a={{target}}}'}, target: "
                        "{type: Value, value: 1}}\n",
                    "spec.metrics[0].prometheus.query: query template, offset 4: {{target}}"},
        BadSpecCase{"QueryTemplateArgsInAPolicy",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: 'x{a=\"{{args.x}}\"}'}, target: "
                        "{type: Value, value: 1}}\n",
                    "spec.metrics[0].prometheus.query: query template, offset 5: unknown "
                    "variable {{args.x}}"},
        BadSpecCase{"PerPodNotBool",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  metrics:\n"
                        "    - {name: cpu, prometheus: {query: q, perPod: yes-please}, target: "
                        "{type: Value, value: 1}}\n",
                    "spec.metrics[0].prometheus.perPod: must be true or false"},
        BadSpecCase{"MetricsNotAList", std::string(kRef) + "  maxReplicas: 3\n  metrics: {a: 1}\n",
                    "spec.metrics: must be a list, got a mapping"},
        BadSpecCase{"BadCron",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, start: \"0 25 * * *\", duration: 1h, minReplicas: 2}\n",
                    "spec.schedules[0].start: invalid cron \"0 25 * * *\""},
        BadSpecCase{"CronNeverFires",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, start: \"0 0 31 2 *\", duration: 1h, minReplicas: 2}\n",
                    "spec.schedules[0].start: cron \"0 0 31 2 *\" never fires"},
        BadSpecCase{"BadZone",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, timeZone: Mars/Olympus, start: \"0 8 * * *\", duration: "
                        "1h, minReplicas: 2}\n",
                    "spec.schedules[0].timeZone:"},
        BadSpecCase{"DurationAndEnd",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, start: \"0 8 * * *\", end: \"0 9 * * *\", duration: 1h, "
                        "minReplicas: 2}\n",
                    "spec.schedules[0].end: set either duration or end, not both"},
        BadSpecCase{"NoDuration",
                    std::string(kRef) + "  maxReplicas: 3\n  schedules:\n"
                                        "    - {name: s, start: \"0 8 * * *\", minReplicas: 2}\n",
                    "spec.schedules[0].duration: required (or end)"},
        BadSpecCase{"BadDuration",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, start: \"0 8 * * *\", duration: 10y, minReplicas: 2}\n",
                    "spec.schedules[0].duration: \"10y\": unknown unit \"y\""},
        BadSpecCase{"ScheduleSetsNothing",
                    std::string(kRef) + "  maxReplicas: 3\n  schedules:\n"
                                        "    - {name: s, start: \"0 8 * * *\", duration: 1h}\n",
                    "spec.schedules[0]: must set replicas, minReplicas or maxReplicas"},
        BadSpecCase{"ReplicasAndMin",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, start: \"0 8 * * *\", duration: 1h, replicas: 3, "
                        "minReplicas: 2}\n",
                    "spec.schedules[0].replicas: set either replicas or minReplicas/maxReplicas"},
        BadSpecCase{"WindowMinAboveMax",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  schedules:\n"
                        "    - {name: s, start: \"0 8 * * *\", duration: 1h, minReplicas: 5, "
                        "maxReplicas: 4}\n",
                    "spec.schedules[0].maxReplicas: must be >= minReplicas (5)"},
        BadSpecCase{"StabilizationTooLong",
                    std::string(kRef) + "  maxReplicas: 3\n  behavior:\n"
                                        "    scaleDown: {stabilizationWindowSeconds: 7200}\n",
                    "spec.behavior.scaleDown.stabilizationWindowSeconds: must be in [0, 3600], "
                    "got 7200"},
        BadSpecCase{
            "BadSelectPolicy",
            std::string(kRef) + "  maxReplicas: 3\n  behavior:\n    scaleUp: {selectPolicy: Avg}\n",
            "spec.behavior.scaleUp.selectPolicy: must be Max, Min or Disabled"},
        BadSpecCase{
            "EmptyPolicies",
            std::string(kRef) + "  maxReplicas: 3\n  behavior:\n    scaleUp: {policies: []}\n",
            "spec.behavior.scaleUp.policies: must have at least one policy"},
        BadSpecCase{
            "BadPolicyType",
            std::string(kRef) +
                "  maxReplicas: 3\n  behavior:\n"
                "    scaleUp: {policies: [{type: Replicas, value: 1, periodSeconds: 15}]}\n",
            "spec.behavior.scaleUp.policies[0].type: must be Pods or Percent"},
        BadSpecCase{"PeriodTooLong",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  behavior:\n"
                        "    scaleUp: {policies: [{type: Pods, value: 1, periodSeconds: 3600}]}\n",
                    "spec.behavior.scaleUp.policies[0].periodSeconds: must be in [1, 1800]"},
        BadSpecCase{
            "ZeroPolicyValue",
            std::string(kRef) +
                "  maxReplicas: 3\n  behavior:\n"
                "    scaleDown: {policies: [{type: Percent, value: 0, periodSeconds: 15}]}\n",
            "spec.behavior.scaleDown.policies[0].value: must be >= 1, got 0"},
        BadSpecCase{
            "ToleranceRange",
            std::string(kRef) + "  maxReplicas: 3\n  behavior:\n    scaleUp: {tolerance: 1.5}\n",
            "spec.behavior.scaleUp.tolerance: must be in [0, 1], got 1.5"},
        BadSpecCase{"CooldownNegative",
                    std::string(kRef) +
                        "  maxReplicas: 3\n  behavior:\n    scaleUp: {cooldownSeconds: -3}\n",
                    "spec.behavior.scaleUp.cooldownSeconds: must be in [0, 86400], got -3"}),
    [](const testing::TestParamInfo<BadSpecCase>& info) { return info.param.name; });

struct BadDocumentCase {
  std::string name;
  std::string text;
  std::string want;
};

class BadDocumentTest : public testing::TestWithParam<BadDocumentCase> {};

TEST_P(BadDocumentTest, ReportsClearly) {
  auto got = parsePolicy(GetParam().text, "doc.yaml");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find(GetParam().want), std::string::npos)
      << "want: " << GetParam().want << "\ngot:  " << got.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadDocumentTest,
    testing::Values(
        BadDocumentCase{"InvalidYaml", "spec: [unclosed\n", "doc.yaml:2: invalid YAML"},
        BadDocumentCase{"NotAMapping", "- a\n- b\n", "(document): must be a mapping, got a list"},
        BadDocumentCase{"WrongKind",
                        "apiVersion: governor.io/v1alpha1\nkind: Deployment\nmetadata: {name: "
                        "a}\nspec: {scaleTargetRef: {kind: D, name: a}, maxReplicas: 1}\n",
                        "doc.yaml:2: kind: must be ScalingPolicy, got \"Deployment\""},
        BadDocumentCase{"WrongApiVersion",
                        "apiVersion: autoscaling/v2\nkind: ScalingPolicy\nmetadata: {name: "
                        "a}\nspec: {scaleTargetRef: {kind: D, name: a}, maxReplicas: 1}\n",
                        "apiVersion: must be governor.io/v1alpha1"},
        BadDocumentCase{"BadName",
                        "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: "
                        "Web_1}\nspec: {scaleTargetRef: {kind: D, name: a}, maxReplicas: 1}\n",
                        "metadata.name: must be a DNS-1123 subdomain"},
        BadDocumentCase{"Empty", "", "expected one ScalingPolicy, found 0"},
        BadDocumentCase{"ReportsAllProblems",
                        "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: "
                        "a}\nspec: {minReplicas: x, maxReplicas: y}\n",
                        "spec.minReplicas: must be an integer, got \"x\"\n"}),
    [](const testing::TestParamInfo<BadDocumentCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::policies
