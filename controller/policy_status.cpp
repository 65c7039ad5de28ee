#include "controller/policy_status.h"

#include <utility>

namespace governor::controller {

void swap(PolicyStatus& a, PolicyStatus& b) noexcept {
  // Structured bindings name every member: a member added to PolicyStatus and not swapped
  // here is a compile error, not a silently half-swapped status.
  auto& [a_generation, a_current, a_desired, a_last_scale, a_reason, a_message, a_proposals,
         a_limits, a_conditions, a_failures, a_predictive, a_behavior] = a;
  auto& [b_generation, b_current, b_desired, b_last_scale, b_reason, b_message, b_proposals,
         b_limits, b_conditions, b_failures, b_predictive, b_behavior] = b;
  using std::swap;
  swap(a_generation, b_generation);
  swap(a_current, b_current);
  swap(a_desired, b_desired);
  swap(a_last_scale, b_last_scale);
  swap(a_reason, b_reason);
  swap(a_message, b_message);
  swap(a_proposals, b_proposals);
  swap(a_limits, b_limits);
  swap(a_conditions, b_conditions);
  swap(a_failures, b_failures);
  swap(a_predictive, b_predictive);
  swap(a_behavior, b_behavior);
}

const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

void setCondition(std::vector<Condition>& conditions, std::string_view type,
                  std::string_view status, std::string_view reason, std::string_view message,
                  int64_t observed_generation, TimePoint now) {
  // The last condition of `type` (a status read back from JSON may repeat one): searched from
  // the back, so the search stops at the first hit.
  Condition* found = nullptr;
  for (auto c = conditions.rbegin(); c != conditions.rend(); ++c) {
    if (c->type == type) {
      found = &*c;
      break;
    }
  }
  if (found == nullptr) {
    conditions.push_back(Condition{std::string(type), std::string(status), std::string(reason),
                                   std::string(message), now, observed_generation});
    return;
  }
  if (found->status != status) {
    found->status = status;
    found->last_transition_time = now;
  }
  // Assign only on change: these run on every reconcile and mostly keep their values.
  if (found->reason != reason) found->reason = reason;
  if (found->message != message) found->message = message;
  found->observed_generation = observed_generation;
}

ConditionUpdate::ConditionUpdate(const std::vector<Condition>& stored, std::vector<Condition>& out)
    : stored_(stored), out_(out) {
  // More conditions than the mask has bits (never in practice): start from a copy.
  bool same_types = out_.size() == stored_.size() && stored_.size() <= 64;
  for (size_t i = 0; same_types && i < stored_.size(); ++i) {
    same_types = out_[i].type == stored_[i].type;
  }
  if (!same_types) {
    out_ = stored_;
    copied_ = true;  // Already equal: finish() has nothing to copy.
  }
}

void ConditionUpdate::set(std::string_view type, std::string_view status, std::string_view reason,
                          std::string_view message, int64_t observed_generation, TimePoint now) {
  // The last one of `type`, as setCondition. `out_` has `stored_`'s types at the same indices,
  // then the conditions appended by this update.
  size_t i = out_.size();
  while (i > 0 && out_[i - 1].type != type) --i;
  if (i == 0) {
    out_.push_back(Condition{std::string(type), std::string(status), std::string(reason),
                             std::string(message), now, observed_generation});
    return;
  }
  Condition& c = out_[i - 1];
  if (i - 1 < stored_.size()) {
    const Condition& before = stored_[i - 1];
    if (!isSet(i - 1)) {
      // `c` still holds an earlier reconcile's values: the transition time follows `before`.
      set_ |= uint64_t{1} << (i - 1);
      c.last_transition_time = before.status == status ? before.last_transition_time : now;
    } else if (c.status != status) {
      c.last_transition_time = now;
    }
  } else if (c.status != status) {
    c.last_transition_time = now;
  }
  // Assign only on change: these mostly keep their values from one reconcile to the next.
  if (c.status != status) c.status = status;
  if (c.reason != reason) c.reason = reason;
  if (c.message != message) c.message = message;
  c.observed_generation = observed_generation;
}

void ConditionUpdate::finish() {
  for (size_t i = 0; i < stored_.size(); ++i) {
    if (isSet(i)) continue;
    out_[i] = stored_[i];
    set_ |= uint64_t{1} << i;
  }
}

}  // namespace governor::controller
