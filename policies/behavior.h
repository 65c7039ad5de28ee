#pragma once

// Behavior: what happens between a metric-driven proposal and the replica count, as HPA v2's
// `behavior` defines it (pkg/controller/podautoscaler/horizontal.go), plus Governor's
// per-direction cooldowns.
//
// 1. Stabilization: the proposal is recorded; the result is held between the lowest
//    proposal of the scale-up window and the highest of the scale-down window
//    (HPA's stabilizeRecommendationWithBehaviors). A recommendation recorded at `t` is in a
//    window W while t > now - W (strictly), so a window of 0 sees nothing. On the first
//    evaluation the history is seeded with the current count at `now`, so a fresh start
//    never scales down at once when scaleDown's window is > 0 (and, as in HPA, never scales
//    up at once when scaleUp's window is > 0) (HPA's recordInitialRecommendation).
// 2. Rate limits: `policies` of type Pods / Percent over `periodSeconds`, measured from the
//    replica count at the start of each period, current - added + removed, counting the
//    scale events recorded at t > now - period (HPA's getReplicasChangePerPeriod,
//    calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors):
//      Pods     up: start + value            down: start - value
//      Percent  up: ceil(start * (1 + value/100))   down: trunc(start * (1 - value/100))
//    in double arithmetic, as HPA computes them (so 10% of 100 allows 111: HPA's rounding).
//    selectPolicy Max takes the policy allowing the largest change, Min the smallest;
//    Disabled allows none. A limit that would move the count the other way holds it at the
//    current count. With no policies (the parser never produces this) Max allows no change
//    and Min any, as in HPA.
// 3. Cooldown (Governor): a scale-up (scale-down) that survives 1 and 2 is held at the
//    current count until `cooldown` has passed since the last recorded scale-up (scale-down).
// Replica bounds (min/max, schedules) are not applied here: the engine clamps afterwards, at
// once, and reports TooManyReplicas / TooFewReplicas itself.
//
// All state lives in BehaviorState, passed in and returned, so the operator can persist it
// across restarts and the simulator can replay it. Nothing here reads a clock. History that
// no window or period of `behavior` can see again is dropped on every call (entries at
// t <= now - longest window or period), which never changes a result as long as `now` does
// not go backwards and the windows and periods do not grow; with a 15 s sync and a 300 s
// window the history holds about 20 recommendations.
//
// Differences from HPA, by design: `now` is an argument; the history survives restarts;
// scale events are kept as long as the longest period of either direction can see them
// (HPA reuses the slot of an event its own direction's periods no longer see, which can drop
// an event the other direction's rate limit still counts); replica bounds are the engine's.
//
// Thread-safety: pure functions; a BehaviorState must not be shared across threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "policies/spec.h"

namespace governor::policies {

struct TimedRecommendation {
  TimePoint at{};
  int32_t replicas = 0;
  friend bool operator==(const TimedRecommendation&, const TimedRecommendation&) = default;
};

struct ScaleEvent {
  TimePoint at{};
  int32_t change = 0;  // Replicas added (scale-up events) or removed (scale-down), > 0.
  friend bool operator==(const ScaleEvent&, const ScaleEvent&) = default;
};

struct BehaviorState {
  bool initialized = false;  // The stabilization history has been seeded.
  // Unstabilized proposals, oldest first.
  std::vector<TimedRecommendation> recommendations;
  // Applied scales (recordScale), oldest first.
  std::vector<ScaleEvent> scale_up_events;
  std::vector<ScaleEvent> scale_down_events;
  std::optional<TimePoint> last_scale_up;  // For cooldowns; never pruned.
  std::optional<TimePoint> last_scale_down;
  friend bool operator==(const BehaviorState&, const BehaviorState&) = default;
};

// A limit that changed the outcome.
struct Limit {
  std::string reason;   // "ScaleUpStabilized", "ScaleDownStabilized", "ScaleUpLimit",
                        // "ScaleDownLimit", "ScaleUpDisabled", "ScaleDownDisabled",
                        // "ScaleUpCooldown", "ScaleDownCooldown", "TooManyReplicas",
                        // "TooFewReplicas", "ScheduleMinimum", ...
  std::string message;  // "at most 4 pods per 15s (Pods policy)", "cooldown: 42s left".
  friend bool operator==(const Limit&, const Limit&) = default;
};

struct BehaviorResult {
  int32_t replicas = 0;    // The count after stabilization, rate limits and cooldowns.
  int32_t stabilized = 0;  // The count after stabilization alone.
  // In the order they applied; empty when nothing limited. applyBehavior reports:
  //   ScaleUpStabilized / ScaleDownStabilized  stabilization moved the proposal
  //       ("highest recommendation in the last 300s is 8; proposed 3");
  //   ScaleUpLimit / ScaleDownLimit            a rate limit moved it, naming the policy that
  //       bound ("at most 4 pods per 15s (Pods policy)", "at most 100% per 15s (Percent
  //       policy) from 10 at the period start");
  //   ScaleUpDisabled / ScaleDownDisabled      selectPolicy Disabled held it;
  //   ScaleUpCooldown / ScaleDownCooldown      "cooldown: 42s left" (seconds rounded up).
  std::vector<Limit> limits;
  // Set when a change was held (replicas != the proposal): how long until a held change
  // could next proceed, i.e. the earliest moment a cooldown ends, or a recommendation that
  // holds the result leaves its window, or a scale event that tightens the rate limit leaves
  // its period (counting the change about to be applied as an event at `now`). Always > 0.
  // The operator requeues no later than this. nullopt when nothing is held, or when nothing
  // in the state can release the hold (selectPolicy Disabled).
  std::optional<Duration> recheck_after;
};

// Stabilizes `proposed` and limits the change from `current`. Updates `state`: seeds it on
// the first call, records the proposal and drops history no window or period can see any
// more. Does not record a scale event: call recordScale once the new count has been applied.
// Arithmetic saturates at the int32 range; negative counts and durations are tolerated
// (negative windows and periods count as 0) though the parser never produces them.
BehaviorResult applyBehavior(const Behavior& behavior, int32_t current, int32_t proposed,
                             BehaviorState& state, TimePoint now);

// The same, into `result` (every field set, as the returned value would be). `result`'s limits
// keep their storage: a caller that applies behavior into the same object every sync period
// allocates nothing in the steady state.
void applyBehavior(const Behavior& behavior, int32_t current, int32_t proposed,
                   BehaviorState& state, TimePoint now, BehaviorResult& result);

// Records that the target was scaled from `from` to `to` at `now` (HPA's storeScaleEvent),
// for rate limits and cooldowns: appends a scale-up (to > from) or scale-down event, sets
// last_scale_up / last_scale_down, and drops events no period can see any more. No-op when
// from == to.
void recordScale(const Behavior& behavior, int32_t from, int32_t to, BehaviorState& state,
                 TimePoint now);

}  // namespace governor::policies
