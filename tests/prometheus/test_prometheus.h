#pragma once

// A real Prometheus server and the test exporter (tests/prometheus/exporter.py) as fixtures,
// each a process of its own on a free 127.0.0.1 port, stopped (only it) by its destructor.
//
//   auto exporter = TestExporter::start();
//   ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
//   ASSERT_TRUE((*exporter)->setSeries(R"([{"name":"x","labels":{"pod":"a"},"value":1.5}])").ok());
//   auto prom = TestPrometheus::start({.targets = {(*exporter)->target()}});
//   ASSERT_TRUE(prom.ok()) << prom.status().toString();
//   ASSERT_TRUE((*prom)->waitForSeries("x", std::chrono::seconds(20)).ok());
//   // query (*prom)->url() with the client under test
//
// The fixtures talk HTTP with curl (as the test API server's fixture does), not with the
// client under test, so a bug in the client cannot hide behind its own fixture.
// Needs /usr/bin/prometheus (or $GOVERNOR_PROMETHEUS), /usr/bin/promtool (or
// $GOVERNOR_PROMTOOL) for openmetrics_history, /usr/bin/python3 (or $GOVERNOR_PYTHON) and
// curl.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/support/process.h"

namespace governor::testing {

struct TestPrometheusOptions {
  // host:port pairs scraped as job "test" (honor_labels: the exporter's own labels win).
  // Default: none (Prometheus then only answers queries on constant expressions).
  std::vector<std::string> targets{};
  // Default: 1s (fast enough that tests wait seconds, not minutes, for data).
  std::chrono::milliseconds scrape_interval{1000};
  // Default: 1s.
  std::chrono::milliseconds evaluation_interval{1000};
  // The contents of a --web.config.file (tls_server_config, basic_auth_users); "" for none.
  // With tls_server_config the server speaks HTTPS and url() says so. Default: "".
  std::string web_config{};
  // Extra curl arguments for the fixture's own requests (readiness, waitForSeries), e.g.
  // {"-u", "user:password"} when web_config asks for basic auth. Default: none.
  std::vector<std::string> curl_args{};
  // Appended to Prometheus's command line. Default: none.
  std::vector<std::string> extra_args{};
  // History to load before the server starts: OpenMetrics text (timestamps in seconds,
  // ending with "# EOF") turned into TSDB blocks with `promtool tsdb create-blocks-from
  // openmetrics`, so a test can give Prometheus days of past samples. Default: "" (none).
  std::string openmetrics_history{};
};

// One Prometheus process with its own temporary directory (configuration, TSDB, log).
// Not thread-safe: one test drives it.
class TestPrometheus {
 public:
  // Writes prometheus.yml, starts Prometheus on a free loopback port and waits (at most
  // 30 s) until /-/ready answers 200. Retries with another port (up to 3 times) when the
  // port was taken meanwhile. Returns the running server; Unavailable when the binary is
  // missing, exits, or never gets ready (the message has the tail of its log).
  static Result<std::unique_ptr<TestPrometheus>> start(TestPrometheusOptions options = {});

  ~TestPrometheus();
  TestPrometheus(const TestPrometheus&) = delete;
  TestPrometheus& operator=(const TestPrometheus&) = delete;

  // "http://127.0.0.1:PORT", or https:// with a TLS web config.
  std::string url() const;
  int port() const { return port_; }
  // The temporary directory (for tests that put files next to the server's).
  const TempDir& dir() const { return *dir_; }

  // GET url() + `path_and_query` with curl. Returns the body on 2xx; Unavailable when
  // nothing answers; FailedPrecondition with the HTTP code and body otherwise.
  Result<std::string> get(const std::string& path_and_query) const;

  // Asks Prometheus (an instant query of `query`, now) every 200 ms until the result is not
  // empty, for at most `timeout`. Returns OK once it is; DeadlineExceeded with the last
  // answer otherwise.
  Status waitForSeries(const std::string& query, std::chrono::milliseconds timeout) const;

  // The value of `query` now: a scalar, or a vector of exactly one series. Errors: the
  // query's, or FailedPrecondition when the result has another shape.
  Result<double> queryValue(const std::string& query) const;

  // Stops the process (SIGTERM, then SIGKILL after 5 s). Idempotent.
  void stop();
  bool running() { return process_ && process_->running(); }

  std::string logTail() const;

 private:
  TestPrometheus() = default;

  TestPrometheusOptions options_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = -1;
};

// Options of the exporter's closed-loop mode (see exporter.py): the per-pod load a demand
// curve puts on a Deployment's ready pods, read from a (test) API server.
struct ClosedLoopOptions {
  std::string apiserver_url{};
  std::string token{};
  std::string ca_file{};  // For https; "" with insecure or http.
  bool insecure = false;
  std::string namespace_ = "default";
  std::string deployment{};
  std::string demand{};  // Inline JSON or a file: [[t_seconds, rps], ...].
  double capacity_per_pod = 100;
  double time_scale = 1;
};

// The test exporter process. Not thread-safe: one test drives it.
class TestExporter {
 public:
  // Starts exporter.py (static mode, or closed-loop with `closed_loop`) on a port it picks
  // itself and reports through a file, so there is no race for the port; waits (at most
  // 20 s) until /-/healthy answers. Returns the running exporter; Unavailable otherwise.
  static Result<std::unique_ptr<TestExporter>> start(
      const ClosedLoopOptions* closed_loop = nullptr);

  ~TestExporter();
  TestExporter(const TestExporter&) = delete;
  TestExporter& operator=(const TestExporter&) = delete;

  // "127.0.0.1:PORT", for TestPrometheusOptions::targets.
  std::string target() const;
  std::string url() const { return "http://" + target(); }

  // PUT /series with `json` (replaces every series). Returns OK on 204; otherwise the
  // exporter's message (InvalidArgument on 400).
  Status setSeries(const std::string& json);
  // Closed-loop mode: PUT /demand with `json` (as ClosedLoopOptions::demand, inline), whose
  // clock starts now. Returns OK on 204; otherwise the exporter's message.
  Status setDemand(const std::string& json);
  // The exposition text now (GET /metrics).
  Result<std::string> metrics() const;

  void stop();
  std::string logTail() const;

 private:
  TestExporter() = default;

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Subprocess> process_;
  int port_ = -1;
};

// The path of tests/prometheus/exporter.py.
std::string exporterScript();

}  // namespace governor::testing
