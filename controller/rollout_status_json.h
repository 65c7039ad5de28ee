#pragma once

// rollouts::RolloutStatus <-> the Rollout `status` JSON the API server stores (camelCase, as
// the status schema of manifests/crd/governor.io_rollouts.yaml declares it):
//
//   observedGeneration, phase, message, strategy, currentStepIndex, currentStepStartedAt,
//   pausedAt, progressingSince, stableRevision, canaryRevision, canaryWeight, collisionCount,
//   activeSelector, previewSelector, previewReadyAt, promotedAt, scaleDownAt, previousActive,
//   replicas, readyReplicas, availableReplicas, updatedReplicas, selector,
//   revisions[{podTemplateHash, role, replicaSet, replicas, readyReplicas, availableReplicas}],
//   analysisRuns[{name, kind, stepIndex, template, templates, revision, phase, message,
//                 startedAt, finishedAt,
//                 metrics[{name, phase, message, measured, successful, failed, inconclusive,
//                          errors, consecutiveErrors,
//                          measurements[{number, measuredAt, phase, value, message}]}]}],
//   conditions[{type, status, reason, message, lastTransitionTime}],
//   abort, promote
//
// The status is the rollout controller's only memory (rollouts/status.h), so every time the
// controller computes with (step start, pause, progress deadline, blue-green switch and
// scale-down, analysis start and measurements) is written to the millisecond: a restarted
// operator ends a timed pause or takes the next measurement exactly when the old one would
// have. Conditions' lastTransitionTime is metav1.Time (seconds), as Kubernetes writes it.
// A measurement's value is text (rollouts::formatValue: "0.997", "NaN", "+Inf", "-Inf"):
// JSON numbers cannot hold NaN or infinities.
//
// Optional fields that are unset (phase, promote, the times, stepIndex, a measurement's
// value) are left out, so that the enums never hold "" (the schema would reject it).
// `template` and `templates: [template]` are both written: the schema and printer read the
// list, and the codec reads `template` (else the first of `templates`).
//
// Thread-safety: pure functions.

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "rollouts/status.h"

namespace governor::controller {

// The status object (the value of the Rollout's "status" key).
nlohmann::json renderRolloutStatus(const rollouts::RolloutStatus& status);

// Decodes a stored status. An absent (null) status is the default RolloutStatus (a Rollout
// the controller has not reconciled yet); absent fields take their defaults.
// InvalidArgument naming the field path when a field has the wrong type, an unknown enum
// value, an out-of-range integer, an unparseable time or value, or a required key of a list
// element is missing (as the schema requires them), e.g.
//   status.analysisRuns[2].metrics[0].measurements[1].measuredAt: not an RFC 3339 time: ...
// Someone edited the status by hand: the caller decides what to do (the CLI says so).
Result<rollouts::RolloutStatus> parseRolloutStatus(const nlohmann::json& status);

}  // namespace governor::controller
