#pragma once

// A Rollout's status as Governor's pure code sees it: everything the rollout controller
// needs to resume an update exactly where it was (step, step start, pause, analysis runs
// with their exact counters, blue-green switch and scale-down times), plus what people and
// printer columns read (phase, message, weight, replica counts per revision, conditions).
//
// The status is the controller's ONLY memory: an operator restart or a fail-over to another
// replica reads it back (controller/rollout_status_json.h is its JSON codec, field names as
// in manifests/crd/governor.io_rollouts.yaml) and reconcileRollout() (rollouts/reconcile.h)
// goes on from it. Requests from people (`governor rollout promote|abort|retry`) are
// written into it too (`abort`, `promote`), by a merge patch of the status subresource; the
// controller's own status writes carry a resourceVersion, so neither side loses the other's.
//
// Thread-safety: value types.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "rollouts/analysis_run.h"

namespace governor::rollouts {

enum class RolloutPhase {
  kProgressing,  // An update is moving (or waiting for pods / a timed pause / an analysis).
  kPaused,       // Waiting for a person: pause {}, inconclusive analysis, manual promotion,
                 // or spec.paused.
  kHealthy,      // No update in progress; every pod of the stable revision available.
  kDegraded,     // The progress deadline passed, or the spec cannot be acted on.
  kAborted,      // An analysis failed (or a person aborted): traffic and pods are back on
                 // the stable revision until the template changes or a person retries.
};
// "Progressing", "Paused", "Healthy", "Degraded", "Aborted"; and back (nullopt otherwise).
std::string_view rolloutPhaseName(RolloutPhase phase);
std::optional<RolloutPhase> parseRolloutPhase(std::string_view name);

enum class RevisionRole {
  kStable,   // Canary: the revision serving before the update.
  kCanary,   // Canary: the revision being rolled out.
  kActive,   // Blue-green: the revision the active Service selects.
  kPreview,  // Blue-green: the new revision before promotion.
  kOld,      // A previous revision kept for history (0 pods) or for the scale-down delay.
};
std::string_view revisionRoleName(RevisionRole role);
std::optional<RevisionRole> parseRevisionRole(std::string_view name);

// status.revisions[]: one live revision's ReplicaSet and pods.
struct RevisionStatus {
  std::string pod_template_hash;
  RevisionRole role = RevisionRole::kStable;
  std::string replica_set;  // The ReplicaSet's name.
  int32_t replicas = 0;     // The ReplicaSet's spec.replicas as last set.
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  friend bool operator==(const RevisionStatus&, const RevisionStatus&) = default;
};

enum class AnalysisKind { kStep, kBackground, kPrePromotion, kPostPromotion };
// "Step", "Background", "PrePromotion", "PostPromotion"; and back.
std::string_view analysisKindName(AnalysisKind kind);
std::optional<AnalysisKind> parseAnalysisKind(std::string_view name);

// status.analysisRuns[]: the run of ONE AnalysisTemplate for one purpose. An AnalysisRef
// naming several templates has one entry per template; the reference passes when all pass
// and fails when any fails.
struct RolloutAnalysisRun {
  // Unique in the status: "<kind>-<step>-<template>" for steps ("step-2-error-rate"),
  // "<kind>-<template>" otherwise ("background-error-rate", "prepromotion-smoke").
  std::string name;
  AnalysisKind kind = AnalysisKind::kStep;
  std::optional<int32_t> step_index;  // The canary step (Step; Background: where it began).
  std::string template_name;          // status: `templates: [NAME]` and `template: NAME`.
  // The canary revision it judges: a run of another revision is history, never a verdict.
  std::string revision;
  AnalysisRun run;  // startedAt, phase, message, metrics (exact counters + measurements).
  std::optional<TimePoint> finished_at;  // When `run.phase` left Running.
  friend bool operator==(const RolloutAnalysisRun&, const RolloutAnalysisRun&) = default;
};

// metav1.Condition, as the ScalingPolicy's: type Progressing, Available, Paused, InvalidSpec.
struct RolloutCondition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown".
  std::string reason;  // CamelCase.
  std::string message;
  TimePoint last_transition_time{};  // Moves only when `status` changes.
  friend bool operator==(const RolloutCondition&, const RolloutCondition&) = default;
};

// What a person asked `governor rollout promote` for.
enum class PromoteRequest {
  kStep,  // Past the current wait: pause {}, a timed pause, an inconclusive analysis, a
          // blue-green manual promotion. Analyses that failed are not overridden.
  kFull,  // `--full`: skip the remaining steps and analyses; straight to 100% (still within
          // maxSurge / maxUnavailable and after the new revision is at the stable's size).
};
std::string_view promoteRequestName(PromoteRequest request);  // "Step" or "Full"; and back.
std::optional<PromoteRequest> parsePromoteRequest(std::string_view name);

struct RolloutStatus {
  int64_t observed_generation = 0;
  std::optional<RolloutPhase> phase;  // nullopt: never reconciled.
  std::string message;                // For people: "step 2/6: setWeight 20 (2 of 10 pods)".
  std::string strategy;               // "Canary" or "BlueGreen" (printer column).

  // Canary progress: the step in progress (== steps.size() when all are done), and when it
  // began (a timed pause ends relative to it).
  int32_t current_step_index = 0;
  std::optional<TimePoint> current_step_started_at;
  // Set while waiting for a person (pause {}, inconclusive analysis, blue-green manual
  // promotion, spec.paused); cleared when it goes on.
  std::optional<TimePoint> paused_at;
  // While the controller waits for pods: when that wait began or last made progress (a
  // ReplicaSet resized, more pods available, a step completed); the progress deadline counts
  // from here. nullopt when nothing waits for pods.
  std::optional<TimePoint> progressing_since;

  std::string stable_revision;  // pod-template-hash of the stable (blue-green: active) revision.
  std::string canary_revision;  // Of the revision being rolled out; == stable when none.
  int32_t canary_weight = 0;    // Percent of traffic on the canary now (rounded).
  int32_t collision_count = 0;

  // Blue-green: the hashes the Services select, when the switch happened, and when the old
  // revision goes to 0 pods (set at promotion, after post-promotion analysis).
  std::string active_selector;
  std::string preview_selector;
  std::optional<TimePoint> preview_ready_at;  // The preview first had all its pods available.
  std::optional<TimePoint> promoted_at;
  std::optional<TimePoint> scale_down_at;
  std::string previous_active;  // The revision a failed post-promotion analysis switches back to.

  // Counts over every revision (status.replicas is the /scale status), and the selector.
  int32_t replicas = 0;
  int32_t ready_replicas = 0;
  int32_t available_replicas = 0;
  int32_t updated_replicas = 0;  // Pods of the newest revision.
  std::string selector;          // spec.selector as a label-selector string, for /scale.

  std::vector<RevisionStatus> revisions;
  std::vector<RolloutAnalysisRun> analysis_runs;  // Of the current update only; bounded.
  std::vector<RolloutCondition> conditions;

  // Requests from people, cleared by the controller once acted on.
  // The update is aborted: set by `governor rollout abort` or by the controller when an
  // analysis fails; `governor rollout retry` clears it (the update restarts at step 0 with
  // fresh analyses); a new template revision clears it too.
  bool abort = false;
  std::optional<PromoteRequest> promote;  // `governor rollout promote [--full]`.

  friend bool operator==(const RolloutStatus&, const RolloutStatus&) = default;
};

}  // namespace governor::rollouts
