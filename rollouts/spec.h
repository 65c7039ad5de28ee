#pragma once

// The Rollout (`governor.io/v1alpha1`, kind Rollout) as Governor's pure code sees it: parsed
// and validated, every default applied. The operator's rollout controller and
// `governor rollout simulate` read it through parseRollout(), the one parser.
//
// A Rollout is a Deployment whose updates progress in steps: the controller keeps one
// ReplicaSet per template revision (named and labelled with podTemplateHash(), see
// rollouts/template_hash.h) and moves replicas and traffic from the stable revision to the
// new one by the canary steps, or by a blue-green switch of Services.
//
// Errors name the source, the line and the field path, all of a document at once:
//   web.yaml:23: spec.strategy.canary.steps[2].setWeight: must be in [0, 100], got 120
// Unknown fields under `spec` are errors, except inside `spec.template`, which is a pod
// template kept as canonical JSON for the controller to copy into ReplicaSets (only what the
// controller relies on is checked there: labels, and containers with a name and an image).
//
// Thread-safety: value types and pure functions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"
#include "base/time.h"

namespace governor::rollouts {

inline constexpr std::string_view kApiVersion = "governor.io/v1alpha1";
inline constexpr std::string_view kRolloutKind = "Rollout";
// The label the controller adds to each revision's ReplicaSet, pods and Service selectors.
inline constexpr std::string_view kPodTemplateHashLabel = "pod-template-hash";

// An integer or a percentage, as Deployments' maxSurge and maxUnavailable.
struct IntOrPercent {
  int32_t value = 0;     // >= 0; <= 100 when `percent`.
  bool percent = false;  // "25%" rather than 25.

  // Returns `value`, or `value`% of `total` rounded up if `round_up`, else down. Deployments
  // round maxSurge up and maxUnavailable down, so that neither rounds to a stuck 0 by
  // accident of small counts. REQUIRES: total >= 0.
  int32_t resolve(int32_t total, bool round_up) const;

  // "25%" or "1".
  std::string toString() const;

  friend bool operator==(const IntOrPercent&, const IntOrPercent&) = default;
};

// metav1.LabelSelectorRequirement.
struct LabelSelectorRequirement {
  std::string key;
  std::string op;                   // "In", "NotIn", "Exists" or "DoesNotExist".
  std::vector<std::string> values;  // Non-empty for In/NotIn; empty for Exists/DoesNotExist.
  friend bool operator==(const LabelSelectorRequirement&,
                         const LabelSelectorRequirement&) = default;
};

// metav1.LabelSelector. Never empty after validation (apps/v1 rejects an empty selector).
struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  // Returns true if `labels` satisfy every matchLabels entry and every expression.
  bool matches(const std::map<std::string, std::string>& labels) const;

  // The string form (`app=web,tier in (a,b),!canary`) that /scale's status.selector and
  // list calls' labelSelector use. Entries in matchLabels order, then the expressions.
  std::string toString() const;

  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;
};

// spec.template: a pod template, as a Deployment's.
struct PodTemplate {
  // The whole template as canonical JSON (keys sorted, no whitespace; see
  // canonicalJson() in rollouts/template_hash.h): what the controller copies into a
  // ReplicaSet, and what the pod-template-hash is computed from.
  std::string json;
  std::map<std::string, std::string> labels;  // metadata.labels; never empty.
  friend bool operator==(const PodTemplate&, const PodTemplate&) = default;
};

// One argument of an analysis: substituted into the AnalysisTemplate's {{args.NAME}}.
struct AnalysisArg {
  std::string name;
  std::string value;
  friend bool operator==(const AnalysisArg&, const AnalysisArg&) = default;
};

// Which AnalysisTemplates to run, with which arguments: an `analysis` step, the background
// analysis, or a blue-green pre/post-promotion analysis. All templates run together; the
// analysis fails if any fails.
struct AnalysisRef {
  std::vector<std::string> templates;  // templateName of each; at least one, no duplicates.
  std::vector<AnalysisArg> args;       // Unique names.
  friend bool operator==(const AnalysisRef&, const AnalysisRef&) = default;
};

// `spec.strategy.canary.analysis`: runs from step `starting_step` until promotion; a failure
// at any time aborts the rollout.
struct BackgroundAnalysis {
  AnalysisRef analysis;
  int32_t starting_step = 0;  // Default: 0. < the number of steps (when there are steps).
  friend bool operator==(const BackgroundAnalysis&, const BackgroundAnalysis&) = default;
};

// The canary steps: exactly one action each.
struct SetWeightStep {  // `setWeight: N`: N% of traffic (or of pods, without a router).
  int32_t weight = 0;   // [0, 100].
  friend bool operator==(const SetWeightStep&, const SetWeightStep&) = default;
};
struct PauseStep {  // `pause: {}` or `pause: {duration: 10m}` (a number is seconds).
  std::optional<Duration> duration;  // nullopt: until a person promotes (resume).
  friend bool operator==(const PauseStep&, const PauseStep&) = default;
};
struct AnalysisStep {  // `analysis: {templates: [...], args: [...]}`: runs to completion.
  AnalysisRef analysis;
  friend bool operator==(const AnalysisStep&, const AnalysisStep&) = default;
};
// How many canary pods to run, apart from the traffic weight. Only with a traffic router:
// without one the replica split is the weight (the parser rejects it otherwise).
struct CanaryScale {
  enum class Mode {
    kMatchTrafficWeight,  // The default: pods for the current weight's share.
    kReplicas,            // Exactly `value` pods.
    kWeight,              // Pods for `value`% of spec.replicas.
  };
  Mode mode = Mode::kMatchTrafficWeight;
  int32_t value = 0;  // Replicas (>= 0) or a weight ([0, 100]); 0 for kMatchTrafficWeight.
  friend bool operator==(const CanaryScale&, const CanaryScale&) = default;
};
struct SetCanaryScaleStep {  // `setCanaryScale: {replicas: N | weight: N | matchTrafficWeight:
                             // true}`.
  CanaryScale scale;
  friend bool operator==(const SetCanaryScaleStep&, const SetCanaryScaleStep&) = default;
};
using CanaryStep = std::variant<SetWeightStep, PauseStep, AnalysisStep, SetCanaryScaleStep>;

// "setWeight", "pause", "analysis" or "setCanaryScale": the step's field name.
std::string_view stepKindName(const CanaryStep& step);

// `trafficRouting.gatewayAPI`: the controller sets the weights of the stable and canary
// backendRefs of this Gateway API HTTPRoute.
struct GatewayApiRouting {
  std::string http_route;  // httpRoute: the HTTPRoute's name.
  std::string namespace_;  // Default: the Rollout's namespace.
  friend bool operator==(const GatewayApiRouting&, const GatewayApiRouting&) = default;
};

struct CanaryStrategy {
  std::vector<CanaryStep> steps;           // May be empty: the update goes to 100% at once.
  IntOrPercent max_surge{25, true};        // Default: "25%". Pods above spec.replicas.
  IntOrPercent max_unavailable{0, false};  // Default: 0. Not both 0 (nothing could move).
  std::optional<BackgroundAnalysis> analysis;
  // With a router the weight is exact and the pods follow it; without one the weight is
  // approximated by the replica split (rollouts/split.h).
  std::optional<GatewayApiRouting> traffic_routing;
  // Services the controller points at each revision by pod-template-hash. Both required
  // with traffic_routing (its backendRefs); optional otherwise; never the same name.
  std::string stable_service;
  std::string canary_service;
  friend bool operator==(const CanaryStrategy&, const CanaryStrategy&) = default;
};

struct BlueGreenStrategy {
  std::string active_service;          // Required: selects the serving revision.
  std::string preview_service;         // Optional: selects the new revision before promotion.
  bool auto_promotion_enabled = true;  // Default: true. false: a person promotes.
  // Promote this long after the preview is ready (and pre-promotion analysis passed);
  // nullopt: at once. Only with auto_promotion_enabled.
  std::optional<Seconds> auto_promotion_seconds;
  // Pods of the new revision while it is in preview; nullopt: spec.replicas. Clamped to the
  // current replicas at run time (a ScalingPolicy may have scaled the Rollout below it).
  std::optional<int32_t> preview_replica_count;
  Seconds scale_down_delay{30};  // scaleDownDelaySeconds. Default: 30. Old revision kept
                                 // this long after the switch, for a quick switch back.
  std::optional<AnalysisRef> pre_promotion_analysis;   // On the preview; fail: abort.
  std::optional<AnalysisRef> post_promotion_analysis;  // After the switch; fail: switch back.
  friend bool operator==(const BlueGreenStrategy&, const BlueGreenStrategy&) = default;
};

struct RolloutSpec {
  // metadata
  std::string name;        // DNS-1123 subdomain.
  std::string namespace_;  // Default: "default".
  // spec
  int32_t replicas = 1;  // Default: 1. >= 0. What /scale reads and writes.
  LabelSelector selector;
  PodTemplate pod_template;             // spec.template.
  int32_t revision_history_limit = 10;  // Default: 10. Old ReplicaSets kept (scaled to 0).
  Seconds progress_deadline{600};       // progressDeadlineSeconds. Default: 600.
  std::variant<CanaryStrategy, BlueGreenStrategy> strategy;  // Exactly one.
  // spec.paused: hold an update where it is (no step advance, no promotion; analyses keep
  // measuring, scaling still works). Default: false.
  bool paused = false;

  // The strategy, or nullptr when the Rollout uses the other one.
  const CanaryStrategy* canary() const { return std::get_if<CanaryStrategy>(&strategy); }
  const BlueGreenStrategy* blueGreen() const { return std::get_if<BlueGreenStrategy>(&strategy); }

  friend bool operator==(const RolloutSpec&, const RolloutSpec&) = default;
};

// Parses one Rollout from YAML or JSON text (exactly one document). `source` names the text
// in messages (a file path, or "Rollout shop/web"). Returns InvalidArgument with every
// problem found, one per line.
Result<RolloutSpec> parseRollout(std::string_view text, std::string_view source);

}  // namespace governor::rollouts
