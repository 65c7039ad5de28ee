#include "rollouts/analysis_spec.h"

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <utility>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "policies/manifest_reader.h"
#include "policies/query_template.h"
#include "policies/spec_parser.h"

namespace governor::rollouts {
namespace {

using policies::ManifestReader;

bool isDns1123Subdomain(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

// Metric and arg names: they appear in messages, status and {{args.NAME}}.
bool isName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

bool isSet(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

class Parser : public ManifestReader {
 public:
  using ManifestReader::ManifestReader;

  AnalysisTemplateSpec parseDocument(const YAML::Node& doc);

 private:
  void parseMetadata(const YAML::Node& node, AnalysisTemplateSpec& out);
  void parseSpec(const YAML::Node& node, AnalysisTemplateSpec& out);
  void parseArgs(const YAML::Node& node, AnalysisTemplateSpec& out);
  void parseMetric(const YAML::Node& node, const std::string& path,
                   const policies::TemplateSchema& schema, AnalysisMetric& out);
  std::optional<Duration> duration(const YAML::Node& parent, const std::string& parent_path,
                                   const char* key, Duration min, Duration max);
  std::optional<Condition> condition(const YAML::Node& parent, const std::string& parent_path,
                                     const char* key);
};

AnalysisTemplateSpec Parser::parseDocument(const YAML::Node& doc) {
  AnalysisTemplateSpec out;
  const Envelope e = envelope(doc, policies::kApiVersion, kAnalysisTemplateKind);
  if (e.metadata.IsMap()) parseMetadata(e.metadata, out);
  if (e.spec.IsMap()) parseSpec(e.spec, out);
  return out;
}

void Parser::parseMetadata(const YAML::Node& node, AnalysisTemplateSpec& out) {
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

void Parser::parseSpec(const YAML::Node& node, AnalysisTemplateSpec& out) {
  rejectUnknown(node, "spec", {"args", "metrics"});
  parseArgs(node["args"], out);
  // The query templates may use exactly the declared args, and no ScalingPolicy built-in:
  // an AnalysisTemplate has no target of its own.
  policies::TemplateSchema schema{.builtins = false, .args = {}};
  for (const auto& arg : out.args) schema.args.insert(arg.name);

  const YAML::Node metrics = node["metrics"];
  if (!isSet(metrics)) {
    error(node, "spec.metrics", "required");
    return;
  }
  if (!metrics.IsSequence()) {
    error(metrics, "spec.metrics", "must be a list, got " + kindName(metrics));
    return;
  }
  if (metrics.size() == 0) {
    error(metrics, "spec.metrics", "must have at least one metric");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < metrics.size(); ++i) {
    const std::string path = index("spec.metrics", i);
    AnalysisMetric metric;
    parseMetric(metrics[i], path, schema, metric);
    if (!metric.name.empty() && !names.insert(metric.name).second) {
      error(metrics[i]["name"], path + ".name", "duplicate metric name \"" + metric.name + "\"");
    }
    out.metrics.push_back(std::move(metric));
  }
}

void Parser::parseArgs(const YAML::Node& node, AnalysisTemplateSpec& out) {
  if (!isSet(node)) return;
  if (!node.IsSequence()) {
    error(node, "spec.args", "must be a list, got " + kindName(node));
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string path = index("spec.args", i);
    const YAML::Node item = node[i];
    if (!expectMap(item, path)) continue;
    // Argo's valueFrom (secrets, field references) is not supported: rejected as unknown.
    rejectUnknown(item, path, {"name", "value"});
    AnalysisTemplateArg arg;
    if (auto name = string(item, path, "name", true)) {
      if (!isName(*name)) {
        error(item["name"], path + ".name",
              "must be 1-63 letters, digits, '-', '_' or '.', got \"" + *name + "\"");
      } else if (!names.insert(*name).second) {
        error(item["name"], path + ".name", "duplicate arg name \"" + *name + "\"");
      } else {
        arg.name = *name;
      }
    }
    arg.value = string(item, path, "value", false);
    if (!arg.name.empty()) out.args.push_back(std::move(arg));
  }
}

std::optional<Duration> Parser::duration(const YAML::Node& parent, const std::string& parent_path,
                                         const char* key, Duration min, Duration max) {
  auto text = string(parent, parent_path, key, false);
  if (!text) return std::nullopt;
  const std::string path = join(parent_path, key);
  auto d = parseDuration(*text);
  if (!d.ok()) {
    error(parent[key], path, d.status().message());
    return std::nullopt;
  }
  if (*d < min || *d > max) {
    error(parent[key], path,
          "must be in [" + formatDuration(min) + ", " + formatDuration(max) + "], got \"" + *text +
              "\"");
    return std::nullopt;
  }
  return *d;
}

std::optional<Condition> Parser::condition(const YAML::Node& parent, const std::string& parent_path,
                                           const char* key) {
  if (!isSet(parent[key])) return std::nullopt;
  auto text = string(parent, parent_path, key, true);
  if (!text) return std::nullopt;
  auto compiled = compileCondition(*text);
  if (!compiled.ok()) {
    error(parent[key], join(parent_path, key), compiled.status().message());
    return std::nullopt;
  }
  return std::move(compiled).value();
}

void Parser::parseMetric(const YAML::Node& node, const std::string& path,
                         const policies::TemplateSchema& schema, AnalysisMetric& out) {
  if (!expectMap(node, path)) return;
  rejectUnknown(
      node, path,
      {"name", "interval", "count", "initialDelay", "successCondition", "failureCondition",
       "thresholdRange", "failureLimit", "inconclusiveLimit", "consecutiveErrorLimit", "provider"});
  if (auto name = string(node, path, "name", true)) {
    if (!isName(*name)) {
      error(node["name"], path + ".name",
            "must be 1-63 letters, digits, '-', '_' or '.', got \"" + *name + "\"");
    }
    out.name = *name;
  }
  if (auto d = duration(node, path, "interval", kMinAnalysisInterval, kMaxAnalysisDelay)) {
    out.interval = *d;
  }
  if (auto d = duration(node, path, "initialDelay", Duration(0), kMaxAnalysisDelay)) {
    out.initial_delay = *d;
  }
  if (auto v = integer(node, path, "count", false, 0, kMaxAnalysisCount)) {
    out.count = static_cast<int32_t>(*v);
  }
  if (auto v = integer(node, path, "failureLimit", false, 0, kMaxAnalysisLimit)) {
    out.failure_limit = static_cast<int32_t>(*v);
  }
  if (auto v = integer(node, path, "inconclusiveLimit", false, 0, kMaxAnalysisLimit)) {
    out.inconclusive_limit = static_cast<int32_t>(*v);
  }
  if (auto v = integer(node, path, "consecutiveErrorLimit", false, 0, kMaxAnalysisLimit)) {
    out.consecutive_error_limit = static_cast<int32_t>(*v);
  }

  out.success_condition = condition(node, path, "successCondition");
  out.failure_condition = condition(node, path, "failureCondition");
  const YAML::Node range = node["thresholdRange"];
  const std::string range_path = path + ".thresholdRange";
  if (isSet(range) && expectMap(range, range_path)) {
    rejectUnknown(range, range_path, {"min", "max"});
    constexpr double kInf = std::numeric_limits<double>::infinity();
    ThresholdRange r;
    r.min = number(range, range_path, "min", false, -kInf, kInf);
    r.max = number(range, range_path, "max", false, -kInf, kInf);
    if (!isSet(range["min"]) && !isSet(range["max"])) {
      error(range, range_path, "must set min, max or both");
    } else if (r.min && r.max && *r.min > *r.max) {
      error(range["max"], range_path + ".max",
            "must be >= min (" + formatNumber(*r.min) + "), got " + range["max"].Scalar());
    }
    out.threshold_range = r;
  }
  const bool has_condition = isSet(node["successCondition"]) || isSet(node["failureCondition"]);
  if (isSet(range) && has_condition) {
    error(range, range_path,
          "set either thresholdRange or successCondition/failureCondition, not both");
  } else if (!isSet(range) && !has_condition) {
    error(node, path,
          "must set successCondition, failureCondition or thresholdRange (a metric that "
          "cannot fail gates nothing)");
  }

  const YAML::Node provider = node["provider"];
  const std::string provider_path = path + ".provider";
  if (!isSet(provider)) {
    error(node, provider_path, "required");
    return;
  }
  if (!expectMap(provider, provider_path)) return;
  rejectUnknown(provider, provider_path, {"prometheus"});
  const YAML::Node prom = provider["prometheus"];
  const std::string prom_path = provider_path + ".prometheus";
  if (!isSet(prom)) {
    error(provider, prom_path, "required (the only provider)");
    return;
  }
  if (!expectMap(prom, prom_path)) return;
  rejectUnknown(prom, prom_path, {"address", "query"});
  if (auto query = string(prom, prom_path, "query", true)) {
    out.prometheus.query = *query;
    Status valid = policies::validateQueryTemplate(*query, schema);
    if (!valid.ok()) error(prom["query"], prom_path + ".query", valid.message());
  }
  if (auto address = string(prom, prom_path, "address", false)) {
    if (address->rfind("http://", 0) != 0 && address->rfind("https://", 0) != 0) {
      error(prom["address"], prom_path + ".address",
            "must be an http:// or https:// URL, got \"" + *address + "\"");
    }
    out.prometheus.address = *address;
  }
}

}  // namespace

Result<std::vector<AnalysisTemplateSpec>> parseAnalysisTemplates(std::string_view text,
                                                                 std::string_view source) {
  std::vector<AnalysisTemplateSpec> out;
  Status status =
      ManifestReader::forEachDocument(text, source, [&](const YAML::Node& doc) -> Status {
        Parser parser(source);
        AnalysisTemplateSpec spec = parser.parseDocument(doc);
        if (!parser.ok()) return parser.status();
        out.push_back(std::move(spec));
        return Status::okStatus();
      });
  if (!status.ok()) return status;
  return out;
}

Result<AnalysisTemplateSpec> parseAnalysisTemplate(std::string_view text, std::string_view source) {
  auto all = parseAnalysisTemplates(text, source);
  if (!all.ok()) return all.status();
  if (all->size() != 1) {
    return invalidArgument(std::string(source) + ": expected one AnalysisTemplate, found " +
                           std::to_string(all->size()));
  }
  return std::move(all->front());
}

Result<std::map<std::string, std::string>> resolveArgs(
    const AnalysisTemplateSpec& spec, const std::map<std::string, std::string>& supplied) {
  std::map<std::string, std::string> out;
  std::string missing;
  for (const auto& arg : spec.args) {
    if (auto it = supplied.find(arg.name); it != supplied.end()) {
      out[arg.name] = it->second;
    } else if (arg.value) {
      out[arg.name] = *arg.value;
    } else {
      missing += "\nAnalysisTemplate " + spec.namespace_ + "/" + spec.name + ": arg \"" + arg.name +
                 "\" has no value: the template gives none and the Rollout supplies none";
    }
  }
  if (!missing.empty()) return invalidArgument(missing.substr(1));
  return out;
}

Result<std::string> renderMetricQuery(const AnalysisMetric& metric,
                                      const std::map<std::string, std::string>& args) {
  // The parser allowed args only; checking again keeps a built-in from rendering as "" if a
  // spec was built by hand.
  policies::TemplateSchema schema{.builtins = false, .args = {}};
  for (const auto& [name, value] : args) schema.args.insert(name);
  Status valid = policies::validateQueryTemplate(metric.prometheus.query, schema);
  if (!valid.ok()) return invalidArgument("metric " + metric.name + ": " + valid.message());
  policies::TemplateVars vars;
  vars.args = args;
  auto rendered = policies::renderQuery(metric.prometheus.query, vars);
  if (!rendered.ok()) {
    return invalidArgument("metric " + metric.name + ": " + rendered.status().message());
  }
  return rendered;
}

std::optional<Duration> expectedDuration(const AnalysisTemplateSpec& spec) {
  Duration longest{0};
  for (const auto& metric : spec.metrics) {
    if (metric.count == 0) return std::nullopt;
    longest = std::max(longest, metric.initial_delay + (metric.count - 1) * metric.interval);
  }
  return longest;
}

}  // namespace governor::rollouts
