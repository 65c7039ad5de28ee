#pragma once

// The engine: one ScalingPolicy, one observation, one decision — the same function for the
// operator and the simulator, so a dry run shows exactly what production would do.
//
//   bounds    = spec min/max, overridden by the schedule windows active at `now`
//               (a window's `replicas` sets both; overlapping windows combine by max;
//               if a floor exceeds a ceiling, the floor wins: it is a promise of capacity)
//   proposal  = max(threshold, predictive)           when the policy has metrics
//             = bounds.min                             when it has none (schedule-only)
//             = current (held)                         when every metric is invalid
//   behavior  = stabilization, rate limits, cooldowns (behavior.h)
//   decision  = clamp(behavior result, bounds)         bounds act at once, as HPA's do
//
// As HPA does, a target scaled to zero while the floor is above zero is left alone
// (ScalingDisabled): scaling it to zero is how people switch autoscaling off by hand.
//
// Every decision carries its reasons: each policy's proposal, each limit that bound, and a
// winning reason/message, which become the CR's status and Events and the simulator's
// per-step explanation.
//
// Thread-safety: pure; `state` must not be shared across threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "policies/behavior.h"
#include "policies/observation.h"
#include "policies/spec.h"
#include "policies/threshold.h"

namespace governor::policies {

struct EngineOptions {
  PodTimings pod_timings;
};

struct Bounds {
  int32_t min = 0;
  int32_t max = 0;
  std::vector<std::string> windows;  // Names of the schedule windows in force.
};

struct Decision {
  int32_t replicas = 0;  // The desired count.
  int32_t current = 0;   // The count it was decided from.
  int32_t proposed = 0;  // The metric-driven proposal, before behavior and bounds.
  Bounds bounds;
  bool scaling_active = true;       // False when no metric could be read, or scaling is disabled.
  std::vector<Proposal> proposals;  // Threshold winner, predictive, schedule windows.
  std::vector<MetricRecommendation> metrics;  // Each metric's outcome, in spec order.
  std::vector<Limit> limits;                  // Each limit that changed the outcome, in order.
  std::string reason;                         // CamelCase: why `replicas` is what it is.
  std::string message;                        // For people.
  // Look again no later than this: a schedule window opens or closes, a cooldown or rate
  // period ends. nullopt: only the regular sync period applies.
  std::optional<Duration> recheck_after;

  bool scale() const { return replicas != current; }
};

// Decides the replica count. Updates `state` (the stabilization history). Does not record
// a scale event: call commitScale once the decision has been applied to the target.
Decision decide(const PolicySpec& spec, const Observation& obs, BehaviorState& state, TimePoint now,
                const EngineOptions& options = {});

// The same, into `out` (every field set, as the returned Decision would be). `out`'s strings
// and vectors keep their storage: a caller that decides into the same Decision every sync
// period (the Reconciler does) allocates next to nothing in the steady state.
void decide(const PolicySpec& spec, const Observation& obs, BehaviorState& state, TimePoint now,
            const EngineOptions& options, Decision& out);

// The bounds in force at `now`, and when they next change (in `next_change`).
Bounds boundsAt(const PolicySpec& spec, TimePoint now,
                std::optional<TimePoint>* next_change = nullptr);

// Records that `decision` was applied at `now` (a scale event for rate limits and cooldowns).
void commitScale(const PolicySpec& spec, const Decision& decision, BehaviorState& state,
                 TimePoint now);

}  // namespace governor::policies
