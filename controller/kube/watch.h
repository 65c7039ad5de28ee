#pragma once

// Watch events as the API server streams them: one JSON object per line,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}. Client::watch reads the
// stream as it arrives and hands each parsed event over; the Informer builds its cache on it.
// A BOOKMARK's object carries only kind, apiVersion and metadata.resourceVersion; an ERROR's
// object is a metav1.Status (code 410 when the requested resourceVersion is too old).
//
// Thread-safety: value types and pure functions.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "controller/kube/resource.h"

namespace governor::controller::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR".
std::string_view watchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  nlohmann::json object{};
};

struct WatchOptions {
  std::string label_selector{};  // Default: everything.
  std::string field_selector{};  // Default: everything.
  // Events after this version; "" or "0" start with the current objects as ADDED events.
  // Default: "".
  std::string resource_version{};
  // Ask for BOOKMARK events, so a quiet watch still learns the latest resourceVersion and a
  // re-watch after a disconnect rarely needs a relist. Default: true.
  bool allow_bookmarks = true;
  // The server ends the watch after this long (timeoutSeconds); the client then watches
  // again. The client's own read timeout is this plus the configured request timeout.
  // Default: 5 min (client-go picks 5-10 min at random).
  std::chrono::seconds timeout{std::chrono::minutes(5)};
};

// The query parameters of a watch with `options`: watch=true plus the set options.
std::vector<std::pair<std::string, std::string>> watchParams(const WatchOptions& options);

// Parses one line of a watch stream. InvalidArgument, quoting the start of the line, when
// it is not JSON, has no known "type" or no "object" (an object for ADDED, MODIFIED,
// DELETED and BOOKMARK).
Result<WatchEvent> parseWatchEvent(std::string_view line);

// metadata.resourceVersion / namespace / name of an object; "" when missing or not a string.
std::string resourceVersionOf(const nlohmann::json& object);
std::string namespaceOf(const nlohmann::json& object);
std::string nameOf(const nlohmann::json& object);

}  // namespace governor::controller::kube
