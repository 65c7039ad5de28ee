#pragma once

// The rollout controller's RolloutCluster port on a real API server: Rollouts and their
// ReplicaSets from informer caches, Services, HTTPRoutes and AnalysisTemplates read live,
// the Rollout /status subresource, Events. Patterned on KubeCluster (kube_cluster.h).
//
// Reads of Rollouts and ReplicaSets come from the informers (never a GET per reconcile). A
// status write answers with the stored object; the adapter keeps it until the informer has
// caught up, so the next reconcile does not work from the version it just replaced (which
// would only earn a Conflict).
//
// ReplicaSets the controller creates carry the label governor.io/rollout=<rollout name>
// (metadata only: neither the selector nor the pods), so the operator's ReplicaSet informer
// can select just them; ownership is still decided by ownerReferences uid.
//
// Writes first ask `may_write`: a replica that lost its Lease stops writing at once. A
// refused write is Unavailable "not the leader".
//
// Thread-safety: thread-safe; workers call it concurrently for different keys.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "controller/converted_objects.h"
#include "controller/kube/client.h"
#include "controller/kube/events.h"
#include "controller/kube/informer.h"
#include "controller/rollout_controller.h"

namespace governor::controller {

// governor.io/v1alpha1 rollouts and analysistemplates; apps/v1 replicasets; core/v1
// services; gateway.networking.k8s.io/v1 httproutes.
kube::ResourceRef rolloutResources(std::string namespace_ = "");
kube::ResourceRef analysisTemplateResources(std::string namespace_ = "");
kube::ResourceRef replicaSetResources(std::string namespace_ = "");
kube::ResourceRef serviceResources(std::string namespace_ = "");
kube::ResourceRef httpRouteResources(std::string namespace_ = "");

// The label on the ReplicaSets the controller creates (value: the Rollout's name), and the
// selector the operator's ReplicaSet informer uses.
inline constexpr char kRolloutLabel[] = "governor.io/rollout";

// The informer index of ReplicaSets by the uid of their controlling Rollout
// (rolloutOwnerOf).
inline constexpr char kRolloutOwnerIndex[] = "rolloutOwner";
std::vector<std::string> rolloutOwnerOf(const nlohmann::json& replica_set);

// The key of the Rollout that controls `replica_set` (an ownerReference of kind Rollout with
// controller: true), or nullopt.
std::optional<ObjectKey> rolloutKeyOf(const nlohmann::json& replica_set);

// A Rollout as the API server returns it -> RolloutObject. A status that does not decode is
// replaced by an empty one and `status_error` says why (the caller logs it).
// Errors: InvalidArgument when `object` is not an object or has no metadata.name.
Result<RolloutObject> rolloutFromJson(const nlohmann::json& object, Status* status_error = nullptr);

// A ReplicaSet -> what the brain sees of it.
rollouts::ObservedReplicaSet observedReplicaSet(const nlohmann::json& replica_set);

// The ReplicaSet for revision `pod_template_hash` of `spec`, named `name`, with `replicas`,
// owned by the Rollout `owner_uid` (see RolloutCluster::createReplicaSet).
// Errors: InvalidArgument when the spec's template JSON does not parse (a bug: the parser
// produced it).
Result<nlohmann::json> replicaSetManifest(const rollouts::RolloutSpec& spec,
                                          const std::string& owner_uid, const std::string& name,
                                          const std::string& pod_template_hash, int32_t replicas);

// Sets the weights of `weights` on `route` (an HTTPRoute object) in place: every
// rules[].backendRefs[] entry named weights.stable_service gets 100 - canary_weight, every one
// named weights.canary_service gets canary_weight. Returns whether anything changed.
// Errors: FailedPrecondition naming the route when no rule has a backendRef for both.
Result<bool> applyRouteWeights(nlohmann::json& route, const rollouts::RouteWeights& weights);

struct KubeRolloutClusterOptions {
  // Asked before every write; false refuses it. Default: always true (no leader election).
  std::function<bool()> may_write;
};

class KubeRolloutCluster final : public RolloutCluster {
 public:
  // `rollouts` and `replica_sets` are informers for the same namespaces (one per watched
  // namespace, or one for all). Everything must outlive the adapter. Adds kRolloutOwnerIndex
  // to each ReplicaSet informer: REQUIRES they are not started yet.
  KubeRolloutCluster(kube::Client& client, kube::EventRecorder& events,
                     std::vector<kube::Informer*> rollouts,
                     std::vector<kube::Informer*> replica_sets,
                     KubeRolloutClusterOptions options = {});

  Result<std::shared_ptr<const RolloutObject>> getRollout(const ObjectKey& key) override;
  Result<std::vector<rollouts::ObservedReplicaSet>> listReplicaSets(
      const RolloutObject& rollout) override;
  Status createReplicaSet(const RolloutObject& rollout, const rollouts::RolloutSpec& spec,
                          const rollouts::ReplicaSetAction& action) override;
  Status scaleReplicaSet(const std::string& namespace_, const std::string& name,
                         int32_t replicas) override;
  Status deleteReplicaSet(const std::string& namespace_, const std::string& name) override;
  Status selectRevision(const std::string& namespace_, const std::string& service,
                        const std::string& pod_template_hash) override;
  Status setRouteWeights(const rollouts::RouteWeights& weights) override;
  Result<rollouts::AnalysisTemplateSpec> getAnalysisTemplate(const std::string& namespace_,
                                                             const std::string& name) override;
  Status updateRolloutStatus(const ObjectKey& key, const std::string& resource_version,
                             const rollouts::RolloutStatus& status) override;
  void recordEvent(const ObjectKey& key, const Event& event) override;

  // Forgets what the adapter keeps for `key` (the Rollout was deleted).
  void forget(const ObjectKey& key);

 private:
  kube::Client& client_;
  kube::EventRecorder& events_;
  ConvertedObjects<RolloutObject> rollouts_;
  const std::vector<kube::Informer*> replica_sets_;
  const KubeRolloutClusterOptions options_;
};

}  // namespace governor::controller
