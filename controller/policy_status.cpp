#include "controller/policy_status.h"

namespace governor::controller {

const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

void setCondition(std::vector<Condition>& conditions, std::string_view type,
                  std::string_view status, std::string_view reason, std::string_view message,
                  int64_t observed_generation, TimePoint now) {
  Condition* found = nullptr;
  for (auto& c : conditions) {
    if (c.type == type) found = &c;
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

}  // namespace governor::controller
