#include "controller/reconciler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "policies/query_template.h"
#include "policies/spec_parser.h"

namespace governor::controller {
namespace {

constexpr const char* kTrue = "True";
constexpr const char* kFalse = "False";

// `a == b`, comparing first what changes on most reconciles (the stabilization history, the
// messages), so that a changed status is told apart quickly.
bool sameStatus(const PolicyStatus& a, const PolicyStatus& b) {
  return a.behavior.recommendations == b.behavior.recommendations &&
         a.desired_replicas == b.desired_replicas && a.message == b.message && a == b;
}

constexpr const char* kReasonTargetManaged = "TargetManagedElsewhere";
constexpr const char* kReasonScaleDownHeld = "ScaleDownHeld";

// Whether some sample holds a finite value: the metrics were read at all.
bool anyReadable(const std::map<std::string, policies::MetricSample>& samples) {
  for (const auto& [name, sample] : samples) {
    if (sample.value && std::isfinite(*sample.value)) return true;
    for (const auto& [pod, p] : sample.per_pod) {
      if (std::isfinite(p.value)) return true;
    }
  }
  return false;
}

// A reconcile's status starts from the stored one in parts, so that the path that decides
// copies only what it does not set itself (copying the whole status was a fifth of a
// simulated step): the state carried from one reconcile to the next (carryState) always, the
// latest decision's fields (keepDecision) on the paths that end without a decision, the
// conditions through a ConditionUpdate. observed_generation is set by every path.
void carryState(const PolicyStatus& from, PolicyStatus& to) {
  // Every field named: a field added to PolicyStatus is a compile error here until it is
  // given to one of the parts.
  auto& [generation, current, desired, last_scale, reason, message, proposals, limits, conditions,
         failures, predictive, behavior] = to;
  (void)generation, (void)current, (void)desired, (void)reason, (void)message;
  (void)proposals, (void)limits, (void)conditions;  // keepDecision; ConditionUpdate.
  last_scale = from.last_scale_time;
  failures = from.metric_failures;
  if (predictive != from.predictive) predictive = from.predictive;
  behavior = from.behavior;
}

void keepDecision(const PolicyStatus& from, PolicyStatus& to) {
  to.current_replicas = from.current_replicas;
  to.desired_replicas = from.desired_replicas;
  to.reason = from.reason;
  to.message = from.message;
  to.proposals = from.proposals;
  to.limits = from.limits;
}

std::string describe(const Status& status) {
  return std::string(statusCodeName(status.code())) + ": " + status.message();
}

}  // namespace

Result<MetricQuery> metricQueryFor(const policies::PolicySpec& spec,
                                   const policies::MetricSpec& metric,
                                   const std::string& selector) {
  policies::TemplateVars vars;
  vars.namespace_ = spec.namespace_;
  vars.name = spec.name;
  vars.target = spec.scale_target_ref.name;
  if (!selector.empty()) vars.selector = selector;
  auto rendered = policies::renderQuery(metric.prometheus.query, vars);
  if (!rendered.ok()) {
    return Status(StatusCode::kInvalidArgument,
                  "metric " + metric.name + ": " + rendered.status().message());
  }
  MetricQuery q;
  q.name = metric.name;
  q.query = std::move(rendered).value();
  q.per_pod = metric.prometheus.per_pod;
  q.address = metric.prometheus.address;
  q.target_type = metric.target.type;
  return q;
}

Reconciler::Reconciler(Cluster& cluster, MetricsSource& metrics, const Clock& clock,
                       ReconcilerOptions options, ProposalSource* predictive)
    : cluster_(cluster),
      metrics_(metrics),
      clock_(clock),
      options_(std::move(options)),
      predictive_(predictive) {}

Reconciler::ParsedPolicy& Reconciler::parse(const std::shared_ptr<const PolicyObject>& object) {
  // The object parsed last, still alive (so not another object at the same address): a
  // simulation reconciles one object, updated in place, at every step.
  if (last_parsed_ != nullptr && !last_parsed_->source.expired() &&
      !last_parsed_->source.owner_before(object) && !object.owner_before(last_parsed_->source)) {
    return *last_parsed_;
  }
  const PolicyObject& policy = *object;
  auto found = parsed_.find(policy.key);
  if (found != parsed_.end() && found->second.generation == policy.generation &&
      found->second.manifest == policy.manifest) {
    found->second.source = object;
    last_parsed_ = &found->second;
    return found->second;
  }
  ParsedPolicy parsed;
  parsed.generation = policy.generation;
  parsed.manifest = policy.manifest;
  auto spec = policies::parsePolicy(policy.manifest, "ScalingPolicy " + policy.key.toString());
  if (!spec.ok()) {
    parsed.error = spec.status();
  } else {
    parsed.spec = std::move(spec).value();
    for (const auto& metric : parsed.spec->metrics) {
      parsed.needs_pods = parsed.needs_pods || metric.prometheus.per_pod;
    }
  }
  parsed.source = object;
  auto& slot = parsed_[policy.key];
  slot = std::move(parsed);
  last_parsed_ = &slot;
  return slot;
}

Status Reconciler::writeStatus(std::shared_ptr<const PolicyObject>& policy,
                               ConditionUpdate& conditions, PolicyStatus&& status) {
  conditions.finish();
  if (sameStatus(status, policy->status)) return Status();
  const ObjectKey key = policy->key;
  const std::string version = policy->resource_version;
  policy.reset();
  return cluster_.updatePolicyStatus(key, version, std::move(status));
}

void Reconciler::warn(const ObjectKey& key, std::string reason, std::string message,
                      TimePoint now) {
  cluster_.recordEvent(key, Event{"Warning", std::move(reason), std::move(message), now});
}

Result<Duration> Reconciler::reconcile(const ObjectKey& key) {
  const TimePoint now = clock_.now();
  has_outcome_ = false;
  auto got = cluster_.getPolicy(key);
  if (!got.ok()) return got.status();
  std::shared_ptr<const PolicyObject> snapshot = std::move(got).value();
  const PolicyObject& policy = *snapshot;
  const int64_t gen = policy.generation;
  const PolicyStatus& stored = policy.status;
  PolicyStatus& status = status_;
  carryState(stored, status);
  status.observed_generation = gen;
  ConditionUpdate conditions(stored.conditions, status.conditions);

  // 1. The spec.
  ParsedPolicy& parsed = parse(snapshot);
  if (!parsed.spec) {
    keepDecision(stored, status);
    const Condition* before = conditions.before(kConditionInvalidSpec);
    const bool was_invalid = before != nullptr && before->status == kTrue;
    const std::string& message = parsed.error.message();
    conditions.set(kConditionReady, kFalse, "InvalidSpec", message, gen, now);
    conditions.set(kConditionScalingActive, kFalse, "InvalidSpec", "the spec is invalid", gen, now);
    conditions.set(kConditionInvalidSpec, kTrue, "InvalidSpec", message, gen, now);
    status.reason = "InvalidSpec";
    status.message = message;
    if (!was_invalid) warn(key, "InvalidSpec", message, now);
    Status written = writeStatus(snapshot, conditions, std::move(status));
    if (!written.ok()) return written;
    return parsed.error;
  }
  const policies::PolicySpec& spec = *parsed.spec;
  conditions.set(kConditionInvalidSpec, kFalse, "SpecValid", "the spec is valid", gen, now);

  // 2. Whether the target is ours to scale: never fight an HPA or another policy over it.
  auto other = cluster_.otherManager(key, spec.namespace_, spec.scale_target_ref);
  if (!other.ok()) return other.status();
  if (other->has_value()) {
    keepDecision(stored, status);
    const Condition* before = conditions.before(kConditionAbleToScale);
    const bool was_refused = before != nullptr && before->reason == kReasonTargetManaged;
    const std::string message = spec.scale_target_ref.kind + " " + spec.namespace_ + "/" +
                                spec.scale_target_ref.name + " is already managed by " + **other +
                                "; not scaling it (remove one of the two)";
    conditions.set(kConditionReady, kFalse, kReasonTargetManaged, message, gen, now);
    conditions.set(kConditionAbleToScale, kFalse, kReasonTargetManaged, message, gen, now);
    conditions.set(kConditionScalingActive, kFalse, kReasonTargetManaged, message, gen, now);
    status.reason = kReasonTargetManaged;
    status.message = message;
    if (!was_refused) warn(key, kReasonTargetManaged, message, now);
    Status written = writeStatus(snapshot, conditions, std::move(status));
    if (!written.ok()) return written;
    const Duration sync = spec.sync_period ? Duration(*spec.sync_period) : options_.sync_period;
    return std::max(sync, options_.min_requeue);
  }

  // 3. What the target looks like, and the metrics.
  auto scale = cluster_.getScale(spec.namespace_, spec.scale_target_ref);
  if (!scale.ok()) {
    keepDecision(stored, status);
    const std::string message = "cannot read the scale of " + spec.scale_target_ref.kind + " " +
                                spec.namespace_ + "/" + spec.scale_target_ref.name + ": " +
                                describe(scale.status());
    conditions.set(kConditionReady, kFalse, "FailedGetScale", message, gen, now);
    conditions.set(kConditionAbleToScale, kFalse, "FailedGetScale", message, gen, now);
    warn(key, "FailedGetScale", message, now);
    Status written = writeStatus(snapshot, conditions, std::move(status));
    if (!written.ok()) return written;
    return scale.status();
  }

  policies::Observation obs;
  obs.current_replicas = scale->spec_replicas;
  obs.status_replicas = scale->status_replicas;
  obs.ready_replicas = scale->ready_replicas;
  const bool needs_pods = parsed.needs_pods || (!scale->ready_replicas && !spec.metrics.empty());
  if (needs_pods) {
    auto pods = cluster_.listPods(spec.namespace_, scale->selector);
    if (!pods.ok()) {
      keepDecision(stored, status);
      const std::string message =
          "cannot list the pods of " + spec.scale_target_ref.name + ": " + describe(pods.status());
      conditions.set(kConditionReady, kFalse, "FailedListPods", message, gen, now);
      conditions.set(kConditionScalingActive, kFalse, "FailedListPods", message, gen, now);
      warn(key, "FailedListPods", message, now);
      Status written = writeStatus(snapshot, conditions, std::move(status));
      if (!written.ok()) return written;
      return pods.status();
    }
    obs.pods = std::move(pods).value();
  }

  std::optional<Status> fetch_error;
  if (!spec.metrics.empty() && (!parsed.rendered_for || *parsed.rendered_for != scale->selector)) {
    parsed.rendered_for = scale->selector;
    parsed.render_error = Status();
    parsed.queries.clear();
    for (const auto& metric : spec.metrics) {
      auto query = metricQueryFor(spec, metric, scale->selector);
      if (!query.ok()) {
        parsed.render_error = query.status();
        parsed.queries.clear();
        break;
      }
      parsed.queries.push_back(std::move(query).value());
    }
  }
  if (!parsed.render_error.ok()) {
    fetch_error = parsed.render_error;
  } else if (!parsed.queries.empty()) {
    auto snapshot = metrics_.fetch(parsed.queries, now);
    if (snapshot.ok()) {
      obs.metrics = std::move(snapshot->samples);
    } else {
      fetch_error = snapshot.status();
    }
  }

  // Consecutive evaluations without one readable metric, for spec.fallback.
  if (spec.metrics.empty() || (!fetch_error && anyReadable(obs.metrics))) {
    status.metric_failures = 0;
  } else {
    ++status.metric_failures;
  }
  obs.metric_failures = status.metric_failures;

  // 4. The predictive proposal.
  if (predictive_ != nullptr) {
    obs.predictive = predictive_->propose(key, spec, obs, parsed.queries, now);
    if (spec.predictive) {
      std::optional<PredictiveStatus> explained = predictive_->explain(key);
      if (explained != status.predictive) status.predictive = std::move(explained);
    } else {
      // Nothing to explain: propose() has forgotten the policy's predictive state.
      status.predictive.reset();
    }
  }

  // 5. Decide, from the persisted behavior state.
  policies::Decision& decision = outcome_.decision;
  policies::decide(spec, obs, status.behavior, now, options_.engine, decision);

  // 6. Apply. A scale-down of a target mid-update (a Rollout between revisions) is held: the
  // count stays, the decision and the stabilization history keep the unheld recommendation,
  // so the scale-down follows within one sync period of the update's end, as far as the
  // stabilization window already allows it.
  std::optional<std::string> hold;
  if (scale->scale_down_hold && decision.replicas < decision.current) {
    hold = "scale-down from " + std::to_string(decision.current) + " to " +
           std::to_string(decision.replicas) + " held: " + *scale->scale_down_hold +
           "; scale-ups go through";
    const Condition* before = conditions.before(kConditionScalingLimited);
    if (before == nullptr || before->reason != kReasonScaleDownHeld) {
      cluster_.recordEvent(key, Event{"Normal", kReasonScaleDownHeld, *hold, now});
    }
  }
  const bool apply = decision.scale() && !hold;
  bool scaled = false;
  const std::string new_size = decision.scale() ? std::to_string(decision.replicas) : "";
  if (apply && options_.dry_run) {
    if (stored.desired_replicas != decision.replicas || stored.reason != decision.reason) {
      cluster_.recordEvent(
          key, Event{"Normal", "DryRunRescale",
                     "Would scale to " + new_size + "; reason: " + decision.message, now});
    }
    conditions.set(
        kConditionAbleToScale, kTrue, "DryRun",
        "dry run: would scale from " + std::to_string(decision.current) + " to " + new_size, gen,
        now);
  } else if (apply) {
    Status updated = cluster_.updateScale(spec.namespace_, spec.scale_target_ref,
                                          scale->resource_version, decision.replicas);
    if (!updated.ok()) {
      keepDecision(stored, status);
      const std::string message = "New size: " + new_size + "; reason: " + decision.message +
                                  "; error: " + describe(updated);
      conditions.set(kConditionReady, kFalse, "FailedUpdateScale", message, gen, now);
      conditions.set(kConditionAbleToScale, kFalse, "FailedUpdateScale", message, gen, now);
      warn(key, "FailedRescale", message, now);
      // The behavior state keeps this evaluation's recommendation: it was made.
      Status written = writeStatus(snapshot, conditions, std::move(status));
      if (!written.ok()) return written;
      return updated;
    }
    policies::commitScale(spec, decision, status.behavior, now);
    scaled = true;
    status.last_scale_time = now;
    cluster_.recordEvent(key,
                         Event{"Normal", "SuccessfulRescale",
                               "New size: " + new_size + "; reason: " + decision.message, now});
    conditions.set(kConditionAbleToScale, kTrue, "SucceededRescale",
                   "the target was scaled to " + new_size, gen, now);
  } else {
    conditions.set(kConditionAbleToScale, kTrue, "ReadyForNewScale", "the target can be scaled",
                   gen, now);
  }

  // 7. Status.
  status.current_replicas = decision.current;
  status.desired_replicas = decision.replicas;
  if (status.reason != decision.reason) status.reason = decision.reason;
  if (status.message != decision.message) status.message = decision.message;
  status.proposals.resize(decision.proposals.size());
  for (size_t i = 0; i < decision.proposals.size(); ++i) {
    const policies::Proposal& p = decision.proposals[i];
    ProposalStatus& s = status.proposals[i];
    s.replicas = p.replicas;
    if (s.policy != p.policy) s.policy = p.policy;
    if (s.reason != p.reason) s.reason = p.reason;
    if (s.message != p.message) s.message = p.message;
  }
  status.limits = decision.limits;

  conditions.set(kConditionReady, kTrue, decision.reason, decision.message, gen, now);
  if (fetch_error) {
    const std::string message = "cannot fetch metrics: " + describe(*fetch_error);
    conditions.set(kConditionScalingActive, kFalse, "FailedGetMetrics", message, gen, now);
    warn(key, "FailedGetMetrics", message, now);
  } else if (!decision.scaling_active) {
    conditions.set(kConditionScalingActive, kFalse, decision.reason, decision.message, gen, now);
  } else if (spec.metrics.empty() && !obs.predictive) {
    conditions.set(kConditionScalingActive, kTrue, "ScheduleOnly",
                   "the policy has no metrics; the schedules set the count", gen, now);
  } else {
    conditions.set(kConditionScalingActive, kTrue, "ValidMetricFound",
                   "the replica count is computed from the metrics", gen, now);
  }
  if (hold) {
    conditions.set(kConditionScalingLimited, kTrue, kReasonScaleDownHeld, *hold, gen, now);
  } else if (decision.limits.empty()) {
    conditions.set(kConditionScalingLimited, kFalse, "DesiredWithinRange",
                   "the desired count is within the acceptable range", gen, now);
  } else {
    conditions.set(kConditionScalingLimited, kTrue, decision.limits.back().reason,
                   decision.limits.back().message, gen, now);
  }

  Status written = writeStatus(snapshot, conditions, std::move(status));

  Duration requeue = spec.sync_period ? Duration(*spec.sync_period) : options_.sync_period;
  if (decision.recheck_after) requeue = std::min(requeue, *decision.recheck_after);
  requeue = std::max(requeue, options_.min_requeue);
  outcome_.scaled = scaled;
  outcome_.held = std::move(hold);
  has_outcome_ = true;
  if (!written.ok()) return written;
  return requeue;
}

}  // namespace governor::controller
