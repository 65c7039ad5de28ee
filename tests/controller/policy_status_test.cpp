#include "controller/policy_status.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace governor::controller
