#include "forecasting/harmonic.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <utility>

namespace governor::forecasting {
namespace {

constexpr int kChunkRows = 1024;

}  // namespace

std::vector<SeasonalTerm> dailyWeeklyTerms(double steps_per_day) {
  return {{steps_per_day, 10}, {7.0 * steps_per_day, 5}};
}

int HarmonicModel::columns() const {
  return 1 + (trend_ ? 1 : 0) + 2 * static_cast<int>(terms_.size());
}

void HarmonicModel::row(int64_t t, double* out) const {
  int c = 0;
  out[c++] = 1.0;
  if (trend_) out[c++] = (static_cast<double>(t) - center_) / scale_;
  // Per season: the first harmonic from sin/cos, the others by the angle-addition recurrence
  // (two trig calls per season instead of two per term).
  size_t next = 0;
  for (int s = 0; s < static_cast<int>(seasons_.size()); ++s) {
    const double period = seasons_[s].period;
    const double theta =
        2.0 * std::numbers::pi * std::fmod(static_cast<double>(t), period) / period;
    const double c1 = std::cos(theta);
    const double s1 = std::sin(theta);
    double ck = c1;
    double sk = s1;
    for (int k = 1; k <= seasons_[s].harmonics; ++k) {
      if (next < terms_.size() && terms_[next].season == s && terms_[next].k == k) {
        out[c++] = sk;
        out[c++] = ck;
        ++next;
      }
      const double c_next = ck * c1 - sk * s1;
      sk = sk * c1 + ck * s1;
      ck = c_next;
    }
  }
}

Status HarmonicModel::solve() {
  ldlt_.compute(xtx_);
  const Eigen::VectorXd d = ldlt_.vectorD().cwiseAbs();
  if (ldlt_.info() != Eigen::Success || d.minCoeff() <= 1e-11 * d.maxCoeff()) {
    return invalidArgument(
        "harmonic regression: the design is rank-deficient (too few distinct observed points "
        "for the requested terms)");
  }
  beta_ = ldlt_.solve(xty_);
  return Status();
}

std::vector<Parameter> HarmonicModel::parameters() const {
  std::vector<Parameter> out = {{"intercept", beta_[0]}};
  if (trend_) out.push_back({"slope", beta_[1] / scale_});
  for (size_t i = 0; i < seasons_.size(); ++i) {
    out.push_back({"period_" + std::to_string(i + 1), seasons_[i].period});
    out.push_back(
        {"harmonics_" + std::to_string(i + 1), static_cast<double>(seasons_[i].harmonics)});
  }
  return out;
}

void HarmonicModel::update(double y) {
  const int p = columns();
  Eigen::VectorXd x(p);
  row(next_step_++, x.data());
  if (std::isnan(y)) return;
  stats_.add(y - x.dot(beta_));
  xtx_.selfadjointView<Eigen::Lower>().rankUpdate(x);
  xty_ += y * x;
  ++observed_;
  Eigen::VectorXd previous = beta_;
  if (!solve().ok()) beta_ = std::move(previous);  // Cannot lose rank by adding a row.
}

Result<Forecast> HarmonicModel::forecast(int horizon, double level) const {
  if (Status s = checkForecastArguments(horizon, level); !s.ok()) return s;
  const int p = columns();
  const double dof = static_cast<double>(std::max<int64_t>(1, stats_.count - p));
  const double s2 = stats_.sum_squares / dof;
  std::vector<double> mean(static_cast<size_t>(horizon));
  std::vector<double> sigma(static_cast<size_t>(horizon));
  Eigen::VectorXd x(p);
  for (int h = 1; h <= horizon; ++h) {
    row(next_step_ + h - 1, x.data());
    mean[h - 1] = x.dot(beta_);
    const double leverage = x.dot(ldlt_.solve(x));
    sigma[h - 1] = std::sqrt(s2 * (1.0 + leverage));
  }
  return makeForecast(std::move(mean), sigma, level);
}

std::unique_ptr<Model> HarmonicModel::clone() const {
  return std::make_unique<HarmonicModel>(*this);
}

Result<HarmonicModel> fitHarmonic(std::span<const double> y, const HarmonicOptions& options) {
  HarmonicModel model;
  model.seasons_ = options.seasons;
  model.trend_ = options.trend;
  double longest = 0.0;
  std::vector<double> frequencies;
  for (int s = 0; s < static_cast<int>(options.seasons.size()); ++s) {
    const SeasonalTerm& term = options.seasons[s];
    if (!(term.period > 2.0)) {
      return invalidArgument("harmonic regression: period must be > 2; got " +
                             std::to_string(term.period));
    }
    if (term.harmonics < 1 || 2.0 * term.harmonics >= term.period) {
      return invalidArgument("harmonic regression: harmonics for period " +
                             std::to_string(term.period) + " must be in [1, period/2); got " +
                             std::to_string(term.harmonics));
    }
    longest = std::max(longest, term.period);
    for (int k = 1; k <= term.harmonics; ++k) {
      const double f = k / term.period;
      const bool duplicate = std::any_of(frequencies.begin(), frequencies.end(),
                                         [&](double g) { return std::abs(f - g) < 1e-12; });
      if (duplicate) continue;
      frequencies.push_back(f);
      model.terms_.push_back({s, k});
    }
  }
  const int64_t n = static_cast<int64_t>(y.size());
  if (static_cast<double>(n) < longest) {
    return invalidArgument("harmonic regression with period " + std::to_string(longest) +
                           " needs at least one full period (" +
                           std::to_string(static_cast<int64_t>(std::ceil(longest))) +
                           " points); got " + std::to_string(n));
  }
  const int p = model.columns();
  int64_t observed = 0;
  for (double v : y) observed += std::isnan(v) ? 0 : 1;
  if (observed < p + 1) {
    return invalidArgument(std::string(model.kind()) + " regression with " + std::to_string(p) +
                           " coefficients needs at least " + std::to_string(p + 1) +
                           " observed points; got " + std::to_string(observed));
  }
  for (double v : y) {
    if (std::isinf(v)) return invalidArgument("harmonic regression: infinite value");
  }
  model.center_ = static_cast<double>(n - 1) / 2.0;
  model.scale_ = std::max(1.0, static_cast<double>(n - 1) / 2.0);
  model.xtx_ = Eigen::MatrixXd::Zero(p, p);
  model.xty_ = Eigen::VectorXd::Zero(p);
  // Accumulate X'X and X'y over chunks of observed rows: a cache-sized rank update per chunk.
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> chunk(kChunkRows, p);
  Eigen::VectorXd chunk_y(kChunkRows);
  int rows = 0;
  auto flush = [&]() {
    if (rows == 0) return;
    model.xtx_.selfadjointView<Eigen::Lower>().rankUpdate(chunk.topRows(rows).transpose());
    model.xty_.noalias() += chunk.topRows(rows).transpose() * chunk_y.head(rows);
    rows = 0;
  };
  for (int64_t t = 0; t < n; ++t) {
    if (std::isnan(y[t])) continue;
    model.row(t, chunk.row(rows).data());
    chunk_y[rows] = y[t];
    if (++rows == kChunkRows) flush();
  }
  flush();
  model.observed_ = observed;
  if (Status s = model.solve(); !s.ok()) return s;
  // Residuals of the fit, for the SSE and the interval scale.
  Eigen::VectorXd x(p);
  for (int64_t t = 0; t < n; ++t) {
    if (std::isnan(y[t])) continue;
    model.row(t, x.data());
    model.stats_.add(y[t] - x.dot(model.beta_));
  }
  model.next_step_ = n;
  return model;
}

Result<HarmonicModel> fitLinearTrend(std::span<const double> y) {
  return fitHarmonic(y, HarmonicOptions{});
}

}  // namespace governor::forecasting
