#include "tests/support/apiserver.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace governor::testing {
namespace {

// Set by tests/support/CMakeLists.txt.
#if !defined(GOVERNOR_APISERVER_SCRIPT) || !defined(GOVERNOR_APISERVER_PYCACHE)
#error "GOVERNOR_APISERVER_SCRIPT and GOVERNOR_APISERVER_PYCACHE must be defined"
#endif

constexpr auto kReadyTimeout = std::chrono::seconds(20);
constexpr int kStartAttempts = 3;

std::string pythonInterpreter() {
  const char* p = std::getenv("GOVERNOR_PYTHON");
  return p != nullptr && *p != '\0' ? p : "/usr/bin/python3";
}

bool writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

std::string formatSeconds(std::chrono::milliseconds d) {
  std::ostringstream s;
  s << static_cast<double>(d.count()) / 1000.0;
  return s.str();
}

// A CA and a server certificate for IP:127.0.0.1 signed by it, with the openssl command.
// EC keys: generated in milliseconds, and both kubectl (Go) and Python accept them.
Status generateCertificates(const TempDir& dir) {
  const std::string ext = dir.file("server-ext.cnf");
  if (!writeFile(ext,
                 "basicConstraints=CA:FALSE\n"
                 "keyUsage=critical,digitalSignature,keyEncipherment\n"
                 "extendedKeyUsage=serverAuth\n"
                 "subjectAltName=IP:127.0.0.1,DNS:localhost\n")) {
    return internalError("cannot write " + ext);
  }
  const std::vector<std::vector<std::string>> steps = {
      {"openssl",
       "req",
       "-x509",
       "-newkey",
       "ec",
       "-pkeyopt",
       "ec_paramgen_curve:prime256v1",
       "-nodes",
       "-keyout",
       dir.file("ca.key"),
       "-out",
       dir.file("ca.crt"),
       "-days",
       "2",
       "-subj",
       "/CN=governor-test-ca",
       "-addext",
       "basicConstraints=critical,CA:TRUE",
       "-addext",
       "keyUsage=critical,keyCertSign,cRLSign"},
      {"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
       "-keyout", dir.file("server.key"), "-out", dir.file("server.csr"), "-subj", "/CN=127.0.0.1"},
      {"openssl", "x509", "-req", "-in", dir.file("server.csr"), "-CA", dir.file("ca.crt"),
       "-CAkey", dir.file("ca.key"), "-CAcreateserial", "-out", dir.file("server.crt"), "-days",
       "2", "-extfile", ext},
  };
  for (const auto& argv : steps) {
    CommandResult r = runCommand(argv, std::chrono::seconds(30));
    if (r.exit_code != 0) {
      return internalError("openssl " + argv[1] + " failed (exit " + std::to_string(r.exit_code) +
                           "): " + r.err);
    }
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<TestApiServer>> TestApiServer::start(TestApiServerOptions options) {
  std::unique_ptr<TestApiServer> server(new TestApiServer());
  server->options_ = std::move(options);
  server->dir_ = std::make_unique<TempDir>();
  const TempDir& dir = *server->dir_;

  const std::string token_file = dir.file("tokens.csv");
  std::string tokens = std::string(kAdminToken) + ",admin,uid-admin,\"system:masters\"\n" +
                       kOperatorToken + "," + kOperatorUser + ",uid-operator\n" + kOtherToken +
                       ",other,uid-other\n";
  if (!writeFile(token_file, tokens)) return internalError("cannot write " + token_file);
  if (server->options_.tls) {
    Status s = generateCertificates(dir);
    if (!s.ok()) return s;
  }

  std::string last_error;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    server->port_ = freeLoopbackPort();
    if (server->port_ < 0) return unavailable("no free loopback port");
    std::vector<std::string> argv = {pythonInterpreter(),
                                     GOVERNOR_APISERVER_SCRIPT,
                                     "--bind",
                                     "127.0.0.1",
                                     "--port",
                                     std::to_string(server->port_),
                                     "--token-file",
                                     token_file,
                                     "--pod-ready-delay",
                                     formatSeconds(server->options_.pod_ready_delay),
                                     "--audit-log",
                                     dir.file("audit.log")};
    if (server->options_.tls) {
      argv.insert(argv.end(),
                  {"--tls-cert", dir.file("server.crt"), "--tls-key", dir.file("server.key")});
    } else {
      // client-go (so kubectl) sends no credentials over plain HTTP: requests without an
      // Authorization header run as admin. An invalid token is still 401.
      argv.insert(argv.end(), {"--anonymous-user", "admin"});
    }
    argv.emplace_back("--verbose");
    argv.insert(argv.end(), server->options_.extra_args.begin(), server->options_.extra_args.end());
    // Compiled bytecode goes to the build tree, never next to the sources.
    auto process = Subprocess::start(argv, dir.file("apiserver.log"),
                                     {{"PYTHONPYCACHEPREFIX", GOVERNOR_APISERVER_PYCACHE}});
    if (!process.ok()) return process.status();
    server->process_ = std::move(process).value();

    std::vector<std::string> probe = {"curl", "-s",           "-o",         "/dev/null",
                                      "-w",   "%{http_code}", "--max-time", "2"};
    if (server->options_.tls) probe.insert(probe.end(), {"--cacert", server->caFile()});
    probe.push_back(server->url() + "/readyz");
    bool exited = false;
    bool ready = waitUntil(
        [&] {
          if (!server->process_->running()) {
            exited = true;
            return true;
          }
          CommandResult r = runCommand(probe, std::chrono::seconds(5));
          return r.exit_code == 0 && r.out == "200";
        },
        kReadyTimeout, std::chrono::milliseconds(50));
    if (ready && !exited) {
      server->kubeconfig_path_ = dir.file("kubeconfig");
      server->writeKubeconfigTo(kAdminToken, server->kubeconfig_path_);
      return server;
    }
    last_error = server->logTail();
    server->process_->stop();
    // Only a lost port race is worth another attempt.
    if (!exited || last_error.find("Address already in use") == std::string::npos) break;
  }
  return unavailable("test API server did not get ready on 127.0.0.1:" +
                     std::to_string(server->port_) + "; log tail:\n" + last_error);
}

TestApiServer::~TestApiServer() { stop(); }

std::string TestApiServer::url() const {
  return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string TestApiServer::caFile() const { return options_.tls ? dir_->file("ca.crt") : ""; }

void TestApiServer::writeKubeconfigTo(const std::string& token, const std::string& path) const {
  std::string cluster = "    server: " + url() + "\n";
  if (options_.tls) cluster += "    certificate-authority: " + caFile() + "\n";
  writeFile(path,
            "apiVersion: v1\n"
            "kind: Config\n"
            "clusters:\n"
            "- name: governor-test\n"
            "  cluster:\n" +
                cluster +
                "users:\n"
                "- name: governor-test-user\n"
                "  user:\n"
                "    token: " +
                token +
                "\n"
                "contexts:\n"
                "- name: governor-test\n"
                "  context:\n"
                "    cluster: governor-test\n"
                "    user: governor-test-user\n"
                "    namespace: default\n"
                "current-context: governor-test\n");
}

std::string TestApiServer::writeKubeconfig(const std::string& user_token,
                                           const std::string& file_name) const {
  std::string path = dir_->file(file_name);
  writeKubeconfigTo(user_token, path);
  return path;
}

CommandResult TestApiServer::kubectl(const std::vector<std::string>& args,
                                     const std::string& stdin_data) const {
  std::vector<std::string> argv = {"kubectl", "--kubeconfig", kubeconfig_path_, "--cache-dir",
                                   dir_->file("kube-cache")};
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv, std::chrono::seconds(60), {}, stdin_data);
}

Status TestApiServer::applyAndWaitServed(const std::string& path, const std::string& resource,
                                         std::chrono::milliseconds timeout) const {
  const CommandResult applied = kubectl({"apply", "-f", path});
  if (applied.exit_code != 0) {
    return Status(StatusCode::kFailedPrecondition,
                  "kubectl apply -f " + path + ": exit " + std::to_string(applied.exit_code) +
                      "\nstdout: " + applied.out + "\nstderr: " + applied.err);
  }
  const bool served = waitUntil(
      [&] {
        return kubectl({"get", resource, "-A"}).exit_code == 0;
      },
      timeout, std::chrono::milliseconds(100));
  if (!served) {
    return Status(StatusCode::kDeadlineExceeded,
                  resource + " was not served after applying " + path + "\n" + logTail());
  }
  return Status();
}

Result<std::string> TestApiServer::control(const std::string& method, const std::string& path,
                                           const std::string& body) {
  std::vector<std::string> argv = {
      "curl",       "-sS",
      "--max-time", "30",
      "-X",         method,
      "-H",         std::string("Authorization: Bearer ") + kAdminToken,
      "-H",         "Content-Type: application/json",
      "-w",         "\n%{http_code}"};
  if (options_.tls) argv.insert(argv.end(), {"--cacert", caFile()});
  if (!body.empty()) argv.insert(argv.end(), {"--data-binary", "@-"});
  argv.push_back(url() + path);
  CommandResult r = runCommand(argv, std::chrono::seconds(35), {}, body);
  if (r.exit_code != 0) {
    return unavailable(method + " " + path + ": curl exit " + std::to_string(r.exit_code) + ": " +
                       r.err);
  }
  auto nl = r.out.rfind('\n');
  std::string code = nl == std::string::npos ? r.out : r.out.substr(nl + 1);
  std::string response = nl == std::string::npos ? "" : r.out.substr(0, nl);
  if (code.size() == 3 && code[0] == '2') return response;
  StatusCode sc = StatusCode::kInternal;
  if (code == "404") sc = StatusCode::kNotFound;
  if (code == "400" || code == "422") sc = StatusCode::kInvalidArgument;
  if (code == "401" || code == "403") sc = StatusCode::kPermissionDenied;
  return Status(sc, method + " " + path + ": HTTP " + code + ": " + response);
}

std::string TestApiServer::logTail() const {
  return readFileTail(dir_->file("apiserver.log"), 4000);
}

void TestApiServer::stop() {
  if (process_) process_->stop();
}

}  // namespace governor::testing
