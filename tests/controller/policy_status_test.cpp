#include "controller/policy_status.h"

#include <vector>

#include <gtest/gtest.h>

#include "tests/manifests/full_status.h"

namespace governor::controller {
namespace {

const TimePoint kT0 = fromUnixSeconds(1'700'000'000);

TEST(ConditionTest, TransitionTimeMovesOnlyWhenStatusFlips) {
  std::vector<Condition> conditions;
  setCondition(conditions, "Ready", "True", "A", "a", 1, kT0);
  setCondition(conditions, "Ready", "True", "B", "b", 2, kT0 + Seconds(10));
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0].last_transition_time, kT0);
  EXPECT_EQ(conditions[0].reason, "B");
  EXPECT_EQ(conditions[0].observed_generation, 2);
  setCondition(conditions, "Ready", "False", "C", "c", 2, kT0 + Seconds(20));
  EXPECT_EQ(conditions[0].last_transition_time, kT0 + Seconds(20));
  EXPECT_EQ(findCondition(conditions, "Ready")->status, "False");
  EXPECT_EQ(findCondition(conditions, "Other"), nullptr);
}

TEST(ConditionTest, ARepeatedTypeUpdatesTheLastOne) {
  // A status read back from JSON may repeat a type; the last one is the one maintained.
  std::vector<Condition> conditions = {{"Ready", "True", "A", "a", kT0, 1},
                                       {"Other", "True", "X", "x", kT0, 1},
                                       {"Ready", "True", "B", "b", kT0, 1}};
  setCondition(conditions, "Ready", "False", "C", "c", 2, kT0 + Seconds(5));
  ASSERT_EQ(conditions.size(), 3u);
  EXPECT_EQ(conditions[0], (Condition{"Ready", "True", "A", "a", kT0, 1}));
  EXPECT_EQ(conditions[2], (Condition{"Ready", "False", "C", "c", kT0 + Seconds(5), 2}));
}

TEST(PolicyStatusTest, SwapExchangesEveryField) {
  // fullPolicyStatus sets every field to something other than its default.
  const PolicyStatus full = governor::testing::manifests::fullPolicyStatus();
  PolicyStatus other;
  other.message = "a message too long for the short-string buffer of std::string";
  other.behavior.recommendations = {{kT0, 9}};
  PolicyStatus a = full;
  PolicyStatus b = other;
  swap(a, b);
  EXPECT_EQ(a, other);
  EXPECT_EQ(b, full);
  swap(a, b);
  EXPECT_EQ(a, full);
  EXPECT_EQ(b, other);
  PolicyStatus empty;
  swap(a, empty);
  EXPECT_EQ(a, PolicyStatus());
  EXPECT_EQ(empty, full);
}

}  // namespace
}  // namespace governor::controller
