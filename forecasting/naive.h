#pragma once

// Naive and seasonal naive forecasts: the last observed value (naive), or the last observed
// value at the same position of the season (seasonal naive, period m). The baselines of
// fitAuto, and the scale of its MASE.
//
// SSE: the one-step errors y_t - y_{t-m} (m = 1 for naive) over observed pairs.
//
// Prediction intervals: sigma^2 = SSE / count (the mean squared one-step error, not
// mean-corrected, so a drift widens it); sigma_h = sigma sqrt(h) for naive and
// sigma sqrt(floor((h - 1) / m) + 1) for seasonal naive (random-walk errors).
//
// Messy data: a NaN leaves the slot's previous value in place (the forecast uses the last
// observed value); a slot never observed falls back to the last observed value of any slot.
// Negative and constant series are fine (a constant series forecasts itself with zero-width
// intervals). Too short: InvalidArgument (naive: 2 observed values; seasonal naive: m + 1
// points and one observed pair m apart).
//
// Thread-safety: see model.h.

#include <span>
#include <vector>

#include "base/status.h"
#include "forecasting/model.h"

namespace governor::forecasting {

class NaiveModel : public Model {
 public:
  std::string_view kind() const override { return period_ == 1 ? "naive" : "seasonal-naive"; }
  // period (1 for naive).
  std::vector<Parameter> parameters() const override;
  double sse() const override { return stats_.sum_squares; }
  int64_t residualCount() const override { return stats_.count; }
  void update(double y) override;
  Result<Forecast> forecast(int horizon, double level) const override;
  std::unique_ptr<Model> clone() const override;

 private:
  friend Result<NaiveModel> fitSeasonalNaive(std::span<const double> y, int period);
  NaiveModel() = default;

  int period_ = 1;
  std::vector<double> last_;  // Ring buffer of the last value per season position.
  int pos_ = 0;               // last_[pos_] is the slot of the next step.
  double last_observed_ = 0.0;
  ResidualStats stats_;
};

// Returns InvalidArgument when y has fewer than 2 observed values.
Result<NaiveModel> fitNaive(std::span<const double> y);

// Returns InvalidArgument when period < 1, y has fewer than period + 1 points, or no two
// observed values are a period apart.
Result<NaiveModel> fitSeasonalNaive(std::span<const double> y, int period);

}  // namespace governor::forecasting
