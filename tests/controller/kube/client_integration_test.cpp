// The REST client against the test API server: round trips, conflicts, /scale, retries and
// error codes, discovery, Events. Each test starts its own server.

#include <fstream>

#include <gtest/gtest.h>

#include "controller/kube/client.h"
#include "controller/kube/errors.h"
#include "controller/kube/events.h"
#include "controller/kube/rest_mapper.h"
#include "tests/controller/kube/kube_fixture.h"

namespace governor::controller::kube {
namespace {

using governor::testing::waitUntil;

class ClientIntegrationTest : public KubeServerTest {};

TEST_F(ClientIntegrationTest, DeploymentRoundTrip) {
  const std::string ns = makeNamespace("round-trip");
  const ResourceRef deployments = kDeployments.inNamespace(ns);

  auto created = client_->create(deployments, deployment("api", 2));
  ASSERT_TRUE(created.ok()) << created.status().toString();
  EXPECT_EQ((*created)["metadata"]["namespace"], ns);
  EXPECT_FALSE(resourceVersionOf(*created).empty());

  auto again = client_->create(deployments, deployment("api", 2));
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists) << again.status().toString();

  auto got = client_->get(deployments.named("api"));
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ((*got)["spec"]["replicas"], 2);

  ASSERT_TRUE(client_->create(deployments, deployment("worker", 1)).ok());
  auto all = client_->list(deployments);
  ASSERT_TRUE(all.ok()) << all.status().toString();
  EXPECT_EQ(all->items.size(), 2u);
  EXPECT_FALSE(all->resource_version.empty());
  auto selected = client_->list(deployments, {.label_selector = "app in (worker,other)"});
  ASSERT_TRUE(selected.ok()) << selected.status().toString();
  ASSERT_EQ(selected->items.size(), 1u);
  EXPECT_EQ(nameOf(selected->items[0]), "worker");

  // The server's simulated controller writes the Deployment's status meanwhile, so a plain
  // PUT of `got` could conflict: read-modify-write, as the operator does.
  auto updated = client_->updateWithRetry(deployments.named("api"), [](nlohmann::json& object) {
    object["metadata"]["labels"]["tier"] = "backend";
    return Status();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().toString();
  EXPECT_EQ((*updated)["metadata"]["labels"]["tier"], "backend");

  struct PatchCase {
    std::string name;
    PatchType type;
    nlohmann::json patch;
    std::string annotation;
  };
  const std::vector<PatchCase> patches = {
      {"merge", PatchType::kMerge, {{"metadata", {{"annotations", {{"by", "merge"}}}}}}, "merge"},
      {"strategic",
       PatchType::kStrategicMerge,
       {{"metadata", {{"annotations", {{"by", "strategic"}}}}}},
       "strategic"},
      {"json", PatchType::kJson,
       nlohmann::json::parse(
           R"([{"op":"replace","path":"/metadata/annotations/by","value":"json"}])"),
       "json"},
  };
  for (const auto& p : patches) {
    auto patched = client_->patch(deployments.named("api"), p.type, p.patch);
    ASSERT_TRUE(patched.ok()) << p.name << ": " << patched.status().toString();
    EXPECT_EQ((*patched)["metadata"]["annotations"]["by"], p.annotation) << p.name;
  }
  auto failed_test = client_->patch(
      deployments.named("api"), PatchType::kJson,
      nlohmann::json::parse(R"([{"op":"test","path":"/metadata/annotations/by","value":"nope"}])"));
  EXPECT_FALSE(failed_test.ok());

  ASSERT_TRUE(client_->remove(deployments.named("api")).ok());
  EXPECT_EQ(client_->get(deployments.named("api")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(client_->remove(deployments.named("api")).code(), StatusCode::kNotFound);
  // A precondition that no longer holds is a Conflict.
  EXPECT_EQ(
      client_->remove(deployments.named("worker"), {.precondition_uid = "not-the-uid"}).code(),
      StatusCode::kConflict);
}

TEST_F(ClientIntegrationTest, ListAllFollowsContinueTokens) {
  const std::string ns = makeNamespace("paging");
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        client_->create(kConfigMaps.inNamespace(ns), configMap("cm-" + std::to_string(i), "v"))
            .ok());
  }
  auto page = client_->list(kConfigMaps.inNamespace(ns), {.limit = 2});
  ASSERT_TRUE(page.ok()) << page.status().toString();
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_FALSE(page->continue_token.empty());
  auto all = client_->listAll(kConfigMaps.inNamespace(ns), {.limit = 2});
  ASSERT_TRUE(all.ok()) << all.status().toString();
  EXPECT_EQ(all->items.size(), 5u);
  EXPECT_TRUE(all->continue_token.empty());
}

constexpr char kWidgetCrd[] = R"(
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              replicas: {type: integer, minimum: 0}
              color: {type: string}
          status:
            type: object
            properties:
              replicas: {type: integer}
)";

// A CRD installed after the mapper first looked is found on the next miss; the custom
// resource then goes through the same calls as a built-in, plus /status and /scale.
TEST_F(ClientIntegrationTest, CustomResourceRoundTripWithDiscovery) {
  TimePoint now = fromUnixSeconds(1'700'000'000);
  RestMapper mapper(*client_,
                    {.min_refresh_interval = std::chrono::seconds(5), .now = [&] { return now; }});
  EXPECT_EQ(mapper.resolve("example.com/v1", "Widget").status().code(), StatusCode::kNotFound);

  auto applied = server_->kubectl({"apply", "-f", "-"}, kWidgetCrd);
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  // Within the refresh interval the miss is remembered...
  EXPECT_EQ(mapper.resolve("example.com/v1", "Widget").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(mapper.discoveryRequests(), 1u);
  // ...after it, discovery is asked again.
  now += std::chrono::seconds(5);
  auto mapping = mapper.resolve("example.com/v1", "Widget");
  ASSERT_TRUE(mapping.ok()) << mapping.status().toString();
  EXPECT_EQ(mapping->resource, "widgets");
  EXPECT_TRUE(mapping->namespaced);
  EXPECT_TRUE(mapping->has_scale);
  EXPECT_TRUE(mapping->has_status);
  auto apps = mapper.resolve("apps/v1", "Deployment");
  ASSERT_TRUE(apps.ok()) << apps.status().toString();
  EXPECT_TRUE(apps->has_scale);
  EXPECT_EQ(mapper.resolve("apps/v1", "Nonsense").status().code(), StatusCode::kNotFound);

  const std::string ns = makeNamespace("crs");
  const ResourceRef widget = mapping->ref(ns, "w1");
  auto created =
      client_->create(widget.collection(), {{"apiVersion", "example.com/v1"},
                                            {"kind", "Widget"},
                                            {"metadata", {{"name", "w1"}}},
                                            {"spec", {{"replicas", 1}, {"color", "red"}}}});
  ASSERT_TRUE(created.ok()) << created.status().toString();

  auto merged = client_->patch(widget, PatchType::kMerge, {{"spec", {{"color", "blue"}}}});
  ASSERT_TRUE(merged.ok()) << merged.status().toString();
  EXPECT_EQ((*merged)["spec"]["color"], "blue");
  EXPECT_EQ((*merged)["spec"]["replicas"], 1);

  // Custom resources take no strategic merge patches (415), and the schema is enforced.
  auto strategic = client_->patch(widget, PatchType::kStrategicMerge, {{"spec", {{"color", "x"}}}});
  EXPECT_EQ(strategic.status().code(), StatusCode::kInvalidArgument)
      << strategic.status().toString();
  auto invalid = client_->patch(widget, PatchType::kMerge, {{"spec", {{"replicas", -1}}}});
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(invalid.status().message().find("spec.replicas"), std::string::npos)
      << invalid.status().message();

  // /status changes only the status.
  nlohmann::json with_status = *merged;
  with_status["status"] = {{"replicas", 1}};
  with_status["spec"]["color"] = "ignored";
  auto status = client_->update(widget.sub("status"), with_status);
  ASSERT_TRUE(status.ok()) << status.status().toString();
  EXPECT_EQ((*status)["status"]["replicas"], 1);
  EXPECT_EQ((*status)["spec"]["color"], "blue");

  // /scale reads and writes spec.replicas through the CRD's paths.
  auto scale = client_->get(widget.sub("scale"));
  ASSERT_TRUE(scale.ok()) << scale.status().toString();
  EXPECT_EQ((*scale)["kind"], "Scale");
  EXPECT_EQ((*scale)["spec"]["replicas"], 1);
  nlohmann::json rescaled = *scale;
  rescaled["spec"]["replicas"] = 4;
  ASSERT_TRUE(client_->update(widget.sub("scale"), rescaled).ok());
  EXPECT_EQ((*client_->get(widget))["spec"]["replicas"], 4);

  ASSERT_TRUE(client_->remove(widget).ok());
  EXPECT_EQ(client_->get(widget).status().code(), StatusCode::kNotFound);
}

TEST_F(ClientIntegrationTest, ScaleOfADeploymentWithOptimisticConcurrency) {
  const std::string ns = makeNamespace("scale");
  const ResourceRef api = kDeployments.inNamespace(ns).named("api");
  ASSERT_TRUE(client_->create(api.collection(), deployment("api", 2)).ok());
  auto scale = client_->get(api.sub("scale"));
  ASSERT_TRUE(scale.ok()) << scale.status().toString();
  EXPECT_EQ((*scale)["apiVersion"], "autoscaling/v1");
  EXPECT_EQ((*scale)["spec"]["replicas"], 2);
  EXPECT_EQ((*scale)["status"]["selector"], "app=api");

  // The simulated controller updates the status (hence the resourceVersion) as pods come
  // up: write the Scale read-modify-write.
  auto written = client_->updateWithRetry(api.sub("scale"), [](nlohmann::json& object) {
    object["spec"]["replicas"] = 5;
    return Status();
  });
  ASSERT_TRUE(written.ok()) << written.status().toString();
  EXPECT_EQ((*client_->get(api))["spec"]["replicas"], 5);
  // The pods follow (the server's simulated controller), as the reconciler will see them.
  EXPECT_TRUE(waitUntil(
      [&] {
        auto s = client_->get(api.sub("scale"));
        return s.ok() && (*s)["status"]["replicas"] == 5;
      },
      std::chrono::seconds(20)));

  // A write with the first Scale's resourceVersion, stale by now, is a Conflict.
  nlohmann::json stale = *scale;
  stale["spec"]["replicas"] = 6;
  EXPECT_EQ(client_->update(api.sub("scale"), stale).status().code(), StatusCode::kConflict);
}

TEST_F(ClientIntegrationTest, StaleUpdateConflictsAndUpdateWithRetryConverges) {
  const std::string ns = makeNamespace("conflicts");
  const ResourceRef cm = kConfigMaps.inNamespace(ns).named("settings");
  ASSERT_TRUE(client_->create(cm.collection(), configMap("settings", "0")).ok());
  auto stale = client_->get(cm);
  ASSERT_TRUE(stale.ok());
  ASSERT_TRUE(client_->patch(cm, PatchType::kMerge, {{"data", {{"other", "x"}}}}).ok());
  nlohmann::json write = *stale;
  write["data"]["value"] = "stale";
  auto conflict = client_->update(cm, write);
  EXPECT_EQ(conflict.status().code(), StatusCode::kConflict) << conflict.status().toString();

  // The first attempt races another writer (the patch inside mutate): its PUT conflicts,
  // the second attempt re-reads and wins, keeping the other writer's change.
  int attempts = 0;
  auto result = client_->updateWithRetry(cm, [&](nlohmann::json& object) {
    ++attempts;
    if (attempts == 1) {
      EXPECT_TRUE(client_->patch(cm, PatchType::kMerge, {{"data", {{"racer", "y"}}}}).ok());
    }
    object["data"]["value"] = std::to_string(attempts);
    return Status();
  });
  ASSERT_TRUE(result.ok()) << result.status().toString();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ((*result)["data"]["value"], "2");
  EXPECT_EQ((*result)["data"]["racer"], "y");

  // A mutation that changes nothing writes nothing.
  const std::string version = resourceVersionOf(*result);
  auto unchanged = client_->updateWithRetry(cm, [](nlohmann::json&) { return Status(); });
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(resourceVersionOf(*unchanged), version);

  // Always racing: gives up with Conflict after max_attempts.
  int racing = 0;
  auto gave_up = client_->updateWithRetry(
      cm,
      [&](nlohmann::json& object) {
        ++racing;
        EXPECT_TRUE(
            client_->patch(cm, PatchType::kMerge, {{"data", {{"racer", std::to_string(racing)}}}})
                .ok());
        object["data"]["value"] = "never";
        return Status();
      },
      3);
  EXPECT_EQ(gave_up.status().code(), StatusCode::kConflict);
  EXPECT_EQ(racing, 3);

  // mutate's own error stops everything.
  auto refused =
      client_->updateWithRetry(cm, [](nlohmann::json&) { return invalidArgument("no thanks"); });
  EXPECT_EQ(refused.status(), invalidArgument("no thanks"));
}

TEST_F(ClientIntegrationTest, ThrottlingHonoursRetryAfter) {
  const std::string ns = makeNamespace("throttle");
  const ResourceRef cm = kConfigMaps.inNamespace(ns).named("c");
  ASSERT_TRUE(client_->create(cm.collection(), configMap("c", "1")).ok());

  injectFault(
      R"({"verb":"get","resource":"configmaps","code":429,"retryAfterSeconds":1,"count":1})");
  auto got = client_->get(cm);
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(sleeps(), std::vector<Duration>{std::chrono::seconds(1)});
  EXPECT_EQ(client_->stats().throttled_retries, 1u);

  // Writes are retried after a 429 too: the server did not process the request.
  injectFault(
      R"({"verb":"patch","resource":"configmaps","code":429,"retryAfterSeconds":2,"count":1})");
  ASSERT_TRUE(client_->patch(cm, PatchType::kMerge, {{"data", {{"v", "2"}}}}).ok());
  EXPECT_EQ(sleeps().back(), std::chrono::seconds(2));

  // More 429s than retries: ResourceExhausted, with the delay for the caller.
  injectFault(
      R"({"verb":"get","resource":"configmaps","code":429,"retryAfterSeconds":1,"count":10})");
  auto exhausted = client_->get(cm);
  EXPECT_EQ(exhausted.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(retryAfter(exhausted.status()), std::chrono::seconds(1));
  control("DELETE", "/_test/faults");

  // A delay beyond max_retry_after is not waited for.
  auto impatient = makeClient(config_, {.max_retry_after = std::chrono::seconds(1)});
  injectFault(
      R"({"verb":"get","resource":"configmaps","code":429,"retryAfterSeconds":30,"count":1})");
  const size_t slept = sleeps().size();
  auto refused = impatient->get(cm);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(retryAfter(refused.status()), std::chrono::seconds(30));
  EXPECT_EQ(sleeps().size(), slept);
}

TEST_F(ClientIntegrationTest, ServerErrorsAndTimeouts) {
  const std::string ns = makeNamespace("errors");
  const ResourceRef cm = kConfigMaps.inNamespace(ns).named("c");
  ASSERT_TRUE(client_->create(cm.collection(), configMap("c", "1")).ok());
  auto current = client_->get(cm);
  ASSERT_TRUE(current.ok());

  injectFault(
      R"({"verb":"update","resource":"configmaps","code":500,"count":1,"message":"etcd leader changed"})");
  auto failed = client_->update(cm, *current);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("HTTP 500"), std::string::npos)
      << failed.status().message();
  EXPECT_TRUE(client_->update(cm, *current).ok()) << "the fault was for one request";

  injectFault(R"({"verb":"get","resource":"configmaps","code":403,"count":1})");
  EXPECT_EQ(client_->get(cm).status().code(), StatusCode::kPermissionDenied);

  // No answer within the client's timeout: DeadlineExceeded.
  ClientConfig quick = config_;
  quick.timeout = std::chrono::milliseconds(500);
  auto impatient = makeClient(quick);
  injectFault(R"({"verb":"get","resource":"configmaps","delayMs":3000,"count":1})");
  auto late = impatient->get(cm);
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded) << late.status().toString();
}

TEST_F(ClientIntegrationTest, RefusedConnectionIsUnavailableAfterGetRetries) {
  ClientConfig nowhere = config_;
  nowhere.server = "http://127.0.0.1:" + std::to_string(governor::testing::freeLoopbackPort());
  auto client = makeClient(nowhere);
  auto got = client->get(kNamespaces.named("default"));
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().toString();
  EXPECT_EQ(client->stats().connection_retries, 2u);
  // Writes are not retried: the server might have applied them.
  auto created = client->create(kNamespaces, {{"metadata", {{"name", "x"}}}});
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(client->stats().connection_retries, 2u);
}

TEST_F(ClientIntegrationTest, TokenAuthentication) {
  auto operator_config = loadKubeconfig(
      {server_->writeKubeconfig(governor::testing::kOperatorToken, "operator.kubeconfig")});
  ASSERT_TRUE(operator_config.ok()) << operator_config.status().toString();
  auto as_operator = makeClient(*operator_config);
  ASSERT_TRUE(as_operator->get(kNamespaces.named("default")).ok());
  // The server saw the operator's identity: the token was sent.
  const auto audit =
      nlohmann::json::parse(control("GET", "/_test/audit?verb=get&resource=namespaces"));
  bool seen = false;
  for (const auto& record : audit)
    seen |= record.value("user", "") == governor::testing::kOperatorUser;
  EXPECT_TRUE(seen) << audit.dump();

  ClientConfig wrong = config_;
  wrong.token = "not-a-token";
  auto denied = makeClient(wrong)->get(kNamespaces.named("default"));
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().toString();
}

// A rotated token file: the 401 makes the client re-read the file and retry once.
TEST_F(ClientIntegrationTest, RotatedTokenFileIsRereadOnUnauthorized) {
  governor::testing::TempDir dir;
  const std::string token_file = dir.file("token");
  std::ofstream(token_file) << "expired-token\n";
  ClientConfig config = config_;
  config.token.clear();
  config.token_file = token_file;
  auto client = makeClient(config);
  EXPECT_EQ(client->get(kNamespaces.named("default")).status().code(),
            StatusCode::kPermissionDenied);
  std::ofstream(token_file, std::ios::trunc) << governor::testing::kAdminToken << "\n";
  auto got = client->get(kNamespaces.named("default"));
  EXPECT_TRUE(got.ok()) << got.status().toString();
  EXPECT_GE(client->stats().auth_retries, 1u);
}

TEST_F(ClientIntegrationTest, EventsAreCreatedThenCountedUp) {
  const std::string ns = makeNamespace("events");
  TimePoint now = fromUnixSeconds(1'700'000'000);
  EventRecorder recorder(*client_, {.instance = "governor-0", .now = [&] { return now; }});
  const ObjectReference policy{.api_version = "governor.io/v1alpha1",
                               .kind = "ScalingPolicy",
                               .namespace_ = ns,
                               .name = "api",
                               .uid = "u-1"};
  ASSERT_TRUE(recorder.record(policy, "Warning", "FailedGetScale", "target not found").ok());
  now += std::chrono::seconds(30);
  ASSERT_TRUE(recorder.record(policy, "Warning", "FailedGetScale", "target not found").ok());
  ASSERT_TRUE(recorder.record(policy, "Normal", "SuccessfulRescale", "New size: 3").ok());

  auto events = client_->list(kEvents.inNamespace(ns));
  ASSERT_TRUE(events.ok()) << events.status().toString();
  ASSERT_EQ(events->items.size(), 2u);
  for (const auto& event : events->items) {
    EXPECT_EQ(event["involvedObject"]["name"], "api");
    EXPECT_EQ(event["source"]["component"], "governor");
    if (event["reason"] == "FailedGetScale") {
      EXPECT_EQ(event["count"], 2);
      EXPECT_EQ(event["firstTimestamp"], "2023-11-14T22:13:20Z");
      EXPECT_EQ(event["lastTimestamp"], "2023-11-14T22:13:50Z");
    } else {
      EXPECT_EQ(event["count"], 1);
    }
  }

  // The Event expired on the server: the next repeat creates a new one.
  const std::string old_name = [&] {
    for (const auto& e : events->items) {
      if (e["reason"] == "FailedGetScale") return nameOf(e);
    }
    return std::string();
  }();
  ASSERT_TRUE(client_->remove(kEvents.inNamespace(ns).named(old_name)).ok());
  ASSERT_TRUE(recorder.record(policy, "Warning", "FailedGetScale", "target not found").ok());
  auto after = client_->list(kEvents.inNamespace(ns), {.field_selector = "reason=FailedGetScale"});
  ASSERT_TRUE(after.ok()) << after.status().toString();
  ASSERT_EQ(after->items.size(), 1u);
  EXPECT_EQ(after->items[0]["count"], 1);
  EXPECT_NE(nameOf(after->items[0]), old_name);
}

}  // namespace
}  // namespace governor::controller::kube
