#include "cli/app.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

TEST(CliTest, HelpListsSubcommands) {
  CliRun r = runGovernor({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("version"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("validate"), std::string::npos) << r.out;
}

TEST(CliTest, VersionPrintsTheVersion) {
  CliRun r = runGovernor({"version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out.rfind("governor ", 0), 0u) << r.out;
}

TEST(CliTest, NoSubcommandIsBadInput) {
  CliRun r = runGovernor({});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_FALSE(r.err.empty());
}

TEST(CliTest, UnknownFlagIsBadInput) {
  CliRun r = runGovernor({"version", "--frobnicate"});
  EXPECT_EQ(r.code, kExitBadInput);
}

TEST(CliTest, ValidateAcceptsTheBundledExamples) {
  const std::string dir = std::string(GOVERNOR_SOURCE_DIR) + "/examples/policies/";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    CliRun r = runGovernor({"validate", "-f", entry.path().string()});
    EXPECT_EQ(r.code, kExitOk) << entry.path() << "\n" << r.err;
    EXPECT_NE(r.out.find("is valid"), std::string::npos) << r.out;
  }
}

TEST(CliTest, ValidateNamesFileLineAndField) {
  auto path = std::filesystem::temp_directory_path() / "governor_cli_test_bad.yaml";
  {
    std::ofstream f(path);
    f << "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: web}\n"
         "spec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 0\n";
  }
  CliRun r = runGovernor({"validate", "-f", path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find(path.string() + ":6: spec.maxReplicas: must be >= 1, got 0"),
            std::string::npos)
      << r.err;
}

TEST(CliTest, ValidateMissingFileIsBadInput) {
  CliRun r = runGovernor({"validate", "-f", "/nonexistent/policy.yaml"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("/nonexistent/policy.yaml: no such file"), std::string::npos) << r.err;
}

std::string writeTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

const std::string kNasa =
    std::string(GOVERNOR_TEST_DATA) + "/traces/nasa_http_jul95_requests_1h.csv";

TEST(ForecastCommandTest, JsonHasTheContractFields) {
  CliRun r =
      runGovernor({"forecast", "--input", kNasa, "--period", "24", "--horizon", "6", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["model"].is_string());
  EXPECT_TRUE(j["params"].is_object());
  EXPECT_TRUE(j["sse"].is_number());
  EXPECT_GT(j["fitSeconds"].get<double>(), 0.0);
  ASSERT_EQ(j["forecast"].size(), 6u);
  for (const auto& point : j["forecast"]) {
    EXPECT_LE(point["lower"].get<double>(), point["mean"].get<double>());
    EXPECT_LE(point["mean"].get<double>(), point["upper"].get<double>());
  }
  EXPECT_EQ(j["backtest"]["candidates"].size(), 7u);  // auto tries every model.
}

TEST(ForecastCommandTest, HoltWintersParamsByName) {
  CliRun r = runGovernor({"forecast", "--input", kNasa, "--period", "24", "--model", "holt-winters",
                          "--seasonality", "multiplicative", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["model"], "holt-winters");
  for (const char* name : {"alpha", "beta", "gamma"}) {
    ASSERT_TRUE(j["params"].contains(name)) << name;
    EXPECT_GE(j["params"][name].get<double>(), 0.0);
    EXPECT_LE(j["params"][name].get<double>(), 1.0);
  }
  EXPECT_EQ(j["forecast"].size(), 24u);  // Default horizon: one period.
}

TEST(ForecastCommandTest, CsvAndTableOutputs) {
  CliRun csv =
      runGovernor({"forecast", "--input", kNasa, "--period", "24", "--horizon", "3", "-o", "csv"});
  ASSERT_EQ(csv.code, kExitOk) << csv.err;
  EXPECT_EQ(csv.out.rfind("time,mean,lower,upper\n", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4);
  CliRun table = runGovernor({"forecast", "--input", kNasa, "--period", "24", "--horizon", "3"});
  ASSERT_EQ(table.code, kExitOk) << table.err;
  EXPECT_NE(table.out.find("<- chosen"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("in-sample SSE"), std::string::npos);
}

struct BadForecastCase {
  std::string name;
  std::vector<std::string> args;  // After "forecast".
  std::string want;
};

class BadForecastTest : public testing::TestWithParam<BadForecastCase> {};

TEST_P(BadForecastTest, ExitsTwoWithAClearMessage) {
  std::vector<std::string> args = {"forecast"};
  args.insert(args.end(), GetParam().args.begin(), GetParam().args.end());
  CliRun r = runGovernor(args);
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find(GetParam().want), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadForecastTest,
    testing::Values(
        BadForecastCase{
            "MissingFile", {"--input", "/nonexistent.csv"}, "/nonexistent.csv: no such file"},
        BadForecastCase{"BadLine",
                        {"--input", writeTemp("governor_bad_forecast.csv",
                                              "timestamp,value\n1,2\n2,oops\n3,4\n")},
                        "governor_bad_forecast.csv:3:"},
        BadForecastCase{"MissingColumn",
                        {"--input", writeTemp("governor_nocol.csv", "time,v\n1,2\n"),
                         "--value-column", "value"},
                        "governor_nocol.csv"},
        BadForecastCase{"BadModel", {"--input", kNasa, "--model", "prophet"}, "--model: must be"},
        BadForecastCase{"BadSeasonality",
                        {"--input", kNasa, "--model", "holt-winters", "--seasonality", "cubic"},
                        "--seasonality: must be additive or multiplicative"},
        BadForecastCase{"BadPeriod", {"--input", kNasa, "--period", "1"}, "--period: must be > 2"},
        BadForecastCase{
            "BadOutput", {"--input", kNasa, "-o", "xml"}, "-o: must be table, json or csv"},
        BadForecastCase{
            "TooShortForHoltWinters",
            {"--input",
             writeTemp("governor_short.csv", "timestamp,value\n1,2\n2,3\n3,4\n4,5\n5,6\n"),
             "--model", "holt-winters", "--period", "4", "--seasonality", "additive"},
            "need at least 2 full seasons"}),
    [](const testing::TestParamInfo<BadForecastCase>& info) { return info.param.name; });

}  // namespace
}  // namespace governor::cli
