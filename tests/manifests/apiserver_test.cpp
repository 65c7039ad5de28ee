// The CRD in an API server: the test API server (tests/apiserver) with the real kubectl.
//
// Every example ScalingPolicy is accepted by the CRD's schema AND by the parser; a table of
// invalid specs is rejected by both, each naming the field; the status the operator writes
// is stored as written (nothing pruned) and decodes to what was encoded; the printer columns
// show; and the whole kustomization applies.
//
// Only what the schema can express is checked against the server. The CEL rules
// (x-kubernetes-validations) are pinned to the parser in schema_parity_test.cpp: the test
// API server does not evaluate CEL.

#include "tests/support/apiserver.h"

#include <cctype>
#include <filesystem>
#include <optional>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "controller/status_json.h"
#include "policies/spec_parser.h"
#include "tests/manifests/full_status.h"
#include "tests/manifests/manifest_files.h"
#include "tests/support/process.h"

namespace governor::testing::manifests {
namespace {

constexpr char kEveryField[] = "tests/manifests/testdata/every-field.yaml";

// One server for the suite, with the CRD installed: starting it is the slow part.
class ApiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = TestApiServer::start({});
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started).value().release();
    const Status crd = server_->applyAndWaitServed(sourcePath(kCrdPath), "scalingpolicies");
    ASSERT_TRUE(crd.ok()) << crd.toString();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the test API server did not start";
  }

  // Creates `ns` unless it exists.
  static void ensureNamespace(const std::string& ns) {
    if (server_->kubectl({"get", "namespace", ns}).exit_code == 0) return;
    CommandResult r = server_->kubectl({"create", "namespace", ns});
    ASSERT_EQ(r.exit_code, 0) << r.describe();
  }

  static TestApiServer* server_;
};

TestApiServer* ApiServerTest::server_ = nullptr;

// --- Every example is valid for the schema and for the parser. ---

class ExampleTest : public ApiServerTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ExampleTest, SchemaAndParserAcceptIt) {
  const std::string path = GetParam();
  auto text = readFile(path);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto docs = loadDocuments(*text, path);
  ASSERT_TRUE(docs.ok()) << docs.status().message();
  int policies = 0;
  for (const auto& doc : *docs) {
    const YAML::Node ns = at(at(doc, "metadata"), "namespace");
    if (ns.IsScalar()) ensureNamespace(ns.Scalar());
    const YAML::Node kind = at(doc, "kind");
    if (kind.IsScalar() && kind.Scalar() == "ScalingPolicy") {
      ++policies;
      auto parsed = policies::parsePolicy(emit(doc), path);
      EXPECT_TRUE(parsed.ok()) << parsed.status().message();
    }
  }
  EXPECT_GT(policies, 0) << path << " has no ScalingPolicy";
  CommandResult r = server_->kubectl({"apply", "--dry-run=server", "-f", path});
  EXPECT_EQ(r.exit_code, 0) << r.describe();
}

std::vector<std::string> examplesAndEveryField() {
  auto files = exampleFiles();
  files.push_back(sourcePath(kEveryField));
  return files;
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleTest, ::testing::ValuesIn(examplesAndEveryField()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           const std::filesystem::path p(info.param);
                           std::string name =
                               p.parent_path().filename().string() + "_" + p.stem().string();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// --- Invalid specs: rejected by the schema and by the parser, both naming the field. ---

struct InvalidCase {
  std::string name;
  DocPath path;                     // Into every-field.yaml.
  std::optional<YAML::Node> value;  // nullopt: remove the field.
  std::string field;                // What both errors must name.
};

// How gtest (and so ctest's test list) shows a case: its name, not its bytes.
void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

DocPath spec(std::initializer_list<PathStep> rest) {
  DocPath path = {{"spec", 0}};
  path.insert(path.end(), rest.begin(), rest.end());
  return path;
}

YAML::Node scalar(const char* text) { return YAML::Node(std::string(text)); }

std::vector<InvalidCase> invalidCases() {
  const PathStep metric0 = {"", 0};
  const PathStep metric1 = {"", 1};
  return {
      {"MaxReplicasZero", spec({{"maxReplicas", 0}}), scalar("0"), "spec.maxReplicas"},
      {"MaxReplicasNotANumber", spec({{"maxReplicas", 0}}), scalar("many"), "spec.maxReplicas"},
      // minReplicas 0 is valid (HPA's scale-to-zero); -1 is not.
      {"MinReplicasNegative", spec({{"minReplicas", 0}}), scalar("-1"), "spec.minReplicas"},
      {"MissingScaleTargetRef", spec({{"scaleTargetRef", 0}}), std::nullopt, "spec.scaleTargetRef"},
      {"MissingTargetName", spec({{"scaleTargetRef", 0}, {"name", 0}}), std::nullopt,
       "spec.scaleTargetRef.name"},
      {"UnknownSpecField", spec({{"minReplica", 0}}), scalar("2"), "spec.minReplica"},
      {"UnknownBehaviorField", spec({{"behavior", 0}, {"scaleUp", 0}, {"stabilisationWindow", 0}}),
       scalar("10"), "spec.behavior.scaleUp.stabilisationWindow"},
      {"BadTargetType", spec({{"metrics", 0}, metric0, {"target", 0}, {"type", 0}}),
       scalar("Percentage"), "spec.metrics[0].target.type"},
      {"ZeroUtilization", spec({{"metrics", 0}, metric0, {"target", 0}, {"averageUtilization", 0}}),
       scalar("0"), "spec.metrics[0].target.averageUtilization"},
      {"UtilizationWithoutItsValue",
       spec({{"metrics", 0}, metric0, {"target", 0}, {"averageUtilization", 0}}), std::nullopt,
       "spec.metrics[0].target"},
      {"NegativeAverageValue", spec({{"metrics", 0}, metric1, {"target", 0}, {"averageValue", 0}}),
       scalar("-5"), "spec.metrics[1].target.averageValue"},
      {"MetricNameWithSpace", spec({{"metrics", 0}, metric1, {"name", 0}}), scalar("per pod"),
       "spec.metrics[1].name"},
      {"AddressWithoutScheme", spec({{"metrics", 0}, metric1, {"prometheus", 0}, {"address", 0}}),
       scalar("prometheus:9090"), "spec.metrics[1].prometheus.address"},
      {"MissingQuery", spec({{"metrics", 0}, metric0, {"prometheus", 0}, {"query", 0}}),
       std::nullopt, "spec.metrics[0].prometheus.query"},
      {"BadSelectPolicy", spec({{"behavior", 0}, {"scaleDown", 0}, {"selectPolicy", 0}}),
       scalar("Sometimes"), "spec.behavior.scaleDown.selectPolicy"},
      {"PeriodTooLong",
       spec({{"behavior", 0}, {"scaleUp", 0}, {"policies", 0}, {"", 0}, {"periodSeconds", 0}}),
       scalar("1801"), "spec.behavior.scaleUp.policies[0].periodSeconds"},
      {"BadRuleType",
       spec({{"behavior", 0}, {"scaleUp", 0}, {"policies", 0}, {"", 1}, {"type", 0}}),
       scalar("Replicas"), "spec.behavior.scaleUp.policies[1].type"},
      {"WindowTooLong",
       spec({{"behavior", 0}, {"scaleDown", 0}, {"stabilizationWindowSeconds", 0}}), scalar("3601"),
       "spec.behavior.scaleDown.stabilizationWindowSeconds"},
      {"ToleranceAboveOne", spec({{"behavior", 0}, {"scaleUp", 0}, {"tolerance", 0}}),
       scalar("1.5"), "spec.behavior.scaleUp.tolerance"},
      {"NoRules", spec({{"behavior", 0}, {"scaleUp", 0}, {"policies", 0}}),
       YAML::Node(YAML::NodeType::Sequence), "spec.behavior.scaleUp.policies"},
      {"BadDuration", spec({{"schedules", 0}, {"", 0}, {"duration", 0}}), scalar("10x"),
       "spec.schedules[0].duration"},
      {"ScheduleWithoutStart", spec({{"schedules", 0}, {"", 0}, {"start", 0}}), std::nullopt,
       "spec.schedules[0].start"},
      {"ScheduleReplicasZero", spec({{"schedules", 0}, {"", 1}, {"replicas", 0}}), scalar("0"),
       "spec.schedules[1].replicas"},
      {"BadModel", spec({{"predictive", 0}, {"model", 0}}), scalar("arima"),
       "spec.predictive.model"},
      {"QuantileOne", spec({{"predictive", 0}, {"quantile", 0}}), scalar("1"),
       "spec.predictive.quantile"},
      {"BadMode", spec({{"predictive", 0}, {"mode", 0}}), scalar("always"), "spec.predictive.mode"},
      {"NoSeasons", spec({{"predictive", 0}, {"seasonalPeriods", 0}}),
       YAML::Node(YAML::NodeType::Sequence), "spec.predictive.seasonalPeriods"},
      {"FallbackWithoutReplicas", spec({{"fallback", 0}, {"replicas", 0}}), std::nullopt,
       "spec.fallback.replicas"},
      {"SyncPeriodZero", spec({{"syncPeriodSeconds", 0}}), scalar("0"), "spec.syncPeriodSeconds"},
  };
}

class InvalidSpecTest : public ApiServerTest, public ::testing::WithParamInterface<InvalidCase> {};

TEST_P(InvalidSpecTest, SchemaAndParserRejectItNamingTheField) {
  const InvalidCase& c = GetParam();
  auto text = readFile(sourcePath(kEveryField));
  ASSERT_TRUE(text.ok());
  auto docs = loadDocuments(*text, kEveryField);
  ASSERT_TRUE(docs.ok());
  YAML::Node doc = withField((*docs)[0], c.path, c.value);
  doc["metadata"]["name"] = "invalid";
  const std::string manifest = emit(doc);
  ensureNamespace(doc["metadata"]["namespace"].Scalar());

  auto parsed = policies::parsePolicy(manifest, "invalid.yaml");
  ASSERT_FALSE(parsed.ok()) << "the parser accepts:\n" << manifest;
  EXPECT_NE(parsed.status().message().find(c.field), std::string::npos)
      << parsed.status().message();

  // kubectl's default --validate=strict makes unknown fields errors on the server.
  CommandResult r = server_->kubectl({"apply", "--dry-run=server", "-f", "-"}, manifest);
  EXPECT_NE(r.exit_code, 0) << "the API server accepts:\n" << manifest;
  EXPECT_NE(r.err.find(c.field), std::string::npos) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidSpecTest, ::testing::ValuesIn(invalidCases()),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           return info.param.name;
                         });

// --- The status round trip. ---

class StatusTest : public ApiServerTest {
 protected:
  // Creates every-field.yaml for real (under `name`) and returns its namespace.
  static std::string createPolicy(const std::string& name) {
    auto text = readFile(sourcePath(kEveryField));
    EXPECT_TRUE(text.ok()) << text.status().message();
    if (!text.ok()) return "";
    auto docs = loadDocuments(*text, kEveryField);
    EXPECT_TRUE(docs.ok() && docs->size() == 1);
    if (!docs.ok() || docs->empty()) return "";
    YAML::Node doc = (*docs)[0];
    doc["metadata"]["name"] = name;
    const std::string ns = doc["metadata"]["namespace"].Scalar();
    ensureNamespace(ns);
    CommandResult r = server_->kubectl({"apply", "-f", "-"}, emit(doc));
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return ns;
  }

  static CommandResult patchStatus(const std::string& ns, const std::string& name,
                                   const nlohmann::json& status) {
    const nlohmann::json patch = {{"status", status}};
    return server_->kubectl({"patch", "scalingpolicy", name, "-n", ns, "--subresource=status",
                             "--type=merge", "-p", patch.dump()});
  }
};

TEST_F(StatusTest, StoresWhatTheOperatorWritesUnchanged) {
  const std::string ns = createPolicy("status-round-trip");
  ASSERT_FALSE(ns.empty());
  const controller::PolicyStatus original = fullPolicyStatus();
  const nlohmann::json written = controller::statusToJson(original);
  CommandResult patched = patchStatus(ns, "status-round-trip", written);
  ASSERT_EQ(patched.exit_code, 0) << patched.describe();

  CommandResult got =
      server_->kubectl({"get", "scalingpolicy", "status-round-trip", "-n", ns, "-o", "json"});
  ASSERT_EQ(got.exit_code, 0) << got.describe();
  const nlohmann::json stored = nlohmann::json::parse(got.out, nullptr, false);
  ASSERT_FALSE(stored.is_discarded()) << got.out;
  // Nothing pruned, nothing rewritten: the behavior state survives to the millisecond.
  EXPECT_EQ(stored["status"], written)
      << "stored:  " << stored["status"].dump() << "\nwritten: " << written.dump();
  auto decoded = controller::statusFromJson(stored["status"]);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, original);
}

TEST_F(StatusTest, RejectsAConditionStatusOutsideTheEnum) {
  const std::string ns = createPolicy("status-enum");
  ASSERT_FALSE(ns.empty());
  nlohmann::json status = controller::statusToJson(fullPolicyStatus());
  status["conditions"][0]["status"] = "Maybe";
  CommandResult r = patchStatus(ns, "status-enum", status);
  EXPECT_NE(r.exit_code, 0) << r.describe();
  EXPECT_NE(r.err.find("status.conditions[0].status"), std::string::npos) << r.describe();
}

TEST_F(StatusTest, PrinterColumnsShowTargetBoundsAndReplicas) {
  const std::string ns = createPolicy("printer-columns");
  ASSERT_FALSE(ns.empty());
  CommandResult patched =
      patchStatus(ns, "printer-columns", controller::statusToJson(fullPolicyStatus()));
  ASSERT_EQ(patched.exit_code, 0) << patched.describe();

  // The short name, as users type it.
  CommandResult r = server_->kubectl({"get", "spol", "printer-columns", "-n", ns, "-o", "wide"});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  std::istringstream lines(r.out);
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
  const std::vector<std::string> columns = {"NAME",    "TARGET",  "MIN",    "MAX",
                                            "CURRENT", "DESIRED", "REASON", "AGE"};
  EXPECT_EQ(words(header), columns) << r.out;
  const auto cells = words(row);
  ASSERT_EQ(cells.size(), columns.size()) << r.out;
  EXPECT_EQ(cells[0], "printer-columns");
  EXPECT_EQ(cells[1], "web");
  EXPECT_EQ(cells[2], "1");
  EXPECT_EQ(cells[3], "50");
  EXPECT_EQ(cells[4], std::to_string(fullPolicyStatus().current_replicas));
  EXPECT_EQ(cells[5], std::to_string(fullPolicyStatus().desired_replicas));
  EXPECT_EQ(cells[6], fullPolicyStatus().reason);
}

// --- The whole install. ---

TEST_F(ApiServerTest, KustomizationApplies) {
  // Object by object, so a failure names every kind the server refuses, not just the first.
  auto rendered = renderKustomization(sourcePath("manifests"));
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  std::vector<std::string> refused;
  for (const auto& doc : *rendered) {
    CommandResult r = server_->kubectl({"apply", "-f", "-"}, emit(doc));
    if (r.exit_code != 0) {
      refused.push_back(at(doc, "kind").Scalar() + " " + at(at(doc, "metadata"), "name").Scalar() +
                        ": " + r.err);
    }
  }
  std::string list;
  for (const auto& r : refused) list += "\n  " + r;
  EXPECT_TRUE(refused.empty()) << "the API server refused:" << list;

  // And as users run it.
  CommandResult r = server_->kubectl({"apply", "-k", sourcePath("manifests")});
  ASSERT_EQ(r.exit_code, 0) << r.describe();
  CommandResult replicas = server_->kubectl({"get", "deployment", "governor-operator", "-n",
                                             "governor-system", "-o", "jsonpath={.spec.replicas}"});
  ASSERT_EQ(replicas.exit_code, 0) << replicas.describe();
  EXPECT_EQ(replicas.out, "2");
}

}  // namespace
}  // namespace governor::testing::manifests
