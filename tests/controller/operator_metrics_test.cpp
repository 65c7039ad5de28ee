#include "controller/operator_metrics.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/http.h"

namespace governor::controller {
namespace {

using std::chrono::milliseconds;

using ::governor::testing::HttpResponse;

std::optional<HttpResponse> httpGet(uint16_t port, const std::string& path) {
  return ::governor::testing::httpRequest("127.0.0.1", port, "GET", path);
}

// The samples of an exposition, by series ("name{labels}" as written) -> value.
std::map<std::string, double> samples(const std::string& exposition) {
  std::map<std::string, double> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

MATCHER_P2(HasSample, series, value, "has sample " + std::string(series)) {
  auto it = arg.find(series);
  if (it == arg.end()) {
    *result_listener << "no series " << series;
    return false;
  }
  *result_listener << series << " = " << it->second;
  return std::abs(it->second - value) <= 1e-9 * std::max(1.0, std::abs(double(value)));
}

TEST(OperatorMetricsTest, ServesEveryFamilyWithTheRecordedValues) {
  auto metrics = OperatorMetrics::create("127.0.0.1:0");
  ASSERT_TRUE(metrics.ok()) << metrics.status().toString();
  OperatorMetrics& m = **metrics;
  ASSERT_GT(m.port(), 0);

  m.observeReconcile(milliseconds(20), Status());
  m.observeReconcile(milliseconds(40), Status());
  m.observeReconcile(milliseconds(300), unavailable("api server down"));
  m.observeReconcile(milliseconds(2), Status(StatusCode::kConflict, "stale"));
  m.observeReconcile(milliseconds(3), Status(StatusCode::kConflict, "stale"));
  for (int i = 0; i < 3; ++i) m.recordScaleDecision(ScaleDirection::kUp, false);
  m.recordScaleDecision(ScaleDirection::kDown, true);
  m.setWorkqueueDepth(7);
  m.recordWatchRestart("scalingpolicies");
  m.recordWatchRestart("scalingpolicies");
  m.recordWatchRestart("deployments");
  m.setLeader(true);
  m.setPolicies(4);

  auto response = httpGet(m.port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  ASSERT_EQ(response->status, 200);
  const std::string& body = response->body;
  for (const char* type :
       {"# TYPE governor_reconcile_duration_seconds histogram",
        "# TYPE governor_reconcile_errors_total counter",
        "# TYPE governor_scale_decisions_total counter", "# TYPE governor_workqueue_depth gauge",
        "# TYPE governor_watch_restarts_total counter", "# TYPE governor_leader gauge",
        "# TYPE governor_policies gauge"}) {
    EXPECT_THAT(body, ::testing::HasSubstr(type));
  }

  const auto s = samples(body);
  EXPECT_THAT(s, HasSample("governor_reconcile_duration_seconds_count{result=\"success\"}", 2));
  EXPECT_THAT(s, HasSample("governor_reconcile_duration_seconds_count{result=\"error\"}", 3));
  EXPECT_THAT(s, HasSample("governor_reconcile_duration_seconds_sum{result=\"success\"}", 0.06));
  EXPECT_THAT(
      s,
      HasSample("governor_reconcile_duration_seconds_bucket{result=\"success\",le=\"0.025\"}", 1));
  EXPECT_THAT(
      s,
      HasSample("governor_reconcile_duration_seconds_bucket{result=\"success\",le=\"0.05\"}", 2));
  EXPECT_THAT(
      s, HasSample("governor_reconcile_duration_seconds_bucket{result=\"error\",le=\"0.005\"}", 2));
  EXPECT_THAT(s, HasSample("governor_reconcile_errors_total{reason=\"Unavailable\"}", 1));
  EXPECT_THAT(s, HasSample("governor_reconcile_errors_total{reason=\"Conflict\"}", 2));
  EXPECT_THAT(s,
              HasSample("governor_scale_decisions_total{direction=\"up\",dry_run=\"false\"}", 3));
  EXPECT_THAT(s,
              HasSample("governor_scale_decisions_total{direction=\"down\",dry_run=\"true\"}", 1));
  EXPECT_THAT(s,
              HasSample("governor_scale_decisions_total{direction=\"none\",dry_run=\"false\"}", 0))
      << "fixed label sets exist from the start";
  EXPECT_THAT(s, HasSample("governor_workqueue_depth", 7));
  EXPECT_THAT(s, HasSample("governor_watch_restarts_total{resource=\"scalingpolicies\"}", 2));
  EXPECT_THAT(s, HasSample("governor_watch_restarts_total{resource=\"deployments\"}", 1));
  EXPECT_THAT(s, HasSample("governor_leader", 1));
  EXPECT_THAT(s, HasSample("governor_policies", 4));
  EXPECT_EQ(s.count("governor_reconcile_errors_total{reason=\"OK\"}"), 0u)
      << "successes are not errors";

  // text() renders the same samples (/metrics adds the Exposer's own exposer_* metrics).
  const auto rendered = samples(m.text());
  EXPECT_GT(rendered.size(), 40u);
  for (const auto& [series, value] : rendered) EXPECT_THAT(s, HasSample(series, value));

  m.setLeader(false);
  m.setWorkqueueDepth(0);
  response = httpGet(m.port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  const auto after = samples(response->body);
  EXPECT_THAT(after, HasSample("governor_leader", 0));
  EXPECT_THAT(after, HasSample("governor_workqueue_depth", 0));
}

// The phase series of one Rollout: phase name -> value.
std::map<std::string, double> rolloutPhases(const std::map<std::string, double>& s,
                                            const std::string& ns, const std::string& name) {
  std::map<std::string, double> out;
  for (const char* phase : {"Progressing", "Paused", "Healthy", "Degraded", "Aborted"}) {
    const std::string series = "governor_rollout_phase{namespace=\"" + ns + "\",phase=\"" + phase +
                               "\",rollout=\"" + name + "\"}";
    if (auto it = s.find(series); it != s.end()) out[phase] = it->second;
  }
  return out;
}

TEST(OperatorMetricsTest, RolloutPhaseIsOneSeriesAtOneAndGoesWithTheRollout) {
  auto metrics = OperatorMetrics::create("");
  ASSERT_TRUE(metrics.ok()) << metrics.status().toString();
  OperatorMetrics& m = **metrics;
  using rollouts::RolloutPhase;
  m.setRolloutPhase("shop", "web", RolloutPhase::kProgressing);
  m.setRolloutPhase("shop", "api", RolloutPhase::kAborted);
  m.setRolloutPhase("shop", "web", RolloutPhase::kPaused);
  m.observeRolloutReconcile(milliseconds(20), Status());
  m.observeRolloutReconcile(milliseconds(30), Status(StatusCode::kConflict, "stale"));

  auto s = samples(m.text());
  const std::map<std::string, double> web = {
      {"Progressing", 0}, {"Paused", 1}, {"Healthy", 0}, {"Degraded", 0}, {"Aborted", 0}};
  const std::map<std::string, double> api = {
      {"Progressing", 0}, {"Paused", 0}, {"Healthy", 0}, {"Degraded", 0}, {"Aborted", 1}};
  EXPECT_EQ(rolloutPhases(s, "shop", "web"), web);
  EXPECT_EQ(rolloutPhases(s, "shop", "api"), api);
  EXPECT_THAT(
      s, HasSample("governor_rollout_reconcile_duration_seconds_count{result=\"success\"}", 1));
  EXPECT_THAT(s,
              HasSample("governor_rollout_reconcile_duration_seconds_count{result=\"error\"}", 1));
  EXPECT_THAT(s, HasSample("governor_rollout_reconcile_errors_total{reason=\"Conflict\"}", 1));

  m.forgetRollout("shop", "web");
  m.forgetRollout("shop", "never-seen");  // Nothing to remove.
  s = samples(m.text());
  EXPECT_TRUE(rolloutPhases(s, "shop", "web").empty());
  EXPECT_EQ(rolloutPhases(s, "shop", "api"), api);
  m.setRolloutPhase("shop", "web", RolloutPhase::kHealthy);  // Created again.
  EXPECT_EQ(rolloutPhases(samples(m.text()), "shop", "web").at("Healthy"), 1);
}

TEST(OperatorMetricsTest, EmptyAddressRecordsWithoutServing) {
  auto metrics = OperatorMetrics::create("");
  ASSERT_TRUE(metrics.ok()) << metrics.status().toString();
  EXPECT_EQ((*metrics)->port(), 0);
  (*metrics)->setPolicies(3);
  EXPECT_THAT(samples((*metrics)->text()), HasSample("governor_policies", 3));
  EXPECT_THAT(samples((*metrics)->text()), HasSample("governor_leader", 0));
}

TEST(OperatorMetricsTest, TakenPortIsAClearError) {
  auto first = OperatorMetrics::create("127.0.0.1:0");
  ASSERT_TRUE(first.ok()) << first.status().toString();
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = OperatorMetrics::create(address);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr("metrics server"));
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr(address));
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr("Address already in use"));
  // The first still serves.
  auto response = httpGet((*first)->port(), "/metrics");
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST(OperatorMetricsTest, BadAddressIsInvalidArgument) {
  auto metrics = OperatorMetrics::create("0.0.0.0:metrics");
  ASSERT_FALSE(metrics.ok());
  EXPECT_EQ(metrics.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(metrics.status().message(), ::testing::HasSubstr("\"0.0.0.0:metrics\""));
}

TEST(OperatorMetricsTest, RecordingFromManyThreadsLosesNothing) {
  auto metrics = OperatorMetrics::create("");
  ASSERT_TRUE(metrics.ok()) << metrics.status().toString();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        (*metrics)->recordScaleDecision(ScaleDirection::kNone, true);
        (*metrics)->observeReconcile(milliseconds(1), unavailable("x"));
        (*metrics)->recordWatchRestart("scalingpolicies");
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const auto s = samples((*metrics)->text());
  EXPECT_THAT(
      s, HasSample("governor_scale_decisions_total{direction=\"none\",dry_run=\"true\"}", 4000));
  EXPECT_THAT(s, HasSample("governor_reconcile_errors_total{reason=\"Unavailable\"}", 4000));
  EXPECT_THAT(s, HasSample("governor_reconcile_duration_seconds_count{result=\"error\"}", 4000));
  EXPECT_THAT(s, HasSample("governor_watch_restarts_total{resource=\"scalingpolicies\"}", 4000));
}

TEST(ScaleDirectionTest, LabelValues) {
  EXPECT_EQ(scaleDirectionName(ScaleDirection::kUp), "up");
  EXPECT_EQ(scaleDirectionName(ScaleDirection::kDown), "down");
  EXPECT_EQ(scaleDirectionName(ScaleDirection::kNone), "none");
}

}  // namespace
}  // namespace governor::controller
