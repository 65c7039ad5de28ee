// TLS against the test API server in HTTPS mode: the kubeconfig's CA file is trusted, a
// different CA (or the system store) is not, insecure-skip-tls-verify skips verification,
// and requests without credentials are refused.

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "controller/kube/client.h"
#include "tests/controller/kube/kube_fixture.h"

// cpprestsdk's thread pool is never joined, so at exit LeakSanitizer finds the OpenSSL
// per-thread state its threads allocated for TLS: error queues (ERR_clear_error runs on every
// TLS read) and the per-thread random generators. Not leaks of ours; suppressed by those
// frames, which needs full stacks (libcrypto has no frame pointers).
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
extern "C" const char* __lsan_default_suppressions() {
  return "leak:ERR_clear_error\n"
         "leak:RAND_get0_public\n"
         "leak:RAND_get0_private\n"
         "leak:EVP_RAND_instantiate\n"
         "leak:EVP_RAND_CTX_new\n";
}

namespace governor::controller::kube {
namespace {

class TlsIntegrationTest : public KubeServerTest {
 protected:
  governor::testing::TestApiServerOptions serverOptions() override {
    auto options = KubeServerTest::serverOptions();
    options.tls = true;
    return options;
  }
};

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(TlsIntegrationTest, VerifiesTheServerAgainstTheConfiguredCa) {
  ASSERT_EQ(config_.server.rfind("https://127.0.0.1:", 0), 0u) << config_.server;
  ASSERT_FALSE(config_.ca_data.empty());
  auto got = client_->get(kNamespaces.named("default"));
  ASSERT_TRUE(got.ok()) << got.status().toString();
  EXPECT_EQ(nameOf(*got), "default");

  // Another CA, valid but not the one that signed the server's certificate.
  governor::testing::TempDir dir;
  auto made = governor::testing::runCommand(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", dir.file("other.key"), "-out", dir.file("other.crt"), "-days", "1",
       "-subj", "/CN=other-ca"},
      std::chrono::seconds(30));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ClientConfig wrong_ca = config_;
  wrong_ca.ca_data = readAll(dir.file("other.crt"));
  auto refused = makeClient(wrong_ca, {.max_get_retries = 0})->get(kNamespaces.named("default"));
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().toString();
  EXPECT_NE(refused.status().message().find("handshake"), std::string::npos)
      << refused.status().message();

  // Without a CA the system store is used, which does not know the test CA either.
  ClientConfig system_store = config_;
  system_store.ca_data.clear();
  auto unknown =
      makeClient(system_store, {.max_get_retries = 0})->get(kNamespaces.named("default"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnavailable) << unknown.status().toString();

  ClientConfig insecure = system_store;
  insecure.insecure_skip_tls_verify = true;
  auto skipped = makeClient(insecure)->get(kNamespaces.named("default"));
  EXPECT_TRUE(skipped.ok()) << skipped.status().toString();
}

TEST_F(TlsIntegrationTest, CredentialsAreRequired) {
  ClientConfig anonymous = config_;
  anonymous.token.clear();
  auto denied = makeClient(anonymous)->get(kNamespaces.named("default"));
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().toString();
}

TEST(ClientConfigCheckTest, MalformedPemIsRejectedUpFront) {
  ClientConfig config;
  config.server = "https://127.0.0.1:1";
  config.origin = "test";
  config.ca_data = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  auto bad_ca = Client::fromConfig(config);
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_EQ(bad_ca.status().message(), "test: certificate authority: no valid PEM certificate");

  config.ca_data.clear();
  config.client_cert_data = "garbage";
  config.client_key_data = "garbage";
  auto bad_cert = Client::fromConfig(config);
  ASSERT_FALSE(bad_cert.ok());
  EXPECT_EQ(bad_cert.status().message(), "test: client certificate: no valid PEM certificate");

  config.client_cert_data.clear();
  config.client_key_data.clear();
  config.server = "127.0.0.1:6443";
  EXPECT_EQ(Client::fromConfig(config).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace governor::controller::kube
