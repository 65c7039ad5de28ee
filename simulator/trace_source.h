#pragma once

// The simulator's MetricsSource: every metric of a policy is derived from the trace's demand
// at the evaluation time and the workload's ready replicas, by what the metric's target
// compares (MetricQuery::target_type); the PromQL text is not evaluated.
//
//                 per_pod: false                         per_pod: true (one series per ready pod)
//   Utilization   demand / (ready * capacity) * 100      each pod: the same percentage
//   AverageValue  demand: the query is a total, as       each pod: demand / ready
//                 sum(rate(...)) is, and the engine
//                 divides it by the replicas (HPA's
//                 External AverageValue)
//   Value         demand                                 each pod: demand / ready (they sum
//                                                        to demand, as the engine sums them)
// Pods that are starting return no series, as a pod that is not serving yet has no rate; with
// no ready pod a per-pod metric has no series and a Utilization metric is absent (Prometheus
// would return nothing), so the engine holds rather than divide by zero.
//
// Thread-safety: not thread-safe (reads the cluster, which is not).

#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "controller/ports.h"
#include "simulator/in_memory_cluster.h"
#include "simulator/trace.h"

namespace governor::simulator {

// The sample of `query` for `demand` served by `ready_pods` (ready_pods.size() ready pods of
// `capacity` each) as of `at`; per-pod samples summarize `window`. nullopt: no series.
std::optional<policies::MetricSample> deriveMetric(const controller::MetricQuery& query,
                                                   double demand, double capacity, int32_t ready,
                                                   const std::vector<std::string>& ready_pods,
                                                   TimePoint at, Duration window);

class TraceMetricsSource final : public controller::MetricsSource {
 public:
  // `trace` and `cluster` must outlive the source. `target` is the workload in `namespace_`.
  TraceMetricsSource(const Trace& trace, Interpolation mode, const InMemoryCluster& cluster,
                     std::string namespace_, policies::ScaleTargetRef target,
                     double capacity_per_replica, Duration window);

  // Never fails.
  Result<controller::MetricSnapshot> fetch(const std::vector<controller::MetricQuery>& queries,
                                           TimePoint at) override;

 private:
  const Trace& trace_;
  Interpolation mode_;
  const InMemoryCluster& cluster_;
  std::string namespace_;
  policies::ScaleTargetRef target_;
  double capacity_;
  Duration window_;
  InMemoryCluster::TargetHandle handle_;  // Of target_, once it exists.
  size_t trace_hint_ = 0;                 // Where the last fetch found its time in the trace.
};

}  // namespace governor::simulator
