// The Prometheus client against a real Prometheus (/usr/bin/prometheus, started here on a
// free loopback port, scraping the test exporter's 100 series): instant-query latency,
// throughput with concurrent callers, the JSON parsing share, and a dedupe cache hit.
//
//   build/bench/bench_prometheus --benchmark_min_time=2
//
// Numbers are the loopback round trip plus Prometheus's evaluation: what a reconcile pays per
// metric, not what a remote Prometheus will cost (add the network's round trip).

#include <memory>
#include <string>

#include <benchmark/benchmark.h>

#include "controller/clock.h"
#include "controller/prometheus/client.h"
#include "controller/prometheus/metrics_source.h"
#include "controller/prometheus/response.h"
#include "tests/prometheus/test_prometheus.h"

namespace {

using governor::TimePoint;
using governor::controller::SystemClock;
using namespace governor::controller::prom;  // NOLINT(google-build-using-namespace)
using governor::testing::TestExporter;
using governor::testing::TestPrometheus;

constexpr int kSeries = 100;

struct Server {
  std::unique_ptr<TestExporter> exporter;
  std::unique_ptr<TestPrometheus> prometheus;
  std::unique_ptr<PrometheusClient> client;
  std::string error;
};

Server startServer() {
  Server s;
  auto exporter = TestExporter::start();
  if (!exporter.ok()) {
    s.error = exporter.status().toString();
    return s;
  }
  s.exporter = std::move(exporter).value();
  std::string series = "[";
  for (int i = 0; i < kSeries; ++i) {
    series += (i > 0 ? "," : "") + std::string(R"({"name":"bench_value","labels":{"pod":"pod-)") +
              std::to_string(i) + R"(","namespace":"bench"},"value":)" + std::to_string(i) + "}";
  }
  series += "]";
  if (auto st = s.exporter->setSeries(series); !st.ok()) {
    s.error = st.toString();
    return s;
  }
  auto prometheus = TestPrometheus::start({.targets = {s.exporter->target()}});
  if (!prometheus.ok()) {
    s.error = prometheus.status().toString();
    return s;
  }
  s.prometheus = std::move(prometheus).value();
  const auto ready = s.prometheus->waitForSeries("count(bench_value) == " + std::to_string(kSeries),
                                                 std::chrono::seconds(30));
  if (!ready.ok()) {
    s.error = ready.toString();
    return s;
  }
  auto client = PrometheusClient::create({.url = s.prometheus->url()});
  if (!client.ok()) {
    s.error = client.status().toString();
    return s;
  }
  s.client = std::move(client).value();
  return s;
}

Server& server() {
  static Server s = startServer();
  return s;
}

void runQueries(benchmark::State& state, const std::string& query, size_t want_series) {
  Server& s = server();
  if (!s.client) {
    state.SkipWithError(("no Prometheus: " + s.error).c_str());
    return;
  }
  const SystemClock clock;
  for (auto _ : state) {
    auto r = s.client->query(query, clock.now());
    if (!r.ok() || r->series.size() != want_series) {
      state.SkipWithError(r.ok() ? "unexpected series count" : r.status().toString().c_str());
      return;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

// One small answer: the round trip's floor.
void BM_InstantQueryOneSeries(benchmark::State& state) { runQueries(state, "vector(1)", 1); }
BENCHMARK(BM_InstantQueryOneSeries)->UseRealTime();

// A per-pod query of 100 pods, as a per-pod metric of a 100-replica Deployment.
void BM_InstantQuery100Series(benchmark::State& state) {
  runQueries(state, R"(bench_value{namespace="bench"})", kSeries);
}
BENCHMARK(BM_InstantQuery100Series)->UseRealTime();

// An aggregation over the 100 series: what most threshold metrics look like.
void BM_InstantQuerySum(benchmark::State& state) {
  runQueries(state, R"(sum(bench_value{namespace="bench"}))", 1);
}
BENCHMARK(BM_InstantQuerySum)->UseRealTime();

// Several workers sharing one client: throughput (items/s) with concurrent requests.
void BM_InstantQueryConcurrent(benchmark::State& state) {
  runQueries(state, R"(sum(bench_value{namespace="bench"}))", 1);
}
BENCHMARK(BM_InstantQueryConcurrent)->Threads(1)->Threads(2)->Threads(4)->Threads(8)->UseRealTime();

// The parsing share of a 100-series answer, without the network.
void BM_ParseResponse100Series(benchmark::State& state) {
  std::string body = R"({"status":"success","data":{"resultType":"vector","result":[)";
  for (int i = 0; i < kSeries; ++i) {
    body +=
        (i > 0 ? "," : "") +
        std::string(
            R"({"metric":{"__name__":"bench_value","job":"test","instance":"127.0.0.1:9","namespace":"bench","pod":"pod-)") +
        std::to_string(i) + R"("},"value":[1772438400.123,")" + std::to_string(i) + R"(.5"]})";
  }
  body += "]}}";
  for (auto _ : state) {
    auto r = parseQueryResponse(200, body, "bench_value");
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_ParseResponse100Series);

// A fetch answered by the dedupe cache (the second policy asking the same query in a round).
void BM_MetricsSourceCacheHit(benchmark::State& state) {
  Server& s = server();
  if (!s.prometheus) {
    state.SkipWithError(("no Prometheus: " + s.error).c_str());
    return;
  }
  auto source = PrometheusMetricsSource::create({.url = s.prometheus->url()});
  if (!source.ok()) {
    state.SkipWithError(source.status().toString().c_str());
    return;
  }
  governor::controller::MetricQuery q;
  q.name = "rps";
  q.query = R"(bench_value{namespace="bench"})";
  q.per_pod = true;
  const TimePoint at = SystemClock().now();
  if (!(*source)->fetch({q}, at).ok()) {
    state.SkipWithError("first fetch failed");
    return;
  }
  for (auto _ : state) {
    auto snap = (*source)->fetch({q}, at);
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_MetricsSourceCacheHit);

}  // namespace
