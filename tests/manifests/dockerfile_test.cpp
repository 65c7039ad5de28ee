// The Dockerfile, as far as it can be checked without a container engine: the instruction
// that derives the runtime packages runs here (Debian 12, as the image) against the binary
// this build produced, every package it names exists in apt, and the image agrees with the
// Deployment (user, entrypoint, subcommand).

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/manifests/manifest_files.h"
#include "tests/support/process.h"

namespace governor::testing::manifests {
namespace {

// The Dockerfile's instructions, continuation lines joined, comments dropped.
std::vector<std::string> instructions(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string current;
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!line.empty() && line.back() == '\\') {
      current += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    out.push_back(current + line);
    current.clear();
  }
  return out;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

class DockerfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto text = readFile(sourcePath("Dockerfile"));
    ASSERT_TRUE(text.ok()) << text.status().message();
    instructions_ = instructions(*text);
  }

  // The instructions starting with `keyword` ("FROM ", "USER "...).
  std::vector<std::string> all(const std::string& keyword) const {
    std::vector<std::string> out;
    for (const auto& i : instructions_) {
      if (i.rfind(keyword, 0) == 0) out.push_back(i.substr(keyword.size()));
    }
    return out;
  }

  // The RUN that writes $RUNTIME_PACKAGES (the one after the ENV that names it).
  std::string runtimePackagesScript() const {
    bool after_env = false;
    for (const auto& i : instructions_) {
      if (i.rfind("ENV ", 0) == 0 && i.find("RUNTIME_PACKAGES=") != std::string::npos) {
        after_env = true;
      } else if (after_env && i.rfind("RUN ", 0) == 0) {
        return i.substr(4);
      }
    }
    return "";
  }

  // Runs that RUN instruction against this build's binary; returns the packages it lists.
  // Once per test binary: dpkg -S takes a while per library.
  void runtimePackages(std::vector<std::string>& out) const {
    static std::vector<std::string>* cached = nullptr;
    if (cached == nullptr) {
      const std::string script = runtimePackagesScript();
      ASSERT_FALSE(script.empty()) << "no RUN after the ENV naming RUNTIME_PACKAGES";
      TempDir dir;
      const std::string list = dir.file("runtime-packages.txt");
      CommandResult r = runCommand({"sh", "-c", script}, std::chrono::seconds(120),
                                   {{"GOVERNOR_BIN", GOVERNOR_BINARY}, {"RUNTIME_PACKAGES", list}});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      auto text = readFile(list);
      ASSERT_TRUE(text.ok()) << text.status().message();
      cached = new std::vector<std::string>(lines(*text));
    }
    out = *cached;
    ASSERT_FALSE(out.empty());
  }

  std::vector<std::string> instructions_;
};

TEST_F(DockerfileTest, BuildsOnDebianBookwormAndRunsUnprivileged) {
  const auto from = all("FROM ");
  ASSERT_EQ(from.size(), 2u);
  for (const auto& f : from) EXPECT_EQ(f.rfind("debian:bookworm-slim", 0), 0u) << f;
  const auto run = all("RUN ");
  const bool builds_governor_only = std::any_of(run.begin(), run.end(), [](const std::string& r) {
    return r.find("--target governor") != std::string::npos &&
           r.find("-DGOVERNOR_BUILD_BENCH=OFF") != std::string::npos;
  });
  EXPECT_TRUE(builds_governor_only);

  // The image and the Deployment agree: the uid the pod's securityContext names, the
  // binary as entrypoint, and the subcommand the Deployment passes as its first argument.
  const auto user = all("USER ");
  ASSERT_EQ(user.size(), 1u);
  auto rendered = renderKustomization(sourcePath("manifests"));
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  const YAML::Node* deployment = findObject(*rendered, "Deployment", "governor-operator");
  ASSERT_NE(deployment, nullptr);
  const YAML::Node pod = (*deployment)["spec"]["template"]["spec"];
  EXPECT_EQ(user[0], pod["securityContext"]["runAsUser"].Scalar() + ":" +
                         pod["securityContext"]["runAsGroup"].Scalar());
  const auto entrypoint = all("ENTRYPOINT ");
  ASSERT_EQ(entrypoint.size(), 1u);
  EXPECT_EQ(entrypoint[0], R"(["/usr/local/bin/governor"])");
  const auto cmd = all("CMD ");
  ASSERT_EQ(cmd.size(), 1u);
  EXPECT_EQ(cmd[0], R"(["operator"])");
  EXPECT_EQ(pod["containers"][0]["args"][0].Scalar(), "operator");
}

TEST_F(DockerfileTest, RuntimePackagesOwnEveryLibraryOfTheBinary) {
  std::vector<std::string> packages;
  ASSERT_NO_FATAL_FAILURE(runtimePackages(packages));

  // Independently of the script: every library the loader resolves is a file of one of the
  // listed packages (dpkg -L, compared after resolving symlinks and the /usr merge).
  std::vector<std::string> argv = {"dpkg", "-L"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  CommandResult listed = runCommand(argv, std::chrono::seconds(60));
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  std::set<std::string> files;
  for (const auto& f : lines(listed.out)) {
    std::error_code ec;
    auto real = std::filesystem::canonical(f, ec);
    if (!ec) files.insert(real.string());
  }
  CommandResult ldd = runCommand({"ldd", GOVERNOR_BINARY}, std::chrono::seconds(30));
  ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
  int libraries = 0;
  for (const auto& line : lines(ldd.out)) {
    const auto arrow = line.find("=> /");
    if (arrow == std::string::npos) continue;
    const std::string path = line.substr(arrow + 3, line.find(' ', arrow + 3) - arrow - 3);
    ++libraries;
    EXPECT_EQ(files.count(std::filesystem::canonical(path).string()), 1u)
        << path << " is in no listed package";
  }
  EXPECT_GT(libraries, 0);
}

TEST_F(DockerfileTest, EveryRuntimePackageExistsInDebian) {
  std::vector<std::string> packages;
  ASSERT_NO_FATAL_FAILURE(runtimePackages(packages));
  // The runtime stage adds these two by name.
  packages.push_back("ca-certificates");
  packages.push_back("tzdata");
  std::vector<std::string> argv = {"apt-cache", "policy"};
  argv.insert(argv.end(), packages.begin(), packages.end());
  CommandResult policy = runCommand(argv, std::chrono::seconds(60));
  ASSERT_EQ(policy.exit_code, 0) << policy.err;
  // One block per package it knows ("name:" then indented lines); none for a name it does
  // not know. "Candidate: (none)" means no installable version.
  std::map<std::string, std::string> candidate;
  std::string current;
  for (const auto& line : lines(policy.out)) {
    if (line[0] != ' ') {
      current = line.substr(0, line.find(':'));
    } else if (const auto at = line.find("Candidate: "); at != std::string::npos) {
      candidate[current] = line.substr(at + 11);
    }
  }
  for (const auto& p : packages) {
    ASSERT_EQ(candidate.count(p), 1u) << p << " is unknown to apt:\n" << policy.out;
    EXPECT_NE(candidate[p], "(none)") << p;
  }
}

TEST(DockerignoreTest, KeepsBuildTreesAndGitOutOfTheContext) {
  auto text = readFile(sourcePath(".dockerignore"));
  ASSERT_TRUE(text.ok()) << text.status().message();
  const auto entries = lines(*text);
  for (const char* pattern : {".git", "build*"}) {
    EXPECT_NE(std::find(entries.begin(), entries.end(), pattern), entries.end()) << pattern;
  }
  // The build needs these: ignoring them would break the image.
  for (const auto& e : entries) {
    for (const char* needed : {"scripts", "CMakeLists.txt", "cli", "policies", "controller"}) {
      EXPECT_NE(e, needed);
    }
  }
}

}  // namespace
}  // namespace governor::testing::manifests
