#include "base/rfc3339.h"

#include <string>

#include <gtest/gtest.h>

namespace governor {
namespace {

// 2026-11-26T04:30:15.123Z as Unix milliseconds (date -u -d ... +%s%3N).
constexpr int64_t kSample = 1795667415123;

struct FormatCase {
  const char* name;
  int64_t unix_ms;
  TimePrecision precision;
  const char* expected;
};

class FormatTest : public testing::TestWithParam<FormatCase> {};

TEST_P(FormatTest, Formats) {
  const auto& c = GetParam();
  EXPECT_EQ(formatRfc3339(TimePoint(Duration(c.unix_ms)), c.precision), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, FormatTest,
    testing::Values(
        FormatCase{"Seconds", kSample, TimePrecision::kSeconds, "2026-11-26T04:30:15Z"},
        FormatCase{"Millis", kSample, TimePrecision::kMilliseconds, "2026-11-26T04:30:15.123Z"},
        FormatCase{"Micros", kSample, TimePrecision::kMicroseconds, "2026-11-26T04:30:15.123000Z"},
        FormatCase{"Epoch", 0, TimePrecision::kMilliseconds, "1970-01-01T00:00:00.000Z"},
        FormatCase{"LeapDay", 951782400000, TimePrecision::kSeconds, "2000-02-29T00:00:00Z"},
        FormatCase{"BeforeEpoch", -1000, TimePrecision::kSeconds, "1969-12-31T23:59:59Z"}),
    [](const auto& info) { return std::string(info.param.name); });

struct ParseCase {
  const char* name;
  const char* text;
  int64_t unix_ms;  // Ignored when `valid` is false.
  bool valid;
};

class ParseTest : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseTest, Parses) {
  const auto& c = GetParam();
  auto parsed = parseRfc3339(c.text);
  if (!c.valid) {
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_NE(parsed.status().message().find(c.text), std::string::npos);
    return;
  }
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->time_since_epoch().count(), c.unix_ms);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseTest,
    testing::Values(ParseCase{"Zulu", "2026-11-26T04:30:15Z", kSample - 123, true},
                    ParseCase{"LowerCase", "2026-11-26t04:30:15z", kSample - 123, true},
                    ParseCase{"Millis", "2026-11-26T04:30:15.123Z", kSample, true},
                    ParseCase{"MicrosTruncated", "2026-11-26T04:30:15.123999Z", kSample, true},
                    ParseCase{"OneDigit", "2026-11-26T04:30:15.1Z", kSample - 23, true},
                    ParseCase{"PlusOffset", "2026-11-26T05:30:15.123+01:00", kSample, true},
                    ParseCase{"MinusOffset", "2026-11-25T23:00:15.123-05:30", kSample, true},
                    ParseCase{"SpaceSeparator", "2026-11-26 04:30:15.123Z", kSample, true},
                    ParseCase{"NoZone", "2026-11-26T04:30:15", 0, false},
                    ParseCase{"Month13", "2026-13-01T00:00:00Z", 0, false},
                    ParseCase{"Feb30", "2026-02-30T00:00:00Z", 0, false},
                    ParseCase{"Hour24", "2026-11-26T24:00:00Z", 0, false},
                    ParseCase{"LeapSecond", "2026-12-31T23:59:60Z", 0, false},
                    ParseCase{"EmptyFraction", "2026-11-26T04:30:15.Z", 0, false},
                    ParseCase{"Trailing", "2026-11-26T04:30:15Zx", 0, false},
                    ParseCase{"Empty", "", 0, false},
                    ParseCase{"UnixSeconds", "1795667415", 0, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Rfc3339Test, RoundTripsEveryPrecision) {
  for (int64_t ms : {int64_t{0}, kSample, int64_t{4102444799999}, int64_t{-86400001}}) {
    const TimePoint t{Duration(ms)};
    auto millis = parseRfc3339(formatRfc3339(t, TimePrecision::kMilliseconds));
    ASSERT_TRUE(millis.ok());
    EXPECT_EQ(*millis, t);
    auto micros = parseRfc3339(formatRfc3339(t, TimePrecision::kMicroseconds));
    ASSERT_TRUE(micros.ok());
    EXPECT_EQ(*micros, t);
  }
}

}  // namespace
}  // namespace governor
