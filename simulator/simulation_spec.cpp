#include "simulator/simulation_spec.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <initializer_list>
#include <set>

#include <yaml-cpp/yaml.h>

namespace governor::simulator {
namespace {

std::string join(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string kindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

// Collects every problem of the document, each with its line and field path.
class Parser {
 public:
  explicit Parser(std::string source) : source_(std::move(source)) {}

  std::string where(const YAML::Node& at) const {
    std::string s = source_;
    if (at.IsDefined() && at.Mark().line >= 0) s += ":" + std::to_string(at.Mark().line + 1);
    return s;
  }
  void error(const YAML::Node& at, const std::string& path, const std::string& message) {
    errors_.push_back(where(at) + ": " + path + ": " + message);
  }
  bool ok() const { return errors_.empty(); }
  Status status() const {
    std::string message;
    for (const auto& e : errors_) message += (message.empty() ? "" : "\n") + e;
    return invalidArgument(message);
  }

  void rejectUnknown(const YAML::Node& node, const std::string& path,
                     std::initializer_list<std::string_view> known) {
    if (!node.IsMap()) return;
    for (const auto& kv : node) {
      const std::string key = kv.first.Scalar();
      bool found = false;
      for (auto k : known) found = found || key == k;
      if (!found) error(kv.first, join(path, key), "unknown field");
    }
  }

  bool expectMap(const YAML::Node& node, const std::string& path) {
    if (node.IsMap()) return true;
    error(node, path, "must be a mapping, got " + kindName(node));
    return false;
  }

  std::optional<std::string> string(const YAML::Node& parent, const std::string& parent_path,
                                    const char* key, bool required) {
    const YAML::Node node = parent[key];
    const std::string path = join(parent_path, key);
    if (!node.IsDefined() || node.IsNull()) {
      if (required) error(parent, path, "required");
      return std::nullopt;
    }
    if (!node.IsScalar() || node.Scalar().empty()) {
      error(node, path, "must be a non-empty string, got " + kindName(node));
      return std::nullopt;
    }
    return node.Scalar();
  }

  std::optional<double> number(const YAML::Node& parent, const std::string& parent_path,
                               const char* key, bool required, double min, bool min_exclusive) {
    const YAML::Node node = parent[key];
    const std::string path = join(parent_path, key);
    if (!node.IsDefined() || node.IsNull()) {
      if (required) error(parent, path, "required");
      return std::nullopt;
    }
    double value = 0;
    const std::string s = node.IsScalar() ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (!node.IsScalar() || s.empty() || ec != std::errc() || end != s.data() + s.size() ||
        !std::isfinite(value)) {
      error(node, path, "must be a number, got " + kindName(node));
      return std::nullopt;
    }
    if (min_exclusive ? value <= min : value < min) {
      error(node, path,
            std::string("must be ") + (min_exclusive ? "> " : ">= ") +
                std::to_string(static_cast<int64_t>(min)) + ", got " + s);
      return std::nullopt;
    }
    return value;
  }

  std::optional<int64_t> integer(const YAML::Node& parent, const std::string& parent_path,
                                 const char* key, bool required, int64_t min, int64_t max) {
    const YAML::Node node = parent[key];
    const std::string path = join(parent_path, key);
    if (!node.IsDefined() || node.IsNull()) {
      if (required) error(parent, path, "required");
      return std::nullopt;
    }
    int64_t value = 0;
    const std::string s = node.IsScalar() ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (!node.IsScalar() || s.empty() || ec != std::errc() || end != s.data() + s.size()) {
      error(node, path, "must be an integer, got " + kindName(node));
      return std::nullopt;
    }
    if (value < min || value > max) {
      error(node, path,
            "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + s);
      return std::nullopt;
    }
    return value;
  }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

std::string resolve(const std::filesystem::path& base, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (base / p).lexically_normal().string();
}

}  // namespace

Result<SimulationSpec> parseSimulation(std::string_view text, std::string_view source) {
  const std::string src(source);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return invalidArgument(src + ":" + std::to_string(e.mark.line + 1) +
                           ": invalid YAML: " + e.msg);
  }
  Parser p(src);
  SimulationSpec sim;
  sim.source = src;
  const std::filesystem::path base = std::filesystem::path(src).parent_path();
  sim.name = std::filesystem::path(src).stem().string();

  if (!root.IsMap()) {
    p.error(root, "(document)", "must be a Simulation manifest (a mapping)");
    return p.status();
  }
  auto api = p.string(root, "", "apiVersion", true);
  if (api && *api != "governor.io/v1alpha1") {
    p.error(root["apiVersion"], "apiVersion", "must be governor.io/v1alpha1, got " + *api);
  }
  auto kind = p.string(root, "", "kind", true);
  if (kind && *kind != kSimulationKind) {
    p.error(root["kind"], "kind", "must be Simulation, got " + *kind);
  }
  if (const YAML::Node meta = root["metadata"]; meta.IsDefined() && p.expectMap(meta, "metadata")) {
    if (auto name = p.string(meta, "metadata", "name", false)) sim.name = *name;
  }
  const YAML::Node spec = root["spec"];
  if (!spec.IsDefined() || spec.IsNull()) {
    p.error(root, "spec", "required");
    return p.status();
  }
  if (!p.expectMap(spec, "spec")) return p.status();
  p.rejectUnknown(spec, "spec", {"trace", "stepSeconds", "workload", "policies", "baselines"});

  // trace
  const YAML::Node trace = spec["trace"];
  if (!trace.IsDefined() || trace.IsNull()) {
    p.error(spec, "spec.trace", "required");
  } else if (p.expectMap(trace, "spec.trace")) {
    p.rejectUnknown(trace, "spec.trace",
                    {"file", "format", "timeColumn", "valueColumn", "series", "scale",
                     "interpolation", "maxGapSeconds"});
    if (auto file = p.string(trace, "spec.trace", "file", true)) {
      sim.trace.file = resolve(base, *file);
      sim.trace.field = p.where(trace["file"]) + ": spec.trace.file";
      sim.trace.format = std::filesystem::path(*file).extension() == ".json"
                             ? TraceFormat::kPrometheus
                             : TraceFormat::kCsv;
    }
    if (auto format = p.string(trace, "spec.trace", "format", false)) {
      if (*format == "csv") {
        sim.trace.format = TraceFormat::kCsv;
      } else if (*format == "prometheus") {
        sim.trace.format = TraceFormat::kPrometheus;
      } else {
        p.error(trace["format"], "spec.trace.format", "must be csv or prometheus, got " + *format);
      }
    }
    if (auto c = p.string(trace, "spec.trace", "timeColumn", false)) sim.trace.time_column = *c;
    if (auto c = p.string(trace, "spec.trace", "valueColumn", false)) sim.trace.value_column = *c;
    if (auto s = p.string(trace, "spec.trace", "series", false)) sim.trace.series = *s;
    if (auto s = p.number(trace, "spec.trace", "scale", false, 0, true)) sim.trace.scale = *s;
    if (auto mode = p.string(trace, "spec.trace", "interpolation", false)) {
      if (*mode == "linear") {
        sim.trace.interpolation = Interpolation::kLinear;
      } else if (*mode == "hold") {
        sim.trace.interpolation = Interpolation::kHold;
      } else {
        p.error(trace["interpolation"], "spec.trace.interpolation",
                "must be linear or hold, got " + *mode);
      }
    }
    if (auto gap = p.integer(trace, "spec.trace", "maxGapSeconds", false, 1, 366LL * 86400)) {
      sim.trace.max_gap = Duration(*gap * 1000);
    }
  }

  if (auto step = p.integer(spec, "spec", "stepSeconds", false, 1, 86400)) {
    sim.step = Duration(*step * 1000);
  }

  // workload
  const YAML::Node workload = spec["workload"];
  if (!workload.IsDefined() || workload.IsNull()) {
    p.error(spec, "spec.workload", "required");
  } else if (p.expectMap(workload, "spec.workload")) {
    p.rejectUnknown(workload, "spec.workload",
                    {"capacityPerReplica", "startupSeconds", "initialReplicas"});
    if (auto c = p.number(workload, "spec.workload", "capacityPerReplica", true, 0, true)) {
      sim.workload.capacity_per_replica = *c;
    }
    if (auto s = p.integer(workload, "spec.workload", "startupSeconds", false, 0, 86400)) {
      sim.workload.startup = Duration(*s * 1000);
    }
    if (auto r = p.integer(workload, "spec.workload", "initialReplicas", false, 0, 100000)) {
      sim.workload.initial_replicas = static_cast<int32_t>(*r);
    }
  }

  // policies
  const YAML::Node policies = spec["policies"];
  if (policies.IsDefined() && !policies.IsNull()) {
    if (!policies.IsSequence()) {
      p.error(policies, "spec.policies", "must be a list of files, got " + kindName(policies));
    } else {
      for (size_t i = 0; i < policies.size(); ++i) {
        const std::string path = "spec.policies[" + std::to_string(i) + "]";
        const YAML::Node item = policies[i];
        if (!item.IsScalar() || item.Scalar().empty()) {
          p.error(item, path, "must be a file path, got " + kindName(item));
          continue;
        }
        sim.policies.push_back({resolve(base, item.Scalar()), p.where(item) + ": " + path});
      }
    }
  }

  // baselines
  const YAML::Node baselines = spec["baselines"];
  if (baselines.IsDefined() && !baselines.IsNull()) {
    if (!baselines.IsSequence()) {
      p.error(baselines, "spec.baselines", "must be a list, got " + kindName(baselines));
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < baselines.size(); ++i) {
        const std::string path = "spec.baselines[" + std::to_string(i) + "]";
        const YAML::Node item = baselines[i];
        const std::string s = item.IsScalar() ? item.Scalar() : std::string();
        Baseline b;
        int64_t n = -1;
        if (s == "oracle") {
          b.kind = Baseline::Kind::kOracle;
        } else if (s.rfind("static:", 0) == 0) {
          auto [end, ec] = std::from_chars(s.data() + 7, s.data() + s.size(), n);
          if (ec != std::errc() || end != s.data() + s.size() || n < 1 || n > 100000) {
            p.error(item, path, "static:N needs a replica count N in [1, 100000], got " + s);
            continue;
          }
          b.kind = Baseline::Kind::kStatic;
          b.replicas = static_cast<int32_t>(n);
        } else {
          p.error(item, path, "must be oracle or static:N, got " + kindName(item));
          continue;
        }
        if (!seen.insert(b.name()).second) {
          p.error(item, path, "duplicate baseline " + b.name());
          continue;
        }
        sim.baselines.push_back(b);
      }
    }
  }
  if (p.ok() && sim.policies.empty() && sim.baselines.empty()) {
    p.error(spec, "spec.policies", "name at least one policy file or baseline");
  }
  if (!p.ok()) return p.status();
  return sim;
}

}  // namespace governor::simulator
