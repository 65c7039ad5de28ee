#include "simulator/simulation.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "controller/predictive_source.h"
#include "policies/spec_parser.h"

namespace governor::simulator {
namespace {

// The whole file, or InvalidArgument "<field>: <path>: no such file" naming who asked for it.
Result<std::string> readNamedFile(const std::string& path, const std::string& field) {
  const std::string prefix = field.empty() ? "" : field + ": ";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return invalidArgument(prefix + path + ": no such file");
  if (std::filesystem::is_directory(path, ec)) {
    return invalidArgument(prefix + path + ": is a directory, not a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return invalidArgument(prefix + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return invalidArgument(prefix + path + ": read error");
  return buffer.str();
}

bool blank(std::string_view doc) {
  size_t pos = 0;
  while (pos < doc.size()) {
    size_t eol = doc.find('\n', pos);
    if (eol == std::string_view::npos) eol = doc.size();
    std::string_view line = doc.substr(pos, eol - pos);
    pos = eol + 1;
    size_t first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line[first] != '#') return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> splitYamlDocuments(std::string_view text) {
  std::vector<std::string> docs;
  std::string current;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    const bool separator = line.substr(0, 3) == "---" && (line.size() == 3 || line[3] == ' ' ||
                                                          line[3] == '\r' || line[3] == '\t');
    if (separator) {
      if (!blank(current)) docs.push_back(std::move(current));
      current.clear();
      continue;
    }
    current.append(line);
    current.push_back('\n');
  }
  if (!blank(current)) docs.push_back(std::move(current));
  return docs;
}

Result<SimulationInput> loadSimulation(const std::string& path) {
  auto text = readNamedFile(path, "");
  if (!text.ok()) return text.status();
  return loadSimulation(*text, path);
}

Result<SimulationInput> loadSimulation(std::string_view text, const std::string& path) {
  auto spec = parseSimulation(text, path);
  if (!spec.ok()) return spec.status();
  SimulationInput input;
  input.spec = std::move(spec).value();
  const SimulationSpec& sim = input.spec;

  // The trace.
  auto trace_text = readNamedFile(sim.trace.file, sim.trace.field);
  if (!trace_text.ok()) return trace_text.status();
  auto trace =
      sim.trace.format == TraceFormat::kPrometheus
          ? parsePrometheusTrace(*trace_text, sim.trace.file, sim.trace.series, sim.trace.scale)
          : parseCsvTrace(*trace_text, sim.trace.file, sim.trace.time_column,
                          sim.trace.value_column, sim.trace.scale);
  if (!trace.ok()) return trace.status();
  input.trace = std::move(trace).value();
  input.gap_limit = sim.trace.max_gap.value_or(2 * input.trace.medianInterval());
  if (input.gap_limit.count() > 0) input.gaps = input.trace.gaps(input.gap_limit);

  // The policies, parsed by the operator's parser.
  std::map<std::string, std::string> names;  // name -> where it was defined
  for (const auto& b : sim.baselines) names[b.name()] = sim.source + ": spec.baselines";
  for (const PolicyFile& file : sim.policies) {
    auto policy_text = readNamedFile(file.path, file.field);
    if (!policy_text.ok()) return policy_text.status();
    auto specs = policies::parsePolicies(*policy_text, file.path);
    if (!specs.ok()) return specs.status();
    if (specs->empty())
      return invalidArgument(file.field + ": " + file.path + ": no ScalingPolicy");
    std::vector<std::string> docs;
    if (specs->size() == 1) {
      docs.push_back(*policy_text);
    } else {
      docs = splitYamlDocuments(*policy_text);
      if (docs.size() != specs->size()) {
        return invalidArgument(file.field + ": " + file.path +
                               ": cannot split the YAML stream into its documents; put each "
                               "ScalingPolicy in a file of its own");
      }
    }
    for (size_t i = 0; i < specs->size(); ++i) {
      policies::PolicySpec& p = (*specs)[i];
      auto [it, inserted] = names.emplace(p.name, file.path);
      if (!inserted) {
        return invalidArgument(file.field + ": " + file.path + ": metadata.name " + p.name +
                               " is already used by " + it->second +
                               "; results and timelines are named after it");
      }
      input.policies.push_back(LoadedPolicy{std::move(p), std::move(docs[i]), file.path});
    }
  }
  return input;
}

Result<SimulationResult> runSimulation(const SimulationInput& input,
                                       const SimulationOptions& options) {
  SimulationResult result;
  const SimulationSpec& sim = input.spec;
  result.grid = makeGrid(input.trace, sim.step, sim.trace.interpolation);
  const int64_t steps = result.grid.steps();
  const int64_t total = steps * static_cast<int64_t>(input.policies.size() + sim.baselines.size());
  int64_t done_before = 0;
  RunOptions run_options;
  run_options.record_timeline = options.record_timelines;
  if (options.progress) {
    run_options.progress = [&](int64_t done) { options.progress(done_before + done, total); };
  }
  // The predictive policy runs in the same ProposalSource the operator uses.
  controller::PredictiveProposalSource own_predictive;
  controller::ProposalSource* predictive =
      options.predictive != nullptr ? options.predictive : &own_predictive;
  for (const LoadedPolicy& policy : input.policies) {
    auto run = runPolicy(policy.spec, policy.manifest, input.trace, result.grid, sim, run_options,
                         predictive);
    if (!run.ok()) return run.status();
    result.runs.push_back(std::move(run).value());
    done_before += steps;
  }
  for (const Baseline& b : sim.baselines) {
    result.runs.push_back(b.kind == Baseline::Kind::kOracle
                              ? runOracle(result.grid, sim.workload, run_options)
                              : runStatic(b.replicas, result.grid, sim.workload, run_options));
    done_before += steps;
  }
  return result;
}

}  // namespace governor::simulator
