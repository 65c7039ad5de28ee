// The closed loop, end to end: the test API server (a Deployment whose pods become ready),
// the test exporter serving the load a demand curve puts on the ready pods, a real Prometheus
// scraping it, and the real `governor operator` reading Prometheus and scaling the
// Deployment, which changes the per-pod load the exporter serves next.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_support.h"
#include "tests/prometheus/test_prometheus.h"

namespace governor::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kSync = 5s;  // The operator's --sync-period in these tests.

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The operator's successful /scale writes on deployments (the audit log records them).
size_t scaleWrites(E2eCluster& c) {
  size_t n = 0;
  for (const json& r : c.audit("user=" + std::string(kOperatorUser) + "&resource=deployments")) {
    if (r.value("verb", "") == "update" && r.value("subresource", "") == "scale" &&
        r.value("code", 0) == 200) {
      ++n;
    }
  }
  return n;
}

// The exporter in closed-loop mode on Deployment shop/web, and Prometheus scraping it every
// second, with `history` (OpenMetrics) loaded first.
struct Loop {
  std::unique_ptr<TestExporter> exporter;
  std::unique_ptr<TestPrometheus> prometheus;
};

Loop startLoop(E2eCluster& c, const std::string& demand,
               const std::function<std::string(const std::string& target)>& history = nullptr) {
  Loop loop;
  ClosedLoopOptions options;
  options.apiserver_url = c.server().url();
  options.token = kAdminToken;
  options.namespace_ = "shop";
  options.deployment = "web";
  options.demand = demand;
  options.capacity_per_pod = 100;
  auto exporter = TestExporter::start(&options);
  if (!exporter.ok()) {
    ADD_FAILURE() << exporter.status().toString();
    return loop;
  }
  loop.exporter = std::move(exporter).value();
  TestPrometheusOptions prom_options;
  prom_options.targets = {loop.exporter->target()};
  if (history) prom_options.openmetrics_history = history(loop.exporter->target());
  auto prometheus = TestPrometheus::start(prom_options);
  if (!prometheus.ok()) {
    ADD_FAILURE() << prometheus.status().toString();
    return loop;
  }
  loop.prometheus = std::move(prometheus).value();
  return loop;
}

// Polls Prometheus until `query` (one value) equals `want`; returns when it first did.
std::optional<Clock::time_point> whenPrometheusHas(const TestPrometheus& p,
                                                   const std::string& query, double want) {
  if (!waitUntil(
          [&] {
            auto v = p.queryValue(query);
            return v.ok() && std::abs(*v - want) < 1e-9;
          },
          30s, 100ms)) {
    return std::nullopt;
  }
  return Clock::now();
}

constexpr char kDemandQuery[] = R"(demand_requests_per_second{namespace="shop",deployment="web"})";

// A demand step from 100 to 600 requests/s, 100 requests/s per pod, a 60% utilization target:
// the right size is ceil(600 / 60) = 10 pods, reached within two sync periods of Prometheus
// having the samples; back to 2 after the scale-down stabilization window; two scale writes.
// The target is written as 60 requests/s per pod (AverageValue, HPA's Pods metric): a
// Utilization target follows HPA's CPU readiness rules, which discard each new pod's samples
// for its first minute of readiness, and would only make this test a minute longer.
TEST(ClosedLoopE2eTest, DemandStepScalesToTheRightSizeAndBackWithoutFlapping) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  Loop loop = startLoop(*c, "[[0, 100]]");
  ASSERT_TRUE(loop.exporter && loop.prometheus);
  ASSERT_TRUE(
      loop.prometheus->waitForSeries(R"(http_requests_per_second{namespace="shop"})", 30s).ok());

  c->kubectl({"apply", "-f", "-"}, R"(apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 20
  metrics:
    - name: rps
      prometheus:
        query: 'http_requests_per_second{namespace="{{namespace}}",pod=~"{{target}}-.*"}'
        perPod: true
      target: {type: AverageValue, averageValue: "60"}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      policies: [{type: Percent, value: 1000, periodSeconds: 15}]
    scaleDown:
      stabilizationWindowSeconds: 20
)");
  auto op =
      c->startOperator("op", {"--sync-period", "5s", "--prometheus-url", loop.prometheus->url()});
  ASSERT_TRUE(op);

  // 100 requests/s on 2 pods is 50 each: 2 pods for a target of 60 (ceil(100 / 60) = 2).
  ASSERT_TRUE(waitUntil(
      [&] { return c->condition("ScalingActive").value("reason", "") == "ValidMetricFound"; }, 30s))
      << c->policyStatus().dump() << op->logTail();
  EXPECT_EQ(c->replicas(), 2);

  // The step.
  ASSERT_TRUE(loop.exporter->setDemand("[[0, 600]]").ok());
  auto seen_high = whenPrometheusHas(*loop.prometheus, kDemandQuery, 600);
  ASSERT_TRUE(seen_high);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 10; }, 60s, 100ms))
      << "replicas " << c->replicas() << "\n"
      << c->policyStatus().dump() << op->logTail();
  const double up_after = seconds(Clock::now() - *seen_high);
  std::cout << "scaled 2 -> 10 " << up_after << " s after Prometheus had the step\n";
  // Two sync periods, plus the time our own polling of kubectl takes.
  EXPECT_LE(up_after, seconds(2 * kSync) + 2.0) << "scaled up " << up_after << " s after";

  // The right size, held: the new pods bring each to 60%, the target.
  const auto hold_until = Clock::now() + 3 * kSync;
  while (Clock::now() < hold_until) {
    ASSERT_EQ(c->replicas(), 10) << c->policyStatus().dump();
    std::this_thread::sleep_for(250ms);
  }

  // Back down, not before the 20 s stabilization window (less a sync period: the last high
  // recommendation may predate Prometheus's first low sample by one period).
  ASSERT_TRUE(loop.exporter->setDemand("[[0, 100]]").ok());
  auto seen_low = whenPrometheusHas(*loop.prometheus, kDemandQuery, 100);
  ASSERT_TRUE(seen_low);
  ASSERT_TRUE(waitUntil([&] { return c->replicas() == 2; }, 90s, 100ms))
      << "replicas " << c->replicas() << "\n"
      << c->policyStatus().dump() << op->logTail();
  const double down_after = seconds(Clock::now() - *seen_low);
  std::cout << "scaled 10 -> 2 " << down_after << " s after Prometheus had the drop\n";
  EXPECT_GE(down_after, 20.0 - seconds(kSync)) << "scaled down " << down_after << " s after";
  EXPECT_LE(down_after, 20.0 + seconds(2 * kSync) + 2.0) << "scaled down " << down_after;

  // No flapping: one write up, one write down.
  EXPECT_EQ(scaleWrites(*c), 2u) << c->policyStatus().dump();
  EXPECT_EQ(c->condition("ScalingActive").value("reason", ""), "ValidMetricFound");
}

// Five days of a daily demand curve that peaks 10 minutes from now: the operator backfills
// them from Prometheus with range queries, forecasts the peak within its 20-minute lead, and
// scales for it while the live demand is still at the trough, which the threshold policy
// alone would serve with 2 pods.
TEST(ClosedLoopE2eTest, PredictivePolicyBackfillsAndScalesBeforeTheDailyPeak) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const int64_t peak_s = now_s + 600;
  // 100 requests/s, plus a 40-minute triangle up to 600 around the peak's time of day, plus
  // up to 5% of deterministic noise that changes every 5 minutes (a perfectly repeating
  // series would leave the backtest's MASE no error scale).
  auto demand_at = [&](int64_t t) {
    int64_t d = ((t - peak_s) % 86400 + 86400) % 86400;
    d = std::min(d, 86400 - d);
    const double bump = std::max(0.0, 1.0 - static_cast<double>(d) / 1200.0);
    const double noise = 1.0 + 0.05 * std::sin(static_cast<double>(t / 300) * 12.9898);
    return (100.0 + 500.0 * bump) * noise;
  };
  auto history = [&](const std::string& target) {
    std::ostringstream om;
    om << "# HELP demand_requests_per_second Demand.\n"
       << "# TYPE demand_requests_per_second gauge\n";
    // Five days (the model selection's backtest wants more than the two seasons a forecast
    // needs), ending beyond Prometheus's 5-minute lookback so no past sample is read as now.
    for (int64_t t = now_s - 5 * 86400; t < now_s - 360; t += 60) {
      om << "demand_requests_per_second{deployment=\"web\",instance=\"" << target
         << "\",job=\"test\",namespace=\"shop\"} " << demand_at(t) << " " << t << "\n";
    }
    om << "# EOF\n";
    return om.str();
  };
  Loop loop = startLoop(*c, "[[0, 100]]", history);
  ASSERT_TRUE(loop.exporter && loop.prometheus);
  ASSERT_TRUE(loop.prometheus->waitForSeries(kDemandQuery, 30s).ok());

  c->kubectl({"apply", "-f", "-"}, R"(apiVersion: governor.io/v1alpha1
kind: ScalingPolicy
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 20
  metrics:
    - name: rps
      prometheus:
        query: 'sum(demand_requests_per_second{namespace="{{namespace}}",deployment="{{target}}"})'
      target: {type: AverageValue, averageValue: "60"}
  predictive:
    metric: rps
    resolution: 5m
    seasonalPeriods: [24h]
    history: 120h
    leadSeconds: 1200
  behavior:
    scaleUp:
      policies: [{type: Percent, value: 1000, periodSeconds: 15}]
)");
  auto op =
      c->startOperator("op", {"--sync-period", "5s", "--prometheus-url", loop.prometheus->url()});
  ASSERT_TRUE(op);

  // The peak is 600 requests/s at its top minute, a little less as a 5-minute bucket's mean:
  // 9 to 11 pods of 60 depending on the forecast's upper quantile. At least 8 (480
  // requests/s) shows the forecast saw the peak; the trough needs 2.
  constexpr int kPeakPods = 8;
  ASSERT_TRUE(waitUntil([&] { return c->replicas() >= kPeakPods; }, 90s, 250ms))
      << "replicas " << c->replicas() << "\n"
      << c->policyStatus().dump() << op->logTail();
  auto live = loop.prometheus->queryValue(kDemandQuery);
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, 100) << "the peak has not come";

  const json status = c->policyStatus();
  bool predictive = false;
  for (const json& p : status["proposals"]) {
    const std::string policy = p.value("policy", "");
    if (policy.rfind("threshold", 0) == 0) {
      EXPECT_EQ(p.value("replicas", -1), 2) << "the reactive policy alone: " << p.dump();
    }
    if (policy == "predictive") {
      predictive = true;
      EXPECT_GE(p.value("replicas", -1), kPeakPods) << p.dump();
      std::cout << "predictive proposal: " << p.dump() << "\n";
      EXPECT_LE(p.value("replicas", -1), 20) << p.dump();
    }
  }
  EXPECT_TRUE(predictive) << status.dump();
  // The status says why, and what the backfill did.
  EXPECT_EQ(status["predictive"].value("reason", ""), "ForecastReady") << status.dump();
  EXPECT_EQ(status["predictive"].value("backfill", "").rfind("backfilled ", 0), 0u)
      << status.dump();
  const std::string log = op->logTail(1 << 20);
  EXPECT_NE(log.find("backfilled"), std::string::npos) << log;
}

}  // namespace
}  // namespace governor::testing
