#pragma once

// The test API server (tests/apiserver/apiserver.py) as a fixture: a small process that
// answers like kube-apiserver for what Governor touches, on a free loopback port.
//
//   TestApiServerOptions options;
//   options.pod_ready_delay = std::chrono::milliseconds(200);
//   auto server = TestApiServer::start(options);
//   ASSERT_TRUE(server.ok()) << server.status().toString();
//   CommandResult r = (*server)->kubectl({"apply", "-f", "-"}, deployment_yaml);
//   ASSERT_EQ(r.exit_code, 0) << r.err;
//   auto body = (*server)->control("POST", "/_test/faults", R"({"code":500,"count":1})");
//   // A Kubernetes client under test points at (*server)->url() with the bearer token
//   // kAdminToken, or uses (*server)->kubeconfigPath().
//
// Over plain HTTP kubectl sends no token (client-go only sends credentials over TLS), so
// without tls the server runs requests that carry no Authorization header as "admin"; a wrong
// token is still 401. With tls every request needs a valid token.
//
// Tokens the server accepts (its --token-file): kAdminToken for user "admin",
// kOperatorToken for user kOperatorUser (the operator's ServiceAccount in manifests/), kOtherToken
// for user "other". More can be added at run time with control("POST", "/_test/tokens",
// R"({"token":"t","user":"u"})").
//
// Needs /usr/bin/python3 (or $GOVERNOR_PYTHON), curl (for control() and the readiness probe)
// and, with tls, the openssl command. kubectl() runs the kubectl found in PATH, with its
// discovery cache in the server's own temporary directory.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/support/process.h"

namespace governor::testing {

inline constexpr char kAdminToken[] = "admin-token";
inline constexpr char kOperatorToken[] = "operator-token";
inline constexpr char kOperatorUser[] = "system:serviceaccount:governor-system:governor-operator";
inline constexpr char kOtherToken[] = "other-token";

struct TestApiServerOptions {
  // How long a simulated pod takes to become Ready. Default: 1 s.
  std::chrono::milliseconds pod_ready_delay{1000};
  // Serve HTTPS with a fresh self-signed CA and a server certificate for IP:127.0.0.1.
  // Default: false.
  bool tls = false;
  // Appended to the server's command line (e.g. {"--bookmark-interval", "0.2"}).
  // Default: none.
  std::vector<std::string> extra_args;
};

// One running server process and its temporary directory (token file, kubeconfigs, logs,
// certificates, kubectl's cache). The destructor stops the process and removes the directory.
// Thread-safe for concurrent const calls (kubectl(), url()); start/stop from one thread.
class TestApiServer {
 public:
  // Starts the server on a free port and waits (at most ~20 s) until /readyz answers, then
  // writes the admin kubeconfig. Retries a few times if the port was taken meanwhile.
  // Returns the running server; Unavailable when the process cannot start or never gets
  // ready (the message has the tail of its log); Internal when the certificates cannot be
  // generated.
  static Result<std::unique_ptr<TestApiServer>> start(TestApiServerOptions options = {});

  ~TestApiServer();
  TestApiServer(const TestApiServer&) = delete;
  TestApiServer& operator=(const TestApiServer&) = delete;

  // "http://127.0.0.1:PORT", or https:// when tls.
  std::string url() const;
  int port() const { return port_; }

  // A kubeconfig with one cluster, user "admin" (bearer token kAdminToken) and context,
  // current-context set; with tls, certificate-authority is caFile().
  const std::string& kubeconfigPath() const { return kubeconfig_path_; }

  // The CA certificate (PEM) that signed the server certificate; "" without tls.
  std::string caFile() const;

  // Writes another kubeconfig (in the server's directory, named `file_name`) that
  // authenticates with `user_token`. Returns its path.
  std::string writeKubeconfig(const std::string& user_token, const std::string& file_name) const;

  // Runs `kubectl --kubeconfig <admin kubeconfig> args...` with `stdin_data` on its input,
  // for at most 60 s.
  CommandResult kubectl(const std::vector<std::string>& args,
                        const std::string& stdin_data = "") const;

  // Applies the manifest at `path` (typically a CRD) with kubectl, then waits up to `timeout`
  // until `kubectl get <resource> -A` answers (a CRD's resource is served a moment after it is
  // created). Returns OK; FailedPrecondition with kubectl's output when the apply fails;
  // DeadlineExceeded with the server's log tail when the resource is never served.
  Status applyAndWaitServed(const std::string& path, const std::string& resource,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  // Calls the test-only control API (e.g. "POST", "/_test/faults", "{...}") as admin.
  // Returns the response body on 2xx; Unavailable when the server cannot be reached;
  // otherwise an error whose message has the HTTP code and the body.
  Result<std::string> control(const std::string& method, const std::string& path,
                              const std::string& body = "");

  // The last few KB of the server's log, for failure messages.
  std::string logTail() const;

  // Stops the server process. Idempotent; the directory stays until destruction.
  void stop();

 private:
  TestApiServer() = default;

  // Writes a kubeconfig for `token` to `path`.
  void writeKubeconfigTo(const std::string& token, const std::string& path) const;

  TestApiServerOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = -1;
  std::string kubeconfig_path_;
};

}  // namespace governor::testing
