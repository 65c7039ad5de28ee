#include "controller/operator_metrics.h"

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <CivetServer.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include "controller/health_server.h"

namespace governor::controller {

namespace {

// Reconciles take milliseconds (in-memory cache reads, one Prometheus query, maybe a write)
// to tens of seconds (timeouts): controller-runtime's range.
const prometheus::Histogram::BucketBoundaries kReconcileBuckets = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0};

const char* boolLabel(bool value) { return value ? "true" : "false"; }

// Observes one reconcile's duration under result="success" or "error"; an error also counts
// under reason=<status code>.
void observeOutcome(prometheus::Histogram& success, prometheus::Histogram& error,
                    prometheus::Family<prometheus::Counter>& errors,
                    std::chrono::duration<double> elapsed, const Status& result) {
  if (result.ok()) {
    success.Observe(elapsed.count());
    return;
  }
  error.Observe(elapsed.count());
  errors.Add({{"reason", std::string(statusCodeName(result.code()))}}).Increment();
}

}  // namespace

std::string_view scaleDirectionName(ScaleDirection direction) {
  switch (direction) {
    case ScaleDirection::kUp:
      return "up";
    case ScaleDirection::kDown:
      return "down";
    case ScaleDirection::kNone:
      return "none";
  }
  return "none";
}

OperatorMetrics::OperatorMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("governor_reconcile_duration_seconds")
                              .Help("Time one reconcile of a ScalingPolicy took, by result.")
                              .Register(*registry_)),
      reconcile_errors_(prometheus::BuildCounter()
                            .Name("governor_reconcile_errors_total")
                            .Help("Reconciles that ended in an error, by status code.")
                            .Register(*registry_)),
      scale_decisions_(prometheus::BuildCounter()
                           .Name("governor_scale_decisions_total")
                           .Help("Scaling decisions, by direction and whether in dry-run.")
                           .Register(*registry_)),
      workqueue_depth_(prometheus::BuildGauge()
                           .Name("governor_workqueue_depth")
                           .Help("Keys in the work queue ready for a worker.")
                           .Register(*registry_)),
      watch_restarts_(prometheus::BuildCounter()
                          .Name("governor_watch_restarts_total")
                          .Help("Watches restarted (expired, dropped or failed), by resource.")
                          .Register(*registry_)),
      leader_(prometheus::BuildGauge()
                  .Name("governor_leader")
                  .Help("1 while this replica holds the leader lease, 0 otherwise.")
                  .Register(*registry_)),
      policies_(prometheus::BuildGauge()
                    .Name("governor_policies")
                    .Help("ScalingPolicies known to the operator.")
                    .Register(*registry_)),
      rollout_reconcile_duration_(prometheus::BuildHistogram()
                                      .Name("governor_rollout_reconcile_duration_seconds")
                                      .Help("Time one reconcile of a Rollout took, by result.")
                                      .Register(*registry_)),
      rollout_reconcile_errors_(prometheus::BuildCounter()
                                    .Name("governor_rollout_reconcile_errors_total")
                                    .Help("Rollout reconciles that ended in an error, by status "
                                          "code.")
                                    .Register(*registry_)),
      rollout_phase_(prometheus::BuildGauge()
                         .Name("governor_rollout_phase")
                         .Help("1 for the phase a Rollout is in, 0 for the others.")
                         .Register(*registry_)),
      reconcile_success_(reconcile_duration_.Add({{"result", "success"}}, kReconcileBuckets)),
      reconcile_error_(reconcile_duration_.Add({{"result", "error"}}, kReconcileBuckets)),
      workqueue_depth_value_(workqueue_depth_.Add({})),
      leader_value_(leader_.Add({})),
      policies_value_(policies_.Add({})),
      rollout_reconcile_success_(
          rollout_reconcile_duration_.Add({{"result", "success"}}, kReconcileBuckets)),
      rollout_reconcile_error_(
          rollout_reconcile_duration_.Add({{"result", "error"}}, kReconcileBuckets)) {
  for (ScaleDirection d : {ScaleDirection::kUp, ScaleDirection::kDown, ScaleDirection::kNone}) {
    for (bool dry_run : {false, true}) {
      scale_decisions_.Add(
          {{"direction", std::string(scaleDirectionName(d))}, {"dry_run", boolLabel(dry_run)}});
    }
  }
}

Result<std::unique_ptr<OperatorMetrics>> OperatorMetrics::create(std::string_view address) {
  std::unique_ptr<OperatorMetrics> metrics(new OperatorMetrics());
  if (address.empty()) return metrics;

  Result<ListenAddress> parsed = parseListenAddress(address);
  if (!parsed.ok()) return parsed.status().withContext("metrics server");
  internal::initCivetweb();
  CivetCallbacks callbacks;
  callbacks.log_message = &internal::civetwebLogMessage;
  internal::StartErrorCapture errors;
  try {
    // The Exposer copies the callbacks; it throws when civetweb cannot start.
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(parsed->toString(), 2, &callbacks);
  } catch (const std::exception& e) {
    return unavailable("metrics server: cannot listen on " + parsed->toString() + ": " +
                       (errors.text().empty() ? std::string(e.what()) : errors.text()));
  }
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  const std::vector<int> ports = metrics->exposer_->GetListeningPorts();
  if (!ports.empty()) metrics->port_ = static_cast<uint16_t>(ports.front());
  return metrics;
}

OperatorMetrics::~OperatorMetrics() = default;

void OperatorMetrics::observeReconcile(std::chrono::duration<double> elapsed,
                                       const Status& result) {
  observeOutcome(reconcile_success_, reconcile_error_, reconcile_errors_, elapsed, result);
}

void OperatorMetrics::recordScaleDecision(ScaleDirection direction, bool dry_run) {
  scale_decisions_
      .Add({{"direction", std::string(scaleDirectionName(direction))},
            {"dry_run", boolLabel(dry_run)}})
      .Increment();
}

void OperatorMetrics::setWorkqueueDepth(size_t depth) {
  workqueue_depth_value_.Set(static_cast<double>(depth));
}

void OperatorMetrics::recordWatchRestart(std::string_view resource) {
  watch_restarts_.Add({{"resource", std::string(resource)}}).Increment();
}

void OperatorMetrics::setLeader(bool leader) { leader_value_.Set(leader ? 1.0 : 0.0); }

void OperatorMetrics::setPolicies(size_t count) { policies_value_.Set(static_cast<double>(count)); }

void OperatorMetrics::observeRolloutReconcile(std::chrono::duration<double> elapsed,
                                              const Status& result) {
  observeOutcome(rollout_reconcile_success_, rollout_reconcile_error_, rollout_reconcile_errors_,
                 elapsed, result);
}

static_assert(static_cast<size_t>(rollouts::RolloutPhase::kAborted) + 1 == 5,
              "governor_rollout_phase has a series per RolloutPhase, numbered from 0");

void OperatorMetrics::setRolloutPhase(const std::string& namespace_, const std::string& name,
                                      rollouts::RolloutPhase phase) {
  std::lock_guard lock(rollout_mu_);
  auto [it, added] = rollout_phases_.try_emplace({namespace_, name});
  if (added) {
    for (size_t i = 0; i < kRolloutPhases; ++i) {
      const auto p = static_cast<rollouts::RolloutPhase>(i);
      it->second[i] = &rollout_phase_.Add({{"namespace", namespace_},
                                           {"rollout", name},
                                           {"phase", std::string(rollouts::rolloutPhaseName(p))}});
    }
  }
  for (size_t i = 0; i < kRolloutPhases; ++i) {
    it->second[i]->Set(static_cast<size_t>(phase) == i ? 1.0 : 0.0);
  }
}

void OperatorMetrics::forgetRollout(const std::string& namespace_, const std::string& name) {
  std::lock_guard lock(rollout_mu_);
  auto it = rollout_phases_.find({namespace_, name});
  if (it == rollout_phases_.end()) return;
  for (prometheus::Gauge* gauge : it->second) rollout_phase_.Remove(gauge);
  rollout_phases_.erase(it);
}

std::string OperatorMetrics::text() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace governor::controller
