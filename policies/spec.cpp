#include "policies/spec.h"

namespace governor::policies {

Behavior Behavior::hpaDefaults() {
  // HPA v2 defaults (k8s.io/api autoscaling/v2 HorizontalPodAutoscalerBehavior): scale up
  // at once by max(4 pods, 100%) every 15 s; scale down after a 300 s stabilization window,
  // by up to 100% every 15 s.
  Behavior b;
  b.scale_up.stabilization_window = Seconds(0);
  b.scale_up.select_policy = SelectPolicy::kMax;
  b.scale_up.policies = {{ScalingPolicyType::kPods, 4, Seconds(15)},
                         {ScalingPolicyType::kPercent, 100, Seconds(15)}};
  b.scale_down.stabilization_window = Seconds(300);
  b.scale_down.select_policy = SelectPolicy::kMax;
  b.scale_down.policies = {{ScalingPolicyType::kPercent, 100, Seconds(15)}};
  return b;
}

}  // namespace governor::policies
