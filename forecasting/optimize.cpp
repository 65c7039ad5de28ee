#include "forecasting/optimize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <Eigen/Dense>

namespace governor::forecasting {
namespace {

Eigen::VectorXd clampToBox(const Eigen::VectorXd& x, const Eigen::VectorXd& lower,
                           const Eigen::VectorXd& upper) {
  return x.cwiseMax(lower).cwiseMin(upper);
}

}  // namespace

Result<MinimizeResult> minimizeBox(const Objective& f, const Eigen::VectorXd& start,
                                   const Eigen::VectorXd& lower, const Eigen::VectorXd& upper,
                                   const MinimizeOptions& options) {
  const Eigen::Index n = start.size();
  if (lower.size() != n || upper.size() != n) {
    return invalidArgument("minimizeBox: start, lower and upper must have the same size");
  }
  for (Eigen::Index i = 0; i < n; ++i) {
    if (!std::isfinite(lower[i]) || !std::isfinite(upper[i]) || lower[i] > upper[i]) {
      return invalidArgument("minimizeBox: bound " + std::to_string(i) +
                             " must be finite with lower <= upper");
    }
  }
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  MinimizeResult result;
  Eigen::VectorXd x = clampToBox(start, lower, upper);
  Eigen::VectorXd g(n);
  double fx = f(x, &g);
  result.evaluations = 1;
  if (!std::isfinite(fx) || !g.allFinite()) {
    return invalidArgument("minimizeBox: the objective is not finite at the start point");
  }
  std::vector<bool> fixed(static_cast<size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) fixed[static_cast<size_t>(i)] = lower[i] == upper[i];
  // A fixed variable's gradient must not leak into the curvature estimate.
  auto maskFixed = [&](Eigen::VectorXd& grad) {
    for (Eigen::Index i = 0; i < n; ++i) {
      if (fixed[static_cast<size_t>(i)]) grad[i] = 0.0;
    }
  };
  maskFixed(g);

  Eigen::MatrixXd h = Eigen::MatrixXd::Identity(n, n);
  bool h_is_identity = true;
  Eigen::VectorXd d(n), x_new(n), g_new(n), s(n), y(n);
  result.message = "max_iterations reached";
  for (int iter = 0; iter < options.max_iterations; ++iter) {
    result.iterations = iter + 1;
    const Eigen::VectorXd projected = clampToBox(x - g, lower, upper) - x;
    if (projected.lpNorm<Eigen::Infinity>() <= options.pgtol) {
      result.converged = true;
      result.message = "projected gradient <= pgtol";
      break;
    }
    // Active set: fixed variables and those held on a bound by the gradient.
    std::vector<bool> active(static_cast<size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i) {
      active[static_cast<size_t>(i)] = fixed[static_cast<size_t>(i)] ||
                                       (x[i] <= lower[i] && g[i] > 0) ||
                                       (x[i] >= upper[i] && g[i] < 0);
    }
    auto direction = [&]() {
      d.setZero();
      for (Eigen::Index i = 0; i < n; ++i) {
        if (active[static_cast<size_t>(i)]) continue;
        double sum = 0;
        for (Eigen::Index j = 0; j < n; ++j) {
          if (!active[static_cast<size_t>(j)]) sum += h(i, j) * g[j];
        }
        d[i] = -sum;
      }
    };
    direction();
    if (g.dot(d) >= 0) {  // Not a descent direction: restart from steepest descent.
      h.setIdentity();
      h_is_identity = true;
      direction();
    }
    const double d_norm = d.lpNorm<Eigen::Infinity>();
    if (d_norm == 0) {
      result.converged = true;
      result.message = "no free variable can decrease the objective";
      break;
    }
    // Steepest-descent steps carry the scale of f; start them at a step of 0.1 in x.
    double t = h_is_identity ? std::min(1.0, 0.1 / d_norm) : 1.0;
    bool accepted = false;
    bool have_gradient = false;
    double f_new = 0;
    for (int ls = 0; ls < 40; ++ls) {
      x_new = clampToBox(x + t * d, lower, upper);
      s = x_new - x;
      if (s.lpNorm<Eigen::Infinity>() == 0) break;
      // The first trial usually succeeds: evaluate the gradient with it. Backtracking trials
      // need only the value.
      have_gradient = ls == 0;
      f_new = f(x_new, have_gradient ? &g_new : nullptr);
      ++result.evaluations;
      const double slope = g.dot(s);  // Directional derivative times the step, < 0.
      if (std::isfinite(f_new) && (!have_gradient || g_new.allFinite()) &&
          f_new <= fx + 1e-4 * slope) {
        accepted = true;
        break;
      }
      // Backtrack to the minimum of the quadratic through f(x), its slope and f(x_new),
      // kept within [0.1 t, 0.5 t].
      double factor = 0.1;
      if (std::isfinite(f_new)) {
        const double curvature = f_new - fx - slope;
        if (curvature > 0) factor = std::clamp(-slope / (2.0 * curvature), 0.1, 0.5);
      }
      t *= factor;
    }
    if (accepted && !have_gradient) {
      f(x_new, &g_new);
      ++result.evaluations;
      if (!g_new.allFinite()) accepted = false;
    }
    if (accepted) maskFixed(g_new);
    if (!accepted) {
      if (!h_is_identity) {  // The curvature model misled us; retry along the gradient.
        h.setIdentity();
        h_is_identity = true;
        continue;
      }
      result.converged = true;
      result.message = "line search cannot decrease the objective further";
      break;
    }
    const double reduction = fx - f_new;
    y = g_new - g;
    x = x_new;
    g = g_new;
    const double f_old = fx;
    fx = f_new;
    if (reduction <= options.factr * kEps * std::max({std::abs(f_old), std::abs(f_new), 1.0})) {
      result.converged = true;
      result.message = "relative reduction <= factr*epsilon";
      break;
    }
    const double sy = s.dot(y);
    if (sy > 1e-10 * s.norm() * y.norm()) {
      // BFGS update of the inverse Hessian: H = (I - r s y') H (I - r y s') + r s s'.
      const double r = 1.0 / sy;
      if (h_is_identity) h *= sy / y.squaredNorm();  // Shanno-Phua scaling of the first step.
      const Eigen::VectorXd hy = h * y;
      const double yhy = y.dot(hy);
      h += ((1.0 + r * yhy) * r) * (s * s.transpose()) -
           r * (hy * s.transpose() + s * hy.transpose());
      h_is_identity = false;
    }
  }
  result.x = x;
  result.value = fx;
  return result;
}

}  // namespace governor::forecasting
