#include "policies/predictive.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "base/duration.h"

namespace governor::policies {
namespace {

constexpr Duration kSelectionInterval{86'400'000};  // A new model selection at most daily.

bool usable(double v) { return std::isfinite(v) && v >= 0; }

std::string fixed(double v, int decimals) {
  double scale = std::pow(10.0, decimals);
  double rounded = std::round(v * scale) / scale;
  std::string s = std::to_string(rounded);
  auto dot = s.find('.');
  if (dot != std::string::npos) s.resize(decimals == 0 ? dot : dot + 1 + decimals);
  return s;
}

}  // namespace

std::optional<std::string> loadQueryOf(const MetricSpec& metric, std::string_view query) {
  // The newline ends a trailing `# comment` of the query before the closing parenthesis.
  const std::string inner = "(" + std::string(query) + "\n)";
  switch (metric.target.type) {
    case TargetType::kUtilization:
      if (!metric.prometheus.per_pod) return std::nullopt;
      return "sum(" + inner + ") / 100";
    case TargetType::kAverageValue:
      return metric.prometheus.per_pod ? "sum(" + inner + ")" : inner;
    case TargetType::kValue:
      break;
  }
  return std::nullopt;
}

std::optional<double> loadOf(const MetricSpec& metric, const Observation& obs) {
  auto it = obs.metrics.find(metric.name);
  if (it == obs.metrics.end()) return std::nullopt;
  const MetricSample& sample = it->second;
  double load = 0;
  if (metric.prometheus.per_pod) {
    int64_t n = 0;
    for (const auto& [pod, s] : sample.per_pod) {
      if (!usable(s.value)) continue;
      load += s.value;
      ++n;
    }
    if (n == 0) return std::nullopt;
  } else {
    if (!sample.value || !usable(*sample.value)) return std::nullopt;
    load = *sample.value;
  }
  switch (metric.target.type) {
    case TargetType::kUtilization: {
      if (metric.prometheus.per_pod) return load / 100.0;
      int32_t ready = obs.ready_replicas.value_or(obs.current_replicas);
      if (ready <= 0) return std::nullopt;
      return load * ready / 100.0;
    }
    case TargetType::kAverageValue:
      return load;
    case TargetType::kValue:
      break;
  }
  return std::nullopt;
}

int32_t replicasForLoad(const MetricSpec& metric, double load) {
  if (!(load > 0) || metric.target.value <= 0) return 0;
  double per_replica = metric.target.type == TargetType::kUtilization ? metric.target.value / 100.0
                                                                      : metric.target.value;
  double needed = load / per_replica;
  // A load of exactly 6.0 replicas' worth needs 6, not 7 after a rounding error.
  double replicas = std::ceil(needed * (1.0 - 1e-12));
  if (!(replicas < static_cast<double>(std::numeric_limits<int32_t>::max()))) {
    return std::numeric_limits<int32_t>::max();
  }
  return static_cast<int32_t>(replicas);
}

PredictivePolicy::PredictivePolicy(PredictiveSpec spec, MetricSpec metric)
    : spec_(std::move(spec)), metric_(std::move(metric)) {
  resolution_ms_ = std::max<int64_t>(1, spec_.resolution.count());
  capacity_ = static_cast<size_t>(std::max<int64_t>(1, spec_.history.count() / resolution_ms_));
}

int64_t PredictivePolicy::bucketOf(TimePoint t) const {
  int64_t ms = t.time_since_epoch().count();
  // Floor division, so times before the epoch fall into the right bucket too.
  int64_t q = ms / resolution_ms_;
  if (ms % resolution_ms_ != 0 && ms < 0) --q;
  return q;
}

void PredictivePolicy::pushBucket(double value) {
  history_.push_back(value);
  if (!std::isnan(value)) ++observed_;
  if (history_.size() > capacity_) {
    if (!std::isnan(history_.front())) --observed_;
    history_.pop_front();
  }
  if (model_) model_->update(value);
}

void PredictivePolicy::closeBucketsBefore(int64_t bucket) {
  if (!open_ || *open_ >= bucket) return;
  pushBucket(open_count_ > 0 ? open_sum_ / static_cast<double>(open_count_)
                             : std::numeric_limits<double>::quiet_NaN());
  // Empty buckets up to `bucket` are gaps; more than the history holds cannot matter.
  int64_t gaps = std::min<int64_t>(bucket - *open_ - 1, static_cast<int64_t>(capacity_) + 1);
  for (int64_t i = 0; i < gaps; ++i) pushBucket(std::numeric_limits<double>::quiet_NaN());
  open_ = bucket;
  open_sum_ = 0;
  open_count_ = 0;
}

void PredictivePolicy::addLoad(TimePoint t, double load) {
  int64_t bucket = bucketOf(t);
  if (!open_) {
    open_ = bucket;
  } else if (bucket < *open_) {
    return;  // Late: that bucket is closed.
  } else if (bucket > *open_) {
    closeBucketsBefore(bucket);
  }
  if (!std::isfinite(load)) return;
  open_sum_ += load;
  ++open_count_;
}

void PredictivePolicy::observe(const Observation& obs, TimePoint now) {
  if (auto load = loadOf(metric_, obs)) addLoad(now, *load);
}

int PredictivePolicy::primaryPeriodSteps() const {
  Duration primary =
      spec_.seasonal_periods.empty() ? Duration(86'400'000) : spec_.seasonal_periods.front();
  return static_cast<int>(
      std::llround(static_cast<double>(primary.count()) / static_cast<double>(resolution_ms_)));
}

forecasting::AutoOptions PredictivePolicy::autoOptions() const {
  forecasting::AutoOptions options;
  for (const auto& period : spec_.seasonal_periods) {
    double steps = static_cast<double>(period.count()) / static_cast<double>(resolution_ms_);
    // Daily shapes need about ten harmonics; longer seasons (weekly) ride on top with fewer.
    int harmonics = options.seasons.empty() ? 10 : 5;
    harmonics = std::max(1, std::min(harmonics, static_cast<int>(steps / 2.0) - 1));
    options.seasons.push_back({steps, harmonics});
  }
  options.candidates = candidateNames();
  return options;
}

std::vector<std::string> PredictivePolicy::candidateNames() const {
  switch (spec_.model) {
    case PredictiveModelKind::kAuto:
      return {};
    case PredictiveModelKind::kHoltWinters:
      return {"holt-winters-additive", "holt-winters-multiplicative",
              "holt-winters-additive-damped"};
    case PredictiveModelKind::kHarmonic:
      return {"harmonic"};
    case PredictiveModelKind::kLinear:
      return {"linear"};
    case PredictiveModelKind::kSeasonalNaive:
      return {"seasonal-naive"};
  }
  return {};
}

Status PredictivePolicy::refit(TimePoint now) {
  std::vector<double> y(history_.begin(), history_.end());
  forecasting::AutoOptions options = autoOptions();
  const bool select = !selected_at_ || chosen_.empty() || now - *selected_at_ >= kSelectionInterval;
  if (select) {
    auto result = forecasting::fitAuto(y, options);
    if (!result.ok()) return result.status();
    model_ = std::move(result->model);
    chosen_ = result->chosen;
    candidates_ = result->candidates;
    chosen_mase_ = 0;
    for (const auto& c : candidates_) {
      if (c.name == chosen_) chosen_mase_ = c.mase;
    }
    selected_at_ = now;
  } else {
    // fitAuto cleans short gaps before fitting; do the same for a lone refit.
    forecasting::fillGaps(y, options.max_gap);
    size_t first = 0;
    while (first < y.size() && std::isnan(y[first])) ++first;
    auto fitted =
        forecasting::fitCandidate(chosen_, std::span<const double>(y).subspan(first), options);
    if (!fitted.ok()) {
      selected_at_.reset();  // Select afresh next time.
      return fitted.status();
    }
    model_ = std::move(fitted).value();
  }
  fitted_at_ = now;
  return {};
}

PredictiveOutcome PredictivePolicy::propose(TimePoint now) {
  PredictiveOutcome out;
  const int64_t now_bucket = bucketOf(now);
  if (open_ && *open_ < now_bucket) closeBucketsBefore(now_bucket);

  const int64_t season = primaryPeriodSteps();
  const int64_t observed = observedBuckets();
  if (observed < 2 * season) {
    out.reason = "InsufficientHistory";
    out.message = "predictive: need two seasons of history (" +
                  formatDuration(Duration(2 * season * resolution_ms_)) + "), have " +
                  formatDuration(Duration(observed * resolution_ms_));
    return out;
  }

  if (!model_ || !fitted_at_ || now - *fitted_at_ >= spec_.refit) {
    Status s = refit(now);
    if (!s.ok()) {
      fit_error_ = s.message();
      if (!model_) {
        out.reason = "FitFailed";
        out.message = "predictive: " + fit_error_;
        return out;
      }
      // Keep forecasting with the previous model, which is still being updated.
    } else {
      fit_error_.clear();
    }
  }
  out.model = chosen_;
  out.backtest_mase = chosen_mase_;
  out.candidates = candidates_;
  out.fitted_at = fitted_at_;

  if (chosen_mase_ > spec_.max_backtest_mase) {
    out.reason = "ForecastUnreliable";
    out.message = "predictive: backtest MASE " + fixed(chosen_mase_, 2) + " of " + chosen_ +
                  " exceeds maxBacktestMase " + fixed(spec_.max_backtest_mase, 2);
    return out;
  }

  // The model has seen every bucket before the one being filled (open_ or now_bucket):
  // forecast step 1 is that bucket.
  const int64_t first = open_.value_or(now_bucket);
  const int64_t last = bucketOf(now + spec_.lead);
  const int horizon = static_cast<int>(std::max<int64_t>(1, last - first + 1));
  const double level = std::clamp(2.0 * spec_.quantile - 1.0, 1e-6, 1.0 - 1e-9);
  auto forecast = model_->forecast(horizon, level);
  if (!forecast.ok()) {
    out.reason = "FitFailed";
    out.message = "predictive: " + forecast.status().message();
    return out;
  }
  double peak = 0;
  for (int h = std::max<int64_t>(0, now_bucket - first); h < horizon; ++h) {
    double upper = forecast->upper[static_cast<size_t>(h)];
    if (std::isfinite(upper)) peak = std::max(peak, upper);
  }
  out.peak_load = peak;
  Proposal p;
  p.replicas = replicasForLoad(metric_, peak);
  p.policy = "predictive";
  p.reason = "ForecastPeak";
  p.message = "p" + fixed(spec_.quantile * 100.0, 0) + " forecast of " + metric_.name +
              " over the next " + formatDuration(spec_.lead) + " needs " +
              std::to_string(p.replicas) + " (" + chosen_ + ", backtest MASE " +
              fixed(chosen_mase_, 2) + ")";
  out.proposal = std::move(p);
  out.reason = "ForecastReady";
  out.message = out.proposal->message;
  return out;
}

}  // namespace governor::policies
