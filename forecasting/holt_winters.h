#pragma once

// Holt-Winters exponential smoothing: level + trend (optionally damped) + additive or
// multiplicative seasonality, with R's stats::HoltWinters conventions so that fits are
// comparable with R's:
//
//   one-step forecast  yhat_t = (a_{t-1} + phi b_{t-1}) + s_{t-f}        (additive)
//                      yhat_t = (a_{t-1} + phi b_{t-1}) * s_{t-f}        (multiplicative)
//   level              a_t = alpha (y_t - s_{t-f}) + (1 - alpha)(a_{t-1} + phi b_{t-1})
//                      (multiplicative: alpha y_t / s_{t-f} + ...)
//   trend              b_t = beta (a_t - a_{t-1}) + (1 - beta) phi b_{t-1}
//   season             s_t = gamma (y_t - a_t) + (1 - gamma) s_{t-f}
//                      (multiplicative: gamma y_t / a_t + ...)
//   h-step forecast    a_n + (phi + ... + phi^h) b_n  (+ or *)  s_{n-f+1+(h-1) mod f}
//
// phi = 1 (undamped) is R's model. Start values (R's `start.periods = 2` default): a classical
// moving-average decomposition of the first start_periods * f values (centred 2xf moving
// average for even f, f-point for odd f); the seasonal start s_1..s_f is the mean detrended
// value per season position, centred to sum 0 (additive) or mean 1 (multiplicative); the level
// and trend starts are the intercept and slope of a least-squares line through the defined
// moving averages, indexed 1, 2, .... The recursion starts at step f (0-based), so the SSE sums
// the one-step errors of steps f..n-1 (R's f+1..n). Without seasonality: a = y_1, b = y_1 - y_0,
// recursion from step 2.
//
// Fitting: alpha, beta, gamma (and phi when damped) minimise the in-sample SSE on [0, 1] (or
// the configured bounds) with minimizeBox (projected BFGS, analytic gradient by forward-mode
// differentiation of the recursion), from R's start (0.3, 0.1, 0.1; phi 0.98), optionally
// also from a few more starts, keeping the best.
//
// Prediction intervals: sigma_h^2 = sigma^2 (1 + sum_{j=1}^{h-1} psi_j^2) with
// psi_j = alpha (1 + beta (phi + ... + phi^j)) + gamma (1 - alpha) [j mod f == 0]
// (Yar & Chatfield 1990 for the additive model, as R's predict.HoltWinters), sigma^2 the sample
// variance of the one-step residuals. For the multiplicative model the same formula is used on
// the (absolute) residuals: an approximation that is close for short horizons and widens less
// than the exact multiplicative variance for long ones.
//
// Messy data:
//   - NaN (a missing observation): leading NaNs are dropped; later ones are skipped by the
//     recursion, which advances on its own forecast (a = a + phi b, b = phi b, s unchanged) and
//     adds nothing to the SSE; so the forecast origin stays the end of the input. NaNs inside
//     the start window are linearly interpolated for the start values only; a start window
//     more than half missing is an error. (Fill short gaps with fillGaps() first if you prefer
//     interpolation.)
//   - Negative or zero values: fine for additive models; multiplicative seasonality needs
//     every observed value > 0 (InvalidArgument otherwise).
//   - Constant series: the SSE is 0 for any parameters; the fit returns the start parameters,
//     a flat forecast and zero-width intervals.
//   - Too short: InvalidArgument "need at least 2 full seasons (24 points) for holt-winters
//     with period 12; got 17". The non-seasonal model needs 3 points.
//
// Thread-safety: see model.h.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "forecasting/model.h"
#include "forecasting/optimize.h"

namespace governor::forecasting {

enum class Seasonality { kNone, kAdditive, kMultiplicative };

// "none", "additive", "multiplicative".
std::string_view seasonalityName(Seasonality s);

struct HoltWintersParams {
  double alpha = 0.3;
  double beta = 0.1;
  double gamma = 0.1;  // Unused without seasonality.
  double phi = 1.0;    // 1: no damping.
};

struct HoltWintersOptions {
  // Steps per season (12 for monthly data with a yearly cycle, 1440 for a daily cycle at
  // 1-minute resolution). REQUIRES: >= 2 unless seasonality is kNone.
  int period = 0;
  // Default: additive.
  Seasonality seasonality = Seasonality::kAdditive;
  // Damped trend (phi fitted). Default: false (phi = 1, R's model).
  bool damped = false;
  // Fixed parameters: a set field is not optimised. Default: all fitted.
  std::optional<double> alpha, beta, gamma, phi;
  // Bounds of the fitted parameters. Default: [0, 1] for each (R's).
  double lower = 0.0;
  double upper = 1.0;
  double phi_lower = 0.0;
  double phi_upper = 1.0;
  // Optimiser start. Default: R's (0.3, 0.1, 0.1), phi 0.98.
  HoltWintersParams start{0.3, 0.1, 0.1, 0.98};
  // Also start the optimiser from kMultiStarts more points and keep the lowest SSE.
  // Default: false (one start, R's).
  bool multi_start = false;
  // Seasons used for the start values. Default: 2 (R's). REQUIRES: >= 2.
  int start_periods = 2;
  // Default: factr 1e7 as R, more iterations.
  MinimizeOptions optimizer{.max_iterations = 500, .factr = 1e7, .pgtol = 0.0};
};

// Start values of the recursion (see the top of this file).
struct HoltWintersStart {
  double level = 0.0;
  double trend = 0.0;
  std::vector<double> season;  // s_1..s_f; empty without seasonality.
  int first_step = 0;          // The first step whose error enters the SSE: f (or 2).
};

// Computes R-compatible start values from the first start_periods seasons of `y`.
// Returns InvalidArgument when y is too short, the window is more than half missing, or
// (multiplicative) a value is <= 0.
Result<HoltWintersStart> holtWintersStart(std::span<const double> y, int period,
                                          Seasonality seasonality, int start_periods = 2);

class HoltWintersModel : public Model {
 public:
  // A model in the state given by `start`, before any observation. fitHoltWinters() is the
  // usual way to get one; this constructor lets tests and callers replay fixed parameters.
  HoltWintersModel(Seasonality seasonality, int period, const HoltWintersParams& params,
                   const HoltWintersStart& start);

  std::string_view kind() const override { return "holt-winters"; }
  // alpha, beta, gamma, phi, period, level, trend (the current level and trend).
  std::vector<Parameter> parameters() const override;
  double sse() const override { return stats_.sum_squares; }
  int64_t residualCount() const override { return stats_.count; }
  // O(1): one step of the recursion.
  void update(double y) override;
  Result<Forecast> forecast(int horizon, double level) const override;
  std::unique_ptr<Model> clone() const override;

  const HoltWintersParams& params() const { return params_; }
  Seasonality seasonality() const { return seasonality_; }
  int period() const { return period_; }
  double level() const { return level_; }
  double trend() const { return trend_; }
  // The seasonal factor for the next step, then the one after, ... (f values).
  std::vector<double> nextSeasons() const;
  // One-step forecast for the next step.
  double nextForecast() const;
  // Optimiser diagnostics of the fit (0 when parameters were all fixed).
  int optimizerEvaluations() const { return evaluations_; }
  void setOptimizerEvaluations(int n) { evaluations_ = n; }

 private:
  Seasonality seasonality_;
  int period_;  // 1 without seasonality.
  HoltWintersParams params_;
  double level_;
  double trend_;
  std::vector<double> season_;  // Ring buffer; season_[pos_] is s_{t-f} for the next step.
  int pos_ = 0;
  ResidualStats stats_;
  ResidualStats relative_stats_;  // Of e_t / yhat_t, for multiplicative intervals.
  int evaluations_ = 0;
};

// The in-sample SSE of the recursion with the given parameters and start (steps
// start.first_step..n-1, NaN skipped); optionally its gradient with respect to
// (alpha, beta, gamma, phi). The fitting objective, exposed for tests and benchmarks.
// REQUIRES: start came from holtWintersStart(y, period, seasonality).
double holtWintersSse(std::span<const double> y, int period, Seasonality seasonality,
                      const HoltWintersParams& params, const HoltWintersStart& start,
                      double gradient[4] = nullptr);

// Fits the model to y (oldest first) and returns it in the state after the last value.
// Returns InvalidArgument for a period < 2 with seasonality, too short a series (the message
// names the minimum), a value <= 0 with multiplicative seasonality, or a fixed parameter
// outside [0, 1].
Result<HoltWintersModel> fitHoltWinters(std::span<const double> y,
                                        const HoltWintersOptions& options);

}  // namespace governor::forecasting
