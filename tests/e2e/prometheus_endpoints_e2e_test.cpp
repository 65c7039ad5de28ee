// The operator's Prometheus endpoints by address, end to end: the test API server, the test
// exporter serving one series, a real Prometheus that asks for basic auth, another that asks
// for nothing, and the real `governor operator` with --prometheus-endpoints. A policy whose
// metric names the configured address is read with that endpoint's credentials; an address
// the file does not list is refused when allowUnlistedAddresses is false, and read (with no
// credentials) when it is true. The password never reaches the operator's log.

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/e2e/e2e_support.h"
#include "tests/prometheus/test_prometheus.h"

namespace governor::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Distinctive, so that finding it in a log cannot be a coincidence.
constexpr char kPassword[] = "e2e-Pa55w0rd-q7Zx";
constexpr char kUser[] = "governor";
// 500 queued messages at 100 per replica: 5 replicas.
constexpr char kSeries[] = R"([{"name": "queue_messages", "labels": {"queue": "orders"},
                               "value": 500}])";
constexpr int kExpectedReplicas = 5;

// A bcrypt hash of `password` for Prometheus's basic_auth_users (cost 4: fast): Python's crypt
// module, as tests/prometheus/prometheus_integration_test.cpp makes it, else htpasswd.
// Returns "" when neither is available.
std::string bcryptHash(const std::string& password) {
  CommandResult r = runCommand({"/usr/bin/python3", "-W", "ignore", "-c",
                                "import crypt, sys; print(crypt.crypt(sys.argv[1], "
                                "crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
                                password},
                               30s);
  if (r.exit_code != 0 || r.out.rfind("$2", 0) != 0) {
    r = runCommand({"htpasswd", "-nbBC", "4", "x", password}, 30s);
    if (r.exit_code != 0 || r.out.rfind("x:$2", 0) != 0) return "";
    r.out = r.out.substr(2);
  }
  while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\r')) r.out.pop_back();
  return r.out;
}

// A ScalingPolicy shop/<name> on Deployment <target> with one metric read from `address`.
std::string policy(const std::string& name, const std::string& target, const std::string& address) {
  return "apiVersion: governor.io/v1alpha1\nkind: ScalingPolicy\n"
         "metadata: {name: " +
         name +
         ", namespace: shop}\n"
         "spec:\n"
         "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: " +
         target +
         "}\n"
         "  minReplicas: 1\n"
         "  maxReplicas: 20\n"
         "  metrics:\n"
         "    - name: queue\n"
         "      prometheus:\n"
         "        query: 'queue_messages{queue=\"orders\"}'\n"
         "        address: " +
         address +
         "\n"
         "      target: {type: AverageValue, averageValue: \"100\"}\n";
}

void writeFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// Successful /scale writes by the operator on Deployment shop/<name>.
size_t scaleWrites(E2eCluster& c, const std::string& name) {
  size_t n = 0;
  for (const json& r :
       c.audit("user=" + std::string(kOperatorUser) +
               "&resource=deployments&subresource=scale&verb=update&name=" + name)) {
    if (r.value("code", 0) == 200) ++n;
  }
  return n;
}

// The reason of ScalingPolicy shop/<name>'s ScalingActive condition; "" while it has none.
std::string scalingActiveReason(E2eCluster& c, const std::string& name) {
  const json condition = c.condition("ScalingActive", name);
  return condition.is_object() ? condition.value("reason", "") : "";
}

// An address nothing listens on, for the default endpoint: every metric here names its own.
std::string unusedUrl() { return "http://127.0.0.1:" + std::to_string(freeLoopbackPort()); }

// --- Bad flags are refused before anything starts: exit 2, the flag named. ---

struct BadFlagsCase {
  std::string name;
  std::vector<std::string> args;
  std::string error;  // A line of stderr.
};

class OperatorPrometheusFlagsTest : public ::testing::TestWithParam<BadFlagsCase> {};

TEST_P(OperatorPrometheusFlagsTest, ExitsTwoNamingTheFlag) {
  const BadFlagsCase& c = GetParam();
  std::vector<std::string> argv = {GOVERNOR_BINARY, "operator"};
  argv.insert(argv.end(), c.args.begin(), c.args.end());
  const CommandResult r = runCommand(argv, 30s);
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("error: " + c.error + "\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(kPassword), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Table, OperatorPrometheusFlagsTest,
    ::testing::Values(
        BadFlagsCase{
            "UserWithoutPasswordFile",
            {"--prometheus-url", "http://p:9090", "--prometheus-basic-auth-username", "u"},
            "--prometheus-basic-auth-username: needs --prometheus-basic-auth-password-file"},
        BadFlagsCase{
            "PasswordFileWithoutUser",
            {"--prometheus-url", "http://p:9090", "--prometheus-basic-auth-password-file", "/p"},
            "--prometheus-basic-auth-password-file: needs --prometheus-basic-auth-username"},
        BadFlagsCase{
            "BasicAuthAndBearerToken",
            {"--prometheus-url", "http://p:9090", "--prometheus-basic-auth-username", "u",
             "--prometheus-basic-auth-password-file", "/p", "--prometheus-bearer-token-file", "/t"},
            "--prometheus-bearer-token-file: cannot be combined with "
            "--prometheus-basic-auth-*: choose one"},
        BadFlagsCase{"EndpointsWithoutUrl",
                     {"--prometheus-endpoints", "/etc/governor/endpoints.yaml"},
                     "--prometheus-endpoints: needs --prometheus-url"},
        BadFlagsCase{"InsecureWithoutUrl",
                     {"--prometheus-insecure-skip-tls-verify"},
                     "--prometheus-insecure-skip-tls-verify: needs --prometheus-url"},
        BadFlagsCase{"UserInfoInUrl",
                     {"--prometheus-url", std::string("http://u:") + kPassword + "@p:9090"},
                     "--prometheus-url: must not carry user info (user:password@); use "
                     "--prometheus-basic-auth-username and --prometheus-basic-auth-password-file"},
        BadFlagsCase{
            "AuthorizationHeader",
            {"--prometheus-url", "http://p:9090", "--prometheus-header", "Authorization=Basic x"},
            "--prometheus-header: Authorization is not accepted here; use "
            "--prometheus-bearer-token-file or --prometheus-basic-auth-*, which read "
            "credentials from files"},
        BadFlagsCase{"ZeroTimeout",
                     {"--prometheus-url", "http://p:9090", "--prometheus-timeout", "0s"},
                     "--prometheus-timeout: must be positive"}),
    [](const ::testing::TestParamInfo<BadFlagsCase>& info) { return info.param.name; });

// --- A bad endpoints file stops start-up with the file's problems, and no secret. ---

TEST(PrometheusEndpointsE2eTest, BadEndpointsFileStopsStartUpNamingTheField) {
  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  TempDir dir;
  const std::string file = dir.file("endpoints.yaml");
  writeFile(file, std::string("endpoints:\n"
                              "  - url: http://127.0.0.1:9/prometheus\n"
                              "    timeout: 10x\n"
                              "    basicAuth:\n"
                              "      username: governor\n"
                              "      password: ") +
                      kPassword + "\n");
  auto op = c->startOperator("bad-file",
                             {"--prometheus-url", unusedUrl(), "--prometheus-endpoints", file});
  ASSERT_TRUE(op);
  const auto code = op->waitExit(30s);
  ASSERT_TRUE(code.has_value()) << op->logTail();
  EXPECT_EQ(*code, 1) << op->logTail();
  const std::string log = op->logTail(1 << 20);
  EXPECT_NE(log.find("--prometheus-endpoints: " + file + ":3: endpoints[0].timeout: "),
            std::string::npos)
      << log;
  EXPECT_NE(log.find(file + ":6: endpoints[0].basicAuth.password: inline credentials are not "
                            "accepted"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find(kPassword), std::string::npos) << log;

  // A valid file that also configures --prometheus-url: one server, two sets of credentials.
  const std::string default_url = unusedUrl();
  writeFile(file, "endpoints:\n  - url: " + default_url + "\n");
  auto op2 = c->startOperator("default-in-file",
                              {"--prometheus-url", default_url, "--prometheus-endpoints", file});
  ASSERT_TRUE(op2);
  const auto code2 = op2->waitExit(30s);
  ASSERT_TRUE(code2.has_value()) << op2->logTail();
  EXPECT_EQ(*code2, 1) << op2->logTail();
  EXPECT_NE(op2->logTail(1 << 20).find(
                "is --prometheus-url: configure the default endpoint with the --prometheus-* "
                "flags only"),
            std::string::npos)
      << op2->logTail();
}

// --- The configured endpoint gets its credentials; unlisted addresses obey the file. ---

TEST(PrometheusEndpointsE2eTest, ConfiguredAddressUsesItsCredentialsAndUnlistedOnesObeyTheFile) {
  const std::string hash = bcryptHash(kPassword);
  if (hash.empty()) GTEST_SKIP() << "no bcrypt: neither python3's crypt module nor htpasswd";

  auto c = E2eCluster::start(2);
  ASSERT_TRUE(c);
  c->kubectl({"-n", "shop", "create", "deployment", "api", "--image=nginx", "--replicas=2"});

  auto exporter = TestExporter::start();
  ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
  ASSERT_TRUE((*exporter)->setSeries(kSeries).ok());
  // `secured` asks for basic auth; `open` asks for nothing. Both scrape the exporter.
  auto secured = TestPrometheus::start(
      {.targets = {(*exporter)->target()},
       .web_config = std::string("basic_auth_users:\n  ") + kUser + ": '" + hash + "'\n",
       .curl_args = {"-u", std::string(kUser) + ":" + kPassword}});
  ASSERT_TRUE(secured.ok()) << secured.status().toString();
  auto open = TestPrometheus::start({.targets = {(*exporter)->target()}});
  ASSERT_TRUE(open.ok()) << open.status().toString();
  const std::string secured_url = (*secured)->url();
  const std::string open_url = (*open)->url();
  ASSERT_TRUE((*secured)->waitForSeries("queue_messages", 30s).ok()) << (*secured)->logTail();
  ASSERT_TRUE((*open)->waitForSeries("queue_messages", 30s).ok()) << (*open)->logTail();

  // The secured server really refuses a request without the password: a metric read from
  // it below is proof that the endpoint's credentials were sent.
  const CommandResult anonymous = runCommand({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                              secured_url + "/api/v1/query?query=queue_messages"},
                                             30s);
  ASSERT_EQ(anonymous.out, "401") << anonymous.err;

  TempDir dir;
  const std::string password_file = dir.file("password");
  writeFile(password_file, std::string(kPassword) + "\n");
  const std::string endpoints_file = dir.file("endpoints.yaml");
  auto endpoints = [&](bool allow_unlisted) {
    return "endpoints:\n"
           "  - url: " +
           secured_url +
           "\n"
           "    timeout: 5s\n"
           "    basicAuth: {username: " +
           kUser + ", passwordFile: " + password_file +
           "}\n"
           "    headers: {X-Scope-OrgID: tenant-a}\n"
           "allowUnlistedAddresses: " +
           (allow_unlisted ? "true" : "false") + "\n";
  };
  writeFile(endpoints_file, endpoints(false));

  c->kubectl({"apply", "-f", "-"}, policy("web", "web", secured_url));
  c->kubectl({"apply", "-f", "-"}, policy("api", "api", open_url));
  const std::vector<std::string> args = {"--sync-period",
                                         "5s",
                                         "--log-level",
                                         "debug",
                                         "--prometheus-url",
                                         unusedUrl(),
                                         "--prometheus-endpoints",
                                         endpoints_file};

  // Phase 1: allowUnlistedAddresses: false.
  auto op = c->startOperator("op-refusing", args);
  ASSERT_TRUE(op);
  ASSERT_TRUE(waitUntil([&] { return scalingActiveReason(*c, "web") == "ValidMetricFound"; }, 60s))
      << c->policyStatus("web").dump() << op->logTail();
  ASSERT_TRUE(waitUntil([&] { return c->replicas("web") == kExpectedReplicas; }, 30s))
      << "replicas " << c->replicas("web") << "\n"
      << c->policyStatus("web").dump() << op->logTail();

  // The unlisted address, although it would answer, is refused, saying why.
  ASSERT_TRUE(waitUntil([&] { return scalingActiveReason(*c, "api") == "FailedGetMetrics"; }, 60s))
      << c->policyStatus("api").dump() << op->logTail();
  const json refused = c->condition("ScalingActive", "api");
  ASSERT_TRUE(refused.is_object());
  EXPECT_EQ(refused.value("status", ""), "False") << refused.dump();
  const std::string why = refused.value("message", "");
  EXPECT_NE(why.find("address \"" + open_url + "\" is not a configured Prometheus endpoint"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("unlisted addresses are not allowed"), std::string::npos) << why;
  EXPECT_EQ(c->replicas("api"), 2);
  EXPECT_EQ(scaleWrites(*c, "api"), 0u);
  EXPECT_EQ(scaleWrites(*c, "web"), 1u);

  op->stop();
  const std::string log = op->logTail(1 << 20);
  // The log names the endpoint, its user and its password file, never the password.
  EXPECT_NE(log.find("basic auth as governor, password from " + password_file), std::string::npos)
      << log;
  EXPECT_EQ(log.find(kPassword), std::string::npos) << "the password is in the operator's log";

  // Phase 2: the same file with allowUnlistedAddresses: true. The unlisted address is read,
  // without credentials (the open server needs none), and its target scales.
  writeFile(endpoints_file, endpoints(true));
  auto op2 = c->startOperator("op-allowing", args);
  ASSERT_TRUE(op2);
  ASSERT_TRUE(waitUntil([&] { return scalingActiveReason(*c, "api") == "ValidMetricFound"; }, 60s))
      << c->policyStatus("api").dump() << op2->logTail();
  ASSERT_TRUE(waitUntil([&] { return c->replicas("api") == kExpectedReplicas; }, 30s))
      << "replicas " << c->replicas("api") << "\n"
      << c->policyStatus("api").dump() << op2->logTail();
  EXPECT_EQ(c->replicas("web"), kExpectedReplicas);
  EXPECT_EQ(scalingActiveReason(*c, "web"), "ValidMetricFound");
  op2->stop();
  const std::string log2 = op2->logTail(1 << 20);
  EXPECT_NE(log2.find("allowed, queried without credentials"), std::string::npos) << log2;
  EXPECT_EQ(log2.find(kPassword), std::string::npos) << "the password is in the operator's log";
}

}  // namespace
}  // namespace governor::testing
