#include "rollouts/split.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <limits>
#include <optional>

namespace governor::rollouts {
namespace {

double servedWeight(int64_t canary, int64_t total) {
  return total == 0 ? 0.0 : 100.0 * static_cast<double>(canary) / static_cast<double>(total);
}

// ceil(replicas x weight / 100) without overflow.
int32_t ceilShare(int32_t replicas, int32_t weight) {
  return static_cast<int32_t>((static_cast<int64_t>(replicas) * weight + 99) / 100);
}

struct Candidate {
  int64_t total = 0;
  int64_t canary = 0;
};

// The canary count for `total` pods at `weight`: round half up, clamped to keep one pod on
// each side. REQUIRES: total >= 2, 1 <= weight <= 99.
Candidate candidate(int64_t total, int32_t weight) {
  const int64_t rounded = (total * weight + 50) / 100;
  return {total, std::clamp<int64_t>(rounded, 1, total - 1)};
}

// True if `a` serves a weight strictly closer to `weight` than `b`. |100c/T - w| compared
// as |100c - wT| / T, cross-multiplied: exact in integers (no float ties).
bool closer(const Candidate& a, const Candidate& b, int32_t weight) {
  const int64_t da = std::llabs(100 * a.canary - weight * a.total);
  const int64_t db = std::llabs(100 * b.canary - weight * b.total);
  return da * b.total < db * a.total;
}

}  // namespace

ReplicaSplit splitReplicas(int32_t replicas, int32_t weight, int32_t max_surge) {
  assert(replicas >= 0 && weight >= 0 && weight <= 100 && max_surge >= 0);
  if (replicas == 0) return {};
  if (weight == 0) return {replicas, 0, 0.0};
  if (weight == 100) return {0, replicas, 100.0};

  std::optional<Candidate> best;
  if (replicas >= 2) best = candidate(replicas, weight);
  if (max_surge >= 1 && replicas < std::numeric_limits<int32_t>::max()) {
    const Candidate surged = candidate(static_cast<int64_t>(replicas) + 1, weight);
    if (!best || closer(surged, *best, weight)) best = surged;
  }
  if (!best) {
    // One pod, no surge: it cannot be split.
    const int32_t canary = weight >= 50 ? 1 : 0;
    return {1 - canary, canary, servedWeight(canary, 1)};
  }
  return {static_cast<int32_t>(best->total - best->canary), static_cast<int32_t>(best->canary),
          servedWeight(best->canary, best->total)};
}

ReplicaSplit splitRoutedReplicas(int32_t replicas, int32_t weight, const CanaryScale& scale) {
  assert(replicas >= 0 && weight >= 0 && weight <= 100);
  int32_t canary = 0;
  switch (scale.mode) {
    case CanaryScale::Mode::kMatchTrafficWeight:
      canary = ceilShare(replicas, weight);
      break;
    case CanaryScale::Mode::kReplicas:
      canary = scale.value;
      break;
    case CanaryScale::Mode::kWeight:
      canary = ceilShare(replicas, scale.value);
      break;
  }
  return {replicas, canary, static_cast<double>(weight)};
}

ReplicaSplit canarySplit(const CanaryStrategy& canary, int32_t replicas, int32_t weight,
                         const CanaryScale& scale) {
  if (canary.traffic_routing) return splitRoutedReplicas(replicas, weight, scale);
  return splitReplicas(replicas, weight, canary.max_surge.resolve(replicas, true));
}

}  // namespace governor::rollouts
