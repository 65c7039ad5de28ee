#include "base/duration.h"

#include <string>

#include <gtest/gtest.h>

namespace governor {
namespace {

struct ParseCase {
  std::string name;
  std::string text;
  int64_t want_ms;
};

class ParseDurationTest : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseDurationTest, Parses) {
  auto got = parseDuration(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(got->count(), GetParam().want_ms);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseDurationTest,
    testing::Values(ParseCase{"Seconds", "15s", 15'000},
                    ParseCase{"MinutesSeconds", "1m30s", 90'000},
                    ParseCase{"Hours", "10h", 36'000'000},
                    ParseCase{"Fortnight", "336h", 1'209'600'000},
                    ParseCase{"Millis", "500ms", 500}, ParseCase{"Fraction", "1.5h", 5'400'000},
                    ParseCase{"Days", "2d", 172'800'000}, ParseCase{"Weeks", "1w", 604'800'000},
                    ParseCase{"Zero", "0", 0}, ParseCase{"Negative", "-5s", -5'000},
                    ParseCase{"Mixed", "1h2m3s4ms", 3'723'004}),
    [](const testing::TestParamInfo<ParseCase>& info) { return info.param.name; });

struct BadCase {
  std::string name;
  std::string text;
  std::string want_in_message;
};

class BadDurationTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadDurationTest, Rejects) {
  auto got = parseDuration(GetParam().text);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got.status().message().find(GetParam().want_in_message), std::string::npos)
      << got.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, BadDurationTest,
                         testing::Values(BadCase{"Empty", "", "empty"},
                                         BadCase{"NoUnit", "15", "missing unit"},
                                         BadCase{"UnknownUnit", "10x", "unknown unit \"x\""},
                                         BadCase{"NoNumber", "s", "expected a number"},
                                         BadCase{"TwoDots", "1.2.3s", "malformed"},
                                         BadCase{"SignOnly", "-", "no number"},
                                         BadCase{"Huge", "99999999999999999h", "out of range"}),
                         [](const testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

struct FormatCase {
  std::string name;
  int64_t ms;
  std::string want;
};

class FormatDurationTest : public testing::TestWithParam<FormatCase> {};

TEST_P(FormatDurationTest, FormatsAndRoundTrips) {
  std::string text = formatDuration(Duration(GetParam().ms));
  EXPECT_EQ(text, GetParam().want);
  auto back = parseDuration(text);
  ASSERT_TRUE(back.ok()) << back.status().toString();
  EXPECT_EQ(back->count(), GetParam().ms);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FormatDurationTest,
    testing::Values(FormatCase{"Zero", 0, "0s"}, FormatCase{"NinetySeconds", 90'000, "1m30s"},
                    FormatCase{"Hours", 36'000'000, "10h"}, FormatCase{"Millis", 250, "250ms"},
                    FormatCase{"FractionalSeconds", 61'500, "1m1.5s"},
                    FormatCase{"Negative", -15'000, "-15s"}),
    [](const testing::TestParamInfo<FormatCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor
