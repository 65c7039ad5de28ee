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
//
// The verbs on the API server, each `VERB NAME [-n NS] [--kubeconfig PATH] [--context CTX]`
// with the operator's kubeconfig handling (controller/kube/config.h; the namespace defaults
// to the context's, else "default"):
//
// `governor rollout status NAME [-o table|json] [--watch] [--timeout D]`
//   prints the Rollout's status (formatRolloutStatus). --watch follows it (a watch on the
//   Rollout) and prints it again on each change until the update settles: exit 0 Healthy,
//   1 Aborted or Degraded (or deleted, or --timeout passed). A settled phase counts only once
//   the controller has seen the current spec (status.observedGeneration >= generation), so
//   `kubectl apply` then `status --watch` waits for the new update rather than reporting the
//   old one. -o json prints {name, namespace, generation, spec, status} (the status through
//   controller/rollout_status_json.h), one document per change with --watch.
// `promote NAME [--full]`  writes status.promote = Step (past the current wait) or Full
//   (straight to 100%) with a merge patch of /status; exit 1 when no update is in progress
//   (Healthy, canary revision == stable). Says so when spec.paused still holds it.
// `abort NAME`   status.abort = true: traffic and pods go back to the stable revision.
// `retry NAME`   status.abort = false; only for an Aborted rollout (else exit 1).
// `pause NAME` / `resume NAME`   spec.paused = true / false (a merge patch of the Rollout).
//
// Exit codes of these verbs: 0 done; 1 the Rollout is not found ("rollout shop/web not
// found"), the API server cannot be reached or refuses, the kubeconfig cannot be used, the
// verb does not apply to the Rollout's state, or its status cannot be read (the field path
// is named); 2 bad flags.

#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "rollouts/status.h"

namespace governor::cli {

void addRolloutCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code);

// The table `governor rollout status` prints for the Rollout `object` (as the API server
// returns it; its spec is read as stored, so a spec the parser would reject still shows)
// whose status decoded to `status`: name, phase, message, strategy, the canary steps with
// the weight each sets and a marker on the current one (blue-green: the Services' revisions
// and promotion times), the revisions with their pods, the analysis runs with each metric's
// counters and last measurement, and the conditions.
std::string formatRolloutStatus(const nlohmann::json& object,
                                const rollouts::RolloutStatus& status);

}  // namespace governor::cli
