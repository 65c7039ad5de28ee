#include "cli/rollout_command.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "cli/app.h"
#include "cli/files.h"
#include "rollouts/analysis_spec.h"
#include "rollouts/spec.h"
#include "rollouts/template_hash.h"
#include "rollouts/timeline.h"

namespace governor::cli {
namespace {

struct SimulateFlags {
  std::string file;
  std::string analysis = "pass";
  std::optional<int32_t> replicas;
  std::vector<std::string> template_files;      // AnalysisTemplate manifests.
  std::vector<std::string> analysis_durations;  // TEMPLATE=DURATION
  bool resume = false;
  std::string output = "table";
};

// "20%", "16.7%": the served weight, to one decimal when it is not whole.
std::string percent(double v) {
  const double rounded = std::round(v * 10.0) / 10.0;
  std::ostringstream s;
  if (rounded == std::floor(rounded)) {
    s << static_cast<int64_t>(rounded) << "%";
  } else {
    s.setf(std::ios::fixed);
    s.precision(1);
    s << rounded << "%";
  }
  return s.str();
}

std::string waitText(const rollouts::TimelineRow& row) {
  if (row.waits_for_person) return "a person";
  if (row.wait) return formatDuration(*row.wait);
  if (row.kind == rollouts::RowKind::kAnalysis) return "?";  // Duration not known.
  return "-";
}

std::string analysisText(const rollouts::TimelineRow& row) {
  std::string s;
  for (const auto& a : row.analyses) s += (s.empty() ? "" : "; ") + a;
  if (row.verdict) s += " -> " + std::string(rollouts::analysisOutcomeName(*row.verdict));
  return s.empty() ? "-" : s;
}

std::string elapsedText(const rollouts::TimelineRow& row) {
  return (row.elapsed_is_lower_bound ? ">=" : "") + formatDuration(row.elapsed);
}

std::string formatTable(const rollouts::RolloutSpec& spec, const rollouts::Timeline& t) {
  std::ostringstream out;
  out << "Rollout " << spec.namespace_ << "/" << spec.name << ": "
      << (t.blue_green ? "blue-green" : "canary") << ", " << t.replicas << " replicas, ";
  if (t.blue_green) {
    out << "active Service " << spec.blueGreen()->active_service << "\n"
        << "OLD: the revision serving before the update; NEW: the update (preview, then "
           "active)\n";
  } else if (t.traffic_routed) {
    out << "weights set on HTTPRoute " << spec.canary()->traffic_routing->http_route << "\n";
  } else {
    out << "no traffic router (the weight is approximated by the replica split: SERVED)\n";
  }
  out << "new revision pod-template-hash: " << rollouts::podTemplateHash(spec) << "\n\n";

  std::vector<std::vector<std::string>> rows;
  if (t.blue_green) {
    rows.push_back({"STEP", "ACTION", "WEIGHT", "OLD", "NEW", "WAIT", "ANALYSIS", "ELAPSED"});
  } else if (t.traffic_routed) {
    rows.push_back({"STEP", "ACTION", "WEIGHT", "STABLE", "CANARY", "WAIT", "ANALYSIS", "ELAPSED"});
  } else {
    rows.push_back(
        {"STEP", "ACTION", "WEIGHT", "SERVED", "STABLE", "CANARY", "WAIT", "ANALYSIS", "ELAPSED"});
  }
  const bool served_column = !t.blue_green && !t.traffic_routed;
  for (const auto& r : t.rows) {
    std::vector<std::string> cells = {r.step ? std::to_string(*r.step) : "-", r.action,
                                      std::to_string(r.weight) + "%"};
    if (served_column) cells.push_back(percent(r.served_weight));
    cells.push_back(std::to_string(r.stable_replicas));
    cells.push_back(std::to_string(r.new_replicas));
    cells.push_back(waitText(r));
    cells.push_back(analysisText(r));
    cells.push_back(elapsedText(r));
    rows.push_back(std::move(cells));
  }
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  out << "\noutcome: " << rollouts::endPhaseName(t.outcome.phase) << ": " << t.outcome.message
      << "\n";
  if (!t.rows.empty()) {
    const auto& last = t.rows.back();
    out << "expected duration: " << (last.elapsed_is_lower_bound ? "at least " : "")
        << formatDuration(last.elapsed) << " (pauses, analyses and delays; pod start-up"
        << (last.elapsed_is_lower_bound ? ", analyses of unknown duration and people" : "")
        << " not counted)\n";
  }
  return out.str();
}

nlohmann::json toJson(const rollouts::RolloutSpec& spec, const rollouts::Timeline& t) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& r : t.rows) {
    nlohmann::json row = {
        {"step", r.step ? nlohmann::json(*r.step) : nlohmann::json(nullptr)},
        {"kind", rollouts::rowKindName(r.kind)},
        {"action", r.action},
        {"weight", r.weight},
        {"servedWeight", r.served_weight},
        {"stableReplicas", r.stable_replicas},
        {"newReplicas", r.new_replicas},
        {"waitSeconds", r.wait ? nlohmann::json(toSeconds(*r.wait)) : nlohmann::json(nullptr)},
        {"waitsForPerson", r.waits_for_person},
        {"analyses", r.analyses},
        {"verdict", r.verdict ? nlohmann::json(rollouts::analysisOutcomeName(*r.verdict))
                              : nlohmann::json(nullptr)},
        {"elapsedSeconds", toSeconds(r.elapsed)},
        {"elapsedIsLowerBound", r.elapsed_is_lower_bound},
    };
    steps.push_back(std::move(row));
  }
  return {
      {"rollout", {{"name", spec.name}, {"namespace", spec.namespace_}}},
      {"strategy", t.blue_green ? "blueGreen" : "canary"},
      {"trafficRouted", t.traffic_routed},
      {"replicas", t.replicas},
      {"podTemplateHash", rollouts::podTemplateHash(spec)},
      {"steps", std::move(steps)},
      {"outcome",
       {{"phase", rollouts::endPhaseName(t.outcome.phase)},
        {"step", t.outcome.step ? nlohmann::json(*t.outcome.step) : nlohmann::json(nullptr)},
        {"message", t.outcome.message}}},
  };
}

int runSimulate(const SimulateFlags& flags, std::ostream& out, std::ostream& err) {
  rollouts::TimelineOptions options;
  auto analysis = rollouts::parseAnalysisOverride(flags.analysis);
  if (!analysis.ok()) {
    err << "error: --analysis " << analysis.status().message() << "\n";
    return kExitBadInput;
  }
  options.analysis = *analysis;
  options.replicas = flags.replicas;
  options.resume = flags.resume;
  // Durations from AnalysisTemplates first, so that --analysis-duration overrides them.
  for (const auto& path : flags.template_files) {
    auto text = readFile(path);
    if (!text.ok()) {
      err << "error: " << text.status().message() << "\n";
      return kExitBadInput;
    }
    auto templates = rollouts::parseAnalysisTemplates(*text, path);
    if (!templates.ok()) {
      err << templates.status().message() << "\n";
      return kExitBadInput;
    }
    for (const auto& t : *templates) {
      // An unbounded template (count 0) runs until the rollout ends: no duration to add.
      if (auto d = rollouts::expectedDuration(t)) options.analysis_durations[t.name] = *d;
    }
  }
  for (const auto& entry : flags.analysis_durations) {
    const size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "error: --analysis-duration \"" << entry << "\": want TEMPLATE=DURATION (e.g. "
          << "success-rate=5m)\n";
      return kExitBadInput;
    }
    auto d = parseDuration(entry.substr(eq + 1));
    if (!d.ok() || *d < Duration(0)) {
      err << "error: --analysis-duration \"" << entry
          << "\": " << (d.ok() ? "must be >= 0" : d.status().message()) << "\n";
      return kExitBadInput;
    }
    options.analysis_durations[entry.substr(0, eq)] = *d;
  }

  auto text = readFile(flags.file);
  if (!text.ok()) {
    err << "error: " << text.status().message() << "\n";
    return kExitBadInput;
  }
  auto spec = rollouts::parseRollout(*text, flags.file);
  if (!spec.ok()) {
    err << spec.status().message() << "\n";
    return kExitBadInput;
  }
  auto timeline = rollouts::buildTimeline(*spec, options);
  if (!timeline.ok()) {
    err << "error: " << timeline.status().message() << "\n";
    return kExitBadInput;
  }
  if (flags.output == "json") {
    out << toJson(*spec, *timeline).dump(2) << "\n";
  } else {
    out << formatTable(*spec, *timeline);
  }
  return kExitOk;
}

void addSimulate(CLI::App& rollout, std::ostream& out, std::ostream& err, int& exit_code) {
  auto flags = std::make_shared<SimulateFlags>();
  CLI::App* cmd = rollout.add_subcommand(
      "simulate",
      "Print the step timeline of a Rollout update (weights, pods per revision, pauses, "
      "analyses, expected duration) without a cluster");
  cmd->add_option("-f,--filename", flags->file, "The Rollout manifest (YAML or JSON)")->required();
  cmd->add_option("--analysis", flags->analysis,
                  "What the analyses report: pass, fail or inconclusive; @STEP for one step "
                  "only (e.g. fail@3), else the first step with an analysis")
      ->default_str("pass");
  cmd->add_option("--replicas", flags->replicas,
                  "The Rollout's current total, as a ScalingPolicy left it (default: "
                  "spec.replicas)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--templates", flags->template_files,
                  "AnalysisTemplate manifests (repeatable): their expected durations "
                  "(initialDelay + (count - 1) x interval) time the analyses");
  cmd->add_option("--analysis-duration", flags->analysis_durations,
                  "Expected run time of an AnalysisTemplate, TEMPLATE=DURATION (repeatable); "
                  "unknown ones count as 0 and make the elapsed time a lower bound");
  cmd->add_flag("--resume", flags->resume,
                "Assume a person promotes at once wherever the Rollout would wait for one");
  cmd->add_option("-o,--output", flags->output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->default_str("table");
  cmd->callback([flags, &out, &err, &exit_code] { exit_code = runSimulate(*flags, out, err); });
}

}  // namespace

void addRolloutCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  CLI::App* rollout = app.add_subcommand("rollout", "Progressive delivery: Rollouts");
  rollout->require_subcommand(1);
  // One add*() per verb; the API-server verbs (status, promote, abort, ...) go here too.
  addSimulate(*rollout, out, err, exit_code);
}

}  // namespace governor::cli
