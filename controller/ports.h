#pragma once

// The reconciler's ports: what it needs of the world, as interfaces. The operator plugs the
// Kubernetes REST client and Prometheus in; the simulator an in-memory cluster (its workload
// model) and a trace-backed metrics source; tests the same in-memory pieces. The Clock port
// is controller/clock.h.
//
// Errors are Status codes that tell the caller what to do (base/status.h): NotFound (the
// object is gone), Conflict (stale resourceVersion: re-read and retry), Unavailable /
// DeadlineExceeded (back off), PermissionDenied, InvalidArgument.
//
// Thread-safety: implementations document their own; the Reconciler calls a port from one
// thread at a time per key.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "controller/policy_status.h"
#include "policies/observation.h"
#include "policies/spec.h"

namespace governor::controller {

// Names a namespaced object, as a work queue key.
struct ObjectKey {
  std::string namespace_;
  std::string name;
  friend auto operator<=>(const ObjectKey&, const ObjectKey&) = default;
  friend bool operator==(const ObjectKey&, const ObjectKey&) = default;
  std::string toString() const { return namespace_ + "/" + name; }
};

// A ScalingPolicy object as stored: the manifest as the API server returns it (JSON or YAML:
// parsed by policies::parsePolicy, the one parser), its metadata and its status.
//
// Adapters never change an object's key, generation or manifest once they have handed it out
// (a new spec is a new object); only an object no one else holds may have its status and
// resource_version updated in place. The reconciler relies on it to skip re-reading the
// manifest of the object it parsed last.
struct PolicyObject {
  ObjectKey key;
  int64_t generation = 0;        // metadata.generation: bumped by every change of spec.
  std::string resource_version;  // For optimistic concurrency on status updates.
  std::string manifest;
  PolicyStatus status;  // The persisted status (default: never reconciled).
};

// The target's /scale subresource (autoscaling/v1 Scale), plus the ready count when the
// adapter can read it from the target (Deployments and StatefulSets publish
// status.readyReplicas): with it the reconciler needs to list pods only for per-pod metrics.
struct Scale {
  int32_t spec_replicas = 0;    // spec.replicas: what was asked for.
  int32_t status_replicas = 0;  // status.replicas: pods that exist.
  std::optional<int32_t> ready_replicas;
  std::string selector;  // status.selector, in label-selector string form.
  std::string resource_version;
  // Set while the target is in the middle of an update that a scale-down would disturb (a
  // governor.io Rollout whose status says Progressing or Paused, or whose canary revision is
  // not yet the stable one): why, for people ("Rollout shop/web is Progressing (step 2/5)").
  // The reconciler then holds scale-downs; scale-ups go through. nullopt: no update runs, or
  // the kind has no notion of one.
  std::optional<std::string> scale_down_hold;
};

// A Kubernetes Event about a ScalingPolicy.
struct Event {
  std::string type;     // "Normal" or "Warning".
  std::string reason;   // CamelCase: "SuccessfulRescale", "FailedRescale", "InvalidSpec"...
  std::string message;  // "New size: 6; reason: cpu 90% > target 60%".
  TimePoint time{};
  friend bool operator==(const Event&, const Event&) = default;
};

// The API server, as the reconciler sees it.
class Cluster {
 public:
  virtual ~Cluster() = default;

  // The ScalingPolicy at `key`: an immutable snapshot, as an informer's cache hands out (the
  // adapter may share it between readers; nobody mutates it). NotFound when it does not exist.
  virtual Result<std::shared_ptr<const PolicyObject>> getPolicy(const ObjectKey& key) = 0;

  // Replaces the status of the policy at `key` with `status`, if its resourceVersion is still
  // `resource_version` (Conflict otherwise). NotFound when it is gone. Afterwards `status` is
  // valid but unspecified: an adapter that stores the status in memory swaps the replaced one
  // into it instead of freeing it, so that a caller that computes its next status in the same
  // object (by assignment) reuses its strings and vectors instead of allocating new ones.
  virtual Status updatePolicyStatus(const ObjectKey& key, const std::string& resource_version,
                                    PolicyStatus&& status) = 0;

  // The /scale of `ref` in `namespace_`. NotFound when the target does not exist.
  virtual Result<Scale> getScale(const std::string& namespace_,
                                 const policies::ScaleTargetRef& ref) = 0;

  // Sets spec.replicas through /scale, if the Scale's resourceVersion is still
  // `resource_version` (Conflict otherwise).
  virtual Status updateScale(const std::string& namespace_, const policies::ScaleTargetRef& ref,
                             const std::string& resource_version, int32_t replicas) = 0;

  // The pods matching `selector` in `namespace_` (for per-pod metrics and readiness).
  virtual Result<std::vector<policies::PodInfo>> listPods(const std::string& namespace_,
                                                          const std::string& selector) = 0;

  // Who else manages the scale of `ref` in `namespace_`, besides the policy at `key`: a
  // HorizontalPodAutoscaler, or another ScalingPolicy created before it (the first one keeps
  // the target; ties go to the lower name). Returns a description such as
  // "HorizontalPodAutoscaler shop/web", or nullopt when the policy may manage the target.
  // Errors: the adapter could not tell (Unavailable...): the reconciler must not scale.
  virtual Result<std::optional<std::string>> otherManager(const ObjectKey& key,
                                                          const std::string& namespace_,
                                                          const policies::ScaleTargetRef& ref) = 0;

  // Records an Event on the policy at `key`. Best effort: a failure is the adapter's to log;
  // it never fails a reconcile.
  virtual void recordEvent(const ObjectKey& key, const Event& event) = 0;
};

// One metric to fetch, from a policy's MetricSpec.
struct MetricQuery {
  std::string name;   // MetricSpec::name: the key of the result.
  std::string query;  // PromQL, with {{namespace}}, {{name}} and {{target}} substituted.
  bool per_pod = false;
  std::optional<std::string> address;  // Overrides the default Prometheus address.
  // What the target compares the value with. Prometheus ignores it; a model of the workload
  // (the simulator's trace source) needs it to know which quantity to derive.
  policies::TargetType target_type = policies::TargetType::kValue;
};

// The values of a set of queries as of one instant, by MetricQuery::name. A query that
// returned nothing is absent (for per_pod queries: a sample with an empty per_pod map is
// also acceptable); never a zero.
struct MetricSnapshot {
  std::map<std::string, policies::MetricSample> samples;
};

class MetricsSource {
 public:
  virtual ~MetricsSource() = default;
  // Evaluates `queries` as of `at`. A missing series is absent, not zero, and not an error.
  // Errors: the source as a whole failed (Unavailable, DeadlineExceeded, ...).
  virtual Result<MetricSnapshot> fetch(const std::vector<MetricQuery>& queries, TimePoint at) = 0;
};

// One value of a metric's past.
struct HistoryPoint {
  TimePoint time{};
  double value = 0;  // NaN when the source had no usable value at `time`.
};

// A metric's past, for the predictive policy's backfill at start-up and after a fail-over
// (Prometheus: range queries).
class MetricHistory {
 public:
  virtual ~MetricHistory() = default;
  // `query` (its address honoured) evaluated over [start, end] every `step`, oldest first;
  // empty when it matched nothing. Errors: the source failed, or the query returned more
  // than one series (FailedPrecondition). REQUIRES: start <= end, step > 0.
  virtual Result<std::vector<HistoryPoint>> history(const MetricQuery& query, TimePoint start,
                                                    TimePoint end, Duration step) = 0;
};

}  // namespace governor::controller
