#include "controller/rollout_controller.h"

#include <algorithm>
#include <set>
#include <utility>
#include <variant>

#include "rollouts/analysis_run.h"

namespace governor::controller {
namespace {

using rollouts::AnalysisPhase;
using rollouts::ReplicaSetAction;
using rollouts::RolloutPhase;
using rollouts::RolloutStatus;

const rollouts::RolloutCondition* findCondition(const RolloutStatus& status,
                                                std::string_view type) {
  for (const auto& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

Event eventAt(std::string type, std::string reason, std::string message, TimePoint now) {
  Event e;
  e.type = std::move(type);
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.time = now;
  return e;
}

}  // namespace

std::vector<std::string> analysisTemplateNames(const rollouts::RolloutSpec& spec) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  auto add = [&](const rollouts::AnalysisRef& ref) {
    for (const std::string& t : ref.templates) {
      if (seen.insert(t).second) names.push_back(t);
    }
  };
  if (const auto* canary = spec.canary()) {
    for (const auto& step : canary->steps) {
      if (const auto* a = std::get_if<rollouts::AnalysisStep>(&step)) add(a->analysis);
    }
    if (canary->analysis) add(canary->analysis->analysis);
  } else if (const auto* bg = spec.blueGreen()) {
    if (bg->pre_promotion_analysis) add(*bg->pre_promotion_analysis);
    if (bg->post_promotion_analysis) add(*bg->post_promotion_analysis);
  }
  return names;
}

void setRolloutCondition(std::vector<rollouts::RolloutCondition>& conditions, std::string_view type,
                         std::string_view status, std::string_view reason, std::string message,
                         TimePoint now) {
  auto it = std::find_if(conditions.begin(), conditions.end(),
                         [&](const auto& c) { return c.type == type; });
  if (it == conditions.end()) {
    conditions.push_back(
        {std::string(type), std::string(status), std::string(reason), std::move(message), now});
    return;
  }
  if (it->status != status) it->last_transition_time = now;
  it->status = std::string(status);
  it->reason = std::string(reason);
  it->message = std::move(message);
}

Result<std::vector<double>> MetricsSourceQuerier::query(const std::string& promql,
                                                        const std::optional<std::string>& address,
                                                        TimePoint at) {
  MetricQuery q;
  q.name = "analysis";
  q.query = promql;
  q.address = address;
  auto snapshot = source_.fetch({q}, at);
  if (!snapshot.ok()) return snapshot.status();
  auto it = snapshot->samples.find(q.name);
  if (it == snapshot->samples.end() || !it->second.value) return std::vector<double>{};
  return std::vector<double>{*it->second.value};
}

RolloutReconciler::RolloutReconciler(RolloutCluster& cluster, AnalysisQuerier& querier,
                                     RolloutReconcilerOptions options)
    : cluster_(cluster), querier_(querier), options_(options) {}

const Result<rollouts::RolloutSpec>& RolloutReconciler::parse(const RolloutObject& rollout) {
  ParsedRollout& slot = parsed_[rollout.key];
  if (!slot.spec || slot.generation != rollout.generation || slot.manifest != rollout.manifest) {
    slot.generation = rollout.generation;
    slot.manifest = rollout.manifest;
    slot.spec = rollouts::parseRollout(rollout.manifest, "Rollout " + rollout.key.toString());
  }
  return *slot.spec;
}

Status RolloutReconciler::reportInvalidSpec(const RolloutObject& rollout, const Status& error,
                                            TimePoint now) {
  const rollouts::RolloutCondition* before =
      findCondition(rollout.status, kRolloutConditionInvalidSpec);
  // Reported already for this generation: by us, before a restart, or by another worker.
  const bool reported = rollout.status.observed_generation == rollout.generation &&
                        before != nullptr && before->status == "True" &&
                        before->message == error.message();
  RolloutStatus status = rollout.status;
  status.observed_generation = rollout.generation;
  status.phase = RolloutPhase::kDegraded;
  status.message = "invalid spec: " + error.message();
  setRolloutCondition(status.conditions, kRolloutConditionInvalidSpec, "True",
                      kRolloutReasonInvalidSpec, error.message(), now);
  if (status != rollout.status) {
    if (Status written =
            cluster_.updateRolloutStatus(rollout.key, rollout.resource_version, status);
        !written.ok()) {
      return written;
    }
  }
  // After the write, so that a Conflict's retry does not report it twice.
  if (!reported) {
    cluster_.recordEvent(rollout.key, eventAt("Warning", std::string(kRolloutReasonInvalidSpec),
                                              error.message(), now));
  }
  last_phase_ = RolloutPhase::kDegraded;
  return error;
}

void RolloutReconciler::measure(rollouts::RolloutInput& input) {
  for (rollouts::RolloutAnalysisRun& run : input.status.analysis_runs) {
    if (run.run.phase != AnalysisPhase::kRunning) continue;
    auto found = input.templates.find(run.template_name);
    if (found == input.templates.end() || !found->second.ok()) continue;
    const rollouts::AnalysisTemplateSpec& spec = *found->second;
    // A run whose reference left the spec is left as it is (the brain decides its fate).
    const rollouts::AnalysisRef* ref = rollouts::analysisRefOf(input.spec, run);
    if (ref == nullptr) continue;
    std::map<std::string, std::string> supplied;
    for (const auto& arg : ref->args) supplied[arg.name] = arg.value;
    const auto args = rollouts::resolveArgs(spec, supplied);
    for (const std::string& name : rollouts::dueMetrics(spec, run.run, input.now)) {
      auto metric = std::find_if(spec.metrics.begin(), spec.metrics.end(),
                                 [&](const auto& m) { return m.name == name; });
      if (metric == spec.metrics.end()) continue;
      Result<double> value = [&]() -> Result<double> {
        if (!args.ok()) return args.status();
        auto promql = rollouts::renderMetricQuery(*metric, *args);
        if (!promql.ok()) return promql.status();
        auto samples = querier_.query(*promql, metric->prometheus.address, input.now);
        if (!samples.ok()) return samples.status();
        return rollouts::singleValue(*samples);
      }();
      // FailedPrecondition (the run stopped meanwhile) changes nothing: nothing to do.
      (void)rollouts::recordMeasurement(spec, run.run, name, input.now, value,
                                        options_.measurements_kept);
    }
    if (run.run.phase != AnalysisPhase::kRunning && !run.finished_at) run.finished_at = input.now;
  }
}

Status RolloutReconciler::apply(const RolloutObject& rollout, const rollouts::RolloutInput& input,
                                const rollouts::RolloutPlan& plan) {
  const std::string& ns = rollout.key.namespace_;
  std::map<std::string, int32_t> current;
  for (const auto& rs : input.replica_sets) current[rs.name] = rs.spec_replicas;
  auto growing = [&](const ReplicaSetAction& a) {
    if (a.kind == ReplicaSetAction::Kind::kCreate) return true;
    if (a.kind != ReplicaSetAction::Kind::kScale) return false;
    auto it = current.find(a.name);
    return it == current.end() || a.replicas > it->second;
  };
  // 1. Creates and scale-ups: the pods exist before traffic moves to them.
  for (const ReplicaSetAction& a : plan.replica_sets) {
    if (!growing(a)) continue;
    Status s = a.kind == ReplicaSetAction::Kind::kCreate
                   ? cluster_.createReplicaSet(rollout, input.spec, a)
                   : cluster_.scaleReplicaSet(ns, a.name, a.replicas);
    if (!s.ok()) return s.withContext("ReplicaSet " + ns + "/" + a.name);
  }
  // 2. Traffic.
  for (const rollouts::ServiceSelection& sel : plan.services) {
    Status s = cluster_.selectRevision(ns, sel.service, sel.pod_template_hash);
    if (s.code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound,
                    "Service " + ns + "/" + sel.service + " not found (named by spec.strategy)");
    }
    if (!s.ok()) return s.withContext("Service " + ns + "/" + sel.service);
  }
  if (plan.route) {
    const std::string name = plan.route->namespace_ + "/" + plan.route->http_route;
    Status s = cluster_.setRouteWeights(*plan.route);
    if (s.code() == StatusCode::kNotFound) {
      return Status(StatusCode::kNotFound,
                    "HTTPRoute " + name +
                        " not found (spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute)");
    }
    if (!s.ok()) return s.withContext("HTTPRoute " + name);
  }
  // 3. Scale-downs and deletes, once traffic has left them.
  for (const ReplicaSetAction& a : plan.replica_sets) {
    if (growing(a)) continue;
    Status s;
    if (a.kind == ReplicaSetAction::Kind::kDelete) {
      s = cluster_.deleteReplicaSet(ns, a.name);
    } else if (current.at(a.name) != a.replicas) {
      s = cluster_.scaleReplicaSet(ns, a.name, a.replicas);
    }
    if (!s.ok()) return s.withContext("ReplicaSet " + ns + "/" + a.name);
  }
  return Status();
}

Status RolloutReconciler::reportApplyFailure(const RolloutObject& rollout, const Status& error,
                                             TimePoint now) {
  // Only phase and message change: the progress in status stays where the world is, and the
  // next reconcile plans from it again.
  RolloutStatus status = rollout.status;
  status.phase = RolloutPhase::kDegraded;
  status.message = error.message();
  if (status != rollout.status) {
    if (Status written =
            cluster_.updateRolloutStatus(rollout.key, rollout.resource_version, status);
        !written.ok()) {
      return written;
    }
    cluster_.recordEvent(rollout.key, eventAt("Warning", std::string(kRolloutReasonFailedApply),
                                              error.message(), now));
  }
  return error;
}

Result<Duration> RolloutReconciler::reconcile(const ObjectKey& key, TimePoint now) {
  last_phase_.reset();
  auto object = cluster_.getRollout(key);
  if (!object.ok()) {
    if (object.status().code() == StatusCode::kNotFound) parsed_.erase(key);
    return object.status();
  }
  const RolloutObject& rollout = **object;
  const Result<rollouts::RolloutSpec>& spec = parse(rollout);
  if (!spec.ok()) return reportInvalidSpec(rollout, spec.status(), now);

  rollouts::RolloutInput input;
  input.spec = *spec;
  input.generation = rollout.generation;
  input.status = rollout.status;
  input.now = now;
  auto replica_sets = cluster_.listReplicaSets(rollout);
  if (!replica_sets.ok()) return replica_sets.status();
  input.replica_sets = std::move(replica_sets).value();
  for (const std::string& name : analysisTemplateNames(input.spec)) {
    auto parsed = cluster_.getAnalysisTemplate(key.namespace_, name);
    if (!parsed.ok() && parsed.status().code() != StatusCode::kNotFound &&
        parsed.status().code() != StatusCode::kInvalidArgument) {
      return parsed.status().withContext("AnalysisTemplate " + key.namespace_ + "/" + name);
    }
    input.templates.emplace(name, std::move(parsed));
  }
  measure(input);

  rollouts::RolloutPlan plan = rollouts::reconcileRollout(input);
  if (Status applied = apply(rollout, input, plan); !applied.ok()) {
    // NotFound here is a missing Service, route or ReplicaSet, not the Rollout: the key must
    // stay in the queue (requeueDecisionFor forgets NotFound keys).
    if (applied.code() == StatusCode::kNotFound) applied = failedPrecondition(applied.message());
    return reportApplyFailure(rollout, applied, now);
  }
  // The spec parses now: a stale InvalidSpec=True of the parser from an earlier generation is
  // cleared. The brain's own InvalidSpec (a missing AnalysisTemplate) is the brain's to clear.
  if (const auto* c = findCondition(plan.status, kRolloutConditionInvalidSpec);
      c != nullptr && c->status == "True" && c->reason == kRolloutReasonInvalidSpec) {
    setRolloutCondition(plan.status.conditions, kRolloutConditionInvalidSpec, "False", "SpecValid",
                        "", now);
  }
  if (plan.status != rollout.status) {
    if (Status written = cluster_.updateRolloutStatus(key, rollout.resource_version, plan.status);
        !written.ok()) {
      return written;
    }
  }
  for (rollouts::RolloutEvent& e : plan.events) {
    cluster_.recordEvent(
        key, eventAt(std::move(e.type), std::move(e.reason), std::move(e.message), now));
  }
  last_phase_ = plan.status.phase;
  Duration after = plan.requeue_after.value_or(options_.resync_period);
  return std::clamp(after, options_.min_requeue,
                    std::max(options_.min_requeue, options_.resync_period));
}

}  // namespace governor::controller
