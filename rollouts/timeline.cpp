#include "rollouts/timeline.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/duration.h"
#include "rollouts/split.h"

namespace governor::rollouts {
namespace {

std::string joined(const std::vector<std::string>& names, std::string_view sep = ", ") {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += sep;
    out += n;
  }
  return out;
}

// The expected run time of `ref`: its templates run together, so the longest; nullopt when
// one of them is not known.
std::optional<Duration> analysisDuration(const AnalysisRef& ref, const TimelineOptions& options) {
  Duration longest{0};
  for (const auto& t : ref.templates) {
    auto it = options.analysis_durations.find(t);
    if (it == options.analysis_durations.end()) return std::nullopt;
    longest = std::max(longest, it->second);
  }
  return longest;
}

// A row of the plan: what happens if every analysis passes and every person resumes at once.
// `abort` is what replaces the rest of the plan when the row's analysis fails.
struct PlannedRow {
  TimelineRow row;
  bool analysis_unknown_duration = false;
  // The row's own analysis (step, pre/post-promotion): it reports a verdict when it ends.
  bool reports = false;
  std::optional<TimelineRow> abort;
  std::string abort_message;  // "traffic and pods back to the stable revision (10 pods)".
};

TimelineRow makeRow(std::optional<int32_t> step, RowKind kind, std::string action, int32_t weight,
                    double served, int32_t stable, int32_t fresh) {
  TimelineRow r;
  r.step = step;
  r.kind = kind;
  r.action = std::move(action);
  r.weight = weight;
  r.served_weight = served;
  r.stable_replicas = stable;
  r.new_replicas = fresh;
  return r;
}

std::vector<PlannedRow> planCanary(const CanaryStrategy& c, int32_t replicas,
                                   const TimelineOptions& options) {
  std::vector<PlannedRow> plan;
  int32_t weight = 0;
  CanaryScale scale;
  const std::string background =
      c.analysis ? "background: " + joined(c.analysis->analysis.templates) : "";
  const TimelineRow abort_row = makeRow(
      std::nullopt, RowKind::kAbort, "abort: traffic and pods back to stable", 0, 0.0, replicas, 0);
  const std::string abort_message =
      "traffic and pods back to the stable revision (" + std::to_string(replicas) + " pods)";

  for (size_t i = 0; i < c.steps.size(); ++i) {
    const CanaryStep& step = c.steps[i];
    PlannedRow p;
    std::string action;
    RowKind kind = RowKind::kSetWeight;
    if (const auto* s = std::get_if<SetWeightStep>(&step)) {
      weight = s->weight;
      action = "setWeight " + std::to_string(s->weight);
    } else if (const auto* s = std::get_if<PauseStep>(&step)) {
      kind = RowKind::kPause;
      if (s->duration) {
        action = "pause " + formatDuration(*s->duration);
        p.row.wait = *s->duration;
      } else {
        action = "pause until promoted";
        p.row.waits_for_person = true;
      }
    } else if (const auto* s = std::get_if<AnalysisStep>(&step)) {
      kind = RowKind::kAnalysis;
      action = "analysis " + joined(s->analysis.templates);
      p.row.analyses.push_back("step: " + joined(s->analysis.templates));
      p.reports = true;
      p.row.wait = analysisDuration(s->analysis, options);
      p.analysis_unknown_duration = !p.row.wait.has_value();
    } else if (const auto* s = std::get_if<SetCanaryScaleStep>(&step)) {
      kind = RowKind::kSetCanaryScale;
      scale = s->scale;
      switch (s->scale.mode) {
        case CanaryScale::Mode::kReplicas:
          action = "setCanaryScale replicas " + std::to_string(s->scale.value);
          break;
        case CanaryScale::Mode::kWeight:
          action = "setCanaryScale weight " + std::to_string(s->scale.value);
          break;
        case CanaryScale::Mode::kMatchTrafficWeight:
          action = "setCanaryScale matchTrafficWeight";
          break;
      }
    }
    const ReplicaSplit split = canarySplit(c, replicas, weight, scale);
    TimelineRow row = makeRow(static_cast<int32_t>(i), kind, std::move(action), weight,
                              split.served_weight, split.stable, split.canary);
    row.wait = p.row.wait;
    row.waits_for_person = p.row.waits_for_person;
    row.analyses = std::move(p.row.analyses);
    if (c.analysis && static_cast<int32_t>(i) >= c.analysis->starting_step) {
      row.analyses.push_back(background);
    }
    p.row = std::move(row);
    p.abort = abort_row;
    p.abort_message = abort_message;
    plan.push_back(std::move(p));
  }

  // Promotion.
  if (c.traffic_routing) {
    const ReplicaSplit last = canarySplit(c, replicas, weight, scale);
    if (last.canary != replicas) {
      PlannedRow full;
      full.row = makeRow(std::nullopt, RowKind::kFullScale,
                         "scale canary to stable's size (" + std::to_string(replicas) + ")", weight,
                         last.served_weight, replicas, replicas);
      plan.push_back(std::move(full));
    }
    PlannedRow promote;
    promote.row = makeRow(std::nullopt, RowKind::kPromote, "promote: 100% to canary", 100, 100.0,
                          replicas, replicas);
    plan.push_back(std::move(promote));
    PlannedRow down;
    down.row = makeRow(std::nullopt, RowKind::kScaleDownOld, "scale down old revision", 100, 100.0,
                       0, replicas);
    plan.push_back(std::move(down));
  } else {
    const ReplicaSplit full = canarySplit(c, replicas, 100, scale);
    PlannedRow promote;
    promote.row = makeRow(std::nullopt, RowKind::kPromote,
                          "promote: roll to canary (maxSurge " + c.max_surge.toString() +
                              ", maxUnavailable " + c.max_unavailable.toString() + ")",
                          100, full.served_weight, full.stable, full.canary);
    plan.push_back(std::move(promote));
  }
  return plan;
}

std::vector<PlannedRow> planBlueGreen(const BlueGreenStrategy& b, int32_t replicas,
                                      const TimelineOptions& options) {
  std::vector<PlannedRow> plan;
  int32_t n = 0;
  const int32_t preview = std::min(b.preview_replica_count.value_or(replicas), replicas);

  PlannedRow up;
  up.row = makeRow(n++, RowKind::kPreview,
                   "preview: new revision at " + std::to_string(preview) + " pods" +
                       (b.preview_service.empty() ? "" : " behind " + b.preview_service),
                   0, 0.0, replicas, preview);
  plan.push_back(std::move(up));

  if (b.pre_promotion_analysis) {
    PlannedRow p;
    const auto& ref = *b.pre_promotion_analysis;
    p.row = makeRow(n++, RowKind::kAnalysis, "prePromotionAnalysis " + joined(ref.templates), 0,
                    0.0, replicas, preview);
    p.row.analyses.push_back("prePromotion: " + joined(ref.templates));
    p.row.wait = analysisDuration(ref, options);
    p.analysis_unknown_duration = !p.row.wait.has_value();
    p.reports = true;
    p.abort =
        makeRow(std::nullopt, RowKind::kAbort, "abort: preview scaled to 0", 0, 0.0, replicas, 0);
    p.abort_message = b.active_service + " stays on the old revision (" + std::to_string(replicas) +
                      " pods); the preview is scaled to 0";
    plan.push_back(std::move(p));
  }

  if (!b.auto_promotion_enabled || b.auto_promotion_seconds) {
    PlannedRow wait;
    wait.row = makeRow(n++, RowKind::kAwaitPromotion, "", 0, 0.0, replicas, preview);
    if (!b.auto_promotion_enabled) {
      wait.row.action = "wait for a person to promote";
      wait.row.waits_for_person = true;
    } else {
      wait.row.action = "auto-promotion after " + formatDuration(*b.auto_promotion_seconds);
      wait.row.wait = *b.auto_promotion_seconds;
    }
    plan.push_back(std::move(wait));
  }

  if (preview < replicas) {
    PlannedRow full;
    full.row = makeRow(n++, RowKind::kFullScale,
                       "scale new revision to active's size (" + std::to_string(replicas) + ")", 0,
                       0.0, replicas, replicas);
    plan.push_back(std::move(full));
  }

  PlannedRow promote;
  promote.row = makeRow(n++, RowKind::kPromote, "promote: " + b.active_service + " -> new revision",
                        100, 100.0, replicas, replicas);
  plan.push_back(std::move(promote));

  if (b.post_promotion_analysis) {
    PlannedRow p;
    const auto& ref = *b.post_promotion_analysis;
    p.row = makeRow(n++, RowKind::kAnalysis, "postPromotionAnalysis " + joined(ref.templates), 100,
                    100.0, replicas, replicas);
    p.row.analyses.push_back("postPromotion: " + joined(ref.templates));
    p.row.wait = analysisDuration(ref, options);
    p.analysis_unknown_duration = !p.row.wait.has_value();
    p.reports = true;
    p.abort = makeRow(std::nullopt, RowKind::kSwitchBack,
                      "switch back: " + b.active_service + " -> old revision", 0, 0.0, replicas, 0);
    p.abort_message = b.active_service + " switched back to the old revision (" +
                      std::to_string(replicas) + " pods); the new revision is scaled to 0";
    plan.push_back(std::move(p));
  }

  PlannedRow down;
  down.row = makeRow(n++, RowKind::kScaleDownOld,
                     "scale down old revision after " + formatDuration(b.scale_down_delay), 100,
                     100.0, 0, replicas);
  down.row.wait = b.scale_down_delay;
  plan.push_back(std::move(down));
  return plan;
}

}  // namespace

std::string_view analysisOutcomeName(AnalysisOutcome outcome) {
  switch (outcome) {
    case AnalysisOutcome::kPass:
      return "pass";
    case AnalysisOutcome::kFail:
      return "fail";
    case AnalysisOutcome::kInconclusive:
      return "inconclusive";
  }
  return "pass";
}

Result<AnalysisOverride> parseAnalysisOverride(std::string_view text) {
  const std::string usage = "(use pass, fail or inconclusive, optionally @STEP: \"fail@3\")";
  const size_t at = text.find('@');
  const std::string_view name = text.substr(0, at);
  AnalysisOverride out;
  if (name == "pass") {
    out.outcome = AnalysisOutcome::kPass;
  } else if (name == "fail") {
    out.outcome = AnalysisOutcome::kFail;
  } else if (name == "inconclusive") {
    out.outcome = AnalysisOutcome::kInconclusive;
  } else {
    return invalidArgument("\"" + std::string(text) + "\": unknown analysis outcome \"" +
                           std::string(name) + "\" " + usage);
  }
  if (at != std::string_view::npos) {
    const std::string_view digits = text.substr(at + 1);
    int32_t step = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || step < 0) {
      return invalidArgument("\"" + std::string(text) +
                             "\": the step must be a number >= 0, got \"" + std::string(digits) +
                             "\"");
    }
    out.step = step;
  }
  return out;
}

std::string_view rowKindName(RowKind kind) {
  switch (kind) {
    case RowKind::kSetWeight:
      return "setWeight";
    case RowKind::kPause:
      return "pause";
    case RowKind::kAnalysis:
      return "analysis";
    case RowKind::kSetCanaryScale:
      return "setCanaryScale";
    case RowKind::kPreview:
      return "preview";
    case RowKind::kAwaitPromotion:
      return "awaitPromotion";
    case RowKind::kFullScale:
      return "fullScale";
    case RowKind::kPromote:
      return "promote";
    case RowKind::kScaleDownOld:
      return "scaleDownOld";
    case RowKind::kAbort:
      return "abort";
    case RowKind::kSwitchBack:
      return "switchBack";
  }
  return "setWeight";
}

std::string_view endPhaseName(EndPhase phase) {
  switch (phase) {
    case EndPhase::kHealthy:
      return "Healthy";
    case EndPhase::kAborted:
      return "Aborted";
    case EndPhase::kPaused:
      return "Paused";
  }
  return "Healthy";
}

Result<Timeline> buildTimeline(const RolloutSpec& spec, const TimelineOptions& options) {
  const int32_t replicas = options.replicas.value_or(spec.replicas);
  if (replicas < 0) {
    return invalidArgument("replicas must be >= 0, got " + std::to_string(replicas));
  }
  Timeline out;
  out.replicas = replicas;
  std::vector<PlannedRow> plan;
  if (const CanaryStrategy* c = spec.canary()) {
    out.traffic_routed = c->traffic_routing.has_value();
    plan = planCanary(*c, replicas, options);
  } else {
    out.blue_green = true;
    plan = planBlueGreen(*spec.blueGreen(), replicas, options);
  }

  // Which row the override hits.
  std::set<int32_t> with_analysis;
  for (const auto& p : plan) {
    if (!p.row.analyses.empty() && p.row.step) with_analysis.insert(*p.row.step);
  }
  std::optional<int32_t> target = options.analysis.step;
  if (target && with_analysis.count(*target) == 0) {
    std::string list;
    for (int32_t s : with_analysis) list += (list.empty() ? "" : ", ") + std::to_string(s);
    return invalidArgument(
        "--analysis " + std::string(analysisOutcomeName(options.analysis.outcome)) + "@" +
        std::to_string(*target) + ": step " + std::to_string(*target) + " runs no analysis" +
        (list.empty() ? std::string(" (this Rollout has none)")
                      : " (steps with analysis: " + list + ")"));
  }
  if (!target && !with_analysis.empty()) target = *with_analysis.begin();

  Duration elapsed{0};
  bool lower_bound = false;
  for (const PlannedRow& p : plan) {
    TimelineRow row = p.row;
    if (row.wait) elapsed += *row.wait;
    lower_bound = lower_bound || p.analysis_unknown_duration || row.waits_for_person;
    const bool hit = !row.analyses.empty() && row.step && row.step == target;
    const AnalysisOutcome outcome = hit ? options.analysis.outcome : AnalysisOutcome::kPass;
    if (p.reports || outcome != AnalysisOutcome::kPass) row.verdict = outcome;
    row.elapsed = elapsed;
    row.elapsed_is_lower_bound = lower_bound;
    const std::string step_text = row.step ? "step " + std::to_string(*row.step) : "promotion";
    const std::vector<std::string> analyses = row.analyses;
    out.rows.push_back(std::move(row));

    if (outcome == AnalysisOutcome::kFail) {
      TimelineRow abort = *p.abort;
      abort.elapsed = elapsed;
      abort.elapsed_is_lower_bound = lower_bound;
      out.rows.push_back(std::move(abort));
      out.outcome = {EndPhase::kAborted, p.row.step,
                     "aborted at " + step_text + ": analysis failed (" + joined(analyses, "; ") +
                         "); " + p.abort_message};
      return out;
    }
    const bool inconclusive = outcome == AnalysisOutcome::kInconclusive;
    if ((inconclusive || p.row.waits_for_person) && !options.resume) {
      out.outcome = {EndPhase::kPaused, p.row.step,
                     "paused at " + step_text + ": " +
                         (inconclusive ? "analysis inconclusive (" + joined(analyses, "; ") + ")"
                                       : std::string("waits for a person")) +
                         "; `governor rollout promote` goes on, `abort` rolls back"};
      return out;
    }
    lower_bound = lower_bound || inconclusive;
  }
  out.outcome.phase = EndPhase::kHealthy;
  if (out.blue_green) {
    out.outcome.message = "promoted: " + spec.blueGreen()->active_service +
                          " selects the new revision (" + std::to_string(replicas) +
                          " pods); the old revision is scaled to 0";
  } else {
    out.outcome.message = "promoted: the new revision serves 100% with " +
                          std::to_string(replicas) + " pods; the old revision is scaled to 0";
  }
  return out;
}

}  // namespace governor::rollouts
