#pragma once

// An informer, as client-go's: a local cache of one collection (one namespace, or all), kept
// up to date by list + watch, with handlers told of every change. The operator runs one per
// watched namespace for ScalingPolicies, and enqueues keys from the handlers.
//
//   Informer policies(client, {.group = "governor.io", .version = "v1alpha1",
//                               .resource = "scalingpolicies", .namespace_ = "web"});
//   policies.onAdd([&](const nlohmann::json& p) { queue.add(keyOf(p)); });
//   policies.start();
//   if (!policies.waitForSync(std::chrono::seconds(30))) ...
//   std::shared_ptr<const nlohmann::json> p = policies.get("web", "api");
//
// How it stays correct:
//   - list (paged) then watch from the list's resourceVersion, with bookmarks: a BOOKMARK
//     only moves the resourceVersion, so a re-watch starts close to now;
//   - the stream ended (server timeout, connection dropped) -> watch again from the last
//     resourceVersion seen: the server replays what happened meanwhile;
//   - 410 Gone (that version was compacted away; as the watch's answer or an ERROR event)
//     -> list again and diff the cache against the list: deletes for objects that vanished,
//     updates for those whose resourceVersion changed, adds for new ones;
//   - any other error -> wait with exponential backoff and jitter (0.5 s doubling to 30 s by
//     default; Retry-After for 429), then watch again.
//
// Handlers run on the informer's thread, one at a time, in event order, after the cache has
// the change (so a handler's get() sees it). Objects are immutable snapshots shared between
// the cache and its readers. Not supported: periodic resync (the reconciler's requeueAfter
// re-evaluates policies anyway) and client-go's DeletedFinalStateUnknown tombstones (a delete
// found by a relist hands over the last cached state).
//
// Thread-safety: get(), list(), hasSynced(), waitForSync() and the counters are thread-safe.
// Handlers are registered before start(); start() and stop() from the owning thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "base/time.h"
#include "controller/kube/client.h"
#include "controller/kube/resource.h"
#include "controller/kube/watch.h"

namespace governor::controller::kube {

struct InformerOptions {
  // Only objects matching these selectors. Default: everything.
  std::string label_selector{};
  std::string field_selector{};
  // Items per list page. Default: 500 (client-go's).
  int64_t page_size = 500;
  // Each watch asks the server to end it after a random time in [t, 2t), so that many
  // informers do not re-watch in lockstep. Default: 5 min.
  std::chrono::seconds watch_timeout{std::chrono::minutes(5)};
  // Backoff after errors, doubling from initial to max with 20% jitter.
  // Default: 500 ms, 30 s.
  Duration initial_backoff{500};
  Duration max_backoff{std::chrono::seconds(30)};
};

using ObjectPtr = std::shared_ptr<const nlohmann::json>;
// By objectKey(namespace, name).
using ObjectCache = std::map<std::string, ObjectPtr>;

// What replacing a cache with a fresh list changed.
struct CacheDelta {
  std::vector<ObjectPtr> added{};
  std::vector<std::pair<ObjectPtr, ObjectPtr>> updated{};  // (old, new)
  std::vector<ObjectPtr> deleted{};                        // The last cached state.
};

// Replaces `cache` with `items` and returns the difference: items not cached are added,
// cached objects whose metadata.resourceVersion differs are updated (identical versions
// keep the cached snapshot), cached keys missing from `items` are deleted. Items without
// metadata.name are skipped.
CacheDelta replaceCache(ObjectCache& cache, std::vector<nlohmann::json>&& items);

class Informer {
 public:
  using ObjectHandler = std::function<void(const nlohmann::json& object)>;
  using UpdateHandler =
      std::function<void(const nlohmann::json& old_object, const nlohmann::json& new_object)>;

  // `client` must outlive the informer. `collection` names the resource (namespace_ "" =
  // all namespaces; name and subresource are ignored).
  Informer(Client& client, ResourceRef collection, InformerOptions options = {});
  ~Informer();  // stop()s.

  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // REQUIRES: before start(). Several handlers of a kind run in registration order.
  void onAdd(ObjectHandler handler);
  void onUpdate(UpdateHandler handler);
  void onDelete(ObjectHandler handler);

  // Starts listing and watching on a thread of its own. REQUIRES: not started.
  void start();

  // Stops the thread, cancelling the in-flight request; returns when it has ended (a
  // running handler finishes first). Idempotent. The cache keeps its content.
  void stop();

  // True once the first list is in the cache and its add handlers have run.
  bool hasSynced() const;

  // Waits at most `timeout` for hasSynced(). Returns hasSynced().
  bool waitForSync(Duration timeout) const;

  // The cached object, or null. Cluster-scoped objects have namespace "".
  ObjectPtr get(std::string_view namespace_, std::string_view name) const;

  // Every cached object, ordered by key.
  std::vector<ObjectPtr> list() const;

  // An index function, as client-go's cache.IndexFunc: the values under which an object is
  // found in an index (none: not indexed). E.g. "shop/Deployment/web" for a policy's
  // scaleTargetRef, so that "who else scales this?" is one lookup, not a scan of the cache.
  using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json& object)>;
  // Adds the index `name`, kept up to date with every change of the cache.
  // REQUIRES: before start(); `name` not added yet.
  void addIndex(std::string name, IndexFunc fn);
  // The cached objects whose index `name` holds `value`, ordered by key; empty for an
  // unknown index or value.
  std::vector<ObjectPtr> byIndex(std::string_view name, std::string_view value) const;

  // The resourceVersion the cache is at (the list's, then the latest event's or bookmark's).
  std::string resourceVersion() const;

  // Watch requests after the first (every re-watch, whatever ended the previous one).
  uint64_t watchRestarts() const { return watch_restarts_.load(); }
  // Lists after the initial one (each a 410 recovery).
  uint64_t relists() const { return relists_.load(); }
  // BOOKMARK events received.
  uint64_t bookmarks() const { return bookmarks_.load(); }

  // The last error of a list or watch (OK when the latest one succeeded), for health checks.
  Status lastError() const;

 private:
  void run(std::stop_token stop);
  // Lists, replaces the cache, runs the handlers of the difference.
  Status relist(std::stop_token stop);
  // Applies one watch event to the cache and runs its handlers.
  void apply(WatchEvent&& event);
  // Waits `delay` or until stop is requested.
  void pause(std::stop_token stop, Duration delay);
  void setError(Status status);
  // Moves `key` in every index from `old_object`'s values to `new_object`'s (either may be
  // null). REQUIRES: cache_mu_ held exclusively.
  void reindex(const std::string& key, const nlohmann::json* old_object,
               const nlohmann::json* new_object);

  void notifyAdd(const nlohmann::json& object);
  void notifyUpdate(const nlohmann::json& old_object, const nlohmann::json& new_object);
  void notifyDelete(const nlohmann::json& object);

  Client& client_;
  const ResourceRef collection_;
  const InformerOptions options_;

  std::vector<ObjectHandler> add_handlers_;
  std::vector<UpdateHandler> update_handlers_;
  std::vector<ObjectHandler> delete_handlers_;

  mutable std::shared_mutex cache_mu_;
  ObjectCache cache_;  // Guarded by cache_mu_.
  struct Index {
    IndexFunc fn;
    std::map<std::string, std::set<std::string>, std::less<>> keys;  // Value -> cache keys.
  };
  std::map<std::string, Index, std::less<>> indexes_;  // Guarded by cache_mu_ (set before start).
  std::string resource_version_;                       // Guarded by cache_mu_.
  Status last_error_;                                  // Guarded by cache_mu_.

  mutable std::mutex sync_mu_;
  mutable std::condition_variable sync_cv_;
  bool synced_ = false;  // Guarded by sync_mu_.

  std::mutex pause_mu_;
  std::condition_variable_any pause_cv_;

  std::atomic<uint64_t> watch_restarts_{0};
  std::atomic<uint64_t> relists_{0};
  std::atomic<uint64_t> bookmarks_{0};

  std::jthread thread_;
};

}  // namespace governor::controller::kube
