#include "forecasting/naive.h"

#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::forecasting {
namespace {

TEST(NaiveTest, ForecastsLastValueWithRandomWalkIntervals) {
  // Errors 2, -1, 3: sigma^2 = 14 / 3.
  Result<NaiveModel> m = fitNaive(std::vector<double>{1, 3, 2, 5});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind(), "naive");
  EXPECT_DOUBLE_EQ(m->sse(), 14.0);
  Result<Forecast> f = m->forecast(4, 0.95);
  EXPECT_EQ(f->mean, std::vector<double>(4, 5.0));
  EXPECT_NEAR(f->upper[3] - 5.0, 1.95996398454005 * std::sqrt(14.0 / 3.0 * 4), 1e-9);
}

TEST(NaiveTest, SeasonalRepeatsLastSeasonAndSkipsNaN) {
  std::vector<double> y = {1, 2, 3, 2, 3, 4, 3, std::nan(""), 5};
  Result<NaiveModel> m = fitSeasonalNaive(y, 3);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->kind(), "seasonal-naive");
  // The middle slot's last observed value is 3 (index 4): the NaN kept it.
  Result<Forecast> f = m->forecast(6, 0.95);
  EXPECT_EQ(f->mean, (std::vector<double>{3, 3, 5, 3, 3, 5}));
  // Errors: 1, 1, 1, 1, (NaN skipped), 1 -> sigma 1; h = 4 is in the second season.
  EXPECT_EQ(m->residualCount(), 5);
  EXPECT_NEAR(f->upper[3] - f->mean[3], 1.95996398454005 * std::sqrt(2.0), 1e-9);
  m->update(10);  // Fills slot 0.
  EXPECT_EQ(m->forecast(1, 0.95)->mean[0], 3.0);
  EXPECT_EQ(m->forecast(3, 0.95)->mean[2], 10.0);
}

TEST(NaiveTest, TooShortIsAnError) {
  Result<NaiveModel> r = fitSeasonalNaive(std::vector<double>(10, 1.0), 12);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "need at least 13 points for seasonal-naive with period 12; got 10");
  EXPECT_FALSE(fitNaive(std::vector<double>{1.0}).ok());
  EXPECT_FALSE(fitNaive(std::vector<double>{std::nan(""), 1.0}).ok());
}

}  // namespace
}  // namespace governor::forecasting
