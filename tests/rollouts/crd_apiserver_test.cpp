// The Rollout CRD (manifests/crd/governor.io_rollouts.yaml) in the test API server, with the
// real kubectl: the example Rollouts are accepted by the schema AND by the parser; a table of
// invalid specs is rejected by both, each naming the field; the printer columns, the short
// name and the /scale subresource (what a ScalingPolicy targets) work.
//
// The CEL rules are not evaluated by the test API server; the cases here are those the
// structural schema can say.

#include <cctype>
#include <filesystem>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "rollouts/spec.h"
#include "tests/manifests/manifest_files.h"
#include "tests/support/apiserver.h"
#include "tests/support/process.h"

namespace governor::testing::manifests {
namespace {

constexpr char kRolloutCrd[] = "manifests/crd/governor.io_rollouts.yaml";

// The Rollout examples (the folder also holds AnalysisTemplates, which have their own CRD).
std::vector<std::string> rolloutExamples() {
  std::vector<std::string> out;
  for (const char* name : {"canary.yaml", "canary-gateway.yaml", "blue-green.yaml"}) {
    out.push_back(sourcePath(std::string("examples/rollouts/") + name));
  }
  return out;
}

// One server for the suite, with the CRD installed and the examples' namespace created.
class RolloutCrdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = TestApiServer::start({});
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started).value().release();
    const Status crd = server_->applyAndWaitServed(sourcePath(kRolloutCrd), "rollouts.governor.io");
    ASSERT_TRUE(crd.ok()) << crd.toString();
    CommandResult ns = server_->kubectl({"create", "namespace", "shop"});
    ASSERT_EQ(ns.exit_code, 0) << ns.describe();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the test API server did not start";
  }

  static TestApiServer* server_;
};

TestApiServer* RolloutCrdTest::server_ = nullptr;

class ExampleTest : public RolloutCrdTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ExampleTest, SchemaAndParserAcceptIt) {
  auto text = readFile(GetParam());
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto parsed = rollouts::parseRollout(*text, GetParam());
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  // kubectl's default --validate=strict: an unknown field is an error on the server.
  CommandResult r = server_->kubectl({"apply", "--dry-run=server", "-f", GetParam()});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleTest, ::testing::ValuesIn(rolloutExamples()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = std::filesystem::path(info.param).stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

struct InvalidCase {
  std::string name;
  std::string example;              // Under examples/rollouts/.
  DocPath path;                     // Into it.
  std::optional<YAML::Node> value;  // nullopt: remove the field.
  std::string field;                // What both errors must name.
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

DocPath spec(std::initializer_list<PathStep> rest) {
  DocPath path = {{"spec", 0}};
  path.insert(path.end(), rest.begin(), rest.end());
  return path;
}

YAML::Node scalar(const char* text) { return YAML::Node(std::string(text)); }

YAML::Node parsed(const char* yaml) { return YAML::Load(yaml); }

std::vector<InvalidCase> invalidCases() {
  const PathStep canary = {"canary", 0};
  const PathStep blue_green = {"blueGreen", 0};
  const PathStep strategy = {"strategy", 0};
  return {
      {"WeightAbove100", "canary.yaml",
       spec({strategy, canary, {"steps", 0}, {"", 0}, {"setWeight", 0}}), scalar("120"),
       "spec.strategy.canary.steps[0].setWeight"},
      {"StepWithTwoActions", "canary.yaml",
       spec({strategy, canary, {"steps", 0}, {"", 0}, {"pause", 0}}), parsed("{}"),
       "spec.strategy.canary.steps[0]"},
      {"UnknownCanaryField", "canary.yaml", spec({strategy, canary, {"scaleDownDelaySeconds", 0}}),
       scalar("30"), "spec.strategy.canary.scaleDownDelaySeconds"},
      {"SurgeAbove100Percent", "canary.yaml", spec({strategy, canary, {"maxSurge", 0}}),
       scalar("150%"), "spec.strategy.canary.maxSurge"},
      {"NegativeReplicas", "canary.yaml", spec({{"replicas", 0}}), scalar("-1"), "spec.replicas"},
      {"MissingSelector", "canary.yaml", spec({{"selector", 0}}), std::nullopt, "spec.selector"},
      {"NoTemplateLabels", "canary.yaml", spec({{"template", 0}, {"metadata", 0}, {"labels", 0}}),
       std::nullopt, "spec.template.metadata.labels"},
      {"ContainerWithoutImage", "canary.yaml",
       spec({{"template", 0}, {"spec", 0}, {"containers", 0}, {"", 0}, {"image", 0}}), std::nullopt,
       "spec.template.spec.containers[0].image"},
      {"EmptyAnalysisTemplates", "canary.yaml",
       spec({strategy, canary, {"steps", 0}, {"", 3}, {"analysis", 0}, {"templates", 0}}),
       YAML::Node(YAML::NodeType::Sequence), "spec.strategy.canary.steps[3].analysis.templates"},
      {"ArgValueNumber", "canary.yaml",
       spec({strategy,
             canary,
             {"steps", 0},
             {"", 3},
             {"analysis", 0},
             {"args", 0},
             {"", 0},
             {"value", 0}}),
       YAML::Node(8080), "spec.strategy.canary.steps[3].analysis.args[0].value"},
      {"RouteWithoutName", "canary-gateway.yaml",
       spec({strategy, canary, {"trafficRouting", 0}, {"gatewayAPI", 0}, {"httpRoute", 0}}),
       std::nullopt, "spec.strategy.canary.trafficRouting.gatewayAPI.httpRoute"},
      {"BadServiceName", "canary-gateway.yaml", spec({strategy, canary, {"stableService", 0}}),
       scalar("Checkout_Stable"), "spec.strategy.canary.stableService"},
      {"BothStrategies", "blue-green.yaml", spec({strategy, canary}), parsed("{}"),
       "spec.strategy"},
      {"NoActiveService", "blue-green.yaml", spec({strategy, blue_green, {"activeService", 0}}),
       std::nullopt, "spec.strategy.blueGreen.activeService"},
      {"ZeroPreviewReplicas", "blue-green.yaml",
       spec({strategy, blue_green, {"previewReplicaCount", 0}}), scalar("0"),
       "spec.strategy.blueGreen.previewReplicaCount"},
      {"AutoPromotionNotBool", "blue-green.yaml",
       spec({strategy, blue_green, {"autoPromotionEnabled", 0}}), scalar("sometimes"),
       "spec.strategy.blueGreen.autoPromotionEnabled"},
  };
}

class InvalidRolloutTest : public RolloutCrdTest,
                           public ::testing::WithParamInterface<InvalidCase> {};

TEST_P(InvalidRolloutTest, SchemaAndParserRejectItNamingTheField) {
  const InvalidCase& c = GetParam();
  const std::string path = sourcePath("examples/rollouts/" + c.example);
  auto text = readFile(path);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto docs = loadDocuments(*text, path);
  ASSERT_TRUE(docs.ok() && docs->size() == 1);
  YAML::Node doc = withField((*docs)[0], c.path, c.value);
  doc["metadata"]["name"] = "invalid";
  const std::string manifest = emit(doc);

  auto got = rollouts::parseRollout(manifest, "invalid.yaml");
  ASSERT_FALSE(got.ok()) << "the parser accepts:\n" << manifest;
  EXPECT_NE(got.status().message().find(c.field), std::string::npos) << got.status().message();

  CommandResult r = server_->kubectl({"apply", "--dry-run=server", "-f", "-"}, manifest);
  EXPECT_NE(r.exit_code, 0) << "the API server accepts:\n" << manifest;
  EXPECT_NE(r.err.find(c.field), std::string::npos) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidRolloutTest, ::testing::ValuesIn(invalidCases()),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           return info.param.name;
                         });

// A status as the controller will write it is stored whole; the printer columns and the
// short name show it; /scale reads and writes spec.replicas and reports status.selector.
TEST_F(RolloutCrdTest, StatusPrinterColumnsAndScale) {
  CommandResult applied =
      server_->kubectl({"apply", "-f", sourcePath("examples/rollouts/canary.yaml")});
  ASSERT_EQ(applied.exit_code, 0) << applied.describe();
  const nlohmann::json status = {
      {"observedGeneration", 1},
      {"phase", "Progressing"},
      {"message", "step 3: analysis running"},
      {"strategy", "Canary"},
      {"currentStepIndex", 3},
      {"currentStepStartedAt", "2026-01-01T10:00:00Z"},
      {"stableRevision", "6d8b9c4f7"},
      {"canaryRevision", "7f9c5d6b8"},
      {"canaryWeight", 30},
      {"collisionCount", 0},
      {"replicas", 10},
      {"readyReplicas", 10},
      {"availableReplicas", 10},
      {"updatedReplicas", 3},
      {"selector", "app=web"},
      {"revisions",
       {{{"podTemplateHash", "6d8b9c4f7"},
         {"role", "Stable"},
         {"replicaSet", "web-6d8b9c4f7"},
         {"replicas", 7},
         {"readyReplicas", 7},
         {"availableReplicas", 7}},
        {{"podTemplateHash", "7f9c5d6b8"},
         {"role", "Canary"},
         {"replicaSet", "web-7f9c5d6b8"},
         {"replicas", 3},
         {"readyReplicas", 3},
         {"availableReplicas", 3}}}},
      {"analysisRuns",
       {{{"name", "web-7f9c5d6b8-3"},
         {"kind", "Step"},
         {"stepIndex", 3},
         {"templates", {"success-rate"}},
         {"phase", "Running"},
         {"startedAt", "2026-01-01T10:00:00Z"},
         {"metrics",
          {{{"name", "success-rate"},
            {"phase", "Running"},
            {"measured", 2},
            {"successful", 1},
            {"failed", 0},
            {"inconclusive", 0},
            {"errors", 1},
            {"consecutiveErrors", 0},
            {"measurements",
             {{{"number", 1},
               {"measuredAt", "2026-01-01T10:01:00Z"},
               {"phase", "Error"},
               {"message", "query failed"}},
              {{"number", 2},
               {"measuredAt", "2026-01-01T10:02:00Z"},
               {"phase", "Successful"},
               {"value", "0.997"}}}}}}}}}},
      {"conditions",
       {{{"type", "Progressing"},
         {"status", "True"},
         {"reason", "StepAnalysis"},
         {"message", "analysis success-rate running"},
         {"lastTransitionTime", "2026-01-01T10:00:00Z"},
         {"observedGeneration", 1}}}},
  };
  CommandResult patched =
      server_->kubectl({"patch", "rollout.governor.io", "web", "-n", "shop", "--subresource=status",
                        "--type=merge", "-p", nlohmann::json{{"status", status}}.dump()});
  ASSERT_EQ(patched.exit_code, 0) << patched.describe();
  CommandResult got =
      server_->kubectl({"get", "rollout.governor.io", "web", "-n", "shop", "-o", "json"});
  ASSERT_EQ(got.exit_code, 0) << got.describe();
  const auto stored = nlohmann::json::parse(got.out, nullptr, false);
  ASSERT_FALSE(stored.is_discarded()) << got.out;
  EXPECT_EQ(stored["status"], status) << stored["status"].dump();  // Nothing pruned.

  CommandResult table = server_->kubectl({"get", "gro", "web", "-n", "shop"});
  ASSERT_EQ(table.exit_code, 0) << table.describe();
  std::istringstream lines(table.out);
  std::string header;
  std::string row;
  std::getline(lines, header);
  std::getline(lines, row);
  auto words = [](const std::string& line) {
    std::vector<std::string> out;
    std::istringstream in(line);
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  };
  EXPECT_EQ(words(header),
            (std::vector<std::string>{"NAME", "STRATEGY", "STEP", "WEIGHT", "PHASE", "AGE"}))
      << table.out;
  const auto cells = words(row);
  ASSERT_EQ(cells.size(), 6u) << table.out;
  EXPECT_EQ(cells[0], "web");
  EXPECT_EQ(cells[1], "Canary");
  EXPECT_EQ(cells[2], "3");
  EXPECT_EQ(cells[3], "30");
  EXPECT_EQ(cells[4], "Progressing");

  CommandResult scaled =
      server_->kubectl({"scale", "rollout.governor.io", "web", "-n", "shop", "--replicas=14"});
  ASSERT_EQ(scaled.exit_code, 0) << scaled.describe();
  CommandResult replicas = server_->kubectl(
      {"get", "rollout.governor.io", "web", "-n", "shop", "-o", "jsonpath={.spec.replicas}"});
  EXPECT_EQ(replicas.out, "14") << replicas.describe();
  CommandResult scale = server_->kubectl(
      {"get", "--raw", "/apis/governor.io/v1alpha1/namespaces/shop/rollouts/web/scale"});
  ASSERT_EQ(scale.exit_code, 0) << scale.describe();
  const auto s = nlohmann::json::parse(scale.out, nullptr, false);
  ASSERT_FALSE(s.is_discarded()) << scale.out;
  EXPECT_EQ(s["spec"]["replicas"], 14);
  EXPECT_EQ(s["status"]["replicas"], 10);
  EXPECT_EQ(s["status"]["selector"], "app=web");
}

}  // namespace
}  // namespace governor::testing::manifests
