#pragma once

// Where the Kubernetes client connects and how it authenticates, from a kubeconfig file (as
// kubectl reads it) or from the service account of the pod it runs in.
//
// Resolution, as kubectl and client-go do it (loadClientConfig):
//   1. --kubeconfig PATH (must exist);
//   2. else $KUBECONFIG, a colon-separated list of files merged as kubectl merges them:
//      missing files are skipped; for clusters, users and contexts the first file that
//      defines a name wins (entries are never merged field by field); the first file that
//      sets current-context wins;
//   3. else in-cluster: $KUBERNETES_SERVICE_HOST and _PORT plus the service account's token,
//      ca.crt and namespace under /var/run/secrets/kubernetes.io/serviceaccount/;
//   4. else ~/.kube/config.
//
// From a kubeconfig: the context (explicit, else current-context), its cluster's server,
// certificate-authority(-data) and insecure-skip-tls-verify (honoured only when true), its
// user's token, tokenFile, client-certificate(-data) and client-key(-data), and the
// context's namespace. File paths are relative to the directory of the kubeconfig that
// names them; *-data fields are base64. exec and auth-provider plugins, basic auth,
// impersonation, proxy-url and tls-server-name are not supported: InvalidArgument saying so.
// Errors name the file and the field:
//   `/home/me/.kube/config: contexts[0].context.cluster: cluster "x" not found`.
//
// Thread-safety: functions only read the files and environment they are given.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace governor::controller::kube {

struct ClientConfig {
  // "https://10.96.0.1:443". REQUIRES: http:// or https://.
  std::string server{};
  // PEM certificates trusted to sign the server's certificate. Default: "" (the system's
  // trust store).
  std::string ca_data{};
  // PEM client certificate (chain) and its private key, for mutual TLS. Default: "".
  std::string client_cert_data{};
  std::string client_key_data{};
  // A bearer token. Default: "".
  std::string token{};
  // A file holding the bearer token, re-read when it may have changed (projected
  // service-account tokens rotate). Wins over `token`. Default: "".
  std::string token_file{};
  // Skip verification of the server's certificate. Default: false.
  bool insecure_skip_tls_verify = false;
  // The namespace of the context or of the pod's service account; "" when neither says.
  std::string namespace_{};
  // How long a request may wait for the server (each read of a response, for watches).
  // Default: 30 s.
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // Extra headers sent with every request. Default: none.
  std::map<std::string, std::string> headers{};
  // Where this came from, for messages: "in-cluster", "/root/.kube/config (context kind)".
  std::string origin{};
};

// Reads an environment variable; nullopt when unset. Injected so tests control it.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment.
std::optional<std::string> processEnv(const std::string& name);

struct InClusterOptions {
  // The service account's files: token, ca.crt, namespace.
  // Default: /var/run/secrets/kubernetes.io/serviceaccount.
  std::string root = "/var/run/secrets/kubernetes.io/serviceaccount";
  // Default: the process environment.
  EnvLookup env = processEnv;
};

// The configuration of a pod's service account: server https://$KUBERNETES_SERVICE_HOST:
// $KUBERNETES_SERVICE_PORT (an IPv6 host in brackets), token_file root/token, ca_data from
// root/ca.crt, namespace_ from root/namespace (optional). NotFound when the two variables are
// not set (not running in a cluster); InvalidArgument, naming the file, when the token or CA
// cannot be read or is empty.
Result<ClientConfig> inClusterConfig(const InClusterOptions& options = {});

// Reads and merges the kubeconfig files `paths` (see the file comment) and resolves
// `context` ("" = current-context). With `skip_missing`, files that do not exist are
// skipped (as in $KUBECONFIG) and NotFound is returned when none exists; otherwise a missing
// file is InvalidArgument. InvalidArgument, naming file and field, for anything malformed,
// unsupported or missing (the context, its cluster or user, a referenced file).
Result<ClientConfig> loadKubeconfig(const std::vector<std::string>& paths,
                                    const std::string& context = "", bool skip_missing = false);

struct LoadOptions {
  // --kubeconfig. Default: "" (search as in the file comment).
  std::string kubeconfig{};
  // --context. Default: "" (current-context).
  std::string context{};
  // $HOME for ~/.kube/config. Default: "" (read from `in_cluster.env`).
  std::string home{};
  // The service-account root and the environment (KUBECONFIG, HOME, KUBERNETES_SERVICE_*).
  InClusterOptions in_cluster{};
};

// Finds the configuration as kubectl would (see the file comment). Errors: those of
// loadKubeconfig/inClusterConfig for the source chosen; NotFound when there is none at all.
Result<ClientConfig> loadClientConfig(const LoadOptions& options = {});

// Decodes standard base64 (whitespace ignored, padding optional). InvalidArgument on any
// other character or a truncated final group.
Result<std::string> decodeBase64(std::string_view text);

}  // namespace governor::controller::kube
