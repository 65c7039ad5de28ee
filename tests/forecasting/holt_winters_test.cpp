#include "forecasting/holt_winters.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/forecasting/test_data.h"

namespace governor::forecasting {
namespace {

using testing::dataset;
using testing::readCsvColumn;
using testing::referenceFits;

// One R fit from tests/data/r-holtwinters/reference.json (R 4.2.2 stats::HoltWinters).
struct RFit {
  std::string dataset;
  Seasonality seasonality;
  bool fixed;  // Parameters given in the R call (the *_fixed_* files) rather than optimised.
  int index;   // Position in reference.json's "fits".
};

std::string fitName(const RFit& f) {
  return f.dataset + "_" + std::string(seasonalityName(f.seasonality)) +
         (f.fixed ? "_fixed" : "_optim");
}

std::vector<RFit> allFits() {
  std::vector<RFit> out;
  const auto fits = referenceFits();
  for (int i = 0; i < static_cast<int>(fits.size()); ++i) {
    const auto& j = fits[i];
    out.push_back(
        {j["dataset"].get<std::string>(),
         j["seasonal"] == "additive" ? Seasonality::kAdditive : Seasonality::kMultiplicative,
         j["r_call"].get<std::string>().find("alpha =") != std::string::npos, i});
  }
  return out;
}

std::string fileStem(const RFit& f) {
  return "r_hw_" + f.dataset + "_" + std::string(seasonalityName(f.seasonality)) +
         (f.fixed ? "_fixed" : "_optim");
}

class RParityTest : public ::testing::TestWithParam<RFit> {
 protected:
  nlohmann::json ref() const { return referenceFits()[GetParam().index]; }
};

TEST_P(RParityTest, StartValuesMatchR) {
  const auto r = ref();
  const std::vector<double> y = dataset(GetParam().dataset);
  Result<HoltWintersStart> st = holtWintersStart(y, 12, GetParam().seasonality);
  ASSERT_TRUE(st.ok()) << st.status().toString();
  EXPECT_NEAR(st->level, r["l_start"].get<double>(), 1e-9);
  EXPECT_NEAR(st->trend, r["b_start"].get<double>(), 1e-9);
  ASSERT_EQ(st->season.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(st->season[i], r["s_start"][i].get<double>(), 1e-9);
  EXPECT_EQ(st->first_step, 12);
}

// With R's parameters, the recursion reproduces R's fitted states step by step, its SSE and
// its forecasts: this checks the equations independently of the optimiser.
TEST_P(RParityTest, RecursionWithRParametersMatchesR) {
  const auto r = ref();
  const std::vector<double> y = dataset(GetParam().dataset);
  const HoltWintersParams params{r["alpha"].get<double>(), r["beta"].get<double>(),
                                 r["gamma"].get<double>(), 1.0};
  Result<HoltWintersStart> st = holtWintersStart(y, 12, GetParam().seasonality);
  ASSERT_TRUE(st.ok());
  const double r_sse = r["SSE"].get<double>();
  EXPECT_NEAR(holtWintersSse(y, 12, GetParam().seasonality, params, *st), r_sse, 1e-9 * r_sse);

  const std::string stem = fileStem(GetParam());
  const std::vector<double> xhat = readCsvColumn(stem + "_fitted.csv", 1);
  const std::vector<double> level = readCsvColumn(stem + "_fitted.csv", 2);
  const std::vector<double> trend = readCsvColumn(stem + "_fitted.csv", 3);
  ASSERT_EQ(xhat.size(), y.size() - 12);
  HoltWintersModel model(GetParam().seasonality, 12, params, *st);
  for (size_t i = 0; i < xhat.size(); ++i) {
    // R's fitted row t holds the one-step forecast and the level and trend it came from.
    ASSERT_NEAR(model.nextForecast(), xhat[i], 1e-7 * std::abs(xhat[i])) << "row " << i;
    ASSERT_NEAR(model.level(), level[i], 1e-7 * std::abs(level[i])) << "row " << i;
    ASSERT_NEAR(model.trend(), trend[i], 1e-7 * std::max(1.0, std::abs(trend[i])));
    model.update(y[i + 12]);
  }
  EXPECT_NEAR(model.sse(), r_sse, 1e-9 * r_sse);
  EXPECT_EQ(model.residualCount(), r["n_residuals_in_SSE"].get<int>());

  const std::vector<double> fit24 = readCsvColumn(stem + "_forecast24.csv", 1);
  const std::vector<double> upper24 = readCsvColumn(stem + "_forecast24.csv", 2);
  Result<Forecast> fc = model.forecast(24, 0.95);
  ASSERT_TRUE(fc.ok());
  for (int h = 0; h < 24; ++h) {
    EXPECT_NEAR(fc->mean[h], fit24[h], 1e-7 * std::abs(fit24[h])) << "h=" << h + 1;
    // Intervals: the additive formula is R's. For multiplicative models ours scales relative
    // residuals by the forecast (see holt_winters.h) and R's differs, so only check the shape.
    const double r_half = upper24[h] - fit24[h];
    const double half = fc->upper[h] - fc->mean[h];
    if (GetParam().seasonality == Seasonality::kAdditive) {
      EXPECT_NEAR(half, r_half, 1e-6 * r_half) << "h=" << h + 1;
    } else {
      EXPECT_GT(half, 0.0) << "h=" << h + 1;
      EXPECT_NEAR(fc->mean[h] - fc->lower[h], half, 1e-9 * half);
    }
  }
}

// The optimised fit from R's start reaches an SSE no worse than R's (within 1%) and 12- and
// 24-step forecasts within 2% of R's.
TEST_P(RParityTest, OptimisedFitIsAtLeastAsGoodAsR) {
  const auto r = ref();
  const std::vector<double> y = dataset(GetParam().dataset);
  HoltWintersOptions options;
  options.period = 12;
  options.seasonality = GetParam().seasonality;
  if (GetParam().fixed) {
    options.alpha = r["alpha"].get<double>();
    options.beta = r["beta"].get<double>();
    options.gamma = r["gamma"].get<double>();
  }
  Result<HoltWintersModel> model = fitHoltWinters(y, options);
  ASSERT_TRUE(model.ok()) << model.status().toString();
  const double r_sse = r["SSE"].get<double>();
  EXPECT_LE(model->sse(), 1.01 * r_sse);
  Result<Forecast> fc = model->forecast(24, 0.95);
  ASSERT_TRUE(fc.ok());
  for (int h = 0; h < 24; ++h) {
    const double r_mean = r["forecast_24"][h].get<double>();
    EXPECT_NEAR(fc->mean[h], r_mean, 0.02 * std::abs(r_mean)) << "h=" << h + 1;
  }
}

INSTANTIATE_TEST_SUITE_P(RReference, RParityTest, ::testing::ValuesIn(allFits()),
                         [](const auto& info) { return fitName(info.param); });

}  // namespace
}  // namespace governor::forecasting

namespace governor::forecasting {
namespace {

// A seasonal series with trend and noise, deterministic.
std::vector<double> seasonalSeries(int n, int period, double base = 100.0) {
  std::vector<double> y(static_cast<size_t>(n));
  uint64_t state = 7;
  for (int t = 0; t < n; ++t) {
    state = (state * 1103515245 + 12345) % 2147483648ULL;
    const double noise = static_cast<double>(state) / 2147483648.0 - 0.5;
    y[t] = base + 0.3 * t + 20.0 * std::sin(2.0 * 3.141592653589793 * t / period) + 4.0 * noise;
  }
  return y;
}

struct GradientCase {
  std::string name;
  Seasonality seasonality;
  HoltWintersParams params;
};

class HoltWintersGradientTest : public ::testing::TestWithParam<GradientCase> {};

// The analytic gradient agrees with central differences.
TEST_P(HoltWintersGradientTest, MatchesFiniteDifferences) {
  const std::vector<double> y = seasonalSeries(120, 12);
  const GradientCase& c = GetParam();
  Result<HoltWintersStart> st = holtWintersStart(y, 12, c.seasonality);
  ASSERT_TRUE(st.ok());
  double g[4];
  holtWintersSse(y, 12, c.seasonality, c.params, *st, g);
  for (int k = 0; k < 4; ++k) {
    if (k == 2 && c.seasonality == Seasonality::kNone) continue;
    HoltWintersParams plus = c.params, minus = c.params;
    const double h = 1e-6;
    double* p[4] = {&plus.alpha, &plus.beta, &plus.gamma, &plus.phi};
    double* m[4] = {&minus.alpha, &minus.beta, &minus.gamma, &minus.phi};
    *p[k] += h;
    *m[k] -= h;
    const double numeric = (holtWintersSse(y, 12, c.seasonality, plus, *st) -
                            holtWintersSse(y, 12, c.seasonality, minus, *st)) /
                           (2 * h);
    EXPECT_NEAR(g[k], numeric, 1e-4 * std::max(1.0, std::abs(numeric))) << "parameter " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HoltWintersGradientTest,
    ::testing::Values(
        GradientCase{"Additive", Seasonality::kAdditive, {0.3, 0.1, 0.2, 1.0}},
        GradientCase{"AdditiveDamped", Seasonality::kAdditive, {0.4, 0.2, 0.3, 0.9}},
        GradientCase{"Multiplicative", Seasonality::kMultiplicative, {0.3, 0.1, 0.2, 1.0}},
        GradientCase{"MultiplicativeDamped", Seasonality::kMultiplicative, {0.5, 0.05, 0.6, 0.85}},
        GradientCase{"NoSeason", Seasonality::kNone, {0.3, 0.1, 0.0, 0.95}}),
    [](const auto& info) { return info.param.name; });

struct ErrorCase {
  std::string name;
  std::vector<double> y;
  HoltWintersOptions options;
  std::string message;  // Expected substring.
};

class HoltWintersErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(HoltWintersErrorTest, ReturnsInvalidArgumentWithReason) {
  Result<HoltWintersModel> r = fitHoltWinters(GetParam().y, GetParam().options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(GetParam().message), std::string::npos)
      << r.status().message();
}

HoltWintersOptions hwOptions(int period, Seasonality s = Seasonality::kAdditive) {
  HoltWintersOptions o;
  o.period = period;
  o.seasonality = s;
  return o;
}

std::vector<double> withValue(std::vector<double> y, size_t i, double v) {
  y[i] = v;
  return y;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HoltWintersErrorTest,
    ::testing::Values(
        ErrorCase{"TooShort", seasonalSeries(17, 12), hwOptions(12),
                  "need at least 2 full seasons (24 points) for holt-winters with period 12; "
                  "got 17"},
        ErrorCase{"PeriodTooSmall", seasonalSeries(40, 12), hwOptions(1), "period >= 2"},
        ErrorCase{"MultiplicativeNegative", withValue(seasonalSeries(48, 12), 30, -3.0),
                  hwOptions(12, Seasonality::kMultiplicative),
                  "multiplicative seasonality needs values > 0; got -3.000000 at index 30"},
        ErrorCase{"AllMissing", std::vector<double>(30, std::nan("")), hwOptions(12),
                  "no observed value"},
        ErrorCase{"StartWindowMostlyMissing",
                  [] {
                    std::vector<double> y = seasonalSeries(60, 12);
                    for (int i = 2; i < 20; ++i) y[i] = std::nan("");
                    return y;
                  }(),
                  hwOptions(12), "more than half missing"},
        ErrorCase{"NoSeasonTooShort",
                  {1.0, 2.0},
                  hwOptions(0, Seasonality::kNone),
                  "need at least 3 points"}),
    [](const auto& info) { return info.param.name; });

TEST(HoltWintersTest, FixedParameterOutsideUnitIntervalIsRejected) {
  HoltWintersOptions o = hwOptions(12);
  o.alpha = 1.5;
  EXPECT_EQ(fitHoltWinters(seasonalSeries(48, 12), o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(HoltWintersTest, ConstantSeriesGivesFlatForecastAndZeroWidthIntervals) {
  const std::vector<double> y(48, 7.0);
  for (Seasonality s : {Seasonality::kAdditive, Seasonality::kMultiplicative}) {
    Result<HoltWintersModel> m = fitHoltWinters(y, hwOptions(12, s));
    ASSERT_TRUE(m.ok()) << m.status().toString();
    EXPECT_EQ(m->sse(), 0.0);
    Result<Forecast> f = m->forecast(5, 0.9);
    ASSERT_TRUE(f.ok());
    for (int h = 0; h < 5; ++h) {
      EXPECT_NEAR(f->mean[h], 7.0, 1e-12);
      EXPECT_NEAR(f->upper[h], 7.0, 1e-12);
      EXPECT_NEAR(f->lower[h], 7.0, 1e-12);
    }
  }
}

TEST(HoltWintersTest, NegativeValuesAreFineForAdditive) {
  std::vector<double> y = seasonalSeries(60, 12, -200.0);
  Result<HoltWintersModel> m = fitHoltWinters(y, hwOptions(12));
  ASSERT_TRUE(m.ok());
  EXPECT_LT(m->forecast(1, 0.95)->mean[0], 0.0);
}

// Missing observations are skipped: no error is counted and the state follows its forecast,
// so the result equals a fit where those steps were absent from the SSE.
TEST(HoltWintersTest, NaNIsAMissingStep) {
  std::vector<double> y = seasonalSeries(72, 12);
  std::vector<double> gappy = y;
  gappy[40] = gappy[41] = gappy[55] = std::nan("");
  gappy.push_back(std::nan(""));  // A trailing missing step.
  HoltWintersOptions o = hwOptions(12);
  o.alpha = 0.3;
  o.beta = 0.1;
  o.gamma = 0.2;
  Result<HoltWintersModel> full = fitHoltWinters(y, o);
  Result<HoltWintersModel> m = fitHoltWinters(gappy, o);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->residualCount(), full->residualCount() - 3);
  EXPECT_LT(m->sse(), full->sse());
  // The trailing NaN moved the origin one step: the first forecast is for step 73.
  Result<Forecast> two =
      fitHoltWinters(std::vector<double>(gappy.begin(), gappy.end() - 1), o)->forecast(2, 0.95);
  EXPECT_NEAR(m->forecast(1, 0.95)->mean[0], two->mean[1], 1e-9);
  // Leading NaNs are dropped.
  std::vector<double> leading(5, std::nan(""));
  leading.insert(leading.end(), y.begin(), y.end());
  EXPECT_NEAR(fitHoltWinters(leading, o)->sse(), full->sse(), 1e-9);
}

// update() continues the fitted recursion exactly: fitting a prefix with fixed parameters and
// updating with the rest equals fitting the whole series.
TEST(HoltWintersTest, UpdateContinuesTheRecursion) {
  const std::vector<double> y = seasonalSeries(100, 12);
  HoltWintersOptions o = hwOptions(12, Seasonality::kMultiplicative);
  o.alpha = 0.4;
  o.beta = 0.05;
  o.gamma = 0.3;
  Result<HoltWintersModel> prefix = fitHoltWinters(std::span(y).first(80), o);
  ASSERT_TRUE(prefix.ok());
  for (size_t t = 80; t < y.size(); ++t) prefix->update(y[t]);
  Result<HoltWintersModel> whole = fitHoltWinters(y, o);
  EXPECT_NEAR(prefix->sse(), whole->sse(), 1e-9 * whole->sse());
  EXPECT_NEAR(prefix->level(), whole->level(), 1e-9);
  EXPECT_NEAR(prefix->forecast(12, 0.8)->upper[11], whole->forecast(12, 0.8)->upper[11], 1e-9);
}

TEST(HoltWintersTest, DampedFitIsNoWorseAndExposesPhi) {
  const std::vector<double> y = seasonalSeries(96, 12);
  HoltWintersOptions o = hwOptions(12);
  Result<HoltWintersModel> plain = fitHoltWinters(y, o);
  o.damped = true;
  Result<HoltWintersModel> damped = fitHoltWinters(y, o);
  ASSERT_TRUE(damped.ok());
  EXPECT_LE(damped->sse(), plain->sse() * 1.001);
  const double phi = *damped->parameter("phi");
  EXPECT_GE(phi, 0.0);
  EXPECT_LE(phi, 1.0);
  EXPECT_EQ(damped->kind(), "holt-winters");
  EXPECT_EQ(damped->parameter("alpha"), damped->params().alpha);
  EXPECT_EQ(damped->parameter("period"), 12.0);
  EXPECT_FALSE(damped->parameter("no-such-parameter").has_value());
}

TEST(HoltWintersTest, MultiStartIsNeverWorse) {
  const std::vector<double> y = seasonalSeries(96, 12);
  HoltWintersOptions o = hwOptions(12, Seasonality::kMultiplicative);
  const double single = fitHoltWinters(y, o)->sse();
  o.multi_start = true;
  EXPECT_LE(fitHoltWinters(y, o)->sse(), single);
}

TEST(HoltWintersTest, WithoutSeasonalityUsesRsStart) {
  const std::vector<double> y = {10, 12, 13, 15, 18, 19, 22, 24};
  HoltWintersOptions o = hwOptions(0, Seasonality::kNone);
  o.alpha = 1.0;
  o.beta = 0.0;
  Result<HoltWintersModel> m = fitHoltWinters(y, o);
  ASSERT_TRUE(m.ok());
  // alpha = 1, beta = 0: level = last value, trend = y1 - y0 = 2 throughout.
  EXPECT_DOUBLE_EQ(m->level(), 24.0);
  EXPECT_DOUBLE_EQ(m->trend(), 2.0);
  EXPECT_DOUBLE_EQ(m->forecast(3, 0.95)->mean[2], 30.0);
  EXPECT_EQ(m->residualCount(), 6);
  EXPECT_FALSE(m->parameter("gamma").has_value());
}

TEST(HoltWintersTest, ForecastRejectsBadArguments) {
  Result<HoltWintersModel> m = fitHoltWinters(seasonalSeries(48, 12), hwOptions(12));
  EXPECT_EQ(m->forecast(0, 0.95).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m->forecast(3, 1.0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(m->forecast(3, 0.0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace governor::forecasting
