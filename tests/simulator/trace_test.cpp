#include "simulator/trace.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::simulator {
namespace {

const TimePoint kT0 = fromUnixSeconds(1'700'000'000);  // 2023-11-14T22:13:20Z

struct GoodCsvCase {
  std::string name;
  std::string text;
  std::string time_column;
  std::string value_column;
  double scale;
  std::vector<std::pair<int64_t, double>> want;  // (unix ms, value)
};

class GoodCsvTest : public testing::TestWithParam<GoodCsvCase> {};

TEST_P(GoodCsvTest, Parses) {
  const auto& c = GetParam();
  auto trace = parseCsvTrace(c.text, "t.csv", c.time_column, c.value_column, c.scale);
  ASSERT_TRUE(trace.ok()) << trace.status().message();
  ASSERT_EQ(trace->points().size(), c.want.size());
  for (size_t i = 0; i < c.want.size(); ++i) {
    EXPECT_EQ(trace->points()[i].time.time_since_epoch().count(), c.want[i].first) << i;
    EXPECT_DOUBLE_EQ(trace->points()[i].value, c.want[i].second) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, GoodCsvTest,
    testing::Values(
        GoodCsvCase{"UnixSeconds",
                    "timestamp,value\n1700000000,5\n1700000060,7.5\n",
                    "timestamp",
                    "value",
                    1.0,
                    {{1'700'000'000'000, 5}, {1'700'000'060'000, 7.5}}},
        GoodCsvCase{"DecimalSecondsRoundToMs",
                    "t,v\n1700000000.2345,1\n",
                    "t",
                    "v",
                    1.0,
                    {{1'700'000'000'235, 1}}},
        GoodCsvCase{"Rfc3339ZuluAndOffset",
                    "time,rps\n2023-11-14T22:13:20Z,1\n2023-11-14T23:14:20+01:00,2\n"
                    "2023-11-14 22:15:20.5z,3\n",
                    "time",
                    "rps",
                    1.0,
                    {{1'700'000'000'000, 1}, {1'700'000'060'000, 2}, {1'700'000'120'500, 3}}},
        GoodCsvCase{"ChosenColumnsAmongOthersQuotedCrlfBlankLines",
                    "host,\"ts\",load\r\n\"a\",\"1700000000\",\"3\"\r\n\r\nb, 1700000060 , 4 \r\n",
                    "ts",
                    "load",
                    1.0,
                    {{1'700'000'000'000, 3}, {1'700'000'060'000, 4}}},
        GoodCsvCase{"Scale",
                    "timestamp,value\n0,120\n60,60\n",
                    "timestamp",
                    "value",
                    1.0 / 60,
                    {{0, 2}, {60'000, 1}}}),
    [](const testing::TestParamInfo<GoodCsvCase>& info) { return info.param.name; });

struct BadCase {
  std::string name;
  std::string text;
  std::string want;  // A substring of the message.
};

class BadCsvTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadCsvTest, NamesFileAndLine) {
  auto trace = parseCsvTrace(GetParam().text, "t.csv", "timestamp", "value");
  ASSERT_FALSE(trace.ok());
  EXPECT_EQ(trace.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(trace.status().message().find(GetParam().want), std::string::npos)
      << trace.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadCsvTest,
    testing::Values(
        BadCase{"Empty", "", "t.csv: empty file"},
        BadCase{"HeaderOnly", "timestamp,value\n", "t.csv: no samples"},
        BadCase{"UnknownColumn", "time,value\n1,2\n",
                "t.csv:1: no column \"timestamp\" in the header (columns: time, value)"},
        BadCase{"FieldCount", "timestamp,value\n1,2\n3\n", "t.csv:3: expected 2 fields, got 1"},
        BadCase{"BadTime", "timestamp,value\n\nyesterday,2\n",
                "t.csv:3: timestamp \"yesterday\" is neither Unix seconds nor RFC 3339"},
        BadCase{"BadValue", "timestamp,value\n1,abc\n", "t.csv:2: value \"abc\" is not a number"},
        BadCase{"NegativeValue", "timestamp,value\n1,-3\n",
                "t.csv:2: value \"-3\" must be a finite number >= 0"},
        BadCase{"NotIncreasing", "timestamp,value\n60,1\n60,2\n",
                "t.csv:3: time 1970-01-01T00:01:00Z is not after the previous sample's (line 2"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST(PrometheusTraceTest, ParsesOneSeriesAndSkipsNaN) {
  const std::string json = R"({"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"__name__":"rps"},"values":[[1700000000,"10"],[1700000015.5,"NaN"],
    [1700000030,"12.5"]]}]}})";
  auto trace = parsePrometheusTrace(json, "p.json", std::nullopt, 2.0);
  ASSERT_TRUE(trace.ok()) << trace.status().message();
  ASSERT_EQ(trace->points().size(), 2u);
  EXPECT_EQ(trace->points()[1].time, kT0 + Seconds(30));
  EXPECT_DOUBLE_EQ(trace->points()[1].value, 25.0);
}

TEST(PrometheusTraceTest, PicksTheNamedSeries) {
  const std::string json = R"({"status":"success","data":{"resultType":"matrix","result":[
    {"metric":{"__name__":"a"},"values":[[1,"1"]]},
    {"metric":{"__name__":"b"},"values":[[1,"2"]]}]}})";
  auto trace = parsePrometheusTrace(json, "p.json", std::string("b"));
  ASSERT_TRUE(trace.ok()) << trace.status().message();
  EXPECT_DOUBLE_EQ(trace->points()[0].value, 2.0);
}

class BadPrometheusTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadPrometheusTest, NamesFileAndPath) {
  const bool named = GetParam().name == "UnknownSeriesName";
  auto trace = parsePrometheusTrace(GetParam().text, "p.json",
                                    named ? std::optional<std::string>("c") : std::nullopt);
  ASSERT_FALSE(trace.ok());
  EXPECT_NE(trace.status().message().find(GetParam().want), std::string::npos)
      << trace.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadPrometheusTest,
    testing::Values(BadCase{"InvalidJson", "{\"status\": ", "p.json: invalid JSON"},
                    BadCase{"ErrorStatus", R"({"status":"error","error":"bad query"})",
                            "p.json: status: \"error\", not \"success\": bad query"},
                    BadCase{"Vector",
                            R"({"status":"success","data":{"resultType":"vector","result":[]}})",
                            "p.json: data.resultType: must be \"matrix\""},
                    BadCase{"TwoSeriesUnnamed",
                            R"({"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{},"values":[[1,"1"]]},{"metric":{},"values":[[1,"1"]]}]}})",
                            "p.json: data.result: 2 series"},
                    BadCase{"UnknownSeriesName",
                            R"({"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{"__name__":"a"},"values":[[1,"1"]]}]}})",
                            "p.json: data.result: no series with __name__ \"c\" (series: \"a\")"},
                    BadCase{"BadValue",
                            R"({"status":"success","data":{"resultType":"matrix","result":[
                {"metric":{},"values":[[1,"1"],[2,"x"]]}]}})",
                            "p.json: data.result[0].values[1][1]: \"x\" is not a number"}),
    [](const testing::TestParamInfo<BadCase>& info) { return info.param.name; });

struct InterpolationCase {
  std::string name;
  Interpolation mode;
  int64_t offset_seconds;
  double want;
};

class InterpolationTest : public testing::TestWithParam<InterpolationCase> {};

TEST_P(InterpolationTest, ValueAt) {
  // Samples at 0 s (10), 60 s (40), 120 s (40).
  Trace trace("t", {{kT0, 10}, {kT0 + Seconds(60), 40}, {kT0 + Seconds(120), 40}});
  const TimePoint t = kT0 + Seconds(GetParam().offset_seconds);
  EXPECT_DOUBLE_EQ(trace.valueAt(t, GetParam().mode), GetParam().want);
  // The search hint only saves work: every hint, even a stale or impossible one, gives the same
  // value.
  for (size_t start : {0, 1, 2, 3, 1000}) {
    size_t hint = start;
    EXPECT_DOUBLE_EQ(trace.valueAt(t, GetParam().mode, hint), GetParam().want) << start;
    EXPECT_LT(hint, trace.points().size()) << start;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, InterpolationTest,
    testing::Values(InterpolationCase{"LinearAtSample", Interpolation::kLinear, 60, 40},
                    InterpolationCase{"LinearQuarter", Interpolation::kLinear, 15, 17.5},
                    InterpolationCase{"LinearHalf", Interpolation::kLinear, 30, 25},
                    InterpolationCase{"HoldQuarter", Interpolation::kHold, 15, 10},
                    InterpolationCase{"HoldJustBeforeNext", Interpolation::kHold, 59, 10},
                    InterpolationCase{"BeforeStartIsFirst", Interpolation::kLinear, -30, 10},
                    InterpolationCase{"AfterEndIsLast", Interpolation::kLinear, 600, 40}),
    [](const testing::TestParamInfo<InterpolationCase>& info) { return info.param.name; });

TEST(TraceHintTest, ReplayWalkMatchesTheBinarySearch) {
  // Irregular samples (1 to 97 s apart); a walk that steps forward by less than, about, and
  // much more than a sample interval, then jumps back. The hinted lookup must give exactly
  // what the binary search gives, at every time.
  std::vector<TracePoint> points;
  TimePoint t = kT0;
  for (int i = 0; i < 200; ++i) {
    points.push_back({t, static_cast<double>((i * 37) % 101)});
    t += Seconds(1 + (i * 53) % 97);
  }
  Trace trace("t", points);
  ASSERT_GT(trace.end() - trace.start(), Seconds(9000));
  struct Segment {
    int64_t from;  // Seconds after the first sample.
    int64_t step;
    int count;
  };
  // The hint carries over from one segment to the next: jumps back and far ahead included.
  const Segment walk[] = {{-30, 7, 100},   {0, 15, 700},  {500, 60, 100}, {9000, -15, 100},
                          {100, 1000, 12}, {4000, 3, 50}, {9500, 15, 50}, {-100, 13, 20},
                          {20000, 15, 10}, {2000, 97, 30}};
  for (Interpolation mode : {Interpolation::kLinear, Interpolation::kHold}) {
    size_t hint = 0;
    for (const Segment& segment : walk) {
      for (int i = 0; i < segment.count; ++i) {
        const TimePoint at = kT0 + Seconds(segment.from + segment.step * i);
        ASSERT_EQ(trace.valueAt(at, mode, hint), trace.valueAt(at, mode))
            << "at " << toUnixSeconds(at) << " in the segment from " << segment.from;
      }
    }
  }
}

TEST(TraceGapTest, ReportsIntervalsLongerThanTheLimit) {
  Trace trace("t", {{kT0, 1},
                    {kT0 + Seconds(60), 1},
                    {kT0 + Seconds(120), 1},
                    {kT0 + Seconds(600), 1},
                    {kT0 + Seconds(660), 1}});
  EXPECT_EQ(trace.medianInterval(), Duration(60'000));
  auto gaps = trace.gaps(2 * trace.medianInterval());
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].from, kT0 + Seconds(120));
  EXPECT_EQ(gaps[0].to, kT0 + Seconds(600));
  EXPECT_TRUE(trace.gaps(Duration(480'000)).empty());
}

}  // namespace
}  // namespace governor::simulator
