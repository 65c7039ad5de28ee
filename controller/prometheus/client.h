#pragma once

// The Prometheus HTTP API client: instant queries (/api/v1/query, evaluated at a given time)
// and range queries (/api/v1/query_range, for the predictive policy's history backfill).
//
//   auto client = PrometheusClient::create({.url = "http://prometheus.monitoring:9090"});
//   if (!client.ok()) return client.status();
//   Result<QueryResult> r = (*client)->query("sum(rate(http_requests_total[1m]))", now);
//
// Every failure is a Status whose message starts with the query (response.h lists the codes
// for Prometheus's own errors); transport failures add:
//   connection refused, reset, TLS failure, DNS failure   Unavailable
//   no answer within PrometheusEndpoint::timeout          DeadlineExceeded
//   a credential file that cannot be read                 FailedPrecondition (path named)
// Nothing is thrown: cpprestsdk's exceptions are caught here, at the edge.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/prometheus/endpoint.h"
#include "controller/prometheus/response.h"

namespace web::http::client {
class http_client;
}  // namespace web::http::client

namespace governor::controller::prom {

// The queries the metrics source needs, as an interface so that it can be driven by a fake.
// Thread-safety: implementations must allow concurrent calls.
class QueryApi {
 public:
  virtual ~QueryApi() = default;

  // Evaluates `promql` at `at` (an instant query). Returns the result, whatever its type.
  virtual Result<QueryResult> query(std::string_view promql, TimePoint at) = 0;

  // Evaluates `promql` over [start, end] every `step` (a range query): a matrix.
  // REQUIRES: start <= end, step > 0.
  virtual Result<QueryResult> queryRange(std::string_view promql, TimePoint start, TimePoint end,
                                         Duration step) = 0;
};

// A credential read from a file, re-read whenever the file changes (modification time, size or
// inode), so a rotated Secret or projected token takes effect without a restart.
// Thread-safety: thread-safe.
class CredentialFile {
 public:
  explicit CredentialFile(std::string path) : path_(std::move(path)) {}

  // The file's contents without trailing whitespace (a trailing newline is the norm).
  // Errors: FailedPrecondition "cannot read <what> file <path>: <errno text>"; the contents
  // never appear in a message.
  Result<std::string> read(std::string_view what);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
  bool loaded_ = false;
  int64_t mtime_ns_ = 0;
  int64_t size_ = 0;
  uint64_t inode_ = 0;
  std::string contents_;
};

// The client of one endpoint. Connections are pooled and reused (cpprestsdk).
// Thread-safety: thread-safe; concurrent queries run concurrently.
class PrometheusClient final : public QueryApi {
 public:
  // A client for `endpoint`. Errors: InvalidArgument from validateEndpoint, or when ca_file
  // cannot be loaded as PEM certificates (the path and OpenSSL's reason in the message).
  static Result<std::unique_ptr<PrometheusClient>> create(PrometheusEndpoint endpoint);

  ~PrometheusClient() override;
  PrometheusClient(const PrometheusClient&) = delete;
  PrometheusClient& operator=(const PrometheusClient&) = delete;

  Result<QueryResult> query(std::string_view promql, TimePoint at) override;
  Result<QueryResult> queryRange(std::string_view promql, TimePoint start, TimePoint end,
                                 Duration step) override;

  const PrometheusEndpoint& endpoint() const { return endpoint_; }

 private:
  explicit PrometheusClient(PrometheusEndpoint endpoint);

  // Sends `params` (already including the query) to `path` as GET or, when the query is long,
  // as a POST form. Returns the parsed response.
  Result<QueryResult> send(std::string_view path, std::string_view promql,
                           const std::vector<std::pair<std::string, std::string>>& params);
  // The Authorization header value; "" when the endpoint has no credentials.
  Result<std::string> authorization();

  PrometheusEndpoint endpoint_;
  std::unique_ptr<web::http::client::http_client> http_;
  std::unique_ptr<CredentialFile> token_;
  std::unique_ptr<CredentialFile> password_;
};

// The history of one series for a backfill: `promql` over [start, end] every `step`, through
// as many range queries as Prometheus's limit of 11,000 points per series requires (each
// asks for at most 10,000). Returns the samples in time order; empty when the query matched
// nothing. NaN samples are kept (NaN). Errors: the range queries' errors, or
// FailedPrecondition when the query returns more than one series (name the series you want:
// aggregate with sum() or avg()).
// REQUIRES: start <= end, step > 0.
Result<std::vector<Sample>> queryRangeSeries(QueryApi& api, std::string_view promql,
                                             TimePoint start, TimePoint end, Duration step);

// Milliseconds as the decimal seconds the API's `time`, `start`, `end`, `step` and `timeout`
// take, exactly and without trailing zeros: 1700000000123 -> "1700000000.123",
// 15000 -> "15", 1500 -> "1.5", -250 -> "-0.25".
std::string formatApiSeconds(int64_t milliseconds);

}  // namespace governor::controller::prom
