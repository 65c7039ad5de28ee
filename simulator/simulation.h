#pragma once

// `governor simulate` as a library: load a Simulation manifest with everything it names (the
// trace, the ScalingPolicy files), then replay each policy and baseline (replay.h).
//
// Loading errors are InvalidArgument and name the file and line or field path:
//   sims/web.yaml:5: spec.trace.file: traces/web.csv: no such file
//   traces/web.csv:17: value "abc" is not a number
//   policies/web.yaml:14: spec.metrics[1].target.averageUtilization: must be > 0
//
// Results come in a fixed order — the policies in the order listed (documents in file
// order), then the baselines in the order listed — and depend on nothing but the input, so
// the same input gives byte-identical output.
//
// Thread-safety: functions are reentrant.

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "controller/proposal_source.h"
#include "policies/spec.h"
#include "simulator/replay.h"
#include "simulator/simulation_spec.h"
#include "simulator/trace.h"

namespace governor::simulator {

struct LoadedPolicy {
  policies::PolicySpec spec;
  std::string manifest;  // The document's text, as the in-memory API server stores it.
  std::string file;
};

struct SimulationInput {
  SimulationSpec spec;
  Trace trace;
  std::vector<LoadedPolicy> policies;
  Duration gap_limit{0};
  std::vector<TraceGap> gaps;
};

// Reads the manifest at `path` and everything it names.
Result<SimulationInput> loadSimulation(const std::string& path);
// The same from the manifest's text (`path` names it and is the base of relative paths).
Result<SimulationInput> loadSimulation(std::string_view text, const std::string& path);

struct SimulationResult {
  ReplayGrid grid;
  std::vector<RunResult> runs;  // Policies, then baselines.
};

struct SimulationOptions {
  bool record_timelines = false;
  // Called as runs progress: (steps done over all runs, steps of all runs). May be empty.
  std::function<void(int64_t, int64_t)> progress;
  // Stateful proposals for every policy run. Default (null): a fresh
  // controller::PredictiveProposalSource, the one the operator runs.
  controller::ProposalSource* predictive = nullptr;
};

Result<SimulationResult> runSimulation(const SimulationInput& input,
                                       const SimulationOptions& options);

// Splits a multi-document YAML stream at its "---" lines; documents that hold nothing but
// blanks and comments are dropped.
std::vector<std::string> splitYamlDocuments(std::string_view text);

}  // namespace governor::simulator
