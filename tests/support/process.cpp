#include "tests/support/process.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace governor::testing {
namespace {

using Clock = std::chrono::steady_clock;

// argv and envp as the C arrays exec wants, built before fork: after fork in a threaded
// process the child may only call async-signal-safe functions, so no allocation there.
struct ExecArgs {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecArgs makeExecArgs(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env) {
  ExecArgs a;
  a.argv_storage = argv;
  std::map<std::string, std::string> merged;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : env) merged[k] = v;
  for (const auto& [k, v] : merged) a.env_storage.push_back(k + "=" + v);
  for (auto& s : a.argv_storage) a.argv.push_back(s.data());
  a.argv.push_back(nullptr);
  for (auto& s : a.env_storage) a.envp.push_back(s.data());
  a.envp.push_back(nullptr);
  return a;
}

int decodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Child side after fork: only async-signal-safe calls. Reports exec failure's errno on
// `err_fd` (close-on-exec, so the parent reads EOF when exec succeeds).
[[noreturn]] void execChild(const ExecArgs& args, int err_fd) {
  setpgid(0, 0);
  // The parent may block signals (runCommand blocks SIGPIPE); the child starts clean.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvpe(args.argv[0], args.argv.data(), args.envp.data());
  int e = errno;
  ssize_t ignored = write(err_fd, &e, sizeof e);
  (void)ignored;
  _exit(127);
}

// Reads the exec-failure errno from the close-on-exec pipe; 0 when exec succeeded.
int readExecErrno(int fd) {
  int e = 0;
  ssize_t n;
  do {
    n = read(fd, &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof e) ? e : 0;
}

bool makePipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0; }

}  // namespace

int freeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = -1;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

CommandResult runCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::map<std::string, std::string>& env,
                         const std::string& stdin_data) {
  CommandResult result;
  if (argv.empty()) {
    result.exit_code = 127;
    result.err = "runCommand: empty argv";
    return result;
  }
  ExecArgs args = makeExecArgs(argv, env);
  int in[2], out[2], err[2], status_pipe[2];
  if (!makePipe(in)) {
    result.exit_code = 127;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;
  }
  if (!makePipe(out) || !makePipe(err) || !makePipe(status_pipe)) {
    result.exit_code = 127;
    result.err = std::string("pipe: ") + std::strerror(errno);
    return result;  // Leaks a few descriptors in a failing test binary; not worth more code.
  }

  // A child that exits before reading all of stdin must not kill us with SIGPIPE: block it in
  // this thread, and swallow a pending one before restoring the mask.
  sigset_t pipe_set, old_mask;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);

  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execChild(args, status_pipe[1]);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  close(status_pipe[1]);
  if (pid < 0) {
    result.exit_code = 127;
    result.err = std::string("fork: ") + std::strerror(errno);
    close(in[1]);
    close(out[0]);
    close(err[0]);
    close(status_pipe[0]);
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    return result;
  }
  setpgid(pid, pid);  // Also in the child: whichever runs first, the group exists before kill.
  int exec_errno = readExecErrno(status_pipe[0]);
  close(status_pipe[0]);

  fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0], err_fd = err[0];
  const auto deadline = Clock::now() + timeout;
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3];
    int n = 0;
    int out_idx = -1, err_idx = -1, in_idx = -1;
    if (out_fd >= 0) {
      out_idx = n;
      fds[n++] = {out_fd, POLLIN, 0};
    }
    if (err_fd >= 0) {
      err_idx = n;
      fds[n++] = {err_fd, POLLIN, 0};
    }
    if (in_fd >= 0) {
      in_idx = n;
      fds[n++] = {in_fd, POLLOUT, 0};
    }
    int rc =
        poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (rc < 0) {
      if (errno == EINTR) continue;
      break;
    }
    auto drain = [&](int idx, int& fd, std::string& sink) {
      if (idx < 0 || fds[idx].revents == 0) return;
      ssize_t r = read(fd, buf, sizeof buf);
      if (r > 0) {
        sink.append(buf, static_cast<size_t>(r));
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(fd);
        fd = -1;
      }
    };
    drain(out_idx, out_fd, result.out);
    drain(err_idx, err_fd, result.err);
    if (in_idx >= 0 && fds[in_idx].revents != 0) {
      ssize_t w = write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if ((w < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);

  int status = 0;
  if (result.timed_out) {
    // The child is not reaped yet, so its group id is still ours to signal.
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
  } else {
    // Output closed: the process has exited or is about to; wait for it within the deadline.
    while (true) {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) break;
      if (Clock::now() >= deadline) {
        result.timed_out = true;
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  result.exit_code = decodeWaitStatus(status);
  if (exec_errno != 0) {
    result.exit_code = 127;
    result.err = "exec " + argv[0] + ": " + std::strerror(exec_errno);
  }

  timespec zero{0, 0};
  while (sigtimedwait(&pipe_set, nullptr, &zero) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  return result;
}

bool waitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
               std::chrono::milliseconds interval) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    auto now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(interval, deadline - now));
  }
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/governor-test-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::perror("TempDir: mkdtemp");
    std::abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(const std::string& name) const { return path_ + "/" + name; }

Result<std::unique_ptr<Subprocess>> Subprocess::start(
    const std::vector<std::string>& argv, const std::string& log_path,
    const std::map<std::string, std::string>& env) {
  if (argv.empty()) return invalidArgument("Subprocess::start: empty argv");
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return unavailable("open " + log_path + ": " + std::strerror(errno));
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int status_pipe[2];
  if (null_fd < 0 || !makePipe(status_pipe)) {
    int e = errno;
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return unavailable(std::string("Subprocess::start: ") + std::strerror(e));
  }
  ExecArgs args = makeExecArgs(argv, env);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execChild(args, status_pipe[1]);
  }
  int fork_errno = errno;
  close(log_fd);
  close(null_fd);
  close(status_pipe[1]);
  if (pid < 0) {
    close(status_pipe[0]);
    return unavailable(std::string("fork: ") + std::strerror(fork_errno));
  }
  setpgid(pid, pid);
  int exec_errno = readExecErrno(status_pipe[0]);
  close(status_pipe[0]);
  std::unique_ptr<Subprocess> p(new Subprocess(pid, log_path));
  if (exec_errno != 0) {
    p->reap();
    return unavailable("exec " + argv[0] + ": " + std::strerror(exec_errno));
  }
  return p;
}

Subprocess::~Subprocess() { stop(); }

bool Subprocess::exitedUnreaped() {
  if (exit_code_) return true;
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;  // Not our child any more: treat as gone.
  }
  return info.si_pid == pid_;
}

void Subprocess::reap() {
  if (exit_code_) return;
  int status = 0;
  pid_t w;
  do {
    w = waitpid(pid_, &status, 0);
  } while (w < 0 && errno == EINTR);
  exit_code_ = w == pid_ ? decodeWaitStatus(status) : -1;
}

bool Subprocess::running() {
  if (exit_code_) return false;
  if (!exitedUnreaped()) return true;
  reap();
  return false;
}

void Subprocess::signal(int sig) {
  if (!exit_code_) kill(-pid_, sig);
}

std::optional<int> Subprocess::waitExit(std::chrono::milliseconds timeout) {
  bool exited =
      waitUntil([this] { return exitedUnreaped(); }, timeout, std::chrono::milliseconds(10));
  if (!exited) return std::nullopt;
  reap();
  return exit_code_;
}

void Subprocess::stop() {
  if (exit_code_) return;
  signal(SIGTERM);
  bool exited = waitUntil([this] { return exitedUnreaped(); }, std::chrono::seconds(5),
                          std::chrono::milliseconds(10));
  // Exited or not, the unreaped leader still holds the group id: kill the group so that no
  // child of it outlives the test, then reap.
  kill(-pid_, SIGKILL);
  (void)exited;
  reap();
}

std::string Subprocess::logTail(size_t bytes) const { return readFileTail(log_path_, bytes); }

std::string readFileTail(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  size_t start = size > bytes ? size - bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string data(size - start, '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<size_t>(in.gcount()));
  return data;
}

}  // namespace governor::testing
