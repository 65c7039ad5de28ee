#include "controller/kube/resource.h"

#include <gtest/gtest.h>

namespace governor::controller::kube {
namespace {

struct PathCase {
  std::string name;
  ResourceRef ref;
  std::string path;  // "" when an error is expected.
  std::string error;
};

class ResourcePathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(ResourcePathTest, BuildsThePath) {
  const PathCase& c = GetParam();
  auto path = resourcePath(c.ref);
  if (c.error.empty()) {
    ASSERT_TRUE(path.ok()) << path.status().toString();
    EXPECT_EQ(*path, c.path);
  } else {
    ASSERT_FALSE(path.ok()) << *path;
    EXPECT_EQ(path.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(path.status().message().find(c.error), std::string::npos) << path.status().message();
  }
}

// Paths as kube-apiserver serves them (k8s.io/apiserver/pkg/endpoints/installer.go).
INSTANTIATE_TEST_SUITE_P(
    Paths, ResourcePathTest,
    ::testing::Values(
        PathCase{"CoreNamespacedCollection",
                 {"", "v1", "pods", "web", "", ""},
                 "/api/v1/namespaces/web/pods",
                 ""},
        PathCase{"CoreAllNamespaces", {"", "v1", "pods", "", "", ""}, "/api/v1/pods", ""},
        PathCase{"CoreClusterScopedObject",
                 {"", "v1", "namespaces", "", "web", ""},
                 "/api/v1/namespaces/web",
                 ""},
        PathCase{"GroupObject",
                 {"apps", "v1", "deployments", "web", "api", ""},
                 "/apis/apps/v1/namespaces/web/deployments/api",
                 ""},
        PathCase{"ScaleSubresource",
                 {"apps", "v1", "deployments", "web", "api", "scale"},
                 "/apis/apps/v1/namespaces/web/deployments/api/scale",
                 ""},
        PathCase{"CustomStatus",
                 {"governor.io", "v1alpha1", "scalingpolicies", "web", "p", "status"},
                 "/apis/governor.io/v1alpha1/namespaces/web/scalingpolicies/p/status",
                 ""},
        PathCase{"ClusterScopedGroup",
                 {"apiextensions.k8s.io", "v1", "customresourcedefinitions", "", "x.io", ""},
                 "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.io",
                 ""},
        PathCase{"NameIsEscaped",
                 {"", "v1", "configmaps", "web", "a b/c", ""},
                 "/api/v1/namespaces/web/configmaps/a%20b%2Fc",
                 ""},
        PathCase{"NoVersion", {"apps", "", "deployments", "", "", ""}, "", "version is empty"},
        PathCase{"NoResource", {"apps", "v1", "", "", "", ""}, "", "resource is empty"},
        PathCase{"SubresourceWithoutName",
                 {"apps", "v1", "deployments", "web", "", "scale"},
                 "",
                 "needs a name"},
        PathCase{"DotDotName",
                 {"", "v1", "pods", "web", "..", ""},
                 "",
                 "name: \"..\" is not a valid path segment"}),
    [](const auto& info) { return info.param.name; });

struct QueryCase {
  std::string name;
  ListOptions options;
  std::string query;
};

class ListQueryTest : public ::testing::TestWithParam<QueryCase> {};

TEST_P(ListQueryTest, EncodesTheQuery) {
  EXPECT_EQ(queryString(listParams(GetParam().options)), GetParam().query);
}

INSTANTIATE_TEST_SUITE_P(
    Queries, ListQueryTest,
    ::testing::Values(
        QueryCase{"Empty", {}, ""},
        QueryCase{"EqualityLabel", {.label_selector = "app=web"}, "labelSelector=app%3Dweb"},
        QueryCase{"SetBasedLabel",
                  {.label_selector = "tier in (a,b),!canary"},
                  "labelSelector=tier%20in%20%28a%2Cb%29%2C%21canary"},
        QueryCase{"FieldAndVersion",
                  {.field_selector = "metadata.name=x", .resource_version = "42"},
                  "fieldSelector=metadata.name%3Dx&resourceVersion=42"},
        QueryCase{"Paging",
                  {.limit = 500, .continue_token = "abc+/="},
                  "limit=500&continue=abc%2B%2F%3D"},
        QueryCase{"VersionMatch",
                  {.resource_version = "0", .resource_version_match = "NotOlderThan"},
                  "resourceVersion=0&resourceVersionMatch=NotOlderThan"}),
    [](const auto& info) { return info.param.name; });

TEST(PercentEncodeTest, KeepsUnreservedAndEscapesUtf8) {
  EXPECT_EQ(percentEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percentEncode("\xC3\xA9&#?"), "%C3%A9%26%23%3F");
}

TEST(ObjectKeyTest, NamespacedAndClusterScoped) {
  EXPECT_EQ(objectKey("web", "api"), "web/api");
  EXPECT_EQ(objectKey("", "node-1"), "node-1");
}

TEST(ResourceRefTest, BuildersAndToString) {
  ResourceRef deployments{
      .group = "apps", .version = "v1", .resource = "deployments", .namespace_ = "web"};
  const ResourceRef scale = deployments.named("api").sub("scale");
  EXPECT_EQ(scale.toString(), "apps/v1 deployments web/api/scale");
  EXPECT_EQ(scale.collection(), deployments);
  EXPECT_EQ(deployments.inNamespace("").toString(), "apps/v1 deployments");
}

}  // namespace
}  // namespace governor::controller::kube
