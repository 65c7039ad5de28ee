#pragma once

// The reconciler: one ScalingPolicy key in, the world converged towards its decision, and the
// time to look again out. Level-triggered and idempotent, as controller-runtime reconcilers
// are: every call starts from the key and re-reads the policy, the target's /scale and the
// metrics; writes /scale only when the decision differs from the target's count; writes the
// status only when it changed.
//
// One reconcile:
//   1. getPolicy; parse its manifest with policies::parsePolicy (cached per generation and
//      manifest). An invalid spec sets InvalidSpec=True (Ready=False, ScalingActive=False),
//      emits a Warning event when it becomes invalid, and returns InvalidArgument: terminal
//      until the generation changes.
//   2. otherManager: a target already managed by a HorizontalPodAutoscaler or by an older
//      ScalingPolicy is refused, not fought over: Ready, AbleToScale and ScalingActive False
//      with reason TargetManagedElsewhere, a Warning event when it starts; rechecked every
//      sync period. Nothing else is read or written.
//   3. getScale of spec.scaleTargetRef; listPods when a metric is per-pod or the Scale does not
//      carry a ready count; render the query templates with the target's selector
//      (metricQueryFor; cached until the selector changes) and fetch every metric as of
//      clock.now(). A template that cannot be rendered counts as a failed fetch. A failed fetch is
//      not an error of the reconcile: the engine sees the metrics as missing and holds the count
//      (bounds still apply: a schedule's floor is a promise), ScalingActive=False says why,
//      and a Warning event FailedGetMetrics is emitted.
//      status.metricFailures counts evaluations in a row without one readable metric
//      (Observation::metric_failures, for spec.fallback).
//   4. Observation::predictive from the ProposalSource, if any.
//   5. policies::decide with the BehaviorState restored from status, so a restarted
//      operator keeps its stabilization windows, rate-limit periods and cooldowns.
//   6. If the decision differs from the target's count: updateScale, then commitScale and a
//      Normal event SuccessfulRescale "New size: N; reason: <message>". In dry-run: no write,
//      no commit; a Normal event DryRunRescale "Would scale to N; ..." when the would-be count
//      changes; AbleToScale reason DryRun.
//      A scale-down while the Scale carries scale_down_hold (a Rollout mid-update) is not
//      applied, in dry-run either: ScalingLimited=True ScaleDownHeld names the update, and a
//      Normal event ScaleDownHeld is emitted when the hold begins (not every period).
//      desiredReplicas, reason and message stay the unheld decision's, and the stabilization
//      history keeps the unheld recommendation, as HPA's keeps recommendations whether or
//      not they were applied: once the update ends, the scale-down happens at the next
//      reconcile unless the window still remembers a higher recommendation. No scale event
//      is recorded for a held decision, so rate limits and cooldowns do not count it.
//   7. Status: observedGeneration, currentReplicas, desiredReplicas, lastScaleTime, reason and
//      message, proposals, limits, behavior state and the conditions
//        Ready           True: <decision reason>; False: InvalidSpec, FailedGetScale,
//                        FailedListPods, FailedUpdateScale, TargetManagedElsewhere
//        AbleToScale     True: SucceededRescale, ReadyForNewScale, DryRun;
//                        False: FailedGetScale, FailedUpdateScale, TargetManagedElsewhere
//        ScalingActive   True: ValidMetricFound, ScheduleOnly; False: FailedGetMetrics,
//                        ScalingDisabled, FailedListPods, InvalidSpec, FallbackReplicas,
//                        TargetManagedElsewhere (the engine's reason)
//        ScalingLimited  True: ScaleDownHeld, else the last limit's reason (ScaleUpLimit,
//                        TooManyReplicas, ...); False: DesiredWithinRange
//        InvalidSpec     True: InvalidSpec; False: SpecValid
//
// Returns, on success, when to reconcile the key again: min(sync period (the policy's
// syncPeriodSeconds, else the option), the decision's recheck_after), at least min_requeue. Errors
// tell the work queue what to do:
//   NotFound            the policy is gone: forget the key (the target gone: NotFound too,
//                       recorded in the status; the key is retried when the policy changes)
//   InvalidArgument     invalid spec: do not retry until the object changes
//   Conflict            a write raced another writer: re-read and retry at once
//   Unavailable, ...    the API server failed: back off and retry
// The status written before an error says the same, for people.
//
// Thread-safety: not thread-safe; a work queue hands a key to one worker at a time, and one
// Reconciler should serve one worker (its spec cache and status buffer are unsynchronized).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/clock.h"
#include "controller/ports.h"
#include "controller/proposal_source.h"
#include "policies/engine.h"
#include "policies/spec.h"

namespace governor::controller {

struct ReconcilerOptions {
  // The longest time between two evaluations of a policy. Default: 15s (HPA's sync period).
  Duration sync_period{15'000};
  // The shortest requeue returned, so a recheck time of 0 cannot spin. Default: 1s.
  Duration min_requeue{1'000};
  // Decide and record, but never write /scale. Default: false.
  bool dry_run = false;
  policies::EngineOptions engine;
};

// What the latest successful reconcile decided, for callers that replay (the simulator) or
// log. Also in the status, in API form.
struct ReconcileOutcome {
  policies::Decision decision;
  bool scaled = false;  // /scale was written.
  // Set when a scale-down was held because the target is mid-update: the condition message.
  std::optional<std::string> held;
};

class Reconciler {
 public:
  // The ports must outlive the Reconciler. `predictive` may be null: no predictive policy.
  Reconciler(Cluster& cluster, MetricsSource& metrics, const Clock& clock,
             ReconcilerOptions options = {}, ProposalSource* predictive = nullptr);

  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  // Reconciles the policy at `key` as of clock.now(). See the file comment.
  Result<Duration> reconcile(const ObjectKey& key);

  // The decision of the latest reconcile, if it reached the engine; nullptr otherwise. Valid
  // until the next reconcile.
  const ReconcileOutcome* lastOutcome() const { return has_outcome_ ? &outcome_ : nullptr; }

 private:
  struct ParsedPolicy {
    // The object it was parsed from, while it lives: the same live object has the same
    // manifest (see PolicyObject), so its next parse is a pointer comparison.
    std::weak_ptr<const PolicyObject> source;
    int64_t generation = 0;
    std::string manifest;
    Status error;  // OK when `spec` is set.
    std::optional<policies::PolicySpec> spec;
    // One query per metric, rendered for the target's selector `rendered_for` (nullopt: not
    // rendered yet); `render_error` is OK when every template rendered.
    std::vector<MetricQuery> queries;
    std::optional<std::string> rendered_for;
    Status render_error;
    bool needs_pods = false;  // Some metric is per-pod.
  };

  ParsedPolicy& parse(const std::shared_ptr<const PolicyObject>& policy);
  // Completes `conditions` (status.conditions) and writes `status` unless it equals the
  // snapshot's; releases the snapshot first, so that an adapter holding the only other
  // reference can update in place.
  Status writeStatus(std::shared_ptr<const PolicyObject>& policy, ConditionUpdate& conditions,
                     PolicyStatus&& status);
  void warn(const ObjectKey& key, std::string reason, std::string message, TimePoint now);

  Cluster& cluster_;
  MetricsSource& metrics_;
  const Clock& clock_;
  ReconcilerOptions options_;
  ProposalSource* predictive_;
  std::map<ObjectKey, ParsedPolicy> parsed_;
  ParsedPolicy* last_parsed_ = nullptr;  // The entry of parsed_ parse() returned last.
  // The latest reconcile's outcome. Its Decision is also what the next reconcile decides into:
  // policies::decide reuses the Decision's strings and vectors instead of allocating new ones.
  ReconcileOutcome outcome_;
  bool has_outcome_ = false;  // outcome_ is a completed reconcile's.
  // The status being computed. A member, not a local, so that its strings and vectors outlive
  // a reconcile: assigning the stored status into it then copies without allocating, and an
  // adapter that swaps on updatePolicyStatus hands the replaced status's buffers back. Its
  // contents mean nothing between reconciles.
  PolicyStatus status_;
};

// The query of `metric` for the policy `spec`, its template rendered with
// policies::renderQuery: {{namespace}} and {{name}} (the policy's), {{target}}
// (scaleTargetRef.name) and {{selector}} (`selector`, the target's /scale status.selector;
// empty: unknown, and a template that uses it fails).
// Errors: InvalidArgument "metric <name>: <why>" when the template cannot be rendered for
// these values (the parser has checked the template itself; a selector that PromQL matchers
// cannot express, for instance, is only known now).
Result<MetricQuery> metricQueryFor(const policies::PolicySpec& spec,
                                   const policies::MetricSpec& metric, const std::string& selector);

}  // namespace governor::controller
