// The client and the metrics source against a real Prometheus (/usr/bin/prometheus) scraping
// the test exporter, both started on free loopback ports and stopped by the fixtures.
// Query times are the wall clock's: a real Prometheus stores samples at real times.

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include <cpprest/http_listener.h>
#include <gtest/gtest.h>

#include "controller/clock.h"
#include "controller/prometheus/client.h"
#include "controller/prometheus/metrics_source.h"
#include "policies/query_template.h"
#include "tests/prometheus/test_prometheus.h"
#include "tests/support/process.h"

// LeakSanitizer: OpenSSL's per-thread error state, allocated by Boost.Asio's TLS engine
// (boost::asio::ssl::detail::engine::perform) on cpprestsdk's pool threads, which cpprestsdk
// never joins, so OpenSSL never frees it; only the TLS test makes any. The default (fast)
// unwinder stops inside libcrypto, so the suppression can only name the library.
extern "C" const char* __lsan_default_suppressions() {  // NOLINT(bugprone-reserved-identifier)
  return "leak:libcrypto.so\n";
}

namespace governor::controller::prom {
namespace {

using governor::policies::renderQuery;
using governor::testing::ClosedLoopOptions;
using governor::testing::runCommand;
using governor::testing::TestExporter;
using governor::testing::TestPrometheus;
using governor::testing::TestPrometheusOptions;
using std::chrono::seconds;

constexpr auto kSeriesTimeout = seconds(30);

TimePoint now() { return SystemClock().now(); }

MetricQuery metric(std::string name, std::string query, bool per_pod = false) {
  MetricQuery q;
  q.name = std::move(name);
  q.query = std::move(query);
  q.per_pod = per_pod;
  return q;
}

// Series served by the shared exporter. Namespaces tell the tests apart.
constexpr char kSeries[] = R"([
  {"name": "test_value", "labels": {"namespace": "prod", "pod": "web-1", "app": "web", "tier": "a"}, "value": 1.5},
  {"name": "test_value", "labels": {"namespace": "prod", "pod": "web-2", "app": "web", "tier": "b"}, "value": 2.5},
  {"name": "test_value", "labels": {"namespace": "prod", "pod": "web-3", "app": "web", "tier": "c"}, "value": 4},
  {"name": "test_value", "labels": {"namespace": "prod", "pod": "web-4", "app": "web", "tier": "a", "canary": "true"}, "value": 8},
  {"name": "test_value", "labels": {"namespace": "other", "pod": "api-1", "app": "api"}, "value": 100},
  {"name": "test_value", "labels": {"namespace": "regex", "pod": "web.1-abc"}, "value": 1},
  {"name": "test_value", "labels": {"namespace": "regex", "pod": "webx1-abc"}, "value": 1},
  {"name": "test_nan", "labels": {"namespace": "prod", "pod": "web-1"}, "value": "NaN"},
  {"name": "test_nan", "labels": {"namespace": "prod", "pod": "web-2"}, "value": 3},
  {"name": "test_inf", "labels": {"namespace": "prod"}, "value": "+Inf"}
])";

class PrometheusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto exporter = TestExporter::start();
    ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
    exporter_ = std::move(exporter).value().release();
    ASSERT_TRUE(exporter_->setSeries(kSeries).ok());
    auto prometheus = TestPrometheus::start({.targets = {exporter_->target()}});
    ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
    prometheus_ = std::move(prometheus).value().release();
    for (const char* q : {"test_value", "test_nan", "test_inf"}) {
      const Status s = prometheus_->waitForSeries(q, kSeriesTimeout);
      ASSERT_TRUE(s.ok()) << s.toString() << "\n" << prometheus_->logTail();
    }
  }
  static void TearDownTestSuite() {
    delete prometheus_;
    prometheus_ = nullptr;
    delete exporter_;
    exporter_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(prometheus_, nullptr) << "the shared Prometheus did not start";
    auto c = PrometheusClient::create({.url = prometheus_->url()});
    ASSERT_TRUE(c.ok()) << c.status().toString();
    client_ = std::move(c).value();
  }

  static TestExporter* exporter_;
  static TestPrometheus* prometheus_;
  std::unique_ptr<PrometheusClient> client_;
};

TestExporter* PrometheusTest::exporter_ = nullptr;
TestPrometheus* PrometheusTest::prometheus_ = nullptr;

std::map<std::string, double> valuesByPod(const QueryResult& r) {
  std::map<std::string, double> out;
  for (const Series& s : r.series) out[s.labels.at("pod")] = s.samples.at(0).value;
  return out;
}

TEST_F(PrometheusTest, InstantVector) {
  auto r = client_->query(R"(test_value{namespace="prod"})", now());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, ResultType::kVector);
  EXPECT_EQ(valuesByPod(*r), (std::map<std::string, double>{
                                 {"web-1", 1.5}, {"web-2", 2.5}, {"web-3", 4}, {"web-4", 8}}));
  EXPECT_EQ(r->series[0].labels.at("__name__"), "test_value");
  EXPECT_EQ(r->series[0].labels.at("job"), "test");
}

struct TypeCase {
  std::string name;
  std::string query;
  ResultType type;
};

class ResultTypeTest : public PrometheusTest, public ::testing::WithParamInterface<TypeCase> {};

TEST_P(ResultTypeTest, IsReported) {
  const TypeCase& c = GetParam();
  auto r = client_->query(c.query, now());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, c.type) << resultTypeName(r->type);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ResultTypeTest,
    ::testing::Values(TypeCase{"Vector", "vector(1)", ResultType::kVector},
                      TypeCase{"Scalar", "scalar(vector(2.5))", ResultType::kScalar},
                      TypeCase{"ScalarLiteral", "2.5", ResultType::kScalar},
                      TypeCase{"Matrix", R"(test_value{namespace="prod"}[10s])",
                               ResultType::kMatrix},
                      TypeCase{"String", R"("hello")", ResultType::kString}),
    [](const ::testing::TestParamInfo<TypeCase>& info) { return info.param.name; });

TEST_F(PrometheusTest, ScalarAndStringValues) {
  const TimePoint at = now();
  auto s = client_->query("scalar(vector(2.5))", at);
  ASSERT_TRUE(s.ok()) << s.status().toString();
  EXPECT_EQ(s->scalar.value, 2.5);
  EXPECT_EQ(s->scalar.timestamp, at);  // Evaluated at the time asked, to the millisecond.
  auto str = client_->query(R"("hello")", at);
  ASSERT_TRUE(str.ok()) << str.status().toString();
  EXPECT_EQ(str->string, "hello");
}

TEST_F(PrometheusTest, MatrixFromARangeSelector) {
  auto r = client_->query(R"(test_value{namespace="prod",pod="web-1"}[30s])", now());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->series.size(), 1u);
  ASSERT_GE(r->series[0].samples.size(), 1u);
  for (const Sample& s : r->series[0].samples) EXPECT_EQ(s.value, 1.5);
}

TEST_F(PrometheusTest, NaNAndInfinitiesAreFaithful) {
  const TimePoint at = now();
  auto nan = client_->query("0/0", at);
  ASSERT_TRUE(nan.ok()) << nan.status().toString();
  EXPECT_TRUE(std::isnan(nan->scalar.value));
  auto inf = client_->query("1/0", at);
  ASSERT_TRUE(inf.ok());
  EXPECT_EQ(inf->scalar.value, std::numeric_limits<double>::infinity());
  auto ninf = client_->query("-1/0", at);
  ASSERT_TRUE(ninf.ok());
  EXPECT_EQ(ninf->scalar.value, -std::numeric_limits<double>::infinity());
  // Scraped NaN and +Inf, stored and returned as such.
  auto scraped = client_->query("test_nan", at);
  ASSERT_TRUE(scraped.ok());
  const auto by_pod = valuesByPod(*scraped);
  EXPECT_TRUE(std::isnan(by_pod.at("web-1")));
  EXPECT_EQ(by_pod.at("web-2"), 3.0);
  auto scraped_inf = client_->query("test_inf", at);
  ASSERT_TRUE(scraped_inf.ok());
  ASSERT_EQ(scraped_inf->series.size(), 1u);
  EXPECT_EQ(scraped_inf->series[0].samples[0].value, std::numeric_limits<double>::infinity());
}

TEST_F(PrometheusTest, EmptyResultStaysEmpty) {
  auto r = client_->query("nonexistent_metric", now());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, ResultType::kVector);
  EXPECT_TRUE(r->series.empty());
}

TEST_F(PrometheusTest, BadQueryIsInvalidArgumentNamingTheQuery) {
  auto r = client_->query("sum(rate(test_value[1m])", now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().toString();
  EXPECT_NE(r.status().message().find("prometheus query \"sum(rate(test_value[1m])\""),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("bad_data"), std::string::npos) << r.status().message();
}

TEST_F(PrometheusTest, LongQueriesArePosted) {
  auto c = PrometheusClient::create({.url = prometheus_->url(), .post_above_bytes = 0});
  ASSERT_TRUE(c.ok());
  // Long and full of characters that need encoding.
  std::string alternatives = "web-1";
  for (int i = 0; i < 300; ++i) alternatives += "|nope-" + std::to_string(i) + "&=+%";
  auto r =
      (*c)->query(R"(sum(test_value{namespace="prod",pod=~")" + alternatives + R"("}))", now());
  ASSERT_TRUE(r.ok()) << r.status().toString();
  ASSERT_EQ(r->series.size(), 1u);
  EXPECT_EQ(r->series[0].samples[0].value, 1.5);
}

TEST_F(PrometheusTest, RangeQuery) {
  // History exists from the first scrape on; ask for the last few seconds.
  const TimePoint end = now();
  const TimePoint start = end - seconds(4);
  auto r = client_->queryRange(R"(sum(test_value{namespace="prod"}))", start, end, seconds(1));
  ASSERT_TRUE(r.ok()) << r.status().toString();
  EXPECT_EQ(r->type, ResultType::kMatrix);
  ASSERT_EQ(r->series.size(), 1u);
  ASSERT_FALSE(r->series[0].samples.empty());
  for (const Sample& s : r->series[0].samples) {
    EXPECT_EQ(s.value, 16.0);
    EXPECT_GE(s.timestamp, start);
    EXPECT_LE(s.timestamp, end);
  }
  auto series =
      queryRangeSeries(*client_, R"(sum(test_value{namespace="prod"}))", start, end, seconds(1));
  ASSERT_TRUE(series.ok()) << series.status().toString();
  EXPECT_EQ(series->size(), r->series[0].samples.size());
  auto several = queryRangeSeries(*client_, "test_value", start, end, seconds(1));
  EXPECT_EQ(several.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(PrometheusTest, PerPodVectorThroughTheMetricsSource) {
  auto source = PrometheusMetricsSource::create({.url = prometheus_->url()});
  ASSERT_TRUE(source.ok()) << source.status().toString();
  const MetricQuery per_pod = metric("rps", R"(test_value{namespace="prod"})", true);
  const MetricQuery nan = metric("nan", "test_nan", true);
  const MetricQuery total = metric("total", R"(sum(test_value{namespace="prod"}))");
  const MetricQuery missing = metric("missing", "nonexistent_metric");
  auto snap = (*source)->fetch({per_pod, nan, total, missing}, now());
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  const auto& pods = snap->samples.at("rps").per_pod;
  ASSERT_EQ(pods.size(), 4u);
  EXPECT_EQ(pods.at("web-4").value, 8.0);
  EXPECT_TRUE(std::isnan(snap->samples.at("nan").per_pod.at("web-1").value));
  EXPECT_EQ(snap->samples.at("total").value, 16.0);
  EXPECT_EQ(snap->samples.count("missing"), 0u);
}

// How many instant queries this Prometheus has served: its own counter, read from its
// /metrics page (a request to another handler, so reading does not change it).
double servedQueries(TestPrometheus& p) {
  auto text = p.get("/metrics");
  EXPECT_TRUE(text.ok()) << text.status().toString();
  if (!text.ok()) return -1;
  double total = 0;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("prometheus_http_requests_total{", 0) != 0) continue;
    if (line.find(R"(handler="/api/v1/query")") == std::string::npos) continue;
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

TEST_F(PrometheusTest, IdenticalQueriesInOneRoundAreSentOnce) {
  constexpr int kPolicies = 5;
  const MetricQuery q = metric("cpu", R"(sum(test_value{namespace="prod"}))");
  for (const bool dedupe : {true, false}) {
    SCOPED_TRACE(dedupe ? "dedupe" : "no dedupe");
    auto source = PrometheusMetricsSource::create(
        {.url = prometheus_->url()}, {},
        {.dedupe_window = dedupe ? Duration(5'000) : Duration::zero()});
    ASSERT_TRUE(source.ok());
    const double before = servedQueries(*prometheus_);
    const TimePoint round = now();
    for (int i = 0; i < kPolicies; ++i) {
      auto snap = (*source)->fetch({q}, round + std::chrono::milliseconds(100 * i));
      ASSERT_TRUE(snap.ok()) << snap.status().toString();
      EXPECT_EQ(snap->samples.at("cpu").value, 16.0);
    }
    const int sent = dedupe ? 1 : kPolicies;
    EXPECT_EQ((*source)->counters().queries_sent, static_cast<uint64_t>(sent));
    EXPECT_EQ((*source)->counters().cache_hits, static_cast<uint64_t>(kPolicies - sent));
    // Prometheus counts a request once its answer is written: wait for the count to reach
    // what was sent. A count can only grow, so any excess still shows.
    double after = before;
    governor::testing::waitUntil(
        [&] {
          after = servedQueries(*prometheus_);
          return after >= before + sent;
        },
        seconds(5));
    EXPECT_EQ(after - before, sent);
  }
}

// A crafted value cannot widen what a rendered template selects.
TEST_F(PrometheusTest, CraftedNamesCannotInject) {
  const std::string tmpl = R"(count(test_value{namespace="{{namespace}}"}))";
  const std::string hostile = R"q(nobody"}) or vector(1) #)q";
  auto rendered = renderQuery(tmpl, {.namespace_ = hostile, .name = "p", .target = "t"});
  ASSERT_TRUE(rendered.ok()) << rendered.status().toString();
  auto safe = client_->query(*rendered, now());
  ASSERT_TRUE(safe.ok()) << safe.status().toString();
  EXPECT_TRUE(safe->series.empty()) << "selected " << safe->series.size() << " series";

  // The same value spliced in as text (the old substitution) does inject: the check above can
  // fail.
  std::string naive = tmpl;
  naive.replace(naive.find("{{namespace}}"), 13, hostile);
  auto injected = client_->query(naive, now());
  ASSERT_TRUE(injected.ok()) << injected.status().toString();
  ASSERT_EQ(injected->series.size(), 1u);
  EXPECT_EQ(injected->series[0].samples[0].value, 1.0);  // vector(1)

  // A regex matcher: a dot in a name is a dot.
  const std::string by_target = R"(count(test_value{namespace="regex",pod=~"{{target}}-.*"}))";
  auto regex = renderQuery(by_target, {.namespace_ = "regex", .name = "p", .target = "web.1"});
  ASSERT_TRUE(regex.ok());
  auto counted = client_->query(*regex, now());
  ASSERT_TRUE(counted.ok()) << counted.status().toString();
  ASSERT_EQ(counted->series.size(), 1u);
  EXPECT_EQ(counted->series[0].samples[0].value, 1.0);  // web.1-abc, not webx1-abc.
  std::string naive_regex = by_target;
  naive_regex.replace(naive_regex.find("{{target}}"), 10, "web.1");
  auto naive_counted = client_->query(naive_regex, now());
  ASSERT_TRUE(naive_counted.ok());
  EXPECT_EQ(naive_counted->series.at(0).samples.at(0).value, 2.0);
}

TEST_F(PrometheusTest, SelectorSelectsWhatKubernetesWould) {
  struct Case {
    std::string selector;
    double count;  // Pods of namespace prod the selector matches.
  };
  for (const Case& c : {Case{"app=web", 4}, Case{"app=web,tier in (a,b),!canary", 2},
                        Case{"tier notin (a)", 2}, Case{"canary", 1}, Case{"app!=web", 0}}) {
    auto q =
        renderQuery(R"(count(test_value{namespace="{{namespace}}",{{selector}}}) or vector(0))",
                    {.namespace_ = "prod", .name = "p", .target = "t", .selector = c.selector});
    ASSERT_TRUE(q.ok()) << q.status().toString();
    auto r = client_->query(*q, now());
    ASSERT_TRUE(r.ok()) << *q << ": " << r.status().toString();
    ASSERT_EQ(r->series.size(), 1u) << *q;
    EXPECT_EQ(r->series[0].samples[0].value, c.count) << c.selector << " -> " << *q;
  }
}

TEST(PrometheusServer, StoppedServerIsUnavailable) {
  auto prometheus = TestPrometheus::start();
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
  auto c = PrometheusClient::create({.url = (*prometheus)->url(), .timeout = seconds(5)});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->query("vector(1)", now()).ok());
  (*prometheus)->stop();
  auto r = (*c)->query("vector(1)", now());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().toString();
  EXPECT_NE(r.status().message().find("prometheus query \"vector(1)\""), std::string::npos);

  auto source = PrometheusMetricsSource::create({.url = (*prometheus)->url()});
  ASSERT_TRUE(source.ok());
  auto snap = (*source)->fetch({metric("cpu", "vector(1)")}, now());
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(snap.status().message().find("metric cpu"), std::string::npos);
}

// --- TLS and basic auth, served by Prometheus's own web config. ---

// A self-signed certificate for IP:127.0.0.1 with the openssl command.
bool makeCertificate(const governor::testing::TempDir& dir) {
  auto r = runCommand(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
       "-nodes", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem"), "-days", "2",
       "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"},
      seconds(30));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

TEST(PrometheusServer, TlsIsVerifiedByDefault) {
  governor::testing::TempDir certs;
  ASSERT_TRUE(makeCertificate(certs));
  auto prometheus = TestPrometheus::start(
      {.web_config = "tls_server_config:\n  cert_file: " + certs.file("cert.pem") +
                     "\n  key_file: " + certs.file("key.pem") + "\n"});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
  const std::string url = (*prometheus)->url();
  ASSERT_EQ(url.rfind("https://", 0), 0u) << url;

  auto trusted = PrometheusClient::create({.url = url, .ca_file = certs.file("cert.pem")});
  ASSERT_TRUE(trusted.ok()) << trusted.status().toString();
  auto ok = (*trusted)->query("vector(1)", now());
  EXPECT_TRUE(ok.ok()) << ok.status().toString();

  auto untrusted = PrometheusClient::create({.url = url});
  ASSERT_TRUE(untrusted.ok());
  auto refused = (*untrusted)->query("vector(1)", now());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().toString();

  auto insecure = PrometheusClient::create({.url = url, .insecure_skip_tls_verify = true});
  ASSERT_TRUE(insecure.ok());
  EXPECT_TRUE((*insecure)->query("vector(1)", now()).ok());
}

TEST(PrometheusServer, BasicAuth) {
  // Prometheus keeps bcrypt hashes; Python's crypt module makes one (cost 4: fast).
  auto hash = runCommand({"/usr/bin/python3", "-W", "ignore", "-c",
                          "import crypt; print(crypt.crypt('open sesame', "
                          "crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))"},
                         seconds(30));
  if (hash.exit_code != 0 || hash.out.rfind("$2", 0) != 0) {
    GTEST_SKIP() << "no bcrypt in python3's crypt module: " << hash.err;
  }
  while (!hash.out.empty() && hash.out.back() == '\n') hash.out.pop_back();
  auto prometheus =
      TestPrometheus::start({.web_config = "basic_auth_users:\n  alice: '" + hash.out + "'\n",
                             .curl_args = {"-u", "alice:open sesame"}});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
  governor::testing::TempDir dir;
  {
    std::ofstream(dir.file("good")) << "open sesame\n";
    std::ofstream(dir.file("bad")) << "let me in\n";
  }
  auto good = PrometheusClient::create({.url = (*prometheus)->url(),
                                        .basic_auth_username = "alice",
                                        .basic_auth_password_file = dir.file("good")});
  ASSERT_TRUE(good.ok());
  auto r = (*good)->query("vector(1)", now());
  EXPECT_TRUE(r.ok()) << r.status().toString();

  auto bad = PrometheusClient::create({.url = (*prometheus)->url(),
                                       .basic_auth_username = "alice",
                                       .basic_auth_password_file = dir.file("bad")});
  ASSERT_TRUE(bad.ok());
  auto denied = (*bad)->query("vector(1)", now());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied) << denied.status().toString();
  EXPECT_EQ(denied.status().message().find("let me in"), std::string::npos);
}

// --- The exporter's closed-loop mode, against a fake API server. ---

// Answers the two requests the exporter makes, as kube-apiserver would; counts them.
class FakeApiServer {
 public:
  explicit FakeApiServer(int port)
      : listener_(web::uri("http://127.0.0.1:" + std::to_string(port))), port_(port) {
    listener_.support([this](web::http::http_request request) { handle(request); });
    listener_.open().wait();
  }
  ~FakeApiServer() {
    try {
      listener_.close().wait();
    } catch (const std::exception&) {
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void fail(bool failing) {
    std::lock_guard lock(mu_);
    failing_ = failing;
  }

 private:
  void handle(web::http::http_request request) {
    bool failing = false;
    {
      std::lock_guard lock(mu_);
      failing = failing_;
    }
    const std::string path = request.relative_uri().path();
    const std::string query = web::uri::decode(request.relative_uri().query());
    std::string body;
    int status = 200;
    if (failing) {
      status = 500;
      body = R"({"kind":"Status","code":500})";
    } else if (!request.headers().has("Authorization") ||
               request.headers()["Authorization"] != "Bearer exporter-token") {
      status = 401;
      body = R"({"kind":"Status","code":401})";
    } else if (path == "/apis/apps/v1/namespaces/shop/deployments/web") {
      body = R"({"kind":"Deployment","spec":{"selector":{"matchLabels":{"app":"web"}}}})";
    } else if (path == "/api/v1/namespaces/shop/pods" && query == "labelSelector=app=web") {
      const auto pod = [](const std::string& name, bool ready, bool deleting) {
        return R"({"metadata":{"name":")" + name + "\"" +
               (deleting ? R"(,"deletionTimestamp":"2026-03-02T08:00:00Z")" : "") +
               R"(},"status":{"conditions":[{"type":"Ready","status":")" +
               (ready ? "True" : "False") + R"("}]}})";
      };
      body = R"({"kind":"PodList","items":[)" + pod("web-a", true, false) + "," +
             pod("web-b", true, false) + "," + pod("web-c", true, false) + "," +
             pod("web-starting", false, false) + "," + pod("web-leaving", true, true) + "]}";
    } else {
      status = 404;
      body = R"({"kind":"Status","code":404})";
    }
    request.reply(static_cast<web::http::status_code>(status), body, "application/json").wait();
  }

  web::http::experimental::listener::http_listener listener_;
  int port_;
  std::mutex mu_;
  bool failing_ = false;
};

TEST(Exporter, ClosedLoopServesDemandPerReadyPod) {
  std::unique_ptr<FakeApiServer> apiserver;
  for (int attempt = 0; attempt < 5 && !apiserver; ++attempt) {
    try {
      apiserver = std::make_unique<FakeApiServer>(governor::testing::freeLoopbackPort());
    } catch (const std::exception&) {
      // The port was taken meanwhile.
    }
  }
  ASSERT_NE(apiserver, nullptr);
  ClosedLoopOptions options{.apiserver_url = apiserver->url(),
                            .token = "exporter-token",
                            .namespace_ = "shop",
                            .deployment = "web",
                            .demand = "[[0, 300], [3600, 300]]",
                            .capacity_per_pod = 200};
  auto exporter = TestExporter::start(&options);
  ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
  auto text = (*exporter)->metrics();
  ASSERT_TRUE(text.ok()) << text.status().toString();
  // Three ready pods (not the starting one, not the one being deleted) share 300 rps.
  for (const char* pod : {"web-a", "web-b", "web-c"}) {
    EXPECT_NE(text->find(std::string("http_requests_per_second{namespace=\"shop\",pod=\"") + pod +
                         "\"} 100.0"),
              std::string::npos)
        << *text;
    EXPECT_NE(text->find(std::string("pod_utilization_percent{namespace=\"shop\",pod=\"") + pod +
                         "\"} 50.0"),
              std::string::npos)
        << *text;
  }
  EXPECT_EQ(text->find("web-starting"), std::string::npos) << *text;
  EXPECT_EQ(text->find("web-leaving"), std::string::npos) << *text;
  EXPECT_NE(text->find(R"(ready_pods{deployment="web",namespace="shop"} 3.0)"), std::string::npos)
      << *text;
  EXPECT_NE(text->find(R"(demand_requests_per_second{deployment="web",namespace="shop"} 300.0)"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find(R"(unserved_requests_per_second{deployment="web",namespace="shop"} 0.0)"),
            std::string::npos)
      << *text;
  EXPECT_NE(text->find("exporter_apiserver_up 1.0"), std::string::npos) << *text;

  // Through Prometheus and the metrics source, as the operator will read it.
  auto prometheus = TestPrometheus::start({.targets = {(*exporter)->target()}});
  ASSERT_TRUE(prometheus.ok()) << prometheus.status().toString();
  ASSERT_TRUE((*prometheus)->waitForSeries("http_requests_per_second", kSeriesTimeout).ok());
  auto source = PrometheusMetricsSource::create({.url = (*prometheus)->url()});
  ASSERT_TRUE(source.ok());
  auto rendered = renderQuery(R"(http_requests_per_second{namespace="{{namespace}}"})",
                              {.namespace_ = "shop", .name = "web", .target = "web"});
  ASSERT_TRUE(rendered.ok());
  auto snap = (*source)->fetch({metric("rps", *rendered, true)}, now());
  ASSERT_TRUE(snap.ok()) << snap.status().toString();
  const auto& pods = snap->samples.at("rps").per_pod;
  ASSERT_EQ(pods.size(), 3u);
  for (const auto& [name, sample] : pods) EXPECT_EQ(sample.value, 100.0) << name;

  // The API server failing: per-pod series are left out, not guessed.
  apiserver->fail(true);
  auto failing = (*exporter)->metrics();
  ASSERT_TRUE(failing.ok());
  EXPECT_NE(failing->find("exporter_apiserver_up 0.0"), std::string::npos) << *failing;
  EXPECT_EQ(failing->find("http_requests_per_second"), std::string::npos) << *failing;
  EXPECT_NE(failing->find("demand_requests_per_second"), std::string::npos) << *failing;

  // PUT /demand replaces the curve at once; bad curves are refused, the old one kept.
  apiserver->fail(false);
  ASSERT_TRUE((*exporter)->setDemand("[[0, 900]]").ok());
  auto stepped = (*exporter)->metrics();
  ASSERT_TRUE(stepped.ok());
  EXPECT_NE(stepped->find(R"(demand_requests_per_second{deployment="web",namespace="shop"} 900.0)"),
            std::string::npos)
      << *stepped;
  for (const char* bad : {"[[0, 1], [0, 2]]", "{}", "not json", "/etc/passwd"}) {
    EXPECT_EQ((*exporter)->setDemand(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  auto kept = (*exporter)->metrics();
  ASSERT_TRUE(kept.ok());
  EXPECT_NE(kept->find(R"(demand_requests_per_second{deployment="web",namespace="shop"} 900.0)"),
            std::string::npos)
      << *kept;
}

TEST(Exporter, DemandNeedsClosedLoopMode) {
  auto exporter = TestExporter::start();
  ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
  const Status s = (*exporter)->setDemand("[[0, 1]]");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.toString();
  EXPECT_NE(s.message().find("not in closed-loop mode"), std::string::npos) << s.toString();
}

TEST(Exporter, RejectsBadSeriesNamingTheField) {
  auto exporter = TestExporter::start();
  ASSERT_TRUE(exporter.ok()) << exporter.status().toString();
  const Status bad_name = (*exporter)->setSeries(R"([{"name":"1x","value":1}])");
  EXPECT_EQ(bad_name.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.message().find("[0].name"), std::string::npos) << bad_name.message();
  const Status bad_value = (*exporter)->setSeries(R"([{"name":"x","value":"lots"}])");
  EXPECT_NE(bad_value.message().find("[0].value"), std::string::npos) << bad_value.message();
  const Status not_json = (*exporter)->setSeries("{");
  EXPECT_NE(not_json.message().find("not JSON"), std::string::npos) << not_json.message();
  ASSERT_TRUE(
      (*exporter)->setSeries(R"([{"name":"x","labels":{"q":"a\"b\\c\nd"},"value":"-Inf"}])").ok());
  auto text = (*exporter)->metrics();
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find(R"(x{q="a\"b\\c\nd"} -Inf)"), std::string::npos) << *text;
}

}  // namespace
}  // namespace governor::controller::prom
