#pragma once

// The AnalysisTemplate (governor.io/v1alpha1, namespaced): the Prometheus checks that gate a
// Rollout's steps, after Argo Rollouts' AnalysisTemplate and Flagger's metric checks
// (docs/analysis.md is the reference).
//
//   spec:
//     args:
//       - name: service                # no value: the Rollout must supply it
//       - name: threshold
//         value: "0.95"                # a default the Rollout may override
//     metrics:
//       - name: success-rate
//         interval: 1m                 # between measurements. Default: 1m
//         count: 5                     # measurements to take. Default: 1; 0: until stopped
//         initialDelay: 30s            # before the first. Default: 0s
//         successCondition: result >= 0.95
//         failureLimit: 1              # failed measurements tolerated. Default: 0
//         provider:
//           prometheus:
//             query: sum(rate(http_requests_total{service="{{args.service}}",code!~"5.."}[1m]))
//                    / sum(rate(http_requests_total{service="{{args.service}}"}[1m]))
//
// The parser validates as it reads and applies every default, so the rest of the code sees
// only valid specs: conditions are compiled (rollouts/condition.h) and each query template is
// checked against the declared args (policies/query_template.h). Every error of a document is
// reported at once, as "<source>:<line>: <field.path>: <message>":
//   at.yaml:14: spec.metrics[0].successCondition: offset 9: expected a number or "result", got ")"
// Unknown fields under `spec` are errors (a typo must not silently change a release gate).
//
// Thread-safety: pure functions over value types.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "rollouts/condition.h"

namespace governor::rollouts {

inline constexpr std::string_view kAnalysisTemplateKind = "AnalysisTemplate";

// One of spec.args.
struct AnalysisTemplateArg {
  std::string name;  // Unique; 1-63 letters, digits, '-', '_' or '.'.
  // The default value. nullopt: the Rollout must supply one (resolveArgs fails otherwise).
  std::optional<std::string> value;
  friend bool operator==(const AnalysisTemplateArg&, const AnalysisTemplateArg&) = default;
};

// Flagger's thresholdRange: a measurement succeeds when min <= result <= max (inclusive).
// At least one bound is set; min <= max when both are.
struct ThresholdRange {
  std::optional<double> min;
  std::optional<double> max;
  friend bool operator==(const ThresholdRange&, const ThresholdRange&) = default;
};

// provider.prometheus.
struct AnalysisPrometheus {
  std::optional<std::string> address;  // Overrides the operator's --prometheus-url.
  std::string query;                   // PromQL; {{args.NAME}} only (see renderMetricQuery).
  friend bool operator==(const AnalysisPrometheus&, const AnalysisPrometheus&) = default;
};

// One of spec.metrics. How its measurements become a verdict: rollouts/analysis_run.h.
struct AnalysisMetric {
  std::string name;  // Unique within the template; 1-63 letters, digits, '-', '_' or '.'.
  // Between two measurements, in [1s, 24h]. Default: 1m.
  Duration interval{60'000};
  // The measurements to take (errors not counted), in [0, 10000]. Default: 1. 0: unbounded;
  // the metric runs until it fails or the run is stopped (background analysis). Unlike Argo,
  // setting `interval` alone does not make it unbounded: an analysis step must end.
  int32_t count = 1;
  // Before the first measurement, in [0, 24h]. Default: 0.
  Duration initial_delay{0};
  // At least one of the three is set; thresholdRange excludes the conditions.
  std::optional<Condition> success_condition;
  std::optional<Condition> failure_condition;
  std::optional<ThresholdRange> threshold_range;
  // Failed measurements tolerated: the metric fails at failure_limit + 1. Default: 0.
  int32_t failure_limit = 0;
  // Inconclusive measurements tolerated. Default: 0.
  int32_t inconclusive_limit = 0;
  // Errors in a row tolerated: the metric errs at consecutive_error_limit + 1. Default: 4
  // (as Argo).
  int32_t consecutive_error_limit = 4;
  AnalysisPrometheus prometheus;
  friend bool operator==(const AnalysisMetric&, const AnalysisMetric&) = default;
};

struct AnalysisTemplateSpec {
  std::string name;        // metadata.name.
  std::string namespace_;  // metadata.namespace. Default: "default".
  std::vector<AnalysisTemplateArg> args;
  std::vector<AnalysisMetric> metrics;  // At least one.
  friend bool operator==(const AnalysisTemplateSpec&, const AnalysisTemplateSpec&) = default;
};

// Limits the parser enforces (also in the CRD's schema).
inline constexpr Duration kMinAnalysisInterval{1'000};
inline constexpr Duration kMaxAnalysisDelay{86'400'000};  // interval and initialDelay: 24h.
inline constexpr int32_t kMaxAnalysisCount = 10'000;
inline constexpr int32_t kMaxAnalysisLimit = 1'000;  // failure/inconclusive/consecutiveError.

// Parses one AnalysisTemplate from YAML or JSON text. `source` names the text in messages (a
// file path, or "AnalysisTemplate shop/success-rate"). Returns InvalidArgument with every
// problem found, one per line; "expected one AnalysisTemplate, found N" for a stream of N != 1
// documents.
Result<AnalysisTemplateSpec> parseAnalysisTemplate(std::string_view text, std::string_view source);

// Every document of a multi-document YAML stream (`---` separated); empty documents are
// skipped. Fails as a whole if any document is invalid.
Result<std::vector<AnalysisTemplateSpec>> parseAnalysisTemplates(std::string_view text,
                                                                 std::string_view source);

// The value of every arg of `spec`: `supplied` (by the Rollout's analysis args) where given,
// else the template's default. Supplied names the template does not declare are ignored: one
// args list serves every template of an analysis step, as in Argo.
// Errors: InvalidArgument naming every arg without a value, e.g.
//   AnalysisTemplate shop/success-rate: arg "service" has no value: the template gives none
//   and the Rollout supplies none
Result<std::map<std::string, std::string>> resolveArgs(
    const AnalysisTemplateSpec& spec, const std::map<std::string, std::string>& supplied);

// The PromQL of `metric`, its template rendered with `args` (from resolveArgs), each value
// escaped for where it lands (policies/query_template.h).
// Errors: InvalidArgument "metric <name>: <why>": an arg the query uses is not in `args`, or a
// value cannot be placed (a backtick in a raw string).
Result<std::string> renderMetricQuery(const AnalysisMetric& metric,
                                      const std::map<std::string, std::string>& args);

// How long the template takes when every measurement is on time and decisive: the longest
// metric's initialDelay + (count - 1) * interval. nullopt when a metric is unbounded (count 0).
// For the dry run's expected duration.
std::optional<Duration> expectedDuration(const AnalysisTemplateSpec& spec);

}  // namespace governor::rollouts
