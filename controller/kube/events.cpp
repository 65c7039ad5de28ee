#include "controller/kube/events.h"

#include <cassert>
#include <cstdio>
#include <utility>

#include "base/rfc3339.h"

namespace governor::controller::kube {
namespace {

// The API server rejects longer Event messages (events.k8s.io's note limit); client-go's
// recorders truncate too.
constexpr size_t kMaxMessageBytes = 1024;

std::string truncateUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back up to the start of a UTF-8 sequence: never cut a character in half.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

std::string eventNamespace(const ObjectReference& object) {
  return object.namespace_.empty() ? "default" : object.namespace_;
}

ResourceRef eventsIn(const std::string& namespace_) {
  return ResourceRef{.group = "", .version = "v1", .resource = "events", .namespace_ = namespace_};
}

std::string stringAt(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

nlohmann::json ObjectReference::toJson() const {
  nlohmann::json out = nlohmann::json::object();
  if (!api_version.empty()) out["apiVersion"] = api_version;
  if (!kind.empty()) out["kind"] = kind;
  if (!namespace_.empty()) out["namespace"] = namespace_;
  if (!name.empty()) out["name"] = name;
  if (!uid.empty()) out["uid"] = uid;
  if (!resource_version.empty()) out["resourceVersion"] = resource_version;
  return out;
}

ObjectReference ObjectReference::fromObject(const nlohmann::json& object) {
  ObjectReference ref;
  ref.api_version = stringAt(object, "apiVersion");
  ref.kind = stringAt(object, "kind");
  if (object.is_object()) {
    if (auto metadata = object.find("metadata"); metadata != object.end()) {
      ref.namespace_ = stringAt(*metadata, "namespace");
      ref.name = stringAt(*metadata, "name");
      ref.uid = stringAt(*metadata, "uid");
      ref.resource_version = stringAt(*metadata, "resourceVersion");
    }
  }
  return ref;
}

EventCorrelator::EventCorrelator(size_t max_entries) : max_entries_(max_entries) {
  assert(max_entries_ > 0);
}

std::string EventCorrelator::keyOf(const ObjectReference& object, std::string_view type,
                                   std::string_view reason, std::string_view message) {
  // client-go's getEventKey: the involved object (without its resourceVersion, which
  // changes with every write), type, reason and message. '\x1f' cannot occur in them.
  std::string key;
  for (std::string_view part : {std::string_view(object.api_version), std::string_view(object.kind),
                                std::string_view(object.namespace_), std::string_view(object.name),
                                std::string_view(object.uid), type, reason, message}) {
    key += part;
    key += '\x1f';
  }
  return key;
}

EventOccurrence EventCorrelator::observe(const ObjectReference& object, std::string_view type,
                                         std::string_view reason, std::string_view message,
                                         TimePoint now) {
  const std::string key = keyOf(object, type, reason, message);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Entry& entry = it->second;
    recency_.splice(recency_.begin(), recency_, entry.position);
    entry.last.is_new = false;
    entry.last.count += 1;
    entry.last.last_timestamp = now;
    return entry.last;
  }
  EventOccurrence occurrence;
  occurrence.is_new = true;
  occurrence.count = 1;
  occurrence.first_timestamp = now;
  occurrence.last_timestamp = now;
  // client-go names Events "<object>.<unix nanoseconds in hex>"; our clock has milliseconds,
  // so a sequence number fills the nanoseconds to keep names unique.
  const uint64_t nanos =
      static_cast<uint64_t>(now.time_since_epoch().count()) * 1'000'000 + (sequence_++ % 1'000'000);
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(nanos));
  occurrence.name = object.name + "." + hex;
  recency_.push_front(key);
  entries_.emplace(key, Entry{occurrence, recency_.begin()});
  while (entries_.size() > max_entries_) {
    entries_.erase(recency_.back());
    recency_.pop_back();
  }
  return occurrence;
}

void EventCorrelator::forget(const ObjectReference& object, std::string_view type,
                             std::string_view reason, std::string_view message) {
  auto it = entries_.find(keyOf(object, type, reason, message));
  if (it == entries_.end()) return;
  recency_.erase(it->second.position);
  entries_.erase(it);
}

nlohmann::json makeEvent(const ObjectReference& object, std::string_view type,
                         std::string_view reason, std::string_view message,
                         const EventOccurrence& occurrence, const EventRecorderOptions& options) {
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", occurrence.name}, {"namespace", eventNamespace(object)}}},
      {"involvedObject", object.toJson()},
      {"reason", std::string(reason)},
      {"message", truncateUtf8(message, kMaxMessageBytes)},
      {"type", std::string(type)},
      {"count", occurrence.count},
      {"firstTimestamp", formatRfc3339(occurrence.first_timestamp)},
      {"lastTimestamp", formatRfc3339(occurrence.last_timestamp)},
      {"source", {{"component", options.component}}},
      {"reportingComponent", options.component},
  };
  if (!options.instance.empty()) event["reportingInstance"] = options.instance;
  if (!options.host.empty()) event["source"]["host"] = options.host;
  return event;
}

nlohmann::json makeEventPatch(const EventOccurrence& occurrence, std::string_view message) {
  return {{"count", occurrence.count},
          {"lastTimestamp", formatRfc3339(occurrence.last_timestamp)},
          {"message", truncateUtf8(message, kMaxMessageBytes)}};
}

EventRecorder::EventRecorder(Client& client, EventRecorderOptions options)
    : client_(client), options_(std::move(options)), correlator_(options_.max_entries) {}

Status EventRecorder::create(const ObjectReference& object, std::string_view type,
                             std::string_view reason, std::string_view message,
                             const EventOccurrence& occurrence) {
  return client_
      .create(eventsIn(eventNamespace(object)),
              makeEvent(object, type, reason, message, occurrence, options_))
      .status();
}

Status EventRecorder::record(const ObjectReference& object, std::string_view type,
                             std::string_view reason, std::string_view message) {
  if (object.name.empty())
    return invalidArgument("event " + std::string(reason) + ": no object name");
  EventOccurrence occurrence;
  {
    std::lock_guard lock(mu_);
    occurrence = correlator_.observe(object, type, reason, message, options_.now());
  }
  if (occurrence.is_new) return create(object, type, reason, message, occurrence);
  // The core Event type takes strategic merge patches, as client-go sends them.
  Status patched = client_
                       .patch(eventsIn(eventNamespace(object)).named(occurrence.name),
                              PatchType::kStrategicMerge, makeEventPatch(occurrence, message))
                       .status();
  if (patched.code() != StatusCode::kNotFound) return patched;
  // The Event expired (the API server keeps them about an hour): start a new one.
  {
    std::lock_guard lock(mu_);
    correlator_.forget(object, type, reason, message);
    occurrence = correlator_.observe(object, type, reason, message, options_.now());
  }
  return create(object, type, reason, message, occurrence);
}

}  // namespace governor::controller::kube
