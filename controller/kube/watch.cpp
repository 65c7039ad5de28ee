#include "controller/kube/watch.h"

namespace governor::controller::kube {
namespace {

constexpr size_t kQuotedLine = 120;

std::string quoted(std::string_view line) {
  std::string out(line.substr(0, kQuotedLine));
  if (line.size() > kQuotedLine) out += "...";
  return "\"" + out + "\"";
}

std::string metadataString(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto value = metadata->find(key);
  if (value == metadata->end() || !value->is_string()) return "";
  return value->get<std::string>();
}

}  // namespace

std::string_view watchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

std::vector<std::pair<std::string, std::string>> watchParams(const WatchOptions& options) {
  std::vector<std::pair<std::string, std::string>> params{{"watch", "true"}};
  if (!options.label_selector.empty()) params.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) params.emplace_back("fieldSelector", options.field_selector);
  if (!options.resource_version.empty()) {
    params.emplace_back("resourceVersion", options.resource_version);
  }
  if (options.allow_bookmarks) params.emplace_back("allowWatchBookmarks", "true");
  if (options.timeout.count() > 0) {
    params.emplace_back("timeoutSeconds", std::to_string(options.timeout.count()));
  }
  return params;
}

Result<WatchEvent> parseWatchEvent(std::string_view line) {
  nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return invalidArgument("watch event " + quoted(line) + ": not a JSON object");
  }
  auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string()) {
    return invalidArgument("watch event " + quoted(line) + ": type: missing");
  }
  WatchEvent event;
  const auto& name = type->get_ref<const std::string&>();
  if (name == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (name == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    return invalidArgument("watch event " + quoted(line) + ": type: unknown \"" + name + "\"");
  }
  auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) {
    return invalidArgument("watch event " + quoted(line) + ": object: missing");
  }
  event.object = std::move(*object);
  return event;
}

std::string resourceVersionOf(const nlohmann::json& object) {
  return metadataString(object, "resourceVersion");
}
std::string namespaceOf(const nlohmann::json& object) {
  return metadataString(object, "namespace");
}
std::string nameOf(const nlohmann::json& object) { return metadataString(object, "name"); }

}  // namespace governor::controller::kube
