#include "forecasting/harmonic.h"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::forecasting {
namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;

// 50 + 0.01 t + 10 sin(2 pi t / 144) + 3 cos(2 pi 2 t / 144) + 5 sin(2 pi t / 1008).
double exactValue(int64_t t) {
  return 50.0 + 0.01 * t + 10.0 * std::sin(kTwoPi * t / 144.0) +
         3.0 * std::cos(kTwoPi * 2.0 * t / 144.0) + 5.0 * std::sin(kTwoPi * t / 1008.0);
}

std::vector<double> exactSeries(int n) {
  std::vector<double> y(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) y[t] = exactValue(t);
  return y;
}

const HarmonicOptions kTwoSeasons{.seasons = {{144.0, 3}, {1008.0, 2}}};

TEST(HarmonicTest, RecoversAnExactSeriesAndExtrapolates) {
  Result<HarmonicModel> m = fitHarmonic(exactSeries(2016), kTwoSeasons);
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ(m->kind(), "harmonic");
  EXPECT_LT(m->sse(), 1e-12);
  Result<Forecast> f = m->forecast(300, 0.95);
  ASSERT_TRUE(f.ok());
  for (int h = 1; h <= 300; h += 37) EXPECT_NEAR(f->mean[h - 1], exactValue(2015 + h), 1e-8);
  EXPECT_NEAR(*m->parameter("slope"), 0.01, 1e-10);
  EXPECT_EQ(*m->parameter("period_2"), 1008.0);
  EXPECT_EQ(*m->parameter("harmonics_1"), 3.0);
}

// Gaps are left out of the regression: a series with 20% of its points missing gives the
// same coefficients as the complete one.
TEST(HarmonicTest, GapsAreLeftOut) {
  std::vector<double> y = exactSeries(2016);
  for (size_t t = 0; t < y.size(); t += 5) y[t] = std::nan("");
  for (size_t t = 500; t < 700; ++t) y[t] = std::nan("");
  Result<HarmonicModel> m = fitHarmonic(y, kTwoSeasons);
  ASSERT_TRUE(m.ok());
  EXPECT_LT(m->sse(), 1e-12);
  EXPECT_NEAR(m->forecast(1, 0.95)->mean[0], exactValue(2016), 1e-8);
}

TEST(HarmonicTest, SharedFrequencyEntersOnce) {
  // Daily k = 1 and weekly k = 7 are the same frequency: the design drops the duplicate
  // instead of becoming singular.
  const HarmonicOptions options{.seasons = {{144.0, 2}, {1008.0, 7}}};
  Result<HarmonicModel> m = fitHarmonic(exactSeries(2016), options);
  ASSERT_TRUE(m.ok()) << m.status().toString();
  EXPECT_EQ(m->coefficients().size(), 2 + 2 * (2 + 6));
}

// update() keeps the coefficients equal to the least-squares fit of everything seen.
TEST(HarmonicTest, UpdateEqualsRefit) {
  std::vector<double> y = exactSeries(1500);
  for (size_t t = 0; t < y.size(); ++t) y[t] += std::sin(0.37 * t * t);  // Deterministic noise.
  Result<HarmonicModel> prefix = fitHarmonic(std::span(y).first(1200), kTwoSeasons);
  ASSERT_TRUE(prefix.ok());
  for (size_t t = 1200; t < y.size(); ++t) prefix->update(y[t]);
  Result<HarmonicModel> whole = fitHarmonic(y, kTwoSeasons);
  ASSERT_TRUE(whole.ok());
  // Same fitted values (the coefficients differ by the trend's scaling, not the fit).
  const Forecast a = *prefix->forecast(10, 0.95);
  const Forecast b = *whole->forecast(10, 0.95);
  for (int h = 0; h < 10; ++h) EXPECT_NEAR(a.mean[h], b.mean[h], 1e-8);
  EXPECT_EQ(prefix->residualCount(), whole->residualCount());
}

TEST(LinearTrendTest, MatchesClosedFormRegressionInterval) {
  // y = 1, 3, 2, 5, 4 at t = 0..4: slope 0.8, intercept 1.4, s^2 = 3.6 / 3 = 1.2.
  // Prediction variance at t = 5: s^2 (1 + 1/5 + (5 - 2)^2 / 10) = 1.2 * 2.1.
  Result<HarmonicModel> m = fitLinearTrend(std::vector<double>{1, 3, 2, 5, 4});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind(), "linear");
  EXPECT_NEAR(m->sse(), 3.6, 1e-12);
  Result<Forecast> f = m->forecast(1, 0.95);
  EXPECT_NEAR(f->mean[0], 1.4 + 0.8 * 5, 1e-12);
  EXPECT_NEAR(f->upper[0] - f->mean[0], 1.95996398454005 * std::sqrt(1.2 * 2.1), 1e-9);
}

struct HarmonicErrorCase {
  std::string name;
  int n;
  HarmonicOptions options;
  std::string message;
};

class HarmonicErrorTest : public ::testing::TestWithParam<HarmonicErrorCase> {};

TEST_P(HarmonicErrorTest, ReturnsInvalidArgumentWithReason) {
  Result<HarmonicModel> r = fitHarmonic(exactSeries(GetParam().n), GetParam().options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(GetParam().message), std::string::npos)
      << r.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HarmonicErrorTest,
    ::testing::Values(
        HarmonicErrorCase{"ShorterThanPeriod", 500, kTwoSeasons, "needs at least one full period"},
        HarmonicErrorCase{"TooManyHarmonics", 500, {.seasons = {{12.0, 6}}}, "must be in [1"},
        HarmonicErrorCase{"PeriodTooShort", 500, {.seasons = {{2.0, 1}}}, "period must be > 2"},
        HarmonicErrorCase{"LinearTooShort", 2, {}, "needs at least 3 observed points; got 2"}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace governor::forecasting
