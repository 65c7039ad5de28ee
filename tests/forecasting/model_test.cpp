#include "forecasting/model.h"

#include <string>

#include <gtest/gtest.h>

namespace governor::forecasting {
namespace {

struct QuantileCase {
  std::string name;
  double p;
  double expected;  // R: qnorm(p), 15 digits.
};

class NormalQuantileTest : public ::testing::TestWithParam<QuantileCase> {};

TEST_P(NormalQuantileTest, MatchesR) {
  EXPECT_NEAR(normalQuantile(GetParam().p), GetParam().expected, 1e-12);
}

INSTANTIATE_TEST_SUITE_P(Cases, NormalQuantileTest,
                         ::testing::Values(QuantileCase{"Median", 0.5, 0.0},
                                           QuantileCase{"P975", 0.975, 1.95996398454005},
                                           QuantileCase{"P90", 0.9, 1.28155156554460},
                                           QuantileCase{"P01", 0.01, -2.32634787404084},
                                           QuantileCase{"Tail", 1e-10, -6.36134090240406}),
                         [](const auto& info) { return info.param.name; });

TEST(ResidualStatsTest, SampleVariance) {
  ResidualStats s;
  EXPECT_EQ(s.variance(), 0.0);
  for (double e : {1.0, 2.0, 3.0, 4.0}) s.add(e);
  EXPECT_DOUBLE_EQ(s.variance(), 5.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.sum_squares, 30.0);
}

TEST(MakeForecastTest, SymmetricInterval) {
  Forecast f = makeForecast({10.0, 20.0}, {1.0, 2.0}, 0.95);
  EXPECT_NEAR(f.upper[1], 20.0 + 2.0 * 1.95996398454005, 1e-9);
  EXPECT_NEAR(f.lower[0], 10.0 - 1.95996398454005, 1e-9);
  EXPECT_EQ(f.level, 0.95);
}

}  // namespace
}  // namespace governor::forecasting
