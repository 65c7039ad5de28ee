#pragma once

// The rollout controller's I/O side: one Rollout key in, the world (ReplicaSets, Services, the
// HTTPRoute, the Rollout's status, Events) converged towards rollouts::reconcileRollout()'s
// plan, and the time to look again out. The brain is pure (rollouts/reconcile.h); this file
// is its ports and the loop around it.
//
// One reconcile (RolloutReconciler::reconcile), level-triggered and idempotent:
//   1. getRollout; parse its manifest with rollouts::parseRollout (cached per generation and
//      manifest). An invalid spec: phase Degraded, condition InvalidSpec=True with the
//      parser's message (it names the field paths), observedGeneration, and one Warning
//      Event InvalidSpec per generation (the status says whether it was already reported,
//      so a restart or another worker does not repeat it). Returns InvalidArgument: terminal
//      until the generation changes.
//   2. listReplicaSets (the Rollout's, by owner uid); getAnalysisTemplate of every template
//      the spec names. A template that is NotFound or invalid goes to the brain as that
//      error (it degrades the rollout, saying why); any other error (the API server failed)
//      ends the reconcile with it, so a blip never degrades a release.
//   3. For each Running run in status.analysisRuns: its due metrics (dueMetrics) are rendered
//      (resolveArgs with the run's AnalysisRef args, renderMetricQuery), queried through the
//      AnalysisQuerier as of `now`, reduced to one value (singleValue) and recorded
//      (recordMeasurement). A failed query is an Error measurement, not a failed reconcile:
//      the analysis's consecutiveErrorLimit decides.
//   4. plan = reconcileRollout(input); applied in the order RolloutPlan documents: creates
//      and scale-ups, then the Services' selectors and the HTTPRoute's weights, then
//      scale-downs and deletes. Scales to the current count are skipped. The first failure
//      stops the application (traffic never moves to a revision whose scale-up failed): the
//      status then says phase Degraded with the error (a missing Service or HTTPRoute named),
//      a Warning Event FailedApply is recorded, and the error is returned (backoff).
//   5. The status is written only when it differs from the stored one (Conflict is returned:
//      the work queue retries at once with a fresh read); then the plan's Events.
// Returns, on success, plan.requeue_after clamped to [min_requeue, resync_period]
// (resync_period when the plan has none). Errors, for requeueDecisionFor (work_queue.h):
// NotFound (the Rollout is gone), InvalidArgument (invalid spec), Conflict, or the failed
// call's error (Unavailable, DeadlineExceeded, ...). Every call is bounded: the Kubernetes
// client's request timeout, the Prometheus endpoint's timeout.
//
// Thread-safety: RolloutReconciler is not thread-safe (its parse cache is unsynchronized): one
// per worker, as the policy Reconciler. The ports document their own.

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/ports.h"
#include "rollouts/analysis_spec.h"
#include "rollouts/reconcile.h"
#include "rollouts/spec.h"
#include "rollouts/status.h"

namespace governor::controller {

// A Rollout as stored: the manifest the parser reads (apiVersion, kind, metadata.{name,
// namespace} and spec only, so it changes only with the spec), its metadata and its status.
struct RolloutObject {
  ObjectKey key;
  std::string uid;               // metadata.uid: what its ReplicaSets' ownerReferences name.
  int64_t generation = 0;        // metadata.generation.
  std::string resource_version;  // For optimistic concurrency on status writes.
  std::string manifest;
  rollouts::RolloutStatus status;  // As persisted (default: never reconciled).
};

// The API server, as the rollout controller sees it. Errors as in ports.h: NotFound,
// Conflict, Unavailable / DeadlineExceeded, PermissionDenied, InvalidArgument.
class RolloutCluster {
 public:
  virtual ~RolloutCluster() = default;

  // The Rollout at `key`: an immutable snapshot (the adapter may share it). NotFound when it
  // does not exist.
  virtual Result<std::shared_ptr<const RolloutObject>> getRollout(const ObjectKey& key) = 0;

  // The ReplicaSets `rollout` owns (an ownerReference with its uid), in any order; those
  // being deleted are left out.
  virtual Result<std::vector<rollouts::ObservedReplicaSet>> listReplicaSets(
      const RolloutObject& rollout) = 0;

  // Creates the ReplicaSet `action` names (action.kind is kCreate) for a revision of
  // `spec`: labels = the template's labels + pod-template-hash, selector = spec.selector +
  // pod-template-hash, template = spec.template with the hash added to its labels,
  // ownerReferences = the Rollout (controller, blockOwnerDeletion), spec.replicas =
  // action.replicas. OK when it already exists and `rollout` owns it (a cache that lags our
  // own create); FailedPrecondition when a ReplicaSet of that name exists that is not ours.
  virtual Status createReplicaSet(const RolloutObject& rollout, const rollouts::RolloutSpec& spec,
                                  const rollouts::ReplicaSetAction& action) = 0;

  // Sets spec.replicas of ReplicaSet `namespace_/name`. NotFound when it is gone.
  virtual Status scaleReplicaSet(const std::string& namespace_, const std::string& name,
                                 int32_t replicas) = 0;

  // Deletes ReplicaSet `namespace_/name` (its pods go with it). OK when already gone.
  virtual Status deleteReplicaSet(const std::string& namespace_, const std::string& name) = 0;

  // Makes Service `namespace_/service` select `pod_template_hash` (its selector's
  // pod-template-hash key; the rest of the selector is kept). Writes nothing when it already
  // does. NotFound when the Service does not exist.
  virtual Status selectRevision(const std::string& namespace_, const std::string& service,
                                const std::string& pod_template_hash) = 0;

  // Sets the weights of the HTTPRoute's backendRefs naming the stable and the canary
  // Service, in every rule (RouteWeights). Writes nothing when they already have them.
  // NotFound when the HTTPRoute does not exist; FailedPrecondition when no rule has a
  // backendRef for both Services.
  virtual Status setRouteWeights(const rollouts::RouteWeights& weights) = 0;

  // The AnalysisTemplate `namespace_/name`, parsed (rollouts::parseAnalysisTemplate).
  // NotFound when it does not exist; InvalidArgument with the parser's message.
  virtual Result<rollouts::AnalysisTemplateSpec> getAnalysisTemplate(const std::string& namespace_,
                                                                     const std::string& name) = 0;

  // Replaces the status of the Rollout at `key`, if its resourceVersion is still
  // `resource_version` (Conflict otherwise). NotFound when it is gone.
  virtual Status updateRolloutStatus(const ObjectKey& key, const std::string& resource_version,
                                     const rollouts::RolloutStatus& status) = 0;

  // Records an Event on the Rollout at `key`. Best effort: never fails a reconcile.
  virtual void recordEvent(const ObjectKey& key, const Event& event) = 0;
};

// Prometheus, as analysis sees it: one instant query's samples.
class AnalysisQuerier {
 public:
  virtual ~AnalysisQuerier() = default;
  // The values of `promql` evaluated at `at` on `address` (nullopt: the default Prometheus):
  // one per series; empty when nothing matched (the caller's singleValue says so).
  // Errors: the query failed (Unavailable, DeadlineExceeded, InvalidArgument for bad PromQL,
  // FailedPrecondition for a result of the wrong shape, or with no Prometheus configured).
  virtual Result<std::vector<double>> query(const std::string& promql,
                                            const std::optional<std::string>& address,
                                            TimePoint at) = 0;
};

// The AnalysisQuerier over a MetricsSource (controller/prometheus: the same default and
// per-address endpoints and credentials as the policies; the operator gives it a source
// without the dedupe cache, so each measurement is a fresh query). A result
// of several series is that source's error ("aggregate in the query"), not N samples.
// Thread-safety: as `source` (PrometheusMetricsSource is thread-safe).
class MetricsSourceQuerier final : public AnalysisQuerier {
 public:
  // `source` must outlive the querier.
  explicit MetricsSourceQuerier(MetricsSource& source) : source_(source) {}
  Result<std::vector<double>> query(const std::string& promql,
                                    const std::optional<std::string>& address,
                                    TimePoint at) override;

 private:
  MetricsSource& source_;
};

struct RolloutReconcilerOptions {
  // The longest time between two reconciles of a Rollout, whatever the plan says (a missed
  // watch event costs at most this). Default: 60s.
  Duration resync_period{60'000};
  // The shortest requeue returned, so that a due time of 0 cannot spin. Default: 1s.
  Duration min_requeue{1'000};
  // Measurements kept per metric in status. Default: rollouts::kDefaultMeasurementsKept.
  size_t measurements_kept = rollouts::kDefaultMeasurementsKept;
};

// Condition type and Event reasons this side writes (the brain writes the others).
inline constexpr std::string_view kRolloutConditionInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kRolloutReasonInvalidSpec = "InvalidSpec";
inline constexpr std::string_view kRolloutReasonFailedApply = "FailedApply";

class RolloutReconciler {
 public:
  // The ports must outlive the reconciler.
  RolloutReconciler(RolloutCluster& cluster, AnalysisQuerier& querier,
                    RolloutReconcilerOptions options = {});

  RolloutReconciler(const RolloutReconciler&) = delete;
  RolloutReconciler& operator=(const RolloutReconciler&) = delete;

  // Reconciles the Rollout at `key` as of `now`. See the file comment.
  Result<Duration> reconcile(const ObjectKey& key, TimePoint now);

  // The phase the latest reconcile wrote or kept (Degraded for an invalid spec, even though
  // that reconcile returns the parser's error), for metrics; nullopt when it ended before
  // deciding one (the Rollout is gone, a read or a write failed).
  const std::optional<rollouts::RolloutPhase>& lastPhase() const { return last_phase_; }

 private:
  struct ParsedRollout {
    int64_t generation = 0;
    std::string manifest;
    std::optional<Result<rollouts::RolloutSpec>> spec;
  };

  const Result<rollouts::RolloutSpec>& parse(const RolloutObject& rollout);
  Status reportInvalidSpec(const RolloutObject& rollout, const Status& error, TimePoint now);
  void measure(rollouts::RolloutInput& input);
  Status apply(const RolloutObject& rollout, const rollouts::RolloutInput& input,
               const rollouts::RolloutPlan& plan);
  Status reportApplyFailure(const RolloutObject& rollout, const Status& error, TimePoint now);

  RolloutCluster& cluster_;
  AnalysisQuerier& querier_;
  RolloutReconcilerOptions options_;
  std::map<ObjectKey, ParsedRollout> parsed_;
  std::optional<rollouts::RolloutPhase> last_phase_;
};

// The names of every AnalysisTemplate `spec` refers to (steps, background, pre- and
// post-promotion), each once, in order of first mention.
std::vector<std::string> analysisTemplateNames(const rollouts::RolloutSpec& spec);

// Sets the condition `type` in `conditions`: its last transition time moves to `now` only when
// its status changes (or it is new).
void setRolloutCondition(std::vector<rollouts::RolloutCondition>& conditions, std::string_view type,
                         std::string_view status, std::string_view reason, std::string message,
                         TimePoint now);

}  // namespace governor::controller
