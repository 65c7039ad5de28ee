#pragma once

// Where a Prometheus HTTP API lives and how to talk to it: Prometheus itself, or anything
// that serves its API (Thanos Query, Mimir / Cortex, VictoriaMetrics).
//
// Credentials come only from files, the way Kubernetes mounts Secrets and projected service
// account tokens, never from a ScalingPolicy: a policy's `prometheus.address` selects an
// endpoint the operator was configured with, and an address the operator does not know gets
// no credentials at all (metrics_source.h). Credential contents never appear in a log line or
// an error message; paths may.
//
// Thread-safety: value types and pure functions.

#include <cstddef>
#include <map>
#include <string>

#include "base/status.h"
#include "base/time.h"

namespace governor::controller::prom {

// Class-type fields are written `{}` so that designated initializers may leave them out
// without GCC 12's -Wmissing-field-initializers.
struct PrometheusEndpoint {
  // The base URL; /api/v1/query is appended to its path, so a prefix works
  // ("https://thanos.example/prometheus"). http or https, no user:password@.
  std::string url{};
  // Bounds one HTTP exchange, and is passed to Prometheus as the evaluation's `timeout`, so
  // a slow query is cancelled there too. Default: 10s.
  Duration timeout{10'000};
  // A file holding a bearer token (e.g. a projected service account token). Read when first
  // needed and again whenever its modification time, size or inode changes, so a rotated
  // token is used without a restart. Default: "" (none).
  std::string bearer_token_file{};
  // HTTP basic auth: the user name, and a file holding the password (re-read on change, as
  // the token). Default: "" (none). Exclusive with bearer_token_file.
  std::string basic_auth_username{};
  std::string basic_auth_password_file{};
  // A PEM file of CA certificates to verify the server with, instead of the system's.
  // Default: "" (the system's trust store).
  std::string ca_file{};
  // Accept any server certificate. For test clusters only. Default: false.
  bool insecure_skip_tls_verify = false;
  // Extra request headers, e.g. {"X-Scope-OrgID": "tenant-a"} for Mimir / Cortex.
  // Authorization is refused here: credentials come from files. Default: none.
  std::map<std::string, std::string> headers{};
  // A query longer than this many bytes (URL-encoded) is sent as a POST form instead of a
  // GET, which proxies may truncate or refuse beyond a few KiB; Prometheus accepts both.
  // Default: 2048.
  size_t post_above_bytes = 2048;
};

// Checks `endpoint`. Returns OK, or InvalidArgument naming the field:
//   url: empty, not http(s)://host..., or carrying user info or a query
//   timeout: not positive
//   basic_auth_username without basic_auth_password_file, or the reverse
//   bearer_token_file together with basic auth
//   headers: an Authorization header, a name that is not a token, a value with CR or LF
// Does not read the credential files: they may appear later (a Secret mounted after
// start-up); a missing one fails the queries, with its path in the message.
Status validateEndpoint(const PrometheusEndpoint& endpoint);

}  // namespace governor::controller::prom
