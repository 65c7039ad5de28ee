#include "simulator/simulation_spec.h"

#include <charconv>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "policies/manifest_reader.h"

namespace governor::simulator {
namespace {

using policies::ManifestReader;

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
    return ManifestReader::invalidYaml(src, e);
  }
  ManifestReader p(src);
  SimulationSpec sim;
  sim.source = src;
  const std::filesystem::path base = std::filesystem::path(src).parent_path();
  sim.name = std::filesystem::path(src).stem().string();

  if (!root.IsMap()) {
    p.error(root, "(document)", "must be a Simulation manifest (a mapping)");
    return p.status();
  }
  auto api = p.nonEmptyString(root, "", "apiVersion", true);
  if (api && *api != "governor.io/v1alpha1") {
    p.error(root["apiVersion"], "apiVersion", "must be governor.io/v1alpha1, got " + *api);
  }
  auto kind = p.nonEmptyString(root, "", "kind", true);
  if (kind && *kind != kSimulationKind) {
    p.error(root["kind"], "kind", "must be Simulation, got " + *kind);
  }
  if (const YAML::Node meta = root["metadata"]; meta.IsDefined() && p.expectMap(meta, "metadata")) {
    if (auto name = p.nonEmptyString(meta, "metadata", "name", false)) sim.name = *name;
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
    if (auto file = p.nonEmptyString(trace, "spec.trace", "file", true)) {
      sim.trace.file = resolve(base, *file);
      sim.trace.field = p.where(trace["file"]) + ": spec.trace.file";
      sim.trace.format = std::filesystem::path(*file).extension() == ".json"
                             ? TraceFormat::kPrometheus
                             : TraceFormat::kCsv;
    }
    if (auto format = p.nonEmptyString(trace, "spec.trace", "format", false)) {
      if (*format == "csv") {
        sim.trace.format = TraceFormat::kCsv;
      } else if (*format == "prometheus") {
        sim.trace.format = TraceFormat::kPrometheus;
      } else {
        p.error(trace["format"], "spec.trace.format", "must be csv or prometheus, got " + *format);
      }
    }
    if (auto c = p.nonEmptyString(trace, "spec.trace", "timeColumn", false))
      sim.trace.time_column = *c;
    if (auto c = p.nonEmptyString(trace, "spec.trace", "valueColumn", false))
      sim.trace.value_column = *c;
    if (auto s = p.nonEmptyString(trace, "spec.trace", "series", false)) sim.trace.series = *s;
    if (auto s = p.numberAbove(trace, "spec.trace", "scale", false, 0)) sim.trace.scale = *s;
    if (auto mode = p.nonEmptyString(trace, "spec.trace", "interpolation", false)) {
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
    if (auto c = p.numberAbove(workload, "spec.workload", "capacityPerReplica", true, 0)) {
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
      p.error(policies, "spec.policies",
              "must be a list of files, got " + ManifestReader::kindName(policies));
    } else {
      for (size_t i = 0; i < policies.size(); ++i) {
        const std::string path = ManifestReader::index("spec.policies", i);
        const YAML::Node item = policies[i];
        if (!item.IsScalar() || item.Scalar().empty()) {
          p.error(item, path, "must be a file path, got " + ManifestReader::kindName(item));
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
      p.error(baselines, "spec.baselines",
              "must be a list, got " + ManifestReader::kindName(baselines));
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < baselines.size(); ++i) {
        const std::string path = ManifestReader::index("spec.baselines", i);
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
          p.error(item, path, "must be oracle or static:N, got " + ManifestReader::kindName(item));
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
