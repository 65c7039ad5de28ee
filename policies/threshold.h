#pragma once

// The threshold policy: the Kubernetes HPA replica calculation, exactly
// (pkg/controller/podautoscaler/replica_calculator.go and computeReplicasForMetrics in
// horizontal.go), for Governor's three target types.
//
//   Value         ratio = value / target                      (HPA Object/External Value)
//                 desired = ceil(ratio * ready pods); ceil(ratio) when current is 0.
//                 per_pod: value = the sum of the pods' series (External metrics sum series).
//   AverageValue  not per-pod: ratio = value / (target * status replicas)
//                 desired = ceil(value / target)              (HPA External AverageValue)
//                 per-pod: HPA Pods-metric rules (missing pods count as the target on a
//                 scale-down and 0 on a scale-up; pending pods count as 0 on a scale-up)
//   Utilization   not per-pod: ratio = value / target, desired = ceil(ratio * ready pods)
//                 per-pod: HPA Resource (CPU) rules: not-yet-ready pods are left out and
//                 count as 0 on a scale-up; missing pods count as max(100%, target) on a
//                 scale-down and 0 on a scale-up; a change of direction holds.
// A ratio within the tolerance band [1 - scaleDown.tolerance, 1 + scaleUp.tolerance] holds
// the current count. Several metrics: the largest valid proposal wins. An invalid metric
// (missing, NaN, +-Inf, negative) is skipped and reported; when every metric is invalid, or
// when some are invalid and the valid ones would scale down, the policy proposes nothing
// (HPA refuses to scale down on partial data).
//
// "Ready pods" for Value and non-per-pod Utilization: Observation::ready_replicas when set,
// else the Running pods whose Ready condition is true when `pods` is given, else
// current_replicas. With no ready pod the proposal is 0, as in HPA; the engine's bounds apply.
//
// Per-pod grouping (HPA's groupPods), pod by pod:
//   ignored   being deleted, or phase Failed: left out entirely;
//   unready   phase Pending; and for per-pod Utilization only (HPA's CPU rule): no Ready
//             condition or no start time; or, within cpu_initialization_period of start,
//             not Ready or the sample's window began before the last Ready transition; or,
//             after it, not Ready and never Ready since start (last transition within
//             initial_readiness_delay of start). A missing transition time counts as long ago;
//   missing   no sample, or a NaN, infinite or negative sample;
//   ready     the rest.
// With no unready pods on a scale-up and no missing pods: desired = ceil(ratio * ready).
// Otherwise the ratio is recomputed with the fill-ins above; the count holds if the new ratio
// is within tolerance, if it points the other way, or if ceil(new ratio * pods counted) moves
// the count against the direction of the new ratio.
//
// Where Governor differs from HPA (HPA works on milli-unit integers, Governor on doubles):
//   * Per-pod Utilization values are percentages of each pod's request, and the pods are
//     weighted equally (HPA: sum(usage) / sum(requests), which equals the mean of the
//     percentages when requests are equal). The mean is truncated to a whole percent, as
//     HPA's int32 utilization is. Per-pod AverageValue means are not truncated (HPA truncates
//     to 0.001 of the unit, through its milli-quantities).
//   * Per-pod samples for pods not in Observation::pods are dropped (Prometheus series
//     outlive their pods; HPA's custom-metrics API already filters by the selector).
//   * Values within 1e-9 (relative) of a tolerance edge or of an integer are snapped to it
//     before comparing or rounding up, so that decimal inputs such as 0.07 / 0.01 give 7
//     replicas, as HPA's integer arithmetic does, not 8.
//   * Replica counts saturate at INT32_MAX instead of overflowing.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "policies/observation.h"
#include "policies/spec.h"

namespace governor::policies {

// HPA's pod-readiness timings (kube-controller-manager flags), used for per-pod Utilization.
struct PodTimings {
  Duration cpu_initialization_period{5 * 60'000};  // Default: 5m.
  Duration initial_readiness_delay{30'000};        // Default: 30s.
};

struct Tolerances {
  double scale_up = 0.1;    // Default: 0.1, as HPA's --horizontal-pod-autoscaler-tolerance.
  double scale_down = 0.1;  // Default: 0.1.
  // Slack that absorbs decimal-to-binary rounding at the band's edges (see above).
  static constexpr double kEdgeSlack = 1e-9;
  // True when `ratio` is close enough to 1 that the count should hold (HPA's isWithin).
  // False for NaN.
  bool within(double ratio) const {
    return ratio >= 1.0 - scale_down - kEdgeSlack && ratio <= 1.0 + scale_up + kEdgeSlack;
  }
};

// The tolerances of `behavior`: scaleUp.tolerance and scaleDown.tolerance (HPA's
// tolerancesForHpa with HPAConfigurableTolerance on).
Tolerances tolerancesFor(const Behavior& behavior);

// How the pods were grouped for a per-pod AverageValue or Utilization metric; all zero for
// other metrics.
struct PodCounts {
  int32_t ready = 0;    // Counted with their own samples.
  int32_t unready = 0;  // Pending, or (Utilization) not yet ready: 0 on a scale-up.
  int32_t missing = 0;  // No usable sample: the fill-in value on a scale-down, 0 on a scale-up.
  int32_t ignored = 0;  // Deleting or Failed: left out.
  friend bool operator==(const PodCounts&, const PodCounts&) = default;
};

// One metric's outcome.
struct MetricRecommendation {
  std::string metric;    // MetricSpec::name.
  bool valid = false;    // False: skipped; `reason`/`message` say why.
  int32_t replicas = 0;  // The proposal when valid.
  double usage = 0;      // The value compared with the target (per-pod average if any).
  double ratio = 0;      // usage / target, as HPA computes it.
  std::string reason;    // "AboveTarget", "BelowTarget", "AtTarget" (scale from 0),
                         // "WithinTolerance",
                         // "DirectionUncertain" (held: counting unready or missing pods
                         // reverses the direction), "MissingMetric", "InvalidMetric",
                         // "NoPods", "InvalidTarget".
  std::string message;   // "cpu 84% > target 60% (tolerance +10%/-10%)".
  PodCounts pods;        // Per-pod AverageValue and Utilization only.
};

// REQUIRES: `spec` validated (target value > 0); an invalid target gives "InvalidTarget"
// rather than undefined behaviour. Never throws; every input gives a result.
MetricRecommendation recommendForMetric(const MetricSpec& spec, const Observation& obs,
                                        const Tolerances& tolerances, const PodTimings& timings,
                                        TimePoint now);

// The same, into `out` (every field set, as the returned value would be). `out`'s strings keep
// their storage: a caller that evaluates into the same object every sync period allocates
// nothing in the steady state.
void recommendForMetric(const MetricSpec& spec, const Observation& obs,
                        const Tolerances& tolerances, const PodTimings& timings, TimePoint now,
                        MetricRecommendation& out);

struct ThresholdResult {
  // The largest valid proposal, with the winning metric's reason; nullopt when the policy has
  // no metrics, every metric was invalid, or some were invalid and the rest would scale down
  // (then the engine holds the current count).
  std::optional<Proposal> proposal;
  std::vector<MetricRecommendation> metrics;  // In spec order, valid or not.
  // The proposal's reason and message; when there is no proposal, why: "NoMetrics",
  // "AllMetricsInvalid" or "InvalidMetricBlocksScaleDown".
  std::string reason;
  std::string message;
};

// Tolerances come from spec.behavior (tolerancesFor).
ThresholdResult evaluateThreshold(const PolicySpec& spec, const Observation& obs,
                                  const PodTimings& timings, TimePoint now);

// The same, into storage the caller keeps from one evaluation to the next (strings and
// vectors keep their capacity, so a steady state allocates nothing; the engine's decide()
// writes straight into its Decision). `metrics` becomes ThresholdResult::metrics. Returns
// true when there is a proposal and sets `proposal` to it (`reason` and `message` untouched:
// they are the proposal's); returns false otherwise, leaves `proposal` untouched and sets
// `reason` and `message` to ThresholdResult's.
bool evaluateThreshold(const PolicySpec& spec, const Observation& obs, const PodTimings& timings,
                       TimePoint now, std::vector<MetricRecommendation>& metrics,
                       Proposal& proposal, std::string& reason, std::string& message);

}  // namespace governor::policies
