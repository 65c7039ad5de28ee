// The HTTP client against an in-process fake server (cpprestsdk's listener on 127.0.0.1):
// what goes on the wire (method, path, parameters, headers, credentials) and how each kind
// of failure comes back. The real Prometheus is in prometheus_integration_test.cpp.

#include "controller/prometheus/client.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <cpprest/http_listener.h>
#include <gtest/gtest.h>

#include "tests/support/process.h"

namespace governor::controller::prom {
namespace {

namespace http = web::http;
using governor::testing::freeLoopbackPort;
using governor::testing::TempDir;

const std::string kVectorBody =
    R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"a"},"value":[1700000000,"1.5"]}]}})";
const TimePoint kAt(Duration(1700000000123));

struct Seen {
  std::string method;
  std::string path;
  std::map<std::string, std::string> params;  // Query string or form body, decoded.
  std::string content_type;
  std::map<std::string, std::string> headers;
};

struct Reply {
  int status = 200;
  std::string body = kVectorBody;
  std::chrono::milliseconds delay{0};
};

std::map<std::string, std::string> decodeForm(const std::string& encoded) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : web::uri::split_query(encoded)) {
    std::string value = v;
    std::replace(value.begin(), value.end(), '+', ' ');
    out[web::uri::decode(k)] = web::uri::decode(value);
  }
  return out;
}

// A fake Prometheus: records each request, answers with `reply`.
class FakeServer {
 public:
  static std::unique_ptr<FakeServer> start() {
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto s = std::unique_ptr<FakeServer>(new FakeServer());
      s->port_ = freeLoopbackPort();
      s->listener_ = std::make_unique<http::experimental::listener::http_listener>(
          web::uri("http://127.0.0.1:" + std::to_string(s->port_)));
      FakeServer* self = s.get();
      s->listener_->support([self](http::http_request request) { self->handle(request); });
      try {
        s->listener_->open().wait();
        return s;
      } catch (const std::exception&) {
        // The port was taken meanwhile: try another.
      }
    }
    return nullptr;
  }
  ~FakeServer() {
    try {
      listener_->close().wait();
    } catch (const std::exception&) {
    }
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void setReply(Reply reply) {
    std::lock_guard lock(mu_);
    reply_ = std::move(reply);
  }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  FakeServer() = default;

  void handle(http::http_request request) {
    Seen s;
    s.method = request.method();
    s.path = web::uri::decode(request.relative_uri().path());
    const std::string body = request.extract_utf8string(true).get();
    s.params = decodeForm(s.method == "POST" ? body : request.relative_uri().query());
    for (const auto& [name, value] : request.headers()) s.headers[name] = value;
    s.content_type = request.headers().content_type();
    Reply reply;
    {
      std::lock_guard lock(mu_);
      seen_.push_back(s);
      reply = reply_;
    }
    if (reply.delay > std::chrono::milliseconds::zero()) std::this_thread::sleep_for(reply.delay);
    request.reply(static_cast<http::status_code>(reply.status), reply.body, "application/json")
        .wait();
  }

  int port_ = -1;
  std::unique_ptr<http::experimental::listener::http_listener> listener_;
  std::mutex mu_;
  Reply reply_;
  std::vector<Seen> seen_;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = FakeServer::start();
    ASSERT_NE(server_, nullptr) << "no loopback port for the fake server";
  }
  std::unique_ptr<PrometheusClient> client(PrometheusEndpoint endpoint) {
    if (endpoint.url.empty()) endpoint.url = server_->url();
    auto c = PrometheusClient::create(std::move(endpoint));
    EXPECT_TRUE(c.ok()) << c.status().toString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  void write(const std::string& path, const std::string& contents) {
    std::ofstream(path + ".tmp", std::ios::trunc) << contents;
    std::filesystem::rename(path + ".tmp", path);
  }

  std::unique_ptr<FakeServer> server_;
  TempDir dir_;
};

TEST_F(ClientTest, InstantQueryIsAGetWithTimeAndTimeout) {
  auto c = client({});
  ASSERT_NE(c, nullptr);
  auto r = c->query("sum(rate(x[1m])) by (pod)", kAt);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->series.at(0).samples.at(0).value, 1.5);
  const auto seen = server_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, "/api/v1/query");
  EXPECT_EQ(seen[0].params.at("query"), "sum(rate(x[1m])) by (pod)");
  EXPECT_EQ(seen[0].params.at("time"), "1700000000.123");
  EXPECT_EQ(seen[0].params.at("timeout"), "9");  // 90% of the default 10 s.
  EXPECT_EQ(seen[0].headers.count("Authorization"), 0u);
}

TEST_F(ClientTest, LongQueryIsAPostForm) {
  auto c = client({.post_above_bytes = 64});
  ASSERT_NE(c, nullptr);
  const std::string query = "sum(x{pod=~\"" + std::string(200, 'a') + "|b&c=d\"})";
  auto r = c->query(query, kAt);
  ASSERT_TRUE(r.ok()) << r.status().toString();
  const auto seen = server_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/api/v1/query");
  EXPECT_NE(seen[0].content_type.find("application/x-www-form-urlencoded"), std::string::npos);
  EXPECT_EQ(seen[0].params.at("query"), query);
  EXPECT_EQ(seen[0].params.at("time"), "1700000000.123");
}

TEST_F(ClientTest, RangeQueryParameters) {
  auto c = client({});
  ASSERT_NE(c, nullptr);
  server_->setReply({200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})"});
  auto r = c->queryRange("up", kAt, kAt + std::chrono::minutes(10), std::chrono::seconds(15));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, ResultType::kMatrix);
  const auto seen = server_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/api/v1/query_range");
  EXPECT_EQ(seen[0].params.at("start"), "1700000000.123");
  EXPECT_EQ(seen[0].params.at("end"), "1700000600.123");
  EXPECT_EQ(seen[0].params.at("step"), "15");
}

TEST_F(ClientTest, PathPrefixAndHeaders) {
  auto c =
      client({.url = server_->url() + "/prometheus", .headers = {{"X-Scope-OrgID", "tenant-a"}}});
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->query("up", kAt).ok());
  const auto seen = server_->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/prometheus/api/v1/query");
  EXPECT_EQ(seen[0].headers.at("X-Scope-OrgID"), "tenant-a");
}

TEST_F(ClientTest, BearerTokenIsReadFromItsFileAndRereadWhenRotated) {
  const std::string token_file = dir_.file("token");
  write(token_file, "token-one\n");
  auto c = client({.bearer_token_file = token_file});
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->query("up", kAt).ok());
  write(token_file, "token-two-rotated\n");
  ASSERT_TRUE(c->query("up", kAt).ok());
  const auto seen = server_->seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].headers.at("Authorization"), "Bearer token-one");
  EXPECT_EQ(seen[1].headers.at("Authorization"), "Bearer token-two-rotated");
}

TEST_F(ClientTest, MissingTokenFileFailsWithoutSending) {
  auto c = client({.bearer_token_file = dir_.file("absent")});
  ASSERT_NE(c, nullptr);
  auto r = c->query("up", kAt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("prometheus query \"up\""), std::string::npos);
  EXPECT_NE(r.status().message().find(dir_.file("absent")), std::string::npos);
  EXPECT_TRUE(server_->seen().empty());
}

TEST_F(ClientTest, BasicAuth) {
  const std::string password_file = dir_.file("password");
  write(password_file, "open sesame\n");
  auto c = client({.basic_auth_username = "alice", .basic_auth_password_file = password_file});
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->query("up", kAt).ok());
  const auto seen = server_->seen();
  ASSERT_EQ(seen.size(), 1u);
  // base64("alice:open sesame")
  EXPECT_EQ(seen[0].headers.at("Authorization"), "Basic YWxpY2U6b3BlbiBzZXNhbWU=");
}

struct HttpErrorCase {
  std::string name;
  Reply reply;
  StatusCode code;
  std::string message_has;
};

class ClientErrorTest : public ClientTest, public ::testing::WithParamInterface<HttpErrorCase> {};

TEST_P(ClientErrorTest, MapsToStatusWithoutLeakingCredentials) {
  const HttpErrorCase& c = GetParam();
  const std::string token_file = dir_.file("token");
  write(token_file, "very-secret-token");
  server_->setReply(c.reply);
  auto cl = client({.timeout = std::chrono::milliseconds(300), .bearer_token_file = token_file});
  ASSERT_NE(cl, nullptr);
  auto r = cl->query("rate(x[1m])", kAt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), c.code) << r.status().toString();
  EXPECT_NE(r.status().message().find("prometheus query \"rate(x[1m])\""), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find(c.message_has), std::string::npos) << r.status().message();
  EXPECT_EQ(r.status().message().find("very-secret-token"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClientErrorTest,
    ::testing::Values(
        HttpErrorCase{"BadData",
                      {400, R"({"status":"error","errorType":"bad_data","error":"parse error"})"},
                      StatusCode::kInvalidArgument,
                      "bad_data: parse error"},
        HttpErrorCase{
            "ServerTimeout",
            {503, R"({"status":"error","errorType":"timeout","error":"query timed out"})"},
            StatusCode::kDeadlineExceeded,
            "timeout"},
        HttpErrorCase{
            "Unauthorized", {401, "Unauthorized\n"}, StatusCode::kPermissionDenied, "HTTP 401"},
        HttpErrorCase{
            "Gateway", {502, "<html>bad gateway</html>"}, StatusCode::kUnavailable, "HTTP 502"},
        HttpErrorCase{
            "Garbage", {200, "\x01\x02garbage"}, StatusCode::kUnavailable, "malformed response"},
        // The server answers after the client gave up.
        HttpErrorCase{"NoAnswerInTime",
                      {200, kVectorBody, std::chrono::milliseconds(1500)},
                      StatusCode::kDeadlineExceeded,
                      "no response within the timeout"}),
    [](const ::testing::TestParamInfo<HttpErrorCase>& info) { return info.param.name; });

TEST(Client, ConnectionRefusedIsUnavailable) {
  // A port nothing listens on: bound and released by freeLoopbackPort.
  const int port = freeLoopbackPort();
  ASSERT_GT(port, 0);
  auto c = PrometheusClient::create({.url = "http://127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(c.ok()) << c.status().toString();
  auto r = (*c)->query("up", kAt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().toString();
  EXPECT_NE(r.status().message().find("prometheus query \"up\""), std::string::npos);
}

}  // namespace
}  // namespace governor::controller::prom
