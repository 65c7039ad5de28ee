#pragma once

// The status of a ScalingPolicy, as the reconciler writes it: what it saw, what it decided
// and why, metav1.Condition-shaped conditions, and the behavior state (stabilization history,
// scale events, cooldown clocks) so that a restarted operator resumes exactly where the last
// one stopped. (HPA keeps that history in memory only and loses it on restart.)
//
// Thread-safety: value types.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "policies/behavior.h"

namespace governor::controller {

// Condition types the reconciler maintains.
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionAbleToScale = "AbleToScale";
inline constexpr std::string_view kConditionScalingActive = "ScalingActive";
inline constexpr std::string_view kConditionScalingLimited = "ScalingLimited";
inline constexpr std::string_view kConditionInvalidSpec = "InvalidSpec";

// metav1.Condition.
struct Condition {
  std::string type;
  std::string status;  // "True", "False" or "Unknown".
  std::string reason;  // CamelCase.
  std::string message;
  TimePoint last_transition_time{};  // Moves only when `status` changes.
  int64_t observed_generation = 0;
  friend bool operator==(const Condition&, const Condition&) = default;
};

// One policy's proposal at the latest evaluation (policies::Proposal, with equality).
struct ProposalStatus {
  std::string policy;  // "threshold/cpu", "schedule/business-hours", "predictive".
  int32_t replicas = 0;
  std::string reason;
  std::string message;
  friend bool operator==(const ProposalStatus&, const ProposalStatus&) = default;
};

// The predictive policy's latest outcome, for people asking why it does or does not scale.
struct PredictiveStatus {
  std::string reason;    // ForecastReady, InsufficientHistory, ForecastUnreliable, FitFailed.
  std::string message;   // "p90 forecast of rps over the next 20m needs 10 (...)".
  std::string backfill;  // What the history backfill did ("backfilled 7200 points ..."), or "".
  friend bool operator==(const PredictiveStatus&, const PredictiveStatus&) = default;
};

struct PolicyStatus {
  int64_t observed_generation = 0;           // The generation the rest of the status describes.
  int32_t current_replicas = 0;              // The target's spec.replicas when last evaluated.
  int32_t desired_replicas = 0;              // The latest decision (in dry-run: what it would set).
  std::optional<TimePoint> last_scale_time;  // The latest write of /scale.
  // The latest decision's reason (CamelCase) and message, as Decision::reason / message.
  std::string reason;
  std::string message;
  std::vector<ProposalStatus> proposals;  // Each policy's latest proposal.
  std::vector<policies::Limit> limits;    // Each limit that changed the latest decision.
  std::vector<Condition> conditions;      // In the order first set.
  // Evaluations in a row in which no metric could be read (spec.fallback acts on it).
  int32_t metric_failures = 0;
  // spec.predictive's latest outcome; nullopt without a predictive block.
  std::optional<PredictiveStatus> predictive;
  policies::BehaviorState behavior;  // Restored from here on every reconcile.
  friend bool operator==(const PolicyStatus&, const PolicyStatus&) = default;
  // Exchanges the two statuses field by field, buffers included (cheaper than std::swap's three
  // moves). An adapter that keeps statuses in memory swaps a written status in.
  friend void swap(PolicyStatus& a, PolicyStatus& b) noexcept;
};

// The condition of `type`, or nullptr.
const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type);

// Sets the condition of `type`, appending it if absent. lastTransitionTime is `now` for a new
// condition or when `status` changes, and kept otherwise.
void setCondition(std::vector<Condition>& conditions, std::string_view type,
                  std::string_view status, std::string_view reason, std::string_view message,
                  int64_t observed_generation, TimePoint now);

// One reconcile's conditions: `out` ends as `stored` with the conditions set() changed, by
// the rules of setCondition (a changed status moves lastTransitionTime to `now`; the last
// condition of a repeated type is the one set; a new type is appended).
//
// Why not copy `stored` and setCondition on the copy: `out` is the reconciler's reused
// buffer, which holds the conditions it built at an earlier reconcile, nearly always of the
// same types in the same order as `stored`. Then a condition that is set is compared with
// what `out` holds and written only where it differs, and never copied from `stored` first:
// a reconcile that sets the same five conditions every sync period copies none of them
// (copying them was a fifth of a simulated step). When the types differ, `out` starts as a
// copy of `stored`.
//
// REQUIRES: `stored` and `out` are different vectors, both outlive the object, and neither
// changes but through it until finish(). Thread-safety: not thread-safe.
class ConditionUpdate {
 public:
  ConditionUpdate(const std::vector<Condition>& stored, std::vector<Condition>& out);

  // Sets the condition of `type` (see setCondition).
  void set(std::string_view type, std::string_view status, std::string_view reason,
           std::string_view message, int64_t observed_generation, TimePoint now);

  // The stored condition of `type` (the state before this reconcile), or nullptr.
  const Condition* before(std::string_view type) const { return findCondition(stored_, type); }

  // Completes `out`: the stored conditions that were not set are copied as they are. Call it
  // before `out` is read; set() may follow (call finish() again then).
  void finish();

 private:
  bool isSet(size_t i) const { return copied_ || (set_ >> i & 1) != 0; }

  const std::vector<Condition>& stored_;
  std::vector<Condition>& out_;
  bool copied_ = false;  // out_ started as a copy of stored_.
  uint64_t set_ = 0;     // Bit i: stored condition i was set into out_ (or copied).
};

}  // namespace governor::controller
