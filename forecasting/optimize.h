#pragma once

// Box-constrained minimisation of a smooth function: a projected BFGS quasi-Newton method
// (active-set variant of L-BFGS-B, with a dense inverse Hessian because the problems here have
// at most a handful of variables). Used to fit smoothing parameters in [0, 1].
//
// The method, per iteration:
//   1. Variables on a bound whose gradient points outward are *active* and stay fixed; a
//      variable whose lower bound equals its upper bound is always active (a fixed parameter).
//   2. The search direction is -H g on the free variables (H: BFGS inverse Hessian
//      approximation; reset to the identity when it stops giving a descent direction).
//   3. A backtracking line search along the projected path clamp(x + t d) accepts the first t
//      with f(x(t)) <= f(x) + 1e-4 * g . (x(t) - x) (Armijo).
//   4. Stops when the projected gradient's infinity norm is <= pgtol, or when the relative
//      reduction of f is <= factr * machine epsilon (R's optim() convention), or after
//      max_iterations.
//
// Thread-safety: free functions without shared state; the objective is called from the
// calling thread only.

#include <functional>
#include <string>

#include <Eigen/Core>

#include "base/status.h"

namespace governor::forecasting {

// Returns f(x). When `grad` is not null, also stores the gradient of f at x in *grad (already
// sized like x). A non-finite return value means "outside the domain": the line search backs
// off from such points.
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd* grad)>;

struct MinimizeOptions {
  // Default: 200.
  int max_iterations = 200;
  // Stop when (f_old - f_new) <= factr * epsilon * max(|f_old|, |f_new|, 1).
  // Default: 1e7 (R's optim default, a relative tolerance of about 2e-9).
  double factr = 1e7;
  // Stop when max_i |clamp(x - g)_i - x_i| <= pgtol. Default: 0 (R's default: off).
  double pgtol = 0.0;
};

struct MinimizeResult {
  Eigen::VectorXd x;       // The best point found, inside the box.
  double value = 0.0;      // f(x).
  int iterations = 0;      // Quasi-Newton iterations.
  int evaluations = 0;     // Calls of the objective.
  bool converged = false;  // false: stopped by max_iterations.
  std::string message;     // Why it stopped: "relative reduction <= factr*eps", ...
};

// Minimises `f` over the box lower <= x <= upper, starting at `start` (clamped into the box).
//
// Returns the best point on success (including when max_iterations is reached: converged is
// then false). Returns InvalidArgument when the sizes differ, a bound is not finite or
// lower > upper; InvalidArgument when f(start) is not finite.
// REQUIRES: f is continuously differentiable where finite.
Result<MinimizeResult> minimizeBox(const Objective& f, const Eigen::VectorXd& start,
                                   const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                                   const MinimizeOptions& options = {});

}  // namespace governor::forecasting
