#include "rollouts/analysis_run.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <utility>

namespace governor::rollouts {
namespace {

const AnalysisMetric* findMetric(const AnalysisTemplateSpec& spec, std::string_view name) {
  for (const auto& m : spec.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const MetricRun* findState(const AnalysisRun& run, std::string_view name) {
  for (const auto& m : run.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string rangeText(const ThresholdRange& r) {
  return "thresholdRange [" + (r.min ? formatValue(*r.min) : std::string("-Inf")) + ", " +
         (r.max ? formatValue(*r.max) : std::string("+Inf")) + "]";
}

std::string quoted(const Condition& c) { return "`" + c.text() + "`"; }

// "measurement 3 = 0.91 failed successCondition `result >= 0.95`"; for an error
// "measurement 3: <error>".
std::string describe(const Measurement& m) {
  std::string out = "measurement " + std::to_string(m.number);
  if (m.value) return out + " = " + formatValue(*m.value) + " " + m.message;
  return out + ": " + m.message;
}

// " (2 failed > failureLimit 1)", only when the limit is not 0: with limit 0 the one failure
// says it all.
std::string limitText(int64_t n, std::string_view what, std::string_view limit_name,
                      int32_t limit) {
  if (limit == 0) return "";
  return " (" + std::to_string(n) + " " + std::string(what) + " > " + std::string(limit_name) +
         " " + std::to_string(limit) + ")";
}

std::string countsText(const MetricRun& s) {
  return std::to_string(s.successful) + " successful, " + std::to_string(s.failed) + " failed, " +
         std::to_string(s.inconclusive) + " inconclusive, " + std::to_string(s.errors) + " errors";
}

// The metric's phase after its counters changed by `last` (see the header's rules).
void assessMetric(const AnalysisMetric& metric, MetricRun& s, const Measurement& last) {
  const std::string prefix = "metric " + metric.name + ": ";
  const int64_t decisive = s.successful + s.failed + s.inconclusive;
  if (s.failed > metric.failure_limit) {
    s.phase = AnalysisPhase::kFailed;
    s.message = prefix + describe(last) +
                limitText(s.failed, "failed", "failureLimit", metric.failure_limit);
  } else if (s.inconclusive > metric.inconclusive_limit) {
    s.phase = AnalysisPhase::kInconclusive;
    s.message =
        prefix + describe(last) +
        limitText(s.inconclusive, "inconclusive", "inconclusiveLimit", metric.inconclusive_limit);
  } else if (s.consecutive_errors > metric.consecutive_error_limit) {
    s.phase = AnalysisPhase::kError;
    s.message = prefix + std::to_string(s.consecutive_errors) +
                " errors in a row > consecutiveErrorLimit " +
                std::to_string(metric.consecutive_error_limit) + "; last: " + describe(last);
  } else if (metric.count > 0 && decisive >= metric.count) {
    s.phase = AnalysisPhase::kSuccessful;
    s.message = prefix + std::to_string(decisive) + " of " + std::to_string(metric.count) +
                " measurements taken: " + countsText(s);
  }
}

// The run's phase from its metrics' (see the header's rules).
void assessRun(const AnalysisTemplateSpec& spec, AnalysisRun& run) {
  const MetricRun* failed = nullptr;
  const MetricRun* inconclusive = nullptr;
  size_t successful = 0;
  for (const auto& metric : spec.metrics) {
    const MetricRun* s = findState(run, metric.name);
    if (s == nullptr) continue;
    if ((s->phase == AnalysisPhase::kFailed || s->phase == AnalysisPhase::kError) &&
        failed == nullptr) {
      failed = s;
    }
    if (s->phase == AnalysisPhase::kInconclusive && inconclusive == nullptr) inconclusive = s;
    if (s->phase == AnalysisPhase::kSuccessful) ++successful;
  }
  if (failed != nullptr) {
    run.phase = AnalysisPhase::kFailed;
    run.message = failed->message;
  } else if (inconclusive != nullptr) {
    run.phase = AnalysisPhase::kInconclusive;
    run.message = inconclusive->message;
  } else if (successful == spec.metrics.size()) {
    run.phase = AnalysisPhase::kSuccessful;
    // One metric's own message says more than "all 1 metrics successful".
    const MetricRun* only = successful == 1 ? findState(run, spec.metrics[0].name) : nullptr;
    run.message = only != nullptr ? only->message
                                  : "all " + std::to_string(successful) + " metrics successful";
  } else {
    run.phase = AnalysisPhase::kRunning;
    run.message.clear();
  }
}

MetricRun& stateFor(AnalysisRun& run, const std::string& name) {
  for (auto& m : run.metrics) {
    if (m.name == name) return m;
  }
  MetricRun fresh;
  fresh.name = name;
  run.metrics.push_back(std::move(fresh));
  return run.metrics.back();
}

}  // namespace

std::string_view measurementPhaseName(MeasurementPhase phase) {
  switch (phase) {
    case MeasurementPhase::kSuccessful:
      return "Successful";
    case MeasurementPhase::kFailed:
      return "Failed";
    case MeasurementPhase::kInconclusive:
      return "Inconclusive";
    case MeasurementPhase::kError:
      return "Error";
  }
  return "Error";
}

std::string_view analysisPhaseName(AnalysisPhase phase) {
  switch (phase) {
    case AnalysisPhase::kRunning:
      return "Running";
    case AnalysisPhase::kSuccessful:
      return "Successful";
    case AnalysisPhase::kFailed:
      return "Failed";
    case AnalysisPhase::kInconclusive:
      return "Inconclusive";
    case AnalysisPhase::kError:
      return "Error";
  }
  return "Error";
}

std::optional<MeasurementPhase> parseMeasurementPhase(std::string_view name) {
  for (auto p : {MeasurementPhase::kSuccessful, MeasurementPhase::kFailed,
                 MeasurementPhase::kInconclusive, MeasurementPhase::kError}) {
    if (measurementPhaseName(p) == name) return p;
  }
  return std::nullopt;
}

std::optional<AnalysisPhase> parseAnalysisPhase(std::string_view name) {
  for (auto p : {AnalysisPhase::kRunning, AnalysisPhase::kSuccessful, AnalysisPhase::kFailed,
                 AnalysisPhase::kInconclusive, AnalysisPhase::kError}) {
    if (analysisPhaseName(p) == name) return p;
  }
  return std::nullopt;
}

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  if (ec != std::errc()) return std::to_string(v);  // Unreachable: 32 bytes hold any double.
  return std::string(buf.data(), end);
}

AnalysisRun startAnalysisRun(const AnalysisTemplateSpec& spec, TimePoint now) {
  AnalysisRun run;
  run.started_at = now;
  for (const auto& metric : spec.metrics) {
    MetricRun state;
    state.name = metric.name;
    run.metrics.push_back(std::move(state));
  }
  return run;
}

std::optional<TimePoint> metricDueAt(const AnalysisMetric& metric, const MetricRun& state,
                                     TimePoint started_at) {
  if (state.phase != AnalysisPhase::kRunning) return std::nullopt;
  if (state.measurements.empty()) return started_at + metric.initial_delay;
  return state.measurements.back().measured_at + metric.interval;
}

std::vector<std::string> dueMetrics(const AnalysisTemplateSpec& spec, const AnalysisRun& run,
                                    TimePoint now) {
  std::vector<std::string> out;
  if (run.phase != AnalysisPhase::kRunning) return out;
  const MetricRun fresh;
  for (const auto& metric : spec.metrics) {
    const MetricRun* state = findState(run, metric.name);
    auto due = metricDueAt(metric, state != nullptr ? *state : fresh, run.started_at);
    if (due && *due <= now) out.push_back(metric.name);
  }
  return out;
}

std::optional<TimePoint> nextMeasurementAt(const AnalysisTemplateSpec& spec, const AnalysisRun& run,
                                           TimePoint now) {
  if (run.phase != AnalysisPhase::kRunning) return std::nullopt;
  std::optional<TimePoint> next;
  const MetricRun fresh;
  for (const auto& metric : spec.metrics) {
    const MetricRun* state = findState(run, metric.name);
    auto due = metricDueAt(metric, state != nullptr ? *state : fresh, run.started_at);
    if (due && (!next || *due < *next)) next = due;
  }
  if (next && *next < now) return now;
  return next;
}

Result<double> singleValue(const std::vector<double>& samples) {
  if (samples.empty()) {
    return invalidArgument(
        "the query returned no samples (nothing matched; if that means no traffic, make the "
        "query return a value for it, e.g. with `or vector(0)`)");
  }
  if (samples.size() > 1) {
    return invalidArgument("the query returned " + std::to_string(samples.size()) +
                           " samples; a condition needs one value: aggregate them, e.g. with "
                           "sum() or max()");
  }
  return samples.front();
}

MeasurementVerdict classifyMeasurement(const AnalysisMetric& metric, const Result<double>& value) {
  if (!value.ok()) return {MeasurementPhase::kError, value.status().message()};
  const double v = *value;
  const bool decides_nan = (metric.success_condition && metric.success_condition->usesIsNaN()) ||
                           (metric.failure_condition && metric.failure_condition->usesIsNaN());
  if (std::isnan(v) && !decides_nan) {
    return {MeasurementPhase::kError,
            "the query returned NaN (no data, e.g. a ratio over zero requests); a condition "
            "that calls isNaN(result) decides NaN itself"};
  }
  if (metric.threshold_range) {
    const ThresholdRange& r = *metric.threshold_range;
    const bool inside = (!r.min || v >= *r.min) && (!r.max || v <= *r.max);
    if (inside) return {MeasurementPhase::kSuccessful, "in " + rangeText(r)};
    return {MeasurementPhase::kFailed, "outside " + rangeText(r)};
  }
  // The failure condition wins when both hold, as in Argo: a gate errs on the safe side.
  if (metric.failure_condition && evaluate(*metric.failure_condition, v)) {
    return {MeasurementPhase::kFailed, "met failureCondition " + quoted(*metric.failure_condition)};
  }
  if (metric.success_condition) {
    if (evaluate(*metric.success_condition, v)) {
      return {MeasurementPhase::kSuccessful,
              "met successCondition " + quoted(*metric.success_condition)};
    }
    if (!metric.failure_condition) {
      return {MeasurementPhase::kFailed,
              "failed successCondition " + quoted(*metric.success_condition)};
    }
    return {MeasurementPhase::kInconclusive,
            "inconclusive: neither successCondition " + quoted(*metric.success_condition) +
                " nor failureCondition " + quoted(*metric.failure_condition) + " holds"};
  }
  if (metric.failure_condition) {
    return {MeasurementPhase::kSuccessful,
            "did not meet failureCondition " + quoted(*metric.failure_condition)};
  }
  // The parser requires a condition or a range; a hand-built spec without one cannot pass.
  return {MeasurementPhase::kError, "the metric has no condition and no thresholdRange"};
}

Status recordMeasurement(const AnalysisTemplateSpec& spec, AnalysisRun& run,
                         std::string_view metric_name, TimePoint at, const Result<double>& value,
                         size_t keep) {
  const AnalysisMetric* metric = findMetric(spec, metric_name);
  if (metric == nullptr) {
    return invalidArgument("AnalysisTemplate " + spec.namespace_ + "/" + spec.name +
                           " has no metric \"" + std::string(metric_name) + "\"");
  }
  if (run.phase != AnalysisPhase::kRunning) {
    return failedPrecondition("the analysis run is already " +
                              std::string(analysisPhaseName(run.phase)));
  }
  MetricRun& s = stateFor(run, metric->name);
  if (s.phase != AnalysisPhase::kRunning) {
    return failedPrecondition("metric " + metric->name + " is already " +
                              std::string(analysisPhaseName(s.phase)));
  }
  MeasurementVerdict verdict = classifyMeasurement(*metric, value);
  Measurement m;
  m.number = ++s.measured;
  m.measured_at = at;
  m.phase = verdict.phase;
  if (value.ok()) m.value = *value;
  m.message = std::move(verdict.message);
  switch (m.phase) {
    case MeasurementPhase::kSuccessful:
      ++s.successful;
      break;
    case MeasurementPhase::kFailed:
      ++s.failed;
      break;
    case MeasurementPhase::kInconclusive:
      ++s.inconclusive;
      break;
    case MeasurementPhase::kError:
      ++s.errors;
      break;
  }
  s.consecutive_errors = m.phase == MeasurementPhase::kError ? s.consecutive_errors + 1 : 0;
  s.measurements.push_back(std::move(m));
  keep = std::max<size_t>(keep, 1);
  if (s.measurements.size() > keep) {
    s.measurements.erase(s.measurements.begin(),
                         s.measurements.end() - static_cast<std::ptrdiff_t>(keep));
  }
  assessMetric(*metric, s, s.measurements.back());
  assessRun(spec, run);
  return Status();
}

void stopAnalysisRun(const AnalysisTemplateSpec& spec, AnalysisRun& run, std::string_view reason) {
  if (run.phase != AnalysisPhase::kRunning) return;
  for (const auto& metric : spec.metrics) {
    MetricRun& s = stateFor(run, metric.name);
    if (s.phase != AnalysisPhase::kRunning) continue;
    s.phase = AnalysisPhase::kSuccessful;
    s.message = "metric " + metric.name + ": stopped (" + std::string(reason) + ") after " +
                std::to_string(s.measured) + " measurements: " + countsText(s);
  }
  assessRun(spec, run);
}

}  // namespace governor::rollouts
