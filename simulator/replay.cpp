#include "simulator/replay.h"

#include <algorithm>
#include <cmath>
#include <deque>

#include "controller/reconciler.h"
#include "simulator/in_memory_cluster.h"
#include "simulator/manual_clock.h"
#include "simulator/trace_source.h"

namespace governor::simulator {
namespace {

// Decimal demand over binary capacity: 100.0 / 0.1 must need 1000 pods, not 1001.
constexpr double kSlack = 1e-9;

int32_t replicasNeeded(double demand, double capacity) {
  if (demand <= 0 || capacity <= 0) return 0;
  const double x = demand / capacity;
  const double nearest = std::round(x);
  const double r = std::fabs(x - nearest) <= kSlack * std::max(1.0, x) ? nearest : std::ceil(x);
  return r >= 2147483647.0 ? INT32_MAX : static_cast<int32_t>(r);
}

bool underProvisioned(double demand, double capacity) {
  return demand > capacity + kSlack * std::max(1.0, demand);
}

constexpr int64_t kProgressEvery = 4096;

}  // namespace

ReplayGrid makeGrid(const Trace& trace, Duration step, Interpolation mode) {
  ReplayGrid grid;
  grid.start = trace.start();
  grid.step = step;
  const int64_t n = (trace.end() - trace.start()) / step + 1;
  grid.demand.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) grid.demand.push_back(trace.valueAt(grid.at(i), mode));
  return grid;
}

MetricsAccumulator::MetricsAccumulator(double capacity_per_replica, Duration step)
    : capacity_(capacity_per_replica), step_seconds_(toSeconds(step)) {}

void MetricsAccumulator::add(double demand, int32_t replicas, int32_t ready) {
  const double capacity = static_cast<double>(ready) * capacity_;
  replica_seconds_ += static_cast<double>(replicas) * step_seconds_;
  max_replicas_ = std::max(max_replicas_, replicas);
  demand_sum_ += demand;
  if (underProvisioned(demand, capacity)) {
    under_seconds_ += step_seconds_;
    unserved_sum_ += demand - capacity;
  }
  if (ready > 0 && capacity > 0) {
    utilization_.push_back(std::min(demand, capacity) / capacity * 100.0);
  }
}

RunMetrics MetricsAccumulator::finish(int64_t scale_events, int32_t initial_replicas) const {
  RunMetrics m;
  m.replica_hours = replica_seconds_ / 3600.0;
  m.under_provisioned_seconds = under_seconds_;
  m.unserved_fraction = demand_sum_ > 0 ? unserved_sum_ / demand_sum_ : 0.0;
  m.scale_events = scale_events;
  m.max_replicas = std::max(max_replicas_, initial_replicas);
  if (!utilization_.empty()) {
    double sum = 0;
    for (double u : utilization_) sum += u;
    m.mean_utilization = sum / static_cast<double>(utilization_.size());
    std::vector<double> sorted = utilization_;
    // Nearest rank: the smallest value with at least 95% of the values at or below it.
    const auto rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(sorted.size())));
    auto nth = sorted.begin() + static_cast<std::ptrdiff_t>(std::max<size_t>(rank, 1) - 1);
    std::nth_element(sorted.begin(), nth, sorted.end());
    m.p95_utilization = *nth;
  }
  return m;
}

Result<RunResult> runPolicy(const policies::PolicySpec& spec, const std::string& manifest,
                            const Trace& trace, const ReplayGrid& grid, const SimulationSpec& sim,
                            const RunOptions& options, controller::ProposalSource* predictive) {
  const std::string& ns = spec.namespace_;
  const policies::ScaleTargetRef& ref = spec.scale_target_ref;
  const controller::ObjectKey key{ns, spec.name};

  ManualClock clock(grid.start);
  InMemoryCluster cluster(clock);
  cluster.addTarget(ns, ref.kind, ref.name, sim.workload.initial_replicas, sim.workload.startup);
  cluster.applyPolicy(key, manifest);
  const InMemoryCluster::TargetHandle target = cluster.findHandle(ns, ref.kind, ref.name);
  TraceMetricsSource source(trace, sim.trace.interpolation, cluster, ns, ref,
                            sim.workload.capacity_per_replica, grid.step);
  controller::ReconcilerOptions reconciler_options;
  reconciler_options.sync_period = grid.step;
  controller::Reconciler reconciler(cluster, source, clock, reconciler_options, predictive);

  RunResult run;
  run.name = spec.name;
  MetricsAccumulator acc(sim.workload.capacity_per_replica, grid.step);
  if (options.record_timeline) run.timeline.reserve(static_cast<size_t>(grid.steps()));
  for (int64_t i = 0; i < grid.steps(); ++i) {
    const TimePoint t = grid.at(i);
    clock.set(t);
    const double demand = grid.demand[static_cast<size_t>(i)];
    const int32_t ready_before = cluster.readyPods(target);
    auto requeue = reconciler.reconcile(key);
    if (!requeue.ok() || !reconciler.lastOutcome()) {
      return internalError("policy " + spec.name + " at " + std::to_string(toUnixSeconds(t)) +
                           ": reconcile failed: " + requeue.status().toString());
    }
    const policies::Decision& decision = reconciler.lastOutcome()->decision;
    const int32_t replicas = cluster.existingPods(target);
    const int32_t serving = cluster.readyPods(target);
    acc.add(demand, replicas, serving);
    if (options.record_timeline) {
      const double capacity = static_cast<double>(ready_before) * sim.workload.capacity_per_replica;
      run.timeline.push_back(StepRecord{t, demand, ready_before, decision.replicas, replicas,
                                        serving, capacity > 0 ? demand / capacity * 100.0 : 0.0,
                                        decision.reason});
    }
    if (options.progress && (i + 1) % kProgressEvery == 0) options.progress(i + 1);
  }
  if (options.progress) options.progress(grid.steps());
  run.metrics = acc.finish(cluster.scaleWrites(), sim.workload.initial_replicas);
  return run;
}

RunResult runStatic(int32_t replicas, const ReplayGrid& grid, const WorkloadSpec& workload,
                    const RunOptions& options) {
  RunResult run;
  run.name = Baseline{Baseline::Kind::kStatic, replicas}.name();
  run.baseline = true;
  MetricsAccumulator acc(workload.capacity_per_replica, grid.step);
  const double capacity = static_cast<double>(replicas) * workload.capacity_per_replica;
  for (int64_t i = 0; i < grid.steps(); ++i) {
    const double demand = grid.demand[static_cast<size_t>(i)];
    acc.add(demand, replicas, replicas);
    if (options.record_timeline) {
      run.timeline.push_back(StepRecord{grid.at(i), demand, replicas, replicas, replicas, replicas,
                                        capacity > 0 ? demand / capacity * 100.0 : 0.0, "Static"});
    }
  }
  if (options.progress) options.progress(grid.steps());
  run.metrics = acc.finish(0, replicas);
  return run;
}

std::vector<int32_t> oracleReplicas(const std::vector<double>& demand, double capacity,
                                    Duration startup, Duration step) {
  const size_t n = demand.size();
  std::vector<int32_t> need(n);
  for (size_t i = 0; i < n; ++i) need[i] = replicasNeeded(demand[i], capacity);
  const auto k = static_cast<size_t>((startup.count() + step.count() - 1) / step.count());
  // Sliding maximum of need[i..i+k], right to left, with a deque of candidate indices.
  std::vector<int32_t> out(n);
  std::deque<size_t> window;  // Indices with decreasing need, front the largest.
  for (size_t j = n; j-- > 0;) {
    while (!window.empty() && need[window.back()] <= need[j]) window.pop_back();
    window.push_back(j);
    while (window.front() > j + k) window.pop_front();
    out[j] = need[window.front()];
  }
  return out;
}

RunResult runOracle(const ReplayGrid& grid, const WorkloadSpec& workload,
                    const RunOptions& options) {
  const std::vector<int32_t> plan =
      oracleReplicas(grid.demand, workload.capacity_per_replica, workload.startup, grid.step);
  RunResult run;
  run.name = "oracle";
  run.baseline = true;
  if (plan.empty()) return run;
  ManualClock clock(grid.start);
  InMemoryCluster cluster(clock);
  const std::string ns = "simulation";
  const policies::ScaleTargetRef ref{"apps/v1", "Deployment", "oracle"};
  cluster.addTarget(ns, ref.kind, ref.name, plan.front(), workload.startup);
  const InMemoryCluster::TargetHandle target = cluster.findHandle(ns, ref.kind, ref.name);
  MetricsAccumulator acc(workload.capacity_per_replica, grid.step);
  for (int64_t i = 0; i < grid.steps(); ++i) {
    const TimePoint t = grid.at(i);
    clock.set(t);
    const int32_t ready_before = cluster.readyPods(target);
    const int32_t want = plan[static_cast<size_t>(i)];
    auto scale = cluster.getScale(ns, ref);
    if (scale.ok() && scale->spec_replicas != want) {
      (void)cluster.updateScale(ns, ref, scale->resource_version, want);
    }
    const double demand = grid.demand[static_cast<size_t>(i)];
    const int32_t replicas = cluster.existingPods(target);
    const int32_t serving = cluster.readyPods(target);
    acc.add(demand, replicas, serving);
    if (options.record_timeline) {
      const double capacity = static_cast<double>(ready_before) * workload.capacity_per_replica;
      run.timeline.push_back(StepRecord{t, demand, ready_before, want, replicas, serving,
                                        capacity > 0 ? demand / capacity * 100.0 : 0.0, "Oracle"});
    }
    if (options.progress && (i + 1) % kProgressEvery == 0) options.progress(i + 1);
  }
  if (options.progress) options.progress(grid.steps());
  run.metrics = acc.finish(cluster.scaleWrites(), plan.front());
  return run;
}

}  // namespace governor::simulator
