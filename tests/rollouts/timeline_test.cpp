#include "rollouts/timeline.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::rollouts {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

// A Rollout of `replicas` whose spec.strategy is `strategy` (YAML, indented under it).
RolloutSpec rollout(int32_t replicas, const std::string& strategy) {
  const std::string text = R"(apiVersion: governor.io/v1alpha1
kind: Rollout
metadata: {name: web, namespace: shop}
spec:
  replicas: )" + std::to_string(replicas) +
                           R"(
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "web:2"}]}
  strategy:
)" + strategy;
  auto spec = parseRollout(text, "test.yaml");
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : RolloutSpec{};
}

// The parts of a row a table compares: what a person reads in `rollout simulate`.
struct Row {
  std::optional<int32_t> step;
  RowKind kind;
  int32_t weight;
  int32_t stable;
  int32_t fresh;
  Duration elapsed;
  std::optional<AnalysisOutcome> verdict = std::nullopt;
  bool lower_bound = false;
  friend bool operator==(const Row&, const Row&) = default;
};

void PrintTo(const Row& r, std::ostream* os) {
  *os << "{step " << (r.step ? std::to_string(*r.step) : "-") << ", " << rowKindName(r.kind) << ", "
      << r.weight << "%, " << r.stable << "/" << r.fresh << ", " << r.elapsed.count() << "ms"
      << (r.lower_bound ? "+" : "") << ", verdict "
      << (r.verdict ? analysisOutcomeName(*r.verdict) : "-") << "}";
}

std::vector<Row> rows(const Timeline& t) {
  std::vector<Row> out;
  for (const auto& r : t.rows) {
    out.push_back({r.step, r.kind, r.weight, r.stable_replicas, r.new_replicas, r.elapsed,
                   r.verdict, r.elapsed_is_lower_bound});
  }
  return out;
}

Timeline build(const RolloutSpec& spec, const TimelineOptions& options = {}) {
  auto t = buildTimeline(spec, options);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : Timeline{};
}

TimelineOptions withAnalysis(const std::string& text,
                             std::map<std::string, Duration> durations = {}) {
  TimelineOptions o;
  auto parsed = parseAnalysisOverride(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  if (parsed.ok()) o.analysis = *parsed;
  o.analysis_durations = std::move(durations);
  return o;
}

constexpr auto kSetWeight = RowKind::kSetWeight;
constexpr auto kPause = RowKind::kPause;
constexpr auto kAnalysis = RowKind::kAnalysis;
constexpr auto kPass = AnalysisOutcome::kPass;
constexpr auto kFail = AnalysisOutcome::kFail;
constexpr auto kInconclusive = AnalysisOutcome::kInconclusive;

const std::string kBasicCanary = R"(    canary:
      steps:
        - setWeight: 20
        - pause: {duration: 10m}
        - analysis: {templates: [{templateName: success-rate}]}
        - setWeight: 50
        - pause: {duration: 5m}
)";

TEST(CanaryTimelineTest, WalksTheStepsAndPromotesWhenAnalysisPasses) {
  const Timeline t =
      build(rollout(10, kBasicCanary), withAnalysis("pass", {{"success-rate", minutes(5)}}));
  EXPECT_FALSE(t.blue_green);
  EXPECT_FALSE(t.traffic_routed);
  EXPECT_EQ(t.replicas, 10);
  const std::vector<Row> want = {
      {0, kSetWeight, 20, 8, 2, minutes(0)},
      {1, kPause, 20, 8, 2, minutes(10)},
      {2, kAnalysis, 20, 8, 2, minutes(15), kPass},
      {3, kSetWeight, 50, 5, 5, minutes(15)},
      {4, kPause, 50, 5, 5, minutes(20)},
      {std::nullopt, RowKind::kPromote, 100, 0, 10, minutes(20)},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.rows[1].wait, minutes(10));
  EXPECT_EQ(t.rows[2].analyses, std::vector<std::string>{"step: success-rate"});
  EXPECT_EQ(t.rows[0].action, "setWeight 20");
  EXPECT_EQ(t.rows[1].action, "pause 10m");
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
  EXPECT_FALSE(t.outcome.step.has_value());
  EXPECT_NE(t.outcome.message.find("100% with 10 pods"), std::string::npos) << t.outcome.message;
}

TEST(CanaryTimelineTest, FailedAnalysisAbortsBackToStable) {
  const Timeline t =
      build(rollout(10, kBasicCanary), withAnalysis("fail", {{"success-rate", minutes(5)}}));
  const std::vector<Row> want = {
      {0, kSetWeight, 20, 8, 2, minutes(0)},
      {1, kPause, 20, 8, 2, minutes(10)},
      {2, kAnalysis, 20, 8, 2, minutes(15), kFail},
      {std::nullopt, RowKind::kAbort, 0, 10, 0, minutes(15)},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.outcome.phase, EndPhase::kAborted);
  EXPECT_EQ(t.outcome.step, 2);
  EXPECT_NE(t.outcome.message.find("success-rate"), std::string::npos) << t.outcome.message;
  EXPECT_NE(t.outcome.message.find("back to the stable revision (10 pods)"), std::string::npos)
      << t.outcome.message;
}

TEST(CanaryTimelineTest, InconclusiveAnalysisPausesForAPerson) {
  const Timeline paused = build(rollout(10, kBasicCanary), withAnalysis("inconclusive@2"));
  ASSERT_EQ(paused.rows.size(), 3u);
  EXPECT_EQ(paused.rows[2].verdict, kInconclusive);
  EXPECT_EQ(paused.outcome.phase, EndPhase::kPaused);
  EXPECT_EQ(paused.outcome.step, 2);
  EXPECT_NE(paused.outcome.message.find("inconclusive"), std::string::npos);

  // Resumed at once: the rest follows, its elapsed time a lower bound (a person acted, and
  // the analysis had no known duration).
  TimelineOptions resume = withAnalysis("inconclusive@2");
  resume.resume = true;
  const Timeline t = build(rollout(10, kBasicCanary), resume);
  const std::vector<Row> want = {
      {0, kSetWeight, 20, 8, 2, minutes(0)},
      {1, kPause, 20, 8, 2, minutes(10)},
      {2, kAnalysis, 20, 8, 2, minutes(10), kInconclusive, true},
      {3, kSetWeight, 50, 5, 5, minutes(10), std::nullopt, true},
      {4, kPause, 50, 5, 5, minutes(15), std::nullopt, true},
      {std::nullopt, RowKind::kPromote, 100, 0, 10, minutes(15), std::nullopt, true},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
}

TEST(CanaryTimelineTest, IndefinitePauseWaitsForAPerson) {
  const RolloutSpec spec = rollout(4, R"(    canary:
      steps: [{setWeight: 25}, {pause: {}}, {setWeight: 75}]
)");
  const Timeline paused = build(spec);
  ASSERT_EQ(paused.rows.size(), 2u);
  EXPECT_TRUE(paused.rows[1].waits_for_person);
  EXPECT_EQ(paused.rows[1].action, "pause until promoted");
  EXPECT_EQ(paused.outcome.phase, EndPhase::kPaused);
  EXPECT_EQ(paused.outcome.step, 1);
  EXPECT_NE(paused.outcome.message.find("waits for a person"), std::string::npos);

  TimelineOptions resume;
  resume.resume = true;
  const Timeline t = build(spec, resume);
  // 4 pods, maxSurge 25% = 1: 25% is 3 + 1 exactly; 75% is 1 + 3.
  const std::vector<Row> want = {
      {0, kSetWeight, 25, 3, 1, minutes(0)},
      {1, kPause, 25, 3, 1, minutes(0), std::nullopt, true},
      {2, kSetWeight, 75, 1, 3, minutes(0), std::nullopt, true},
      {std::nullopt, RowKind::kPromote, 100, 0, 4, minutes(0), std::nullopt, true},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
}

const std::string kBackground = R"(    canary:
      analysis:
        templates: [{templateName: error-rate}]
        startingStep: 2
      steps:
        - setWeight: 10
        - pause: {duration: 1m}
        - setWeight: 30
        - pause: {duration: 1m}
        - setWeight: 60
)";

TEST(CanaryTimelineTest, BackgroundAnalysisRunsFromItsStartingStep) {
  const Timeline t = build(rollout(10, kBackground));
  ASSERT_EQ(t.rows.size(), 6u);
  for (size_t i = 0; i < 5; ++i) {
    if (i < 2) {
      EXPECT_TRUE(t.rows[i].analyses.empty()) << i;
    } else {
      EXPECT_EQ(t.rows[i].analyses, std::vector<std::string>{"background: error-rate"}) << i;
    }
    // Background analysis reports only when it fails or is inconclusive.
    EXPECT_FALSE(t.rows[i].verdict.has_value()) << i;
  }
  EXPECT_EQ(t.rows.back().elapsed, minutes(2));
  EXPECT_FALSE(t.rows.back().elapsed_is_lower_bound);  // It runs alongside: no time of its own.
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
}

struct BackgroundFailCase {
  std::string analysis;
  int32_t aborted_at;
};

class BackgroundFailTest : public testing::TestWithParam<BackgroundFailCase> {};

TEST_P(BackgroundFailTest, AbortsAtTheStepItFailsIn) {
  const Timeline t = build(rollout(10, kBackground), withAnalysis(GetParam().analysis));
  ASSERT_EQ(t.rows.size(), static_cast<size_t>(GetParam().aborted_at) + 2);
  EXPECT_EQ(t.rows[GetParam().aborted_at].verdict, kFail);
  EXPECT_EQ(t.rows.back().kind, RowKind::kAbort);
  EXPECT_EQ(t.rows.back().weight, 0);
  EXPECT_EQ(t.rows.back().stable_replicas, 10);
  EXPECT_EQ(t.rows.back().new_replicas, 0);
  EXPECT_EQ(t.outcome.phase, EndPhase::kAborted);
  EXPECT_EQ(t.outcome.step, GetParam().aborted_at);
  EXPECT_NE(t.outcome.message.find("background: error-rate"), std::string::npos)
      << t.outcome.message;
}

INSTANTIATE_TEST_SUITE_P(Table, BackgroundFailTest,
                         testing::Values(BackgroundFailCase{"fail", 2},  // The first it runs in.
                                         BackgroundFailCase{"fail@2", 2},
                                         BackgroundFailCase{"fail@3", 3},
                                         BackgroundFailCase{"fail@4", 4}));

TEST(CanaryTimelineTest, AnOutcomeForAStepWithoutAnalysisIsAnError) {
  for (const char* text : {"fail@1", "inconclusive@0", "fail@9"}) {
    auto t = buildTimeline(rollout(10, kBackground), withAnalysis(text));
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find("runs no analysis (steps with analysis: 2, 3, 4)"),
              std::string::npos)
        << t.status().message();
  }
  auto none =
      buildTimeline(rollout(10, "    canary: {steps: [{setWeight: 5}]}\n"), withAnalysis("fail@0"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("this Rollout has none"), std::string::npos)
      << none.status().message();
  // Without a step, a Rollout with no analysis simply promotes.
  EXPECT_EQ(build(rollout(10, "    canary: {steps: [{setWeight: 5}]}\n"), withAnalysis("fail"))
                .outcome.phase,
            EndPhase::kHealthy);
}

TEST(CanaryTimelineTest, UnknownAnalysisDurationMakesElapsedALowerBound) {
  const Timeline t = build(rollout(10, kBasicCanary));  // success-rate's duration unknown.
  ASSERT_EQ(t.rows.size(), 6u);
  EXPECT_FALSE(t.rows[1].elapsed_is_lower_bound);
  EXPECT_FALSE(t.rows[2].wait.has_value());
  EXPECT_TRUE(t.rows[2].elapsed_is_lower_bound);
  EXPECT_EQ(t.rows[4].elapsed, minutes(15));
  EXPECT_TRUE(t.rows[5].elapsed_is_lower_bound);
}

TEST(CanaryTimelineTest, AnalysisOfSeveralTemplatesTakesTheLongest) {
  const RolloutSpec spec = rollout(10, R"(    canary:
      steps:
        - analysis: {templates: [{templateName: a}, {templateName: b}]}
)");
  const Timeline t = build(spec, withAnalysis("pass", {{"a", minutes(3)}, {"b", minutes(7)}}));
  EXPECT_EQ(t.rows[0].wait, minutes(7));
  EXPECT_EQ(t.rows[0].elapsed, minutes(7));
  EXPECT_EQ(t.rows[0].action, "analysis a, b");
}

// With a router: the weight is exact, the stable keeps its pods, and before promotion the
// canary is brought to the stable's CURRENT size (here 12, scaled by a ScalingPolicy from
// spec.replicas 4), not to spec.replicas or a policy minimum.
TEST(CanaryTimelineTest, RoutedPromotionBringsTheCanaryToTheStablesCurrentSize) {
  const RolloutSpec spec = rollout(4, R"(    canary:
      stableService: web-stable
      canaryService: web-canary
      trafficRouting: {gatewayAPI: {httpRoute: web}}
      steps:
        - setCanaryScale: {replicas: 1}
        - setWeight: 5
        - setCanaryScale: {matchTrafficWeight: true}
        - setWeight: 25
)");
  TimelineOptions options;
  options.replicas = 12;
  const Timeline t = build(spec, options);
  EXPECT_TRUE(t.traffic_routed);
  EXPECT_EQ(t.replicas, 12);
  const std::vector<Row> want = {
      {0, RowKind::kSetCanaryScale, 0, 12, 1, minutes(0)},
      {1, kSetWeight, 5, 12, 1, minutes(0)},
      {2, RowKind::kSetCanaryScale, 5, 12, 1, minutes(0)},
      {3, kSetWeight, 25, 12, 3, minutes(0)},
      {std::nullopt, RowKind::kFullScale, 25, 12, 12, minutes(0)},
      {std::nullopt, RowKind::kPromote, 100, 12, 12, minutes(0)},
      {std::nullopt, RowKind::kScaleDownOld, 100, 0, 12, minutes(0)},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.rows[4].action, "scale canary to stable's size (12)");
  EXPECT_DOUBLE_EQ(t.rows[1].served_weight, 5.0);  // Exact with a router.
  EXPECT_NE(t.outcome.message.find("12 pods"), std::string::npos);
}

TEST(CanaryTimelineTest, WithoutStepsTheUpdatePromotesAtOnce) {
  const Timeline t = build(rollout(3, "    canary: {}\n"));
  const std::vector<Row> want = {{std::nullopt, RowKind::kPromote, 100, 0, 3, minutes(0)}};
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
}

TEST(CanaryTimelineTest, ServedWeightShowsTheApproximation) {
  // 3 pods, no surge: 10% cannot be served closer than 1 of 3.
  const Timeline t = build(rollout(3, R"(    canary:
      maxSurge: 0
      maxUnavailable: 1
      steps: [{setWeight: 10}]
)"));
  ASSERT_FALSE(t.rows.empty());
  EXPECT_EQ(t.rows[0].weight, 10);
  EXPECT_NEAR(t.rows[0].served_weight, 100.0 / 3, 1e-9);
}

TEST(TimelineTest, NegativeReplicasIsAnError) {
  TimelineOptions options;
  options.replicas = -1;
  EXPECT_FALSE(buildTimeline(rollout(3, "    canary: {}\n"), options).ok());
}

const std::string kBlueGreen = R"(    blueGreen:
      activeService: web-active
      previewService: web-preview
      previewReplicaCount: 2
      autoPromotionSeconds: 120
      scaleDownDelaySeconds: 45
      prePromotionAnalysis: {templates: [{templateName: smoke}]}
      postPromotionAnalysis: {templates: [{templateName: error-rate}]}
)";

const std::map<std::string, Duration> kBlueGreenDurations = {{"smoke", minutes(1)},
                                                             {"error-rate", minutes(5)}};

TEST(BlueGreenTimelineTest, PreviewPromotionAndScaleDownDelay) {
  const Timeline t = build(rollout(6, kBlueGreen), withAnalysis("pass", kBlueGreenDurations));
  EXPECT_TRUE(t.blue_green);
  const std::vector<Row> want = {
      {0, RowKind::kPreview, 0, 6, 2, minutes(0)},
      {1, kAnalysis, 0, 6, 2, minutes(1), kPass},
      {2, RowKind::kAwaitPromotion, 0, 6, 2, minutes(3)},
      {3, RowKind::kFullScale, 0, 6, 6, minutes(3)},
      {4, RowKind::kPromote, 100, 6, 6, minutes(3)},
      {5, kAnalysis, 100, 6, 6, minutes(8), kPass},
      {6, RowKind::kScaleDownOld, 100, 0, 6, minutes(8) + seconds(45)},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.rows[0].action, "preview: new revision at 2 pods behind web-preview");
  EXPECT_EQ(t.rows[4].action, "promote: web-active -> new revision");
  EXPECT_EQ(t.rows[6].action, "scale down old revision after 45s");
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
  EXPECT_NE(t.outcome.message.find("web-active selects the new revision (6 pods)"),
            std::string::npos)
      << t.outcome.message;
}

TEST(BlueGreenTimelineTest, FailedPrePromotionAnalysisKeepsTheOldRevisionActive) {
  const Timeline t = build(rollout(6, kBlueGreen), withAnalysis("fail@1", kBlueGreenDurations));
  const std::vector<Row> want = {
      {0, RowKind::kPreview, 0, 6, 2, minutes(0)},
      {1, kAnalysis, 0, 6, 2, minutes(1), kFail},
      {std::nullopt, RowKind::kAbort, 0, 6, 0, minutes(1)},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.outcome.phase, EndPhase::kAborted);
  EXPECT_EQ(t.outcome.step, 1);
  EXPECT_NE(t.outcome.message.find("web-active stays on the old revision"), std::string::npos)
      << t.outcome.message;
}

TEST(BlueGreenTimelineTest, FailedPostPromotionAnalysisSwitchesBack) {
  const Timeline t = build(rollout(6, kBlueGreen), withAnalysis("fail@5", kBlueGreenDurations));
  ASSERT_EQ(t.rows.size(), 7u);
  EXPECT_EQ(t.rows[5].verdict, kFail);
  const Row back = {std::nullopt, RowKind::kSwitchBack, 0, 6, 0, minutes(8)};
  EXPECT_EQ(rows(t).back(), back);
  EXPECT_EQ(t.outcome.phase, EndPhase::kAborted);
  EXPECT_EQ(t.outcome.step, 5);
  EXPECT_NE(t.outcome.message.find("switched back to the old revision (6 pods)"), std::string::npos)
      << t.outcome.message;
}

TEST(BlueGreenTimelineTest, InconclusivePostPromotionPauses) {
  const Timeline t =
      build(rollout(6, kBlueGreen), withAnalysis("inconclusive@5", kBlueGreenDurations));
  ASSERT_EQ(t.rows.size(), 6u);
  EXPECT_EQ(t.outcome.phase, EndPhase::kPaused);
  EXPECT_EQ(t.outcome.step, 5);
}

TEST(BlueGreenTimelineTest, ManualPromotionWaitsForAPerson) {
  const RolloutSpec spec = rollout(3, R"(    blueGreen:
      activeService: web
      autoPromotionEnabled: false
)");
  const Timeline paused = build(spec);
  ASSERT_EQ(paused.rows.size(), 2u);
  EXPECT_EQ(paused.rows[1].kind, RowKind::kAwaitPromotion);
  EXPECT_TRUE(paused.rows[1].waits_for_person);
  EXPECT_EQ(paused.outcome.phase, EndPhase::kPaused);
  EXPECT_EQ(paused.outcome.step, 1);

  TimelineOptions resume;
  resume.resume = true;
  const Timeline t = build(spec, resume);
  // No preview count: the preview is full-size, so no separate full-scale row.
  const std::vector<Row> want = {
      {0, RowKind::kPreview, 0, 3, 3, minutes(0)},
      {1, RowKind::kAwaitPromotion, 0, 3, 3, minutes(0), std::nullopt, true},
      {2, RowKind::kPromote, 100, 3, 3, minutes(0), std::nullopt, true},
      {3, RowKind::kScaleDownOld, 100, 0, 3, seconds(30), std::nullopt, true},
  };
  EXPECT_EQ(rows(t), want);
  EXPECT_EQ(t.outcome.phase, EndPhase::kHealthy);
}

TEST(BlueGreenTimelineTest, PreviewLargerThanTheCurrentSizeIsClamped) {
  TimelineOptions options;
  options.replicas = 1;  // A ScalingPolicy scaled the Rollout below previewReplicaCount.
  const Timeline t = build(rollout(6, kBlueGreen), options);
  ASSERT_FALSE(t.rows.empty());
  EXPECT_EQ(t.rows[0].new_replicas, 1);
  for (const auto& r : t.rows) EXPECT_NE(r.kind, RowKind::kFullScale);
}

struct OverrideCase {
  std::string text;
  std::optional<AnalysisOverride> want;  // nullopt: an error.
};

class AnalysisOverrideTest : public testing::TestWithParam<OverrideCase> {};

TEST_P(AnalysisOverrideTest, Parses) {
  auto got = parseAnalysisOverride(GetParam().text);
  if (!GetParam().want) {
    ASSERT_FALSE(got.ok()) << GetParam().text;
    EXPECT_NE(got.status().message().find("\"" + GetParam().text + "\""), std::string::npos)
        << got.status().message();
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(*got, *GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, AnalysisOverrideTest,
    testing::Values(OverrideCase{"pass", AnalysisOverride{kPass, std::nullopt}},
                    OverrideCase{"fail", AnalysisOverride{kFail, std::nullopt}},
                    OverrideCase{"inconclusive", AnalysisOverride{kInconclusive, std::nullopt}},
                    OverrideCase{"fail@3", AnalysisOverride{kFail, 3}},
                    OverrideCase{"inconclusive@0", AnalysisOverride{kInconclusive, 0}},
                    OverrideCase{"pass@12", AnalysisOverride{kPass, 12}},
                    OverrideCase{"", std::nullopt}, OverrideCase{"Fail", std::nullopt},
                    OverrideCase{"maybe@1", std::nullopt}, OverrideCase{"fail@", std::nullopt},
                    OverrideCase{"fail@x", std::nullopt}, OverrideCase{"fail@-1", std::nullopt},
                    OverrideCase{"fail@3x", std::nullopt}, OverrideCase{"fail@1@2", std::nullopt}));

TEST(TimelineNamesTest, AreStable) {
  EXPECT_EQ(endPhaseName(EndPhase::kHealthy), "Healthy");
  EXPECT_EQ(endPhaseName(EndPhase::kAborted), "Aborted");
  EXPECT_EQ(endPhaseName(EndPhase::kPaused), "Paused");
  EXPECT_EQ(rowKindName(RowKind::kFullScale), "fullScale");
  EXPECT_EQ(rowKindName(RowKind::kSwitchBack), "switchBack");
  EXPECT_EQ(analysisOutcomeName(kInconclusive), "inconclusive");
}

}  // namespace
}  // namespace governor::rollouts
