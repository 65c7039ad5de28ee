#include "controller/prometheus/endpoints_file.h"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/support/process.h"

namespace governor::controller::prom {
namespace {

using namespace std::chrono_literals;

// --- Valid files: what each one configures. ---

TEST(ParseEndpointsConfigTest, EmptyFileIsTheDefaults) {
  for (const char* text : {"", "# nothing configured yet\n", "---\n", "endpoints:\n"}) {
    auto config = parseEndpointsConfig(text, "e.yaml");
    ASSERT_TRUE(config.ok()) << text << ": " << config.status().toString();
    EXPECT_TRUE(config->by_address.empty()) << text;
    EXPECT_TRUE(config->allow_unlisted_addresses) << text;
  }
}

TEST(ParseEndpointsConfigTest, EveryField) {
  auto config = parseEndpointsConfig(R"(endpoints:
  - url: https://thanos.example/prometheus
    timeout: 30s
    basicAuth: {username: governor, passwordFile: /var/run/secrets/thanos/password}
    caFile: /etc/governor/thanos-ca.pem
    insecureSkipVerify: false
    headers: {X-Scope-OrgID: tenant-a, X-Extra: "1"}
  - url: http://mimir.monitoring:8080/prometheus
    timeout: 1m30s
    bearerTokenFile: /var/run/secrets/tokens/mimir
    insecureSkipVerify: true
allowUnlistedAddresses: false
)",
                                     "e.yaml");
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_FALSE(config->allow_unlisted_addresses);
  ASSERT_EQ(config->by_address.size(), 2u);

  const PrometheusEndpoint& thanos = config->by_address.at("https://thanos.example/prometheus");
  EXPECT_EQ(thanos.url, "https://thanos.example/prometheus");
  EXPECT_EQ(thanos.timeout, Duration(30'000));
  EXPECT_EQ(thanos.bearer_token_file, "");
  EXPECT_EQ(thanos.basic_auth_username, "governor");
  EXPECT_EQ(thanos.basic_auth_password_file, "/var/run/secrets/thanos/password");
  EXPECT_EQ(thanos.ca_file, "/etc/governor/thanos-ca.pem");
  EXPECT_FALSE(thanos.insecure_skip_tls_verify);
  EXPECT_EQ(thanos.headers,
            (std::map<std::string, std::string>{{"X-Scope-OrgID", "tenant-a"}, {"X-Extra", "1"}}));

  const PrometheusEndpoint& mimir =
      config->by_address.at("http://mimir.monitoring:8080/prometheus");
  EXPECT_EQ(mimir.timeout, Duration(90'000));
  EXPECT_EQ(mimir.bearer_token_file, "/var/run/secrets/tokens/mimir");
  EXPECT_EQ(mimir.basic_auth_username, "");
  EXPECT_EQ(mimir.basic_auth_password_file, "");
  EXPECT_EQ(mimir.ca_file, "");
  EXPECT_TRUE(mimir.insecure_skip_tls_verify);
  EXPECT_TRUE(mimir.headers.empty());
}

TEST(ParseEndpointsConfigTest, AnEntryWithOnlyAUrlHasTheEndpointDefaults) {
  auto config = parseEndpointsConfig("endpoints:\n  - url: http://p:9090\n", "e.yaml");
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_TRUE(config->allow_unlisted_addresses);
  ASSERT_EQ(config->by_address.count("http://p:9090"), 1u);
  const PrometheusEndpoint& e = config->by_address.at("http://p:9090");
  const PrometheusEndpoint defaults;
  EXPECT_EQ(e.timeout, defaults.timeout);
  EXPECT_EQ(e.bearer_token_file, "");
  EXPECT_EQ(e.basic_auth_username, "");
  EXPECT_EQ(e.ca_file, "");
  EXPECT_EQ(e.insecure_skip_tls_verify, defaults.insecure_skip_tls_verify);
  EXPECT_EQ(e.post_above_bytes, defaults.post_above_bytes);
  EXPECT_TRUE(e.headers.empty());
}

// Addresses are matched by exact string, as PrometheusMetricsSource matches them: two
// spellings of one server are two entries, not duplicates.
TEST(ParseEndpointsConfigTest, UrlsAreKeptAsWritten) {
  auto config = parseEndpointsConfig(
      "endpoints:\n  - url: http://p:9090\n  - url: http://p:9090/\n", "e.yaml");
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->by_address.size(), 2u);
  EXPECT_EQ(config->by_address.count("http://p:9090/"), 1u);
}

// --- Invalid files: every problem named with its line and field path. ---

struct BadFileCase {
  std::string name;
  std::string yaml;
  // Each must be a whole line of the message ("" when the message may be anything).
  std::vector<std::string> lines;
  // Must appear somewhere in the message (for messages that quote a library's text).
  std::string has = "";
  // Must not appear anywhere in the message: the credentials a file wrote inline.
  std::string secret = "";
};

class BadEndpointsFileTest : public ::testing::TestWithParam<BadFileCase> {};

std::vector<std::string> splitLines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find('\n', start);
    lines.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

TEST_P(BadEndpointsFileTest, IsRefusedNamingTheField) {
  const BadFileCase& c = GetParam();
  auto config = parseEndpointsConfig(c.yaml, "e.yaml");
  ASSERT_FALSE(config.ok()) << c.yaml;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  const std::string message = config.status().message();
  if (!c.lines.empty()) {
    EXPECT_EQ(splitLines(message), c.lines) << message;
  }
  if (!c.has.empty()) {
    EXPECT_NE(message.find(c.has), std::string::npos) << message;
  }
  if (!c.secret.empty()) {
    EXPECT_EQ(message.find(c.secret), std::string::npos) << message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BadEndpointsFileTest,
    ::testing::Values(
        BadFileCase{"NotYaml", "endpoints: [\n", {}, "e.yaml:", ""},
        BadFileCase{"TwoDocuments",
                    "endpoints: []\n---\nendpoints: []\n",
                    {"e.yaml:3: (document): expected one YAML document, got 2"}},
        BadFileCase{"NotAMapping",
                    "- url: http://p\n",
                    {"e.yaml:1: (document): must be a mapping, got a list"}},
        BadFileCase{"UnknownTopLevelField",
                    "endpoint:\n  - url: http://p\n",
                    {"e.yaml:1: endpoint: unknown field"}},
        BadFileCase{"AllowUnlistedNotABool",
                    "allowUnlistedAddresses: no\n",
                    {"e.yaml:1: allowUnlistedAddresses: must be true or false, got \"no\""}},
        BadFileCase{"EndpointsNotAList",
                    "endpoints:\n  url: http://p\n",
                    {"e.yaml:2: endpoints: must be a list, got a mapping"}},
        BadFileCase{"EntryNotAMapping",
                    "endpoints:\n  - http://p\n",
                    {"e.yaml:2: endpoints[0]: must be a mapping, got a string"}},
        BadFileCase{"EntryIsAUrlWithUserInfo",
                    "endpoints:\n  - https://admin:hunter2@thanos\n",
                    {"e.yaml:2: endpoints[0]: must be a mapping, got a string"},
                    "",
                    "hunter2"},
        BadFileCase{"EndpointsIsAUrlWithUserInfo",
                    "endpoints: https://admin:hunter2@thanos\n",
                    {"e.yaml:1: endpoints: must be a list, got a string"},
                    "",
                    "hunter2"},
        BadFileCase{"UnknownEntryField",
                    "endpoints:\n  - url: http://p\n    bearer_token_file: /t\n",
                    {"e.yaml:3: endpoints[0].bearer_token_file: unknown field"}},
        BadFileCase{"UrlMissing",
                    "endpoints:\n  - timeout: 5s\n",
                    {"e.yaml:2: endpoints[0].url: required"}},
        BadFileCase{"UrlNotAString",
                    "endpoints:\n  - url: [http://p]\n",
                    {"e.yaml:2: endpoints[0].url: must be a non-empty string, got a list"}},
        BadFileCase{"UrlWithoutScheme",
                    "endpoints:\n  - url: http://ok\n  - url: prometheus:9090\n",
                    {"e.yaml:3: endpoints[1].url: must start with http:// or https://"}},
        BadFileCase{"UrlWithQuery",
                    "endpoints:\n  - url: http://p:9090/?x=1\n",
                    {"e.yaml:2: endpoints[0].url: must not have a query or fragment"}},
        BadFileCase{"UrlWithUserInfo",
                    "endpoints:\n  - url: http://admin:hunter2@p:9090\n",
                    {"e.yaml:2: endpoints[0].url: must not carry user info (user:password@); "
                     "use basicAuth.username and basicAuth.passwordFile"},
                    "",
                    "hunter2"},
        BadFileCase{"DuplicateUrl",
                    "endpoints:\n  - url: http://p:9090\n  - url: http://q\n"
                    "  - url: http://p:9090\n",
                    {"e.yaml:4: endpoints[2].url: duplicate url \"http://p:9090\" (also "
                     "endpoints[0])"}},
        BadFileCase{"TimeoutUnknownUnit",
                    "endpoints:\n  - url: http://p\n    timeout: 10x\n",
                    {},
                    "e.yaml:3: endpoints[0].timeout: \"10x\": unknown unit"},
        BadFileCase{"TimeoutZero",
                    "endpoints:\n  - url: http://p\n    timeout: 0s\n",
                    {"e.yaml:3: endpoints[0].timeout: must be > 0s, got \"0s\""}},
        BadFileCase{"TimeoutNotAScalar",
                    "endpoints:\n  - url: http://p\n    timeout: {seconds: 3}\n",
                    {"e.yaml:3: endpoints[0].timeout: must be a string, got a mapping"}},
        BadFileCase{"InlineBearerToken",
                    "endpoints:\n  - url: http://p\n    bearerToken: eyJhbGciOiJSUzI1NiJ9.x\n",
                    {"e.yaml:3: endpoints[0].bearerToken: inline credentials are not accepted: "
                     "put the token in a file (e.g. a mounted Secret) and name it with "
                     "bearerTokenFile"},
                    "",
                    "eyJhbGciOiJSUzI1NiJ9"},
        BadFileCase{"InlinePassword",
                    "endpoints:\n  - url: http://p\n    basicAuth:\n      username: u\n"
                    "      password: open-sesame\n",
                    {"e.yaml:5: endpoints[0].basicAuth.password: inline credentials are not "
                     "accepted: put the password in a file (e.g. a mounted Secret) and name it "
                     "with passwordFile"},
                    "",
                    "open-sesame"},
        BadFileCase{"InlinePasswordNextToAFile",
                    "endpoints:\n  - url: http://p\n    basicAuth: {username: u, passwordFile: "
                    "/p, password: open-sesame}\n",
                    {},
                    "endpoints[0].basicAuth.password: inline credentials are not accepted",
                    "open-sesame"},
        BadFileCase{"BasicAuthWithoutPasswordFile",
                    "endpoints:\n  - url: http://p\n    basicAuth:\n      username: u\n",
                    {"e.yaml:4: endpoints[0].basicAuth.passwordFile: required"}},
        BadFileCase{"BasicAuthWithoutUsername",
                    "endpoints:\n  - url: http://p\n    basicAuth: {passwordFile: /p}\n",
                    {"e.yaml:3: endpoints[0].basicAuth.username: required"}},
        BadFileCase{
            "BasicAuthNotAMapping",
            "endpoints:\n  - url: http://p\n    basicAuth: governor:hunter2\n",
            {"e.yaml:3: endpoints[0].basicAuth: must be a mapping {username, passwordFile}, "
             "got a string"},
            "",
            "hunter2"},
        BadFileCase{"BasicAuthUnknownField",
                    "endpoints:\n  - url: http://p\n    basicAuth:\n      username: u\n"
                    "      passwordFile: /p\n      user: v\n",
                    {"e.yaml:6: endpoints[0].basicAuth.user: unknown field"}},
        BadFileCase{"BasicAuthAndBearerToken",
                    "endpoints:\n  - url: http://p\n    bearerTokenFile: /t\n"
                    "    basicAuth: {username: u, passwordFile: /p}\n",
                    {"e.yaml:4: endpoints[0].basicAuth: cannot be combined with bearerTokenFile: "
                     "choose one"}},
        BadFileCase{"EmptyCaFile",
                    "endpoints:\n  - url: http://p\n    caFile: \"\"\n",
                    {"e.yaml:3: endpoints[0].caFile: must be a non-empty string, got \"\""}},
        BadFileCase{"InsecureNotABool",
                    "endpoints:\n  - url: http://p\n    insecureSkipVerify: 1\n",
                    {"e.yaml:3: endpoints[0].insecureSkipVerify: must be true or false, got "
                     "\"1\""}},
        BadFileCase{"HeadersNotAMapping",
                    "endpoints:\n  - url: http://p\n    headers: [X-Scope-OrgID]\n",
                    {"e.yaml:3: endpoints[0].headers: must be a mapping, got a list"}},
        BadFileCase{"HeaderValueNotAString",
                    "endpoints:\n  - url: http://p\n    headers:\n      X-Scope-OrgID: [a, b]\n",
                    {"e.yaml:4: endpoints[0].headers.X-Scope-OrgID: must be a string, got a "
                     "list"}},
        BadFileCase{"AuthorizationHeader",
                    "endpoints:\n  - url: http://p\n    headers:\n"
                    "      authorization: Bearer abc.def\n",
                    {"e.yaml:4: endpoints[0].headers.authorization: Authorization is not accepted "
                     "here; use bearerTokenFile or basicAuth, which read credentials from "
                     "files"},
                    "",
                    "abc.def"},
        BadFileCase{
            "BadHeaderName",
            "endpoints:\n  - url: http://p\n    headers: {\"X Tenant\": a}\n",
            {"e.yaml:3: endpoints[0].headers.X Tenant: \"X Tenant\" is not a valid header name"}},
        BadFileCase{"HeaderInjection",
                    "endpoints:\n  - url: http://p\n    headers:\n"
                    "      X-Scope-OrgID: \"a\\r\\nAuthorization: x\"\n",
                    {"e.yaml:4: endpoints[0].headers.X-Scope-OrgID: value must not contain CR, "
                     "LF or NUL"}},
        // Every problem at once, in document order, each under its own entry.
        BadFileCase{"EveryProblemAtOnce",
                    "endpoints:\n"
                    "  - url: ftp://p\n"
                    "    timeout: soon\n"
                    "  - url: http://q\n"
                    "    basicAuth: {username: u}\n"
                    "    color: blue\n"
                    "allowUnlistedAddresses: maybe\n",
                    {"e.yaml:7: allowUnlistedAddresses: must be true or false, got \"maybe\"",
                     "e.yaml:2: endpoints[0].url: must start with http:// or https://",
                     "e.yaml:3: endpoints[0].timeout: \"soon\": expected a number",
                     "e.yaml:6: endpoints[1].color: unknown field",
                     "e.yaml:5: endpoints[1].basicAuth.passwordFile: required"}}),
    [](const ::testing::TestParamInfo<BadFileCase>& info) { return info.param.name; });

// --- Reading the file. ---

TEST(LoadEndpointsConfigTest, ReadsTheFileAndNamesItInMessages) {
  governor::testing::TempDir dir;
  std::ofstream(dir.file("good.yaml")) << "endpoints:\n  - url: http://p:9090\n";
  std::ofstream(dir.file("bad.yaml")) << "endpoints:\n  - url: http://p:9090\n    timeout: -1s\n";

  auto good = loadEndpointsConfig(dir.file("good.yaml"));
  ASSERT_TRUE(good.ok()) << good.status().toString();
  EXPECT_EQ(good->by_address.count("http://p:9090"), 1u);

  auto bad = loadEndpointsConfig(dir.file("bad.yaml"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().rfind(dir.file("bad.yaml") + ":3: endpoints[0].timeout: ", 0),
            0u)
      << bad.status().message();
}

TEST(LoadEndpointsConfigTest, MissingFile) {
  governor::testing::TempDir dir;
  auto missing = loadEndpointsConfig(dir.file("absent.yaml"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(),
            "cannot read " + dir.file("absent.yaml") + ": No such file or directory");
}

TEST(LoadEndpointsConfigTest, RefusesMoreThanAConfigMapHolds) {
  governor::testing::TempDir dir;
  {
    std::ofstream out(dir.file("big.yaml"));
    out << "# " << std::string((1 << 20) - 1, 'x') << "\n";
  }
  auto big = loadEndpointsConfig(dir.file("big.yaml"));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().message(), dir.file("big.yaml") + ": larger than 1 MiB");
}

}  // namespace
}  // namespace governor::controller::prom
