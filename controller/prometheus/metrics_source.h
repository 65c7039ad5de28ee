#pragma once

// The operator's MetricsSource: each MetricQuery evaluated as an instant PromQL query as of the
// reconcile's time, against the default Prometheus endpoint or the one its `address` names.
//
// From a query result to a policies::MetricSample:
//   per_pod = false  a scalar, or a vector of one series: MetricSample::value. An empty vector:
//                    the metric is absent (missing, never zero). Several series: an error for
//                    that metric (they are not summed: aggregate in the query).
//   per_pod = true   a vector of series labelled `pod`, one per pod: MetricSample::per_pod by
//                    pod name. Empty: absent. A series without `pod`, or two for one pod: an
//                    error for that metric.
//   a matrix or a string: an error for that metric.
// NaN, +Inf and -Inf are passed on as they are: the policies treat them as invalid data (an
// invalid metric holds the count; it never scales anything down). Timestamps are Prometheus's.
//
// Identical queries in one sync round are sent once: a result is cached by (address, query)
// and reused for a request whose evaluation time is within `dedupe_window` of the cached
// one's. Concurrent identical requests wait for the one in flight. Errors are cached too, so
// an unreachable server costs one timeout per window, not one per policy.
//
// Thread-safety: thread-safe; fetch() may be called from several workers at once.

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/ports.h"
#include "controller/prometheus/client.h"
#include "controller/prometheus/endpoint.h"
#include "controller/prometheus/response.h"

namespace governor::controller::prom {

struct MetricsSourceOptions {
  // Requests for the same (address, query) whose evaluation times lie within this of a cached
  // result's share it. A few seconds covers one sync round of every policy (the reconcile of
  // N policies takes well under the 15 s sync period) while keeping values fresher than a
  // typical 15-30 s scrape interval. Zero: no cache. Default: 5s.
  Duration dedupe_window{5'000};
  // Whether a MetricQuery::address not configured in `by_address` may be queried. Such an
  // address gets no credentials and no extra headers (a policy must not be able to send the
  // operator's credentials elsewhere), the default endpoint's timeout, and TLS verified
  // against the system's trust store. Default: true.
  bool allow_unlisted_addresses = true;
  // PodSample::window of per-pod samples: the range the per-pod query summarizes (a
  // rate(...[1m])). PromQL does not say; HPA uses it to judge samples of starting pods.
  // Default: 60s.
  Duration pod_sample_window{60'000};
};

// Totals since construction, for the operator's own metrics.
struct MetricsSourceCounters {
  uint64_t queries_sent = 0;  // Instant queries sent to a Prometheus.
  uint64_t cache_hits = 0;    // Requests answered by the dedupe cache (or a query in flight).
  uint64_t errors = 0;        // Metrics that ended in an error (query failed or bad shape).
};

// What a fetch produced: the values, and why each metric that has none failed.
struct FetchReport {
  MetricSnapshot snapshot;
  std::map<std::string, Status> errors;  // By MetricQuery::name.
};

class PrometheusMetricsSource final : public MetricsSource, public MetricHistory {
 public:
  // The API for an address that is not the default; see create().
  using ApiResolver = std::function<Result<std::shared_ptr<QueryApi>>(const std::string& address)>;

  // A source that queries `default_endpoint`, and for a MetricQuery::address the endpoint
  // configured under that exact string in `by_address` (else, if allowed, a plain client of
  // that URL). The default endpoint's URL also selects the default endpoint. Clients are
  // created at once for configured endpoints, lazily for others.
  // Errors: InvalidArgument from PrometheusClient::create, prefixed with which endpoint.
  static Result<std::unique_ptr<PrometheusMetricsSource>> create(
      PrometheusEndpoint default_endpoint,
      std::map<std::string, PrometheusEndpoint> by_address = {}, MetricsSourceOptions options = {});

  // For tests and embedders: `default_api` serves queries without an address, `resolver`
  // the others (it is called at most once per distinct address; a failure is that metric's
  // error and is not remembered). REQUIRES: default_api != nullptr.
  PrometheusMetricsSource(std::shared_ptr<QueryApi> default_api, ApiResolver resolver,
                          MetricsSourceOptions options = {});

  PrometheusMetricsSource(const PrometheusMetricsSource&) = delete;
  PrometheusMetricsSource& operator=(const PrometheusMetricsSource&) = delete;

  // MetricsSource. Evaluates every query (one at a time) as of `at`. Returns the snapshot
  // unless every metric failed; the metrics that failed are absent from it (the engine then
  // treats them as missing: no scale-down on their account) and each failure is logged as
  // a warning. When every metric failed, returns the first failure (by metric name),
  // "metric <name>: <error>" plus how many others failed, with its code: Unavailable,
  // DeadlineExceeded, InvalidArgument (bad PromQL), FailedPrecondition (a result of the
  // wrong shape), ...
  Result<MetricSnapshot> fetch(const std::vector<MetricQuery>& queries, TimePoint at) override;

  // As fetch(), but returns every metric's failure instead of deciding for the caller.
  FetchReport fetchAll(const std::vector<MetricQuery>& queries, TimePoint at);

  // The history of `query` (its address honoured; the cache is not used) over [start, end]
  // every `step`, for the predictive policy's backfill: queryRangeSeries's result.
  Result<std::vector<HistoryPoint>> history(const MetricQuery& query, TimePoint start,
                                            TimePoint end, Duration step) override;

  MetricsSourceCounters counters() const;

 private:
  using CacheKey = std::pair<std::string, std::string>;  // (address, query).
  // Shared, not copied: a 100-pod answer is 100 label maps.
  using SharedResult = std::shared_ptr<const Result<QueryResult>>;
  struct CacheEntry {
    TimePoint at{};
    std::shared_future<SharedResult> result;
  };

  Result<std::shared_ptr<QueryApi>> apiFor(const std::string& address);
  SharedResult cachedQuery(const std::string& address, QueryApi& api, const std::string& promql,
                           TimePoint at);
  Result<std::optional<policies::MetricSample>> toSample(const QueryResult& result,
                                                         const MetricQuery& query) const;

  std::shared_ptr<QueryApi> default_api_;
  ApiResolver resolver_;
  MetricsSourceOptions options_;

  std::mutex apis_mu_;
  std::map<std::string, std::shared_ptr<QueryApi>> apis_;  // By address.

  std::mutex cache_mu_;
  std::map<CacheKey, CacheEntry> cache_;

  std::atomic<uint64_t> queries_sent_{0};
  std::atomic<uint64_t> cache_hits_{0};
  std::atomic<uint64_t> errors_{0};
};

// The labels of a series as PromQL writes them, for messages: {job="api",pod="web-1"}.
std::string formatLabels(const Labels& labels);

}  // namespace governor::controller::prom
