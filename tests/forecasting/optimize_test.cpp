#include "forecasting/optimize.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::forecasting {
namespace {

double rosenbrock(const Eigen::VectorXd& x, Eigen::VectorXd* g) {
  const double a = 1.0 - x[0];
  const double b = x[1] - x[0] * x[0];
  if (g) {
    (*g)[0] = -2.0 * a - 400.0 * x[0] * b;
    (*g)[1] = 200.0 * b;
  }
  return a * a + 100.0 * b * b;
}

struct BoxCase {
  std::string name;
  Eigen::Vector2d start, lower, upper;
  Eigen::Vector2d expected;  // The constrained minimiser.
};

class RosenbrockBoxTest : public ::testing::TestWithParam<BoxCase> {};

TEST_P(RosenbrockBoxTest, FindsTheConstrainedMinimum) {
  const BoxCase& c = GetParam();
  MinimizeOptions options;
  options.factr = 10;
  options.max_iterations = 1000;
  Result<MinimizeResult> r = minimizeBox(rosenbrock, c.start, c.lower, c.upper, options);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_TRUE(r->converged) << r->message;
  EXPECT_NEAR(r->x[0], c.expected[0], 1e-4);
  EXPECT_NEAR(r->x[1], c.expected[1], 1e-4);
  EXPECT_TRUE((r->x.array() >= c.lower.array()).all() && (r->x.array() <= c.upper.array()).all());
}

// Expected minimisers: (1, 1) when inside the box; on the bound x1 = 0.5 the minimum of
// (1 - x0)^2 + 100 (0.5 - x0^2)^2 is at x0 ~ 0.70856 (the root of 400 x^3 - 198 x - 2 = 0).
INSTANTIATE_TEST_SUITE_P(
    Cases, RosenbrockBoxTest,
    ::testing::Values(BoxCase{"Interior", {-1.2, 1.0}, {-2, -2}, {2, 2}, {1, 1}},
                      BoxCase{"InteriorFromCorner", {2, -2}, {-2, -2}, {2, 2}, {1, 1}},
                      BoxCase{"UpperBoundOnY", {0, 0}, {-2, -2}, {2, 0.5}, {0.708560, 0.5}},
                      BoxCase{"UpperBoundOnBoth", {0, 0}, {0, 0}, {0.5, 0.25}, {0.5, 0.25}},
                      BoxCase{"LowerBoundOnX", {2, 2}, {1.5, 0}, {3, 3}, {1.5, 2.25}}),
    [](const auto& info) { return info.param.name; });

TEST(MinimizeBoxTest, FixedVariableStaysFixed) {
  auto f = [](const Eigen::VectorXd& x, Eigen::VectorXd* g) {
    if (g) *g = 2.0 * (x - Eigen::Vector2d(3, 4));
    return (x - Eigen::Vector2d(3, 4)).squaredNorm();
  };
  Result<MinimizeResult> r =
      minimizeBox(f, Eigen::Vector2d(0, 1), Eigen::Vector2d(-10, 1), Eigen::Vector2d(10, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->x[0], 3.0, 1e-6);
  EXPECT_EQ(r->x[1], 1.0);
}

TEST(MinimizeBoxTest, BacksOffFromNonFiniteValues) {
  // log barrier: infinite for x <= 0; minimum of x - log(x) at x = 1.
  auto f = [](const Eigen::VectorXd& x, Eigen::VectorXd* g) {
    if (g) (*g)[0] = 1.0 - 1.0 / x[0];
    return x[0] > 0 ? x[0] - std::log(x[0]) : std::numeric_limits<double>::infinity();
  };
  Eigen::VectorXd start(1), lower(1), upper(1);
  start << 5;
  lower << -10;
  upper << 10;
  Result<MinimizeResult> r = minimizeBox(f, start, lower, upper);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->x[0], 1.0, 1e-3);
}

TEST(MinimizeBoxTest, RejectsBadBoundsAndNonFiniteStart) {
  auto f = [](const Eigen::VectorXd& x, Eigen::VectorXd*) { return x.squaredNorm(); };
  EXPECT_EQ(minimizeBox(f, Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 0), Eigen::Vector2d(0, 1))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(minimizeBox(f, Eigen::Vector2d(0, 0), Eigen::Vector3d(0, 0, 0), Eigen::Vector2d(1, 1))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  auto nan = [](const Eigen::VectorXd&, Eigen::VectorXd*) { return std::nan(""); };
  EXPECT_EQ(minimizeBox(nan, Eigen::Vector2d(0, 0), Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 1))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace governor::forecasting
