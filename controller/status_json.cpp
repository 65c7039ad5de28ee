#include "controller/status_json.h"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "base/rfc3339.h"
#include "controller/json_reader.h"

namespace governor::controller {
namespace {

using nlohmann::json;

std::string millisTime(TimePoint t) { return formatRfc3339(t, TimePrecision::kMilliseconds); }
std::string secondsTime(TimePoint t) { return formatRfc3339(t, TimePrecision::kSeconds); }

using Reader = JsonReader;

}  // namespace

json statusToJson(const PolicyStatus& status) {
  json out = json::object();
  out["observedGeneration"] = status.observed_generation;
  out["currentReplicas"] = status.current_replicas;
  out["desiredReplicas"] = status.desired_replicas;
  if (status.last_scale_time) out["lastScaleTime"] = secondsTime(*status.last_scale_time);
  out["reason"] = status.reason;
  out["message"] = status.message;
  json proposals = json::array();
  for (const auto& p : status.proposals) {
    proposals.push_back({{"policy", p.policy},
                         {"replicas", p.replicas},
                         {"reason", p.reason},
                         {"message", p.message}});
  }
  out["proposals"] = std::move(proposals);
  json limits = json::array();
  for (const auto& l : status.limits) {
    limits.push_back({{"reason", l.reason}, {"message", l.message}});
  }
  out["limits"] = std::move(limits);
  json conditions = json::array();
  for (const auto& c : status.conditions) {
    conditions.push_back({{"type", c.type},
                          {"status", c.status},
                          {"reason", c.reason},
                          {"message", c.message},
                          {"lastTransitionTime", secondsTime(c.last_transition_time)},
                          {"observedGeneration", c.observed_generation}});
  }
  out["conditions"] = std::move(conditions);
  out["metricFailures"] = status.metric_failures;
  if (status.predictive) {
    json predictive = {{"reason", status.predictive->reason},
                       {"message", status.predictive->message}};
    if (!status.predictive->backfill.empty()) predictive["backfill"] = status.predictive->backfill;
    out["predictive"] = std::move(predictive);
  }

  const auto& b = status.behavior;
  json behavior = json::object();
  behavior["initialized"] = b.initialized;
  json recommendations = json::array();
  for (const auto& r : b.recommendations) {
    recommendations.push_back({{"time", millisTime(r.at)}, {"replicas", r.replicas}});
  }
  behavior["recommendations"] = std::move(recommendations);
  auto events = [](const std::vector<policies::ScaleEvent>& list) {
    json array = json::array();
    for (const auto& e : list) array.push_back({{"time", millisTime(e.at)}, {"change", e.change}});
    return array;
  };
  behavior["scaleUpEvents"] = events(b.scale_up_events);
  behavior["scaleDownEvents"] = events(b.scale_down_events);
  if (b.last_scale_up) behavior["lastScaleUpTime"] = millisTime(*b.last_scale_up);
  if (b.last_scale_down) behavior["lastScaleDownTime"] = millisTime(*b.last_scale_down);
  out["behavior"] = std::move(behavior);
  return out;
}

Result<PolicyStatus> statusFromJson(const json& json_status) {
  PolicyStatus status;
  if (json_status.is_null()) return status;
  Status error;
  if (!json_status.is_object()) return invalidArgument("status: must be an object");
  Reader r(json_status, "status", error);
  r.integer("observedGeneration", status.observed_generation);
  r.integer("currentReplicas", status.current_replicas);
  r.integer("desiredReplicas", status.desired_replicas);
  r.optionalTime("lastScaleTime", status.last_scale_time);
  r.string("reason", status.reason);
  r.string("message", status.message);
  r.list("proposals", status.proposals, [](Reader& e, ProposalStatus& p) {
    e.string("policy", p.policy);
    e.integer("replicas", p.replicas);
    e.string("reason", p.reason);
    e.string("message", p.message);
  });
  r.list("limits", status.limits, [](Reader& e, policies::Limit& l) {
    e.string("reason", l.reason);
    e.string("message", l.message);
  });
  r.list("conditions", status.conditions, [](Reader& e, Condition& c) {
    e.string("type", c.type);
    e.string("status", c.status);
    e.string("reason", c.reason);
    e.string("message", c.message);
    e.time("lastTransitionTime", c.last_transition_time);
    e.integer("observedGeneration", c.observed_generation);
  });
  r.integer("metricFailures", status.metric_failures);
  if (json_status.contains("predictive")) {
    Reader p = r.child("predictive");
    PredictiveStatus& predictive = status.predictive.emplace();
    p.string("reason", predictive.reason);
    p.string("message", predictive.message);
    p.string("backfill", predictive.backfill);
  }
  Reader b = r.child("behavior");
  auto& state = status.behavior;
  b.boolean("initialized", state.initialized);
  b.list("recommendations", state.recommendations, [](Reader& e, policies::TimedRecommendation& t) {
    e.time("time", t.at);
    e.integer("replicas", t.replicas);
  });
  auto event = [](Reader& e, policies::ScaleEvent& s) {
    e.time("time", s.at);
    e.integer("change", s.change);
  };
  b.list("scaleUpEvents", state.scale_up_events, event);
  b.list("scaleDownEvents", state.scale_down_events, event);
  b.optionalTime("lastScaleUpTime", state.last_scale_up);
  b.optionalTime("lastScaleDownTime", state.last_scale_down);
  if (!error.ok()) return error;
  return status;
}

}  // namespace governor::controller
