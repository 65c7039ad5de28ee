#include "simulator/in_memory_cluster.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <tuple>
#include <utility>

#include "policies/spec_parser.h"

namespace governor::simulator {
namespace {

// The Scale selector of a target, which listPods reads back.
std::string selectorOf(const std::string& kind, const std::string& name) {
  return "governor.io/target=" + kind + "." + name;
}

// Sets `out` to `version` in decimal, as std::to_string writes it, reusing out's buffer:
// resource versions are written and compared on every reconcile.
void formatVersion(std::string& out, int64_t version) {
  char buf[24];
  out.assign(buf, std::to_chars(buf, buf + sizeof(buf), version).ptr);
}

}  // namespace

std::optional<Status> InMemoryCluster::takeFailure(Operation op) {
  auto found = failures_.find(op);
  if (found == failures_.end()) return std::nullopt;
  Status status = std::move(found->second);
  failures_.erase(found);
  return status;
}

InMemoryCluster::StoredPolicy* InMemoryCluster::livePolicy(const controller::ObjectKey& key) {
  auto found = policies_.find(key);
  return found == policies_.end() || found->second.object == nullptr ? nullptr : &found->second;
}

void InMemoryCluster::bumpVersion(StoredPolicy& slot) {
  formatVersion(slot.object->resource_version, ++slot.version);
}

void InMemoryCluster::applyPolicy(const controller::ObjectKey& key, std::string manifest) {
  StoredPolicy& slot = policies_[key];
  slot.object = slot.object ? std::make_shared<controller::PolicyObject>(*slot.object)
                            : std::make_shared<controller::PolicyObject>();
  controller::PolicyObject& object = *slot.object;
  if (object.generation == 0 || object.manifest != manifest) ++object.generation;
  object.key = key;
  object.manifest = std::move(manifest);
  bumpVersion(slot);
  PolicyTarget& target = policy_targets_[key];
  if (target.created == 0) target.created = ++policies_created_;
  target.kind.clear();
  target.name.clear();
  if (auto spec = policies::parsePolicy(object.manifest, key.toString()); spec.ok()) {
    target.kind = spec->scale_target_ref.kind;
    target.name = spec->scale_target_ref.name;
  }
}

void InMemoryCluster::addHorizontalPodAutoscaler(const std::string& namespace_,
                                                 const std::string& name, const std::string& kind,
                                                 const std::string& target) {
  hpas_.push_back({namespace_, name, kind, target});
}

Result<std::optional<std::string>> InMemoryCluster::otherManager(
    const controller::ObjectKey& key, const std::string& namespace_,
    const policies::ScaleTargetRef& ref) {
  for (const Hpa& h : hpas_) {
    if (h.namespace_ == namespace_ && h.kind == ref.kind && h.target == ref.name) {
      return std::optional<std::string>("HorizontalPodAutoscaler " + namespace_ + "/" + h.name);
    }
  }
  // When the policy at `key` was created: looked up only once another policy targets the same
  // object (usually none does, and this runs on every reconcile).
  std::optional<int64_t> created;
  for (const auto& [other, t] : policy_targets_) {
    if (other == key || other.namespace_ != namespace_ || t.kind != ref.kind ||
        t.name != ref.name || livePolicy(other) == nullptr) {
      continue;
    }
    if (!created) {
      auto self = policy_targets_.find(key);
      created = self == policy_targets_.end() ? INT64_MAX : self->second.created;
    }
    if (t.created < *created) {
      return std::optional<std::string>("ScalingPolicy " + other.toString());
    }
  }
  return std::optional<std::string>();
}

void InMemoryCluster::deletePolicy(const controller::ObjectKey& key) {
  if (auto found = policies_.find(key); found != policies_.end()) found->second.object.reset();
  policy_targets_.erase(key);
}

const controller::PolicyObject* InMemoryCluster::policy(const controller::ObjectKey& key) const {
  auto found = policies_.find(key);
  return found == policies_.end() ? nullptr : found->second.object.get();
}

void InMemoryCluster::addTarget(const std::string& namespace_, const std::string& kind,
                                const std::string& name, int32_t replicas, Duration startup) {
  Target t;
  t.namespace_ = namespace_;
  t.kind = kind;
  t.name = name;
  t.startup = startup;
  const TimePoint now = clock_.now();
  for (int32_t i = 0; i < replicas; ++i) {
    // Existing pods: created and ready before the simulation starts.
    t.pods.push_back(Pod{name + "-" + std::to_string(t.next_pod++), now - startup, now});
  }
  t.replicas = replicas;
  t.selector = selectorOf(kind, name);
  targets_[{namespace_, kind, name}] = std::move(t);
}

const InMemoryCluster::Target* InMemoryCluster::findTarget(const std::string& namespace_,
                                                           const std::string& kind,
                                                           const std::string& name) const {
  // A simulation has one target and tests a few: a scan with cheap equality tests beats the
  // map's three-way comparisons of tuples.
  for (const auto& [key, t] : targets_) {
    if (t.name == name && t.kind == kind && t.namespace_ == namespace_) return &t;
  }
  return nullptr;
}

const InMemoryCluster::Target& InMemoryCluster::target(const std::string& namespace_,
                                                       const std::string& kind,
                                                       const std::string& name) const {
  const Target* t = findTarget(namespace_, kind, name);
  static const Target kNone;
  return t == nullptr ? kNone : *t;
}

void InMemoryCluster::setScaleDownHold(const std::string& namespace_, const std::string& kind,
                                       const std::string& name, std::optional<std::string> reason) {
  auto found = targets_.find(std::tie(namespace_, kind, name));
  if (found != targets_.end()) found->second.scale_down_hold = std::move(reason);
}

InMemoryCluster::TargetHandle InMemoryCluster::findHandle(const std::string& namespace_,
                                                          const std::string& kind,
                                                          const std::string& name) const {
  return TargetHandle(findTarget(namespace_, kind, name));
}

int32_t InMemoryCluster::specReplicas(const std::string& namespace_, const std::string& kind,
                                      const std::string& name) const {
  return target(namespace_, kind, name).replicas;
}

int32_t InMemoryCluster::existingPods(const std::string& namespace_, const std::string& kind,
                                      const std::string& name) const {
  return existingPods(findHandle(namespace_, kind, name));
}

int32_t InMemoryCluster::readyCount(const Target& t, TimePoint now) {
  // One start-up time per target: pods become ready in creation order.
  auto first_unready = std::partition_point(t.pods.begin(), t.pods.end(),
                                            [now](const Pod& p) { return p.ready_at <= now; });
  return static_cast<int32_t>(first_unready - t.pods.begin());
}

int32_t InMemoryCluster::readyPods(const std::string& namespace_, const std::string& kind,
                                   const std::string& name) const {
  return readyPods(findHandle(namespace_, kind, name));
}

std::vector<std::string> InMemoryCluster::readyPodNames(const std::string& namespace_,
                                                        const std::string& kind,
                                                        const std::string& name) const {
  return readyPodNames(findHandle(namespace_, kind, name));
}

int32_t InMemoryCluster::existingPods(TargetHandle target) const {
  return target.valid() ? static_cast<int32_t>(target.target_->pods.size()) : 0;
}

int32_t InMemoryCluster::readyPods(TargetHandle target) const {
  return target.valid() ? readyCount(*target.target_, clock_.now()) : 0;
}

std::vector<std::string> InMemoryCluster::readyPodNames(TargetHandle target) const {
  std::vector<std::string> names;
  if (!target.valid()) return names;
  const Target& t = *target.target_;
  const int32_t ready = readyCount(t, clock_.now());
  names.reserve(static_cast<size_t>(ready));
  for (int32_t i = 0; i < ready; ++i) names.push_back(t.pods[static_cast<size_t>(i)].name);
  return names;
}

void InMemoryCluster::resize(Target& target, int32_t replicas, TimePoint now) {
  const auto want = static_cast<size_t>(std::max(0, replicas));
  // Newest first is not-ready first, as a ReplicaSet ranks pods for deletion.
  if (target.pods.size() > want) target.pods.resize(want);
  while (target.pods.size() < want) {
    target.pods.push_back(
        Pod{target.name + "-" + std::to_string(target.next_pod++), now, now + target.startup});
  }
  target.replicas = replicas;
}

Result<std::shared_ptr<const controller::PolicyObject>> InMemoryCluster::getPolicy(
    const controller::ObjectKey& key) {
  if (auto failure = takeFailure(Operation::kGetPolicy)) return *failure;
  const StoredPolicy* slot = livePolicy(key);
  if (slot == nullptr) return notFound("scalingpolicies " + key.toString() + " not found");
  return std::shared_ptr<const controller::PolicyObject>(slot->object);
}

Status InMemoryCluster::updatePolicyStatus(const controller::ObjectKey& key,
                                           const std::string& resource_version,
                                           controller::PolicyStatus&& status) {
  if (auto failure = takeFailure(Operation::kUpdatePolicyStatus)) return *failure;
  StoredPolicy* slot = livePolicy(key);
  if (slot == nullptr) return notFound("scalingpolicies " + key.toString() + " not found");
  auto& object = slot->object;
  if (object->resource_version != resource_version) {
    return {StatusCode::kConflict, "scalingpolicies " + key.toString() +
                                       ": the object has been modified; resourceVersion " +
                                       object->resource_version + ", not " + resource_version};
  }
  if (object.use_count() > 1) object = std::make_shared<controller::PolicyObject>(*object);
  // A swap, not a move: the caller gets the replaced status's buffers back for its next one.
  swap(object->status, status);
  bumpVersion(*slot);
  return Status();
}

Result<controller::Scale> InMemoryCluster::getScale(const std::string& namespace_,
                                                    const policies::ScaleTargetRef& ref) {
  if (auto failure = takeFailure(Operation::kGetScale)) return *failure;
  const Target* t = findTarget(namespace_, ref.kind, ref.name);
  if (t == nullptr) return notFound(ref.kind + " " + namespace_ + "/" + ref.name + " not found");
  controller::Scale scale;
  scale.spec_replicas = t->replicas;
  scale.status_replicas = static_cast<int32_t>(t->pods.size());
  scale.ready_replicas = readyCount(*t, clock_.now());
  scale.selector = t->selector;
  scale.resource_version = t->version_text;
  scale.scale_down_hold = t->scale_down_hold;
  return scale;
}

Status InMemoryCluster::updateScale(const std::string& namespace_,
                                    const policies::ScaleTargetRef& ref,
                                    const std::string& resource_version, int32_t replicas) {
  if (auto failure = takeFailure(Operation::kUpdateScale)) return *failure;
  auto found = targets_.find(std::tie(namespace_, ref.kind, ref.name));
  if (found == targets_.end()) {
    return notFound(ref.kind + " " + namespace_ + "/" + ref.name + " not found");
  }
  Target& t = found->second;
  if (resource_version != t.version_text) {
    return {StatusCode::kConflict,
            ref.kind + " " + namespace_ + "/" + ref.name + ": the object has been modified"};
  }
  if (replicas < 0) return invalidArgument("spec.replicas: must be >= 0");
  if (replicas != t.replicas) ++scale_writes_;
  resize(t, replicas, clock_.now());
  formatVersion(t.version_text, ++t.version);
  return Status();
}

Result<std::vector<policies::PodInfo>> InMemoryCluster::listPods(const std::string& namespace_,
                                                                 const std::string& selector) {
  if (auto failure = takeFailure(Operation::kListPods)) return *failure;
  std::vector<policies::PodInfo> pods;
  const TimePoint now = clock_.now();
  for (const auto& [key, t] : targets_) {
    if (t.namespace_ != namespace_ || t.selector != selector) continue;
    for (const Pod& p : t.pods) {
      policies::PodInfo info;
      info.name = p.name;
      info.phase = policies::PodPhase::kRunning;
      info.start_time = p.created;
      const bool ready = p.ready_at <= now;
      info.ready = ready;
      info.ready_transition = ready ? p.ready_at : p.created;
      pods.push_back(std::move(info));
    }
  }
  return pods;
}

void InMemoryCluster::recordEvent(const controller::ObjectKey& key,
                                  const controller::Event& event) {
  events_.emplace_back(key, event);
}

}  // namespace governor::simulator
