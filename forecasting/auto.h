#pragma once

// Model selection by rolling-origin backtest ("auto").
//
// The history is first cleaned (fillGaps with max_gap; leading NaNs dropped). Then:
//   - a constant series (isConstant) selects "naive" at once: every candidate would forecast
//     the constant; the other candidates are recorded as skipped ("constant series");
//   - otherwise each candidate is fitted at `folds` origins T = n - k*h (k = folds..1), on
//     y[0..T), and forecasts h steps; its score is the MASE: the mean over origins of the
//     forecast MAE on the observed points of y[T..T+h), divided by the in-sample MAE of the
//     seasonal naive forecast (lag m = the first season's period rounded, when the first
//     training window holds more than one period; otherwise lag 1) on the first training
//     window. A zero scale (constant training window) falls back to 1, i.e. plain MAE.
//   - a candidate that fails at any origin (too short, values <= 0 for multiplicative, ...)
//     is recorded as skipped with the reason;
//   - the lowest MASE wins and is refitted on the whole cleaned history.
// When the history is too short for even one fold (n < h + 3), folds are reduced; with none
// possible (or no candidate backtested), the first of the explicitly requested candidates that
// fits the whole history is returned (none fits: that first candidate's error), or "naive"
// when all candidates were requested, with every candidate skipped ("history too short for a
// backtest"). A MASE scale that is zero up to rounding (1e-9 of the series'
// mean magnitude) falls back to lag 1, then to 1.
//
// Candidates (names as in CandidateScore::name):
//   naive, seasonal-naive, linear, holt-winters-additive, holt-winters-multiplicative,
//   holt-winters-additive-damped, harmonic.
// The seasonal ones need `seasons`; Holt-Winters uses the first season's period (rounded)
// and is skipped when that period exceeds max_holt_winters_period.
//
// Thread-safety: a free function without shared state.

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "forecasting/harmonic.h"
#include "forecasting/model.h"

namespace governor::forecasting {

struct AutoOptions {
  // Seasonal periods, the first the primary one (Holt-Winters, seasonal naive, MASE scale).
  // Default: none.
  std::vector<SeasonalTerm> seasons;
  // Backtest horizon in steps. Default: 0, meaning the primary period (1 without seasons).
  int horizon = 0;
  // Backtest origins. Default: 3.
  int folds = 3;
  // Interior gaps up to this many steps are linearly interpolated before fitting. Default: 5.
  int64_t max_gap = 5;
  // Candidate names to try (see above). Default: empty, meaning all.
  std::vector<std::string> candidates;
  // Holt-Winters is skipped for longer periods. Default: 10080 (a week of minutes).
  int max_holt_winters_period = 10080;
  // Passed to Holt-Winters fits. Default: false.
  bool holt_winters_multi_start = false;
};

struct CandidateScore {
  std::string name;
  bool scored = false;  // false: skipped, see reason.
  double mase = 0.0;    // Valid when scored.
  std::string reason;   // Why it was skipped; empty when scored.
};

struct AutoResult {
  std::unique_ptr<Model> model;            // The winner, fitted on the whole history.
  std::string chosen;                      // Its candidate name.
  std::vector<CandidateScore> candidates;  // Every candidate tried, in the order above.
  int horizon = 0;                         // Backtest horizon used.
  int folds = 0;                           // Backtest origins used.
};

// Fits one candidate by name on y. Returns InvalidArgument for an unknown name or whatever
// the candidate's fit returns.
Result<std::unique_ptr<Model>> fitCandidate(std::string_view name, std::span<const double> y,
                                            const AutoOptions& options);

// Returns the selected model and every candidate's score. Returns InvalidArgument when y has
// fewer than 2 observed values or options are invalid (folds < 1, horizon < 0).
Result<AutoResult> fitAuto(std::span<const double> y, const AutoOptions& options);

// MASE of `forecast` against `actual` (NaN actuals ignored), with in-sample scale from
// `train` at lag `m` (falls back to lag 1, then to 1). Exposed for tests.
double mase(std::span<const double> train, std::span<const double> actual,
            std::span<const double> forecast, int m);

}  // namespace governor::forecasting
