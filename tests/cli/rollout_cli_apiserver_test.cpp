// `governor rollout status|promote|abort|retry|pause|resume` against the test API server with
// the Rollout CRD (manifests/crd/governor.io_rollouts.yaml) installed, run in-process through
// governor::cli::run. Each test writes a Rollout and its status as the controller would, runs
// a verb, and reads the object back with kubectl: what the verb wrote, what it printed, and
// that it refuses what does not apply.

#include <fstream>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "controller/rollout_status_json.h"
#include "tests/support/apiserver.h"
#include "tests/support/process.h"

namespace governor::cli {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::TestApiServer;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

std::string describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A status as the controller writes it mid-canary (examples/rollouts/canary.yaml: step 3 is
// the analysis step), with `phase`, and the canary revision equal to the stable one when
// `updating` is false.
json controllerStatus(const std::string& phase, bool updating, int64_t observed_generation = 1) {
  json s = {
      {"observedGeneration", observed_generation},
      {"phase", phase},
      {"message", "step 3/6: analysis success-rate running"},
      {"strategy", "Canary"},
      {"currentStepIndex", 3},
      {"currentStepStartedAt", "2026-01-01T10:00:00.250Z"},
      {"stableRevision", "6d8b9c4f7"},
      {"canaryRevision", updating ? "7f9c5d6b8" : "6d8b9c4f7"},
      {"canaryWeight", 30},
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
       {{{"name", "step-3-success-rate"},
         {"kind", "Step"},
         {"stepIndex", 3},
         {"template", "success-rate"},
         {"templates", {"success-rate"}},
         {"revision", "7f9c5d6b8"},
         {"phase", "Running"},
         {"startedAt", "2026-01-01T10:00:00.250Z"},
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
               {"measuredAt", "2026-01-01T10:01:00.250Z"},
               {"phase", "Error"},
               {"message", "query failed"}},
              {{"number", 2},
               {"measuredAt", "2026-01-01T10:02:00.250Z"},
               {"phase", "Successful"},
               {"value", "0.997"},
               {"message", "met successCondition"}}}}}}}}}},
      {"conditions",
       {{{"type", "Progressing"},
         {"status", "True"},
         {"reason", "StepAnalysis"},
         {"message", "analysis success-rate running"},
         {"lastTransitionTime", "2026-01-01T10:00:00Z"}}}},
  };
  return s;
}

// One server for the suite, with the CRD installed and namespace "shop".
class RolloutCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto started = TestApiServer::start({});
    ASSERT_TRUE(started.ok()) << started.status().message();
    server_ = std::move(started).value().release();
    CommandResult crd = server_->kubectl(
        {"apply", "-f",
         std::string(GOVERNOR_SOURCE_DIR) + "/manifests/crd/governor.io_rollouts.yaml"});
    ASSERT_EQ(crd.exit_code, 0) << describe(crd);
    const bool served = testing::waitUntil(
        [] {
          return server_->kubectl({"get", "rollouts.governor.io", "-A"}).exit_code == 0;
        },
        std::chrono::seconds(20), std::chrono::milliseconds(100));
    ASSERT_TRUE(served) << server_->logTail();
    CommandResult ns = server_->kubectl({"create", "namespace", "shop"});
    ASSERT_EQ(ns.exit_code, 0) << describe(ns);
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (server_ == nullptr) GTEST_SKIP() << "the test API server did not start";
  }

  // Creates the canary example as shop/<name> (spec.paused as given), then writes `status`
  // into its status subresource (unless null), as the controller would.
  static void createRollout(const std::string& name, const json& status, bool paused = false) {
    std::string manifest =
        readText(std::string(GOVERNOR_SOURCE_DIR) + "/examples/rollouts/canary.yaml");
    const std::string from = "  name: web\n";
    const size_t at = manifest.find(from);
    ASSERT_NE(at, std::string::npos);
    manifest.replace(at, from.size(), "  name: " + name + "\n");
    CommandResult applied = server_->kubectl({"apply", "-f", "-"}, manifest);
    ASSERT_EQ(applied.exit_code, 0) << describe(applied);
    if (paused) {
      CommandResult p = server_->kubectl({"patch", "rollout.governor.io", name, "-n", "shop",
                                          "--type=merge", "-p", R"({"spec":{"paused":true}})"});
      ASSERT_EQ(p.exit_code, 0) << describe(p);
    }
    if (!status.is_null()) writeStatus(name, status);
  }

  static void writeStatus(const std::string& name, const json& status) {
    CommandResult patched = server_->kubectl({"patch", "rollout.governor.io", name, "-n", "shop",
                                              "--subresource=status", "--type=merge", "-p",
                                              json{{"status", status}}.dump()});
    ASSERT_EQ(patched.exit_code, 0) << describe(patched);
  }

  static json getRollout(const std::string& name) {
    CommandResult got =
        server_->kubectl({"get", "rollout.governor.io", name, "-n", "shop", "-o", "json"});
    EXPECT_EQ(got.exit_code, 0) << describe(got);
    return json::parse(got.out, nullptr, false);
  }

  // `governor rollout ARGS... -n shop --kubeconfig <the server's>`.
  static CliRun governor(std::vector<std::string> args) {
    args.insert(args.begin(), {"governor", "rollout"});
    args.insert(args.end(), {"-n", "shop", "--kubeconfig", server_->kubeconfigPath()});
    std::ostringstream out;
    std::ostringstream err;
    const int code = run(args, out, err);
    return {code, out.str(), err.str()};
  }

  static TestApiServer* server_;
};

TestApiServer* RolloutCliTest::server_ = nullptr;

struct VerbCase {
  std::string name;
  std::string phase;  // The status the controller left.
  bool updating = true;
  bool abort = false;
  bool paused = false;  // spec.paused before the verb.
  std::vector<std::string> args;
  int want_code = 0;
  std::string want_text;  // In stdout when want_code is 0, else in stderr.
  std::string pointer;    // Into the object afterwards ("/status/promote").
  json want_value;        // null: the field is absent.
};
void PrintTo(const VerbCase& c, std::ostream* os) { *os << c.name; }

std::vector<VerbCase> verbCases() {
  return {
      {"PromoteStep",
       "Paused",
       true,
       false,
       false,
       {"promote"},
       0,
       "promotion requested",
       "/status/promote",
       "Step"},
      {"PromoteFull",
       "Progressing",
       true,
       false,
       false,
       {"promote", "--full"},
       0,
       "full promotion requested",
       "/status/promote",
       "Full"},
      {"PromoteWhileSpecPausedSaysSo",
       "Paused",
       true,
       false,
       true,
       {"promote"},
       0,
       "spec.paused is true",
       "/status/promote",
       "Step"},
      {"PromoteWithNothingInProgress",
       "Healthy",
       false,
       false,
       false,
       {"promote"},
       1,
       "nothing to promote: no update in progress (phase Healthy, revision 6d8b9c4f7)",
       "/status/promote",
       nullptr},
      {"Abort",
       "Progressing",
       true,
       false,
       false,
       {"abort"},
       0,
       "abort requested",
       "/status/abort",
       true},
      {"RetryAborted",
       "Aborted",
       true,
       true,
       false,
       {"retry"},
       0,
       "retry requested",
       "/status/abort",
       false},
      {"RetryWhenNotAborted",
       "Progressing",
       true,
       true,
       false,
       {"retry"},
       1,
       "nothing to retry: the phase is Progressing, not Aborted",
       "/status/abort",
       true},
      {"Pause",
       "Progressing",
       true,
       false,
       false,
       {"pause"},
       0,
       "paused (spec.paused: true)",
       "/spec/paused",
       true},
      {"Resume",
       "Paused",
       true,
       false,
       true,
       {"resume"},
       0,
       "resumed (spec.paused: false)",
       "/spec/paused",
       false},
  };
}

class RolloutVerbTest : public RolloutCliTest, public ::testing::WithParamInterface<VerbCase> {};

TEST_P(RolloutVerbTest, WritesTheRequestOrRefuses) {
  const VerbCase& c = GetParam();
  std::string name = "verb-";
  for (char ch : c.name) name += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  json status = controllerStatus(c.phase, c.updating, c.paused ? 2 : 1);
  status["abort"] = c.abort;
  ASSERT_NO_FATAL_FAILURE(createRollout(name, status, c.paused));

  std::vector<std::string> args = c.args;
  args.insert(args.begin() + 1, name);
  CliRun r = governor(args);
  EXPECT_EQ(r.code, c.want_code) << r.out << r.err;
  const std::string& text = c.want_code == 0 ? r.out : r.err;
  EXPECT_NE(text.find(c.want_text), std::string::npos)
      << "stdout: " << r.out << "\nstderr: " << r.err;
  const json object = getRollout(name);
  const json::json_pointer pointer(c.pointer);
  if (c.want_value.is_null()) {
    EXPECT_FALSE(object.contains(pointer)) << object.dump(2);
  } else {
    ASSERT_TRUE(object.contains(pointer)) << object.dump(2);
    EXPECT_EQ(object.at(pointer), c.want_value);
  }
  // The rest of the status is the controller's: untouched.
  EXPECT_EQ(object["status"]["analysisRuns"], status["analysisRuns"]);
  EXPECT_EQ(object["status"]["phase"], status["phase"]);
}

INSTANTIATE_TEST_SUITE_P(Table, RolloutVerbTest, ::testing::ValuesIn(verbCases()),
                         [](const ::testing::TestParamInfo<VerbCase>& info) {
                           return info.param.name;
                         });

class RolloutNotFoundTest : public RolloutCliTest,
                            public ::testing::WithParamInterface<std::string> {};

TEST_P(RolloutNotFoundTest, SaysSoAndExitsOne) {
  CliRun r = governor({GetParam(), "missing"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "error: rollout shop/missing not found\n");
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(EveryVerb, RolloutNotFoundTest,
                         ::testing::Values("status", "promote", "abort", "retry", "pause",
                                           "resume"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST_F(RolloutCliTest, StatusTableShowsStepsRevisionsAnalysisAndConditions) {
  ASSERT_NO_FATAL_FAILURE(createRollout("table", controllerStatus("Progressing", true)));
  CliRun r = governor({"status", "table"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  for (const std::string& want : {
           std::string("Rollout shop/table\n"),
           std::string("Phase:      Progressing\n"),
           std::string("Message:    step 3/6: analysis success-rate running\n"),
           std::string("Step:       3/6: analysis success-rate, since 2026-01-01T10:00:00Z\n"),
           std::string("Weight:     30% canary, 70% stable\n"),
           std::string("Revisions:  stable 6d8b9c4f7, canary 7f9c5d6b8\n"),
           std::string("      0  setWeight 10           10%\n"),
           std::string("  ->  3  analysis success-rate  30%\n"),
           std::string("      5  pause 10m              60%\n"),
           std::string("  7f9c5d6b8  Canary  web-7f9c5d6b8  3"),
           std::string("  step-3-success-rate: Running (Step at step 3, template success-rate, "
                       "revision 7f9c5d6b8, started 2026-01-01T10:00:00Z)\n"),
           std::string("success-rate  Running  2         1           0       0             1"),
           std::string("#2 0.997 Successful at 2026-01-01T10:02:00Z: met successCondition"),
           std::string("  Progressing  True    StepAnalysis  2026-01-01T10:00:00Z  analysis "
                       "success-rate running\n"),
       }) {
    EXPECT_NE(r.out.find(want), std::string::npos) << "want: " << want << "\nin:\n" << r.out;
  }
}

TEST_F(RolloutCliTest, StatusJsonHasTheSpecAndTheDecodedStatus) {
  const json status = controllerStatus("Progressing", true);
  ASSERT_NO_FATAL_FAILURE(createRollout("as-json", status));
  CliRun r = governor({"status", "as-json", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  const json got = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(got.is_discarded()) << r.out;
  EXPECT_EQ(got["name"], "as-json");
  EXPECT_EQ(got["namespace"], "shop");
  EXPECT_EQ(got["generation"], 1);
  EXPECT_EQ(got["spec"]["replicas"], 10);
  EXPECT_EQ(got["spec"]["strategy"]["canary"]["steps"].size(), 6u);
  auto decoded = controller::parseRolloutStatus(status);
  ASSERT_TRUE(decoded.ok()) << decoded.status().message();
  EXPECT_EQ(got["status"], controller::renderRolloutStatus(*decoded));
  EXPECT_EQ(got["status"]["analysisRuns"][0]["metrics"][0]["measurements"][1]["value"], "0.997");
}

TEST_F(RolloutCliTest, StatusOfAFreshRolloutSaysNotReconciled) {
  ASSERT_NO_FATAL_FAILURE(createRollout("fresh", nullptr));
  CliRun r = governor({"status", "fresh"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_NE(r.out.find("Phase:      (not reconciled) (as of generation 0; the spec is at "
                       "generation 1)"),
            std::string::npos)
      << r.out;
}

TEST_F(RolloutCliTest, StatusTheCodecCannotReadNamesTheField) {
  // The schema takes any string as a value; the codec wants a number.
  json status = controllerStatus("Progressing", true);
  status["analysisRuns"][0]["metrics"][0]["measurements"][1]["value"] = "lots";
  ASSERT_NO_FATAL_FAILURE(createRollout("garbled", status));
  CliRun r = governor({"status", "garbled"});
  EXPECT_EQ(r.code, kExitFailure) << r.out;
  EXPECT_EQ(r.err,
            "error: rollout shop/garbled: cannot read its status (edited by hand?): "
            "status.analysisRuns[0].metrics[0].measurements[1].value: not a number: \"lots\"\n");
}

struct WatchCase {
  std::string name;
  std::string final_phase;  // Written while the CLI watches.
  int want_code;
};
void PrintTo(const WatchCase& c, std::ostream* os) { *os << c.name; }

class RolloutWatchTest : public RolloutCliTest, public ::testing::WithParamInterface<WatchCase> {};

TEST_P(RolloutWatchTest, FollowsUntilSettled) {
  const WatchCase& c = GetParam();
  const std::string name =
      "watch-" + std::string(c.final_phase == "Healthy" ? "healthy" : "aborted");
  ASSERT_NO_FATAL_FAILURE(createRollout(name, controllerStatus("Progressing", true)));
  std::optional<CliRun> result;
  // Bounded by --timeout: the thread always ends.
  std::thread watcher([&] { result = governor({"status", name, "--watch", "--timeout", "30s"}); });
  // Two changes, whenever the watch sees them: the next step, then the end.
  json step4 = controllerStatus("Progressing", true);
  step4["currentStepIndex"] = 4;
  step4["canaryWeight"] = 60;
  writeStatus(name, step4);
  json last = controllerStatus(c.final_phase, c.final_phase != "Healthy");
  last["currentStepIndex"] = c.final_phase == "Healthy" ? 6 : 4;
  writeStatus(name, last);
  watcher.join();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->code, c.want_code) << result->out << result->err;
  // The last table printed is the settled state.
  const size_t final_table = result->out.rfind("Rollout shop/" + name + "\n");
  ASSERT_NE(final_table, std::string::npos) << result->out;
  EXPECT_NE(result->out.find("Phase:      " + c.final_phase + "\n", final_table), std::string::npos)
      << result->out;
  EXPECT_EQ(result->err.find("timed out"), std::string::npos) << result->err;
}

INSTANTIATE_TEST_SUITE_P(Table, RolloutWatchTest,
                         ::testing::Values(WatchCase{"Healthy", "Healthy", kExitOk},
                                           WatchCase{"Aborted", "Aborted", kExitFailure}),
                         [](const ::testing::TestParamInfo<WatchCase>& info) {
                           return info.param.name;
                         });

TEST_F(RolloutCliTest, WatchWaitsForTheControllerToSeeTheCurrentSpec) {
  // Healthy, but for generation 1 while the spec is at 2 (spec.paused was set): the update
  // the new spec asks for has not been looked at, so --watch must not report it settled.
  ASSERT_NO_FATAL_FAILURE(createRollout("stale", controllerStatus("Healthy", false, 1), true));
  ASSERT_EQ(getRollout("stale")["metadata"]["generation"], 2);
  CliRun r = governor({"status", "stale", "--watch", "--timeout", "1s"});
  EXPECT_EQ(r.code, kExitFailure) << r.out;
  EXPECT_NE(r.err.find("error: timed out after 1s waiting for rollout shop/stale to finish "
                       "(phase Healthy"),
            std::string::npos)
      << r.err;
}

TEST_F(RolloutCliTest, BadTimeoutIsBadInput) {
  CliRun r = governor({"status", "anything", "--watch", "--timeout", "soon"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("--timeout \"soon\""), std::string::npos) << r.err;
}

}  // namespace
}  // namespace governor::cli
