#pragma once

// An in-memory API server for the reconciler: ScalingPolicy objects, scalable targets with
// pods, and an event log. It is also the simulator's workload model:
//
//   * A scale-up creates the new pods at once (they cost from that moment) and each becomes
//     ready `startup` after its creation.
//   * A scale-down removes pods at once, as a ReplicaSet picks them: not-ready pods before
//     ready ones, newest first. With one start-up time for every pod that is simply "newest
//     first", and it is what the oracle baseline assumes (oracle.h).
//   * scale.status.replicas counts the pods that exist; readyReplicas those that are ready
//     as of the clock's now().
//
// Pods are named "<target>-<n>" with n counting up from 1 per target, so runs are
// deterministic. Tests can make the next call of an operation fail (failNext).
//
// Thread-safety: not thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/clock.h"
#include "controller/ports.h"

namespace governor::simulator {

class InMemoryCluster final : public controller::Cluster {
  struct Target;  // Below.

 public:
  enum class Operation { kGetPolicy, kUpdatePolicyStatus, kGetScale, kUpdateScale, kListPods };

  // A target found once and queried many times (the replay asks for its counts on every
  // step), without looking it up by name each time. Copyable; valid as long as the cluster
  // (targets are never removed; addTarget on the same name replaces the one it names).
  class TargetHandle {
   public:
    TargetHandle() = default;  // Names no target.
    bool valid() const { return target_ != nullptr; }

   private:
    friend class InMemoryCluster;
    explicit TargetHandle(const Target* target) : target_(target) {}
    const Target* target_ = nullptr;
  };

  // `clock` stamps pod readiness and events; it must outlive the cluster.
  explicit InMemoryCluster(const controller::Clock& clock) : clock_(clock) {}

  // Creates or replaces the policy (its manifest) at `key`. A changed manifest bumps the
  // generation; the status is kept.
  void applyPolicy(const controller::ObjectKey& key, std::string manifest);
  // Declares a HorizontalPodAutoscaler named `name` in `namespace_` scaling the target
  // `kind`/`target`: otherManager reports it.
  void addHorizontalPodAutoscaler(const std::string& namespace_, const std::string& name,
                                  const std::string& kind, const std::string& target);
  // Removes it; later getPolicy calls return NotFound.
  void deletePolicy(const controller::ObjectKey& key);
  // The stored policy, or nullptr.
  const controller::PolicyObject* policy(const controller::ObjectKey& key) const;

  // Creates a target with `replicas` pods, all ready at once (they existed before the
  // simulation). New pods of later scale-ups become ready `startup` after creation.
  void addTarget(const std::string& namespace_, const std::string& kind, const std::string& name,
                 int32_t replicas, Duration startup);

  // Sets (or, with nullopt, clears) the target's Scale::scale_down_hold, as KubeCluster
  // reports a Rollout mid-update. REQUIRES: the target exists.
  void setScaleDownHold(const std::string& namespace_, const std::string& kind,
                        const std::string& name, std::optional<std::string> reason);

  // The target's spec.replicas, pods that exist, and pods ready as of the clock's now().
  // REQUIRES: the target exists.
  int32_t specReplicas(const std::string& namespace_, const std::string& kind,
                       const std::string& name) const;
  int32_t existingPods(const std::string& namespace_, const std::string& kind,
                       const std::string& name) const;
  int32_t readyPods(const std::string& namespace_, const std::string& kind,
                    const std::string& name) const;
  // The names of the ready pods, oldest first.
  std::vector<std::string> readyPodNames(const std::string& namespace_, const std::string& kind,
                                         const std::string& name) const;
  // The target `kind`/`name` in `namespace_`; an invalid handle when there is none.
  TargetHandle findHandle(const std::string& namespace_, const std::string& kind,
                          const std::string& name) const;
  // The same three queries by handle. An invalid handle has no pods.
  int32_t existingPods(TargetHandle target) const;
  int32_t readyPods(TargetHandle target) const;
  std::vector<std::string> readyPodNames(TargetHandle target) const;
  // The number of updateScale calls that changed spec.replicas.
  int64_t scaleWrites() const { return scale_writes_; }

  // Events recorded so far, oldest first.
  const std::vector<std::pair<controller::ObjectKey, controller::Event>>& events() const {
    return events_;
  }
  // Makes the next call of `op` fail with `status`.
  void failNext(Operation op, Status status) { failures_[op] = std::move(status); }

  // controller::Cluster.
  Result<std::shared_ptr<const controller::PolicyObject>> getPolicy(
      const controller::ObjectKey& key) override;
  // Swaps `status` with the stored one (see the port): steady-state updates allocate nothing.
  Status updatePolicyStatus(const controller::ObjectKey& key, const std::string& resource_version,
                            controller::PolicyStatus&& status) override;
  Result<controller::Scale> getScale(const std::string& namespace_,
                                     const policies::ScaleTargetRef& ref) override;
  Status updateScale(const std::string& namespace_, const policies::ScaleTargetRef& ref,
                     const std::string& resource_version, int32_t replicas) override;
  Result<std::vector<policies::PodInfo>> listPods(const std::string& namespace_,
                                                  const std::string& selector) override;
  Result<std::optional<std::string>> otherManager(const controller::ObjectKey& key,
                                                  const std::string& namespace_,
                                                  const policies::ScaleTargetRef& ref) override;
  void recordEvent(const controller::ObjectKey& key, const controller::Event& event) override;

 private:
  struct Pod {
    std::string name;
    TimePoint created{};
    TimePoint ready_at{};
  };
  struct Target {
    std::string namespace_;
    std::string kind;
    std::string name;
    Duration startup{0};
    int32_t replicas = 0;
    int64_t version = 1;
    std::string version_text = "1";  // `version` formatted: read at every getScale.
    int64_t next_pod = 1;
    std::string selector;
    std::optional<std::string> scale_down_hold;
    std::vector<Pod> pods;  // Creation order: oldest first.
  };
  using TargetKey = std::tuple<std::string, std::string, std::string>;

  std::optional<Status> takeFailure(Operation op);
  const Target* findTarget(const std::string& namespace_, const std::string& kind,
                           const std::string& name) const;
  const Target& target(const std::string& namespace_, const std::string& kind,
                       const std::string& name) const;
  static void resize(Target& target, int32_t replicas, TimePoint now);
  // Pods of `t` ready at `now`.
  static int32_t readyCount(const Target& t, TimePoint now);

  const controller::Clock& clock_;
  struct StoredPolicy {
    // Null once deleted. Copy on write: a snapshot handed out is never changed; when nobody
    // else holds it, an update changes it in place.
    std::shared_ptr<controller::PolicyObject> object;
    // The latest resourceVersion given out for the key. It outlives a deletion, so that a
    // policy created again never repeats a version (the API server's never do).
    int64_t version = 0;
  };
  // The live policy at `key`, or nullptr.
  StoredPolicy* livePolicy(const controller::ObjectKey& key);
  // Stores the next resourceVersion of `slot` in its object. REQUIRES: slot.object.
  static void bumpVersion(StoredPolicy& slot);

  std::map<controller::ObjectKey, StoredPolicy> policies_;
  // What each valid policy targets (kind, name), and the order policies were created in.
  struct PolicyTarget {
    int64_t created = 0;
    std::string kind;
    std::string name;
  };
  std::map<controller::ObjectKey, PolicyTarget> policy_targets_;
  int64_t policies_created_ = 0;
  struct Hpa {
    std::string namespace_, name, kind, target;
  };
  std::vector<Hpa> hpas_;
  std::map<TargetKey, Target, std::less<>> targets_;  // Transparent: found without copies.
  std::vector<std::pair<controller::ObjectKey, controller::Event>> events_;
  std::map<Operation, Status> failures_;
  int64_t scale_writes_ = 0;
};

}  // namespace governor::simulator
