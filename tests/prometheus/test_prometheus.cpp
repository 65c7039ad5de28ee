#include "tests/prometheus/test_prometheus.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace governor::testing {
namespace {

// Set by tests/prometheus/CMakeLists.txt.
#ifndef GOVERNOR_EXPORTER_SCRIPT
#error "GOVERNOR_EXPORTER_SCRIPT must point at tests/prometheus/exporter.py"
#endif

constexpr auto kPrometheusReadyTimeout = std::chrono::seconds(30);
constexpr auto kExporterReadyTimeout = std::chrono::seconds(20);
constexpr int kStartAttempts = 3;

std::string fromEnv(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

bool writeFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return static_cast<bool>(out);
}

// Prometheus durations: whole milliseconds are always accepted ("1500ms").
std::string promDuration(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

struct HttpReply {
  int code = 0;  // 0: no HTTP answer (curl failed: connection refused, timeout...).
  std::string body;
  std::string error;  // curl's message when code is 0.
};

// One HTTP exchange with curl: `extra` (method, data, auth...) then the URL.
HttpReply curl(const std::vector<std::string>& extra, const std::string& url,
               const std::string& stdin_data = "") {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(url);
  CommandResult r = runCommand(argv, std::chrono::seconds(10), {}, stdin_data);
  HttpReply reply;
  if (r.exit_code != 0) {
    reply.error = "curl exit " + std::to_string(r.exit_code) + ": " + r.err;
    return reply;
  }
  const auto nl = r.out.rfind('\n');
  const std::string code = nl == std::string::npos ? r.out : r.out.substr(nl + 1);
  reply.body = nl == std::string::npos ? "" : r.out.substr(0, nl);
  reply.code = std::atoi(code.c_str());
  return reply;
}

Result<std::string> bodyOf(const HttpReply& reply, const std::string& what) {
  if (reply.code == 0) return unavailable(what + ": " + reply.error);
  if (reply.code >= 200 && reply.code < 300) return reply.body;
  return failedPrecondition(what + ": HTTP " + std::to_string(reply.code) + ": " + reply.body);
}

}  // namespace

std::string exporterScript() { return GOVERNOR_EXPORTER_SCRIPT; }

// --- TestPrometheus ---

Result<std::unique_ptr<TestPrometheus>> TestPrometheus::start(TestPrometheusOptions options) {
  std::unique_ptr<TestPrometheus> p(new TestPrometheus());
  p->options_ = std::move(options);
  p->dir_ = std::make_unique<TempDir>();
  const TempDir& dir = *p->dir_;
  const TestPrometheusOptions& o = p->options_;

  std::ostringstream config;
  config << "global:\n"
         << "  scrape_interval: " << promDuration(o.scrape_interval) << "\n"
         << "  scrape_timeout: " << promDuration(o.scrape_interval) << "\n"
         << "  evaluation_interval: " << promDuration(o.evaluation_interval) << "\n"
         << "scrape_configs:\n"
         << "  - job_name: test\n"
         << "    honor_labels: true\n"
         << "    static_configs:\n"
         << "      - targets: [";
  for (size_t i = 0; i < o.targets.size(); ++i) {
    config << (i > 0 ? ", " : "") << '\'' << o.targets[i] << '\'';
  }
  config << "]\n";
  if (!writeFile(dir.file("prometheus.yml"), config.str())) {
    return internalError("cannot write " + dir.file("prometheus.yml"));
  }
  if (!o.web_config.empty() && !writeFile(dir.file("web.yml"), o.web_config)) {
    return internalError("cannot write " + dir.file("web.yml"));
  }

  if (!o.openmetrics_history.empty() && !writeFile(dir.file("history.om"), o.openmetrics_history)) {
    return internalError("cannot write " + dir.file("history.om"));
  }

  const std::string binary = fromEnv("GOVERNOR_PROMETHEUS", "/usr/bin/prometheus");
  std::string last_log;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    p->port_ = freeLoopbackPort();
    if (p->port_ < 0) return unavailable("no free loopback port");
    const std::string data = dir.file("data-" + std::to_string(attempt));
    if (!o.openmetrics_history.empty()) {
      const std::string promtool = fromEnv("GOVERNOR_PROMTOOL", "/usr/bin/promtool");
      CommandResult r = runCommand({promtool, "tsdb", "create-blocks-from", "openmetrics", "-q",
                                    dir.file("history.om"), data},
                                   std::chrono::seconds(60));
      if (r.exit_code != 0) {
        return unavailable("promtool tsdb create-blocks-from openmetrics failed: " + r.err + r.out);
      }
    }
    std::vector<std::string> argv = {
        binary,
        "--config.file=" + dir.file("prometheus.yml"),
        "--storage.tsdb.path=" + data,
        "--web.listen-address=127.0.0.1:" + std::to_string(p->port_),
        "--log.level=info",
    };
    if (!o.web_config.empty()) argv.push_back("--web.config.file=" + dir.file("web.yml"));
    argv.insert(argv.end(), o.extra_args.begin(), o.extra_args.end());
    const std::string log = dir.file("prometheus-" + std::to_string(attempt) + ".log");
    auto process = Subprocess::start(argv, log);
    if (!process.ok()) return process.status();
    p->process_ = std::move(process).value();

    bool exited = false;
    const bool ready = waitUntil(
        [&] {
          if (!p->process_->running()) {
            exited = true;
            return true;
          }
          return p->get("/-/ready").ok();
        },
        kPrometheusReadyTimeout, std::chrono::milliseconds(100));
    if (ready && !exited) return p;
    last_log = p->process_->logTail();
    p->process_->stop();
    if (last_log.find("address already in use") == std::string::npos) break;
  }
  return unavailable("prometheus did not become ready on 127.0.0.1:" + std::to_string(p->port_) +
                     "; log:\n" + last_log);
}

TestPrometheus::~TestPrometheus() { stop(); }

std::string TestPrometheus::url() const {
  const bool tls = options_.web_config.find("tls_server_config") != std::string::npos;
  return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

Result<std::string> TestPrometheus::get(const std::string& path_and_query) const {
  std::vector<std::string> extra = {"-k"};  // The fixture probes; the client under test verifies.
  extra.insert(extra.end(), options_.curl_args.begin(), options_.curl_args.end());
  return bodyOf(curl(extra, url() + path_and_query), "GET " + path_and_query);
}

Result<double> TestPrometheus::queryValue(const std::string& query) const {
  std::vector<std::string> extra = {"-k", "-G", "--data-urlencode", "query=" + query};
  extra.insert(extra.end(), options_.curl_args.begin(), options_.curl_args.end());
  auto body = bodyOf(curl(extra, url() + "/api/v1/query"), "query " + query);
  if (!body.ok()) return body.status();
  const auto doc = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  const auto shape = failedPrecondition("query " + query + ": unexpected answer: " + *body);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_object()) return shape;
  const auto& data = doc["data"];
  const auto& result = data.value("result", nlohmann::json());
  const nlohmann::json* pair = nullptr;
  if (data.value("resultType", "") == "scalar") {
    pair = &result;
  } else if (result.is_array() && result.size() == 1 && result[0].is_object() &&
             result[0].contains("value")) {
    pair = &result[0]["value"];
  }
  if (pair == nullptr || !pair->is_array() || pair->size() != 2 || !(*pair)[1].is_string()) {
    return shape;
  }
  const std::string text = (*pair)[1].get<std::string>();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return shape;
  return v;
}

Status TestPrometheus::waitForSeries(const std::string& query,
                                     std::chrono::milliseconds timeout) const {
  std::string last;
  std::vector<std::string> extra = {"-k", "-G", "--data-urlencode", "query=" + query};
  extra.insert(extra.end(), options_.curl_args.begin(), options_.curl_args.end());
  const bool found = waitUntil(
      [&] {
        HttpReply reply = curl(extra, url() + "/api/v1/query");
        last = reply.code == 0 ? reply.error : reply.body;
        if (reply.code != 200) return false;
        const auto doc = nlohmann::json::parse(reply.body, nullptr, false);
        if (!doc.is_object() || !doc.contains("data")) return false;
        const auto& result = doc["data"].value("result", nlohmann::json());
        return result.is_array() && !result.empty();
      },
      timeout, std::chrono::milliseconds(200));
  if (found) return Status();
  return Status(StatusCode::kDeadlineExceeded, "no series for " + query + " within " +
                                                   std::to_string(timeout.count()) +
                                                   " ms; last answer: " + last);
}

void TestPrometheus::stop() {
  if (process_) process_->stop();
}

std::string TestPrometheus::logTail() const { return process_ ? process_->logTail() : ""; }

// --- TestExporter ---

Result<std::unique_ptr<TestExporter>> TestExporter::start(const ClosedLoopOptions* closed_loop) {
  std::unique_ptr<TestExporter> e(new TestExporter());
  e->dir_ = std::make_unique<TempDir>();
  const std::string port_file = e->dir_->file("port");
  std::vector<std::string> argv = {fromEnv("GOVERNOR_PYTHON", "/usr/bin/python3"),
                                   exporterScript(),
                                   "--port",
                                   "0",
                                   "--port-file",
                                   port_file};
  if (closed_loop != nullptr) {
    const ClosedLoopOptions& c = *closed_loop;
    argv.insert(argv.end(),
                {"--apiserver", c.apiserver_url, "--token", c.token, "--namespace", c.namespace_,
                 "--deployment", c.deployment, "--demand", c.demand, "--capacity-per-pod",
                 std::to_string(c.capacity_per_pod), "--time-scale", std::to_string(c.time_scale)});
    if (!c.ca_file.empty()) argv.insert(argv.end(), {"--ca-file", c.ca_file});
    if (c.insecure) argv.emplace_back("--insecure");
  }
  auto process = Subprocess::start(argv, e->dir_->file("exporter.log"));
  if (!process.ok()) return process.status();
  e->process_ = std::move(process).value();

  const bool ready = waitUntil(
      [&] {
        if (!e->process_->running()) return true;
        if (e->port_ < 0) {
          std::ifstream in(port_file);
          int port = -1;
          if (!(in >> port)) return false;
          e->port_ = port;
        }
        return curl({}, e->url() + "/-/healthy").code == 200;
      },
      kExporterReadyTimeout, std::chrono::milliseconds(50));
  if (ready && e->process_->running()) return e;
  const std::string log = e->process_->logTail();
  e->process_->stop();
  return unavailable("the test exporter did not become ready; log:\n" + log);
}

TestExporter::~TestExporter() { stop(); }

std::string TestExporter::target() const { return "127.0.0.1:" + std::to_string(port_); }

Status TestExporter::setSeries(const std::string& json) {
  HttpReply reply = curl({"-X", "PUT", "--data-binary", "@-"}, url() + "/series", json);
  if (reply.code == 204) return Status();
  if (reply.code == 400) return invalidArgument(reply.body);
  return unavailable("PUT /series: " + (reply.code == 0 ? reply.error : reply.body));
}

Status TestExporter::setDemand(const std::string& json) {
  HttpReply reply = curl({"-X", "PUT", "--data-binary", "@-"}, url() + "/demand", json);
  if (reply.code == 204) return Status();
  if (reply.code == 400) return invalidArgument(reply.body);
  return unavailable("PUT /demand: " + (reply.code == 0 ? reply.error : reply.body));
}

Result<std::string> TestExporter::metrics() const {
  return bodyOf(curl({}, url() + "/metrics"), "GET /metrics");
}

void TestExporter::stop() {
  if (process_) process_->stop();
}

std::string TestExporter::logTail() const { return process_ ? process_->logTail() : ""; }

}  // namespace governor::testing
