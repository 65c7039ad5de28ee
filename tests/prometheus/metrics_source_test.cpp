#include "controller/prometheus/metrics_source.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "controller/prometheus/response.h"
#include "policies/engine.h"
#include "policies/spec_parser.h"

namespace governor::controller::prom {
namespace {

using std::chrono::seconds;

const TimePoint kAt = fromUnixSeconds(1772438400);  // 2026-03-02T08:00:00Z.

// Answers from a table (by query), counting calls; optionally holds every call until released.
class FakeApi final : public QueryApi {
 public:
  void answer(const std::string& query, Result<QueryResult> result) {
    std::lock_guard lock(mu_);
    answers_.insert_or_assign(query, std::move(result));
  }
  // A Prometheus-format body, parsed as the real client parses it.
  void answerBody(const std::string& query, const std::string& data_json) {
    answer(query,
           parseQueryResponse(200, R"({"status":"success","data":)" + data_json + "}", query));
  }

  Result<QueryResult> query(std::string_view promql, TimePoint at) override {
    std::unique_lock lock(mu_);
    ++calls_;
    times_.push_back(at);
    cv_.notify_all();
    cv_.wait(lock, [&] { return !hold_; });
    auto it = answers_.find(std::string(promql));
    if (it == answers_.end())
      return Status(StatusCode::kInternal, "no answer for " + std::string(promql));
    return it->second;
  }

  Result<QueryResult> queryRange(std::string_view promql, TimePoint start, TimePoint end,
                                 Duration step) override {
    std::lock_guard lock(mu_);
    ranges_.push_back({start, end});
    if (promql == "two_series") {
      QueryResult r;
      r.type = ResultType::kMatrix;
      r.series.resize(2);
      return r;
    }
    // One series, value = seconds since the epoch, at every step in [start, end].
    QueryResult r;
    r.type = ResultType::kMatrix;
    r.series.emplace_back();
    for (TimePoint t = start; t <= end; t += step) {
      r.series[0].samples.push_back({t, toUnixSeconds(t)});
    }
    return r;
  }

  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<std::pair<TimePoint, TimePoint>> ranges() {
    std::lock_guard lock(mu_);
    return ranges_;
  }
  void hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  // Waits (bounded) until `n` calls have arrived.
  bool waitForCalls(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [&] { return calls_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Result<QueryResult>> answers_;
  std::vector<TimePoint> times_;
  std::vector<std::pair<TimePoint, TimePoint>> ranges_;
  int calls_ = 0;
  bool hold_ = false;
};

MetricQuery metric(std::string name, std::string query, bool per_pod = false,
                   std::optional<std::string> address = std::nullopt) {
  MetricQuery q;
  q.name = std::move(name);
  q.query = std::move(query);
  q.per_pod = per_pod;
  q.address = std::move(address);
  return q;
}

class MetricsSourceTest : public testing::Test {
 protected:
  std::shared_ptr<FakeApi> api_ = std::make_shared<FakeApi>();
  PrometheusMetricsSource source_{api_, nullptr};
};

TEST_F(MetricsSourceTest, ScalarAndSingleSeries) {
  api_->answerBody("s", R"({"resultType":"scalar","result":[1772438400,"2.5"]})");
  api_->answerBody(
      "v",
      R"({"resultType":"vector","result":[{"metric":{"job":"x"},"value":[1772438400.25,"7"]}]})");
  auto snap = source_.fetch({metric("a", "s"), metric("b", "v")}, kAt);
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  ASSERT_EQ(snap->samples.count("a"), 1u);
  EXPECT_EQ(snap->samples.at("a").value, 2.5);
  EXPECT_EQ(snap->samples.at("b").value, 7.0);
  EXPECT_EQ(snap->samples.at("b").timestamp.time_since_epoch().count(), 1772438400250);
  EXPECT_TRUE(snap->samples.at("b").per_pod.empty());
}

TEST_F(MetricsSourceTest, EmptyResultIsAbsentNotZero) {
  api_->answerBody("none", R"({"resultType":"vector","result":[]})");
  auto snap = source_.fetch({metric("a", "none"), metric("p", "none", /*per_pod=*/true)}, kAt);
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  EXPECT_EQ(snap->samples.count("a"), 0u);
  EXPECT_EQ(snap->samples.count("p"), 0u);
}

TEST_F(MetricsSourceTest, NaNAndInfinitiesArePassedOnUnchanged) {
  api_->answerBody("nan", R"({"resultType":"scalar","result":[1772438400,"NaN"]})");
  api_->answerBody(
      "inf", R"({"resultType":"vector","result":[{"metric":{},"value":[1772438400,"+Inf"]}]})");
  api_->answerBody(
      "ninf", R"({"resultType":"vector","result":[{"metric":{},"value":[1772438400,"-Inf"]}]})");
  auto snap =
      source_.fetch({metric("nan", "nan"), metric("inf", "inf"), metric("ninf", "ninf")}, kAt);
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  ASSERT_TRUE(snap->samples.at("nan").value.has_value());
  EXPECT_TRUE(std::isnan(*snap->samples.at("nan").value));
  EXPECT_EQ(*snap->samples.at("inf").value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(*snap->samples.at("ninf").value, -std::numeric_limits<double>::infinity());
}

TEST_F(MetricsSourceTest, PerPodSeriesByPodName) {
  api_->answerBody("pods", R"({"resultType":"vector","result":[
      {"metric":{"pod":"web-1","namespace":"prod"},"value":[1772438400,"10"]},
      {"metric":{"pod":"web-2","namespace":"prod"},"value":[1772438401,"NaN"]}]})");
  auto snap = source_.fetch({metric("rps", "pods", /*per_pod=*/true)}, kAt);
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  const policies::MetricSample& s = snap->samples.at("rps");
  EXPECT_FALSE(s.value.has_value());
  ASSERT_EQ(s.per_pod.size(), 2u);
  EXPECT_EQ(s.per_pod.at("web-1").value, 10.0);
  EXPECT_EQ(s.per_pod.at("web-1").window, Duration(60'000));
  EXPECT_TRUE(std::isnan(s.per_pod.at("web-2").value));
  EXPECT_EQ(s.per_pod.at("web-2").timestamp, fromUnixSeconds(1772438401));
  EXPECT_EQ(s.timestamp, fromUnixSeconds(1772438401));
}

struct ShapeCase {
  std::string name;
  bool per_pod;
  std::string data;
  std::string error_has;
};

class ShapeErrorTest : public testing::TestWithParam<ShapeCase> {};

// A result of the wrong shape is an error for that metric, never a guess.
TEST_P(ShapeErrorTest, IsAnErrorForThatMetric) {
  const ShapeCase& c = GetParam();
  auto api = std::make_shared<FakeApi>();
  api->answerBody("q", c.data);
  api->answerBody("good", R"({"resultType":"scalar","result":[1772438400,"1"]})");
  PrometheusMetricsSource source(api, nullptr);
  FetchReport report = source.fetchAll({metric("m", "q", c.per_pod), metric("ok", "good")}, kAt);
  EXPECT_EQ(report.snapshot.samples.count("m"), 0u);
  EXPECT_EQ(report.snapshot.samples.count("ok"), 1u);
  ASSERT_EQ(report.errors.count("m"), 1u);
  const Status& error = report.errors.at("m");
  EXPECT_EQ(error.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(error.message().find("prometheus query \"q\""), std::string::npos) << error.message();
  EXPECT_NE(error.message().find(c.error_has), std::string::npos) << error.message();
  EXPECT_EQ(source.counters().errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ShapeErrorTest,
    testing::Values(
        ShapeCase{
            "SeveralSeriesAreNotSummed", false,
            R"({"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1,"1"]},{"metric":{"pod":"b"},"value":[1,"2"]}]})",
            R"(returned 2 series (first {pod="a"}, {pod="b"}), expected one)"},
        ShapeCase{"Matrix", false,
                  R"({"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"]]}]})",
                  "range vector"},
        ShapeCase{"String", false, R"({"resultType":"string","result":[1,"x"]})",
                  "returned a string"},
        ShapeCase{"PerPodScalar", true, R"({"resultType":"scalar","result":[1,"1"]})",
                  "is per-pod but returned a scalar"},
        ShapeCase{
            "PerPodWithoutPodLabel", true,
            R"({"resultType":"vector","result":[{"metric":{"instance":"x"},"value":[1,"1"]}]})",
            R"(series {instance="x"} has no pod label)"},
        ShapeCase{
            "PerPodDuplicatePod", true,
            R"({"resultType":"vector","result":[{"metric":{"pod":"a","c":"1"},"value":[1,"1"]},{"metric":{"pod":"a","c":"2"},"value":[1,"2"]}]})",
            R"(several series for pod "a")"}),
    [](const testing::TestParamInfo<ShapeCase>& info) { return info.param.name; });

TEST_F(MetricsSourceTest, PartialFailureKeepsTheOthers) {
  api_->answer("bad", Status(StatusCode::kInvalidArgument, "prometheus query \"bad\": bad_data"));
  api_->answerBody("good", R"({"resultType":"scalar","result":[1772438400,"3"]})");
  auto snap = source_.fetch({metric("a", "bad"), metric("b", "good")}, kAt);
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  EXPECT_EQ(snap->samples.count("a"), 0u);
  EXPECT_EQ(snap->samples.at("b").value, 3.0);
}

TEST_F(MetricsSourceTest, EveryMetricFailedIsAnError) {
  api_->answer("down", Status(StatusCode::kUnavailable, "prometheus query \"down\": refused"));
  auto r = source_.fetch({metric("cpu", "down"), metric("rps", "down")}, kAt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("metric cpu: prometheus query \"down\""), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("1 more"), std::string::npos) << r.status().message();
}

TEST_F(MetricsSourceTest, NoQueriesIsAnEmptySnapshot) {
  auto r = source_.fetch({}, kAt);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->samples.empty());
}

// "Identical queries across policies in one sync round are sent once."
TEST_F(MetricsSourceTest, IdenticalQueriesWithinTheWindowAreSentOnce) {
  api_->answerBody("q", R"({"resultType":"scalar","result":[1772438400,"1"]})");
  // Two policies in one round, 2 s apart, the same query under different metric names.
  ASSERT_TRUE(source_.fetch({metric("a", "q"), metric("b", "q")}, kAt).ok());
  ASSERT_TRUE(source_.fetch({metric("c", "q")}, kAt + seconds(2)).ok());
  EXPECT_EQ(api_->calls(), 1);
  EXPECT_EQ(source_.counters().queries_sent, 1u);
  EXPECT_EQ(source_.counters().cache_hits, 2u);
  // The next round (beyond the 5 s window) asks again.
  ASSERT_TRUE(source_.fetch({metric("a", "q")}, kAt + seconds(15)).ok());
  EXPECT_EQ(api_->calls(), 2);
  EXPECT_EQ(source_.counters().queries_sent, 2u);
}

TEST_F(MetricsSourceTest, ErrorsAreSharedWithinTheWindowToo) {
  api_->answer("down", Status(StatusCode::kDeadlineExceeded, "prometheus query \"down\": slow"));
  EXPECT_FALSE(source_.fetch({metric("a", "down")}, kAt).ok());
  EXPECT_FALSE(source_.fetch({metric("b", "down")}, kAt + seconds(1)).ok());
  EXPECT_EQ(api_->calls(), 1);
  EXPECT_EQ(source_.counters().errors, 2u);  // Two metrics ended in an error.
}

TEST(MetricsSource, ZeroWindowDisablesTheCache) {
  auto api = std::make_shared<FakeApi>();
  api->answerBody("q", R"({"resultType":"scalar","result":[1772438400,"1"]})");
  PrometheusMetricsSource source(api, nullptr, {.dedupe_window = Duration::zero()});
  ASSERT_TRUE(source.fetch({metric("a", "q"), metric("b", "q")}, kAt).ok());
  EXPECT_EQ(api->calls(), 2);
  EXPECT_EQ(source.counters().cache_hits, 0u);
}

// Concurrent identical requests wait for the one in flight instead of sending their own.
TEST_F(MetricsSourceTest, ConcurrentIdenticalQueriesShareOneRequest) {
  api_->answerBody("q", R"({"resultType":"scalar","result":[1772438400,"4"]})");
  api_->hold();
  constexpr int kThreads = 8;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  threads.emplace_back([&] {
    auto r = source_.fetch({metric("a", "q")}, kAt);
    if (r.ok() && r->samples.at("a").value == 4.0) ++ok;
  });
  ASSERT_TRUE(api_->waitForCalls(1));  // The first request is in flight, held.
  for (int i = 1; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = source_.fetch({metric("m" + std::to_string(i), "q")}, kAt);
      if (r.ok() && r->samples.begin()->second.value == 4.0) ++ok;
    });
  }
  api_->release();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads);
  EXPECT_EQ(api_->calls(), 1);
  EXPECT_EQ(source_.counters().cache_hits, static_cast<uint64_t>(kThreads - 1));
}

TEST(MetricsSource, AddressesAreRoutedAndCachedSeparately) {
  auto default_api = std::make_shared<FakeApi>();
  auto other_api = std::make_shared<FakeApi>();
  default_api->answerBody("q", R"({"resultType":"scalar","result":[1772438400,"1"]})");
  other_api->answerBody("q", R"({"resultType":"scalar","result":[1772438400,"2"]})");
  std::vector<std::string> resolved;
  PrometheusMetricsSource source(
      default_api, [&](const std::string& address) -> Result<std::shared_ptr<QueryApi>> {
        resolved.push_back(address);
        if (address == "http://thanos:9090") return std::shared_ptr<QueryApi>(other_api);
        return Status(StatusCode::kFailedPrecondition, "address \"" + address + "\": unknown");
      });
  const std::vector<MetricQuery> queries = {metric("d", "q"),
                                            metric("t", "q", false, "http://thanos:9090"),
                                            metric("x", "q", false, "http://nowhere:1")};
  FetchReport first = source.fetchAll(queries, kAt);
  FetchReport second = source.fetchAll(queries, kAt + seconds(30));
  for (const FetchReport* r : {&first, &second}) {
    EXPECT_EQ(r->snapshot.samples.at("d").value, 1.0);
    EXPECT_EQ(r->snapshot.samples.at("t").value, 2.0);
    ASSERT_EQ(r->errors.count("x"), 1u);
    EXPECT_NE(r->errors.at("x").message().find("http://nowhere:1"), std::string::npos);
  }
  EXPECT_EQ(default_api->calls(), 2);
  EXPECT_EQ(other_api->calls(), 2);
  // A known address is resolved once; a failed one is retried.
  EXPECT_EQ(resolved, (std::vector<std::string>{"http://thanos:9090", "http://nowhere:1",
                                                "http://nowhere:1"}));
}

TEST(MetricsSource, CreateChecksEndpoints) {
  auto bad = PrometheusMetricsSource::create({.url = "ftp://x"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("default endpoint: url"), std::string::npos)
      << bad.status().message();

  auto bad_other = PrometheusMetricsSource::create(
      {.url = "http://127.0.0.1:1"}, {{"http://mimir", PrometheusEndpoint{.url = ""}}});
  ASSERT_FALSE(bad_other.ok());
  EXPECT_NE(bad_other.status().message().find("endpoint \"http://mimir\""), std::string::npos)
      << bad_other.status().message();
}

TEST(MetricsSource, UnlistedAddressesCanBeRefused) {
  auto source = PrometheusMetricsSource::create({.url = "http://127.0.0.1:1"}, {},
                                                {.allow_unlisted_addresses = false});
  ASSERT_TRUE(source.ok()) << source.status().toString();
  FetchReport r = (*source)->fetchAll({metric("m", "up", false, "http://elsewhere:9090")}, kAt);
  ASSERT_EQ(r.errors.count("m"), 1u);
  EXPECT_EQ(r.errors.at("m").code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.errors.at("m").message().find("not a configured Prometheus endpoint"),
            std::string::npos)
      << r.errors.at("m").message();
}

TEST(MetricsSource, HistoryUsesTheQuerysEndpoint) {
  auto api = std::make_shared<FakeApi>();
  PrometheusMetricsSource source(api, nullptr);
  auto h = source.history(metric("m", "load"), kAt, kAt + seconds(60), seconds(15));
  ASSERT_TRUE(h.ok()) << h.status().toString();
  ASSERT_EQ(h->size(), 5u);
  EXPECT_EQ(h->front().time, kAt);
  EXPECT_EQ(h->back().time, kAt + seconds(60));
}

// --- A NaN never becomes a scale decision (policies/threshold.cpp, policies/engine.cpp). ---

policies::PolicySpec policy(const std::string& metrics) {
  const std::string text =
      "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: web}\nspec:\n"
      "  scaleTargetRef: {kind: Deployment, name: web}\n"
      "  minReplicas: 1\n  maxReplicas: 20\n"
      "  behavior: {scaleDown: {stabilizationWindowSeconds: 0}}\n"
      "  metrics:\n" +
      metrics;
  auto parsed = policies::parsePolicy(text, "metrics_source_test");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : policies::PolicySpec{};
}

// What decide() makes of `value` for metric "rps" (target: averageValue 100) on 4 ready pods,
// the value coming from a Prometheus body through the source: the total, or every pod's.
policies::Decision decideOn(const std::string& value, bool per_pod) {
  auto api = std::make_shared<FakeApi>();
  if (per_pod) {
    std::string series;
    for (int i = 1; i <= 4; ++i) {
      series += std::string(i > 1 ? "," : "") + R"({"metric":{"pod":"web-)" + std::to_string(i) +
                R"("},"value":[1772438400,")" + value + R"("]})";
    }
    api->answerBody("q", R"({"resultType":"vector","result":[)" + series + "]}");
  } else {
    api->answerBody("q", R"({"resultType":"vector","result":[{"metric":{},"value":[1772438400,")" +
                             value + R"("]}]})");
  }
  PrometheusMetricsSource source(api, nullptr);
  MetricQuery q = metric("rps", "q", per_pod);
  auto snap = source.fetch({q}, kAt);
  EXPECT_TRUE(snap.ok()) << snap.status().toString();
  const policies::PolicySpec spec = policy(
      std::string("    - {name: rps, prometheus: {query: q, perPod: ") +
      (per_pod ? "true" : "false") + "}, target: {type: AverageValue, averageValue: 100}}\n");
  policies::Observation obs;
  obs.current_replicas = 4;
  obs.ready_replicas = 4;
  for (int i = 1; i <= 4; ++i) {
    policies::PodInfo pod;
    pod.name = "web-" + std::to_string(i);
    pod.ready = true;
    pod.start_time = kAt - seconds(3600);
    pod.ready_transition = kAt - seconds(3500);
    obs.pods.push_back(pod);
  }
  if (snap.ok()) obs.metrics = snap->samples;
  policies::BehaviorState state;
  return policies::decide(spec, obs, state, kAt);
}

struct NanCase {
  std::string name;
  std::string value;
  bool per_pod;
};

class InvalidValueTest : public testing::TestWithParam<NanCase> {};

TEST_P(InvalidValueTest, HoldsTheCount) {
  const NanCase& c = GetParam();
  const policies::Decision d = decideOn(c.value, c.per_pod);
  EXPECT_EQ(d.replicas, 4) << d.reason << ": " << d.message;
  EXPECT_FALSE(d.scale());
  EXPECT_FALSE(d.scaling_active) << d.reason;
}

INSTANTIATE_TEST_SUITE_P(
    Table, InvalidValueTest,
    testing::Values(NanCase{"NaN", "NaN", false}, NanCase{"PlusInf", "+Inf", false},
                    NanCase{"MinusInf", "-Inf", false}, NanCase{"PerPodNaN", "NaN", true},
                    NanCase{"PerPodPlusInf", "+Inf", true}),
    [](const testing::TestParamInfo<NanCase>& info) { return info.param.name; });

// The same path with real numbers does scale, so holding above is the data's doing: a NaN
// read as 0 would have scaled down to 1, read as huge would have scaled up.
TEST(InvalidValue, ValidValuesDoScale) {
  EXPECT_EQ(decideOn("0", false).replicas, 1);
  EXPECT_EQ(decideOn("800", false).replicas, 8);
  EXPECT_EQ(decideOn("0", true).replicas, 1);
}

// An invalid metric next to a valid one that would scale down blocks the scale-down (HPA).
TEST(InvalidValue, NaNBlocksAScaleDownByAnotherMetric) {
  auto api = std::make_shared<FakeApi>();
  api->answerBody("nan", R"({"resultType":"scalar","result":[1772438400,"NaN"]})");
  api->answerBody("low", R"({"resultType":"scalar","result":[1772438400,"10"]})");
  PrometheusMetricsSource source(api, nullptr);
  auto snap = source.fetch({metric("a", "nan"), metric("b", "low")}, kAt);
  ASSERT_TRUE(snap.ok());
  const policies::PolicySpec spec = policy(
      "    - {name: a, prometheus: {query: nan}, target: {type: AverageValue, averageValue: 100}}\n"
      "    - {name: b, prometheus: {query: low}, target: {type: AverageValue, averageValue: "
      "100}}\n");
  policies::Observation obs;
  obs.current_replicas = 4;
  obs.ready_replicas = 4;
  obs.metrics = snap->samples;
  policies::BehaviorState state;
  const policies::Decision d = policies::decide(spec, obs, state, kAt);
  EXPECT_EQ(d.replicas, 4) << d.reason << ": " << d.message;
}

// --- queryRangeSeries ---

TEST(QueryRangeSeries, SplitsLongRangesUnderPrometheusLimit) {
  FakeApi api;
  const TimePoint start = kAt;
  const TimePoint end = kAt + std::chrono::hours(24 * 14);  // Two weeks at 1 min: 20,161 points.
  auto samples = queryRangeSeries(api, "load", start, end, std::chrono::minutes(1));
  ASSERT_TRUE(samples.ok()) << samples.status().toString();
  ASSERT_EQ(samples->size(), 20161u);
  for (size_t i = 1; i < samples->size(); ++i) {
    ASSERT_EQ((*samples)[i].timestamp - (*samples)[i - 1].timestamp, std::chrono::minutes(1))
        << "at " << i;
  }
  EXPECT_EQ(samples->back().timestamp, end);
  const auto ranges = api.ranges();
  ASSERT_EQ(ranges.size(), 3u);
  for (const auto& [from, to] : ranges) {
    EXPECT_LE((to - from) / std::chrono::minutes(1) + 1, 10'000);
  }
}

TEST(QueryRangeSeries, RefusesSeveralSeriesAndBadRanges) {
  FakeApi api;
  auto two = queryRangeSeries(api, "two_series", kAt, kAt + seconds(60), seconds(15));
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(two.status().message().find("2 series"), std::string::npos);
  EXPECT_EQ(queryRangeSeries(api, "x", kAt, kAt - seconds(1), seconds(1)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(queryRangeSeries(api, "x", kAt, kAt, Duration::zero()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FormatLabels, EscapesAndShortens) {
  EXPECT_EQ(formatLabels({}), "{}");
  EXPECT_EQ(formatLabels({{"a", "x\"y"}, {"b", "1"}}), R"({a="x\"y",b="1"})");
  Labels many;
  for (int i = 0; i < 12; ++i) many["l" + std::to_string(10 + i)] = "v";
  const std::string text = formatLabels(many);
  EXPECT_NE(text.find(",...}"), std::string::npos) << text;
}

}  // namespace
}  // namespace governor::controller::prom
