#include "cli/forecast_command.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <date/date.h>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "cli/app.h"
#include "cli/files.h"
#include "forecasting/auto.h"
#include "forecasting/harmonic.h"
#include "forecasting/holt_winters.h"
#include "forecasting/series.h"
#include "simulator/trace.h"

namespace governor::cli {
namespace {

struct ForecastFlags {
  std::string input;
  std::string time_column = "timestamp";
  std::string value_column = "value";
  std::string model = "auto";
  std::vector<double> periods;
  int harmonics = 0;
  std::string seasonality;
  bool damped = false;
  int horizon = 0;
  double level = 0.95;
  std::string step;
  std::string output = "table";
};

std::string formatTime(TimePoint t) {
  return date::format("%FT%TZ", std::chrono::time_point_cast<std::chrono::seconds>(t));
}

std::string number(double v, int precision = 6) {
  if (std::isnan(v)) return "NaN";
  std::ostringstream s;
  s << std::setprecision(precision) << v;
  return s.str();
}

std::vector<forecasting::SeasonalTerm> seasonsFrom(const ForecastFlags& flags) {
  std::vector<forecasting::SeasonalTerm> seasons;
  for (double period : flags.periods) {
    int k = flags.harmonics > 0 ? flags.harmonics : (seasons.empty() ? 10 : 5);
    k = std::max(1, std::min(k, static_cast<int>(period / 2.0) - 1));
    seasons.push_back({period, k});
  }
  return seasons;
}

// The candidate names of --model (and --seasonality/--damped for Holt-Winters).
Result<std::vector<std::string>> candidatesFor(const ForecastFlags& flags) {
  if (flags.model == "auto") return std::vector<std::string>{};
  if (flags.model == "holt-winters") {
    if (flags.seasonality.empty()) {
      return std::vector<std::string>{"holt-winters-additive", "holt-winters-multiplicative",
                                      "holt-winters-additive-damped"};
    }
    if (flags.seasonality == "additive") {
      return std::vector<std::string>{flags.damped ? "holt-winters-additive-damped"
                                                   : "holt-winters-additive"};
    }
    if (flags.seasonality == "multiplicative") {
      if (flags.damped) {
        return invalidArgument("--damped: only with --seasonality additive");
      }
      return std::vector<std::string>{"holt-winters-multiplicative"};
    }
    return invalidArgument("--seasonality: must be additive or multiplicative, got \"" +
                           flags.seasonality + "\"");
  }
  if (flags.model == "harmonic" || flags.model == "linear" || flags.model == "seasonal-naive" ||
      flags.model == "naive") {
    return std::vector<std::string>{flags.model};
  }
  return invalidArgument(
      "--model: must be auto, holt-winters, harmonic, linear, seasonal-naive or naive, got \"" +
      flags.model + "\"");
}

int runForecast(const ForecastFlags& flags, std::ostream& out, std::ostream& err) {
  auto bad = [&err](const std::string& message) {
    err << "error: " << message << "\n";
    return kExitBadInput;
  };
  if (flags.output != "table" && flags.output != "json" && flags.output != "csv") {
    return bad("-o: must be table, json or csv, got \"" + flags.output + "\"");
  }
  if (!(flags.level > 0 && flags.level < 1)) return bad("--level: must be in (0, 1)");
  if (flags.horizon < 0) return bad("--horizon: must be >= 1");
  for (double p : flags.periods) {
    if (!(p > 2)) return bad("--period: must be > 2 samples, got " + number(p));
  }
  if (flags.model != "holt-winters" && !flags.seasonality.empty()) {
    return bad("--seasonality: only with --model holt-winters");
  }
  auto candidates = candidatesFor(flags);
  if (!candidates.ok()) return bad(candidates.status().message());

  auto text = readFile(flags.input);
  if (!text.ok()) return bad(text.status().message());
  auto trace = simulator::parseCsvTrace(*text, flags.input, flags.time_column, flags.value_column);
  if (!trace.ok()) return bad(trace.status().message());

  Duration step = trace->medianInterval();
  if (!flags.step.empty()) {
    auto parsed = parseDuration(flags.step);
    if (!parsed.ok()) return bad("--step: " + parsed.status().message());
    step = *parsed;
  }
  if (step.count() <= 0) return bad(flags.input + ": need at least two samples");
  std::vector<forecasting::Sample> samples;
  samples.reserve(trace->points().size());
  for (const auto& p : trace->points()) {
    samples.push_back({p.time.time_since_epoch(), p.value});
  }
  auto series = forecasting::resample(samples, step);
  if (!series.ok()) return bad(flags.input + ": " + series.status().message());

  forecasting::AutoOptions options;
  options.seasons = seasonsFrom(flags);
  options.candidates = *candidates;
  const int horizon =
      flags.horizon > 0
          ? flags.horizon
          : (flags.periods.empty() ? 12 : static_cast<int>(std::lround(flags.periods.front())));

  // fitSeconds: the time spent fitting (selection backtests included), in this process.
  const auto started = std::chrono::steady_clock::now();
  auto fitted = forecasting::fitAuto(series->values, options);
  const double fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!fitted.ok()) return bad(flags.input + ": " + fitted.status().message());
  auto forecast = fitted->model->forecast(horizon, flags.level);
  if (!forecast.ok()) return bad(forecast.status().message());

  const TimePoint last =
      TimePoint(series->start) + step * static_cast<int64_t>(series->values.size() - 1);
  auto at = [&](int h) { return last + step * static_cast<int64_t>(h); };

  if (flags.output == "json") {
    nlohmann::ordered_json j;
    j["input"] = flags.input;
    j["model"] = fitted->model->kind();
    j["candidate"] = fitted->chosen;
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto& p : fitted->model->parameters()) params[p.name] = p.value;
    j["params"] = params;
    j["sse"] = fitted->model->sse();
    j["fitSeconds"] = fit_seconds;
    j["stepSeconds"] = toSeconds(step);
    j["observations"] = series->values.size();
    j["level"] = flags.level;
    nlohmann::ordered_json scores = nlohmann::ordered_json::array();
    for (const auto& c : fitted->candidates) {
      nlohmann::ordered_json s;
      s["name"] = c.name;
      if (c.scored) {
        s["mase"] = c.mase;
      } else {
        s["mase"] = nullptr;
        s["skipped"] = c.reason;
      }
      scores.push_back(s);
    }
    j["backtest"] = {
        {"folds", fitted->folds}, {"horizon", fitted->horizon}, {"candidates", scores}};
    nlohmann::ordered_json points = nlohmann::ordered_json::array();
    for (int h = 0; h < horizon; ++h) {
      points.push_back({{"time", formatTime(at(h + 1))},
                        {"mean", forecast->mean[static_cast<size_t>(h)]},
                        {"lower", forecast->lower[static_cast<size_t>(h)]},
                        {"upper", forecast->upper[static_cast<size_t>(h)]}});
    }
    j["forecast"] = points;
    out << j.dump(2) << "\n";
    return kExitOk;
  }
  if (flags.output == "csv") {
    out << "time,mean,lower,upper\n";
    for (int h = 0; h < horizon; ++h) {
      out << formatTime(at(h + 1)) << "," << number(forecast->mean[static_cast<size_t>(h)], 10)
          << "," << number(forecast->lower[static_cast<size_t>(h)], 10) << ","
          << number(forecast->upper[static_cast<size_t>(h)], 10) << "\n";
    }
    return kExitOk;
  }

  out << "input:       " << flags.input << " (" << series->values.size() << " steps of "
      << formatDuration(step) << ")\n";
  out << "model:       " << fitted->chosen << "\n";
  out << "parameters: ";
  for (const auto& p : fitted->model->parameters()) out << " " << p.name << "=" << number(p.value);
  out << "\n";
  out << "in-sample SSE: " << number(fitted->model->sse())
      << "   fit: " << number(fit_seconds * 1000.0, 4) << " ms\n";
  if (!fitted->candidates.empty()) {
    out << "\nbacktest (" << fitted->folds << " origins, horizon " << fitted->horizon << "):\n";
    for (const auto& c : fitted->candidates) {
      out << "  " << std::left << std::setw(30) << c.name;
      if (c.scored) {
        out << "MASE " << number(c.mase, 4) << (c.name == fitted->chosen ? "  <- chosen" : "");
      } else {
        out << "skipped: " << c.reason;
      }
      out << "\n";
    }
  }
  const int pct = static_cast<int>(std::lround(flags.level * 100));
  out << "\n"
      << std::left << std::setw(22) << "time" << std::right << std::setw(14) << "mean"
      << std::setw(14) << ("lower " + std::to_string(pct) + "%") << std::setw(14)
      << ("upper " + std::to_string(pct) + "%") << "\n";
  for (int h = 0; h < horizon; ++h) {
    out << std::left << std::setw(22) << formatTime(at(h + 1)) << std::right << std::setw(14)
        << number(forecast->mean[static_cast<size_t>(h)]) << std::setw(14)
        << number(forecast->lower[static_cast<size_t>(h)]) << std::setw(14)
        << number(forecast->upper[static_cast<size_t>(h)]) << "\n";
  }
  return kExitOk;
}

}  // namespace

void addForecastCommand(CLI::App& app, std::ostream& out, std::ostream& err, int& exit_code) {
  auto flags = std::make_shared<ForecastFlags>();
  CLI::App* cmd = app.add_subcommand(
      "forecast", "Fit a forecasting model to a series and print its forecast with intervals");
  cmd->add_option("--input", flags->input, "CSV file with a header (time and value columns)")
      ->required();
  cmd->add_option("--time-column", flags->time_column, "Time column: RFC 3339 or Unix seconds")
      ->capture_default_str();
  cmd->add_option("--value-column", flags->value_column, "Value column")->capture_default_str();
  cmd->add_option("--model", flags->model,
                  "auto | holt-winters | harmonic | linear | seasonal-naive | naive")
      ->capture_default_str();
  cmd->add_option("--period", flags->periods,
                  "Seasonal period in samples (repeatable: --period 288 --period 2016)");
  cmd->add_option("--harmonics", flags->harmonics,
                  "Fourier pairs per period for harmonic (default: 10 for the first, 5 after)");
  cmd->add_option("--seasonality", flags->seasonality,
                  "additive | multiplicative, for holt-winters (default: chosen by backtest)");
  cmd->add_flag("--damped", flags->damped, "Damped trend, for holt-winters (additive)");
  cmd->add_option("--horizon", flags->horizon,
                  "Steps to forecast (default: the first period, or 12)");
  cmd->add_option("--level", flags->level, "Central interval coverage")->capture_default_str();
  cmd->add_option("--step", flags->step,
                  "Series step, e.g. 5m (default: the median interval of the input)");
  cmd->add_option("-o,--output", flags->output, "table | json | csv")->capture_default_str();
  cmd->callback([flags, &out, &err, &exit_code] { exit_code = runForecast(*flags, out, err); });
}

}  // namespace governor::cli
