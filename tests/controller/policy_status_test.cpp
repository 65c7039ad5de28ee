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

// ConditionUpdate must give what copying the stored conditions and calling setCondition on
// the copy gives, whatever the reused buffer held before.
struct ConditionUpdateCase {
  const char* name;
  std::vector<Condition> stored;
  std::vector<Condition> out;  // The reused buffer: an earlier reconcile's conditions.
  struct Set {
    const char* type;
    const char* status;
    const char* reason;
    const char* message;
    int64_t generation;
    TimePoint now;
  };
  std::vector<Set> sets;
};

class ConditionUpdateTest : public ::testing::TestWithParam<ConditionUpdateCase> {};

TEST_P(ConditionUpdateTest, EqualsSetConditionOnACopyOfTheStored) {
  const ConditionUpdateCase& c = GetParam();
  std::vector<Condition> expected = c.stored;
  for (const auto& s : c.sets) {
    setCondition(expected, s.type, s.status, s.reason, s.message, s.generation, s.now);
  }
  std::vector<Condition> out = c.out;
  ConditionUpdate update(c.stored, out);
  for (const auto& s : c.sets) {
    update.set(s.type, s.status, s.reason, s.message, s.generation, s.now);
  }
  update.finish();
  EXPECT_EQ(out, expected);
  // before() reads the stored state, not what was set.
  for (const auto& s : c.sets) {
    const Condition* before = update.before(s.type);
    const Condition* want = findCondition(c.stored, s.type);
    ASSERT_EQ(before == nullptr, want == nullptr) << s.type;
    if (want != nullptr) {
      EXPECT_EQ(*before, *want);
    }
  }
}

const TimePoint kT1 = kT0 + Seconds(15);
const TimePoint kT2 = kT0 + Seconds(30);
const std::vector<Condition> kStored = {{"InvalidSpec", "False", "SpecValid", "valid", kT0, 1},
                                        {"Ready", "True", "AboveTarget", "cpu 90%", kT0, 1},
                                        {"AbleToScale", "True", "Ready", "can scale", kT0, 1}};
// Same types and order as kStored, other values (as a reconcile before the stored one left).
const std::vector<Condition> kEarlier = {
    {"InvalidSpec", "True", "InvalidSpec", "bad", kT1, 0},
    {"Ready", "False", "BelowTarget", "cpu 10% and a message longer than the SSO buffer", kT2, 0},
    {"AbleToScale", "True", "Ready", "can scale", kT1, 0}};

INSTANTIATE_TEST_SUITE_P(
    Table, ConditionUpdateTest,
    ::testing::Values(
        ConditionUpdateCase{"SteadyStateSameTypes",
                            kStored,
                            kEarlier,
                            {{"InvalidSpec", "False", "SpecValid", "valid", 2, kT2},
                             {"Ready", "True", "BelowTarget", "cpu 40%", 2, kT2},
                             {"AbleToScale", "True", "Ready", "can scale", 2, kT2}}},
        ConditionUpdateCase{"StatusFlipMovesTheTransitionTime",
                            kStored,
                            kEarlier,
                            {{"Ready", "False", "FailedGetScale", "no scale", 2, kT2}}},
        ConditionUpdateCase{"UnsetConditionsKeepTheStoredValues",
                            kStored,
                            kEarlier,
                            {{"AbleToScale", "False", "FailedUpdateScale", "conflict", 3, kT2}}},
        ConditionUpdateCase{"NothingSet", kStored, kEarlier, {}},
        ConditionUpdateCase{"SetTwiceInOneReconcile",
                            kStored,
                            kEarlier,
                            {{"Ready", "False", "A", "a", 2, kT1},
                             {"Ready", "True", "B", "b", 2, kT2},
                             {"Ready", "True", "C", "c", 2, kT2}}},
        ConditionUpdateCase{"NewTypeAppended",
                            kStored,
                            kEarlier,
                            {{"ScalingLimited", "False", "DesiredWithinRange", "ok", 2, kT2},
                             {"ScalingLimited", "True", "TooManyReplicas", "max", 2, kT2}}},
        ConditionUpdateCase{"EmptyBufferStartsFromACopy",
                            kStored,
                            {},
                            {{"Ready", "True", "AtTarget", "cpu 60%", 2, kT2}}},
        ConditionUpdateCase{"OtherOrderStartsFromACopy",
                            kStored,
                            {kEarlier[1], kEarlier[0], kEarlier[2]},
                            {{"Ready", "False", "X", "x", 2, kT2}}},
        ConditionUpdateCase{"NothingStored",
                            {},
                            kEarlier,
                            {{"Ready", "True", "AtTarget", "cpu 60%", 1, kT0},
                             {"InvalidSpec", "False", "SpecValid", "valid", 1, kT0}}},
        ConditionUpdateCase{"RepeatedStoredTypeUpdatesTheLast",
                            {{"Ready", "True", "A", "a", kT0, 1},
                             {"Other", "True", "X", "x", kT0, 1},
                             {"Ready", "True", "B", "b", kT0, 1}},
                            {{"Ready", "False", "P", "p", kT1, 0},
                             {"Other", "False", "Q", "q", kT1, 0},
                             {"Ready", "False", "R", "r", kT1, 0}},
                            {{"Ready", "False", "C", "c", 2, kT2}}}),
    [](const ::testing::TestParamInfo<ConditionUpdateCase>& info) { return info.param.name; });

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
