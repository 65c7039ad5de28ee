#pragma once

// The objects a controller reconciles, read from its informers and converted once per
// version into the type the pure core works on (a ScalingPolicy into a PolicyObject, a
// Rollout into a RolloutObject), with the controller's own status writes laid over them.
//
// Why the overlay: a /status write answers with the stored object, but the informer brings
// it only after its watch event. Until then the informer still holds the version the write
// replaced; reconciling from it would undo what was just written and earn a Conflict. So the
// answer of our write is kept, and served instead of the informer's snapshot as long as that
// snapshot is the version the write replaced; once the informer has moved on (to our write
// or to anyone else's), the informer is the truth again.
//
// Used by both adapters (KubeCluster, KubeRolloutCluster); tested through them.
//
// Thread-safety: thread-safe; workers call it concurrently for different keys.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/status.h"
#include "controller/kube/client.h"
#include "controller/kube/events.h"
#include "controller/kube/fields.h"
#include "controller/kube/informer.h"
#include "controller/ports.h"

namespace governor::controller {

// Unavailable "not the leader: <what> refused" when `may_write` is set and says no; OK
// otherwise. Every write of an adapter asks first: a replica that lost its Lease stops
// writing at once, even mid-reconcile.
inline Status refuseUnlessLeader(const std::function<bool()>& may_write, const char* what) {
  if (may_write && !may_write()) {
    return unavailable(std::string("not the leader: ") + what + " refused");
  }
  return Status();
}

// What the cache says about its objects in messages, Events and logs.
struct ConvertedKind {
  std::string resource;     // "scalingpolicies": not-found messages.
  std::string api_version;  // "governor.io/v1alpha1": Event references without an object.
  std::string kind;         // "ScalingPolicy": logs and Event references.
  // What a stored status that does not decode is replaced by, for the warning: "an empty
  // status".
  std::string reset_status;
};

template <typename T>
class ConvertedObjects {
 public:
  // An object as the API server returns it -> T. A status that does not decode leaves T's
  // status empty and sets `status_error` (logged once per version); any other error makes
  // the object unusable (get() returns it).
  using Convert = std::function<Result<T>(const nlohmann::json& object, Status* status_error)>;

  // `informers` (one per watched namespace, or one for all) must outlive the cache.
  ConvertedObjects(std::vector<kube::Informer*> informers, ConvertedKind kind, Convert convert)
      : informers_(std::move(informers)), kind_(std::move(kind)), convert_(std::move(convert)) {}

  // The informers' snapshot of `key`, or null when no informer holds it. Never the overlay:
  // this is what the API server last told the watch.
  kube::ObjectPtr snapshot(const ObjectKey& key) const {
    for (kube::Informer* informer : informers_) {
      if (auto found = informer->get(key.namespace_, key.name)) return found;
    }
    return nullptr;
  }

  // The newest converted `key`: our own write while the informer still holds the version it
  // replaced, else the informer's snapshot (converted once per snapshot). NotFound when no
  // informer holds it (and forgets what was kept for it); the converter's error when the
  // object does not convert.
  Result<std::shared_ptr<const T>> get(const ObjectKey& key) {
    kube::ObjectPtr cached = snapshot(key);
    if (cached == nullptr) {
      forget(key);
      return notFound(kind_.resource + " " + key.toString() + " not found");
    }
    const std::string cached_version = kube::stringAt(*cached, "metadata", "resourceVersion");
    std::lock_guard lock(mu_);
    if (auto w = written_.find(key); w != written_.end()) {
      if (w->second.replaced_version == cached_version) return w->second.object;
      written_.erase(w);
    }
    auto& slot = converted_[key];
    if (slot.source == cached && slot.object != nullptr) return slot.object;
    Status status_error;
    auto converted = convert_(*cached, &status_error);
    if (!converted.ok()) return converted.status();
    if (!status_error.ok()) {
      spdlog::warn("{} {}: stored status is not readable ({}); starting from {}", kind_.kind,
                   key.toString(), status_error.message(), kind_.reset_status);
    }
    slot.source = cached;
    slot.object = std::make_shared<const T>(std::move(converted).value());
    return slot.object;
  }

  // Writes `status` as `key`'s status by PUT to `status_resource` (its /status subresource),
  // on the newest object we know (writeBase) at `resource_version`, and keeps the answer
  // (wrote). Returns NotFound when no informer holds `key`, else the client's error.
  Status writeStatus(kube::Client& client, const kube::ResourceRef& status_resource,
                     const ObjectKey& key, const std::string& resource_version,
                     nlohmann::json status) {
    auto body = writeBase(key, resource_version);
    if (!body.ok()) return body.status();
    (*body)["status"] = std::move(status);
    auto stored = client.update(status_resource, *body);
    if (!stored.ok()) return stored.status();
    wrote(key, resource_version, std::move(stored).value());
    return Status();
  }

  // Records `event` about `key` (the reference from the snapshot, or built from the key
  // when the informer no longer holds it). A failure is logged, not returned: an Event is
  // never worth failing a reconcile for.
  void recordEvent(kube::EventRecorder& events, const ObjectKey& key, const Event& event) const {
    kube::ObjectReference ref;
    if (kube::ObjectPtr cached = snapshot(key)) {
      ref = kube::ObjectReference::fromObject(*cached);
    } else {
      ref.api_version = kind_.api_version;
      ref.kind = kind_.kind;
      ref.namespace_ = key.namespace_;
      ref.name = key.name;
    }
    Status recorded = events.record(ref, event.type, event.reason, event.message);
    if (!recorded.ok()) {
      spdlog::warn("{} {}: cannot record event {}: {}", kind_.kind, key.toString(), event.reason,
                   recorded.message());
    }
  }

  // Forgets what is kept for `key` (the object was deleted).
  void forget(const ObjectKey& key) {
    std::lock_guard lock(mu_);
    converted_.erase(key);
    written_.erase(key);
  }

  const std::vector<kube::Informer*>& informers() const { return informers_; }

 private:
  // The body of a /status write of `key` at `resource_version`: the newest object we know
  // (our last write while the informer lags, else the informer's snapshot) with that
  // version; the caller sets its status. NotFound when no informer holds it.
  Result<nlohmann::json> writeBase(const ObjectKey& key, const std::string& resource_version) {
    kube::ObjectPtr cached = snapshot(key);
    if (cached == nullptr) return notFound(kind_.resource + " " + key.toString() + " not found");
    nlohmann::json body;
    {
      std::lock_guard lock(mu_);
      auto w = written_.find(key);
      const bool ours_newer =
          w != written_.end() &&
          w->second.replaced_version == kube::stringAt(*cached, "metadata", "resourceVersion");
      body = ours_newer ? *w->second.stored : *cached;
    }
    body["metadata"]["resourceVersion"] = resource_version;
    return body;
  }

  // Keeps `stored`, the API server's answer to our write that replaced `replaced_version`,
  // until the informer moves past that version. An answer that does not convert is not
  // kept: the informer will bring it.
  void wrote(const ObjectKey& key, const std::string& replaced_version, nlohmann::json stored) {
    auto object = std::make_shared<const nlohmann::json>(std::move(stored));
    auto converted = convert_(*object, nullptr);
    if (!converted.ok()) return;
    std::lock_guard lock(mu_);
    written_[key] =
        Written{replaced_version, object, std::make_shared<const T>(std::move(converted).value())};
  }

  struct Converted {
    kube::ObjectPtr source;  // The informer's snapshot it was made from.
    std::shared_ptr<const T> object;
  };
  struct Written {
    std::string replaced_version;  // The version the write replaced.
    kube::ObjectPtr stored;        // What the API server answered.
    std::shared_ptr<const T> object;
  };

  const std::vector<kube::Informer*> informers_;
  const ConvertedKind kind_;
  const Convert convert_;

  std::mutex mu_;
  std::map<ObjectKey, Converted> converted_;  // Guarded by mu_.
  std::map<ObjectKey, Written> written_;      // Guarded by mu_.
};

}  // namespace governor::controller
