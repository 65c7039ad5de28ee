#pragma once

// The Kubernetes REST client: get, list, create, update, patch and delete any resource
// (built-in, custom, or a subresource such as /scale and /status), and watch collections,
// with JSON in and out as nlohmann::json. One cpprestsdk http_client underneath keeps
// connections alive between calls.
//
//   auto config = loadClientConfig({.kubeconfig = path});
//   auto client = Client::fromConfig(*config);
//   ResourceRef deployments{.group = "apps", .version = "v1", .resource = "deployments",
//                           .namespace_ = "web"};
//   Result<nlohmann::json> scale = (*client)->get(deployments.named("api").sub("scale"));
//
// Errors are Status values (controller/kube/errors.h has the table): NotFound, AlreadyExists,
// Conflict (stale resourceVersion: re-read and retry; updateWithRetry does), InvalidArgument
// (the message keeps the server's field paths), PermissionDenied, ResourceExhausted (429,
// retryAfter()), Unavailable (5xx, refused), DeadlineExceeded (no answer within the
// configured timeout). No exception leaves this class.
//
// Retries inside a call, and only these: a 429 is retried after the server's Retry-After
// (bounded attempts and delay); a GET that could not reach the server is retried after a
// short backoff; a 401 is retried once after re-reading a token file (a rotated token).
// Conflicts are the caller's to resolve.
//
// TLS: the server's certificate is verified against ca_data (only those CAs: the system
// store is replaced, as client-go does) or the system store, including the host name
// (IP addresses against IP SANs), unless insecure_skip_tls_verify. Client certificates are
// loaded from memory. Tokens are never logged.
//
// Thread-safety: thread-safe; calls may run concurrently from many threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/time.h"
#include "controller/kube/config.h"
#include "controller/kube/resource.h"
#include "controller/kube/watch.h"

namespace governor::controller::kube {

enum class PatchType {
  kMerge,           // application/merge-patch+json (RFC 7386): custom resources, /scale.
  kJson,            // application/json-patch+json (RFC 6902).
  kStrategicMerge,  // application/strategic-merge-patch+json: built-in types only.
};

// The Content-Type the API server expects for `type`.
std::string_view patchContentType(PatchType type);

// One page of a list: the items, the list's resourceVersion (to start a watch from) and the
// continue token of the next page ("" on the last).
struct ObjectList {
  std::vector<nlohmann::json> items{};
  std::string resource_version{};
  std::string continue_token{};
};

struct DeleteOptions {
  // "Foreground", "Background" or "Orphan". Default: "" (the resource's default).
  std::string propagation_policy{};
  // Delete only if the object still has this resourceVersion / uid (else Conflict).
  // Default: "" (unconditional).
  std::string precondition_resource_version{};
  std::string precondition_uid{};
};

struct ClientOptions {
  // How many times a call answered 429 is retried. Default: 3.
  int max_throttle_retries = 3;
  // Retry-After values above this are not waited for: the call returns ResourceExhausted at
  // once, with retryAfter() for the caller. Default: 10 s.
  Duration max_retry_after{std::chrono::seconds(10)};
  // The wait after a 429 without Retry-After. Default: 1 s.
  Duration default_retry_after{std::chrono::seconds(1)};
  // How many times a GET that got no answer (refused, reset; not timed out) is retried, with
  // a delay doubling from get_retry_backoff. Default: 2, 200 ms.
  int max_get_retries = 2;
  Duration get_retry_backoff{200};
  // Sent as User-Agent. Default: "governor/0.1.0".
  std::string user_agent = "governor/0.1.0";
  // How often a token file is re-read. Default: 1 min.
  Duration token_refresh_period{std::chrono::minutes(1)};
  // How the client waits between retries. Default: std::this_thread::sleep_for. Tests
  // record the delays instead of sleeping.
  std::function<void(Duration)> sleep{};
  // The clock of token re-reads. Default: the system clock.
  std::function<TimePoint()> now{};
};

// Counters for the operator's metrics. Monotonic.
struct ClientStats {
  uint64_t requests = 0;            // HTTP requests sent (retries included).
  uint64_t throttled_retries = 0;   // Retries after a 429.
  uint64_t connection_retries = 0;  // GET retries after a transport error.
  uint64_t auth_retries = 0;        // Retries after a 401 with a re-read token.
};

class Client {
 public:
  // A client for `config`. InvalidArgument when the server URL is malformed or the CA,
  // client certificate or key is not valid PEM (checked here, not at the first request);
  // PermissionDenied when the token file cannot be read.
  static Result<std::unique_ptr<Client>> fromConfig(ClientConfig config,
                                                    ClientOptions options = {});

  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientConfig& config() const;

  // The object (or subresource) `ref`. REQUIRES: ref.name is set.
  Result<nlohmann::json> get(const ResourceRef& ref);

  // One page of the collection `collection` (namespace_ "" = all namespaces, for namespaced
  // resources). `stop` aborts the request (then Unavailable "cancelled").
  Result<ObjectList> list(const ResourceRef& collection, const ListOptions& options = {},
                          std::stop_token stop = {});

  // Every page, following continue tokens (options.limit is the page size). A continue
  // token that expired meanwhile (410) is returned as is: the caller relists.
  Result<ObjectList> listAll(const ResourceRef& collection, ListOptions options = {},
                             std::stop_token stop = {});

  // Creates `object` in the collection `collection` (its namespace_ is the object's).
  // Returns the object as stored. AlreadyExists when the name is taken.
  Result<nlohmann::json> create(const ResourceRef& collection, const nlohmann::json& object);

  // Replaces `ref` with `object` (PUT). Conflict when object's metadata.resourceVersion is
  // set and stale. Returns the object as stored.
  Result<nlohmann::json> update(const ResourceRef& ref, const nlohmann::json& object);

  // Patches `ref`. Returns the object as stored. InvalidArgument (415) for a strategic merge
  // patch of a custom resource.
  Result<nlohmann::json> patch(const ResourceRef& ref, PatchType type, const nlohmann::json& patch);

  // Deletes `ref`. NotFound when it does not exist; Conflict when a precondition fails.
  Status remove(const ResourceRef& ref, const DeleteOptions& options = {});

  // Read-modify-write with optimistic concurrency: GET `ref`, apply `mutate` to it, PUT it
  // back; on Conflict start again, at most `max_attempts` times. `mutate` may return an error
  // to give up (returned as is). When `mutate` leaves the object unchanged, nothing is
  // written. Returns the object as stored. Conflict after max_attempts conflicts.
  Result<nlohmann::json> updateWithRetry(const ResourceRef& ref,
                                         const std::function<Status(nlohmann::json&)>& mutate,
                                         int max_attempts = 5);

  // GET of a raw path ("/api/v1", "/apis/apps/v1", "/version"), for discovery.
  Result<nlohmann::json> getPath(const std::string& path);

  // Watches the collection `collection` from options.resource_version and calls `on_event`
  // for each event as it arrives (on this thread), in order. Returns OK when the server ended
  // the stream (its timeout, or the connection closed cleanly), when `on_event` returned
  // false, or when `stop` was requested (the in-flight request is cancelled at once).
  // An ERROR event ends the watch and is returned decoded: isGone() for 410. Other errors:
  // the watch request's error answer (isGone() for 410, ResourceExhausted with retryAfter()
  // for 429), Unavailable / DeadlineExceeded when the stream broke or went silent for longer
  // than options.timeout plus the request timeout, InvalidArgument for a malformed event.
  // BOOKMARK events are passed on too.
  Status watch(const ResourceRef& collection, const WatchOptions& options,
               const std::function<bool(WatchEvent&&)>& on_event, std::stop_token stop = {});

  ClientStats stats() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace governor::controller::kube
