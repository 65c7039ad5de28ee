#include "forecasting/holt_winters.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <Eigen/Core>

namespace governor::forecasting {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Extra optimiser starts for multi_start (alpha, beta, gamma, phi), spread over the box.
constexpr std::array<HoltWintersParams, 4> kMultiStarts = {{
    {0.1, 0.01, 0.1, 0.9},
    {0.5, 0.05, 0.5, 0.95},
    {0.8, 0.2, 0.3, 0.98},
    {0.2, 0.01, 0.9, 0.9},
}};

// Scratch space for the SSE recursion: the seasonal ring buffer and, for the gradient, the
// derivatives of each seasonal state with respect to the 4 parameters.
struct Workspace {
  std::vector<double> season;
  std::vector<double> dseason;  // [position * 4 + parameter]
};

// The per-parameter part of the forward-mode derivative of one recursion step. K: 0 alpha,
// 1 beta, 2 gamma, 3 phi.
template <Seasonality kS, int K>
inline void derivativeStep(double yt, double e, double a_prev, double b_prev, double p, double s,
                           double a_new, const HoltWintersParams& q, double* da, double* db,
                           double* ds, double* g) {
  const double dp = da[K] + q.phi * db[K] + (K == 3 ? b_prev : 0.0);
  const double dsk = kS == Seasonality::kNone ? 0.0 : ds[K];
  double dxhat = 0.0;
  double da_new = 0.0;
  if constexpr (kS == Seasonality::kMultiplicative) {
    dxhat = dp * s + p * dsk;
    da_new = (K == 0 ? yt / s - p : 0.0) - q.alpha * yt * dsk / (s * s) + (1.0 - q.alpha) * dp;
  } else {
    dxhat = dp + dsk;
    da_new = (K == 0 ? yt - s - p : 0.0) - q.alpha * dsk + (1.0 - q.alpha) * dp;
  }
  g[K] -= 2.0 * e * dxhat;
  const double db_new = (K == 1 ? a_new - a_prev - q.phi * b_prev : 0.0) +
                        q.beta * (da_new - da[K]) +
                        (1.0 - q.beta) * (q.phi * db[K] + (K == 3 ? b_prev : 0.0));
  if constexpr (kS == Seasonality::kMultiplicative) {
    ds[K] = (K == 2 ? yt / a_new - s : 0.0) - q.gamma * yt * da_new / (a_new * a_new) +
            (1.0 - q.gamma) * dsk;
  } else if constexpr (kS == Seasonality::kAdditive) {
    ds[K] = (K == 2 ? yt - a_new - s : 0.0) - q.gamma * da_new + (1.0 - q.gamma) * dsk;
  }
  da[K] = da_new;
  db[K] = db_new;
}

// The SSE of the recursion over y[first_step..n), and optionally its gradient. The loop does
// no allocation; the workspace is sized by the caller.
template <Seasonality kS, bool kGrad>
double sseKernel(const double* y, int n, int f, const HoltWintersStart& st,
                 const HoltWintersParams& q, double* grad, Workspace& ws, bool damped_gradient) {
  double a = st.level;
  double b = st.trend;
  double* season = ws.season.data();
  double* dseason = ws.dseason.data();
  if constexpr (kS != Seasonality::kNone) {
    std::copy(st.season.begin(), st.season.end(), season);
    if constexpr (kGrad) std::fill(dseason, dseason + 4 * f, 0.0);
  }
  double da[4] = {0, 0, 0, 0};
  double db[4] = {0, 0, 0, 0};
  double g[4] = {0, 0, 0, 0};
  double sse = 0.0;
  int pos = 0;
  // Without damping phi is fixed at 1 and its derivative is not needed.
  const bool damped = q.phi != 1.0 || damped_gradient;
  for (int t = st.first_step; t < n; ++t) {
    const double p = a + q.phi * b;
    double s = 0.0;
    if constexpr (kS != Seasonality::kNone) s = season[pos];
    const double yt = y[t];
    if (std::isnan(yt)) {  // Missing: follow the forecast; seasons unchanged.
      if constexpr (kGrad) {
        for (int k = 0; k < 4; ++k) {
          const double dphi = k == 3 ? b : 0.0;
          da[k] = da[k] + q.phi * db[k] + dphi;
          db[k] = q.phi * db[k] + dphi;
        }
      }
      a = p;
      b = q.phi * b;
    } else {
      const double xhat = kS == Seasonality::kMultiplicative ? p * s : p + s;
      const double e = yt - xhat;
      sse += e * e;
      double a_new = 0.0;
      if constexpr (kS == Seasonality::kMultiplicative) {
        a_new = q.alpha * (yt / s) + (1.0 - q.alpha) * p;
      } else {
        a_new = q.alpha * (yt - s) + (1.0 - q.alpha) * p;
      }
      const double b_new = q.beta * (a_new - a) + (1.0 - q.beta) * q.phi * b;
      if constexpr (kGrad) {
        double* ds = kS == Seasonality::kNone ? nullptr : dseason + 4 * pos;
        derivativeStep<kS, 0>(yt, e, a, b, p, s, a_new, q, da, db, ds, g);
        derivativeStep<kS, 1>(yt, e, a, b, p, s, a_new, q, da, db, ds, g);
        if constexpr (kS != Seasonality::kNone) {
          derivativeStep<kS, 2>(yt, e, a, b, p, s, a_new, q, da, db, ds, g);
        }
        if (damped) derivativeStep<kS, 3>(yt, e, a, b, p, s, a_new, q, da, db, ds, g);
      }
      if constexpr (kS == Seasonality::kMultiplicative) {
        season[pos] = q.gamma * (yt / a_new) + (1.0 - q.gamma) * s;
      } else if constexpr (kS == Seasonality::kAdditive) {
        season[pos] = q.gamma * (yt - a_new) + (1.0 - q.gamma) * s;
      }
      a = a_new;
      b = b_new;
    }
    if constexpr (kS != Seasonality::kNone) pos = pos + 1 == f ? 0 : pos + 1;
  }
  if constexpr (kGrad) std::copy(g, g + 4, grad);
  return sse;
}

// dphi: also compute the derivative with respect to phi (always done when phi != 1).
double dispatchSse(std::span<const double> y, int f, Seasonality kind, const HoltWintersStart& st,
                   const HoltWintersParams& q, double* grad, Workspace& ws, bool dphi) {
  const int n = static_cast<int>(y.size());
  switch (kind) {
    case Seasonality::kNone:
      return grad ? sseKernel<Seasonality::kNone, true>(y.data(), n, f, st, q, grad, ws, dphi)
                  : sseKernel<Seasonality::kNone, false>(y.data(), n, f, st, q, grad, ws, dphi);
    case Seasonality::kAdditive:
      return grad ? sseKernel<Seasonality::kAdditive, true>(y.data(), n, f, st, q, grad, ws, dphi)
                  : sseKernel<Seasonality::kAdditive, false>(y.data(), n, f, st, q, grad, ws, dphi);
    case Seasonality::kMultiplicative:
      return grad ? sseKernel<Seasonality::kMultiplicative, true>(y.data(), n, f, st, q, grad, ws,
                                                                  dphi)
                  : sseKernel<Seasonality::kMultiplicative, false>(y.data(), n, f, st, q, grad, ws,
                                                                   dphi);
  }
  return kNaN;
}

// Linear interpolation of interior NaNs; NaNs at either end take the nearest value.
// REQUIRES: at least one finite value.
void interpolateInPlace(std::vector<double>& w) {
  const int n = static_cast<int>(w.size());
  int last = -1;
  for (int i = 0; i < n; ++i) {
    if (std::isnan(w[i])) continue;
    if (last < 0) {
      std::fill(w.begin(), w.begin() + i, w[i]);
    } else if (i - last > 1) {
      for (int j = last + 1; j < i; ++j) {
        w[j] = w[last] + (w[i] - w[last]) * (j - last) / static_cast<double>(i - last);
      }
    }
    last = i;
  }
  std::fill(w.begin() + last + 1, w.end(), w[last]);
}

std::string formatCount(int64_t n) { return std::to_string(n); }

}  // namespace

std::string_view seasonalityName(Seasonality s) {
  switch (s) {
    case Seasonality::kNone:
      return "none";
    case Seasonality::kAdditive:
      return "additive";
    case Seasonality::kMultiplicative:
      return "multiplicative";
  }
  return "unknown";
}

Result<HoltWintersStart> holtWintersStart(std::span<const double> y, int period,
                                          Seasonality seasonality, int start_periods) {
  const int n = static_cast<int>(y.size());
  HoltWintersStart st;
  if (seasonality == Seasonality::kNone) {
    if (n < 3) {
      return invalidArgument("need at least 3 points for holt-winters without seasonality; got " +
                             formatCount(n));
    }
    if (std::isnan(y[0]) || std::isnan(y[1])) {
      return invalidArgument(
          "holt-winters without seasonality needs its first two values observed");
    }
    st.level = y[1];
    st.trend = y[1] - y[0];
    st.first_step = 2;
    return st;
  }
  if (period < 2) {
    return invalidArgument("holt-winters with seasonality needs a period >= 2; got " +
                           std::to_string(period));
  }
  if (start_periods < 2) {
    return invalidArgument("holt-winters start_periods must be >= 2; got " +
                           std::to_string(start_periods));
  }
  const int m = start_periods * period;
  if (n < m) {
    return invalidArgument("need at least " + std::to_string(start_periods) + " full seasons (" +
                           std::to_string(m) + " points) for holt-winters with period " +
                           std::to_string(period) + "; got " + formatCount(n));
  }
  std::vector<double> w(y.begin(), y.begin() + m);
  const auto missing = std::count_if(w.begin(), w.end(), [](double v) { return std::isnan(v); });
  if (2 * missing > m) {
    return invalidArgument("holt-winters start window (first " + std::to_string(m) +
                           " points) is more than half missing (" + formatCount(missing) + " NaN)");
  }
  if (missing > 0) interpolateInPlace(w);
  const bool multiplicative = seasonality == Seasonality::kMultiplicative;
  if (multiplicative) {
    for (int i = 0; i < m; ++i) {
      if (!(w[i] > 0)) {
        return invalidArgument("multiplicative seasonality needs values > 0; got " +
                               std::to_string(w[i]) + " at index " + std::to_string(i));
      }
    }
  }
  // Centred moving average: 2xf for even f (weights 1/2, 1, ..., 1, 1/2 over f + 1 points),
  // f-point for odd f. Defined for i in [half, m - half).
  const int half = period / 2;
  const bool even = period % 2 == 0;
  const int len = m - 2 * half;
  std::vector<double> trend(static_cast<size_t>(len));
  double window = 0.0;  // Sum of w[i - half .. i + half] (inclusive).
  for (int j = 0; j <= 2 * half; ++j) window += w[j];
  for (int i = half; i < m - half; ++i) {
    if (i > half) window += w[i + half] - w[i - half - 1];
    const double sum = even ? window - 0.5 * (w[i - half] + w[i + half]) : window;
    trend[i - half] = sum / period;
  }
  std::vector<double> figure(static_cast<size_t>(period), 0.0);
  std::vector<int> counts(static_cast<size_t>(period), 0);
  for (int i = half; i < m - half; ++i) {
    const double tr = trend[i - half];
    figure[i % period] += multiplicative ? w[i] / tr : w[i] - tr;
    ++counts[i % period];
  }
  double mean = 0.0;
  for (int j = 0; j < period; ++j) {
    figure[j] /= counts[j];
    mean += figure[j];
  }
  mean /= period;
  for (double& v : figure) v = multiplicative ? v / mean : v - mean;
  // Least-squares line through the moving averages at x = 1..len.
  const double xbar = (len + 1) / 2.0;
  double ybar = 0.0;
  for (double v : trend) ybar += v;
  ybar /= len;
  double sxy = 0.0;
  double sxx = 0.0;
  for (int i = 0; i < len; ++i) {
    const double dx = (i + 1) - xbar;
    sxy += dx * (trend[i] - ybar);
    sxx += dx * dx;
  }
  st.trend = sxx > 0 ? sxy / sxx : 0.0;
  st.level = ybar - st.trend * xbar;
  st.season = std::move(figure);
  st.first_step = period;
  return st;
}

HoltWintersModel::HoltWintersModel(Seasonality seasonality, int period,
                                   const HoltWintersParams& params, const HoltWintersStart& start)
    : seasonality_(seasonality),
      period_(seasonality == Seasonality::kNone ? 1 : period),
      params_(params),
      level_(start.level),
      trend_(start.trend),
      season_(start.season) {
  if (seasonality_ == Seasonality::kNone) season_.assign(1, 0.0);
}

std::vector<Parameter> HoltWintersModel::parameters() const {
  std::vector<Parameter> out = {{"alpha", params_.alpha}, {"beta", params_.beta}};
  if (seasonality_ != Seasonality::kNone) out.push_back({"gamma", params_.gamma});
  out.push_back({"phi", params_.phi});
  out.push_back({"period", static_cast<double>(seasonality_ == Seasonality::kNone ? 0 : period_)});
  out.push_back({"level", level_});
  out.push_back({"trend", trend_});
  return out;
}

double HoltWintersModel::nextForecast() const {
  const double p = level_ + params_.phi * trend_;
  switch (seasonality_) {
    case Seasonality::kNone:
      return p;
    case Seasonality::kAdditive:
      return p + season_[pos_];
    case Seasonality::kMultiplicative:
      return p * season_[pos_];
  }
  return kNaN;
}

void HoltWintersModel::update(double y) {
  const double p = level_ + params_.phi * trend_;
  const double s = season_[pos_];
  if (std::isnan(y)) {
    level_ = p;
    trend_ = params_.phi * trend_;
  } else {
    const double xhat = nextForecast();
    stats_.add(y - xhat);
    if (seasonality_ == Seasonality::kMultiplicative) relative_stats_.add((y - xhat) / xhat);
    const HoltWintersParams& q = params_;
    double a = 0.0;
    switch (seasonality_) {
      case Seasonality::kNone:
        a = q.alpha * y + (1.0 - q.alpha) * p;
        break;
      case Seasonality::kAdditive:
        a = q.alpha * (y - s) + (1.0 - q.alpha) * p;
        season_[pos_] = q.gamma * (y - a) + (1.0 - q.gamma) * s;
        break;
      case Seasonality::kMultiplicative:
        a = q.alpha * (y / s) + (1.0 - q.alpha) * p;
        season_[pos_] = q.gamma * (y / a) + (1.0 - q.gamma) * s;
        break;
    }
    trend_ = q.beta * (a - level_) + (1.0 - q.beta) * q.phi * trend_;
    level_ = a;
  }
  pos_ = pos_ + 1 == period_ ? 0 : pos_ + 1;
}

std::vector<double> HoltWintersModel::nextSeasons() const {
  std::vector<double> out;
  if (seasonality_ == Seasonality::kNone) return out;
  out.reserve(static_cast<size_t>(period_));
  for (int i = 0; i < period_; ++i) out.push_back(season_[(pos_ + i) % period_]);
  return out;
}

Result<Forecast> HoltWintersModel::forecast(int horizon, double level) const {
  if (Status s = checkForecastArguments(horizon, level); !s.ok()) return s;
  const double sigma2 = stats_.variance();
  const double relative_sigma2 = relative_stats_.variance();
  const bool seasonal = seasonality_ != Seasonality::kNone;
  std::vector<double> mean(static_cast<size_t>(horizon));
  std::vector<double> sigma(static_cast<size_t>(horizon));
  double phi_sum = 0.0;    // phi + ... + phi^h
  double phi_power = 1.0;  // phi^h
  double psi_sum = 0.0;    // sum_{j<h} psi_j^2
  for (int h = 1; h <= horizon; ++h) {
    if (h > 1) {
      const int j = h - 1;  // phi_sum is still phi + ... + phi^j here.
      const double psi =
          params_.alpha * (1.0 + params_.beta * phi_sum) +
          (seasonal && j % period_ == 0 ? params_.gamma * (1.0 - params_.alpha) : 0.0);
      psi_sum += psi * psi;
    }
    phi_power *= params_.phi;
    phi_sum += phi_power;
    const double base = level_ + phi_sum * trend_;
    const double s = season_[(pos_ + h - 1) % period_];
    mean[h - 1] = seasonality_ == Seasonality::kMultiplicative ? base * s : base + s;
    sigma[h - 1] = seasonality_ == Seasonality::kMultiplicative
                       ? std::abs(mean[h - 1]) * std::sqrt(relative_sigma2 * (1.0 + psi_sum))
                       : std::sqrt(sigma2 * (1.0 + psi_sum));
  }
  return makeForecast(std::move(mean), sigma, level);
}

std::unique_ptr<Model> HoltWintersModel::clone() const {
  return std::make_unique<HoltWintersModel>(*this);
}

double holtWintersSse(std::span<const double> y, int period, Seasonality seasonality,
                      const HoltWintersParams& params, const HoltWintersStart& start,
                      double gradient[4]) {
  const int f = seasonality == Seasonality::kNone ? 1 : period;
  Workspace ws;
  ws.season.resize(static_cast<size_t>(f));
  ws.dseason.resize(static_cast<size_t>(4 * f));
  return dispatchSse(y, f, seasonality, start, params, gradient, ws, true);
}

Result<HoltWintersModel> fitHoltWinters(std::span<const double> y_in,
                                        const HoltWintersOptions& options) {
  const Seasonality kind = options.seasonality;
  // Leading NaNs carry nothing: the series starts at its first observation.
  size_t first = 0;
  while (first < y_in.size() && std::isnan(y_in[first])) ++first;
  if (first == y_in.size())
    return invalidArgument("holt-winters: the series has no observed value");
  const std::span<const double> y = y_in.subspan(first);
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::isinf(y[i])) {
      return invalidArgument("holt-winters: infinite value at index " + std::to_string(i + first));
    }
    if (kind == Seasonality::kMultiplicative && !std::isnan(y[i]) && !(y[i] > 0)) {
      return invalidArgument("multiplicative seasonality needs values > 0; got " +
                             std::to_string(y[i]) + " at index " + std::to_string(i + first));
    }
  }
  Result<HoltWintersStart> start = holtWintersStart(y, options.period, kind, options.start_periods);
  if (!start.ok()) return start.status();

  const bool damped = options.damped || options.phi.has_value();
  struct Bound {
    double start, lower, upper;
  };
  auto bound = [&](const char* name, const std::optional<double>& fixed, double start_value,
                   double lower, double upper) -> Result<Bound> {
    if (fixed) {
      if (!(*fixed >= 0.0 && *fixed <= 1.0)) {
        return invalidArgument(std::string("holt-winters: fixed ") + name +
                               " must be in [0, 1]; got " + std::to_string(*fixed));
      }
      return Bound{*fixed, *fixed, *fixed};
    }
    return Bound{std::clamp(start_value, lower, upper), lower, upper};
  };
  std::array<Result<Bound>, 4> bounds = {
      bound("alpha", options.alpha, options.start.alpha, options.lower, options.upper),
      bound("beta", options.beta, options.start.beta, options.lower, options.upper),
      kind == Seasonality::kNone
          ? Result<Bound>(Bound{0.0, 0.0, 0.0})
          : bound("gamma", options.gamma, options.start.gamma, options.lower, options.upper),
      damped ? bound("phi", options.phi, options.start.phi, options.phi_lower, options.phi_upper)
             : Result<Bound>(Bound{1.0, 1.0, 1.0}),
  };
  Eigen::Vector4d x0, lower, upper;
  for (int k = 0; k < 4; ++k) {
    if (!bounds[k].ok()) return bounds[k].status();
    x0[k] = bounds[k]->start;
    lower[k] = bounds[k]->lower;
    upper[k] = bounds[k]->upper;
  }

  const int f = kind == Seasonality::kNone ? 1 : options.period;
  Workspace ws;
  ws.season.resize(static_cast<size_t>(f));
  ws.dseason.resize(static_cast<size_t>(4 * f));
  const HoltWintersStart& st = *start;
  auto toParams = [](const Eigen::VectorXd& x) {
    return HoltWintersParams{x[0], x[1], x[2], x[3]};
  };
  const Objective objective = [&](const Eigen::VectorXd& x, Eigen::VectorXd* grad) {
    double g[4];
    const double sse = dispatchSse(y, f, kind, st, toParams(x), grad ? g : nullptr, ws, damped);
    if (grad) *grad = Eigen::Map<const Eigen::Vector4d>(g);
    return std::isfinite(sse) ? sse : std::numeric_limits<double>::infinity();
  };

  Eigen::VectorXd best = x0;
  int evaluations = 0;
  if ((lower.array() < upper.array()).any()) {
    std::vector<Eigen::VectorXd> starts = {x0};
    if (options.multi_start) {
      for (const HoltWintersParams& p : kMultiStarts) {
        Eigen::Vector4d x(p.alpha, p.beta, p.gamma, p.phi);
        starts.emplace_back(x.cwiseMax(lower).cwiseMin(upper));
      }
    }
    double best_value = std::numeric_limits<double>::infinity();
    for (const Eigen::VectorXd& s : starts) {
      Result<MinimizeResult> r = minimizeBox(objective, s, lower, upper, options.optimizer);
      if (!r.ok()) continue;  // Not finite at this start; try the others.
      evaluations += r->evaluations;
      if (r->value < best_value) {
        best_value = r->value;
        best = r->x;
      }
    }
    if (!std::isfinite(best_value)) {
      return invalidArgument("holt-winters: the SSE is not finite at any optimiser start");
    }
  }
  HoltWintersModel model(kind, options.period, toParams(best), st);
  for (size_t t = static_cast<size_t>(st.first_step); t < y.size(); ++t) model.update(y[t]);
  model.setOptimizerEvaluations(evaluations);
  return model;
}

}  // namespace governor::forecasting
