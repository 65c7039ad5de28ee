#pragma once

// The verdict machine of an analysis run: one AnalysisTemplate's metrics measured over time,
// each measurement classified, each metric and the run given a phase (after Argo Rollouts'
// AnalysisRun; docs/analysis.md has the rules with a worked example).
//
// The state is plain structs that the rollout controller persists in the Rollout's status,
// so an operator restart resumes a run exactly; nothing here reads a clock (time is an
// argument) or does I/O. The controller's loop:
//
//   AnalysisRun run = startAnalysisRun(spec, now);          // once; persisted
//   for (const std::string& name : dueMetrics(spec, run, now)) {
//     Result<double> value = /* query Prometheus, then singleValue() */;
//     recordMeasurement(spec, run, name, now, value);
//   }
//   switch (run.phase) { ... }                               // Failed: abort, with run.message
//   requeue at nextMeasurementAt(spec, run, now)
//
// A measurement is classified (classifyMeasurement):
//   Error         the query failed, or did not return a single value (singleValue), or
//                 returned NaN and no condition of the metric calls isNaN(). Prometheus
//                 returns NaN for a ratio over zero requests: "no data" must not pass a gate,
//                 nor fail it at once; an Error is retried, and only consecutiveErrorLimit + 1
//                 errors in a row fail the metric (as Flagger treats "no values").
//   Failed        failureCondition is true; or only successCondition is set and it is false;
//                 or the value is outside thresholdRange.
//   Successful    successCondition is true (and failureCondition, if set, is false); or only
//                 failureCondition is set and it is false; or the value is inside
//                 thresholdRange (bounds inclusive).
//   Inconclusive  both conditions are set and neither is true.
// A metric's phase, after each measurement, in this order:
//   Failed        failed > failureLimit
//   Inconclusive  inconclusive > inconclusiveLimit
//   Error         consecutive errors > consecutiveErrorLimit (a decisive measurement resets
//                 the streak)
//   Successful    `count` decisive (non-Error) measurements taken (never for count 0)
//   Running       otherwise; a metric that is not Running takes no more measurements.
// The run's phase, over the template's metrics:
//   Failed        a metric is Failed or Error (an Error fails the rollout, as in Argo)
//   Inconclusive  else, a metric is Inconclusive (the rollout pauses for a person)
//   Successful    else, every metric is Successful
//   Running       otherwise; a run that is not Running takes no more measurements.
// The message of a metric or run that is not Running says why, naming the measurement:
//   metric success-rate: measurement 3 = 0.91 failed successCondition `result >= 0.95`
//
// Thread-safety: pure functions over value types.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "rollouts/analysis_spec.h"

namespace governor::rollouts {

enum class MeasurementPhase { kSuccessful, kFailed, kInconclusive, kError };
enum class AnalysisPhase { kRunning, kSuccessful, kFailed, kInconclusive, kError };

// "Successful", "Failed", "Inconclusive", "Error"; "Running" (as in status).
std::string_view measurementPhaseName(MeasurementPhase phase);
std::string_view analysisPhaseName(AnalysisPhase phase);
// The inverse, for reading status back; nullopt for any other text.
std::optional<MeasurementPhase> parseMeasurementPhase(std::string_view name);
std::optional<AnalysisPhase> parseAnalysisPhase(std::string_view name);

// One measurement of one metric. In status as
// {number, measuredAt, phase, value?, message}, `value` as formatValue() text (JSON numbers
// cannot hold NaN or ±Inf).
struct Measurement {
  int64_t number = 0;  // 1 for the metric's first measurement; errors count.
  TimePoint measured_at{};
  MeasurementPhase phase = MeasurementPhase::kError;
  std::optional<double> value;  // The query's value; nullopt when the query failed.
  // Why this phase: "failed successCondition `result >= 0.95`", "in thresholdRange [0, 0.5]",
  // or the error.
  std::string message;
  friend bool operator==(const Measurement&, const Measurement&) = default;
};

// The state of one metric in a run. The counters are exact however many measurements are
// kept, and the verdict depends on them: they must be persisted, not recomputed from the
// kept measurements. In status as {name, phase, message, measured, successful, failed,
// inconclusive, errors, consecutiveErrors, measurements}.
struct MetricRun {
  std::string name;
  AnalysisPhase phase = AnalysisPhase::kRunning;
  std::string message;   // Why the phase, when it is not Running.
  int64_t measured = 0;  // All measurements, errors included.
  int64_t successful = 0;
  int64_t failed = 0;
  int64_t inconclusive = 0;
  int64_t errors = 0;
  int64_t consecutive_errors = 0;         // Errors since the last decisive measurement.
  std::vector<Measurement> measurements;  // The newest last; only the last few are kept.
  friend bool operator==(const MetricRun&, const MetricRun&) = default;
};

// The state of one run of one AnalysisTemplate. In status as
// {startedAt, phase, message, metrics}.
struct AnalysisRun {
  TimePoint started_at{};
  AnalysisPhase phase = AnalysisPhase::kRunning;  // Never kError (see the file comment).
  std::string message;                            // Why the phase, when it is not Running.
  std::vector<MetricRun> metrics;                 // In the template's order.
  friend bool operator==(const AnalysisRun&, const AnalysisRun&) = default;
};

// How many measurements per metric recordMeasurement keeps, so that status stays small.
inline constexpr size_t kDefaultMeasurementsKept = 10;

// A run of `spec` started at `now`: every metric Running, nothing measured.
AnalysisRun startAnalysisRun(const AnalysisTemplateSpec& spec, TimePoint now);

// When `metric` (whose state is `state`, in a run started at `started_at`) is next due:
// started_at + initialDelay for the first measurement, then the last measurement's time +
// interval (a late measurement moves the schedule: no catch-up burst after an outage).
// nullopt when the metric is not Running.
std::optional<TimePoint> metricDueAt(const AnalysisMetric& metric, const MetricRun& state,
                                     TimePoint started_at);

// The names of the metrics of `spec` due at `now` (due time <= now), in the template's
// order. Empty when the run is not Running.
std::vector<std::string> dueMetrics(const AnalysisTemplateSpec& spec, const AnalysisRun& run,
                                    TimePoint now);

// When the controller should measure next: the earliest due time of the run's metrics, or
// `now` if one is overdue. nullopt when the run is not Running (nothing more to measure).
std::optional<TimePoint> nextMeasurementAt(const AnalysisTemplateSpec& spec, const AnalysisRun& run,
                                           TimePoint now);

// A query's samples as the single value a condition needs: the one sample's value.
// Errors: InvalidArgument "the query returned no samples (nothing matched; ...)" or "the
// query returned N samples; a condition needs one value: aggregate them, e.g. with sum() or
// max()".
Result<double> singleValue(const std::vector<double>& samples);

// The classification of one measurement (see the file comment).
struct MeasurementVerdict {
  MeasurementPhase phase = MeasurementPhase::kError;
  std::string message;  // As Measurement::message.
};

// Classifies `value` (the query's single value, or its error) for `metric`. Pure.
MeasurementVerdict classifyMeasurement(const AnalysisMetric& metric, const Result<double>& value);

// Records the measurement of the metric `metric_name` taken at `at`: classifies it, updates
// the metric's counters and phase, then the run's phase and message. Keeps the metric's last
// `keep` measurements (at least 1).
// Returns OK. Errors: InvalidArgument when `spec` has no such metric; FailedPrecondition
// (nothing changed) when the run or the metric is no longer Running.
// A metric of `spec` that `run` has no state for (the template changed under a run) gets a
// fresh state.
Status recordMeasurement(const AnalysisTemplateSpec& spec, AnalysisRun& run,
                         std::string_view metric_name, TimePoint at, const Result<double>& value,
                         size_t keep = kDefaultMeasurementsKept);

// Ends a Running run early, for background analysis (count 0) when the rollout completes:
// every metric still Running becomes Successful ("stopped (<reason>) after N measurements",
// with its counts; failures within failureLimit do not stop it), and so does the run. Does
// nothing to a run that is not Running: a verdict already reached stands.
void stopAnalysisRun(const AnalysisTemplateSpec& spec, AnalysisRun& run, std::string_view reason);

// `v` as messages and status show it: the shortest text that reads back as `v` ("0.91",
// "1e-05"), or "NaN", "+Inf", "-Inf" as Prometheus writes them.
std::string formatValue(double v);

}  // namespace governor::rollouts
