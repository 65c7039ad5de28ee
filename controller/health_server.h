#pragma once

// The operator's probe endpoints, on `--health-addr`:
//   GET /healthz  200 "ok" while the liveness check passes (the process loop is alive);
//                 500 with the reason otherwise: the kubelet restarts the pod.
//   GET /readyz   200 "ok" once the readiness check passes (caches have synced);
//                 503 with the reason otherwise: no traffic, no rollout progress.
//   anything else 404; a method other than GET or HEAD 405.
//
// Served by civetweb (the HTTP server prometheus-cpp's Exposer runs on, so /metrics and the
// probes share one stack): it binds exactly the address given, reports the port it bound
// (":0" in tests: no race for a free port), and stop() joins its threads.
//
// Also here: the listen-address syntax both endpoints take (OperatorMetrics uses it too).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

struct mg_connection;
struct mg_context;

namespace governor::controller {

// A TCP listen address as the operator's flags take it (controller-runtime's syntax):
// "127.0.0.1:8080", "0.0.0.0:8080", ":8080" (every interface), "localhost:8080"
// (127.0.0.1). Port 0 picks a free port. IPv4 only: the civetweb build serves no IPv6.
struct ListenAddress {
  std::string host;  // An IPv4 literal.
  uint16_t port = 0;
  std::string toString() const { return host + ":" + std::to_string(port); }
};

// The address in `text`. InvalidArgument quoting `text` when it is empty, has no port, a
// port that is not a number in 0..65535, or a host that is not an IPv4 address.
Result<ListenAddress> parseListenAddress(std::string_view text);

// A health check: OK, or the reason it fails (the probe's response body). Called on a server
// thread for each probe: must be thread-safe and quick (no network calls).
using HealthCheck = std::function<Status()>;

// Thread-safety: stop() and the destructor from the owning thread; the checks are called
// from civetweb's threads.
class HealthServer {
 public:
  // Serves the probes on `address` (see parseListenAddress). Returns InvalidArgument for a
  // bad address, Unavailable when it cannot listen there (the message carries the reason,
  // e.g. "cannot bind to 127.0.0.1:8081: 98 (Address already in use)"). An empty check
  // always passes.
  static Result<std::unique_ptr<HealthServer>> start(std::string_view address, HealthCheck liveness,
                                                     HealthCheck readiness);
  // stop().
  ~HealthServer();

  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Stops listening and waits for the probes in flight. Idempotent. Takes up to 2 s once a
  // probe has been served: civetweb's listener polls in 2 s quanta (a compile-time constant
  // of the library); prometheus-cpp's Exposer stops the same way.
  void stop();

  // The port bound (the actual one when the address asked for port 0).
  uint16_t port() const { return port_; }

 private:
  HealthServer(HealthCheck liveness, HealthCheck readiness);
  static int handleRequest(mg_connection* conn);

  const HealthCheck liveness_;
  const HealthCheck readiness_;
  mg_context* context_ = nullptr;
  uint16_t port_ = 0;
};

namespace internal {

// civetweb says why it could not start (port taken, bad address) only through its log
// callback. While a StartErrorCapture lives, messages logged on its thread (civetweb's start
// runs on the caller's) are collected; other messages go to spdlog at debug level.
class StartErrorCapture {
 public:
  StartErrorCapture();
  ~StartErrorCapture();
  StartErrorCapture(const StartErrorCapture&) = delete;
  StartErrorCapture& operator=(const StartErrorCapture&) = delete;

  // The messages collected, joined with "; " ("" when none).
  const std::string& text() const { return text_; }

 private:
  friend int civetwebLogMessage(const mg_connection* conn, const char* message);
  std::string text_;
};

// The log_message callback to give civetweb (see StartErrorCapture). Returns 1: handled.
int civetwebLogMessage(const mg_connection* conn, const char* message);

// Initializes civetweb once per process (thread-safe).
void initCivetweb();

}  // namespace internal
}  // namespace governor::controller
