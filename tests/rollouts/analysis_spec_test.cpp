#include "rollouts/analysis_spec.h"

#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::rollouts {
namespace {

constexpr char kEveryField[] = R"(apiVersion: governor.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: success-rate
  namespace: shop
spec:
  args:
    - name: service
    - name: quantile
      value: "0.99"
    - name: empty
      value: ""
  metrics:
    - name: success-rate
      interval: 30s
      count: 5
      initialDelay: 1m
      successCondition: result >= 0.95
      failureCondition: result < 0.5
      failureLimit: 1
      inconclusiveLimit: 2
      consecutiveErrorLimit: 3
      provider:
        prometheus:
          address: http://prometheus.monitoring:9090
          query: sum(rate(http_requests_total{service="{{args.service}}",code!~"5.."}[1m])) / sum(rate(http_requests_total{service="{{args.service}}"}[1m]))
    - name: latency
      count: 0
      thresholdRange:
        max: 0.5
      provider:
        prometheus:
          query: x{quantile="{{args.quantile}}"}
)";

TEST(ParseAnalysisTemplate, EveryField) {
  auto spec = parseAnalysisTemplate(kEveryField, "at.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->name, "success-rate");
  EXPECT_EQ(spec->namespace_, "shop");
  const std::vector<AnalysisTemplateArg> args = {
      {"service", std::nullopt}, {"quantile", "0.99"}, {"empty", ""}};
  EXPECT_EQ(spec->args, args);
  ASSERT_EQ(spec->metrics.size(), 2u);

  const AnalysisMetric& rate = spec->metrics[0];
  EXPECT_EQ(rate.name, "success-rate");
  EXPECT_EQ(rate.interval, Duration(30'000));
  EXPECT_EQ(rate.count, 5);
  EXPECT_EQ(rate.initial_delay, Duration(60'000));
  ASSERT_TRUE(rate.success_condition.has_value());
  EXPECT_EQ(rate.success_condition->text(), "result >= 0.95");
  EXPECT_TRUE(evaluate(*rate.success_condition, 0.96));
  ASSERT_TRUE(rate.failure_condition.has_value());
  EXPECT_EQ(rate.failure_condition->text(), "result < 0.5");
  EXPECT_FALSE(rate.threshold_range.has_value());
  EXPECT_EQ(rate.failure_limit, 1);
  EXPECT_EQ(rate.inconclusive_limit, 2);
  EXPECT_EQ(rate.consecutive_error_limit, 3);
  EXPECT_EQ(rate.prometheus.address, "http://prometheus.monitoring:9090");
  EXPECT_EQ(rate.prometheus.query.substr(0, 30), "sum(rate(http_requests_total{s");

  const AnalysisMetric& latency = spec->metrics[1];
  EXPECT_EQ(latency.count, 0);
  EXPECT_FALSE(latency.success_condition.has_value());
  EXPECT_FALSE(latency.failure_condition.has_value());
  ASSERT_TRUE(latency.threshold_range.has_value());
  EXPECT_EQ(latency.threshold_range->min, std::nullopt);
  EXPECT_EQ(latency.threshold_range->max, 0.5);
}

TEST(ParseAnalysisTemplate, Defaults) {
  auto spec = parseAnalysisTemplate(R"(apiVersion: governor.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: t}
spec:
  metrics:
    - name: up
      successCondition: result == 1
      provider: {prometheus: {query: up}}
)",
                                    "at.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->namespace_, "default");
  EXPECT_TRUE(spec->args.empty());
  ASSERT_EQ(spec->metrics.size(), 1u);
  const AnalysisMetric& m = spec->metrics[0];
  EXPECT_EQ(m.interval, Duration(60'000));
  EXPECT_EQ(m.count, 1);
  EXPECT_EQ(m.initial_delay, Duration(0));
  EXPECT_EQ(m.failure_limit, 0);
  EXPECT_EQ(m.inconclusive_limit, 0);
  EXPECT_EQ(m.consecutive_error_limit, 4);
  EXPECT_EQ(m.prometheus.address, std::nullopt);
  EXPECT_EQ(m.prometheus.query, "up");
}

// The operator reads custom resources as JSON.
TEST(ParseAnalysisTemplate, Json) {
  auto spec = parseAnalysisTemplate(
      R"({"apiVersion":"governor.io/v1alpha1","kind":"AnalysisTemplate",
          "metadata":{"name":"t","namespace":"shop","resourceVersion":"7"},
          "spec":{"args":[{"name":"svc","value":"web"}],
                  "metrics":[{"name":"m","count":3,"interval":"10s",
                              "thresholdRange":{"min":0.9,"max":1},
                              "provider":{"prometheus":{"query":"x{s=\"{{args.svc}}\"}"}}}]}})",
      "AnalysisTemplate shop/t");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->metrics[0].count, 3);
  EXPECT_EQ(spec->metrics[0].interval, Duration(10'000));
  EXPECT_EQ(spec->metrics[0].threshold_range, (ThresholdRange{0.9, 1.0}));
}

// The document around one metric: the metric's first line (`- name: m`) is line 9, its
// fields start on line 10.
std::string withMetric(const std::string& fields) {
  return "apiVersion: governor.io/v1alpha1\n"
         "kind: AnalysisTemplate\n"
         "metadata:\n"
         "  name: t\n"
         "spec:\n"
         "  args:\n"
         "    - name: service\n"
         "  metrics:\n"
         "    - name: m\n" +
         fields;
}

// A provider block for the metric, to follow its other fields.
constexpr char kProvider[] =
    "      provider:\n"
    "        prometheus:\n"
    "          query: up{service=\"{{args.service}}\"}\n";

struct ErrorCase {
  std::string name;
  std::string text;
  std::string error;  // The whole message: every error, one per line.
};

// gtest prints a failing case by its name.
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ParseErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ParseErrorTest, Fails) {
  const ErrorCase& c = GetParam();
  auto spec = parseAnalysisTemplate(c.text, "t.yaml");
  ASSERT_FALSE(spec.ok()) << c.text;
  EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Metric, ParseErrorTest,
    testing::Values(
        ErrorCase{"BadSuccessCondition",
                  withMetric("      successCondition: result >= )\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].successCondition: offset 10: expected a number or "
                  "\"result\", got \")\""},
        ErrorCase{"BadFailureCondition",
                  withMetric("      failureCondition: result[0] < 1\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].failureCondition: offset 6: \"result\" is the "
                  "query's single value: write result, not result[0]"},
        ErrorCase{"EmptyCondition", withMetric("      successCondition: \"\"\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].successCondition: must not be empty"},
        ErrorCase{"NoCondition", withMetric(kProvider),
                  "t.yaml:9: spec.metrics[0]: must set successCondition, failureCondition or "
                  "thresholdRange (a metric that cannot fail gates nothing)"},
        ErrorCase{"RangeAndCondition",
                  withMetric("      successCondition: result > 1\n"
                             "      thresholdRange: {min: 1}\n") +
                      kProvider,
                  "t.yaml:11: spec.metrics[0].thresholdRange: set either thresholdRange or "
                  "successCondition/failureCondition, not both"},
        ErrorCase{"RangeWithoutBounds", withMetric("      thresholdRange: {}\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].thresholdRange: must set min, max or both"},
        ErrorCase{"RangeInverted",
                  withMetric("      thresholdRange: {min: 2, max: 1.5}\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].thresholdRange.max: must be >= min (2), got 1.5"},
        ErrorCase{"RangeNotANumber", withMetric("      thresholdRange: {min: high}\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].thresholdRange.min: must be a number, got "
                  "\"high\""},
        ErrorCase{"RangeNotAMapping", withMetric("      thresholdRange: [1, 2]\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].thresholdRange: must be a mapping, got a list"},
        ErrorCase{"RangeUnknownField",
                  withMetric("      thresholdRange: {min: 1, maximum: 2}\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].thresholdRange.maximum: unknown field"},
        ErrorCase{
            "IntervalUnit",
            withMetric("      interval: 10x\n      successCondition: result > 1\n") + kProvider,
            "t.yaml:10: spec.metrics[0].interval: \"10x\": unknown unit \"x\" (use ms, s, "
            "m, h, d or w)"},
        ErrorCase{
            "IntervalTooShort",
            withMetric("      interval: 500ms\n      successCondition: result > 1\n") + kProvider,
            "t.yaml:10: spec.metrics[0].interval: must be in [1s, 24h], got \"500ms\""},
        ErrorCase{
            "InitialDelayTooLong",
            withMetric("      initialDelay: 2d\n      successCondition: result > 1\n") + kProvider,
            "t.yaml:10: spec.metrics[0].initialDelay: must be in [0s, 24h], got \"2d\""},
        ErrorCase{"CountNegative",
                  withMetric("      count: -1\n      successCondition: result > 1\n") + kProvider,
                  "t.yaml:10: spec.metrics[0].count: must be in [0, 10000], got -1"},
        ErrorCase{
            "FailureLimitNotAnInteger",
            withMetric("      failureLimit: 1.5\n      successCondition: result > 1\n") + kProvider,
            "t.yaml:10: spec.metrics[0].failureLimit: must be an integer, got \"1.5\""},
        ErrorCase{"ConsecutiveErrorLimitTooHigh",
                  withMetric("      consecutiveErrorLimit: 1001\n"
                             "      successCondition: result > 1\n") +
                      kProvider,
                  "t.yaml:10: spec.metrics[0].consecutiveErrorLimit: must be in [0, 1000], got "
                  "1001"},
        ErrorCase{"UnknownField",
                  withMetric("      successCondtion: result > 1\n      failureCondition: result < "
                             "0\n") +
                      kProvider,
                  "t.yaml:10: spec.metrics[0].successCondtion: unknown field"},
        ErrorCase{"ProviderMissing", withMetric("      successCondition: result > 1\n"),
                  "t.yaml:9: spec.metrics[0].provider: required"},
        ErrorCase{"ProviderUnknown",
                  withMetric("      successCondition: result > 1\n"
                             "      provider: {datadog: {query: x}}\n"),
                  "t.yaml:11: spec.metrics[0].provider.datadog: unknown field\n"
                  "t.yaml:11: spec.metrics[0].provider.prometheus: required (the only "
                  "provider)"},
        ErrorCase{"QueryMissing",
                  withMetric("      successCondition: result > 1\n"
                             "      provider: {prometheus: {address: \"http://p\"}}\n"),
                  "t.yaml:11: spec.metrics[0].provider.prometheus.query: required"},
        ErrorCase{"QueryUndeclaredArg",
                  withMetric("      successCondition: result > 1\n"
                             "      provider: {prometheus: {query: 'up{s=\"{{args.svc}}\"}'}}\n"),
                  "t.yaml:11: spec.metrics[0].provider.prometheus.query: query template, offset "
                  "6: unknown variable {{args.svc}} (known: args.service)"},
        ErrorCase{"QueryScalingPolicyVariable",
                  withMetric("      successCondition: result > 1\n"
                             "      provider: {prometheus: {query: 'up{s=\"{{namespace}}\"}'}}\n"),
                  "t.yaml:11: spec.metrics[0].provider.prometheus.query: query template, offset "
                  "6: unknown variable {{namespace}} (known: args.service)"},
        ErrorCase{"QueryArgOutsideString",
                  withMetric("      successCondition: result > 1\n"
                             "      provider: {prometheus: {query: 'topk({{args.service}}, "
                             "x)'}}\n"),
                  "t.yaml:11: spec.metrics[0].provider.prometheus.query: query template, offset "
                  "5: {{args.service}} outside a string literal; write it inside quotes, e.g. "
                  "namespace=\"{{namespace}}\", where its value is escaped"},
        ErrorCase{"AddressNotAUrl",
                  withMetric("      successCondition: result > 1\n"
                             "      provider: {prometheus: {query: up, address: "
                             "prometheus:9090}}\n"),
                  "t.yaml:11: spec.metrics[0].provider.prometheus.address: must be an http:// or "
                  "https:// URL, got \"prometheus:9090\""},
        ErrorCase{"MetricName",
                  "apiVersion: governor.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: "
                  "t}\nspec:\n  metrics:\n    - name: success rate\n      successCondition: "
                  "result > 1\n      provider: {prometheus: {query: up}}\n",
                  "t.yaml:6: spec.metrics[0].name: must be 1-63 letters, digits, '-', '_' or '.', "
                  "got \"success rate\""},
        ErrorCase{"DuplicateMetric",
                  withMetric("      successCondition: result > 1\n") + kProvider +
                      "    - name: m\n      successCondition: result > 1\n" + kProvider,
                  "t.yaml:14: spec.metrics[1].name: duplicate metric name \"m\""},
        ErrorCase{"MetricNotAMapping",
                  "apiVersion: governor.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: "
                  "t}\nspec:\n  metrics:\n    - up\n",
                  "t.yaml:6: spec.metrics[0]: must be a mapping, got \"up\""}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// The head of a document whose spec follows (its first line is line 5).
std::string withSpec(const std::string& spec) {
  return "apiVersion: governor.io/v1alpha1\n"
         "kind: AnalysisTemplate\n"
         "metadata: {name: t}\n"
         "spec:\n" +
         spec;
}

constexpr char kMetrics[] =
    "  metrics:\n"
    "    - name: m\n"
    "      successCondition: result > 1\n"
    "      provider: {prometheus: {query: up}}\n";

INSTANTIATE_TEST_SUITE_P(
    Document, ParseErrorTest,
    testing::Values(
        ErrorCase{"ArgsNotAList", withSpec("  args: {name: a}\n") + kMetrics,
                  "t.yaml:5: spec.args: must be a list, got a mapping"},
        ErrorCase{"ArgWithoutName", withSpec("  args:\n    - value: x\n") + kMetrics,
                  "t.yaml:6: spec.args[0].name: required"},
        ErrorCase{"ArgName", withSpec("  args:\n    - name: \"{{x}}\"\n") + kMetrics,
                  "t.yaml:6: spec.args[0].name: must be 1-63 letters, digits, '-', '_' or '.', "
                  "got \"{{x}}\""},
        ErrorCase{"ArgDuplicate", withSpec("  args:\n    - name: a\n    - name: a\n") + kMetrics,
                  "t.yaml:7: spec.args[1].name: duplicate arg name \"a\""},
        ErrorCase{"ArgValueFrom",
                  withSpec("  args:\n    - name: a\n      valueFrom: {secretKeyRef: {name: s}}\n") +
                      kMetrics,
                  "t.yaml:7: spec.args[0].valueFrom: unknown field"},
        ErrorCase{"ArgValueNotAString",
                  withSpec("  args:\n    - name: a\n      value: [1]\n") + kMetrics,
                  "t.yaml:7: spec.args[0].value: must be a string, got a list"},
        ErrorCase{"MetricsMissing", withSpec("  args: []\n"), "t.yaml:5: spec.metrics: required"},
        ErrorCase{"MetricsEmpty", withSpec("  metrics: []\n"),
                  "t.yaml:5: spec.metrics: must have at least one metric"},
        ErrorCase{"MetricsNotAList", withSpec("  metrics: {name: m}\n"),
                  "t.yaml:5: spec.metrics: must be a list, got a mapping"},
        ErrorCase{"SpecUnknownField", withSpec("  dryRun: true\n") + kMetrics,
                  "t.yaml:5: spec.dryRun: unknown field"},
        ErrorCase{"WrongKind",
                  "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: "
                  "t}\nspec:\n" +
                      std::string(kMetrics),
                  "t.yaml:2: kind: must be AnalysisTemplate, got \"ScalingPolicy\""},
        ErrorCase{"WrongApiVersion",
                  "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: "
                  "t}\nspec:\n" +
                      std::string(kMetrics),
                  "t.yaml:1: apiVersion: must be governor.io/v1alpha1, got "
                  "\"argoproj.io/v1alpha1\""},
        ErrorCase{"BadName",
                  "apiVersion: governor.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: "
                  "Rate}\nspec:\n" +
                      std::string(kMetrics),
                  "t.yaml:3: metadata.name: must be a DNS-1123 subdomain (lowercase letters, "
                  "digits, '-' and '.'), got \"Rate\""},
        ErrorCase{"SpecMissing",
                  "apiVersion: governor.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: t}\n",
                  "t.yaml:1: spec: required"},
        ErrorCase{"NotAMapping", "- a\n- b\n",
                  "t.yaml:1: (document): must be a mapping, got a list"},
        // Every problem at once, in document order.
        ErrorCase{"AllAtOnce",
                  withSpec("  args:\n    - name: a\n    - name: a\n"
                           "  metrics:\n"
                           "    - name: m\n"
                           "      count: many\n"
                           "      successCondition: result >> 1\n"
                           "      provider: {prometheus: {query: 'x{a=\"{{args.b}}\"}'}}\n"),
                  "t.yaml:7: spec.args[1].name: duplicate arg name \"a\"\n"
                  "t.yaml:10: spec.metrics[0].count: must be an integer, got \"many\"\n"
                  "t.yaml:11: spec.metrics[0].successCondition: offset 8: expected a number or "
                  "\"result\", got \">\"\n"
                  "t.yaml:12: spec.metrics[0].provider.prometheus.query: query template, offset "
                  "5: unknown variable {{args.b}} (known: args.a)"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

TEST(ParseAnalysisTemplate, NotYaml) {
  auto spec = parseAnalysisTemplate("spec: [unclosed", "t.yaml");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.status().message().find("t.yaml:1: invalid YAML"), std::string::npos)
      << spec.status().message();
}

TEST(ParseAnalysisTemplate, OneDocumentOnly) {
  const std::string one = withSpec(kMetrics);
  auto two = parseAnalysisTemplate(one + "---\n" + one, "t.yaml");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().message(), "t.yaml: expected one AnalysisTemplate, found 2");
  auto all = parseAnalysisTemplates(one + "---\n" + one, "t.yaml");
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_EQ(all->size(), 2u);
}

AnalysisTemplateSpec parsed(const std::string& text) {
  auto spec = parseAnalysisTemplate(text, "t.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : AnalysisTemplateSpec{};
}

TEST(ResolveArgs, SuppliedOverrideDefaultsAndExtrasAreIgnored) {
  const AnalysisTemplateSpec spec =
      parsed(withSpec("  args:\n    - name: service\n    - name: threshold\n      value: "
                      "\"0.95\"\n    - name: window\n      value: 5m\n") +
             kMetrics);
  auto args = resolveArgs(spec, {{"service", "web"}, {"window", "1m"}, {"unused", "x"}});
  ASSERT_TRUE(args.ok()) << args.status().message();
  const std::map<std::string, std::string> want = {
      {"service", "web"}, {"threshold", "0.95"}, {"window", "1m"}};
  EXPECT_EQ(*args, want);
}

TEST(ResolveArgs, NamesEveryArgWithoutAValue) {
  const AnalysisTemplateSpec spec =
      parsed(withSpec("  args:\n    - name: service\n    - name: t\n      value: x\n    - name: "
                      "canary-hash\n") +
             kMetrics);
  auto args = resolveArgs(spec, {});
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().message(),
            "AnalysisTemplate default/t: arg \"service\" has no value: the template gives none "
            "and the Rollout supplies none\n"
            "AnalysisTemplate default/t: arg \"canary-hash\" has no value: the template gives "
            "none and the Rollout supplies none");
}

TEST(RenderMetricQuery, EscapesHostileArgValues) {
  const AnalysisTemplateSpec spec =
      parsed(withMetric("      successCondition: result > 1\n"
                        "      provider:\n"
                        "        prometheus:\n"
                        "          query: 'sum(x{service=\"{{args."
                        "service}}\",pod=~\"{{args.service}}-.*\"})'"
                        "\n"));
  const std::string hostile = R"(x"} or vector(1) #)";
  auto query = renderMetricQuery(spec.metrics[0], {{"service", hostile}});
  ASSERT_TRUE(query.ok()) << query.status().message();
  // The value stays inside its two string literals: the quote is escaped (and, after =~,
  // regex-quoted), so `or vector(1)` is text, not PromQL.
  EXPECT_EQ(*query, R"(sum(x{service="x\"} or vector(1) #",pod=~"x\"\\} or vector\\(1\\) #-.*"}))");
  auto benign = renderMetricQuery(spec.metrics[0], {{"service", "web"}});
  ASSERT_TRUE(benign.ok());
  EXPECT_EQ(*benign, R"(sum(x{service="web",pod=~"web-.*"}))");
}

TEST(RenderMetricQuery, NamesTheMetricWhenAnArgIsMissing) {
  const AnalysisTemplateSpec spec =
      parsed(withMetric("      successCondition: result > 1\n") + kProvider);
  auto query = renderMetricQuery(spec.metrics[0], {});
  ASSERT_FALSE(query.ok());
  EXPECT_EQ(query.status().message(),
            "metric m: query template, offset 12: unknown variable {{args.service}} (known: "
            "none)");
}

TEST(ExpectedDuration, LongestMetricUnlessUnbounded) {
  AnalysisMetric a;
  a.count = 5;
  a.interval = Duration(60'000);
  a.initial_delay = Duration(30'000);
  AnalysisMetric b;
  b.count = 1;
  b.initial_delay = Duration(600'000);
  AnalysisTemplateSpec spec;
  spec.metrics = {a};
  EXPECT_EQ(expectedDuration(spec), Duration(30'000 + 4 * 60'000));
  spec.metrics = {a, b};
  EXPECT_EQ(expectedDuration(spec), Duration(600'000));
  b.count = 0;
  spec.metrics = {a, b};
  EXPECT_EQ(expectedDuration(spec), std::nullopt);
}

// The example templates parse, and last what the Rollout examples tell `governor rollout
// simulate --analysis-duration` they do.
TEST(Examples, ParseWithTheDurationsTheRolloutExamplesUse) {
  const std::map<std::string, Duration> want = {{"success-rate", std::chrono::minutes(5)},
                                                {"smoke", std::chrono::minutes(2)},
                                                {"error-rate", std::chrono::minutes(10)},
                                                {"latency", std::chrono::minutes(3)}};
  std::map<std::string, Duration> got;
  for (const char* file : {"analysis-success-rate.yaml", "analysis-templates.yaml"}) {
    const std::string path = std::string(GOVERNOR_SOURCE_DIR) + "/examples/rollouts/" + file;
    std::ifstream in(path);
    ASSERT_TRUE(in) << path;
    std::stringstream text;
    text << in.rdbuf();
    auto specs = parseAnalysisTemplates(text.str(), path);
    ASSERT_TRUE(specs.ok()) << specs.status().message();
    for (const auto& spec : *specs) {
      auto d = expectedDuration(spec);
      ASSERT_TRUE(d.has_value()) << spec.name;
      got[spec.name] = *d;
    }
  }
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace governor::rollouts
