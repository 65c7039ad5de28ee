#include "controller/kube/informer.h"

#include <random>

#include <spdlog/spdlog.h>

#include "controller/kube/backoff.h"
#include "controller/kube/errors.h"

namespace governor::controller::kube {
namespace {

// A watch that ends this soon without delivering anything is treated as a failure (backoff),
// so a server that keeps closing watches at once cannot make the informer spin.
constexpr auto kQuietWatch = std::chrono::seconds(1);

// The server's Retry-After when it gave one (a 429), else the next backoff step.
Duration delayAfter(const Status& error, Backoff& backoff) {
  if (auto after = retryAfter(error)) return *after;
  return backoff.next();
}

std::string keyOf(const nlohmann::json& object) {
  return objectKey(namespaceOf(object), nameOf(object));
}

template <typename Handler, typename... Args>
void runHandlers(const std::vector<Handler>& handlers, const ResourceRef& what,
                 const Args&... args) {
  for (const auto& handler : handlers) {
    try {
      handler(args...);
    } catch (const std::exception& e) {
      // A handler's bug must not stop the informer: later events still need delivering.
      spdlog::error("kube: informer {}: handler threw: {}", what.toString(), e.what());
    }
  }
}

}  // namespace

CacheDelta replaceCache(ObjectCache& cache, std::vector<nlohmann::json>&& items) {
  CacheDelta delta;
  ObjectCache fresh;
  for (auto& item : items) {
    if (nameOf(item).empty()) continue;
    std::string key = keyOf(item);
    auto old = cache.find(key);
    if (old == cache.end()) {
      auto object = std::make_shared<const nlohmann::json>(std::move(item));
      delta.added.push_back(object);
      fresh[key] = std::move(object);
    } else if (resourceVersionOf(*old->second) != resourceVersionOf(item)) {
      auto object = std::make_shared<const nlohmann::json>(std::move(item));
      delta.updated.emplace_back(old->second, object);
      fresh[key] = std::move(object);
    } else {
      fresh[key] = old->second;
    }
  }
  for (const auto& [key, object] : cache) {
    if (fresh.find(key) == fresh.end()) delta.deleted.push_back(object);
  }
  cache = std::move(fresh);
  return delta;
}

Informer::Informer(Client& client, ResourceRef collection, InformerOptions options)
    : client_(client), collection_(collection.collection()), options_(std::move(options)) {}

Informer::~Informer() { stop(); }

void Informer::onAdd(ObjectHandler handler) { add_handlers_.push_back(std::move(handler)); }
void Informer::onUpdate(UpdateHandler handler) { update_handlers_.push_back(std::move(handler)); }
void Informer::onDelete(ObjectHandler handler) { delete_handlers_.push_back(std::move(handler)); }

void Informer::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(std::move(stop)); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

bool Informer::hasSynced() const {
  std::lock_guard lock(sync_mu_);
  return synced_;
}

bool Informer::waitForSync(Duration timeout) const {
  std::unique_lock lock(sync_mu_);
  return sync_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

ObjectPtr Informer::get(std::string_view namespace_, std::string_view name) const {
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(objectKey(namespace_, name));
  return it == cache_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::list() const {
  std::shared_lock lock(cache_mu_);
  std::vector<ObjectPtr> out;
  out.reserve(cache_.size());
  for (const auto& [key, object] : cache_) out.push_back(object);
  return out;
}

std::string Informer::resourceVersion() const {
  std::shared_lock lock(cache_mu_);
  return resource_version_;
}

Status Informer::lastError() const {
  std::shared_lock lock(cache_mu_);
  return last_error_;
}

void Informer::setError(Status status) {
  std::unique_lock lock(cache_mu_);
  last_error_ = std::move(status);
}

void Informer::pause(std::stop_token stop, Duration delay) {
  std::unique_lock lock(pause_mu_);
  pause_cv_.wait_for(lock, stop, delay, [] { return false; });
}

void Informer::notifyAdd(const nlohmann::json& object) {
  runHandlers(add_handlers_, collection_, object);
}
void Informer::notifyUpdate(const nlohmann::json& old_object, const nlohmann::json& new_object) {
  runHandlers(update_handlers_, collection_, old_object, new_object);
}
void Informer::notifyDelete(const nlohmann::json& object) {
  runHandlers(delete_handlers_, collection_, object);
}

void Informer::addIndex(std::string name, IndexFunc fn) {
  std::unique_lock lock(cache_mu_);
  indexes_[std::move(name)] = Index{std::move(fn), {}};
}

std::vector<ObjectPtr> Informer::byIndex(std::string_view name, std::string_view value) const {
  std::shared_lock lock(cache_mu_);
  std::vector<ObjectPtr> out;
  auto index = indexes_.find(name);
  if (index == indexes_.end()) return out;
  auto keys = index->second.keys.find(value);
  if (keys == index->second.keys.end()) return out;
  out.reserve(keys->second.size());
  for (const std::string& key : keys->second) {
    auto it = cache_.find(key);
    if (it != cache_.end()) out.push_back(it->second);
  }
  return out;
}

void Informer::reindex(const std::string& key, const nlohmann::json* old_object,
                       const nlohmann::json* new_object) {
  for (auto& [name, index] : indexes_) {
    if (old_object != nullptr) {
      for (const std::string& value : index.fn(*old_object)) {
        auto it = index.keys.find(value);
        if (it == index.keys.end()) continue;
        it->second.erase(key);
        if (it->second.empty()) index.keys.erase(it);
      }
    }
    if (new_object != nullptr) {
      for (std::string& value : index.fn(*new_object)) index.keys[std::move(value)].insert(key);
    }
  }
}

Status Informer::relist(std::stop_token stop) {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  auto listed = client_.listAll(collection_, list_options, stop);
  if (!listed.ok()) return listed.status();
  CacheDelta delta;
  {
    std::unique_lock lock(cache_mu_);
    delta = replaceCache(cache_, std::move(listed->items));
    resource_version_ = listed->resource_version;
    if (!indexes_.empty()) {
      for (const auto& object : delta.deleted) reindex(keyOf(*object), object.get(), nullptr);
      for (const auto& [old_object, new_object] : delta.updated) {
        reindex(keyOf(*new_object), old_object.get(), new_object.get());
      }
      for (const auto& object : delta.added) reindex(keyOf(*object), nullptr, object.get());
    }
  }
  for (const auto& object : delta.deleted) notifyDelete(*object);
  for (const auto& [old_object, new_object] : delta.updated) notifyUpdate(*old_object, *new_object);
  for (const auto& object : delta.added) notifyAdd(*object);
  bool initial = false;
  {
    std::lock_guard lock(sync_mu_);
    initial = !synced_;
    synced_ = true;
  }
  if (initial) {
    sync_cv_.notify_all();
  } else {
    ++relists_;
    spdlog::info("kube: informer {}: relisted ({} added, {} updated, {} deleted)",
                 collection_.toString(), delta.added.size(), delta.updated.size(),
                 delta.deleted.size());
  }
  return {};
}

void Informer::apply(WatchEvent&& event) {
  const std::string version = resourceVersionOf(event.object);
  if (event.type == WatchEventType::kBookmark) {
    ++bookmarks_;
    if (!version.empty()) {
      std::unique_lock lock(cache_mu_);
      resource_version_ = version;
    }
    return;
  }
  if (nameOf(event.object).empty()) {
    spdlog::warn("kube: informer {}: {} event for an object without a name; ignored",
                 collection_.toString(), watchEventTypeName(event.type));
    return;
  }
  const std::string key = keyOf(event.object);
  auto object = std::make_shared<const nlohmann::json>(std::move(event.object));
  ObjectPtr old;
  {
    std::unique_lock lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) old = it->second;
    if (event.type == WatchEventType::kDeleted) {
      if (it != cache_.end()) cache_.erase(it);
      reindex(key, old.get(), nullptr);
    } else {
      cache_[key] = object;
      reindex(key, old.get(), object.get());
    }
    if (!version.empty()) resource_version_ = version;
  }
  if (event.type == WatchEventType::kDeleted) {
    notifyDelete(*object);
  } else if (old) {
    notifyUpdate(*old, *object);
  } else {
    notifyAdd(*object);
  }
}

void Informer::run(std::stop_token stop) {
  Backoff backoff(options_.initial_backoff, options_.max_backoff);
  std::mt19937_64 random(std::random_device{}());
  const auto base = options_.watch_timeout.count();
  std::uniform_int_distribution<int64_t> spread(0, base > 0 ? base - 1 : 0);
  bool need_list = true;
  bool first_watch = true;
  while (!stop.stop_requested()) {
    if (need_list) {
      Status listed = relist(stop);
      if (stop.stop_requested()) break;
      setError(listed);
      if (!listed.ok()) {
        const Duration delay = delayAfter(listed, backoff);
        spdlog::warn("kube: informer {}: list failed: {}; retrying in {} ms",
                     collection_.toString(), listed.message(), delay.count());
        pause(stop, delay);
        continue;
      }
      need_list = false;
      backoff.reset();
    }

    WatchOptions watch_options;
    watch_options.label_selector = options_.label_selector;
    watch_options.field_selector = options_.field_selector;
    watch_options.resource_version = resourceVersion();
    watch_options.allow_bookmarks = true;
    watch_options.timeout = std::chrono::seconds(base + spread(random));
    if (!first_watch) ++watch_restarts_;
    first_watch = false;
    const auto started = std::chrono::steady_clock::now();
    bool delivered = false;
    Status watched = client_.watch(
        collection_, watch_options,
        [&](WatchEvent&& event) {
          delivered = true;
          apply(std::move(event));
          return true;
        },
        stop);
    if (stop.stop_requested()) break;
    setError(watched);
    if (watched.ok()) {
      if (!delivered && std::chrono::steady_clock::now() - started < kQuietWatch) {
        pause(stop, backoff.next());
      } else {
        backoff.reset();
      }
      continue;
    }
    if (isGone(watched)) {
      spdlog::info("kube: informer {}: resourceVersion {} is gone; relisting",
                   collection_.toString(), watch_options.resource_version);
      need_list = true;
      continue;
    }
    const Duration delay = delayAfter(watched, backoff);
    spdlog::warn("kube: informer {}: watch failed: {}; watching again in {} ms",
                 collection_.toString(), watched.message(), delay.count());
    pause(stop, delay);
  }
}

}  // namespace governor::controller::kube
