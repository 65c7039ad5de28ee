#include "controller/rollout_status_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/rfc3339.h"
#include "controller/json_reader.h"
#include "rollouts/analysis_run.h"

namespace governor::controller {
namespace {

using nlohmann::json;
using rollouts::RolloutStatus;

std::string millisTime(TimePoint t) { return formatRfc3339(t, TimePrecision::kMilliseconds); }
std::string secondsTime(TimePoint t) { return formatRfc3339(t, TimePrecision::kSeconds); }

// The inverse of rollouts::formatValue: "NaN", "+Inf", "-Inf" as Prometheus writes them
// (also "Inf" and any case), else a decimal number in full. nullopt for anything else.
std::optional<double> parseValueText(std::string_view text) {
  std::string lower;
  for (char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "nan" || lower == "+nan" || lower == "-nan") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (lower == "inf" || lower == "+inf") return std::numeric_limits<double>::infinity();
  if (lower == "-inf") return -std::numeric_limits<double>::infinity();
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);  // from_chars: no '+'.
  double v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return v;
}

using Reader = JsonReader;

// A measurement value: formatValue text, or a JSON number.
void readValue(Reader& r, const char* name, std::optional<double>& out) {
  const json* v = r.field(name);
  if (v == nullptr) return;
  if (v->is_number()) {
    out = v->get<double>();
    return;
  }
  if (!v->is_string()) return r.fail(name, "must be a number as text (\"0.99\", \"NaN\")");
  auto parsed = parseValueText(v->get<std::string_view>());
  if (!parsed) return r.fail(name, "not a number: " + v->dump());
  out = *parsed;
}

constexpr char kPhases[] = "Progressing, Paused, Healthy, Degraded, Aborted";
constexpr char kRoles[] = "Stable, Canary, Active, Preview, Old";
constexpr char kKinds[] = "Step, Background, PrePromotion, PostPromotion";
constexpr char kRunPhases[] = "Running, Successful, Failed, Inconclusive, Error";
constexpr char kMeasurementPhases[] = "Successful, Failed, Inconclusive, Error";
constexpr char kPromotes[] = "Step, Full";

void putTime(json& out, const char* name, const std::optional<TimePoint>& t) {
  if (t) out[name] = millisTime(*t);
}

json renderMetric(const rollouts::MetricRun& m) {
  json measurements = json::array();
  for (const auto& x : m.measurements) {
    json item = {{"number", x.number},
                 {"measuredAt", millisTime(x.measured_at)},
                 {"phase", rollouts::measurementPhaseName(x.phase)}};
    if (x.value) item["value"] = rollouts::formatValue(*x.value);
    item["message"] = x.message;
    measurements.push_back(std::move(item));
  }
  return {{"name", m.name},
          {"phase", rollouts::analysisPhaseName(m.phase)},
          {"message", m.message},
          {"measured", m.measured},
          {"successful", m.successful},
          {"failed", m.failed},
          {"inconclusive", m.inconclusive},
          {"errors", m.errors},
          {"consecutiveErrors", m.consecutive_errors},
          {"measurements", std::move(measurements)}};
}

json renderRun(const rollouts::RolloutAnalysisRun& r) {
  json out = json::object();
  out["name"] = r.name;
  out["kind"] = rollouts::analysisKindName(r.kind);
  if (r.step_index) out["stepIndex"] = *r.step_index;
  out["template"] = r.template_name;
  out["templates"] = json::array({r.template_name});
  out["revision"] = r.revision;
  out["phase"] = rollouts::analysisPhaseName(r.run.phase);
  out["message"] = r.run.message;
  out["startedAt"] = millisTime(r.run.started_at);
  putTime(out, "finishedAt", r.finished_at);
  json metrics = json::array();
  for (const auto& m : r.run.metrics) metrics.push_back(renderMetric(m));
  out["metrics"] = std::move(metrics);
  return out;
}

void readMeasurement(Reader& e, rollouts::Measurement& x) {
  if (!e.require("number") || !e.require("phase")) return;
  e.integer("number", x.number);
  e.time("measuredAt", x.measured_at);
  e.enumeration("phase", x.phase, rollouts::parseMeasurementPhase, kMeasurementPhases);
  readValue(e, "value", x.value);
  e.string("message", x.message);
}

void readMetric(Reader& e, rollouts::MetricRun& m) {
  if (!e.require("name") || !e.require("phase")) return;
  e.string("name", m.name);
  e.enumeration("phase", m.phase, rollouts::parseAnalysisPhase, kRunPhases);
  e.string("message", m.message);
  e.integer("measured", m.measured);
  e.integer("successful", m.successful);
  e.integer("failed", m.failed);
  e.integer("inconclusive", m.inconclusive);
  e.integer("errors", m.errors);
  e.integer("consecutiveErrors", m.consecutive_errors);
  e.list("measurements", m.measurements, readMeasurement);
}

void readRun(Reader& e, rollouts::RolloutAnalysisRun& r) {
  if (!e.require("name") || !e.require("kind") || !e.require("phase")) return;
  e.string("name", r.name);
  e.enumeration("kind", r.kind, rollouts::parseAnalysisKind, kKinds);
  e.optionalInteger("stepIndex", r.step_index);
  // `template` wins; a status written before it existed has only `templates: [NAME]`.
  if (const json* list = e.field("templates"); list != nullptr) {
    bool names = list->is_array();
    for (size_t i = 0; names && i < list->size(); ++i) names = (*list)[i].is_string();
    if (!names) {
      e.fail("templates", "must be a list of template names");
    } else if (!list->empty()) {
      r.template_name = (*list)[0].get<std::string>();
    }
  }
  e.string("template", r.template_name);
  e.string("revision", r.revision);
  e.enumeration("phase", r.run.phase, rollouts::parseAnalysisPhase, kRunPhases);
  e.string("message", r.run.message);
  e.time("startedAt", r.run.started_at);
  e.optionalTime("finishedAt", r.finished_at);
  e.list("metrics", r.run.metrics, readMetric);
}

}  // namespace

json renderRolloutStatus(const RolloutStatus& s) {
  json out = json::object();
  out["observedGeneration"] = s.observed_generation;
  if (s.phase) out["phase"] = rollouts::rolloutPhaseName(*s.phase);
  out["message"] = s.message;
  if (!s.strategy.empty()) out["strategy"] = s.strategy;  // An enum in the schema.
  out["currentStepIndex"] = s.current_step_index;
  putTime(out, "currentStepStartedAt", s.current_step_started_at);
  putTime(out, "pausedAt", s.paused_at);
  putTime(out, "progressingSince", s.progressing_since);
  out["stableRevision"] = s.stable_revision;
  out["canaryRevision"] = s.canary_revision;
  out["canaryWeight"] = s.canary_weight;
  out["collisionCount"] = s.collision_count;
  out["activeSelector"] = s.active_selector;
  out["previewSelector"] = s.preview_selector;
  putTime(out, "previewReadyAt", s.preview_ready_at);
  putTime(out, "promotedAt", s.promoted_at);
  putTime(out, "scaleDownAt", s.scale_down_at);
  out["previousActive"] = s.previous_active;
  out["replicas"] = s.replicas;
  out["readyReplicas"] = s.ready_replicas;
  out["availableReplicas"] = s.available_replicas;
  out["updatedReplicas"] = s.updated_replicas;
  out["selector"] = s.selector;
  json revisions = json::array();
  for (const auto& r : s.revisions) {
    revisions.push_back({{"podTemplateHash", r.pod_template_hash},
                         {"role", rollouts::revisionRoleName(r.role)},
                         {"replicaSet", r.replica_set},
                         {"replicas", r.replicas},
                         {"readyReplicas", r.ready_replicas},
                         {"availableReplicas", r.available_replicas}});
  }
  out["revisions"] = std::move(revisions);
  json runs = json::array();
  for (const auto& r : s.analysis_runs) runs.push_back(renderRun(r));
  out["analysisRuns"] = std::move(runs);
  json conditions = json::array();
  for (const auto& c : s.conditions) {
    conditions.push_back({{"type", c.type},
                          {"status", c.status},
                          {"reason", c.reason},
                          {"message", c.message},
                          {"lastTransitionTime", secondsTime(c.last_transition_time)}});
  }
  out["conditions"] = std::move(conditions);
  out["abort"] = s.abort;
  if (s.promote) out["promote"] = rollouts::promoteRequestName(*s.promote);
  return out;
}

Result<RolloutStatus> parseRolloutStatus(const json& json_status) {
  RolloutStatus s;
  if (json_status.is_null()) return s;
  if (!json_status.is_object()) return invalidArgument("status: must be an object");
  Status error;
  Reader r(json_status, "status", error);
  r.integer("observedGeneration", s.observed_generation);
  r.enumeration("phase", s.phase, rollouts::parseRolloutPhase, kPhases);
  r.string("message", s.message);
  r.string("strategy", s.strategy);
  r.integer("currentStepIndex", s.current_step_index);
  r.optionalTime("currentStepStartedAt", s.current_step_started_at);
  r.optionalTime("pausedAt", s.paused_at);
  r.optionalTime("progressingSince", s.progressing_since);
  r.string("stableRevision", s.stable_revision);
  r.string("canaryRevision", s.canary_revision);
  r.integer("canaryWeight", s.canary_weight);
  r.integer("collisionCount", s.collision_count);
  r.string("activeSelector", s.active_selector);
  r.string("previewSelector", s.preview_selector);
  r.optionalTime("previewReadyAt", s.preview_ready_at);
  r.optionalTime("promotedAt", s.promoted_at);
  r.optionalTime("scaleDownAt", s.scale_down_at);
  r.string("previousActive", s.previous_active);
  r.integer("replicas", s.replicas);
  r.integer("readyReplicas", s.ready_replicas);
  r.integer("availableReplicas", s.available_replicas);
  r.integer("updatedReplicas", s.updated_replicas);
  r.string("selector", s.selector);
  r.list("revisions", s.revisions, [](Reader& e, rollouts::RevisionStatus& v) {
    if (!e.require("podTemplateHash") || !e.require("role")) return;
    e.string("podTemplateHash", v.pod_template_hash);
    e.enumeration("role", v.role, rollouts::parseRevisionRole, kRoles);
    e.string("replicaSet", v.replica_set);
    e.integer("replicas", v.replicas);
    e.integer("readyReplicas", v.ready_replicas);
    e.integer("availableReplicas", v.available_replicas);
  });
  r.list("analysisRuns", s.analysis_runs, readRun);
  r.list("conditions", s.conditions, [](Reader& e, rollouts::RolloutCondition& c) {
    if (!e.require("type") || !e.require("status")) return;
    e.string("type", c.type);
    e.string("status", c.status);
    e.string("reason", c.reason);
    e.string("message", c.message);
    e.time("lastTransitionTime", c.last_transition_time);
  });
  r.boolean("abort", s.abort);
  r.enumeration("promote", s.promote, rollouts::parsePromoteRequest, kPromotes);
  if (!error.ok()) return error;
  return s;
}

}  // namespace governor::controller
