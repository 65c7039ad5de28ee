#include "cli/rollout_command.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <sstream>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "base/rfc3339.h"
#include "cli/app.h"
#include "cli/files.h"
#include "controller/kube/client.h"
#include "controller/kube/config.h"
#include "controller/kube/errors.h"
#include "controller/kube/resource.h"
#include "controller/kube/watch.h"
#include "controller/rollout_status_json.h"
#include "rollouts/analysis_run.h"
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

// ---- The verbs on the API server ------------------------------------------------------

namespace kube = controller::kube;
using nlohmann::json;

// --kubeconfig, --context and -n of every API-server verb.
struct ClusterFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_;
};

void addClusterFlags(CLI::App* cmd, ClusterFlags& flags) {
  cmd->add_option("--kubeconfig", flags.kubeconfig,
                  "Kubeconfig file (default: $KUBECONFIG, in-cluster, ~/.kube/config)");
  cmd->add_option("--context", flags.context, "Kubeconfig context (default: current-context)");
  cmd->add_option("-n,--namespace", flags.namespace_,
                  "The Rollout's namespace (default: the context's, else \"default\")");
}

// A client for the API server and where the Rollout is.
struct Cluster {
  std::unique_ptr<kube::Client> client;
  kube::ResourceRef rollouts;  // The namespace's collection of Rollouts.
  std::string name;
  std::string display;  // "shop/web", for messages.
  std::string server;
};

Result<Cluster> connect(const ClusterFlags& flags, const std::string& name) {
  kube::LoadOptions load;
  load.kubeconfig = flags.kubeconfig;
  load.context = flags.context;
  auto config = kube::loadClientConfig(load);
  if (!config.ok()) {
    return Status(config.status().code(), "kubeconfig: " + config.status().message());
  }
  Cluster cluster;
  cluster.server = config->server;
  std::string ns = flags.namespace_;
  if (ns.empty()) ns = config->namespace_.empty() ? "default" : config->namespace_;
  auto client = kube::Client::fromConfig(*config);
  if (!client.ok()) {
    return Status(client.status().code(), "kubeconfig: " + client.status().message());
  }
  cluster.client = std::move(client).value();
  cluster.rollouts = kube::ResourceRef{
      .group = "governor.io", .version = "v1alpha1", .resource = "rollouts", .namespace_ = ns};
  cluster.name = name;
  cluster.display = ns + "/" + name;
  return cluster;
}

// Prints `s` for a person and returns the exit code (1). `display` names the Rollout, or is
// "" when the error is not about one (the kubeconfig).
int reportError(std::ostream& err, const std::string& display, const std::string& server,
                const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      // A 404 for the whole resource type: no CRD, rather than no Rollout.
      if (s.message().find("could not find the requested resource") != std::string::npos) {
        err << "error: the API server " << server
            << " does not serve rollouts.governor.io/v1alpha1: is the Rollout CRD installed? "
               "(manifests/crd/governor.io_rollouts.yaml)\n";
      } else if (display.empty()) {
        err << "error: " << s.message() << "\n";
      } else {
        err << "error: rollout " << display << " not found\n";
      }
      break;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
      err << "error: cannot reach the API server " << server << ": " << s.message() << "\n";
      break;
    case StatusCode::kPermissionDenied:
      err << "error: the API server " << server
          << " refused the request (check the kubeconfig's credentials and RBAC): " << s.message()
          << "\n";
      break;
    default:
      err << "error: " << (display.empty() ? "" : "rollout " + display + ": ") << s.message()
          << "\n";
  }
  return kExitFailure;
}

// The Rollout as stored, and its status decoded.
struct LoadedRollout {
  json object;
  rollouts::RolloutStatus status;
};

Result<LoadedRollout> decode(json object) {
  const json& status = object.contains("status") ? object["status"] : json(nullptr);
  auto parsed = controller::parseRolloutStatus(status);
  if (!parsed.ok()) {
    return invalidArgument("cannot read its status (edited by hand?): " +
                           parsed.status().message());
  }
  return LoadedRollout{std::move(object), std::move(parsed).value()};
}

Result<LoadedRollout> load(Cluster& cluster) {
  auto object = cluster.client->get(cluster.rollouts.named(cluster.name));
  if (!object.ok()) return object.status();
  return decode(std::move(object).value());
}

int64_t generationOf(const json& object) {
  const json* g = nullptr;
  if (object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("generation")) {
    g = &object["metadata"]["generation"];
  }
  return g != nullptr && g->is_number_integer() ? g->get<int64_t>() : 0;
}

// spec.<key> as stored, or null.
const json& specField(const json& object, const char* key) {
  static const json kNull;
  if (!object.contains("spec") || !object["spec"].is_object()) return kNull;
  const json& spec = object["spec"];
  return spec.contains(key) ? spec[key] : kNull;
}

bool specPaused(const json& object) {
  const json& paused = specField(object, "paused");
  return paused.is_boolean() && paused.get<bool>();
}

// ---- The status table ----

// Rows of cells as left-aligned columns, each line prefixed with `indent`.
std::string columns(const std::vector<std::vector<std::string>>& rows, const std::string& indent) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);  // Empty last cells leave no padding.
    out += line + "\n";
  }
  return out;
}

// A canary step as written ("setWeight 20", "pause 5m", "pause (until promoted)",
// "analysis success-rate, latency", "setCanaryScale replicas 2").
std::string stepText(const json& step) {
  if (!step.is_object() || step.size() != 1) return step.dump();
  const std::string& kind = step.begin().key();
  const json& value = step.begin().value();
  if (kind == "setWeight") return "setWeight " + value.dump();
  if (kind == "pause") {
    if (value.is_object() && value.contains("duration")) {
      const json& d = value["duration"];
      return "pause " + (d.is_string() ? d.get<std::string>() : d.dump() + "s");
    }
    return "pause (until promoted)";
  }
  if (kind == "analysis") {
    std::string names;
    if (value.is_object() && value.contains("templates") && value["templates"].is_array()) {
      for (const json& t : value["templates"]) {
        const std::string name =
            t.is_object() && t.contains("templateName") && t["templateName"].is_string()
                ? t["templateName"].get<std::string>()
                : t.dump();
        names += (names.empty() ? "" : ", ") + name;
      }
    }
    return "analysis " + names;
  }
  if (kind == "setCanaryScale" && value.is_object() && value.size() == 1) {
    const std::string& mode = value.begin().key();
    const json& n = value.begin().value();
    return "setCanaryScale " + (mode == "matchTrafficWeight" ? mode : mode + " " + n.dump());
  }
  return kind + " " + value.dump();
}

std::string timeText(const std::optional<TimePoint>& t) {
  return t ? formatRfc3339(*t, TimePrecision::kSeconds) : "-";
}

std::string lastMeasurement(const rollouts::MetricRun& m) {
  if (m.measurements.empty()) return "-";
  const rollouts::Measurement& x = m.measurements.back();
  std::string s = "#" + std::to_string(x.number) + " " +
                  (x.value ? rollouts::formatValue(*x.value) : std::string("(no value)")) + " " +
                  std::string(rollouts::measurementPhaseName(x.phase)) + " at " +
                  formatRfc3339(x.measured_at, TimePrecision::kSeconds);
  if (!x.message.empty()) s += ": " + x.message;
  return s;
}

}  // namespace

std::string formatRolloutStatus(const json& object, const rollouts::RolloutStatus& status) {
  std::ostringstream out;
  const std::string name = kube::nameOf(object);
  const std::string ns = kube::namespaceOf(object);
  const int64_t generation = generationOf(object);
  const json& strategy = specField(object, "strategy");
  const bool blue_green =
      status.strategy == "BlueGreen" ||
      (status.strategy.empty() && strategy.is_object() && strategy.contains("blueGreen"));
  const json* steps = nullptr;
  if (!blue_green && strategy.is_object() && strategy.contains("canary") &&
      strategy["canary"].is_object() && strategy["canary"].contains("steps") &&
      strategy["canary"]["steps"].is_array()) {
    steps = &strategy["canary"]["steps"];
  }

  out << "Rollout " << ns << "/" << name << "\n";
  std::vector<std::vector<std::string>> about;
  std::string phase =
      status.phase ? std::string(rollouts::rolloutPhaseName(*status.phase)) : "(not reconciled)";
  if (status.observed_generation < generation) {
    phase += " (as of generation " + std::to_string(status.observed_generation) +
             "; the spec is at generation " + std::to_string(generation) + ")";
  }
  about.push_back({"Phase:", phase});
  if (!status.message.empty()) about.push_back({"Message:", status.message});
  about.push_back({"Strategy:", blue_green ? "BlueGreen" : "Canary"});
  if (!blue_green) {
    const size_t total = steps != nullptr ? steps->size() : 0;
    std::string step = std::to_string(status.current_step_index) + "/" + std::to_string(total);
    if (steps != nullptr && status.current_step_index >= 0 &&
        static_cast<size_t>(status.current_step_index) < total) {
      step += ": " + stepText((*steps)[static_cast<size_t>(status.current_step_index)]);
    } else if (total > 0) {
      step += " (all steps done)";
    }
    if (status.current_step_started_at)
      step += ", since " + timeText(status.current_step_started_at);
    about.push_back({"Step:", step});
    about.push_back({"Weight:", std::to_string(status.canary_weight) + "% canary, " +
                                    std::to_string(100 - status.canary_weight) + "% stable"});
  }
  const bool updating = status.canary_revision != status.stable_revision;
  about.push_back(
      {"Revisions:",
       "stable " + (status.stable_revision.empty() ? std::string("-") : status.stable_revision) +
           (updating ? ", " + std::string(blue_green ? "new " : "canary ") + status.canary_revision
                     : " (no update in progress)")});
  about.push_back({"Replicas:", std::to_string(status.replicas) + " (ready " +
                                    std::to_string(status.ready_replicas) + ", available " +
                                    std::to_string(status.available_replicas) + ", updated " +
                                    std::to_string(status.updated_replicas) + ")"});
  if (specPaused(object)) {
    about.push_back({"Paused:", "spec.paused is true (`governor rollout resume " + name + " -n " +
                                    ns + "` to go on)"});
  } else if (status.paused_at) {
    about.push_back({"Paused:", "since " + timeText(status.paused_at) +
                                    ", waiting for `governor rollout promote`"});
  }
  std::string requests;
  if (status.abort) requests = "abort";
  if (status.promote) {
    requests += std::string(requests.empty() ? "" : ", ") + "promote " +
                std::string(rollouts::promoteRequestName(*status.promote));
  }
  if (!requests.empty()) about.push_back({"Requested:", requests});
  out << columns(about, "");

  if (blue_green) {
    const json& bg = strategy.is_object() && strategy.contains("blueGreen") ? strategy["blueGreen"]
                                                                            : json::object();
    auto service = [&](const char* key) {
      return bg.is_object() && bg.contains(key) && bg[key].is_string() ? bg[key].get<std::string>()
                                                                       : std::string("-");
    };
    auto selects = [](const std::string& hash) {
      return " (selects " + (hash.empty() ? std::string("-") : hash) + ")";
    };
    std::vector<std::vector<std::string>> rows = {
        {"Active Service:", service("activeService") + selects(status.active_selector)},
        {"Preview Service:", service("previewService") + selects(status.preview_selector)},
        {"Preview ready:", timeText(status.preview_ready_at)},
        {"Promoted:", timeText(status.promoted_at)},
        {"Scale down:",
         timeText(status.scale_down_at) +
             (status.previous_active.empty() ? "" : " (of " + status.previous_active + ")")}};
    out << "\nBlue-green:\n" << columns(rows, "  ");
  } else if (steps != nullptr && !steps->empty()) {
    std::vector<std::vector<std::string>> rows = {{"", "#", "STEP", "WEIGHT"}};
    int32_t weight = 0;
    for (size_t i = 0; i < steps->size(); ++i) {
      const json& step = (*steps)[i];
      if (step.is_object() && step.contains("setWeight") && step["setWeight"].is_number_integer()) {
        weight = step["setWeight"].get<int32_t>();
      }
      const bool current = static_cast<size_t>(status.current_step_index) == i;
      rows.push_back(
          {current ? "->" : "", std::to_string(i), stepText(step), std::to_string(weight) + "%"});
    }
    out << "\nSteps:\n" << columns(rows, "  ");
  }

  if (!status.revisions.empty()) {
    std::vector<std::vector<std::string>> rows = {
        {"REVISION", "ROLE", "REPLICASET", "REPLICAS", "READY", "AVAILABLE"}};
    for (const auto& r : status.revisions) {
      rows.push_back({r.pod_template_hash, std::string(rollouts::revisionRoleName(r.role)),
                      r.replica_set, std::to_string(r.replicas), std::to_string(r.ready_replicas),
                      std::to_string(r.available_replicas)});
    }
    out << "\nRevisions:\n" << columns(rows, "  ");
  }

  if (!status.analysis_runs.empty()) {
    out << "\nAnalysis runs:\n";
    for (const auto& r : status.analysis_runs) {
      out << "  " << r.name << ": " << rollouts::analysisPhaseName(r.run.phase) << " ("
          << rollouts::analysisKindName(r.kind);
      if (r.step_index) out << " at step " << *r.step_index;
      out << ", template " << r.template_name << ", revision " << r.revision << ", started "
          << timeText(r.run.started_at);
      if (r.finished_at) out << ", finished " << timeText(r.finished_at);
      out << ")\n";
      if (!r.run.message.empty()) out << "    " << r.run.message << "\n";
      std::vector<std::vector<std::string>> rows = {{"METRIC", "PHASE", "MEASURED", "SUCCESSFUL",
                                                     "FAILED", "INCONCLUSIVE", "ERRORS",
                                                     "LAST MEASUREMENT"}};
      for (const auto& m : r.run.metrics) {
        rows.push_back({m.name, std::string(rollouts::analysisPhaseName(m.phase)),
                        std::to_string(m.measured), std::to_string(m.successful),
                        std::to_string(m.failed), std::to_string(m.inconclusive),
                        std::to_string(m.errors) +
                            (m.consecutive_errors > 0
                                 ? " (" + std::to_string(m.consecutive_errors) + " in a row)"
                                 : ""),
                        lastMeasurement(m)});
      }
      if (rows.size() > 1) out << columns(rows, "    ");
    }
  }

  if (!status.conditions.empty()) {
    std::vector<std::vector<std::string>> rows = {{"TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"}};
    for (const auto& c : status.conditions) {
      rows.push_back({c.type, c.status, c.reason,
                      formatRfc3339(c.last_transition_time, TimePrecision::kSeconds), c.message});
    }
    out << "\nConditions:\n" << columns(rows, "  ");
  }
  return out.str();
}

namespace {

json statusJson(const LoadedRollout& r) {
  return {{"name", kube::nameOf(r.object)},
          {"namespace", kube::namespaceOf(r.object)},
          {"generation", generationOf(r.object)},
          {"spec", r.object.contains("spec") ? r.object["spec"] : json(nullptr)},
          {"status", controller::renderRolloutStatus(r.status)}};
}

struct StatusFlags {
  ClusterFlags cluster;
  std::string name;
  std::string output = "table";
  bool watch = false;
  std::string timeout;  // --timeout; "" = none.
};

// The exit code once the update has settled (Healthy 0; Aborted, Degraded 1), or nullopt
// while it is still moving or the controller has not seen the current spec yet.
std::optional<int> settledExitCode(const LoadedRollout& r) {
  if (!r.status.phase || r.status.observed_generation < generationOf(r.object)) return std::nullopt;
  switch (*r.status.phase) {
    case rollouts::RolloutPhase::kHealthy:
      return kExitOk;
    case rollouts::RolloutPhase::kAborted:
    case rollouts::RolloutPhase::kDegraded:
      return kExitFailure;
    default:
      return std::nullopt;
  }
}

// Requests a stop of `source` after `timeout`, unless destroyed first.
class StopTimer {
 public:
  StopTimer(std::stop_source& source, Duration timeout)
      : thread_([this, &source, timeout](std::stop_token own) {
          std::unique_lock lock(mu_);
          if (!cv_.wait_for(lock, own, timeout, [] { return false; }) && !own.stop_requested()) {
            source.request_stop();
          }
        }) {}

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // Last: stopped and joined before mu_ and cv_ go away.
};

int runStatus(const StatusFlags& flags, std::ostream& out, std::ostream& err) {
  std::optional<Duration> timeout;
  if (!flags.timeout.empty()) {
    auto d = parseDuration(flags.timeout);
    if (!d.ok() || *d <= Duration(0)) {
      err << "error: --timeout \"" << flags.timeout
          << "\": " << (d.ok() ? "must be > 0" : d.status().message()) << "\n";
      return kExitBadInput;
    }
    timeout = *d;
  }
  auto cluster = connect(flags.cluster, flags.name);
  if (!cluster.ok()) return reportError(err, "", "", cluster.status());
  Cluster& c = *cluster;
  auto loaded = load(c);
  if (!loaded.ok()) return reportError(err, c.display, c.server, loaded.status());

  std::string last;  // What was printed last, so that only changes print again.
  auto show = [&](const LoadedRollout& r) {
    std::string text = flags.output == "json" ? statusJson(r).dump(2) + "\n"
                                              : formatRolloutStatus(r.object, r.status);
    if (text == last) return;
    if (!last.empty() && flags.output != "json") out << "\n";
    out << text << std::flush;
    last = std::move(text);
  };
  show(*loaded);
  if (!flags.watch) return kExitOk;

  std::stop_source stop;
  std::optional<StopTimer> timer;
  if (timeout) timer.emplace(stop, *timeout);
  const auto deadline = std::chrono::steady_clock::now() + timeout.value_or(Duration(0));
  LoadedRollout current = std::move(loaded).value();
  std::string resource_version = kube::resourceVersionOf(current.object);
  while (!stop.stop_requested()) {
    if (auto code = settledExitCode(current)) return *code;
    kube::WatchOptions options;
    options.field_selector = "metadata.name=" + c.name;
    options.resource_version = resource_version;
    if (timeout) {
      // The server ends the watch by the deadline, so a quiet watch never outlives it.
      const auto left = std::chrono::duration_cast<std::chrono::seconds>(
          deadline - std::chrono::steady_clock::now());
      options.timeout =
          std::clamp(left + std::chrono::seconds(1), std::chrono::seconds(1), options.timeout);
    }
    std::optional<int> result;
    Status event_error;
    Status watched = c.client->watch(
        c.rollouts.collection(), options,
        [&](kube::WatchEvent&& event) {
          if (event.type == kube::WatchEventType::kBookmark) {
            resource_version = kube::resourceVersionOf(event.object);
            return true;
          }
          if (event.type == kube::WatchEventType::kDeleted) {
            err << "error: rollout " << c.display << " was deleted\n";
            result = kExitFailure;
            return false;
          }
          resource_version = kube::resourceVersionOf(event.object);
          auto decoded = decode(std::move(event.object));
          if (!decoded.ok()) {
            event_error = decoded.status();
            return false;
          }
          current = std::move(decoded).value();
          show(current);
          if (auto code = settledExitCode(current)) {
            result = *code;
            return false;
          }
          return true;
        },
        stop.get_token());
    if (result) return *result;
    if (!event_error.ok()) return reportError(err, c.display, c.server, event_error);
    if (stop.stop_requested()) break;
    if (kube::isGone(watched)) {
      // Our resourceVersion is too old for the server's history: read the object again.
      auto again = load(c);
      if (!again.ok()) return reportError(err, c.display, c.server, again.status());
      current = std::move(again).value();
      resource_version = kube::resourceVersionOf(current.object);
      show(current);
      continue;
    }
    if (!watched.ok()) return reportError(err, c.display, c.server, watched);
    // OK: the server ended the stream (its timeout); watch on from where it stopped.
  }
  err << "error: timed out after " << flags.timeout << " waiting for rollout " << c.display
      << " to finish (phase "
      << (current.status.phase ? rollouts::rolloutPhaseName(*current.status.phase)
                               : std::string_view("not reconciled"))
      << (current.status.message.empty() ? "" : ": " + current.status.message) << ")\n";
  return kExitFailure;
}

void addStatus(CLI::App& rollout, std::ostream& out, std::ostream& err, int& exit_code) {
  auto flags = std::make_shared<StatusFlags>();
  CLI::App* cmd = rollout.add_subcommand(
      "status",
      "Show a Rollout's progress: phase, steps and weights, revisions, analysis runs, "
      "conditions");
  cmd->add_option("name", flags->name, "The Rollout")->required();
  addClusterFlags(cmd, flags->cluster);
  cmd->add_option("-o,--output", flags->output, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->default_str("table");
  cmd->add_flag("-w,--watch", flags->watch,
                "Follow the Rollout until it is Healthy (exit 0), Aborted or Degraded (exit 1)");
  cmd->add_option("--timeout", flags->timeout,
                  "With --watch: give up after this long (exit 1), e.g. 10m (default: none)");
  cmd->callback([flags, &out, &err, &exit_code] { exit_code = runStatus(*flags, out, err); });
}

enum class Verb { kPromote, kAbort, kRetry, kPause, kResume };

struct ActionFlags {
  ClusterFlags cluster;
  std::string name;
  bool full = false;  // promote --full.
};

// The merge patch of a verb, and whether it goes to /status.
struct VerbPatch {
  json patch;
  bool status = false;
  const char* field;  // What it sets, to check that the server kept it ("status.abort").
};

VerbPatch patchOf(Verb verb, bool full) {
  switch (verb) {
    case Verb::kPromote:
      return {{{"status", {{"promote", full ? "Full" : "Step"}}}}, true, "status.promote"};
    case Verb::kAbort:
      return {{{"status", {{"abort", true}}}}, true, "status.abort"};
    case Verb::kRetry:
      return {{{"status", {{"abort", false}}}}, true, "status.abort"};
    case Verb::kPause:
      return {{{"spec", {{"paused", true}}}}, false, "spec.paused"};
    case Verb::kResume:
      return {{{"spec", {{"paused", false}}}}, false, "spec.paused"};
  }
  return {json::object(), false, ""};
}

// Why `verb` does not apply to the Rollout now, or "" when it does.
std::string refusal(Verb verb, const LoadedRollout& r) {
  const auto& s = r.status;
  if (verb == Verb::kPromote && s.phase == rollouts::RolloutPhase::kHealthy &&
      s.canary_revision == s.stable_revision) {
    return "nothing to promote: no update in progress (phase Healthy, revision " +
           (s.stable_revision.empty() ? std::string("-") : s.stable_revision) + ")";
  }
  if (verb == Verb::kRetry && s.phase != rollouts::RolloutPhase::kAborted) {
    return "nothing to retry: the phase is " +
           (s.phase ? std::string(rollouts::rolloutPhaseName(*s.phase))
                    : std::string("not set (not reconciled yet)")) +
           ", not Aborted";
  }
  return "";
}

int runAction(Verb verb, const ActionFlags& flags, std::ostream& out, std::ostream& err) {
  auto cluster = connect(flags.cluster, flags.name);
  if (!cluster.ok()) return reportError(err, "", "", cluster.status());
  Cluster& c = *cluster;
  std::optional<LoadedRollout> before;
  if (verb == Verb::kPromote || verb == Verb::kRetry) {
    auto loaded = load(c);
    if (!loaded.ok()) return reportError(err, c.display, c.server, loaded.status());
    if (std::string why = refusal(verb, *loaded); !why.empty()) {
      err << "error: rollout " << c.display << ": " << why << "\n";
      return kExitFailure;
    }
    before = std::move(loaded).value();
  }
  const VerbPatch p = patchOf(verb, flags.full);
  const kube::ResourceRef ref = c.rollouts.named(c.name).sub(p.status ? "status" : "");
  auto stored = c.client->patch(ref, kube::PatchType::kMerge, p.patch);
  if (!stored.ok()) return reportError(err, c.display, c.server, stored.status());
  // A CRD older than this CLI prunes fields it does not know: the request would be lost.
  const std::string part = p.status ? "status" : "spec";
  const json& want = p.patch[part].begin().value();
  const std::string key = p.patch[part].begin().key();
  if (!stored->contains(part) || !(*stored)[part].contains(key) || (*stored)[part][key] != want) {
    err << "error: rollout " << c.display << ": the API server did not keep " << p.field
        << ": the installed Rollout CRD is older than this CLI (apply "
           "manifests/crd/governor.io_rollouts.yaml)\n";
    return kExitFailure;
  }
  const std::string hint = " -n " + kube::namespaceOf(*stored);
  switch (verb) {
    case Verb::kPromote:
      out << "rollout " << c.display << ": "
          << (flags.full ? "full promotion requested (the remaining steps and analyses are "
                           "skipped)"
                         : "promotion requested (past the current wait)")
          << "\n";
      if (specPaused(*stored)) {
        out << "note: spec.paused is true, so the rollout stays where it is until `governor "
               "rollout resume "
            << c.name << hint << "`\n";
      }
      break;
    case Verb::kAbort:
      out << "rollout " << c.display
          << ": abort requested (traffic and pods go back to the stable revision)\n";
      break;
    case Verb::kRetry:
      out << "rollout " << c.display
          << ": retry requested (the update restarts at step 0 with fresh analyses)\n";
      break;
    case Verb::kPause:
      out << "rollout " << c.display << " paused (spec.paused: true)\n";
      break;
    case Verb::kResume:
      out << "rollout " << c.display << " resumed (spec.paused: false)\n";
      if (before && before->status.paused_at) {
        out << "note: it also waits for a person (a pause step or an inconclusive analysis): "
               "`governor rollout promote "
            << c.name << hint << "`\n";
      }
      break;
  }
  return kExitOk;
}

void addAction(CLI::App& rollout, Verb verb, const char* name, const char* description,
               std::ostream& out, std::ostream& err, int& exit_code) {
  auto flags = std::make_shared<ActionFlags>();
  CLI::App* cmd = rollout.add_subcommand(name, description);
  cmd->add_option("name", flags->name, "The Rollout")->required();
  addClusterFlags(cmd, flags->cluster);
  if (verb == Verb::kPromote) {
    cmd->add_flag("--full", flags->full,
                  "Skip the remaining steps and analyses: straight to 100% (after the new "
                  "revision is at the stable's size)");
  }
  cmd->callback(
      [verb, flags, &out, &err, &exit_code] { exit_code = runAction(verb, *flags, out, err); });
}

}  // namespace

void addRolloutCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  CLI::App* rollout = app.add_subcommand("rollout", "Progressive delivery: Rollouts");
  rollout->require_subcommand(1);
  addSimulate(*rollout, out, err, exit_code);
  addStatus(*rollout, out, err, exit_code);
  addAction(*rollout, Verb::kPromote, "promote",
            "Promote a Rollout past its current wait (pause, inconclusive analysis, manual "
            "blue-green promotion); --full: to 100% at once",
            out, err, exit_code);
  addAction(*rollout, Verb::kAbort, "abort",
            "Abort a Rollout's update: traffic and pods go back to the stable revision", out, err,
            exit_code);
  addAction(*rollout, Verb::kRetry, "retry",
            "Retry an Aborted update from step 0 with fresh analyses", out, err, exit_code);
  addAction(*rollout, Verb::kPause, "pause", "Hold a Rollout where it is (spec.paused)", out, err,
            exit_code);
  addAction(*rollout, Verb::kResume, "resume", "Let a paused Rollout go on (spec.paused: false)",
            out, err, exit_code);
}

}  // namespace governor::cli
