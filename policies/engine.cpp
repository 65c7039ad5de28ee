#include "policies/engine.h"

#include <algorithm>
#include <string>

#include "policies/schedule.h"

namespace governor::policies {
namespace {

void keepEarliest(std::optional<Duration>& current, Duration candidate) {
  if (candidate.count() < 0) candidate = Duration(0);
  if (!current || candidate < *current) current = candidate;
}

std::string replicasText(int32_t n) {
  return std::to_string(n) + (n == 1 ? " replica" : " replicas");
}

// applyBehavior into d.limits (reused) and d.recheck_after; returns the count it allows.
int32_t behave(const Behavior& behavior, int32_t current, int32_t proposed, BehaviorState& state,
               TimePoint now, Decision& d) {
  BehaviorResult result;
  result.limits.swap(d.limits);
  applyBehavior(behavior, current, proposed, state, now, result);
  d.limits.swap(result.limits);
  if (result.recheck_after) keepEarliest(d.recheck_after, *result.recheck_after);
  return result.replicas;
}

}  // namespace

Bounds boundsAt(const PolicySpec& spec, TimePoint now, std::optional<TimePoint>* next_change) {
  Bounds b{spec.min_replicas, spec.max_replicas, {}};
  std::optional<int32_t> window_min;
  std::optional<int32_t> window_max;
  for (const auto& schedule : spec.schedules) {
    WindowState w = evaluateSchedule(schedule, now);
    if (next_change && w.next_change && (!*next_change || *w.next_change < **next_change)) {
      *next_change = w.next_change;
    }
    if (!w.active) continue;
    b.windows.push_back(schedule.name);
    auto lo = schedule.replicas ? schedule.replicas : schedule.min_replicas;
    auto hi = schedule.replicas ? schedule.replicas : schedule.max_replicas;
    if (lo) window_min = std::max(window_min.value_or(*lo), *lo);
    if (hi) window_max = std::max(window_max.value_or(*hi), *hi);
  }
  if (window_min) b.min = *window_min;
  if (window_max) b.max = *window_max;
  if (b.min > b.max) b.max = b.min;  // A floor is a promise of capacity: it wins.
  return b;
}

Decision decide(const PolicySpec& spec, const Observation& obs, BehaviorState& state, TimePoint now,
                const EngineOptions& options) {
  Decision d;
  decide(spec, obs, state, now, options, d);
  return d;
}

void decide(const PolicySpec& spec, const Observation& obs, BehaviorState& state, TimePoint now,
            const EngineOptions& options, Decision& d) {
  // Every field is set below as a fresh Decision would have it. Vectors are resized rather
  // than cleared, so that the elements kept are overwritten in place; a steady state (the
  // same number of proposals and limits as last time) allocates nothing.
  d.replicas = 0;
  d.current = obs.current_replicas;
  d.proposed = 0;
  d.scaling_active = true;
  d.recheck_after.reset();
  std::optional<TimePoint> schedule_change;
  d.bounds = boundsAt(spec, now, &schedule_change);
  if (schedule_change) keepEarliest(d.recheck_after, *schedule_change - now);

  size_t proposals = 0;  // Those of d.proposals written so far.
  auto next_proposal = [&]() -> Proposal& {
    if (proposals == d.proposals.size()) d.proposals.emplace_back();
    return d.proposals[proposals++];
  };

  for (const auto& name : d.bounds.windows) {
    for (const auto& s : spec.schedules) {
      if (s.name != name) continue;
      Proposal& p = next_proposal();
      p.policy = "schedule/" + s.name;
      p.reason = "ScheduleActive";
      if (s.replicas) {
        p.replicas = *s.replicas;
        p.message = s.name + ": replicas " + std::to_string(*s.replicas);
      } else {
        p.replicas = s.min_replicas.value_or(spec.min_replicas);
        p.message = s.name + ":";
        if (s.min_replicas) p.message += " minReplicas " + std::to_string(*s.min_replicas);
        if (s.max_replicas) p.message += " maxReplicas " + std::to_string(*s.max_replicas);
      }
    }
  }

  // HPA: a target at zero replicas with a floor above zero has been switched off by hand.
  if (obs.current_replicas == 0 && d.bounds.min != 0) {
    d.proposals.resize(proposals);
    d.metrics.clear();
    d.limits.clear();
    d.replicas = 0;
    d.proposed = 0;
    d.scaling_active = false;
    d.reason = "ScalingDisabled";
    d.message = "scaling is disabled since the replica count of the target is zero";
    return;
  }

  // Room for the threshold, predictive and fallback proposals, so that pointers into
  // d.proposals stay valid from here on.
  d.proposals.reserve(proposals + 3);

  // The metric-driven proposal. Without one, d.reason and d.message say why (the hold below
  // uses them; every other branch overwrites them).
  const size_t threshold_at = proposals;
  const bool has_threshold = evaluateThreshold(spec, obs, options.pod_timings, now, d.metrics,
                                               next_proposal(), d.reason, d.message);
  if (!has_threshold) --proposals;
  const bool fallback_due = spec.fallback && !spec.metrics.empty() && !has_threshold &&
                            obs.metric_failures >= spec.fallback->after_failures;
  const bool apply_predictive =
      obs.predictive && (!spec.predictive || spec.predictive->mode == PredictiveMode::kApply);
  if (obs.predictive) next_proposal() = *obs.predictive;
  // Points into d.proposals (which the reserve above keeps in place) or at obs.predictive.
  const Proposal* winner = has_threshold ? &d.proposals[threshold_at] : nullptr;
  if (apply_predictive) {
    if (winner != nullptr) {
      if (obs.predictive->replicas > winner->replicas) winner = &*obs.predictive;
    } else if (obs.predictive->replicas > obs.current_replicas) {
      // The reactive metrics are unreadable, so they hold the current count; the forecast
      // may still add capacity, never remove it.
      winner = &*obs.predictive;
    }
  }
  if (fallback_due) {
    // KEDA's fallback, made safe: blind for too long, the policy may add capacity up to the
    // fallback count; it never removes any on no data.
    const FallbackSpec& f = *spec.fallback;
    Proposal& p = next_proposal();
    p = Proposal{f.replicas, "fallback", "FallbackReplicas",
                 "no metric readable in " + std::to_string(obs.metric_failures) +
                     " evaluations in a row (afterFailures " + std::to_string(f.after_failures) +
                     "): fallback to " + replicasText(f.replicas)};
    const int32_t reference = winner != nullptr ? winner->replicas : obs.current_replicas;
    if (f.replicas > reference) winner = &p;
    d.scaling_active = false;
  }
  d.proposals.resize(proposals);

  const bool has_metrics = !spec.metrics.empty();
  int32_t target = obs.current_replicas;
  if (winner != nullptr) {
    d.proposed = winner->replicas;
    target = behave(spec.behavior, obs.current_replicas, winner->replicas, state, now, d);
    d.reason = winner->reason;
    d.message.clear();
    d.message.reserve(winner->policy.size() + 2 + winner->message.size());
    d.message += winner->policy;
    d.message += ": ";
    d.message += winner->message;
  } else if (!has_metrics) {
    // Schedule-only: nothing asks for more than the floor, so the target follows it down
    // (through behavior, so the way down is as gentle as the policy says).
    d.proposed = d.bounds.min;
    target = behave(spec.behavior, obs.current_replicas, d.bounds.min, state, now, d);
    d.reason = d.bounds.windows.empty() ? "NoScheduleActive" : "ScheduleActive";
    d.message =
        d.bounds.windows.empty()
            ? "no schedule window in force: minReplicas " + std::to_string(spec.min_replicas)
            : "schedule window in force: " + d.proposals.front().message;
  } else {
    // Every metric is invalid, or an invalid one blocks a scale-down: hold. Never scale
    // down because data is missing. d.reason and d.message are the threshold policy's why.
    d.limits.clear();
    d.proposed = obs.current_replicas;
    const bool some_valid = std::any_of(d.metrics.begin(), d.metrics.end(),
                                        [](const MetricRecommendation& m) { return m.valid; });
    d.scaling_active = some_valid;
    if (!some_valid) d.reason = "FailedGetMetrics";
    d.message.insert(0, "holding at " + replicasText(obs.current_replicas) + ": ");
  }

  // Bounds act at once.
  d.replicas = target;
  if (d.replicas > d.bounds.max) {
    d.replicas = d.bounds.max;
    bool by_window = d.bounds.max != spec.max_replicas;
    d.limits.push_back({by_window ? "ScheduleMaximum" : "TooManyReplicas",
                        "the desired count is more than the maximum of " +
                            replicasText(d.bounds.max) + (by_window ? " set by a schedule" : "")});
  } else if (d.replicas < d.bounds.min) {
    d.replicas = d.bounds.min;
    bool by_window = d.bounds.min != spec.min_replicas;
    d.limits.push_back({by_window ? "ScheduleMinimum" : "TooFewReplicas",
                        "the desired count is less than the minimum of " +
                            replicasText(d.bounds.min) + (by_window ? " set by a schedule" : "")});
  }
  if (!d.limits.empty() && d.scaling_active) {
    d.reason = d.limits.back().reason;
    d.message = d.limits.back().message;
  }
}

void commitScale(const PolicySpec& spec, const Decision& decision, BehaviorState& state,
                 TimePoint now) {
  recordScale(spec.behavior, decision.current, decision.replicas, state, now);
}

}  // namespace governor::policies
