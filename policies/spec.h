#pragma once

// The ScalingPolicy spec as Governor's pure code sees it: parsed and validated, with every
// default applied (see spec_parser.h). Field names follow the CR (`governor.io/v1alpha1`),
// which follows HPA v2 where HPA has the concept.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "policies/cron.h"

namespace date {
class time_zone;
}  // namespace date

namespace governor::policies {

// How a metric's value is compared with its target; the same meanings as HPA's targets.
enum class TargetType {
  kValue,         // The query's value as is, against `value` (HPA Object/External Value).
  kAverageValue,  // A per-pod value: the query's value / current replicas, or the mean of
                  // the per-pod series, against `averageValue`.
  kUtilization,   // A percentage, against `averageUtilization` (HPA Resource Utilization).
};

struct MetricTarget {
  TargetType type = TargetType::kUtilization;
  // The target in the metric's unit: `value`, `averageValue`, or `averageUtilization` (percent).
  // Always > 0 after validation.
  double value = 0;
  friend bool operator==(const MetricTarget&, const MetricTarget&) = default;
};

struct PrometheusMetricSource {
  std::string query;                   // PromQL, possibly with {{namespace}}-style variables.
  bool per_pod = false;                // The query returns one series per pod, labelled `pod`.
  std::optional<std::string> address;  // Overrides the operator's --prometheus-url.
  friend bool operator==(const PrometheusMetricSource&, const PrometheusMetricSource&) = default;
};

struct MetricSpec {
  std::string name;  // Unique within the policy.
  PrometheusMetricSource prometheus;
  MetricTarget target;
  friend bool operator==(const MetricSpec&, const MetricSpec&) = default;
};

enum class ScalingPolicyType { kPods, kPercent };   // HPA v2 HPAScalingPolicyType.
enum class SelectPolicy { kMax, kMin, kDisabled };  // HPA v2 ScalingPolicySelect.

struct ScalingRule {  // HPA v2 HPAScalingPolicy.
  ScalingPolicyType type = ScalingPolicyType::kPods;
  int32_t value = 0;   // > 0.
  Seconds period{15};  // periodSeconds, in (0, 1800].
};

// One direction of `behavior`, defaults applied (HPA's for the HPA fields).
struct ScalingRules {
  Seconds stabilization_window{0};  // Default: 0 for scaleUp, 300 s for scaleDown.
  double tolerance = 0.1;           // Default: 0.1 (HPA's --horizontal-pod-autoscaler-tolerance).
  Seconds cooldown{0};              // Governor: minimum time since the last scale this way.
  SelectPolicy select_policy = SelectPolicy::kMax;
  // Default scaleUp: [Pods 4 / 15 s, Percent 100 / 15 s]; scaleDown: [Percent 100 / 15 s].
  std::vector<ScalingRule> policies;
};

struct Behavior {
  ScalingRules scale_up;
  ScalingRules scale_down;

  static Behavior hpaDefaults();
};

// A recurring window in which replica bounds change: `start` plus `duration`, or `start`
// and `end`. What the window sets: `replicas` (both bounds), or `min_replicas` and/or
// `max_replicas`.
struct ScheduleSpec {
  std::string name;
  std::string time_zone = "UTC";          // IANA name; resolved and checked by the parser.
  const date::time_zone* zone = nullptr;  // Resolved `time_zone`; nullptr means UTC.
  CronExpr start;
  std::optional<Duration> duration;  // Exactly one of duration and end.
  std::optional<CronExpr> end;
  std::optional<int32_t> min_replicas;
  std::optional<int32_t> max_replicas;
  std::optional<int32_t> replicas;
};

struct ScaleTargetRef {
  std::string api_version;  // e.g. "apps/v1".
  std::string kind;         // e.g. "Deployment".
  std::string name;
};

enum class PredictiveModelKind { kAuto, kHoltWinters, kHarmonic, kLinear, kSeasonalNaive };
enum class PredictiveMode {
  kApply,         // The forecast's proposal joins the engine's max(reactive, predictive).
  kForecastOnly,  // Recorded in decisions, status and reports; never drives replicas.
};

// `spec.predictive`: forecast one metric's load and provision for its upper quantile ahead
// of time. See policies/predictive.h for the semantics.
struct PredictiveSpec {
  std::string metric;  // A MetricSpec::name with a Utilization or AverageValue target.
  PredictiveModelKind model = PredictiveModelKind::kAuto;
  std::vector<Duration> seasonal_periods;  // Default: [24h]. The first is the primary one.
  Duration history{336LL * 3'600'000};     // Default: 336h (two weeks).
  Seconds lead{180};                       // leadSeconds. Default: 180.
  double quantile = 0.9;                   // Default: 0.9; in [0.5, 1).
  Seconds refit{3600};                     // refitSeconds. Default: 3600.
  PredictiveMode mode = PredictiveMode::kApply;
  // Governor additions:
  Duration resolution{300'000};    // The step of the fitted series. Default: 5m.
  double max_backtest_mase = 2.0;  // A model whose backtest MASE exceeds this is not used.
  friend bool operator==(const PredictiveSpec&, const PredictiveSpec&) = default;
};

// What to do when the metrics cannot be read (KEDA's fallback): after `after_failures`
// evaluations in a row without one valid metric, propose `replicas`. Never a scale-down:
// the engine only lets it add capacity.
struct FallbackSpec {
  int32_t replicas = 0;        // Required, >= 0.
  int32_t after_failures = 3;  // Default: 3, >= 1.
  friend bool operator==(const FallbackSpec&, const FallbackSpec&) = default;
};

struct PolicySpec {
  // metadata
  std::string name;
  std::string namespace_;  // Default: "default".
  // spec
  ScaleTargetRef scale_target_ref;
  int32_t min_replicas = 1;         // Default: 1, as HPA.
  int32_t max_replicas = 0;         // Required, >= min_replicas.
  std::vector<MetricSpec> metrics;  // May be empty: a schedule-only policy.
  std::vector<ScheduleSpec> schedules;
  Behavior behavior = Behavior::hpaDefaults();
  std::optional<PredictiveSpec> predictive;
  std::optional<FallbackSpec> fallback;
  // How often the operator evaluates this policy at least (`syncPeriodSeconds`, 1..3600);
  // nullopt: the operator's --sync-period.
  std::optional<Seconds> sync_period;
};

}  // namespace governor::policies
