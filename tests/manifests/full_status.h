#pragma once

// A PolicyStatus with every field set (conditions at whole seconds, as metav1.Time keeps
// them; behavior times with milliseconds), for the tests that check the status schema.

#include <chrono>

#include "controller/policy_status.h"

namespace governor::testing::manifests {

inline controller::PolicyStatus fullPolicyStatus() {
  const TimePoint t0{std::chrono::milliseconds(1'709'294'400'000)};  // 2024-03-01T12:00:00Z
  controller::PolicyStatus s;
  s.observed_generation = 3;
  s.current_replicas = 4;
  s.desired_replicas = 6;
  s.last_scale_time = t0;
  s.reason = "AboveTarget";
  s.message = "cpu 90% > target 60%";
  s.proposals = {{"threshold/cpu", 6, "AboveTarget", "cpu 90% > target 60%"},
                 {"schedule/business-hours", 2, "ScheduleMinimum", "floor 2"}};
  s.limits = {{"ScaleUpLimit", "at most 4 pods per 15s"}};
  controller::setCondition(s.conditions, controller::kConditionReady, "True", "AboveTarget", "ok",
                           3, t0);
  controller::setCondition(s.conditions, controller::kConditionScalingLimited, "False",
                           "DesiredWithinRange", "", 3, t0 - std::chrono::seconds(60));
  s.metric_failures = 1;
  s.predictive =
      controller::PredictiveStatus{"ForecastReady", "p90 forecast of cpu over the next 3m needs 7",
                                   "backfilled 4032 points of metric cpu from 4032 returned"};
  s.behavior.initialized = true;
  s.behavior.recommendations = {{t0 - Duration(15'250), 5}, {t0 - Duration(250), 6}};
  s.behavior.scale_up_events = {{t0 - Duration(999), 2}};
  s.behavior.scale_down_events = {{t0 - Duration(400'000), 1}};
  s.behavior.last_scale_up = t0 - Duration(999);
  s.behavior.last_scale_down = t0 - Duration(400'000);
  return s;
}

}  // namespace governor::testing::manifests
