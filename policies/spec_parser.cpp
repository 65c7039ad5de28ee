#include "policies/spec_parser.h"

#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "policies/manifest_reader.h"
#include "policies/quantity.h"
#include "policies/query_template.h"
#include "policies/schedule.h"

namespace governor::policies {
namespace {

// HPA's validation limits (k8s.io/kubernetes pkg/apis/autoscaling/validation).
constexpr int64_t kMaxStabilizationWindowSeconds = 3600;
constexpr int64_t kMaxPeriodSeconds = 1800;
// Governor's: a cooldown of more than a day is a mistake, not a policy.
constexpr int64_t kMaxCooldownSeconds = 86400;

bool isDns1123Subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

bool isMetricName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Reads one ScalingPolicy document: the shared field readers, plus the policy's own field
// types (quantities, durations, cron expressions).
class Parser : public ManifestReader {
 public:
  using ManifestReader::ManifestReader;

  // A quantity (`"100m"`, `500`), > 0.
  std::optional<double> positiveQuantity(const YAML::Node& parent, const std::string& parent_path,
                                         const char* key) {
    auto text = string(parent, parent_path, key, true);
    if (!text) return std::nullopt;
    std::string path = join(parent_path, key);
    auto q = parseQuantity(*text);
    if (!q.ok()) {
      error(parent[key], path, q.status().message());
      return std::nullopt;
    }
    if (*q <= 0) {
      error(parent[key], path, "must be > 0, got " + *text);
      return std::nullopt;
    }
    return *q;
  }

  PolicySpec parseDocument(const YAML::Node& doc);

 private:
  void parseMetadata(const YAML::Node& node, PolicySpec& out);
  void parseSpec(const YAML::Node& node, PolicySpec& out);
  void parseMetric(const YAML::Node& node, const std::string& path, MetricSpec& out);
  void parseSchedule(const YAML::Node& node, const std::string& path, ScheduleSpec& out);
  void parseRules(const YAML::Node& node, const std::string& path, ScalingRules& out);
  std::optional<CronExpr> cron(const YAML::Node& parent, const std::string& parent_path,
                               const char* key, bool required);
  std::optional<Duration> duration(const YAML::Node& parent, const std::string& parent_path,
                                   const char* key, Duration min, Duration max);
  void parsePredictive(const YAML::Node& node, const std::string& path,
                       const std::vector<MetricSpec>& metrics, PredictiveSpec& out);
};

PolicySpec Parser::parseDocument(const YAML::Node& doc) {
  PolicySpec out;
  const Envelope e = envelope(doc, kApiVersion, kScalingPolicyKind);
  if (e.metadata.IsMap()) parseMetadata(e.metadata, out);
  if (e.spec.IsMap()) parseSpec(e.spec, out);
  return out;
}

void Parser::parseMetadata(const YAML::Node& node, PolicySpec& out) {
  if (auto name = string(node, "metadata", "name", true)) {
    if (!isDns1123Subdomain(*name)) {
      error(node["name"], "metadata.name",
            "must be a DNS-1123 subdomain (lowercase letters, digits, '-' and '.'), got \"" +
                *name + "\"");
    }
    out.name = *name;
  }
  out.namespace_ = string(node, "metadata", "namespace", false).value_or("default");
  if (!isDns1123Subdomain(out.namespace_) || out.namespace_.find('.') != std::string::npos) {
    error(node["namespace"], "metadata.namespace",
          "must be a DNS-1123 label, got \"" + out.namespace_ + "\"");
  }
}

void Parser::parseSpec(const YAML::Node& node, PolicySpec& out) {
  rejectUnknown(node, "spec",
                {"scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "schedules", "behavior",
                 "predictive", "fallback", "syncPeriodSeconds"});
  const YAML::Node ref = node["scaleTargetRef"];
  if (!ref.IsDefined()) {
    error(node, "spec.scaleTargetRef", "required");
  } else if (expectMap(ref, "spec.scaleTargetRef")) {
    rejectUnknown(ref, "spec.scaleTargetRef", {"apiVersion", "kind", "name"});
    out.scale_target_ref.api_version =
        string(ref, "spec.scaleTargetRef", "apiVersion", false).value_or("");
    out.scale_target_ref.kind = string(ref, "spec.scaleTargetRef", "kind", true).value_or("");
    out.scale_target_ref.name = string(ref, "spec.scaleTargetRef", "name", true).value_or("");
  }

  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  // minReplicas 0 is allowed, as HPA allows it with HPAScaleToZero.
  auto min = integer(node, "spec", "minReplicas", false, 0, kInt32Max);
  out.min_replicas = static_cast<int32_t>(min.value_or(1));
  if (auto max = integer(node, "spec", "maxReplicas", true, 1, kInt32Max)) {
    out.max_replicas = static_cast<int32_t>(*max);
    if (out.max_replicas < out.min_replicas) {
      error(node["maxReplicas"], "spec.maxReplicas",
            "must be >= minReplicas (" + std::to_string(out.min_replicas) + "), got " +
                std::to_string(out.max_replicas));
    }
  }

  if (auto sync = integer(node, "spec", "syncPeriodSeconds", false, 1, 3600)) {
    out.sync_period = Seconds(*sync);
  }
  const YAML::Node fallback = node["fallback"];
  if (fallback.IsDefined() && !fallback.IsNull() && expectMap(fallback, "spec.fallback")) {
    rejectUnknown(fallback, "spec.fallback", {"replicas", "afterFailures"});
    FallbackSpec f;
    f.replicas = static_cast<int32_t>(
        integer(fallback, "spec.fallback", "replicas", true, 0, kInt32Max).value_or(0));
    f.after_failures = static_cast<int32_t>(
        integer(fallback, "spec.fallback", "afterFailures", false, 1, 1000).value_or(3));
    out.fallback = f;
  }

  const YAML::Node metrics = node["metrics"];
  if (metrics.IsDefined() && !metrics.IsNull()) {
    if (!metrics.IsSequence()) {
      error(metrics, "spec.metrics", "must be a list, got " + kindName(metrics));
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < metrics.size(); ++i) {
        std::string path = index("spec.metrics", i);
        MetricSpec metric;
        parseMetric(metrics[i], path, metric);
        if (!metric.name.empty() && !names.insert(metric.name).second) {
          error(metrics[i]["name"], path + ".name",
                "duplicate metric name \"" + metric.name + "\"");
        }
        out.metrics.push_back(std::move(metric));
      }
    }
  }

  const YAML::Node schedules = node["schedules"];
  if (schedules.IsDefined() && !schedules.IsNull()) {
    if (!schedules.IsSequence()) {
      error(schedules, "spec.schedules", "must be a list, got " + kindName(schedules));
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < schedules.size(); ++i) {
        std::string path = index("spec.schedules", i);
        ScheduleSpec schedule;
        parseSchedule(schedules[i], path, schedule);
        if (!schedule.name.empty() && !names.insert(schedule.name).second) {
          error(schedules[i]["name"], path + ".name",
                "duplicate schedule name \"" + schedule.name + "\"");
        }
        out.schedules.push_back(std::move(schedule));
      }
    }
  }

  out.behavior = Behavior::hpaDefaults();
  const YAML::Node behavior = node["behavior"];
  if (behavior.IsDefined() && !behavior.IsNull() && expectMap(behavior, "spec.behavior")) {
    rejectUnknown(behavior, "spec.behavior", {"scaleUp", "scaleDown"});
    parseRules(behavior["scaleUp"], "spec.behavior.scaleUp", out.behavior.scale_up);
    parseRules(behavior["scaleDown"], "spec.behavior.scaleDown", out.behavior.scale_down);
  }

  const YAML::Node predictive = node["predictive"];
  if (predictive.IsDefined() && !predictive.IsNull() && expectMap(predictive, "spec.predictive")) {
    PredictiveSpec p;
    parsePredictive(predictive, "spec.predictive", out.metrics, p);
    out.predictive = std::move(p);
  }
}

std::optional<Duration> Parser::duration(const YAML::Node& parent, const std::string& parent_path,
                                         const char* key, Duration min, Duration max) {
  const YAML::Node node = parent[key];
  std::string path = join(parent_path, key);
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  auto text = string(parent, parent_path, key, true);
  if (!text) return std::nullopt;
  auto d = parseDuration(*text);
  if (!d.ok()) {
    error(node, path, d.status().message());
    return std::nullopt;
  }
  if (*d < min || *d > max) {
    error(node, path,
          "must be in [" + formatDuration(min) + ", " + formatDuration(max) + "], got \"" + *text +
              "\"");
    return std::nullopt;
  }
  return *d;
}

void Parser::parsePredictive(const YAML::Node& node, const std::string& path,
                             const std::vector<MetricSpec>& metrics, PredictiveSpec& out) {
  rejectUnknown(node, path,
                {"metric", "model", "seasonalPeriods", "history", "leadSeconds", "quantile",
                 "refitSeconds", "mode", "resolution", "maxBacktestMase"});
  if (auto metric = string(node, path, "metric", true)) {
    out.metric = *metric;
    const MetricSpec* found = nullptr;
    for (const auto& m : metrics) {
      if (m.name == *metric) found = &m;
    }
    if (found == nullptr) {
      error(node["metric"], path + ".metric",
            "no entry of spec.metrics is named \"" + *metric + "\"");
    } else if (found->target.type == TargetType::kValue) {
      error(node["metric"], path + ".metric",
            "metric \"" + *metric +
                "\" has a Value target; the predictive policy needs a Utilization or "
                "AverageValue target, whose per-replica meaning turns the forecast into replicas");
    }
  }
  if (auto model = string(node, path, "model", false)) {
    if (*model == "auto") {
      out.model = PredictiveModelKind::kAuto;
    } else if (*model == "holt-winters") {
      out.model = PredictiveModelKind::kHoltWinters;
    } else if (*model == "harmonic") {
      out.model = PredictiveModelKind::kHarmonic;
    } else if (*model == "linear") {
      out.model = PredictiveModelKind::kLinear;
    } else if (*model == "seasonal-naive") {
      out.model = PredictiveModelKind::kSeasonalNaive;
    } else {
      error(
          node["model"], path + ".model",
          "must be auto, holt-winters, harmonic, linear or seasonal-naive, got \"" + *model + "\"");
    }
  }
  constexpr Duration kMinute{60'000};
  constexpr Duration kDay{86'400'000};
  if (auto r = duration(node, path, "resolution", Duration(1'000), kDay)) out.resolution = *r;
  if (auto h = duration(node, path, "history", kMinute, 366 * kDay)) out.history = *h;

  const YAML::Node periods = node["seasonalPeriods"];
  std::string periods_path = path + ".seasonalPeriods";
  if (periods.IsDefined() && !periods.IsNull()) {
    if (!periods.IsSequence() || periods.size() == 0) {
      error(periods, periods_path, "must be a non-empty list of durations");
    } else {
      for (size_t i = 0; i < periods.size(); ++i) {
        std::string p = index(periods_path, i);
        if (!periods[i].IsScalar()) {
          error(periods[i], p, "must be a duration, got " + kindName(periods[i]));
          continue;
        }
        auto d = parseDuration(periods[i].Scalar());
        if (!d.ok()) {
          error(periods[i], p, d.status().message());
        } else if (*d < 3 * out.resolution) {
          error(periods[i], p,
                "must be at least 3 steps of resolution " + formatDuration(out.resolution) +
                    ", got \"" + periods[i].Scalar() + "\"");
        } else {
          out.seasonal_periods.push_back(*d);
        }
      }
    }
  } else {
    out.seasonal_periods = {kDay};
  }
  for (const auto& period : out.seasonal_periods) {
    if (out.history < 2 * period) {
      error(node["history"].IsDefined() ? node["history"] : node, path + ".history",
            "must hold at least two of the longest season (" + formatDuration(2 * period) +
                "), got " + formatDuration(out.history));
      break;
    }
  }
  if (auto lead = integer(node, path, "leadSeconds", false, 0, 86400)) {
    out.lead = Seconds(*lead);
  }
  if (auto q = number(node, path, "quantile", false, 0.5, 0.999)) out.quantile = *q;
  if (auto refit = integer(node, path, "refitSeconds", false, 1, 7 * 86400)) {
    out.refit = Seconds(*refit);
  }
  if (auto m = number(node, path, "maxBacktestMase", false, 0.0, 1e6)) out.max_backtest_mase = *m;
  if (auto mode = string(node, path, "mode", false)) {
    if (*mode == "apply") {
      out.mode = PredictiveMode::kApply;
    } else if (*mode == "forecastOnly") {
      out.mode = PredictiveMode::kForecastOnly;
    } else {
      error(node["mode"], path + ".mode", "must be apply or forecastOnly, got \"" + *mode + "\"");
    }
  }
}

void Parser::parseMetric(const YAML::Node& node, const std::string& path, MetricSpec& out) {
  if (!expectMap(node, path)) return;
  rejectUnknown(node, path, {"name", "prometheus", "target"});
  if (auto name = string(node, path, "name", true)) {
    if (!isMetricName(*name)) {
      error(node["name"], path + ".name",
            "must be 1-63 letters, digits, '-', '_' or '.', got \"" + *name + "\"");
    }
    out.name = *name;
  }
  const YAML::Node prom = node["prometheus"];
  std::string prom_path = path + ".prometheus";
  if (!prom.IsDefined()) {
    error(node, prom_path, "required");
  } else if (expectMap(prom, prom_path)) {
    rejectUnknown(prom, prom_path, {"query", "perPod", "address"});
    out.prometheus.query = string(prom, prom_path, "query", true).value_or("");
    // The template is checked now, so a policy whose query could never be rendered safely is
    // InvalidSpec with its field path, not a metrics failure at every sync.
    if (!out.prometheus.query.empty()) {
      Status valid = validateQueryTemplate(out.prometheus.query);
      if (!valid.ok()) error(prom["query"], prom_path + ".query", valid.message());
    }
    out.prometheus.per_pod = boolean(prom, prom_path, "perPod").value_or(false);
    if (auto address = string(prom, prom_path, "address", false)) {
      if (address->rfind("http://", 0) != 0 && address->rfind("https://", 0) != 0) {
        error(prom["address"], prom_path + ".address",
              "must be an http:// or https:// URL, got \"" + *address + "\"");
      }
      out.prometheus.address = *address;
    }
  }
  const YAML::Node target = node["target"];
  std::string target_path = path + ".target";
  if (!target.IsDefined()) {
    error(node, target_path, "required");
    return;
  }
  if (!expectMap(target, target_path)) return;
  auto type = string(target, target_path, "type", true);
  if (!type) return;
  if (*type == "Utilization") {
    rejectUnknown(target, target_path, {"type", "averageUtilization"});
    out.target.type = TargetType::kUtilization;
    auto v = integer(target, target_path, "averageUtilization", true, 1,
                     std::numeric_limits<int32_t>::max());
    out.target.value = static_cast<double>(v.value_or(0));
  } else if (*type == "AverageValue") {
    rejectUnknown(target, target_path, {"type", "averageValue"});
    out.target.type = TargetType::kAverageValue;
    out.target.value = positiveQuantity(target, target_path, "averageValue").value_or(0);
  } else if (*type == "Value") {
    rejectUnknown(target, target_path, {"type", "value"});
    out.target.type = TargetType::kValue;
    out.target.value = positiveQuantity(target, target_path, "value").value_or(0);
  } else {
    error(target["type"], target_path + ".type",
          "must be Utilization, AverageValue or Value, got \"" + *type + "\"");
  }
}

std::optional<CronExpr> Parser::cron(const YAML::Node& parent, const std::string& parent_path,
                                     const char* key, bool required) {
  auto text = string(parent, parent_path, key, required);
  if (!text) return std::nullopt;
  auto parsed = CronExpr::parse(*text);
  if (!parsed.ok()) {
    error(parent[key], join(parent_path, key),
          "invalid cron \"" + *text + "\": " + parsed.status().message());
    return std::nullopt;
  }
  if (!parsed->canMatch()) {
    error(parent[key], join(parent_path, key), "cron \"" + *text + "\" never fires");
    return std::nullopt;
  }
  return std::move(parsed).value();
}

void Parser::parseSchedule(const YAML::Node& node, const std::string& path, ScheduleSpec& out) {
  if (!expectMap(node, path)) return;
  rejectUnknown(
      node, path,
      {"name", "timeZone", "start", "duration", "end", "minReplicas", "maxReplicas", "replicas"});
  out.name = string(node, path, "name", true).value_or("");
  out.time_zone = string(node, path, "timeZone", false).value_or("UTC");
  auto zone = findTimeZone(out.time_zone);
  if (zone.ok()) {
    out.zone = *zone;
  } else {
    error(node["timeZone"], path + ".timeZone", zone.status().message());
  }
  if (auto start = cron(node, path, "start", true)) out.start = std::move(*start);

  const bool has_duration = node["duration"].IsDefined() && !node["duration"].IsNull();
  const bool has_end = node["end"].IsDefined() && !node["end"].IsNull();
  if (has_duration && has_end) {
    error(node["end"], path + ".end", "set either duration or end, not both");
  } else if (!has_duration && !has_end) {
    error(node, path + ".duration", "required (or end)");
  } else if (has_duration) {
    if (auto text = string(node, path, "duration", true)) {
      auto d = parseDuration(*text);
      if (!d.ok()) {
        error(node["duration"], path + ".duration", d.status().message());
      } else if (d->count() <= 0) {
        error(node["duration"], path + ".duration", "must be > 0, got \"" + *text + "\"");
      } else {
        out.duration = *d;
      }
    }
  } else {
    out.end = cron(node, path, "end", true);
  }

  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  // A window never drives the target to zero: HPA's rule (a target at zero replicas is
  // left alone) would then keep it there after the window.
  if (auto v = integer(node, path, "minReplicas", false, 0, kInt32Max)) {
    out.min_replicas = static_cast<int32_t>(*v);
  }
  if (auto v = integer(node, path, "maxReplicas", false, 1, kInt32Max)) {
    out.max_replicas = static_cast<int32_t>(*v);
  }
  if (auto v = integer(node, path, "replicas", false, 1, kInt32Max)) {
    out.replicas = static_cast<int32_t>(*v);
  }
  if (out.replicas && (out.min_replicas || out.max_replicas)) {
    error(node["replicas"], path + ".replicas",
          "set either replicas or minReplicas/maxReplicas, not both");
  }
  const bool sets_something = out.replicas || out.min_replicas || out.max_replicas ||
                              node["replicas"].IsDefined() || node["minReplicas"].IsDefined() ||
                              node["maxReplicas"].IsDefined();
  if (!sets_something) {
    error(node, path, "must set replicas, minReplicas or maxReplicas");
  }
  if (out.min_replicas && out.max_replicas && *out.min_replicas > *out.max_replicas) {
    error(node["maxReplicas"], path + ".maxReplicas",
          "must be >= minReplicas (" + std::to_string(*out.min_replicas) + ")");
  }
}

void Parser::parseRules(const YAML::Node& node, const std::string& path, ScalingRules& out) {
  if (!node.IsDefined() || node.IsNull()) return;  // HPA defaults stay.
  if (!expectMap(node, path)) return;
  rejectUnknown(
      node, path,
      {"stabilizationWindowSeconds", "tolerance", "cooldownSeconds", "selectPolicy", "policies"});
  if (auto v = integer(node, path, "stabilizationWindowSeconds", false, 0,
                       kMaxStabilizationWindowSeconds)) {
    out.stabilization_window = Seconds(*v);
  }
  if (auto v = number(node, path, "tolerance", false, 0.0, 1.0)) out.tolerance = *v;
  if (auto v = integer(node, path, "cooldownSeconds", false, 0, kMaxCooldownSeconds)) {
    out.cooldown = Seconds(*v);
  }
  if (auto select = string(node, path, "selectPolicy", false)) {
    if (*select == "Max") {
      out.select_policy = SelectPolicy::kMax;
    } else if (*select == "Min") {
      out.select_policy = SelectPolicy::kMin;
    } else if (*select == "Disabled") {
      out.select_policy = SelectPolicy::kDisabled;
    } else {
      error(node["selectPolicy"], path + ".selectPolicy",
            "must be Max, Min or Disabled, got \"" + *select + "\"");
    }
  }
  const YAML::Node policies = node["policies"];
  if (!policies.IsDefined() || policies.IsNull()) return;
  std::string policies_path = path + ".policies";
  if (!policies.IsSequence()) {
    error(policies, policies_path, "must be a list, got " + kindName(policies));
    return;
  }
  if (policies.size() == 0) {
    error(policies, policies_path, "must have at least one policy (or be left out)");
    return;
  }
  out.policies.clear();
  for (size_t i = 0; i < policies.size(); ++i) {
    std::string p = index(policies_path, i);
    const YAML::Node item = policies[i];
    if (!expectMap(item, p)) continue;
    rejectUnknown(item, p, {"type", "value", "periodSeconds"});
    ScalingRule rule;
    if (auto type = string(item, p, "type", true)) {
      if (*type == "Pods") {
        rule.type = ScalingPolicyType::kPods;
      } else if (*type == "Percent") {
        rule.type = ScalingPolicyType::kPercent;
      } else {
        error(item["type"], p + ".type", "must be Pods or Percent, got \"" + *type + "\"");
      }
    }
    rule.value = static_cast<int32_t>(
        integer(item, p, "value", true, 1, std::numeric_limits<int32_t>::max()).value_or(1));
    rule.period =
        Seconds(integer(item, p, "periodSeconds", true, 1, kMaxPeriodSeconds).value_or(15));
    out.policies.push_back(rule);
  }
}

}  // namespace

Result<PolicySpec> parsePolicy(std::string_view text, std::string_view source) {
  auto all = parsePolicies(text, source);
  if (!all.ok()) return all.status();
  if (all->size() != 1) {
    return invalidArgument(std::string(source) + ": expected one ScalingPolicy, found " +
                           std::to_string(all->size()));
  }
  return std::move(all->front());
}

Result<std::vector<PolicySpec>> parsePolicies(std::string_view text, std::string_view source) {
  std::vector<PolicySpec> out;
  Status status =
      ManifestReader::forEachDocument(text, source, [&](const YAML::Node& doc) -> Status {
        Parser parser(source);
        PolicySpec spec = parser.parseDocument(doc);
        if (!parser.ok()) return parser.status();
        out.push_back(std::move(spec));
        return Status::okStatus();
      });
  if (!status.ok()) return status;
  return out;
}

}  // namespace governor::policies
