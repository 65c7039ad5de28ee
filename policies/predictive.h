#pragma once

// The predictive policy: forecast the load of one metric and provision for an upper quantile
// of the forecast before the load arrives.
//
// Load. A forecast of the metric's value would chase its own tail (utilization falls when
// replicas are added), so the policy forecasts the replica-independent load behind it:
//   Utilization   load = utilization% x ready replicas / 100   (replicas' worth of work at 100%)
//                 (per-pod: the sum of the pods' percentages / 100)
//   AverageValue  load = the query's value (a total), or the sum of the per-pod values
// and turns a load back into replicas with the target: ceil(load x 100 / averageUtilization)
// or ceil(load / averageValue). Value targets are refused by the parser.
//
// History. Loads are averaged into buckets of `resolution` (default 5m) on a grid aligned to
// the Unix epoch; a bucket with no sample is a gap (NaN: the models treat it as missing). At
// most `history` of buckets are kept. A bucket enters the model when it is complete; between
// refits the model absorbs each complete bucket with one O(1)-ish update, so an operator can
// carry thousands of predictive policies.
//
// Fitting. The first fit, and then a new model selection at most once a day, runs the
// rolling-origin backtest of forecasting/auto.h over the candidates of `model` (auto: all;
// holt-winters: its additive, multiplicative and damped variants; otherwise the one model),
// and keeps the lowest MASE. Every `refitSeconds` the chosen candidate is fitted again on the
// whole history. Seasonal periods are `seasonalPeriods` in buckets (rounded); Holt-Winters and
// the seasonal naive model use the first.
//
// Proposal. With the model updated to the last complete bucket, forecast every bucket that
// overlaps [now, now + leadSeconds]; the proposal is the replicas for the largest upper bound
// of the central interval at level 2q - 1 (whose upper bound is the q quantile). No proposal
// (the engine falls back to the reactive policies) when:
//   InsufficientHistory  fewer than two primary seasons of buckets observed
//   ForecastUnreliable   the backtest MASE exceeds maxBacktestMase
//   FitFailed            every candidate failed (the message says why)
// The engine takes max(reactive, predictive): forecasting adds capacity ahead of load and
// never removes capacity that the reactive policy needs. In forecastOnly mode the proposal
// is recorded but never drives replicas.
//
// Thread-safety: a PredictivePolicy is a value owned by one reconcile at a time.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "forecasting/auto.h"
#include "forecasting/model.h"
#include "forecasting/series.h"
#include "policies/observation.h"
#include "policies/spec.h"

namespace governor::policies {

// The load that `obs` shows for `metric` (see above); nullopt when the metric is missing or
// invalid (NaN, infinite, negative) or no replica is ready to carry it.
std::optional<double> loadOf(const MetricSpec& metric, const Observation& obs);

// The PromQL whose value is the load behind `metric` (see "Load" above), built from the
// metric's rendered `query`, for backfilling history with range queries:
//   per-pod Utilization   sum((query)) / 100      per-pod AverageValue   sum((query))
//   AverageValue          (query)
// nullopt for a Utilization target that is not per-pod (its load is the average times the
// ready count at each instant, which the query does not carry) and for Value targets. A
// per-pod NaN makes the sum NaN (a gap), where a live evaluation skips that pod.
std::optional<std::string> loadQueryOf(const MetricSpec& metric, std::string_view query);

// The replicas that serve `load` at the metric's target (>= 0, saturating at int32 max).
int32_t replicasForLoad(const MetricSpec& metric, double load);

struct PredictiveOutcome {
  std::optional<Proposal> proposal;  // nullopt: no forecast; `reason` says why.
  std::string reason;  // ForecastReady, InsufficientHistory, ForecastUnreliable, FitFailed.
  std::string message;
  std::string model;         // The chosen candidate ("holt-winters-additive", ...); empty if none.
  double backtest_mase = 0;  // Of the chosen candidate, at the last selection.
  std::vector<forecasting::CandidateScore> candidates;  // At the last selection.
  double peak_load = 0;                // The largest upper bound over the lead window.
  std::optional<TimePoint> fitted_at;  // The last fit.
};

class PredictivePolicy {
 public:
  // REQUIRES: spec validated; `metric` is the entry of spec.metrics named spec.metric.
  PredictivePolicy(PredictiveSpec spec, MetricSpec metric);

  // Adds this evaluation's load of the metric (nothing when it is missing or invalid).
  void observe(const Observation& obs, TimePoint now);

  // Adds one load sample at `t` (backfill from a range query or a trace). Samples older than
  // the bucket being filled are ignored; NaN counts as no sample.
  void addLoad(TimePoint t, double load);

  // The proposal as of `now`; refits first when a refit is due. Buckets that ended before
  // `now` are closed (as gaps when empty).
  PredictiveOutcome propose(TimePoint now);

  // Complete buckets kept, and how many of them were observed (not gaps).
  size_t historySize() const { return history_.size(); }
  int64_t observedBuckets() const { return observed_; }

  const PredictiveSpec& spec() const { return spec_; }
  const MetricSpec& metric() const { return metric_; }

 private:
  int64_t bucketOf(TimePoint t) const;
  void closeBucketsBefore(int64_t bucket);
  void pushBucket(double value);
  forecasting::AutoOptions autoOptions() const;
  std::vector<std::string> candidateNames() const;
  int primaryPeriodSteps() const;
  Status refit(TimePoint now);

  PredictiveSpec spec_;
  MetricSpec metric_;
  int64_t resolution_ms_ = 0;
  size_t capacity_ = 0;  // Buckets of history kept.

  std::deque<double> history_;   // Complete buckets, oldest first.
  int64_t observed_ = 0;         // Buckets of history_ that are not gaps.
  std::optional<int64_t> open_;  // The bucket being filled.
  double open_sum_ = 0;
  int64_t open_count_ = 0;

  std::unique_ptr<forecasting::Model> model_;
  std::string chosen_;
  double chosen_mase_ = 0;
  std::vector<forecasting::CandidateScore> candidates_;
  std::optional<TimePoint> fitted_at_;
  std::optional<TimePoint> selected_at_;
  std::string fit_error_;
};

}  // namespace governor::policies
