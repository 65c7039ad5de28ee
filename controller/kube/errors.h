#pragma once

// API server errors as Governor Status codes. The API server answers a failed request with a
// metav1.Status body ({"kind":"Status","code":409,"reason":"AlreadyExists","message":...,
// "details":{"causes":[{"field":"spec.replicas","message":...}],"retryAfterSeconds":1}});
// transport failures (refused, reset, timed out) never reach the server. Both become a
// Status whose code tells the caller what to do:
//
//   404                      NotFound
//   409 reason AlreadyExists AlreadyExists
//   409 (other reasons)      Conflict (stale resourceVersion: re-read and retry)
//   410 (Gone / Expired)     FailedPrecondition, recognised by isGone()
//   400, 422 and other 4xx   InvalidArgument (the message keeps the causes' field paths)
//   401, 403                 PermissionDenied
//   408                      DeadlineExceeded
//   429                      ResourceExhausted, the server's delay from retryAfter()
//   5xx                      Unavailable
//   timeout (no answer)      DeadlineExceeded
//   refused / reset / DNS    Unavailable
//
// Messages read "<what>: <server message> (HTTP <code> <reason>)", e.g.
// `PUT /apis/apps/v1/namespaces/web/deployments/api: Operation cannot be fulfilled ...:
// the object has been modified (HTTP 409 Conflict)`. The "(HTTP 410" and "retry after Ns"
// parts are what isGone() and retryAfter() read back, so that the information survives
// Status::withContext and crosses library boundaries in a plain Status.
//
// Thread-safety: pure functions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace governor::controller::kube {

// The Status for an HTTP error answer. `what` names the request ("GET /api/v1/..."); `body`
// is the response body (a metav1.Status, or anything else, which is quoted, truncated);
// `retry_after` is the Retry-After header, if any (else details.retryAfterSeconds is used).
// REQUIRES: http_code is not 2xx.
Status statusFromResponse(int http_code, std::string_view body, std::string_view what,
                          std::optional<std::chrono::seconds> retry_after = std::nullopt);

// The Status for a metav1.Status object (the body of an error answer, or the object of a
// watch ERROR event). `fallback_code` is used when the object carries no code.
Status statusFromApiStatus(const nlohmann::json& status, int fallback_code, std::string_view what,
                           std::optional<std::chrono::seconds> retry_after = std::nullopt);

// The Status for a transport error (the request got no HTTP answer): timed_out ->
// DeadlineExceeded, everything else -> Unavailable. `detail` is the library's message.
Status statusFromTransportError(const std::error_code& error, std::string_view detail,
                                std::string_view what);

// The StatusCode for an HTTP status code and metav1.Status reason (see the table above).
StatusCode statusCodeForHttp(int http_code, std::string_view reason);

// True when `status` is an HTTP 410 (resourceVersion too old: relist).
bool isGone(const Status& status);

// The delay the server asked for with a 429 (or a 5xx with Retry-After); nullopt when the
// status carries none.
std::optional<std::chrono::seconds> retryAfter(const Status& status);

// Parses a Retry-After header value in seconds ("3"); nullopt for anything else (the
// HTTP-date form is not used by the API server).
std::optional<std::chrono::seconds> parseRetryAfter(std::string_view header);

}  // namespace governor::controller::kube
