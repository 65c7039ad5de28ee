#pragma once

// The common shape of a fitted forecasting model: a small object holding the model's state
// after the last observation, which can absorb one more observation at a time (update) and
// forecast from there (forecast). Fitting functions live with each model
// (fitHoltWinters, fitHarmonic, fitLinearTrend, fitNaive, fitSeasonalNaive, fitAuto).
//
// Time is counted in steps of the input series: step 0 is its first value, and a model fitted
// on n values (and then updated k times) forecasts steps n+k, n+k+1, ...
//
// Prediction intervals: every model forecasts mean +- z * sigma_h, with z the standard normal
// quantile for the two-sided level and sigma_h the model's h-step forecast standard error,
// derived from its one-step in-sample residuals (see each model's header for sigma_h). The
// intervals assume roughly normal, uncorrelated residuals; they are as good as that.
//
// Thread-safety: a model is a value; const methods may be called concurrently, update() needs
// exclusive access.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace governor::forecasting {

struct Forecast {
  double level = 0.95;        // Two-sided coverage of [lower, upper].
  std::vector<double> mean;   // mean[h-1] is the forecast h steps ahead.
  std::vector<double> lower;  // Same length as mean.
  std::vector<double> upper;  // Same length as mean.
};

struct Parameter {
  std::string name;  // "alpha", "beta", "gamma", "phi", "period", "intercept", ...
  double value = 0.0;
};

// Running sums of one-step residuals: the in-sample SSE and the residual variance.
struct ResidualStats {
  int64_t count = 0;
  double sum = 0.0;
  double sum_squares = 0.0;

  void add(double residual) {
    ++count;
    sum += residual;
    sum_squares += residual * residual;
  }
  // Mean-corrected sample variance (denominator count - 1); 0 with fewer than 2 residuals.
  double variance() const;
};

class Model {
 public:
  virtual ~Model() = default;

  // "holt-winters", "harmonic", "linear", "seasonal-naive" or "naive".
  virtual std::string_view kind() const = 0;

  // The model's parameters by name, fitted and configured ones alike, in a stable order.
  virtual std::vector<Parameter> parameters() const = 0;

  // The sum of squared one-step-ahead in-sample errors, including those of later update()s,
  // and how many errors it sums (missing observations contribute none).
  virtual double sse() const = 0;
  virtual int64_t residualCount() const = 0;

  // Absorbs the observation that follows the last one seen. NaN means "missing": the model
  // advances one step without learning (its own forecast stands in for the value) and the
  // SSE is unchanged.
  virtual void update(double y) = 0;

  // Forecasts steps 1..horizon after the last observation with a central `level` interval.
  // Returns InvalidArgument when horizon < 1 or level is not in (0, 1).
  virtual Result<Forecast> forecast(int horizon, double level) const = 0;

  virtual std::unique_ptr<Model> clone() const = 0;

  // The named parameter, or nullopt when the model has none of that name.
  std::optional<double> parameter(std::string_view name) const;
};

// The standard normal quantile function (inverse CDF). REQUIRES: 0 < p < 1.
double normalQuantile(double p);

// Checks the arguments of Model::forecast; OK when horizon >= 1 and 0 < level < 1.
Status checkForecastArguments(int horizon, double level);

// mean +- z(level) * sigma[h]; `sigma` holds the h-step standard errors.
Forecast makeForecast(std::vector<double> mean, const std::vector<double>& sigma, double level);

}  // namespace governor::forecasting
