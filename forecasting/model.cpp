#include "forecasting/model.h"

#include <cmath>
#include <numbers>
#include <utility>

namespace governor::forecasting {

double ResidualStats::variance() const {
  if (count < 2) return 0.0;
  const double n = static_cast<double>(count);
  const double v = (sum_squares - sum * sum / n) / (n - 1.0);
  return v > 0.0 ? v : 0.0;
}

std::optional<double> Model::parameter(std::string_view name) const {
  for (const Parameter& p : parameters()) {
    if (p.name == name) return p.value;
  }
  return std::nullopt;
}

double normalQuantile(double p) {
  // Acklam's rational approximation (relative error < 1.2e-9), then one Halley step on
  // erfc to reach full double precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x = 0.0;
  if (p < kLow) {
    const double q = std::sqrt(-2.0 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  } else if (p <= 1.0 - kLow) {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
  } else {
    const double q = std::sqrt(-2.0 * std::log(1.0 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  }
  const double e = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
  const double u = e * std::sqrt(2.0 * std::numbers::pi) * std::exp(x * x / 2.0);
  return x - u / (1.0 + x * u / 2.0);
}

Status checkForecastArguments(int horizon, double level) {
  if (horizon < 1) {
    return invalidArgument("forecast horizon must be >= 1; got " + std::to_string(horizon));
  }
  if (!(level > 0.0 && level < 1.0)) {
    return invalidArgument("forecast level must be in (0, 1); got " + std::to_string(level));
  }
  return Status();
}

Forecast makeForecast(std::vector<double> mean, const std::vector<double>& sigma, double level) {
  Forecast f;
  f.level = level;
  const double z = normalQuantile(0.5 + level / 2.0);
  f.lower.resize(mean.size());
  f.upper.resize(mean.size());
  for (size_t h = 0; h < mean.size(); ++h) {
    f.lower[h] = mean[h] - z * sigma[h];
    f.upper[h] = mean[h] + z * sigma[h];
  }
  f.mean = std::move(mean);
  return f;
}

}  // namespace governor::forecasting
