#include "controller/prometheus/endpoint.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "controller/prometheus/client.h"

namespace governor::controller::prom {
namespace {

struct EndpointCase {
  std::string name;
  PrometheusEndpoint endpoint;
  std::string error_has;  // "" when valid.
};

class ValidateEndpointTest : public testing::TestWithParam<EndpointCase> {};

TEST_P(ValidateEndpointTest, Validates) {
  const EndpointCase& c = GetParam();
  const Status s = validateEndpoint(c.endpoint);
  if (c.error_has.empty()) {
    EXPECT_TRUE(s.ok()) << s.toString();
    return;
  }
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(c.error_has), std::string::npos) << s.message();
}

PrometheusEndpoint url(std::string u) { return PrometheusEndpoint{.url = std::move(u)}; }
PrometheusEndpoint withHeader(std::string name, std::string value) {
  PrometheusEndpoint e = url("http://p:9090");
  e.headers[std::move(name)] = std::move(value);
  return e;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ValidateEndpointTest,
    testing::Values(
        EndpointCase{"Http", url("http://prometheus.monitoring:9090"), ""},
        EndpointCase{"HttpsWithPrefix", url("https://thanos.example/prometheus"), ""},
        EndpointCase{"MimirTenant", withHeader("X-Scope-OrgID", "tenant-a"), ""},
        EndpointCase{"BearerToken",
                     PrometheusEndpoint{.url = "http://p", .bearer_token_file = "/var/run/t"}, ""},
        EndpointCase{"BasicAuth",
                     PrometheusEndpoint{.url = "http://p",
                                        .basic_auth_username = "u",
                                        .basic_auth_password_file = "/etc/p"},
                     ""},
        EndpointCase{"Empty", url(""), "url: required"},
        EndpointCase{"NoScheme", url("prometheus:9090"), "url: must start with http"},
        EndpointCase{"NoHost", url("http:///api"), "url: no host"},
        EndpointCase{"UserInfo", url("http://admin:hunter2@p:9090"), "must not carry user info"},
        EndpointCase{"Query", url("http://p:9090/?x=1"), "must not have a query"},
        EndpointCase{"ZeroTimeout", PrometheusEndpoint{.url = "http://p", .timeout = Duration(0)},
                     "timeout: must be positive"},
        EndpointCase{"UserWithoutPassword",
                     PrometheusEndpoint{.url = "http://p", .basic_auth_username = "u"},
                     "set both or neither"},
        EndpointCase{"PasswordWithoutUser",
                     PrometheusEndpoint{.url = "http://p", .basic_auth_password_file = "/p"},
                     "set both or neither"},
        EndpointCase{"BearerAndBasic",
                     PrometheusEndpoint{.url = "http://p",
                                        .bearer_token_file = "/t",
                                        .basic_auth_username = "u",
                                        .basic_auth_password_file = "/p"},
                     "cannot be combined"},
        EndpointCase{"AuthorizationHeader", withHeader("authorization", "Bearer x"),
                     "Authorization is not accepted"},
        EndpointCase{"BadHeaderName", withHeader("X Bad", "v"), "not a valid header name"},
        EndpointCase{"HeaderInjection", withHeader("X-Scope-OrgID", "a\r\nAuthorization: x"),
                     "must not contain CR, LF"}),
    [](const testing::TestParamInfo<EndpointCase>& info) { return info.param.name; });

// The password of a URL with user info must not be echoed.
TEST(ValidateEndpoint, NeverEchoesUserInfo) {
  const Status s = validateEndpoint(url("http://admin:hunter2@p:9090"));
  EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
}

TEST(FormatApiSeconds, ExactDecimalSeconds) {
  EXPECT_EQ(formatApiSeconds(1700000000123), "1700000000.123");
  EXPECT_EQ(formatApiSeconds(1700000000100), "1700000000.1");
  EXPECT_EQ(formatApiSeconds(15000), "15");
  EXPECT_EQ(formatApiSeconds(1500), "1.5");
  EXPECT_EQ(formatApiSeconds(5), "0.005");
  EXPECT_EQ(formatApiSeconds(0), "0");
  EXPECT_EQ(formatApiSeconds(-250), "-0.25");
}

class CredentialFileTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/governor-credential-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& path, const std::string& contents) {
    std::ofstream(path, std::ios::trunc) << contents;
  }
  std::string dir_;
};

TEST_F(CredentialFileTest, ReadsTrimsAndRereadsOnChange) {
  const std::string path = dir_ + "/token";
  write(path, "first-token\n");
  CredentialFile file(path);
  auto a = file.read("bearer token");
  ASSERT_TRUE(a.ok()) << a.status().toString();
  EXPECT_EQ(*a, "first-token");
  // Rotated the way Kubernetes rotates a projected token: a new file renamed into place (a
  // new inode, whatever the timestamps' resolution).
  write(path + ".new", "second-token-longer\n");
  std::filesystem::rename(path + ".new", path);
  auto b = file.read("bearer token");
  ASSERT_TRUE(b.ok()) << b.status().toString();
  EXPECT_EQ(*b, "second-token-longer");
}

TEST_F(CredentialFileTest, ErrorsNameThePathNotTheContents) {
  CredentialFile missing(dir_ + "/nope");
  auto m = missing.read("bearer token");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(m.status().message().find("cannot read bearer token file " + dir_ + "/nope"),
            std::string::npos)
      << m.status().message();

  const std::string path = dir_ + "/empty";
  write(path, "\n");
  auto e = CredentialFile(path).read("basic auth password");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("the file is empty"), std::string::npos);

  // A file that disappears after being read is an error again, not the stale contents.
  const std::string secret = dir_ + "/secret";
  write(secret, "s3cr3t");
  CredentialFile f(secret);
  ASSERT_TRUE(f.read("bearer token").ok());
  std::filesystem::remove(secret);
  auto gone = f.read("bearer token");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().message().find("s3cr3t"), std::string::npos);
}

TEST(PrometheusClient, CreateRefusesABadCaFile) {
  auto c = PrometheusClient::create({.url = "https://p", .ca_file = "/nonexistent/ca.pem"});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("ca_file: cannot load /nonexistent/ca.pem"),
            std::string::npos)
      << c.status().message();
}

}  // namespace
}  // namespace governor::controller::prom
