#include "controller/predictive_source.h"

#include <utility>

namespace governor::controller {

policies::PredictivePolicy* PredictiveProposalSource::policyFor(const ObjectKey& key,
                                                                const policies::PolicySpec& spec) {
  if (!spec.predictive) {
    entries_.erase(key);
    return nullptr;
  }
  const policies::MetricSpec* metric = nullptr;
  for (const auto& m : spec.metrics) {
    if (m.name == spec.predictive->metric) metric = &m;
  }
  if (metric == nullptr) return nullptr;  // The parser prevents this.
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.spec == *spec.predictive && it->second.metric == *metric) {
    return it->second.policy.get();
  }
  Entry entry{*spec.predictive,
              *metric,
              std::make_unique<policies::PredictivePolicy>(*spec.predictive, *metric),
              {}};
  auto [pos, inserted] = entries_.insert_or_assign(key, std::move(entry));
  return pos->second.policy.get();
}

std::optional<policies::Proposal> PredictiveProposalSource::propose(
    const ObjectKey& key, const policies::PolicySpec& spec, const policies::Observation& obs,
    TimePoint now) {
  policies::PredictivePolicy* policy = policyFor(key, spec);
  if (policy == nullptr) return std::nullopt;
  policy->observe(obs, now);
  Entry& entry = entries_.at(key);
  entry.last = policy->propose(now);
  return entry.last.proposal;
}

const policies::PredictiveOutcome* PredictiveProposalSource::lastOutcome(
    const ObjectKey& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.last;
}

}  // namespace governor::controller
