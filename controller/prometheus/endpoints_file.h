#pragma once

// The operator's --prometheus-endpoints file: the Prometheus endpoints a ScalingPolicy may
// name in `spec.metrics[].prometheus.address`, each with its own credentials, TLS and headers
// (typically a mounted ConfigMap; the credential files it names are mounted Secrets):
//
//   endpoints:
//     - url: https://thanos.example/prometheus      # exactly the address policies name
//       timeout: 30s                                # default 10s
//       bearerTokenFile: /var/run/secrets/thanos/token
//       basicAuth: {username: governor, passwordFile: /var/run/secrets/thanos/password}
//       caFile: /etc/governor/thanos-ca.pem
//       insecureSkipVerify: false
//       headers: {X-Scope-OrgID: tenant-a}
//   allowUnlistedAddresses: true   # default true
//
// Credentials are never written inline: `bearerToken:` and `basicAuth.password:` are refused
// with a message pointing at the *File field, and their values are never echoed; nor is a
// string where a mapping or list belongs (`basicAuth: user:password`), nor a URL with user
// info. An address
// selects an endpoint by exact string ("https://p:9090" and "https://p:9090/" differ), as
// PrometheusMetricsSource does.
//
// Thread-safety: pure functions (loadEndpointsConfig reads one file).

#include <map>
#include <string>
#include <string_view>

#include "base/status.h"
#include "controller/prometheus/endpoint.h"

namespace governor::controller::prom {

struct EndpointsConfig {
  // The configured endpoints by their URL (PrometheusEndpoint::url), each valid per
  // validateEndpoint(). Default: none.
  std::map<std::string, PrometheusEndpoint> by_address{};
  // MetricsSourceOptions::allow_unlisted_addresses: whether a policy may name an address
  // that is not listed (queried without credentials). Default: true.
  bool allow_unlisted_addresses = true;
};

// Parses the file's text; `source` names it in messages (its path). An empty document is the
// defaults (no endpoints, unlisted addresses allowed).
// Returns the configuration, or InvalidArgument listing every problem, one per line, as
//   <source>:<line>: <field path>: <message>
// e.g. "endpoints.yaml:4: endpoints[0].timeout: \"10x\": unknown unit \"x\" ...":
//   not valid YAML, more than one document, not a mapping, an unknown field, a field of the
//   wrong type, a missing or duplicate url, a timeout that is not a positive duration,
//   basicAuth without username or passwordFile, basicAuth together with bearerTokenFile, an
//   inline credential (bearerToken, basicAuth.password), and whatever validateEndpoint()
//   refuses (a bad url, an Authorization header, a bad header name or value), its message
//   placed under the entry's path.
Result<EndpointsConfig> parseEndpointsConfig(std::string_view yaml_text, std::string_view source);

// Reads the file at `path` (at most 1 MiB: a ConfigMap cannot hold more) and parses it with
// parseEndpointsConfig(text, path). Errors: InvalidArgument "cannot read <path>: <why>" or
// "<path>: larger than 1 MiB", or the parser's. Does not read the credential files it names.
Result<EndpointsConfig> loadEndpointsConfig(const std::string& path);

}  // namespace governor::controller::prom
