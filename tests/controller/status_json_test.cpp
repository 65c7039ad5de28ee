#include "controller/status_json.h"

#include <string>

#include <gtest/gtest.h>

namespace governor::controller {
namespace {

using nlohmann::json;

const TimePoint kT0 = fromUnixSeconds(1'795'667'415);  // 2026-11-26T04:30:15Z

PolicyStatus fullStatus() {
  PolicyStatus s;
  s.observed_generation = 7;
  s.current_replicas = 4;
  s.desired_replicas = 6;
  s.last_scale_time = kT0;
  s.reason = "ScaleUp";
  s.message = "cpu 90% > target 60%";
  s.proposals = {{"threshold/cpu", 6, "AboveTarget", "cpu 90% > 60%"},
                 {"schedule/business-hours", 3, "ScheduleMinimum", "floor 3"}};
  s.limits = {{"ScaleUpLimit", "at most 4 pods per 15s (Pods policy)"}};
  s.conditions = {{"Ready", "True", "ScaleUp", "ok", kT0 - Seconds(60), 7},
                  {"ScalingLimited", "False", "DesiredWithinRange", "", kT0, 6}};
  s.metric_failures = 2;
  s.predictive = PredictiveStatus{"InsufficientHistory", "need two seasons", ""};
  s.behavior.initialized = true;
  s.behavior.recommendations = {{kT0 - Duration(15'250), 5}, {kT0 + Duration(7), 6}};
  s.behavior.scale_up_events = {{kT0 - Duration(999), 2}};
  s.behavior.scale_down_events = {{kT0 - Seconds(400), 1}};
  s.behavior.last_scale_up = kT0 - Duration(999);
  s.behavior.last_scale_down = kT0 - Seconds(400);
  return s;
}

TEST(StatusJsonTest, RoundTripsEveryField) {
  const PolicyStatus original = fullStatus();
  auto decoded = statusFromJson(statusToJson(original));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, original);
}

TEST(StatusJsonTest, RoundTripsThroughText) {
  // What the API server stores is text: the behavior state must survive it to the millisecond.
  const PolicyStatus original = fullStatus();
  auto decoded = statusFromJson(json::parse(statusToJson(original).dump()));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->behavior, original.behavior);
}

TEST(StatusJsonTest, WritesTheCrdFieldNames) {
  const json j = statusToJson(fullStatus());
  EXPECT_EQ(j["observedGeneration"], 7);
  EXPECT_EQ(j["currentReplicas"], 4);
  EXPECT_EQ(j["desiredReplicas"], 6);
  EXPECT_EQ(j["lastScaleTime"], "2026-11-26T04:30:15Z");
  EXPECT_EQ(j["proposals"][1]["policy"], "schedule/business-hours");
  EXPECT_EQ(j["limits"][0]["reason"], "ScaleUpLimit");
  EXPECT_EQ(j["conditions"][0]["lastTransitionTime"], "2026-11-26T04:29:15Z");
  EXPECT_EQ(j["conditions"][1]["observedGeneration"], 6);
  EXPECT_EQ(j["metricFailures"], 2);
  EXPECT_EQ(j["behavior"]["recommendations"][0]["time"], "2026-11-26T04:29:59.750Z");
  EXPECT_EQ(j["behavior"]["scaleUpEvents"][0]["change"], 2);
  EXPECT_EQ(j["behavior"]["lastScaleDownTime"], "2026-11-26T04:23:35.000Z");
}

TEST(StatusJsonTest, ConditionTimesAreWholeSeconds) {
  PolicyStatus s;
  s.conditions = {{"Ready", "True", "R", "", kT0 + Duration(999), 1}};
  auto decoded = statusFromJson(statusToJson(s));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->conditions[0].last_transition_time, kT0);  // metav1.Time truncates.
}

TEST(StatusJsonTest, AbsentStatusIsTheDefault) {
  for (const json& j : {json(nullptr), json::object()}) {
    auto decoded = statusFromJson(j);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, PolicyStatus{});
  }
}

struct BadCase {
  const char* name;
  const char* status;
  const char* field;  // Expected at the start of the error message.
};

class StatusJsonBadTest : public testing::TestWithParam<BadCase> {};

TEST_P(StatusJsonBadTest, NamesTheField) {
  const auto& c = GetParam();
  auto decoded = statusFromJson(json::parse(c.status));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decoded.status().message().rfind(c.field, 0), 0u) << decoded.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, StatusJsonBadTest,
    testing::Values(
        BadCase{"NotAnObject", R"([1])", "status:"},
        BadCase{"StringGeneration", R"({"observedGeneration": "7"})", "status.observedGeneration:"},
        BadCase{"ReplicasOverflow", R"({"currentReplicas": 4294967296})",
                "status.currentReplicas: out of range"},
        BadCase{"BadLastScaleTime", R"({"lastScaleTime": "yesterday"})", "status.lastScaleTime:"},
        BadCase{"ProposalsNotList", R"({"proposals": {}})", "status.proposals: must be a list"},
        BadCase{"ConditionNotObject", R"({"conditions": ["Ready"]})",
                "status.conditions[0]: must be an object"},
        BadCase{"ConditionTime", R"({"conditions": [{"type": "Ready", "lastTransitionTime": 5}]})",
                "status.conditions[0].lastTransitionTime:"},
        BadCase{"BehaviorNotObject", R"({"behavior": 3})", "status.behavior: must be an object"},
        BadCase{"RecommendationTime",
                R"({"behavior": {"recommendations": [{"time": "2026-11-26T04:30:15Z",
                   "replicas": 3}, {"time": "2026-13-01T00:00:00Z", "replicas": 3}]}})",
                "status.behavior.recommendations[1].time:"},
        BadCase{"EventChange", R"({"behavior": {"scaleDownEvents": [{"change": 1.5}]}})",
                "status.behavior.scaleDownEvents[0].change: must be an integer"},
        BadCase{"Initialized", R"({"behavior": {"initialized": "yes"}})",
                "status.behavior.initialized: must be a boolean"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace governor::controller
