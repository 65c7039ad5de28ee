// `governor rollout simulate`, run in-process through governor::cli::run.

#include "cli/rollout_command.h"

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
#include "rollouts/status.h"

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
  for (const char* verb : {"simulate", "status", "promote", "abort", "retry", "pause", "resume"}) {
    EXPECT_NE(r.out.find(verb), std::string::npos) << verb << "\n" << r.out;
  }
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

// ---- `governor rollout status` and the verbs on the API server, without a server ----

const TimePoint kT0 = fromUnixSeconds(1'767'261'600);  // 2026-01-01T10:00:00Z

// A canary Rollout object as the API server returns it.
nlohmann::json canaryObject(bool paused = false, int64_t generation = 1) {
  return {{"apiVersion", "governor.io/v1alpha1"},
          {"kind", "Rollout"},
          {"metadata", {{"name", "web"}, {"namespace", "shop"}, {"generation", generation}}},
          {"spec",
           {{"replicas", 10},
            {"paused", paused},
            {"strategy",
             {{"canary",
               {{"steps",
                 {{{"setWeight", 10}},
                  {{"pause", nullptr}},
                  {{"setWeight", 30}},
                  {{"pause", {{"duration", "5m"}}}},
                  {{"analysis", {{"templates", {{{"templateName", "success-rate"}}}}}}},
                  {{"setCanaryScale", {{"replicas", 2}}}},
                  {{"pause", {{"duration", 90}}}}}}}}}}}}};
}

nlohmann::json blueGreenObject() {
  return {
      {"metadata", {{"name", "api"}, {"namespace", "shop"}, {"generation", 3}}},
      {"spec",
       {{"strategy",
         {{"blueGreen", {{"activeService", "api-active"}, {"previewService", "api-preview"}}}}}}}};
}

rollouts::RolloutStatus canaryAt(int32_t step) {
  rollouts::RolloutStatus s;
  s.observed_generation = 1;
  s.phase = rollouts::RolloutPhase::kProgressing;
  s.strategy = "Canary";
  s.current_step_index = step;
  s.stable_revision = "aaaa";
  s.canary_revision = "bbbb";
  s.canary_weight = 10;
  return s;
}

struct TableCase {
  std::string name;
  nlohmann::json object;
  rollouts::RolloutStatus status;
  std::vector<std::string> want{};    // Each in the table.
  std::vector<std::string> absent{};  // None in the table.
};
void PrintTo(const TableCase& c, std::ostream* os) { *os << c.name; }

std::vector<TableCase> tableCases() {
  std::vector<TableCase> cases;
  {
    TableCase c{"CanaryMarksTheCurrentStepWithCumulativeWeights", canaryObject(), canaryAt(1)};
    c.status.current_step_started_at = kT0;
    c.status.paused_at = kT0 + Seconds(5);
    c.want = {"Rollout shop/web\n",
              "Phase:      Progressing\n",
              "Strategy:   Canary\n",
              "Step:       1/7: pause (until promoted), since 2026-01-01T10:00:00Z\n",
              "Weight:     10% canary, 90% stable\n",
              "Revisions:  stable aaaa, canary bbbb\n",
              "Paused:     since 2026-01-01T10:00:05Z, waiting for `governor rollout promote`\n",
              "      0  setWeight 10               10%\n",
              "  ->  1  pause (until promoted)     10%\n",
              "      2  setWeight 30               30%\n",
              "      3  pause 5m                   30%\n",
              "      4  analysis success-rate      30%\n",
              "      5  setCanaryScale replicas 2  30%\n",
              "      6  pause 90s                  30%\n"};
    c.absent = {"Requested:", "Blue-green:", "Analysis runs:", "Conditions:", "Revisions:\n"};
    cases.push_back(std::move(c));
  }
  {
    TableCase c{"AllStepsDone", canaryObject(), canaryAt(7)};
    c.status.phase = rollouts::RolloutPhase::kHealthy;
    c.status.canary_revision = "aaaa";
    c.want = {"Phase:      Healthy\n", "Step:       7/7 (all steps done)\n",
              "Revisions:  stable aaaa (no update in progress)\n"};
    c.absent = {"->"};
    cases.push_back(std::move(c));
  }
  {
    TableCase c{"SpecPausedAndRequests", canaryObject(true, 2), canaryAt(2)};
    c.status.abort = true;
    c.status.promote = rollouts::PromoteRequest::kFull;
    c.want = {"Phase:      Progressing (as of generation 1; the spec is at generation 2)\n",
              "Paused:     spec.paused is true (`governor rollout resume web -n shop` to go on)\n",
              "Requested:  abort, promote Full\n"};
    cases.push_back(std::move(c));
  }
  {
    TableCase c{"RevisionsAnalysisAndConditions", canaryObject(), canaryAt(4)};
    c.status.revisions = {{"aaaa", rollouts::RevisionRole::kStable, "web-aaaa", 9, 9, 8},
                          {"bbbb", rollouts::RevisionRole::kCanary, "web-bbbb", 1, 0, 0}};
    rollouts::RolloutAnalysisRun run;
    run.name = "step-4-success-rate";
    run.kind = rollouts::AnalysisKind::kStep;
    run.step_index = 4;
    run.template_name = "success-rate";
    run.revision = "bbbb";
    run.run.started_at = kT0;
    run.run.phase = rollouts::AnalysisPhase::kFailed;
    run.run.message = "metric success-rate: measurement 3 = 0.91 failed";
    run.finished_at = kT0 + Seconds(180);
    rollouts::MetricRun m;
    m.name = "success-rate";
    m.phase = rollouts::AnalysisPhase::kFailed;
    m.measured = 3;
    m.successful = 1;
    m.failed = 1;
    m.errors = 1;
    m.measurements = {{3, kT0 + Seconds(180), rollouts::MeasurementPhase::kFailed, 0.91, "failed"}};
    rollouts::MetricRun errors;
    errors.name = "latency";
    errors.measured = 2;
    errors.errors = 2;
    errors.consecutive_errors = 2;
    errors.measurements = {{2, kT0 + Seconds(60), rollouts::MeasurementPhase::kError, std::nullopt,
                            "query timed out"}};
    run.run.metrics = {m, errors};
    c.status.analysis_runs = {run};
    c.status.conditions = {{"Progressing", "False", "RolloutAborted", "analysis failed", kT0}};
    c.want = {"  REVISION  ROLE    REPLICASET  REPLICAS  READY  AVAILABLE\n",
              "  aaaa      Stable  web-aaaa    9         9      8\n",
              "  bbbb      Canary  web-bbbb    1         0      0\n",
              "  step-4-success-rate: Failed (Step at step 4, template success-rate, revision "
              "bbbb, started 2026-01-01T10:00:00Z, finished 2026-01-01T10:03:00Z)\n",
              "    metric success-rate: measurement 3 = 0.91 failed\n",
              "#3 0.91 Failed at 2026-01-01T10:03:00Z: failed\n",
              "2 (2 in a row)",
              "#2 (no value) Error at 2026-01-01T10:01:00Z: query timed out\n",
              "  Progressing  False   RolloutAborted  2026-01-01T10:00:00Z  analysis failed\n"};
    cases.push_back(std::move(c));
  }
  {
    rollouts::RolloutStatus s;
    s.observed_generation = 3;
    s.phase = rollouts::RolloutPhase::kProgressing;
    s.strategy = "BlueGreen";
    s.stable_revision = "aaaa";
    s.canary_revision = "bbbb";
    s.active_selector = "bbbb";
    s.preview_selector = "bbbb";
    s.preview_ready_at = kT0;
    s.promoted_at = kT0 + Seconds(60);
    s.scale_down_at = kT0 + Seconds(90);
    s.previous_active = "aaaa";
    TableCase c{"BlueGreenShowsTheServices", blueGreenObject(), s};
    c.want = {"Strategy:   BlueGreen\n",
              "Revisions:  stable aaaa, new bbbb\n",
              "  Active Service:   api-active (selects bbbb)\n",
              "  Preview Service:  api-preview (selects bbbb)\n",
              "  Preview ready:    2026-01-01T10:00:00Z\n",
              "  Promoted:         2026-01-01T10:01:00Z\n",
              "  Scale down:       2026-01-01T10:01:30Z (of aaaa)\n"};
    c.absent = {"Steps:", "Weight:", "Step:"};
    cases.push_back(std::move(c));
  }
  {
    TableCase c{"NotReconciledYet", canaryObject(), rollouts::RolloutStatus{}};
    c.want = {"Phase:      (not reconciled) (as of generation 0; the spec is at generation 1)\n",
              "Revisions:  stable - (no update in progress)\n", "  ->  0  setWeight 10"};
    cases.push_back(std::move(c));
  }
  return cases;
}

class RolloutStatusTableTest : public testing::TestWithParam<TableCase> {};

TEST_P(RolloutStatusTableTest, ShowsWhatAPersonNeeds) {
  const std::string table = formatRolloutStatus(GetParam().object, GetParam().status);
  for (const auto& want : GetParam().want) {
    EXPECT_NE(table.find(want), std::string::npos) << "want: " << want << "\nin:\n" << table;
  }
  for (const auto& absent : GetParam().absent) {
    EXPECT_EQ(table.find(absent), std::string::npos) << "absent: " << absent << "\nin:\n" << table;
  }
}

INSTANTIATE_TEST_SUITE_P(Table, RolloutStatusTableTest, testing::ValuesIn(tableCases()),
                         [](const testing::TestParamInfo<TableCase>& info) {
                           return info.param.name;
                         });

struct ClusterErrorCase {
  std::string name;
  std::vector<std::string> args;  // After "rollout"; KUBECONFIG is the test's kubeconfig.
  int want_code;
  std::string want;  // In stderr.
};
void PrintTo(const ClusterErrorCase& c, std::ostream* os) { *os << c.name; }

class RolloutClusterErrorTest : public TempFiles,
                                public testing::WithParamInterface<ClusterErrorCase> {};

TEST_P(RolloutClusterErrorTest, ExitsWithAClearMessage) {
  // Nothing listens on 127.0.0.1:1 (tcpmux): the connection is refused at once.
  const std::string kubeconfig = write("kubeconfig",
                                       "apiVersion: v1\nkind: Config\n"
                                       "clusters: [{name: c, cluster: {server: "
                                       "'http://127.0.0.1:1'}}]\n"
                                       "users: [{name: u, user: {token: t}}]\n"
                                       "contexts: [{name: x, context: {cluster: c, user: u}}]\n"
                                       "current-context: x\n");
  std::vector<std::string> args = {"rollout"};
  for (const auto& a : GetParam().args) args.push_back(a == "KUBECONFIG" ? kubeconfig : a);
  CliRun r = runGovernor(args);
  EXPECT_EQ(r.code, GetParam().want_code) << r.out << r.err;
  EXPECT_NE(r.err.find(GetParam().want), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Table, RolloutClusterErrorTest,
    testing::Values(
        ClusterErrorCase{"StatusUnreachable",
                         {"status", "web", "--kubeconfig", "KUBECONFIG"},
                         kExitFailure,
                         "error: cannot reach the API server http://127.0.0.1:1: "},
        ClusterErrorCase{"PauseUnreachable",
                         {"pause", "web", "--kubeconfig", "KUBECONFIG"},
                         kExitFailure,
                         "error: cannot reach the API server http://127.0.0.1:1: "},
        ClusterErrorCase{"MissingKubeconfig",
                         {"promote", "web", "--kubeconfig", "/nonexistent/kubeconfig"},
                         kExitFailure,
                         "error: kubeconfig: "},
        ClusterErrorCase{"UnknownContext",
                         {"abort", "web", "--kubeconfig", "KUBECONFIG", "--context", "nope"},
                         kExitFailure,
                         "nope"},
        ClusterErrorCase{
            "NoName", {"status", "--kubeconfig", "KUBECONFIG"}, kExitBadInput, "name is required"},
        ClusterErrorCase{"BadOutput",
                         {"status", "web", "-o", "yaml", "--kubeconfig", "KUBECONFIG"},
                         kExitBadInput,
                         "--output"},
        ClusterErrorCase{
            "BadTimeout",
            {"status", "web", "--watch", "--timeout", "0s", "--kubeconfig", "KUBECONFIG"},
            kExitBadInput,
            "--timeout \"0s\": must be > 0"}),
    [](const testing::TestParamInfo<ClusterErrorCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::cli
