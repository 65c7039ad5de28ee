#pragma once

// Harmonic regression: a linear trend plus Fourier terms for one or more seasonal periods,
//
//   y_t = c + d u(t) + sum_seasons sum_{k=1..K} (a_k sin(2 pi k t / P) + b_k cos(2 pi k t / P))
//
// fitted by least squares (normal equations, Eigen LDLT). u(t) is t centred and scaled to
// [-1, 1] over the fitted history, which keeps the normal equations well conditioned. This is
// the model for long, fine-grained series (a daily period of 1440 and a weekly one of 10080
// steps at 1-minute resolution): its cost is O(n p^2) for p = 2 + 2 sum K coefficients,
// independent of the period length. A frequency shared by two seasons (k/P equal, e.g. daily
// k = 1 and weekly k = 7) enters the design once. With no season it is the linear trend
// model (kind "linear", fitLinearTrend).
//
// SSE: the residual sum of squares of the least-squares fit (not one-step-ahead errors),
// plus the one-step errors of later update()s.
//
// update(y): adds the row to the normal equations and re-solves (O(p^2) + O(p^3) with p ~ 32:
// microseconds), so the coefficients stay the least-squares fit of everything seen.
//
// Prediction intervals: sigma_h^2 = s^2 (1 + x_h' (X'X)^{-1} x_h), the classical regression
// prediction variance with s^2 = SSE / (m - p) over the m observed points; it does not grow
// with h except through the trend's leverage (the model assumes a stable seasonal shape).
//
// Messy data: NaN rows (gaps) are left out of the fit (the regression needs no filling);
// negative values and constant series are fine; too short: InvalidArgument (fewer observed
// points than coefficients + 1, or fewer points than the longest period).
//
// Thread-safety: see model.h.

#include <span>
#include <string>
#include <vector>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include "base/status.h"
#include "forecasting/model.h"

namespace governor::forecasting {

struct SeasonalTerm {
  double period = 0.0;  // Steps per cycle (1440: daily at 1 minute). REQUIRES: > 2.
  int harmonics = 0;    // K: sine/cosine pairs. REQUIRES: 1 <= K < period / 2.
};

struct HarmonicOptions {
  // Default: none (then the model is a linear trend).
  std::vector<SeasonalTerm> seasons;
  // Include the linear trend term. Default: true.
  bool trend = true;
};

// Sensible default terms for 1-minute data: daily K = 10, weekly K = 5.
std::vector<SeasonalTerm> dailyWeeklyTerms(double steps_per_day = 1440.0);

class HarmonicModel : public Model {
 public:
  std::string_view kind() const override { return seasons_.empty() ? "linear" : "harmonic"; }
  // intercept, slope (per step, at the fitted centre), then per season i (1-based):
  // period_i, harmonics_i.
  std::vector<Parameter> parameters() const override;
  double sse() const override { return stats_.sum_squares; }
  int64_t residualCount() const override { return stats_.count; }
  void update(double y) override;
  Result<Forecast> forecast(int horizon, double level) const override;
  std::unique_ptr<Model> clone() const override;

  // Coefficients in design order: intercept, trend (if any), then sin/cos pairs.
  const Eigen::VectorXd& coefficients() const { return beta_; }

 private:
  friend Result<HarmonicModel> fitHarmonic(std::span<const double> y,
                                           const HarmonicOptions& options);
  struct Term {
    int season;
    int k;
  };
  HarmonicModel() = default;
  int columns() const;
  // The design row of step t.
  void row(int64_t t, double* out) const;
  Status solve();

  std::vector<SeasonalTerm> seasons_;
  std::vector<Term> terms_;  // Distinct frequencies, in column order.
  bool trend_ = true;
  double center_ = 0.0;
  double scale_ = 1.0;
  int64_t next_step_ = 0;
  Eigen::MatrixXd xtx_;  // Lower triangle used.
  Eigen::VectorXd xty_;
  Eigen::VectorXd beta_;
  Eigen::LDLT<Eigen::MatrixXd> ldlt_;
  int64_t observed_ = 0;
  ResidualStats stats_;
};

// Fits y (oldest first; step 0 is y[0]). Returns InvalidArgument for a bad season (period
// <= 2, harmonics < 1 or >= period / 2), too few points (see the top of this file), or a
// numerically rank-deficient design.
Result<HarmonicModel> fitHarmonic(std::span<const double> y, const HarmonicOptions& options);

// Least-squares line (kind "linear"). Needs at least 3 observed points.
Result<HarmonicModel> fitLinearTrend(std::span<const double> y);

}  // namespace governor::forecasting
