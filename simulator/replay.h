#pragma once

// The replay: one policy (or baseline) against the trace, step by step, on a manual clock.
//
// A policy runs through the operator's own Reconciler, plugged into an InMemoryCluster (the
// workload model), a TraceMetricsSource and a ManualClock, so that every decision, status and
// event is the one production would produce on the same data. At step i (time
// t_i = start + i * step, from the first sample to the last):
//   1. the clock moves to t_i; pods whose start-up ended by t_i are ready;
//   2. the reconciler runs once (the step is the operator's sync period; a requeue earlier
//      than the next step waits for it: the operator could act up to one step earlier when a
//      cooldown or schedule edge falls between steps);
//   3. the interval [t_i, t_i + step) is accounted with the pods after the decision: a
//      scale-down removes pods at once, new pods cost from t_i but serve only once ready.
//
// Metrics (RunMetrics), over the n steps of length `step`:
//   replicaHours             sum of pods that exist (ready or starting) x step, in hours:
//                            starting replicas cost, as the machines they run on do
//   underProvisionedSeconds  sum of steps with demand > ready x capacity, in seconds
//   unservedFraction         sum of max(0, demand - ready x capacity) / sum of demand
//                            (0 when there is no demand)
//   scaleEvents              writes of /scale that changed the count (0 for static)
//   maxReplicas              the most pods that existed at once (the initial ones included)
//   meanUtilization          mean over steps with a ready pod of
//                            min(demand, ready x capacity) / (ready x capacity) x 100:
//                            how much of the serving capacity paid for did work
//   p95Utilization           the 95th percentile (nearest rank) of the same values
//
// Thread-safety: the functions are reentrant; each run owns its world.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/proposal_source.h"
#include "policies/spec.h"
#include "simulator/simulation_spec.h"
#include "simulator/trace.h"

namespace governor::simulator {

// The replay's time grid and the demand at each step.
struct ReplayGrid {
  TimePoint start{};
  Duration step{15'000};
  std::vector<double> demand;  // demand[i] = trace.valueAt(start + i * step).
  int64_t steps() const { return static_cast<int64_t>(demand.size()); }
  TimePoint at(int64_t i) const { return start + step * i; }
};

// Steps from the trace's first sample to its last, inclusive. REQUIRES: step > 0.
ReplayGrid makeGrid(const Trace& trace, Duration step, Interpolation mode);

struct RunMetrics {
  double replica_hours = 0;
  double under_provisioned_seconds = 0;
  double unserved_fraction = 0;
  int64_t scale_events = 0;
  int32_t max_replicas = 0;
  double mean_utilization = 0;
  double p95_utilization = 0;
  friend bool operator==(const RunMetrics&, const RunMetrics&) = default;
};

// Sums the metrics step by step.
class MetricsAccumulator {
 public:
  MetricsAccumulator(double capacity_per_replica, Duration step);
  // One step: `replicas` pods exist (cost), `ready` of them serve `demand`.
  void add(double demand, int32_t replicas, int32_t ready);
  // `scale_events` is counted by the caller. Leaves the accumulator usable.
  RunMetrics finish(int64_t scale_events, int32_t initial_replicas) const;

 private:
  double capacity_;
  double step_seconds_;
  double replica_seconds_ = 0;
  double under_seconds_ = 0;
  double demand_sum_ = 0;
  double unserved_sum_ = 0;
  int32_t max_replicas_ = 0;
  std::vector<double> utilization_;
};

// One row of a run's timeline: what the policy saw at `time` and what it decided.
struct StepRecord {
  TimePoint time{};
  double demand = 0;
  int32_t ready = 0;       // Ready pods the policy saw (before its decision).
  int32_t desired = 0;     // The decision made at this step.
  int32_t replicas = 0;    // Pods that exist after the decision (ready or starting).
  int32_t serving = 0;     // Ready pods after the decision: the capacity of the interval.
  double utilization = 0;  // demand / (ready x capacity) x 100 as the policy saw it; 0 when
                           // no pod was ready.
  std::string reason;      // The decision's reason.
};

struct RunResult {
  std::string name;  // The policy's metadata.name, or the baseline's name.
  bool baseline = false;
  RunMetrics metrics;
  std::vector<StepRecord> timeline;  // Empty unless asked for.
};

struct RunOptions {
  bool record_timeline = false;
  // Called every few thousand steps with the steps done so far; may be empty.
  std::function<void(int64_t)> progress;
};

// Replays `spec` (parsed from `manifest`, which the reconciler parses again, as the operator
// does) against the workload. `predictive` may be null. Errors: Internal when a reconcile
// fails (the in-memory world does not fail, so that is a bug), with the step's time.
Result<RunResult> runPolicy(const policies::PolicySpec& spec, const std::string& manifest,
                            const Trace& trace, const ReplayGrid& grid, const SimulationSpec& sim,
                            const RunOptions& options,
                            controller::ProposalSource* predictive = nullptr);

// N replicas, all ready from the start, never scaled.
RunResult runStatic(int32_t replicas, const ReplayGrid& grid, const WorkloadSpec& workload,
                    const RunOptions& options);

// The replica count per step of the oracle: the cheapest schedule that serves every step's
// demand, knowing the future and respecting start-up. With scale-down at once and
// newest-first removal, pods requested at step j serve from step j + k, k =
// ceil(startup / step). Let need[u] = ceil(demand[u] / capacity). At step i every pod that
// must serve at some u in [i, i + k] has been requested by u - k <= i and cannot have been
// removed yet, so any feasible schedule has at least max(need[i..i+k]) pods at step i; and
// asking for exactly that is feasible: the pods ready at step u are those that existed
// throughout [u - k, u], min(count[u-k..u]) >= need[u] since each window covers u. So the
// sliding maximum is optimal step by step, hence in replica-hours. The pods before the trace
// are assumed ready (the oracle chose them in advance).
std::vector<int32_t> oracleReplicas(const std::vector<double>& demand, double capacity,
                                    Duration startup, Duration step);

// Runs the oracle's schedule through the workload model.
RunResult runOracle(const ReplayGrid& grid, const WorkloadSpec& workload,
                    const RunOptions& options);

}  // namespace governor::simulator
