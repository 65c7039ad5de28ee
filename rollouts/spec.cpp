#include "rollouts/spec.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/duration.h"
#include "policies/manifest_reader.h"
#include "rollouts/template_hash.h"

namespace governor::rollouts {
namespace {

using policies::ManifestReader;

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
// The ReplicaSets are named "<rollout>-<hash>" (a hash has at most 10 characters), and an
// object name is a DNS-1123 subdomain of at most 253.
constexpr size_t kMaxRolloutNameLength = 253 - 11;
// A pause longer than a year is a typo; the bound also keeps the arithmetic of elapsed
// times far from overflow.
constexpr Duration kMaxPause = std::chrono::hours(24 * 366);

bool isAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool isDns1123Label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!isAlnum(s.front()) || !isAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return isAlnum(c) || c == '-'; });
}

bool isDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    if (!isDns1123Label(s.substr(start, dot == std::string_view::npos ? dot : dot - start))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// Service names are RFC 1035 labels: a DNS-1123 label that starts with a letter.
bool isDns1035Label(std::string_view s) {
  return isDns1123Label(s) && s.front() >= 'a' && s.front() <= 'z';
}

// The name part of a label key, and a label value: up to 63 of [A-Za-z0-9-_.], starting and
// ending alphanumeric (a value may be empty).
bool isLabelName(std::string_view s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  if (s.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A label key: [prefix/]name, the prefix a DNS-1123 subdomain.
bool isLabelKey(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return isLabelName(s, false);
  return isDns1123Subdomain(s.substr(0, slash)) && isLabelName(s.substr(slash + 1), false);
}

// Names of analysis arguments, as {{args.NAME}} refers to them.
bool isArgName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

bool has(const YAML::Node& map, const char* key) {
  return map.IsMap() && map[key].IsDefined() && !map[key].IsNull();
}

// Reads one Rollout document: ManifestReader's field readers plus the Rollout's own types.
class Parser : public ManifestReader {
 public:
  using ManifestReader::ManifestReader;

  RolloutSpec parseDocument(const YAML::Node& doc);

 private:
  void parseMetadata(const YAML::Node& node, RolloutSpec& out);
  void parseSpec(const YAML::Node& node, RolloutSpec& out);
  std::optional<std::map<std::string, std::string>> labelMap(const YAML::Node& node,
                                                             const std::string& path);
  void parseSelector(const YAML::Node& node, const std::string& path, LabelSelector& out);
  bool parseTemplate(const YAML::Node& node, const std::string& path, PodTemplate& out);
  void parseCanary(const YAML::Node& node, const std::string& path, CanaryStrategy& out);
  std::optional<CanaryStep> parseStep(const YAML::Node& node, const std::string& path);
  void parseBlueGreen(const YAML::Node& node, const std::string& path, BlueGreenStrategy& out);
  // An analysis reference; `extra` names the one more field a caller allows.
  std::optional<AnalysisRef> analysisRef(const YAML::Node& node, const std::string& path,
                                         std::string_view extra = {});
  std::optional<IntOrPercent> intOrPercent(const YAML::Node& parent, const std::string& path,
                                           const char* key);
  std::optional<std::string> name(const YAML::Node& parent, const std::string& parent_path,
                                  const char* key, bool required, bool (*valid)(std::string_view),
                                  const char* what);
};

RolloutSpec Parser::parseDocument(const YAML::Node& doc) {
  RolloutSpec out;
  const Envelope e = envelope(doc, kApiVersion, kRolloutKind);
  if (e.metadata.IsMap()) parseMetadata(e.metadata, out);
  if (e.spec.IsMap()) parseSpec(e.spec, out);
  return out;
}

std::optional<std::string> Parser::name(const YAML::Node& parent, const std::string& parent_path,
                                        const char* key, bool required,
                                        bool (*valid)(std::string_view), const char* what) {
  auto value = string(parent, parent_path, key, required);
  if (!value) return std::nullopt;
  if (!valid(*value)) {
    error(parent[key], join(parent_path, key),
          std::string("must be a ") + what + ", got \"" + *value + "\"");
    return std::nullopt;
  }
  return value;
}

void Parser::parseMetadata(const YAML::Node& node, RolloutSpec& out) {
  if (auto n = name(node, "metadata", "name", true, isDns1123Subdomain,
                    "DNS-1123 subdomain (lowercase letters, digits, '-' and '.')")) {
    if (n->size() > kMaxRolloutNameLength) {
      error(node["name"], "metadata.name",
            "must be at most " + std::to_string(kMaxRolloutNameLength) +
                " characters (the ReplicaSets are named <name>-<pod-template-hash>), got " +
                std::to_string(n->size()));
    }
    out.name = *n;
  }
  out.namespace_ = name(node, "metadata", "namespace", false, isDns1123Label, "DNS-1123 label")
                       .value_or("default");
}

void Parser::parseSpec(const YAML::Node& node, RolloutSpec& out) {
  rejectUnknown(node, "spec",
                {"replicas", "selector", "template", "strategy", "revisionHistoryLimit",
                 "progressDeadlineSeconds", "paused"});
  out.replicas =
      static_cast<int32_t>(integer(node, "spec", "replicas", false, 0, kInt32Max).value_or(1));
  out.revision_history_limit = static_cast<int32_t>(
      integer(node, "spec", "revisionHistoryLimit", false, 0, kInt32Max).value_or(10));
  out.progress_deadline =
      Seconds(integer(node, "spec", "progressDeadlineSeconds", false, 1, kInt32Max).value_or(600));
  out.paused = boolean(node, "spec", "paused").value_or(false);

  const YAML::Node selector = node["selector"];
  bool selector_ok = false;
  if (!selector.IsDefined() || selector.IsNull()) {
    error(node, "spec.selector", "required");
  } else if (expectMap(selector, "spec.selector")) {
    const bool before = ok();
    parseSelector(selector, "spec.selector", out.selector);
    selector_ok = before && ok();
  }

  const YAML::Node tmpl = node["template"];
  bool template_ok = false;
  if (!tmpl.IsDefined() || tmpl.IsNull()) {
    error(node, "spec.template", "required");
  } else if (expectMap(tmpl, "spec.template")) {
    template_ok = parseTemplate(tmpl, "spec.template", out.pod_template);
  }
  // Only when both were read cleanly: otherwise the mismatch is noise after the real error.
  if (selector_ok && template_ok && !out.selector.matches(out.pod_template.labels)) {
    error(selector, "spec.selector",
          "does not match spec.template.metadata.labels (the Rollout would not own its pods)");
  }

  const YAML::Node strategy = node["strategy"];
  if (!strategy.IsDefined() || strategy.IsNull()) {
    error(node, "spec.strategy", "required (canary or blueGreen)");
    return;
  }
  if (!expectMap(strategy, "spec.strategy")) return;
  rejectUnknown(strategy, "spec.strategy", {"canary", "blueGreen"});
  const bool canary = strategy["canary"].IsDefined();
  const bool blue_green = strategy["blueGreen"].IsDefined();
  if (canary && blue_green) {
    error(strategy["blueGreen"], "spec.strategy",
          "set exactly one of canary or blueGreen, not both");
  } else if (canary) {
    CanaryStrategy c;
    parseCanary(strategy["canary"], "spec.strategy.canary", c);
    out.strategy = std::move(c);
  } else if (blue_green) {
    BlueGreenStrategy b;
    parseBlueGreen(strategy["blueGreen"], "spec.strategy.blueGreen", b);
    out.strategy = std::move(b);
  } else {
    error(strategy, "spec.strategy", "must set canary or blueGreen");
  }
}

std::optional<std::map<std::string, std::string>> Parser::labelMap(const YAML::Node& node,
                                                                   const std::string& path) {
  if (!expectMap(node, path)) return std::nullopt;
  std::map<std::string, std::string> labels;
  bool valid = true;
  for (const auto& kv : node) {
    const std::string key = kv.first.Scalar();
    const std::string entry = join(path, key);
    if (!isLabelKey(key)) {
      error(kv.first, entry,
            "must be a label key ([prefix/]name: up to 63 letters, digits, '-', '_' or '.')");
      valid = false;
      continue;
    }
    if (!kv.second.IsScalar()) {
      error(kv.second, entry, "must be a string, got " + kindName(kv.second));
      valid = false;
      continue;
    }
    if (!isLabelName(kv.second.Scalar(), true)) {
      error(kv.second, entry,
            "must be a label value (up to 63 letters, digits, '-', '_' or '.'), got \"" +
                kv.second.Scalar() + "\"");
      valid = false;
      continue;
    }
    labels[key] = kv.second.Scalar();
  }
  if (!valid) return std::nullopt;
  return labels;
}

void Parser::parseSelector(const YAML::Node& node, const std::string& path, LabelSelector& out) {
  rejectUnknown(node, path, {"matchLabels", "matchExpressions"});
  const YAML::Node labels = node["matchLabels"];
  if (labels.IsDefined() && !labels.IsNull()) {
    if (auto m = labelMap(labels, path + ".matchLabels")) out.match_labels = std::move(*m);
  }
  const YAML::Node exprs = node["matchExpressions"];
  const std::string exprs_path = path + ".matchExpressions";
  if (exprs.IsDefined() && !exprs.IsNull()) {
    if (!exprs.IsSequence()) {
      error(exprs, exprs_path, "must be a list, got " + kindName(exprs));
    } else {
      for (size_t i = 0; i < exprs.size(); ++i) {
        const std::string p = index(exprs_path, i);
        const YAML::Node e = exprs[i];
        if (!expectMap(e, p)) continue;
        rejectUnknown(e, p, {"key", "operator", "values"});
        LabelSelectorRequirement r;
        if (auto key = string(e, p, "key", true)) {
          if (!isLabelKey(*key)) {
            error(e["key"], p + ".key", "must be a label key, got \"" + *key + "\"");
          }
          r.key = *key;
        }
        if (auto op = string(e, p, "operator", true)) {
          if (*op != "In" && *op != "NotIn" && *op != "Exists" && *op != "DoesNotExist") {
            error(e["operator"], p + ".operator",
                  "must be In, NotIn, Exists or DoesNotExist, got \"" + *op + "\"");
          }
          r.op = *op;
        }
        const YAML::Node values = e["values"];
        if (values.IsDefined() && !values.IsNull()) {
          if (!values.IsSequence()) {
            error(values, p + ".values", "must be a list, got " + kindName(values));
          } else {
            for (size_t j = 0; j < values.size(); ++j) {
              if (!values[j].IsScalar()) {
                error(values[j], index(p + ".values", j),
                      "must be a string, got " + kindName(values[j]));
              } else {
                r.values.push_back(values[j].Scalar());
              }
            }
          }
        }
        const bool set_op = r.op == "In" || r.op == "NotIn";
        const bool exists_op = r.op == "Exists" || r.op == "DoesNotExist";
        if (set_op && r.values.empty()) {
          error(values.IsDefined() ? values : e, p + ".values",
                "must be a non-empty list for operator " + r.op);
        } else if (exists_op && !r.values.empty()) {
          error(values, p + ".values", "must be empty for operator " + r.op);
        }
        out.match_expressions.push_back(std::move(r));
      }
    }
  }
  if (out.match_labels.empty() && out.match_expressions.empty() && ok()) {
    error(node, path, "must not be empty (select the template's labels)");
  }
}

bool Parser::parseTemplate(const YAML::Node& node, const std::string& path, PodTemplate& out) {
  const bool before = ok();
  rejectUnknown(node, path, {"metadata", "spec"});
  const YAML::Node metadata = node["metadata"];
  const std::string labels_path = path + ".metadata.labels";
  if (!metadata.IsDefined() || metadata.IsNull()) {
    error(node, labels_path, "required");
  } else if (expectMap(metadata, path + ".metadata")) {
    const YAML::Node labels = metadata["labels"];
    if (!labels.IsDefined() || labels.IsNull()) {
      error(metadata, labels_path, "required");
    } else if (auto m = labelMap(labels, labels_path)) {
      if (m->empty()) error(labels, labels_path, "must not be empty");
      if (m->count(std::string(kPodTemplateHashLabel)) > 0) {
        error(labels[std::string(kPodTemplateHashLabel)], join(labels_path, kPodTemplateHashLabel),
              "is set by the controller for each revision; remove it");
      }
      out.labels = std::move(*m);
    }
  }
  // The pod spec is the kubelet's business; what the controller's ReplicaSets need from it
  // (and the API server would reject them without) is checked here, early, with a line.
  const YAML::Node pod = node["spec"];
  const std::string pod_path = path + ".spec";
  if (!pod.IsDefined() || pod.IsNull()) {
    error(node, pod_path, "required");
  } else if (expectMap(pod, pod_path)) {
    const YAML::Node containers = pod["containers"];
    const std::string containers_path = pod_path + ".containers";
    if (!containers.IsDefined() || containers.IsNull()) {
      error(pod, containers_path, "required");
    } else if (!containers.IsSequence() || containers.size() == 0) {
      error(containers, containers_path,
            "must be a non-empty list, got " +
                (containers.IsSequence() ? std::string("an empty list") : kindName(containers)));
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < containers.size(); ++i) {
        const std::string p = index(containers_path, i);
        if (!expectMap(containers[i], p)) continue;
        if (auto n = name(containers[i], p, "name", true, isDns1123Label, "DNS-1123 label")) {
          if (!names.insert(*n).second) {
            error(containers[i]["name"], p + ".name", "duplicate container name \"" + *n + "\"");
          }
        }
        nonEmptyString(containers[i], p, "image", true);
      }
    }
  }
  auto json = canonicalJson(node);
  if (!json.ok()) {
    error(node, path, json.status().message());
  } else {
    out.json = std::move(json).value();
  }
  return before && ok();
}

std::optional<IntOrPercent> Parser::intOrPercent(const YAML::Node& parent,
                                                 const std::string& parent_path, const char* key) {
  const YAML::Node node = parent[key];
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  const std::string path = join(parent_path, key);
  const std::string what = "must be an integer >= 0 or a percentage like \"25%\", got ";
  if (!node.IsScalar()) {
    error(node, path, what + kindName(node));
    return std::nullopt;
  }
  const std::string& s = node.Scalar();
  if (!s.empty() && s.back() == '%') {
    const std::string digits = s.substr(0, s.size() - 1);
    const bool all_digits =
        !digits.empty() && digits.size() <= 3 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    const int value = all_digits ? std::stoi(digits) : -1;
    if (value < 0 || value > 100) {
      error(node, path, "must be a percentage in [0%, 100%], got \"" + s + "\"");
      return std::nullopt;
    }
    return IntOrPercent{value, true};
  }
  // As with Kubernetes' IntOrString: a string must be a percentage; a count is a number.
  if (node.Tag() != "?") {
    error(node, path, what + kindName(node) + " (a count is written without quotes)");
    return std::nullopt;
  }
  auto count = integer(parent, parent_path, key, false, 0, kInt32Max);
  if (!count) return std::nullopt;
  return IntOrPercent{static_cast<int32_t>(*count), false};
}

std::optional<AnalysisRef> Parser::analysisRef(const YAML::Node& node, const std::string& path,
                                               std::string_view extra) {
  if (!expectMap(node, path)) return std::nullopt;
  if (extra.empty()) {
    rejectUnknown(node, path, {"templates", "args"});
  } else {
    rejectUnknown(node, path, {"templates", "args", extra});
  }
  AnalysisRef out;
  const YAML::Node templates = node["templates"];
  const std::string templates_path = path + ".templates";
  if (!templates.IsDefined() || templates.IsNull()) {
    error(node, templates_path, "required");
  } else if (!templates.IsSequence() || templates.size() == 0) {
    error(templates, templates_path,
          "must be a non-empty list of {templateName: NAME}, got " +
              (templates.IsSequence() ? std::string("an empty list") : kindName(templates)));
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < templates.size(); ++i) {
      const std::string p = index(templates_path, i);
      if (!expectMap(templates[i], p)) continue;
      rejectUnknown(templates[i], p, {"templateName"});
      auto n = name(templates[i], p, "templateName", true, isDns1123Subdomain,
                    "DNS-1123 subdomain (an AnalysisTemplate's name)");
      if (!n) continue;
      if (!seen.insert(*n).second) {
        error(templates[i]["templateName"], p + ".templateName",
              "duplicate template \"" + *n + "\"");
      }
      out.templates.push_back(*n);
    }
  }
  const YAML::Node args = node["args"];
  const std::string args_path = path + ".args";
  if (args.IsDefined() && !args.IsNull()) {
    if (!args.IsSequence()) {
      error(args, args_path, "must be a list of {name, value}, got " + kindName(args));
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < args.size(); ++i) {
        const std::string p = index(args_path, i);
        if (!expectMap(args[i], p)) continue;
        rejectUnknown(args[i], p, {"name", "value"});
        AnalysisArg arg;
        if (auto n = name(args[i], p, "name", true, isArgName,
                          "name of 1-63 letters, digits, '-' or '_'")) {
          if (!seen.insert(*n).second) {
            error(args[i]["name"], p + ".name", "duplicate argument \"" + *n + "\"");
          }
          arg.name = *n;
        }
        // A string, as the AnalysisTemplate substitutes text: `value: 8080` would reach the
        // API server as a number, which the CRD's schema rejects; say so here, with the fix.
        const YAML::Node value = args[i]["value"];
        if (!value.IsDefined() || value.IsNull()) {
          error(args[i], p + ".value", "required");
        } else if (!value.IsScalar()) {
          error(value, p + ".value", "must be a string, got " + kindName(value));
        } else if (auto json = canonicalJson(value); json.ok() && json->front() != '"') {
          error(value, p + ".value",
                "must be a string, got " + *json + " (quote it: \"" + value.Scalar() + "\")");
        } else {
          arg.value = value.Scalar();
        }
        out.args.push_back(std::move(arg));
      }
    }
  }
  return out;
}

std::optional<CanaryStep> Parser::parseStep(const YAML::Node& node, const std::string& path) {
  if (!expectMap(node, path)) return std::nullopt;
  rejectUnknown(node, path, {"setWeight", "pause", "analysis", "setCanaryScale"});
  std::vector<std::string> actions;
  for (const char* key : {"setWeight", "pause", "analysis", "setCanaryScale"}) {
    if (node[key].IsDefined()) actions.emplace_back(key);
  }
  if (actions.size() != 1) {
    std::string got;
    for (const auto& a : actions) got += (got.empty() ? "" : ", ") + a;
    error(node, path,
          "must set exactly one of setWeight, pause, analysis or setCanaryScale" +
              (actions.empty() ? std::string() : ", got " + got));
    return std::nullopt;
  }
  const std::string& action = actions[0];
  const std::string p = join(path, action);
  const YAML::Node value = node[action];
  if (action == "setWeight") {
    auto w = integer(node, path, "setWeight", true, 0, 100);
    if (!w) return std::nullopt;
    return SetWeightStep{static_cast<int32_t>(*w)};
  }
  if (action == "pause") {
    // `pause:` with nothing after it is null: the same as `pause: {}`.
    if (value.IsNull()) return PauseStep{};
    if (!expectMap(value, p)) return std::nullopt;
    rejectUnknown(value, p, {"duration"});
    const YAML::Node d = value["duration"];
    if (!d.IsDefined() || d.IsNull()) return PauseStep{};
    const std::string dp = p + ".duration";
    if (!d.IsScalar()) {
      error(d, dp, "must be a duration (\"10m\") or seconds, got " + kindName(d));
      return std::nullopt;
    }
    Duration duration{0};
    const std::string& text = d.Scalar();
    const bool seconds =
        d.Tag() == "?" && !text.empty() &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (seconds) {
      auto n = integer(value, p, "duration", true, 0, kMaxPause.count() / 1000);
      if (!n) return std::nullopt;
      duration = std::chrono::seconds(*n);
    } else {
      auto parsed = parseDuration(text);
      if (!parsed.ok()) {
        error(d, dp, parsed.status().message());
        return std::nullopt;
      }
      if (*parsed < Duration(0) || *parsed > kMaxPause) {
        error(d, dp, "must be in [0s, " + formatDuration(kMaxPause) + "], got \"" + text + "\"");
        return std::nullopt;
      }
      duration = *parsed;
    }
    return PauseStep{duration};
  }
  if (action == "analysis") {
    auto ref = analysisRef(value, p);
    if (!ref) return std::nullopt;
    return AnalysisStep{std::move(*ref)};
  }
  // setCanaryScale
  if (!expectMap(value, p)) return std::nullopt;
  rejectUnknown(value, p, {"replicas", "weight", "matchTrafficWeight"});
  int set = 0;
  for (const char* key : {"replicas", "weight", "matchTrafficWeight"}) set += has(value, key);
  if (set != 1) {
    error(value, p, "must set exactly one of replicas, weight or matchTrafficWeight");
    return std::nullopt;
  }
  CanaryScale scale;
  if (has(value, "replicas")) {
    auto n = integer(value, p, "replicas", true, 0, kInt32Max);
    if (!n) return std::nullopt;
    scale = {CanaryScale::Mode::kReplicas, static_cast<int32_t>(*n)};
  } else if (has(value, "weight")) {
    auto n = integer(value, p, "weight", true, 0, 100);
    if (!n) return std::nullopt;
    scale = {CanaryScale::Mode::kWeight, static_cast<int32_t>(*n)};
  } else {
    auto match = boolean(value, p, "matchTrafficWeight");
    if (!match) return std::nullopt;
    if (!*match) {
      error(value["matchTrafficWeight"], p + ".matchTrafficWeight",
            "must be true (set replicas or weight to decouple the canary's size)");
      return std::nullopt;
    }
  }
  return SetCanaryScaleStep{scale};
}

void Parser::parseCanary(const YAML::Node& node, const std::string& path, CanaryStrategy& out) {
  // `canary: {}` is a canary without steps: the update goes to 100% at once.
  if (node.IsNull()) return;
  if (!expectMap(node, path)) return;
  rejectUnknown(node, path,
                {"steps", "maxSurge", "maxUnavailable", "analysis", "trafficRouting",
                 "stableService", "canaryService"});
  const YAML::Node steps = node["steps"];
  const std::string steps_path = path + ".steps";
  std::vector<YAML::Node> step_nodes;  // For the check against trafficRouting.
  if (steps.IsDefined() && !steps.IsNull()) {
    if (!steps.IsSequence()) {
      error(steps, steps_path, "must be a list, got " + kindName(steps));
    } else {
      for (size_t i = 0; i < steps.size(); ++i) {
        step_nodes.push_back(steps[i]);
        auto step = parseStep(steps[i], index(steps_path, i));
        // A placeholder keeps later indices right in the checks below.
        out.steps.push_back(step.value_or(CanaryStep{PauseStep{}}));
      }
    }
  }
  if (auto v = intOrPercent(node, path, "maxSurge")) out.max_surge = *v;
  if (auto v = intOrPercent(node, path, "maxUnavailable")) out.max_unavailable = *v;
  if (out.max_surge.value == 0 && out.max_unavailable.value == 0) {
    error(node["maxUnavailable"].IsDefined() ? node["maxUnavailable"] : node,
          path + ".maxUnavailable",
          "must not be 0 when maxSurge is 0 (no pod could be added or removed)");
  }

  const YAML::Node analysis = node["analysis"];
  if (analysis.IsDefined() && !analysis.IsNull()) {
    const std::string p = path + ".analysis";
    if (auto ref = analysisRef(analysis, p, "startingStep")) {
      BackgroundAnalysis bg;
      bg.analysis = std::move(*ref);
      const int64_t last = out.steps.empty() ? 0 : static_cast<int64_t>(out.steps.size()) - 1;
      if (auto s = integer(analysis, p, "startingStep", false, 0, kInt32Max)) {
        if (*s > last) {
          error(analysis["startingStep"], p + ".startingStep",
                "must be the index of a step (< " + std::to_string(out.steps.size()) + "), got " +
                    std::to_string(*s));
        }
        bg.starting_step = static_cast<int32_t>(*s);
      }
      out.analysis = std::move(bg);
    }
  }

  const YAML::Node routing = node["trafficRouting"];
  const std::string routing_path = path + ".trafficRouting";
  if (routing.IsDefined() && !routing.IsNull() && expectMap(routing, routing_path)) {
    rejectUnknown(routing, routing_path, {"gatewayAPI"});
    const YAML::Node gw = routing["gatewayAPI"];
    const std::string gw_path = routing_path + ".gatewayAPI";
    if (!gw.IsDefined() || gw.IsNull()) {
      error(routing, gw_path, "required (the one traffic router Governor drives)");
    } else if (expectMap(gw, gw_path)) {
      rejectUnknown(gw, gw_path, {"httpRoute", "namespace"});
      GatewayApiRouting g;
      g.http_route = name(gw, gw_path, "httpRoute", true, isDns1123Subdomain,
                          "DNS-1123 subdomain (an HTTPRoute's name)")
                         .value_or("");
      g.namespace_ =
          name(gw, gw_path, "namespace", false, isDns1123Label, "DNS-1123 label").value_or("");
      out.traffic_routing = std::move(g);
    }
  }
  const bool routed = routing.IsDefined() && !routing.IsNull();
  const char* kService = "DNS-1035 label (a Service's name)";
  out.stable_service =
      name(node, path, "stableService", routed, isDns1035Label, kService).value_or("");
  out.canary_service =
      name(node, path, "canaryService", routed, isDns1035Label, kService).value_or("");
  if (!out.stable_service.empty() && out.stable_service == out.canary_service) {
    error(node["canaryService"], path + ".canaryService",
          "must differ from stableService (each selects one revision)");
  }
  if (!routed) {
    for (size_t i = 0; i < out.steps.size(); ++i) {
      if (std::holds_alternative<SetCanaryScaleStep>(out.steps[i])) {
        error(step_nodes[i]["setCanaryScale"], index(steps_path, i) + ".setCanaryScale",
              "needs trafficRouting: without a traffic router the replica split is the weight");
      }
    }
  }
}

void Parser::parseBlueGreen(const YAML::Node& node, const std::string& path,
                            BlueGreenStrategy& out) {
  if (node.IsNull()) {
    error(node, path + ".activeService", "required");
    return;
  }
  if (!expectMap(node, path)) return;
  rejectUnknown(node, path,
                {"activeService", "previewService", "autoPromotionEnabled", "autoPromotionSeconds",
                 "previewReplicaCount", "scaleDownDelaySeconds", "prePromotionAnalysis",
                 "postPromotionAnalysis"});
  const char* kService = "DNS-1035 label (a Service's name)";
  out.active_service =
      name(node, path, "activeService", true, isDns1035Label, kService).value_or("");
  out.preview_service =
      name(node, path, "previewService", false, isDns1035Label, kService).value_or("");
  if (!out.active_service.empty() && out.active_service == out.preview_service) {
    error(node["previewService"], path + ".previewService",
          "must differ from activeService (each selects one revision)");
  }
  out.auto_promotion_enabled = boolean(node, path, "autoPromotionEnabled").value_or(true);
  if (auto s = integer(node, path, "autoPromotionSeconds", false, 1, kInt32Max)) {
    out.auto_promotion_seconds = Seconds(*s);
    if (!out.auto_promotion_enabled) {
      error(node["autoPromotionSeconds"], path + ".autoPromotionSeconds",
            "has no effect with autoPromotionEnabled: false (a person promotes); remove one");
    }
  }
  if (auto n = integer(node, path, "previewReplicaCount", false, 1, kInt32Max)) {
    out.preview_replica_count = static_cast<int32_t>(*n);
  }
  if (auto d = integer(node, path, "scaleDownDelaySeconds", false, 0, kInt32Max)) {
    out.scale_down_delay = Seconds(*d);
  }
  for (auto [key, field] : {std::pair{"prePromotionAnalysis", &out.pre_promotion_analysis},
                            std::pair{"postPromotionAnalysis", &out.post_promotion_analysis}}) {
    const YAML::Node a = node[key];
    if (a.IsDefined() && !a.IsNull()) *field = analysisRef(a, join(path, key));
  }
}

}  // namespace

int32_t IntOrPercent::resolve(int32_t total, bool round_up) const {
  if (!percent) return value;
  const int64_t scaled = static_cast<int64_t>(total) * value;
  return static_cast<int32_t>(round_up ? (scaled + 99) / 100 : scaled / 100);
}

std::string IntOrPercent::toString() const { return std::to_string(value) + (percent ? "%" : ""); }

bool LabelSelector::matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const auto& r : match_expressions) {
    auto it = labels.find(r.key);
    const bool present = it != labels.end();
    const bool in_values =
        present && std::find(r.values.begin(), r.values.end(), it->second) != r.values.end();
    if (r.op == "In" && !in_values) return false;
    if (r.op == "NotIn" && in_values) return false;
    if (r.op == "Exists" && !present) return false;
    if (r.op == "DoesNotExist" && present) return false;
  }
  return true;
}

std::string LabelSelector::toString() const {
  std::vector<std::string> parts;
  for (const auto& [key, value] : match_labels) parts.push_back(key + "=" + value);
  for (const auto& r : match_expressions) {
    if (r.op == "Exists") {
      parts.push_back(r.key);
    } else if (r.op == "DoesNotExist") {
      parts.push_back("!" + r.key);
    } else {
      std::vector<std::string> values = r.values;
      std::sort(values.begin(), values.end());
      std::string set;
      for (const auto& v : values) set += (set.empty() ? "" : ",") + v;
      parts.push_back(r.key + (r.op == "In" ? " in (" : " notin (") + set + ")");
    }
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::string_view stepKindName(const CanaryStep& step) {
  static constexpr std::string_view kNames[] = {"setWeight", "pause", "analysis", "setCanaryScale"};
  return kNames[step.index()];
}

Result<RolloutSpec> parseRollout(std::string_view text, std::string_view source) {
  std::vector<RolloutSpec> out;
  Status status =
      ManifestReader::forEachDocument(text, source, [&](const YAML::Node& doc) -> Status {
        Parser parser(source);
        RolloutSpec spec = parser.parseDocument(doc);
        if (!parser.ok()) return parser.status();
        out.push_back(std::move(spec));
        return Status::okStatus();
      });
  if (!status.ok()) return status;
  if (out.size() != 1) {
    return invalidArgument(std::string(source) + ": expected one Rollout, found " +
                           std::to_string(out.size()) + " documents");
  }
  return std::move(out.front());
}

}  // namespace governor::rollouts
