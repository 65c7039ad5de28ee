#pragma once

// The rollout controller's brain: from a Rollout's spec, its persisted status, what the API
// server shows of its ReplicaSets, and the AnalysisTemplates it names, what the world should
// look like now (each revision's ReplicaSet size, the Services' selectors, the HTTPRoute's
// weights), the status to persist, the Events to record, and when to look again. Pure: no
// I/O, no clock (time is an argument), so the operator and tests run the same code, and a
// restarted operator resumes from the status alone.
//
// The controller's loop (controller/rollout_controller.h):
//   1. read the Rollout, its ReplicaSets (owned by it), the AnalysisTemplates it names;
//   2. for each Running run in status.analysisRuns: the due metrics (dueMetrics) are queried
//      on Prometheus and recorded (recordMeasurement) into that run -- the I/O step;
//   3. plan = reconcileRollout(input);
//   4. apply plan.replica_sets (create / scale / delete), plan.services, plan.route; then
//      write plan.status (with the Rollout's resourceVersion: a Conflict re-reads and
//      starts over), record plan.events, requeue after plan.requeue_after.
// Step 4 is idempotent: applying a plan twice, or a plan computed from a status that was
// written before a crash, converges to the same world.
//
// The order of an update follows rollouts/timeline.h (the dry run is the specification):
// CANARY: each setWeight moves the split (rollouts/split.h) and waits until the pods of both
//   revisions are available before the next step; pause waits (its duration from
//   currentStepStartedAt, or for status.promote); an analysis step starts one run per
//   template and waits for their verdict; background analysis runs from its startingStep.
//   After the last step: the canary is brought to the stable's CURRENT size, traffic moves
//   to it (100%), it becomes the stable revision, and the old revision goes to 0 pods.
// BLUE-GREEN: the new revision comes up at previewReplicaCount behind previewService;
//   pre-promotion analysis; promotion (autoPromotionSeconds after the preview is ready, or
//   status.promote); the new revision is brought to the active's size; activeService
//   switches; post-promotion analysis (failure: switch back to previous_active); the old
//   revision goes to 0 pods at scale_down_at (scaleDownDelaySeconds after the end of the
//   post-promotion analysis).
// A failed analysis (or status.abort) ABORTS: traffic and pods back to the stable revision,
//   phase Aborted, a Warning Event and the message name the measurement that failed. An
//   inconclusive one pauses (phase Paused) until status.promote. spec.paused (RolloutSpec::paused)
//   holds the update where it is (phase Paused; analyses keep measuring).
// SCALING: spec.replicas is the total a ScalingPolicy sets through /scale; the split is
//   recomputed from it at the current weight every time, so scaling never undoes a step and
//   a step never undoes scaling.
// A new template while an update runs starts a new update from step 0 (the abandoned
// revision goes to 0 pods); a template equal to the stable one ends the update at once
// (rollback by re-applying the old template).
//
// Thread-safety: pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "rollouts/analysis_spec.h"
#include "rollouts/spec.h"
#include "rollouts/status.h"

namespace governor::rollouts {

// A ReplicaSet the Rollout owns (ownerReferences with the Rollout's uid), as observed.
struct ObservedReplicaSet {
  std::string name;
  std::string pod_template_hash;  // Its pod-template-hash label.
  int32_t spec_replicas = 0;
  int32_t replicas = 0;  // status.replicas: pods that exist.
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  // status.observedGeneration >= metadata.generation: the counts describe the current spec.
  bool observed = true;
  // metadata.creationTimestamp: old revisions beyond revisionHistoryLimit are deleted oldest
  // first (ties by name). Default: the epoch (then by name only).
  TimePoint created_at{};
  friend bool operator==(const ObservedReplicaSet&, const ObservedReplicaSet&) = default;
};

struct RolloutInput {
  RolloutSpec spec;
  int64_t generation = 0;  // metadata.generation.
  RolloutStatus status;    // As persisted (after step 2 of the loop recorded measurements).
  std::vector<ObservedReplicaSet> replica_sets;
  // Every AnalysisTemplate the spec names, by name, or the reason it cannot be used
  // (NotFound, or the parser's InvalidArgument): a run that needs a missing template is
  // Degraded with that reason, and nothing moves.
  std::map<std::string, Result<AnalysisTemplateSpec>> templates;
  TimePoint now{};
};

// What to do to one revision's ReplicaSet.
struct ReplicaSetAction {
  enum class Kind {
    kCreate,  // Create `name` with `replicas`, the spec's template labelled with the hash,
              // selector = spec.selector + the hash, owned by the Rollout (controller: true).
    kScale,   // Set spec.replicas of `name` to `replicas`.
    kDelete,  // An old revision beyond revisionHistoryLimit (already at 0 pods).
  };
  Kind kind = Kind::kScale;
  std::string name;
  std::string pod_template_hash;
  int32_t replicas = 0;
  friend bool operator==(const ReplicaSetAction&, const ReplicaSetAction&) = default;
};

// A Service whose selector gets `pod-template-hash: <hash>` added (the rest of its selector
// is kept). Only emitted for Services the spec names.
struct ServiceSelection {
  std::string service;
  std::string pod_template_hash;
  friend bool operator==(const ServiceSelection&, const ServiceSelection&) = default;
};

// The Gateway API HTTPRoute's backendRefs weights: the backendRef naming stable_service
// gets 100 - canary_weight, the one naming canary_service gets canary_weight, in every rule.
struct RouteWeights {
  std::string http_route;
  std::string namespace_;
  std::string stable_service;
  std::string canary_service;
  int32_t canary_weight = 0;  // [0, 100].
  friend bool operator==(const RouteWeights&, const RouteWeights&) = default;
};

struct RolloutEvent {
  std::string type;    // "Normal" or "Warning".
  std::string reason;  // "RolloutStepCompleted", "AnalysisFailed", "RolloutAborted",
                       // "RolloutPromoted", "RolloutPaused", "RolloutCompleted", ...
  std::string message;
  friend bool operator==(const RolloutEvent&, const RolloutEvent&) = default;
};

struct RolloutPlan {
  // Applied in this order: creates and scale-ups first, then Services and the route, then
  // scale-downs and deletes (so that traffic never points at a revision without pods).
  std::vector<ReplicaSetAction> replica_sets;
  std::vector<ServiceSelection> services;
  std::optional<RouteWeights> route;
  RolloutStatus status;  // To persist; equal to the input status when nothing changed.
  std::vector<RolloutEvent> events;
  // When to reconcile again at the latest (a pause ending, a measurement due, a scale-down
  // delay, the progress deadline); nullopt: only on a change of the Rollout or its
  // ReplicaSets.
  std::optional<Duration> requeue_after;
  friend bool operator==(const RolloutPlan&, const RolloutPlan&) = default;
};

// The ReplicaSet name of a revision: "<rollout name>-<hash>".
std::string replicaSetName(const RolloutSpec& spec, std::string_view pod_template_hash);

// The AnalysisRef (templates and args) that started `run`, found in `spec` by its kind and
// step; nullptr when the spec no longer has it (the run is then left as it is).
const AnalysisRef* analysisRefOf(const RolloutSpec& spec, const RolloutAnalysisRun& run);

// The plan for `input` (see the file comment). Never fails: a problem the controller can
// not act on (a missing AnalysisTemplate) is phase Degraded with a condition saying why.
RolloutPlan reconcileRollout(const RolloutInput& input);

}  // namespace governor::rollouts
