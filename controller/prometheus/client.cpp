#include "controller/prometheus/client.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

namespace governor::controller::prom {
namespace {

namespace http = web::http;

// Prometheus refuses range queries of more than 11,000 points per series.
constexpr int64_t kMaxPointsPerRangeQuery = 10'000;

std::string errnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// Replaces the context's trust store with the certificates of `ca_file`. Returns "" on
// success, else OpenSSL's reason.
std::string useOnlyCaFile(SSL_CTX* ctx, const std::string& ca_file) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return "out of memory";
  SSL_CTX_set_cert_store(ctx, store);  // Takes ownership; frees the default store.
  ERR_clear_error();
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    const unsigned long err = ERR_get_error();  // NOLINT(google-runtime-int): OpenSSL's type.
    char buf[256] = {0};
    ERR_error_string_n(err, buf, sizeof(buf));
    ERR_clear_error();
    return err != 0 ? std::string(buf) : std::string("no certificates loaded");
  }
  return "";
}

// The form encoding of `params` (application/x-www-form-urlencoded, which is also what a GET
// query string carries).
std::string formEncode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out += '&';
    out += web::uri::encode_data_string(key);
    out += '=';
    out += web::uri::encode_data_string(value);
  }
  return out;
}

// What a transport failure means for the caller.
Status transportError(const std::string& context, const std::error_code& ec,
                      const std::string& what) {
  if (ec == std::errc::timed_out) {
    return {StatusCode::kDeadlineExceeded, context + ": no response within the timeout"};
  }
  if (ec == std::errc::connection_refused) {
    return {StatusCode::kUnavailable, context + ": connection refused"};
  }
  return {StatusCode::kUnavailable, context + ": " + what};
}

}  // namespace

std::string formatApiSeconds(int64_t milliseconds) {
  std::string out = milliseconds < 0 ? "-" : "";
  // Via unsigned: the magnitude of INT64_MIN does not fit an int64.
  const uint64_t magnitude = milliseconds < 0 ? 0 - static_cast<uint64_t>(milliseconds)
                                              : static_cast<uint64_t>(milliseconds);
  out += std::to_string(magnitude / 1000);
  uint64_t frac = magnitude % 1000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 3 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += '.';
    out += digits;
  }
  return out;
}

Result<std::string> CredentialFile::read(std::string_view what) {
  const auto fail = [&](int err) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot read " + std::string(what) + " file " + path_ + ": " + errnoText(err));
  };
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return fail(errno);
  const int64_t mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                           static_cast<int64_t>(st.st_mtim.tv_nsec);
  std::lock_guard lock(mu_);
  if (loaded_ && mtime_ns == mtime_ns_ && static_cast<int64_t>(st.st_size) == size_ &&
      static_cast<uint64_t>(st.st_ino) == inode_) {
    return contents_;
  }
  std::ifstream in(path_, std::ios::binary);
  if (!in) return fail(errno != 0 ? errno : EIO);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return fail(EIO);
  while (!contents.empty() && std::isspace(static_cast<unsigned char>(contents.back()))) {
    contents.pop_back();
  }
  if (contents.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  "cannot read " + std::string(what) + " file " + path_ + ": the file is empty");
  }
  // The stat from before the read: if the file changed since, the next call reads it again.
  loaded_ = true;
  mtime_ns_ = mtime_ns;
  size_ = static_cast<int64_t>(st.st_size);
  inode_ = static_cast<uint64_t>(st.st_ino);
  contents_ = std::move(contents);
  return contents_;
}

PrometheusClient::PrometheusClient(PrometheusEndpoint endpoint) : endpoint_(std::move(endpoint)) {}

PrometheusClient::~PrometheusClient() = default;

Result<std::unique_ptr<PrometheusClient>> PrometheusClient::create(PrometheusEndpoint endpoint) {
  if (Status valid = validateEndpoint(endpoint); !valid.ok()) return valid;
  if (!endpoint.ca_file.empty()) {
    // Load it once now, so a wrong path or a file that is not PEM fails at start-up with
    // its reason, instead of as a TLS handshake failure on every query.
    try {
      boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
      const std::string why = useOnlyCaFile(probe.native_handle(), endpoint.ca_file);
      if (!why.empty()) {
        return invalidArgument("ca_file: cannot load " + endpoint.ca_file + ": " + why);
      }
    } catch (const std::exception& e) {
      return invalidArgument("ca_file: cannot load " + endpoint.ca_file + ": " + e.what());
    }
  }

  std::unique_ptr<PrometheusClient> client(new PrometheusClient(std::move(endpoint)));
  const PrometheusEndpoint& ep = client->endpoint_;
  http::client::http_client_config config;
  config.set_timeout(std::chrono::duration_cast<std::chrono::microseconds>(ep.timeout));
  config.set_validate_certificates(!ep.insecure_skip_tls_verify);
  if (!ep.ca_file.empty() && !ep.insecure_skip_tls_verify) {
    // Called for each new TLS connection: a CA bundle replaced on disk is picked up by the
    // next connection.
    config.set_ssl_context_callback([ca_file = ep.ca_file](boost::asio::ssl::context& ctx) {
      // A failure leaves an empty trust store: the handshake fails, and the message of
      // that failure says the certificate could not be verified.
      (void)useOnlyCaFile(ctx.native_handle(), ca_file);
    });
  }
  if (!ep.bearer_token_file.empty()) {
    client->token_ = std::make_unique<CredentialFile>(ep.bearer_token_file);
  }
  if (!ep.basic_auth_password_file.empty()) {
    client->password_ = std::make_unique<CredentialFile>(ep.basic_auth_password_file);
  }
  try {
    client->http_ = std::make_unique<http::client::http_client>(web::uri(ep.url), config);
  } catch (const std::exception& e) {
    return invalidArgument(std::string("url: not a valid URL: ") + e.what());
  }
  return client;
}

Result<std::string> PrometheusClient::authorization() {
  if (token_) {
    auto token = token_->read("bearer token");
    if (!token.ok()) return token.status();
    return "Bearer " + *token;
  }
  if (password_) {
    auto password = password_->read("basic auth password");
    if (!password.ok()) return password.status();
    const std::string pair = endpoint_.basic_auth_username + ":" + *password;
    return "Basic " +
           utility::conversions::to_base64(std::vector<unsigned char>(pair.begin(), pair.end()));
  }
  return std::string();
}

Result<QueryResult> PrometheusClient::send(
    std::string_view path, std::string_view promql,
    const std::vector<std::pair<std::string, std::string>>& params) {
  const std::string form = formEncode(params);
  const bool post =
      web::uri::encode_data_string(std::string(promql)).size() > endpoint_.post_above_bytes;
  const std::string context =
      describeQuery(promql) + ": " + (post ? "POST " : "GET ") + endpoint_.url + std::string(path);

  auto auth = authorization();
  if (!auth.ok()) return auth.status().withContext(describeQuery(promql));

  try {
    http::http_request request(post ? http::methods::POST : http::methods::GET);
    if (post) {
      request.set_request_uri(std::string(path));
      request.set_body(form, "application/x-www-form-urlencoded");
    } else {
      request.set_request_uri(std::string(path) + "?" + form);
    }
    request.headers().add("Accept", "application/json");
    for (const auto& [name, value] : endpoint_.headers) request.headers().add(name, value);
    if (!auth->empty()) request.headers().add("Authorization", *auth);

    http::http_response response = http_->request(request).get();
    const std::string body = response.extract_utf8string(/*ignore_content_type=*/true).get();
    return parseQueryResponse(response.status_code(), body, promql);
  } catch (const http::http_exception& e) {
    return transportError(context, e.error_code(), e.what());
  } catch (const std::exception& e) {
    return Status(StatusCode::kUnavailable, context + ": " + e.what());
  }
}

Result<QueryResult> PrometheusClient::query(std::string_view promql, TimePoint at) {
  // Prometheus's own evaluation timeout a little below ours, so that a slow query comes
  // back as Prometheus's "timeout" error (which says so) rather than as a dropped request.
  const int64_t eval_timeout_ms = std::max<int64_t>(1, endpoint_.timeout.count() * 9 / 10);
  return send("/api/v1/query", promql,
              {{"query", std::string(promql)},
               {"time", formatApiSeconds(at.time_since_epoch().count())},
               {"timeout", formatApiSeconds(eval_timeout_ms)}});
}

Result<QueryResult> PrometheusClient::queryRange(std::string_view promql, TimePoint start,
                                                 TimePoint end, Duration step) {
  const int64_t eval_timeout_ms = std::max<int64_t>(1, endpoint_.timeout.count() * 9 / 10);
  return send("/api/v1/query_range", promql,
              {{"query", std::string(promql)},
               {"start", formatApiSeconds(start.time_since_epoch().count())},
               {"end", formatApiSeconds(end.time_since_epoch().count())},
               {"step", formatApiSeconds(step.count())},
               {"timeout", formatApiSeconds(eval_timeout_ms)}});
}

Result<std::vector<Sample>> queryRangeSeries(QueryApi& api, std::string_view promql,
                                             TimePoint start, TimePoint end, Duration step) {
  if (step <= Duration::zero() || end < start) {
    return invalidArgument(describeQuery(promql) + ": range needs start <= end and step > 0");
  }
  std::vector<Sample> out;
  const Duration chunk_span = step * (kMaxPointsPerRangeQuery - 1);
  for (TimePoint from = start; from <= end; from += chunk_span + step) {
    const TimePoint to = std::min(end, from + chunk_span);
    auto result = api.queryRange(promql, from, to, step);
    if (!result.ok()) return result.status();
    if (result->type != ResultType::kMatrix) {
      return Status(StatusCode::kFailedPrecondition,
                    describeQuery(promql) + ": a range query returned a " +
                        std::string(resultTypeName(result->type)) + ", expected a matrix");
    }
    if (result->series.size() > 1) {
      return Status(StatusCode::kFailedPrecondition,
                    describeQuery(promql) + ": returned " + std::to_string(result->series.size()) +
                        " series, expected one (aggregate it, e.g. with sum())");
    }
    if (result->series.empty()) continue;
    const std::vector<Sample>& samples = result->series.front().samples;
    out.insert(out.end(), samples.begin(), samples.end());
  }
  return out;
}

}  // namespace governor::controller::prom
