#include "rollouts/split.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace governor::rollouts {
namespace {

// |100 c / t - w| compared exactly: a/b distances cross-multiplied.
int64_t distanceNumerator(int64_t canary, int64_t total, int32_t weight) {
  return std::llabs(100 * canary - weight * total);
}

// The properties of the split without a router, over replicas 0..50 and weights 0..100,
// for each way of writing maxSurge.
class SplitPropertyTest : public testing::TestWithParam<IntOrPercent> {};

TEST_P(SplitPropertyTest, HoldsForEveryReplicaCountAndWeight) {
  for (int32_t replicas = 0; replicas <= 50; ++replicas) {
    const int32_t surge = GetParam().resolve(replicas, true);
    double previous_served = -1;
    for (int32_t weight = 0; weight <= 100; ++weight) {
      SCOPED_TRACE("replicas " + std::to_string(replicas) + ", weight " + std::to_string(weight) +
                   ", maxSurge " + std::to_string(surge));
      const ReplicaSplit s = splitReplicas(replicas, weight, surge);
      ASSERT_GE(s.stable, 0);
      ASSERT_GE(s.canary, 0);

      // The total: spec.replicas, plus at most one pod, and only when maxSurge allows it.
      EXPECT_GE(s.total(), replicas);
      EXPECT_LE(s.total(), replicas + std::min(surge, 1));

      // What is served is the pods' share.
      EXPECT_DOUBLE_EQ(s.served_weight,
                       s.total() == 0 ? 0.0 : 100.0 * s.canary / static_cast<double>(s.total()));

      if (replicas == 0) {
        EXPECT_EQ(s, (ReplicaSplit{0, 0, 0.0}));
      } else if (weight == 0) {
        EXPECT_EQ(s, (ReplicaSplit{replicas, 0, 0.0}));
      } else if (weight == 100) {
        EXPECT_EQ(s, (ReplicaSplit{0, replicas, 100.0}));
      } else if (replicas >= 2 || surge >= 1) {
        // Each side keeps a pod.
        EXPECT_GE(s.stable, 1);
        EXPECT_GE(s.canary, 1);
      } else {
        // One pod and no surge: it goes to the side the weight is closer to.
        EXPECT_EQ(s.total(), 1);
        EXPECT_EQ(s.canary, weight >= 50 ? 1 : 0);
      }

      // Nearest: no split allowed by the rule serves a strictly closer weight, and an
      // equally close one never uses fewer pods.
      if (replicas > 0 && weight > 0 && weight < 100 && (replicas >= 2 || surge >= 1)) {
        const int64_t got = distanceNumerator(s.canary, s.total(), weight);
        for (int64_t total = replicas; total <= replicas + std::min(surge, 1); ++total) {
          for (int64_t canary = 1; canary < total; ++canary) {
            const int64_t other = distanceNumerator(canary, total, weight);
            EXPECT_LE(got * total, other * s.total())
                << canary << "/" << total << " is closer than " << s.canary << "/" << s.total();
            if (got * total == other * s.total()) {
              EXPECT_LE(s.total(), total);
            }
          }
        }
      }

      // A larger weight never serves the canary less.
      EXPECT_GE(s.served_weight, previous_served);
      previous_served = s.served_weight;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(MaxSurge, SplitPropertyTest,
                         testing::Values(IntOrPercent{0, false}, IntOrPercent{1, false},
                                         IntOrPercent{3, false}, IntOrPercent{25, true},
                                         IntOrPercent{100, true}),
                         [](const testing::TestParamInfo<IntOrPercent>& info) {
                           return (info.param.percent ? "Percent" : "Pods") +
                                  std::to_string(info.param.value);
                         });

// A surge of several pods buys the same split as one: the rule spends at most one.
TEST(SplitTest, SurgeBeyondOnePodChangesNothing) {
  for (int32_t replicas = 0; replicas <= 50; ++replicas) {
    for (int32_t weight = 0; weight <= 100; ++weight) {
      EXPECT_EQ(splitReplicas(replicas, weight, 1), splitReplicas(replicas, weight, 7))
          << replicas << " " << weight;
    }
  }
}

struct SplitCase {
  int32_t replicas;
  int32_t weight;
  int32_t max_surge;
  int32_t stable;
  int32_t canary;
};

class SplitExampleTest : public testing::TestWithParam<SplitCase> {};

// The worked examples of rollouts/split.h, checked as written there.
TEST_P(SplitExampleTest, MatchesTheDocumentedRule) {
  const SplitCase& c = GetParam();
  const ReplicaSplit s = splitReplicas(c.replicas, c.weight, c.max_surge);
  EXPECT_EQ(s.stable, c.stable);
  EXPECT_EQ(s.canary, c.canary);
}

INSTANTIATE_TEST_SUITE_P(Header, SplitExampleTest,
                         testing::Values(SplitCase{10, 20, 0, 8, 2}, SplitCase{10, 25, 0, 7, 3},
                                         SplitCase{10, 25, 3, 8, 3}, SplitCase{4, 10, 1, 4, 1},
                                         SplitCase{2, 50, 1, 1, 1}, SplitCase{3, 50, 1, 2, 2},
                                         SplitCase{3, 50, 0, 1, 2}, SplitCase{1, 30, 1, 1, 1},
                                         SplitCase{1, 30, 0, 1, 0}, SplitCase{1, 50, 0, 0, 1}),
                         [](const testing::TestParamInfo<SplitCase>& info) {
                           const SplitCase& c = info.param;
                           return "R" + std::to_string(c.replicas) + "W" +
                                  std::to_string(c.weight) + "S" + std::to_string(c.max_surge);
                         });

TEST(SplitTest, LargeReplicaCountsDoNotOverflow) {
  const int32_t max = std::numeric_limits<int32_t>::max();
  const ReplicaSplit s = splitReplicas(max, 37, 1);
  EXPECT_EQ(s.total(), max);  // No room for a surge pod.
  EXPECT_GE(s.canary, 1);
  EXPECT_NEAR(s.served_weight, 37.0, 1e-6);
  const ReplicaSplit r = splitRoutedReplicas(max, 99);
  EXPECT_EQ(r.stable, max);
  EXPECT_GT(r.canary, 0);
}

// With a router: the stable keeps every pod, the canary gets its traffic share rounded up,
// the weight is exact.
TEST(SplitTest, RoutedCanaryFollowsItsTrafficShare) {
  for (int32_t replicas = 0; replicas <= 50; ++replicas) {
    for (int32_t weight = 0; weight <= 100; ++weight) {
      const ReplicaSplit s = splitRoutedReplicas(replicas, weight);
      EXPECT_EQ(s.stable, replicas);
      EXPECT_EQ(s.served_weight, weight);
      // Enough pods for the share, and not one more.
      EXPECT_GE(100 * s.canary, replicas * weight) << replicas << " " << weight;
      if (s.canary > 0) {
        EXPECT_LT(100 * (s.canary - 1), replicas * weight);
      }
      if (replicas > 0 && weight > 0) {
        EXPECT_GE(s.canary, 1);
      }
    }
  }
}

TEST(SplitTest, SetCanaryScaleOverridesTheCanarySize) {
  EXPECT_EQ(splitRoutedReplicas(10, 0, {CanaryScale::Mode::kReplicas, 2}),
            (ReplicaSplit{10, 2, 0.0}));
  EXPECT_EQ(splitRoutedReplicas(10, 5, {CanaryScale::Mode::kWeight, 40}),
            (ReplicaSplit{10, 4, 5.0}));
  EXPECT_EQ(splitRoutedReplicas(10, 5, {CanaryScale::Mode::kWeight, 41}),
            (ReplicaSplit{10, 5, 5.0}));
  EXPECT_EQ(splitRoutedReplicas(10, 30, {CanaryScale::Mode::kMatchTrafficWeight, 0}),
            (ReplicaSplit{10, 3, 30.0}));
}

TEST(SplitTest, CanarySplitUsesTheRouterWhenThereIsOne) {
  CanaryStrategy plain;
  plain.max_surge = {0, false};
  plain.max_unavailable = {1, false};
  EXPECT_EQ(canarySplit(plain, 10, 25), splitReplicas(10, 25, 0));
  plain.max_surge = {25, true};  // 3 of 10: the surge pod is allowed.
  EXPECT_EQ(canarySplit(plain, 10, 25), splitReplicas(10, 25, 3));
  CanaryStrategy routed = plain;
  routed.traffic_routing = GatewayApiRouting{"web", ""};
  EXPECT_EQ(canarySplit(routed, 10, 25), splitRoutedReplicas(10, 25));
  EXPECT_EQ(canarySplit(routed, 10, 25, {CanaryScale::Mode::kReplicas, 1}),
            (ReplicaSplit{10, 1, 25.0}));
}

}  // namespace
}  // namespace governor::rollouts
