#include "controller/kube_cluster.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "base/rfc3339.h"
#include "controller/status_json.h"

namespace governor::controller {
namespace {

using kube::intAt;
using kube::member;
using kube::stringAt;
using nlohmann::json;

std::optional<TimePoint> timeAt(const json& object, const char* a, const char* b) {
  std::string text = stringAt(object, a, b);
  if (text.empty()) return std::nullopt;
  auto parsed = parseRfc3339(text);
  if (!parsed.ok()) return std::nullopt;
  return *parsed;
}

// The apiVersion of a scaleTargetRef that leaves it out: the built-in workloads'.
std::string apiVersionOf(const policies::ScaleTargetRef& ref) {
  if (!ref.api_version.empty()) return ref.api_version;
  if (ref.kind == "Deployment" || ref.kind == "StatefulSet" || ref.kind == "ReplicaSet") {
    return "apps/v1";
  }
  return "";
}

// Kinds whose object publishes status.readyReplicas next to its /scale.
bool publishesReadyReplicas(const kube::ResourceMapping& m) {
  return m.group == "apps" && (m.resource == "deployments" || m.resource == "statefulsets" ||
                               m.resource == "replicasets");
}

// governor.io Rollouts: their status says whether an update is in progress, and counts the
// ready pods of every revision.
bool isRollout(const kube::ResourceMapping& m) {
  return m.group == "governor.io" && m.resource == "rollouts";
}

}  // namespace

kube::ResourceRef scalingPolicies(std::string namespace_) {
  kube::ResourceRef ref;
  ref.group = "governor.io";
  ref.version = "v1alpha1";
  ref.resource = "scalingpolicies";
  ref.namespace_ = std::move(namespace_);
  return ref;
}

kube::ResourceRef horizontalPodAutoscalers(std::string namespace_) {
  kube::ResourceRef ref;
  ref.group = "autoscaling";
  ref.version = "v2";
  ref.resource = "horizontalpodautoscalers";
  ref.namespace_ = std::move(namespace_);
  return ref;
}

Result<PolicyObject> policyFromJson(const json& object, Status* status_error) {
  if (!object.is_object()) return invalidArgument("ScalingPolicy: not an object");
  PolicyObject out;
  out.key.namespace_ = stringAt(object, "metadata", "namespace");
  out.key.name = stringAt(object, "metadata", "name");
  if (out.key.name.empty()) return invalidArgument("ScalingPolicy: metadata.name missing");
  out.generation = intAt(object, "metadata", "generation").value_or(0);
  out.resource_version = stringAt(object, "metadata", "resourceVersion");
  json manifest = {{"apiVersion", object.value("apiVersion", "governor.io/v1alpha1")},
                   {"kind", object.value("kind", "ScalingPolicy")},
                   {"metadata", {{"name", out.key.name}, {"namespace", out.key.namespace_}}}};
  if (const json* spec = member(object, "spec")) manifest["spec"] = *spec;
  out.manifest = manifest.dump();
  if (const json* status = member(object, "status")) {
    auto decoded = statusFromJson(*status);
    if (decoded.ok()) {
      out.status = std::move(decoded).value();
    } else if (status_error != nullptr) {
      *status_error = decoded.status();
    }
  }
  return out;
}

std::string scaleTargetKey(std::string_view namespace_, std::string_view kind,
                           std::string_view name) {
  std::string key;
  key.reserve(namespace_.size() + kind.size() + name.size() + 2);
  key.append(namespace_).append("/").append(kind).append("/").append(name);
  return key;
}

std::vector<std::string> scaleTargetOf(const json& object) {
  const json* spec = member(object, "spec");
  const json* target = spec != nullptr ? member(*spec, "scaleTargetRef") : nullptr;
  if (target == nullptr) return {};
  return {scaleTargetKey(stringAt(object, "metadata", "namespace"), stringAt(*target, "kind"),
                         stringAt(*target, "name"))};
}

policies::PodInfo podFromJson(const json& pod) {
  policies::PodInfo info;
  info.name = stringAt(pod, "metadata", "name");
  const json* metadata = member(pod, "metadata");
  info.deleting = metadata != nullptr && member(*metadata, "deletionTimestamp") != nullptr;
  const std::string phase = stringAt(pod, "status", "phase");
  if (phase == "Pending") {
    info.phase = policies::PodPhase::kPending;
  } else if (phase == "Running") {
    info.phase = policies::PodPhase::kRunning;
  } else if (phase == "Succeeded") {
    info.phase = policies::PodPhase::kSucceeded;
  } else if (phase == "Failed") {
    info.phase = policies::PodPhase::kFailed;
  } else {
    info.phase = policies::PodPhase::kUnknown;
  }
  info.start_time = timeAt(pod, "status", "startTime");
  if (const json* status = member(pod, "status")) {
    if (const json* conditions = member(*status, "conditions");
        conditions && conditions->is_array()) {
      for (const json& c : *conditions) {
        if (stringAt(c, "type") != "Ready") continue;
        info.ready = stringAt(c, "status") == "True";
        if (auto t = stringAt(c, "lastTransitionTime"); !t.empty()) {
          if (auto parsed = parseRfc3339(t); parsed.ok()) info.ready_transition = *parsed;
        }
      }
    }
  }
  return info;
}

std::optional<std::string> rolloutScaleDownHold(const json& rollout) {
  const std::string phase = stringAt(rollout, "status", "phase");
  const std::string canary = stringAt(rollout, "status", "canaryRevision");
  const std::string stable = stringAt(rollout, "status", "stableRevision");
  const bool moving = phase == "Progressing" || phase == "Paused";
  const bool revisions_differ =
      phase != "Healthy" && phase != "Aborted" && !canary.empty() && canary != stable;
  if (!moving && !revisions_differ) return std::nullopt;

  const json* spec = member(rollout, "spec");
  const json* strategy = spec != nullptr ? member(*spec, "strategy") : nullptr;
  const json* canary_spec = strategy != nullptr ? member(*strategy, "canary") : nullptr;
  const bool blue_green = stringAt(rollout, "status", "strategy") == "BlueGreen" ||
                          (strategy != nullptr && member(*strategy, "blueGreen") != nullptr);
  std::string where;
  if (blue_green) {
    where = "blue-green";
  } else if (auto step = intAt(rollout, "status", "currentStepIndex")) {
    where = "step " + std::to_string(*step);
    const json* steps = canary_spec != nullptr ? member(*canary_spec, "steps") : nullptr;
    if (steps != nullptr && steps->is_array()) where += "/" + std::to_string(steps->size());
  }
  std::string out = "Rollout " + stringAt(rollout, "metadata", "namespace") + "/" +
                    stringAt(rollout, "metadata", "name") + " is " +
                    (phase.empty() ? std::string("updating") : phase);
  if (!moving && !stable.empty()) {
    where += (where.empty() ? "" : ", ") + std::string("revision ") + stable + " -> " + canary;
  }
  if (!where.empty()) out += " (" + where + ")";
  return out;
}

KubeCluster::KubeCluster(kube::Client& client, kube::RestMapper& mapper,
                         kube::EventRecorder& events, std::vector<kube::Informer*> policies,
                         std::vector<kube::Informer*> hpas, KubeClusterOptions options)
    : client_(client),
      mapper_(mapper),
      events_(events),
      policies_(std::move(policies),
                ConvertedKind{"scalingpolicies", "governor.io/v1alpha1", "ScalingPolicy",
                              "an empty status and behavior state"},
                policyFromJson),
      hpas_(std::move(hpas)),
      options_(std::move(options)) {
  for (kube::Informer* informer : policies_.informers())
    informer->addIndex(kScaleTargetIndex, scaleTargetOf);
  for (kube::Informer* informer : hpas_) informer->addIndex(kScaleTargetIndex, scaleTargetOf);
}

Result<std::shared_ptr<const PolicyObject>> KubeCluster::getPolicy(const ObjectKey& key) {
  return policies_.get(key);
}

Status KubeCluster::updatePolicyStatus(const ObjectKey& key, const std::string& resource_version,
                                       PolicyStatus&& status) {
  if (Status refused = refuseUnlessLeader(options_.may_write, "status update"); !refused.ok()) {
    return refused;
  }
  return policies_.writeStatus(client_,
                               scalingPolicies(key.namespace_).named(key.name).sub("status"), key,
                               resource_version, statusToJson(status));
}

Result<kube::ResourceMapping> KubeCluster::targetMapping(const policies::ScaleTargetRef& ref) {
  const std::string api_version = apiVersionOf(ref);
  if (api_version.empty()) {
    return invalidArgument("spec.scaleTargetRef.apiVersion: required for kind " + ref.kind);
  }
  auto mapping = mapper_.resolve(api_version, ref.kind);
  if (!mapping.ok()) return mapping.status();
  if (!mapping->has_scale) {
    return Status(StatusCode::kFailedPrecondition,
                  ref.kind + " (" + api_version + ") has no /scale subresource");
  }
  return mapping;
}

Result<Scale> KubeCluster::getScale(const std::string& namespace_,
                                    const policies::ScaleTargetRef& ref) {
  auto mapping = targetMapping(ref);
  if (!mapping.ok()) return mapping.status();
  const kube::ResourceRef target = mapping->ref(namespace_, ref.name);
  auto scale = client_.get(target.sub("scale"));
  if (!scale.ok()) return scale.status();
  Scale out;
  auto spec_replicas = intAt(*scale, "spec", "replicas");
  auto status_replicas = intAt(*scale, "status", "replicas");
  out.spec_replicas = static_cast<int32_t>(spec_replicas.value_or(0));
  out.status_replicas = static_cast<int32_t>(status_replicas.value_or(0));
  out.selector = stringAt(*scale, "status", "selector");
  out.resource_version = stringAt(*scale, "metadata", "resourceVersion");
  if (publishesReadyReplicas(*mapping)) {
    auto object = client_.get(target);
    if (!object.ok()) return object.status();
    out.ready_replicas =
        static_cast<int32_t>(intAt(*object, "status", "readyReplicas").value_or(0));
  } else if (isRollout(*mapping)) {
    auto object = client_.get(target);
    if (!object.ok()) return object.status();
    // A Rollout the controller has not reported on yet has no status: its pods are unknown
    // (listed when needed), not zero.
    if (member(*object, "status") != nullptr) {
      out.ready_replicas =
          static_cast<int32_t>(intAt(*object, "status", "readyReplicas").value_or(0));
    }
    out.scale_down_hold = rolloutScaleDownHold(*object);
  }
  return out;
}

Status KubeCluster::updateScale(const std::string& namespace_, const policies::ScaleTargetRef& ref,
                                const std::string& resource_version, int32_t replicas) {
  if (Status refused = refuseUnlessLeader(options_.may_write, "scale update"); !refused.ok())
    return refused;
  auto mapping = targetMapping(ref);
  if (!mapping.ok()) return mapping.status();
  json metadata = {{"name", ref.name}, {"namespace", namespace_}};
  if (!resource_version.empty()) metadata["resourceVersion"] = resource_version;
  json body = {{"apiVersion", "autoscaling/v1"},
               {"kind", "Scale"},
               {"metadata", std::move(metadata)},
               {"spec", {{"replicas", replicas}}}};
  auto updated = client_.update(mapping->ref(namespace_, ref.name).sub("scale"), body);
  return updated.ok() ? Status() : updated.status();
}

Result<std::vector<policies::PodInfo>> KubeCluster::listPods(const std::string& namespace_,
                                                             const std::string& selector) {
  if (selector.empty()) {
    // An empty selector selects every pod of the namespace: never what a target means.
    return Status(StatusCode::kFailedPrecondition,
                  "the target's /scale has no status.selector: cannot find its pods");
  }
  kube::ListOptions options;
  options.label_selector = selector;
  auto pods =
      client_.listAll({.version = "v1", .resource = "pods", .namespace_ = namespace_}, options);
  if (!pods.ok()) return pods.status();
  std::vector<policies::PodInfo> out;
  out.reserve(pods->items.size());
  for (const json& pod : pods->items) out.push_back(podFromJson(pod));
  return out;
}

Result<std::optional<std::string>> KubeCluster::otherManager(const ObjectKey& key,
                                                             const std::string& namespace_,
                                                             const policies::ScaleTargetRef& ref) {
  const std::string target = scaleTargetKey(namespace_, ref.kind, ref.name);
  for (kube::Informer* informer : hpas_) {
    for (const kube::ObjectPtr& hpa : informer->byIndex(kScaleTargetIndex, target)) {
      return std::optional<std::string>("HorizontalPodAutoscaler " + namespace_ + "/" +
                                        stringAt(*hpa, "metadata", "name"));
    }
  }
  kube::ObjectPtr self = policies_.snapshot(key);
  if (self == nullptr) return std::optional<std::string>();
  const std::string self_created = stringAt(*self, "metadata", "creationTimestamp");
  for (kube::Informer* informer : policies_.informers()) {
    for (const kube::ObjectPtr& other : informer->byIndex(kScaleTargetIndex, target)) {
      const std::string name = stringAt(*other, "metadata", "name");
      if (name == key.name) continue;
      // The first one created keeps the target; ties (same second) go to the lower name.
      // RFC 3339 UTC timestamps of one format compare as strings.
      const std::string created = stringAt(*other, "metadata", "creationTimestamp");
      if (created < self_created || (created == self_created && name < key.name)) {
        return std::optional<std::string>("ScalingPolicy " + namespace_ + "/" + name);
      }
    }
  }
  return std::optional<std::string>();
}

void KubeCluster::recordEvent(const ObjectKey& key, const Event& event) {
  if (!refuseUnlessLeader(options_.may_write, "event").ok()) return;
  policies_.recordEvent(events_, key, event);
}

void KubeCluster::forget(const ObjectKey& key) { policies_.forget(key); }

}  // namespace governor::controller
