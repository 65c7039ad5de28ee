#include "forecasting/auto.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "forecasting/holt_winters.h"
#include "forecasting/naive.h"
#include "forecasting/series.h"

namespace governor::forecasting {
namespace {

constexpr const char* kAllCandidates[] = {
    "naive",
    "seasonal-naive",
    "linear",
    "holt-winters-additive",
    "holt-winters-multiplicative",
    "holt-winters-additive-damped",
    "harmonic",
};

int primaryPeriod(const AutoOptions& options) {
  return options.seasons.empty() ? 0
                                 : static_cast<int>(std::lround(options.seasons.front().period));
}

template <typename M>
Result<std::unique_ptr<Model>> wrap(Result<M> r) {
  if (!r.ok()) return r.status();
  return std::unique_ptr<Model>(std::make_unique<M>(std::move(r).value()));
}

double meanAbsDiff(std::span<const double> y, int lag) {
  double sum = 0.0;
  int64_t count = 0;
  for (size_t t = static_cast<size_t>(lag); t < y.size(); ++t) {
    if (std::isnan(y[t]) || std::isnan(y[t - lag])) continue;
    sum += std::abs(y[t] - y[t - lag]);
    ++count;
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

}  // namespace

double mase(std::span<const double> train, std::span<const double> actual,
            std::span<const double> forecast, int m) {
  // A scale that is zero, or zero but for rounding (a perfectly periodic series), would
  // turn rounding noise into huge or arbitrary scores: fall back to lag 1, then to 1.
  double magnitude = 0.0;
  int64_t observed = 0;
  for (double v : train) {
    if (std::isnan(v)) continue;
    magnitude += std::abs(v);
    ++observed;
  }
  const double negligible = 1e-9 * std::max(1.0, observed > 0 ? magnitude / observed : 0.0);
  double scale = m >= 1 && train.size() > static_cast<size_t>(m) ? meanAbsDiff(train, m) : 0.0;
  if (scale <= negligible) scale = meanAbsDiff(train, 1);
  if (scale <= negligible) scale = 1.0;
  double sum = 0.0;
  int64_t count = 0;
  for (size_t i = 0; i < actual.size() && i < forecast.size(); ++i) {
    if (std::isnan(actual[i])) continue;
    sum += std::abs(actual[i] - forecast[i]);
    ++count;
  }
  return count > 0 ? sum / static_cast<double>(count) / scale
                   : std::numeric_limits<double>::quiet_NaN();
}

Result<std::unique_ptr<Model>> fitCandidate(std::string_view name, std::span<const double> y,
                                            const AutoOptions& options) {
  const int period = primaryPeriod(options);
  const bool seasonal = !options.seasons.empty();
  if (name == "naive") return wrap(fitNaive(y));
  if (name == "linear") return wrap(fitLinearTrend(y));
  if (name == "seasonal-naive") {
    if (!seasonal) return invalidArgument("seasonal-naive needs a seasonal period");
    return wrap(fitSeasonalNaive(y, period));
  }
  if (name == "harmonic") {
    if (!seasonal) return invalidArgument("harmonic needs a seasonal period");
    return wrap(fitHarmonic(y, HarmonicOptions{.seasons = options.seasons}));
  }
  if (name.starts_with("holt-winters")) {
    if (!seasonal) return invalidArgument("holt-winters needs a seasonal period");
    if (period > options.max_holt_winters_period) {
      return invalidArgument("holt-winters period " + std::to_string(period) +
                             " exceeds max_holt_winters_period " +
                             std::to_string(options.max_holt_winters_period));
    }
    HoltWintersOptions hw;
    hw.period = period;
    hw.multi_start = options.holt_winters_multi_start;
    if (name == "holt-winters-additive") {
      hw.seasonality = Seasonality::kAdditive;
    } else if (name == "holt-winters-multiplicative") {
      hw.seasonality = Seasonality::kMultiplicative;
    } else if (name == "holt-winters-additive-damped") {
      hw.seasonality = Seasonality::kAdditive;
      hw.damped = true;
    } else {
      return invalidArgument("unknown model candidate \"" + std::string(name) + "\"");
    }
    return wrap(fitHoltWinters(y, hw));
  }
  return invalidArgument("unknown model candidate \"" + std::string(name) + "\"");
}

Result<AutoResult> fitAuto(std::span<const double> y_in, const AutoOptions& options) {
  if (options.folds < 1) {
    return invalidArgument("auto: folds must be >= 1; got " + std::to_string(options.folds));
  }
  if (options.horizon < 0) {
    return invalidArgument("auto: horizon must be >= 0; got " + std::to_string(options.horizon));
  }
  std::vector<std::string> names = options.candidates;
  if (names.empty()) names.assign(std::begin(kAllCandidates), std::end(kAllCandidates));

  std::vector<double> y(y_in.begin(), y_in.end());
  fillGaps(y, options.max_gap);
  const auto first = std::find_if(y.begin(), y.end(), [](double v) { return !std::isnan(v); });
  y.erase(y.begin(), first);
  if (countObserved(y) < 2) {
    return invalidArgument("auto: need at least 2 observed values; got " +
                           std::to_string(countObserved(y)));
  }
  const int n = static_cast<int>(y.size());
  const int period = primaryPeriod(options);
  AutoResult result;
  result.horizon = options.horizon > 0 ? options.horizon : std::max(1, period);

  // Without a backtest: the first explicitly requested candidate that fits the whole history,
  // else the naive model.
  auto fallback = [&](const std::string& reason) -> Result<AutoResult> {
    for (const std::string& name : names) result.candidates.push_back({name, false, 0.0, reason});
    Status first_error;
    for (const std::string& name : options.candidates) {
      Result<std::unique_ptr<Model>> fitted = fitCandidate(name, y, options);
      if (!fitted.ok()) {
        if (first_error.ok()) first_error = fitted.status();
        continue;
      }
      result.model = std::move(fitted).value();
      result.chosen = name;
      return std::move(result);
    }
    // The caller asked for these models only: a naive forecast would be a silent substitute.
    if (!first_error.ok()) return first_error;
    Result<std::unique_ptr<Model>> naive = fitCandidate("naive", y, options);
    if (!naive.ok()) return naive.status();
    result.model = std::move(naive).value();
    result.chosen = "naive";
    return std::move(result);
  };
  if (isConstant(y)) return fallback("constant series");
  // Reduce folds until the first origin leaves at least 3 points for training.
  int folds = options.folds;
  while (folds > 0 && n - folds * result.horizon < 3) --folds;
  result.folds = folds;
  if (folds == 0) return fallback("history too short for a backtest");

  const std::span<const double> all(y);
  const std::span<const double> first_train = all.first(n - folds * result.horizon);
  const int scale_lag = period > 1 && static_cast<int>(first_train.size()) > period ? period : 1;
  double best = std::numeric_limits<double>::infinity();
  for (const std::string& name : names) {
    CandidateScore score{name, false, 0.0, ""};
    double total = 0.0;
    int scored_folds = 0;
    for (int k = folds; k >= 1; --k) {
      const int origin = n - k * result.horizon;
      Result<std::unique_ptr<Model>> model = fitCandidate(name, all.first(origin), options);
      if (!model.ok()) {
        score.reason = model.status().message();
        break;
      }
      Result<Forecast> fc = (*model)->forecast(result.horizon, 0.95);
      if (!fc.ok()) {
        score.reason = fc.status().message();
        break;
      }
      const double m = mase(first_train, all.subspan(origin, result.horizon), fc->mean, scale_lag);
      if (std::isnan(m)) continue;  // No observed point in this fold's test window.
      if (!std::isfinite(m)) {
        score.reason = "forecast is not finite";
        break;
      }
      total += m;
      ++scored_folds;
    }
    if (score.reason.empty() && scored_folds > 0) {
      score.scored = true;
      score.mase = total / scored_folds;
      if (score.mase < best) {
        best = score.mase;
        result.chosen = name;
      }
    } else if (score.reason.empty()) {
      score.reason = "no observed value in any test window";
    }
    result.candidates.push_back(std::move(score));
  }
  if (result.chosen.empty()) {
    std::vector<CandidateScore> kept = std::move(result.candidates);
    result.candidates.clear();
    Result<AutoResult> r = fallback("no candidate could be backtested");
    if (r.ok()) r->candidates = std::move(kept);
    return r;
  }
  Result<std::unique_ptr<Model>> model = fitCandidate(result.chosen, all, options);
  if (!model.ok()) return model.status().withContext("auto: refitting " + result.chosen);
  result.model = std::move(model).value();
  return result;
}

}  // namespace governor::forecasting
