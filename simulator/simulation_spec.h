#pragma once

// The Simulation manifest of `governor simulate -f`:
//
//   apiVersion: governor.io/v1alpha1
//   kind: Simulation
//   metadata: {name: web}                    # optional
//   spec:
//     trace:
//       file: ../traces/web.csv               # relative to the manifest
//       format: csv                           # csv | prometheus; default: by extension
//                                             #   (.json is prometheus, anything else csv)
//       timeColumn: timestamp                 # csv; default "timestamp"
//       valueColumn: value                    # csv; default "value"
//       series: http_requests_total           # prometheus: the __name__ to use, when several
//       scale: 1.0                            # default 1
//       interpolation: linear                 # linear | hold; default linear
//       maxGapSeconds: 600                    # default: 2 x the median sample interval
//     stepSeconds: 15                         # the operator's sync period; default 15
//     workload:
//       capacityPerReplica: 50                # required, > 0
//       startupSeconds: 90                    # default 0
//       initialReplicas: 2                    # default 1
//     policies: [../policies/threshold.yaml]  # ScalingPolicy manifests (multi-document ok)
//     baselines: [oracle, static:4]           # optional
//
// Unknown fields under `spec` are errors. Errors name the file, line and field path, like
// policies/spec_parser.h, every problem of the document at once:
//   sim.yaml:9: spec.workload.capacityPerReplica: must be > 0, got 0
//
// Thread-safety: pure function (does not read the files it names).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "simulator/trace.h"

namespace governor::simulator {

inline constexpr std::string_view kSimulationKind = "Simulation";

enum class TraceFormat { kCsv, kPrometheus };

struct TraceSpec {
  std::string file;   // Resolved against the manifest's directory.
  std::string field;  // "<manifest>:<line>: spec.trace.file", to prefix errors about the file.
  TraceFormat format = TraceFormat::kCsv;
  std::string time_column = "timestamp";
  std::string value_column = "value";
  std::optional<std::string> series;
  double scale = 1.0;
  Interpolation interpolation = Interpolation::kLinear;
  std::optional<Duration> max_gap;  // nullopt: 2 x the median interval.
};

struct WorkloadSpec {
  double capacity_per_replica = 0;  // Demand one ready replica serves at 100% utilization.
  Duration startup{0};              // From scale-up to ready.
  int32_t initial_replicas = 1;     // Ready at the first sample.
};

struct Baseline {
  enum class Kind { kOracle, kStatic };
  Kind kind = Kind::kOracle;
  int32_t replicas = 0;  // kStatic.
  // "oracle", "static:4".
  std::string name() const {
    return kind == Kind::kOracle ? "oracle" : "static:" + std::to_string(replicas);
  }
};

struct PolicyFile {
  std::string path;   // Resolved against the manifest's directory.
  std::string field;  // "<manifest>:<line>: spec.policies[i]", to prefix errors.
};

struct SimulationSpec {
  std::string source;  // The manifest's path, as given.
  std::string name;    // metadata.name; default: the manifest's file name without extension.
  TraceSpec trace;
  Duration step{15'000};
  WorkloadSpec workload;
  std::vector<PolicyFile> policies;
  std::vector<Baseline> baselines;
};

// Parses a Simulation manifest. `source` names it in errors and its directory is the base
// of relative paths. InvalidArgument lists every problem, one per line.
Result<SimulationSpec> parseSimulation(std::string_view text, std::string_view source);

}  // namespace governor::simulator
