#pragma once

// What one evaluation of a ScalingPolicy sees of the world: the target's replica counts,
// its pods (for per-pod metrics), and the metric values. The controller fills it from the
// API server and Prometheus; the simulator from its workload model and trace. A missing
// metric is absent from `metrics`, never zero.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"

namespace governor::policies {

enum class PodPhase { kPending, kRunning, kSucceeded, kFailed, kUnknown };

// The parts of a Pod that HPA's replica calculation reads.
struct PodInfo {
  std::string name;
  PodPhase phase = PodPhase::kRunning;
  bool deleting = false;                      // metadata.deletionTimestamp is set.
  std::optional<bool> ready;                  // The PodReady condition; nullopt if absent.
  std::optional<TimePoint> ready_transition;  // That condition's lastTransitionTime.
  std::optional<TimePoint> start_time;        // status.startTime; nullopt if not started.
};

// One pod's value of a per-pod metric.
struct PodSample {
  double value = 0;
  TimePoint timestamp{};    // When the sample was taken.
  Duration window{60'000};  // The window the sample summarizes (e.g. a rate's range).
};

// One metric's value as fetched for this evaluation.
struct MetricSample {
  // The query's single value, for metrics with per_pod = false; nullopt if the query
  // returned nothing.
  std::optional<double> value;
  // For per_pod = true: the value of each pod that returned one, by pod name.
  std::map<std::string, PodSample> per_pod;
  TimePoint timestamp{};
};

// A policy's opinion of the replica count.
struct Proposal {
  int32_t replicas = 0;
  std::string policy;   // "threshold/cpu", "schedule/business-hours", "predictive".
  std::string reason;   // CamelCase, usable as a condition reason.
  std::string message;  // For people: "cpu 84% > target 60% (tolerance 10%)".
};

struct Observation {
  int32_t current_replicas = 0;                 // The target's scale.spec.replicas.
  std::optional<int32_t> status_replicas;       // scale.status.replicas (pods that exist).
  std::optional<int32_t> ready_replicas;        // Ready pods, when known.
  std::vector<PodInfo> pods;                    // The target's pods; needed for per-pod metrics.
  std::map<std::string, MetricSample> metrics;  // By MetricSpec::name; absent means missing.
  // The predictive policy's proposal, computed by its stateful model (predictive.h) and
  // combined here as max(reactive, predictive). nullopt: no predictive policy or no forecast.
  std::optional<Proposal> predictive;
  // Evaluations in a row, this one included, in which not one metric could be read (the
  // fetch failed, or every value was missing or not finite). The reconciler counts them and
  // persists the count in status; spec.fallback acts on it.
  int32_t metric_failures = 0;
};

}  // namespace governor::policies
