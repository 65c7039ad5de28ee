// The AnalysisTemplate CRD in an API server: the test API server (tests/apiserver) with the
// real kubectl.
//
// Every example AnalysisTemplate is accepted by the CRD's schema AND by the parser, and is
// stored without pruning anything the parser reads; a table of invalid templates is rejected
// by both, each naming the field; the printer columns and the short name work.
//
// The CEL rules (one of successCondition/failureCondition/thresholdRange; thresholdRange's
// min <= max) are not checked here: the test API server does not evaluate CEL. The parser
// enforces the same rules (tests/rollouts/analysis_spec_test.cpp).

#include <chrono>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "rollouts/analysis_spec.h"
#include "tests/manifests/manifest_files.h"
#include "tests/support/apiserver.h"
#include "tests/support/process.h"

namespace governor::testing::manifests {
namespace {

constexpr char kAnalysisCrdPath[] = "manifests/crd/governor.io_analysistemplates.yaml";
constexpr char kSuccessRate[] = "examples/rollouts/analysis-success-rate.yaml";
constexpr char kTemplates[] = "examples/rollouts/analysis-templates.yaml";

// One server for the suite, with the CRD installed: starting it is the slow part.
class AnalysisCrdTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = TestApiServer::start({});
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started).value().release();
    const Status crd =
        server_->applyAndWaitServed(sourcePath(kAnalysisCrdPath), "analysistemplates");
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

  static std::vector<YAML::Node> documents(const char* relative) {
    auto text = readFile(sourcePath(relative));
    EXPECT_TRUE(text.ok()) << text.status().message();
    if (!text.ok()) return {};
    auto docs = loadDocuments(*text, relative);
    EXPECT_TRUE(docs.ok()) << docs.status().message();
    return docs.ok() ? *docs : std::vector<YAML::Node>{};
  }

  static TestApiServer* server_;
};

TestApiServer* AnalysisCrdTest::server_ = nullptr;

// Each example is valid for both; stored and read back as JSON (as the operator reads it), it
// parses to the same template: the schema prunes nothing the parser needs.
TEST_F(AnalysisCrdTest, ExamplesAreAcceptedAndStoredIntact) {
  int templates = 0;
  for (const char* file : {kSuccessRate, kTemplates}) {
    for (const YAML::Node& doc : documents(file)) {
      ++templates;
      const std::string manifest = emit(doc);
      auto from_file = rollouts::parseAnalysisTemplate(manifest, file);
      ASSERT_TRUE(from_file.ok()) << from_file.status().message();

      CommandResult r = server_->kubectl({"apply", "-f", "-"}, manifest);
      ASSERT_EQ(r.exit_code, 0) << r.describe();
      CommandResult got = server_->kubectl(
          {"get", "analysistemplate", from_file->name, "-n", from_file->namespace_, "-o", "json"});
      ASSERT_EQ(got.exit_code, 0) << got.describe();
      auto stored = rollouts::parseAnalysisTemplate(got.out, "stored " + from_file->name);
      ASSERT_TRUE(stored.ok()) << stored.status().message();
      EXPECT_EQ(*stored, *from_file) << got.out;
    }
  }
  EXPECT_EQ(templates, 4);
}

TEST_F(AnalysisCrdTest, PrinterColumnsAndShortName) {
  const std::vector<YAML::Node> docs = documents(kSuccessRate);
  ASSERT_EQ(docs.size(), 1u);
  ASSERT_EQ(server_->kubectl({"apply", "-f", "-"}, emit(docs[0])).exit_code, 0);
  CommandResult r = server_->kubectl({"get", "atpl", "success-rate", "-n", "shop"});
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
  EXPECT_EQ(words(header), (std::vector<std::string>{"NAME", "METRICS", "AGE"})) << r.out;
  const auto cells = words(row);
  ASSERT_EQ(cells.size(), 3u) << r.out;
  EXPECT_EQ(cells[0], "success-rate");
  EXPECT_EQ(cells[1], "success-rate");
}

// --- Invalid templates: rejected by the schema and by the parser, both naming the field. ---

struct InvalidCase {
  std::string name;
  DocPath path;                     // Into analysis-success-rate.yaml.
  std::optional<YAML::Node> value;  // nullopt: remove the field.
  std::string field;                // What both errors must name.
};

void PrintTo(const InvalidCase& c, std::ostream* os) { *os << c.name; }

DocPath metric0(std::initializer_list<PathStep> rest) {
  DocPath path = {{"spec", 0}, {"metrics", 0}, {"", 0}};
  path.insert(path.end(), rest.begin(), rest.end());
  return path;
}

YAML::Node scalar(const char* text) { return YAML::Node(std::string(text)); }

std::vector<InvalidCase> invalidCases() {
  return {
      {"CountNegative", metric0({{"count", 0}}), scalar("-1"), "spec.metrics[0].count"},
      {"FailureLimitTooHigh", metric0({{"failureLimit", 0}}), scalar("1001"),
       "spec.metrics[0].failureLimit"},
      {"ConsecutiveErrorLimitNotANumber", metric0({{"consecutiveErrorLimit", 0}}), scalar("many"),
       "spec.metrics[0].consecutiveErrorLimit"},
      {"MetricNameWithSpace", metric0({{"name", 0}}), scalar("success rate"),
       "spec.metrics[0].name"},
      {"IntervalUnit", metric0({{"interval", 0}}), scalar("10x"), "spec.metrics[0].interval"},
      {"InitialDelayWords", metric0({{"initialDelay", 0}}), scalar("soon"),
       "spec.metrics[0].initialDelay"},
      {"UnknownMetricField", metric0({{"successCondtion", 0}}), scalar("result > 1"),
       "spec.metrics[0].successCondtion"},
      {"MissingProvider", metric0({{"provider", 0}}), std::nullopt, "spec.metrics[0].provider"},
      {"MissingQuery", metric0({{"provider", 0}, {"prometheus", 0}, {"query", 0}}), std::nullopt,
       "spec.metrics[0].provider.prometheus.query"},
      {"AddressWithoutScheme", metric0({{"provider", 0}, {"prometheus", 0}, {"address", 0}}),
       scalar("prometheus:9090"), "spec.metrics[0].provider.prometheus.address"},
      {"OtherProvider", metric0({{"provider", 0}, {"datadog", 0}}), scalar("x"),
       "spec.metrics[0].provider.datadog"},
      {"NoMetrics",
       {{"spec", 0}, {"metrics", 0}},
       YAML::Node(YAML::NodeType::Sequence),
       "spec.metrics"},
      {"ArgName",
       {{"spec", 0}, {"args", 0}, {"", 0}, {"name", 0}},
       scalar("{{app}}"),
       "spec.args[0].name"},
      {"ArgValueFrom",
       {{"spec", 0}, {"args", 0}, {"", 0}, {"valueFrom", 0}},
       scalar("x"),
       "spec.args[0].valueFrom"},
  };
}

class InvalidTemplateTest : public AnalysisCrdTest,
                            public ::testing::WithParamInterface<InvalidCase> {};

TEST_P(InvalidTemplateTest, SchemaAndParserRejectItNamingTheField) {
  const InvalidCase& c = GetParam();
  const std::vector<YAML::Node> docs = documents(kSuccessRate);
  ASSERT_EQ(docs.size(), 1u);
  YAML::Node doc = withField(docs[0], c.path, c.value);
  doc["metadata"]["name"] = "invalid";
  const std::string manifest = emit(doc);

  auto parsed = rollouts::parseAnalysisTemplate(manifest, "invalid.yaml");
  ASSERT_FALSE(parsed.ok()) << "the parser accepts:\n" << manifest;
  EXPECT_NE(parsed.status().message().find(c.field), std::string::npos)
      << parsed.status().message();

  // kubectl's default --validate=strict makes unknown fields errors on the server.
  CommandResult r = server_->kubectl({"apply", "--dry-run=server", "-f", "-"}, manifest);
  EXPECT_NE(r.exit_code, 0) << "the API server accepts:\n" << manifest;
  EXPECT_NE(r.err.find(c.field), std::string::npos) << r.describe();
}

INSTANTIATE_TEST_SUITE_P(Table, InvalidTemplateTest, ::testing::ValuesIn(invalidCases()),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace governor::testing::manifests
