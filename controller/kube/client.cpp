#include "controller/kube/client.h"

#include <atomic>
#include <optional>
#include <thread>
#include <utility>

#include <cpprest/http_client.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include "controller/kube/errors.h"
#include "controller/kube/token_source.h"

namespace governor::controller::kube {
namespace {

namespace http = web::http;
namespace hc = web::http::client;

// A parsed answer: the HTTP code, the body, and the Retry-After header if any.
struct Response {
  int code = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
};

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

BioPtr memoryBio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate of a PEM bundle; empty when there is none or one is malformed.
std::vector<X509Ptr> readCertificates(const std::string& pem) {
  std::vector<X509Ptr> certs;
  BioPtr bio = memoryBio(pem);
  if (!bio) return certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends with "no start line" at the end of the bundle: not an error.
  ERR_clear_error();
  return certs;
}

KeyPtr readPrivateKey(const std::string& pem) {
  BioPtr bio = memoryBio(pem);
  if (!bio) return nullptr;
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  return key;
}

// The TLS material, checked once, applied to every new connection's SSL context.
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

void configureSsl(const TlsMaterial& tls, boost::asio::ssl::context& ctx) {
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (!tls.ca_pem.empty()) {
    // Only the configured CAs: the default store cpprest loaded would also trust every
    // public CA for a cluster that has its own.
    X509_STORE* store = X509_STORE_new();
    for (const auto& cert : readCertificates(tls.ca_pem)) X509_STORE_add_cert(store, cert.get());
    SSL_CTX_set_cert_store(native, store);  // Takes ownership; frees the previous store.
  }
  if (!tls.cert_pem.empty()) {
    std::vector<X509Ptr> chain = readCertificates(tls.cert_pem);
    KeyPtr key = readPrivateKey(tls.key_pem);
    if (chain.empty() || !key) return;  // Checked in fromConfig; cannot happen.
    SSL_CTX_use_certificate(native, chain.front().get());
    for (size_t i = 1; i < chain.size(); ++i) {
      // add_extra_chain_cert takes ownership.
      SSL_CTX_add_extra_chain_cert(native, chain[i].release());
    }
    SSL_CTX_use_PrivateKey(native, key.get());
  }
}

Status checkTls(const ClientConfig& config) {
  if (!config.ca_data.empty() && readCertificates(config.ca_data).empty()) {
    return invalidArgument(config.origin + ": certificate authority: no valid PEM certificate");
  }
  if (config.client_cert_data.empty() != config.client_key_data.empty()) {
    return invalidArgument(config.origin +
                           ": a client certificate needs a client key and "
                           "the other way round");
  }
  if (!config.client_cert_data.empty()) {
    std::vector<X509Ptr> chain = readCertificates(config.client_cert_data);
    if (chain.empty()) {
      return invalidArgument(config.origin + ": client certificate: no valid PEM certificate");
    }
    KeyPtr key = readPrivateKey(config.client_key_data);
    if (!key) return invalidArgument(config.origin + ": client key: not a valid PEM private key");
    if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
      ERR_clear_error();
      return invalidArgument(config.origin + ": client key does not match the client certificate");
    }
  }
  return {};
}

bool isSuccess(int code) { return code >= 200 && code < 300; }

Result<nlohmann::json> parseBody(const Response& response, std::string_view what) {
  if (response.body.empty()) return nlohmann::json();
  nlohmann::json parsed = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return unavailable(std::string(what) + ": the response is not JSON: \"" +
                       response.body.substr(0, 120) + "\"");
  }
  return parsed;
}

}  // namespace

std::string_view patchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
  }
  return "application/merge-patch+json";
}

struct Client::Impl {
  ClientConfig config;
  ClientOptions options;
  web::uri base_uri;
  hc::http_client_config http_config;
  std::unique_ptr<hc::http_client> http;
  std::unique_ptr<TokenSource> tokens;

  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> throttled_retries{0};
  std::atomic<uint64_t> connection_retries{0};
  std::atomic<uint64_t> auth_retries{0};

  // Builds the request: method, path and query, headers (the token last read), body.
  Result<http::http_request> makeRequest(const std::string& method, const std::string& target,
                                         const std::string* body, std::string_view content_type) {
    http::http_request request(method);
    request.set_request_uri(web::uri(target));
    auto& headers = request.headers();
    headers.add("Accept", "application/json");
    headers.add("User-Agent", options.user_agent);
    for (const auto& [name, value] : config.headers) headers.add(name, value);
    auto token = tokens->token();
    if (!token.ok()) return token.status();
    if (!token->empty()) headers.add("Authorization", "Bearer " + *token);
    if (body != nullptr) {
      // As bytes: cpprest's string overload reads a char buffer through a uint8_t stream,
      // which UBSan rightly flags (-fsanitize=vptr).
      headers.set_content_type(std::string(content_type));
      request.set_body(std::vector<unsigned char>(body->begin(), body->end()));
    }
    return request;
  }

  // One exchange with no retries: the answer, whatever its code, or the transport error.
  Result<Response> send(const std::string& method, const std::string& target,
                        const std::string* body, std::string_view content_type,
                        const std::string& what, std::stop_token stop) {
    pplx::cancellation_token_source cancel;
    std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
    try {
      auto request = makeRequest(method, target, body, content_type);
      if (!request.ok()) return request.status().withContext(what);
      ++requests;
      http::http_response answer = http->request(*request, cancel.get_token()).get();
      Response response;
      response.code = answer.status_code();
      response.body = answer.extract_utf8string(/*ignore_content_type=*/true).get();
      auto retry = answer.headers().find("Retry-After");
      if (retry != answer.headers().end()) response.retry_after = parseRetryAfter(retry->second);
      return response;
    } catch (const http::http_exception& e) {
      if (stop.stop_requested()) return unavailable(what + ": cancelled");
      return statusFromTransportError(e.error_code(), e.what(), what);
    } catch (const pplx::task_canceled&) {
      return unavailable(what + ": cancelled");
    } catch (const std::exception& e) {
      return statusFromTransportError({}, e.what(), what);
    }
  }

  // An exchange with the client's retries (see the header); 2xx answers only, everything
  // else decoded into a Status.
  Result<Response> call(const std::string& method, const std::string& path,
                        const std::string& query, const std::string* body,
                        std::string_view content_type, std::stop_token stop = {}) {
    const std::string what = method + " " + path;
    const std::string target = query.empty() ? path : path + "?" + query;
    int throttled = 0;
    int reconnects = 0;
    bool auth_retried = false;
    Duration reconnect_delay = options.get_retry_backoff;
    while (true) {
      Result<Response> response = send(method, target, body, content_type, what, stop);
      if (!response.ok()) {
        const bool idempotent = method == "GET";
        if (idempotent && response.status().code() == StatusCode::kUnavailable &&
            !stop.stop_requested() && reconnects < options.max_get_retries) {
          spdlog::warn("kube: {}; retrying in {} ms", response.status().message(),
                       reconnect_delay.count());
          options.sleep(reconnect_delay);
          reconnect_delay *= 2;
          ++reconnects;
          ++connection_retries;
          continue;
        }
        return response.status();
      }
      const int code = response->code;
      if (isSuccess(code)) return response;
      Status status = statusFromResponse(code, response->body, what, response->retry_after);
      if (code == 429 && throttled < options.max_throttle_retries && !stop.stop_requested()) {
        Duration delay = options.default_retry_after;
        if (auto after = retryAfter(status)) delay = *after;
        if (delay <= options.max_retry_after) {
          spdlog::info("kube: {} throttled (429); retrying in {} ms", what, delay.count());
          options.sleep(delay);
          ++throttled;
          ++throttled_retries;
          continue;
        }
      }
      if (code == 401 && !auth_retried && tokens->invalidate()) {
        // The token file may have rotated since it was last read.
        auth_retried = true;
        ++auth_retries;
        continue;
      }
      return status;
    }
  }

  Result<nlohmann::json> callJson(const std::string& method, const std::string& path,
                                  const std::string& query, const nlohmann::json* body,
                                  std::string_view content_type) {
    std::string text;
    if (body != nullptr) text = body->dump();
    auto response = call(method, path, query, body != nullptr ? &text : nullptr, content_type);
    if (!response.ok()) return response.status();
    return parseBody(*response, method + " " + path);
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::fromConfig(ClientConfig config, ClientOptions options) {
  if (config.origin.empty()) config.origin = "client configuration";
  if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
    return invalidArgument(config.origin + ": server \"" + config.server +
                           "\" is not an http:// or https:// URL");
  }
  if (Status s = checkTls(config); !s.ok()) return s;
  if (!options.sleep) options.sleep = [](Duration d) { std::this_thread::sleep_for(d); };
  if (!options.now) options.now = systemNow;
  auto impl = std::make_unique<Impl>();
  try {
    impl->base_uri = web::uri(config.server);
  } catch (const std::exception& e) {
    return invalidArgument(config.origin + ": server \"" + config.server + "\": " + e.what());
  }
  impl->http_config.set_timeout(config.timeout);
  impl->http_config.set_validate_certificates(!config.insecure_skip_tls_verify);
  auto tls = std::make_shared<TlsMaterial>(
      TlsMaterial{config.ca_data, config.client_cert_data, config.client_key_data});
  impl->http_config.set_ssl_context_callback(
      [tls](boost::asio::ssl::context& ctx) { configureSsl(*tls, ctx); });
  impl->tokens = std::make_unique<TokenSource>(config.token, config.token_file,
                                               options.token_refresh_period, options.now);
  if (!config.token_file.empty()) {
    if (auto token = impl->tokens->token(); !token.ok()) return token.status();
  }
  try {
    impl->http = std::make_unique<hc::http_client>(impl->base_uri, impl->http_config);
  } catch (const std::exception& e) {
    return invalidArgument(config.origin + ": " + e.what());
  }
  impl->config = std::move(config);
  impl->options = std::move(options);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const ClientConfig& Client::config() const { return impl_->config; }

Result<nlohmann::json> Client::get(const ResourceRef& ref) {
  if (ref.name.empty()) return invalidArgument("get " + ref.toString() + ": name is empty");
  auto path = resourcePath(ref);
  if (!path.ok()) return path.status();
  return impl_->callJson("GET", *path, "", nullptr, "");
}

Result<ObjectList> Client::list(const ResourceRef& collection, const ListOptions& options,
                                std::stop_token stop) {
  auto path = resourcePath(collection.collection());
  if (!path.ok()) return path.status();
  auto response =
      impl_->call("GET", *path, queryString(listParams(options)), nullptr, "", std::move(stop));
  if (!response.ok()) return response.status();
  const std::string what = "GET " + *path;
  auto body = parseBody(*response, what);
  if (!body.ok()) return body.status();
  if (!body->is_object()) return unavailable(what + ": the list is not a JSON object");
  ObjectList list;
  if (auto items = body->find("items"); items != body->end() && !items->is_null()) {
    if (!items->is_array()) return unavailable(what + ": items: not a list");
    list.items.reserve(items->size());
    for (size_t i = 0; i < items->size(); ++i) {
      if (!(*items)[i].is_object()) {
        return unavailable(what + ": items[" + std::to_string(i) + "]: not an object");
      }
      list.items.push_back(std::move((*items)[i]));
    }
  }
  if (auto metadata = body->find("metadata"); metadata != body->end() && metadata->is_object()) {
    if (auto rv = metadata->find("resourceVersion"); rv != metadata->end() && rv->is_string()) {
      list.resource_version = rv->get<std::string>();
    }
    if (auto next = metadata->find("continue"); next != metadata->end() && next->is_string()) {
      list.continue_token = next->get<std::string>();
    }
  }
  return list;
}

Result<ObjectList> Client::listAll(const ResourceRef& collection, ListOptions options,
                                   std::stop_token stop) {
  ObjectList all;
  bool first = true;
  while (true) {
    auto page = list(collection, options, stop);
    if (!page.ok()) return page.status();
    // Every page is read at the first page's version; that is the one to watch from.
    if (first) all.resource_version = page->resource_version;
    first = false;
    for (auto& item : page->items) all.items.push_back(std::move(item));
    if (page->continue_token.empty()) return all;
    options.continue_token = page->continue_token;
    // The version is carried by the token; sending both is an error.
    options.resource_version.clear();
    options.resource_version_match.clear();
  }
}

Result<nlohmann::json> Client::create(const ResourceRef& collection, const nlohmann::json& object) {
  auto path = resourcePath(collection.collection());
  if (!path.ok()) return path.status();
  return impl_->callJson("POST", *path, "", &object, "application/json");
}

Result<nlohmann::json> Client::update(const ResourceRef& ref, const nlohmann::json& object) {
  if (ref.name.empty()) return invalidArgument("update " + ref.toString() + ": name is empty");
  auto path = resourcePath(ref);
  if (!path.ok()) return path.status();
  return impl_->callJson("PUT", *path, "", &object, "application/json");
}

Result<nlohmann::json> Client::patch(const ResourceRef& ref, PatchType type,
                                     const nlohmann::json& patch) {
  if (ref.name.empty()) return invalidArgument("patch " + ref.toString() + ": name is empty");
  auto path = resourcePath(ref);
  if (!path.ok()) return path.status();
  return impl_->callJson("PATCH", *path, "", &patch, patchContentType(type));
}

Status Client::remove(const ResourceRef& ref, const DeleteOptions& options) {
  if (ref.name.empty()) return invalidArgument("delete " + ref.toString() + ": name is empty");
  auto path = resourcePath(ref);
  if (!path.ok()) return path.status();
  nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  // A plain delete sends no body, as kubectl does.
  const bool has_options = body.size() > 2;
  return impl_
      ->callJson("DELETE", *path, "", has_options ? &body : nullptr,
                 has_options ? "application/json" : "")
      .status();
}

Result<nlohmann::json> Client::updateWithRetry(const ResourceRef& ref,
                                               const std::function<Status(nlohmann::json&)>& mutate,
                                               int max_attempts) {
  Status last = Status(StatusCode::kConflict, "update " + ref.toString() + ": no attempt made");
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto current = get(ref);
    if (!current.ok()) return current.status();
    nlohmann::json updated = *current;
    if (Status s = mutate(updated); !s.ok()) return s;
    if (updated == *current) return current;
    auto stored = update(ref, updated);
    if (stored.ok() || stored.status().code() != StatusCode::kConflict) return stored;
    last = stored.status();
  }
  return last.withContext("gave up after " + std::to_string(max_attempts) + " conflicts");
}

Result<nlohmann::json> Client::getPath(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    return invalidArgument("path \"" + path + "\" does not start with /");
  }
  return impl_->callJson("GET", path, "", nullptr, "");
}

Status Client::watch(const ResourceRef& collection, const WatchOptions& options,
                     const std::function<bool(WatchEvent&&)>& on_event, std::stop_token stop) {
  auto path = resourcePath(collection.collection());
  if (!path.ok()) return path.status();
  const std::string what = "watch " + *path;
  const std::string target = *path + "?" + queryString(watchParams(options));

  // A watch is silent for as long as nothing changes; its read timeout must outlast the
  // server's own timeout, so it gets a client of its own.
  hc::http_client_config config = impl_->http_config;
  config.set_timeout(impl_->config.timeout + options.timeout);
  pplx::cancellation_token_source cancel;
  std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
  // Closes the connection of a stream left unread (the handler stopped, a bad event).
  auto abandon = [&cancel] { cancel.cancel(); };
  bool streaming = false;  // The answer's headers are in: errors now break a running stream.
  try {
    hc::http_client http(impl_->base_uri, config);
    auto request = impl_->makeRequest("GET", target, nullptr, "");
    if (!request.ok()) return request.status().withContext(what);
    ++impl_->requests;
    http::http_response answer = http.request(*request, cancel.get_token()).get();
    const int code = answer.status_code();
    if (code != 200) {
      std::string body = answer.extract_utf8string(true).get();
      std::optional<std::chrono::seconds> retry;
      if (auto h = answer.headers().find("Retry-After"); h != answer.headers().end()) {
        retry = parseRetryAfter(h->second);
      }
      if (code == 401) impl_->tokens->invalidate();
      return statusFromResponse(code, body, what, retry);
    }
    streaming = true;
    auto buffer = answer.body().streambuf();
    std::string pending;
    std::vector<uint8_t> chunk;
    while (true) {
      // Whatever has arrived, else wait for one more byte: the stream is read as the
      // server writes it, event by event, never waiting for a buffer to fill.
      const size_t available = buffer.in_avail();
      if (available > 0) {
        chunk.resize(available);
        const size_t n = buffer.getn(chunk.data(), available).get();
        pending.append(reinterpret_cast<const char*>(chunk.data()), n);
      } else {
        const auto c = buffer.bumpc().get();
        if (c == decltype(buffer)::traits::eof()) break;
        pending.push_back(static_cast<char>(c));
      }
      size_t start = 0;
      for (size_t newline = pending.find('\n'); newline != std::string::npos;
           newline = pending.find('\n', start)) {
        std::string_view line(pending.data() + start, newline - start);
        start = newline + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) continue;
        auto event = parseWatchEvent(line);
        if (!event.ok()) {
          abandon();
          return event.status().withContext(what);
        }
        if (event->type == WatchEventType::kError) {
          abandon();
          return statusFromApiStatus(event->object, 500, what);
        }
        if (!on_event(std::move(*event))) {
          abandon();
          return {};
        }
        if (stop.stop_requested()) return {};
      }
      pending.erase(0, start);
    }
    if (stop.stop_requested()) return {};
    return {};
  } catch (const http::http_exception& e) {
    if (stop.stop_requested()) return {};
    return statusFromTransportError(
        e.error_code(), streaming ? "the stream broke: " + std::string(e.what()) : e.what(), what);
  } catch (const pplx::task_canceled&) {
    if (stop.stop_requested()) return {};
    return unavailable(what + ": cancelled");
  } catch (const std::exception& e) {
    if (stop.stop_requested()) return {};
    return statusFromTransportError({}, e.what(), what);
  }
}

ClientStats Client::stats() const {
  ClientStats stats;
  stats.requests = impl_->requests.load();
  stats.throttled_retries = impl_->throttled_retries.load();
  stats.connection_retries = impl_->connection_retries.load();
  stats.auth_retries = impl_->auth_retries.load();
  return stats;
}

}  // namespace governor::controller::kube
