// The adapters between API objects and the reconciler's types: what the operator reads from
// the API server must become exactly what the in-memory cluster hands the reconciler.

#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/rfc3339.h"
#include "controller/kube_cluster.h"
#include "controller/kube_lease_store.h"
#include "controller/status_json.h"
#include "policies/spec_parser.h"

namespace governor::controller {
namespace {

using nlohmann::json;

TimePoint at(const char* text) { return *parseRfc3339(text); }

json storedPolicy() {
  return json::parse(R"({
    "apiVersion": "governor.io/v1alpha1", "kind": "ScalingPolicy",
    "metadata": {"name": "web", "namespace": "shop", "generation": 3, "resourceVersion": "812",
                 "uid": "u-1", "creationTimestamp": "2026-11-26T04:00:00Z",
                 "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                 "managedFields": [{"manager": "kubectl"}]},
    "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
             "maxReplicas": 10,
             "schedules": [{"name": "a", "start": "0 8 * * *", "duration": "1h",
                            "minReplicas": 4}]},
    "status": {"observedGeneration": 2, "desiredReplicas": 4,
               "behavior": {"initialized": true,
                            "recommendations": [{"time": "2026-11-26T04:30:00.250Z",
                                                 "replicas": 4}]}}
  })");
}

TEST(PolicyFromJsonTest, KeepsTheSpecForTheParserAndRestoresTheStatus) {
  auto policy = policyFromJson(storedPolicy());
  ASSERT_TRUE(policy.ok()) << policy.status().toString();
  EXPECT_EQ(policy->key, (ObjectKey{"shop", "web"}));
  EXPECT_EQ(policy->generation, 3);
  EXPECT_EQ(policy->resource_version, "812");
  // Server-side metadata is not part of the manifest: it parses, and only a spec change
  // changes it.
  EXPECT_EQ(policy->manifest.find("managedFields"), std::string::npos);
  auto spec = policies::parsePolicy(policy->manifest, "test");
  ASSERT_TRUE(spec.ok()) << spec.status().message();
  EXPECT_EQ(spec->namespace_, "shop");
  EXPECT_EQ(spec->max_replicas, 10);
  EXPECT_EQ(policy->status.desired_replicas, 4);
  ASSERT_EQ(policy->status.behavior.recommendations.size(), 1u);
  EXPECT_EQ(policy->status.behavior.recommendations[0].at, at("2026-11-26T04:30:00.250Z"));

  json changed = storedPolicy();
  changed["metadata"]["resourceVersion"] = "900";
  changed["status"]["desiredReplicas"] = 5;
  EXPECT_EQ(policyFromJson(changed)->manifest, policy->manifest);
}

TEST(PolicyFromJsonTest, AnUnreadableStatusStartsAfreshAndSaysWhy) {
  json object = storedPolicy();
  object["status"]["behavior"]["recommendations"][0]["time"] = "yesterday";
  Status why;
  auto policy = policyFromJson(object, &why);
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->status, PolicyStatus{});
  EXPECT_NE(why.message().find("status.behavior.recommendations[0].time"), std::string::npos)
      << why.message();
}

TEST(PolicyFromJsonTest, RejectsObjectsWithoutAName) {
  EXPECT_FALSE(policyFromJson(json::parse(R"({"metadata": {}})")).ok());
  EXPECT_FALSE(policyFromJson(json::parse("[]")).ok());
}

struct PodCase {
  const char* name;
  const char* pod;
  policies::PodPhase phase;
  std::optional<bool> ready;
  bool deleting;
};

class PodFromJsonTest : public testing::TestWithParam<PodCase> {};

TEST_P(PodFromJsonTest, ReadsWhatHpaReads) {
  const auto& c = GetParam();
  policies::PodInfo info = podFromJson(json::parse(c.pod));
  EXPECT_EQ(info.name, "p");
  EXPECT_EQ(info.phase, c.phase);
  EXPECT_EQ(info.ready, c.ready);
  EXPECT_EQ(info.deleting, c.deleting);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PodFromJsonTest,
    testing::Values(
        PodCase{"RunningReady",
                R"({"metadata": {"name": "p"}, "status": {"phase": "Running",
                    "startTime": "2026-11-26T04:00:00Z", "conditions": [{"type": "Ready",
                    "status": "True", "lastTransitionTime": "2026-11-26T04:00:30Z"}]}})",
                policies::PodPhase::kRunning, true, false},
        PodCase{"RunningNotReady",
                R"({"metadata": {"name": "p"}, "status": {"phase": "Running",
                    "conditions": [{"type": "Ready", "status": "False"}]}})",
                policies::PodPhase::kRunning, false, false},
        PodCase{"PendingNoConditions",
                R"({"metadata": {"name": "p"}, "status": {"phase": "Pending"}})",
                policies::PodPhase::kPending, std::nullopt, false},
        PodCase{"Deleting",
                R"({"metadata": {"name": "p", "deletionTimestamp": "2026-11-26T04:00:00Z"},
                    "status": {"phase": "Running"}})",
                policies::PodPhase::kRunning, std::nullopt, true},
        PodCase{"Failed", R"({"metadata": {"name": "p"}, "status": {"phase": "Failed"}})",
                policies::PodPhase::kFailed, std::nullopt, false},
        PodCase{"NoStatus", R"({"metadata": {"name": "p"}})", policies::PodPhase::kUnknown,
                std::nullopt, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(PodFromJsonTest, ReadsTimes) {
  policies::PodInfo info = podFromJson(json::parse(R"({"metadata": {"name": "p"},
      "status": {"phase": "Running", "startTime": "2026-11-26T04:00:00Z",
      "conditions": [{"type": "Ready", "status": "True",
                      "lastTransitionTime": "2026-11-26T04:00:30Z"}]}})"));
  EXPECT_EQ(info.start_time, at("2026-11-26T04:00:00Z"));
  EXPECT_EQ(info.ready_transition, at("2026-11-26T04:00:30Z"));
}

// A Rollout as the API server returns it, with `status` (JSON) and a canary of 5 steps, or a
// blue-green strategy.
json rollout(const char* status, bool blue_green = false) {
  json r = json::parse(R"({
    "apiVersion": "governor.io/v1alpha1", "kind": "Rollout",
    "metadata": {"name": "web", "namespace": "shop", "generation": 2},
    "spec": {"replicas": 10, "strategy": {"canary": {"steps": [
      {"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {"duration": "5m"}},
      {"setWeight": 80}]}}}
  })");
  if (blue_green) {
    r["spec"]["strategy"] = json::parse(R"({"blueGreen": {"activeService": "web"}})");
  }
  if (status != nullptr) r["status"] = json::parse(status);
  return r;
}

struct HoldCase {
  const char* name;
  const char* status;  // nullptr: none.
  bool blue_green;
  std::optional<std::string> hold;
};

class RolloutScaleDownHoldTest : public testing::TestWithParam<HoldCase> {};

TEST_P(RolloutScaleDownHoldTest, HoldsWhileAnUpdateIsInProgress) {
  const HoldCase& c = GetParam();
  EXPECT_EQ(rolloutScaleDownHold(rollout(c.status, c.blue_green)), c.hold);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RolloutScaleDownHoldTest,
    testing::Values(
        HoldCase{"Progressing",
                 R"({"phase": "Progressing", "currentStepIndex": 2, "stableRevision": "a",
                     "canaryRevision": "b"})",
                 false, "Rollout shop/web is Progressing (step 2/5)"},
        // Waiting for a person is still mid-update.
        HoldCase{"PausedForAPerson",
                 R"({"phase": "Paused", "currentStepIndex": 1, "stableRevision": "a",
                     "canaryRevision": "b"})",
                 false, "Rollout shop/web is Paused (step 1/5)"},
        HoldCase{"BlueGreenPaused",
                 R"({"phase": "Paused", "strategy": "BlueGreen", "stableRevision": "a",
                     "canaryRevision": "b", "currentStepIndex": 0})",
                 true, "Rollout shop/web is Paused (blue-green)"},
        HoldCase{"Healthy",
                 R"({"phase": "Healthy", "currentStepIndex": 5, "stableRevision": "b",
                     "canaryRevision": "b"})",
                 false, std::nullopt},
        // Everything is back on stable; a person may take days to retry.
        HoldCase{"AbortedDoesNotHold",
                 R"({"phase": "Aborted", "currentStepIndex": 3, "stableRevision": "a",
                     "canaryRevision": "b"})",
                 false, std::nullopt},
        HoldCase{"DegradedMidUpdate",
                 R"({"phase": "Degraded", "currentStepIndex": 2, "stableRevision": "a",
                     "canaryRevision": "b"})",
                 false, "Rollout shop/web is Degraded (step 2/5, revision a -> b)"},
        HoldCase{"DegradedNoUpdate",
                 R"({"phase": "Degraded", "stableRevision": "a", "canaryRevision": "a"})", false,
                 std::nullopt},
        HoldCase{"NoPhaseYetRevisionsDiffer", R"({"stableRevision": "a", "canaryRevision": "b"})",
                 false, "Rollout shop/web is updating (revision a -> b)"},
        HoldCase{"NeverReported", nullptr, false, std::nullopt},
        HoldCase{"EmptyStatus", "{}", false, std::nullopt},
        // Bad input is absent, never a crash.
        HoldCase{"WrongTypes",
                 R"({"phase": 3, "currentStepIndex": "two", "canaryRevision": ["b"]})", false,
                 std::nullopt},
        HoldCase{"StatusNotAnObject", "[]", false, std::nullopt},
        HoldCase{"BadStepIndexStillHolds", R"({"phase": "Progressing", "currentStepIndex": "two"})",
                 false, "Rollout shop/web is Progressing"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(RolloutScaleDownHoldShapesTest, StepsOfTheWrongTypeAreLeftOut) {
  json r = rollout(R"({"phase": "Progressing", "currentStepIndex": 1})");
  r["spec"]["strategy"]["canary"]["steps"] = "many";
  EXPECT_EQ(rolloutScaleDownHold(r), "Rollout shop/web is Progressing (step 1)");
  EXPECT_EQ(rolloutScaleDownHold(json::parse("[]")), std::nullopt);
}

TEST(LeaseFromJsonTest, ReadsMicroTimes) {
  auto lease = leaseFromJson(json::parse(R"({"metadata": {"resourceVersion": "7"},
      "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15, "leaseTransitions": 2,
               "acquireTime": "2026-11-26T04:00:00.123456Z",
               "renewTime": "2026-11-26T04:00:10.000000Z"}})"));
  ASSERT_TRUE(lease.ok()) << lease.status().toString();
  EXPECT_EQ(lease->holder_identity, "a");
  EXPECT_EQ(lease->lease_duration_seconds, 15);
  EXPECT_EQ(lease->lease_transitions, 2);
  EXPECT_EQ(lease->resource_version, "7");
  EXPECT_EQ(lease->acquire_time, at("2026-11-26T04:00:00.123Z"));
  EXPECT_EQ(lease->renew_time, at("2026-11-26T04:00:10Z"));
}

TEST(LeaseFromJsonTest, BadFieldsAreErrorsNamingTheField) {
  for (const char* bad :
       {R"({"spec": {"holderIdentity": 3}})", R"({"spec": {"leaseDurationSeconds": "15"}})",
        R"({"spec": {"renewTime": "soon"}})", R"({"spec": []})"}) {
    auto lease = leaseFromJson(json::parse(bad));
    ASSERT_FALSE(lease.ok()) << bad;
    EXPECT_NE(lease.status().message().find("Lease spec"), std::string::npos)
        << lease.status().message();
  }
}

}  // namespace
}  // namespace governor::controller
