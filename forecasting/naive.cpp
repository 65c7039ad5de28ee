#include "forecasting/naive.h"

#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace governor::forecasting {

std::vector<Parameter> NaiveModel::parameters() const {
  return {{"period", static_cast<double>(period_)}};
}

void NaiveModel::update(double y) {
  double& slot = last_[pos_];
  if (!std::isnan(y)) {
    if (!std::isnan(slot)) stats_.add(y - slot);
    slot = y;
    last_observed_ = y;
  }
  pos_ = pos_ + 1 == period_ ? 0 : pos_ + 1;
}

Result<Forecast> NaiveModel::forecast(int horizon, double level) const {
  if (Status s = checkForecastArguments(horizon, level); !s.ok()) return s;
  const double sigma2 = stats_.count > 0 ? stats_.sum_squares / stats_.count : 0.0;
  std::vector<double> mean(static_cast<size_t>(horizon));
  std::vector<double> sigma(static_cast<size_t>(horizon));
  for (int h = 1; h <= horizon; ++h) {
    const double v = last_[(pos_ + h - 1) % period_];
    mean[h - 1] = std::isnan(v) ? last_observed_ : v;
    const double steps = period_ == 1 ? h : (h - 1) / period_ + 1;
    sigma[h - 1] = std::sqrt(sigma2 * steps);
  }
  return makeForecast(std::move(mean), sigma, level);
}

std::unique_ptr<Model> NaiveModel::clone() const { return std::make_unique<NaiveModel>(*this); }

Result<NaiveModel> fitSeasonalNaive(std::span<const double> y, int period) {
  if (period < 1) {
    return invalidArgument("seasonal-naive needs a period >= 1; got " + std::to_string(period));
  }
  const std::string name =
      period == 1 ? "naive" : "seasonal-naive with period " + std::to_string(period);
  if (y.size() < static_cast<size_t>(period) + 1) {
    return invalidArgument("need at least " + std::to_string(period + 1) + " points for " + name +
                           "; got " + std::to_string(y.size()));
  }
  NaiveModel model;
  model.period_ = period;
  model.last_.assign(static_cast<size_t>(period), std::numeric_limits<double>::quiet_NaN());
  for (double v : y) {
    if (std::isinf(v)) return invalidArgument(name + ": infinite value");
    model.update(v);
  }
  if (model.stats_.count == 0) {
    return invalidArgument(name + " needs two observed values " + std::to_string(period) +
                           " step(s) apart; got none");
  }
  return model;
}

Result<NaiveModel> fitNaive(std::span<const double> y) { return fitSeasonalNaive(y, 1); }

}  // namespace governor::forecasting
