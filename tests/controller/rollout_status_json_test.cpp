#include "controller/rollout_status_json.h"

#include <cmath>
#include <functional>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::controller {
namespace {

using nlohmann::json;
using namespace rollouts;  // NOLINT(google-build-using-namespace): the status types.

const TimePoint kT0 = fromUnixSeconds(1'795'667'415);  // 2026-11-26T04:30:15Z

Measurement measurement(int64_t number, TimePoint at, MeasurementPhase phase,
                        std::optional<double> value, std::string message) {
  Measurement m;
  m.number = number;
  m.measured_at = at;
  m.phase = phase;
  m.value = value;
  m.message = std::move(message);
  return m;
}

// A canary mid-update with every field set (times with milliseconds where the codec keeps
// them; conditions' on whole seconds, as metav1.Time).
RolloutStatus canaryStatus() {
  RolloutStatus s;
  s.observed_generation = 7;
  s.phase = RolloutPhase::kPaused;
  s.message = "step 3/6: analysis inconclusive";
  s.strategy = "Canary";
  s.current_step_index = 3;
  s.current_step_started_at = kT0 - Duration(61'234);
  s.paused_at = kT0 - Duration(1'001);
  s.progressing_since = kT0 - Seconds(600);
  s.stable_revision = "6d8b9c4f7";
  s.canary_revision = "7f9c5d6b8";
  s.canary_weight = 30;
  s.collision_count = 1;
  s.replicas = 10;
  s.ready_replicas = 9;
  s.available_replicas = 8;
  s.updated_replicas = 3;
  s.selector = "app=web";
  s.revisions = {{"6d8b9c4f7", RevisionRole::kStable, "web-6d8b9c4f7", 7, 7, 6},
                 {"7f9c5d6b8", RevisionRole::kCanary, "web-7f9c5d6b8", 3, 2, 2},
                 {"5c4b3a291", RevisionRole::kOld, "web-5c4b3a291", 0, 0, 0}};
  RolloutAnalysisRun step;
  step.name = "step-3-success-rate";
  step.kind = AnalysisKind::kStep;
  step.step_index = 3;
  step.template_name = "success-rate";
  step.revision = "7f9c5d6b8";
  step.run.started_at = kT0 - Duration(60'500);
  step.run.phase = AnalysisPhase::kInconclusive;
  step.run.message = "metric success-rate: measurement 2 = 0.93 inconclusive";
  MetricRun rate;
  rate.name = "success-rate";
  rate.phase = AnalysisPhase::kInconclusive;
  rate.message = "measurement 2 = 0.93 inconclusive";
  rate.measured = 3;
  rate.successful = 1;
  rate.failed = 0;
  rate.inconclusive = 1;
  rate.errors = 1;
  rate.consecutive_errors = 0;
  rate.measurements = {
      measurement(1, kT0 - Duration(50'001), MeasurementPhase::kError, std::nullopt, "timeout"),
      measurement(2, kT0 - Duration(40'002), MeasurementPhase::kSuccessful, 0.997, "ok"),
      measurement(3, kT0 - Duration(30'003), MeasurementPhase::kInconclusive, 1e-05, "")};
  MetricRun latency;
  latency.name = "latency-p99";
  latency.measured = 1;
  latency.successful = 1;
  latency.measurements = {
      measurement(1, kT0 - Duration(45'000), MeasurementPhase::kSuccessful, 0.25, "in range")};
  step.run.metrics = {rate, latency};
  step.finished_at = kT0 - Duration(30'003);
  RolloutAnalysisRun background;
  background.name = "background-error-rate";
  background.kind = AnalysisKind::kBackground;
  background.step_index = 1;
  background.template_name = "error-rate";
  background.revision = "7f9c5d6b8";
  background.run.started_at = kT0 - Seconds(300);
  s.analysis_runs = {step, background};
  s.conditions = {{"Progressing", "True", "RolloutPaused", "waiting for a person", kT0},
                  {"Available", "False", "MinimumReplicasUnavailable", "", kT0 - Seconds(90)}};
  s.abort = false;
  s.promote = PromoteRequest::kStep;
  return s;
}

// A blue-green just after the switch, with a person's --full promote and an abort pending.
RolloutStatus blueGreenStatus() {
  RolloutStatus s;
  s.observed_generation = 2;
  s.phase = RolloutPhase::kProgressing;
  s.message = "post-promotion analysis running";
  s.strategy = "BlueGreen";
  s.stable_revision = "aaaa";
  s.canary_revision = "bbbb";
  s.canary_weight = 100;
  s.active_selector = "bbbb";
  s.preview_selector = "bbbb";
  s.preview_ready_at = kT0 - Duration(12'345);
  s.promoted_at = kT0 - Duration(2'000);
  s.scale_down_at = kT0 + Duration(30'007);
  s.previous_active = "aaaa";
  s.revisions = {{"aaaa", RevisionRole::kOld, "web-aaaa", 4, 4, 4},
                 {"bbbb", RevisionRole::kActive, "web-bbbb", 4, 4, 4}};
  RolloutAnalysisRun post;
  post.name = "postpromotion-smoke";
  post.kind = AnalysisKind::kPostPromotion;
  post.template_name = "smoke";
  post.revision = "bbbb";
  post.run.started_at = kT0 - Duration(1'999);
  MetricRun m;
  m.name = "errors";
  m.phase = AnalysisPhase::kFailed;
  m.measured = 2;
  m.failed = 2;
  m.measurements = {
      measurement(1, kT0, MeasurementPhase::kFailed, std::numeric_limits<double>::infinity(), ""),
      measurement(2, kT0 + Duration(1), MeasurementPhase::kFailed,
                  -std::numeric_limits<double>::infinity(), "")};
  post.run.metrics = {m};
  s.analysis_runs = {post};
  s.abort = true;
  s.promote = PromoteRequest::kFull;
  return s;
}

struct RoundTripCase {
  std::string name;
  RolloutStatus status;
};
void PrintTo(const RoundTripCase& c, std::ostream* os) { *os << c.name; }

class RoundTripTest : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(RoundTripTest, SurvivesTheApiServerAsText) {
  const RolloutStatus& original = GetParam().status;
  // What the API server stores is text: render, dump, parse, decode.
  const json stored = json::parse(renderRolloutStatus(original).dump());
  auto decoded = parseRolloutStatus(stored);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, original) << stored.dump(2);
  // And rendering the decoded status again gives the same JSON (a stable fixed point).
  EXPECT_EQ(renderRolloutStatus(*decoded), stored);
}

INSTANTIATE_TEST_SUITE_P(Statuses, RoundTripTest,
                         ::testing::Values(RoundTripCase{"Default", RolloutStatus{}},
                                           RoundTripCase{"CanaryEveryField", canaryStatus()},
                                           RoundTripCase{"BlueGreenEveryField", blueGreenStatus()}),
                         [](const ::testing::TestParamInfo<RoundTripCase>& info) {
                           return info.param.name;
                         });

TEST(RolloutStatusJsonTest, NanMeasurementRoundTrips) {
  // NaN != NaN, so the struct comparison above cannot check it.
  RolloutStatus s = canaryStatus();
  s.analysis_runs[0].run.metrics[0].measurements[1].value =
      std::numeric_limits<double>::quiet_NaN();
  const json j = renderRolloutStatus(s);
  EXPECT_EQ(j["analysisRuns"][0]["metrics"][0]["measurements"][1]["value"], "NaN");
  auto decoded = parseRolloutStatus(json::parse(j.dump()));
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  const auto& value = decoded->analysis_runs[0].run.metrics[0].measurements[1].value;
  ASSERT_TRUE(value.has_value());
  EXPECT_TRUE(std::isnan(*value));
}

TEST(RolloutStatusJsonTest, WritesTheCrdFieldNames) {
  const json c = renderRolloutStatus(canaryStatus());
  EXPECT_EQ(c["observedGeneration"], 7);
  EXPECT_EQ(c["phase"], "Paused");
  EXPECT_EQ(c["strategy"], "Canary");
  EXPECT_EQ(c["currentStepIndex"], 3);
  EXPECT_EQ(c["currentStepStartedAt"], "2026-11-26T04:29:13.766Z");
  EXPECT_EQ(c["pausedAt"], "2026-11-26T04:30:13.999Z");
  EXPECT_EQ(c["progressingSince"], "2026-11-26T04:20:15.000Z");
  EXPECT_EQ(c["canaryWeight"], 30);
  EXPECT_EQ(c["revisions"][1]["podTemplateHash"], "7f9c5d6b8");
  EXPECT_EQ(c["revisions"][1]["role"], "Canary");
  EXPECT_EQ(c["revisions"][1]["replicaSet"], "web-7f9c5d6b8");
  EXPECT_EQ(c["revisions"][2]["role"], "Old");
  const json& run = c["analysisRuns"][0];
  EXPECT_EQ(run["kind"], "Step");
  EXPECT_EQ(run["stepIndex"], 3);
  EXPECT_EQ(run["template"], "success-rate");
  EXPECT_EQ(run["templates"], json::array({"success-rate"}));
  EXPECT_EQ(run["phase"], "Inconclusive");
  EXPECT_EQ(run["metrics"][0]["consecutiveErrors"], 0);
  EXPECT_EQ(run["metrics"][0]["measurements"][0].contains("value"), false);
  EXPECT_EQ(run["metrics"][0]["measurements"][1]["value"], "0.997");
  EXPECT_EQ(run["metrics"][0]["measurements"][2]["value"], "1e-05");
  EXPECT_EQ(c["analysisRuns"][1]["kind"], "Background");
  EXPECT_EQ(c["analysisRuns"][1].contains("finishedAt"), false);
  EXPECT_EQ(c["conditions"][0]["lastTransitionTime"], "2026-11-26T04:30:15Z");
  EXPECT_EQ(c["abort"], false);
  EXPECT_EQ(c["promote"], "Step");

  const json b = renderRolloutStatus(blueGreenStatus());
  EXPECT_EQ(b["strategy"], "BlueGreen");
  EXPECT_EQ(b["previewReadyAt"], "2026-11-26T04:30:02.655Z");
  EXPECT_EQ(b["promotedAt"], "2026-11-26T04:30:13.000Z");
  EXPECT_EQ(b["scaleDownAt"], "2026-11-26T04:30:45.007Z");
  EXPECT_EQ(b["previousActive"], "aaaa");
  EXPECT_EQ(b["analysisRuns"][0]["kind"], "PostPromotion");
  EXPECT_EQ(b["analysisRuns"][0].contains("stepIndex"), false);
  EXPECT_EQ(b["analysisRuns"][0]["metrics"][0]["measurements"][0]["value"], "+Inf");
  EXPECT_EQ(b["analysisRuns"][0]["metrics"][0]["measurements"][1]["value"], "-Inf");
  EXPECT_EQ(b["abort"], true);
  EXPECT_EQ(b["promote"], "Full");
}

TEST(RolloutStatusJsonTest, LeavesUnsetEnumsAndTimesOut) {
  // The schema's enums would reject "" for phase, strategy and promote.
  const json j = renderRolloutStatus(RolloutStatus{});
  for (const char* key : {"phase", "strategy", "promote", "currentStepStartedAt", "pausedAt",
                          "progressingSince", "previewReadyAt", "promotedAt", "scaleDownAt"}) {
    EXPECT_FALSE(j.contains(key)) << key;
  }
}

TEST(RolloutStatusJsonTest, AbsentStatusIsTheDefault) {
  auto null_status = parseRolloutStatus(json(nullptr));
  ASSERT_TRUE(null_status.ok());
  EXPECT_EQ(*null_status, RolloutStatus{});
  auto empty = parseRolloutStatus(json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, RolloutStatus{});
}

TEST(RolloutStatusJsonTest, ReadsTheTemplateFromTheListWhenAlone) {
  // A status written by an older version (or by the CRD test) has only `templates`.
  json j = renderRolloutStatus(canaryStatus());
  j["analysisRuns"][0].erase("template");
  j["analysisRuns"][0]["templates"] = json::array({"from-list"});
  auto decoded = parseRolloutStatus(j);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(decoded->analysis_runs[0].template_name, "from-list");
}

TEST(RolloutStatusJsonTest, ReadsValuesWrittenAsNumbersOrInOtherSpellings) {
  json j = renderRolloutStatus(canaryStatus());
  auto& measurements = j["analysisRuns"][0]["metrics"][0]["measurements"];
  measurements[1]["value"] = 0.5;
  measurements[2]["value"] = "inf";
  auto decoded = parseRolloutStatus(j);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  const auto& got = decoded->analysis_runs[0].run.metrics[0].measurements;
  EXPECT_EQ(got[1].value, 0.5);
  EXPECT_EQ(got[2].value, std::numeric_limits<double>::infinity());
}

struct BadCase {
  std::string name;
  std::function<void(json&)> edit;  // Applied to the canary status.
  std::string want;                 // The start of the message: the field path and why.
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

json& measurementAt(json& j, size_t run, size_t metric, size_t m) {
  return j["analysisRuns"][run]["metrics"][metric]["measurements"][m];
}

std::vector<BadCase> badCases() {
  return {
      {"NotAnObject", [](json& j) { j = json::array(); }, "status: must be an object"},
      {"UnknownPhase", [](json& j) { j["phase"] = "Running"; },
       "status.phase: unknown value \"Running\" (want one of Progressing, Paused"},
      {"PhaseNotAString", [](json& j) { j["phase"] = 3; }, "status.phase: must be one of"},
      {"GenerationAString", [](json& j) { j["observedGeneration"] = "7"; },
       "status.observedGeneration: must be an integer"},
      {"WeightOutOfInt32", [](json& j) { j["canaryWeight"] = int64_t{1} << 40; },
       "status.canaryWeight: out of range: 1099511627776"},
      {"GenerationAboveInt64", [](json& j) { j["observedGeneration"] = uint64_t{1} << 63; },
       "status.observedGeneration: out of range"},
      {"BadStepTime", [](json& j) { j["currentStepStartedAt"] = "yesterday"; },
       "status.currentStepStartedAt: not an RFC 3339 time"},
      {"ScaleDownAtNumber", [](json& j) { j["scaleDownAt"] = 1700000000; },
       "status.scaleDownAt: not an RFC 3339 time"},
      {"RevisionsNotAList", [](json& j) { j["revisions"] = json::object(); },
       "status.revisions: must be a list"},
      {"RevisionNotAnObject", [](json& j) { j["revisions"][1] = "web"; },
       "status.revisions[1]: must be an object"},
      {"RevisionWithoutHash", [](json& j) { j["revisions"][2].erase("podTemplateHash"); },
       "status.revisions[2].podTemplateHash: required"},
      {"UnknownRole", [](json& j) { j["revisions"][0]["role"] = "Primary"; },
       "status.revisions[0].role: unknown value \"Primary\""},
      {"UnknownRunKind", [](json& j) { j["analysisRuns"][1]["kind"] = "Prelude"; },
       "status.analysisRuns[1].kind: unknown value \"Prelude\""},
      {"RunWithoutPhase", [](json& j) { j["analysisRuns"][0].erase("phase"); },
       "status.analysisRuns[0].phase: required"},
      {"StepIndexOutOfInt32", [](json& j) { j["analysisRuns"][0]["stepIndex"] = int64_t{1} << 33; },
       "status.analysisRuns[0].stepIndex: out of range"},
      {"TemplatesNotNames",
       [](json& j) {
         j["analysisRuns"][0]["templates"] = json{1, 2};
       },
       "status.analysisRuns[0].templates: must be a list of template names"},
      {"BadFinishedAt",
       [](json& j) { j["analysisRuns"][0]["finishedAt"] = "2026-13-01T00:00:00Z"; },
       "status.analysisRuns[0].finishedAt: not an RFC 3339 time"},
      {"MetricCounterNotANumber",
       [](json& j) { j["analysisRuns"][0]["metrics"][1]["failed"] = "none"; },
       "status.analysisRuns[0].metrics[1].failed: must be an integer"},
      {"MeasurementTime", [](json& j) { measurementAt(j, 0, 0, 1)["measuredAt"] = "10:00"; },
       "status.analysisRuns[0].metrics[0].measurements[1].measuredAt: not an RFC 3339 time"},
      {"MeasurementValue", [](json& j) { measurementAt(j, 0, 0, 2)["value"] = "0.9x"; },
       "status.analysisRuns[0].metrics[0].measurements[2].value: not a number: \"0.9x\""},
      {"MeasurementValueBool", [](json& j) { measurementAt(j, 0, 0, 2)["value"] = true; },
       "status.analysisRuns[0].metrics[0].measurements[2].value: must be a number as text"},
      {"MeasurementPhase", [](json& j) { measurementAt(j, 0, 1, 0)["phase"] = "Running"; },
       "status.analysisRuns[0].metrics[1].measurements[0].phase: unknown value \"Running\""},
      {"MeasurementWithoutNumber", [](json& j) { measurementAt(j, 0, 0, 0).erase("number"); },
       "status.analysisRuns[0].metrics[0].measurements[0].number: required"},
      {"ConditionTime", [](json& j) { j["conditions"][1]["lastTransitionTime"] = ""; },
       "status.conditions[1].lastTransitionTime: not an RFC 3339 time"},
      {"ConditionWithoutType", [](json& j) { j["conditions"][0].erase("type"); },
       "status.conditions[0].type: required"},
      {"AbortAString", [](json& j) { j["abort"] = "true"; }, "status.abort: must be a boolean"},
      {"UnknownPromote", [](json& j) { j["promote"] = "All"; },
       "status.promote: unknown value \"All\" (want one of Step, Full)"},
  };
}

class BadStatusTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadStatusTest, NamesTheField) {
  json j = renderRolloutStatus(canaryStatus());
  GetParam().edit(j);
  auto got = parseRolloutStatus(j);
  ASSERT_FALSE(got.ok()) << j.dump(2);
  EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message().substr(0, GetParam().want.size()), GetParam().want)
      << got.status().message();
}

INSTANTIATE_TEST_SUITE_P(Table, BadStatusTest, ::testing::ValuesIn(badCases()),
                         [](const ::testing::TestParamInfo<BadCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace governor::controller
