#include "tests/support/process.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

namespace governor::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(FreeLoopbackPortTest, ReturnsBindablePort) {
  int port = freeLoopbackPort();
  ASSERT_GT(port, 0);
  ASSERT_LT(port, 65536);
  // The port is free: a server can bind it right away.
  CommandResult r =
      runCommand({"/usr/bin/python3", "-c",
                  "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1]))); "
                  "print('bound')",
                  std::to_string(port)},
                 seconds(20));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "bound\n");
}

struct RunCase {
  std::string name;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::string stdin_data;
  int exit_code;
  std::string out;
  std::string err;
};

class RunCommandTest : public ::testing::TestWithParam<RunCase> {};

TEST_P(RunCommandTest, CapturesExitCodeAndOutput) {
  const RunCase& c = GetParam();
  CommandResult r = runCommand(c.argv, seconds(20), c.env, c.stdin_data);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
  EXPECT_EQ(r.out, c.out);
  EXPECT_EQ(r.err, c.err);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RunCommandTest,
    ::testing::Values(RunCase{"Echo", {"echo", "hello", "world"}, {}, "", 0, "hello world\n", ""},
                      RunCase{"ExitCode",
                              {"sh", "-c", "echo out; echo err >&2; exit 3"},
                              {},
                              "",
                              3,
                              "out\n",
                              "err\n"},
                      RunCase{"Env",
                              {"sh", "-c", "printf %s \"$GOVERNOR_X\""},
                              {{"GOVERNOR_X", "42"}},
                              "",
                              0,
                              "42",
                              ""},
                      RunCase{"Stdin", {"cat"}, {}, "line1\nline2\n", 0, "line1\nline2\n", ""},
                      // A child that ignores its input must not kill the caller with SIGPIPE.
                      RunCase{"StdinIgnored", {"true"}, {}, std::string(1 << 20, 'x'), 0, "", ""},
                      RunCase{
                          "Signaled", {"sh", "-c", "kill -9 $$"}, {}, "", 128 + SIGKILL, "", ""}),
    [](const ::testing::TestParamInfo<RunCase>& info) { return info.param.name; });

TEST(RunCommandTest, LargeOutputIsCapturedCompletely) {
  CommandResult r = runCommand({"head", "-c", "3000000", "/dev/zero"}, seconds(20));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.size(), 3000000u);
}

TEST(RunCommandTest, MissingProgramReports127) {
  CommandResult r = runCommand({"governor-no-such-program-xyz"}, seconds(5));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("governor-no-such-program-xyz"), std::string::npos) << r.err;
}

TEST(RunCommandTest, TimeoutKillsTheProcessGroup) {
  TempDir dir;
  const std::string marker = dir.file("grandchild-alive");
  // The grandchild would write the marker after 2 s unless killed with its group.
  CommandResult r =
      runCommand({"sh", "-c", "(sleep 2; touch " + marker + ") & sleep 30"}, milliseconds(300));
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  // Give a surviving grandchild the chance to show itself.
  EXPECT_FALSE(waitUntil([&] { return std::filesystem::exists(marker); }, seconds(3)));
}

TEST(WaitUntilTest, TrueWhenConditionHolds) {
  int calls = 0;
  EXPECT_TRUE(waitUntil([&] { return ++calls == 3; }, seconds(10), milliseconds(1)));
  EXPECT_EQ(calls, 3);
}

TEST(WaitUntilTest, FalseAtDeadline) {
  int calls = 0;
  EXPECT_FALSE(waitUntil(
      [&] {
        ++calls;
        return false;
      },
      milliseconds(30), milliseconds(5)));
  EXPECT_GE(calls, 2);  // Called at least at the start and at the deadline.
}

TEST(TempDirTest, CreatesAndRemovesRecursively) {
  std::string path;
  {
    TempDir dir;
    path = dir.path();
    ASSERT_TRUE(std::filesystem::is_directory(path));
    std::filesystem::create_directories(dir.file("a/b"));
    std::ofstream(dir.file("a/b/c.txt")) << "x";
    EXPECT_EQ(dir.file("x.log"), path + "/x.log");
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(SubprocessTest, LogsOutputAndReportsExitCode) {
  TempDir dir;
  auto p = Subprocess::start({"sh", "-c", "echo \"started $GOVERNOR_Y\"; echo oops >&2; exit 7"},
                             dir.file("p.log"), {{"GOVERNOR_Y", "y"}});
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_EQ((*p)->waitExit(seconds(20)), 7);
  EXPECT_FALSE((*p)->running());
  std::string log = (*p)->logTail();
  EXPECT_NE(log.find("started y\n"), std::string::npos) << log;
  EXPECT_NE(log.find("oops\n"), std::string::npos) << log;
}

TEST(SubprocessTest, MissingProgramIsAnError) {
  TempDir dir;
  auto p = Subprocess::start({"governor-no-such-program-xyz"}, dir.file("p.log"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(p.status().message().find("governor-no-such-program-xyz"), std::string::npos);
}

TEST(SubprocessTest, SignalAndWaitExit) {
  TempDir dir;
  auto p = Subprocess::start({"sleep", "30"}, dir.file("p.log"));
  ASSERT_TRUE(p.ok()) << p.status().toString();
  EXPECT_TRUE((*p)->running());
  EXPECT_EQ((*p)->waitExit(milliseconds(50)), std::nullopt);
  (*p)->signal(SIGUSR1);
  EXPECT_EQ((*p)->waitExit(seconds(20)), 128 + SIGUSR1);
}

TEST(SubprocessTest, StopKillsAProcessThatIgnoresSigterm) {
  TempDir dir;
  const std::string ready = dir.file("ready");
  auto p = Subprocess::start({"sh", "-c", "trap '' TERM; touch " + ready + "; sleep 60"},
                             dir.file("p.log"));
  ASSERT_TRUE(p.ok()) << p.status().toString();
  ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(ready); }, seconds(20)));
  pid_t pid = (*p)->pid();
  (*p)->stop();
  EXPECT_FALSE((*p)->running());
  EXPECT_EQ((*p)->waitExit(milliseconds(0)), 128 + SIGKILL);
  // Reaped: the pid no longer names a child of ours.
  EXPECT_EQ(waitpid(pid, nullptr, WNOHANG), -1);
}

TEST(SubprocessTest, DestructorStopsTheWholeGroup) {
  TempDir dir;
  const std::string marker = dir.file("grandchild-alive");
  const std::string ready = dir.file("ready");
  {
    auto p = Subprocess::start(
        {"sh", "-c", "(sleep 2; touch " + marker + ") & touch " + ready + "; sleep 60"},
        dir.file("p.log"));
    ASSERT_TRUE(p.ok()) << p.status().toString();
    ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(ready); }, seconds(20)));
  }
  EXPECT_FALSE(waitUntil([&] { return std::filesystem::exists(marker); }, seconds(3)));
}

}  // namespace
}  // namespace governor::testing
