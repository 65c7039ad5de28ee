// KubeCluster against the test API server: the /scale of a governor.io Rollout (the CRD from
// manifests/crd) and whether it is mid-update, read with as many calls as a Deployment's.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "controller/kube/events.h"
#include "controller/kube/rest_mapper.h"
#include "controller/kube_cluster.h"
#include "tests/controller/kube/kube_fixture.h"

namespace governor::controller {
namespace {

using nlohmann::json;

class KubeClusterRolloutTest : public kube::KubeServerTest {
 protected:
  void SetUp() override {
    KubeServerTest::SetUp();
    if (HasFatalFailure()) return;
    auto applied = server_->kubectl(
        {"apply", "-f",
         std::string(GOVERNOR_SOURCE_DIR) + "/manifests/crd/governor.io_rollouts.yaml"});
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    makeNamespace("shop");
    auto created = server_->kubectl(
        {"apply", "-f", std::string(GOVERNOR_SOURCE_DIR) + "/examples/rollouts/canary.yaml"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    mapper_ = std::make_unique<kube::RestMapper>(*client_);
    events_ = std::make_unique<kube::EventRecorder>(*client_);
    cluster_ =
        std::make_unique<KubeCluster>(*client_, *mapper_, *events_, std::vector<kube::Informer*>{},
                                      std::vector<kube::Informer*>{});
  }

  // Writes `status` (JSON) through the Rollout's /status, as the rollout controller does.
  void setStatus(const char* status) {
    auto mapping = mapper_->resolve("governor.io/v1alpha1", "Rollout");
    ASSERT_TRUE(mapping.ok()) << mapping.status().toString();
    const kube::ResourceRef web = mapping->ref("shop", "web");
    auto written = client_->updateWithRetry(web.sub("status"), [&](json& object) {
      object["status"] = json::parse(status);
      return Status();
    });
    ASSERT_TRUE(written.ok()) << written.status().toString();
  }

  const policies::ScaleTargetRef ref_{"governor.io/v1alpha1", "Rollout", "web"};
  std::unique_ptr<kube::RestMapper> mapper_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::unique_ptr<KubeCluster> cluster_;
};

TEST_F(KubeClusterRolloutTest, ScaleOfARolloutSaysWhetherAnUpdateIsInProgress) {
  // Never reported on by the rollout controller: no hold, and no ready count to trust.
  auto fresh = cluster_->getScale("shop", ref_);
  ASSERT_TRUE(fresh.ok()) << fresh.status().toString();
  EXPECT_EQ(fresh->spec_replicas, 10);
  EXPECT_EQ(fresh->ready_replicas, std::nullopt);
  EXPECT_EQ(fresh->scale_down_hold, std::nullopt);

  // examples/rollouts/canary.yaml has 6 steps.
  setStatus(R"({"phase": "Progressing", "strategy": "Canary", "currentStepIndex": 2,
                "stableRevision": "6d4f8b", "canaryRevision": "7c9e1a", "replicas": 10,
                "readyReplicas": 9, "selector": "app=web"})");
  control("DELETE", "/_test/audit");
  auto progressing = cluster_->getScale("shop", ref_);
  ASSERT_TRUE(progressing.ok()) << progressing.status().toString();
  EXPECT_EQ(progressing->scale_down_hold, "Rollout shop/web is Progressing (step 2/6)");
  EXPECT_EQ(progressing->status_replicas, 10);
  EXPECT_EQ(progressing->ready_replicas, 9);
  EXPECT_EQ(progressing->selector, "app=web");
  // The calls a Deployment target costs too: GET /scale and GET of the object (the RBAC
  // rules compare with these).
  // (The server records a request after answering it: wait for both records.)
  json calls;
  EXPECT_TRUE(governor::testing::waitUntil(
      [&] {
        calls = json::parse(control("GET", "/_test/audit?resource=rollouts"));
        return calls.is_array() && calls.size() >= 2;
      },
      std::chrono::seconds(10)));
  ASSERT_EQ(calls.size(), 2u) << calls.dump();
  EXPECT_EQ(calls[0]["verb"], "get");
  EXPECT_EQ(calls[0]["subresource"], "scale");
  EXPECT_EQ(calls[1]["verb"], "get");
  EXPECT_EQ(calls[1]["subresource"], "");

  setStatus(R"({"phase": "Paused", "strategy": "Canary", "currentStepIndex": 1,
                "stableRevision": "6d4f8b", "canaryRevision": "7c9e1a", "replicas": 10,
                "readyReplicas": 10, "selector": "app=web"})");
  auto paused = cluster_->getScale("shop", ref_);
  ASSERT_TRUE(paused.ok()) << paused.status().toString();
  EXPECT_EQ(paused->scale_down_hold, "Rollout shop/web is Paused (step 1/6)");

  setStatus(R"({"phase": "Healthy", "strategy": "Canary", "currentStepIndex": 6,
                "stableRevision": "7c9e1a", "canaryRevision": "7c9e1a", "replicas": 10,
                "readyReplicas": 10, "selector": "app=web"})");
  auto healthy = cluster_->getScale("shop", ref_);
  ASSERT_TRUE(healthy.ok()) << healthy.status().toString();
  EXPECT_EQ(healthy->scale_down_hold, std::nullopt);
  EXPECT_EQ(healthy->ready_replicas, 10);
}

TEST_F(KubeClusterRolloutTest, AMissingRolloutIsNotFound) {
  const policies::ScaleTargetRef gone{"governor.io/v1alpha1", "Rollout", "gone"};
  EXPECT_EQ(cluster_->getScale("shop", gone).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace governor::controller
