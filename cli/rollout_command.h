#pragma once

// `governor rollout VERB ...`: commands about Rollouts (governor.io/v1alpha1). Each verb is a
// sub-subcommand of `rollout`, added by its own add*() function in rollout_command.cpp, so
// the verbs that talk to the API server (status, promote, abort, retry, pause, resume) sit
// next to `simulate` with their own flags.
//
// `governor rollout simulate -f ROLLOUT.yaml [--analysis pass|fail|inconclusive[@STEP]]
//     [--replicas N] [--templates ANALYSIS_TEMPLATES.yaml]... [--analysis-duration T=DURATION]...
//     [--resume] [-o table|json]`
// prints the dry run of an update (rollouts/timeline.h): each step with its weight, the pods
// of each revision, waits, analyses and the expected elapsed time, then the outcome
// (Healthy, Aborted at step N, Paused at step N). No cluster is needed. Analyses take the
// expected durations of the AnalysisTemplates in --templates files, or --analysis-duration.
//
// Exit codes: 0 the timeline was printed, whatever its outcome; 2 bad input (missing file,
// invalid Rollout or AnalysisTemplate with file, line and field path, a bad flag, --analysis
// naming a step that runs no analysis).

#include <iosfwd>

#include <CLI/CLI.hpp>

namespace governor::cli {

void addRolloutCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

}  // namespace governor::cli
