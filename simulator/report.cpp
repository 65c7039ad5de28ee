#include "simulator/report.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <date/date.h>
#include <nlohmann/json.hpp>

namespace governor::simulator {
namespace {

struct Column {
  const char* name;
  int decimals;
  bool higher_better;
  double (*get)(const RunMetrics&);
};

const std::array<Column, 7> kColumns = {{
    {"replicaHours", 2, false, [](const RunMetrics& m) { return m.replica_hours; }},
    {"underProvisionedSeconds", 0, false,
     [](const RunMetrics& m) { return m.under_provisioned_seconds; }},
    {"unservedFraction", 6, false, [](const RunMetrics& m) { return m.unserved_fraction; }},
    {"scaleEvents", 0, false,
     [](const RunMetrics& m) { return static_cast<double>(m.scale_events); }},
    {"maxReplicas", 0, false,
     [](const RunMetrics& m) { return static_cast<double>(m.max_replicas); }},
    {"meanUtilization", 1, true, [](const RunMetrics& m) { return m.mean_utilization; }},
    {"p95Utilization", 1, true, [](const RunMetrics& m) { return m.p95_utilization; }},
}};

double rounded(double x, int decimals) {
  const double f = std::pow(10.0, decimals);
  const double r = std::round(x * f) / f;
  return r == 0 ? 0.0 : r;  // No "-0".
}

std::string fixed(double x, int decimals) {
  std::array<char, 64> buf{};
  auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), x, std::chars_format::fixed, decimals);
  if (ec != std::errc()) return "nan";
  return std::string(buf.data(), end);
}

std::string shortest(double x) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), x);
  if (ec != std::errc()) return "nan";
  return std::string(buf.data(), end);
}

std::string formatTime(TimePoint t) {
  if (t.time_since_epoch().count() % 1000 == 0) {
    return date::format("%FT%TZ", std::chrono::time_point_cast<std::chrono::seconds>(t));
  }
  return date::format("%FT%TZ", t);
}

// The index of the runs that compete for "best": the policies, or every run without them.
std::vector<bool> ranked(const SimulationResult& result) {
  const bool any_policy = std::any_of(result.runs.begin(), result.runs.end(),
                                      [](const RunResult& r) { return !r.baseline; });
  std::vector<bool> out;
  for (const auto& r : result.runs) out.push_back(!any_policy || !r.baseline);
  return out;
}

// best[c][r]: run r holds the best value of column c.
std::vector<std::vector<bool>> bestCells(const SimulationResult& result) {
  const std::vector<bool> competes = ranked(result);
  std::vector<std::vector<bool>> best(kColumns.size(),
                                      std::vector<bool>(result.runs.size(), false));
  for (size_t c = 0; c < kColumns.size(); ++c) {
    const Column& col = kColumns[c];
    std::optional<double> top;
    for (size_t r = 0; r < result.runs.size(); ++r) {
      if (!competes[r]) continue;
      double v = rounded(col.get(result.runs[r].metrics), col.decimals);
      if (!top || (col.higher_better ? v > *top : v < *top)) top = v;
    }
    for (size_t r = 0; r < result.runs.size(); ++r) {
      best[c][r] =
          competes[r] && top && rounded(col.get(result.runs[r].metrics), col.decimals) == *top;
    }
  }
  return best;
}

std::string gapText(const TraceGap& g) {
  return formatTime(g.from) + " .. " + formatTime(g.to) + " (" +
         shortest(toSeconds(g.to - g.from)) + "s)";
}

std::string html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string formatTable(const SimulationInput& input, const SimulationResult& result) {
  const auto best = bestCells(result);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"name"};
  for (const auto& col : kColumns) header.emplace_back(col.name);
  rows.push_back(header);
  for (size_t r = 0; r < result.runs.size(); ++r) {
    std::vector<std::string> row = {result.runs[r].name};
    for (size_t c = 0; c < kColumns.size(); ++c) {
      const Column& col = kColumns[c];
      row.push_back(fixed(rounded(col.get(result.runs[r].metrics), col.decimals), col.decimals) +
                    (best[c][r] ? "*" : " "));
    }
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t c = 0; c < row.size(); ++c) {
      if (c == 0) {
        line += row[c] + std::string(width[c] - row[c].size(), ' ');
      } else {
        line += "  " + std::string(width[c] - row[c].size(), ' ') + row[c];
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  out += "\n* best among the " +
         std::string(std::any_of(result.runs.begin(), result.runs.end(),
                                 [](const RunResult& r) { return !r.baseline; })
                         ? "policies (baselines are not ranked)"
                         : "baselines") +
         "; lower is better except for the utilizations.\n";
  out += "trace: " + input.trace.source() + ", " + std::to_string(input.trace.points().size()) +
         " samples, " + formatTime(input.trace.start()) + " .. " + formatTime(input.trace.end()) +
         "; " + std::to_string(result.grid.steps()) + " steps of " +
         shortest(toSeconds(result.grid.step)) + "s\n";
  if (!input.gaps.empty()) {
    out += "gaps (samples more than " + shortest(toSeconds(input.gap_limit)) + "s apart, " +
           (input.spec.trace.interpolation == Interpolation::kLinear ? "interpolated" : "held") +
           " across): " + std::to_string(input.gaps.size()) + "\n";
    for (const auto& g : input.gaps) out += "  " + gapText(g) + "\n";
  }
  return out;
}

std::string formatJson(const SimulationInput& input, const SimulationResult& result) {
  nlohmann::ordered_json doc;
  doc["results"] = nlohmann::ordered_json::array();
  for (const auto& run : result.runs) {
    nlohmann::ordered_json r;
    r["name"] = run.name;
    for (const auto& col : kColumns) {
      const double v = rounded(col.get(run.metrics), col.decimals);
      if (col.decimals == 0 && (std::string_view(col.name) == "scaleEvents" ||
                                std::string_view(col.name) == "maxReplicas")) {
        r[col.name] = static_cast<int64_t>(v);
      } else {
        r[col.name] = v;
      }
    }
    doc["results"].push_back(std::move(r));
  }
  doc["gaps"] = nlohmann::ordered_json::array();
  for (const auto& g : input.gaps) {
    doc["gaps"].push_back({{"from", formatTime(g.from)}, {"to", formatTime(g.to)}});
  }
  return doc.dump(2) + "\n";
}

std::string formatTimelineCsv(const RunResult& run) {
  std::string out = "time,demand,ready,desired,utilization,reason\n";
  out.reserve(run.timeline.size() * 64);
  for (const auto& s : run.timeline) {
    out += formatTime(s.time);
    out += ',';
    out += shortest(rounded(s.demand, 6));
    out += ',';
    out += std::to_string(s.ready);
    out += ',';
    out += std::to_string(s.desired);
    out += ',';
    out += fixed(rounded(s.utilization, 2), 2);
    out += ',';
    out += s.reason;
    out += '\n';
  }
  return out;
}

namespace {

// One chart's data, bucketed to at most kBuckets points.
constexpr size_t kBuckets = 800;
constexpr double kWidth = 960;
constexpr double kHeight = 200;
constexpr double kLeft = 48;
constexpr double kTop = 10;
constexpr double kBottom = 24;

struct Bucketed {
  std::vector<double> demand;    // Max demand in replicas needed (demand / capacity).
  std::vector<double> serving;   // Min ready pods.
  std::vector<double> replicas;  // Max pods that exist.
  std::vector<bool> under;       // Any step under-provisioned.
};

Bucketed bucket(const RunResult& run, double capacity) {
  Bucketed b;
  const size_t n = run.timeline.size();
  const size_t buckets = std::min(n, kBuckets);
  for (size_t k = 0; k < buckets; ++k) {
    const size_t from = k * n / buckets;
    const size_t to = std::max(from + 1, (k + 1) * n / buckets);
    double d = 0;
    double s = std::numeric_limits<double>::max();
    double r = 0;
    bool u = false;
    for (size_t i = from; i < to; ++i) {
      const StepRecord& st = run.timeline[i];
      d = std::max(d, st.demand / capacity);
      s = std::min(s, static_cast<double>(st.serving));
      r = std::max(r, static_cast<double>(st.replicas));
      u = u || st.demand > st.serving * capacity * (1 + 1e-9) + 1e-9;
    }
    b.demand.push_back(d);
    b.serving.push_back(s);
    b.replicas.push_back(r);
    b.under.push_back(u);
  }
  return b;
}

std::string coord(double x) { return fixed(rounded(x, 1), 1); }

std::string polyline(const std::vector<double>& ys, double ymax, const char* style) {
  const double plot_w = kWidth - kLeft - 8;
  const double plot_h = kHeight - kTop - kBottom;
  const size_t n = ys.size();
  std::string pts;
  for (size_t i = 0; i < n; ++i) {
    // A step line: each bucket holds its value over its width.
    const double x0 = kLeft + plot_w * static_cast<double>(i) / static_cast<double>(n);
    const double x1 = kLeft + plot_w * static_cast<double>(i + 1) / static_cast<double>(n);
    const double y = kTop + plot_h * (1 - ys[i] / ymax);
    pts += coord(x0) + "," + coord(y) + " " + coord(x1) + "," + coord(y) + " ";
  }
  return "<polyline fill=\"none\" " + std::string(style) + " points=\"" + pts + "\"/>\n";
}

std::string chart(const RunResult& run, const RunResult* oracle, double capacity, double ymax,
                  TimePoint start, TimePoint end) {
  const Bucketed b = bucket(run, capacity);
  const double plot_w = kWidth - kLeft - 8;
  const double plot_h = kHeight - kTop - kBottom;
  const size_t n = b.demand.size();
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + coord(kWidth) +
                    " " + coord(kHeight) + "\" role=\"img\" aria-label=\"" + html(run.name) +
                    "\">\n";
  // Under-provisioned stretches.
  for (size_t i = 0; i < n;) {
    if (!b.under[i]) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < n && b.under[j]) ++j;
    const double x0 = kLeft + plot_w * static_cast<double>(i) / static_cast<double>(n);
    const double x1 = kLeft + plot_w * static_cast<double>(j) / static_cast<double>(n);
    svg += "<rect class=\"under\" x=\"" + coord(x0) + "\" y=\"" + coord(kTop) + "\" width=\"" +
           coord(std::max(x1 - x0, 1.0)) + "\" height=\"" + coord(plot_h) + "\"/>\n";
    i = j;
  }
  // Demand as an area.
  std::string area = "M" + coord(kLeft) + "," + coord(kTop + plot_h);
  for (size_t i = 0; i < n; ++i) {
    const double x0 = kLeft + plot_w * static_cast<double>(i) / static_cast<double>(n);
    const double x1 = kLeft + plot_w * static_cast<double>(i + 1) / static_cast<double>(n);
    const double y = kTop + plot_h * (1 - b.demand[i] / ymax);
    area += " L" + coord(x0) + "," + coord(y) + " L" + coord(x1) + "," + coord(y);
  }
  area += " L" + coord(kLeft + plot_w) + "," + coord(kTop + plot_h) + " Z";
  svg += "<path class=\"demand\" d=\"" + area + "\"/>\n";
  svg += polyline(b.replicas, ymax, "class=\"replicas\"");
  if (oracle != nullptr && oracle != &run) {
    svg += polyline(bucket(*oracle, capacity).serving, ymax, "class=\"oracle\"");
  }
  svg += polyline(b.serving, ymax, "class=\"serving\"");
  // Axes: y ticks at round replica counts, x ticks at 6 evenly spaced times.
  const double raw_step = ymax / 4;
  const double magnitude = std::pow(10.0, std::floor(std::log10(std::max(raw_step, 1e-9))));
  double tick = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw_step) {
      tick = m * magnitude;
      break;
    }
  }
  for (double v = 0; v <= ymax + 1e-9; v += tick) {
    const double y = kTop + plot_h * (1 - v / ymax);
    svg += "<line class=\"grid\" x1=\"" + coord(kLeft) + "\" x2=\"" + coord(kLeft + plot_w) +
           "\" y1=\"" + coord(y) + "\" y2=\"" + coord(y) + "\"/><text x=\"" + coord(kLeft - 4) +
           "\" y=\"" + coord(y + 4) + "\" text-anchor=\"end\">" + shortest(rounded(v, 6)) +
           "</text>\n";
  }
  for (int k = 0; k <= 5; ++k) {
    const double x = kLeft + plot_w * k / 5.0;
    const TimePoint t = start + (end - start) * k / 5;
    svg += "<text x=\"" + coord(x) + "\" y=\"" + coord(kHeight - 6) + "\" text-anchor=\"" +
           (k == 0 ? "start" : (k == 5 ? "end" : "middle")) + "\">" +
           date::format("%Y-%m-%d %H:%M", std::chrono::time_point_cast<std::chrono::minutes>(t)) +
           "</text>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace

std::string formatHtmlReport(const SimulationInput& input, const SimulationResult& result) {
  const double capacity = input.spec.workload.capacity_per_replica;
  const RunResult* oracle = nullptr;
  double ymax = 1;
  for (const auto& run : result.runs) {
    if (run.name == "oracle" && run.baseline) oracle = &run;
    for (const auto& s : run.timeline) {
      ymax = std::max({ymax, s.demand / capacity, static_cast<double>(s.replicas)});
    }
  }
  ymax *= 1.05;
  const auto best = bestCells(result);
  const TimePoint start = result.grid.start;
  const TimePoint end = result.grid.at(std::max<int64_t>(result.grid.steps() - 1, 0));

  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>governor "
      "simulate: " +
      html(input.spec.name) +
      "</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1040px}\n"
      "table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n"
      "th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "td.best{font-weight:bold;background:#e6f4ea}\n"
      "svg{width:100%;height:auto;font-size:11px;fill:#555}\n"
      ".demand{fill:#c9d6e8;stroke:none}\n"
      ".serving{stroke:#1f5fbf;stroke-width:1.5}\n"
      ".replicas{stroke:#e08a00;stroke-width:1}\n"
      ".oracle{stroke:#222;stroke-width:1;stroke-dasharray:4 3}\n"
      ".under{fill:#d62728;opacity:.25}\n"
      ".grid{stroke:#eee}\n"
      ".key span{display:inline-block;margin-right:1.5em}\n"
      ".sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}\n"
      "</style>\n</head>\n<body>\n<h1>governor simulate: " +
      html(input.spec.name) + "</h1>\n<p>Trace <code>" + html(input.trace.source()) +
      "</code>: " + std::to_string(input.trace.points().size()) + " samples, " +
      formatTime(input.trace.start()) + " to " + formatTime(input.trace.end()) + ", replayed in " +
      std::to_string(result.grid.steps()) + " steps of " + shortest(toSeconds(result.grid.step)) +
      " s. One replica serves " + shortest(capacity) + " (demand units) and is ready " +
      shortest(toSeconds(input.spec.workload.startup)) + " s after a scale-up.</p>\n";

  out += "<table>\n<tr><th>name</th>";
  for (const auto& col : kColumns) out += "<th>" + std::string(col.name) + "</th>";
  out += "</tr>\n";
  for (size_t r = 0; r < result.runs.size(); ++r) {
    out += "<tr><td>" + html(result.runs[r].name) + (result.runs[r].baseline ? " (baseline)" : "") +
           "</td>";
    for (size_t c = 0; c < kColumns.size(); ++c) {
      const Column& col = kColumns[c];
      out += std::string(best[c][r] ? "<td class=\"best\">" : "<td>") +
             fixed(rounded(col.get(result.runs[r].metrics), col.decimals), col.decimals) + "</td>";
    }
    out += "</tr>\n";
  }
  out +=
      "</table>\n<p>Best values among the policies are highlighted; lower is better except "
      "for the utilizations. The oracle knows the future: it is the cheapest schedule that "
      "serves all demand with this start-up time, the lower bound.</p>\n";
  if (!input.gaps.empty()) {
    out += "<p>Gaps in the trace (samples more than " + shortest(toSeconds(input.gap_limit)) +
           " s apart, " +
           (input.spec.trace.interpolation == Interpolation::kLinear ? "interpolated" : "held") +
           " across):</p>\n<ul>\n";
    for (const auto& g : input.gaps) out += "<li>" + gapText(g) + "</li>\n";
    out += "</ul>\n";
  }
  out +=
      "<p class=\"key\"><span><i class=\"sw\" style=\"background:#c9d6e8\"></i>demand (replicas "
      "needed)</span><span><i class=\"sw\" style=\"background:#1f5fbf\"></i>serving "
      "capacity (ready replicas)</span><span><i class=\"sw\" "
      "style=\"background:#e08a00\"></i>replicas paid for (ready + starting)</span><span><i "
      "class=\"sw\" style=\"border-top:2px dashed #222;height:0\"></i>oracle "
      "capacity</span><span><i class=\"sw\" style=\"background:#d62728;opacity:.25\"></i>"
      "under-provisioned</span></p>\n";
  for (const auto& run : result.runs) {
    out += "<h2>" + html(run.name) + (run.baseline ? " (baseline)" : "") + "</h2>\n";
    out += chart(run, oracle, capacity, ymax, start, end);
  }
  out += "</body>\n</html>\n";
  return out;
}

Status writeReport(const std::string& dir, const SimulationInput& input,
                   const SimulationResult& result) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return unavailable(dir + ": cannot create directory: " + ec.message());
  auto write = [](const std::filesystem::path& path, const std::string& text) -> Status {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return unavailable(path.string() + ": cannot write");
    return Status();
  };
  for (const auto& run : result.runs) {
    if (run.baseline) continue;
    Status s = write(std::filesystem::path(dir) / ("timeline-" + run.name + ".csv"),
                     formatTimelineCsv(run));
    if (!s.ok()) return s;
  }
  return write(std::filesystem::path(dir) / "report.html", formatHtmlReport(input, result));
}

}  // namespace governor::simulator
