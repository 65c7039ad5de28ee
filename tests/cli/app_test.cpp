#include "cli/app.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace governor::cli {
namespace {

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run runGovernor(std::vector<std::string> args) {
  args.insert(args.begin(), "governor");
  std::ostringstream out;
  std::ostringstream err;
  int code = run(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CliTest, HelpListsSubcommands) {
  Run r = runGovernor({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_NE(r.out.find("version"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("validate"), std::string::npos) << r.out;
}

TEST(CliTest, VersionPrintsTheVersion) {
  Run r = runGovernor({"version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out.rfind("governor ", 0), 0u) << r.out;
}

TEST(CliTest, NoSubcommandIsBadInput) {
  Run r = runGovernor({});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_FALSE(r.err.empty());
}

TEST(CliTest, UnknownFlagIsBadInput) {
  Run r = runGovernor({"version", "--frobnicate"});
  EXPECT_EQ(r.code, kExitBadInput);
}

TEST(CliTest, ValidateAcceptsTheBundledExamples) {
  const std::string dir = std::string(GOVERNOR_SOURCE_DIR) + "/examples/policies/";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    Run r = runGovernor({"validate", "-f", entry.path().string()});
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
  Run r = runGovernor({"validate", "-f", path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find(path.string() + ":6: spec.maxReplicas: must be >= 1, got 0"),
            std::string::npos)
      << r.err;
}

TEST(CliTest, ValidateMissingFileIsBadInput) {
  Run r = runGovernor({"validate", "-f", "/nonexistent/policy.yaml"});
  EXPECT_EQ(r.code, kExitBadInput);
  EXPECT_NE(r.err.find("/nonexistent/policy.yaml: no such file"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace governor::cli
