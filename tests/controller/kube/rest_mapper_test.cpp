#include "controller/kube/rest_mapper.h"

#include <gtest/gtest.h>

namespace governor::controller::kube {
namespace {

// Shaped like kube-apiserver's GET /apis/apps/v1 (trimmed).
constexpr char kAppsV1[] = R"({
  "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "apps/v1",
  "resources": [
    {"name": "deployments", "singularName": "deployment", "namespaced": true, "kind": "Deployment",
     "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
    {"name": "deployments/scale", "namespaced": true, "group": "autoscaling", "version": "v1",
     "kind": "Scale", "verbs": ["get", "patch", "update"]},
    {"name": "deployments/status", "namespaced": true, "kind": "Deployment",
     "verbs": ["get", "patch", "update"]},
    {"name": "controllerrevisions", "namespaced": true, "kind": "ControllerRevision",
     "verbs": ["get"]}
  ]})";

TEST(ParseApiResourceListTest, FoldsSubresources) {
  auto mappings = parseApiResourceList(nlohmann::json::parse(kAppsV1), "apps", "v1");
  ASSERT_TRUE(mappings.ok()) << mappings.status().toString();
  ASSERT_EQ(mappings->size(), 2u);
  const ResourceMapping& deployments = (*mappings)[0];
  EXPECT_EQ(deployments.resource, "deployments");
  EXPECT_EQ(deployments.kind, "Deployment");
  EXPECT_EQ(deployments.group, "apps");
  EXPECT_TRUE(deployments.namespaced);
  EXPECT_TRUE(deployments.has_scale);
  EXPECT_TRUE(deployments.has_status);
  const ResourceMapping& revisions = (*mappings)[1];
  EXPECT_FALSE(revisions.has_scale);
  EXPECT_FALSE(revisions.has_status);
  EXPECT_EQ(deployments.ref("web", "api").toString(), "apps/v1 deployments web/api");
}

TEST(ParseApiResourceListTest, ClusterScopedRefDropsNamespace) {
  auto mappings = parseApiResourceList(
      nlohmann::json::parse(R"({"resources":[{"name":"nodes","kind":"Node","namespaced":false}]})"),
      "", "v1");
  ASSERT_TRUE(mappings.ok());
  EXPECT_EQ((*mappings)[0].ref("web", "n1").namespace_, "");
}

struct BadListCase {
  std::string name;
  std::string body;
  std::string error;
};

class ParseApiResourceListBadTest : public ::testing::TestWithParam<BadListCase> {};

TEST_P(ParseApiResourceListBadTest, NamesTheField) {
  auto mappings = parseApiResourceList(nlohmann::json::parse(GetParam().body), "g", "v1");
  ASSERT_FALSE(mappings.ok());
  EXPECT_EQ(mappings.status().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, ParseApiResourceListBadTest,
    ::testing::Values(BadListCase{"NotObject", "[]", "APIResourceList: not an object"},
                      BadListCase{"ResourcesNotList", R"({"resources":{}})",
                                  "APIResourceList: resources: not a list"},
                      BadListCase{"EntryNotObject", R"({"resources":[1]})",
                                  "APIResourceList: resources[0]: not an object"},
                      BadListCase{"NoName", R"({"resources":[{"kind":"X"}]})",
                                  "APIResourceList: resources[0].name: missing"},
                      BadListCase{"NoKind", R"({"resources":[{"name":"xs"}]})",
                                  "APIResourceList: resources[0].kind: missing"}),
    [](const auto& info) { return info.param.name; });

TEST(SplitApiVersionTest, CoreGroupAndErrors) {
  EXPECT_EQ(*splitApiVersion("v1"), std::make_pair(std::string(), std::string("v1")));
  EXPECT_EQ(*splitApiVersion("governor.io/v1alpha1"),
            std::make_pair(std::string("governor.io"), std::string("v1alpha1")));
  for (const char* bad : {"", "/v1", "apps/", "a/b/c"}) {
    EXPECT_EQ(splitApiVersion(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace governor::controller::kube
