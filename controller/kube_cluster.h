#pragma once

// The reconciler's Cluster port on a real API server: ScalingPolicies from informer caches,
// /scale of any kind that serves it (found through discovery), pods, HPAs, Events, and the
// ScalingPolicy /status subresource. For a governor.io Rollout target, getScale also reads
// the Rollout (one GET, as for a Deployment's ready count) and says whether it is mid-update
// (Scale::scale_down_hold, rolloutScaleDownHold).
//
// Reads of policies come from the informers (never a GET per reconcile); /scale, pods and
// the target's ready count are read live, because they are what the decision is made from.
// A status write answers with the stored object; the adapter keeps it until the informer has
// caught up, so the next reconcile never works from the version it just replaced (which
// would only earn a Conflict).
//
// Writes (/scale, /status, Events) first ask `may_write`: a replica that lost its Lease
// stops writing at once, even mid-reconcile. A refused write is Unavailable "not the leader".
//
// Thread-safety: thread-safe; workers call it concurrently for different keys.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/converted_objects.h"
#include "controller/kube/client.h"
#include "controller/kube/events.h"
#include "controller/kube/informer.h"
#include "controller/kube/rest_mapper.h"
#include "controller/ports.h"

namespace governor::controller {

// governor.io/v1alpha1 scalingpolicies.
kube::ResourceRef scalingPolicies(std::string namespace_ = "");
// autoscaling/v2 horizontalpodautoscalers.
kube::ResourceRef horizontalPodAutoscalers(std::string namespace_ = "");

struct KubeClusterOptions {
  // Asked before every write; false refuses it. Default: always true (no leader election).
  std::function<bool()> may_write;
};

// The informer index of ScalingPolicies and HPAs by target: "<namespace>/<kind>/<name>" of
// spec.scaleTargetRef (scaleTargetOf; scaleTargetKey builds one).
inline constexpr char kScaleTargetIndex[] = "scaleTarget";
std::string scaleTargetKey(std::string_view namespace_, std::string_view kind,
                           std::string_view name);
std::vector<std::string> scaleTargetOf(const nlohmann::json& object);

class KubeCluster final : public Cluster {
 public:
  // `policies` are the ScalingPolicy informers (one per watched namespace, or one for all);
  // `hpas` the HorizontalPodAutoscaler informers for the same namespaces (may be empty when
  // the API server does not serve autoscaling/v2: then only other policies are checked).
  // Everything must outlive the adapter. Adds an index of scaleTargetRef to each informer,
  // so otherManager() is a lookup: REQUIRES the informers not started yet.
  KubeCluster(kube::Client& client, kube::RestMapper& mapper, kube::EventRecorder& events,
              std::vector<kube::Informer*> policies, std::vector<kube::Informer*> hpas,
              KubeClusterOptions options = {});

  Result<std::shared_ptr<const PolicyObject>> getPolicy(const ObjectKey& key) override;
  // Serializes `status` into the /status write and leaves it as it was.
  Status updatePolicyStatus(const ObjectKey& key, const std::string& resource_version,
                            PolicyStatus&& status) override;
  Result<Scale> getScale(const std::string& namespace_,
                         const policies::ScaleTargetRef& ref) override;
  Status updateScale(const std::string& namespace_, const policies::ScaleTargetRef& ref,
                     const std::string& resource_version, int32_t replicas) override;
  Result<std::vector<policies::PodInfo>> listPods(const std::string& namespace_,
                                                  const std::string& selector) override;
  Result<std::optional<std::string>> otherManager(const ObjectKey& key,
                                                  const std::string& namespace_,
                                                  const policies::ScaleTargetRef& ref) override;
  void recordEvent(const ObjectKey& key, const Event& event) override;

  // Forgets what the adapter keeps for `key` (the policy was deleted).
  void forget(const ObjectKey& key);

 private:
  Result<kube::ResourceMapping> targetMapping(const policies::ScaleTargetRef& ref);

  kube::Client& client_;
  kube::RestMapper& mapper_;
  kube::EventRecorder& events_;
  ConvertedObjects<PolicyObject> policies_;
  const std::vector<kube::Informer*> hpas_;
  const KubeClusterOptions options_;
};

// A ScalingPolicy object as the API server returns it -> PolicyObject: the manifest the
// parser reads is apiVersion, kind, metadata.{name,namespace} and spec (so it changes only
// with the spec); a status that does not decode is replaced by an empty one and `status_error`
// says why (the caller logs it: the behavior state starts afresh rather than from garbage).
Result<PolicyObject> policyFromJson(const nlohmann::json& object, Status* status_error = nullptr);

// A Pod -> PodInfo (phase, deletion, the Ready condition and its transition, start time).
policies::PodInfo podFromJson(const nlohmann::json& pod);

// Whether a governor.io Rollout (the object as the API server returns it) is mid-update, so
// that a ScalingPolicy on it must hold scale-downs (Scale::scale_down_hold): the reason, e.g.
// "Rollout shop/web is Progressing (step 2/5)" (canary: status.currentStepIndex, numbered
// from 0 as in the status, of the spec's steps) or "Rollout shop/web is Paused (blue-green)".
// Mid-update means status.phase Progressing or Paused (a rollout paused for a person is still
// mid-update), or, for Degraded or a status without a phase, status.canaryRevision set and
// different from status.stableRevision. Healthy and Aborted are not mid-update whatever the
// revisions say: an aborted update serves everything from the stable revision and may wait
// days for a person, which is no reason to keep idle pods. Fields of the wrong type count as
// absent; nullopt when not mid-update.
std::optional<std::string> rolloutScaleDownHold(const nlohmann::json& rollout);

}  // namespace governor::controller
