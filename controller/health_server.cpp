#include "controller/health_server.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <mutex>
#include <string>
#include <utility>

#include <arpa/inet.h>
#include <civetweb.h>
#include <spdlog/spdlog.h>

namespace governor::controller {

// --- Listen addresses -----------------------------------------------------------------------

Result<ListenAddress> parseListenAddress(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return invalidArgument("listen address \"" + std::string(text) + "\": " + why);
  };
  constexpr const char* kWant =
      " (want HOST:PORT, e.g. 127.0.0.1:8080, or :8080 for every interface)";
  if (text.empty()) return bad(std::string("empty") + kWant);
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return bad(std::string("no port") + kWant);
  const std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);

  if (!host.empty() && host.front() == '[') {
    return bad(
        "IPv6 addresses are not supported; use an IPv4 address, or :PORT for every "
        "interface");
  }
  const bool digits = !port_text.empty() && port_text.size() <= 5 &&
                      std::all_of(port_text.begin(), port_text.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c));
                      });
  const int port = digits ? std::stoi(std::string(port_text)) : -1;
  if (port < 0 || port > 65535) {
    return bad("port \"" + std::string(port_text) + "\" is not a number in 0..65535");
  }

  ListenAddress address;
  address.port = static_cast<uint16_t>(port);
  if (host.empty()) {
    address.host = "0.0.0.0";
  } else if (host == "localhost") {
    address.host = "127.0.0.1";
  } else {
    in_addr parsed{};
    address.host = std::string(host);
    if (inet_pton(AF_INET, address.host.c_str(), &parsed) != 1) {
      return bad("host \"" + address.host + "\" is not an IPv4 address");
    }
  }
  return address;
}

// --- civetweb plumbing ----------------------------------------------------------------------

namespace internal {
namespace {
thread_local StartErrorCapture* tl_capture = nullptr;
}  // namespace

StartErrorCapture::StartErrorCapture() { tl_capture = this; }
StartErrorCapture::~StartErrorCapture() { tl_capture = nullptr; }

int civetwebLogMessage(const mg_connection* /*conn*/, const char* message) {
  std::string_view text = message == nullptr ? "" : message;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (tl_capture != nullptr) {
    if (!tl_capture->text_.empty()) tl_capture->text_ += "; ";
    tl_capture->text_ += text;
  } else {
    spdlog::debug("civetweb: {}", text);
  }
  return 1;
}

void initCivetweb() {
  static std::once_flag once;
  std::call_once(once, [] { mg_init_library(0); });
}

}  // namespace internal

// --- HealthServer ---------------------------------------------------------------------------

namespace {

// A check that throws fails the probe instead of taking a server thread down.
Status runCheck(const HealthCheck& check) {
  if (!check) return {};
  try {
    return check();
  } catch (const std::exception& e) {
    return internalError(std::string("health check threw: ") + e.what());
  } catch (...) {
    return internalError("health check threw a non-standard exception");
  }
}

void respond(mg_connection* conn, int code, bool head, const std::string& body) {
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: %zu\r\n"
            "Cache-Control: no-store\r\n"
            "Connection: close\r\n\r\n",
            code, mg_get_response_code_text(conn, code), body.size());
  if (!head) mg_write(conn, body.data(), body.size());
}

}  // namespace

HealthServer::HealthServer(HealthCheck liveness, HealthCheck readiness)
    : liveness_(std::move(liveness)), readiness_(std::move(readiness)) {}

Result<std::unique_ptr<HealthServer>> HealthServer::start(std::string_view address,
                                                          HealthCheck liveness,
                                                          HealthCheck readiness) {
  Result<ListenAddress> parsed = parseListenAddress(address);
  if (!parsed.ok()) return parsed.status().withContext("health server");
  internal::initCivetweb();

  std::unique_ptr<HealthServer> server(new HealthServer(std::move(liveness), std::move(readiness)));
  const std::string ports = parsed->toString();
  // Two threads: probes are rare and answered from memory. A probe that never sends its
  // request cannot hold a thread (or stop()) for more than the request timeout.
  const char* options[] = {"listening_ports",    ports.c_str(), "num_threads", "2",
                           "request_timeout_ms", "5000",        nullptr};
  mg_callbacks callbacks{};
  callbacks.begin_request = &HealthServer::handleRequest;
  callbacks.log_message = &internal::civetwebLogMessage;
  {
    internal::StartErrorCapture errors;
    server->context_ = mg_start(&callbacks, server.get(), options);
    if (server->context_ == nullptr) {
      return unavailable("health server: cannot listen on " + ports + ": " +
                         (errors.text().empty() ? "civetweb did not start" : errors.text()));
    }
  }
  mg_server_port bound{};
  if (mg_get_server_ports(server->context_, 1, &bound) >= 1) {
    server->port_ = static_cast<uint16_t>(bound.port);
  }
  return server;
}

HealthServer::~HealthServer() { stop(); }

void HealthServer::stop() {
  if (context_ == nullptr) return;
  mg_stop(context_);  // Joins civetweb's threads: no probe runs after this.
  context_ = nullptr;
}

int HealthServer::handleRequest(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  const auto* self = static_cast<const HealthServer*>(info->user_data);
  const std::string_view method = info->request_method == nullptr ? "" : info->request_method;
  const std::string_view path = info->local_uri == nullptr ? "" : info->local_uri;
  const bool head = method == "HEAD";

  int code = 404;
  std::string body = "not found";
  if (path == "/healthz" || path == "/readyz") {
    if (method != "GET" && !head) {
      code = 405;
      body = "method not allowed";
    } else {
      const bool liveness = path == "/healthz";
      Status status = runCheck(liveness ? self->liveness_ : self->readiness_);
      if (status.ok()) {
        code = 200;
        body = "ok";
      } else {
        code = liveness ? 500 : 503;
        body = status.message().empty() ? status.toString() : status.message();
      }
    }
  }
  respond(conn, code, head, body);
  return code;  // 1..999: handled, and the status code civetweb logs.
}

}  // namespace governor::controller
