#pragma once

// How many pods each revision runs at a canary weight.
//
// WITHOUT a traffic router the Services spread requests evenly over ready pods, so the
// weight can only be approximated by the replica split: canary / (stable + canary). The rule
// (splitReplicas):
//   - weight 0: all `replicas` are stable; weight 100: all are canary.
//   - weight 1..99, replicas >= 2: each side keeps at least one pod (a canary without pods
//     tests nothing; a stable without pods is not a canary any more). For a total T the
//     canary gets round-half-up(T x weight / 100) pods, clamped to [1, T - 1]. T is
//     spec.replicas, or spec.replicas + 1 when maxSurge allows a pod more (>= 1) AND that
//     total serves a weight strictly closer to the asked one; at equal distance the smaller
//     total wins (a pod costs money). So the total stays within spec.replicas + min(1,
//     maxSurge): the surge buys at most one pod, because beyond one pod the gain in accuracy
//     is small (|served - weight| <= 50 / T points without clamping) and the cost is not.
//   - weight 1..99, replicas == 1: with maxSurge >= 1 the total is 2, one pod each side
//     (50%). With maxSurge 0 one pod cannot be split: it is stable below 50% and canary from
//     50% (round half up, as above).
//   - replicas == 0: no pods, served weight 0.
// Worked examples (replicas, weight, maxSurge -> stable + canary = served):
//   10, 20, 0 -> 8 + 2 = 20%       10, 25, 0 -> 7 + 3 = 30% (2.5 rounds up)
//   10, 25, 3 -> 8 + 3 = 27.3%      4, 10, 1 -> 4 + 1 = 20% (3 + 1 = 25% is farther)
//    2, 50, 1 -> 1 + 1 = 50%        3, 50, 1 -> 2 + 2 = 50%   3, 50, 0 -> 1 + 2 = 66.7%
//    1, 30, 1 -> 1 + 1 = 50%        1, 30, 0 -> 1 + 0 = 0%    1, 50, 0 -> 0 + 1 = 100%
//
// WITH a traffic router the weight is exact and the pods follow it (splitRoutedReplicas):
// the stable revision keeps all `replicas` pods until promotion, so an abort only moves
// traffic back and waits for no pod; the canary gets ceil(replicas x weight / 100) pods
// (at least one for any weight > 0: enough for its share of the traffic), or what the last
// setCanaryScale step says. The total exceeds spec.replicas + maxSurge here: that is the
// price of an instant abort, as with Argo Rollouts' default.
//
// Thread-safety: pure functions.

#include <cstdint>

#include "rollouts/spec.h"

namespace governor::rollouts {

struct ReplicaSplit {
  int32_t stable = 0;  // Pods of the stable (old) revision.
  int32_t canary = 0;  // Pods of the canary (new) revision.
  // Percent of requests the canary serves: the router's weight with a router; without one
  // 100 x canary / (stable + canary), 0 with no pods. What status.canaryWeight reports.
  double served_weight = 0;

  int32_t total() const { return stable + canary; }
  friend bool operator==(const ReplicaSplit&, const ReplicaSplit&) = default;
};

// The split without a traffic router, by the rule above. `max_surge` is maxSurge resolved
// against `replicas` (IntOrPercent::resolve(replicas, true)).
// REQUIRES: replicas >= 0, 0 <= weight <= 100, max_surge >= 0.
ReplicaSplit splitReplicas(int32_t replicas, int32_t weight, int32_t max_surge);

// The split with a traffic router at `weight`, the canary sized by `scale` (the last
// setCanaryScale; default: match the traffic weight).
// REQUIRES: replicas >= 0, 0 <= weight <= 100; a kWeight scale's value in [0, 100].
ReplicaSplit splitRoutedReplicas(int32_t replicas, int32_t weight, const CanaryScale& scale = {});

// The split `canary` asks for at `weight` with `replicas` pods in total: splitRoutedReplicas
// when it has trafficRouting, else splitReplicas with its maxSurge.
ReplicaSplit canarySplit(const CanaryStrategy& canary, int32_t replicas, int32_t weight,
                         const CanaryScale& scale = {});

}  // namespace governor::rollouts
