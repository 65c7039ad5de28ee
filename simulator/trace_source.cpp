#include "simulator/trace_source.h"

#include <utility>

namespace governor::simulator {

std::optional<policies::MetricSample> deriveMetric(const controller::MetricQuery& query,
                                                   double demand, double capacity, int32_t ready,
                                                   const std::vector<std::string>& ready_pods,
                                                   TimePoint at, Duration window) {
  policies::MetricSample sample;
  sample.timestamp = at;
  const double n = static_cast<double>(ready);
  const double utilization = ready > 0 && capacity > 0 ? demand / (n * capacity) * 100.0 : 0.0;
  if (query.per_pod) {
    if (ready <= 0) return std::nullopt;
    const double each =
        query.target_type == policies::TargetType::kUtilization ? utilization : demand / n;
    for (const auto& pod : ready_pods) sample.per_pod[pod] = policies::PodSample{each, at, window};
    return sample;
  }
  switch (query.target_type) {
    case policies::TargetType::kUtilization:
      if (ready <= 0 || capacity <= 0) return std::nullopt;
      sample.value = utilization;
      break;
    case policies::TargetType::kAverageValue:
    case policies::TargetType::kValue:
      sample.value = demand;
      break;
  }
  return sample;
}

TraceMetricsSource::TraceMetricsSource(const Trace& trace, Interpolation mode,
                                       const InMemoryCluster& cluster, std::string namespace_,
                                       policies::ScaleTargetRef target, double capacity_per_replica,
                                       Duration window)
    : trace_(trace),
      mode_(mode),
      cluster_(cluster),
      namespace_(std::move(namespace_)),
      target_(std::move(target)),
      capacity_(capacity_per_replica),
      window_(window) {}

Result<controller::MetricSnapshot> TraceMetricsSource::fetch(
    const std::vector<controller::MetricQuery>& queries, TimePoint at) {
  controller::MetricSnapshot snapshot;
  const double demand = trace_.valueAt(at, mode_, trace_hint_);
  // Found on the first fetch that sees the target, then reused: fetch runs on every step.
  if (!handle_.valid()) handle_ = cluster_.findHandle(namespace_, target_.kind, target_.name);
  const int32_t ready = cluster_.readyPods(handle_);
  std::vector<std::string> pods;
  for (const auto& q : queries) {
    if (q.per_pod && pods.empty()) pods = cluster_.readyPodNames(handle_);
    if (auto sample = deriveMetric(q, demand, capacity_, ready, pods, at, window_)) {
      snapshot.samples.emplace(q.name, std::move(*sample));
    }
  }
  return snapshot;
}

}  // namespace governor::simulator
