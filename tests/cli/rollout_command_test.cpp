// `governor rollout simulate`, run in-process through governor::cli::run.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/duration.h"
#include "cli/app.h"
#include "cli/files.h"
#include "rollouts/analysis_spec.h"

namespace governor::cli {
namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun runGovernor(std::vector<std::string> args) {
  args.insert(args.begin(), "governor");
  std::ostringstream out;
  std::ostringstream err;
  int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

std::string example(const std::string& name) {
  return std::string(GOVERNOR_SOURCE_DIR) + "/examples/rollouts/" + name;
}

// A file in a fresh temporary directory, removed with the fixture.
class TempFiles : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("governor_rollout_cli_" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(RolloutSimulateTest, EveryExampleSimulates) {
  for (const char* name : {"canary.yaml", "canary-gateway.yaml", "blue-green.yaml"}) {
    CliRun r = runGovernor({"rollout", "simulate", "-f", example(name), "--resume"});
    EXPECT_EQ(r.code, kExitOk) << name << "\n" << r.err;
    EXPECT_NE(r.out.find("outcome: Healthy"), std::string::npos) << name << "\n" << r.out;
    EXPECT_TRUE(r.err.empty()) << r.err;
  }
}

TEST(RolloutSimulateTest, TablePrintsTheSplitPerStep) {
  CliRun r = runGovernor({"rollout", "simulate", "-f", example("canary.yaml"),
                          "--analysis-duration", "success-rate=5m"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto out = lines(r.out);
  // The header row, then one row per step and the promotion.
  auto header = std::find_if(out.begin(), out.end(),
                             [](const std::string& l) { return l.rfind("STEP", 0) == 0; });
  ASSERT_NE(header, out.end()) << r.out;
  for (const char* column :
       {"ACTION", "WEIGHT", "SERVED", "STABLE", "CANARY", "WAIT", "ANALYSIS", "ELAPSED"}) {
    EXPECT_NE(header->find(column), std::string::npos) << column;
  }
  auto words = [](const std::string& line) {
    std::vector<std::string> w;
    std::istringstream in(line);
    for (std::string s; in >> s;) w.push_back(s);
    return w;
  };
  // "0  setWeight 10  10%  10%  9  1  -  -  0s"
  const auto first = words(*(header + 1));
  ASSERT_GE(first.size(), 10u) << *(header + 1);
  EXPECT_EQ(first[0], "0");
  EXPECT_EQ(first[1], "setWeight");
  EXPECT_EQ(first[2], "10");
  EXPECT_EQ(first[3], "10%");
  EXPECT_EQ(first[5], "9");
  EXPECT_EQ(first[6], "1");
  EXPECT_NE(r.out.find("success-rate -> pass"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expected duration: 20m"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pod-template-hash: "), std::string::npos);
}

// --templates times each analysis by its AnalysisTemplate: the same timeline as naming that
// duration by hand.
TEST(RolloutSimulateTest, TemplatesFileTimesTheAnalyses) {
  const std::string templates = example("analysis-success-rate.yaml");
  auto text = readFile(templates);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto parsed = rollouts::parseAnalysisTemplate(*text, templates);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  auto duration = rollouts::expectedDuration(*parsed);
  ASSERT_TRUE(duration.has_value());

  CliRun from_file =
      runGovernor({"rollout", "simulate", "-f", example("canary.yaml"), "--templates", templates});
  ASSERT_EQ(from_file.code, kExitOk) << from_file.err;
  CliRun by_hand =
      runGovernor({"rollout", "simulate", "-f", example("canary.yaml"), "--analysis-duration",
                   parsed->name + "=" + formatDuration(*duration)});
  ASSERT_EQ(by_hand.code, kExitOk) << by_hand.err;
  EXPECT_EQ(from_file.out, by_hand.out);
  EXPECT_EQ(from_file.out.find(">="), std::string::npos) << from_file.out;  // All known.

  // --analysis-duration wins over the file.
  CliRun overridden =
      runGovernor({"rollout", "simulate", "-f", example("canary.yaml"), "--templates", templates,
                   "--analysis-duration", parsed->name + "=1h", "-o", "json"});
  ASSERT_EQ(overridden.code, kExitOk) << overridden.err;
  const auto j = nlohmann::json::parse(overridden.out);
  EXPECT_EQ(j["steps"][3]["waitSeconds"], 3600.0);
}

TEST(RolloutSimulateTest, JsonHasTheStepsAndTheOutcome) {
  CliRun r = runGovernor(
      {"rollout", "simulate", "-f", example("canary.yaml"), "--analysis", "fail@3", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rollout"]["name"], "web");
  EXPECT_EQ(j["rollout"]["namespace"], "shop");
  EXPECT_EQ(j["strategy"], "canary");
  EXPECT_EQ(j["replicas"], 10);
  EXPECT_FALSE(j["trafficRouted"].get<bool>());
  EXPECT_TRUE(j["podTemplateHash"].is_string());
  ASSERT_EQ(j["steps"].size(), 5u);  // Steps 0..3, then the abort.
  EXPECT_EQ(j["steps"][3]["verdict"], "fail");
  EXPECT_EQ(j["steps"][4]["kind"], "abort");
  EXPECT_TRUE(j["steps"][4]["step"].is_null());
  EXPECT_EQ(j["steps"][4]["stableReplicas"], 10);
  EXPECT_EQ(j["steps"][4]["newReplicas"], 0);
  EXPECT_EQ(j["steps"][1]["waitSeconds"], 300.0);
  EXPECT_EQ(j["outcome"]["phase"], "Aborted");
  EXPECT_EQ(j["outcome"]["step"], 3);
}

TEST(RolloutSimulateTest, ReplicasFlagIsTheCurrentSize) {
  CliRun r = runGovernor(
      {"rollout", "simulate", "-f", example("blue-green.yaml"), "--replicas", "9", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["replicas"], 9);
  bool full_scale = false;
  for (const auto& step : j["steps"]) {
    if (step["kind"] == "fullScale") {
      full_scale = true;
      EXPECT_EQ(step["newReplicas"], 9);
    }
  }
  EXPECT_TRUE(full_scale) << r.out;
}

TEST(RolloutSimulateTest, ManualGateEndsPausedWithoutResume) {
  CliRun r = runGovernor({"rollout", "simulate", "-f", example("canary-gateway.yaml")});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("outcome: Paused: paused at step 7"), std::string::npos) << r.out;
}

TEST(RolloutSimulateTest, HelpListsTheVerb) {
  CliRun r = runGovernor({"rollout", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("simulate"), std::string::npos) << r.out;
  CliRun none = runGovernor({"rollout"});
  EXPECT_EQ(none.code, kExitBadInput);
}

struct BadInputCase {
  std::string name;
  std::vector<std::string> args;  // After "rollout simulate".
  std::string want;               // In stderr.
};

// How gtest (and so ctest's test list) shows a case: its name, not its bytes.
void PrintTo(const BadInputCase& c, std::ostream* os) { *os << c.name; }

class RolloutSimulateBadInputTest : public TempFiles,
                                    public testing::WithParamInterface<BadInputCase> {};

TEST_P(RolloutSimulateBadInputTest, ExitsTwoWithAClearMessage) {
  const std::string bad = write("bad.yaml",
                                "apiVersion: governor.io/v1alpha1\nkind: Rollout\n"
                                "metadata: {name: web}\nspec:\n"
                                "  selector: {matchLabels: {app: web}}\n  template:\n"
                                "    metadata: {labels: {app: web}}\n"
                                "    spec: {containers: [{name: web, image: x}]}\n"
                                "  strategy:\n    canary:\n      steps:\n"
                                "        - setWeight: 120\n");
  std::vector<std::string> args = {"rollout", "simulate"};
  for (const auto& a : GetParam().args) args.push_back(a == "BAD" ? bad : a);
  CliRun r = runGovernor(args);
  EXPECT_EQ(r.code, kExitBadInput) << r.out;
  std::string want = GetParam().want;
  if (auto at = want.find("BAD"); at != std::string::npos) want.replace(at, 3, bad);
  EXPECT_NE(r.err.find(want), std::string::npos) << "want: " << want << "\ngot: " << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, RolloutSimulateBadInputTest,
    testing::Values(
        BadInputCase{"MissingFile",
                     {"-f", "/nonexistent/rollout.yaml"},
                     "/nonexistent/rollout.yaml: no such file"},
        BadInputCase{
            "InvalidRollout",
            {"-f", "BAD"},
            "BAD:12: spec.strategy.canary.steps[0].setWeight: must be in [0, 100], got 120"},
        BadInputCase{"BadOutcome",
                     {"-f", example("canary.yaml"), "--analysis", "maybe"},
                     "--analysis \"maybe\": unknown analysis outcome"},
        BadInputCase{"StepWithoutAnalysis",
                     {"-f", example("canary.yaml"), "--analysis", "fail@1"},
                     "step 1 runs no analysis (steps with analysis: 3)"},
        BadInputCase{"BadAnalysisDuration",
                     {"-f", example("canary.yaml"), "--analysis-duration", "success-rate=5x"},
                     "--analysis-duration \"success-rate=5x\": \"5x\": unknown unit"},
        BadInputCase{"AnalysisDurationWithoutName",
                     {"-f", example("canary.yaml"), "--analysis-duration", "5m"},
                     "want TEMPLATE=DURATION"},
        BadInputCase{
            "NegativeReplicas", {"-f", example("canary.yaml"), "--replicas", "-3"}, "--replicas"},
        BadInputCase{"MissingTemplatesFile",
                     {"-f", example("canary.yaml"), "--templates", "/nonexistent/t.yaml"},
                     "/nonexistent/t.yaml: no such file"},
        BadInputCase{"TemplatesFileIsARollout",
                     {"-f", example("canary.yaml"), "--templates", example("canary.yaml")},
                     "kind: must be AnalysisTemplate, got \"Rollout\""},
        BadInputCase{"BadOutput", {"-f", example("canary.yaml"), "-o", "yaml"}, "--output"},
        BadInputCase{"NoFile", {}, "--filename is required"}),
    [](const testing::TestParamInfo<BadInputCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::cli
