#pragma once

// PolicyStatus <-> the ScalingPolicy `status` JSON the API server stores (camelCase, as the
// CRD's status schema in manifests/crd declares it):
//
//   observedGeneration, currentReplicas, desiredReplicas, lastScaleTime, reason, message,
//   proposals[{policy, replicas, reason, message}], limits[{reason, message}],
//   conditions[{type, status, reason, message, lastTransitionTime, observedGeneration}],
//   metricFailures,
//   behavior{initialized, recommendations[{time, replicas}], scaleUpEvents[{time, change}],
//            scaleDownEvents[{time, change}], lastScaleUpTime, lastScaleDownTime}
//
// Times of conditions and lastScaleTime are metav1.Time (seconds, as Kubernetes writes them);
// the behavior state keeps milliseconds, so a restored stabilization window is the one that
// was persisted, to the millisecond.
//
// Thread-safety: pure functions.

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "controller/policy_status.h"

namespace governor::controller {

nlohmann::json statusToJson(const PolicyStatus& status);

// Decodes a stored status. Absent fields take their defaults (a never-reconciled policy has
// no status at all). InvalidArgument naming the field ("status.behavior.recommendations[2].time:
// ...") when a field has the wrong type or an unparseable time: someone edited the status by
// hand, and the caller decides what to keep (the operator starts a fresh behavior state and
// says so, rather than trusting garbage).
Result<PolicyStatus> statusFromJson(const nlohmann::json& json);

}  // namespace governor::controller
