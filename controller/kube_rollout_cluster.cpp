#include "controller/kube_rollout_cluster.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "base/rfc3339.h"
#include "controller/rollout_status_json.h"

namespace governor::controller {
namespace {

using kube::intAt;
using kube::member;
using kube::stringAt;
using nlohmann::json;

// The controlling ownerReference of kind Rollout, or null.
const json* rolloutOwnerRef(const json& object) {
  const json* metadata = member(object, "metadata");
  const json* refs = metadata != nullptr ? member(*metadata, "ownerReferences") : nullptr;
  if (refs == nullptr || !refs->is_array()) return nullptr;
  for (const json& ref : *refs) {
    if (stringAt(ref, "kind") != rollouts::kRolloutKind) continue;
    const json* controller = member(ref, "controller");
    if (controller != nullptr && controller->is_boolean() && controller->get<bool>()) return &ref;
  }
  return nullptr;
}

json labelSelectorJson(const rollouts::LabelSelector& selector, const std::string& hash) {
  json match_labels = json::object();
  for (const auto& [k, v] : selector.match_labels) match_labels[k] = v;
  match_labels[std::string(rollouts::kPodTemplateHashLabel)] = hash;
  json out = {{"matchLabels", std::move(match_labels)}};
  if (!selector.match_expressions.empty()) {
    json expressions = json::array();
    for (const auto& e : selector.match_expressions) {
      json entry = {{"key", e.key}, {"operator", e.op}};
      if (!e.values.empty()) entry["values"] = e.values;
      expressions.push_back(std::move(entry));
    }
    out["matchExpressions"] = std::move(expressions);
  }
  return out;
}

}  // namespace

kube::ResourceRef rolloutResources(std::string namespace_) {
  return {.group = "governor.io",
          .version = "v1alpha1",
          .resource = "rollouts",
          .namespace_ = std::move(namespace_)};
}
kube::ResourceRef analysisTemplateResources(std::string namespace_) {
  return {.group = "governor.io",
          .version = "v1alpha1",
          .resource = "analysistemplates",
          .namespace_ = std::move(namespace_)};
}
kube::ResourceRef replicaSetResources(std::string namespace_) {
  return {.group = "apps",
          .version = "v1",
          .resource = "replicasets",
          .namespace_ = std::move(namespace_)};
}
kube::ResourceRef serviceResources(std::string namespace_) {
  return {
      .group = "", .version = "v1", .resource = "services", .namespace_ = std::move(namespace_)};
}
kube::ResourceRef httpRouteResources(std::string namespace_) {
  return {.group = "gateway.networking.k8s.io",
          .version = "v1",
          .resource = "httproutes",
          .namespace_ = std::move(namespace_)};
}

std::vector<std::string> rolloutOwnerOf(const json& replica_set) {
  const json* ref = rolloutOwnerRef(replica_set);
  if (ref == nullptr) return {};
  std::string uid = stringAt(*ref, "uid");
  if (uid.empty()) return {};
  return {std::move(uid)};
}

std::optional<ObjectKey> rolloutKeyOf(const json& replica_set) {
  const json* ref = rolloutOwnerRef(replica_set);
  if (ref == nullptr) return std::nullopt;
  return ObjectKey{stringAt(replica_set, "metadata", "namespace"), stringAt(*ref, "name")};
}

Result<RolloutObject> rolloutFromJson(const json& object, Status* status_error) {
  if (!object.is_object()) return invalidArgument("Rollout: not an object");
  RolloutObject out;
  out.key.namespace_ = stringAt(object, "metadata", "namespace");
  out.key.name = stringAt(object, "metadata", "name");
  if (out.key.name.empty()) return invalidArgument("Rollout: metadata.name missing");
  out.uid = stringAt(object, "metadata", "uid");
  out.generation = intAt(object, "metadata", "generation").value_or(0);
  out.resource_version = stringAt(object, "metadata", "resourceVersion");
  json manifest = {{"apiVersion", object.value("apiVersion", std::string(rollouts::kApiVersion))},
                   {"kind", object.value("kind", std::string(rollouts::kRolloutKind))},
                   {"metadata", {{"name", out.key.name}, {"namespace", out.key.namespace_}}}};
  if (const json* spec = member(object, "spec")) manifest["spec"] = *spec;
  out.manifest = manifest.dump();
  if (const json* status = member(object, "status")) {
    auto decoded = parseRolloutStatus(*status);
    if (decoded.ok()) {
      out.status = std::move(decoded).value();
    } else if (status_error != nullptr) {
      *status_error = decoded.status();
    }
  }
  return out;
}

rollouts::ObservedReplicaSet observedReplicaSet(const json& rs) {
  rollouts::ObservedReplicaSet out;
  out.name = stringAt(rs, "metadata", "name");
  if (const json* metadata = member(rs, "metadata")) {
    if (const json* labels = member(*metadata, "labels")) {
      out.pod_template_hash = stringAt(*labels, rollouts::kPodTemplateHashLabel.data());
    }
  }
  // apps/v1 defaults spec.replicas to 1.
  out.spec_replicas = static_cast<int32_t>(intAt(rs, "spec", "replicas").value_or(1));
  out.replicas = static_cast<int32_t>(intAt(rs, "status", "replicas").value_or(0));
  out.ready_replicas = static_cast<int32_t>(intAt(rs, "status", "readyReplicas").value_or(0));
  out.available_replicas =
      static_cast<int32_t>(intAt(rs, "status", "availableReplicas").value_or(0));
  // History deletes go oldest first; an unreadable time sorts as the oldest (the epoch).
  if (auto created = parseRfc3339(stringAt(rs, "metadata", "creationTimestamp")); created.ok()) {
    out.created_at = *created;
  }
  const int64_t generation = intAt(rs, "metadata", "generation").value_or(0);
  out.observed = intAt(rs, "status", "observedGeneration").value_or(0) >= generation;
  return out;
}

Result<json> replicaSetManifest(const rollouts::RolloutSpec& spec, const std::string& owner_uid,
                                const std::string& name, const std::string& pod_template_hash,
                                int32_t replicas) {
  json pod_template = json::parse(spec.pod_template.json, nullptr, /*allow_exceptions=*/false);
  if (pod_template.is_discarded() || !pod_template.is_object()) {
    return invalidArgument("Rollout " + spec.namespace_ + "/" + spec.name +
                           ": spec.template is not a JSON object");
  }
  const std::string hash_label(rollouts::kPodTemplateHashLabel);
  pod_template["metadata"]["labels"][hash_label] = pod_template_hash;
  json labels = json::object();
  for (const auto& [k, v] : spec.pod_template.labels) labels[k] = v;
  labels[hash_label] = pod_template_hash;
  labels[kRolloutLabel] = spec.name;
  json owner = {{"apiVersion", std::string(rollouts::kApiVersion)},
                {"kind", std::string(rollouts::kRolloutKind)},
                {"name", spec.name},
                {"uid", owner_uid},
                {"controller", true},
                {"blockOwnerDeletion", true}};
  return json{{"apiVersion", "apps/v1"},
              {"kind", "ReplicaSet"},
              {"metadata",
               {{"name", name},
                {"namespace", spec.namespace_},
                {"labels", std::move(labels)},
                {"ownerReferences", json::array({std::move(owner)})}}},
              {"spec",
               {{"replicas", replicas},
                {"selector", labelSelectorJson(spec.selector, pod_template_hash)},
                {"template", std::move(pod_template)}}}};
}

Result<bool> applyRouteWeights(json& route, const rollouts::RouteWeights& weights) {
  const std::string name = weights.namespace_ + "/" + weights.http_route;
  json* spec = route.is_object() && route.contains("spec") ? &route["spec"] : nullptr;
  json* rules =
      spec != nullptr && spec->is_object() && spec->contains("rules") ? &(*spec)["rules"] : nullptr;
  bool changed = false;
  bool found_rule = false;
  if (rules != nullptr && rules->is_array()) {
    for (json& rule : *rules) {
      if (!rule.is_object() || !rule.contains("backendRefs") || !rule["backendRefs"].is_array()) {
        continue;
      }
      bool stable = false;
      bool canary = false;
      for (json& ref : rule["backendRefs"]) {
        if (!ref.is_object()) continue;
        const std::string backend = stringAt(ref, "name");
        int32_t weight = 0;
        if (backend == weights.stable_service) {
          stable = true;
          weight = 100 - weights.canary_weight;
        } else if (backend == weights.canary_service) {
          canary = true;
          weight = weights.canary_weight;
        } else {
          continue;
        }
        const json* current = member(ref, "weight");
        if (current == nullptr || !current->is_number_integer() ||
            current->get<int64_t>() != weight) {
          ref["weight"] = weight;
          changed = true;
        }
      }
      found_rule = found_rule || (stable && canary);
    }
  }
  if (!found_rule) {
    return failedPrecondition("HTTPRoute " + name + ": no rule has backendRefs for both \"" +
                              weights.stable_service + "\" and \"" + weights.canary_service +
                              "\" (spec.rules[].backendRefs[].name)");
  }
  return changed;
}

KubeRolloutCluster::KubeRolloutCluster(kube::Client& client, kube::EventRecorder& events,
                                       std::vector<kube::Informer*> rollouts,
                                       std::vector<kube::Informer*> replica_sets,
                                       KubeRolloutClusterOptions options)
    : client_(client),
      events_(events),
      rollouts_(std::move(rollouts),
                ConvertedKind{"rollouts", std::string(rollouts::kApiVersion),
                              std::string(rollouts::kRolloutKind), "an empty status"},
                rolloutFromJson),
      replica_sets_(std::move(replica_sets)),
      options_(std::move(options)) {
  for (kube::Informer* informer : replica_sets_) {
    informer->addIndex(kRolloutOwnerIndex, rolloutOwnerOf);
  }
}

Result<std::shared_ptr<const RolloutObject>> KubeRolloutCluster::getRollout(const ObjectKey& key) {
  return rollouts_.get(key);
}

Result<std::vector<rollouts::ObservedReplicaSet>> KubeRolloutCluster::listReplicaSets(
    const RolloutObject& rollout) {
  std::vector<rollouts::ObservedReplicaSet> out;
  if (rollout.uid.empty()) return out;
  for (kube::Informer* informer : replica_sets_) {
    for (const kube::ObjectPtr& rs : informer->byIndex(kRolloutOwnerIndex, rollout.uid)) {
      const json* metadata = member(*rs, "metadata");
      if (metadata != nullptr && member(*metadata, "deletionTimestamp") != nullptr) continue;
      if (stringAt(*rs, "metadata", "namespace") != rollout.key.namespace_) continue;
      out.push_back(observedReplicaSet(*rs));
    }
  }
  return out;
}

Status KubeRolloutCluster::createReplicaSet(const RolloutObject& rollout,
                                            const rollouts::RolloutSpec& spec,
                                            const rollouts::ReplicaSetAction& action) {
  if (Status refused = refuseUnlessLeader(options_.may_write, "ReplicaSet create"); !refused.ok())
    return refused;
  auto manifest =
      replicaSetManifest(spec, rollout.uid, action.name, action.pod_template_hash, action.replicas);
  if (!manifest.ok()) return manifest.status();
  const kube::ResourceRef collection = replicaSetResources(rollout.key.namespace_);
  auto created = client_.create(collection, *manifest);
  if (created.ok()) return Status();
  if (created.status().code() != StatusCode::kAlreadyExists) return created.status();
  // Ours already (the informer has not shown it yet)? Then there is nothing to do.
  auto existing = client_.get(collection.named(action.name));
  if (!existing.ok()) return existing.status();
  const std::vector<std::string> owner = rolloutOwnerOf(*existing);
  if (!owner.empty() && owner.front() == rollout.uid) return Status();
  return failedPrecondition("ReplicaSet " + rollout.key.namespace_ + "/" + action.name +
                            " exists and is not controlled by this Rollout");
}

Status KubeRolloutCluster::scaleReplicaSet(const std::string& namespace_, const std::string& name,
                                           int32_t replicas) {
  if (Status refused = refuseUnlessLeader(options_.may_write, "ReplicaSet scale"); !refused.ok())
    return refused;
  // A merge patch of spec.replicas alone: no resourceVersion to race on, and the other
  // fields (someone's labels) are kept.
  auto patched = client_.patch(replicaSetResources(namespace_).named(name), kube::PatchType::kMerge,
                               json{{"spec", {{"replicas", replicas}}}});
  return patched.ok() ? Status() : patched.status();
}

Status KubeRolloutCluster::deleteReplicaSet(const std::string& namespace_,
                                            const std::string& name) {
  if (Status refused = refuseUnlessLeader(options_.may_write, "ReplicaSet delete"); !refused.ok())
    return refused;
  kube::DeleteOptions options;
  options.propagation_policy = "Background";
  Status removed = client_.remove(replicaSetResources(namespace_).named(name), options);
  return removed.code() == StatusCode::kNotFound ? Status() : removed;
}

Status KubeRolloutCluster::selectRevision(const std::string& namespace_, const std::string& service,
                                          const std::string& pod_template_hash) {
  const kube::ResourceRef ref = serviceResources(namespace_).named(service);
  auto current = client_.get(ref);
  if (!current.ok()) return current.status();
  const json* spec = member(*current, "spec");
  const json* selector = spec != nullptr ? member(*spec, "selector") : nullptr;
  if (selector != nullptr &&
      stringAt(*selector, rollouts::kPodTemplateHashLabel.data()) == pod_template_hash) {
    return Status();
  }
  if (Status refused = refuseUnlessLeader(options_.may_write, "Service update"); !refused.ok())
    return refused;
  // A merge patch adds or replaces one key of the selector; the others stay.
  auto patched = client_.patch(
      ref, kube::PatchType::kMerge,
      json{{"spec",
            {{"selector", {{std::string(rollouts::kPodTemplateHashLabel), pod_template_hash}}}}}});
  return patched.ok() ? Status() : patched.status();
}

Status KubeRolloutCluster::setRouteWeights(const rollouts::RouteWeights& weights) {
  const kube::ResourceRef ref = httpRouteResources(weights.namespace_).named(weights.http_route);
  bool leader_checked = false;
  Status refused;
  auto updated = client_.updateWithRetry(ref, [&](json& route) -> Status {
    auto changed = applyRouteWeights(route, weights);
    if (!changed.ok()) return changed.status();
    if (*changed && !leader_checked) {
      leader_checked = true;
      refused = refuseUnlessLeader(options_.may_write, "HTTPRoute update");
    }
    return refused;
  });
  return updated.ok() ? Status() : updated.status();
}

Result<rollouts::AnalysisTemplateSpec> KubeRolloutCluster::getAnalysisTemplate(
    const std::string& namespace_, const std::string& name) {
  auto object = client_.get(analysisTemplateResources(namespace_).named(name));
  if (!object.ok()) {
    if (object.status().code() == StatusCode::kNotFound) {
      return notFound("AnalysisTemplate " + namespace_ + "/" + name + " not found");
    }
    return object.status();
  }
  json manifest = {{"apiVersion", object->value("apiVersion", std::string(rollouts::kApiVersion))},
                   {"kind", object->value("kind", std::string(rollouts::kAnalysisTemplateKind))},
                   {"metadata", {{"name", name}, {"namespace", namespace_}}}};
  if (const json* spec = member(*object, "spec")) manifest["spec"] = *spec;
  return rollouts::parseAnalysisTemplate(manifest.dump(),
                                         "AnalysisTemplate " + namespace_ + "/" + name);
}

Status KubeRolloutCluster::updateRolloutStatus(const ObjectKey& key,
                                               const std::string& resource_version,
                                               const rollouts::RolloutStatus& status) {
  if (Status refused = refuseUnlessLeader(options_.may_write, "status update"); !refused.ok()) {
    return refused;
  }
  return rollouts_.writeStatus(client_,
                               rolloutResources(key.namespace_).named(key.name).sub("status"), key,
                               resource_version, renderRolloutStatus(status));
}

void KubeRolloutCluster::recordEvent(const ObjectKey& key, const Event& event) {
  if (!refuseUnlessLeader(options_.may_write, "event").ok()) return;
  rollouts_.recordEvent(events_, key, event);
}

void KubeRolloutCluster::forget(const ObjectKey& key) { rollouts_.forget(key); }

}  // namespace governor::controller
