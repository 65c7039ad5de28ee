#include "forecasting/auto.h"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::forecasting {
namespace {

std::vector<double> seasonal(int n, int period, double base, double amplitude, double noise) {
  std::vector<double> y(static_cast<size_t>(n));
  for (int t = 0; t < n; ++t) {
    y[t] = base + amplitude * std::sin(2.0 * std::numbers::pi * t / period) +
           noise * std::sin(12.9898 * t * t);
  }
  return y;
}

const CandidateScore* find(const AutoResult& r, const std::string& name) {
  for (const CandidateScore& c : r.candidates) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

TEST(AutoTest, SeasonalDataPicksASeasonalModelAndRecordsEveryCandidate) {
  AutoOptions options;
  options.seasons = {{24, 3}};
  Result<AutoResult> r = fitAuto(seasonal(24 * 20, 24, 100, 30, 2), options);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->candidates.size(), 7u);
  EXPECT_NE(r->chosen, "naive");
  EXPECT_NE(r->chosen, "linear");
  EXPECT_EQ(r->model->kind() == std::string_view("naive"), false);
  const CandidateScore* naive = find(*r, "naive");
  const CandidateScore* winner = find(*r, r->chosen);
  ASSERT_TRUE(naive && winner);
  ASSERT_TRUE(naive->scored && winner->scored);
  EXPECT_LT(winner->mase, naive->mase);
  for (const CandidateScore& c : r->candidates) {
    if (c.scored) {
      EXPECT_GE(c.mase, winner->mase) << c.name;
    }
  }
  EXPECT_EQ(r->horizon, 24);
  EXPECT_EQ(r->folds, 3);
}

TEST(AutoTest, NegativeValuesSkipMultiplicative) {
  AutoOptions options;
  options.seasons = {{12, 2}};
  Result<AutoResult> r = fitAuto(seasonal(12 * 10, 12, 0, 10, 1), options);
  ASSERT_TRUE(r.ok());
  const CandidateScore* mult = find(*r, "holt-winters-multiplicative");
  ASSERT_NE(mult, nullptr);
  EXPECT_FALSE(mult->scored);
  EXPECT_NE(mult->reason.find("values > 0"), std::string::npos) << mult->reason;
}

TEST(AutoTest, ConstantSeriesSelectsNaive) {
  Result<AutoResult> r = fitAuto(std::vector<double>(100, 4.0), AutoOptions{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chosen, "naive");
  EXPECT_EQ(r->candidates.front().reason, "constant series");
  EXPECT_EQ(r->model->forecast(3, 0.95)->upper[2], 4.0);
}

TEST(AutoTest, ShortHistoryFallsBackToNaive) {
  AutoOptions options;
  options.seasons = {{12, 2}};
  Result<AutoResult> r = fitAuto(std::vector<double>{1, 2, 4, 3, 5}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->chosen, "naive");
  EXPECT_EQ(r->folds, 0);
  EXPECT_EQ(r->candidates.front().reason, "history too short for a backtest");
  EXPECT_FALSE(fitAuto(std::vector<double>{1}, options).ok());
}

TEST(AutoTest, ShortGapsAreFilledLongGapsTolerated) {
  AutoOptions options;
  options.seasons = {{24, 3}};
  options.candidates = {"seasonal-naive", "holt-winters-additive", "harmonic"};
  std::vector<double> y = seasonal(24 * 12, 24, 100, 30, 1);
  y[50] = y[51] = std::nan("");                         // Short: interpolated.
  for (int t = 150; t < 170; ++t) y[t] = std::nan("");  // Long: missing steps.
  Result<AutoResult> r = fitAuto(y, options);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  for (const CandidateScore& c : r->candidates) {
    EXPECT_TRUE(c.scored) << c.name << c.reason;
  }
}

TEST(AutoTest, UnknownCandidateIsSkippedWithReason) {
  AutoOptions options;
  options.candidates = {"naive", "prophet"};
  Result<AutoResult> r = fitAuto(seasonal(100, 10, 5, 1, 1), options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->candidates[1].reason, "unknown model candidate \"prophet\"");
}

TEST(MaseTest, ScalesBySeasonalNaiveMae) {
  // In-sample lag-2 MAE of {1, 2, 3, 5}: |3-1|, |5-2| -> 2.5. Forecast MAE 1.25.
  EXPECT_DOUBLE_EQ(mase(std::vector<double>{1, 2, 3, 5}, std::vector<double>{6, 7},
                        std::vector<double>{5, 8.5}, 2),
                   0.5);
  // Constant training window: plain MAE.
  EXPECT_DOUBLE_EQ(
      mase(std::vector<double>{2, 2, 2}, std::vector<double>{3}, std::vector<double>{1}, 1), 2.0);
}

}  // namespace
}  // namespace governor::forecasting
