#pragma once

// Kubernetes Events (core/v1) about the objects Governor manages, with client-go's event
// correlation, simplified: the same (object, type, reason, message) seen again updates the
// existing Event's count and lastTimestamp with a patch instead of creating another object,
// so a policy stuck on the same problem produces one Event counting up, not thousands. The
// correlation memory is an in-process LRU (client-go: 4096 entries); after a restart, or once
// an entry is evicted or the Event expired on the server (NotFound on patch), a new Event
// starts again at count 1. Not done: client-go's aggregation of similar messages ("combined
// from similar events") and its spam filter.
//
// Event objects: metadata.name "<object>.<hex time>", in the object's namespace ("default"
// for cluster-scoped objects); involvedObject {apiVersion, kind, namespace, name, uid,
// resourceVersion}; reason, message (at most 1024 bytes), type (Normal/Warning), count,
// firstTimestamp, lastTimestamp (RFC 3339 seconds), source.component and reportingComponent
// "governor", reportingInstance and source.host when configured.
//
// Thread-safety: EventCorrelator is not thread-safe; EventRecorder is.

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/time.h"
#include "controller/kube/client.h"
#include "controller/kube/time_source.h"

namespace governor::controller::kube {

// The object an Event is about.
struct ObjectReference {
  std::string api_version{};  // "governor.io/v1alpha1"
  std::string kind{};         // "ScalingPolicy"
  std::string namespace_{};
  std::string name{};
  std::string uid{};
  std::string resource_version{};

  // {apiVersion, kind, namespace, name, uid, resourceVersion}, empty fields left out.
  nlohmann::json toJson() const;
  // From an object's apiVersion, kind and metadata; missing fields stay "".
  static ObjectReference fromObject(const nlohmann::json& object);
};

// What to do for one occurrence: create a new Event, or patch the existing one.
struct EventOccurrence {
  bool is_new = true;
  std::string name{};  // The Event object's metadata.name.
  int32_t count = 1;
  TimePoint first_timestamp{};
  TimePoint last_timestamp{};
};

class EventCorrelator {
 public:
  // REQUIRES: max_entries > 0.
  explicit EventCorrelator(size_t max_entries = 4096);

  // Records an occurrence at `now`. The first of a (object, type, reason, message) key is
  // new (count 1, a fresh name); later ones reuse its name with count+1 and the first
  // timestamp kept. Beyond max_entries keys, the least recently seen is forgotten.
  EventOccurrence observe(const ObjectReference& object, std::string_view type,
                          std::string_view reason, std::string_view message, TimePoint now);

  // Forgets the key, so its next occurrence creates a new Event (after the old one
  // expired on the server).
  void forget(const ObjectReference& object, std::string_view type, std::string_view reason,
              std::string_view message);

  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    EventOccurrence last;
    std::list<std::string>::iterator position;  // In recency_, most recent first.
  };
  static std::string keyOf(const ObjectReference& object, std::string_view type,
                           std::string_view reason, std::string_view message);

  size_t max_entries_;
  uint64_t sequence_ = 0;  // Keeps names unique within one millisecond.
  std::list<std::string> recency_;
  std::unordered_map<std::string, Entry> entries_;
};

struct EventRecorderOptions {
  // source.component and reportingComponent. Default: "governor".
  std::string component = "governor";
  // reportingInstance (e.g. the pod name). Default: "" (not set).
  std::string instance{};
  // source.host (e.g. the node name). Default: "" (not set).
  std::string host{};
  // Correlation memory. Default: 4096 keys.
  size_t max_entries = 4096;
  // Default: the system clock.
  NowFn now = systemNow;
};

// The Event object for a new occurrence (see the file comment).
nlohmann::json makeEvent(const ObjectReference& object, std::string_view type,
                         std::string_view reason, std::string_view message,
                         const EventOccurrence& occurrence, const EventRecorderOptions& options);

// The patch of a repeated occurrence: count, lastTimestamp (and message, unchanged by
// construction, but client-go sends it too).
nlohmann::json makeEventPatch(const EventOccurrence& occurrence, std::string_view message);

class EventRecorder {
 public:
  // `client` must outlive the recorder.
  explicit EventRecorder(Client& client, EventRecorderOptions options = {});

  // Creates or updates the Event. Best effort: the error (as the client returns it) is for
  // the caller to log; nothing is retried beyond the client's own retries, except that a
  // repeat whose Event vanished is created anew.
  Status record(const ObjectReference& object, std::string_view type, std::string_view reason,
                std::string_view message);

 private:
  Status create(const ObjectReference& object, std::string_view type, std::string_view reason,
                std::string_view message, const EventOccurrence& occurrence);

  Client& client_;
  const EventRecorderOptions options_;
  std::mutex mu_;
  EventCorrelator correlator_;  // Guarded by mu_.
};

}  // namespace governor::controller::kube
