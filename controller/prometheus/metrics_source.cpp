#include "controller/prometheus/metrics_source.h"

#include <exception>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

#include "policies/query_template.h"

namespace governor::controller::prom {
using policies::escapeStringLiteral;
namespace {

// How many labels of a series a message shows before "...".
constexpr size_t kMaxLabelsShown = 8;

Duration absDiff(TimePoint a, TimePoint b) { return a > b ? a - b : b - a; }

Status shapeError(const MetricQuery& query, const std::string& what) {
  return {StatusCode::kFailedPrecondition, describeQuery(query.query) + ": " + what};
}

}  // namespace

std::string formatLabels(const Labels& labels) {
  std::string out = "{";
  size_t shown = 0;
  for (const auto& [name, value] : labels) {
    if (shown == kMaxLabelsShown) {
      out += ",...";
      break;
    }
    if (shown++ > 0) out += ',';
    out += name;
    out += "=\"";
    out += escapeStringLiteral(value);
    out += '"';
  }
  out += '}';
  return out;
}

Result<std::unique_ptr<PrometheusMetricsSource>> PrometheusMetricsSource::create(
    PrometheusEndpoint default_endpoint, std::map<std::string, PrometheusEndpoint> by_address,
    MetricsSourceOptions options) {
  const std::string default_url = default_endpoint.url;
  const Duration default_timeout = default_endpoint.timeout;
  auto default_client = PrometheusClient::create(std::move(default_endpoint));
  if (!default_client.ok()) return default_client.status().withContext("default endpoint");
  std::shared_ptr<QueryApi> default_api = std::move(default_client).value();

  auto configured = std::make_shared<std::map<std::string, std::shared_ptr<QueryApi>>>();
  (*configured)[default_url] = default_api;
  for (auto& [address, endpoint] : by_address) {
    auto client = PrometheusClient::create(std::move(endpoint));
    if (!client.ok()) return client.status().withContext("endpoint \"" + address + "\"");
    (*configured)[address] = std::move(client).value();
  }
  const bool allow_unlisted = options.allow_unlisted_addresses;
  ApiResolver resolver = [configured, allow_unlisted, default_timeout](
                             const std::string& address) -> Result<std::shared_ptr<QueryApi>> {
    if (auto it = configured->find(address); it != configured->end()) return it->second;
    if (!allow_unlisted) {
      return Status(StatusCode::kFailedPrecondition,
                    "address \"" + address +
                        "\" is not a configured Prometheus endpoint (unlisted addresses are "
                        "not allowed)");
    }
    PrometheusEndpoint plain;
    plain.url = address;
    plain.timeout = default_timeout;
    auto client = PrometheusClient::create(std::move(plain));
    if (!client.ok()) return client.status().withContext("address \"" + address + "\"");
    return std::shared_ptr<QueryApi>(std::move(client).value());
  };
  return std::make_unique<PrometheusMetricsSource>(std::move(default_api), std::move(resolver),
                                                   options);
}

PrometheusMetricsSource::PrometheusMetricsSource(std::shared_ptr<QueryApi> default_api,
                                                 ApiResolver resolver, MetricsSourceOptions options)
    : default_api_(std::move(default_api)), resolver_(std::move(resolver)), options_(options) {}

MetricsSourceCounters PrometheusMetricsSource::counters() const {
  return {queries_sent_.load(), cache_hits_.load(), errors_.load()};
}

Result<std::shared_ptr<QueryApi>> PrometheusMetricsSource::apiFor(const std::string& address) {
  if (address.empty()) return default_api_;
  {
    std::lock_guard lock(apis_mu_);
    if (auto it = apis_.find(address); it != apis_.end()) return it->second;
  }
  if (!resolver_) {
    return Status(StatusCode::kFailedPrecondition,
                  "address \"" + address + "\": no endpoint other than the default is known");
  }
  // Resolved outside the lock: creating a client may load files. Two threads may both
  // resolve a new address; the first one stored wins.
  auto api = resolver_(address);
  if (!api.ok()) return api.status();
  std::lock_guard lock(apis_mu_);
  return apis_.emplace(address, std::move(api).value()).first->second;
}

PrometheusMetricsSource::SharedResult PrometheusMetricsSource::cachedQuery(
    const std::string& address, QueryApi& api, const std::string& promql, TimePoint at) {
  const auto send = [&]() -> SharedResult {
    ++queries_sent_;
    try {
      return std::make_shared<const Result<QueryResult>>(api.query(promql, at));
    } catch (const std::exception& e) {  // A QueryApi must not throw; waiters must not hang.
      return std::make_shared<const Result<QueryResult>>(
          Status(StatusCode::kInternal, describeQuery(promql) + ": " + e.what()));
    }
  };
  if (options_.dedupe_window <= Duration::zero()) return send();

  std::promise<SharedResult> promise;
  std::shared_future<SharedResult> earlier;
  {
    std::lock_guard lock(cache_mu_);
    CacheKey key{address, promql};
    auto found = cache_.find(key);
    if (found != cache_.end() && absDiff(found->second.at, at) <= options_.dedupe_window) {
      earlier = found->second.result;
    } else {
      // Drop what no request near `at` can use any more, so the cache stays one round big.
      // Waiters of a dropped in-flight entry hold their own reference to its result.
      std::erase_if(cache_, [&](const auto& entry) {
        return absDiff(entry.second.at, at) > options_.dedupe_window;
      });
      cache_[std::move(key)] = CacheEntry{at, promise.get_future().share()};
    }
  }
  if (earlier.valid()) {
    ++cache_hits_;
    return earlier.get();  // Waits, outside the lock, if that query is still in flight.
  }
  SharedResult result = send();
  promise.set_value(result);
  return result;
}

Result<std::optional<policies::MetricSample>> PrometheusMetricsSource::toSample(
    const QueryResult& result, const MetricQuery& query) const {
  using Out = std::optional<policies::MetricSample>;
  if (result.type == ResultType::kMatrix) {
    return shapeError(query,
                      "returned a range vector (matrix); a metric needs an instant "
                      "value, e.g. rate(x[5m]) rather than x[5m]");
  }
  if (result.type == ResultType::kString) {
    return shapeError(query, "returned a string; a metric needs a number");
  }
  if (query.per_pod) {
    if (result.type != ResultType::kVector) {
      return shapeError(query, "is per-pod but returned a " +
                                   std::string(resultTypeName(result.type)) +
                                   "; it must return one series per pod, labelled pod");
    }
    if (result.series.empty()) return Out();
    policies::MetricSample sample;
    for (const Series& series : result.series) {
      const auto pod = series.labels.find("pod");
      if (pod == series.labels.end() || pod->second.empty()) {
        return shapeError(query, "is per-pod but series " + formatLabels(series.labels) +
                                     " has no pod label (aggregate with sum by (pod))");
      }
      const Sample& s = series.samples.front();
      const auto [it, inserted] = sample.per_pod.emplace(
          pod->second, policies::PodSample{s.value, s.timestamp, options_.pod_sample_window});
      if (!inserted) {
        return shapeError(query, "returned several series for pod \"" +
                                     escapeStringLiteral(pod->second) +
                                     "\" (aggregate with sum by (pod))");
      }
      sample.timestamp = std::max(sample.timestamp, s.timestamp);
    }
    return Out(std::move(sample));
  }
  if (result.type == ResultType::kScalar) {
    policies::MetricSample sample;
    sample.value = result.scalar.value;
    sample.timestamp = result.scalar.timestamp;
    return Out(std::move(sample));
  }
  if (result.series.empty()) return Out();
  if (result.series.size() > 1) {
    return shapeError(query, "returned " + std::to_string(result.series.size()) +
                                 " series (first " + formatLabels(result.series[0].labels) + ", " +
                                 formatLabels(result.series[1].labels) +
                                 "), expected one: aggregate them, e.g. with sum(), or set "
                                 "perPod for one series per pod");
  }
  policies::MetricSample sample;
  sample.value = result.series.front().samples.front().value;
  sample.timestamp = result.series.front().samples.front().timestamp;
  return Out(std::move(sample));
}

FetchReport PrometheusMetricsSource::fetchAll(const std::vector<MetricQuery>& queries,
                                              TimePoint at) {
  FetchReport report;
  for (const MetricQuery& query : queries) {
    const std::string address = query.address.value_or("");
    const auto fail = [&](const Status& status) {
      ++errors_;
      report.errors.insert_or_assign(query.name, status);
    };
    auto api = apiFor(address);
    if (!api.ok()) {
      fail(api.status().withContext(describeQuery(query.query)));
      continue;
    }
    const SharedResult shared = cachedQuery(address, **api, query.query, at);
    const Result<QueryResult>& result = *shared;
    if (!result.ok()) {
      fail(result.status());
      continue;
    }
    auto sample = toSample(*result, query);
    if (!sample.ok()) {
      fail(sample.status());
      continue;
    }
    if (*sample) report.snapshot.samples.insert_or_assign(query.name, std::move(**sample));
  }
  return report;
}

Result<MetricSnapshot> PrometheusMetricsSource::fetch(const std::vector<MetricQuery>& queries,
                                                      TimePoint at) {
  FetchReport report = fetchAll(queries, at);
  if (report.errors.empty()) return std::move(report.snapshot);
  if (report.errors.size() == queries.size()) {
    const auto& [name, first] = *report.errors.begin();
    std::string context = "metric " + name;
    Status status = first.withContext(context);
    if (report.errors.size() > 1) {
      status = Status(status.code(), status.message() + " (and " +
                                         std::to_string(report.errors.size() - 1) +
                                         " more metrics failed)");
    }
    return status;
  }
  for (const auto& [name, error] : report.errors) {
    spdlog::warn("metric {}: {}", name, error.toString());
  }
  return std::move(report.snapshot);
}

Result<std::vector<HistoryPoint>> PrometheusMetricsSource::history(const MetricQuery& query,
                                                                   TimePoint start, TimePoint end,
                                                                   Duration step) {
  auto api = apiFor(query.address.value_or(""));
  if (!api.ok()) return api.status().withContext(describeQuery(query.query));
  auto samples = queryRangeSeries(**api, query.query, start, end, step);
  if (!samples.ok()) return samples.status();
  std::vector<HistoryPoint> points;
  points.reserve(samples->size());
  for (const Sample& s : *samples) points.push_back(HistoryPoint{s.timestamp, s.value});
  return points;
}

}  // namespace governor::controller::prom
