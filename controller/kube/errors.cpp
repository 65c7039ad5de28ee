#include "controller/kube/errors.h"

#include <charconv>
#include <string>

namespace governor::controller::kube {
namespace {

constexpr size_t kMaxQuotedBody = 200;

std::string reasonPhrase(int http_code) {
  switch (http_code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 408:
      return "Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "";
  }
}

std::string stringField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// "field: message" for each cause whose field path the message does not already name: a
// 422's message usually lists them, but not every server writes it that way.
std::string causesNotInMessage(const nlohmann::json& status, const std::string& message) {
  if (!status.is_object()) return "";
  auto details = status.find("details");
  if (details == status.end() || !details->is_object()) return "";
  auto causes = details->find("causes");
  if (causes == details->end() || !causes->is_array()) return "";
  std::string out;
  for (const auto& cause : *causes) {
    std::string field = stringField(cause, "field");
    std::string text = stringField(cause, "message");
    if (field.empty() && text.empty()) continue;
    if (!field.empty() && message.find(field) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += field.empty() ? text : field + ": " + text;
  }
  return out;
}

std::optional<std::chrono::seconds> detailsRetryAfter(const nlohmann::json& status) {
  if (!status.is_object()) return std::nullopt;
  auto details = status.find("details");
  if (details == status.end() || !details->is_object()) return std::nullopt;
  auto seconds = details->find("retryAfterSeconds");
  if (seconds == details->end() || !seconds->is_number_integer()) return std::nullopt;
  const auto value = seconds->get<int64_t>();
  if (value < 0) return std::nullopt;
  return std::chrono::seconds(value);
}

// cpprestsdk reports Boost.Asio errors as plain numbers in the system category, so
// error.message() can lie (Asio's "end of file" reads as ENOENT's "No such file or
// directory"). Only the codes cpprest sets itself are described.
std::string describeTransportError(const std::error_code& error) {
  if (!error) return "";
  if (error == std::errc::timed_out) return "timed out";
  // cpprest turns a refused connection into host_unreachable.
  if (error == std::errc::host_unreachable) return "connection refused or host unreachable";
  if (error == std::errc::connection_refused) return "connection refused";
  if (error == std::errc::operation_canceled) return "cancelled";
  return "";
}

Status makeStatus(int http_code, std::string reason, std::string message, std::string_view what,
                  std::optional<std::chrono::seconds> retry_after) {
  if (reason.empty()) reason = reasonPhrase(http_code);
  std::string text(what);
  if (!message.empty()) {
    if (!text.empty()) text += ": ";
    text += message;
  }
  text += " (HTTP " + std::to_string(http_code);
  if (!reason.empty()) text += " " + reason;
  if (retry_after) text += "; retry after " + std::to_string(retry_after->count()) + "s";
  text += ")";
  return {statusCodeForHttp(http_code, reason), std::move(text)};
}

}  // namespace

StatusCode statusCodeForHttp(int http_code, std::string_view reason) {
  switch (http_code) {
    case 401:
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 408:
      return StatusCode::kDeadlineExceeded;
    case 409:
      return reason == "AlreadyExists" ? StatusCode::kAlreadyExists : StatusCode::kConflict;
    case 410:
      return StatusCode::kFailedPrecondition;
    case 429:
      return StatusCode::kResourceExhausted;
    default:
      break;
  }
  if (http_code >= 500) return StatusCode::kUnavailable;
  if (http_code >= 400) return StatusCode::kInvalidArgument;
  // 1xx/3xx are not answers the API server gives to the requests we send.
  return StatusCode::kInternal;
}

Status statusFromApiStatus(const nlohmann::json& status, int fallback_code, std::string_view what,
                           std::optional<std::chrono::seconds> retry_after) {
  int code = fallback_code;
  if (status.is_object()) {
    auto it = status.find("code");
    if (it != status.end() && it->is_number_integer()) {
      const auto value = it->get<int64_t>();
      if (value >= 100 && value <= 599) code = static_cast<int>(value);
    }
  }
  std::string message = stringField(status, "message");
  const std::string causes = causesNotInMessage(status, message);
  if (!causes.empty()) message += message.empty() ? causes : " [" + causes + "]";
  if (!retry_after) retry_after = detailsRetryAfter(status);
  return makeStatus(code, stringField(status, "reason"), std::move(message), what, retry_after);
}

Status statusFromResponse(int http_code, std::string_view body, std::string_view what,
                          std::optional<std::chrono::seconds> retry_after) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && (parsed.contains("message") || parsed.contains("reason"))) {
    // The HTTP code is authoritative: a Status body's own code may be missing or 0.
    nlohmann::json copy = parsed;
    copy["code"] = http_code;
    return statusFromApiStatus(copy, http_code, what, retry_after);
  }
  // Not a metav1.Status (a proxy's HTML page, a plain-text error): quote its start.
  std::string text(body.substr(0, kMaxQuotedBody));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (body.size() > kMaxQuotedBody) text += "...";
  return makeStatus(http_code, "", text.empty() ? "" : "\"" + text + "\"", what, retry_after);
}

Status statusFromTransportError(const std::error_code& error, std::string_view detail,
                                std::string_view what) {
  std::string text(what);
  text += ": ";
  text += detail;
  if (const std::string cause = describeTransportError(error); !cause.empty()) {
    text += " (" + cause + ")";
  }
  if (error == std::errc::timed_out) return {StatusCode::kDeadlineExceeded, std::move(text)};
  return {StatusCode::kUnavailable, std::move(text)};
}

bool isGone(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().find("(HTTP 410") != std::string::npos;
}

std::optional<std::chrono::seconds> retryAfter(const Status& status) {
  static constexpr std::string_view kMarker = "; retry after ";
  const std::string& message = status.message();
  const size_t at = message.rfind(kMarker);
  if (at == std::string::npos) return std::nullopt;
  const char* begin = message.data() + at + kMarker.size();
  const char* end = message.data() + message.size();
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(begin, end, seconds);
  if (ec != std::errc() || ptr == end || *ptr != 's') return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::optional<std::chrono::seconds> parseRetryAfter(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  if (header.empty()) return std::nullopt;
  int64_t seconds = 0;
  auto [ptr, ec] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (ec != std::errc() || ptr != header.data() + header.size() || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::seconds(seconds);
}

}  // namespace governor::controller::kube
