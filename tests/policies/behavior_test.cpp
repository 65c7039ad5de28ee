#include "policies/behavior.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

// The tables use designated initializers and leave defaulted fields out on purpose; GCC
// (unlike Clang) warns about that in C++.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "policies/spec.h"

// Parity tables port the cases of Kubernetes' pkg/controller/podautoscaler/horizontal_test.go;
// each case names its Kubernetes test and case. Kubernetes computes times from time.Now();
// here every time is relative to a fixed epoch.

namespace governor::policies {

// Readable failures.
void PrintTo(const Limit& l, std::ostream* os) {
  *os << "{" << l.reason << ", " << l.message << "}";
}
void PrintTo(const TimedRecommendation& r, std::ostream* os) {
  *os << "{" << toUnixSeconds(r.at) << ", " << r.replicas << "}";
}
void PrintTo(const ScaleEvent& e, std::ostream* os) {
  *os << "{" << toUnixSeconds(e.at) << ", " << e.change << "}";
}

namespace {

constexpr int32_t kMaxInt = std::numeric_limits<int32_t>::max();
constexpr int32_t kMinInt = std::numeric_limits<int32_t>::min();

const TimePoint kNow = TimePoint(Duration(int64_t{1'700'000'000'000}));  // 2023-11-14T22:13:20Z

TimePoint ago(double seconds, TimePoint now = kNow) {
  return now - Duration(std::llround(seconds * 1000));
}
TimePoint after(double seconds, TimePoint now = kNow) {
  return now + Duration(std::llround(seconds * 1000));
}
Duration secs(double s) { return Duration(std::llround(s * 1000)); }

// gtest names: letters, digits and underscores.
std::string testName(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

template <typename Case>
std::string caseName(const testing::TestParamInfo<Case>& info) {
  return testName(info.param.name);
}

// Table rows print as their names.
template <typename Case>
requires requires(const Case& c) { c.name; }
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// Kubernetes' generateScalingRules: selectPolicy Max, a Pods policy when pods != 0 and a
// Percent policy when percent != 0.
ScalingRules rules(int32_t pods, int32_t pods_period, int32_t percent, int32_t percent_period,
                   int32_t window) {
  ScalingRules r;
  r.stabilization_window = Seconds(window);
  r.select_policy = SelectPolicy::kMax;
  if (pods != 0) r.policies.push_back({ScalingPolicyType::kPods, pods, Seconds(pods_period)});
  if (percent != 0) {
    r.policies.push_back({ScalingPolicyType::kPercent, percent, Seconds(percent_period)});
  }
  return r;
}

// Kubernetes' generateEventsUniformDistribution: the events spread evenly over the last
// `period` seconds, each in the middle of its segment. {1, 5, 9} over 120 s: at -100 s, -60 s
// and -20 s; {8, 12, 9, 11} over 120 s: -105 s, -75 s, -45 s, -15 s.
std::vector<ScaleEvent> uniformEvents(const std::vector<int32_t>& changes, int period) {
  std::vector<ScaleEvent> events;
  const double segment = static_cast<double>(period) / static_cast<double>(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) {
    const double age = period - segment * static_cast<double>(i + 1) + segment / 2;
    events.push_back({ago(age), changes[i]});
  }
  return events;
}

// Behavior whose rate limits never bind: isolates stabilization.
Behavior stabilizationOnly(int32_t up_window, int32_t down_window) {
  Behavior b;
  b.scale_up = rules(1'000'000, 15, 0, 0, up_window);
  b.scale_down = rules(1'000'000, 15, 0, 0, down_window);
  return b;
}

BehaviorState freshHistory() {
  BehaviorState s;
  s.initialized = true;  // Kubernetes' unit tests start from a given (possibly empty) history.
  return s;
}

std::vector<std::string> reasons(const BehaviorResult& r) {
  std::vector<std::string> out;
  for (const Limit& l : r.limits) out.push_back(l.reason);
  return out;
}

// HPA's ScalingLimited reason (convertDesiredReplicasWithBehaviorRate) for a proposal that
// Governor rate-limited to `limited` and the engine then clamped to [min, max]: the tighter
// bound names the condition, a tie goes to the replica bound.
std::string hpaCondition(int32_t current, int32_t desired, int32_t limited, int32_t min,
                         int32_t max) {
  const int32_t final_count = std::clamp(limited, min, max);
  if (final_count == desired) return "DesiredWithinRange";
  if (desired > current) {
    return limited < desired && max > limited ? "ScaleUpLimit" : "TooManyReplicas";
  }
  if (desired < current) {
    return limited > desired && min < limited ? "ScaleDownLimit" : "TooFewReplicas";
  }
  return "DesiredWithinRange";
}

// ---------------------------------------------------------------------------------------
// Rate limits: TestScalingWithRules, TestCalculateScaleUpLimitWithScalingRules,
// TestCalculateScaleDownLimitWithBehaviors. Kubernetes calls convertDesiredReplicasWithBehaviorRate
// alone (no stabilization history) with min/max; Governor leaves min/max to the engine, so
// the test clamps applyBehavior's result to [min, max] and derives HPA's condition from both.

struct RateCase {
  std::string name;
  std::optional<ScalingRules> up;    // nullopt: HPA's default scaleUp rules.
  std::optional<ScalingRules> down;  // nullopt: HPA's default scaleDown rules.
  std::vector<ScaleEvent> up_events;
  std::vector<ScaleEvent> down_events;
  int32_t min_replicas = 1;
  int32_t max_replicas = 1000;
  int32_t current = 0;
  int32_t proposed = 0;
  int32_t want_replicas = 0;   // Kubernetes' expectedReplicas (after the clamp).
  std::string want_condition;  // Kubernetes' expectedCondition.
  std::string want_limit;      // The reason Governor reports ("": no limit).
};

class ScalingWithRulesTest : public testing::TestWithParam<RateCase> {};

TEST_P(ScalingWithRulesTest, MatchesKubernetes) {
  const RateCase& c = GetParam();
  Behavior b = Behavior::hpaDefaults();
  if (c.up) b.scale_up = *c.up;
  if (c.down) b.scale_down = *c.down;
  BehaviorState state = freshHistory();
  state.scale_up_events = c.up_events;
  state.scale_down_events = c.down_events;

  const BehaviorResult r = applyBehavior(b, c.current, c.proposed, state, kNow);

  EXPECT_EQ(r.stabilized, c.proposed) << "no history: stabilization must not move it";
  EXPECT_EQ(std::clamp(r.replicas, c.min_replicas, c.max_replicas), c.want_replicas);
  EXPECT_EQ(hpaCondition(c.current, c.proposed, r.replicas, c.min_replicas, c.max_replicas),
            c.want_condition);
  if (c.want_limit.empty()) {
    EXPECT_TRUE(r.limits.empty()) << r.limits.front().reason << ": " << r.limits.front().message;
    EXPECT_EQ(r.replicas, c.proposed);
  } else {
    ASSERT_EQ(r.limits.size(), 1u);
    EXPECT_EQ(r.limits[0].reason, c.want_limit) << r.limits[0].message;
    EXPECT_NE(r.replicas, c.proposed);
  }
}

ScalingRules minSelect(ScalingRules r) {
  r.select_policy = SelectPolicy::kMin;
  return r;
}
ScalingRules disabled(ScalingRules r) {
  r.select_policy = SelectPolicy::kDisabled;
  return r;
}

INSTANTIATE_TEST_SUITE_P(
    Kubernetes, ScalingWithRulesTest,
    testing::Values(
        // TestScalingWithRules "prenormalized desired replicas within range"
        RateCase{.name = "prenormalized desired replicas within range",
                 .min_replicas = 3,
                 .max_replicas = 8,
                 .current = 5,
                 .proposed = 7,
                 .want_replicas = 7,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "prenormalized desired replicas < minReplicas"
        RateCase{.name = "prenormalized desired replicas < minReplicas",
                 .min_replicas = 2,
                 .max_replicas = 8,
                 .current = 3,
                 .proposed = 1,
                 .want_replicas = 2,
                 .want_condition = "TooFewReplicas"},
        // TestScalingWithRules "prenormalized desired replicas within range when minReplicas
        // is 0"
        RateCase{.name = "prenormalized desired replicas within range when minReplicas is 0",
                 .min_replicas = 0,
                 .max_replicas = 10,
                 .current = 1,
                 .proposed = 0,
                 .want_replicas = 0,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "maxReplicas is the limit because maxReplicas < scaleUpLimit"
        // (Governor's rate limit, 40, binds too: the engine's max binds tighter.)
        RateCase{.name = "maxReplicas is the limit because maxReplicas < scaleUpLimit",
                 .max_replicas = 10,
                 .current = 20,
                 .proposed = 1000,
                 .want_replicas = 10,
                 .want_condition = "TooManyReplicas",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "desired replica count is more than the maximum replica count"
        RateCase{.name = "desired replica count is more than the maximum replica count",
                 .min_replicas = 100,
                 .max_replicas = 150,
                 .current = 100,
                 .proposed = 1000,
                 .want_replicas = 150,
                 .want_condition = "TooManyReplicas",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUpLimit is the limit because scaleUpLimit < maxReplicas
        // with user policies": ceil(3 * 1.01) = 4.
        RateCase{.name = "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with "
                         "user policies",
                 .up = rules(0, 0, 1, 60, 0),
                 .max_replicas = 2000,
                 .current = 3,
                 .proposed = 1000,
                 .want_replicas = 4,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with default behavior": max(10 + 4, 10 * 2).
        RateCase{.name = "scaleUp with default behavior",
                 .current = 10,
                 .proposed = 50,
                 .want_replicas = 20,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with pods policy larger than percent policy"
        RateCase{.name = "scaleUp with pods policy larger than percent policy",
                 .up = rules(100, 60, 100, 60, 0),
                 .current = 10,
                 .proposed = 500,
                 .want_replicas = 110,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with percent policy larger than pods policy"
        RateCase{.name = "scaleUp with percent policy larger than pods policy",
                 .up = rules(2, 60, 100, 60, 0),
                 .current = 10,
                 .proposed = 500,
                 .want_replicas = 20,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with spec MaxReplicas limitation with large pod policy"
        RateCase{.name = "scaleUp with spec MaxReplicas limitation with large pod policy",
                 .up = rules(100, 60, 0, 0, 0),
                 .current = 10,
                 .proposed = 50,
                 .want_replicas = 50,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "scaleUp with spec MaxReplicas limitation with large percent
        // policy" (Kubernetes' table gives it a 10000-pod policy.)
        RateCase{.name = "scaleUp with spec MaxReplicas limitation with large percent policy",
                 .up = rules(10000, 60, 0, 0, 0),
                 .current = 10,
                 .proposed = 50,
                 .want_replicas = 50,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "scaleUp with pod policy limitation"
        RateCase{.name = "scaleUp with pod policy limitation",
                 .up = rules(30, 60, 0, 0, 0),
                 .current = 10,
                 .proposed = 50,
                 .want_replicas = 40,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with percent policy limitation"
        RateCase{.name = "scaleUp with percent policy limitation",
                 .up = rules(0, 0, 200, 60, 0),
                 .current = 10,
                 .proposed = 50,
                 .want_replicas = 30,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleDown with percent policy larger than pod policy"
        RateCase{.name = "scaleDown with percent policy larger than pod policy",
                 .down = rules(20, 60, 1, 60, 300),
                 .current = 100,
                 .proposed = 2,
                 .want_replicas = 80,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with pod policy larger than percent policy"
        RateCase{.name = "scaleDown with pod policy larger than percent policy",
                 .down = rules(2, 60, 1, 60, 300),
                 .current = 100,
                 .proposed = 2,
                 .want_replicas = 98,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with spec MinReplicas limitation with large pod
        // policy"
        RateCase{.name = "scaleDown with spec MinReplicas limitation with large pod policy",
                 .down = rules(100, 60, 0, 0, 300),
                 .current = 10,
                 .proposed = 0,
                 .want_replicas = 1,
                 .want_condition = "TooFewReplicas"},
        // TestScalingWithRules "scaleDown with spec MinReplicas limitation with large percent
        // policy"
        RateCase{.name = "scaleDown with spec MinReplicas limitation with large percent policy",
                 .down = rules(0, 0, 100, 60, 300),
                 .min_replicas = 5,
                 .current = 10,
                 .proposed = 2,
                 .want_replicas = 5,
                 .want_condition = "TooFewReplicas"},
        // TestScalingWithRules "scaleDown with pod policy limitation"
        RateCase{.name = "scaleDown with pod policy limitation",
                 .down = rules(5, 60, 0, 0, 300),
                 .current = 10,
                 .proposed = 2,
                 .want_replicas = 5,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with percent policy limitation"
        RateCase{.name = "scaleDown with percent policy limitation",
                 .down = rules(0, 0, 50, 60, 300),
                 .current = 10,
                 .proposed = 5,
                 .want_replicas = 5,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "scaleUp with spec MaxReplicas limitation with large pod policy
        // and events": the -60 s event is not after the 60 s cutoff; 91 + 300 binds, then max.
        RateCase{.name = "scaleUp with spec MaxReplicas limitation with large pod policy and "
                         "events",
                 .up = rules(300, 60, 0, 0, 0),
                 .up_events = uniformEvents({1, 5, 9}, 120),
                 .max_replicas = 200,
                 .current = 100,
                 .proposed = 500,
                 .want_replicas = 200,
                 .want_condition = "TooManyReplicas",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with spec MaxReplicas limitation with large percent
        // policy and events"
        RateCase{.name = "scaleUp with spec MaxReplicas limitation with large percent policy "
                         "and events",
                 .up = rules(0, 0, 10000, 60, 0),
                 .up_events = uniformEvents({1, 5, 9}, 120),
                 .max_replicas = 200,
                 .current = 100,
                 .proposed = 500,
                 .want_replicas = 200,
                 .want_condition = "TooManyReplicas"},
        // TestScalingWithRules "scaleUp with currentReplicas limitation with rate.PeriodSeconds
        // with a lot of recent scale up events": 100 - 15 + 5 < 100 holds at 100.
        RateCase{.name = "scaleUp with currentReplicas limitation with rate.PeriodSeconds with "
                         "a lot of recent scale up events",
                 .up = rules(5, 120, 0, 0, 0),
                 .up_events = uniformEvents({1, 5, 9}, 120),
                 .current = 100,
                 .proposed = 500,
                 .want_replicas = 100,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with pod policy and previous scale up events"
        RateCase{.name = "scaleUp with pod policy and previous scale up events",
                 .up = rules(150, 120, 0, 0, 0),
                 .up_events = uniformEvents({1, 5, 9}, 120),
                 .current = 100,
                 .proposed = 500,
                 .want_replicas = 235,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with percent policy and previous scale up events"
        RateCase{.name = "scaleUp with percent policy and previous scale up events",
                 .up = rules(0, 0, 200, 120, 0),
                 .up_events = uniformEvents({1, 5, 9}, 120),
                 .current = 100,
                 .proposed = 500,
                 .want_replicas = 255,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleUp with percent policy and previous scale up and down
        // events": start = 6 - 4 + 2, ceil(4 * 4).
        RateCase{.name = "scaleUp with percent policy and previous scale up and down events",
                 .up = rules(0, 0, 300, 300, 0),
                 .up_events = uniformEvents({4}, 120),
                 .down_events = uniformEvents({2}, 120),
                 .current = 6,
                 .proposed = 24,
                 .want_replicas = 16,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestScalingWithRules "scaleDown with default policy and previous events"
        RateCase{.name = "scaleDown with default policy and previous events",
                 .down_events = uniformEvents({1, 5, 9}, 120),
                 .current = 10,
                 .proposed = 5,
                 .want_replicas = 5,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "scaleDown with spec MinReplicas=nil limitation with large pod
        // policy and previous events"
        RateCase{.name = "scaleDown with spec MinReplicas=nil limitation with large pod policy "
                         "and previous events",
                 .down = rules(115, 120, 0, 0, 300),
                 .down_events = uniformEvents({1, 5, 9}, 120),
                 .current = 100,
                 .proposed = 0,
                 .want_replicas = 1,
                 .want_condition = "TooFewReplicas"},
        // TestScalingWithRules "scaleDown with spec MinReplicas limitation with large pod
        // policy and previous events"
        RateCase{.name = "scaleDown with spec MinReplicas limitation with large pod policy and "
                         "previous events",
                 .down = rules(130, 120, 0, 0, 300),
                 .down_events = uniformEvents({1, 5, 9}, 120),
                 .min_replicas = 5,
                 .current = 100,
                 .proposed = 0,
                 .want_replicas = 5,
                 .want_condition = "TooFewReplicas"},
        // TestScalingWithRules "scaleDown with spec MinReplicas limitation with large percent
        // policy and previous events"
        RateCase{.name = "scaleDown with spec MinReplicas limitation with large percent policy "
                         "and previous events",
                 .down = rules(0, 0, 100, 120, 300),
                 .down_events = uniformEvents({1, 5, 9}, 120),
                 .min_replicas = 5,
                 .current = 100,
                 .proposed = 2,
                 .want_replicas = 5,
                 .want_condition = "TooFewReplicas"},
        // TestScalingWithRules "scaleDown with pod policy limitation and previous events":
        // 100 + 15 - 5 > 100 holds at 100.
        RateCase{.name = "scaleDown with pod policy limitation and previous events",
                 .down = rules(5, 120, 0, 0, 300),
                 .down_events = uniformEvents({1, 5, 9}, 120),
                 .current = 100,
                 .proposed = 2,
                 .want_replicas = 100,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with percent policy limitation and previous events":
        // (100 + 12) - 50%.
        RateCase{.name = "scaleDown with percent policy limitation and previous events",
                 .down = rules(0, 0, 50, 120, 300),
                 .down_events = uniformEvents({2, 4, 6}, 120),
                 .current = 100,
                 .proposed = 0,
                 .want_replicas = 56,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with percent policy and previous scale up and down
        // events": start = 10 - 2 + 4, 12 - 50%.
        RateCase{.name = "scaleDown with percent policy and previous scale up and down events",
                 .down = rules(0, 0, 50, 180, 0),
                 .up_events = uniformEvents({2}, 120),
                 .down_events = uniformEvents({4}, 120),
                 .current = 10,
                 .proposed = 1,
                 .want_replicas = 6,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with previous events preventing further scale down":
        // (100 + 30) - 10% = 117 > 100 holds at 100.
        RateCase{.name = "scaleDown with previous events preventing further scale down",
                 .down = rules(0, 0, 10, 120, 300),
                 .down_events = uniformEvents({10, 10, 10}, 120),
                 .current = 100,
                 .proposed = 0,
                 .want_replicas = 100,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // TestScalingWithRules "scaleDown with with previous events still allowing more scale
        // down": (10 + 30) - 1000% = -360.
        RateCase{.name = "scaleDown with with previous events still allowing more scale down",
                 .down = rules(0, 0, 1000, 120, 300),
                 .down_events = uniformEvents({10, 10, 10}, 120),
                 .current = 10,
                 .proposed = 5,
                 .want_replicas = 5,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "check 'outdated' flag for events for one behavior for up"
        RateCase{.name = "check 'outdated' flag for events for one behavior for up",
                 .up = rules(1000, 60, 0, 0, 0),
                 .up_events = uniformEvents({8, 12, 9, 11}, 120),
                 .current = 100,
                 .proposed = 200,
                 .want_replicas = 200,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "check that events were not marked 'outdated' for two different
        // policies in the behavior for up"
        RateCase{.name = "check that events were not marked 'outdated' for two different "
                         "policies in the behavior for up",
                 .up = rules(1000, 120, 100, 60, 0),
                 .up_events = uniformEvents({8, 12, 9, 11}, 120),
                 .current = 100,
                 .proposed = 200,
                 .want_replicas = 200,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "check that events were marked 'outdated' for two different
        // policies in the behavior for up"
        RateCase{.name = "check that events were marked 'outdated' for two different policies "
                         "in the behavior for up",
                 .up = rules(1000, 30, 100, 60, 0),
                 .up_events = uniformEvents({8, 12, 9, 11}, 120),
                 .current = 100,
                 .proposed = 200,
                 .want_replicas = 200,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "check 'outdated' flag for events for one behavior for down"
        RateCase{.name = "check 'outdated' flag for events for one behavior for down",
                 .down = rules(1000, 60, 0, 0, 300),
                 .down_events = uniformEvents({8, 12, 9, 11}, 120),
                 .current = 100,
                 .proposed = 5,
                 .want_replicas = 5,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "check that events were not marked 'outdated' for two different
        // policies in the behavior for down"
        RateCase{.name = "check that events were not marked 'outdated' for two different "
                         "policies in the behavior for down",
                 .down = rules(1000, 120, 100, 60, 300),
                 .down_events = uniformEvents({8, 12, 9, 11}, 120),
                 .current = 100,
                 .proposed = 5,
                 .want_replicas = 5,
                 .want_condition = "DesiredWithinRange"},
        // TestScalingWithRules "check that events were marked 'outdated' for two different
        // policies in the behavior for down"
        RateCase{.name = "check that events were marked 'outdated' for two different policies "
                         "in the behavior for down",
                 .down = rules(1000, 30, 100, 60, 300),
                 .down_events = uniformEvents({8, 12, 9, 11}, 120),
                 .current = 100,
                 .proposed = 5,
                 .want_replicas = 5,
                 .want_condition = "DesiredWithinRange"},
        // TestCalculateScaleUpLimitWithScalingRules: Min of (1 + 2, ceil(1 * 1.5)) = 2.
        RateCase{.name = "TestCalculateScaleUpLimitWithScalingRules",
                 .up = minSelect(rules(2, 60, 50, 60, 300)),
                 .current = 1,
                 .proposed = 1000,
                 .want_replicas = 2,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // TestCalculateScaleDownLimitWithBehaviors: Min change = max of (5 - 2, trunc(2.5)) = 3.
        RateCase{.name = "TestCalculateScaleDownLimitWithBehaviors",
                 .down = minSelect(rules(2, 60, 50, 60, 300)),
                 .current = 5,
                 .proposed = 0,
                 .want_replicas = 3,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"}),
    caseName<RateCase>);

// Governor cases in the same shape; conditions are what HPA would report.
INSTANTIATE_TEST_SUITE_P(
    Governor, ScalingWithRulesTest,
    testing::Values(
        // HPA's Disabled returns the current count as the limit: ScaleUpLimit in HPA,
        // ScaleUpDisabled in Governor.
        RateCase{.name = "scale up disabled",
                 .up = disabled(rules(4, 15, 100, 15, 0)),
                 .current = 10,
                 .proposed = 50,
                 .want_replicas = 10,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpDisabled"},
        RateCase{.name = "scale down disabled",
                 .down = disabled(rules(0, 0, 100, 15, 0)),
                 .current = 10,
                 .proposed = 2,
                 .want_replicas = 10,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownDisabled"},
        // Disabled in one direction leaves the other alone.
        RateCase{.name = "scale down disabled does not hold a scale up",
                 .down = disabled(rules(0, 0, 100, 15, 0)),
                 .current = 10,
                 .proposed = 12,
                 .want_replicas = 12,
                 .want_condition = "DesiredWithinRange"},
        // HPA's double arithmetic: 100 * (1 + 0.1) is 110.00000000000001, ceil 111.
        RateCase{.name = "percent scale up rounds as HPA does",
                 .up = rules(0, 0, 10, 60, 0),
                 .current = 100,
                 .proposed = 200,
                 .want_replicas = 111,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // ceil: 1% of 1 pod still allows one more.
        RateCase{.name = "percent scale up of one pod rounds up",
                 .up = rules(0, 0, 1, 60, 0),
                 .current = 1,
                 .proposed = 5,
                 .want_replicas = 2,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // trunc: 10% of 15 pods (1.5) allows removing 2: 15 * 0.9 = 13.5 -> 13.
        RateCase{.name = "percent scale down truncates",
                 .down = rules(0, 0, 10, 60, 0),
                 .current = 15,
                 .proposed = 1,
                 .want_replicas = 13,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        // Min select going up takes the smaller allowance, with each policy's own period:
        // Pods 4/60 s counts the -30 s event (start 16, 20), Percent 50/20 s does not
        // (start 20, 30): min 20 = current, held.
        RateCase{.name = "min select with events in different periods",
                 .up = minSelect(rules(4, 60, 50, 20, 0)),
                 .up_events = {{ago(30), 4}},
                 .current = 20,
                 .proposed = 40,
                 .want_replicas = 20,
                 .want_condition = "ScaleUpLimit",
                 .want_limit = "ScaleUpLimit"},
        // Max select going down: the event at exactly -60 s is not in the 60 s period. (The
        // 120 s scale-up period keeps the event in the state, so the comparison decides.)
        RateCase{.name = "event at the period boundary is outside the period",
                 .up = rules(4, 120, 0, 0, 0),
                 .down = rules(5, 60, 0, 0, 0),
                 .down_events = {{ago(60), 5}},
                 .current = 20,
                 .proposed = 1,
                 .want_replicas = 15,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"},
        RateCase{.name = "event just inside the period counts",
                 .up = rules(4, 120, 0, 0, 0),
                 .down = rules(5, 60, 0, 0, 0),
                 .down_events = {{ago(59.999), 5}},
                 .current = 20,
                 .proposed = 1,
                 .want_replicas = 20,
                 .want_condition = "ScaleDownLimit",
                 .want_limit = "ScaleDownLimit"}),
    caseName<RateCase>);

// The messages name the policy that bound.
struct MessageCase {
  std::string name;
  Behavior behavior;
  std::vector<ScaleEvent> up_events;
  int32_t current = 0;
  int32_t proposed = 0;
  std::vector<Limit> want;
};

class LimitMessageTest : public testing::TestWithParam<MessageCase> {};

TEST_P(LimitMessageTest, NamesTheBindingPolicy) {
  const MessageCase& c = GetParam();
  BehaviorState state = freshHistory();
  state.scale_up_events = c.up_events;
  EXPECT_EQ(applyBehavior(c.behavior, c.current, c.proposed, state, kNow).limits, c.want);
}

Behavior withUp(ScalingRules r) {
  Behavior b = Behavior::hpaDefaults();
  b.scale_up = std::move(r);
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Governor, LimitMessageTest,
    testing::Values(
        MessageCase{.name = "default pods policy binds",
                    .behavior = Behavior::hpaDefaults(),
                    .current = 2,
                    .proposed = 50,
                    .want = {{"ScaleUpLimit", "at most 4 pods per 15s (Pods policy)"}}},
        MessageCase{.name = "default percent policy binds",
                    .behavior = Behavior::hpaDefaults(),
                    .current = 10,
                    .proposed = 50,
                    .want = {{"ScaleUpLimit", "at most 100% per 15s (Percent policy)"}}},
        MessageCase{.name = "period start named when events count",
                    .behavior = withUp(rules(5, 120, 0, 0, 0)),
                    .up_events = uniformEvents({1, 5, 9}, 120),
                    .current = 100,
                    .proposed = 500,
                    .want = {{"ScaleUpLimit",
                              "at most 5 pods per 120s (Pods policy) from 85 at the period "
                              "start"}}},
        MessageCase{.name = "min select names the smaller",
                    .behavior = withUp(minSelect(rules(2, 60, 50, 60, 0))),
                    .current = 1,
                    .proposed = 1000,
                    .want = {{"ScaleUpLimit", "at most 50% per 60s (Percent policy)"}}},
        MessageCase{
            .name = "disabled",
            .behavior = withUp(disabled(rules(4, 15, 0, 0, 0))),
            .current = 1,
            .proposed = 3,
            .want = {{"ScaleUpDisabled", "scaling up is disabled (selectPolicy: Disabled)"}}},
        MessageCase{.name = "no policies with max select allows no change",
                    .behavior = withUp(rules(0, 0, 0, 0, 0)),
                    .current = 1,
                    .proposed = 3,
                    .want = {{"ScaleUpLimit", "no scaling policy allows a change"}}},
        MessageCase{.name = "no policies with min select allows any change",
                    .behavior = withUp(minSelect(rules(0, 0, 0, 0, 0))),
                    .current = 1,
                    .proposed = 3,
                    .want = {}}),
    caseName<MessageCase>);

// ---------------------------------------------------------------------------------------
// Stabilization: TestNormalizeDesiredReplicasWithBehavior (stabilizeRecommendationWithBehaviors)
// and TestNormalizeDesiredReplicas (the pre-behavior stabilizeRecommendation: a 5 min
// scale-down window and none up; the current count is picked above every recommendation so
// that the behavior rule, which also depends on it, gives the same answer).
// Kubernetes reuses the slot of one obsolete recommendation; Governor drops every
// recommendation no window can see, so the stored history differs where noted.

struct Rec {
  double age;  // Seconds before kNow.
  int32_t replicas;
};

struct StabilizationCase {
  std::string name;
  std::vector<Rec> history;
  int32_t current = 0;
  int32_t proposed = 0;
  int32_t up_window = 0;
  int32_t down_window = 0;
  int32_t want = 0;
  std::string want_reason;        // "" when stabilization does not move the proposal.
  std::vector<Rec> want_history;  // After the call.
};

class StabilizationTest : public testing::TestWithParam<StabilizationCase> {};

TEST_P(StabilizationTest, MatchesKubernetes) {
  const StabilizationCase& c = GetParam();
  BehaviorState state = freshHistory();
  for (const Rec& r : c.history) state.recommendations.push_back({ago(r.age), r.replicas});

  const BehaviorResult r = applyBehavior(stabilizationOnly(c.up_window, c.down_window), c.current,
                                         c.proposed, state, kNow);

  EXPECT_EQ(r.stabilized, c.want);
  EXPECT_EQ(r.replicas, c.want) << "rate limits never bind here";
  if (c.want_reason.empty()) {
    EXPECT_TRUE(r.limits.empty());
  } else {
    EXPECT_EQ(reasons(r), std::vector<std::string>{c.want_reason});
  }
  std::vector<TimedRecommendation> want_history;
  for (const Rec& w : c.want_history) want_history.push_back({ago(w.age), w.replicas});
  EXPECT_EQ(state.recommendations, want_history);
}

INSTANTIATE_TEST_SUITE_P(
    Kubernetes, StabilizationTest,
    testing::Values(
        // TestNormalizeDesiredReplicasWithBehavior "empty recommendations for scaling down"
        // (Kubernetes keeps [5]; with both windows 0 nothing can see it.)
        StabilizationCase{.name = "empty recommendations for scaling down",
                          .current = 100,
                          .proposed = 5,
                          .want = 5},
        // TestNormalizeDesiredReplicasWithBehavior "simple scale down stabilization"
        StabilizationCase{.name = "simple scale down stabilization",
                          .history = {{120, 4}, {60, 5}},
                          .current = 100,
                          .proposed = 3,
                          .down_window = 180,
                          .want = 5,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{120, 4}, {60, 5}, {0, 3}}},
        // TestNormalizeDesiredReplicasWithBehavior "simple scale up stabilization"
        StabilizationCase{.name = "simple scale up stabilization",
                          .history = {{120, 4}, {60, 5}},
                          .current = 1,
                          .proposed = 7,
                          .up_window = 300,
                          .want = 4,
                          .want_reason = "ScaleUpStabilized",
                          .want_history = {{120, 4}, {60, 5}, {0, 7}}},
        // TestNormalizeDesiredReplicasWithBehavior "no scale down stabilization"
        StabilizationCase{.name = "no scale down stabilization",
                          .history = {{120, 1}, {60, 2}},
                          .current = 100,
                          .proposed = 3,
                          .up_window = 300,
                          .want = 3,
                          .want_history = {{120, 1}, {60, 2}, {0, 3}}},
        // TestNormalizeDesiredReplicasWithBehavior "no scale up stabilization"
        StabilizationCase{.name = "no scale up stabilization",
                          .history = {{120, 4}, {60, 5}},
                          .current = 1,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 3,
                          .want_history = {{120, 4}, {60, 5}, {0, 3}}},
        // TestNormalizeDesiredReplicasWithBehavior "no scale down stabilization, reuse
        // recommendation element" (Kubernetes keeps [10, 3].)
        StabilizationCase{.name = "no scale down stabilization, reuse recommendation element",
                          .history = {{600, 10}, {540, 9}},
                          .current = 100,
                          .proposed = 3,
                          .want = 3},
        // TestNormalizeDesiredReplicasWithBehavior "no scale up stabilization, reuse
        // recommendation element" (Kubernetes keeps [10, 100].)
        StabilizationCase{.name = "no scale up stabilization, reuse recommendation element",
                          .history = {{600, 10}, {540, 9}},
                          .current = 1,
                          .proposed = 100,
                          .want = 100},
        // TestNormalizeDesiredReplicasWithBehavior "scale down stabilization, reuse one of
        // obsolete recommendation element" (Kubernetes keeps [10, 4, 5, 3].)
        StabilizationCase{.name = "scale down stabilization, reuse one of obsolete "
                                  "recommendation element",
                          .history = {{600, 10}, {60, 4}, {120, 5}, {540, 9}},
                          .current = 100,
                          .proposed = 3,
                          .down_window = 180,
                          .want = 5,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{60, 4}, {120, 5}, {0, 3}}},
        // TestNormalizeDesiredReplicasWithBehavior "scale up stabilization, reuse one of
        // obsolete recommendation element" (Kubernetes keeps [100, 6, 5, 9].)
        StabilizationCase{.name = "scale up stabilization, reuse one of obsolete "
                                  "recommendation element",
                          .history = {{6000, 10}, {60, 6}, {120, 5}, {180, 9}},
                          .current = 1,
                          .proposed = 100,
                          .up_window = 300,
                          .want = 5,
                          .want_reason = "ScaleUpStabilized",
                          .want_history = {{60, 6}, {120, 5}, {180, 9}, {0, 100}}},
        // TestNormalizeDesiredReplicasWithBehavior "scale up and down stabilization, do not
        // scale up when prenormalized rec goes down"
        StabilizationCase{.name = "scale up and down stabilization, do not scale up when "
                                  "prenormalized rec goes down",
                          .history = {{6000, 2}, {180, 3}},
                          .current = 2,
                          .proposed = 1,
                          .up_window = 300,
                          .down_window = 300,
                          .want = 2,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{180, 3}, {0, 1}}},
        // TestNormalizeDesiredReplicasWithBehavior "scale up and down stabilization, do not
        // scale down when prenormalized rec goes up"
        StabilizationCase{.name = "scale up and down stabilization, do not scale down when "
                                  "prenormalized rec goes up",
                          .history = {{6000, 2}, {180, 1}},
                          .current = 2,
                          .proposed = 3,
                          .up_window = 300,
                          .down_window = 300,
                          .want = 2,
                          .want_reason = "ScaleUpStabilized",
                          .want_history = {{180, 1}, {0, 3}}},
        // TestNormalizeDesiredReplicas "empty log"
        StabilizationCase{.name = "TestNormalizeDesiredReplicas empty log",
                          .current = 10,
                          .proposed = 5,
                          .down_window = 300,
                          .want = 5,
                          .want_history = {{0, 5}}},
        // TestNormalizeDesiredReplicas "stabilize"
        StabilizationCase{.name = "TestNormalizeDesiredReplicas stabilize",
                          .history = {{120, 4}, {60, 5}},
                          .current = 10,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 5,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{120, 4}, {60, 5}, {0, 3}}},
        // TestNormalizeDesiredReplicas "no stabilize"
        StabilizationCase{.name = "TestNormalizeDesiredReplicas no stabilize",
                          .history = {{120, 1}, {60, 2}},
                          .current = 10,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 3,
                          .want_history = {{120, 1}, {60, 2}, {0, 3}}},
        // TestNormalizeDesiredReplicas "no stabilize - old recommendations"
        StabilizationCase{.name = "TestNormalizeDesiredReplicas no stabilize old "
                                  "recommendations",
                          .history = {{600, 10}, {540, 9}},
                          .current = 10,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 3,
                          .want_history = {{0, 3}}},
        // TestNormalizeDesiredReplicas "stabilize - old recommendations"
        StabilizationCase{.name = "TestNormalizeDesiredReplicas stabilize old recommendations",
                          .history = {{600, 10}, {60, 4}, {120, 5}, {540, 9}},
                          .current = 10,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 5,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{60, 4}, {120, 5}, {0, 3}}}),
    caseName<StabilizationCase>);

INSTANTIATE_TEST_SUITE_P(
    Governor, StabilizationTest,
    testing::Values(
        // Windows compare strictly: a recommendation exactly one window old is out of it.
        StabilizationCase{.name = "recommendation at the window boundary is out",
                          .history = {{300, 9}},
                          .current = 9,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 3,
                          .want_history = {{0, 3}}},
        StabilizationCase{.name = "recommendation just inside the window holds",
                          .history = {{299.999, 9}},
                          .current = 9,
                          .proposed = 3,
                          .down_window = 300,
                          .want = 9,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{299.999, 9}, {0, 3}}},
        // The same for the scale-up window. (The 300 s scale-down window keeps the entries.)
        StabilizationCase{.name = "recommendation at the up window boundary is out",
                          .history = {{120, 2}},
                          .current = 2,
                          .proposed = 6,
                          .up_window = 120,
                          .down_window = 300,
                          .want = 6,
                          .want_history = {{120, 2}, {0, 6}}},
        StabilizationCase{.name = "recommendation just inside the up window holds",
                          .history = {{119.999, 2}},
                          .current = 2,
                          .proposed = 6,
                          .up_window = 120,
                          .down_window = 300,
                          .want = 2,
                          .want_reason = "ScaleUpStabilized",
                          .want_history = {{119.999, 2}, {0, 6}}},
        // The highest of the window may be below the current count: scale down to it.
        StabilizationCase{.name = "scale down to the highest recent recommendation",
                          .history = {{200, 6}, {100, 4}},
                          .current = 10,
                          .proposed = 2,
                          .down_window = 300,
                          .want = 6,
                          .want_reason = "ScaleDownStabilized",
                          .want_history = {{200, 6}, {100, 4}, {0, 2}}},
        // Both windows: the longer one decides what is kept.
        StabilizationCase{.name = "history kept for the longer window",
                          .history = {{250, 7}, {100, 8}},
                          .current = 5,
                          .proposed = 9,
                          .up_window = 60,
                          .down_window = 300,
                          .want = 9,
                          .want_history = {{250, 7}, {100, 8}, {0, 9}}}),
    caseName<StabilizationCase>);

TEST(StabilizationMessageTest, NamesWindowAndBound) {
  BehaviorState state = freshHistory();
  state.recommendations = {{ago(60), 8}};
  BehaviorResult r = applyBehavior(stabilizationOnly(0, 300), 10, 3, state, kNow);
  EXPECT_EQ(r.limits,
            (std::vector<Limit>{{"ScaleDownStabilized",
                                 "highest recommendation in the last 300s is 8; proposed 3"}}));

  state = freshHistory();
  state.recommendations = {{ago(60), 4}};
  r = applyBehavior(stabilizationOnly(120, 0), 2, 9, state, kNow);
  EXPECT_EQ(r.limits,
            (std::vector<Limit>{
                {"ScaleUpStabilized", "lowest recommendation in the last 120s is 4; proposed 9"}}));
}

// ---------------------------------------------------------------------------------------
// Seeding on the first evaluation (HPA's recordInitialRecommendation).

// TestScaleDownStabilizeInitialSize: 5 replicas whose metrics propose 3, no history, default
// behavior (300 s scale-down window): hold at 5, ScaleDownStabilized.
TEST(SeedingTest, ScaleDownStabilizeInitialSize) {
  BehaviorState state;
  const BehaviorResult r = applyBehavior(Behavior::hpaDefaults(), 5, 3, state, kNow);
  EXPECT_EQ(r.replicas, 5);
  EXPECT_EQ(r.stabilized, 5);
  EXPECT_EQ(reasons(r), std::vector<std::string>{"ScaleDownStabilized"});
  EXPECT_EQ(r.recheck_after, secs(300));
  EXPECT_TRUE(state.initialized);
  EXPECT_EQ(state.recommendations, (std::vector<TimedRecommendation>{{kNow, 5}, {kNow, 3}}));
}

// TestScaleDown: the same metrics with an empty (already seeded) history scale down to 3
// (min 2, max 6 do not bind; the default 100%/15 s policy allows it).
TEST(SeedingTest, ScaleDownWithEmptyHistory) {
  BehaviorState state = freshHistory();
  const BehaviorResult r = applyBehavior(Behavior::hpaDefaults(), 5, 3, state, kNow);
  EXPECT_EQ(r.replicas, 3);
  EXPECT_TRUE(r.limits.empty());
  EXPECT_EQ(r.recheck_after, std::nullopt);
}

TEST(SeedingTest, SeedsOnlyOnce) {
  BehaviorState state;
  const Behavior b = Behavior::hpaDefaults();
  applyBehavior(b, 5, 3, state, kNow);
  const BehaviorResult r = applyBehavior(b, 5, 4, state, after(15));
  EXPECT_EQ(r.replicas, 5);
  EXPECT_EQ(state.recommendations,
            (std::vector<TimedRecommendation>{{kNow, 5}, {kNow, 3}, {after(15), 4}}));
}

// With both windows 0 the seed is invisible: a fresh start follows the proposal, and the
// history stays empty.
TEST(SeedingTest, ZeroWindowsFollowTheProposal) {
  BehaviorState state;
  const BehaviorResult r = applyBehavior(stabilizationOnly(0, 0), 5, 3, state, kNow);
  EXPECT_EQ(r.replicas, 3);
  EXPECT_TRUE(state.initialized);
  EXPECT_TRUE(state.recommendations.empty());
}

// As in HPA, the seed is a recommendation like any other: a scale-up window holds a fresh
// start's scale-up too.
TEST(SeedingTest, ScaleUpWindowHoldsAFreshScaleUp) {
  BehaviorState state;
  const BehaviorResult r = applyBehavior(stabilizationOnly(60, 0), 3, 6, state, kNow);
  EXPECT_EQ(r.replicas, 3);
  EXPECT_EQ(reasons(r), std::vector<std::string>{"ScaleUpStabilized"});
  EXPECT_EQ(r.recheck_after, secs(60));
}

// TestScaleTimingBehavior "stabilize downscale": 4 replicas whose metrics propose fewer (2),
// recommendations 10 (10 min ago) and 4 (1 min ago) under the default 5 min window: stays
// 4, ScaleDownStabilized (min 1 / max 5 do not bind).
TEST(SeedingTest, StabilizeDownscaleWithHistory) {
  BehaviorState state = freshHistory();
  state.recommendations = {{ago(600), 10}, {ago(60), 4}};
  const BehaviorResult r = applyBehavior(Behavior::hpaDefaults(), 4, 2, state, kNow);
  EXPECT_EQ(r.replicas, 4);
  EXPECT_EQ(reasons(r), std::vector<std::string>{"ScaleDownStabilized"});
  EXPECT_EQ(r.recheck_after, secs(240));
}

// ---------------------------------------------------------------------------------------
// recordScale: TestStoreScaleEvents. Kubernetes checks getReplicasChangePerPeriod(60) on the
// stored events, then stores a change of 5 (10 -> 15 up, 10 -> 5 down) and compares the
// events. Kubernetes reuses an obsolete slot (or keeps it marked outdated); Governor drops
// every event no period can see, keeping time order. The Kubernetes cases "empty entries
// with default behavior" and "one outdated entry to be kept untouched without behavior"
// have no Governor equivalent: a ScalingPolicy always has a behavior.

struct Event {
  double age;
  int32_t change;
};

struct StoreCase {
  std::string name;
  ScalingRules rules;
  std::vector<Event> before;
  int64_t want_changed_in_60s = 0;
  std::vector<Event> want_after;
};

std::vector<ScaleEvent> events(const std::vector<Event>& in) {
  std::vector<ScaleEvent> out;
  for (const Event& e : in) out.push_back({ago(e.age), e.change});
  return out;
}

// Replicas added in the last 60 s, read through applyBehavior: a 1000-pod/60 s scale-up
// policy from 100 replicas allows 100 - added + 1000.
int64_t addedIn60s(std::vector<ScaleEvent> ups) {
  BehaviorState probe = freshHistory();
  probe.scale_up_events = std::move(ups);
  Behavior limited = stabilizationOnly(0, 0);
  limited.scale_up = rules(1000, 60, 0, 0, 0);
  return 1100 - applyBehavior(limited, 100, 1'000'000, probe, kNow).replicas;
}
// Replicas removed in the last 60 s: a 1000-pod/60 s scale-down policy from 2000 replicas
// allows 2000 + removed - 1000.
int64_t removedIn60s(std::vector<ScaleEvent> downs) {
  BehaviorState probe = freshHistory();
  probe.scale_down_events = std::move(downs);
  Behavior limited = stabilizationOnly(0, 0);
  limited.scale_down = rules(1000, 60, 0, 0, 0);
  return applyBehavior(limited, 2000, 0, probe, kNow).replicas - 1000;
}

class StoreScaleEventsTest : public testing::TestWithParam<StoreCase> {};

TEST_P(StoreScaleEventsTest, ScaleUp) {
  const StoreCase& c = GetParam();
  Behavior b;
  b.scale_up = c.rules;
  b.scale_down = c.rules;
  BehaviorState state = freshHistory();
  state.scale_up_events = events(c.before);
  EXPECT_EQ(addedIn60s(state.scale_up_events), c.want_changed_in_60s);

  recordScale(b, 10, 15, state, kNow);

  EXPECT_EQ(state.scale_up_events, events(c.want_after));
  EXPECT_TRUE(state.scale_down_events.empty());
  EXPECT_EQ(state.last_scale_up, kNow);
  EXPECT_EQ(state.last_scale_down, std::nullopt);
}

TEST_P(StoreScaleEventsTest, ScaleDown) {
  const StoreCase& c = GetParam();
  Behavior b;
  b.scale_up = c.rules;
  b.scale_down = c.rules;
  BehaviorState state = freshHistory();
  state.scale_down_events = events(c.before);
  EXPECT_EQ(removedIn60s(state.scale_down_events), c.want_changed_in_60s);

  recordScale(b, 10, 5, state, kNow);

  EXPECT_EQ(state.scale_down_events, events(c.want_after));
  EXPECT_TRUE(state.scale_up_events.empty());
  EXPECT_EQ(state.last_scale_down, kNow);
  EXPECT_EQ(state.last_scale_up, std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(
    Kubernetes, StoreScaleEventsTest,
    testing::Values(
        // TestStoreScaleEvents "empty entries with two-policy-behavior"
        StoreCase{.name = "empty entries with two-policy-behavior",
                  .rules = rules(10, 60, 100, 60, 0),
                  .want_changed_in_60s = 0,
                  .want_after = {{0, 5}}},
        // TestStoreScaleEvents "one outdated entry to be replaced with behavior"
        StoreCase{.name = "one outdated entry to be replaced with behavior",
                  .rules = rules(10, 60, 100, 60, 0),
                  .before = {{61, 7}},
                  .want_changed_in_60s = 0,
                  .want_after = {{0, 5}}},
        // TestStoreScaleEvents "one actual entry to be not touched with behavior"
        StoreCase{.name = "one actual entry to be not touched with behavior",
                  .rules = rules(10, 60, 100, 60, 0),
                  .before = {{58, 7}},
                  .want_changed_in_60s = 7,
                  .want_after = {{58, 7}, {0, 5}}},
        // TestStoreScaleEvents "two entries, one of them to be replaced" (Kubernetes: [5, 6].)
        StoreCase{.name = "two entries, one of them to be replaced",
                  .rules = rules(10, 60, 0, 0, 0),
                  .before = {{61, 7}, {59, 6}},
                  .want_changed_in_60s = 6,
                  .want_after = {{59, 6}, {0, 5}}},
        // TestStoreScaleEvents "replace one entry, use policies with different periods"
        // (Kubernetes: [8, 6, 7 (outdated), 5].)
        StoreCase{.name = "replace one entry, use policies with different periods",
                  .rules = rules(10, 60, 100, 30, 0),
                  .before = {{29, 8}, {59, 6}, {61, 7}, {61, 9}},
                  .want_changed_in_60s = 14,
                  .want_after = {{29, 8}, {59, 6}, {0, 5}}},
        // TestStoreScaleEvents "two entries, both actual"
        StoreCase{.name = "two entries, both actual",
                  .rules = rules(10, 120, 100, 30, 0),
                  .before = {{58, 7}, {59, 6}},
                  .want_changed_in_60s = 13,
                  .want_after = {{58, 7}, {59, 6}, {0, 5}}}),
    caseName<StoreCase>);

INSTANTIATE_TEST_SUITE_P(Governor, StoreScaleEventsTest,
                         testing::Values(
                             // An event exactly one longest period old can never be counted again.
                             StoreCase{.name = "event at the longest period is dropped",
                                       .rules = rules(10, 60, 0, 0, 0),
                                       .before = {{60, 3}, {59.999, 4}},
                                       .want_changed_in_60s = 4,
                                       .want_after = {{59.999, 4}, {0, 5}}}),
                         caseName<StoreCase>);

TEST(RecordScaleTest, NoChangeIsANoOp) {
  BehaviorState state = freshHistory();
  state.scale_up_events = {{ago(5), 2}};
  const BehaviorState before = state;
  recordScale(Behavior::hpaDefaults(), 7, 7, state, kNow);
  EXPECT_EQ(state, before);
}

// Scale-down events count in scale-up periods (start = current - added + removed) and the
// other way round, so they are kept for the longest period of either direction. (HPA marks
// them outdated by their own direction's periods.)
TEST(RecordScaleTest, KeepsEventsTheOtherDirectionStillCounts) {
  Behavior b = Behavior::hpaDefaults();  // scaleDown periods: 15 s.
  b.scale_up = rules(0, 0, 100, 300, 0);
  BehaviorState state = freshHistory();
  recordScale(b, 10, 6, state, ago(100));
  recordScale(b, 6, 5, state, kNow);
  EXPECT_EQ(state.scale_down_events, (std::vector<ScaleEvent>{{ago(100), 4}, {kNow, 1}}));
  // The scale-up limit counts both: start = 5 + 5 = 10, 100% allows 20.
  EXPECT_EQ(applyBehavior(b, 5, 50, state, after(1)).replicas, 20);
}

// ---------------------------------------------------------------------------------------
// Cooldowns (Governor).

struct CooldownCase {
  std::string name;
  int32_t up_cooldown = 0;
  int32_t down_cooldown = 0;
  std::optional<double> last_up_age;  // Seconds before kNow; negative: in the future.
  std::optional<double> last_down_age;
  int32_t current = 0;
  int32_t proposed = 0;
  int32_t want = 0;
  std::vector<Limit> want_limits;
  std::optional<Duration> want_recheck;
};

class CooldownTest : public testing::TestWithParam<CooldownCase> {};

TEST_P(CooldownTest, HoldsUntilTheCooldownEnds) {
  const CooldownCase& c = GetParam();
  Behavior b = stabilizationOnly(0, 0);
  b.scale_up.cooldown = Seconds(c.up_cooldown);
  b.scale_down.cooldown = Seconds(c.down_cooldown);
  BehaviorState state = freshHistory();
  if (c.last_up_age) state.last_scale_up = ago(*c.last_up_age);
  if (c.last_down_age) state.last_scale_down = ago(*c.last_down_age);

  const BehaviorResult r = applyBehavior(b, c.current, c.proposed, state, kNow);

  EXPECT_EQ(r.replicas, c.want);
  EXPECT_EQ(r.stabilized, c.proposed);
  EXPECT_EQ(r.limits, c.want_limits);
  EXPECT_EQ(r.recheck_after, c.want_recheck);
}

INSTANTIATE_TEST_SUITE_P(
    Governor, CooldownTest,
    testing::Values(
        CooldownCase{.name = "scale up within cooldown",
                     .up_cooldown = 60,
                     .last_up_age = 18,
                     .current = 5,
                     .proposed = 8,
                     .want = 5,
                     .want_limits = {{"ScaleUpCooldown", "cooldown: 42s left"}},
                     .want_recheck = secs(42)},
        CooldownCase{.name = "scale up when cooldown just ended",
                     .up_cooldown = 60,
                     .last_up_age = 60,
                     .current = 5,
                     .proposed = 8,
                     .want = 8},
        CooldownCase{.name = "seconds left round up",
                     .up_cooldown = 60,
                     .last_up_age = 59.5,
                     .current = 5,
                     .proposed = 8,
                     .want = 5,
                     .want_limits = {{"ScaleUpCooldown", "cooldown: 1s left"}},
                     .want_recheck = secs(0.5)},
        CooldownCase{.name = "scale up not held by a recent scale down",
                     .up_cooldown = 60,
                     .down_cooldown = 600,
                     .last_up_age = 600,
                     .last_down_age = 1,
                     .current = 5,
                     .proposed = 8,
                     .want = 8},
        CooldownCase{.name = "scale down within cooldown",
                     .down_cooldown = 120,
                     .last_down_age = 30,
                     .current = 10,
                     .proposed = 5,
                     .want = 10,
                     .want_limits = {{"ScaleDownCooldown", "cooldown: 90s left"}},
                     .want_recheck = secs(90)},
        CooldownCase{.name = "scale down not held by a recent scale up",
                     .up_cooldown = 600,
                     .down_cooldown = 120,
                     .last_up_age = 1,
                     .current = 10,
                     .proposed = 5,
                     .want = 5},
        CooldownCase{.name = "zero cooldown never holds",
                     .last_up_age = 0,
                     .current = 5,
                     .proposed = 8,
                     .want = 8},
        CooldownCase{
            .name = "no previous scale", .up_cooldown = 60, .current = 5, .proposed = 8, .want = 8},
        CooldownCase{.name = "last scale in the future counts as now",
                     .up_cooldown = 60,
                     .last_up_age = -10,
                     .current = 5,
                     .proposed = 8,
                     .want = 5,
                     .want_limits = {{"ScaleUpCooldown", "cooldown: 60s left"}},
                     .want_recheck = secs(60)},
        CooldownCase{.name = "no change no cooldown",
                     .up_cooldown = 60,
                     .down_cooldown = 60,
                     .last_up_age = 1,
                     .last_down_age = 1,
                     .current = 5,
                     .proposed = 5,
                     .want = 5}),
    caseName<CooldownCase>);

// A cooldown applies to what survives stabilization and rate limits; both limits are listed.
TEST(CooldownAfterRateTest, ListsBothLimits) {
  Behavior b = Behavior::hpaDefaults();
  b.scale_up.cooldown = Seconds(30);
  BehaviorState state = freshHistory();
  state.last_scale_up = ago(10);
  const BehaviorResult r = applyBehavior(b, 10, 50, state, kNow);
  EXPECT_EQ(r.replicas, 10);
  EXPECT_EQ(reasons(r), (std::vector<std::string>{"ScaleUpLimit", "ScaleUpCooldown"}));
  EXPECT_EQ(r.recheck_after, secs(20));
}

// recordScale sets the time the cooldown counts from.
TEST(CooldownAfterRateTest, RecordScaleStartsTheCooldown) {
  Behavior b = stabilizationOnly(0, 0);
  b.scale_down.cooldown = Seconds(300);
  BehaviorState state = freshHistory();
  recordScale(b, 10, 8, state, kNow);
  EXPECT_EQ(applyBehavior(b, 8, 4, state, after(299)).replicas, 8);
  EXPECT_EQ(applyBehavior(b, 8, 4, state, after(300)).replicas, 4);
}

// ---------------------------------------------------------------------------------------
// recheck_after: when a held change could next proceed.

struct RecheckCase {
  std::string name;
  Behavior behavior;
  std::vector<Rec> history;
  std::vector<ScaleEvent> up_events;
  std::vector<ScaleEvent> down_events;
  int32_t current = 0;
  int32_t proposed = 0;
  int32_t want = 0;
  std::optional<Duration> want_recheck;
};

class RecheckTest : public testing::TestWithParam<RecheckCase> {};

TEST_P(RecheckTest, EarliestRelease) {
  const RecheckCase& c = GetParam();
  BehaviorState state = freshHistory();
  for (const Rec& r : c.history) state.recommendations.push_back({ago(r.age), r.replicas});
  state.scale_up_events = c.up_events;
  state.scale_down_events = c.down_events;
  const BehaviorResult r = applyBehavior(c.behavior, c.current, c.proposed, state, kNow);
  EXPECT_EQ(r.replicas, c.want);
  EXPECT_EQ(r.recheck_after, c.want_recheck);
}

Behavior downBehavior(ScalingRules down) {
  Behavior b = Behavior::hpaDefaults();
  b.scale_down = std::move(down);
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Governor, RecheckTest,
    testing::Values(
        RecheckCase{.name = "nothing held",
                    .behavior = Behavior::hpaDefaults(),
                    .current = 5,
                    .proposed = 7,
                    .want = 7},
        RecheckCase{.name = "no change",
                    .behavior = Behavior::hpaDefaults(),
                    .history = {{100, 9}},
                    .current = 5,
                    .proposed = 5,
                    .want = 5},
        // Held at current by a recommendation that leaves the window in 200 s.
        RecheckCase{.name = "stabilization holds at current",
                    .behavior = Behavior::hpaDefaults(),
                    .history = {{100, 8}},
                    .current = 8,
                    .proposed = 3,
                    .want = 8,
                    .want_recheck = secs(200)},
        // The first recommendation that holds the result to leave decides: 10 leaves in 50 s
        // (then 6 holds until 200 s).
        RecheckCase{.name = "earliest holding recommendation",
                    .behavior = Behavior::hpaDefaults(),
                    .history = {{250, 10}, {100, 6}},
                    .current = 10,
                    .proposed = 3,
                    .want = 10,
                    .want_recheck = secs(50)},
        // A recommendation at or below the proposal does not hold a scale-down.
        RecheckCase{.name = "non holding recommendations ignored",
                    .behavior = Behavior::hpaDefaults(),
                    .history = {{290, 2}, {100, 6}},
                    .current = 10,
                    .proposed = 3,
                    .want = 6,
                    .want_recheck = secs(200)},
        // A clock that stepped back recorded the older recommendation last: the earliest to
        // leave still decides, wherever it is in the history.
        RecheckCase{.name = "earliest holding recommendation out of order",
                    .behavior = Behavior::hpaDefaults(),
                    .history = {{100, 6}, {250, 10}, {150, 7}},
                    .current = 10,
                    .proposed = 3,
                    .want = 10,
                    .want_recheck = secs(50)},
        RecheckCase{.name = "scale up stabilization",
                    .behavior = stabilizationOnly(120, 0),
                    .history = {{100, 4}},
                    .current = 4,
                    .proposed = 9,
                    .want = 4,
                    .want_recheck = secs(20)},
        // Rate limit with no history: the change about to be applied leaves its period in
        // 15 s.
        RecheckCase{.name = "rate limit without events",
                    .behavior = Behavior::hpaDefaults(),
                    .current = 10,
                    .proposed = 50,
                    .want = 20,
                    .want_recheck = secs(15)},
        // Held at current by a scale-up 5 s ago: it leaves the 15 s period in 10 s.
        RecheckCase{.name = "rate limit held by a recent event",
                    .behavior = Behavior::hpaDefaults(),
                    .up_events = {{ago(5), 10}},
                    .current = 20,
                    .proposed = 50,
                    .want = 20,
                    .want_recheck = secs(10)},
        // The earlier of the event leaving (10 s) and the new change leaving (60 s).
        RecheckCase{.name = "rate limit event leaves before the pending change",
                    .behavior = withUp(rules(4, 60, 0, 0, 0)),
                    .up_events = {{ago(50), 2}},
                    .current = 12,
                    .proposed = 30,
                    .want = 14,
                    .want_recheck = secs(10)},
        // Scale-down events do not loosen a scale-up limit when they leave.
        RecheckCase{.name = "opposite direction events do not release",
                    .behavior = withUp(rules(4, 60, 0, 0, 0)),
                    .down_events = {{ago(50), 2}},
                    .current = 12,
                    .proposed = 30,
                    .want = 18,
                    .want_recheck = secs(60)},
        // Stabilization (8 leaves in 100 s) then a rate limit (9; the change leaves in 60 s).
        RecheckCase{.name = "stabilization and rate limit",
                    .behavior = downBehavior(rules(0, 0, 10, 60, 300)),
                    .history = {{200, 8}},
                    .current = 10,
                    .proposed = 2,
                    .want = 9,
                    .want_recheck = secs(60)},
        // Disabled: nothing in the state can release it, even once stabilization would.
        RecheckCase{.name = "disabled after stabilization never releases",
                    .behavior = downBehavior(disabled(rules(0, 0, 100, 15, 300))),
                    .history = {{200, 8}},
                    .current = 10,
                    .proposed = 2,
                    .want = 10},
        RecheckCase{.name = "disabled never releases",
                    .behavior = withUp(disabled(rules(4, 15, 0, 0, 0))),
                    .current = 5,
                    .proposed = 9,
                    .want = 5}),
    caseName<RecheckCase>);

// ---------------------------------------------------------------------------------------
// Persistence and pruning.

// A straightforward model of the same rules that keeps every recommendation and event
// forever: pruning must never make applyBehavior differ from it.
class UnprunedModel {
 public:
  explicit UnprunedModel(Behavior b) : b_(std::move(b)) {}

  std::pair<int32_t, int32_t> apply(int32_t current, int32_t proposed, TimePoint now) {
    if (!seeded_) {
      recs_.push_back({now, current});
      seeded_ = true;
    }
    const Duration up_w = b_.scale_up.stabilization_window;
    const Duration down_w = b_.scale_down.stabilization_window;
    int32_t lowest = proposed;
    int32_t highest = proposed;
    for (const auto& [t, r] : recs_) {
      if (t > now - up_w) lowest = std::min(lowest, r);
      if (t > now - down_w) highest = std::max(highest, r);
    }
    int32_t stabilized = current;
    if (stabilized < lowest) stabilized = lowest;
    if (stabilized > highest) stabilized = highest;
    recs_.push_back({now, proposed});

    int64_t result = stabilized;
    if (stabilized != current) {
      const bool up = stabilized > current;
      const ScalingRules& rules = up ? b_.scale_up : b_.scale_down;
      int64_t limit = current;
      if (rules.select_policy != SelectPolicy::kDisabled) {
        const bool take_max = up == (rules.select_policy == SelectPolicy::kMax);
        limit = take_max ? kMinInt : kMaxInt;
        for (const ScalingRule& p : rules.policies) {
          int64_t added = 0;
          int64_t removed = 0;
          for (const auto& [t, n] : ups_) added += t > now - p.period ? n : 0;
          for (const auto& [t, n] : downs_) removed += t > now - p.period ? n : 0;
          const double start = static_cast<double>(current - added + removed);
          const double pct = static_cast<double>(p.value) / 100;
          int64_t allowed = 0;
          if (p.type == ScalingPolicyType::kPods) {
            allowed = static_cast<int64_t>(up ? start + p.value : start - p.value);
          } else {
            allowed = static_cast<int64_t>(up ? std::ceil(start * (1 + pct))
                                              : std::trunc(start * (1 - pct)));
          }
          limit = take_max ? std::max(limit, allowed) : std::min(limit, allowed);
        }
      }
      result = up ? std::min<int64_t>(stabilized, std::max<int64_t>(limit, current))
                  : std::max<int64_t>(stabilized, std::min<int64_t>(limit, current));
      const std::optional<TimePoint>& last = up ? last_up_ : last_down_;
      const Duration cooldown = rules.cooldown;
      if (result != current && last && now - *last < cooldown) result = current;
    }
    return {static_cast<int32_t>(result), stabilized};
  }

  void record(int32_t from, int32_t to, TimePoint now) {
    if (to > from) {
      ups_.push_back({now, to - from});
      last_up_ = now;
    } else if (to < from) {
      downs_.push_back({now, from - to});
      last_down_ = now;
    }
  }

 private:
  Behavior b_;
  bool seeded_ = false;
  std::vector<std::pair<TimePoint, int32_t>> recs_;
  std::vector<std::pair<TimePoint, int64_t>> ups_;
  std::vector<std::pair<TimePoint, int64_t>> downs_;
  std::optional<TimePoint> last_up_;
  std::optional<TimePoint> last_down_;
};

// Deterministic on every platform (std distributions are not).
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  int32_t next(int32_t lo, int32_t hi) {  // [lo, hi]
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + static_cast<int32_t>((state_ >> 33) % static_cast<uint64_t>(hi - lo + 1));
  }

 private:
  uint64_t state_;
};

struct Step {
  TimePoint now;
  int32_t proposed;
};

// A day-like trace: a sync every `sync_ms` (plus jitter up to `jitter_ms`), proposals in a
// random walk with occasional jumps.
std::vector<Step> trace(uint64_t seed, int steps, int64_t sync_ms, int32_t jitter_ms) {
  Lcg rng(seed);
  std::vector<Step> out;
  TimePoint t = kNow;
  int32_t p = 5;
  for (int i = 0; i < steps; ++i) {
    t += Duration(sync_ms + (jitter_ms > 0 ? rng.next(0, jitter_ms) : 0));
    p = rng.next(0, 9) == 0 ? rng.next(1, 80) : std::clamp(p + rng.next(-3, 3), 1, 80);
    out.push_back({t, p});
  }
  return out;
}

struct BehaviorSpecCase {
  std::string name;
  Behavior behavior;
  int64_t sync_ms = 15'000;
  int32_t jitter_ms = 0;
  int min_changes = 100;  // Sanity: the trace must exercise scaling.
};

Behavior customBehavior() {
  Behavior b;
  b.scale_up = minSelect(rules(3, 30, 50, 90, 60));
  b.scale_up.cooldown = Seconds(30);
  b.scale_down = rules(2, 45, 20, 75, 120);
  b.scale_down.cooldown = Seconds(60);
  return b;
}

Behavior disabledDownBehavior() {
  Behavior b = Behavior::hpaDefaults();
  b.scale_down = disabled(b.scale_down);
  b.scale_up.stabilization_window = Seconds(30);
  return b;
}

class SequenceTest : public testing::TestWithParam<BehaviorSpecCase> {};

// Pruning never changes a result: applyBehavior (pruned) agrees with the unpruned model on
// a long trace, and the history stays bounded.
TEST_P(SequenceTest, PruningKeepsResultsIdentical) {
  const BehaviorSpecCase& c = GetParam();
  UnprunedModel model(c.behavior);
  BehaviorState state;
  int32_t current = 5;
  size_t most_recommendations = 0;
  int changes = 0;
  for (const Step& s : trace(7, 3000, c.sync_ms, c.jitter_ms)) {
    const BehaviorResult r = applyBehavior(c.behavior, current, s.proposed, state, s.now);
    const auto [want, want_stabilized] = model.apply(current, s.proposed, s.now);
    ASSERT_EQ(r.replicas, want) << "at " << toUnixSeconds(s.now);
    ASSERT_EQ(r.stabilized, want_stabilized) << "at " << toUnixSeconds(s.now);
    const int32_t next = std::clamp(r.replicas, 1, 60);  // The engine's bounds.
    recordScale(c.behavior, current, next, state, s.now);
    model.record(current, next, s.now);
    changes += next != current ? 1 : 0;
    current = next;
    most_recommendations = std::max(most_recommendations, state.recommendations.size());
  }
  EXPECT_GE(changes, c.min_changes);
  // Recommendations at t > now - longest window, one per sync, plus the seed early on.
  const int64_t window_ms =
      std::max(c.behavior.scale_up.stabilization_window, c.behavior.scale_down.stabilization_window)
          .count() *
      1000;
  EXPECT_LE(most_recommendations, static_cast<size_t>((window_ms + c.sync_ms - 1) / c.sync_ms + 1));
}

// What persistence relies on: a state copied out and back between calls (as the operator
// writes it to status and reads it after a restart), with other objects evaluated in
// between, gives exactly the results of one uninterrupted run.
TEST_P(SequenceTest, StateRoundTripGivesIdenticalResults) {
  const BehaviorSpecCase& c = GetParam();
  struct Stored {  // What a status field holds: plain numbers.
    bool initialized;
    std::vector<std::pair<int64_t, int32_t>> recs, ups, downs;
    std::optional<int64_t> last_up, last_down;
  };
  const auto save = [](const BehaviorState& s) {
    Stored out{s.initialized, {}, {}, {}, {}, {}};
    for (const auto& r : s.recommendations) {
      out.recs.emplace_back(r.at.time_since_epoch().count(), r.replicas);
    }
    for (const auto& e : s.scale_up_events) {
      out.ups.emplace_back(e.at.time_since_epoch().count(), e.change);
    }
    for (const auto& e : s.scale_down_events) {
      out.downs.emplace_back(e.at.time_since_epoch().count(), e.change);
    }
    if (s.last_scale_up) out.last_up = s.last_scale_up->time_since_epoch().count();
    if (s.last_scale_down) out.last_down = s.last_scale_down->time_since_epoch().count();
    return out;
  };
  const auto load = [](const Stored& s) {
    BehaviorState out;
    out.initialized = s.initialized;
    for (const auto& [t, n] : s.recs) out.recommendations.push_back({TimePoint(Duration(t)), n});
    for (const auto& [t, n] : s.ups) out.scale_up_events.push_back({TimePoint(Duration(t)), n});
    for (const auto& [t, n] : s.downs) {
      out.scale_down_events.push_back({TimePoint(Duration(t)), n});
    }
    if (s.last_up) out.last_scale_up = TimePoint(Duration(*s.last_up));
    if (s.last_down) out.last_scale_down = TimePoint(Duration(*s.last_down));
    return out;
  };

  const std::vector<Step> steps = trace(11, 800, c.sync_ms, c.jitter_ms);
  const std::vector<Step> other = trace(12, 800, c.sync_ms, c.jitter_ms);

  BehaviorState live;
  std::optional<Stored> stored;
  BehaviorState other_state;
  int32_t live_current = 5;
  int32_t stored_current = 5;
  int32_t other_current = 40;
  for (size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    const BehaviorResult a = applyBehavior(c.behavior, live_current, s.proposed, live, s.now);
    recordScale(c.behavior, live_current, a.replicas, live, s.now);
    live_current = a.replicas;

    BehaviorState restored = stored ? load(*stored) : BehaviorState{};
    const BehaviorResult b = applyBehavior(c.behavior, stored_current, s.proposed, restored, s.now);
    recordScale(c.behavior, stored_current, b.replicas, restored, s.now);
    stored_current = b.replicas;
    stored = save(restored);

    // Another object evaluated in between, with its own state.
    const BehaviorResult o =
        applyBehavior(customBehavior(), other_current, other[i].proposed, other_state, s.now);
    recordScale(customBehavior(), other_current, o.replicas, other_state, s.now);
    other_current = o.replicas;

    ASSERT_EQ(a.replicas, b.replicas) << "step " << i;
    ASSERT_EQ(a.stabilized, b.stabilized) << "step " << i;
    ASSERT_EQ(a.limits, b.limits) << "step " << i;
    ASSERT_EQ(a.recheck_after, b.recheck_after) << "step " << i;
    ASSERT_EQ(live, load(*stored)) << "step " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Governor, SequenceTest,
    testing::Values(BehaviorSpecCase{.name = "hpa defaults", .behavior = Behavior::hpaDefaults()},
                    BehaviorSpecCase{.name = "hpa defaults jittered sync",
                                     .behavior = Behavior::hpaDefaults(),
                                     .jitter_ms = 4000},
                    BehaviorSpecCase{.name = "custom min select with cooldowns",
                                     .behavior = customBehavior(),
                                     .sync_ms = 10'000,
                                     .jitter_ms = 5000},
                    BehaviorSpecCase{.name = "custom on the period boundaries",
                                     .behavior = customBehavior(),
                                     .sync_ms = 15'000},
                    BehaviorSpecCase{.name = "scale down disabled",
                                     .behavior = disabledDownBehavior(),
                                     .min_changes = 3}),
    caseName<BehaviorSpecCase>);

// Bounded state: with a 15 s sync and HPA's defaults the history holds exactly the 20
// recommendations of the last 300 s, and the events of the last 15 s.
TEST(PruningTest, DefaultsKeepTwentyRecommendations) {
  const Behavior b = Behavior::hpaDefaults();
  BehaviorState state;
  int32_t current = 5;
  TimePoint now = kNow;
  for (int i = 0; i < 200; ++i) {
    now += Duration(15'000);
    const BehaviorResult r = applyBehavior(b, current, 5 + (i % 7), state, now);
    recordScale(b, current, r.replicas, state, now);
    current = r.replicas;
    EXPECT_LE(state.scale_up_events.size() + state.scale_down_events.size(), 1u);
  }
  EXPECT_EQ(state.recommendations.size(), 20u);
  EXPECT_EQ(state.recommendations.front().at, now - Duration(285'000));
}

// History nothing can see does not change a result, and is dropped.
TEST(PruningTest, InvisibleHistoryIsIgnoredAndDropped) {
  const Behavior b = Behavior::hpaDefaults();
  BehaviorState clean = freshHistory();
  clean.recommendations = {{ago(200), 9}};
  BehaviorState noisy = clean;
  noisy.recommendations.insert(noisy.recommendations.begin(), {{ago(3600), 100}, {ago(300), 50}});
  noisy.scale_up_events = {{ago(3600), 1000}, {ago(15), 1000}};
  noisy.scale_down_events = {{ago(15), 1000}};

  const BehaviorResult want = applyBehavior(b, 10, 3, clean, kNow);
  const BehaviorResult got = applyBehavior(b, 10, 3, noisy, kNow);
  EXPECT_EQ(got.replicas, want.replicas);
  EXPECT_EQ(got.limits, want.limits);
  EXPECT_EQ(got.recheck_after, want.recheck_after);
  EXPECT_EQ(noisy, clean);
}

// Entries out of time order (a clock that stepped back, or a status written by another
// replica): every invisible one is dropped and the visible ones keep their order, as in the
// common case where the invisible ones are a run at the front.
struct PruneOrderCase {
  std::string name;
  std::vector<double> ages;  // Of the recommendations, in recorded order.
};

class PruneOrderTest : public testing::TestWithParam<PruneOrderCase> {};

TEST_P(PruneOrderTest, DropsEveryInvisibleEntryKeepingOrder) {
  const Behavior b = Behavior::hpaDefaults();  // 300 s scale-down window.
  BehaviorState state = freshHistory();
  for (double age : GetParam().ages) state.recommendations.push_back({ago(age), 5});
  std::vector<TimedRecommendation> want;
  for (const TimedRecommendation& r : state.recommendations) {
    if (r.at > kNow - Duration(300'000)) want.push_back(r);
  }
  want.push_back({kNow, 5});  // This evaluation's.
  applyBehavior(b, 5, 5, state, kNow);
  EXPECT_EQ(state.recommendations, want);
}

INSTANTIATE_TEST_SUITE_P(
    Governor, PruneOrderTest,
    testing::Values(PruneOrderCase{"nothing old", {200, 100, 15}},
                    PruneOrderCase{"a run at the front", {400, 350, 300, 200, 15}},
                    PruneOrderCase{"old entry behind a newer one", {400, 200, 350, 15}},
                    PruneOrderCase{"old entries at both ends", {500, 100, 450}},
                    PruneOrderCase{"all old", {900, 600, 301}},
                    PruneOrderCase{"newest first", {15, 100, 320, 310}}),
    caseName<PruneOrderCase>);

// ---------------------------------------------------------------------------------------
// Extreme inputs: saturate, never overflow (run under UBSan in CI).

struct ExtremeCase {
  std::string name;
  Behavior behavior;
  std::vector<ScaleEvent> up_events;
  std::vector<ScaleEvent> down_events;
  int32_t current = 0;
  int32_t proposed = 0;
  int32_t want = 0;
  TimePoint now = kNow;
};

class ExtremeTest : public testing::TestWithParam<ExtremeCase> {};

TEST_P(ExtremeTest, Saturates) {
  const ExtremeCase& c = GetParam();
  BehaviorState state = freshHistory();
  state.scale_up_events = c.up_events;
  state.scale_down_events = c.down_events;
  const BehaviorResult r = applyBehavior(c.behavior, c.current, c.proposed, state, c.now);
  EXPECT_EQ(r.replicas, c.want);
  if (r.recheck_after) {
    EXPECT_GT(*r.recheck_after, Duration(0));
  }
}

Behavior hugeWindows() {
  Behavior b = Behavior::hpaDefaults();
  b.scale_up.stabilization_window = Seconds(std::numeric_limits<int64_t>::max());
  b.scale_down.stabilization_window = Seconds(std::numeric_limits<int64_t>::max());
  b.scale_up.policies = {
      {ScalingPolicyType::kPods, kMaxInt, Seconds(std::numeric_limits<int64_t>::max())}};
  b.scale_up.cooldown = Seconds(std::numeric_limits<int64_t>::max());
  return b;
}

Behavior negativeDurations() {
  Behavior b = Behavior::hpaDefaults();
  b.scale_up.stabilization_window = Seconds(-5);
  b.scale_down.stabilization_window = Seconds(-5);
  b.scale_up.policies = {{ScalingPolicyType::kPods, 4, Seconds(-15)}};
  b.scale_down.cooldown = Seconds(-60);
  return b;
}

INSTANTIATE_TEST_SUITE_P(
    Governor, ExtremeTest,
    testing::Values(
        ExtremeCase{.name = "percent up at int32 max",
                    .behavior = withUp(rules(0, 0, 1000, 60, 0)),
                    .current = 2'000'000'000,
                    .proposed = kMaxInt,
                    .want = kMaxInt},
        ExtremeCase{.name = "pods up at int32 max",
                    .behavior = withUp(rules(kMaxInt, 60, 0, 0, 0)),
                    .current = kMaxInt - 1,
                    .proposed = kMaxInt,
                    .want = kMaxInt},
        ExtremeCase{.name = "huge event sums hold at current",
                    .behavior = withUp(rules(4, 60, 100, 60, 0)),
                    .up_events = {{ago(1), kMaxInt}, {ago(2), kMaxInt}, {ago(3), kMaxInt}},
                    .current = 10,
                    .proposed = 100,
                    .want = 10},
        ExtremeCase{.name = "huge removed sums scale up",
                    .behavior = withUp(rules(4, 60, 100, 60, 0)),
                    .down_events = {{ago(1), kMaxInt}, {ago(2), kMaxInt}, {ago(3), kMaxInt}},
                    .current = 10,
                    .proposed = 100,
                    .want = 100},
        ExtremeCase{.name = "percent down of huge start",
                    .behavior = downBehavior(rules(0, 0, 1, 60, 0)),
                    .down_events = {{ago(1), kMaxInt}, {ago(2), kMaxInt}},
                    .current = kMaxInt,
                    .proposed = 0,
                    .want = kMaxInt},
        // As HPA: the rate limit counts from the (impossible) negative count.
        ExtremeCase{.name = "negative counts",
                    .behavior = Behavior::hpaDefaults(),
                    .current = -5,
                    .proposed = 3,
                    .want = -1},
        ExtremeCase{.name = "proposal at int32 min",
                    .behavior = downBehavior(rules(0, 0, 100, 15, 0)),
                    .current = 10,
                    .proposed = kMinInt,
                    .want = 0},
        ExtremeCase{.name = "huge windows periods and cooldowns",
                    .behavior = hugeWindows(),
                    .current = 10,
                    .proposed = 20,
                    .want = 20},
        ExtremeCase{.name = "negative windows and periods count as zero",
                    .behavior = negativeDurations(),
                    .current = 10,
                    .proposed = 20,
                    .want = 14},
        ExtremeCase{.name = "now at the start of time",
                    .behavior = hugeWindows(),
                    .current = 10,
                    .proposed = 2,
                    .want = 2,
                    .now = TimePoint(Duration(std::numeric_limits<int64_t>::min()))},
        ExtremeCase{.name = "now at the end of time",
                    .behavior = Behavior::hpaDefaults(),
                    .current = 10,
                    .proposed = 50,
                    .want = 20,
                    .now = TimePoint(Duration(std::numeric_limits<int64_t>::max()))}),
    caseName<ExtremeCase>);

TEST(ExtremeRecordTest, ChangeSaturates) {
  BehaviorState state;
  recordScale(Behavior::hpaDefaults(), kMinInt, kMaxInt, state, kNow);
  EXPECT_EQ(state.scale_up_events, (std::vector<ScaleEvent>{{kNow, kMaxInt}}));
  recordScale(Behavior::hpaDefaults(), kMaxInt, kMinInt, state, kNow);
  EXPECT_EQ(state.scale_down_events, (std::vector<ScaleEvent>{{kNow, kMaxInt}}));
}

}  // namespace
}  // namespace governor::policies
