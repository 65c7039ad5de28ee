#pragma once

// The dry run of a Rollout update: the sequence of what the controller will do, row by row,
// with the weight, the pods of each revision, the waits and analyses, the expected elapsed
// time, and how it ends. `governor rollout simulate` prints it; the controller's own
// progress follows the same order (this is the specification it is tested against).
//
// The update starts from a stable revision running `replicas` pods (spec.replicas, or the
// total a ScalingPolicy left, TimelineOptions::replicas) and a new template.
//
// CANARY: one row per step, numbered as status.currentStepIndex numbers them:
//   setWeight N     the split moves to N% (rollouts/split.h);
//   pause           waits `duration`, or for a person (`governor rollout promote`);
//   analysis        runs its templates to completion (their expected time when known);
//   setCanaryScale  resizes the canary (traffic router only).
//   Background analysis (spec.strategy.canary.analysis) runs from step startingStep until
//   promotion; a failure at any step aborts. After the last step, the promotion rows
//   (unnumbered): with a router, "scale the canary to the stable's size" (the stable's
//   CURRENT size, not a policy minimum, so promotion causes no thundering herd), "promote"
//   (100% of traffic) and "scale down the old revision"; without a router, "promote" moves
//   the split to 100% within maxSurge/maxUnavailable.
// BLUE-GREEN: numbered rows: "preview" (the new revision at previewReplicaCount, behind
//   previewService), "pre-promotion analysis", "wait for promotion" (autoPromotionSeconds,
//   or a person when autoPromotionEnabled is false), "scale the new revision to the active's
//   size" (when the preview was smaller), "promote" (the active Service switches),
//   "post-promotion analysis", "scale down the old revision" after scaleDownDelaySeconds,
//   counted from the end of post-promotion analysis so that a switch back is always
//   possible while it runs. Rows that do not apply are left out.
//
// ANALYSIS OUTCOMES (TimelineOptions::analysis): every analysis passes by default. A failed
// analysis aborts: an unnumbered "abort" row returns traffic and pods to the stable
// revision (blue-green before promotion: the preview is scaled to 0; after promotion:
// "switch back" to the old revision). An inconclusive analysis pauses for a person, as does
// an indefinite pause or a manual promotion: the timeline ends there, Paused, unless
// `resume` is set (then it goes on as if a person resumed at once).
//
// ELAPSED time is cumulative at the end of each row: pauses, analyses with a known
// duration, the auto-promotion and scale-down delays. Pod start-up, and anything waiting
// for a person, are not counted; a row after one of those (or after an analysis of unknown
// duration) has `elapsed_is_lower_bound`.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "rollouts/spec.h"

namespace governor::rollouts {

enum class AnalysisOutcome { kPass, kFail, kInconclusive };

// "pass", "fail" or "inconclusive".
std::string_view analysisOutcomeName(AnalysisOutcome outcome);

// What the analyses of a dry run report: `--analysis pass|fail|inconclusive[@STEP]`.
struct AnalysisOverride {
  AnalysisOutcome outcome = AnalysisOutcome::kPass;
  // The numbered row whose analyses (an analysis step, a blue-green pre/post-promotion
  // analysis, or the background analysis running during that step) get `outcome`; the
  // others pass. nullopt: the first row that runs an analysis gets it (for kPass: all).
  std::optional<int32_t> step;
  friend bool operator==(const AnalysisOverride&, const AnalysisOverride&) = default;
};

// Parses "pass", "fail@3", "inconclusive@0". InvalidArgument naming the text otherwise.
Result<AnalysisOverride> parseAnalysisOverride(std::string_view text);

struct TimelineOptions {
  AnalysisOverride analysis;  // Default: every analysis passes.
  // The Rollout's current total, as a ScalingPolicy left it. Default: spec.replicas.
  std::optional<int32_t> replicas;
  // Expected run time of each AnalysisTemplate (initialDelay + interval x count); a template
  // not listed has an unknown duration. Default: none known.
  std::map<std::string, Duration> analysis_durations;
  // Default: false: the timeline ends Paused where a person must act. true: it assumes the
  // person resumes (promotes) at once and goes on.
  bool resume = false;
};

enum class RowKind {
  kSetWeight,       // A canary setWeight step.
  kPause,           // A canary pause step.
  kAnalysis,        // A canary analysis step; a blue-green pre/post-promotion analysis.
  kSetCanaryScale,  // A canary setCanaryScale step.
  kPreview,         // Blue-green: the new revision comes up behind the preview Service.
  kAwaitPromotion,  // Blue-green: autoPromotionSeconds, or a person.
  kFullScale,       // The new revision is brought to the stable revision's current size.
  kPromote,         // The new revision takes all traffic and becomes the stable one.
  kScaleDownOld,    // The old revision goes to 0 pods.
  kAbort,           // A failed analysis: traffic and pods back to the stable revision.
  kSwitchBack,      // Blue-green: failed post-promotion analysis; the old revision serves.
};

// "setWeight", "pause", "analysis", "setCanaryScale", "preview", "awaitPromotion",
// "fullScale", "promote", "scaleDownOld", "abort", "switchBack".
std::string_view rowKindName(RowKind kind);

struct TimelineRow {
  // Canary: the step index for spec steps; blue-green: the row's number. nullopt for the
  // rows that are not steps (canary promotion rows, abort, switch back). What
  // AnalysisOverride::step refers to.
  std::optional<int32_t> step;
  RowKind kind = RowKind::kSetWeight;
  std::string action;             // For people: "setWeight 20", "pause 10m", "analysis error-rate".
  int32_t weight = 0;             // Percent of traffic the row asks for on the new revision.
  double served_weight = 0;       // What the pods (or the router) actually serve it.
  int32_t stable_replicas = 0;    // The old revision (blue-green: active until promotion).
  int32_t new_replicas = 0;       // The new revision (canary; blue-green: preview, then active).
  std::optional<Duration> wait;   // A timed wait of the row (pause, delay, known analysis).
  bool waits_for_person = false;  // An indefinite pause, manual promotion, inconclusive.
  // The analyses running in this row: "step: a, b", "background: c", "prePromotion: d".
  std::vector<std::string> analyses;
  std::optional<AnalysisOutcome> verdict;  // When an analysis of the row reports.
  Duration elapsed{0};                     // Cumulative at the end of the row.
  bool elapsed_is_lower_bound = false;
  friend bool operator==(const TimelineRow&, const TimelineRow&) = default;
};

enum class EndPhase { kHealthy, kAborted, kPaused };

// "Healthy", "Aborted" or "Paused": the Rollout's status.phase at the end.
std::string_view endPhaseName(EndPhase phase);

struct TimelineOutcome {
  EndPhase phase = EndPhase::kHealthy;
  std::optional<int32_t> step;  // Where it aborted or paused; nullopt when Healthy.
  std::string message;          // For people: what happened and what serves now.
  friend bool operator==(const TimelineOutcome&, const TimelineOutcome&) = default;
};

struct Timeline {
  bool blue_green = false;
  bool traffic_routed = false;  // Canary with trafficRouting: weights are exact.
  int32_t replicas = 0;         // The total the timeline starts from.
  std::vector<TimelineRow> rows;
  TimelineOutcome outcome;
  friend bool operator==(const Timeline&, const Timeline&) = default;
};

// The dry run of `spec` with `options`. InvalidArgument when options.analysis.step names a
// row that runs no analysis (the message lists those that do), or options.replicas < 0.
Result<Timeline> buildTimeline(const RolloutSpec& spec, const TimelineOptions& options = {});

}  // namespace governor::rollouts
