#include "controller/health_server.h"

#include <atomic>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/support/http.h"

namespace governor::controller {
namespace {

using ::governor::testing::httpRequest;
using ::governor::testing::HttpResponse;

std::optional<HttpResponse> get(const HealthServer& server, const std::string& path) {
  return httpRequest("127.0.0.1", server.port(), "GET", path);
}

// --- Listen addresses -------------------------------------------------------------------

struct AddressCase {
  std::string name;
  std::string text;
  std::string want;   // host:port, or "" when invalid.
  std::string error;  // A substring of the error message when invalid.
};

void PrintTo(const AddressCase& c, std::ostream* os) { *os << c.name; }

class ParseListenAddressTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(ParseListenAddressTest, Parses) {
  Result<ListenAddress> address = parseListenAddress(GetParam().text);
  if (!GetParam().want.empty()) {
    ASSERT_TRUE(address.ok()) << address.status().toString();
    EXPECT_EQ(address->toString(), GetParam().want);
  } else {
    ASSERT_FALSE(address.ok()) << address->toString();
    EXPECT_EQ(address.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(address.status().message(), ::testing::HasSubstr(GetParam().error));
    EXPECT_THAT(address.status().message(), ::testing::HasSubstr("\"" + GetParam().text + "\""));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ParseListenAddressTest,
    ::testing::Values(AddressCase{"Loopback", "127.0.0.1:8080", "127.0.0.1:8080", ""},
                      AddressCase{"AllInterfaces", "0.0.0.0:8081", "0.0.0.0:8081", ""},
                      AddressCase{"PortOnly", ":8080", "0.0.0.0:8080", ""},
                      AddressCase{"Localhost", "localhost:9090", "127.0.0.1:9090", ""},
                      AddressCase{"PortZero", "127.0.0.1:0", "127.0.0.1:0", ""},
                      AddressCase{"MaxPort", ":65535", "0.0.0.0:65535", ""},
                      AddressCase{"Empty", "", "", "empty"},
                      AddressCase{"NoPort", "127.0.0.1", "", "no port"},
                      AddressCase{"EmptyPort", "127.0.0.1:", "", "port \"\""},
                      AddressCase{"NamedPort", "127.0.0.1:http", "", "port \"http\""},
                      AddressCase{"PortTooLarge", ":65536", "", "0..65535"},
                      AddressCase{"NegativePort", ":-1", "", "port \"-1\""},
                      AddressCase{"Hostname", "metrics.local:80", "", "host \"metrics.local\""},
                      AddressCase{"BadOctet", "999.1.1.1:80", "", "not an IPv4 address"},
                      AddressCase{"Ipv6", "[::1]:8080", "", "IPv6"},
                      AddressCase{"BareIpv6", "::1:8080", "", "not an IPv4 address"}),
    [](const auto& info) { return info.param.name; });

// --- The server -------------------------------------------------------------------------

TEST(HealthServerTest, AnswersLivenessAndReadiness) {
  std::atomic<bool> synced{false};
  auto server = HealthServer::start(
      "127.0.0.1:0", [] { return Status(); },
      [&]() -> Status {
        if (!synced) return failedPrecondition("caches not synced: scalingpolicies");
        return {};
      });
  ASSERT_TRUE(server.ok()) << server.status().toString();
  ASSERT_GT((*server)->port(), 0);

  auto healthz = get(**server, "/healthz");
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 200);
  EXPECT_EQ(healthz->body, "ok");

  auto readyz = get(**server, "/readyz");
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 503);
  EXPECT_EQ(readyz->body, "caches not synced: scalingpolicies");

  synced = true;
  readyz = get(**server, "/readyz");
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 200);
  EXPECT_EQ(readyz->body, "ok");
}

TEST(HealthServerTest, FailingLivenessIs500WithTheReason) {
  auto server = HealthServer::start(
      "127.0.0.1:0", [] { return unavailable("reconcile loop stalled for 5m"); }, nullptr);
  ASSERT_TRUE(server.ok()) << server.status().toString();
  auto healthz = get(**server, "/healthz");
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 500);
  EXPECT_EQ(healthz->body, "reconcile loop stalled for 5m");
  auto readyz = get(**server, "/readyz");  // An empty check passes.
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 200);
}

TEST(HealthServerTest, ThrowingCheckFailsTheProbe) {
  auto server = HealthServer::start("127.0.0.1:0", nullptr,
                                    []() -> Status { throw std::runtime_error("cache exploded"); });
  ASSERT_TRUE(server.ok()) << server.status().toString();
  auto readyz = get(**server, "/readyz");
  ASSERT_TRUE(readyz.has_value());
  EXPECT_EQ(readyz->status, 503);
  EXPECT_THAT(readyz->body, ::testing::HasSubstr("cache exploded"));
  auto healthz = get(**server, "/healthz");  // The server survived it.
  ASSERT_TRUE(healthz.has_value());
  EXPECT_EQ(healthz->status, 200);
}

struct RouteCase {
  std::string name;
  std::string method;
  std::string path;
  int status;
  std::string body;
};

void PrintTo(const RouteCase& c, std::ostream* os) { *os << c.name; }

// One server for the whole table: stopping one after a request takes civetweb ~2 s.
class HealthServerRouteTest : public ::testing::TestWithParam<RouteCase> {
 protected:
  static void SetUpTestSuite() {
    auto started = HealthServer::start("127.0.0.1:0", nullptr, nullptr);
    ASSERT_TRUE(started.ok()) << started.status().toString();
    server_ = std::move(started).value();
  }
  static void TearDownTestSuite() { server_.reset(); }
  static std::unique_ptr<HealthServer> server_;
};

std::unique_ptr<HealthServer> HealthServerRouteTest::server_;

TEST_P(HealthServerRouteTest, Routes) {
  ASSERT_NE(server_, nullptr);
  auto response = httpRequest("127.0.0.1", server_->port(), GetParam().method, GetParam().path);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, GetParam().status);
  EXPECT_EQ(response->body, GetParam().body);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HealthServerRouteTest,
    ::testing::Values(RouteCase{"Healthz", "GET", "/healthz", 200, "ok"},
                      RouteCase{"QueryIgnored", "GET", "/readyz?verbose", 200, "ok"},
                      RouteCase{"HeadHasNoBody", "HEAD", "/readyz", 200, ""},
                      RouteCase{"Root", "GET", "/", 404, "not found"},
                      RouteCase{"Metrics", "GET", "/metrics", 404, "not found"},
                      RouteCase{"Prefix", "GET", "/healthz/extra", 404, "not found"},
                      RouteCase{"Post", "POST", "/healthz", 405, "method not allowed"}),
    [](const auto& info) { return info.param.name; });

TEST(HealthServerTest, TakenPortIsAClearError) {
  auto first = HealthServer::start("127.0.0.1:0", nullptr, nullptr);
  ASSERT_TRUE(first.ok()) << first.status().toString();
  const std::string address = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = HealthServer::start(address, nullptr, nullptr);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr(address));
  EXPECT_THAT(second.status().message(), ::testing::HasSubstr("Address already in use"));
}

TEST(HealthServerTest, BadAddressIsInvalidArgument) {
  auto server = HealthServer::start("localhost", nullptr, nullptr);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), ::testing::StartsWith("health server: listen address"));
}

TEST(HealthServerTest, BindsOnlyTheAddressGiven) {
  auto server = HealthServer::start("127.0.0.1:0", nullptr, nullptr);
  ASSERT_TRUE(server.ok()) << server.status().toString();
  // 127.0.0.2 is loopback too: a server bound to every interface would answer there.
  EXPECT_TRUE(httpRequest("127.0.0.1", (*server)->port(), "GET", "/healthz").has_value());
  EXPECT_FALSE(httpRequest("127.0.0.2", (*server)->port(), "GET", "/healthz").has_value());
}

TEST(HealthServerTest, StopClosesThePortAndIsIdempotent) {
  auto server = HealthServer::start("127.0.0.1:0", nullptr, nullptr);
  ASSERT_TRUE(server.ok()) << server.status().toString();
  const uint16_t port = (*server)->port();
  // An idle client holding a connection open must not keep stop() from returning.
  const int idle = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(idle, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(::connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

  (*server)->stop();
  EXPECT_FALSE(httpRequest("127.0.0.1", port, "GET", "/healthz").has_value());
  (*server)->stop();
  ::close(idle);
}

}  // namespace
}  // namespace governor::controller
