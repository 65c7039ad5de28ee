#pragma once

// The outputs of `governor simulate`: the comparison table, its JSON form, and the report
// directory (a timeline CSV per policy and a self-contained HTML page with an SVG chart).
//
// Numbers are rounded once, to the precision the table prints (replicaHours 2 decimals,
// unservedFraction 6, utilizations 1, seconds and counts whole), and the JSON carries the
// same rounded numbers. Nothing depends on the clock, the locale or the machine: the same
// input gives byte-identical output.
//
// Thread-safety: reentrant.

#include <string>

#include "base/status.h"
#include "simulator/simulation.h"

namespace governor::simulator {

// An aligned table, one row per run; the best value of each column among the policies (among
// all runs when there is no policy) is marked with '*'. Lower is better but for
// meanUtilization and p95Utilization. Then the trace's gaps, if any.
std::string formatTable(const SimulationInput& input, const SimulationResult& result);

// {"results": [{"name": ..., "replicaHours": ..., "underProvisionedSeconds": ...,
//   "unservedFraction": ..., "scaleEvents": ..., "maxReplicas": ..., "meanUtilization": ...,
//   "p95Utilization": ...}, ...], "gaps": [{"from": RFC 3339, "to": RFC 3339}, ...]},
// pretty-printed with a final newline.
std::string formatJson(const SimulationInput& input, const SimulationResult& result);

// One policy's timeline: a header `time,demand,ready,desired,utilization,reason` and a row per
// step (RFC 3339 UTC time; `ready` and `utilization` as the policy saw them; `desired` the
// decision made at that step).
std::string formatTimelineCsv(const RunResult& run);

// The HTML report: the table, the gaps, and per run a chart of demand (in replicas needed),
// the serving capacity and the replicas paid for, with under-provisioned stretches shaded and
// the oracle's capacity for reference. REQUIRES: the runs have timelines.
std::string formatHtmlReport(const SimulationInput& input, const SimulationResult& result);

// Creates `dir` if needed and writes timeline-<name>.csv for every policy and report.html.
// Errors: Unavailable naming the file that could not be written.
Status writeReport(const std::string& dir, const SimulationInput& input,
                   const SimulationResult& result);

}  // namespace governor::simulator
