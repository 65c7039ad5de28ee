#pragma once

// `governor simulate -f SIMULATION.yaml [-o table|json] [--report DIR] [--quiet]`: replays a
// load trace through the operator's reconciler and policy engine for each ScalingPolicy the
// Simulation names, plus its baselines, and prints cost against service level
// (simulator/simulation.h, simulator/report.h).
//
// Exit codes: 0 done; 2 bad input (missing file, bad trace line, invalid policy or
// Simulation, bad flag), with a message naming the file and line or field path; 1 a runtime
// failure (the report directory cannot be written). A progress bar goes to stderr when it is
// a terminal and the run is long, unless --quiet.

#include <iosfwd>

#include <CLI/CLI.hpp>

namespace governor::cli {

void addSimulateCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace governor::cli
