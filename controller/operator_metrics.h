#pragma once

// The operator's own Prometheus metrics, served on `--metrics-addr` at /metrics:
//
//   governor_reconcile_duration_seconds{result}  histogram  result: success | error
//   governor_reconcile_errors_total{reason}      counter    reason: the Status code name
//                                                           (Unavailable, Conflict, NotFound...)
//   governor_scale_decisions_total{direction,dry_run}  counter  direction: up | down | none;
//                                                           dry_run: true | false
//   governor_workqueue_depth                     gauge      keys ready for a worker
//   governor_watch_restarts_total{resource}      counter    e.g. scalingpolicies
//   governor_leader                              gauge      1 while this replica leads
//   governor_policies                            gauge      ScalingPolicies known
//   governor_rollout_reconcile_duration_seconds{result}  histogram  as for policies
//   governor_rollout_reconcile_errors_total{reason}      counter    as for policies
//   governor_rollout_phase{namespace,rollout,phase}      gauge      1 for the phase the last
//                                                           reconcile wrote or kept, 0 for the
//                                                           other four (Progressing, Paused,
//                                                           Healthy, Degraded, Aborted), as
//                                                           Argo Rollouts' rollout_info; the
//                                                           series go when the Rollout does
//
// NotFound counts as an error (a deleted policy ends its last reconcile with it); alerts on
// errors should exclude reason="NotFound". Series with a fixed label set (result, direction x
// dry_run) exist from the start at zero, so rate() sees their first increment.
//
// Thread-safety: every method is thread-safe (prometheus-cpp's metrics are).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "base/status.h"
#include "rollouts/status.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace governor::controller {

enum class ScaleDirection { kUp, kDown, kNone };

// "up", "down", "none": the label value.
std::string_view scaleDirectionName(ScaleDirection direction);

class OperatorMetrics {
 public:
  // Registers the metrics and serves them on `address` (see parseListenAddress in
  // controller/health_server.h: "127.0.0.1:8080", ":8080"; port 0 picks a free one). An
  // empty address serves nothing: metrics are still recorded and text() renders them.
  // Returns InvalidArgument for a bad address, Unavailable when it cannot listen there (the
  // message carries the reason, e.g. "cannot bind to 127.0.0.1:8080: 98 (Address already in
  // use)").
  static Result<std::unique_ptr<OperatorMetrics>> create(std::string_view address);
  // Stops serving.
  ~OperatorMetrics();

  OperatorMetrics(const OperatorMetrics&) = delete;
  OperatorMetrics& operator=(const OperatorMetrics&) = delete;

  // The port /metrics is served on (the actual one for port 0); 0 when not serving.
  uint16_t port() const { return port_; }

  // One reconcile took `elapsed` and ended with `result`: observes the duration with
  // result="success" or "error", and for an error counts reason=<code name>.
  void observeReconcile(std::chrono::duration<double> elapsed, const Status& result);
  // The reconciler decided to scale `direction` (kNone: the count stays).
  void recordScaleDecision(ScaleDirection direction, bool dry_run);
  void setWorkqueueDepth(size_t depth);
  // A watch of `resource` (e.g. "scalingpolicies") had to be restarted.
  void recordWatchRestart(std::string_view resource);
  void setLeader(bool leader);
  void setPolicies(size_t count);

  // One reconcile of a Rollout took `elapsed` and ended with `result` (as observeReconcile).
  void observeRolloutReconcile(std::chrono::duration<double> elapsed, const Status& result);
  // The Rollout namespace_/name is in `phase`.
  void setRolloutPhase(const std::string& namespace_, const std::string& name,
                       rollouts::RolloutPhase phase);
  // Removes the Rollout's phase series (it was deleted); nothing if it has none.
  void forgetRollout(const std::string& namespace_, const std::string& name);

  // The exposition text of these metrics, as /metrics serves them (the Exposer adds its
  // own exposer_* metrics there).
  std::string text() const;

  // For more families (client metrics of the Kubernetes or Prometheus adapters).
  prometheus::Registry& registry() { return *registry_; }

 private:
  OperatorMetrics();

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Counter>& reconcile_errors_;
  prometheus::Family<prometheus::Counter>& scale_decisions_;
  prometheus::Family<prometheus::Gauge>& workqueue_depth_;
  prometheus::Family<prometheus::Counter>& watch_restarts_;
  prometheus::Family<prometheus::Gauge>& leader_;
  prometheus::Family<prometheus::Gauge>& policies_;
  prometheus::Family<prometheus::Histogram>& rollout_reconcile_duration_;
  prometheus::Family<prometheus::Counter>& rollout_reconcile_errors_;
  prometheus::Family<prometheus::Gauge>& rollout_phase_;
  prometheus::Histogram& reconcile_success_;
  prometheus::Histogram& reconcile_error_;
  prometheus::Gauge& workqueue_depth_value_;
  prometheus::Gauge& leader_value_;
  prometheus::Gauge& policies_value_;
  prometheus::Histogram& rollout_reconcile_success_;
  prometheus::Histogram& rollout_reconcile_error_;
  static constexpr size_t kRolloutPhases = 5;
  std::mutex rollout_mu_;
  // Per Rollout (namespace, name): its phase gauges, in RolloutPhase order. Guarded by
  // rollout_mu_.
  std::map<std::pair<std::string, std::string>, std::array<prometheus::Gauge*, kRolloutPhases>>
      rollout_phases_;
  // Declared after the registry: destroyed first, so no scrape sees a dying registry.
  std::unique_ptr<prometheus::Exposer> exposer_;
  uint16_t port_ = 0;
};

}  // namespace governor::controller
