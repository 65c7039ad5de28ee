#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "simulator/simulation.h"

namespace governor::cli {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun governor(std::vector<std::string> args) {
  args.insert(args.begin(), "governor");
  std::ostringstream out;
  std::ostringstream err;
  int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

const std::string kSim = std::string(GOVERNOR_TEST_DATA) + "/simulator/sim.yaml";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A scratch directory with the given files, removed afterwards.
class Scratch {
 public:
  explicit Scratch(const std::string& name) : dir_(fs::temp_directory_path() / name) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

TEST(SimulateCommandTest, PrintsTheComparisonTable) {
  CliRun r = governor({"simulate", "-f", kSim});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  for (const char* name : {"web-threshold", "web-perpod", "oracle", "static:10", "replicaHours",
                           "p95Utilization", "gaps"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
  }
  EXPECT_NE(r.out.find('*'), std::string::npos) << "best values are marked";
}

TEST(SimulateCommandTest, JsonHasExactlyTheIssuesFieldNames) {
  CliRun r = governor({"simulate", "-f", kSim, "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_TRUE(doc.contains("results"));
  ASSERT_EQ(doc["results"].size(), 4u);
  const std::set<std::string> want = {
      "name",        "replicaHours", "underProvisionedSeconds", "unservedFraction",
      "scaleEvents", "maxReplicas",  "meanUtilization",         "p95Utilization"};
  for (const auto& result : doc["results"]) {
    std::set<std::string> keys;
    for (const auto& [key, value] : result.items()) keys.insert(key);
    EXPECT_EQ(keys, want);
  }
  EXPECT_EQ(doc["results"][0]["name"], "web-threshold");
  EXPECT_EQ(doc["results"][2]["name"], "oracle");
  EXPECT_EQ(doc["results"][2]["unservedFraction"], 0.0);

  // The same numbers as the table.
  CliRun table = governor({"simulate", "-f", kSim});
  std::ostringstream hours;
  hours.setf(std::ios::fixed);
  hours.precision(2);
  hours << doc["results"][0]["replicaHours"].get<double>();
  EXPECT_NE(table.out.find(hours.str()), std::string::npos) << hours.str() << "\n" << table.out;
}

TEST(SimulateCommandTest, ReportIsCompleteAndByteIdenticalAcrossRuns) {
  Scratch a("governor_sim_report_a");
  Scratch b("governor_sim_report_b");
  CliRun first = governor({"simulate", "-f", kSim, "--report", a.dir().string(), "--quiet"});
  CliRun second = governor({"simulate", "-f", kSim, "--report", b.dir().string(), "-o", "table"});
  ASSERT_EQ(first.code, kExitOk) << first.err;
  ASSERT_EQ(second.code, kExitOk) << second.err;
  EXPECT_EQ(first.out, second.out);
  EXPECT_TRUE(first.err.empty()) << "--quiet: " << first.err;
  for (const char* file :
       {"report.html", "timeline-web-threshold.csv", "timeline-web-perpod.csv"}) {
    ASSERT_TRUE(fs::exists(a.dir() / file)) << file;
    EXPECT_EQ(slurp(a.dir() / file), slurp(b.dir() / file)) << file;
  }
  const std::string timeline = slurp(a.dir() / "timeline-web-threshold.csv");
  EXPECT_EQ(timeline.rfind("time,demand,ready,desired,utilization,reason\n"
                           "2023-11-14T22:13:20Z,20,2,",
                           0),
            0u)
      << timeline.substr(0, 200);
  // 359 minutes at 15 s: 1437 steps, plus the header.
  EXPECT_EQ(std::count(timeline.begin(), timeline.end(), '\n'), 1438);
  const std::string html = slurp(a.dir() / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("web-perpod"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos) << "self-contained, static";
}

struct BadInputCase {
  std::string name;
  std::string sim;    // The Simulation manifest; "$DATA" is tests/data/simulator.
  std::string trace;  // Written as trace.csv (or trace.json) next to it when not empty.
  std::string want;   // In stderr; "$DIR" is the scratch directory.
};

class SimulateBadInputTest : public testing::TestWithParam<BadInputCase> {};

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

TEST_P(SimulateBadInputTest, ExitsTwoNamingTheFileAndLine) {
  const auto& c = GetParam();
  Scratch scratch("governor_sim_bad_" + c.name);
  const std::string data = std::string(GOVERNOR_TEST_DATA) + "/simulator";
  if (!c.trace.empty()) {
    scratch.write(c.trace.front() == '{' ? "trace.json" : "trace.csv", c.trace);
  }
  scratch.write("bad-policy.yaml",
                "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: x}\n"
                "spec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 0\n");
  const std::string sim = scratch.write("sim.yaml", replaceAll(c.sim, "$DATA", data));
  CliRun r = governor({"simulate", "-f", sim});
  EXPECT_EQ(r.code, kExitBadInput) << r.out;
  const std::string want = replaceAll(c.want, "$DIR", scratch.dir().string());
  EXPECT_NE(r.err.find(want), std::string::npos) << "want: " << want << "\ngot: " << r.err;
}

const std::string kHead =
    "apiVersion: governor.io/v1alpha1\nkind: Simulation\nspec:\n"
    "  workload: {capacityPerReplica: 10}\n";

INSTANTIATE_TEST_SUITE_P(
    Table, SimulateBadInputTest,
    testing::Values(
        BadInputCase{"MissingTrace", kHead + "  trace: {file: nope.csv}\n  baselines: [oracle]\n",
                     "", "$DIR/sim.yaml:5: spec.trace.file: $DIR/nope.csv: no such file"},
        BadInputCase{"BadCsvLine", kHead + "  trace: {file: trace.csv}\n  baselines: [oracle]\n",
                     "timestamp,value\n0,1\n60,x\n",
                     "$DIR/trace.csv:3: value \"x\" is not a number"},
        BadInputCase{"UnknownSeriesName",
                     kHead + "  trace: {file: trace.json, series: rps}\n  baselines: [oracle]\n",
                     R"({"status":"success","data":{"resultType":"matrix","result":[
                     {"metric":{"__name__":"cpu"},"values":[[1,"1"]]}]}})",
                     "$DIR/trace.json: data.result: no series with __name__ \"rps\""},
        BadInputCase{
            "UnknownColumn",
            kHead + "  trace: {file: trace.csv, valueColumn: rps}\n  baselines: [oracle]\n",
            "timestamp,value\n0,1\n", "$DIR/trace.csv:1: no column \"rps\""},
        BadInputCase{"InvalidPolicy",
                     kHead + "  trace: {file: $DATA/ramp.csv}\n  policies: [bad-policy.yaml]\n", "",
                     "$DIR/bad-policy.yaml:6: spec.maxReplicas: must be >= 1, got 0"},
        BadInputCase{"MissingPolicy",
                     kHead + "  trace: {file: $DATA/ramp.csv}\n  policies:\n    - none.yaml\n", "",
                     "$DIR/sim.yaml:7: spec.policies[0]: $DIR/none.yaml: no such file"},
        BadInputCase{"InvalidSimulation", kHead + "  trace: {file: $DATA/ramp.csv}\n  steps: 1\n",
                     "", "$DIR/sim.yaml:6: spec.steps: unknown field"}),
    [](const testing::TestParamInfo<BadInputCase>& info) { return info.param.name; });

TEST(SimulateCommandTest, MissingManifestAndBadFlagsAreBadInput) {
  CliRun missing = governor({"simulate", "-f", "/nonexistent/sim.yaml"});
  EXPECT_EQ(missing.code, kExitBadInput);
  EXPECT_NE(missing.err.find("/nonexistent/sim.yaml: no such file"), std::string::npos)
      << missing.err;
  EXPECT_EQ(governor({"simulate", "-f", kSim, "-o", "xml"}).code, kExitBadInput);
  EXPECT_EQ(governor({"simulate"}).code, kExitBadInput);
}

TEST(SimulateCommandTest, BundledExamplesLoad) {
  // Every bundled Simulation loads: its trace and policies parse. Running them is the demo's.
  const fs::path dir = fs::path(GOVERNOR_SOURCE_DIR) / "examples" / "simulations";
  int found = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++found;
    auto input = simulator::loadSimulation(entry.path().string());
    EXPECT_TRUE(input.ok()) << input.status().message();
  }
  EXPECT_GE(found, 3);
}

}  // namespace
}  // namespace governor::cli
