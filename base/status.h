#pragma once

// Status and Result<T>: errors as values across library boundaries, in the style of
// absl::Status / absl::StatusOr. The code tells a caller (the work queue, the CLI) what to do
// with the error; the message tells a person what went wrong, naming the file, line or field.
//
// Thread-safety: value types; const methods may be called concurrently.

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace governor {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // Bad input (spec, file, flag). Terminal until the input changes.
  kNotFound,            // The object is gone: forget the key.
  kAlreadyExists,       // Create of an existing object.
  kConflict,            // Stale resourceVersion: re-read and retry at once.
  kUnavailable,         // Transient: back off and retry.
  kDeadlineExceeded,    // Timed out: back off and retry.
  kResourceExhausted,   // Throttled (429): retry after the server's delay.
  kPermissionDenied,    // 401/403: retrying will not help until configuration changes.
  kFailedPrecondition,  // The world is not in a state where the operation makes sense.
  kInternal,            // A bug or an invariant broken.
};

std::string_view statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK.
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status okStatus() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "InvalidArgument: spec.maxReplicas: must be >= minReplicas"; "OK" when ok().
  std::string toString() const;

  // Returns a copy whose message is "<context>: <message>".
  Status withContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalidArgument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}
inline Status notFound(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
inline Status unavailable(std::string message) {
  return {StatusCode::kUnavailable, std::move(message)};
}
inline Status internalError(std::string message) {
  return {StatusCode::kInternal, std::move(message)};
}
inline Status failedPrecondition(std::string message) {
  return {StatusCode::kFailedPrecondition, std::move(message)};
}

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : data_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(data_).ok() && "Result needs a value or an error");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace governor
