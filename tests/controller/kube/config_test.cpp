#include "controller/kube/config.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>

#include "controller/kube/token_source.h"
#include "tests/support/process.h"

namespace governor::controller::kube {
namespace {

using governor::testing::TempDir;

void writeFile(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// "PEM-CA" and friends, base64: the kubeconfig layer does not parse PEM, the client does.
constexpr char kCaB64[] = "UEVNLUNB";        // "PEM-CA"
constexpr char kCertB64[] = "UEVNLUNFUlQ=";  // "PEM-CERT"
constexpr char kKeyB64[] = "UEVNLUtFWQ==";   // "PEM-KEY"

std::string kubeconfig(const std::string& clusters, const std::string& users,
                       const std::string& contexts, const std::string& current = "dev") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current + "\nclusters:\n" + clusters +
         "users:\n" + users + "contexts:\n" + contexts;
}

const std::string kCluster =
    "- name: c1\n  cluster:\n    server: https://10.0.0.1:6443/\n"
    "    certificate-authority-data: " +
    std::string(kCaB64) + "\n";
const std::string kTokenUser = "- name: u1\n  user:\n    token: secret-token\n";
const std::string kContext =
    "- name: dev\n  context:\n    cluster: c1\n    user: u1\n    namespace: web\n";

struct GoodCase {
  std::string name{};
  std::string yaml{};                          // Written to <dir>/kube/config.
  std::map<std::string, std::string> files{};  // Relative to <dir>/kube.
  std::string context{};
  // Expected; "<dir>" is replaced by the kubeconfig's directory.
  std::string server{}, ca{}, cert{}, key{}, token{}, token_file{}, namespace_{};
  bool insecure = false;
};

class KubeconfigGoodTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(KubeconfigGoodTest, Reads) {
  const GoodCase& c = GetParam();
  TempDir dir;
  const std::string kube_dir = dir.path() + "/kube";
  writeFile(kube_dir + "/config", c.yaml);
  for (const auto& [name, text] : c.files) writeFile(kube_dir + "/" + name, text);
  auto config = loadKubeconfig({kube_dir + "/config"}, c.context);
  ASSERT_TRUE(config.ok()) << config.status().toString();
  const auto expand = [&](std::string s) {
    if (auto at = s.find("<dir>"); at != std::string::npos) s.replace(at, 5, kube_dir);
    return s;
  };
  EXPECT_EQ(config->server, c.server);
  EXPECT_EQ(config->ca_data, c.ca);
  EXPECT_EQ(config->client_cert_data, c.cert);
  EXPECT_EQ(config->client_key_data, c.key);
  EXPECT_EQ(config->token, c.token);
  EXPECT_EQ(config->token_file, expand(c.token_file));
  EXPECT_EQ(config->namespace_, c.namespace_);
  EXPECT_EQ(config->insecure_skip_tls_verify, c.insecure);
  EXPECT_NE(config->origin.find(kube_dir + "/config"), std::string::npos) << config->origin;
}

INSTANTIATE_TEST_SUITE_P(
    Kubeconfigs, KubeconfigGoodTest,
    ::testing::Values(
        GoodCase{.name = "TokenAndCaData",
                 .yaml = kubeconfig(kCluster, kTokenUser, kContext),
                 .server = "https://10.0.0.1:6443",
                 .ca = "PEM-CA",
                 .token = "secret-token",
                 .namespace_ = "web"},
        GoodCase{.name = "RelativeTokenFileAndCaFile",
                 .yaml = kubeconfig("- name: c1\n  cluster:\n    server: https://h:443\n"
                                    "    certificate-authority: certs/ca.pem\n",
                                    "- name: u1\n  user:\n    tokenFile: token\n", kContext),
                 .files = {{"certs/ca.pem", "CA FROM FILE"}, {"token", "file-token\n"}},
                 .server = "https://h:443",
                 .ca = "CA FROM FILE",
                 .token_file = "<dir>/token",
                 .namespace_ = "web"},
        GoodCase{.name = "ClientCertificateData",
                 .yaml = kubeconfig(kCluster,
                                    "- name: u1\n  user:\n    client-certificate-data: " +
                                        std::string(kCertB64) +
                                        "\n    client-key-data: " + std::string(kKeyB64) + "\n",
                                    kContext),
                 .server = "https://10.0.0.1:6443",
                 .ca = "PEM-CA",
                 .cert = "PEM-CERT",
                 .key = "PEM-KEY",
                 .namespace_ = "web"},
        GoodCase{.name = "ClientCertificateFiles",
                 .yaml = kubeconfig(kCluster,
                                    "- name: u1\n  user:\n    client-certificate: tls/c.crt\n"
                                    "    client-key: tls/c.key\n",
                                    kContext),
                 .files = {{"tls/c.crt", "CERT FILE"}, {"tls/c.key", "KEY FILE"}},
                 .server = "https://10.0.0.1:6443",
                 .ca = "PEM-CA",
                 .cert = "CERT FILE",
                 .key = "KEY FILE",
                 .namespace_ = "web"},
        GoodCase{.name = "InsecureWithoutCa",
                 .yaml = kubeconfig("- name: c1\n  cluster:\n    server: https://h\n"
                                    "    insecure-skip-tls-verify: true\n",
                                    kTokenUser, kContext),
                 .server = "https://h",
                 .token = "secret-token",
                 .namespace_ = "web",
                 .insecure = true},
        GoodCase{.name = "InsecureFalseIsVerify",
                 .yaml = kubeconfig("- name: c1\n  cluster:\n    server: https://h\n"
                                    "    insecure-skip-tls-verify: false\n",
                                    kTokenUser, kContext),
                 .server = "https://h",
                 .token = "secret-token",
                 .namespace_ = "web"},
        GoodCase{
            .name = "ExplicitContext",
            .yaml = kubeconfig(kCluster + "- name: c2\n  cluster:\n    server: http://other:8080\n",
                               kTokenUser, kContext + "- name: prod\n  context:\n    cluster: c2\n",
                               "dev"),
            .context = "prod",
            .server = "http://other:8080"},
        GoodCase{.name = "AbsolutePathsStayAbsolute",
                 .yaml = kubeconfig("- name: c1\n  cluster:\n    server: https://h\n",
                                    "- name: u1\n  user:\n    tokenFile: /dev/null\n", kContext),
                 .server = "https://h",
                 .token_file = "/dev/null",
                 .namespace_ = "web"}),
    [](const auto& info) { return info.param.name; });

struct BadCase {
  std::string name;
  std::string yaml;
  std::string context;
  std::string error;  // After "<path>: ".
};

class KubeconfigBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(KubeconfigBadTest, NamesFileAndField) {
  const BadCase& c = GetParam();
  TempDir dir;
  const std::string path = dir.file("kubeconfig");
  writeFile(path, c.yaml);
  auto config = loadKubeconfig({path}, c.context);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), path + ": " + c.error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, KubeconfigBadTest,
    ::testing::Values(
        BadCase{"ClusterNotFound",
                kubeconfig(kCluster, kTokenUser, "- name: dev\n  context:\n    cluster: x\n"), "",
                "contexts[0].context.cluster: cluster \"x\" not found"},
        BadCase{"UserNotFound",
                kubeconfig(kCluster, kTokenUser,
                           "- name: dev\n  context:\n    cluster: c1\n    user: nobody\n"),
                "", "contexts[0].context.user: user \"nobody\" not found"},
        BadCase{"CurrentContextNotFound", kubeconfig(kCluster, kTokenUser, kContext, "gone"), "",
                "current-context: context \"gone\" not found"},
        BadCase{"ExplicitContextNotFound", kubeconfig(kCluster, kTokenUser, kContext), "gone",
                "context \"gone\" not found"},
        BadCase{"NoCurrentContext", kubeconfig(kCluster, kTokenUser, kContext, "\"\""), "",
                "current-context is not set and no context was given"},
        BadCase{"ServerMissing",
                kubeconfig("- name: c1\n  cluster:\n    certificate-authority-data: eA==\n",
                           kTokenUser, kContext),
                "", "clusters[0].cluster.server: missing"},
        BadCase{
            "ServerNotAUrl",
            kubeconfig("- name: c1\n  cluster:\n    server: 10.0.0.1:6443\n", kTokenUser, kContext),
            "", "clusters[0].cluster.server: \"10.0.0.1:6443\" is not an http:// or https:// URL"},
        BadCase{"BadBase64",
                kubeconfig("- name: c1\n  cluster:\n    server: https://h\n"
                           "    certificate-authority-data: \"@@@\"\n",
                           kTokenUser, kContext),
                "", "clusters[0].cluster.certificate-authority-data: not valid base64"},
        BadCase{"InsecureAndCa",
                kubeconfig("- name: c1\n  cluster:\n    server: https://h\n"
                           "    certificate-authority-data: eA==\n"
                           "    insecure-skip-tls-verify: true\n",
                           kTokenUser, kContext),
                "",
                "clusters[0].cluster.insecure-skip-tls-verify: a certificate authority and "
                "insecure-skip-tls-verify are both set; set only one"},
        BadCase{"InsecureNotABool",
                kubeconfig("- name: c1\n  cluster:\n    server: https://h\n"
                           "    insecure-skip-tls-verify: maybe\n",
                           kTokenUser, kContext),
                "",
                "clusters[0].cluster.insecure-skip-tls-verify: expected true or false, got "
                "\"maybe\""},
        BadCase{
            "ExecPlugin",
            kubeconfig(kCluster, "- name: u1\n  user:\n    exec:\n      command: aws\n", kContext),
            "",
            "users[0].user.exec: exec credential plugins are not supported; use a token, "
            "tokenFile or a client certificate"},
        BadCase{"AuthProvider",
                kubeconfig(kCluster, "- name: u1\n  user:\n    auth-provider:\n      name: gcp\n",
                           kContext),
                "",
                "users[0].user.auth-provider: auth-provider plugins are not supported; use a "
                "token, tokenFile or a client certificate"},
        BadCase{"CertDataAndFile",
                kubeconfig(kCluster,
                           "- name: u1\n  user:\n    client-certificate-data: eA==\n"
                           "    client-certificate: c.crt\n    client-key-data: eA==\n",
                           kContext),
                "",
                "users[0].user.client-certificate-data: both client-certificate-data and "
                "client-certificate are set; set only one"},
        BadCase{"CertWithoutKey",
                kubeconfig(kCluster, "- name: u1\n  user:\n    client-certificate-data: eA==\n",
                           kContext),
                "", "users[0].user: client-certificate without client-key"},
        BadCase{"ClustersNotAList", "clusters: {a: 1}\n", "", "clusters: expected a list"},
        BadCase{"EntryWithoutName", "clusters:\n- cluster:\n    server: https://h\n", "",
                "clusters[0].name: missing"},
        BadCase{"NotAMapping", "- a\n- b\n", "", "not a kubeconfig (expected a mapping)"},
        BadCase{"YamlSyntax", "clusters: [\n", "", "line 2: end of sequence flow not found"}),
    [](const auto& info) { return info.param.name; });

// Some messages end with an errno text that varies; compare their start.
TEST(KubeconfigBadTest, MissingFileMessagesStartWithPathAndField) {
  TempDir dir;
  const std::string path = dir.file("kubeconfig");
  writeFile(path, kubeconfig("- name: c1\n  cluster:\n    server: https://h\n"
                             "    certificate-authority: nope.pem\n",
                             kTokenUser, kContext));
  auto config = loadKubeconfig({path});
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message().rfind(
                path + ": clusters[0].cluster.certificate-authority: cannot read \"" + dir.path() +
                    "/nope.pem\"",
                0),
            0u)
      << config.status().message();
  writeFile(path,
            kubeconfig(kCluster, "- name: u1\n  user:\n    tokenFile: missing-token\n", kContext));
  auto token = loadKubeconfig({path});
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(
      token.status().message().rfind(
          path + ": users[0].user.tokenFile: cannot read \"" + dir.path() + "/missing-token\"", 0),
      0u)
      << token.status().message();
}

TEST(KubeconfigMergeTest, FirstFileWinsPerKeyAndForCurrentContext) {
  TempDir dir;
  const std::string first = dir.file("first");
  const std::string second = dir.file("second");
  // first: cluster c1 and user u1, no current-context.
  writeFile(first,
            "clusters:\n- name: c1\n  cluster:\n    server: https://first\n"
            "users:\n- name: u1\n  user:\n    token: first-token\n");
  // second: another c1 (ignored), context dev, current-context dev, user u1 (ignored).
  writeFile(second,
            "current-context: dev\n"
            "clusters:\n- name: c1\n  cluster:\n    server: https://second\n"
            "users:\n- name: u1\n  user:\n    token: second-token\n"
            "contexts:\n- name: dev\n  context:\n    cluster: c1\n    user: u1\n");
  auto config = loadKubeconfig({dir.file("missing"), first, second}, "", /*skip_missing=*/true);
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->server, "https://first");
  EXPECT_EQ(config->token, "first-token");

  // Without skip_missing, a missing file is an error naming it.
  auto strict = loadKubeconfig({dir.file("missing"), first, second});
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find(dir.file("missing")), std::string::npos);

  // None of the files exist: NotFound, so the caller can look elsewhere.
  auto none = loadKubeconfig({dir.file("a"), dir.file("b")}, "", true);
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
}

TEST(KubeconfigMergeTest, ErrorsNameTheFileThatDefinedTheEntry) {
  TempDir dir;
  writeFile(dir.file("a"), "current-context: dev\n");
  writeFile(dir.file("b"),
            "contexts:\n- name: x\n  context: {cluster: c}\n"
            "- name: dev\n  context:\n    cluster: nowhere\n");
  auto config = loadKubeconfig({dir.file("a"), dir.file("b")}, "", true);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().message(),
            dir.file("b") + ": contexts[1].context.cluster: cluster \"nowhere\" not found");
}

// An environment for the resolution order tests.
EnvLookup envOf(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

void writeServiceAccount(const std::string& root, const std::string& ns = "team-a") {
  writeFile(root + "/token", "sa-token\n");
  writeFile(root + "/ca.crt", "SA CA");
  if (!ns.empty()) writeFile(root + "/namespace", ns);
}

TEST(InClusterConfigTest, ReadsServiceAccount) {
  TempDir dir;
  writeServiceAccount(dir.path());
  auto config = inClusterConfig({.root = dir.path(),
                                 .env = envOf({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                               {"KUBERNETES_SERVICE_PORT", "443"}})});
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->token_file, dir.path() + "/token");
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->ca_data, "SA CA");
  EXPECT_EQ(config->namespace_, "team-a");
  EXPECT_EQ(config->origin, "in-cluster");
}

TEST(InClusterConfigTest, Ipv6HostInBrackets) {
  TempDir dir;
  writeServiceAccount(dir.path(), "");
  auto config = inClusterConfig({.root = dir.path(),
                                 .env = envOf({{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                                               {"KUBERNETES_SERVICE_PORT", "6443"}})});
  ASSERT_TRUE(config.ok()) << config.status().toString();
  EXPECT_EQ(config->server, "https://[fd00::1]:6443");
  EXPECT_EQ(config->namespace_, "");
}

TEST(InClusterConfigTest, Errors) {
  TempDir dir;
  auto outside = inClusterConfig({.root = dir.path(), .env = envOf({})});
  EXPECT_EQ(outside.status().code(), StatusCode::kNotFound);
  const auto env = envOf({{"KUBERNETES_SERVICE_HOST", "h"}, {"KUBERNETES_SERVICE_PORT", "1"}});
  auto no_token = inClusterConfig({.root = dir.path(), .env = env});
  EXPECT_EQ(no_token.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_token.status().message().find(dir.path() + "/token"), std::string::npos)
      << no_token.status().message();
  writeFile(dir.path() + "/token", "t");
  auto no_ca = inClusterConfig({.root = dir.path(), .env = env});
  EXPECT_EQ(no_ca.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_ca.status().message().find("ca.crt"), std::string::npos);
}

TEST(LoadClientConfigTest, ResolutionOrder) {
  TempDir dir;
  const auto config_with = [&](const std::string& name, const std::string& server) {
    const std::string path = dir.file(name);
    writeFile(path, kubeconfig("- name: c1\n  cluster:\n    server: " + server + "\n", kTokenUser,
                               kContext));
    return path;
  };
  const std::string flag = config_with("flag", "https://flag");
  const std::string env_file = config_with("env", "https://env");
  const std::string home = dir.path() + "/home";
  config_with("home/.kube/config", "https://home");
  const std::string sa = dir.path() + "/sa";
  writeServiceAccount(sa);
  const std::map<std::string, std::string> in_cluster_env = {
      {"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}, {"HOME", home}};

  struct Case {
    std::string name;
    std::string flag;
    std::map<std::string, std::string> env;
    std::string server;
  };
  std::map<std::string, std::string> with_kubeconfig = in_cluster_env;
  with_kubeconfig["KUBECONFIG"] = dir.file("absent") + ":" + env_file;
  std::map<std::string, std::string> only_missing = in_cluster_env;
  only_missing["KUBECONFIG"] = dir.file("absent");
  const std::vector<Case> cases = {
      {"FlagFirst", flag, with_kubeconfig, "https://flag"},
      {"ThenKubeconfigEnv", "", with_kubeconfig, "https://env"},
      {"ThenInClusterWhenEnvFilesMissing", "", only_missing, "https://10.0.0.1:443"},
      {"ThenHome", "", {{"HOME", home}}, "https://home"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto config =
        loadClientConfig({.kubeconfig = c.flag, .in_cluster = {.root = sa, .env = envOf(c.env)}});
    ASSERT_TRUE(config.ok()) << config.status().toString();
    EXPECT_EQ(config->server, c.server);
  }
  auto nothing =
      loadClientConfig({.in_cluster = {.root = sa, .env = envOf({{"HOME", dir.file("nohome")}})}});
  EXPECT_EQ(nothing.status().code(), StatusCode::kNotFound);
  auto missing_flag = loadClientConfig({.kubeconfig = dir.file("absent")});
  EXPECT_EQ(missing_flag.status().code(), StatusCode::kInvalidArgument);
}

TEST(Base64Test, DecodesAndRejects) {
  EXPECT_EQ(*decodeBase64("aGVsbG8="), "hello");
  EXPECT_EQ(*decodeBase64("aGVs\nbG8"), "hello");
  EXPECT_EQ(*decodeBase64(""), "");
  EXPECT_FALSE(decodeBase64("aGVsbG8=x").ok());
  EXPECT_FALSE(decodeBase64("a").ok());
  EXPECT_FALSE(decodeBase64("a-b_").ok());
}

// Projected service-account tokens rotate: the file is re-read after the refresh period
// and at once after a 401 (invalidate), and a failed re-read keeps the last token.
TEST(TokenSourceTest, RereadsRotatedTokenFile) {
  TempDir dir;
  const std::string path = dir.file("token");
  writeFile(path, "first\n");
  TimePoint now = fromUnixSeconds(1'700'000'000);
  TokenSource source("", path, std::chrono::seconds(60), [&] { return now; });
  EXPECT_EQ(*source.token(), "first");
  writeFile(path, "second");
  now += std::chrono::seconds(59);
  EXPECT_EQ(*source.token(), "first") << "re-read before the period";
  now += std::chrono::seconds(1);
  EXPECT_EQ(*source.token(), "second");
  writeFile(path, "third");
  EXPECT_TRUE(source.invalidate());
  EXPECT_EQ(*source.token(), "third") << "a 401 forces a re-read";
  std::filesystem::remove(path);
  now += std::chrono::minutes(5);
  EXPECT_EQ(*source.token(), "third") << "keeps the last token while the file is missing";
  EXPECT_EQ(source.reads(), 4);
}

TEST(TokenSourceTest, StaticTokenAndUnreadableFile) {
  TokenSource fixed("abc", "");
  EXPECT_EQ(*fixed.token(), "abc");
  EXPECT_FALSE(fixed.invalidate());
  TempDir dir;
  TokenSource missing("", dir.file("nope"));
  auto token = missing.token();
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(token.status().message().find(dir.file("nope")), std::string::npos);
}

}  // namespace
}  // namespace governor::controller::kube
