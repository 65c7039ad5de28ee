#include "controller/prometheus/response.h"

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::controller::prom {
namespace {

const std::string kQuery = "sum(rate(http_requests_total[1m]))";

// Bodies as Prometheus 2.x writes them (web/api/v1/api.go, the documented examples of
// https://prometheus.io/docs/prometheus/latest/querying/api/).
TEST(ParseQueryResponse, Vector) {
  auto r = parseQueryResponse(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"__name__":"up","job":"prometheus","instance":"localhost:9090"},
       "value":[1435781451.781,"1"]},
      {"metric":{"job":"node"},"value":[1435781451.781,"0.5"]}]}})",
                              kQuery);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, ResultType::kVector);
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].labels.at("__name__"), "up");
  EXPECT_EQ(r->series[0].labels.at("instance"), "localhost:9090");
  ASSERT_EQ(r->series[0].samples.size(), 1u);
  // Rounded to the millisecond, not truncated (1435781451.781 * 1000 is 1435781451780.99...).
  EXPECT_EQ(r->series[0].samples[0].timestamp.time_since_epoch().count(), 1435781451781);
  EXPECT_EQ(r->series[0].samples[0].value, 1.0);
  EXPECT_EQ(r->series[1].samples[0].value, 0.5);
  EXPECT_TRUE(r->warnings.empty());
}

TEST(ParseQueryResponse, Matrix) {
  auto r = parseQueryResponse(200, R"({"status":"success","data":{"resultType":"matrix","result":[
      {"metric":{"job":"a"},"values":[[1435781430.781,"1"],[1435781445.781,"NaN"],
                                     [1435781460.781,"+Inf"]]}]}})",
                              kQuery);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, ResultType::kMatrix);
  ASSERT_EQ(r->series.size(), 1u);
  ASSERT_EQ(r->series[0].samples.size(), 3u);
  EXPECT_EQ(r->series[0].samples[0].value, 1.0);
  EXPECT_TRUE(std::isnan(r->series[0].samples[1].value));
  EXPECT_EQ(r->series[0].samples[2].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(r->series[0].samples[2].timestamp.time_since_epoch().count(), 1435781460781);
}

TEST(ParseQueryResponse, ScalarAndString) {
  auto s = parseQueryResponse(
      200, R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"-Inf"]}})",
      kQuery);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->type, ResultType::kScalar);
  EXPECT_EQ(s->scalar.value, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(s->scalar.timestamp.time_since_epoch().count(), 1700000000000);

  auto str = parseQueryResponse(
      200, R"({"status":"success","data":{"resultType":"string","result":[1700000000.5,"hi"]}})",
      kQuery);
  ASSERT_TRUE(str.ok()) << str.status().toString();
  EXPECT_EQ(str->type, ResultType::kString);
  EXPECT_EQ(str->string, "hi");
  EXPECT_EQ(str->scalar.timestamp.time_since_epoch().count(), 1700000000500);
}

TEST(ParseQueryResponse, EmptyStaysEmptyAndWarningsAreKept) {
  for (const char* body :
       {R"({"status":"success","data":{"resultType":"vector","result":[]},"warnings":["w1",2]})",
        R"({"status":"success","data":{"resultType":"vector","result":null}})"}) {
    auto r = parseQueryResponse(200, body, kQuery);
    ASSERT_TRUE(r.ok()) << body << ": " << r.status().toString();
    EXPECT_EQ(r->type, ResultType::kVector);
    EXPECT_TRUE(r->series.empty()) << body;
  }
  auto w = parseQueryResponse(
      200, R"({"status":"success","data":{"resultType":"vector","result":[]},"warnings":["w1",2]})",
      kQuery);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->warnings, std::vector<std::string>{"w1"});
}

struct ValueCase {
  std::string name;
  std::string text;
  bool ok;
  double want = 0;  // When ok; NaN means "is NaN".
};

class SampleValueTest : public testing::TestWithParam<ValueCase> {};

TEST_P(SampleValueTest, Parses) {
  const ValueCase& c = GetParam();
  auto v = parseSampleValue(c.text);
  ASSERT_EQ(v.ok(), c.ok) << (v.ok() ? std::to_string(*v) : v.status().toString());
  if (!c.ok) {
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
    return;
  }
  if (std::isnan(c.want)) {
    EXPECT_TRUE(std::isnan(*v)) << *v;
  } else {
    EXPECT_EQ(*v, c.want);
  }
}

const double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

INSTANTIATE_TEST_SUITE_P(
    Table, SampleValueTest,
    testing::Values(ValueCase{"Integer", "42", true, 42}, ValueCase{"Negative", "-2.5", true, -2.5},
                    ValueCase{"Exponent", "1e+21", true, 1e21},
                    ValueCase{"SmallExponent", "1.5e-07", true, 1.5e-7},
                    ValueCase{"LeadingPlus", "+3", true, 3}, ValueCase{"NaN", "NaN", true, kNaN},
                    ValueCase{"PlusInf", "+Inf", true, kInf},
                    ValueCase{"BareInf", "Inf", true, kInf},
                    ValueCase{"MinusInf", "-Inf", true, -kInf}, ValueCase{"Empty", "", false},
                    ValueCase{"Word", "abc", false}, ValueCase{"TrailingJunk", "1.5x", false},
                    ValueCase{"Space", " 1", false}, ValueCase{"LowercaseNan", "nan", false},
                    ValueCase{"Infinity", "infinity", false},
                    ValueCase{"OutOfRange", "1e999", false}, ValueCase{"Hex", "0x10", false}),
    [](const testing::TestParamInfo<ValueCase>& info) { return info.param.name; });

// Errors: code, and what the message must say.
struct ErrorCase {
  std::string name;
  int http_status;
  std::string body;
  StatusCode code;
  std::vector<std::string> message_has;
};

class ResponseErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(ResponseErrorTest, MapsToStatus) {
  const ErrorCase& c = GetParam();
  auto r = parseQueryResponse(c.http_status, c.body, kQuery);
  ASSERT_FALSE(r.ok()) << "parsed: " << c.body;
  EXPECT_EQ(r.status().code(), c.code) << r.status().toString();
  // Every message names the query.
  EXPECT_NE(r.status().message().find("prometheus query \"" + kQuery + "\""), std::string::npos)
      << r.status().message();
  for (const std::string& part : c.message_has) {
    EXPECT_NE(r.status().message().find(part), std::string::npos)
        << "want \"" << part << "\" in: " << r.status().message();
  }
}

std::string deepNesting(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

INSTANTIATE_TEST_SUITE_P(
    Table, ResponseErrorTest,
    testing::Values(
        // Prometheus's own errors (web/api/v1/api.go: errorBadData -> 400, errorExec -> 422,
        // errorTimeout / errorCanceled -> 503, errorInternal -> 500).
        ErrorCase{
            "BadData",
            400,
            R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})",
            StatusCode::kInvalidArgument,
            {"HTTP 400", "bad_data", "unclosed left parenthesis"}},
        ErrorCase{"Execution",
                  422,
                  R"({"status":"error","errorType":"execution","error":"found duplicate series"})",
                  StatusCode::kFailedPrecondition,
                  {"execution", "found duplicate series"}},
        ErrorCase{
            "Timeout",
            503,
            R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})",
            StatusCode::kDeadlineExceeded,
            {"timeout", "query timed out"}},
        ErrorCase{"Canceled",
                  503,
                  R"({"status":"error","errorType":"canceled","error":"context canceled"})",
                  StatusCode::kUnavailable,
                  {"canceled"}},
        ErrorCase{"Internal",
                  500,
                  R"({"status":"error","errorType":"internal","error":"boom"})",
                  StatusCode::kUnavailable,
                  {"internal", "boom"}},
        ErrorCase{"UnknownErrorTypeBy4xx",
                  404,
                  R"({"status":"error","errorType":"not_found","error":"x"})",
                  StatusCode::kFailedPrecondition,
                  {"not_found"}},
        ErrorCase{"ErrorWithoutFields",
                  500,
                  R"({"status":"error"})",
                  StatusCode::kUnavailable,
                  {"(no message)"}},
        // Not Prometheus: proxies, load balancers, wrong URLs.
        ErrorCase{"Proxy502Html",
                  502,
                  "<html><body>Bad Gateway</body></html>",
                  StatusCode::kUnavailable,
                  {"HTTP 502", "Bad Gateway"}},
        ErrorCase{"Unauthorized", 401, "Unauthorized", StatusCode::kPermissionDenied, {"HTTP 401"}},
        ErrorCase{"Forbidden", 403, "", StatusCode::kPermissionDenied, {"HTTP 403"}},
        ErrorCase{"NotFoundIsNotNotFound",
                  404,
                  "404 page not found",
                  StatusCode::kFailedPrecondition,
                  {"HTTP 404"}},
        ErrorCase{"Throttled", 429, "slow down", StatusCode::kResourceExhausted, {"HTTP 429"}},
        ErrorCase{"RequestTimeout", 408, "", StatusCode::kDeadlineExceeded, {"HTTP 408"}},
        ErrorCase{"SuccessBodyWithErrorStatus",
                  500,
                  R"({"status":"success","data":{"resultType":"vector","result":[]}})",
                  StatusCode::kUnavailable,
                  {"HTTP 500"}},
        // Garbage with a 200.
        ErrorCase{"Empty", 200, "", StatusCode::kUnavailable, {"malformed response", "not JSON"}},
        ErrorCase{"NotJson", 200, "hello", StatusCode::kUnavailable, {"not JSON"}},
        ErrorCase{"Truncated",
                  200,
                  R"({"status":"success","data":{"resultType":"vec)",
                  StatusCode::kUnavailable,
                  {"not JSON"}},
        ErrorCase{"JsonNull", 200, "null", StatusCode::kUnavailable, {"status: missing"}},
        ErrorCase{"JsonArray", 200, "[1,2]", StatusCode::kUnavailable, {"status: missing"}},
        ErrorCase{"EmptyObject", 200, "{}", StatusCode::kUnavailable, {"status: missing"}},
        ErrorCase{"StatusNotString",
                  200,
                  R"({"status":1})",
                  StatusCode::kUnavailable,
                  {"status: missing"}},
        ErrorCase{"UnknownStatus",
                  200,
                  R"({"status":"maybe"})",
                  StatusCode::kUnavailable,
                  {"status: \"maybe\""}},
        ErrorCase{
            "NoData", 200, R"({"status":"success"})", StatusCode::kUnavailable, {"data: missing"}},
        ErrorCase{"DataNotObject",
                  200,
                  R"({"status":"success","data":[]})",
                  StatusCode::kUnavailable,
                  {"data: must be an object"}},
        ErrorCase{"NoResultType",
                  200,
                  R"({"status":"success","data":{"result":[]}})",
                  StatusCode::kUnavailable,
                  {"data.resultType: missing"}},
        ErrorCase{"UnknownResultType",
                  200,
                  R"({"status":"success","data":{"resultType":"tensor","result":[]}})",
                  StatusCode::kUnavailable,
                  {"unknown result type \"tensor\""}},
        ErrorCase{"NoResult",
                  200,
                  R"({"status":"success","data":{"resultType":"vector"}})",
                  StatusCode::kUnavailable,
                  {"data.result: missing"}},
        ErrorCase{"ResultNotArray",
                  200,
                  R"({"status":"success","data":{"resultType":"vector","result":{}}})",
                  StatusCode::kUnavailable,
                  {"data.result: must be an array"}},
        ErrorCase{"SeriesNotObject",
                  200,
                  R"({"status":"success","data":{"resultType":"vector","result":[1]}})",
                  StatusCode::kUnavailable,
                  {"data.result[0]: must be an object"}},
        ErrorCase{
            "LabelNotString",
            200,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":1},"value":[1,"1"]}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].metric.pod: must be a string"}},
        ErrorCase{
            "MetricNotObject",
            200,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":"x","value":[1,"1"]}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].metric: must be an object"}},
        ErrorCase{"NoValue",
                  200,
                  R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}})",
                  StatusCode::kUnavailable,
                  {"data.result[0].value: missing"}},
        ErrorCase{
            "NativeHistogram",
            200,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"histogram":[1,{}]}]}})",
            StatusCode::kUnavailable,
            {"native histogram"}},
        ErrorCase{
            "ValueNotPair",
            200,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"1",2]}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].value: must be a [timestamp"}},
        ErrorCase{
            "ValueNumberNotString",
            200,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,1]}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].value[1]: must be a string"}},
        ErrorCase{
            "ValueNotANumber",
            200,
            R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].value[1]: value \"abc\""}},
        ErrorCase{"TimestampString",
                  200,
                  R"({"status":"success","data":{"resultType":"scalar","result":["1","1"]}})",
                  StatusCode::kUnavailable,
                  {"data.result[0]: must be a number"}},
        ErrorCase{"TimestampHuge",
                  200,
                  R"({"status":"success","data":{"resultType":"scalar","result":[1e300,"1"]}})",
                  StatusCode::kUnavailable,
                  {"timestamp out of range"}},
        ErrorCase{
            "MatrixValuesNotArray",
            200,
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":3}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].values: must be an array"}},
        ErrorCase{
            "MatrixBadPoint",
            200,
            R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2]]}]}})",
            StatusCode::kUnavailable,
            {"data.result[0].values[1]"}},
        ErrorCase{"StringNotPair",
                  200,
                  R"({"status":"success","data":{"resultType":"string","result":"x"}})",
                  StatusCode::kUnavailable,
                  {"data.result: must be a [timestamp"}},
        ErrorCase{"InvalidUtf8",
                  200,
                  std::string("{\"status\":\"succ\xff\xfe\"}"),
                  StatusCode::kUnavailable,
                  {"not JSON"}},
        ErrorCase{"BinaryJunk",
                  200,
                  std::string("\x00\x01\x02\x1b[31m", 8),
                  StatusCode::kUnavailable,
                  {"not JSON"}},
        ErrorCase{"DeepNesting",
                  200,
                  deepNesting(100000),
                  StatusCode::kUnavailable,
                  {"status: missing"}}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

// Error messages show the start of a body with control bytes replaced, so a hostile body
// cannot forge log lines.
TEST(ParseQueryResponse, BodySnippetIsPrintable) {
  auto r = parseQueryResponse(502, "bad\r\nINFO forged line\x1b[0m", kQuery);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find('\x1b'), std::string::npos) << r.status().message();
}

TEST(DescribeQuery, ShortensLongQueriesAtACharacterBoundary) {
  EXPECT_EQ(describeQuery("up"), "prometheus query \"up\"");
  // 199 ASCII bytes then a 2-byte character across the 200-byte cut.
  const std::string query = std::string(199, 'a') + "\xc3\xa9" + std::string(50, 'b');
  const std::string d = describeQuery(query);
  EXPECT_EQ(d, "prometheus query \"" + std::string(199, 'a') + "...\"");
}

// Mutations of valid bodies must never crash, and whatever parses must be well-formed.
TEST(ParseQueryResponse, SurvivesMutatedBodies) {
  const std::vector<std::string> seeds = {
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1700000000.5,"1.5"]},{"metric":{"pod":"b"},"value":[1700000000.5,"NaN"]}]}})",
      R"({"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"+Inf"]]}]}})",
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]}})",
      R"({"status":"error","errorType":"bad_data","error":"parse error"})",
  };
  std::string alphabet = "{}[]\",:0123456789.eE+-NaInfnulltrue\\\xff ";
  alphabet.push_back('\0');
  std::mt19937 rng(20260302);  // Fixed seed: the same bodies every run.
  int parsed = 0;
  int failed = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string body = seeds[i % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          body.erase(at, 1 + rng() % 8);
          break;
        default:
          body.insert(at, 1, alphabet[rng() % alphabet.size()]);
      }
    }
    auto r = parseQueryResponse(200, body, kQuery);
    if (!r.ok()) {
      ++failed;
      EXPECT_NE(r.status().code(), StatusCode::kOk);
      EXPECT_NE(r.status().message().find(kQuery), std::string::npos);
      continue;
    }
    ++parsed;
    for (const Series& s : r->series) {
      if (r->type == ResultType::kVector) {
        EXPECT_EQ(s.samples.size(), 1u) << body;
      }
    }
  }
  // Both outcomes occur, so the loop exercises both paths.
  EXPECT_GT(parsed, 0);
  EXPECT_GT(failed, 0);
}

}  // namespace
}  // namespace governor::controller::prom
