#include "controller/kube/events.h"

#include <gtest/gtest.h>

namespace governor::controller::kube {
namespace {

const TimePoint kT0 = fromUnixSeconds(1'700'000'000);

ObjectReference policy(const std::string& name = "api") {
  return {.api_version = "governor.io/v1alpha1",
          .kind = "ScalingPolicy",
          .namespace_ = "web",
          .name = name,
          .uid = "uid-" + name,
          .resource_version = "7"};
}

TEST(EventCorrelatorTest, RepeatsCountUpOnTheSameEvent) {
  EventCorrelator correlator;
  auto first = correlator.observe(policy(), "Warning", "FailedGetScale", "no target", kT0);
  EXPECT_TRUE(first.is_new);
  EXPECT_EQ(first.count, 1);
  EXPECT_EQ(first.name.rfind("api.", 0), 0u) << first.name;

  ObjectReference newer = policy();
  newer.resource_version = "8";  // The object changed: still the same key.
  auto second = correlator.observe(newer, "Warning", "FailedGetScale", "no target",
                                   kT0 + std::chrono::seconds(30));
  EXPECT_FALSE(second.is_new);
  EXPECT_EQ(second.name, first.name);
  EXPECT_EQ(second.count, 2);
  EXPECT_EQ(second.first_timestamp, kT0);
  EXPECT_EQ(second.last_timestamp, kT0 + std::chrono::seconds(30));
}

TEST(EventCorrelatorTest, DifferentMessageReasonTypeOrObjectIsANewEvent) {
  EventCorrelator correlator;
  auto base = correlator.observe(policy(), "Normal", "SuccessfulRescale", "New size: 3", kT0);
  struct Case {
    std::string name;
    ObjectReference object;
    std::string type, reason, message;
  };
  const std::vector<Case> cases = {
      {"Message", policy(), "Normal", "SuccessfulRescale", "New size: 4"},
      {"Reason", policy(), "Normal", "DryRunRescale", "New size: 3"},
      {"Type", policy(), "Warning", "SuccessfulRescale", "New size: 3"},
      {"Object", policy("other"), "Normal", "SuccessfulRescale", "New size: 3"},
  };
  std::set<std::string> names{base.name};
  for (const auto& c : cases) {
    auto occurrence = correlator.observe(c.object, c.type, c.reason, c.message, kT0);
    EXPECT_TRUE(occurrence.is_new) << c.name;
    EXPECT_EQ(occurrence.count, 1) << c.name;
    EXPECT_TRUE(names.insert(occurrence.name).second) << c.name << ": name reused in one ms";
  }
}

TEST(EventCorrelatorTest, LeastRecentlySeenIsEvicted) {
  EventCorrelator correlator(2);
  correlator.observe(policy(), "Normal", "A", "m", kT0);
  correlator.observe(policy(), "Normal", "B", "m", kT0);
  correlator.observe(policy(), "Normal", "A", "m", kT0);  // A is now the most recent.
  correlator.observe(policy(), "Normal", "C", "m", kT0);  // Evicts B.
  EXPECT_EQ(correlator.size(), 2u);
  EXPECT_FALSE(correlator.observe(policy(), "Normal", "A", "m", kT0).is_new);
  EXPECT_TRUE(correlator.observe(policy(), "Normal", "B", "m", kT0).is_new);
}

TEST(EventCorrelatorTest, ForgetStartsAgain) {
  EventCorrelator correlator;
  correlator.observe(policy(), "Normal", "A", "m", kT0);
  correlator.forget(policy(), "Normal", "A", "m");
  auto again = correlator.observe(policy(), "Normal", "A", "m", kT0);
  EXPECT_TRUE(again.is_new);
  EXPECT_EQ(again.count, 1);
  EXPECT_EQ(correlator.size(), 1u);
}

TEST(MakeEventTest, CoreV1Shape) {
  EventCorrelator correlator;
  auto occurrence = correlator.observe(policy(), "Warning", "InvalidSpec", "bad", kT0);
  EventRecorderOptions options;
  options.instance = "governor-0";
  const nlohmann::json event =
      makeEvent(policy(), "Warning", "InvalidSpec", "bad", occurrence, options);
  EXPECT_EQ(event["metadata"]["name"], occurrence.name);
  EXPECT_EQ(event["metadata"]["namespace"], "web");
  EXPECT_EQ(event["involvedObject"],
            nlohmann::json::parse(R"({"apiVersion":"governor.io/v1alpha1","kind":"ScalingPolicy",
              "namespace":"web","name":"api","uid":"uid-api","resourceVersion":"7"})"));
  EXPECT_EQ(event["type"], "Warning");
  EXPECT_EQ(event["reason"], "InvalidSpec");
  EXPECT_EQ(event["count"], 1);
  EXPECT_EQ(event["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(event["lastTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(event["source"]["component"], "governor");
  EXPECT_EQ(event["reportingComponent"], "governor");
  EXPECT_EQ(event["reportingInstance"], "governor-0");

  auto repeat =
      correlator.observe(policy(), "Warning", "InvalidSpec", "bad", kT0 + std::chrono::minutes(1));
  EXPECT_EQ(makeEventPatch(repeat, "bad"),
            nlohmann::json::parse(
                R"({"count":2,"lastTimestamp":"2023-11-14T22:14:20Z","message":"bad"})"));
}

TEST(MakeEventTest, ClusterScopedGoesToDefaultAndLongMessagesAreCut) {
  ObjectReference node{.api_version = "v1", .kind = "Node", .name = "n1"};
  EventCorrelator correlator;
  auto occurrence = correlator.observe(node, "Normal", "R", "m", kT0);
  // 1023 ASCII bytes, then a 2-byte character that would straddle the limit.
  const std::string message = std::string(1023, 'x') + "\xC3\xA9" + "tail";
  const nlohmann::json event = makeEvent(node, "Normal", "R", message, occurrence, {});
  EXPECT_EQ(event["metadata"]["namespace"], "default");
  EXPECT_EQ(event["message"].get<std::string>(), std::string(1023, 'x'));
  EXPECT_FALSE(event.contains("reportingInstance"));
}

TEST(ObjectReferenceTest, FromObject) {
  const auto object = nlohmann::json::parse(
      R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"web","name":"api","uid":"u","resourceVersion":"3"}})");
  const ObjectReference ref = ObjectReference::fromObject(object);
  EXPECT_EQ(ref.api_version, "apps/v1");
  EXPECT_EQ(ref.kind, "Deployment");
  EXPECT_EQ(ref.namespace_, "web");
  EXPECT_EQ(ref.name, "api");
  EXPECT_EQ(ref.uid, "u");
  EXPECT_EQ(ref.resource_version, "3");
  EXPECT_EQ(ObjectReference::fromObject(nlohmann::json()).name, "");
}

}  // namespace
}  // namespace governor::controller::kube
