#pragma once

// Processes for integration tests: run a command to completion, or keep a server running in
// the background, with bounded time and cleanup of exactly what the test started.
//
//   TempDir dir;
//   CommandResult r = runCommand({"kubectl", "version", "--client"}, std::chrono::seconds(10));
//   ASSERT_EQ(r.exit_code, 0) << r.err;
//
//   auto server = Subprocess::start({"prometheus", "--web.listen-address=127.0.0.1:9090"},
//                                   dir.file("prometheus.log"));
//   ASSERT_TRUE(server.ok()) << server.status().toString();
//   ASSERT_TRUE(waitUntil([&] { return probe(); }, std::chrono::seconds(20)));
//   // ~Subprocess stops it (SIGTERM, then SIGKILL), and only its own process group.
//
// Implemented with POSIX fork/execvp, process groups, pipes and poll. Every child runs in its
// own process group so that a timeout or a stop reaches the child's own children too, and
// nothing else: no function here signals a process the caller did not start.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "base/status.h"

namespace governor::testing {

// Binds 127.0.0.1:0, reads the port the kernel chose and closes the socket. The port is free
// now, not reserved: a server started with it may still lose a race, so callers that start
// servers retry on "address in use". Returns -1 when no socket could be bound.
int freeLoopbackPort();

struct CommandResult {
  int exit_code = -1;  // The exit status, 128+signal when killed by a signal, -1 if never run.
  std::string out;     // Everything written to stdout.
  std::string err;     // Everything written to stderr (or why the command could not run).
  bool timed_out = false;

  // "exit N (timed out)\nstdout: ...\nstderr: ...": for assertion messages.
  std::string describe() const {
    return "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "") +
           "\nstdout: " + out + "\nstderr: " + err;
  }
};

// Runs argv (argv[0] looked up in PATH) in its own process group, with `env` added to (and
// overriding) the current environment and `stdin_data` on its standard input (then closed).
// Waits at most `timeout`; then the whole process group is killed and timed_out is true.
// Returns the exit code and the captured output; when the command cannot be started,
// exit_code is 127 and `err` says why. Thread-safe (does not touch process-wide state other
// than this thread's signal mask, restored before returning).
CommandResult runCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::map<std::string, std::string>& env = {},
                         const std::string& stdin_data = "");

// Calls pred() until it returns true, every `interval`, for at most `timeout` (pred() is
// called at least once, and once more at the deadline). Returns whether it became true.
bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// A fresh directory under $TMPDIR (or /tmp), removed with its contents by the destructor.
// Not copyable. Aborts the test binary if no directory can be created (nothing sensible can
// run without one).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name; does not create anything.
  std::string file(const std::string& name) const;

 private:
  std::string path_;
};

// A child process in its own process group, stdout and stderr appended to a log file.
// The destructor stops it. Not thread-safe: one owner drives it.
class Subprocess {
 public:
  // Starts argv (argv[0] looked up in PATH) with `env` added to the current environment and
  // stdin from /dev/null. Returns the running process; InvalidArgument when argv is empty;
  // Unavailable when the log cannot be opened, fork fails, or exec fails (the message has
  // the errno text, e.g. "exec python3: No such file or directory").
  static Result<std::unique_ptr<Subprocess>> start(
      const std::vector<std::string>& argv, const std::string& log_path,
      const std::map<std::string, std::string>& env = {});

  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }

  // True while the process has not exited. Reaps it (non-blocking) when it has.
  bool running();

  // Sends `sig` to the process group, if the process has not been reaped yet (so the group
  // id cannot have been reused).
  void signal(int sig);

  // Waits at most `timeout` for the process to exit. Returns its exit code (128+signal when
  // killed by a signal), or nullopt when it is still running at the deadline.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);

  // SIGTERM to the process group, SIGKILL after 5 s if the process is still there, then
  // reaps it. Idempotent.
  void stop();

  // The last `bytes` bytes of the log file (for test failure messages).
  std::string logTail(size_t bytes = 4000) const;

 private:
  Subprocess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}

  // Whether the process has exited, without reaping it (the zombie keeps the group id ours).
  bool exitedUnreaped();
  // Reaps the exited process and records its exit code.
  void reap();

  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;  // Set once reaped.
};

// The last `bytes` bytes of a file, or "" if it cannot be read.
std::string readFileTail(const std::string& path, size_t bytes);

}  // namespace governor::testing
