#include "forecasting/series.h"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::forecasting {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using std::chrono::milliseconds;

// Element-wise equality where NaN equals NaN.
void expectSameValues(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(actual[i])) << "index " << i;
    } else {
      EXPECT_DOUBLE_EQ(actual[i], expected[i]) << "index " << i;
    }
  }
}

TEST(ResampleTest, MissingTimestampsBecomeNaNAndDuplicatesAverage) {
  const std::vector<Sample> samples = {{milliseconds(1000), 1.0},
                                       {milliseconds(61000), 2.0},
                                       {milliseconds(62000), 4.0},
                                       {milliseconds(181000), 5.0},
                                       {milliseconds(240500), kNaN}};
  Result<Series> s = resample(samples, milliseconds(60000));
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->start, milliseconds(1000));
  expectSameValues(s->values, {1.0, 3.0, kNaN, 5.0, kNaN});
}

TEST(ResampleTest, RejectsBadInput) {
  EXPECT_FALSE(resample({}, milliseconds(1000)).ok());
  const std::vector<Sample> backwards = {{milliseconds(5000), 1.0}, {milliseconds(1000), 2.0}};
  EXPECT_FALSE(resample(backwards, milliseconds(1000)).ok());
  const std::vector<Sample> ok = {{milliseconds(0), 1.0}, {milliseconds(1000000), 2.0}};
  EXPECT_FALSE(resample(ok, milliseconds(0)).ok());
  EXPECT_FALSE(resample(ok, milliseconds(1), 1000).ok());
}

struct GapCase {
  std::string name;
  std::vector<double> in;
  int64_t max_gap;
  std::vector<double> out;
  int64_t filled;
};

class FillGapsTest : public ::testing::TestWithParam<GapCase> {};

TEST_P(FillGapsTest, InterpolatesShortInteriorGapsOnly) {
  std::vector<double> v = GetParam().in;
  const GapReport report = fillGaps(v, GetParam().max_gap);
  expectSameValues(v, GetParam().out);
  EXPECT_EQ(report.filled, GetParam().filled);
  EXPECT_EQ(report.left_missing, countObserved(GetParam().out) == 0
                                     ? static_cast<int64_t>(v.size())
                                     : static_cast<int64_t>(v.size()) - countObserved(v));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FillGapsTest,
    ::testing::Values(GapCase{"ShortGap", {1, kNaN, kNaN, 4}, 2, {1, 2, 3, 4}, 2},
                      GapCase{"LongGapKept", {1, kNaN, kNaN, 4}, 1, {1, kNaN, kNaN, 4}, 0},
                      GapCase{"EndsKept", {kNaN, 1, kNaN, 3, kNaN}, 5, {kNaN, 1, 2, 3, kNaN}, 1},
                      GapCase{"AllMissing", {kNaN, kNaN}, 5, {kNaN, kNaN}, 0}),
    [](const auto& info) { return info.param.name; });

struct CounterCase {
  std::string name;
  std::vector<double> in;
  std::vector<double> out;
};

class CounterIncreasesTest : public ::testing::TestWithParam<CounterCase> {};

TEST_P(CounterIncreasesTest, HandlesResets) {
  expectSameValues(counterIncreases(GetParam().in), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CounterIncreasesTest,
    ::testing::Values(CounterCase{"Monotonic", {10, 12, 15}, {kNaN, 2, 3}},
                      CounterCase{"Reset", {10, 12, 3, 5}, {kNaN, 2, 3, 2}},
                      CounterCase{"ResetToZero", {10, 0, 4}, {kNaN, 0, 4}},
                      CounterCase{"NaNSkipped", {10, kNaN, 14, 15}, {kNaN, kNaN, 4, 1}}),
    [](const auto& info) { return info.param.name; });

TEST(IsConstantTest, Cases) {
  EXPECT_TRUE(isConstant(std::vector<double>{3, 3, kNaN, 3}));
  EXPECT_TRUE(isConstant(std::vector<double>{kNaN}));
  EXPECT_FALSE(isConstant(std::vector<double>{3, 3, 3.001}));
  EXPECT_TRUE(isConstant(std::vector<double>{1e6, 1e6 + 1e-7}));
}

}  // namespace
}  // namespace governor::forecasting
